//! Wrong results found by using greenlight as its users do: each test is one reproduction
//! from the report that found it, run on a real repository, and failed before its fix.

use crate::common::sandbox::{Sandbox, VALUES};

fn json(run: &crate::common::sandbox::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr:\n{}", run.stdout, run.stderr))
}

#[test]
fn promote_on_a_release_branch_reads_its_guards_on_that_branch() {
    let s = Sandbox::with_values(VALUES);
    s.greenlight(&["stage", "production", "--tag", "2.0.0", "--branch=rel"])
        .ok();
    let main = s.head();
    let r = s
        .greenlight(&[
            "promote",
            "production",
            "--branch=rel",
            "--expect-tag",
            "2.0.0",
            "--expect-live",
            "blue",
        ])
        .ok();
    assert!(r.stdout.contains("promote(production)"), "{}", r.stdout);
    assert_eq!(s.head(), main, "the current branch is left alone");
    let on_rel = s.git(&["show", "rel:environments/production/values.yaml"]);
    assert!(on_rel.contains("liveColor: green"), "{on_rel}");
    assert_eq!(
        s.git(&["log", "--format=%s", "-2", "rel"])
            .lines()
            .collect::<Vec<_>>(),
        [
            "promote(production): api blue → green (2.0.0)",
            "stage(production): api green none → 2.0.0 (3 replicas)"
        ]
    );
}

#[test]
fn a_retried_guarded_promote_is_a_no_op() {
    let s = Sandbox::with_values(VALUES);
    s.greenlight(&["stage", "production", "--tag", "2.0.0"])
        .ok();
    let guarded = [
        "promote",
        "production",
        "--expect-live",
        "blue",
        "--expect-tag",
        "2.0.0",
    ];
    s.greenlight(&guarded).ok();
    let promoted = s.head();
    let again = s.greenlight(&guarded).ok();
    assert!(
        again
            .stdout
            .contains("production: green (2.0.0) is already live, promoted in"),
        "{}",
        again.stdout
    );
    assert!(
        again.stderr.contains("nothing to do: no commit"),
        "{}",
        again.stderr
    );
    assert_eq!(s.head(), promoted);
    // Other expectations still refuse.
    let r = s
        .greenlight(&[
            "promote",
            "production",
            "--expect-live",
            "blue",
            "--expect-tag",
            "2.1.0",
        ])
        .code(3);
    assert!(
        r.stderr
            .contains("expected blue to be live, but green is live"),
        "{}",
        r.stderr
    );
    // After a rollback the newest action is no longer that promotion: refused.
    s.greenlight(&["rollback", "production"]).ok();
    let r = s.greenlight(&guarded).code(3);
    assert!(r.stderr.contains("green is not staged"), "{}", r.stderr);
}

#[test]
fn a_scaled_down_colour_is_not_reported_as_staged() {
    let s = Sandbox::with_values(VALUES);
    s.greenlight(&["stage", "production", "--tag", "2.0.0"])
        .ok();
    s.greenlight(&["scale-down", "production"]).ok();
    let status = json(&s.greenlight(&["status", "--output", "json"]).ok());
    let env = &status["environments"][0];
    assert_eq!(env["idleState"], "scaled-down", "{env}");
    assert_eq!(env["staged"], serde_json::Value::Null, "{env}");
    // ... in agreement with the guard.
    let r = s.greenlight(&["promote", "production"]).code(3);
    assert!(r.stderr.contains("green has 0 replicas"), "{}", r.stderr);
    // Staging it again makes it staged again.
    s.greenlight(&["stage", "production", "--tag", "2.0.0"])
        .ok();
    let status = json(&s.greenlight(&["status", "--output", "json"]).ok());
    assert_eq!(status["environments"][0]["idleState"], "staged");
}

