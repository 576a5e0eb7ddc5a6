//! `greenlight diff`: what values render now vs what is committed.

use clap::Args;

use super::{Global, Printer};
use crate::ops;

/// Show what values render now compared with what is committed under rendered/.
///
/// Values are read from the working tree (so hand edits show up before you commit), or from
/// the branch tip in a bare repository; the baseline is rendered/ at the branch tip (or on
/// disk when the directory is not a git repository). For each environment that differs it
/// prints a one-line summary (`production: live blue → green (api 1.5.0)`), the changed
/// resources and fields, and a unified diff of the files.
///
/// To see what a release command would change, use its --dry-run instead.
///
/// Committed values that hold configuration no colour runs yet are reported too, with the
/// command that ships it; that is no difference to commit.
///
/// Exit status: 0 when nothing differs, 1 when something does.
///
/// Example:
///   greenlight diff production/eu-west/api
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DiffArgs {
    /// Environments to compare (default: all).
    #[arg(value_name = "ENV", value_parser = super::env_arg, add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    envs: Vec<String>,
}

pub fn run(a: DiffArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    let location = g.location()?;
    let report = ops::diff(&location, &a.envs)?;
    if p.json() {
        p.emit_json(&report)?;
    } else {
        if !report.changed {
            p.note("no differences: rendered/ matches values");
        }
        for env in &report.environments {
            for line in &env.summary {
                p.out(&p.bold(line));
            }
            super::print_diff(p, &env.diff);
        }
    }
    Ok(if report.changed {
        super::exit::DIFFERENCES
    } else {
        super::exit::OK
    })
}
