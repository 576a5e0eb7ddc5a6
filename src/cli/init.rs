//! `greenlight init`: scaffold a GitOps repository.

use std::path::PathBuf;

use clap::Args;

use super::{Global, Printer};
use crate::ops::{self, InitOptions};

/// Scaffold a GitOps repository with one environment, rendered and committed.
///
/// Creates DIR and a git repository in it when needed (branch main), writes
/// environments/<env>/values.yaml with blue live on --tag and green empty, renders
/// rendered/<env>/, and commits both. In an existing repository it adds the environment;
/// an existing environment is never overwritten.
///
/// Example:
///   greenlight init gitops --app api --env staging --image ghcr.io/acme/api --tag 1.0.0
///   greenlight init gitops --app api --env staging --flux gitops
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InitArgs {
    /// The repository directory to create or extend.
    dir: PathBuf,
    /// The application name (DNS-1123 label, e.g. api).
    #[arg(long)]
    app: String,
    /// The environment name (may be nested, e.g. production/eu-west).
    #[arg(long)]
    env: String,
    /// The image repository, without tag (default: registry.example.com/<app>).
    #[arg(long)]
    image: Option<String>,
    /// The tag that goes live first, on blue.
    #[arg(long, default_value = "0.1.0")]
    tag: String,
    /// The namespace (default: the app name).
    #[arg(long)]
    namespace: Option<String>,
    /// Replicas of the live colour.
    #[arg(long, default_value_t = 2)]
    replicas: u32,
    /// The container port.
    #[arg(long, default_value_t = 8080)]
    port: u32,
    /// An Ingress host (no Ingress when absent).
    #[arg(long)]
    host: Option<String>,
    /// Also render a Flux Kustomization for the folder, reading this repository through the
    /// GitRepository SOURCE in flux-system (apply it once with kubectl apply -f).
    #[arg(long, value_name = "SOURCE")]
    flux: Option<String>,
    /// Also render an Argo CD Application for the folder, syncing this repository from
    /// REPO_URL into the local cluster (apply it once with kubectl apply -f).
    #[arg(long, value_name = "REPO_URL")]
    argocd: Option<String>,
}

pub fn run(a: InitArgs, _g: &Global, p: Printer) -> anyhow::Result<u8> {
    let a_tag = a.tag.clone();
    let options = InitOptions {
        app: a.app,
        env: a.env,
        namespace: a.namespace,
        image: a.image,
        tag: a.tag,
        replicas: a.replicas,
        port: a.port,
        host: a.host,
        flux: a.flux,
        argocd: a.argocd,
    };
    let report = ops::init(&a.dir, &options)?;
    if p.json() {
        p.emit_json(&report)?;
    } else {
        p.out(&format!(
            "initialised {} in {} (commit {})",
            report.environment,
            report.repository,
            ops::short(&report.commit)
        ));
        for f in &report.files {
            p.out(&format!("  {f}"));
        }
        p.note(&format!(
            "next: stage the next version, e.g. greenlight stage {} --tag {} --repo {}",
            report.environment,
            next_version(&a_tag),
            report.repository
        ));
    }
    Ok(super::exit::OK)
}

/// The version after `tag` for the example in the "next" line: its last number plus one
/// (`1.0.0` → `1.0.1`, `v7` → `v8`), or `tag` itself with no number in it.
fn next_version(tag: &str) -> String {
    let end = tag.rfind(|c: char| c.is_ascii_digit()).map_or(0, |i| i + 1);
    let start = tag[..end]
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    match tag[start..end].parse::<u64>() {
        Ok(n) => format!("{}{}{}", &tag[..start], n + 1, &tag[end..]),
        Err(_) => tag.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_next_version_bumps_the_last_number() {
        for (tag, next) in [
            ("1.0.0", "1.0.1"),
            ("v7", "v8"),
            ("2.9.9-rc1", "2.9.9-rc2"),
            ("1.2.0_alpine", "1.2.1_alpine"),
            ("latest", "latest"),
        ] {
            assert_eq!(super::next_version(tag), next, "{tag}");
        }
    }
}
