//! `wait`: poll the forge until it reports the staged release of an environment healthy —
//! every required context a `success` on the commits that hold it, judged exactly as
//! `promote --require-status` judges them — or a report is final (`failure`, `error`), or the
//! time is up. Each poll fetches the branch first, so a commit that landed meanwhile (and that
//! the cluster applied and reported on) counts.
//!
//! Time comes from a [`Clock`], so the loop is tested without sleeping.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::statuses::{self, ReportSource, RequiredStatus};
use super::{load_values, CommitTree, ForgeOptions, GitLocation, Location, Progress};
use crate::gate::ContextResult;
use crate::history;
use crate::release::{self, HumanDuration, Refusal};
use crate::repo::transport::Transport;
use crate::repo::Oid;
use crate::values::Color;

/// Where time comes from: the real clock, or a test's.
pub trait Clock {
    /// Time passed since the clock started.
    fn elapsed(&self) -> Duration;
    /// Lets `duration` pass.
    fn sleep(&self, duration: Duration);
}

/// The system's monotonic clock, started when created.
pub struct SystemClock(Instant);

impl SystemClock {
    /// A clock that starts now.
    pub fn start() -> SystemClock {
        SystemClock(Instant::now())
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// How `wait` runs.
#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// The contexts that must report success.
    pub required: Vec<RequiredStatus>,
    /// Give up (exit 3) once this much time has passed.
    pub timeout: Duration,
    /// Time between two polls.
    pub interval: Duration,
    /// The remote the branch is fetched from, whose URL names the forge.
    pub remote: String,
    /// How to reach the forge when the remote's URL does not tell.
    pub forge: ForgeOptions,
}

/// `wait`: the staged release passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WaitReport {
    /// Schema version of this report.
    pub schema_version: u32,
    /// Always `wait`.
    pub command: String,
    /// The environment.
    pub environment: String,
    /// Always `passed` (a failure or a timeout is an error, exit 3).
    pub outcome: String,
    /// The staged colour.
    pub color: Color,
    /// Its image.
    pub image: Option<String>,
    /// The commit that staged it, full id.
    pub stage_commit: String,
    /// The branch tip the last poll judged, full id.
    pub tip: String,
    /// Each required context with the report that decided it.
    pub statuses: Vec<ContextResult>,
    /// How many times the forge was asked.
    pub polls: u32,
    /// Seconds waited.
    pub waited_seconds: u64,
}

/// What one poll found.
pub(super) enum Poll {
    /// Every context passed.
    Passed(Box<WaitReport>),
    /// Some context is not decided yet; the refusal to give if time runs out, and a line
    /// for the progress display.
    Pending { unmet: Refusal, line: String },
}

/// Polls `poll` every `interval` until it passes, fails (its error: a final failure, or any
/// other error), or `timeout` has passed (the pending refusal turned into a timeout).
pub(super) fn wait_loop(
    clock: &dyn Clock,
    timeout: Duration,
    interval: Duration,
    progress: &dyn Progress,
    mut poll: impl FnMut(u32) -> anyhow::Result<Poll>,
) -> anyhow::Result<WaitReport> {
    let mut polls = 0u32;
    loop {
        polls += 1;
        match poll(polls)? {
            Poll::Passed(mut report) => {
                report.polls = polls;
                report.waited_seconds = clock.elapsed().as_secs();
                return Ok(*report);
            }
            Poll::Pending { unmet, line } => {
                let elapsed = clock.elapsed();
                if elapsed >= timeout {
                    return Err(timed_out(unmet, timeout).into());
                }
                progress.status(&format!(
                    "{line} ({} of {})",
                    HumanDuration(elapsed),
                    HumanDuration(timeout)
                ));
                clock.sleep(interval.min(timeout - elapsed));
            }
        }
    }
}

/// The refusal of a poll still pending, as a timeout of `waited`.
fn timed_out(unmet: Refusal, waited: Duration) -> super::Refused {
    let refusal = match unmet {
        Refusal::StatusNotSuccess {
            color,
            scope,
            unmet,
        } => Refusal::StatusTimedOut {
            waited: HumanDuration(waited),
            color,
            scope,
            unmet,
        },
        other => other,
    };
    super::Refused {
        // Filled in by the caller, which knows the environment.
        environment: String::new(),
        refusal,
    }
}

