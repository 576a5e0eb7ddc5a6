//! Release commands that leave the machine: commit on the current branch or a new release
//! branch, push without force, and when the remote moved meanwhile, fetch and compute the
//! *same command* again on the new tip — every guard re-evaluated, so a concurrent promotion
//! turns `--expect-live` into a refusal instead of being overwritten — with bounded, jittered
//! retries.
//!
//! The local branch only moves once the remote took the commit (or at once, without
//! `--push`), and only forward: a checkout whose branch has commits the remote lacks is never
//! rewritten. Nothing here prints; progress goes to `tracing`.

use std::time::Duration;

use anyhow::Context as _;

use std::path::PathBuf;

use super::mutate::{plan_all, Concern};
use super::statuses::ReportSource;
use super::{
    load_values, mark_live_now_in, rendered_files, CommitTree, GitLocation, Location,
    MultiReleaseReport, Outcome, Progress, PullRequestReport, PushReport, ReleaseCommand,
    ReleaseReport, Released,
};
use crate::diff::{self, Diff};
use crate::error::{Class, Classified};
use crate::forge::{self, ForgeKind, PrSummary, PullRequestSpec};
use crate::release::Action;
use crate::render::FileMap;
use crate::repo::transport::{looks_like_url, PushStatus, Transport};
use crate::repo::Oid;
use crate::values::Color;
use crate::values::Values;

/// The default number of retries after the remote rejected a push as non-fast-forward.
pub const DEFAULT_RETRIES: u32 = 5;

/// Which branch a release commit goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BranchChoice {
    /// The current branch (the checked-out one, or the clone's default branch).
    Current,
    /// A release branch named after the change: `greenlight/<env>/<action>-<color>-<version>`.
    Default,
    /// A release branch with this (short) name.
    Named(String),
}

/// Where a release commit goes besides the local repository.
#[derive(Debug, Clone)]
pub struct Publish {
    /// The branch to commit on.
    pub branch: BranchChoice,
    /// Push the branch to `remote`.
    pub push: bool,
    /// The remote's name (`origin` by default).
    pub remote: String,
    /// Retries after a non-fast-forward rejection.
    pub retries: u32,
    /// Open (or reuse) a pull request for the release branch after pushing it.
    pub open_pr: bool,
    /// How to reach the forge (for `open_pr` and required statuses).
    pub forge: ForgeOptions,
    /// Write the pull request body here (for `gh pr create --body-file`).
    pub pr_body_file: Option<PathBuf>,
}

/// How to reach the forge (`--open-pr`, `--require-status`, `wait`) when the remote URL does
/// not tell.
#[derive(Debug, Clone, Default)]
pub struct ForgeOptions {
    /// The forge, when the remote URL does not tell.
    pub forge: Option<ForgeKind>,
    /// The API base URL, for self-hosted forges.
    pub api_url: Option<String>,
}

impl Default for Publish {
    fn default() -> Self {
        Publish {
            branch: BranchChoice::Current,
            push: false,
            remote: "origin".to_owned(),
            retries: DEFAULT_RETRIES,
            open_pr: false,
            forge: ForgeOptions::default(),
            pr_body_file: None,
        }
    }
}

