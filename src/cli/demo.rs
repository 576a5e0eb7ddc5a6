//! `greenlight demo`: a whole release cycle on a scratch repository.

use std::path::PathBuf;

use clap::Args;

use super::{Global, Printer};
use crate::ops;

/// Run a whole release cycle on a scratch copy of the built-in example.
///
/// Builds a new git repository (in DIR, which must be empty or absent, or in a new temporary
/// directory that is kept) holding the example environments (staging and
/// production/eu-west/api) with their rendered manifests, then runs, printing each step:
/// status → stage staging --tag 1.5.0 → the promote diff (--dry-run) → promote → history →
/// verify. Every step is a real commit you can inspect with `git log --stat` afterwards.
///
/// Example:
///   greenlight demo /tmp/greenlight-demo
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {
    /// Where to build the scratch repository (default: a new temporary directory).
    dir: Option<PathBuf>,
}

pub fn run(a: DemoArgs, _g: &Global, p: Printer) -> anyhow::Result<u8> {
    let mut n = 0;
    let clock = super::status_clock(super::DEFAULT_WARM)?;
    let report = ops::demo(a.dir, &clock, |step| {
        if p.json() {
            return;
        }
        n += 1;
        p.out(&format!(
            "\n{} {}",
            p.bold(&format!("── {n}.")),
            p.bold(&step.title)
        ));
        p.out(&format!("$ {}", step.command_line));
        if let Some(s) = &step.status {
            super::print_status(p, s);
        }
        if let Some(r) = &step.release {
            let _ = super::print_one(p, r);
        }
        if let Some(h) = &step.history {
            super::print_history(p, h);
        }
        if let Some(v) = &step.verify {
            p.out(&format!(
                "ok: rendered/ matches the values of {} {}",
                v.environments,
                super::plural(v.environments, "environment", "environments")
            ));
        }
    })?;
    if p.json() {
        p.emit_json(&report)?;
    } else {
        p.out(&format!(
            "\nThe scratch repository is {0}\nExplore it: git -C {0} log --stat",
            report.repository
        ));
    }
    Ok(super::exit::OK)
}
