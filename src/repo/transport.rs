//! Talking to remotes: clone, fetch and push through the `git` program, exactly as the user's
//! git would — the same URL forms (file://, ssh://, scp-like, git://, http(s)://), the same
//! OpenSSH with its agent, keys, `core.sshCommand` and known_hosts checking, the same credential
//! helpers. greenlight adds only what a CI bot cannot do with plain git configuration:
//!
//! - `GREENLIGHT_SSH_KEY`: a private key file for ssh remotes (`ssh -i KEY -o IdentitiesOnly=yes`);
//! - `GREENLIGHT_SSH_KNOWN_HOSTS`: a known_hosts file, checked strictly;
//! - `GREENLIGHT_GIT_TOKEN` (with `GREENLIGHT_GIT_USERNAME`, default `x-access-token`): an access
//!   token for http(s) remotes, handed to git by a credential helper that reads it from the
//!   environment, so it is never on a command line, in a config file or in a URL.
//!
//! git never prompts (`GIT_TERMINAL_PROMPT=0`, ssh `BatchMode`); an unanswerable question is an
//! error. Every message that leaves this module passes [`Redactor`], which removes the token and
//! any password written into a remote URL. Push results are classified in one place,
//! [`classify_push`], from git's porcelain output. This module moves no branch of the local
//! repository except the fetch destination it is given, and decides nothing about retries.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git2::Oid;

/// The environment variable naming an ssh private key for ssh remotes.
pub const SSH_KEY_VAR: &str = "GREENLIGHT_SSH_KEY";
/// The environment variable naming a known_hosts file for ssh remotes.
pub const KNOWN_HOSTS_VAR: &str = "GREENLIGHT_SSH_KNOWN_HOSTS";
/// The environment variable holding an access token for http(s) remotes.
pub const TOKEN_VAR: &str = "GREENLIGHT_GIT_TOKEN";
/// The environment variable holding the user name sent with [`TOKEN_VAR`].
pub const USERNAME_VAR: &str = "GREENLIGHT_GIT_USERNAME";

/// The user name sent with a token when [`USERNAME_VAR`] is unset (GitHub, GitLab and Gitea
/// all accept a token as the password with any user name).
const DEFAULT_USERNAME: &str = "x-access-token";

/// Why a clone, fetch or push could not be done. Messages never contain credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The `git` program could not be started.
    #[error("could not run git ({program}): {reason}")]
    GitNotFound {
        /// The program that was tried.
        program: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The remote refused our credentials (or asked for some and none were available).
    #[error("{remote}: authentication failed: {detail}")]
    Auth {
        /// The remote, redacted.
        remote: String,
        /// git's message, redacted.
        detail: String,
    },
    /// The ssh server's host key is not in known_hosts (or does not match it).
    #[error("{remote}: the ssh host key could not be verified")]
    HostKey {
        /// The remote, redacted.
        remote: String,
    },
    /// No connection could be made.
    #[error("{remote}: could not connect: {detail}")]
    Unreachable {
        /// The remote, redacted.
        remote: String,
        /// git's message, redacted.
        detail: String,
    },
    /// The remote has no such repository (or does not let us see it).
    #[error("{remote}: no such repository, or no access to it: {detail}")]
    NoRepository {
        /// The remote, redacted.
        remote: String,
        /// git's message, redacted.
        detail: String,
    },
    /// The remote has no such branch.
    #[error("{remote}: there is no branch {branch}")]
    NoBranch {
        /// The remote, redacted.
        remote: String,
        /// The branch's short name.
        branch: String,
    },
    /// Anything else git reported.
    #[error("git {operation} {remote} failed: {detail}")]
    Failed {
        /// `clone`, `fetch` or `push`.
        operation: &'static str,
        /// The remote, redacted.
        remote: String,
        /// git's message, redacted.
        detail: String,
    },
}

