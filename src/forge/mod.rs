//! The forge that hosts the GitOps repository — GitHub, GitLab, Gitea / Forgejo — through each
//! one's documented REST API: pull requests for release branches (merge requests on GitLab),
//! and the commit statuses and check runs the cluster and CI post (`status`). It finds the
//! forge from the remote URL (or is told), finds an open request for the branch and reuses
//! it, or opens one, and composes the body a reviewer reads (see [`pr_body`]).
//!
//! The access token comes from the environment only and is never put in a URL, a message or
//! a `Debug` output: every text a server sends back is passed through the redactor before it
//! becomes part of an error. This module touches no git repository and prints nothing.

mod body;
mod status;

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

pub use body::{pr_body, pr_body_many, PrSummary, DEFAULT_BODY_BYTES};
pub use status::StatusReader;

use crate::repo::transport::Redactor;

/// The forges greenlight can open pull requests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForgeKind {
    /// GitHub or GitHub Enterprise Server.
    GitHub,
    /// GitLab (merge requests).
    GitLab,
    /// Gitea or Forgejo (Codeberg).
    Gitea,
}

impl ForgeKind {
    /// The environment variable(s) holding its token, in the order they are read.
    pub fn token_vars(self) -> &'static [&'static str] {
        match self {
            ForgeKind::GitHub => &["GITHUB_TOKEN", "GH_TOKEN"],
            ForgeKind::GitLab => &["GITLAB_TOKEN"],
            ForgeKind::Gitea => &["GITEA_TOKEN"],
        }
    }

    /// What the forge calls the thing.
    pub fn request_name(self) -> &'static str {
        match self {
            ForgeKind::GitLab => "merge request",
            _ => "pull request",
        }
    }
}

impl fmt::Display for ForgeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ForgeKind::GitHub => "github",
            ForgeKind::GitLab => "gitlab",
            ForgeKind::Gitea => "gitea",
        })
    }
}

impl std::str::FromStr for ForgeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "github" => Ok(ForgeKind::GitHub),
            "gitlab" => Ok(ForgeKind::GitLab),
            "gitea" | "forgejo" => Ok(ForgeKind::Gitea),
            _ => Err(format!(
                "unknown forge {s:?}: expected github, gitlab or gitea"
            )),
        }
    }
}

/// A repository on a forge, as its API names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeRepo {
    /// Which forge.
    pub kind: ForgeKind,
    /// The API root, e.g. `https://api.github.com` or `https://gitlab.example.com/api/v4`.
    pub api_base: String,
    /// The project path: `owner/repo`, or `group/subgroup/project` on GitLab.
    pub project: String,
}

/// Why a pull request could not be found or opened. Messages never contain the token.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// No token in the environment.
    #[error("no token for {kind}: set {}", vars.join(" or "))]
    MissingToken {
        /// The forge.
        kind: ForgeKind,
        /// The variables that were read.
        vars: &'static [&'static str],
    },
    /// The forge could not be told from the remote URL.
    #[error("cannot tell which forge hosts {url}")]
    UnknownForge {
        /// The remote URL (credentials removed).
        url: String,
    },
    /// `--forge` named the forge, but the remote is a local path, which names no server.
    #[error("the remote {url} is a local path: it names no {kind} server to open a {} on", kind.request_name())]
    LocalRemote {
        /// The remote URL or path.
        url: String,
        /// The forge named with --forge.
        kind: ForgeKind,
    },
    /// The remote URL has no `owner/repo` path.
    #[error("cannot find the project path in {url}")]
    NoProject {
        /// The remote URL (credentials removed).
        url: String,
    },
    /// The token was refused (401) or lacks a permission (403).
    #[error("{kind} refused the token ({status}): {message}")]
    Unauthorized {
        /// The forge.
        kind: ForgeKind,
        /// What the token was used for.
        purpose: Purpose,
        /// The HTTP status.
        status: u16,
        /// What the server said (redacted).
        message: String,
    },
    /// The project does not exist or the token cannot see it (404).
    #[error("{kind} has no project {project}, or the token cannot see it")]
    NotFound {
        /// The forge.
        kind: ForgeKind,
        /// The project path.
        project: String,
    },
    /// Any other answer the API did not expect.
    #[error("{kind} API {method} {path} answered {status}: {message}")]
    Api {
        /// The forge.
        kind: ForgeKind,
        /// The HTTP method.
        method: &'static str,
        /// The request path (no host, no query).
        path: String,
        /// The HTTP status.
        status: u16,
        /// What the server said (redacted).
        message: String,
    },
    /// The request did not get an answer.
    #[error("could not reach the {kind} API at {url}: {reason}")]
    Transport {
        /// The forge.
        kind: ForgeKind,
        /// The API base URL.
        url: String,
        /// Why (redacted).
        reason: String,
    },
}