/// Why a release could not be published. (Transport failures are
/// [`crate::repo::transport::TransportError`]s.)
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The remote kept moving: every attempt was rejected as non-fast-forward.
    #[error(
        "{remote} rejected every push of {branch} ({attempts} {}): others kept pushing first",
        if *attempts == 1 { "attempt" } else { "attempts" }
    )]
    RetriesExhausted {
        /// The remote.
        remote: String,
        /// The branch.
        branch: String,
        /// How many pushes were tried.
        attempts: u32,
    },
    /// The remote refused the update for a reason retrying cannot fix.
    #[error("{remote} refused the push of {branch}: {reason}")]
    Rejected {
        /// The remote.
        remote: String,
        /// The branch.
        branch: String,
        /// What the remote said.
        reason: String,
    },
    /// `--remote` named a URL in a checkout, where a configured remote is needed.
    #[error("--remote {remote}: in a checkout, name a configured remote (see `git remote -v`)")]
    RemoteNotNamed {
        /// What was given.
        remote: String,
    },
    /// The default release branch name would not be a valid git branch name.
    #[error("{name:?} is not a valid branch name")]
    InvalidBranch {
        /// The name.
        name: String,
    },
    /// `--open-pr` on the current branch: a pull request needs a release branch.
    #[error("--open-pr needs a release branch, and {branch} is the branch it would merge into")]
    PullRequestOnBase {
        /// The current branch.
        branch: String,
    },
    /// `--push` from a checkout whose branch has commits the remote lacks: pushing would
    /// publish them with the release, unreviewed.
    #[error(
        "{branch} has {ahead} {} that {remote}/{branch} lacks; a release push would publish {}",
        if *ahead == 1 { "commit" } else { "commits" },
        if *ahead == 1 { "it" } else { "them" }
    )]
    UnpushedCommits {
        /// The remote.
        remote: String,
        /// The current branch.
        branch: String,
        /// How many commits the remote lacks.
        ahead: usize,
    },
    /// `--push` to a remote that does not have the current branch at all.
    #[error("{remote} has no branch {branch}; a release push would publish all of its history")]
    RemoteLacksBranch {
        /// The remote.
        remote: String,
        /// The current branch.
        branch: String,
    },
    /// The branch was deleted on the remote while greenlight was retrying.
    #[error("{remote} no longer has a branch {branch}")]
    BranchGone {
        /// The remote.
        remote: String,
        /// The branch.
        branch: String,
    },
}

impl Classified for PublishError {
    fn class(&self) -> Class {
        match self {
            PublishError::RetriesExhausted { .. }
            | PublishError::UnpushedCommits { .. }
            | PublishError::RemoteLacksBranch { .. } => Class::Conflict,
            _ => Class::Usage,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            PublishError::RetriesExhausted { .. } => {
                "run the command again (raise --push-retries when many pipelines push to the \
                 same branch at once)"
                    .to_owned()
            }
            PublishError::Rejected { .. } => {
                "the remote's rules (a hook, branch protection) refused the commit: push to a \
                 release branch with --branch and open a pull request (--open-pr) instead"
                    .to_owned()
            }
            PublishError::RemoteNotNamed { .. } => {
                "add it with `git remote add NAME URL`, or use --clone URL to work in a \
                 temporary clone"
                    .to_owned()
            }
            PublishError::InvalidBranch { .. } => "name the branch with --branch=NAME".to_owned(),
            PublishError::BranchGone { .. } => "run the command again".to_owned(),
            PublishError::UnpushedCommits { remote, branch, .. } => format!(
                "see them with `git log {remote}/{branch}..{branch}`; get them reviewed and \
                 pushed (or drop them: `git reset --keep {remote}/{branch}`), then run the \
                 command again"
            ),
            PublishError::RemoteLacksBranch { remote, branch } => format!(
                "push {branch} yourself once it is reviewed (`git push -u {remote} {branch}`), \
                 or name the remote's branch with --clone URL"
            ),
            PublishError::PullRequestOnBase { .. } => {
                "leave out --branch=NAME (a release branch is named for you) or name another \
                 branch"
                    .to_owned()
            }
        })
    }
}

