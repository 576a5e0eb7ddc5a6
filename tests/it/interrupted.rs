//! A greenlight stopped after moving the branch and before writing the checkout (SIGKILL, a
//! cancelled CI job) leaves `.git/greenlight-checkout`; the next release command finishes the
//! checkout, read commands warn, and edits made in between are never overwritten.
//! `crash.rs` does the same with real kills; here the state is made exactly, with git: the
//! branch at greenlight's commit, the index and files at its parent.

use crate::common::sandbox::{Sandbox, VALUES};

const RECORD: &str = ".git/greenlight-checkout";

/// Stages 1.5.0, then puts the checkout back at the parent as a kill right after the branch
/// move would, with the record greenlight writes before moving. Returns (parent, commit).
fn interrupted_stage() -> (Sandbox, String, String) {
    let s = Sandbox::with_values(VALUES);
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    let commit = s.head();
    let parent = s.git(&["rev-parse", "HEAD^"]).trim().to_owned();
    s.git(&["read-tree", "--reset", "-u", &parent]);
    s.write(
        RECORD,
        &format!("greenlight checkout update 1\nref refs/heads/main\nfrom {parent}\nto {commit}\n"),
    );
    assert!(
        !s.git(&["status", "--porcelain"]).is_empty(),
        "the checkout shows the stage reverted"
    );
    (s, parent, commit)
}

#[test]
fn the_next_release_command_finishes_the_checkout_then_does_its_own_work() {
    let (s, _, staged) = interrupted_stage();
    let run = s.greenlight(&["promote", "production"]).ok();
    assert!(
        run.stderr
            .contains(&format!("interrupted after committing {}", &staged[..12])),
        "{}",
        run.stderr
    );
    assert_eq!(s.git(&["rev-parse", "HEAD^"]).trim(), staged);
    assert_eq!(
        s.git(&["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    assert!(s
        .read("environments/production/values.yaml")
        .contains("liveColor: green"));
    assert!(!s.path(RECORD).exists());
    // Nothing is left to warn about.
    let run = s.greenlight(&["diff", "production"]).ok();
    assert!(!run.stderr.contains("behind"), "{}", run.stderr);
}

#[test]
fn read_commands_warn_that_the_checkout_is_behind_and_change_nothing() {
    let (s, _, staged) = interrupted_stage();
    let status_before = s.git(&["status", "--porcelain"]);
    let said = format!(
        "the checkout is behind its branch: a greenlight run was interrupted after committing \
         {}",
        &staged[..12]
    );
    for args in [
        &["diff", "production"][..],
        &["status", "production"],
        &["promote", "production", "--dry-run"],
    ] {
        let run = s.greenlight(args);
        assert!(run.stderr.contains(&said), "{args:?}: {}", run.stderr);
    }
    // verify fails on it, in both modes, naming the paths and a command that fixes it.
    for args in [&["verify"][..], &["verify", "--worktree"]] {
        let run = s.greenlight(args).code(1);
        assert!(
            run.stdout.contains(&format!(
                "behind: the checkout does not show its branch's commit {} yet",
                &staged[..12]
            )),
            "{args:?}: {}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains("  behind     rendered/production/api-green.deployment.yaml"),
            "{}",
            run.stdout
        );
        assert!(
            run.stderr.contains(
                "git checkout HEAD -- environments/production/values.yaml \
                 rendered/production/api-green.deployment.yaml"
            ),
            "{}",
            run.stderr
        );
    }
    assert_eq!(s.head(), staged);
    assert_eq!(s.git(&["status", "--porcelain"]), status_before);
    assert!(s.path(RECORD).exists());

    // The hint, followed literally, fixes it: verify is happy and the record is dropped by
    // the next release command without a word.
    let paths = s.greenlight(&["verify"]).code(1).stdout;
    let paths: Vec<&str> = paths
        .lines()
        .filter_map(|l| l.strip_prefix("  behind     "))
        .collect();
    let mut checkout = vec!["checkout", "HEAD", "--"];
    checkout.extend(paths);
    s.git(&checkout);
    s.greenlight(&["verify"]).ok();
    assert_eq!(s.git(&["status", "--porcelain"]), "");
}

#[test]
fn edits_made_since_are_never_overwritten() {
    let (s, _, staged) = interrupted_stage();
    let path = "environments/production/values.yaml";
    let edited = format!("{}# a note\n", s.read(path));
    s.write(path, &edited);
    let run = s.greenlight(&["promote", "production"]).code(2);
    assert!(
        run.stderr.contains(&format!(
            "greenlight was interrupted after committing {staged} to refs/heads/main, before \
             the checkout caught up; since then these files were edited: {path}"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("hint: the branch is right and these files are behind it; keep your edits elsewhere, then `git checkout HEAD -- {path}`")),
        "{}",
        run.stderr
    );
    assert_eq!(s.head(), staged, "nothing was committed");
    assert_eq!(s.read(path), edited, "the edit is kept");
    assert!(
        s.path(RECORD).exists(),
        "the record stays until it is finished"
    );

    // Doing what the hint says lets the command through.
    s.git(&["checkout", "HEAD", "--", path]);
    s.greenlight(&["promote", "production"]).ok();
    assert_eq!(s.git(&["status", "--porcelain"]), "");
    assert!(!s.path(RECORD).exists());
}

#[test]
fn a_record_that_no_longer_applies_is_dropped() {
    let s = Sandbox::with_values(VALUES);
    let tip = s.head();
    // The branch is not at the recorded commit (the kill came before the move, or the branch
    // moved on since): the checkout is what the branch says, and nothing is rewritten.
    let other = "0123456789abcdef0123456789abcdef01234567";
    s.write(
        RECORD,
        &format!("greenlight checkout update 1\nref refs/heads/main\nfrom {tip}\nto {other}\n"),
    );
    let run = s.greenlight(&["diff", "production"]).ok();
    assert!(!run.stderr.contains("behind"), "{}", run.stderr);
    let run = s
        .greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    assert!(!run.stderr.contains("interrupted"), "{}", run.stderr);
    assert!(!s.path(RECORD).exists());
    assert_eq!(s.git(&["status", "--porcelain"]), "");
}

#[test]
fn a_damaged_record_stops_release_commands_with_what_to_do() {
    let s = Sandbox::with_values(VALUES);
    s.write(
        RECORD,
        "greenlight checkout update 1\nref refs/heads/main\n",
    );
    let tip = s.head();
    let run = s
        .greenlight(&["stage", "production", "--tag", "1.5.0"])
        .code(2);
    assert!(
        run.stderr.contains("greenlight-checkout is damaged"),
        "{}",
        run.stderr
    );
    assert!(run
        .stderr
        .contains("hint: it records a checkout update greenlight did not finish"));
    assert_eq!(s.head(), tip);
}