impl crate::error::Classified for ForgeError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            ForgeError::MissingToken { kind, .. } => format!(
                "create a token that may open {}s on the repository and export it; or drop \
                 --open-pr and use --pr-body-file with your own tooling",
                kind.request_name()
            ),
            ForgeError::UnknownForge { .. } => {
                "pass --forge github|gitlab|gitea, and --forge-api-url for a self-hosted server"
                    .to_owned()
            }
            ForgeError::LocalRemote { .. } => "push to the forge's URL (a remote such as \
                https://host/owner/repo.git), or pass --forge-api-url with the API of the \
                server whose owner/repo are the path's last two folders"
                .to_owned(),
            ForgeError::NoProject { .. } => {
                "the remote URL must name the repository, e.g. https://host/owner/repo.git"
                    .to_owned()
            }
            ForgeError::Unauthorized {
                kind,
                purpose: Purpose::PullRequests,
                ..
            } => match kind {
                ForgeKind::GitHub => "the token needs pull requests: write and contents: read \
                                      (fine-grained) or the repo scope (classic)"
                    .to_owned(),
                ForgeKind::GitLab => "the token needs the api scope and Developer access to \
                                      the project"
                    .to_owned(),
                ForgeKind::Gitea => "the token needs the write:repository scope".to_owned(),
            },
            ForgeError::Unauthorized {
                kind,
                purpose: Purpose::Statuses,
                ..
            } => match kind {
                ForgeKind::GitHub => "the token needs commit statuses: read and checks: read \
                                      (fine-grained) or the repo scope (classic)"
                    .to_owned(),
                ForgeKind::GitLab => "the token needs the read_api scope and Reporter access \
                                      to the project"
                    .to_owned(),
                ForgeKind::Gitea => "the token needs the read:repository scope".to_owned(),
            },
            ForgeError::NotFound { .. } => {
                "check the remote URL, --forge-api-url, and that the token can see the project"
                    .to_owned()
            }
            ForgeError::Api { .. } => return None,
            ForgeError::Transport { .. } => {
                "check --forge-api-url and the network; the branch is pushed, so running the \
                 command again opens the request"
                    .to_owned()
            }
        })
    }
}

/// What greenlight uses a forge token for (the permissions it needs differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Finding, opening and updating pull requests (`--open-pr`).
    PullRequests,
    /// Reading commit statuses and check runs (`promote --require-status`, `wait`).
    Statuses,
}

/// An access token, read from the environment. It prints as `<redacted>`.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// A token with this value (for tests and callers that read it elsewhere).
    pub fn new(value: impl Into<String>) -> Token {
        Token(value.into())
    }

    fn value(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The token for `kind` from its environment variable(s).
pub fn token_from_env(kind: ForgeKind) -> Result<Token, ForgeError> {
    kind.token_vars()
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()))
        .map(|v| Token(v.trim().to_owned()))
        .ok_or(ForgeError::MissingToken {
            kind,
            vars: kind.token_vars(),
        })
}

/// A pull request to find or open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestSpec {
    /// The branch with the change (short name).
    pub head: String,
    /// The branch to merge into (short name).
    pub base: String,
    /// The title.
    pub title: String,
    /// The markdown body.
    pub body: String,
}

/// A pull request (or merge request) found or opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Its number (GitLab: the iid).
    pub number: u64,
    /// Its web page.
    pub url: String,
    /// True when it was already open.
    pub reused: bool,
    /// True when it was already open with another description, now replaced by this one.
    pub body_updated: bool,
}

