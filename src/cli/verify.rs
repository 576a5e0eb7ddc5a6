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
            "ok: rendered/ matches the values of {} environments ({})",
            report.environments, report.source
        ));
    } else {
        p.out(&format!(
            "drift: {} files under rendered/ are not what values render ({}):",
            report.drift.len(),
            report.source
        ));
        for d in &report.drift {
            let what = match d.problem {
                DriftKind::Differs => "differs",
                DriftKind::Missing => "missing",
                DriftKind::Unexpected => "unexpected",
            };
            p.out(&format!("  {what:<10} {}", d.path));
        }
        p.note(
            "hint: run `greenlight render --all` and commit, or find who edited rendered/ by hand",
        );
    }
    Ok(if report.ok {
        super::exit::OK
    } else {
        super::exit::DIFFERENCES
    })
}
