//! `greenlight wait`: block until the forge reports the staged release healthy.

use std::time::Duration;

use clap::Args;

use super::{ForgeArgs, Global, Printer};
use crate::ops::{self, RequiredStatus, WaitOptions};

/// Wait until the forge reports the staged release healthy.
///
/// greenlight never talks to a cluster: the cluster's GitOps controller reports instead. Flux's
/// notification-controller (the `notify` block renders its Provider and Alert) and Argo CD's
/// notifications post the health of each commit they apply as a commit status, and CI posts
/// its own (smoke tests, as statuses or GitHub check runs). `wait` reads them from the forge,
/// found as for --open-pr (the remote's URL, --forge, --forge-api-url; token from
/// GITHUB_TOKEN or GH_TOKEN, GITLAB_TOKEN, GITEA_TOKEN), exactly as
/// `promote --require-status` judges them: on the commit that staged the idle colour or a
/// later commit of the branch that still renders that release, the newest that reports a
/// context deciding. Each poll fetches the branch first.
///
/// Exit status: 0 when every context reports success; 3 when one reports failure or error
/// (waiting longer would not help), when the idle colour holds no staged release, or when
/// --timeout ends first (a distinct "timed out after …" message). A line on a terminal shows
/// what is still pending; nothing is printed on a pipe until the end.
///
/// Without --status it waits for the status the cluster posts, as the environment's
/// `notify.commitStatus` names it (Flux: kustomization/<app>-<env>).
///
/// A pipeline:
///   greenlight stage production --tag 1.5.0 --push
///   greenlight wait production --timeout 15m      # the cluster's status
///   ./smoke-tests https://api-preview.internal     # against the preview Service; posts
///                                                  #   the status smoke-tests
///   greenlight promote production --require-cluster-status \
///       --require-status smoke-tests --expect-tag 1.5.0 --push
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct WaitArgs {
    /// The environment, e.g. staging or production/eu-west/api.
    #[arg(value_name = "ENV", value_parser = super::env_arg, add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    env: String,
    /// A status context that must report `success` (repeatable): a commit status's context
    /// or a GitHub check run's name, e.g. smoke-tests. Default: the status the cluster posts,
    /// as the environment's `notify.commitStatus` names it (Flux:
    /// kustomization/<app>-<env>).
    #[arg(long, value_name = "CONTEXT", value_parser = super::status_context_arg)]
    status: Vec<String>,
    /// Also require the status the cluster posts (`notify.commitStatus`) when --status is
    /// given.
    #[arg(long)]
    cluster_status: bool,
    /// Give up after this long (exit 3), e.g. 10m, 1h.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = super::parse_duration)]
    timeout: Duration,
    /// How long to wait between two looks at the forge, e.g. 10s.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = positive_duration)]
    interval: Duration,
    /// The remote the branch is fetched from, whose URL names the forge.
    #[arg(long, value_name = "NAME", default_value = "origin")]
    remote: String,
    #[command(flatten)]
    forge: ForgeArgs,
}

/// A duration greater than zero.
fn positive_duration(s: &str) -> Result<Duration, String> {
    let d = super::parse_duration(s)?;
    match d.is_zero() {
        true => Err("must be longer than 0 (write e.g. 10s)".to_owned()),
        false => Ok(d),
    }
}

pub fn run(a: WaitArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    let location = g.location()?;
    let options = WaitOptions {
        required: (a.cluster_status || a.status.is_empty())
            .then_some(RequiredStatus::Cluster)
            .into_iter()
            .chain(a.status.into_iter().map(RequiredStatus::Named))
            .collect(),
        timeout: a.timeout,
        interval: a.interval,
        remote: a.remote,
        forge: a.forge.options(),
    };
    let clock = ops::SystemClock::start();
    let report = ops::wait(location, &a.env, &options, &clock, &p.progress())?;
    if p.json() {
        p.emit_json(&report)?;
        return Ok(super::exit::OK);
    }
    p.out(&format!(
        "{}: the release staged in {} ({}) passed",
        report.environment,
        report.color,
        report.image.as_deref().unwrap_or("no image")
    ));
    for s in &report.statuses {
        p.out(&format!(
            "  {} success on {}",
            s.context,
            s.commit.as_deref().map(ops::short).unwrap_or_default()
        ));
    }
    p.note(&format!(
        "{} {} in {}s",
        report.polls,
        super::plural(report.polls as usize, "look", "looks"),
        report.waited_seconds
    ));
    Ok(super::exit::OK)
}
