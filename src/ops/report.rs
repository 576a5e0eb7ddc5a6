//! The reports the operations return: plain data, printed as text by `cli` or serialized as
//! the JSON contract documented in README.md ("JSON output"). Every report carries
//! `schemaVersion` and `command`; field names are camelCase.

use serde::{Deserialize, Serialize};

use crate::diff::Diff;
use crate::history::ReleaseRecord;
use crate::values::Color;

/// `render`: what was written per environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenderReport {
    /// Schema version of this report.
    pub schema_version: u32,
    /// Always `render`.
    pub command: String,
    /// One entry per rendered environment.
    pub environments: Vec<RenderedEnv>,
    /// When every environment was rendered: what greenlight had rendered for environments
    /// that no longer exist, removed.
    pub orphans_removed: Vec<String>,
    /// Manifests under `rendered/` that greenlight did not write, left in place (in an
    /// environment's folder, or outside all of them when every environment was rendered).
    pub foreign: Vec<String>,
}

/// The files of one environment that `render` wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenderedEnv {
    /// The environment.
    pub environment: String,
    /// Files created or changed.
    pub written: Vec<String>,
    /// Files already up to date.
    pub unchanged: Vec<String>,
    /// Stale files greenlight had written, removed.
    pub removed: Vec<String>,
}

/// What a release command did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// A commit was made.
    Committed,
    /// `--dry-run`: the diff of what would be committed; nothing written.
    DryRun,
    /// Nothing to do (e.g. already live); no commit.
    NoChange,
}

/// `stage`, `promote`, `rollback`, `scale-down`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseReport {
    /// Schema version of this report.
    pub schema_version: u32,
    /// The command (`stage`, `promote`, `rollback`, `scale-down`).
    pub command: String,
    /// The environment.
    pub environment: String,
    /// What happened.
    pub outcome: Outcome,
    /// For `no-change`: why; otherwise the one-line summary.
    pub message: String,
    /// The commit subject (also for dry runs).
    pub subject: Option<String>,
    /// The commit made, hex.
    pub commit: Option<String>,
    /// The branch committed to, e.g. `refs/heads/main`.
    pub branch: String,
    /// Live colour before.
    pub previous_live: Color,
    /// Live colour after.
    pub live: Color,
    /// The image the action concerned.
    pub image: Option<String>,
    /// The change (values file and rendered manifests); empty for `no-change`.
    pub diff: Diff,
    /// Where the commit was pushed (`--push`), or `null`.
    pub push: Option<PushReport>,
    /// The pull request opened or reused (`--open-pr`), or `null`.
    pub pull_request: Option<PullRequestReport>,
    /// What a reviewer should know beyond the subject (e.g. that a stage replaces the
    /// rollback target); also in the commit message.
    pub notes: Vec<String>,
    /// How the configuration of the colour the command concerned changes (`stage`: what it
    /// ran before → what values hold now; `reconfigure`: the live colour's), one entry per
    /// changed key; empty when it keeps its configuration.
    pub config_changes: Vec<crate::diff::FieldChange>,
}

/// `stage`, `promote`, `rollback`, `scale-down` of several environments: one commit holds the
/// changes of every environment that has any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MultiReleaseReport {
    /// Schema version of this report.
    pub schema_version: u32,
    /// The command.
    pub command: String,
    /// `committed` when a commit was made, `dry-run`, or `no-change` when no environment had
    /// anything to do.
    pub outcome: Outcome,
    /// How many environments changed, e.g. `2 of 3 environments changed`.
    pub message: String,
    /// The commit subject (also for dry runs).
    pub subject: Option<String>,
    /// The commit made, hex.
    pub commit: Option<String>,
    /// The branch committed to, e.g. `refs/heads/main`.
    pub branch: String,
    /// Where the commit was pushed (`--push`), or `null`.
    pub push: Option<PushReport>,
    /// The pull request opened or reused (`--open-pr`), or `null`.
    pub pull_request: Option<PullRequestReport>,
    /// One report per environment, in the order named (`push` and `pullRequest` are `null`
    /// there: they are the release's, above). An environment with nothing to do has outcome
    /// `no-change` and says why.
    pub environments: Vec<ReleaseReport>,
}

/// What a release command did: the report of one environment, or of several.
#[derive(Debug, Clone, PartialEq)]
pub enum Released {
    /// One environment was named.
    One(ReleaseReport),
    /// Several were.
    Many(MultiReleaseReport),
}

/// A push of a release commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushReport {
    /// The remote (a name, or a URL without credentials).
    pub remote: String,
    /// The branch pushed, short name (e.g. `main`).
    pub branch: String,
    /// How many times the change was computed and pushed (1 unless the remote moved).
    pub attempts: u32,
}

/// A pull request (GitHub, Gitea) or merge request (GitLab) for a release branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PullRequestReport {
    /// Its number (GitLab: the merge request's iid).
    pub number: u64,
    /// Its web page.
    pub url: String,
    /// True when an open one for the branch existed and was reused.
    pub reused: bool,
    /// True when the reused one's description differed and was replaced by the current one.
    pub body_updated: bool,
}

/// `diff`: per environment, what values render now vs what is committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiffReport {
    /// Schema version of this report.
    pub schema_version: u32,
    /// Always `diff`.
    pub command: String,
    /// True when any environment differs.
    pub changed: bool,
    /// Environments that differ (unchanged ones are omitted).
    pub environments: Vec<EnvDiff>,
}

/// The difference of one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvDiff {
    /// The environment.
    pub environment: String,
    /// One-line summaries, e.g. `production: live blue → green (api 1.5.0)`.
    pub summary: Vec<String>,
    /// The file and resource changes.
    pub diff: Diff,
    /// Configuration values hold that the live colour does not run yet, and what ships it.
    pub unreleased_config: Option<crate::release::Unreleased>,
}