/// Waits until the forge reports the release staged in `env` healthy (see the module doc).
pub fn wait(
    location: Location,
    env: &str,
    options: &WaitOptions,
    clock: &dyn Clock,
    progress: &dyn Progress,
) -> anyhow::Result<WaitReport> {
    let git = location.git("wait")?;
    let url = match &git.scratch {
        Some(s) => s.url.clone(),
        None => Transport::from_env().remote_url(git.repo.git_dir(), &options.remote)?,
    };
    let reader = statuses::reader(&url, &options.forge)?;
    let result = wait_loop(clock, options.timeout, options.interval, progress, |_| {
        let tip = current_tip(&git, &options.remote)?;
        poll_once(&git, tip, env, &options.required, &reader)
    });
    progress.finish();
    result.map_err(|e| match e.downcast::<super::Refused>() {
        Ok(mut refused) => {
            refused.environment = env.to_owned();
            refused.into()
        }
        Err(e) => e,
    })
}

/// The tip the cluster applies: the remote's branch, fetched now (the local branch when the
/// remote does not have it).
fn current_tip(git: &GitLocation, remote: &str) -> anyhow::Result<Oid> {
    let branch = git
        .refname
        .strip_prefix("refs/heads/")
        .unwrap_or(&git.refname);
    let (remote, into) = match &git.scratch {
        Some(_) => ("origin".to_owned(), git.refname.clone()),
        None => (remote.to_owned(), format!("refs/remotes/{remote}/{branch}")),
    };
    let fetched = Transport::from_env().fetch_branch(git.repo.git_dir(), &remote, branch, &into)?;
    match fetched.or(git.tip) {
        Some(tip) => Ok(tip),
        None => Err(super::OpsError::UnbornBranch {
            refname: git.refname.clone(),
        }
        .into()),
    }
}