#[test]
fn a_committed_hand_edit_of_a_rendered_file_stops_a_release() {
    let s = Sandbox::with_values(VALUES);
    let path = "rendered/production/api-blue.deployment.yaml";
    let edited = s.read(path).replace("replicas: 3", "replicas: 9");
    s.write(path, &edited);
    s.git(&["commit", "-qam", "hotfix"]);
    let head = s.head();
    let r = s
        .greenlight(&["stage", "production", "--tag", "2.0.0"])
        .code(3);
    assert!(
        r.stderr.contains(
            "rendered/production/ is not what its values render: \
             rendered/production/api-blue.deployment.yaml (differs)"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "greenlight render production && git add -A rendered/production && git commit"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(s.head(), head, "nothing committed");
    assert!(
        s.read(path).contains("replicas: 9"),
        "the edit is left alone"
    );
    let err = json(
        &s.greenlight(&["stage", "production", "--tag", "2.0.0", "--output", "json"])
            .code(3),
    );
    assert_eq!(err["error"]["kind"], "refused");
    // Following the hint resolves it: values are the truth again, and the release goes on.
    s.greenlight(&["render", "production"]).ok();
    s.git(&["add", "-A", "rendered/production"]);
    s.git(&["commit", "-qm", "render production"]);
    s.greenlight(&["stage", "production", "--tag", "2.0.0"])
        .ok();
}

#[test]
fn render_all_removes_what_a_dropped_environment_left_and_only_that() {
    let s = Sandbox::with_values(VALUES);
    s.write(
        "environments/dev/values.yaml",
        &VALUES.replace("app: api", "app: web"),
    );
    s.greenlight(&["render", "--all"]).ok();
    s.git(&["add", "-A"]);
    s.git(&["commit", "-qm", "dev"]);
    s.git(&["rm", "-rq", "environments/dev"]);
    s.git(&["commit", "-qm", "drop dev"]);
    // A file somebody else put under rendered/, never committed.
    s.write("rendered/notes/todo.yaml", "todo: []\n");

    let r = s.greenlight(&["verify"]).code(1);
    assert!(
        r.stdout
            .contains("unexpected rendered/dev/web-blue.deployment.yaml"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("hint: greenlight render --all && git add -A rendered && git commit"),
        "{}",
        r.stderr
    );
    // The hint, followed literally, fixes it.
    let render = s.greenlight(&["render", "--all"]).ok();
    assert!(
        render
            .stdout
            .contains("removed rendered/dev/web-blue.deployment.yaml"),
        "{}",
        render.stdout
    );
    assert!(
        render
            .stderr
            .contains("left rendered/notes/todo.yaml in place: greenlight did not write it"),
        "{}",
        render.stderr
    );
    assert!(!s.path("rendered/dev").exists());
    assert_eq!(s.read("rendered/notes/todo.yaml"), "todo: []\n");
    s.git(&["add", "-A", "rendered"]);
    s.git(&["commit", "-qm", "render"]);
    // The foreign file is committed now: verify names it, with a command that removes it.
    let r = s.greenlight(&["verify"]).code(1);
    assert!(
        r.stdout.contains("foreign    rendered/notes/todo.yaml"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("git rm rendered/notes/todo.yaml"),
        "{}",
        r.stderr
    );
    s.git(&["rm", "-q", "rendered/notes/todo.yaml"]);
    s.git(&["commit", "-qm", "rm"]);
    s.greenlight(&["verify"]).ok();
}

#[test]
fn a_values_edit_that_renders_the_same_is_no_difference() {
    let s = Sandbox::with_values(VALUES);
    let path = "environments/production/values.yaml";
    s.write(path, &format!("{}# note\n", s.read(path)));
    let r = s.greenlight(&["diff"]).ok();
    assert_eq!(r.stdout, "", "{}", r.stdout);
    s.greenlight(&["verify", "--worktree"]).ok();
    // A byte-order mark is no difference either.
    s.write(path, &format!("\u{feff}{}", s.read(path)));
    s.greenlight(&["diff", "production"]).ok();
}

#[test]
fn argument_errors_print_the_json_error_document() {
    let s = Sandbox::with_values(VALUES);
    for (args, needle) in [
        (
            &["promote", "production", "--expect-live", "purple"][..],
            "purple",
        ),
        (
            &["stage", "production", "--tag", "1", "--digest", "sha256:x"],
            "--digest",
        ),
        (&["promote"], "ENV"),
        (&["status", "--no-such-flag"], "--no-such-flag"),
    ] {
        let mut full = args.to_vec();
        full.extend(["--output", "json"]);
        let r = s.greenlight(&full).code(2);
        let doc = json(&r);
        assert_eq!(doc["error"]["kind"], "usage", "{args:?}");
        assert_eq!(doc["error"]["code"], 2, "{args:?}");
        assert_eq!(doc["command"], args[0], "{args:?}");
        assert!(doc["schemaVersion"].is_u64());
        assert!(
            doc["error"]["messages"][0]
                .as_str()
                .unwrap()
                .contains(needle),
            "{args:?}: {doc}"
        );
        assert!(doc["error"]["hint"].is_string(), "{args:?}: {doc}");
    }
    // Without --output json, stdout stays empty.
    let r = s
        .greenlight(&["promote", "production", "--expect-live", "purple"])
        .code(2);
    assert_eq!(r.stdout, "");
}

#[test]
fn a_bad_tag_is_an_argument_error_before_any_edit() {
    let s = Sandbox::with_values(VALUES);
    let before = s.read("environments/production/values.yaml");
    let r = s
        .greenlight(&["stage", "production", "--tag", "v1:2"])
        .code(2);
    assert_eq!(
        r.stderr.lines().next().unwrap(),
        "error: --tag: `v1:2` is not a valid image tag: it contains `:`"
    );
    assert!(
        r.stderr
            .contains("hint: expected letters, digits, `_`, `.` and `-`"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("values.yaml"), "{}", r.stderr);
    let r = s
        .greenlight(&["stage", "production", "--digest", "sha256:abc"])
        .code(2);
    assert!(
        r.stderr
            .starts_with("error: --digest: `sha256:abc` is not a valid image digest"),
        "{}",
        r.stderr
    );
    let r = s
        .greenlight(&["promote", "production", "--expect-tag", "a b"])
        .code(2);
    assert!(r.stderr.starts_with("error: --expect-tag:"), "{}", r.stderr);
    let r = s
        .greenlight(&["stage", "production", "--from-tag", "v2:0-green"])
        .code(2);
    assert!(r.stderr.starts_with("error: --from-tag:"), "{}", r.stderr);
    assert_eq!(s.read("environments/production/values.yaml"), before);
}

#[test]
fn history_refuses_an_unknown_environment_and_a_zero_limit() {
    let s = Sandbox::with_values(VALUES);
    let r = s.greenlight(&["history", "productio"]).code(2);
    assert!(
        r.stderr.contains("unknown environment `productio`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("did you mean `production`?"),
        "{}",
        r.stderr
    );
    let r = s
        .greenlight(&["history", "production", "--limit", "0"])
        .code(2);
    assert!(r.stderr.contains("--limit"), "{}", r.stderr);
}

#[test]
fn a_list_gaining_a_file_is_summarised_as_one_addition() {
    let s = Sandbox::with_values(VALUES);
    let r = s
        .greenlight(&["stage", "production", "--tag", "2.0.0", "--dry-run"])
        .ok();
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("Kustomization"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(
        line.ends_with(": resources[1] (absent) → api-green.deployment.yaml"),
        "{line}"
    );
}

#[test]
fn warnings_carry_no_colour_off_a_terminal_and_quiet_silences_them() {
    let s = Sandbox::with_values(VALUES);
    s.write("rendered/notes/todo.yaml", "todo: []\n");
    for args in [
        &["render", "--all"][..],
        &["render", "--all", "--ansi", "never"],
        &["render", "--all", "--output", "json"],
    ] {
        let r = s.greenlight(args).ok();
        assert!(
            r.stderr.contains("left rendered/notes/todo.yaml"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains('\u{1b}'), "{args:?}: {:?}", r.stderr);
    }
    // Asked for, colour is there (the pipe is the test's, not a user's terminal).
    let r = s.greenlight(&["render", "--all", "--ansi", "always"]).ok();
    assert!(r.stderr.contains('\u{1b}'), "{:?}", r.stderr);
    let r = s.greenlight(&["render", "--all", "-q"]).ok();
    assert_eq!(r.stderr, "");
}

#[test]
fn hints_are_commands_that_run_as_printed() {
    let s = Sandbox::with_values(VALUES);
    s.greenlight(&["stage", "production", "--tag", "2.0.0"])
        .ok();
    s.greenlight(&["scale-down", "production", "--force"]).ok();
    let r = s.greenlight(&["promote", "production"]).code(3);
    let hint = r
        .stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("hint: "))
        .unwrap_or_else(|| panic!("{}", r.stderr));
    assert!(!hint.contains('<'), "{hint}");
    let command = hint.rsplit(": ").next().unwrap();
    assert_eq!(command, "greenlight stage production --tag 2.0.0");
    let args: Vec<&str> = command.split(' ').skip(1).collect();
    s.greenlight(&args).ok();
    s.greenlight(&["promote", "production"]).ok();
}

#[test]
fn staging_over_the_rollback_target_says_so() {
    let s = Sandbox::with_values(VALUES);
    s.greenlight(&["stage", "production", "--tag", "2.0.0"])
        .ok();
    s.greenlight(&["promote", "production"]).ok();
    // blue now holds 1.4.0 warm, for rollback.
    let r = s
        .greenlight(&["stage", "production", "--tag", "2.1.0", "--output", "json"])
        .ok();
    let notes = json(&r)["notes"].clone();
    assert!(
        notes[0].as_str().unwrap().starts_with(
            "blue held the previous release 1.4.0 (3 replicas), the target of `rollback`"
        ),
        "{notes}"
    );
    let message = s.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.contains("Note: blue held the previous release 1.4.0"),
        "{message}"
    );
    assert!(message.contains("Greenlight-Action: stage"), "{message}");
    // Staging again into what is staged replaces no rollback target: no note.
    let r = s
        .greenlight(&["stage", "production", "--tag", "2.2.0", "--output", "json"])
        .ok();
    assert_eq!(json(&r)["notes"], serde_json::json!([]));
}

#[test]
fn status_shows_a_live_colour_flipped_by_hand() {
    let s = Sandbox::with_values(VALUES);
    s.greenlight(&["stage", "production", "--tag", "2.0.0"])
        .ok();
    s.greenlight(&["promote", "production"]).ok();
    let path = "environments/production/values.yaml";
    s.write(
        path,
        &s.read(path).replace("liveColor: green", "liveColor: blue"),
    );
    s.greenlight(&["render"]).ok();
    s.git(&["commit", "-qam", "flip by hand"]);
    let r = s
        .greenlight(&["status", "production", "--output", "json"])
        .ok();
    let warnings = json(&r)["environments"][0]["warnings"].clone();
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("values say blue is live, but the last promote"),
        "{warnings}"
    );
    let r = s.greenlight(&["status"]).ok();
    assert!(
        r.stderr
            .contains("liveColor was changed outside greenlight"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_environment_name_is_read_the_same_way_by_every_command() {
    let s = Sandbox::with_values(VALUES);
    for args in [
        &["status", "production/"][..],
        &["diff", "production/"],
        &["history", "production/"],
        &["stage", "production/", "--tag", "2.0.0"],
    ] {
        s.greenlight(args).ok();
    }
    assert!(s
        .git(&["log", "-1", "--format=%B"])
        .contains("Greenlight-Environment: production\n"));
    for args in [
        &["status", "production//"][..],
        &["stage", "/production", "--tag", "1"],
    ] {
        let r = s.greenlight(args).code(2);
        assert!(
            r.stderr.contains("is not a valid environment name"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn a_refusal_in_staging_does_not_speak_of_production() {
    let s = Sandbox::with_values(VALUES);
    let r = s
        .greenlight(&["stage", "production", "--tag", "2.0.0", "--color", "blue"])
        .code(3);
    assert!(
        r.stderr
            .contains("blue is live: staging into it would change live traffic directly"),
        "{}",
        r.stderr
    );
}

#[test]
fn init_writes_no_comment_that_a_release_makes_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Sandbox::with_values(VALUES);
    let dir = tmp.path().join("r");
    let r = s.greenlight_in(
        tmp.path(),
        &[
            "init",
            dir.to_str().unwrap(),
            "--app",
            "api",
            "--env",
            "prod",
        ],
        None,
    );
    let r = r.ok();
    assert!(
        r.stderr.contains(&format!(
            "greenlight stage prod --tag 0.1.1 --repo {}",
            dir.display()
        )),
        "{}",
        r.stderr
    );
    s.greenlight_in(&dir, &["stage", "prod", "--tag", "2.0.0"], None)
        .ok();
    s.greenlight_in(&dir, &["promote", "prod"], None).ok();
    let values = std::fs::read_to_string(dir.join("environments/prod/values.yaml")).unwrap();
    let green = values.lines().find(|l| l.starts_with("green:")).unwrap();
    assert_eq!(green, "green: { tag: \"2.0.0\", replicas: 2 }");
    assert!(!values.contains("# idle:"), "{values}");
}
