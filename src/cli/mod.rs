//! The command line: argument parsing (clap), one file per subcommand, output in text or
//! JSON, and the exit-code mapping. No release logic lives here: each subcommand calls one
//! operation in [`crate::ops`] and prints the report it returns. This is the only module that
//! prints.

mod completions;
mod demo;
mod diff;
pub mod exit;
mod history;
mod init;
mod progress;
mod promote;
mod render;
mod rollback;
mod scale_down;
mod stage;
mod status;
mod verify;

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory as _, Parser, Subcommand, ValueEnum};
use serde::Serialize;

/// The version and the git commit it was built from, e.g. `0.1.0 (commit 0123456789ab)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("GREENLIGHT_COMMIT"),
    ")"
);

/// Blue-green releases for Kubernetes, done entirely in git.
///
/// greenlight renders the blue and green Deployments, Services and Ingress of an application
/// from one values file per environment (environments/<env>/values.yaml), moves a release
/// through stage → promote → rollback → scale-down by editing that file, and commits values and
/// rendered manifests (rendered/<env>/) together for Flux or Argo CD to apply. It never talks to
/// a cluster.
///
/// Exit codes: 0 success or nothing to do, 1 differences found (diff, verify), 2 usage or input
/// error, 3 a guard refused, 4 git conflict.
#[derive(Debug, Parser)]
#[command(name = "greenlight", version = VERSION, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

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

#[derive(Debug, Subcommand)]
enum Command {
    Render(render::RenderArgs),
    Stage(stage::StageArgs),
    Promote(promote::PromoteArgs),
    Rollback(rollback::RollbackArgs),
    ScaleDown(scale_down::ScaleDownArgs),
    Diff(diff::DiffArgs),
    Status(status::StatusArgs),
    History(history::HistoryArgs),
    Verify(verify::VerifyArgs),
    Init(init::InitArgs),
    Demo(demo::DemoArgs),
    Completions(completions::CompletionsArgs),
    Man(completions::ManArgs),
    Schema(completions::SchemaArgs),
}

/// Where and how a command prints.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    json: bool,
    color: bool,
    quiet: bool,
}

impl Printer {
    fn new(global: &Global) -> Printer {
        let color = match global.ansi {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => no_color_unset() && std::io::stdout().is_terminal(),
        };
        Printer {
            json: global.output == Output::Json,
            color: color && global.output == Output::Text,
            quiet: global.quiet,
        }
    }

    /// True when the report goes out as JSON.
    pub fn json(&self) -> bool {
        self.json
    }

    /// True when text may carry ANSI colour.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Writes the JSON form of a report to stdout.
    pub fn emit_json<T: Serialize>(&self, report: &T) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
        Ok(())
    }

    /// Writes text data to stdout.
    pub fn out(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        if !text.is_empty() && !text.ends_with('\n') {
            let _ = out.write_all(b"\n");
        }
    }

    /// Writes a progress note to stderr (text mode only).
    pub fn note(&self, text: &str) {
        if !self.json && !self.quiet {
            eprintln!("{text}");
        }
    }

    /// A progress bar for long work: drawn on a terminal only, never with JSON output or -q.
    pub fn progress(&self) -> progress::Bar {
        progress::Bar::new(!self.json && !self.quiet)
    }

    /// Makes `text` bold (when colour is on).
    pub fn bold(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Shows `text` in the colour `name` (`blue` or `green`) names, when colour is on.
    pub fn colored(&self, name: &str, text: &str) -> String {
        let code = match name {
            "blue" => "34",
            "green" => "32",
            _ => return text.to_owned(),
        };
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Runs the binary: parse, init tracing, run, map to an exit code.
pub fn main() -> ExitCode {
    completions::answer_completion_request();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return exit::argument_error(&e, &Cli::command()),
    };
    let printer = Printer::new(&cli.global);
    init_tracing(&cli.global);
    let command = cli.command.name();
    match run(cli, printer) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            exit::print(&err);
            let code = exit::code(&err);
            if printer.json() {
                let _ = printer.emit_json(&exit::ErrorReport::new(command, &err, code));
            }
            ExitCode::from(code)
        }
    }
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Render(_) => "render",
            Command::Stage(_) => "stage",
            Command::Promote(_) => "promote",
            Command::Rollback(_) => "rollback",
            Command::ScaleDown(_) => "scale-down",
            Command::Diff(_) => "diff",
            Command::Status(_) => "status",
            Command::History(_) => "history",
            Command::Verify(_) => "verify",
            Command::Init(_) => "init",
            Command::Completions(_) => "completions",
            Command::Man(_) => "man",
            Command::Schema(_) => "schema",
            Command::Demo(_) => "demo",
        }
    }
}

