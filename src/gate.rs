//! The health gate the forge reports: what the cluster (Flux's notification-controller, Argo
//! CD's notifications) and CI post as commit statuses and check runs about the commits that
//! hold a staged release, judged per required context. It decides, for each context, which
//! report counts — the newest commit that reports the context decides — and whether that is a
//! `success`.
//!
//! Pure: the operations layer asks the forge and hands the reports in, newest commit first;
//! this module touches no network, no git and no clock, and is tested with plain values.
//! The release guard built on it is `require_statuses` in the `release` module.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The state of a commit status or check run, in the words GitHub's commit statuses use; each
/// forge's own words map onto these (GitLab `failed` is `failure`, a check run still running
/// is `pending`, a cancelled one is `error`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Passed.
    Success,
    /// Not decided yet (queued, running).
    Pending,
    /// Did not pass: the checked thing is broken.
    Failure,
    /// Could not be decided (cancelled, skipped, an error of the checker).
    Error,
}

impl State {
    /// The word used in messages and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Success => "success",
            State::Pending => "pending",
            State::Failure => "failure",
            State::Error => "error",
        }
    }

    /// How bad the state is, when one commit reports a context twice (a status and a check
    /// run of the same name): the worse report counts.
    fn badness(self) -> u8 {
        match self {
            State::Success => 0,
            State::Pending => 1,
            State::Error => 2,
            State::Failure => 3,
        }
    }

    /// True for `failure` and `error`: waiting longer does not turn it into a success.
    pub fn is_final_failure(self) -> bool {
        matches!(self, State::Failure | State::Error)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of report it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A commit status (GitHub, GitLab, Gitea / Forgejo), named by its context.
    Status,
    /// A GitHub check run, named by its name.
    CheckRun,
}

impl Source {
    /// The words used in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Source::Status => "commit status",
            Source::CheckRun => "check run",
        }
    }
}

/// One report of the forge about one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The status context (or check run name), e.g. `kustomization/api-production`.
    pub context: String,
    /// Its state.
    pub state: State,
    /// A status or a check run.
    pub source: Source,
    /// The forge's own word for the state (`failed`, `timed_out`, `in_progress`, ...).
    pub detail: String,
}

/// The reports of one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The commit, full id.
    pub commit: String,
    /// What the forge reports on it (only the latest report per context and source).
    pub reports: Vec<Report>,
}

/// How one required context stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContextResult {
    /// The context (or check run name).
    pub context: String,
    /// Its state on the commit that decides; `null` when no commit reports it.
    pub state: Option<State>,
    /// The commit that decides (the newest that reports the context), full id.
    pub commit: Option<String>,
    /// A commit status or a check run (the worse, when the commit has both).
    pub source: Option<Source>,
    /// The forge's own word for the state.
    pub detail: Option<String>,
}

impl ContextResult {
    /// True when the deciding report is a success.
    pub fn passed(&self) -> bool {
        self.state == Some(State::Success)
    }

    /// One phrase for people: `` `ctx` is pending on 1a2b3c4d5e6f (check run: in_progress)``.
    pub fn describe(&self) -> String {
        match (&self.state, &self.commit) {
            (Some(state), Some(commit)) => {
                let detail = match (&self.source, &self.detail) {
                    (Some(source), Some(d)) if d != state.as_str() => {
                        format!(" ({}: {d})", source.describe())
                    }
                    (Some(Source::CheckRun), _) => " (check run)".to_owned(),
                    _ => String::new(),
                };
                format!("`{}` is {state} on {}{detail}", self.context, short(commit))
            }
            _ => format!("`{}` has no status yet", self.context),
        }
    }
}

/// The first 12 characters of a commit id, as greenlight shows commits.
fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

