//! The options and argument values several commands share: where to work and how to print
//! (every command), how to publish (every release command), and the value parsers that check
//! an argument by the same rule its value follows in a values file, before anything runs.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::error::UsageError;

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The GitOps repository (a checkout or a bare repository). Default: the git repository
    /// enclosing the current directory, or the current directory when there is none.
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Work in a temporary bare clone of this repository URL (file://, ssh://, git@host:path,
    /// https://...) instead of a checkout; release commands push their commit (see
    /// README.md, "Remote workflows"). A URL given to --repo does the same.
    #[arg(long, global = true, value_name = "URL", conflicts_with = "repo")]
    pub clone: Option<String>,
    /// Output format: text for people, json for bots (see README.md, "JSON output").
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// When to colour text output with ANSI codes; `auto` colours only on a terminal and
    /// never when NO_COLOR is set.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub ansi: ColorChoice,
    /// More log output on stderr (-v: info, -vv: debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bars and no notes on stderr; errors and the command's output only.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

impl Global {
    /// The repository this run works on: a temporary clone for --clone URL (or a URL in
    /// --repo), else the directory found from --repo or the current directory.
    pub fn location(&self) -> anyhow::Result<crate::ops::Location> {
        let url = self.clone.clone().or_else(|| {
            let repo = self.repo.as_deref()?.to_str()?;
            (!self.repo.as_deref()?.exists() && crate::repo::transport::looks_like_url(repo))
                .then(|| repo.to_owned())
        });
        match url {
            Some(url) => crate::ops::Location::clone_from(&url, None),
            None => crate::ops::Location::find(self.repo.as_deref()),
        }
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Human-readable text.
    Text,
    /// One JSON document on stdout, with a `schemaVersion`.
    Json,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// clap value parser for an environment name (`staging`, `production/eu-west/api`): the
/// same rule for every command; one trailing `/` (a shell completing the folder) is dropped.
pub(crate) fn env_arg(s: &str) -> Result<String, UsageError> {
    let name = s.strip_suffix('/').unwrap_or(s);
    crate::grammar::ENVIRONMENT.apply(name)?;
    Ok(name.to_owned())
}

/// clap value parser for `--tag`: an image tag, by the rule values files follow, so a bad
/// argument is refused as one before anything is read or edited.
pub(crate) fn tag_arg(s: &str) -> Result<crate::values::Tag, UsageError> {
    Ok(crate::values::Tag::parse(s)?)
}

/// clap value parser for `--digest`: `sha256:` and 64 lowercase hex digits.
pub(crate) fn digest_arg(s: &str) -> Result<crate::values::Digest, UsageError> {
    Ok(crate::values::Digest::parse(s)?)
}

/// clap value parser for `--expect-tag`: a tag or a digest.
pub(crate) fn version_arg(s: &str) -> Result<String, UsageError> {
    match s.starts_with("sha256:") {
        true => digest_arg(s).map(|d| d.to_string()),
        false => tag_arg(s).map(|t| t.to_string()),
    }
}

/// clap value parser for `--from-tag`: `VERSION-COLOR`, the version an image tag.
pub(crate) fn release_tag_arg(s: &str) -> Result<crate::release::StageRequest, UsageError> {
    Ok(crate::release::StageRequest::from_release_tag(s)?)
}

/// clap value parser for a status context (`--require-status`, `--status`): the name a commit
/// status or check run carries, on one line.
pub(crate) fn status_context_arg(s: &str) -> Result<String, UsageError> {
    if s.trim().is_empty() || s.chars().any(char::is_control) || s.len() > 255 {
        return Err(UsageError {
            message: format!("{s:?} is not a status context"),
            hint: Some(
                "name the commit status (or check run) as the forge shows it, e.g. \
                 kustomization/api-production or smoke-tests: one line of at most 255 bytes"
                    .to_owned(),
            ),
        });
    }
    Ok(s.to_owned())
}

/// How long the previous colour stays warm after a promotion, unless --warm says otherwise.
pub(crate) const DEFAULT_WARM: &str = "30m";

/// Parses a duration such as `30m`, `2h` or `1h30m`.
pub(crate) fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (write e.g. 30m, 2h or 1h30m)"))
}

/// The current time in unix seconds. `GREENLIGHT_NOW` (unix seconds) replaces the clock for
/// reproducible tests and demos.
pub(crate) fn now() -> anyhow::Result<i64> {
    if let Ok(fixed) = std::env::var("GREENLIGHT_NOW") {
        return fixed
            .parse()
            .map_err(|_| anyhow::anyhow!("GREENLIGHT_NOW={fixed}: expected unix seconds"));
    }
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    Ok(since.as_secs() as i64)
}

/// The clock `status` reports against, with a warm period written like `30m`.
pub(crate) fn status_clock(warm: &str) -> anyhow::Result<crate::ops::StatusClock> {
    let warm = parse_duration(warm).map_err(|e| anyhow::anyhow!("--warm {warm}: {e}"))?;
    Ok(crate::ops::StatusClock {
        now: now()?,
        warm_seconds: warm.as_secs() as i64,
    })
}

/// Options of every command that changes values.
#[derive(Debug, Clone, Args)]
pub struct MutateArgs {
    /// Print the diff the command would commit, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Push the branch after committing. If the remote moved meanwhile, fetch, compute the
    /// command again on the new tip (every guard checked again: a concurrent promotion makes
    /// --expect-live refuse), and push again, up to --push-retries times. Never forces.
    /// Implied by --clone.
    #[arg(long, help_heading = "Publishing")]
    pub push: bool,
    /// The remote to push to and fetch from.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "origin",
        help_heading = "Publishing"
    )]
    pub remote: String,
    /// How many times to fetch and retry when the remote moved (exit 4 after the last).
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::ops::DEFAULT_RETRIES,
        help_heading = "Publishing"
    )]
    pub push_retries: u32,
    /// Commit on a release branch instead of the current one, leaving the checkout alone:
    /// NAME, or by default greenlight/<env>/<action>-<color>-<version>. An existing branch
    /// (on the remote, else locally) is continued, so a re-run finds its change made.
    #[arg(
        long,
        value_name = "NAME",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "",
        help_heading = "Publishing"
    )]
    pub branch: Option<String>,
    /// After pushing the release branch, open a pull request (GitHub, Gitea/Forgejo) or merge
    /// request (GitLab) into the current branch, or reuse the open one. Implies --push and
    /// --branch. Token from GITHUB_TOKEN (or GH_TOKEN), GITLAB_TOKEN or GITEA_TOKEN.
    #[arg(long, help_heading = "Publishing")]
    pub open_pr: bool,
    /// How to reach the forge (pull requests, --require-status).
    #[command(flatten)]
    pub forge: ForgeArgs,
    /// Write the pull request body (summary table and manifest diff, in markdown) to FILE,
    /// e.g. for `gh pr create --body-file FILE`.
    #[arg(long, value_name = "FILE", help_heading = "Publishing")]
    pub pr_body_file: Option<PathBuf>,
}

