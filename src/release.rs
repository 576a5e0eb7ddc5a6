//! The release cycle as pure functions: stage, promote, rollback and scale-down take the
//! current [`Values`] and the [`ReleaseState`] read from history, check every guard, and return
//! either the new values with a description of the change, a no-op, or a typed [`Refusal`].
//!
//! This module touches no disk, no git and no clock: the caller passes the history-derived
//! state and the current time in, so every rule here is tested with plain values.
//!
//! How "staged" is known: a colour is staged when the newest stage/promote/rollback record of
//! the environment (the `Greenlight-*` commit trailers) is a `stage` of that colour with the
//! image it holds now. A promotion or a rollback ends the staged state, so a retried
//! `promote` never flips traffic back, and a rolled-back release is never promoted again
//! without a new `stage`. Reviewers see this in `greenlight history` and `git log`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::diff::FieldChange;
use crate::gate::{ContextResult, State};
use crate::grammar;
use crate::values::{Color, ColorSpec, Config, Digest, Released, Tag, Values};

/// One of the operations that change values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// The idle colour receives a new image, pre-scaled to the live replica count.
    Stage,
    /// The staged idle colour becomes live.
    Promote,
    /// The previous colour becomes live again.
    Rollback,
    /// The idle colour is scaled to zero replicas.
    ScaleDown,
    /// Both colours take the current configuration in place (the live colour restarts).
    Reconfigure,
}

impl Action {
    /// The name used in commit subjects and the `Greenlight-Action` trailer.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Stage => "stage",
            Action::Promote => "promote",
            Action::Rollback => "rollback",
            Action::ScaleDown => "scale-down",
            Action::Reconfigure => "reconfigure",
        }
    }

    /// Parses a `Greenlight-Action` trailer value.
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "stage" => Some(Action::Stage),
            "promote" => Some(Action::Promote),
            "rollback" => Some(Action::Rollback),
            "scale-down" => Some(Action::ScaleDown),
            "reconfigure" => Some(Action::Reconfigure),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A release action recorded in history, as far as the guards need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedAction {
    /// What was done.
    pub action: Action,
    /// The live colour after it.
    pub live: Color,
    /// The live colour before it (`Greenlight-Previous`), when recorded.
    pub previous: Option<Color>,
    /// The image the action concerned (`Greenlight-Image`).
    pub image: Option<String>,
    /// The commit id, for messages.
    pub commit: String,
    /// Committer time, unix seconds.
    pub time: i64,
}

/// What history says about an environment; built by the caller from commit trailers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseState {
    /// The newest stage, promote or rollback of the environment.
    pub last_transition: Option<RecordedAction>,
    /// The newest promote of the environment.
    pub last_promotion: Option<RecordedAction>,
}

impl ReleaseState {
    /// The colour staged since the last traffic switch, if it still holds the staged image
    /// and has replicas to serve it.
    pub fn staged(&self, values: &Values) -> Option<Color> {
        let last = self.last_transition.as_ref()?;
        if last.action != Action::Stage {
            return None;
        }
        let color = last.live.other();
        let spec = values.color(color);
        let holds = spec.image_ref(&values.image);
        // A staged colour scaled down since cannot take traffic: it is no longer staged, so
        // `status` and the promote guard agree.
        (color == values.idle_color()
            && holds.is_some()
            && holds == last.image
            && spec.replicas > 0)
            .then_some(color)
    }
}

/// How `stage` names the new image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageVersion {
    /// An image tag.
    Tag(Tag),
    /// An image digest, `sha256:…`.
    Digest(Digest),
}

/// Arguments of `stage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRequest {
    /// The image to stage; `None` stages the live colour's image with the current
    /// configuration (a configuration-only release).
    pub version: Option<ImageVersion>,
    /// The colour to stage into; the idle colour when `None`.
    pub color: Option<Color>,
}

impl StageRequest {
    /// Parses a colour-coded release tag such as `v2.0-green` into a tag and its colour.
    pub fn from_release_tag(release_tag: &str) -> Result<StageRequest, grammar::Refusal> {
        grammar::RELEASE_TAG.apply(release_tag)?;
        let (version, color) = release_tag
            .rsplit_once('-')
            .expect("the release tag rule requires a `-`");
        Ok(StageRequest {
            version: Some(ImageVersion::Tag(Tag::parse(version)?)),
            color: Some(
                color
                    .parse()
                    .expect("the release tag rule requires a colour"),
            ),
        })
    }
}

/// Arguments of `promote`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromoteRequest {
    /// Refuse unless this colour is live now (a stale pipeline must not promote).
    pub expect_live: Option<Color>,
    /// Refuse unless the colour to be promoted holds this tag (or digest).
    pub expect_tag: Option<String>,
}

/// Arguments of `scale-down`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleDownRequest {
    /// Skip the warm-period guard.
    pub force: bool,
    /// How long the previous colour stays warm after a promotion.
    pub warm: Duration,
    /// The current time, unix seconds.
    pub now: i64,
}

/// The result of an operation whose guards passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Values change; commit them.
    Change(Box<Change>),
    /// Nothing to do; the message says why (e.g. already live).
    NoChange {
        /// A one-line explanation for people.
        message: String,
    },
}

/// A change to the values of one environment, with everything needed to describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What was done.
    pub action: Action,
    /// The new values.
    pub values: Values,
    /// The live colour before.
    pub previous: Color,
    /// The live colour after.
    pub live: Color,
    /// The colour the action concerned (staged, promoted to, rolled back to, scaled down).
    pub color: Color,
    /// The full image reference of that colour, if it has one.
    pub image: Option<String>,
    /// Commit subject without the `action(env): ` prefix, e.g. `api blue → green (1.5.0)`.
    pub description: String,
    /// A one-line summary for people, without the environment prefix.
    pub summary: String,
    /// True when values are unchanged but history must record the action (re-staging an
    /// image that was promoted or rolled back before).
    pub record_only: bool,
    /// What a reviewer should know beyond the description (e.g. the rollback target is
    /// replaced); printed, and written into the commit message.
    pub notes: Vec<String>,
    /// The new record of what each colour runs, when this changes it.
    pub released: Option<Released>,
    /// How the configuration of the colour the action concerned changes (for `reconfigure`,
    /// the live colour's).
    pub config_changes: Vec<FieldChange>,
}

impl Change {
    /// The commit subject, `<action>(<env>): <description>`.
    pub fn subject(&self, env: &str) -> String {
        format!("{}({env}): {}", self.action, self.description)
    }
}