/// Finds the forge repository of a git remote URL: `https://host/o/r(.git)`, `ssh://[user@]host
/// [:port]/o/r.git`, `user@host:o/r.git`. `kind` and `api_base` override what the host
/// suggests (needed for self-hosted servers, and for any URL without a host, like file://).
pub fn detect(
    remote_url: &str,
    kind: Option<ForgeKind>,
    api_base: Option<&str>,
) -> Result<ForgeRepo, ForgeError> {
    let shown = Redactor::default().redact(remote_url);
    let remote = crate::repo::RemoteUrl::parse(remote_url)
        .ok_or_else(|| ForgeError::UnknownForge { url: shown.clone() })?;
    let host = remote.host().unwrap_or_default().to_owned();
    let path = remote.path();
    let project = path
        .trim_matches('/')
        .trim_end_matches(".git")
        .trim_end_matches('/')
        .to_owned();
    let project = match (host.is_empty(), kind, api_base) {
        // A local path: only the last two components can name a project.
        (true, Some(_), Some(_)) => {
            let parts: Vec<&str> = project.rsplitn(3, '/').take(2).collect();
            parts.into_iter().rev().collect::<Vec<_>>().join("/")
        }
        _ => project,
    };
    if project.split('/').filter(|p| !p.is_empty()).count() < 2 {
        return Err(ForgeError::NoProject { url: shown });
    }
    let kind = match kind.or_else(|| kind_of_host(&host)) {
        Some(kind) => kind,
        None => return Err(ForgeError::UnknownForge { url: shown }),
    };
    let api_base = match api_base {
        Some(base) => base.trim_end_matches('/').to_owned(),
        None if host.is_empty() => return Err(ForgeError::LocalRemote { url: shown, kind }),
        None => match kind {
            ForgeKind::GitHub if host == "github.com" => "https://api.github.com".to_owned(),
            ForgeKind::GitHub => format!("https://{host}/api/v3"),
            ForgeKind::GitLab => format!("https://{host}/api/v4"),
            ForgeKind::Gitea => format!("https://{host}/api/v1"),
        },
    };
    Ok(ForgeRepo {
        kind,
        api_base,
        project,
    })
}

fn kind_of_host(host: &str) -> Option<ForgeKind> {
    crate::grammar::forge_of_host(host).and_then(|kind| kind.parse().ok())
}

/// Finds an open pull request from `spec.head` into `spec.base` and returns it, or opens one.
/// A reused one gets `spec.body` as its description when it differs (the branch may have
/// gained commits since it was opened, and reviewers approve what the description shows);
/// its title is left as it is.
pub fn open_or_reuse(
    repo: &ForgeRepo,
    token: &Token,
    spec: &PullRequestSpec,
) -> Result<PullRequest, ForgeError> {
    let client = Client::new(repo, token);
    let Some(found) = client.find_open(spec)? else {
        return client.create(spec);
    };
    let body_updated = found.body.as_deref() != Some(spec.body.as_str());
    if body_updated {
        client.update_body(found.number, &spec.body)?;
    }
    Ok(PullRequest {
        number: found.number,
        url: found.url,
        reused: true,
        body_updated,
    })
}

/// An open pull request as a forge lists it.
struct Found {
    number: u64,
    url: String,
    body: Option<String>,
}

/// One forge's API, with the token and the redactor.
struct Client<'a> {
    repo: &'a ForgeRepo,
    token: &'a Token,
    agent: ureq::Agent,
    redactor: Redactor,
    purpose: Purpose,
}