/// Runs one release command on every environment of `envs` and publishes it as `publish` asks:
/// every guard of every environment first, then one commit for all of them, on the current or
/// a release branch, pushed with retries (each recomputing every environment), and one pull
/// request. Guard refusals come back as [`crate::release::Refusal`] errors (several
/// environments: [`super::RefusedEnvironments`], listing each), on every attempt.
pub fn release(
    location: Location,
    envs: &[String],
    command: &ReleaseCommand,
    dry_run: bool,
    publish: &Publish,
    progress: &dyn Progress,
) -> anyhow::Result<Released> {
    if let Some(twice) = envs
        .iter()
        .enumerate()
        .find_map(|(i, e)| envs[..i].contains(e).then_some(e))
    {
        return Err(crate::error::UsageError {
            message: format!("environment {twice} is named twice"),
            hint: Some("name each environment once".to_owned()),
        }
        .into());
    }
    let git = location.git(command.action().as_str())?;
    if dry_run {
        super::warn_if_checkout_behind(&git.repo);
    } else if let Some(resumed) = git.repo.resume_checkout()? {
        tracing::warn!(
            "a greenlight run was interrupted after committing {} and before writing it to \
             the checkout; wrote its {} changed files now",
            super::short(&resumed.commit.to_string()),
            resumed.paths.len()
        );
    }
    let base_tip = git.tip_tree()?.commit_id();
    let base_branch = short_branch(&git.refname).to_owned();
    // Everything a pull request needs is checked before anything is pushed.
    let forge = match (publish.open_pr, dry_run) {
        (true, false) => {
            if let BranchChoice::Named(name) = &publish.branch {
                if *name == base_branch {
                    return Err(PublishError::PullRequestOnBase {
                        branch: base_branch,
                    }
                    .into());
                }
            }
            let url = remote_url(&git, &publish.remote)?;
            let options = &publish.forge;
            let repo = forge::detect(&url, options.forge, options.api_url.as_deref())?;
            let token = forge::token_from_env(repo.kind)?;
            Some((repo, token))
        }
        _ => None,
    };
    // A gated promote reads statuses from the same forge, found the same way.
    let statuses = match command.required_statuses().is_empty() {
        true => None,
        false => Some(super::statuses::reader(
            &remote_url(&git, &publish.remote)?,
            &publish.forge,
        )?),
    };
    let statuses = statuses.as_ref().map(|r| r as &dyn ReportSource);
    let mut published = commit_and_push(
        &git, base_tip, envs, command, dry_run, publish, statuses, progress,
    )?;
    let pull_request = match published.range.filter(|(base, head)| base != head) {
        Some((base, head)) if forge.is_some() || publish.pr_body_file.is_some() => {
            let (summaries, diff) = pr_material(&git.repo, base, head, envs, command.action())?;
            let body = forge::pr_body_many(&summaries, &diff, forge::DEFAULT_BODY_BYTES);
            if let Some(path) = &publish.pr_body_file {
                std::fs::write(path, &body).with_context(|| {
                    format!(
                        "could not write the pull request body to {}",
                        path.display()
                    )
                })?;
            }
            match forge {
                Some((repo, token)) => {
                    let spec = PullRequestSpec {
                        head: published.branch.clone(),
                        base: base_branch,
                        title: git.repo.commit_subject(head)?,
                        body,
                    };
                    let pr = forge::open_or_reuse(&repo, &token, &spec).with_context(|| {
                        format!(
                            "pushed {}, but could not open its {}",
                            spec.head,
                            repo.kind.request_name()
                        )
                    })?;
                    Some(PullRequestReport {
                        number: pr.number,
                        url: pr.url,
                        reused: pr.reused,
                        body_updated: pr.body_updated,
                    })
                }
                None => None,
            }
        }
        _ => None,
    };
    if envs.len() == 1 {
        let mut report = published.reports.remove(0);
        report.push = published.push;
        report.pull_request = pull_request;
        return Ok(Released::One(report));
    }
    let outcome = match (&published.commit, dry_run) {
        (Some(_), _) => Outcome::Committed,
        (None, true) if published.reports.iter().any(|r| r.subject.is_some()) => Outcome::DryRun,
        _ => Outcome::NoChange,
    };
    let changed = published
        .reports
        .iter()
        .filter(|r| r.outcome != Outcome::NoChange)
        .count();
    Ok(Released::Many(MultiReleaseReport {
        schema_version: super::SCHEMA_VERSION,
        command: command.action().as_str().to_owned(),
        outcome,
        message: format!(
            "{changed} of {} environments {}",
            envs.len(),
            match outcome {
                Outcome::DryRun => "would change",
                _ => "changed",
            }
        ),
        subject: published.reports.iter().find_map(|r| r.subject.clone()),
        commit: published.commit.clone(),
        branch: published
            .reports
            .first()
            .map(|r| r.branch.clone())
            .unwrap_or_default(),
        push: published.push,
        pull_request,
        environments: published.reports,
    }))
}

