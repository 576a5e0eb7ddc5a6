//! `greenlight history`: release actions read from commit trailers.

use clap::Args;

use super::{Global, Printer};
use crate::ops;

/// List the release actions of an environment, newest first, read from the Greenlight-*
/// trailers of the branch's commits (so `git log` shows the same record).
///
/// Example:
///   greenlight history production/eu-west/api --limit 10
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct HistoryArgs {
    /// The environment.
    #[arg(value_name = "ENV", value_parser = super::env_arg, add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    env: String,
    /// Show at most this many records (at least 1).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    limit: u32,
}

pub fn run(a: HistoryArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    let location = g.location()?;
    let report = ops::history(location, &a.env, a.limit as usize)?;
    if p.json() {
        p.emit_json(&report)?;
    } else {
        super::print_history(p, &report);
    }
    Ok(super::exit::OK)
}