/// How each of `contexts` stands, given what the forge reports on the commits that hold the
/// release, newest first. For each context the newest commit that reports it decides (a later
/// commit's report supersedes an older one: the cluster re-applied and checked again); when
/// that commit reports it both as a status and as a check run, the worse counts.
pub fn judge(contexts: &[String], evidence: &[Evidence]) -> Vec<ContextResult> {
    contexts
        .iter()
        .map(|context| {
            let decisive = evidence.iter().find_map(|e| {
                e.reports
                    .iter()
                    .filter(|r| r.context == *context)
                    .max_by_key(|r| r.state.badness())
                    .map(|r| (e, r))
            });
            match decisive {
                Some((e, r)) => ContextResult {
                    context: context.clone(),
                    state: Some(r.state),
                    commit: Some(e.commit.clone()),
                    source: Some(r.source),
                    detail: Some(r.detail.clone()),
                },
                None => ContextResult {
                    context: context.clone(),
                    state: None,
                    commit: None,
                    source: None,
                    detail: None,
                },
            }
        })
        .collect()
}

/// True when every one of `contexts` is reported on some commit of `evidence`: asking the
/// forge about older commits cannot change the verdict any more.
pub fn all_reported(contexts: &[String], evidence: &[Evidence]) -> bool {
    contexts.iter().all(|c| {
        evidence
            .iter()
            .any(|e| e.reports.iter().any(|r| r.context == *c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(context: &str, state: State, source: Source) -> Report {
        Report {
            context: context.into(),
            state,
            source,
            detail: state.as_str().into(),
        }
    }

    fn evidence(commit: char, reports: Vec<Report>) -> Evidence {
        Evidence {
            commit: commit.to_string().repeat(40),
            reports,
        }
    }

    const FLUX: &str = "kustomization/api-production";

    #[test]
    fn the_newest_commit_that_reports_a_context_decides() {
        let contexts = vec![FLUX.to_owned(), "smoke".to_owned()];
        let newest_first = [
            evidence('c', vec![report("other", State::Failure, Source::Status)]),
            evidence('b', vec![report(FLUX, State::Success, Source::Status)]),
            evidence(
                'a',
                vec![
                    report(FLUX, State::Failure, Source::Status),
                    report("smoke", State::Success, Source::CheckRun),
                ],
            ),
        ];
        let results = judge(&contexts, &newest_first);
        assert!(results.iter().all(ContextResult::passed), "{results:?}");
        assert_eq!(results[0].commit.as_deref(), Some("b".repeat(40).as_str()));
        assert_eq!(results[1].source, Some(Source::CheckRun));
        assert!(all_reported(&contexts, &newest_first));
        assert!(!all_reported(&contexts, &newest_first[..2]));

        // The same, but the newest report is a failure: an older success does not count.
        let failed = [
            evidence('b', vec![report(FLUX, State::Failure, Source::Status)]),
            evidence('a', vec![report(FLUX, State::Success, Source::Status)]),
        ];
        let r = &judge(&contexts[..1], &failed)[0];
        assert_eq!(r.state, Some(State::Failure));
        assert!(!r.passed());
        assert_eq!(
            r.describe(),
            format!("`{FLUX}` is failure on {}", "b".repeat(12))
        );
    }

    #[test]
    fn no_report_is_not_a_pass_and_the_worse_of_two_reports_counts() {
        let contexts = vec!["smoke".to_owned()];
        let none = judge(&contexts, &[evidence('a', vec![])]);
        assert_eq!(none[0].state, None);
        assert!(!none[0].passed());
        assert_eq!(none[0].describe(), "`smoke` has no status yet");
        assert!(judge(&contexts, &[])[0].state.is_none());

        let both = [evidence(
            'a',
            vec![
                report("smoke", State::Success, Source::Status),
                Report {
                    detail: "in_progress".into(),
                    ..report("smoke", State::Pending, Source::CheckRun)
                },
            ],
        )];
        let r = &judge(&contexts, &both)[0];
        assert_eq!(
            (r.state, r.source),
            (Some(State::Pending), Some(Source::CheckRun))
        );
        assert_eq!(
            r.describe(),
            format!(
                "`smoke` is pending on {} (check run: in_progress)",
                "a".repeat(12)
            )
        );
    }

    #[test]
    fn failure_and_error_are_final_pending_is_not() {
        assert!(State::Failure.is_final_failure());
        assert!(State::Error.is_final_failure());
        assert!(!State::Pending.is_final_failure());
        assert!(!State::Success.is_final_failure());
    }
}