/// [`release`] of one environment, and its report.
pub fn release_one(
    location: Location,
    env: &str,
    command: &ReleaseCommand,
    dry_run: bool,
    publish: &Publish,
    progress: &dyn Progress,
) -> anyhow::Result<ReleaseReport> {
    match release(
        location,
        &[env.to_owned()],
        command,
        dry_run,
        publish,
        progress,
    )? {
        Released::One(report) => Ok(report),
        Released::Many(_) => unreachable!("one environment gives one report"),
    }
}

/// The commit a pushed release starts from, and the ref holding it: the remote's tip of the
/// current branch, fetched into its remote-tracking ref. The local branch must not have
/// commits the remote lacks (they would be published unreviewed); when it is behind, the
/// release is computed on the remote's tip and the local branch follows it forward.
fn remote_base(
    git: &GitLocation,
    transport: &Transport,
    remote: &str,
    local: Oid,
) -> anyhow::Result<(Oid, String)> {
    let branch = short_branch(&git.refname).to_owned();
    let tracking = format!("refs/remotes/{remote}/{branch}");
    let label = transport.redactor().redact(remote);
    let Some(remote_tip) =
        transport.fetch_branch(git.repo.git_dir(), remote, &branch, &tracking)?
    else {
        return Err(PublishError::RemoteLacksBranch {
            remote: label,
            branch,
        }
        .into());
    };
    if remote_tip == local {
        return Ok((local, git.refname.clone()));
    }
    let (ahead, _behind) = git.repo.ahead_behind(local, remote_tip)?;
    if ahead > 0 {
        return Err(PublishError::UnpushedCommits {
            remote: label,
            branch,
            ahead,
        }
        .into());
    }
    tracing::info!("{branch} is behind {label}/{branch}: working on {remote_tip}");
    Ok((remote_tip, tracking))
}

/// The URL of the remote a command pushes to: the clone's origin, or the named remote.
fn remote_url(git: &GitLocation, remote: &str) -> anyhow::Result<String> {
    Ok(match &git.scratch {
        Some(scratch) => scratch.url.clone(),
        None => Transport::from_env().remote_url(git.repo.git_dir(), remote)?,
    })
}

/// The summary of each environment of `envs` and the diff of them all between two commits,
/// for a pull request body.
fn pr_material(
    repo: &crate::repo::Repo,
    base: Oid,
    head: Oid,
    envs: &[String],
    action: Action,
) -> anyhow::Result<(Vec<PrSummary>, Diff)> {
    let side = |commit: Oid, env: &str| -> anyhow::Result<(Values, FileMap)> {
        let tree = CommitTree::new(repo, commit);
        let loaded = load_values(&tree, env)?;
        let mut files = rendered_files(&tree, env)?;
        files.insert(loaded.path, loaded.text.into_bytes());
        Ok((loaded.values, files))
    };
    let mut summaries = Vec::new();
    let mut old_all = FileMap::new();
    let mut new_all = FileMap::new();
    let mut afters = Vec::new();
    for env in envs {
        let (before, old) = side(base, env)?;
        let (after, new) = side(head, env)?;
        let images = |c: Color| {
            (
                before.color(c).image_ref(&before.image),
                after.color(c).image_ref(&after.image),
            )
        };
        summaries.push(PrSummary {
            environment: env.clone(),
            action: action.as_str().to_owned(),
            live_before: before.live_color.to_string(),
            live_after: after.live_color.to_string(),
            blue: images(Color::Blue),
            green: images(Color::Green),
            commit: Some(super::short(&head.to_string())),
        });
        old_all.extend(old);
        new_all.extend(new);
        afters.push((env, after));
    }
    let mut diff = diff::diff(&old_all, &new_all);
    let envs: Vec<(&str, &Values)> = afters.iter().map(|(e, v)| (e.as_str(), v)).collect();
    mark_live_now_in(&mut diff, &envs);
    Ok((summaries, diff))
}

/// What [`commit_and_push`] did.
struct Published {
    /// One per environment.
    reports: Vec<ReleaseReport>,
    /// The commit made, full id.
    commit: Option<String>,
    /// Where it was pushed.
    push: Option<PushReport>,
    /// The commits a pull request would show: from the current branch's tip to the release
    /// branch's (or the commit's parent to the commit, on the current branch).
    range: Option<(Oid, Oid)>,
    /// The branch committed to, short name.
    branch: String,
}