/// A guard refused the operation. Each variant says why, with the data to act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `stage --color C` named the live colour.
    #[error("{color} is live: staging into it would change live traffic directly")]
    TargetIsLive {
        /// The live colour.
        color: Color,
    },
    /// The colour to make live has no image.
    #[error("{color} has no image, so it cannot take traffic")]
    NoImage {
        /// The colour without an image.
        color: Color,
    },
    /// The colour to make live is scaled to zero.
    #[error("{color} has 0 replicas, so it cannot take traffic")]
    NoReplicas {
        /// The colour without replicas.
        color: Color,
        /// The `stage` option that stages what it holds again (`--tag 1.5.0`), if anything.
        restage: Option<String>,
    },
    /// `--expect-live` did not match.
    #[error("expected {expected} to be live, but {actual} is live")]
    ExpectedLiveMismatch {
        /// What the caller expected.
        expected: Color,
        /// What is live.
        actual: Color,
    },
    /// `--expect-tag` did not match.
    #[error("expected {color} to hold `{expected}`, but it holds `{actual}`")]
    ExpectedTagMismatch {
        /// The colour checked.
        color: Color,
        /// What the caller expected.
        expected: String,
        /// What it holds (`none` when it has no image).
        actual: String,
    },
    /// `promote` found no staged release in the idle colour.
    #[error("{color} is not staged: {reason}")]
    NotStaged {
        /// The idle colour.
        color: Color,
        /// Why it does not count as staged.
        reason: String,
        /// The `stage` option that stages what it holds again (`--tag 1.5.0`), if anything.
        restage: Option<String>,
    },
    /// `rollback` found nothing to go back to.
    #[error("nothing to roll back to: {reason}")]
    NothingToRollBack {
        /// Why.
        reason: String,
    },
    /// `promote --require-status` (or `wait`, once a report is final): the forge does not
    /// report `success` for every required context on the commits that hold the staged
    /// release.
    #[error(
        "the forge does not report success for the release staged in {color}: {}",
        describe_statuses(unmet, scope)
    )]
    StatusNotSuccess {
        /// The staged colour.
        color: Color,
        /// The commits asked about.
        scope: StatusScope,
        /// The contexts without a success, each with what decides it.
        unmet: Vec<ContextResult>,
    },
    /// `wait`: the timeout ended before every required context reported success.
    #[error(
        "timed out after {waited} waiting for the release staged in {color}: {}",
        describe_statuses(unmet, scope)
    )]
    StatusTimedOut {
        /// How long it waited.
        waited: HumanDuration,
        /// The staged colour.
        color: Color,
        /// The commits asked about.
        scope: StatusScope,
        /// The contexts without a success when time ran out.
        unmet: Vec<ContextResult>,
    },
    /// `scale-down` inside the warm period of the last promotion.
    #[error(
        "the last promotion ({commit}) is {age} old; the previous colour stays warm for {warm} \
         ({remaining} left)"
    )]
    WarmPeriodNotElapsed {
        /// The promotion commit.
        commit: String,
        /// Its age.
        age: HumanDuration,
        /// The warm period.
        warm: HumanDuration,
        /// Time left.
        remaining: HumanDuration,
    },
}

impl Refusal {
    /// What the user can do about it in environment `env`: commands filled in with what is
    /// known, so they can be copied and run.
    pub fn hint(&self, env: &str) -> Option<String> {
        Some(match self {
            Refusal::TargetIsLive { color } => format!(
                "stage into the idle colour ({}) by leaving out --color",
                color.other()
            ),
            Refusal::NoImage { color } => format!(
                "stage the version you want live into {color} first: `greenlight stage {env} \
                 --tag` followed by that version (or --digest sha256:…)"
            ),
            Refusal::NoReplicas {
                restage: Some(restage),
                color,
            } => format!(
                "stage it again, which scales {color} up to the live replicas: greenlight stage \
                 {env} {restage}"
            ),
            Refusal::NoReplicas { color, .. } => format!(
                "stage a release into {color} first: `greenlight stage {env} --tag` followed by \
                 the version"
            ),
            Refusal::ExpectedLiveMismatch { .. } | Refusal::ExpectedTagMismatch { .. } => {
                format!(
                    "another change reached this environment first; check `greenlight status \
                     {env}` and `greenlight history {env}` before retrying"
                )
            }
            Refusal::NotStaged {
                restage: Some(restage),
                ..
            } => format!(
                "stage the release you want to promote; to promote what it holds: greenlight \
                 stage {env} {restage}"
            ),
            Refusal::NotStaged { .. } => format!(
                "stage the release you want to promote: `greenlight stage {env} --tag` \
                 followed by the version"
            ),
            Refusal::NothingToRollBack { .. } => {
                format!("check `greenlight history {env}` for the release you want live")
            }
            Refusal::StatusNotSuccess { unmet, .. } | Refusal::StatusTimedOut { unmet, .. }
                if unmet
                    .iter()
                    .any(|u| u.state.is_some_and(State::is_final_failure)) =>
            {
                format!(
                    "the staged release did not pass: look at the failed check on the forge, \
                     fix the cause and stage again (`greenlight stage {env} --tag` followed by \
                     the fixed version); live traffic was not touched"
                )
            }
            Refusal::StatusNotSuccess { unmet, .. } => format!(
                "wait until the cluster and CI report on it: greenlight wait {env} {} \
                 --timeout 10m",
                unmet
                    .iter()
                    .map(|u| format!("--status {}", shell_word(&u.context)))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Refusal::StatusTimedOut { .. } => format!(
                "check that the cluster applied the commit (Flux: `flux get kustomizations`; the \
                 `notify` block in environments/{env}/values.yaml posts its status), then wait \
                 again with a longer --timeout"
            ),
            Refusal::WarmPeriodNotElapsed { .. } => format!(
                "wait, or scale down now with `greenlight scale-down {env} --force` (rollback \
                 will then need a re-stage)"
            ),
        })
    }
}

/// The `stage` option that stages what `spec` holds (`--tag 1.5.0`, `--digest sha256:…`).
fn restage_option(spec: &ColorSpec) -> Option<String> {
    match (&spec.tag, &spec.digest) {
        (_, Some(d)) => Some(format!("--digest {d}")),
        (Some(t), None) => Some(format!("--tag {t}")),
        (None, None) => None,
    }
}

/// The commits whose statuses were asked about for a staged release: those that hold it as
/// the branch tip does (its colour's rendered Deployment byte for byte), from the stage
/// commit on, newest first — only as far as needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusScope {
    /// The commit that staged the colour (short id).
    pub stage_commit: String,
    /// The oldest commit asked about (short id): the stage commit, unless the newer ones
    /// decided already or a later commit changed the staged colour's release (a reconfigure,
    /// a replica edit).
    pub oldest: String,
    /// How many commits were asked about.
    pub commits: usize,
}

