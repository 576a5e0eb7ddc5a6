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

/// Subcommands are defined lazily (only the invoked one is built), so the text that lists them
/// all must still describe each: `greenlight help`, a bare `greenlight` and a mistyped
/// subcommand say what `--help` says.
#[test]
fn help_subcommand_and_usage_errors_describe_every_subcommand() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("greenlight"))
            .env_clear()
            .env("COLUMNS", "100")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (_, top, _) = run(&["--help"]);
    assert!(
        top.contains("  stage        Stage a release"),
        "--help lists subcommands without descriptions:\n{top}"
    );
    assert_eq!(run(&["help"]).1, top);
    assert_eq!(run(&["help", "promote"]).1, run(&["promote", "--help"]).1);
    let (code, _, bare) = run(&[]);
    assert_eq!(code, Some(2));
    for line in top
        .lines()
        .filter(|l| l.starts_with("  stage ") || l.starts_with("  promote "))
    {
        assert!(
            bare.contains(line),
            "a bare `greenlight` lacks {line:?}:\n{bare}"
        );
    }
    let (code, _, typo) = run(&["stag", "prod"]);
    assert_eq!(code, Some(2));
    assert!(
        typo.contains("'stage'"),
        "no suggestion for a mistyped subcommand:\n{typo}"
    );
    let (code, version, _) = run(&["--version"]);
    assert_eq!(code, Some(0));
    assert!(version.starts_with("greenlight "), "{version}");
}