impl MutateArgs {
    /// Runs `command` on `envs` where `global` points, published as these options ask: one
    /// commit for all of them.
    pub fn release(
        &self,
        global: &Global,
        envs: &[String],
        command: &crate::ops::ReleaseCommand,
        progress: &dyn crate::ops::Progress,
    ) -> anyhow::Result<crate::ops::Released> {
        let location = global.location()?;
        let cloned = matches!(&location, crate::ops::Location::Git(g) if g.scratch.is_some());
        let publish = crate::ops::Publish {
            branch: match self.branch.as_deref() {
                None if self.open_pr => crate::ops::BranchChoice::Default,
                None => crate::ops::BranchChoice::Current,
                Some("") => crate::ops::BranchChoice::Default,
                Some(name) => crate::ops::BranchChoice::Named(name.to_owned()),
            },
            push: self.push || cloned || self.open_pr,
            remote: self.remote.clone(),
            retries: self.push_retries,
            open_pr: self.open_pr,
            forge: self.forge.options(),
            pr_body_file: self.pr_body_file.clone(),
        };
        crate::ops::release(location, envs, command, self.dry_run, &publish, progress)
    }
}

/// How to reach the forge (pull requests, commit statuses) when the remote's URL does not tell.
#[derive(Debug, Clone, Args)]
pub struct ForgeArgs {
    /// The forge, when the remote's host does not tell (github.com, gitlab.com, codeberg.org
    /// and hosts named gitlab.*, gitea.*, forgejo.* do).
    #[arg(long, value_name = "FORGE", value_parser = ["github", "gitlab", "gitea"], help_heading = "Forge")]
    pub forge: Option<String>,
    /// The forge's API base URL, for self-hosted servers (e.g. https://git.example.com/api/v4).
    #[arg(long, value_name = "URL", help_heading = "Forge")]
    pub forge_api_url: Option<String>,
}

impl ForgeArgs {
    /// The options of the operations layer.
    pub fn options(&self) -> crate::ops::ForgeOptions {
        crate::ops::ForgeOptions {
            forge: self.forge.as_deref().and_then(|f| f.parse().ok()),
            api_url: self.forge_api_url.clone(),
        }
    }
}

impl ValueEnum for crate::values::Color {
    fn value_variants<'a>() -> &'a [Self] {
        &crate::values::Color::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}
