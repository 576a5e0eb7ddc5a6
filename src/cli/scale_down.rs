//! `greenlight scale-down`: the idle colour goes to zero replicas.

use std::time::Duration;

use clap::Args;

use super::{Global, MutateArgs, Printer};
use crate::ops::ReleaseCommand;
use crate::release::ScaleDownRequest;

/// Scale the idle colour down to 0 replicas once the warm period is over.
///
/// After a promotion the previous colour stays warm so that `rollback` is instant. The warm
/// period starts at the commit time of the last promotion of ENV, read from the commit
/// trailers. Scaling down an already scaled-down colour is a no-op (exit 0).
///
/// Refused (exit 3) while the last promotion is younger than --warm, unless --force. Several
/// environments scale down in one commit, each against its own last promotion; if one is
/// refused, nothing is committed and every refusal is listed.
///
/// Examples:
///   greenlight scale-down production
///   greenlight scale-down production --warm 2h
///   greenlight scale-down production --force
///   greenlight scale-down production/eu-west/api production/us-east/api
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ScaleDownArgs {
    /// The environments, e.g. staging or production/eu-west/api production/us-east/api:
    /// every guard of every one is checked first, then one commit holds them all.
    #[arg(value_name = "ENV", required = true, num_args = 1.., value_parser = super::env_arg, add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    envs: Vec<String>,
    /// Scale down even inside the warm period.
    #[arg(long)]
    force: bool,
    /// How long the previous colour stays warm after a promotion (e.g. 30m, 2h, 1h30m).
    #[arg(long, value_name = "DURATION", default_value = super::DEFAULT_WARM, value_parser = super::parse_duration)]
    warm: Duration,
    #[command(flatten)]
    mutate: MutateArgs,
}

pub fn run(a: ScaleDownArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    let command = ReleaseCommand::ScaleDown(ScaleDownRequest {
        force: a.force,
        warm: a.warm,
        now: super::now()?,
    });
    let report = a.mutate.release(g, &a.envs, &command, &p.progress())?;
    super::print_release(p, &report)
}