/// `verify`: does `rendered/` hold exactly what values render?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyReport {
    /// Schema version of this report.
    pub schema_version: u32,
    /// Always `verify`.
    pub command: String,
    /// Where it looked (a directory or a commit).
    pub source: String,
    /// True when nothing drifted.
    pub ok: bool,
    /// Number of environments checked.
    pub environments: usize,
    /// Every file that differs.
    pub drift: Vec<Drift>,
    /// In a checkout an interrupted greenlight left behind its branch: what is not written
    /// yet (the check fails until it is).
    pub checkout_behind: Option<CheckoutBehind>,
    /// When the commit was checked in a checkout: the files under `environments/` and
    /// `rendered/` with uncommitted edits, which this check did not see (`--worktree` does).
    pub uncommitted: Vec<String>,
}

/// One file of `rendered/` that is not what values render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Drift {
    /// The file.
    pub path: String,
    /// How it differs.
    pub problem: DriftKind,
}

/// How a rendered file differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftKind {
    /// Its content differs from the render (e.g. edited by hand).
    Differs,
    /// Values render it but it is not there.
    Missing,
    /// greenlight rendered it once, but values do not render it any more (`render --all`
    /// removes it).
    Unexpected,
    /// It is there, values do not render it, and greenlight did not write it (it never
    /// deletes such a file: remove it with `git rm`).
    Foreign,
}

impl DriftKind {
    /// The name used in JSON and text: `differs`, `missing`, `unexpected`, `foreign`.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::Differs => "differs",
            DriftKind::Missing => "missing",
            DriftKind::Unexpected => "unexpected",
            DriftKind::Foreign => "foreign",
        }
    }
}

/// `status`: the state of environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusReport {
    /// Schema version of this report.
    pub schema_version: u32,
    /// Always `status`.
    pub command: String,
    /// The time ages and warm periods are computed against, unix seconds.
    pub now: i64,
    /// One entry per environment.
    pub environments: Vec<EnvStatus>,
    /// In a checkout an interrupted greenlight left behind its branch: what is not written
    /// yet (the status shown is the branch's).
    pub checkout_behind: Option<CheckoutBehind>,
}

/// The state of one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvStatus {
    /// The environment.
    pub environment: String,
    /// The application.
    pub app: String,
    /// Its namespace.
    pub namespace: String,
    /// The live colour.
    pub live: Color,
    /// The colour staged for promotion, if any.
    pub staged: Option<Color>,
    /// The idle colour (the one not live).
    pub idle: Color,
    /// What the idle colour holds.
    pub idle_state: IdleState,
    /// The blue colour.
    pub blue: ColorStatus,
    /// The green colour.
    pub green: ColorStatus,
    /// The newest promotion, from history.
    pub last_promotion: Option<ReleaseRecord>,
    /// The newest traffic switch (promotion or rollback), from history.
    pub last_flip: Option<ReleaseRecord>,
    /// For a warm idle colour: seconds until `scale-down` may remove it (0: it may now).
    pub warm_seconds_left: Option<i64>,
    /// What is wrong with the environment's state (e.g. `liveColor` changed by hand), each
    /// a sentence; empty when nothing is.
    pub warnings: Vec<String>,
    /// Configuration values hold that the live colour does not run yet, and what ships it.
    pub unreleased_config: Option<crate::release::Unreleased>,
}

/// What the idle colour holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdleState {
    /// A release staged for promotion.
    Staged,
    /// The previous release, kept running for an instant rollback.
    Warm,
    /// An image at 0 replicas.
    ScaledDown,
    /// No image.
    Empty,
}

impl IdleState {
    /// The word used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            IdleState::Staged => "staged",
            IdleState::Warm => "warm",
            IdleState::ScaledDown => "scaled-down",
            IdleState::Empty => "empty",
        }
    }
}

/// One colour's image and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ColorStatus {
    /// Full image reference, if any.
    pub image: Option<String>,
    /// Tag or short digest, or `none`.
    pub version: String,
    /// Replica count.
    pub replicas: i64,
    /// SHA-256 of the configuration it runs (as recorded in `released.yaml`): equal for two
    /// colours running one configuration.
    pub config_sha256: String,
}

/// `history`: release actions of an environment, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HistoryReport {
    /// Schema version of this report.
    pub schema_version: u32,
    /// Always `history`.
    pub command: String,
    /// The environment.
    pub environment: String,
    /// The records, newest first.
    pub records: Vec<ReleaseRecord>,
}

/// `init`: what was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InitReport {
    /// Schema version of this report.
    pub schema_version: u32,
    /// Always `init`.
    pub command: String,
    /// The repository.
    pub repository: String,
    /// The environment created.
    pub environment: String,
    /// Files created.
    pub files: Vec<String>,
    /// The commit made.
    pub commit: String,
}

/// A checkout that an interrupted greenlight left behind its branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutBehind {
    /// The commit the branch is at.
    pub commit: String,
    /// The paths whose file or index entry does not show that commit yet.
    pub paths: Vec<String>,
}

impl CheckoutBehind {
    /// What happened and the two ways out, as one message with the paths filled in.
    pub fn explain(&self) -> String {
        format!(
            "the checkout is behind its branch: a greenlight run was interrupted after \
             committing {} and before writing {}; the next stage, promote, rollback or \
             scale-down finishes it, or run `git checkout HEAD -- {}` (until then `git commit \
             -a` would revert it)",
            super::short(&self.commit),
            self.paths.join(", "),
            self.paths.join(" ")
        )
    }
}