/// `unmet` for a message: each context's state and commit, then which commits were asked.
fn describe_statuses(unmet: &[ContextResult], scope: &StatusScope) -> String {
    let each: Vec<String> = unmet.iter().map(ContextResult::describe).collect();
    let looked = match (scope.oldest == scope.stage_commit, scope.commits) {
        (true, 1) => format!("looked at {}, which staged it", scope.stage_commit),
        (true, 2) => format!(
            "looked at {}, which staged it, and 1 later commit that holds it",
            scope.stage_commit
        ),
        (true, n) => format!(
            "looked at {}, which staged it, and {} later commits that hold it",
            scope.stage_commit,
            n - 1
        ),
        (false, 1) => format!(
            "looked at {}, the newest commit that holds it; staged in {}",
            scope.oldest, scope.stage_commit
        ),
        (false, n) => format!(
            "looked at the {n} newest commits that hold it, down to {}; staged in {}",
            scope.oldest, scope.stage_commit
        ),
    };
    format!("{} ({looked})", each.join("; "))
}

/// `word` as one shell word: as it is when it needs no quoting, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    match plain {
        true => word.to_owned(),
        false => format!("'{}'", word.replace('\'', r"'\''")),
    }
}

/// The `--require-status` guard of `promote` in one environment: refused unless every result
/// (from [`crate::gate::judge`] over the commits of `scope`, which hold the release staged in
/// `color`) is a success.
pub fn require_statuses(
    color: Color,
    scope: StatusScope,
    results: Vec<ContextResult>,
) -> Result<(), Refusal> {
    let unmet: Vec<ContextResult> = results.into_iter().filter(|r| !r.passed()).collect();
    if unmet.is_empty() {
        return Ok(());
    }
    Err(Refusal::StatusNotSuccess {
        color,
        scope,
        unmet,
    })
}

/// A duration printed the way people write it (`12m 30s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whole seconds, as people write durations; below a second, milliseconds.
        let shown = match self.0 < Duration::from_secs(1) {
            true => Duration::from_millis(self.0.as_millis() as u64),
            false => Duration::from_secs(self.0.as_secs()),
        };
        write!(f, "{}", humantime::format_duration(shown))
    }
}

/// The version shown for a colour: its tag, a shortened digest, or `none`.
pub fn display_version(spec: &ColorSpec) -> String {
    match (&spec.tag, &spec.digest) {
        (_, Some(d)) => short_digest(d),
        (Some(t), None) => t.to_string(),
        (None, None) => "none".to_owned(),
    }
}

/// The version of a colour in full (a digest is not shortened), or `none`: for messages that
/// compare it with a version the user typed.
pub fn full_version(spec: &ColorSpec) -> String {
    spec.version().unwrap_or("none").to_owned()
}

fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algo, hex)) if hex.len() > 12 => format!("{algo}:{}", &hex[..12]),
        _ => digest.to_owned(),
    }
}

/// `stage`: the idle colour (or `--color`) gets the image (or keeps the live colour's, for a
/// configuration-only release), pre-scaled to the live replicas, and the configuration values
/// hold now (`config`) becomes what it runs.
pub fn stage(
    values: &Values,
    state: &ReleaseState,
    released: &Released,
    config: &Config,
    req: &StageRequest,
) -> Result<Decision, Refusal> {
    let live = values.live_color;
    let color = req.color.unwrap_or(live.other());
    if color == live {
        return Err(Refusal::TargetIsLive { color });
    }
    let mut new = values.clone();
    let before = values.color(color).clone();
    // No image named: the live colour's, with the current configuration.
    let (tag, digest) = match &req.version {
        Some(ImageVersion::Tag(t)) => (Some(t.clone()), None),
        Some(ImageVersion::Digest(d)) => (None, Some(d.clone())),
        None => {
            let running = values.color(live);
            (running.tag.clone(), running.digest.clone())
        }
    };
    let target = new.color_mut(color);
    target.tag = tag;
    target.digest = digest;
    target.replicas = values.color(live).replicas;
    let image = target.image_ref(&values.image);
    let version = display_version(target);
    let replicas = target.replicas;
    let new_released = released.with(color, config.clone());
    let config_changes = crate::diff::compare_values(
        &serde_json::Value::Object(released.config(color).clone()),
        &serde_json::Value::Object(config.clone()),
    );

    let already_staged = state.staged(values) == Some(color);
    if new == *values && already_staged && config_changes.is_empty() {
        return Ok(Decision::NoChange {
            message: format!(
                "{color} already holds {version} with {replicas} replicas and the current \
                 configuration, staged in {}",
                state
                    .last_transition
                    .as_ref()
                    .map_or("history", |r| r.commit.as_str())
            ),
        });
    }
    let record_only = new == *values && config_changes.is_empty();
    // Staging over the warm previous release (the idle colour right after a traffic switch)
    // takes away what `rollback` would return to: legitimate, but never silently.
    let mut notes = Vec::new();
    let replaces_rollback_target = state.last_transition.as_ref().is_some_and(|last| {
        matches!(last.action, Action::Promote | Action::Rollback) && last.live == live
    }) && before.replicas > 0
        && before.image_ref(&values.image).is_some()
        && (before != *new.color(color) || !config_changes.is_empty());
    if replaces_rollback_target {
        notes.push(format!(
            "{color} held the previous release {} ({} replicas), the target of `rollback`; \
             after this stage there is nothing to roll back to until the next promotion",
            display_version(&before),
            before.replicas
        ));
    }
    // A configuration-only stage over a staged image that was never promoted puts the live
    // image back in its place: say so, the reviewer may have wanted `--tag` with that image.
    if req.version.is_none() && already_staged && before != *new.color(color) {
        notes.push(format!(
            "{color} held the staged release {}, which was not promoted; it now runs the live \
             image {version} with the new configuration (to ship the configuration with {} \
             instead, stage it with --tag {})",
            display_version(&before),
            display_version(&before),
            display_version(&before)
        ));
    }
    let with_config = match config_changes.is_empty() {
        true => String::new(),
        false => " with new configuration".to_owned(),
    };
    let description = match display_version(&before) == version {
        true => format!(
            "{} {color} {version}{with_config} ({replicas} replicas)",
            values.app
        ),
        false => format!(
            "{} {color} {} → {version}{with_config} ({replicas} replicas)",
            values.app,
            display_version(&before)
        ),
    };
    Ok(Decision::Change(Box::new(Change {
        action: Action::Stage,
        description,
        summary: format!(
            "stage {color} {version}{with_config} ({}, {replicas} replicas)",
            values.app
        ),
        values: new,
        released: (!config_changes.is_empty()).then_some(new_released),
        config_changes,
        previous: live,
        live,
        color,
        image,
        record_only,
        notes,
    })))
}

