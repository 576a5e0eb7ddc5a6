//! `greenlight status`: what is live where.

use clap::Args;

use super::{Global, Printer};
use crate::ops;

/// Show each environment's live colour, the image and replicas of both colours, the staged
/// colour, and the last promotion (from history), as committed on the branch.
///
/// Example:
///   greenlight status production/eu-west/api
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct StatusArgs {
    /// Environments to show (default: all).
    #[arg(value_name = "ENV", add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    envs: Vec<String>,
}

pub fn run(a: StatusArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    let location = g.location()?;
    let report = ops::status(&location, &a.envs)?;
    if p.json() {
        p.emit_json(&report)?;
    } else {
        super::print_status(p, &report);
    }
    Ok(super::exit::OK)
}