fn init_tracing(global: &Global) {
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "greenlight=info",
        (false, _) => "greenlight=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Warnings go to stderr: coloured only when stderr is a terminal (and colour is allowed),
    // never into a log file or a CI capture.
    let ansi = match global.ansi {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => no_color_unset() && std::io::stderr().is_terminal(),
    } && global.output == Output::Text;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .try_init();
}

/// True unless the NO_COLOR convention asks for no colour.
fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn run(cli: Cli, p: Printer) -> anyhow::Result<u8> {
    let g = &cli.global;
    match cli.command {
        Command::Render(a) => render::run(a, g, p),
        Command::Stage(a) => stage::run(a, g, p),
        Command::Promote(a) => promote::run(a, g, p),
        Command::Rollback(a) => rollback::run(a, g, p),
        Command::ScaleDown(a) => scale_down::run(a, g, p),
        Command::Diff(a) => diff::run(a, g, p),
        Command::Status(a) => status::run(a, g, p),
        Command::History(a) => history::run(a, g, p),
        Command::Verify(a) => verify::run(a, g, p),
        Command::Init(a) => init::run(a, g, p),
        Command::Demo(a) => demo::run(a, g, p),
        Command::Completions(a) => completions::run(a, g, p),
        Command::Man(a) => completions::run_man(a, g, p),
        Command::Schema(a) => completions::run_schema(a, g, p),
    }
}

/// A command-line value refused by its value parser: printed like every other error
/// (`error: …` and `hint: …`), and as the JSON error document with `--output json`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ArgError {
    /// What is wrong with the value, naming it.
    pub message: String,
    /// What to write instead.
    pub hint: Option<String>,
}

impl From<crate::grammar::Refusal> for ArgError {
    fn from(r: crate::grammar::Refusal) -> ArgError {
        ArgError {
            hint: Some(r.hint.unwrap_or_else(|| format!("expected {}", r.expected))),
            message: r.message,
        }
    }
}

/// clap value parser for an environment name (`staging`, `production/eu-west/api`): the
/// same rule for every command; one trailing `/` (a shell completing the folder) is dropped.
pub(crate) fn env_arg(s: &str) -> Result<String, ArgError> {
    let name = s.strip_suffix('/').unwrap_or(s);
    crate::grammar::ENVIRONMENT.apply(name)?;
    Ok(name.to_owned())
}

/// clap value parser for `--tag`: an image tag, by the rule values files follow, so a bad
/// argument is refused as one before anything is read or edited.
pub(crate) fn tag_arg(s: &str) -> Result<crate::values::Tag, ArgError> {
    Ok(crate::values::Tag::parse(s)?)
}

/// clap value parser for `--digest`: `sha256:` and 64 lowercase hex digits.
pub(crate) fn digest_arg(s: &str) -> Result<crate::values::Digest, ArgError> {
    Ok(crate::values::Digest::parse(s)?)
}

/// clap value parser for `--expect-tag`: a tag or a digest.
pub(crate) fn version_arg(s: &str) -> Result<String, ArgError> {
    match s.starts_with("sha256:") {
        true => digest_arg(s).map(|d| d.to_string()),
        false => tag_arg(s).map(|t| t.to_string()),
    }
}

