//! The errors of the operations layer that callers tell apart: a command pointed at the
//! wrong kind of repository, a guard's refusal in one environment, drift that stops a release.

use std::path::PathBuf;

use super::Drift;
use crate::error::{Class, Classified};

/// Errors of the operations layer that callers tell apart.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// A command that commits was pointed at a directory that is not a git repository.
    #[error("{path} is not a git repository")]
    NotARepository {
        /// The directory.
        path: PathBuf,
        /// The command that needs git.
        command: &'static str,
    },
    /// The branch has no commit to start from.
    #[error("branch {refname} has no commits yet")]
    UnbornBranch {
        /// The branch.
        refname: String,
    },
    /// `render` writes files, which a bare repository has none of.
    #[error("{path} is a bare repository: render writes files into a working tree")]
    BareRender {
        /// The repository.
        path: PathBuf,
    },
    /// A release command found `rendered/<env>/` different from what the environment's
    /// values render (a hand edit committed, or a render not committed): its commit would
    /// silently undo that, so it refuses.
    #[error(
        "rendered/{environment}/ is not what its values render: {}",
        drift.iter().map(|d| format!("{} ({})", d.path, d.problem.as_str())).collect::<Vec<_>>().join(", ")
    )]
    RenderedDrift {
        /// The environment.
        environment: String,
        /// The files that differ.
        drift: Vec<Drift>,
    },
    /// `--require-cluster-status` (or `wait` without `--status`) in an environment whose
    /// values do not make the cluster post a commit status.
    #[error(
        "environments/{environment}/values.yaml makes no cluster post a commit status: it has \
         no `notify.commitStatus` beside a `flux` or `argocd` block"
    )]
    NoClusterStatus {
        /// The environment.
        environment: String,
    },
    /// The target of `init` already has that environment.
    #[error("{path} already exists")]
    AlreadyExists {
        /// The values file.
        path: String,
    },
}

impl Classified for OpsError {
    fn class(&self) -> Class {
        match self {
            OpsError::RenderedDrift { .. } => Class::Refused,
            _ => Class::Usage,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            OpsError::NotARepository { command, .. } => format!(
                "`{command}` commits its change; run it in a git repository (or pass --repo DIR), \
                 or create one with `greenlight init DIR --app NAME --env NAME`"
            ),
            OpsError::UnbornBranch { .. } => {
                "commit the environments first (greenlight init does that for you)".to_owned()
            }
            OpsError::BareRender { .. } => "use `greenlight verify` to check a bare repository, \
                 or a release command to change it"
                .to_owned(),
            OpsError::RenderedDrift { environment, .. } => format!(
                "a release commit would silently undo that, live colour included; see it with \
                 `greenlight verify`, then either keep values as the truth (`greenlight render \
                 {environment} && git add -A rendered/{environment} && git commit`) or move \
                 the hand edit into environments/{environment}/values.yaml, and run the \
                 command again"
            ),
            OpsError::NoClusterStatus { .. } => "add `notify: { commitStatus: { address: \
                https://github.com/OWNER/REPO, secretRef: SECRET } }` (see README.md, \"The \
                loop back\"), or name the status with --status / --require-status CONTEXT"
                .to_owned(),
            OpsError::AlreadyExists { .. } => {
                "choose another --env name, or edit the existing values file".to_owned()
            }
        })
    }
}

/// A release guard refused the command in one environment (exit 3). It reads as the
/// refusal; its hint names the environment.
#[derive(Debug, thiserror::Error)]
#[error("{refusal}")]
pub struct Refused {
    /// The environment.
    pub environment: String,
    /// Which guard refused, and why.
    pub refusal: crate::release::Refusal,
}

impl Classified for Refused {
    fn class(&self) -> Class {
        Class::Refused
    }

    fn hint(&self) -> Option<String> {
        self.refusal.hint(&self.environment)
    }
}

/// A guard refused one environment of a release of several.
#[derive(Debug)]
pub struct EnvRefusal {
    /// The environment.
    pub environment: String,
    /// The refusal (a [`Refused`], or [`OpsError::RenderedDrift`]).
    pub error: anyhow::Error,
}

/// A release of several environments in which guards refused some (exit 3): nothing was
/// committed, and every refusal is listed.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} of {total} environments refused, so none was released:{}",
    refusals.len(),
    refusals
        .iter()
        .map(|r| format!("\n  {}: {:#}", r.environment, r.error))
        .collect::<String>()
)]
pub struct RefusedEnvironments {
    /// How many environments the release named.
    pub total: usize,
    /// Each refused environment, in the order named.
    pub refusals: Vec<EnvRefusal>,
}

impl Classified for RefusedEnvironments {
    fn class(&self) -> Class {
        Class::Refused
    }

    fn hint(&self) -> Option<String> {
        let hints: Vec<String> = self
            .refusals
            .iter()
            .filter_map(|r| {
                let hint = r.error.chain().find_map(|c| {
                    c.downcast_ref::<Refused>()
                        .and_then(Classified::hint)
                        .or_else(|| c.downcast_ref::<OpsError>().and_then(Classified::hint))
                })?;
                Some(format!("{}: {hint}", r.environment))
            })
            .collect();
        (!hints.is_empty()).then(|| hints.join("; "))
    }
}
