//! The health gate of `promote --require-status` and `wait`, glued together: which commits
//! hold the staged release (git), what the forge reports on them (asked newest first, only
//! as far as needed to decide), and the verdict per required context (`gate`, pure).
//!
//! Which commits count: the staged colour's release is what the branch tip renders for it
//! (its Deployment file, byte for byte: image, replicas and the ConfigMap version it reads).
//! The commit that staged it and every later commit of the branch that renders that same
//! Deployment hold it, and Flux or Argo CD reports on whichever of them it applied; a commit
//! in between that rendered another release for the colour (a reconfigure, a replica edit)
//! speaks about that other release and does not count.

use crate::forge::{self, ForgeRepo, StatusReader};
use crate::gate::{self, ContextResult, Evidence, Report};
use crate::release::StatusScope;
use crate::repo::{Oid, Repo};
use crate::values::{Color, Values};
use crate::{render, workspace};

/// At most this many commits holding a staged release are asked about, newest first (the
/// stage commit is asked about too, when it holds the release).
pub const MAX_STATUS_COMMITS: usize = 50;

/// How far back the branch is walked for commits that hold the staged release.
const MAX_WALK: usize = 2_000;

/// A status context a command requires, as the command line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequiredStatus {
    /// This context (a commit status's context, or a GitHub check run's name).
    Named(String),
    /// The context the environment's `notify.commitStatus` makes the cluster post.
    Cluster,
}

/// Where the reports of commits come from: the forge, or a test's script.
pub trait ReportSource {
    /// What the forge reports on `commit` (a full id).
    fn reports(&self, commit: &str) -> anyhow::Result<Vec<Report>>;
}

impl ReportSource for StatusReader {
    fn reports(&self, commit: &str) -> anyhow::Result<Vec<Report>> {
        Ok(StatusReader::reports(self, commit)?)
    }
}

/// The forge reader for statuses: the forge found from `remote_url` as for `--open-pr`, with
/// its token from the environment.
pub(super) fn reader(
    remote_url: &str,
    options: &super::ForgeOptions,
) -> anyhow::Result<StatusReader> {
    let repo: ForgeRepo = forge::detect(remote_url, options.forge, options.api_url.as_deref())?;
    let token = forge::token_from_env(repo.kind)?;
    Ok(StatusReader::new(repo, token))
}

/// The contexts `required` names for an environment whose values are `values`: `Cluster`
/// becomes the context its `notify.commitStatus` makes the cluster post. Duplicates are
/// dropped, first mention kept.
pub(super) fn contexts(
    required: &[RequiredStatus],
    values: &Values,
    env: &str,
) -> Result<Vec<String>, super::OpsError> {
    let mut out: Vec<String> = Vec::new();
    for r in required {
        let context = match r {
            RequiredStatus::Named(c) => c.clone(),
            RequiredStatus::Cluster => crate::values::cluster_status_context(values, env)
                .ok_or_else(|| super::OpsError::NoClusterStatus {
                    environment: env.to_owned(),
                })?,
        };
        if !out.contains(&context) {
            out.push(context);
        }
    }
    Ok(out)
}

/// What the forge says about the release staged in `color` of `env` (by `stage`), judged.
pub(super) struct Judged {
    /// The commits asked about.
    pub scope: StatusScope,
    /// One result per context, in the order asked.
    pub results: Vec<ContextResult>,
}

/// The commits that hold the release `color` runs at `tip` in `env` (app `app`), from `stage`
/// on, newest first: those whose rendered Deployment of the colour is the tip's, byte for
/// byte, at most [`MAX_STATUS_COMMITS`] of them plus `stage` when it holds it.
pub(super) fn holders(
    repo: &Repo,
    tip: Oid,
    env: &str,
    app: &str,
    color: Color,
    stage: Oid,
) -> anyhow::Result<Vec<Oid>> {
    let path = format!(
        "{}/{}",
        workspace::rendered_dir(env),
        render::deployment_file(app, color)
    );
    // Compared by blob id: no content is read (nor fetched, in a partial clone).
    let release = repo.file_id(tip, &path)?;
    let mut out = Vec::new();
    for commit in repo.commits_since(tip, stage, MAX_WALK)? {
        if out.len() == MAX_STATUS_COMMITS {
            break;
        }
        if repo.file_id(commit, &path)? == release {
            out.push(commit);
        }
    }
    if repo.file_id(stage, &path)? == release {
        out.push(stage);
    }
    Ok(out)
}

/// Asks `source` about the commits that hold the release staged in `color` (newest first,
/// stopping once every context is reported) and judges each of `contexts`.
#[allow(clippy::too_many_arguments)]
pub(super) fn judge_release(
    repo: &Repo,
    tip: Oid,
    env: &str,
    app: &str,
    color: Color,
    stage: Oid,
    contexts: &[String],
    source: &dyn ReportSource,
) -> anyhow::Result<Judged> {
    let holders = holders(repo, tip, env, app, color, stage)?;
    let mut evidence = Vec::new();
    for commit in &holders {
        let id = commit.to_string();
        let reports = source.reports(&id)?;
        tracing::info!(
            "{} reports on {}: {}",
            env,
            super::short(&id),
            reports
                .iter()
                .map(|r| format!("{} {}", r.context, r.state))
                .collect::<Vec<_>>()
                .join(", ")
        );
        evidence.push(Evidence {
            commit: id,
            reports,
        });
        if gate::all_reported(contexts, &evidence) {
            break;
        }
    }
    let oldest = evidence
        .last()
        .map_or_else(|| stage.to_string(), |e| e.commit.clone());
    Ok(Judged {
        scope: StatusScope {
            stage_commit: super::short(&stage.to_string()),
            oldest: super::short(&oldest),
            commits: evidence.len(),
        },
        results: gate::judge(contexts, &evidence),
    })
}