/// The HTTP agent every forge request goes through: statuses are read, not raised, and no
/// request waits forever.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_global(Some(Duration::from_secs(60)))
        .user_agent(concat!("greenlight/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

#[derive(Deserialize)]
struct Branch {
    #[serde(rename = "ref")]
    name: String,
}

#[derive(Deserialize)]
struct GitHubPull {
    number: u64,
    html_url: String,
    head: Branch,
    base: Branch,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Deserialize)]
struct GitLabMergeRequest {
    iid: u64,
    web_url: String,
    source_branch: String,
    target_branch: String,
    #[serde(default)]
    description: Option<String>,
}

impl<'a> Client<'a> {
    fn new(repo: &'a ForgeRepo, token: &'a Token) -> Client<'a> {
        Client {
            repo,
            token,
            agent: agent(),
            redactor: Redactor::new([token.value().to_owned()]),
            purpose: Purpose::PullRequests,
        }
    }

    fn owner_repo(&self) -> (&str, &str) {
        self.repo
            .project
            .rsplit_once('/')
            .expect("detect checked the project has an owner")
    }

    fn find_open(&self, spec: &PullRequestSpec) -> Result<Option<Found>, ForgeError> {
        let found = match self.repo.kind {
            ForgeKind::GitHub => {
                let (owner, repo) = self.owner_repo();
                let path = format!("/repos/{owner}/{repo}/pulls");
                let head = format!("{owner}:{}", spec.head);
                let query = [
                    ("state", "open"),
                    ("head", head.as_str()),
                    ("base", spec.base.as_str()),
                ];
                let pulls: Vec<GitHubPull> = self.get(&path, &query)?;
                pulls
                    .into_iter()
                    .find(|p| p.head.name == spec.head && p.base.name == spec.base)
                    .map(Found::from)
            }
            ForgeKind::GitLab => {
                let path = format!("/projects/{}/merge_requests", encode(&self.repo.project));
                let query = [
                    ("state", "opened"),
                    ("source_branch", spec.head.as_str()),
                    ("target_branch", spec.base.as_str()),
                ];
                let requests: Vec<GitLabMergeRequest> = self.get(&path, &query)?;
                requests
                    .into_iter()
                    .find(|m| m.source_branch == spec.head && m.target_branch == spec.base)
                    .map(|m| Found {
                        number: m.iid,
                        url: m.web_url,
                        body: m.description,
                    })
            }
            ForgeKind::Gitea => {
                let (owner, repo) = self.owner_repo();
                let path = format!("/repos/{owner}/{repo}/pulls");
                let mut found = None;
                // Gitea has no head filter: page through the open ones (50 per page).
                for page in 1..=20u32 {
                    let page_s = page.to_string();
                    let query = [
                        ("state", "open"),
                        ("limit", "50"),
                        ("page", page_s.as_str()),
                    ];
                    let pulls: Vec<GitHubPull> = self.get(&path, &query)?;
                    let last = pulls.len() < 50;
                    found = pulls
                        .into_iter()
                        .find(|p| p.head.name == spec.head && p.base.name == spec.base)
                        .map(Found::from);
                    if found.is_some() || last {
                        break;
                    }
                }
                found
            }
        };
        Ok(found)
    }

    /// Replaces the description of open pull request `number`.
    fn update_body(&self, number: u64, body: &str) -> Result<(), ForgeError> {
        let _: serde_json::Value = match self.repo.kind {
            ForgeKind::GitHub | ForgeKind::Gitea => {
                let (owner, repo) = self.owner_repo();
                let path = format!("/repos/{owner}/{repo}/pulls/{number}");
                let req = self.agent.patch(format!("{}{path}", self.repo.api_base));
                let res = self.with_auth(req).send_json(json!({ "body": body }));
                self.read("PATCH", &path, res)?
            }
            ForgeKind::GitLab => {
                let path = format!(
                    "/projects/{}/merge_requests/{number}",
                    encode(&self.repo.project)
                );
                let req = self.agent.put(format!("{}{path}", self.repo.api_base));
                let res = self
                    .with_auth(req)
                    .send_json(json!({ "description": body }));
                self.read("PUT", &path, res)?
            }
        };
        Ok(())
    }

    fn create(&self, spec: &PullRequestSpec) -> Result<PullRequest, ForgeError> {
        let (number, url) = match self.repo.kind {
            ForgeKind::GitHub | ForgeKind::Gitea => {
                let (owner, repo) = self.owner_repo();
                let path = format!("/repos/{owner}/{repo}/pulls");
                let body = json!({
                    "title": spec.title,
                    "head": spec.head,
                    "base": spec.base,
                    "body": spec.body,
                });
                let pull: Created = self.post(&path, &body)?;
                (pull.number, pull.html_url)
            }
            ForgeKind::GitLab => {
                let path = format!("/projects/{}/merge_requests", encode(&self.repo.project));
                let body = json!({
                    "source_branch": spec.head,
                    "target_branch": spec.base,
                    "title": spec.title,
                    "description": spec.body,
                });
                let mr: GitLabCreated = self.post(&path, &body)?;
                (mr.iid, mr.web_url)
            }
        };
        Ok(PullRequest {
            number,
            url,
            reused: false,
            body_updated: false,
        })
    }

    fn with_auth<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        let token = self.token.value();
        match self.repo.kind {
            ForgeKind::GitHub => req
                .header("Authorization", format!("Bearer {token}"))
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28"),
            ForgeKind::GitLab => req
                .header("PRIVATE-TOKEN", token)
                .header("Accept", "application/json"),
            ForgeKind::Gitea => req
                .header("Authorization", format!("token {token}"))
                .header("Accept", "application/json"),
        }
    }

    fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ForgeError> {
        let mut req = self.agent.get(format!("{}{path}", self.repo.api_base));
        for (k, v) in query {
            req = req.query(*k, *v);
        }
        let res = self.with_auth(req).call();
        self.read("GET", path, res)
    }

    fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, ForgeError> {
        let req = self.agent.post(format!("{}{path}", self.repo.api_base));
        let res = self.with_auth(req).send_json(body);
        self.read("POST", path, res)
    }

    fn read<T: serde::de::DeserializeOwned>(
        &self,
        method: &'static str,
        path: &str,
        res: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, ForgeError> {
        let (status, text) = self.answer(res)?;
        self.decode(method, path, status, &text)
    }

    /// The HTTP status and body text of an answer; only a request that got none fails.
    fn answer(
        &self,
        res: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, String), ForgeError> {
        let mut res = res.map_err(|e| ForgeError::Transport {
            kind: self.repo.kind,
            url: self.repo.api_base.clone(),
            reason: self.redactor.redact(&e.to_string()),
        })?;
        let status = res.status().as_u16();
        let text = res
            .body_mut()
            .with_config()
            .limit(10 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_default();
        Ok((status, text))
    }

    /// The JSON of a successful answer, or the error an unsuccessful one means.
    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        method: &'static str,
        path: &str,
        status: u16,
        text: &str,
    ) -> Result<T, ForgeError> {
        let kind = self.repo.kind;
        if (200..300).contains(&status) {
            return serde_json::from_str(text).map_err(|e| ForgeError::Api {
                kind,
                method,
                path: path.to_owned(),
                status,
                message: format!("unexpected answer: {e}"),
            });
        }
        let message = self.redactor.redact(&server_message(text));
        Err(match status {
            401 | 403 => ForgeError::Unauthorized {
                kind,
                purpose: self.purpose,
                status,
                message,
            },
            404 => ForgeError::NotFound {
                kind,
                project: self.repo.project.clone(),
            },
            _ => ForgeError::Api {
                kind,
                method,
                path: path.to_owned(),
                status,
                message,
            },
        })
    }
}