impl crate::error::Classified for TransportError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            TransportError::GitNotFound { .. } => {
                "remote operations run the git program: install git and make sure it is on PATH"
                    .to_owned()
            }
            TransportError::Auth { .. } => format!(
                "for ssh remotes load a key into ssh-agent or set {SSH_KEY_VAR}; for http(s) \
                 remotes set {TOKEN_VAR} or configure a git credential helper; check that the \
                 key or token may write to the repository"
            ),
            TransportError::HostKey { .. } => format!(
                "add the server's host key to ~/.ssh/known_hosts (or a file named by \
                 {KNOWN_HOSTS_VAR}) after checking its fingerprint; greenlight never accepts \
                 unknown host keys"
            ),
            TransportError::Unreachable { .. } => {
                "check the remote URL (`git remote -v`) and that the server is up".to_owned()
            }
            TransportError::NoRepository { .. } => {
                "check the remote URL and that your credentials can see the repository".to_owned()
            }
            TransportError::NoBranch { .. } => {
                "name an existing branch, or push one first".to_owned()
            }
            TransportError::Failed { .. } => return None,
        })
    }
}

/// How much of a remote [`Transport::clone_bare`] fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloneDepth {
    /// Every commit, tree and blob of the branch.
    Full,
    /// The tip commit and the top two levels of its tree; the rest on demand.
    Partial,
}

/// The filter of a partial clone made by greenlight: the root tree and the folders in it.
pub const PARTIAL_CLONE_FILTER: &str = "tree:2";

/// What comes with the objects [`Transport::fetch_objects`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectFilter {
    /// Only the objects asked for.
    Exact,
    /// A tree with the trees directly in it (one more level of a path in the same request).
    Children,
    /// A tree with every tree below it (for a walk of a whole folder).
    Trees,
}

/// How much history [`Transport::deepen`] fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deepen {
    /// This many more commits behind each shallow boundary commit.
    By(u32),
    /// All of it (the repository is no longer shallow).
    All,
}

/// How the remote answered a push of one branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushStatus {
    /// The branch now points at the pushed commit.
    Accepted,
    /// The branch already pointed at the pushed commit.
    UpToDate,
    /// The remote's branch has commits the push does not contain (or moved while the push
    /// was being received): fetch and redo the change.
    NonFastForward,
    /// The remote refused the update for another reason (a hook, a protected branch).
    RemoteRejected {
        /// The reason the remote gave, redacted.
        reason: String,
    },
}

/// Reads the result of `git push --porcelain` for exactly one ref: its exit status, stdout and
/// stderr. Failures before any ref was negotiated (authentication, host keys, connection,
/// missing repository) come back as errors naming `remote`.
pub fn classify_push(
    success: bool,
    stdout: &str,
    stderr: &str,
    remote: &str,
) -> Result<PushStatus, TransportError> {
    // Porcelain ref lines: "<flag>\t<from>:<to>\t<summary> (<reason>)".
    let ref_line = stdout
        .lines()
        .find_map(|line| {
            let mut fields = line.splitn(3, '\t');
            let flag = fields.next()?;
            let _refs = fields.next()?;
            let summary = fields.next()?;
            (flag.len() == 1).then(|| (flag.chars().next().unwrap_or(' '), summary.trim()))
        })
        .map(|(flag, summary)| (flag, summary.to_owned()));
    let Some((flag, summary)) = ref_line else {
        return Err(classify_failure("push", remote, stderr));
    };
    let reason = summary
        .split_once('(')
        .and_then(|(_, rest)| rest.rsplit_once(')'))
        .map(|(reason, _)| reason.trim().to_owned())
        .unwrap_or_default();
    match flag {
        '=' => Ok(PushStatus::UpToDate),
        ' ' | '+' | '*' | '-' if success => Ok(PushStatus::Accepted),
        '!' if summary.starts_with("[rejected]")
            && matches!(reason.as_str(), "fetch first" | "non-fast-forward") =>
        {
            Ok(PushStatus::NonFastForward)
        }
        // Another push won the race for the ref lock after our fast-forward check passed.
        '!' if summary.starts_with("[remote rejected]")
            && (reason.contains("failed to update ref")
                || reason.contains("cannot lock ref")
                || reason.contains("incorrect old value")) =>
        {
            Ok(PushStatus::NonFastForward)
        }
        '!' => {
            let from_stderr = remote_says(stderr);
            let reason = match (reason.is_empty(), from_stderr.is_empty()) {
                (_, false) if !reason.is_empty() => format!("{reason}: {from_stderr}"),
                (true, false) => from_stderr,
                _ => reason,
            };
            Ok(PushStatus::RemoteRejected { reason })
        }
        _ => Err(classify_failure("push", remote, stderr)),
    }
}

