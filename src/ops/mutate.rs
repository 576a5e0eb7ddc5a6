//! The release commands end to end: read values and history at the branch tip, let `release`
//! decide, edit the values text, render, diff, and commit values and manifests together.

use std::collections::BTreeMap;

use super::{
    load_values, mark_live_now, render_env, rendered_files, templates, CommitTree, Outcome,
    ReleaseReport, SCHEMA_VERSION,
};
use crate::diff::{self, Diff};
use crate::history::{self, Trailers};
use crate::release::{self, Action, Decision, PromoteRequest, ScaleDownRequest, StageRequest};
use crate::repo::{CommitRequest, Oid, Repo};
use crate::values::{self, Color};
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
    /// `reconfigure`: both colours take the current configuration in place.
    Reconfigure,
}

impl ReleaseCommand {
    pub(super) fn action(&self) -> Action {
        match self {
            ReleaseCommand::Stage(_) => Action::Stage,
            ReleaseCommand::Promote(_) => Action::Promote,
            ReleaseCommand::Rollback => Action::Rollback,
            ReleaseCommand::ScaleDown(_) => Action::ScaleDown,
            ReleaseCommand::Reconfigure => Action::Reconfigure,
        }
    }
}

/// One release command evaluated on one commit: the report, and the commit to write.
pub(super) struct Planned {
    /// What happened (outcome `no-change` or `dry-run` when there is nothing to commit, else
    /// `committed` with no commit id yet).
    pub report: ReleaseReport,
    /// The commit to write, unless there is nothing to commit.
    pub commit: Option<PlannedCommit>,
    /// The action, colour and version the change concerns (for default branch names).
    pub concerns: Option<(Action, Color, String)>,
}

/// The content of a release commit, before it is tied to a branch.
pub(super) struct PlannedCommit {
    changes: BTreeMap<String, Option<Vec<u8>>>,
    message: String,
    allow_empty: bool,
}

impl PlannedCommit {
    /// The commit request for `refname`, computed from `tip`.
    pub fn request(&self, refname: &str, tip: Oid, update_worktree: bool) -> CommitRequest {
        CommitRequest {
            refname: refname.to_owned(),
            expected_old: Some(tip),
            changes: self.changes.clone(),
            message: self.message.clone(),
            update_worktree,
            allow_empty: self.allow_empty,
        }
    }
}

/// Evaluates one release command on `env` at commit `tip` (which `refname` is reported as):
/// reads values and history there, lets `release` decide, edits the values text, renders
/// and diffs. Writes nothing.
pub(super) fn plan(
    repo: &Repo,
    refname: &str,
    tip: Oid,
    env: &str,
    command: &ReleaseCommand,
    dry_run: bool,
) -> anyhow::Result<Planned> {
    let action = command.action();
    let tree = CommitTree::new(repo, tip);
    if let Some(workdir) = repo.workdir() {
        workspace::check_inside(workdir, env)?;
    }
    workspace::select(&tree, &[env.to_owned()], false)?;
    let loaded = load_values(&tree, env)?;
    let state = history::guard_state(repo, tip, env, action)?;
    let v = &loaded.values;
    let config = values::config_of(&loaded.current);
    let decision = match command {
        ReleaseCommand::Stage(r) => release::stage(v, &state, &loaded.released, &config, r),
        ReleaseCommand::Promote(r) => release::promote(v, &state, r),
        ReleaseCommand::Rollback => release::rollback(v, &state),
        ReleaseCommand::ScaleDown(r) => release::scale_down(v, &state, r),
        ReleaseCommand::Reconfigure => release::reconfigure(v, &loaded.released, &config),
    }
    .map_err(|refusal| super::Refused {
        environment: env.to_owned(),
        refusal,
    })?;
    let mut report = ReleaseReport {
        schema_version: SCHEMA_VERSION,
        command: action.as_str().to_owned(),
        environment: env.to_owned(),
        outcome: Outcome::NoChange,
        message: String::new(),
        subject: None,
        commit: None,
        branch: refname.to_owned(),
        previous_live: v.live_color,
        live: v.live_color,
        image: None,
        diff: Diff::default(),
        push: None,
        pull_request: None,
        notes: Vec::new(),
        config_changes: Vec::new(),
    };
    let change = match decision {
        Decision::NoChange { message } => {
            report.message = message;
            return Ok(Planned {
                report,
                commit: None,
                concerns: None,
            });
        }
        Decision::Change(change) => change,
    };

    let templates = templates(&tree)?;
    let old_rendered = rendered_files(&tree, env)?;
    // The commit rewrites rendered/<env>/ from values: if what is committed there is not what
    // values render now (a hand edit, an uncommitted render), that would be undone silently.
    let drift = super::inspect::compare_rendered(
        &render_env(env, v, &loaded.running, &templates)?,
        &old_rendered,
    );
    if !drift.is_empty() {
        return Err(super::OpsError::RenderedDrift {
            environment: env.to_owned(),
            drift,
        }
        .into());
    }
    let new_text = if change.record_only {
        loaded.text.clone()
    } else {
        values::edit(&loaded.path, &loaded.text, &change.values)?
    };
    // A release edits only the colour blocks and `liveColor`, so the configuration (with its
    // files already read) is the one loaded.
    let mut new_current = change.values.clone();
    new_current.config_map = loaded.current.config_map.clone();
    let new_released = change.released.as_ref().unwrap_or(&loaded.released);
    let new_running = new_released.running(&new_current, env, &loaded.released_path)?;
    let new_rendered = render_env(env, &change.values, &new_running, &templates)?;

    let mut old_files = old_rendered.clone();
    old_files.insert(loaded.path.clone(), loaded.text.clone().into_bytes());
    if let Some(text) = &loaded.released_text {
        old_files.insert(loaded.released_path.clone(), text.clone().into_bytes());
    }
    let mut new_files = new_rendered.clone();
    new_files.insert(loaded.path.clone(), new_text.clone().into_bytes());
    // The record of what each colour runs, written with the first release commit of an
    // environment that has none yet (both colours on the configuration they rendered from).
    new_files.insert(
        loaded.released_path.clone(),
        new_released.to_text().into_bytes(),
    );
    let mut diff = diff::diff(&old_files, &new_files);
    mark_live_now(&mut diff, env, &change.values);

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
    report.notes = change.notes.clone();
    report.config_changes = change.config_changes.clone();
    let concerns = Some((
        action,
        change.color,
        release::display_version(change.values.color(change.color)),
    ));
    if dry_run {
        report.outcome = Outcome::DryRun;
        return Ok(Planned {
            report,
            commit: None,
            concerns,
        });
    }
    report.outcome = Outcome::Committed;

    let trailers = Trailers {
        action: action.as_str().to_owned(),
        environment: env.to_owned(),
        live: Some(change.live.to_string()),
        previous: Some(change.previous.to_string()),
        image: change.image.clone(),
        values_sha256: Some(crate::checksum::sha256_hex(new_text.as_bytes())),
    };
    let mut body = report.message.clone();
    for note in &report.notes {
        body.push_str(&format!("\n\nNote: {note}"));
    }
    let message = history::compose_message(&subject, &body, &trailers);
    Ok(Planned {
        report,
        commit: Some(PlannedCommit {
            changes,
            message,
            allow_empty: change.record_only,
        }),
        concerns,
    })
}