/// Configuration values hold that the live colour does not run, and what ships it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Unreleased {
    /// How values differ from what the live colour runs, one entry per changed key.
    pub changes: Vec<FieldChange>,
    /// The idle colour, when it is staged with exactly this configuration (a promotion
    /// ships it); `None` when no colour runs it yet (a stage ships it).
    pub staged_in: Option<Color>,
    /// The command that ships it, with the environment filled in.
    pub ship_with: String,
}

/// What of the configuration values hold (`config`) the live colour does not run yet, if
/// anything, for environment `env`.
pub fn unreleased(
    env: &str,
    values: &Values,
    state: &ReleaseState,
    released: &Released,
    config: &Config,
) -> Option<Unreleased> {
    let live = values.live_color;
    let changes = crate::diff::compare_values(
        &serde_json::Value::Object(released.config(live).clone()),
        &serde_json::Value::Object(config.clone()),
    );
    if changes.is_empty() {
        return None;
    }
    let idle = live.other();
    let staged_in =
        (state.staged(values) == Some(idle) && released.config(idle) == config).then_some(idle);
    let ship_with = match staged_in {
        Some(_) => format!("greenlight promote {env}"),
        None => format!("greenlight stage {env}"),
    };
    Some(Unreleased {
        changes,
        staged_in,
        ship_with,
    })
}

/// `reconfigure`: both colours run the configuration values hold now, at once — the live
/// colour restarts in place, outside a release. For the rare change that cannot wait for one
/// (a rotated Secret's name, an emergency limit); never what `stage` does.
pub fn reconfigure(
    values: &Values,
    released: &Released,
    config: &Config,
) -> Result<Decision, Refusal> {
    let live = values.live_color;
    let changes = |color: Color| {
        crate::diff::compare_values(
            &serde_json::Value::Object(released.config(color).clone()),
            &serde_json::Value::Object(config.clone()),
        )
    };
    let live_changes = changes(live);
    let idle_changes = changes(live.other());
    if live_changes.is_empty() && idle_changes.is_empty() {
        return Ok(Decision::NoChange {
            message: "both colours already run the configuration values hold".to_owned(),
        });
    }
    let mut notes = Vec::new();
    if !live_changes.is_empty() {
        notes.push(format!(
            "the live colour ({live}) restarts in place with this configuration, outside a \
             release: no preview, and `rollback` to {} returns to it too",
            live.other()
        ));
    }
    Ok(Decision::Change(Box::new(Change {
        action: Action::Reconfigure,
        description: format!(
            "{} blue and green take the current configuration",
            values.app
        ),
        summary: format!(
            "reconfigure {} in place: {live} (live) restarts",
            values.app
        ),
        values: values.clone(),
        released: Some(Released::both(config.clone())),
        config_changes: if live_changes.is_empty() {
            idle_changes
        } else {
            live_changes
        },
        previous: live,
        live,
        color: live,
        image: values.color(live).image_ref(&values.image),
        record_only: false,
        notes,
    })))
}

/// `promote`: the staged idle colour becomes live.
pub fn promote(
    values: &Values,
    state: &ReleaseState,
    req: &PromoteRequest,
) -> Result<Decision, Refusal> {
    let live = values.live_color;
    let idle = live.other();
    let staged = state.staged(values) == Some(idle);
    // A retried promote after a successful one: the colour it promoted is live already.
    let already_promoted = (!staged)
        .then_some(state.last_transition.as_ref())
        .flatten()
        .filter(|r| {
            r.action == Action::Promote
                && r.live == live
                && r.image == values.color(live).image_ref(&values.image)
        });
    if let Some(done) = already_promoted {
        // The guards describe that promotion (from the colour it left, to the version it made
        // live): a re-run of the same job finds its work done.
        let describes = req.expect_live.is_none_or(|c| Some(c) == done.previous)
            && req
                .expect_tag
                .as_deref()
                .is_none_or(|t| values.color(live).version() == Some(t));
        if describes {
            return Ok(Decision::NoChange {
                message: format!(
                    "{live} ({}) is already live, promoted in {}",
                    full_version(values.color(live)),
                    done.commit
                ),
            });
        }
    }
    if let Some(expected) = req.expect_live {
        if expected != live {
            return Err(Refusal::ExpectedLiveMismatch {
                expected,
                actual: live,
            });
        }
    }
    // Without --expect-live, --expect-tag names the release the caller wants live: the one
    // already promoted, when there is one (a mismatch then says what is live instead).
    let candidate = match already_promoted {
        Some(_) if req.expect_live.is_none() => live,
        _ => idle,
    };
    if let Some(expected) = &req.expect_tag {
        let spec = values.color(candidate);
        if spec.version() != Some(expected.as_str()) {
            return Err(Refusal::ExpectedTagMismatch {
                color: candidate,
                expected: expected.clone(),
                actual: full_version(spec),
            });
        }
    }
    check_can_serve(values, idle)?;
    if !staged {
        return Err(Refusal::NotStaged {
            color: idle,
            reason: not_staged_reason(values, state, idle),
            restage: restage_option(values.color(idle)),
        });
    }
    Ok(Decision::Change(Box::new(flip(values, Action::Promote))))
}

/// The idle colour when it holds a staged release (what `wait` and `--require-status` judge);
/// otherwise why not, in the words `promote` uses.
pub fn staged_release(values: &Values, state: &ReleaseState) -> Result<Color, Refusal> {
    let idle = values.idle_color();
    if state.staged(values) == Some(idle) {
        return Ok(idle);
    }
    check_can_serve(values, idle)?;
    Err(Refusal::NotStaged {
        color: idle,
        reason: not_staged_reason(values, state, idle),
        restage: restage_option(values.color(idle)),
    })
}

