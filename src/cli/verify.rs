//! `greenlight verify`: the reviewers' CI gate.

use clap::Args;

use super::{Global, Printer};
use crate::ops::{self, DriftKind};

/// Check that rendered/ holds exactly what values render (the CI gate for reviewers).
///
/// Renders every environment of the branch tip (or of the directory, when it is not a git
/// repository) and compares with rendered/: a file edited by hand, a missing file, or a file
/// no environment renders any more is drift. Run it in CI on every pull request, so that what
/// reviewers approve in values is exactly what Flux or Argo CD will apply.
///
/// Exit status: 0 when rendered/ is exact, 1 with the list of drifted files otherwise.
///
/// Example (CI):
///   greenlight verify || { echo "run: greenlight render --all"; exit 1; }
/// Example (git hook, see .pre-commit-hooks.yaml):
///   greenlight verify --worktree
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct VerifyArgs {
    /// Check the files in the checkout rather than the branch tip: what is about to be
    /// committed, for pre-commit hooks (pre-commit stashes unstaged edits first).
    #[arg(long)]
    worktree: bool,
}

pub fn run(a: VerifyArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    let location = g.location()?;
    let report = ops::verify(&location, a.worktree, &p.progress())?;
    if p.json() {
        p.emit_json(&report)?;
    } else if report.ok {
        p.out(&format!(
            "ok: rendered/ matches the values of {} {} ({})",
            report.environments,
            super::plural(report.environments, "environment", "environments"),
            report.source
        ));
    } else {
        print_drift(p, &report);
    }
    if !report.uncommitted.is_empty() && !p.json() {
        let n = report.uncommitted.len();
        p.out(&format!(
            "note: this checked {}; {n} {} under environments/ and rendered/ {} uncommitted \
             edits it did not see ({}): `greenlight verify --worktree` checks them",
            report.source,
            super::plural(n, "file", "files"),
            super::plural(n, "has", "have"),
            report.uncommitted.join(", ")
        ));
    }
    Ok(if report.ok {
        super::exit::OK
    } else {
        super::exit::DIFFERENCES
    })
}

fn print_drift(p: Printer, report: &ops::VerifyReport) {
    if !report.drift.is_empty() {
        let n = report.drift.len();
        p.out(&format!(
            "drift: {n} {} under rendered/ {} not what values render ({}):",
            super::plural(n, "file", "files"),
            super::plural(n, "is", "are"),
            report.source
        ));
        for d in &report.drift {
            p.out(&format!("  {:<10} {}", d.problem.as_str(), d.path));
        }
    }
    if let Some(behind) = &report.checkout_behind {
        p.out(&format!(
            "behind: the checkout does not show its branch's commit {} yet:",
            ops::short(&behind.commit)
        ));
        for path in &behind.paths {
            p.out(&format!("  behind     {path}"));
        }
    }
    for hint in hints(report) {
        p.note(&format!("hint: {hint}"));
    }
}

/// What to run, with the paths filled in, so each hint works when followed literally.
fn hints(report: &ops::VerifyReport) -> Vec<String> {
    let mut hints = Vec::new();
    let by = |kind: DriftKind| -> Vec<&str> {
        report
            .drift
            .iter()
            .filter(|d| d.problem == kind)
            .map(|d| d.path.as_str())
            .collect()
    };
    let rendered = [
        DriftKind::Differs,
        DriftKind::Missing,
        DriftKind::Unexpected,
    ];
    if rendered.iter().any(|k| !by(*k).is_empty()) {
        hints.push(
            "greenlight render --all && git add -A rendered && git commit (or find who \
             edited rendered/ by hand: `git log -p -- rendered/`)"
                .to_owned(),
        );
    }
    let foreign = by(DriftKind::Foreign);
    if !foreign.is_empty() {
        hints.push(format!(
            "greenlight did not write {}; if {} not belong there: git rm {}",
            if foreign.len() == 1 {
                "this file"
            } else {
                "these files"
            },
            if foreign.len() == 1 {
                "it does"
            } else {
                "they do"
            },
            foreign.join(" ")
        ));
    }
    if let Some(behind) = &report.checkout_behind {
        hints.push(behind.explain());
    }
    hints
}