/// Commits (and pushes) the command on every environment of `envs`; `statuses` answers a
/// gated promote's questions.
#[allow(clippy::too_many_arguments)]
fn commit_and_push(
    git: &GitLocation,
    base_tip: Oid,
    envs: &[String],
    command: &ReleaseCommand,
    dry_run: bool,
    publish: &Publish,
    statuses: Option<&dyn ReportSource>,
    progress: &dyn Progress,
) -> anyhow::Result<Published> {
    let remote = match &git.scratch {
        Some(_) => "origin".to_owned(),
        None if publish.push && looks_like_url(&publish.remote) => {
            return Err(PublishError::RemoteNotNamed {
                remote: publish.remote.clone(),
            }
            .into())
        }
        None => publish.remote.clone(),
    };
    let transport = Transport::from_env();
    let mut target = Target::new(git, &publish.branch, &remote);
    let plan = |refname: &str, tip: Oid| {
        plan_all(&git.repo, refname, tip, envs, command, dry_run, statuses)
    };

    // With --push, decide on what the remote holds: a checkout may be behind it (another
    // pipeline pushed), and commits only this checkout has must never be published by a
    // release command, so they stop it before anything is computed.
    let (base_tip, base_ref) = match publish.push && git.scratch.is_none() {
        true => remote_base(git, &transport, &remote, base_tip)?,
        false => (base_tip, git.refname.clone()),
    };

    let first = match &publish.branch {
        BranchChoice::Current => {
            target.base = Some(base_tip);
            target.base_ref = base_ref.clone();
            plan(&base_ref, base_tip)?
        }
        choice => {
            // A release branch continues where it stands (remote first, then local), so
            // re-running a pipeline finds its change already made instead of starting a
            // second branch; its guards are read there, not on the current branch.
            let (name, on_base) = match choice {
                BranchChoice::Named(name) => (name.clone(), None),
                _ => {
                    let on_base = plan(&base_ref, base_tip)?;
                    match default_branch_of(&on_base.concerns) {
                        Some(name) => (name, Some(on_base)),
                        // Nothing to change, so nothing to name a branch after.
                        None => {
                            return Ok(Published {
                                reports: on_base.reports,
                                commit: None,
                                push: None,
                                range: None,
                                branch: target.branch,
                            })
                        }
                    }
                }
            };
            target.name_release_branch(name)?;
            let existing = match publish.push {
                true => transport.fetch_branch(
                    git.repo.git_dir(),
                    &remote,
                    &target.branch,
                    &target.tracking,
                )?,
                false => None,
            };
            let start = existing.or(git.repo.branch_tip(&target.refname)?);
            target.base = Some(start.unwrap_or(base_tip));
            target.base_ref = match (existing, start) {
                (Some(_), _) => target.tracking.clone(),
                (None, Some(_)) => target.refname.clone(),
                (None, None) => base_ref.clone(),
            };
            match on_base {
                Some(planned) if start.is_none_or(|s| s == base_tip) => planned,
                _ => plan(&target.base_ref, target.base.expect("set above"))?,
            }
        }
    };

    let mut planned = first;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        for report in &mut planned.reports {
            report.branch = target.refname.clone();
        }
        let Some(commit) = planned.commit.take() else {
            let range = target.base.map(|tip| (base_tip, tip));
            return Ok(Published {
                reports: planned.reports,
                commit: None,
                push: None,
                range,
                branch: target.branch,
            });
        };
        let base = target
            .base
            .expect("the base is resolved before the first attempt");
        let in_place = target.base_ref == target.refname;
        let request = commit.request(&target.base_ref, base, in_place);
        let Some(prepared) = git.repo.prepare_commit(&request)? else {
            for report in &mut planned.reports {
                if report.outcome == Outcome::Committed {
                    report.outcome = Outcome::NoChange;
                    report.message = format!(
                        "{}: values and manifests already up to date",
                        report.environment
                    );
                }
            }
            return Ok(Published {
                reports: planned.reports,
                commit: None,
                push: None,
                range: Some((base_tip, base)),
                branch: target.branch,
            });
        };
        // Check the local landing before anything leaves the machine.
        let landing = if in_place {
            Landing::Finish
        } else {
            let local = git.repo.branch_tip(&target.refname)?;
            Landing::FastForward(git.repo.plan_fast_forward(
                &target.refname,
                local,
                prepared.id,
                true,
            )?)
        };
        if publish.push {
            match transport.push(git.repo.git_dir(), &remote, prepared.id, &target.branch)? {
                PushStatus::Accepted | PushStatus::UpToDate => {}
                PushStatus::NonFastForward if attempts <= publish.retries => {
                    let delay = backoff(attempts);
                    let notice = format!(
                        "{remote} moved while {} was being pushed; computing the change again \
                         on the new tip in {} ms (attempt {} of {})",
                        target.branch,
                        delay.as_millis(),
                        attempts + 1,
                        publish.retries + 1
                    );
                    tracing::info!("{notice}");
                    progress.note(&notice);
                    std::thread::sleep(delay);
                    let tip = transport
                        .fetch_branch(
                            git.repo.git_dir(),
                            &remote,
                            &target.branch,
                            &target.tracking,
                        )?
                        .ok_or_else(|| PublishError::BranchGone {
                            remote: transport.redactor().redact(&remote),
                            branch: target.branch.clone(),
                        })?;
                    target.base = Some(tip);
                    target.base_ref = target.tracking.clone();
                    planned = plan(&target.tracking, tip)?;
                    continue;
                }
                PushStatus::NonFastForward => {
                    return Err(PublishError::RetriesExhausted {
                        remote: transport.redactor().redact(&remote),
                        branch: target.branch.clone(),
                        attempts,
                    }
                    .into())
                }
                PushStatus::RemoteRejected { reason } => {
                    return Err(PublishError::Rejected {
                        remote: transport.redactor().redact(&remote),
                        branch: target.branch.clone(),
                        reason,
                    }
                    .into())
                }
            }
        }
        match &landing {
            Landing::Finish => git.repo.finish_commit(&prepared),
            Landing::FastForward(ff) => git.repo.fast_forward(ff),
        }
        .with_context(|| match publish.push {
            true => format!(
                "pushed {} to {remote}/{}, but the local branch could not follow",
                prepared.id, target.branch
            ),
            false => format!("could not move {} to {}", target.refname, prepared.id),
        })?;
        let id = prepared.id.to_string();
        for report in &mut planned.reports {
            if report.outcome == Outcome::Committed {
                report.commit = Some(id.clone());
            }
        }
        let push = publish.push.then(|| PushReport {
            remote: match &git.scratch {
                Some(s) => transport.redactor().redact(&s.url),
                None => remote.clone(),
            },
            branch: target.branch.clone(),
            attempts,
        });
        let range = match publish.branch {
            BranchChoice::Current => (prepared.parent.unwrap_or(base_tip), prepared.id),
            _ => (base_tip, prepared.id),
        };
        return Ok(Published {
            reports: planned.reports,
            commit: Some(id),
            push,
            range: Some(range),
            branch: target.branch,
        });
    }
}

