//! Snapshot tests of the rendered `--help` of every command: the help text is the user's
//! manual (examples, refusal conditions, exit codes), so a change to it is reviewed like code.
//! Snapshots live in `fixtures/help/<command>.txt`; `GREENLIGHT_BLESS=1 cargo test` rewrites
//! them after an intended change.

use std::path::PathBuf;

const COMMANDS: &[&str] = &[
    "",
    "render",
    "stage",
    "promote",
    "rollback",
    "scale-down",
    "reconfigure",
    "diff",
    "status",
    "history",
    "verify",
    "wait",
    "init",
    "demo",
    "completions",
    "man",
    "schema",
];

#[test]
fn every_command_has_a_snapshot() {
    use clap::CommandFactory as _;
    let cli = greenlight::cli::Cli::command();
    let missing: Vec<&str> = cli
        .get_subcommands()
        .map(|c| c.get_name())
        .filter(|name| *name != "help" && !COMMANDS.contains(name))
        .collect();
    assert!(missing.is_empty(), "add to COMMANDS: {missing:?}");
}

#[test]
fn help_text_matches_snapshots() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/help");
    let bless = std::env::var_os("GREENLIGHT_BLESS").is_some();
    let mut failures = Vec::new();
    for command in COMMANDS {
        let mut args: Vec<&str> = command.split_whitespace().collect();
        args.push("--help");
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("greenlight"))
            .env_clear()
            .env("COLUMNS", "100")
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?} failed");
        let actual = String::from_utf8(out.stdout).unwrap();
        let name = if command.is_empty() {
            "greenlight"
        } else {
            command
        };
        let path = dir.join(format!("{name}.txt"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != actual {
            let diff = similar::TextDiff::from_lines(&expected, &actual)
                .unified_diff()
                .header(&path.display().to_string(), "actual")
                .to_string();
            failures.push(diff);
        }
    }
    assert!(
        failures.is_empty(),
        "--help differs from its snapshot (GREENLIGHT_BLESS=1 cargo test --test it help:: to accept):\n{}",
        failures.join("\n")
    );
}
