//! The release commands end to end: read values and history at the branch tip, let `release`
//! decide, edit the values text, render, diff, and commit values and manifests together.

use std::collections::BTreeMap;

use super::statuses::{self, ReportSource, RequiredStatus};
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
    /// `promote`, with the status contexts the forge must report success for on the
    /// staged release (`--require-status`).
    Promote {
        /// The guards of `promote` itself.
        request: PromoteRequest,
        /// Required status contexts; none: no forge is asked.
        require_status: Vec<RequiredStatus>,
    },
    /// `rollback`.
    Rollback,
    /// `scale-down`.
    ScaleDown(ScaleDownRequest),
    /// `reconfigure`: both colours take the current configuration in place.
    Reconfigure,
}

impl ReleaseCommand {
    /// The status contexts the command requires (only `promote` has any).
    pub(super) fn required_statuses(&self) -> &[RequiredStatus] {
        match self {
            ReleaseCommand::Promote { require_status, .. } => require_status,
            _ => &[],
        }
    }

    pub(super) fn action(&self) -> Action {
        match self {
            ReleaseCommand::Stage(_) => Action::Stage,
            ReleaseCommand::Promote { .. } => Action::Promote,
            ReleaseCommand::Rollback => Action::Rollback,
            ReleaseCommand::ScaleDown(_) => Action::ScaleDown,
            ReleaseCommand::Reconfigure => Action::Reconfigure,
        }
    }
}

/// One release command evaluated on one commit for every environment it names: a report per
/// environment, and the one commit that holds all their changes.
pub(super) struct Planned {
    /// One per environment, in the order named (outcome `no-change` or `dry-run` when the
    /// environment has nothing to commit, else `committed` with no commit id yet).
    pub reports: Vec<ReleaseReport>,
    /// The commit to write, unless no environment has anything to commit.
    pub commit: Option<PlannedCommit>,
    /// What each environment that changes concerns (for default branch names).
    pub concerns: Vec<Concern>,
}

/// What a release changes in one environment: the action, the colour and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Concern {
    /// The environment.
    pub env: String,
    /// What was done.
    pub action: Action,
    /// The colour the action concerns.
    pub color: Color,
    /// That colour's version, as shown.
    pub version: String,
}

/// One environment's part of a release, planned.
pub(super) struct EnvPlan {
    report: ReleaseReport,
    commit: Option<EnvCommit>,
    concern: Option<Concern>,
}

/// One environment's part of a release commit.
struct EnvCommit {
    changes: BTreeMap<String, Option<Vec<u8>>>,
    /// `<action>(<env>): <description>`.
    subject: String,
    /// The subject without the `action(env): ` prefix.
    description: String,
    /// The summary line, `<env>: <summary>`.
    summary: String,
    /// What a reviewer should know beyond the subject.
    notes: Vec<String>,
    trailers: Trailers,
    allow_empty: bool,
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

/// Whether `err` is a guard's refusal in one environment (exit 3), which a release of several
/// environments lists with the others' rather than stopping at.
fn is_refusal(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<super::Refused>().is_some()
            || matches!(
                c.downcast_ref::<super::OpsError>(),
                Some(super::OpsError::RenderedDrift { .. })
            )
    })
}

