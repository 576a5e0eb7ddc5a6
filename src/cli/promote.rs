//! `greenlight promote`: the staged colour becomes live.

use clap::Args;

use super::{Global, MutateArgs, Printer};
use crate::ops::{ReleaseCommand, RequiredStatus};
use crate::release::PromoteRequest;
use crate::values::Color;

/// Promote the staged idle colour: liveColor becomes the idle colour.
///
/// Only a staged colour is promoted (one that received an image with `greenlight stage` since
/// the last traffic switch). A second promote — a retried CI job, a double click — is a no-op
/// (exit 0, no commit) that says what is live; it never flips traffic back. Only `rollback`
/// goes back.
///
/// Refused (exit 3) when: the idle colour has no image or 0 replicas; it is not staged
/// (e.g. it was rolled back, or is the previous release kept warm); --expect-live names a
/// colour that is not live; --expect-tag does not match the colour being promoted; a
/// --require-status context has no status yet, or is pending, failure or error. CI
/// pipelines should always pass both --expect-* so that a stale pipeline cannot promote.
///
/// Several environments are promoted in one commit (one pull request with --open-pr, one push
/// with the same race handling): every guard of every environment is checked first, each
/// --expect-* and --require-status applying to each environment; if one refuses, nothing is
/// committed and every refusal is listed. An environment already promoted is reported as
/// such and does not stop the others.
///
/// --require-status reads the forge (found as for --open-pr: the remote's URL, --forge,
/// --forge-api-url; token from GITHUB_TOKEN or GH_TOKEN, GITLAB_TOKEN, GITEA_TOKEN). It looks
/// at the commit that staged the idle colour and at the later commits of the branch that
/// still render the same release for it (the cluster reports on the commit it applied); the
/// newest commit that reports the context decides. A commit that changed the staged release
/// (a reconfigure, a replica edit) never speaks for it. The check runs again whenever a push
/// race makes greenlight compute the promotion on a new tip.
///
/// Examples:
///   greenlight promote production --expect-live blue --expect-tag 1.5.0
///   greenlight promote production --require-status kustomization/api-production \
///       --require-status smoke-tests --push
///   greenlight promote production --require-cluster-status --push
///   greenlight promote production/eu-west/api production/us-east/api --expect-tag 1.5.0 \
///       --require-cluster-status --open-pr
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct PromoteArgs {
    /// The environments, e.g. staging or production/eu-west/api production/us-east/api:
    /// every guard of every one is checked first, then one commit holds them all.
    #[arg(value_name = "ENV", required = true, num_args = 1.., value_parser = super::env_arg, add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    envs: Vec<String>,
    /// Refuse unless this colour is live now.
    #[arg(long, value_name = "COLOR")]
    expect_live: Option<Color>,
    /// Refuse unless the colour being promoted holds this tag (or digest).
    #[arg(long, value_name = "TAG", value_parser = super::version_arg)]
    expect_tag: Option<String>,
    /// Refuse unless the forge reports `success` for status CONTEXT on the staged release
    /// (repeatable): a commit status (GitHub, GitLab, Gitea/Forgejo) or a GitHub check run of
    /// that name, on the commit that staged the idle colour or a later commit of the branch
    /// that still holds that release; the newest that reports it decides.
    #[arg(long, value_name = "CONTEXT", value_parser = super::status_context_arg)]
    require_status: Vec<String>,
    /// Require `success` for the status the cluster posts for each environment, as its
    /// `notify.commitStatus` names it (Flux: kustomization/<app>-<env>; Argo CD:
    /// continuous-delivery/<app>-<env>; or its `context`), judged like --require-status.
    #[arg(long)]
    require_cluster_status: bool,
    #[command(flatten)]
    mutate: MutateArgs,
}

pub fn run(a: PromoteArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    let command = ReleaseCommand::Promote {
        request: PromoteRequest {
            expect_live: a.expect_live,
            expect_tag: a.expect_tag,
        },
        require_status: a
            .require_cluster_status
            .then_some(RequiredStatus::Cluster)
            .into_iter()
            .chain(a.require_status.into_iter().map(RequiredStatus::Named))
            .collect(),
    };
    let report = a.mutate.release(g, &a.envs, &command, &p.progress())?;
    super::print_release(p, &report)
}
