//! Commit statuses and check runs: what the cluster (Flux's notification-controller, Argo
//! CD's notifications) and CI report about a commit, read through each forge's documented
//! REST API and put in one vocabulary ([`crate::gate::Report`]):
//!
//! - GitHub: the combined commit status (`GET /repos/{owner}/{repo}/commits/{ref}/status`,
//!   the latest status per context) and the check runs
//!   (`GET /repos/{owner}/{repo}/commits/{ref}/check-runs?filter=latest`);
//! - GitLab: `GET /projects/:id/repository/commits/:sha/statuses` (the latest per name);
//! - Gitea / Forgejo: the combined status (`GET /repos/{owner}/{repo}/commits/{ref}/status`).
//!
//! A commit the forge does not know (not pushed) has no reports, which is not an error.

use serde::Deserialize;

use super::{agent, encode, Client, ForgeError, ForgeKind, ForgeRepo, Purpose, Token};
use crate::gate::{Report, Source, State};
use crate::repo::transport::Redactor;

/// Most pages read of one listing (each of 100 reports, 50 on Gitea): a commit with more
/// reports than that is not one a release gate reads.
const MAX_PAGES: u32 = 10;

/// Reads the reports of commits on one forge repository, reusing one connection.
pub struct StatusReader {
    repo: ForgeRepo,
    token: Token,
    agent: ureq::Agent,
    redactor: Redactor,
}

impl std::fmt::Debug for StatusReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusReader")
            .field("repo", &self.repo)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct GitHubCombined {
    total_count: u64,
    statuses: Vec<GitHubStatus>,
}

#[derive(Deserialize)]
struct GitHubStatus {
    context: String,
    state: String,
}

#[derive(Deserialize)]
struct GitHubCheckRuns {
    total_count: u64,
    check_runs: Vec<GitHubCheckRun>,
}

#[derive(Deserialize)]
struct GitHubCheckRun {
    name: String,
    status: String,
    #[serde(default)]
    conclusion: Option<String>,
}

#[derive(Deserialize)]
struct GitLabStatus {
    name: String,
    status: String,
}

#[derive(Deserialize)]
struct GiteaCombined {
    #[serde(default)]
    total_count: u64,
    #[serde(default)]
    statuses: Option<Vec<GiteaStatus>>,
}

#[derive(Deserialize)]
struct GiteaStatus {
    context: String,
    status: String,
}

impl StatusReader {
    /// A reader of `repo`'s commits with `token`.
    pub fn new(repo: ForgeRepo, token: Token) -> StatusReader {
        let redactor = Redactor::new([token.value().to_owned()]);
        StatusReader {
            repo,
            token,
            agent: agent(),
            redactor,
        }
    }

    /// The forge repository read.
    pub fn repo(&self) -> &ForgeRepo {
        &self.repo
    }

    fn client(&self) -> Client<'_> {
        Client {
            repo: &self.repo,
            token: &self.token,
            agent: self.agent.clone(),
            redactor: self.redactor.clone(),
            purpose: Purpose::Statuses,
        }
    }

    /// What the forge reports on `commit` (a full id): the latest commit status per context,
    /// and on GitHub the latest check run per name. A commit the forge does not know gives
    /// no reports.
    pub fn reports(&self, commit: &str) -> Result<Vec<Report>, ForgeError> {
        let client = self.client();
        match self.repo.kind {
            ForgeKind::GitHub => {
                let (owner, repo) = client.owner_repo();
                let mut reports = Vec::new();
                let path = format!("/repos/{owner}/{repo}/commits/{commit}/status");
                let mut seen = 0;
                for page in 1..=MAX_PAGES {
                    let page = page.to_string();
                    let query = [("per_page", "100"), ("page", page.as_str())];
                    let Some(combined) = get::<GitHubCombined>(&client, &path, &query)? else {
                        return Ok(Vec::new());
                    };
                    seen += combined.statuses.len() as u64;
                    let done = combined.statuses.is_empty() || seen >= combined.total_count;
                    reports.extend(combined.statuses.into_iter().map(|s| Report {
                        state: github_status_state(&s.state),
                        context: s.context,
                        source: Source::Status,
                        detail: s.state,
                    }));
                    if done {
                        break;
                    }
                }
                let path = format!("/repos/{owner}/{repo}/commits/{commit}/check-runs");
                let mut seen = 0;
                for page in 1..=MAX_PAGES {
                    let page = page.to_string();
                    let query = [
                        ("filter", "latest"),
                        ("per_page", "100"),
                        ("page", page.as_str()),
                    ];
                    let Some(runs) = get::<GitHubCheckRuns>(&client, &path, &query)? else {
                        break;
                    };
                    seen += runs.check_runs.len() as u64;
                    let done = runs.check_runs.is_empty() || seen >= runs.total_count;
                    reports.extend(runs.check_runs.into_iter().map(|r| {
                        let (state, detail) = check_run_state(&r.status, r.conclusion.as_deref());
                        Report {
                            context: r.name,
                            state,
                            source: Source::CheckRun,
                            detail,
                        }
                    }));
                    if done {
                        break;
                    }
                }
                Ok(reports)
            }
            ForgeKind::GitLab => {
                let path = format!(
                    "/projects/{}/repository/commits/{commit}/statuses",
                    encode(&self.repo.project)
                );
                let mut reports = Vec::new();
                for page in 1..=MAX_PAGES {
                    let page = page.to_string();
                    let query = [("per_page", "100"), ("page", page.as_str())];
                    let Some(statuses) = get::<Vec<GitLabStatus>>(&client, &path, &query)? else {
                        return Ok(Vec::new());
                    };
                    let done = statuses.len() < 100;
                    reports.extend(statuses.into_iter().map(|s| Report {
                        state: gitlab_state(&s.status),
                        context: s.name,
                        source: Source::Status,
                        detail: s.status,
                    }));
                    if done {
                        break;
                    }
                }
                Ok(reports)
            }
            ForgeKind::Gitea => {
                let (owner, repo) = client.owner_repo();
                let path = format!("/repos/{owner}/{repo}/commits/{commit}/status");
                let mut reports = Vec::new();
                let mut seen = 0;
                for page in 1..=MAX_PAGES {
                    let page = page.to_string();
                    let query = [("limit", "50"), ("page", page.as_str())];
                    let Some(combined) = get::<GiteaCombined>(&client, &path, &query)? else {
                        return Ok(Vec::new());
                    };
                    let statuses = combined.statuses.unwrap_or_default();
                    seen += statuses.len() as u64;
                    let done = statuses.len() < 50 || seen >= combined.total_count;
                    reports.extend(statuses.into_iter().map(|s| Report {
                        state: gitea_state(&s.status),
                        context: s.context,
                        source: Source::Status,
                        detail: s.status,
                    }));
                    if done {
                        break;
                    }
                }
                Ok(reports)
            }
        }
    }
}