fn not_staged_reason(values: &Values, state: &ReleaseState, idle: Color) -> String {
    let Some(last) = &state.last_transition else {
        return "no stage of this environment is recorded in history".to_owned();
    };
    match last.action {
        Action::Rollback => format!(
            "it was rolled back in {}; a rolled-back release is promoted only after a new stage",
            last.commit
        ),
        Action::Promote => format!(
            "it is the previous release (live until {}), kept warm for rollback",
            last.commit
        ),
        _ => format!(
            "{idle} now holds {}, not the image staged in {} ({})",
            display_version(values.color(idle)),
            last.commit,
            last.image.as_deref().unwrap_or("none")
        ),
    }
}

/// `rollback`: the previous colour becomes live again.
pub fn rollback(values: &Values, state: &ReleaseState) -> Result<Decision, Refusal> {
    let live = values.live_color;
    let previous = live.other();
    match &state.last_transition {
        None => {
            return Err(Refusal::NothingToRollBack {
                reason: "no promotion of this environment is recorded in history".to_owned(),
            })
        }
        Some(last) if last.action == Action::Rollback && last.live == live => {
            return Ok(Decision::NoChange {
                message: format!(
                    "already rolled back: {live} ({}) is live since {}",
                    display_version(values.color(live)),
                    last.commit
                ),
            })
        }
        Some(last) if last.action == Action::Stage => {
            return Err(Refusal::NothingToRollBack {
                reason: format!(
                    "{previous} holds the release staged in {} ({}), not the previous release",
                    last.commit,
                    display_version(values.color(previous))
                ),
            })
        }
        Some(last) if last.live != live => {
            return Err(Refusal::NothingToRollBack {
                reason: format!(
                    "values say {live} is live but the last {} ({}) made {} live; values were \
                     changed outside greenlight",
                    last.action, last.commit, last.live
                ),
            })
        }
        Some(_) => {}
    }
    check_can_serve(values, previous)?;
    Ok(Decision::Change(Box::new(flip(values, Action::Rollback))))
}

/// `scale-down`: the idle colour goes to zero replicas once the warm period is over.
pub fn scale_down(
    values: &Values,
    state: &ReleaseState,
    req: &ScaleDownRequest,
) -> Result<Decision, Refusal> {
    let idle = values.idle_color();
    let spec = values.color(idle);
    if spec.replicas == 0 {
        return Ok(Decision::NoChange {
            message: format!("{idle} is already scaled down to 0 replicas"),
        });
    }
    if !req.force {
        if let Some(promotion) = &state.last_promotion {
            let age = Duration::from_secs(req.now.saturating_sub(promotion.time).max(0) as u64);
            if age < req.warm {
                return Err(Refusal::WarmPeriodNotElapsed {
                    commit: promotion.commit.clone(),
                    age: HumanDuration(age),
                    warm: HumanDuration(req.warm),
                    remaining: HumanDuration(req.warm - age),
                });
            }
        }
    }
    let mut new = values.clone();
    new.color_mut(idle).replicas = 0;
    let version = display_version(spec);
    Ok(Decision::Change(Box::new(Change {
        action: Action::ScaleDown,
        description: format!(
            "{} {idle} {} → 0 replicas ({version})",
            values.app, spec.replicas
        ),
        summary: format!("scale down {idle} {version} ({}, 0 replicas)", values.app),
        image: spec.image_ref(&values.image),
        values: new,
        previous: values.live_color,
        live: values.live_color,
        color: idle,
        record_only: false,
        notes: Vec::new(),
        released: None,
        config_changes: Vec::new(),
    })))
}

/// One-line descriptions of how `new` differs from `old`, for `diff` summaries:
/// `live blue → green (api 1.5.0)`, `green 1.4.0 → 1.5.0 (api, 4 replicas)`, ...
pub fn describe_change(old: &Values, new: &Values) -> Vec<String> {
    let mut out = Vec::new();
    if old.live_color != new.live_color {
        out.push(format!(
            "live {} → {} ({} {})",
            old.live_color,
            new.live_color,
            new.app,
            display_version(new.color(new.live_color))
        ));
    }
    for c in Color::ALL {
        let (a, b) = (old.color(c), new.color(c));
        if a.tag != b.tag || a.digest != b.digest {
            out.push(format!(
                "{c} {} → {} ({}, {} replicas)",
                display_version(a),
                display_version(b),
                new.app,
                b.replicas
            ));
        } else if a.replicas != b.replicas {
            out.push(format!(
                "{c} replicas {} → {} ({} {})",
                a.replicas,
                b.replicas,
                new.app,
                display_version(b)
            ));
        }
    }
    // What is neither a colour's release nor its configuration is shared: it applies to live
    // traffic at once (configuration waits for a stage, see [`unreleased`]).
    let shared = |v: &Values| {
        let serde_json::Value::Object(mut all) =
            serde_json::to_value(v).expect("values serialize to JSON")
        else {
            unreachable!("values serialize to an object")
        };
        all.retain(|key, _| {
            !crate::values::CONFIG_KEYS.contains(&key.as_str())
                && !matches!(key.as_str(), "liveColor" | "blue" | "green")
        });
        all
    };
    if shared(old) != shared(new) {
        out.push(format!(
            "shared settings of {} changed (they apply to live traffic at once)",
            new.app
        ));
    }
    out
}

fn check_can_serve(values: &Values, color: Color) -> Result<(), Refusal> {
    let spec = values.color(color);
    if spec.image_ref(&values.image).is_none() {
        return Err(Refusal::NoImage { color });
    }
    if spec.replicas == 0 {
        return Err(Refusal::NoReplicas {
            color,
            restage: restage_option(spec),
        });
    }
    Ok(())
}