/// Evaluates one release command on every environment of `envs` at commit `tip` (see
/// [`plan`]): every guard of every environment first, so a refusal anywhere refuses the whole
/// release (with every refusal listed); then one commit with the changes of all the
/// environments that have any, and a trailer group each. An environment with nothing to do is
/// reported as such and does not stop the others. With one environment, the commit is exactly
/// what that environment's release alone makes.
pub(super) fn plan_all(
    repo: &Repo,
    refname: &str,
    tip: Oid,
    envs: &[String],
    command: &ReleaseCommand,
    dry_run: bool,
    forge: Option<&dyn ReportSource>,
) -> anyhow::Result<Planned> {
    let mut plans = Vec::new();
    let mut refusals = Vec::new();
    for env in envs {
        match plan(repo, refname, tip, env, command, dry_run, forge) {
            Ok(p) => plans.push(p),
            Err(error) if envs.len() > 1 && is_refusal(&error) => {
                refusals.push(super::EnvRefusal {
                    environment: env.clone(),
                    error,
                })
            }
            Err(error) => return Err(error),
        }
    }
    if !refusals.is_empty() {
        return Err(super::RefusedEnvironments {
            total: envs.len(),
            refusals,
        }
        .into());
    }
    let mut reports = Vec::new();
    let mut commits = Vec::new();
    let mut concerns = Vec::new();
    for p in plans {
        reports.push(p.report);
        commits.extend(p.commit);
        concerns.extend(p.concern);
    }
    let commit = match commits.len() {
        0 => None,
        1 => {
            let only = commits.pop().expect("one commit");
            let mut body = only.summary.clone();
            for note in &only.notes {
                body.push_str(&format!("\n\nNote: {note}"));
            }
            Some(PlannedCommit {
                message: history::compose_message(&only.subject, &body, &only.trailers),
                changes: only.changes,
                allow_empty: only.allow_empty,
            })
        }
        _ => {
            let subject = shared_subject(command.action(), &commits);
            for report in reports.iter_mut().filter(|r| r.subject.is_some()) {
                report.subject = Some(subject.clone());
            }
            let mut body: Vec<String> = commits.iter().map(|c| c.summary.clone()).collect();
            for c in &commits {
                let env = &c.trailers.environment;
                body.extend(c.notes.iter().map(|n| format!("Note ({env}): {n}")));
            }
            let trailers: Vec<Trailers> = commits.iter().map(|c| c.trailers.clone()).collect();
            Some(PlannedCommit {
                message: history::compose_message_groups(&subject, &body.join("\n\n"), &trailers),
                changes: commits.iter().flat_map(|c| c.changes.clone()).collect(),
                allow_empty: commits.iter().any(|c| c.allow_empty),
            })
        }
    };
    // A dry run plans no commit, but its subject is the one the commit would have.
    if dry_run && reports.iter().filter(|r| r.subject.is_some()).count() > 1 {
        let subject = dry_subject(command.action(), &reports);
        for report in reports.iter_mut().filter(|r| r.subject.is_some()) {
            report.subject = Some(subject.clone());
        }
    }
    Ok(Planned {
        reports,
        commit,
        concerns,
    })
}

/// The subject of a commit that releases several environments:
/// `promote(production/eu, production/us): api blue → green (1.5.0)` when every environment's
/// description is the same, else the descriptions one after the other, `; ` between them;
/// shortened for many environments ([`several_subject`]).
fn shared_subject(action: Action, commits: &[EnvCommit]) -> String {
    let envs: Vec<&str> = commits
        .iter()
        .map(|c| c.trailers.environment.as_str())
        .collect();
    let descriptions: Vec<&str> = commits.iter().map(|c| c.description.as_str()).collect();
    several_subject(action, &envs, &descriptions)
}

/// [`shared_subject`] of a dry run, from the environments' own subjects.
fn dry_subject(action: Action, reports: &[ReleaseReport]) -> String {
    let mut envs = Vec::new();
    let mut descriptions: Vec<&str> = Vec::new();
    for r in reports {
        let Some(subject) = &r.subject else { continue };
        envs.push(r.environment.as_str());
        descriptions.push(
            subject
                .split_once("): ")
                .map_or(subject.as_str(), |(_, d)| d),
        );
    }
    several_subject(action, &envs, &descriptions)
}

/// How long the list of environments, and the descriptions, may grow in a subject before
/// they are shortened: `git log --oneline` and a forge's commit list stay readable when a
/// release names a hundred environments (the message body has a line for each).
const SUBJECT_PART_LIMIT: usize = 60;

/// `action(envs): descriptions`, each part shortened past [`SUBJECT_PART_LIMIT`]: the
/// environments to as many names as fit and `and N more`, descriptions that are not all the
/// same to `each described below`.
fn several_subject(action: Action, envs: &[&str], descriptions: &[&str]) -> String {
    let mut listed = envs.join(", ");
    if listed.chars().count() > SUBJECT_PART_LIMIT {
        let mut shown = vec![envs[0]];
        for env in &envs[1..] {
            let longer =
                shown.iter().map(|e| e.chars().count() + 2).sum::<usize>() + env.chars().count();
            if longer > SUBJECT_PART_LIMIT {
                break;
            }
            shown.push(env);
        }
        listed = format!("{} and {} more", shown.join(", "), envs.len() - shown.len());
    }
    let mut distinct = descriptions.to_vec();
    distinct.dedup();
    let mut described = distinct.join("; ");
    if distinct.len() > 1 && described.chars().count() > SUBJECT_PART_LIMIT {
        described = "each described below".to_owned();
    }
    format!("{action}({listed}): {described}")
}