enum Landing {
    Finish,
    FastForward(crate::repo::FastForward),
}

/// The branch being committed to and where its next commit starts.
struct Target {
    /// Short name, e.g. `main` or `greenlight/staging/stage-green-1.5.0`.
    branch: String,
    /// Full local name.
    refname: String,
    /// Where fetched tips of the branch go: the remote-tracking ref in a checkout, the branch
    /// itself in a temporary clone.
    tracking: String,
    /// The commit the next attempt starts from.
    base: Option<Oid>,
    /// The ref that holds `base` (local branch, tracking ref, or the current branch).
    base_ref: String,
    remote: String,
    scratch: bool,
}

impl Target {
    fn new(git: &GitLocation, choice: &BranchChoice, remote: &str) -> Target {
        let current = short_branch(&git.refname).to_owned();
        let mut target = Target {
            branch: String::new(),
            refname: String::new(),
            tracking: String::new(),
            base: None,
            base_ref: String::new(),
            remote: remote.to_owned(),
            scratch: git.scratch.is_some(),
        };
        target.set_branch(match choice {
            BranchChoice::Named(name) => name.clone(),
            _ => current,
        });
        target
    }

    fn set_branch(&mut self, branch: String) {
        self.refname = format!("refs/heads/{branch}");
        self.tracking = if self.scratch {
            self.refname.clone()
        } else {
            format!("refs/remotes/{}/{branch}", self.remote)
        };
        self.branch = branch;
    }