fn flip(values: &Values, action: Action) -> Change {
    let from = values.live_color;
    let to = from.other();
    let mut new = values.clone();
    new.live_color = to;
    let version = display_version(values.color(to));
    Change {
        action,
        description: format!("{} {from} → {to} ({version})", values.app),
        summary: format!("live {from} → {to} ({} {version})", values.app),
        image: values.color(to).image_ref(&values.image),
        values: new,
        previous: from,
        live: to,
        color: to,
        record_only: false,
        notes: Vec::new(),
        released: None,
        config_changes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::config_of;

    /// `stage` where both colours run, and values hold, one configuration.
    fn stage_current(
        values: &Values,
        state: &ReleaseState,
        req: &StageRequest,
    ) -> Result<Decision, Refusal> {
        let config = config_of(values);
        stage(values, state, &Released::both(config.clone()), &config, req)
    }

    fn values() -> Values {
        crate::values::parse(
            "values.yaml",
            "app: api\nnamespace: shop\nliveColor: blue\nimage: registry.example.com/api\n\
             blue: { tag: \"1.4.0\", replicas: 4 }\ngreen: { tag: \"1.3.0\", replicas: 0 }\n\
             port: 8080\nreadinessProbe: { path: /healthz }\n",
        )
        .unwrap()
    }

    fn record(action: Action, live: Color, image: &str, time: i64) -> RecordedAction {
        RecordedAction {
            action,
            live,
            previous: Some(match action {
                Action::Promote | Action::Rollback => live.other(),
                _ => live,
            }),
            image: Some(image.to_owned()),
            commit: format!("c-{}", action.as_str()),
            time,
        }
    }

    fn change(d: Decision) -> Change {
        match d {
            Decision::Change(c) => *c,
            Decision::NoChange { message } => panic!("expected a change, got no-op: {message}"),
        }
    }

    fn staged_state(v: &Values) -> ReleaseState {
        let c = v.idle_color();
        ReleaseState {
            last_transition: Some(record(
                Action::Stage,
                v.live_color,
                &v.color(c).image_ref(&v.image).unwrap(),
                100,
            )),
            last_promotion: None,
        }
    }

    fn tag(t: &str) -> StageRequest {
        StageRequest {
            version: Some(ImageVersion::Tag(t.into())),
            color: None,
        }
    }

    #[test]
    fn stage_sets_idle_image_and_prescales() {
        let v = values();
        let c = change(stage_current(&v, &ReleaseState::default(), &tag("1.5.0")).unwrap());
        assert_eq!(c.values.green.tag.as_deref(), Some("1.5.0"));
        assert_eq!(c.values.green.replicas, 4);
        assert_eq!(c.values.blue, v.blue);
        assert_eq!(c.values.live_color, Color::Blue);
        assert_eq!(c.image.as_deref(), Some("registry.example.com/api:1.5.0"));
        assert_eq!(
            c.subject("prod"),
            "stage(prod): api green 1.3.0 → 1.5.0 (4 replicas)"
        );
        assert!(!c.record_only);
    }

    #[test]
    fn stage_digest_replaces_tag() {
        let v = values();
        let d = format!("sha256:{}", "a".repeat(64));
        let req = StageRequest {
            version: Some(ImageVersion::Digest(d.clone().into())),
            color: None,
        };
        let c = change(stage_current(&v, &ReleaseState::default(), &req).unwrap());
        assert_eq!(c.values.green.digest.as_deref(), Some(d.as_str()));
        assert_eq!(c.values.green.tag, None);
        assert!(c.description.contains("sha256:aaaaaaaaaaaa ("));
    }

    #[test]
    fn stage_into_live_colour_is_refused() {
        let v = values();
        let req = StageRequest {
            version: Some(ImageVersion::Tag("2".into())),
            color: Some(Color::Blue),
        };
        assert_eq!(
            stage_current(&v, &ReleaseState::default(), &req),
            Err(Refusal::TargetIsLive { color: Color::Blue })
        );
    }

    #[test]
    fn stage_same_image_twice_is_a_no_op_but_restage_after_promotion_records() {
        let mut v = values();
        v.green = ColorSpec {
            tag: Some("1.5.0".into()),
            digest: None,
            replicas: 4,
        };
        let staged = staged_state(&v);
        assert!(matches!(
            stage_current(&v, &staged, &tag("1.5.0")),
            Ok(Decision::NoChange { .. })
        ));
        // Same values, but the last transition was a rollback away from green: staging again
        // must record a new stage so that promote accepts it.
        let rolled_back = ReleaseState {
            last_transition: Some(record(
                Action::Rollback,
                Color::Blue,
                "registry.example.com/api:1.4.0",
                5,
            )),
            last_promotion: None,
        };
        let c = change(stage_current(&v, &rolled_back, &tag("1.5.0")).unwrap());
        assert!(c.record_only);
    }

    #[test]
    fn release_tag_parses_version_and_colour() {
        let r = StageRequest::from_release_tag("v2.0-green").unwrap();
        assert_eq!(r.version, Some(ImageVersion::Tag("v2.0".into())));
        assert_eq!(r.color, Some(Color::Green));
        let r = StageRequest::from_release_tag("1.0-rc-1-blue").unwrap();
        assert_eq!(r.version, Some(ImageVersion::Tag("1.0-rc-1".into())));
        for bad in ["v2.0", "v2.0-red", "-green", "green", "v:2-green"] {
            let err = StageRequest::from_release_tag(bad).unwrap_err();
            assert!(
                err.message
                    .starts_with(&format!("`{bad}` is not a valid release tag")),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn promote_flips_only_live_color() {
        let mut v = values();
        v.green = ColorSpec {
            tag: Some("1.5.0".into()),
            digest: None,
            replicas: 4,
        };
        let c = change(promote(&v, &staged_state(&v), &PromoteRequest::default()).unwrap());
        let mut expected = v.clone();
        expected.live_color = Color::Green;
        assert_eq!(c.values, expected);
        assert_eq!(
            c.subject("production"),
            "promote(production): api blue → green (1.5.0)"
        );
        assert_eq!(c.summary, "live blue → green (api 1.5.0)");
        assert_eq!((c.previous, c.live), (Color::Blue, Color::Green));
    }

    #[test]
    fn promote_guards() {
        let mut v = values();
        // Idle green has replicas 0.
        assert_eq!(
            promote(&v, &staged_state(&v), &PromoteRequest::default()),
            Err(Refusal::NoReplicas {
                color: Color::Green,
                restage: Some("--tag 1.3.0".into())
            })
        );
        // Its hint stages what it holds again, in the environment named.
        let err = promote(&v, &staged_state(&v), &PromoteRequest::default()).unwrap_err();
        assert_eq!(
            err.hint("production").unwrap(),
            "stage it again, which scales green up to the live replicas: greenlight stage \
             production --tag 1.3.0"
        );
        v.green = ColorSpec {
            tag: None,
            digest: None,
            replicas: 0,
        };
        assert_eq!(
            promote(&v, &ReleaseState::default(), &PromoteRequest::default()),
            Err(Refusal::NoImage {
                color: Color::Green
            })
        );
        v.green = ColorSpec {
            tag: Some("1.5.0".into()),
            digest: None,
            replicas: 4,
        };
        let st = staged_state(&v);
        let expect_green = PromoteRequest {
            expect_live: Some(Color::Green),
            expect_tag: None,
        };
        assert_eq!(
            promote(&v, &st, &expect_green),
            Err(Refusal::ExpectedLiveMismatch {
                expected: Color::Green,
                actual: Color::Blue
            })
        );
        let expect_tag = PromoteRequest {
            expect_live: Some(Color::Blue),
            expect_tag: Some("1.6.0".into()),
        };
        assert_eq!(
            promote(&v, &st, &expect_tag),
            Err(Refusal::ExpectedTagMismatch {
                color: Color::Green,
                expected: "1.6.0".into(),
                actual: "1.5.0".into()
            })
        );
        // Not staged: no history at all.
        assert!(matches!(
            promote(&v, &ReleaseState::default(), &PromoteRequest::default()),
            Err(Refusal::NotStaged { .. })
        ));
        // Staged image differs from what green holds now (edited by hand since).
        let mut other = st.clone();
        other.last_transition.as_mut().unwrap().image = Some("registry.example.com/api:9".into());
        assert!(matches!(
            promote(&v, &other, &PromoteRequest::default()),
            Err(Refusal::NotStaged { .. })
        ));
    }

    #[test]
    fn promote_twice_is_a_no_op_and_never_flips_back() {
        let mut v = values();
        v.green = ColorSpec {
            tag: Some("1.5.0".into()),
            digest: None,
            replicas: 4,
        };
        let first = change(promote(&v, &staged_state(&v), &PromoteRequest::default()).unwrap());
        let after = ReleaseState {
            last_transition: Some(record(
                Action::Promote,
                Color::Green,
                "registry.example.com/api:1.5.0",
                200,
            )),
            last_promotion: None,
        };
        let again = promote(&first.values, &after, &PromoteRequest::default()).unwrap();
        match again {
            Decision::NoChange { message } => {
                assert!(message.contains("green (1.5.0) is already live"))
            }
            other => panic!("{other:?}"),
        }
        let req = |live: Option<Color>, tag: Option<&str>| PromoteRequest {
            expect_live: live,
            expect_tag: tag.map(str::to_owned),
        };
        let no_op = |r: &PromoteRequest| match promote(&first.values, &after, r) {
            Ok(Decision::NoChange { message }) => message,
            other => panic!("{r:?}: expected a no-op, got {other:?}"),
        };
        // A re-run of the job that promoted (its guards describe that promotion: from blue,
        // to 1.5.0) finds its work done, with one guard or both.
        for r in [
            req(Some(Color::Blue), Some("1.5.0")),
            req(Some(Color::Blue), None),
            req(None, Some("1.5.0")),
        ] {
            assert!(no_op(&r).contains("green (1.5.0) is already live, promoted in c-promote"));
        }
        // Anything else still refuses: another version was expected ...
        assert_eq!(
            promote(
                &first.values,
                &after,
                &req(Some(Color::Blue), Some("1.6.0"))
            ),
            Err(Refusal::ExpectedLiveMismatch {
                expected: Color::Blue,
                actual: Color::Green
            })
        );
        assert!(matches!(
            promote(&first.values, &after, &req(None, Some("1.6.0"))),
            Err(Refusal::ExpectedTagMismatch {
                color: Color::Green,
                ..
            })
        ));
        // ... or a promotion from green (whose idle blue is the warm previous release).
        assert!(matches!(
            promote(&first.values, &after, &req(Some(Color::Green), None)),
            Err(Refusal::NotStaged {
                color: Color::Blue,
                ..
            })
        ));
        // The newest action is not that promotion (a rollback came after it): refused.
        let rolled_back = ReleaseState {
            last_transition: Some(record(
                Action::Rollback,
                Color::Blue,
                "registry.example.com/api:1.4.0",
                300,
            )),
            last_promotion: None,
        };
        let mut back = first.values.clone();
        back.live_color = Color::Blue;
        assert!(matches!(
            promote(&back, &rolled_back, &req(Some(Color::Blue), Some("1.5.0"))),
            Err(Refusal::NotStaged { .. })
        ));
    }

    #[test]
    fn a_digest_mismatch_shows_both_digests_in_full() {
        let mut v = values();
        let held = format!("sha256:{}", "a".repeat(64));
        let wanted = format!("sha256:{}", "b".repeat(64));
        v.green = ColorSpec {
            tag: None,
            digest: Some(held.clone().into()),
            replicas: 4,
        };
        let r = PromoteRequest {
            expect_live: None,
            expect_tag: Some(wanted.clone()),
        };
        let err = promote(&v, &staged_state(&v), &r).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("expected green to hold `{wanted}`, but it holds `{held}`")
        );
    }

    #[test]
    fn promote_after_rollback_needs_a_new_stage() {
        let mut v = values();
        v.green = ColorSpec {
            tag: Some("1.5.0".into()),
            digest: None,
            replicas: 4,
        };
        let st = ReleaseState {
            last_transition: Some(record(
                Action::Rollback,
                Color::Blue,
                "registry.example.com/api:1.4.0",
                300,
            )),
            last_promotion: None,
        };
        match promote(&v, &st, &PromoteRequest::default()) {
            Err(Refusal::NotStaged { reason, .. }) => assert!(reason.contains("rolled back")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rollback_rules() {
        let mut v = values();
        v.live_color = Color::Green;
        v.green = ColorSpec {
            tag: Some("1.5.0".into()),
            digest: None,
            replicas: 4,
        };
        v.blue.replicas = 4;
        let promoted = ReleaseState {
            last_transition: Some(record(
                Action::Promote,
                Color::Green,
                "registry.example.com/api:1.5.0",
                10,
            )),
            last_promotion: None,
        };
        let c = change(rollback(&v, &promoted).unwrap());
        assert_eq!(c.values.live_color, Color::Blue);
        assert_eq!(
            c.subject("prod"),
            "rollback(prod): api green → blue (1.4.0)"
        );

        // Twice: a no-op, never back to the bad release.
        let rolled = ReleaseState {
            last_transition: Some(record(
                Action::Rollback,
                Color::Blue,
                "registry.example.com/api:1.4.0",
                20,
            )),
            last_promotion: None,
        };
        assert!(matches!(
            rollback(&c.values, &rolled),
            Ok(Decision::NoChange { .. })
        ));
        // Previous colour scaled down.
        let mut cold = v.clone();
        cold.blue.replicas = 0;
        assert_eq!(
            rollback(&cold, &promoted),
            Err(Refusal::NoReplicas {
                color: Color::Blue,
                restage: Some("--tag 1.4.0".into())
            })
        );
        // No history, or a stage in the idle colour: nothing to roll back to.
        assert!(matches!(
            rollback(&v, &ReleaseState::default()),
            Err(Refusal::NothingToRollBack { .. })
        ));
        assert!(matches!(
            rollback(&v, &staged_state(&v)),
            Err(Refusal::NothingToRollBack { .. })
        ));
    }

    #[test]
    fn describes_changes_in_one_line_each() {
        let old = values();
        let mut new = old.clone();
        assert!(describe_change(&old, &new).is_empty());
        new.live_color = Color::Green;
        new.green.replicas = 4;
        new.blue.tag = Some("1.6.0".into());
        // Configuration is not shared: it waits for a stage (see `unreleased`).
        new.port = 9090;
        assert_eq!(
            describe_change(&old, &new),
            [
                "live blue → green (api 1.3.0)",
                "blue 1.4.0 → 1.6.0 (api, 4 replicas)",
                "green replicas 0 → 4 (api 1.3.0)",
            ]
        );
        new.service_port = Some(8081);
        assert_eq!(
            describe_change(&old, &new)[3],
            "shared settings of api changed (they apply to live traffic at once)"
        );
    }

    #[test]
    fn scale_down_respects_warm_period() {
        let mut v = values();
        v.green.replicas = 4;
        let st = ReleaseState {
            last_transition: None,
            last_promotion: Some(record(
                Action::Promote,
                Color::Blue,
                "registry.example.com/api:1.4.0",
                1_000,
            )),
        };
        let warm = Duration::from_secs(30 * 60);
        let early = ScaleDownRequest {
            force: false,
            warm,
            now: 1_000 + 10 * 60,
        };
        match scale_down(&v, &st, &early) {
            Err(Refusal::WarmPeriodNotElapsed { remaining, .. }) => {
                assert_eq!(remaining.0, Duration::from_secs(20 * 60));
                assert_eq!(remaining.to_string(), "20m");
            }
            other => panic!("{other:?}"),
        }
        let forced = ScaleDownRequest {
            force: true,
            ..early.clone()
        };
        let c = change(scale_down(&v, &st, &forced).unwrap());
        assert_eq!(c.values.green.replicas, 0);
        assert_eq!(c.values.blue, v.blue);
        let late = ScaleDownRequest {
            now: 1_000 + 30 * 60,
            ..early
        };
        let c = change(scale_down(&v, &st, &late).unwrap());
        assert_eq!(
            c.subject("prod"),
            "scale-down(prod): api green 4 → 0 replicas (1.3.0)"
        );
        assert!(matches!(
            scale_down(&c.values, &st, &late),
            Ok(Decision::NoChange { .. })
        ));
    }

    #[test]
    fn required_statuses_refuse_with_state_commit_and_context() {
        use crate::gate::{judge, Evidence, Report, Source};
        let ctx = |c: &str| c.to_owned();
        let contexts = vec![ctx("kustomization/api-production"), ctx("smoke")];
        let stage = "a".repeat(40);
        let later = "b".repeat(40);
        let evidence = [
            Evidence {
                commit: later.clone(),
                reports: vec![Report {
                    context: ctx("kustomization/api-production"),
                    state: State::Pending,
                    source: Source::Status,
                    detail: "pending".into(),
                }],
            },
            Evidence {
                commit: stage.clone(),
                reports: vec![Report {
                    context: ctx("kustomization/api-production"),
                    state: State::Success,
                    source: Source::Status,
                    detail: "success".into(),
                }],
            },
        ];
        let scope = |oldest: &str, commits| StatusScope {
            stage_commit: "aaaaaaaaaaaa".into(),
            oldest: oldest.into(),
            commits,
        };
        let err = require_statuses(
            Color::Green,
            scope("aaaaaaaaaaaa", 2),
            judge(&contexts, &evidence),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the forge does not report success for the release staged in green: \
             `kustomization/api-production` is pending on bbbbbbbbbbbb; `smoke` has no status \
             yet (looked at aaaaaaaaaaaa, which staged it, and 1 later commit that holds it)"
        );
        assert_eq!(
            err.hint("production").unwrap(),
            "wait until the cluster and CI report on it: greenlight wait production --status \
             kustomization/api-production --status smoke --timeout 10m"
        );
        // A failure is final: the hint says so instead of waiting.
        let failed = require_statuses(
            Color::Green,
            scope("aaaaaaaaaaaa", 1),
            judge(
                &contexts[1..],
                &[Evidence {
                    commit: stage,
                    reports: vec![Report {
                        context: ctx("smoke"),
                        state: State::Failure,
                        source: Source::CheckRun,
                        detail: "timed_out".into(),
                    }],
                }],
            ),
        )
        .unwrap_err();
        assert!(failed
            .to_string()
            .ends_with("`smoke` is failure on aaaaaaaaaaaa (check run: timed_out) (looked at aaaaaaaaaaaa, which staged it)"));
        assert!(failed.hint("qa").unwrap().contains("did not pass"));
        // Every context a success: the guard passes.
        let ok = judge(
            &contexts[..1],
            &[Evidence {
                commit: "c".repeat(40),
                reports: vec![Report {
                    context: ctx("kustomization/api-production"),
                    state: State::Success,
                    source: Source::Status,
                    detail: "success".into(),
                }],
            }],
        );
        assert_eq!(
            require_statuses(Color::Blue, scope("aaaaaaaaaaaa", 1), ok.clone()),
            Ok(())
        );
        // The stage commit was not asked about (a later commit changed the staged release).
        let changed = StatusScope {
            stage_commit: "aaaaaaaaaaaa".into(),
            oldest: "dddddddddddd".into(),
            commits: 2,
        };
        let mut pending = ok;
        pending[0].state = Some(State::Pending);
        let err = require_statuses(Color::Blue, changed, pending).unwrap_err();
        assert!(
            err.to_string().ends_with(
                "(looked at the 2 newest commits that hold it, down to dddddddddddd; staged in \
                 aaaaaaaaaaaa)"
            ),
            "{err}"
        );
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