impl From<GitHubPull> for Found {
    fn from(p: GitHubPull) -> Found {
        Found {
            number: p.number,
            url: p.html_url,
            body: p.body,
        }
    }
}

#[derive(Deserialize)]
struct Created {
    number: u64,
    html_url: String,
}

#[derive(Deserialize)]
struct GitLabCreated {
    iid: u64,
    web_url: String,
}

/// The human part of an API error body: GitHub's `message` (+ `errors[].message`), GitLab's
/// `message` (string or list) or `error`, Gitea's `message`; else the text, shortened.
fn server_message(text: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        let trimmed: String = text.trim().chars().take(300).collect();
        return if trimmed.is_empty() {
            "no details".to_owned()
        } else {
            trimmed
        };
    };
    let mut parts = Vec::new();
    for key in ["message", "error"] {
        match &value[key] {
            serde_json::Value::String(s) => parts.push(s.clone()),
            serde_json::Value::Array(items) => {
                parts.extend(items.iter().filter_map(|i| i.as_str().map(str::to_owned)))
            }
            _ => {}
        }
    }
    if let Some(errors) = value["errors"].as_array() {
        parts.extend(
            errors
                .iter()
                .filter_map(|e| e["message"].as_str().map(str::to_owned)),
        );
    }
    if parts.is_empty() {
        value.to_string().chars().take(300).collect()
    } else {
        parts.join("; ")
    }
}