/// The lines a remote printed during a push (`remote: ...`), joined, trailing padding removed.
fn remote_says(stderr: &str) -> String {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("remote:"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Classifies a git failure that happened before (or instead of) any ref update from its
/// stderr. The one place that knows git's and ssh's wording.
pub fn classify_failure(operation: &'static str, remote: &str, stderr: &str) -> TransportError {
    let remote = remote.to_owned();
    let detail = summarize(stderr);
    let has = |needle: &str| stderr.contains(needle);
    if has("Host key verification failed") || has("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        TransportError::HostKey { remote }
    } else if has("Permission denied (")
        || has("Authentication failed")
        || has("could not read Username")
        || has("could not read Password")
        || has("terminal prompts disabled")
        || has("The requested URL returned error: 401")
        || has("The requested URL returned error: 403")
    {
        TransportError::Auth { remote, detail }
    } else if has("Connection refused")
        || has("Could not resolve host")
        || has("unable to connect to")
        || has("Connection timed out")
        || has("Failed to connect to")
        || has("Connection reset by")
        || has("No route to host")
    {
        TransportError::Unreachable { remote, detail }
    } else if has("does not appear to be a git repository")
        || has("repository not exported")
        || has("The requested URL returned error: 404")
        || (has("repository '") && has("' not found"))
    {
        TransportError::NoRepository { remote, detail }
    } else {
        TransportError::Failed {
            operation,
            remote,
            detail,
        }
    }
}

/// git's stderr reduced to the lines that say what went wrong (no hints, no blank lines).
fn summarize(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .filter(|l| !l.starts_with("Please make sure you have the correct access rights"))
        .filter(|l| *l != "and the repository exists.")
        .collect();
    if lines.is_empty() {
        "git gave no reason".to_owned()
    } else {
        lines.join("; ")
    }
}

/// Removes secrets from text: the configured token, and the password part of any URL
/// (`https://user:secret@host` → `https://user:<redacted>@host`).
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// A redactor for these secret values (empty ones are ignored).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        Redactor {
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
        }
    }

    /// `text` with every secret and URL password replaced by `<redacted>`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = redact_url_passwords(text);
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), "<redacted>");
        }
        out
    }
}

