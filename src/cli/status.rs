//! `greenlight status`: what is live where.

use clap::Args;

use super::{Global, Printer};
use crate::ops;

/// Show what is live where, as committed on the branch.
///
/// Without ENV: one table of every environment: live colour and version, the idle colour, its
/// version, replicas and state (staged for promotion, warm for an instant rollback,
/// scaled-down or empty), the last traffic switch and its age, and how long the warm colour
/// must still be kept. History is read once for the whole fleet. With ENV: the details of
/// those environments, both colours' full images and the last promotion.
///
/// Examples:
///   greenlight status
///   greenlight status production/eu-west/api
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct StatusArgs {
    /// The warm period `scale-down` waits out after a promotion, for the WARM LEFT column.
    #[arg(long, value_name = "DURATION", default_value = super::DEFAULT_WARM)]
    warm: String,
    /// Environments to show in detail (default: a table of all).
    #[arg(value_name = "ENV", value_parser = super::env_arg, add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    envs: Vec<String>,
}

pub fn run(a: StatusArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    let location = g.location()?;
    let clock = super::status_clock(&a.warm)?;
    let report = ops::status(&location, &a.envs, &clock)?;
    if p.json() {
        p.emit_json(&report)?;
    } else if a.envs.is_empty() {
        super::print_fleet(p, &report);
    } else {
        super::print_status(p, &report);
    }
    Ok(super::exit::OK)
}
