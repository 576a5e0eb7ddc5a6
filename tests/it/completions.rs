//! Shell completions and manual pages generated from the clap definition, exercised with the
//! real tools: bash sources the script and its completion function is called the way bash
//! calls it; `man -l` renders the pages.

use std::path::Path;
use std::process::Command;

use crate::common::sandbox::{bin, Sandbox};

const VALUES: &str = crate::common::sandbox::VALUES;

/// Completes the command line `words` (the last word is being completed) in `dir` with the
/// script `greenlight completions bash` prints, as bash's programmable completion would.
fn bash_complete(dir: &Path, words: &[&str]) -> (Vec<String>, String) {
    let bin_dir = bin().parent().unwrap().to_owned();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let script = format!(
        "set -e\n\
         source <(greenlight completions bash)\n\
         COMP_WORDS=({words})\n\
         COMP_CWORD={cword}\n\
         COMP_LINE='{line}'\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         _clap_complete_greenlight greenlight '{current}' '{previous}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = quoted.join(" "),
        line = words.join(" "),
        current = words[cword],
        previous = words[cword.saturating_sub(1)],
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        )
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replies = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    (replies, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bash_loads_the_script_and_completes_subcommands() {
    let s = Sandbox::with_values(VALUES);
    let (replies, stderr) = bash_complete(&s.root, &["greenlight", "pro"]);
    assert_eq!(replies, ["promote"]);
    assert_eq!(stderr, "", "sourcing the script prints nothing");
    let (replies, _) = bash_complete(&s.root, &["greenlight", "promote", "--expect-l"]);
    assert_eq!(replies, ["--expect-live"]);
    let (replies, _) = bash_complete(&s.root, &["greenlight", "promote", "--expect-live", ""]);
    assert_eq!(replies, ["blue", "green"]);
}

#[test]
fn environment_names_come_from_the_repository_at_hand() {
    let s = Sandbox::with_values(VALUES);
    s.write("environments/staging/values.yaml", VALUES);
    s.write("environments/prod/eu-west/api/values.yaml", VALUES);
    // An empty word offers the environments first, then the options.
    let (replies, _) = bash_complete(&s.root, &["greenlight", "promote", ""]);
    let envs: Vec<&String> = replies.iter().take_while(|r| !r.starts_with('-')).collect();
    assert_eq!(envs, ["prod/eu-west/api", "production", "staging"]);
    assert!(replies.contains(&"--expect-live".to_owned()));
    let (replies, _) = bash_complete(&s.root, &["greenlight", "status", "prod"]);
    assert_eq!(replies, ["prod/eu-west/api", "production"]);
    // From a sub-folder of the checkout too.
    let (replies, _) = bash_complete(&s.path("environments"), &["greenlight", "stage", "st"]);
    assert_eq!(replies, ["staging"]);
}

#[test]
fn every_shell_gets_a_script_that_calls_greenlight_back() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = Command::new(bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains("GREENLIGHT_COMPLETE"), "{shell}: {script}");
    }
    let out = Command::new(bin())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn man_pages_render_with_man() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["man", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for page in [
        "greenlight.1",
        "greenlight-promote.1",
        "greenlight-scale-down.1",
    ] {
        assert!(dir.path().join(page).is_file(), "{page}");
    }
    let rendered = Command::new("man")
        .arg("-l")
        .arg(dir.path().join("greenlight-promote.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("man (Debian package man-db)");
    assert!(rendered.status.success());
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(text.contains("NAME"), "{text}");
    assert!(text.contains("--expect-live"), "{text}");
    assert!(
        text.contains("Only a staged colour is promoted") || text.contains("staged colour"),
        "{text}"
    );
}