fn redact_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at_sign) => {
                let userinfo = &authority[..at_sign];
                match userinfo.split_once(':') {
                    Some((user, _password)) => {
                        out.push_str(user);
                        out.push_str(":<redacted>");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at_sign..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

/// Runs git for remote operations with the environment's authentication settings.
#[derive(Debug, Clone)]
pub struct Transport {
    program: PathBuf,
    ssh_key: Option<PathBuf>,
    known_hosts: Option<PathBuf>,
    token: bool,
    redactor: Redactor,
}

impl Transport {
    /// A transport configured from the environment ([`SSH_KEY_VAR`], [`KNOWN_HOSTS_VAR`],
    /// [`TOKEN_VAR`], [`USERNAME_VAR`]); `GREENLIGHT_GIT` names another git program.
    pub fn from_env() -> Transport {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let token = std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty());
        Transport {
            program: var("GREENLIGHT_GIT")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("git")),
            ssh_key: var(SSH_KEY_VAR).map(PathBuf::from),
            known_hosts: var(KNOWN_HOSTS_VAR).map(PathBuf::from),
            token: token.is_some(),
            redactor: Redactor::new(token),
        }
    }

    /// The redactor for this transport's secrets, for messages built elsewhere.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Clones `url` into `dest` as a bare repository with only `branch` (or the remote's default
    /// branch) and no tags. The remote is called `origin`.
    ///
    /// [`CloneDepth::Partial`] asks for the tip commit alone (`--depth 1`) with only the
    /// trees of the top two levels (`--filter=tree:2`: the root and `environments/`,
    /// `rendered/`, `templates/`); the rest is fetched when it is read (see
    /// [`Transport::fetch_objects`] and [`Transport::deepen`]). A server that does not
    /// filter sends the whole tip instead, and one that cannot serve a shallow clone (dumb
    /// HTTP) gets a full clone.
    pub fn clone_bare(
        &self,
        url: &str,
        dest: &Path,
        branch: Option<&str>,
        depth: CloneDepth,
    ) -> Result<(), TransportError> {
        let mut args: Vec<OsString> =
            ["clone", "--bare", "--quiet", "--no-tags", "--single-branch"]
                .iter()
                .map(OsString::from)
                .collect();
        if depth == CloneDepth::Partial {
            args.push("--depth=1".into());
            args.push(format!("--filter={PARTIAL_CLONE_FILTER}").into());
        }
        if let Some(branch) = branch {
            args.push("--branch".into());
            args.push(branch.into());
        }
        args.push("--".into());
        args.push(url.into());
        args.push(dest.into());
        let out = self.run(None, &args)?;
        if out.success {
            return Ok(());
        }
        if depth == CloneDepth::Partial && out.stderr.contains("does not support shallow") {
            tracing::info!("the remote cannot serve a shallow clone: cloning all of it");
            let _ = std::fs::remove_dir_all(dest);
            return self.clone_bare(url, dest, branch, CloneDepth::Full);
        }
        let remote = self.redactor.redact(url);
        if let Some(branch) = branch {
            if out.stderr.contains("not found in upstream") {
                return Err(TransportError::NoBranch {
                    remote,
                    branch: branch.to_owned(),
                });
            }
        }
        Err(classify_failure("clone", &remote, &out.stderr))
    }

    /// Fetches exactly the objects `ids` (trees or blobs a partial clone lacks) from `remote`
    /// into the repository at `git_dir`, in one request, as git's own lazy fetch of a partial
    /// clone does. With [`ObjectFilter::Children`] a tree comes with the trees directly in
    /// it; with [`ObjectFilter::Trees`] with every tree below it; blobs come alone.
    pub fn fetch_objects(
        &self,
        git_dir: &Path,
        remote: &str,
        ids: &[Oid],
        filter: ObjectFilter,
    ) -> Result<(), TransportError> {
        if ids.is_empty() {
            return Ok(());
        }
        let filter = match filter {
            ObjectFilter::Exact => "--filter=tree:0",
            ObjectFilter::Children => "--filter=tree:1",
            ObjectFilter::Trees => "--filter=blob:none",
        };
        let args: Vec<OsString> = [
            "-c",
            "fetch.negotiationAlgorithm=noop",
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-auto-maintenance",
            "--recurse-submodules=no",
            filter,
            "--stdin",
            "--",
            remote,
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let mut input = String::with_capacity(ids.len() * 41);
        for id in ids {
            input.push_str(&id.to_string());
            input.push('\n');
        }
        tracing::debug!("fetching {} missing objects from {remote}", ids.len());
        let out = self.run_with_input(Some(git_dir), &args, Some(input.as_bytes()))?;
        self.fetched(&out, remote)
    }

    /// Fetches history below the shallow boundary of the repository at `git_dir`: `by`
    /// more commits behind each boundary commit, or all of it. Commits only (`--filter=tree:0`)
    /// when `commits_only`, as a partial clone can fetch their trees later. No ref moves:
    /// the commit asked for (`tip`, already here) only anchors the request.
    pub fn deepen(
        &self,
        git_dir: &Path,
        remote: &str,
        tip: Oid,
        by: Deepen,
        commits_only: bool,
    ) -> Result<(), TransportError> {
        let mut args: Vec<OsString> = [
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-auto-maintenance",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        if commits_only {
            args.push("--filter=tree:0".into());
        }
        args.push(match by {
            Deepen::By(n) => format!("--deepen={n}").into(),
            Deepen::All => "--unshallow".into(),
        });
        args.push("--".into());
        args.push(remote.into());
        args.push(tip.to_string().into());
        tracing::debug!("deepening the history from {remote}: {by:?}");
        let out = self.run(Some(git_dir), &args)?;
        self.fetched(&out, remote)
    }

    /// The outcome of a fetch from `remote` that moves no ref: done, or why not (the URL's
    /// credentials redacted).
    fn fetched(&self, out: &Output, remote: &str) -> Result<(), TransportError> {
        if out.success {
            return Ok(());
        }
        Err(classify_failure(
            "fetch",
            &self.redactor.redact(remote),
            &out.stderr,
        ))
    }

    /// Fetches `branch` of `remote` (a remote name or URL) into the local ref `into`
    /// (forced: it is a remote-tracking or scratch ref). Returns the fetched tip, or `None`
    /// when the remote has no such branch.
    pub fn fetch_branch(
        &self,
        git_dir: &Path,
        remote: &str,
        branch: &str,
        into: &str,
    ) -> Result<Option<Oid>, TransportError> {
        let refspec = format!("+refs/heads/{branch}:{into}");
        let args: Vec<OsString> = [
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--",
            remote,
            &refspec,
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let out = self.run(Some(git_dir), &args)?;
        let label = self.redactor.redact(remote);
        if !out.success {
            if out.stderr.contains("couldn't find remote ref") {
                return Ok(None);
            }
            return Err(classify_failure("fetch", &label, &out.stderr));
        }
        let rev = self.run(
            Some(git_dir),
            &["rev-parse", "--verify", "--quiet", into]
                .iter()
                .map(OsString::from)
                .collect::<Vec<_>>(),
        )?;
        let id = rev.stdout.trim();
        Oid::from_str(id)
            .map(Some)
            .map_err(|_| TransportError::Failed {
                operation: "fetch",
                remote: label,
                detail: format!("{into} does not name a commit after the fetch"),
            })
    }

    /// Pushes `commit` to `refs/heads/<branch>` of `remote` without force: the remote takes it
    /// only as a fast-forward (or a new branch).
    pub fn push(
        &self,
        git_dir: &Path,
        remote: &str,
        commit: Oid,
        branch: &str,
    ) -> Result<PushStatus, TransportError> {
        let refspec = format!("{commit}:refs/heads/{branch}");
        let args: Vec<OsString> = ["push", "--porcelain", "--", remote, &refspec]
            .iter()
            .map(OsString::from)
            .collect();
        let out = self.run(Some(git_dir), &args)?;
        let label = self.redactor.redact(remote);
        let status = classify_push(out.success, &out.stdout, &out.stderr, &label)?;
        Ok(match status {
            PushStatus::RemoteRejected { reason } => PushStatus::RemoteRejected {
                reason: self.redactor.redact(&reason),
            },
            other => other,
        })
    }

    /// The URL of the remote called `name` in the repository at `git_dir`, if any (`name` may
    /// itself be a URL, which is returned as it is).
    pub fn remote_url(&self, git_dir: &Path, name: &str) -> Result<String, TransportError> {
        if looks_like_url(name) {
            return Ok(name.to_owned());
        }
        let args: Vec<OsString> = ["remote", "get-url", "--", name]
            .iter()
            .map(OsString::from)
            .collect();
        let out = self.run(Some(git_dir), &args)?;
        if out.success {
            Ok(out.stdout.trim().to_owned())
        } else {
            Err(TransportError::NoRepository {
                remote: name.to_owned(),
                detail: format!("no remote named {name:?} is configured (see `git remote -v`)"),
            })
        }
    }

    fn run(&self, git_dir: Option<&Path>, args: &[OsString]) -> Result<Output, TransportError> {
        self.run_with_input(git_dir, args, None)
    }

    fn run_with_input(
        &self,
        git_dir: Option<&Path>,
        args: &[OsString],
        input: Option<&[u8]>,
    ) -> Result<Output, TransportError> {
        let mut cmd = Command::new(&self.program);
        if let Some(dir) = git_dir {
            cmd.arg("--git-dir").arg(dir);
        }
        cmd.args(args)
            .stdin(match input {
                Some(_) => Stdio::piped(),
                None => Stdio::null(),
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE");
        if let Some(ssh) = self.ssh_command() {
            cmd.env("GIT_SSH_COMMAND", ssh);
        }
        if self.token {
            self.add_credential_helper(&mut cmd);
        }
        tracing::debug!(
            "running {} {}",
            self.program.display(),
            self.redactor.redact(
                &args
                    .iter()
                    .map(|a| a.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        );
        let not_found = |e: std::io::Error| TransportError::GitNotFound {
            program: self.program.display().to_string(),
            reason: e.to_string(),
        };
        let mut child = cmd.spawn().map_err(not_found)?;
        let stdin = child.stdin.take();
        let out = std::thread::scope(|scope| {
            if let (Some(input), Some(mut stdin)) = (input, stdin) {
                // On its own thread, so a git that writes much before it has read all of
                // its input cannot block; a git that exits early closes the pipe, and its
                // exit status says why.
                scope.spawn(move || {
                    use std::io::Write as _;
                    let _ = stdin.write_all(input);
                });
            }
            child.wait_with_output()
        })
        .map_err(not_found)?;
        Ok(Output {
            success: out.status.success(),
            stdout: self.redactor.redact(&String::from_utf8_lossy(&out.stdout)),
            stderr: self.redactor.redact(&String::from_utf8_lossy(&out.stderr)),
        })
    }

    /// `GIT_SSH_COMMAND` for the configured key and known_hosts file, or `None` to leave the
    /// user's ssh set-up (`core.sshCommand`, `~/.ssh/config`, the agent) alone.
    fn ssh_command(&self) -> Option<String> {
        if self.ssh_key.is_none() && self.known_hosts.is_none() {
            return None;
        }
        let mut command = String::from("ssh -o BatchMode=yes");
        if let Some(key) = &self.ssh_key {
            command.push_str(" -o IdentitiesOnly=yes -i ");
            command.push_str(&shell_quote(&key.to_string_lossy()));
        }
        if let Some(known_hosts) = &self.known_hosts {
            command.push_str(" -o StrictHostKeyChecking=yes -o UserKnownHostsFile=");
            command.push_str(&shell_quote(&known_hosts.to_string_lossy()));
        }
        Some(command)
    }

    /// Makes git take the token from our environment through a credential helper given in
    /// `GIT_CONFIG_*` variables (after the ones the user already set), and only that helper.
    fn add_credential_helper(&self, cmd: &mut Command) {
        let count: usize = std::env::var("GIT_CONFIG_COUNT")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let helper = format!(
            "!f() {{ test \"$1\" = get || exit 0; echo \"username=${{{USERNAME_VAR}:-{DEFAULT_USERNAME}}}\"; \
             echo \"password=${TOKEN_VAR}\"; }}; f"
        );
        // An empty value first resets the helper list, so a stored credential cannot win.
        for (i, value) in [String::new(), helper].into_iter().enumerate() {
            cmd.env(format!("GIT_CONFIG_KEY_{}", count + i), "credential.helper");
            cmd.env(format!("GIT_CONFIG_VALUE_{}", count + i), value);
        }
        cmd.env("GIT_CONFIG_COUNT", (count + 2).to_string());
    }
}

struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Whether `remote` is a URL or path rather than the name of a configured remote.
pub fn looks_like_url(remote: &str) -> bool {
    super::RemoteUrl::parse(remote).is_some()
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real `git push --porcelain` outputs (git 2.47) from a file:// remote, git daemon, git
    // http-backend and OpenSSH.
    const FETCH_FIRST: &str =
        "To /tmp/exp/remote.git\n!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone\n";
    const NON_FF: &str = "To git://127.0.0.1:19418/remote.git\n!\tHEAD:refs/heads/main\t[rejected] (non-fast-forward)\nDone\n";
    const HOOK_OUT: &str = "To git://127.0.0.1:19418/remote.git\n!\tHEAD:refs/heads/hooked\t[remote rejected] (pre-receive hook declined)\nDone\n";
    const HOOK_ERR: &str = "remote: policy: main is protected        \nerror: failed to push some refs to 'git://127.0.0.1:19418/remote.git'\n";
    const NEW_BRANCH: &str =
        "To http://127.0.0.1:43897/remote.git\n*\tHEAD:refs/heads/viahttp\t[new branch]\nDone\n";
    const FAST_FORWARD: &str = "To ssh://127.0.0.1:19422/tmp/exp/remote.git\n \t4f2c1e0b:refs/heads/main\t1a2b3c4..4f2c1e0\nDone\n";
    const UP_TO_DATE: &str =
        "To /tmp/exp/remote.git\n=\trefs/remotes/origin/main:refs/heads/main\t[up to date]\nDone\n";
    const HTTP_AUTH: &str =
        "fatal: could not read Username for 'http://127.0.0.1:43897': No such device or address\n";
    const HTTP_AUTH_FAILED: &str =
        "fatal: Authentication failed for 'http://127.0.0.1:43897/remote.git/'\n";
    const SSH_HOST_KEY: &str = "Host key verification failed.\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n";
    const SSH_DENIED: &str = "root@127.0.0.1: Permission denied (publickey).\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n";
    const SSH_NO_REPO: &str = "fatal: '/tmp/exp/nothere.git' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n";
    const DAEMON_NO_REPO: &str =
        "fatal: remote error: access denied or repository not exported: /nope.git\n";
    const REFUSED: &str = "fatal: unable to connect to 127.0.0.1:\n127.0.0.1[0: 127.0.0.1]: errno=Connection refused\n";

    #[test]
    fn push_rejections_that_mean_fetch_and_retry() {
        for out in [FETCH_FIRST, NON_FF] {
            assert_eq!(
                classify_push(false, out, "error: failed to push some refs", "origin"),
                Ok(PushStatus::NonFastForward)
            );
        }
    }

    #[test]
    fn losing_the_ref_lock_race_is_retried_too() {
        let out = "To /tmp/remote.git\n!\tf00d:refs/heads/main\t[remote rejected] (failed to update ref)\nDone\n";
        let err = "remote: error: cannot lock ref 'refs/heads/main': is at 7191cd05 but expected 13189918\n";
        assert_eq!(
            classify_push(false, out, err, "origin"),
            Ok(PushStatus::NonFastForward)
        );
    }

    #[test]
    fn a_hook_rejection_is_final_and_keeps_the_remote_s_words() {
        assert_eq!(
            classify_push(false, HOOK_OUT, HOOK_ERR, "origin"),
            Ok(PushStatus::RemoteRejected {
                reason: "pre-receive hook declined: policy: main is protected".to_owned()
            })
        );
    }

    #[test]
    fn accepted_and_up_to_date_pushes() {
        assert_eq!(
            classify_push(true, NEW_BRANCH, "", "origin"),
            Ok(PushStatus::Accepted)
        );
        assert_eq!(
            classify_push(true, FAST_FORWARD, "", "origin"),
            Ok(PushStatus::Accepted)
        );
        assert_eq!(
            classify_push(true, UP_TO_DATE, "", "origin"),
            Ok(PushStatus::UpToDate)
        );
    }

    #[test]
    fn failures_before_any_ref_is_negotiated() {
        let kind = |stderr: &str| match classify_push(false, "", stderr, "r") {
            Err(TransportError::Auth { .. }) => "auth",
            Err(TransportError::HostKey { .. }) => "host key",
            Err(TransportError::Unreachable { .. }) => "unreachable",
            Err(TransportError::NoRepository { .. }) => "no repository",
            Err(TransportError::Failed { .. }) => "other",
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(kind(HTTP_AUTH), "auth");
        assert_eq!(kind(HTTP_AUTH_FAILED), "auth");
        assert_eq!(kind(SSH_DENIED), "auth");
        assert_eq!(kind(SSH_HOST_KEY), "host key");
        assert_eq!(kind(SSH_NO_REPO), "no repository");
        assert_eq!(kind(DAEMON_NO_REPO), "no repository");
        assert_eq!(kind(REFUSED), "unreachable");
        assert_eq!(kind("fatal: something new\n"), "other");
    }

    #[test]
    fn failure_details_drop_git_s_boilerplate() {
        let err = classify_failure("push", "origin", SSH_NO_REPO);
        assert_eq!(
            err.to_string(),
            "origin: no such repository, or no access to it: fatal: '/tmp/exp/nothere.git' does \
             not appear to be a git repository; fatal: Could not read from remote repository."
        );
    }

    #[test]
    fn redaction_removes_tokens_and_url_passwords() {
        let r = Redactor::new(["tok3n".to_owned(), String::new()]);
        assert_eq!(
            r.redact("fatal: https://bot:tok3n@example.com/a.git and tok3n again"),
            "fatal: https://bot:<redacted>@example.com/a.git and <redacted> again"
        );
        assert_eq!(
            r.redact("https://user@example.com/x ssh://git@h:22/p"),
            "https://user@example.com/x ssh://git@h:22/p"
        );
        assert_eq!(
            Redactor::default().redact("'https://a:b@h/r' done"),
            "'https://a:<redacted>@h/r' done"
        );
    }

    #[test]
    fn remote_names_and_urls() {
        for url in [
            "origin",
            "upstream",
            "https://h/r.git",
            "git@github.com:o/r.git",
            "/srv/r.git",
            "../r.git",
            "file:///srv/r.git",
        ] {
            let expected = !matches!(url, "origin" | "upstream");
            assert_eq!(looks_like_url(url), expected, "{url}");
        }
    }

    #[test]
    fn ssh_command_quotes_paths() {
        let mut t = Transport::from_env();
        t.ssh_key = Some(PathBuf::from("/keys/it's key"));
        t.known_hosts = None;
        assert_eq!(
            t.ssh_command().as_deref(),
            Some(r"ssh -o BatchMode=yes -o IdentitiesOnly=yes -i '/keys/it'\''s key'")
        );
    }
}
