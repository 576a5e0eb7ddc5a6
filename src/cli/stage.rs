//! `greenlight stage`: put a new image into the idle colour.

use clap::Args;

use super::{Global, MutateArgs, Printer};
use crate::ops::ReleaseCommand;
use crate::release::{ImageVersion, StageRequest};
use crate::values::Color;

/// Stage a release: the idle colour gets the image, pre-scaled to the live replica count.
///
/// Traffic does not move: the live Service still selects the live colour, and the preview
/// Service (<app>-preview) selects the staged colour for smoke tests. The values file and the
/// rendered manifests are committed together; the commit's trailers record the stage, which
/// is what `promote` requires.
///
/// Refused (exit 3) when --color or --from-tag names the live colour.
///
/// Examples:
///   greenlight stage production --tag 1.5.0
///   greenlight stage production --digest sha256:4f1c…   (64 hex digits)
///   greenlight stage production --from-tag v2.0-green
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct StageArgs {
    /// The environment, e.g. staging or production/eu-west/api.
    #[arg(value_name = "ENV", value_parser = super::env_arg, add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    env: String,
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
    let request = match (a.tag, a.digest, a.from_tag) {
        (Some(t), None, None) => StageRequest {
            version: ImageVersion::Tag(t),
            color: a.color,
        },
        (None, Some(d), None) => StageRequest {
            version: ImageVersion::Digest(d),
            color: a.color,
        },
        (None, None, Some(r)) => r,
        _ => anyhow::bail!("stage needs one of --tag, --digest or --from-tag"),
    };
    let report = a
        .mutate
        .release(g, &a.env, &ReleaseCommand::Stage(request), &p.progress())?;
    super::print_release(p, &report)
}
