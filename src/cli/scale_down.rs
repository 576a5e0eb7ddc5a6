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
/// Refused (exit 3) while the last promotion is younger than --warm, unless --force.
///
/// Examples:
///   greenlight scale-down production
///   greenlight scale-down production --warm 2h
///   greenlight scale-down production --force
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ScaleDownArgs {
    /// The environment, e.g. staging or production/eu-west/api.
    #[arg(add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    env: String,
    /// Scale down even inside the warm period.
    #[arg(long)]
    force: bool,
    /// How long the previous colour stays warm after a promotion (e.g. 30m, 2h, 1h30m).
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    warm: Duration,
    #[command(flatten)]
    mutate: MutateArgs,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (write e.g. 30m, 2h or 1h30m)"))
}

/// The current time in unix seconds. `GREENLIGHT_NOW` (unix seconds) replaces the clock for
/// reproducible tests and demos.
fn now() -> anyhow::Result<i64> {
    if let Ok(fixed) = std::env::var("GREENLIGHT_NOW") {
        return fixed
            .parse()
            .map_err(|_| anyhow::anyhow!("GREENLIGHT_NOW={fixed}: expected unix seconds"));
    }
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    Ok(since.as_secs() as i64)
}

pub fn run(a: ScaleDownArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    let command = ReleaseCommand::ScaleDown(ScaleDownRequest {
        force: a.force,
        warm: a.warm,
        now: now()?,
    });
    let report = a.mutate.release(g, &a.env, &command)?;
    super::print_release(p, &report)
}
