//! `greenlight stage`: put a new image into the idle colour.

use clap::Args;

use super::{Global, MutateArgs, Printer};
use crate::ops::ReleaseCommand;
use crate::release::{ImageVersion, StageRequest};
use crate::values::Color;

/// Stage a release: the idle colour gets the image and the current configuration.
///
/// The idle colour is pre-scaled to the live replica count.
///
/// A release is an image and its configuration: editing values changes no running colour
/// (render leaves both Deployments as they are); stage ships the edit to the idle colour, so
/// the reviewer approves image and configuration together and rollback returns to exactly
/// what ran before. Without --tag, --digest or --from-tag it stages the live colour's image
/// with the current configuration (a configuration-only release).
///
/// Traffic does not move: the live Service still selects the live colour, and the preview
/// Service (<app>-preview) selects the staged colour for smoke tests. The values file, the
/// record of what each colour runs (released.yaml) and the rendered manifests are committed
/// together; the commit's trailers record the stage, which is what `promote` requires.
///
/// Refused (exit 3) when --color or --from-tag names the live colour.
///
/// Several environments are staged in one commit, each with the same --tag (or --digest,
/// --from-tag, --color): every guard of every environment is checked first, and if one
/// refuses, nothing is committed and every refusal is listed. An environment that already
/// holds the release is reported and does not stop the others.
///
/// Examples:
///   greenlight stage production --tag 1.5.0
///   greenlight stage production --digest sha256:4f1c…   (64 hex digits)
///   greenlight stage production --from-tag v2.0-green
///   greenlight stage production                  (the live image, the current configuration)
///   greenlight stage production/eu-west/api production/us-east/api --tag 1.5.0
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct StageArgs {
    /// The environments, e.g. staging or production/eu-west/api production/us-east/api:
    /// every guard of every one is checked first, then one commit holds them all.
    #[arg(value_name = "ENV", required = true, num_args = 1.., value_parser = super::env_arg, add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    envs: Vec<String>,
    /// The image tag to stage.
    #[arg(long, group = "version", value_name = "TAG", value_parser = super::tag_arg)]
    tag: Option<crate::values::Tag>,
    /// The image digest to stage (sha256:<64 hex>).
    #[arg(long, group = "version", value_name = "DIGEST", value_parser = super::digest_arg)]
    digest: Option<crate::values::Digest>,
    /// A colour-coded release tag, <version>-<colour> (e.g. v2.0-green): stages <version>
    /// into <colour>.
    #[arg(
        long,
        group = "version",
        value_name = "RELEASE_TAG",
        conflicts_with = "color",
        value_parser = super::release_tag_arg
    )]
    from_tag: Option<StageRequest>,
    /// The colour to stage into (default: the idle colour); naming the live one is refused.
    #[arg(long, value_name = "COLOR")]
    color: Option<Color>,
    #[command(flatten)]
    mutate: MutateArgs,
}

pub fn run(a: StageArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    let version = |version| StageRequest {
        version,
        color: a.color,
    };
    // clap's group allows one of the three at most.
    let request = match (a.tag, a.digest, a.from_tag) {
        (Some(t), _, _) => version(Some(ImageVersion::Tag(t))),
        (_, Some(d), _) => version(Some(ImageVersion::Digest(d))),
        (_, _, Some(r)) => r,
        (None, None, None) => version(None),
    };
    let report = a
        .mutate
        .release(g, &a.envs, &ReleaseCommand::Stage(request), &p.progress())?;
    super::print_release(p, &report)
}