/// GETs `path`: `None` when the forge answers that it does not know the commit (GitHub:
/// 422 "No commit found for SHA"; GitLab, Gitea: 404 naming the commit, the ref or the SHA).
fn get<T: serde::de::DeserializeOwned>(
    client: &Client<'_>,
    path: &str,
    query: &[(&str, &str)],
) -> Result<Option<T>, ForgeError> {
    let mut req = client.agent.get(format!("{}{path}", client.repo.api_base));
    for (k, v) in query {
        req = req.query(*k, *v);
    }
    let (status, text) = client.answer(client.with_auth(req).call())?;
    let unknown_commit = match (client.repo.kind, status) {
        (ForgeKind::GitHub, 422) => true,
        (ForgeKind::GitLab | ForgeKind::Gitea, 404) => {
            let message = super::server_message(&text).to_ascii_lowercase();
            ["commit", "sha", "ref"].iter().any(|w| message.contains(w))
                && !message.contains("project")
                && !message.contains("repo")
        }
        _ => false,
    };
    if unknown_commit {
        tracing::info!("the forge does not know commit {path}: no reports");
        return Ok(None);
    }
    client.decode("GET", path, status, &text).map(Some)
}

/// A GitHub commit status state: `error`, `failure`, `pending` or `success`.
fn github_status_state(state: &str) -> State {
    match state {
        "success" => State::Success,
        "pending" => State::Pending,
        "failure" => State::Failure,
        _ => State::Error,
    }
}

/// A GitHub check run: pending until `completed`, then by its conclusion. Only `success`
/// passes; `neutral` and `skipped` did not check anything, so they do not.
fn check_run_state(status: &str, conclusion: Option<&str>) -> (State, String) {
    if status != "completed" {
        return (State::Pending, status.to_owned());
    }
    let conclusion = conclusion.unwrap_or("none");
    let state = match conclusion {
        "success" => State::Success,
        "failure" | "timed_out" | "action_required" | "startup_failure" => State::Failure,
        _ => State::Error,
    };
    (state, conclusion.to_owned())
}

/// A GitLab commit status: `created`, `waiting_for_resource`, `preparing`, `pending`,
/// `running`, `manual`, `scheduled` (pending), `success`, `failed`, `canceled`, `skipped`.
fn gitlab_state(status: &str) -> State {
    match status {
        "success" => State::Success,
        "failed" => State::Failure,
        "created"
        | "waiting_for_resource"
        | "preparing"
        | "pending"
        | "running"
        | "manual"
        | "scheduled" => State::Pending,
        _ => State::Error,
    }
}

/// A Gitea / Forgejo commit status: `pending`, `success`, `error`, `failure`, `warning`.
fn gitea_state(status: &str) -> State {
    match status {
        "success" => State::Success,
        "pending" => State::Pending,
        "failure" | "warning" => State::Failure,
        _ => State::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_forge_word_has_a_state() {
        for (word, state) in [
            ("success", State::Success),
            ("pending", State::Pending),
            ("failure", State::Failure),
            ("error", State::Error),
        ] {
            assert_eq!(github_status_state(word), state);
        }
        assert_eq!(
            check_run_state("in_progress", None),
            (State::Pending, "in_progress".into())
        );
        assert_eq!(
            check_run_state("queued", Some("success")).0,
            State::Pending,
            "a run not completed has no conclusion yet"
        );
        for (conclusion, state) in [
            ("success", State::Success),
            ("failure", State::Failure),
            ("timed_out", State::Failure),
            ("cancelled", State::Error),
            ("neutral", State::Error),
            ("skipped", State::Error),
        ] {
            assert_eq!(
                check_run_state("completed", Some(conclusion)),
                (state, conclusion.to_owned())
            );
        }
        for (word, state) in [
            ("success", State::Success),
            ("failed", State::Failure),
            ("running", State::Pending),
            ("created", State::Pending),
            ("canceled", State::Error),
            ("skipped", State::Error),
        ] {
            assert_eq!(gitlab_state(word), state, "{word}");
        }
        for (word, state) in [
            ("success", State::Success),
            ("pending", State::Pending),
            ("warning", State::Failure),
            ("failure", State::Failure),
            ("error", State::Error),
        ] {
            assert_eq!(gitea_state(word), state, "{word}");
        }
    }
}