/// One look at the forge: the staged release of `env` at `tip`, judged.
fn poll_once(
    git: &GitLocation,
    tip: Oid,
    env: &str,
    required: &[RequiredStatus],
    source: &dyn ReportSource,
) -> anyhow::Result<Poll> {
    let tree = CommitTree::new(&git.repo, tip);
    crate::workspace::select(&tree, &[env.to_owned()], false)?;
    let loaded = load_values(&tree, env)?;
    let values = &loaded.values;
    let scan = history::scan_history(&git.repo, tip, env)?;
    let refused = |refusal| super::Refused {
        environment: env.to_owned(),
        refusal,
    };
    let color = release::staged_release(values, &scan.state).map_err(refused)?;
    let stage = scan
        .last_transition
        .as_ref()
        .and_then(|r| Oid::from_str(&r.commit).ok())
        .expect("a staged colour has its stage recorded");
    let contexts = statuses::contexts(required, values, env)?;
    let judged = statuses::judge_release(
        &git.repo,
        tip,
        env,
        values.app.as_str(),
        color,
        stage,
        &contexts,
        source,
    )?;
    let line = format!(
        "waiting for {}: {}",
        env,
        judged
            .results
            .iter()
            .map(|r| format!(
                "{} {}",
                r.context,
                r.state.map_or("no status", |s| s.as_str())
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let results = judged.results.clone();
    match release::require_statuses(color, judged.scope, judged.results) {
        Ok(()) => Ok(Poll::Passed(Box::new(WaitReport {
            schema_version: super::SCHEMA_VERSION,
            command: "wait".to_owned(),
            environment: env.to_owned(),
            outcome: "passed".to_owned(),
            color,
            image: values.color(color).image_ref(&values.image),
            stage_commit: stage.to_string(),
            tip: tip.to_string(),
            statuses: results,
            polls: 0,
            waited_seconds: 0,
        }))),
        Err(refusal) => {
            let last = matches!(&refusal, Refusal::StatusNotSuccess { unmet, .. }
                if unmet.iter().any(|u| u.state.is_some_and(|s| s.is_final_failure())));
            match last {
                true => Err(refused(refusal).into()),
                false => Ok(Poll::Pending {
                    unmet: refusal,
                    line,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::gate::State;
    use crate::release::StatusScope;

    /// A clock that moves only when slept on.
    struct FakeClock(Cell<Duration>);

    impl Clock for FakeClock {
        fn elapsed(&self) -> Duration {
            self.0.get()
        }
        fn sleep(&self, d: Duration) {
            self.0.set(self.0.get() + d);
        }
    }

    fn pending() -> Poll {
        Poll::Pending {
            unmet: Refusal::StatusNotSuccess {
                color: Color::Green,
                scope: StatusScope {
                    stage_commit: "aaaaaaaaaaaa".into(),
                    oldest: "aaaaaaaaaaaa".into(),
                    commits: 1,
                },
                unmet: vec![ContextResult {
                    context: "smoke".into(),
                    state: Some(State::Pending),
                    commit: Some("a".repeat(40)),
                    source: None,
                    detail: None,
                }],
            },
            line: "waiting".into(),
        }
    }

    fn passed() -> Poll {
        Poll::Passed(Box::new(WaitReport {
            schema_version: 2,
            command: "wait".into(),
            environment: "production".into(),
            outcome: "passed".into(),
            color: Color::Green,
            image: None,
            stage_commit: "a".repeat(40),
            tip: "a".repeat(40),
            statuses: Vec::new(),
            polls: 0,
            waited_seconds: 0,
        }))
    }

    #[test]
    fn polls_every_interval_until_it_passes() {
        let clock = FakeClock(Cell::new(Duration::ZERO));
        let report = wait_loop(
            &clock,
            Duration::from_secs(600),
            Duration::from_secs(10),
            &super::super::NoProgress,
            |n| Ok(if n < 4 { pending() } else { passed() }),
        )
        .unwrap();
        assert_eq!((report.polls, report.waited_seconds), (4, 30));
    }

    #[test]
    fn times_out_with_a_distinct_refusal_after_a_last_poll_at_the_deadline() {
        let clock = FakeClock(Cell::new(Duration::ZERO));
        let mut polls = 0;
        let err = wait_loop(
            &clock,
            Duration::from_secs(25),
            Duration::from_secs(10),
            &super::super::NoProgress,
            |_| {
                polls += 1;
                Ok(pending())
            },
        )
        .unwrap_err();
        // At 0 s, 10 s, 20 s and at the deadline, 25 s.
        assert_eq!(polls, 4);
        assert_eq!(clock.elapsed(), Duration::from_secs(25));
        let refused = err.downcast_ref::<super::super::Refused>().unwrap();
        assert!(matches!(
            refused.refusal,
            Refusal::StatusTimedOut { waited, .. } if waited.0 == Duration::from_secs(25)
        ));
        assert!(err.to_string().starts_with(
            "timed out after 25s waiting for the release staged in green: `smoke` is pending"
        ));
    }

    #[test]
    fn a_final_failure_ends_the_wait_at_once() {
        let clock = FakeClock(Cell::new(Duration::ZERO));
        let mut polls = 0;
        let err = wait_loop(
            &clock,
            Duration::from_secs(600),
            Duration::from_secs(10),
            &super::super::NoProgress,
            |n| {
                polls = n;
                match n {
                    1 => Ok(pending()),
                    _ => Err(anyhow::anyhow!("failure")),
                }
            },
        )
        .unwrap_err();
        assert_eq!((polls, clock.elapsed().as_secs()), (2, 10));
        assert_eq!(err.to_string(), "failure");
    }

    #[test]
    fn a_zero_timeout_polls_once() {
        let clock = FakeClock(Cell::new(Duration::ZERO));
        let mut polls = 0;
        assert!(wait_loop(
            &clock,
            Duration::ZERO,
            Duration::from_secs(10),
            &super::super::NoProgress,
            |_| {
                polls += 1;
                Ok(pending())
            },
        )
        .is_err());
        assert_eq!(polls, 1);
    }
}
