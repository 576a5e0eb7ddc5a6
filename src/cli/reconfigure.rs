//! `greenlight reconfigure`: both colours take the current configuration in place.

use clap::Args;

use super::{Global, MutateArgs, Printer};
use crate::ops::ReleaseCommand;

/// Give both colours the current configuration at once: the live colour restarts in place.
///
/// A configuration edit normally reaches a colour only when it is staged, so production never
/// rolls in place and a rollback returns to exactly what ran before. This is the escape hatch
/// for the rare change that cannot wait for a release: a Secret that was renamed, an
/// emergency limit. Both colours' Deployments (and ConfigMaps) are rendered with the current
/// configuration; the live colour's pods roll, with no preview, and the previous colour gets
/// the same configuration, so a rollback does not undo it. The commit says so
/// (`reconfigure(<env>): …`, trailer `Greenlight-Action: reconfigure`), and `history` shows
/// it. --in-place must be given: it is never what a release does.
///
/// Example:
///   greenlight reconfigure production --in-place
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ReconfigureArgs {
    /// The environment, e.g. staging or production/eu-west/api.
    #[arg(value_name = "ENV", value_parser = super::env_arg, add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    env: String,
    /// Confirm that the live colour restarts in place with the current configuration.
    #[arg(long, required = true)]
    in_place: bool,
    #[command(flatten)]
    mutate: MutateArgs,
}

pub fn run(a: ReconfigureArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    debug_assert!(a.in_place, "clap requires --in-place");
    let report = a.mutate.release(
        g,
        std::slice::from_ref(&a.env),
        &ReleaseCommand::Reconfigure,
        &p.progress(),
    )?;
    super::print_release(p, &report)
}
