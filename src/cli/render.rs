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
/// With --stdout, one environment's objects (those its kustomization lists) are printed as a
/// single YAML stream, each document headed by `# Source: <path>`, and nothing is written:
/// for `kubectl diff -f -`, `kubectl apply --dry-run=server -f -` or a schema validator, as
/// `helm template` is used.
///
/// Example:
///   greenlight render staging production/eu-west/api
///   greenlight render --all --repo ../gitops
///   greenlight render production --stdout | kubectl diff -f -
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RenderArgs {
    /// Environments to render (default: all).
    #[arg(value_name = "ENV", value_parser = super::env_arg, add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    envs: Vec<String>,
    /// Render every environment.
    #[arg(long, conflicts_with = "envs")]
    all: bool,
    /// Print one environment's objects as one YAML stream on stdout, and write nothing.
    #[arg(long, conflicts_with = "all")]
    stdout: bool,
}

pub fn run(a: RenderArgs, g: &Global, p: Printer) -> anyhow::Result<u8> {
    let location = g.location()?;
    if a.stdout {
        return print_stream(&a, g, p, &location);
    }
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

/// `--stdout`: the objects of the one named environment, as a multi-document YAML stream.
fn print_stream(
    a: &RenderArgs,
    g: &Global,
    p: Printer,
    location: &ops::Location,
) -> anyhow::Result<u8> {
    let [env] = a.envs.as_slice() else {
        return Err(crate::error::UsageError {
            message: format!(
                "--stdout prints one environment, and {} were named",
                a.envs.len()
            ),
            hint: Some("name exactly one, e.g. `greenlight render production --stdout`".into()),
        }
        .into());
    };
    if g.output == super::Output::Json {
        return Err(crate::error::UsageError {
            message: "--stdout prints YAML, not JSON".to_owned(),
            hint: Some("leave out --output json".to_owned()),
        }
        .into());
    }
    let mut stream = String::new();
    for (path, bytes) in ops::render_objects(location, env)? {
        stream.push_str(&format!("---\n# Source: {path}\n"));
        stream.push_str(&String::from_utf8_lossy(&bytes));
    }
    p.out(&stream);
    Ok(super::exit::OK)
}
