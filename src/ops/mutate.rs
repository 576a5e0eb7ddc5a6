//! The release commands end to end: read values and history at the branch tip, let `release`
//! decide, edit the values text, render, diff, and commit values and manifests together.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

use super::{
    load_values, render_env, rendered_files, templates, Location, Outcome, ReleaseReport,
    SCHEMA_VERSION,
};
use crate::diff::{self, Diff};
use crate::history::{self, ReleaseRecord, Trailers};
use crate::release::{
    self, Action, Decision, PromoteRequest, RecordedAction, ReleaseState, ScaleDownRequest,
    StageRequest,
};
use crate::repo::{CommitOutcome, CommitRequest, Oid, Repo};
use crate::values;
use crate::workspace;

/// One release command with its arguments.
#[derive(Debug, Clone)]
pub enum ReleaseCommand {
    /// `stage`.
    Stage(StageRequest),
    /// `promote`.
    Promote(PromoteRequest),
    /// `rollback`.
    Rollback,
    /// `scale-down`.
    ScaleDown(ScaleDownRequest),
}

impl ReleaseCommand {
    fn action(&self) -> Action {
        match self {
            ReleaseCommand::Stage(_) => Action::Stage,
            ReleaseCommand::Promote(_) => Action::Promote,
            ReleaseCommand::Rollback => Action::Rollback,
            ReleaseCommand::ScaleDown(_) => Action::ScaleDown,
        }
    }
}

/// What one walk of an environment's history yields: the guards' state and the full record
/// of the newest promotion (for `status`).
pub struct HistoryScan {
    /// The state the release guards need.
    pub state: ReleaseState,
    /// The newest promotion, as recorded.
    pub last_promotion: Option<ReleaseRecord>,
}

/// Reads the release state of `env` from the commit trailers reachable from `tip`: the newest
/// stage/promote/rollback and the newest promotion. Stops walking once both are known.
pub fn scan_history(repo: &Repo, tip: Oid, env: &str) -> anyhow::Result<HistoryScan> {
    let mut state = ReleaseState::default();
    let mut last_promotion = None;
    for record in history::records(repo, tip, Some(env))? {
        let record = record?;
        let Some(action) = Action::parse(&record.action) else {
            continue;
        };
        let Some(live) = record.live.as_deref().and_then(|l| l.parse().ok()) else {
            continue;
        };
        let recorded = RecordedAction {
            action,
            live,
            image: record.image.clone(),
            commit: super::short(&record.commit),
            time: record.time,
        };
        if state.last_transition.is_none() && action != Action::ScaleDown {
            state.last_transition = Some(recorded.clone());
        }
        if state.last_promotion.is_none() && action == Action::Promote {
            state.last_promotion = Some(recorded);
            last_promotion = Some(record);
        }
        if state.last_transition.is_some() && state.last_promotion.is_some() {
            break;
        }
    }
    Ok(HistoryScan {
        state,
        last_promotion,
    })
}

/// Runs one release command on `env` at the branch tip and commits the result (unless
/// `dry_run`). Guard refusals come back as [`release::Refusal`] errors.
pub fn release(
    location: Location,
    env: &str,
    command: &ReleaseCommand,
    dry_run: bool,
) -> anyhow::Result<ReleaseReport> {
    let action = command.action();
    let git = location.git(action.as_str())?;
    let tree = git.tip_tree()?;
    workspace::select(&tree, &[env.to_owned()], false)?;
    if let Some(workdir) = git.repo.workdir() {
        workspace::check_inside(workdir, env)?;
    }
    let loaded = load_values(&tree, env)?;
    let tip = git.tip.expect("tip_tree checked the branch has a commit");
    let state = scan_history(&git.repo, tip, env)?.state;
    let v = &loaded.values;
    let decision = match command {
        ReleaseCommand::Stage(r) => release::stage(v, &state, r)?,
        ReleaseCommand::Promote(r) => release::promote(v, &state, r)?,
        ReleaseCommand::Rollback => release::rollback(v, &state)?,
        ReleaseCommand::ScaleDown(r) => release::scale_down(v, &state, r)?,
    };
    let mut report = ReleaseReport {
        schema_version: SCHEMA_VERSION,
        command: action.as_str().to_owned(),
        environment: env.to_owned(),
        outcome: Outcome::NoChange,
        message: String::new(),
        subject: None,
        commit: None,
        branch: git.refname.clone(),
        previous_live: v.live_color,
        live: v.live_color,
        image: None,
        diff: Diff::default(),
    };
    let change = match decision {
        Decision::NoChange { message } => {
            report.message = message;
            return Ok(report);
        }
        Decision::Change(change) => change,
    };

    let new_text = if change.record_only {
        loaded.text.clone()
    } else {
        values::edit(&loaded.path, &loaded.text, &change.values)?
    };
    let templates = templates(&tree)?;
    let new_rendered = render_env(env, &change.values, &templates)?;
    let old_rendered = rendered_files(&tree, env)?;

    let mut old_files = old_rendered.clone();
    old_files.insert(loaded.path.clone(), loaded.text.clone().into_bytes());
    let mut new_files = new_rendered.clone();
    new_files.insert(loaded.path.clone(), new_text.clone().into_bytes());
    let diff = diff::diff(&old_files, &new_files);

    let mut changes: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
    for (path, bytes) in &new_files {
        if old_files.get(path) != Some(bytes) {
            changes.insert(path.clone(), Some(bytes.clone()));
        }
    }
    for path in old_rendered.keys() {
        if !new_rendered.contains_key(path) {
            changes.insert(path.clone(), None);
        }
    }

    let subject = change.subject(env);
    report.message = format!("{env}: {}", change.summary);
    report.subject = Some(subject.clone());
    report.live = change.live;
    report.image = change.image.clone();
    report.diff = diff;
    if dry_run {
        report.outcome = Outcome::DryRun;
        return Ok(report);
    }

    let trailers = Trailers {
        action: action.as_str().to_owned(),
        environment: env.to_owned(),
        live: Some(change.live.to_string()),
        previous: Some(change.previous.to_string()),
        image: change.image.clone(),
        values_sha256: Some(hex_sha256(new_text.as_bytes())),
    };
    let message = format!(
        "{subject}\n\n{}\n\n{}",
        report.message,
        history::format_trailers(&trailers)
    );
    let outcome = git.repo.commit(&CommitRequest {
        refname: git.refname.clone(),
        expected_old: Some(tip),
        changes,
        message,
        update_worktree: true,
        allow_empty: change.record_only,
    })?;
    match outcome {
        CommitOutcome::Committed { id, .. } => {
            report.outcome = Outcome::Committed;
            report.commit = Some(id.to_string());
        }
        CommitOutcome::NoChange => {
            report.message = format!("{env}: values and manifests already up to date");
        }
    }
    Ok(report)
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn hex_sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
