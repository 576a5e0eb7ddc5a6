//! The command line: argument parsing (clap), one file per subcommand, output in text or
//! JSON, and the exit-code mapping. No release logic lives here: each subcommand calls one
//! operation in [`crate::ops`] and prints the report it returns. This is the only module that
//! prints. One job per file: this one parses and dispatches, `args` holds the options and
//! value parsers several commands share, `output` the printer and the report printers,
//! `exit` the exit codes, and each subcommand its own file.

mod args;
mod completions;
mod demo;
mod diff;
pub mod exit;
mod history;
mod init;
mod output;
mod progress;
mod promote;
mod reconfigure;
mod render;
mod rollback;
mod scale_down;
mod stage;
mod status;
mod verify;
mod wait;

use std::process::ExitCode;

use std::io::IsTerminal as _;

use clap::{CommandFactory as _, Parser, Subcommand};

pub(crate) use args::{
    digest_arg, env_arg, now, parse_duration, release_tag_arg, status_clock, status_context_arg,
    tag_arg, version_arg, DEFAULT_WARM,
};
pub use args::{ColorChoice, ForgeArgs, Global, MutateArgs, Output};
pub use output::Printer;
pub(crate) use output::{
    plural, print_diff, print_fleet, print_history, print_one, print_release, print_status,
};

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

#[derive(Debug, Subcommand)]
#[command(defer = true)] // see `main`
enum Command {
    Render(render::RenderArgs),
    Stage(stage::StageArgs),
    Promote(promote::PromoteArgs),
    Rollback(rollback::RollbackArgs),
    ScaleDown(scale_down::ScaleDownArgs),
    Reconfigure(reconfigure::ReconfigureArgs),
    Diff(diff::DiffArgs),
    Status(status::StatusArgs),
    History(history::HistoryArgs),
    Verify(verify::VerifyArgs),
    Wait(wait::WaitArgs),
    Init(init::InitArgs),
    Demo(demo::DemoArgs),
    Completions(completions::CompletionsArgs),
    Man(completions::ManArgs),
    Schema(completions::SchemaArgs),
}

/// Runs the binary: parse, init tracing, run, map to an exit code.
pub fn main() -> ExitCode {
    completions::answer_completion_request();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(version) if version.kind() == clap::error::ErrorKind::DisplayVersion => {
            return exit::argument_error(&version, &Cli::command())
        }
        Err(lazy) => {
            // Each subcommand's arguments are defined only when it is the one invoked
            // (`defer`): a render does not pay for building all sixteen. Help and errors are
            // rendered from the whole tree, where every subcommand has its description.
            let mut full = Cli::command();
            full.build();
            let err = full
                .try_get_matches_from_mut(std::env::args_os())
                .err()
                .unwrap_or(lazy);
            return exit::argument_error(&err, &full);
        }
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
            Command::Reconfigure(_) => "reconfigure",
            Command::Diff(_) => "diff",
            Command::Status(_) => "status",
            Command::History(_) => "history",
            Command::Verify(_) => "verify",
            Command::Wait(_) => "wait",
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
        ColorChoice::Auto => output::no_color_unset() && std::io::stderr().is_terminal(),
    } && global.output == Output::Text;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .try_init();
}

fn run(cli: Cli, p: Printer) -> anyhow::Result<u8> {
    let g = &cli.global;
    match cli.command {
        Command::Render(a) => render::run(a, g, p),
        Command::Stage(a) => stage::run(a, g, p),
        Command::Promote(a) => promote::run(a, g, p),
        Command::Rollback(a) => rollback::run(a, g, p),
        Command::ScaleDown(a) => scale_down::run(a, g, p),
        Command::Reconfigure(a) => reconfigure::run(a, g, p),
        Command::Diff(a) => diff::run(a, g, p),
        Command::Status(a) => status::run(a, g, p),
        Command::History(a) => history::run(a, g, p),
        Command::Verify(a) => verify::run(a, g, p),
        Command::Wait(a) => wait::run(a, g, p),
        Command::Init(a) => init::run(a, g, p),
        Command::Demo(a) => demo::run(a, g, p),
        Command::Completions(a) => completions::run(a, g, p),
        Command::Man(a) => completions::run_man(a, g, p),
        Command::Schema(a) => completions::run_schema(a, g, p),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}
