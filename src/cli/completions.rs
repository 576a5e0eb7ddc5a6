//! What editors and shells need, generated rather than kept by hand:
//! `greenlight completions SHELL` (a script for bash, zsh, fish or PowerShell) and
//! `greenlight man --out DIR` (roff pages) from the clap definition, and `greenlight schema`
//! (the values file's JSON Schema) from the values model. The completion scripts call back into
//! greenlight, so environment names come from the repository at hand (`environments/` of the
//! enclosing git repository or directory).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, CommandFactory as _, ValueEnum};
use clap_complete::env::{Bash, EnvCompleter, Fish, Powershell, Zsh};
use clap_complete::{CompleteEnv, CompletionCandidate};

use super::{Cli, Global, Printer};
use crate::ops::Location;
use crate::workspace;

/// The variable the completion scripts set when they call back into greenlight.
const COMPLETE_VAR: &str = "GREENLIGHT_COMPLETE";

/// Print a shell completion script.
///
/// The script asks greenlight itself for completions, so subcommands, options and the
/// environment names of the repository you are in all complete, and stay right after an
/// upgrade. Load it from your shell's start-up file:
///
///   bash:        source <(greenlight completions bash)          # ~/.bashrc
///   zsh:         source <(greenlight completions zsh)           # ~/.zshrc
///   fish:        greenlight completions fish | source           # ~/.config/fish/config.fish
///   PowerShell:  greenlight completions powershell | Out-String | Invoke-Expression
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

/// Shells with completion scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Shell {
    /// GNU bash 4 or later.
    Bash,
    /// zsh.
    Zsh,
    /// fish.
    Fish,
    /// PowerShell.
    Powershell,
}

/// Write the manual pages: greenlight.1 and one page per subcommand (greenlight-promote.1, ...).
///
/// Example:
///   greenlight man --out /usr/local/share/man/man1 && man greenlight
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ManArgs {
    /// The directory to write the pages into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Print the JSON Schema of the values file (draft-07), for editors.
///
/// Generated from the same types greenlight parses values with, with a description for every
/// key. `greenlight init` writes it to schema/values.schema.json and points each values file at
/// it with a `# yaml-language-server: $schema=...` first line, which VS Code (YAML extension)
/// and Neovim (yamlls) read: completion and hover docs for every key, offline.
///
/// Example:
///   greenlight schema > schema/values.schema.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SchemaArgs {}

pub fn run_schema(_a: SchemaArgs, _g: &Global, _p: Printer) -> anyhow::Result<u8> {
    std::io::stdout()
        .lock()
        .write_all(crate::values::json_schema_text().as_bytes())?;
    Ok(super::exit::OK)
}

/// Answers a completion request from a script (`GREENLIGHT_COMPLETE=<shell> greenlight -- ...`)
/// and exits; returns at once on a normal run.
pub fn answer_completion_request() {
    CompleteEnv::with_factory(Cli::command)
        .var(COMPLETE_VAR)
        .complete();
}

pub fn run(a: CompletionsArgs, _g: &Global, _p: Printer) -> anyhow::Result<u8> {
    let shell: &dyn EnvCompleter = match a.shell {
        Shell::Bash => &Bash,
        Shell::Zsh => &Zsh,
        Shell::Fish => &Fish,
        Shell::Powershell => &Powershell,
    };
    // The script calls this very binary back, as it was invoked (a bare name goes through PATH).
    let invoked = std::env::args_os()
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("greenlight"));
    let completer = if invoked.components().count() > 1 {
        std::path::absolute(&invoked).unwrap_or(invoked)
    } else {
        invoked
    };
    let mut out = Vec::new();
    shell
        .write_registration(
            COMPLETE_VAR,
            "greenlight",
            "greenlight",
            &completer.to_string_lossy(),
            &mut out,
        )
        .context("could not write the completion script")?;
    std::io::stdout().lock().write_all(&out)?;
    Ok(super::exit::OK)
}

pub fn run_man(a: ManArgs, _g: &Global, p: Printer) -> anyhow::Result<u8> {
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("could not create {}", a.out.display()))?;
    clap_mangen::generate_to(Cli::command(), &a.out)
        .with_context(|| format!("could not write the manual pages into {}", a.out.display()))?;
    p.note(&format!("wrote the manual pages into {}", a.out.display()));
    Ok(super::exit::OK)
}

/// The environments of the repository enclosing the current directory, for completion.
/// Completion must never fail loudly: any error gives no candidates.
pub fn environments() -> Vec<CompletionCandidate> {
    let found = || -> anyhow::Result<Vec<String>> {
        let location = Location::find(None)?;
        let snapshot = location.working()?;
        workspace::discover(snapshot.as_ref())
    };
    found()
        .unwrap_or_default()
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}