/// clap value parser for `--from-tag`: `VERSION-COLOR`, the version an image tag.
pub(crate) fn release_tag_arg(s: &str) -> Result<crate::release::StageRequest, ArgError> {
    Ok(crate::release::StageRequest::from_release_tag(s)?)
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
    /// The forge, when the remote's host does not tell (github.com, gitlab.com, codeberg.org
    /// and hosts named gitlab.*, gitea.*, forgejo.* do).
    #[arg(long, value_name = "FORGE", value_parser = ["github", "gitlab", "gitea"], help_heading = "Publishing")]
    pub forge: Option<String>,
    /// The forge's API base URL, for self-hosted servers (e.g. https://git.example.com/api/v4).
    #[arg(long, value_name = "URL", help_heading = "Publishing")]
    pub forge_api_url: Option<String>,
    /// Write the pull request body (summary table and manifest diff, in markdown) to FILE,
    /// e.g. for `gh pr create --body-file FILE`.
    #[arg(long, value_name = "FILE", help_heading = "Publishing")]
    pub pr_body_file: Option<PathBuf>,
}

impl MutateArgs {
    /// Runs `command` on `env` where `global` points, published as these options ask.
    pub fn release(
        &self,
        global: &Global,
        env: &str,
        command: &crate::ops::ReleaseCommand,
        progress: &dyn crate::ops::Progress,
    ) -> anyhow::Result<crate::ops::ReleaseReport> {
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
            pull_request: self.open_pr.then(|| crate::ops::PullRequestOptions {
                forge: self.forge.as_deref().and_then(|f| f.parse().ok()),
                api_url: self.forge_api_url.clone(),
            }),
            pr_body_file: self.pr_body_file.clone(),
        };
        crate::ops::release(location, env, command, self.dry_run, &publish, progress)
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

/// Prints the resource summary and the unified diff of `d`.
fn print_diff(p: Printer, d: &crate::diff::Diff) {
    for line in d.summary_lines() {
        p.out(&format!("  {line}"));
    }
    p.out("");
    p.out(&d.to_text(crate::diff::TextStyle {
        color: p.color(),
        context: 3,
    }));
}

/// Prints a release report and returns its exit code (always 0: refusals are errors).
fn print_release(p: Printer, r: &crate::ops::ReleaseReport) -> anyhow::Result<u8> {
    use crate::ops::Outcome;
    if p.json() {
        p.emit_json(r)?;
        return Ok(exit::OK);
    }
    match r.outcome {
        Outcome::NoChange => {
            p.out(&format!("{}: {}", r.environment, r.message));
            p.note("nothing to do: no commit");
        }
        Outcome::DryRun | Outcome::Committed => {
            if let Some(subject) = &r.subject {
                p.out(&p.bold(subject));
            }
            for note in &r.notes {
                p.note(&format!("note: {note}"));
            }
            print_diff(p, &r.diff);
            match (&r.outcome, &r.commit) {
                (Outcome::Committed, Some(id)) => p.note(&format!(
                    "committed {} on {}",
                    crate::ops::short(id),
                    r.branch
                )),
                (Outcome::Committed, None) => p.note(&r.message),
                _ => p.note("dry run: nothing written"),
            }
            if let Some(push) = &r.push {
                let retried = match push.attempts {
                    1 => String::new(),
                    n => format!(" (computed {n} times: the remote moved meanwhile)"),
                };
                p.note(&format!(
                    "pushed {} to {}{retried}",
                    push.branch, push.remote
                ));
            }
        }
    }
    if let Some(pr) = &r.pull_request {
        let state = match (pr.reused, pr.body_updated) {
            (false, _) => "opened",
            (true, false) => "already open",
            (true, true) => "already open, description updated",
        };
        p.note(&format!(
            "pull request #{} ({state}): {}",
            pr.number, pr.url
        ));
    }
    Ok(exit::OK)
}

fn print_status(p: Printer, report: &crate::ops::StatusReport) {
    for e in &report.environments {
        p.out(&format!(
            "{}  ({} in {}): live {}{}",
            p.bold(&e.environment),
            e.app,
            e.namespace,
            e.live,
            e.staged
                .map(|c| format!(", {c} staged"))
                .unwrap_or_default()
        ));
        for (name, c) in [("blue", &e.blue), ("green", &e.green)] {
            let marker = if name == e.live.as_str() { "*" } else { " " };
            p.out(&format!(
                "  {marker} {name:<5}  {:<40}  {} replicas",
                c.image.as_deref().unwrap_or("(no image)"),
                c.replicas
            ));
        }
        if let Some(last) = &e.last_promotion {
            p.out(&format!(
                "    last promotion: {} {} ({})",
                crate::ops::short(&last.commit),
                format_time(last.time),
                last.subject
            ));
        }
    }
}

/// The fleet table of `status` without ENV: one aligned row per environment.
fn print_fleet(p: Printer, report: &crate::ops::StatusReport) {
    const HEADER: [&str; 11] = [
        "ENV",
        "APP",
        "LIVE",
        "VERSION",
        "IDLE",
        "VERSION",
        "REPLICAS",
        "STATE",
        "LAST FLIP",
        "AGE",
        "WARM LEFT",
    ];
    let rows: Vec<[String; 11]> = report
        .environments
        .iter()
        .map(|e| {
            let live = if e.live == crate::values::Color::Blue {
                &e.blue
            } else {
                &e.green
            };
            let idle = if e.idle == crate::values::Color::Blue {
                &e.blue
            } else {
                &e.green
            };
            let (flip, flip_age) = match &e.last_flip {
                Some(f) => (
                    format!("{} {}", f.action, crate::ops::short(&f.commit)),
                    age(report.now - f.time),
                ),
                None => ("-".to_owned(), "-".to_owned()),
            };
            [
                e.environment.clone(),
                e.app.clone(),
                e.live.to_string(),
                live.version.clone(),
                e.idle.to_string(),
                idle.version.clone(),
                idle.replicas.to_string(),
                e.idle_state.as_str().to_owned(),
                flip,
                flip_age,
                e.warm_seconds_left.map_or("-".to_owned(), |s| {
                    if s == 0 {
                        "over".to_owned()
                    } else {
                        age(s)
                    }
                }),
            ]
        })
        .collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 11], style: &dyn Fn(usize, &str) -> String| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let padded = format!("{cell:<w$}");
            out.push_str(&style(i, &padded));
            out.push_str("  ");
        }
        out.trim_end().to_owned()
    };
    p.out(&line(&HEADER.map(str::to_owned), &|_, c| p.bold(c)));
    for row in &rows {
        p.out(&line(row, &|i, c| match i {
            // Colour the live and idle colour names (only on a terminal; Printer decides).
            2 | 4 => p.colored(c.trim_end(), c),
            _ => c.to_owned(),
        }));
    }
    if rows.is_empty() {
        p.note("no environments: create one with `greenlight init`");
    }
}

/// `one` or `many`, as `count` asks (`1 environment`, `2 environments`).
pub(crate) fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 {
        one
    } else {
        many
    }
}

/// A duration in seconds as a short age: `45s`, `12m`, `3h`, `5d`.
fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d", s / 86_400),
    }
}

fn print_history(p: Printer, report: &crate::ops::HistoryReport) {
    if report.records.is_empty() {
        p.note(&format!(
            "no release actions of {} recorded yet",
            report.environment
        ));
    }
    for r in &report.records {
        p.out(&format!(
            "{}  {}  {:<10}  {}",
            crate::ops::short(&r.commit),
            format_time(r.time),
            r.action,
            r.subject
        ));
    }
}

fn format_time(unix: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}
