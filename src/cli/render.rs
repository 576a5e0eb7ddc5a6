//! `greenlight render`: write `rendered/<env>/` from values.

use clap::Args;

use super::{Global, Printer};
use crate::ops;

/// Render environments into rendered/<env>/ from their values files.
///
/// Environments are the folders under environments/ that hold a values.yaml; names may be
/// nested (production/eu-west/api). With no ENV (or with --all) every environment is
/// rendered. Every environment is rendered in memory first and checked; only then are files
/// written, each through a temporary file and a rename, so a failure leaves the old files
/// intact. YAML files greenlight wrote that are no longer rendered are removed from that
/// folder; rendering every environment also removes what greenlight rendered for
/// environments that no longer exist. A file greenlight did not write is never deleted: it
/// is named in a warning (and `verify` reports it).
///
/// Templates: the built-in ones, each overridable by a file of the same name in the
/// repository's templates/ folder (-v logs which one was used).
///
/// Example:
///   greenlight render staging production/eu-west/api
///   greenlight render --all --repo ../gitops
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RenderArgs {
    /// Environments to render (default: all).
    #[arg(value_name = "ENV", value_parser = super::env_arg, add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    envs: Vec<String>,
    /// Render every environment.
    #[arg(long, conflicts_with = "envs")]
    all: bool,
}

pub fn run(a: RenderArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    let location = g.location()?;
    let report = ops::render_envs(&location, &a.envs, a.all, &p.progress())?;
    if p.json() {
        p.emit_json(&report)?;
        return Ok(super::exit::OK);
    }
    for env in &report.environments {
        let mut line = format!(
            "{}: {} written, {} unchanged",
            p.bold(&env.environment),
            env.written.len(),
            env.unchanged.len()
        );
        if !env.removed.is_empty() {
            line.push_str(&format!(", {} removed", env.removed.len()));
        }
        p.out(&line);
        for f in &env.written {
            p.out(&format!("  wrote   {f}"));
        }
        for f in &env.removed {
            p.out(&format!("  removed {f}"));
        }
    }
    if !report.orphans_removed.is_empty() {
        p.out(&format!(
            "{} removed: no environment renders {} any more",
            report.orphans_removed.len(),
            if report.orphans_removed.len() == 1 {
                "it"
            } else {
                "them"
            }
        ));
        for f in &report.orphans_removed {
            p.out(&format!("  removed {f}"));
        }
    }
    Ok(super::exit::OK)
}
