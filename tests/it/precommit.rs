//! The `.pre-commit-hooks.yaml` this repository offers, run by the real `pre-commit` tool on a
//! scratch GitOps repository: a hand-edited rendered file blocks the commit with greenlight's
//! message; a clean change passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::sandbox::{bin, Sandbox};

const VALUES: &str = crate::common::sandbox::VALUES;

/// A git repository holding this project's `.pre-commit-hooks.yaml`, as pre-commit would
/// fetch it; returns its path and commit.
fn hook_repo(s: &Sandbox) -> (PathBuf, String) {
    let dir = s._tmp.path().join("hook-repo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        dir.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    s.git_in(&dir, &["init", "-q", "-b", "main"]);
    s.git_in(&dir, &["add", "-A"]);
    s.git_in(&dir, &["commit", "-q", "-m", "hooks"]);
    let rev = s.git_in(&dir, &["rev-parse", "HEAD"]).trim().to_owned();
    (dir, rev)
}

/// Runs `git` in the sandbox with greenlight on PATH and pre-commit's cache in the sandbox.
fn git_with_hooks(s: &Sandbox, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new("git");
    s.env(&mut cmd);
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap()
    );
    let out = cmd
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", s._tmp.path().join("pre-commit-cache"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn a_hand_edited_manifest_blocks_the_commit_and_a_clean_change_passes() {
    let s = Sandbox::with_values(VALUES);
    let (hooks, rev) = hook_repo(&s);
    s.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: greenlight-verify\n",
            hooks.display()
        ),
    );
    let mut install = Command::new("pre-commit");
    s.env(&mut install);
    let out = install
        .env("PRE_COMMIT_HOME", s._tmp.path().join("pre-commit-cache"))
        .arg("install")
        .output()
        .expect("pre-commit (pip install -r .ci/requirements.txt)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.git(&["add", ".pre-commit-config.yaml"]);
    let (ok, text) = git_with_hooks(&s, &["commit", "-q", "-m", "add hooks"]);
    assert!(ok, "{text}");

    // A hand edit of a rendered manifest is refused, with greenlight's own words.
    let service = "rendered/production/api.service.yaml";
    let edited = s.read(service).replace("port: 80", "port: 81");
    assert_ne!(edited, s.read(service), "the edit changes the file");
    s.write(service, &edited);
    s.git(&["add", service]);
    let head = s.head();
    let (ok, text) = git_with_hooks(&s, &["commit", "-q", "-m", "tweak the service"]);
    assert!(!ok, "the commit went through:\n{text}");
    assert!(text.contains("greenlight verify"), "{text}");
    assert!(text.contains(&format!("differs    {service}")), "{text}");
    assert_eq!(s.head(), head);

    // The same intent through values + render passes.
    s.git(&["checkout", "-q", "HEAD", "--", service]);
    let values = s
        .read("environments/production/values.yaml")
        .replace("port: 8080", "port: 8081");
    s.write("environments/production/values.yaml", &values);
    s.greenlight(&["render", "production"]).ok();
    s.git(&["add", "-A"]);
    let (ok, text) = git_with_hooks(&s, &["commit", "-q", "-m", "move to 8081"]);
    assert!(ok, "{text}");
    assert_ne!(s.head(), head);
}