/// Percent-encodes a GitLab project path for use as one path segment (every byte but the
/// unreserved characters of RFC 3986).
fn encode(project: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(project, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Classified as _;

    #[test]
    fn forges_are_found_from_every_url_form() {
        let cases = [
            (
                "https://github.com/acme/gitops.git",
                ForgeKind::GitHub,
                "https://api.github.com",
                "acme/gitops",
            ),
            (
                "git@github.com:acme/gitops.git",
                ForgeKind::GitHub,
                "https://api.github.com",
                "acme/gitops",
            ),
            (
                "ssh://git@github.com:22/acme/gitops",
                ForgeKind::GitHub,
                "https://api.github.com",
                "acme/gitops",
            ),
            (
                "https://bot:secret@gitlab.com/acme/platform/gitops.git",
                ForgeKind::GitLab,
                "https://gitlab.com/api/v4",
                "acme/platform/gitops",
            ),
            (
                "git@gitlab.example.com:acme/gitops.git",
                ForgeKind::GitLab,
                "https://gitlab.example.com/api/v4",
                "acme/gitops",
            ),
            (
                "https://codeberg.org/acme/gitops",
                ForgeKind::Gitea,
                "https://codeberg.org/api/v1",
                "acme/gitops",
            ),
            (
                "ssh://git@forgejo.example.com:2222/acme/gitops.git",
                ForgeKind::Gitea,
                "https://forgejo.example.com/api/v1",
                "acme/gitops",
            ),
        ];
        for (url, kind, api, project) in cases {
            let repo = detect(url, None, None).unwrap();
            assert_eq!(
                repo,
                ForgeRepo {
                    kind,
                    api_base: api.to_owned(),
                    project: project.to_owned()
                },
                "{url}"
            );
        }
    }

    #[test]
    fn self_hosted_and_local_remotes_need_to_be_told() {
        let err = detect("https://git.acme.internal/acme/gitops.git", None, None).unwrap_err();
        assert!(matches!(err, ForgeError::UnknownForge { .. }));
        assert!(err.hint().unwrap().contains("--forge"));
        let repo = detect(
            "https://git.acme.internal/acme/gitops.git",
            Some(ForgeKind::GitHub),
            None,
        )
        .unwrap();
        assert_eq!(repo.api_base, "https://git.acme.internal/api/v3");
        let repo = detect(
            "/srv/git/acme/gitops.git",
            Some(ForgeKind::Gitea),
            Some("http://127.0.0.1:3000/api/v1/"),
        )
        .unwrap();
        assert_eq!(
            (repo.api_base.as_str(), repo.project.as_str()),
            ("http://127.0.0.1:3000/api/v1", "acme/gitops")
        );
        assert!(matches!(
            detect("file:///srv/gitops.git", None, None),
            Err(ForgeError::UnknownForge { .. })
        ));
        // Naming the forge does not make a path name a server: say that, not "which forge".
        let err = detect("/srv/git/acme/gitops.git", Some(ForgeKind::GitHub), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the remote /srv/git/acme/gitops.git is a local path: it names no github server to \
             open a pull request on"
        );
        assert!(err.hint().unwrap().contains("--forge-api-url"));
        assert!(matches!(
            detect("https://github.com/gitops.git", None, None),
            Err(ForgeError::NoProject { .. })
        ));
    }

    #[test]
    fn urls_in_errors_lose_their_password() {
        let err = detect("https://bot:hunter2@git.acme.internal/a/b.git", None, None).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn tokens_never_print() {
        let t = Token::new("ghp_secret");
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
    }

    #[test]
    fn server_messages_are_extracted() {
        assert_eq!(
            server_message(
                r#"{"message":"Validation Failed","errors":[{"message":"A pull request already exists for acme:x."}]}"#
            ),
            "Validation Failed; A pull request already exists for acme:x."
        );
        assert_eq!(
            server_message(r#"{"message":["Another open merge request already exists"]}"#),
            "Another open merge request already exists"
        );
        assert_eq!(
            server_message("<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
        assert_eq!(encode("acme/platform/gitops"), "acme%2Fplatform%2Fgitops");
    }
}