/// Evaluates one release command on `env` at commit `tip` (which `refname` is reported as):
/// reads values and history there, lets `release` decide, asks `forge` about the staged
/// release when the command requires statuses, edits the values text, renders and diffs.
/// Writes nothing.
fn plan(
    repo: &Repo,
    refname: &str,
    tip: Oid,
    env: &str,
    command: &ReleaseCommand,
    dry_run: bool,
    forge: Option<&dyn ReportSource>,
) -> anyhow::Result<EnvPlan> {
    let action = command.action();
    let tree = CommitTree::new(repo, tip);
    if let Some(workdir) = repo.workdir() {
        workspace::check_inside(workdir, env)?;
    }
    workspace::select(&tree, &[env.to_owned()], false)?;
    let loaded = load_values(&tree, env)?;
    // Only as far back as this command's guards read (a shallow clone fetches what it walks).
    let scan = history::guard_scan(repo, tip, env, action)?;
    let state = &scan.state;
    let v = &loaded.values;
    let config = values::config_of(&loaded.current);
    let refused = |refusal| super::Refused {
        environment: env.to_owned(),
        refusal,
    };
    let decision = match command {
        ReleaseCommand::Stage(r) => release::stage(v, state, &loaded.released, &config, r),
        ReleaseCommand::Promote { request, .. } => release::promote(v, state, request),
        ReleaseCommand::Rollback => release::rollback(v, state),
        ReleaseCommand::ScaleDown(r) => release::scale_down(v, state, r),
        ReleaseCommand::Reconfigure => release::reconfigure(v, &loaded.released, &config),
    }
    .map_err(refused)?;
    // The health gate: only a promotion that would happen asks the forge (a retried promote
    // that finds its work done is a no-op whatever the statuses say).
    if let Decision::Change(change) = &decision {
        let required = command.required_statuses();
        if !required.is_empty() {
            let contexts = statuses::contexts(required, v, env)?;
            let stage = scan
                .last_transition
                .as_ref()
                .and_then(|r| Oid::from_str(&r.commit).ok())
                .expect("promote passed its guards, so history records the stage");
            let source = forge.expect("the forge is found before a gated promote is planned");
            let judged = statuses::judge_release(
                repo,
                tip,
                env,
                v.app.as_str(),
                change.color,
                stage,
                &contexts,
                source,
            )?;
            release::require_statuses(change.color, judged.scope, judged.results)
                .map_err(refused)?;
        }
    }
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
            return Ok(EnvPlan {
                report,
                commit: None,
                concern: None,
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
    let concern = Some(Concern {
        env: env.to_owned(),
        action,
        color: change.color,
        version: release::display_version(change.values.color(change.color)),
    });
    if dry_run {
        report.outcome = Outcome::DryRun;
        return Ok(EnvPlan {
            report,
            commit: None,
            concern,
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
    Ok(EnvPlan {
        commit: Some(EnvCommit {
            changes,
            subject,
            description: change.description.clone(),
            summary: report.message.clone(),
            notes: report.notes.clone(),
            trailers,
            allow_empty: change.record_only,
        }),
        report,
        concern,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_environments_are_named_in_full() {
        assert_eq!(
            several_subject(
                Action::Promote,
                &["production/eu", "production/us"],
                &["api blue → green (1.5.0)", "api blue → green (1.5.0)"]
            ),
            "promote(production/eu, production/us): api blue → green (1.5.0)"
        );
        assert_eq!(
            several_subject(Action::Stage, &["a", "b"], &["a green → 2", "b blue → 3"]),
            "stage(a, b): a green → 2; b blue → 3"
        );
    }

    #[test]
    fn many_environments_are_counted_and_their_descriptions_left_to_the_body() {
        let names: Vec<String> = (0..100).map(|i| format!("app-{i:04}/dev")).collect();
        let envs: Vec<&str> = names.iter().map(String::as_str).collect();
        let own: Vec<String> = (0..100)
            .map(|i| format!("app-{i:04} green → 9.9.9"))
            .collect();
        let own: Vec<&str> = own.iter().map(String::as_str).collect();
        let subject = several_subject(Action::Stage, &envs, &own);
        assert_eq!(
            subject,
            "stage(app-0000/dev, app-0001/dev, app-0002/dev, app-0003/dev and 96 more): \
             each described below"
        );
        let same = vec!["api blue → green (1.5.0)"; 100];
        assert_eq!(
            several_subject(Action::Promote, &envs, &same),
            "promote(app-0000/dev, app-0001/dev, app-0002/dev, app-0003/dev and 96 more): \
             api blue → green (1.5.0)"
        );
        // One name longer than the limit is still named.
        let long = "x".repeat(80);
        assert_eq!(
            several_subject(Action::Rollback, &[&long, "b"], &["r", "r"]),
            format!("rollback({long} and 1 more): r")
        );
    }
}
