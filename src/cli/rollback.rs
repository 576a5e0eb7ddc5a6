//! `greenlight rollback`: the previous colour becomes live again.

use clap::Args;

use super::{Global, MutateArgs, Printer};
use crate::ops::ReleaseCommand;

/// Roll back: liveColor goes back to the previous colour, which was kept warm.
///
/// A second rollback is a no-op (exit 0) — it never rolls forward again. After a rollback,
/// the rolled-back release is promoted only after a new `stage`.
///
/// Refused (exit 3) when the previous colour is scaled to zero or has no image, when the
/// idle colour holds a staged release rather than the previous one, or when history records
/// no promotion to roll back.
///
/// Several environments roll back in one commit; if a guard refuses one, nothing is committed
/// and every refusal is listed.
///
/// Examples:
///   greenlight rollback production
///   greenlight rollback production/eu-west/api production/us-east/api
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RollbackArgs {
    /// The environments, e.g. staging or production/eu-west/api production/us-east/api:
    /// every guard of every one is checked first, then one commit holds them all.
    #[arg(value_name = "ENV", required = true, num_args = 1.., value_parser = super::env_arg, add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    envs: Vec<String>,
    #[command(flatten)]
    mutate: MutateArgs,
}

pub fn run(a: RollbackArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    let report = a
        .mutate
        .release(g, &a.envs, &ReleaseCommand::Rollback, &p.progress())?;
    super::print_release(p, &report)
}