    /// Makes the release branch `name` the target, refusing a name git would not take.
    fn name_release_branch(&mut self, name: String) -> Result<(), PublishError> {
        if !git2::Reference::is_valid_name(&format!("refs/heads/{name}")) {
            return Err(PublishError::InvalidBranch { name });
        }
        self.set_branch(name);
        Ok(())
    }
}

/// `greenlight/<env>/<action>-<color>-<version>`, with the version made safe for a ref name
/// (`sha256:abc…` → `sha256-abc…`).
pub fn default_branch(env: &str, action: Action, color: Color, version: &str) -> String {
    format!(
        "greenlight/{env}/{}-{color}-{}",
        action.as_str(),
        ref_safe(version)
    )
}

/// `version` made safe for a ref name (`sha256:abc…` → `sha256-abc…`).
fn ref_safe(version: &str) -> String {
    let version: String = version
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '-',
        })
        .collect();
    version.replace("..", ".")
}

/// The default release branch of a release whose changing environments concern `concerns`:
/// the branch [`default_branch`] names for one environment; for several,
/// `greenlight/multi/<action>-<version, when they share one>-<hash of what changes>`, the same
/// for every run of the same release. `None` when nothing changes.
fn default_branch_of(concerns: &[Concern]) -> Option<String> {
    match concerns {
        [] => None,
        [one] => Some(default_branch(
            &one.env,
            one.action,
            one.color,
            &one.version,
        )),
        [first, ..] => {
            let what: Vec<String> = concerns
                .iter()
                .map(|c| format!("{}:{}:{}:{}", c.env, c.action, c.color, c.version))
                .collect();
            let hash = crate::checksum::sha256_hex(what.join("\n").as_bytes());
            let version = match concerns.iter().all(|c| c.version == first.version) {
                true => first.version.clone(),
                false => "mixed".to_owned(),
            };
            Some(format!(
                "greenlight/multi/{}-{}-{}",
                first.action.as_str(),
                ref_safe(&version),
                &hash[..10]
            ))
        }
    }
}

fn short_branch(refname: &str) -> &str {
    refname.strip_prefix("refs/heads/").unwrap_or(refname)
}

/// Exponential backoff with jitter: about 100 ms, 200 ms, 400 ms ... (at most 5 s), each
/// scaled by a random factor in [0.5, 1.5) so racing pipelines spread out.
fn backoff(attempt: u32) -> Duration {
    let base_ms = std::env::var("GREENLIGHT_RETRY_BASE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(100);
    let exp = base_ms.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    let capped = exp.min(5_000);
    let factor = 0.5 + fastrand::f64();
    Duration::from_millis((capped as f64 * factor) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_branch_names_are_valid_refs() {
        let cases = [
            (
                "staging",
                Action::Stage,
                Color::Green,
                "1.5.0",
                "greenlight/staging/stage-green-1.5.0",
            ),
            (
                "production/eu-west/api",
                Action::Promote,
                Color::Blue,
                "sha256:0123456789ab",
                "greenlight/production/eu-west/api/promote-blue-sha256-0123456789ab",
            ),
            (
                "qa",
                Action::Rollback,
                Color::Blue,
                "1..2+build",
                "greenlight/qa/rollback-blue-1.2-build",
            ),
        ];
        for (env, action, color, version, expected) in cases {
            let name = default_branch(env, action, color, version);
            assert_eq!(name, expected);
            assert!(git2::Reference::is_valid_name(&format!(
                "refs/heads/{name}"
            )));
        }
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        for attempt in 1..=20 {
            let d = backoff(attempt).as_millis() as u64;
            let nominal = (100u64 << (attempt - 1).min(16)).min(5_000);
            assert!(d >= nominal / 2 && d < nominal * 3 / 2, "{attempt}: {d}");
        }
    }
}
