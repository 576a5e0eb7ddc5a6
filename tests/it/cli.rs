//! Integration tests of the binary: the release cycle on real git repositories made in temp
//! dirs, with a hermetic environment (cleared env, no global git config, fixed identities and
//! dates, NO_COLOR, an injected clock via GREENLIGHT_NOW).

use std::path::Path;

use crate::common::sandbox::{bin, Run, Sandbox, T0};

const VALUES: &str = "\
# Shop API in production.
app: api
namespace: shop
liveColor: blue            # the only line a promotion changes
image: registry.example.com/shop/api
blue:  { tag: \"1.4.0\", replicas: 3 }
green: { replicas: 0 }     # empty until a stage
port: 8080
readinessProbe: { path: /healthz }
ingress: { host: api.example.com, className: nginx }
";

/// The sandbox most tests start from: `VALUES` in `production`.
fn sandbox() -> Sandbox {
    Sandbox::with_values(VALUES)
}

/// The action column of `greenlight history` text output, newest first.
fn history_actions(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .map(|l| {
            l.split_whitespace()
                .nth(2)
                .expect("commit, time, action, subject")
        })
        .collect()
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr:\n{}", run.stdout, run.stderr))
}

#[test]
fn full_cycle_stage_promote_rollback_scale_down() {
    let s = sandbox();
    assert_eq!(s.commit_count(), 1);

    // stage: green gets 1.5.0, pre-scaled to the live replicas.
    s.at(T0 + 60);
    let r = s
        .greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    assert!(
        r.stdout
            .contains("stage(production): api green none → 1.5.0 (3 replicas)"),
        "{}",
        r.stdout
    );
    assert!(s
        .read("rendered/production/api-green.deployment.yaml")
        .contains("1.5.0"));
    assert_eq!(
        s.git(&["log", "-1", "--format=%s"]).trim(),
        "stage(production): api green none → 1.5.0 (3 replicas)"
    );

    // promote: one line of values changes, the Service selector flips.
    s.at(T0 + 120);
    let r = s
        .greenlight(&[
            "promote",
            "production",
            "--expect-live",
            "blue",
            "--expect-tag",
            "1.5.0",
        ])
        .ok();
    assert!(
        r.stdout
            .contains("promote(production): api blue → green (1.5.0)"),
        "{}",
        r.stdout
    );
    let values_diff = s.git(&["diff", "HEAD~1", "--unified=0", "--", "environments/"]);
    let changed: Vec<&str> = values_diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(
        changed,
        [
            "-liveColor: blue            # the only line a promotion changes",
            "+liveColor: green           # the only line a promotion changes",
        ]
    );
    let stat = s.git(&["diff", "HEAD~1", "--name-only"]);
    assert_eq!(
        stat.lines().collect::<Vec<_>>(),
        [
            "environments/production/values.yaml",
            "rendered/production/api-preview.service.yaml",
            "rendered/production/api.service.yaml",
        ],
        "a promotion changes the values line and the two selectors only"
    );
    let service = s.read("rendered/production/api.service.yaml");
    assert!(
        service.contains("color: \"green\"") || service.contains("color: green"),
        "{service}"
    );

    // rollback: back to blue.
    s.at(T0 + 180);
    let r = s.greenlight(&["rollback", "production"]).ok();
    assert!(
        r.stdout
            .contains("rollback(production): api green → blue (1.4.0)"),
        "{}",
        r.stdout
    );

    // scale-down of the idle (green) colour: the last promotion was at T0+120.
    s.at(T0 + 240);
    let r = s
        .greenlight_in(
            &s.root,
            &["scale-down", "production"],
            Some(T0 + 120 + 10 * 60),
        )
        .code(3);
    assert!(r.stderr.contains("stays warm for 30m"), "{}", r.stderr);
    assert!(r.stderr.contains("20m left"), "{}", r.stderr);
    let r = s
        .greenlight_in(
            &s.root,
            &["scale-down", "production"],
            Some(T0 + 120 + 31 * 60),
        )
        .ok();
    assert!(
        r.stdout
            .contains("scale-down(production): api green 3 → 0 replicas (1.5.0)"),
        "{}",
        r.stdout
    );
    assert_eq!(s.commit_count(), 5);
    assert_eq!(
        s.git(&["status", "--porcelain"]),
        "",
        "worktree and index follow each commit"
    );
    s.git(&["fsck", "--strict", "--no-progress"]);

    // history lists every action, newest first; the git CLI reads the same trailers.
    let r = s.greenlight(&["history", "production"]).ok();
    let actions = history_actions(&r.stdout);
    assert_eq!(actions, ["scale-down", "rollback", "promote", "stage"]);
    let trailers = s.git(&[
        "log",
        "--format=%(trailers:key=Greenlight-Action,valueonly,separator=)|%(trailers:key=Greenlight-Live,valueonly,separator=)|%(trailers:key=Greenlight-Previous,valueonly,separator=)",
    ]);
    assert_eq!(
        trailers
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>(),
        [
            "scale-down|blue|blue",
            "rollback|blue|green",
            "promote|green|blue",
            "stage|blue|blue",
            "||",
        ]
    );
    let image = s.git(&[
        "log",
        "-1",
        "--skip=2",
        "--format=%(trailers:key=Greenlight-Image,valueonly,separator=)",
    ]);
    assert_eq!(image.trim(), "registry.example.com/shop/api:1.5.0");
    let sha = s.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Greenlight-Values-Sha256,valueonly,separator=)",
    ]);
    let expected = {
        use sha2::Digest as _;
        let d = sha2::Sha256::digest(s.read("environments/production/values.yaml").as_bytes());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    assert_eq!(sha.trim(), expected);
    s.greenlight(&["verify"]).ok();
}

#[test]
fn promote_twice_makes_one_commit_and_never_flips_back() {
    let s = sandbox();
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    s.greenlight(&["promote", "production"]).ok();
    let head = s.head();
    let r = s.greenlight(&["promote", "production"]).ok();
    assert!(
        r.stdout.contains("green (1.5.0) is already live"),
        "{}",
        r.stdout
    );
    assert_eq!(s.head(), head, "no commit for a no-op");
    assert!(s
        .read("environments/production/values.yaml")
        .contains("liveColor: green"));
    // Same for stage of the same image after it was promoted? It is live: refused.
    let r = s
        .greenlight(&["stage", "production", "--tag", "1.5.0", "--color", "green"])
        .code(3);
    assert!(r.stderr.contains("green is live"), "{}", r.stderr);
}

#[test]
fn refusals_exit_3_with_a_reason_and_write_nothing() {
    let s = sandbox();
    let head = s.head();
    let cases: &[(&[&str], &str)] = &[
        (
            &["stage", "production", "--tag", "2.0", "--color", "blue"],
            "blue is live",
        ),
        (
            &["stage", "production", "--from-tag", "v2.0-blue"],
            "blue is live",
        ),
        (&["promote", "production"], "green has no image"),
        (&["rollback", "production"], "nothing to roll back to"),
    ];
    for (args, message) in cases {
        let r = s.greenlight(args).code(3);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("hint:"),
            "{args:?} gives a hint: {}",
            r.stderr
        );
    }
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    let staged = s.head();
    let cases: &[(&[&str], &str)] = &[
        (
            &["promote", "production", "--expect-live", "green"],
            "expected green to be live, but blue is live",
        ),
        (
            &["promote", "production", "--expect-tag", "1.6.0"],
            "expected green to hold `1.6.0`, but it holds `1.5.0`",
        ),
        (&["rollback", "production"], "not the previous release"),
    ];
    for (args, message) in cases {
        let r = s.greenlight(args).code(3);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
    }
    assert_ne!(staged, head);
    assert_eq!(s.head(), staged, "refusals commit nothing");
    assert_eq!(s.git(&["status", "--porcelain"]), "");
}

#[test]
fn promote_refuses_a_colour_scaled_to_zero() {
    let s = sandbox();
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    s.greenlight(&["promote", "production"]).ok();
    // Roll back and scale the bad release down, then stage, scale down again: 0 replicas.
    s.greenlight(&["rollback", "production"]).ok();
    s.greenlight(&["stage", "production", "--tag", "1.6.0"])
        .ok();
    s.greenlight(&["scale-down", "production", "--force"]).ok();
    let r = s.greenlight(&["promote", "production"]).code(3);
    assert!(r.stderr.contains("green has 0 replicas"), "{}", r.stderr);
}

#[test]
fn promote_after_rollback_needs_a_new_stage() {
    let s = sandbox();
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    s.greenlight(&["promote", "production"]).ok();
    s.greenlight(&["rollback", "production"]).ok();
    let r = s.greenlight(&["rollback", "production"]).ok();
    assert!(r.stdout.contains("already rolled back"), "{}", r.stdout);
    let r = s.greenlight(&["promote", "production"]).code(3);
    assert!(r.stderr.contains("rolled back"), "{}", r.stderr);
    // Re-staging the same image records a new stage (values unchanged), then promote works.
    let before = s.commit_count();
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    assert_eq!(s.commit_count(), before + 1);
    assert_eq!(
        s.git(&["diff", "HEAD~1", "--stat"]),
        "",
        "a record-only stage changes no file"
    );
    s.greenlight(&["promote", "production"]).ok();
    assert!(s
        .read("environments/production/values.yaml")
        .contains("liveColor: green"));
}

#[test]
fn dirty_paths_stop_the_command_and_keep_the_users_edit() {
    let s = sandbox();
    let head = s.head();
    let values_path = "environments/production/values.yaml";

    // An uncommitted edit of the values file that stage must rewrite.
    let edited = s.read(values_path) + "# my local note\n";
    s.write(values_path, &edited);
    let r = s
        .greenlight(&["stage", "production", "--tag", "1.5.0"])
        .code(2);
    assert!(r.stderr.contains(values_path), "{}", r.stderr);
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
    assert_eq!(s.read(values_path), edited, "the user's edit is intact");
    assert_eq!(s.head(), head);
    s.git(&["checkout", "--", "."]);

    // An untracked file where stage would write the green Deployment.
    let mine = "# my own deployment\n";
    s.write("rendered/production/api-green.deployment.yaml", mine);
    let r = s
        .greenlight(&["stage", "production", "--tag", "1.5.0"])
        .code(2);
    assert!(
        r.stderr
            .contains("rendered/production/api-green.deployment.yaml"),
        "{}",
        r.stderr
    );
    assert_eq!(
        s.read("rendered/production/api-green.deployment.yaml"),
        mine
    );
    assert_eq!(s.head(), head);
    std::fs::remove_file(s.path("rendered/production/api-green.deployment.yaml")).unwrap();

    // A staged (index) edit of the values file is also in the way.
    let values = s.read(values_path).replace("port: 8080", "port: 8081");
    s.write(values_path, &values);
    s.git(&["add", values_path]);
    let r = s
        .greenlight(&["stage", "production", "--tag", "1.5.0"])
        .code(2);
    assert!(r.stderr.contains(values_path), "{}", r.stderr);
    assert_eq!(s.read(values_path), values);
    assert_eq!(s.head(), head);
    assert_eq!(
        s.git(&["diff", "--cached", "--name-only"]).trim(),
        values_path
    );
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let s = sandbox();
    let head = s.head();
    let r = s
        .greenlight(&["stage", "production", "--tag", "1.5.0", "--dry-run"])
        .ok();
    assert!(
        r.stdout
            .contains("+++ b/rendered/production/api-green.deployment.yaml"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("-green: { replicas: 0 }"), "{}", r.stdout);
    assert!(
        r.stderr.contains("dry run: nothing written"),
        "{}",
        r.stderr
    );
    assert_eq!(s.head(), head);
    assert!(!s
        .path("rendered/production/api-green.deployment.yaml")
        .exists());
    assert_eq!(s.git(&["status", "--porcelain"]), "");
}

#[test]
fn bare_repository_commits_without_a_worktree() {
    let s = sandbox();
    let bare = s.root.parent().unwrap().join("bare.git");
    s.git(&[
        "clone",
        "-q",
        "--bare",
        s.root.to_str().unwrap(),
        bare.to_str().unwrap(),
    ]);
    s.greenlight_in(&bare, &["stage", "production", "--tag", "1.5.0"], None)
        .ok();
    let r = s
        .greenlight_in(&bare, &["promote", "production", "--output", "json"], None)
        .ok();
    let report = json(&r);
    assert_eq!(report["outcome"], "committed");
    assert_eq!(report["live"], "green");
    let log = s.git_in(&bare, &["log", "--format=%s"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "promote(production): api blue → green (1.5.0)",
            "stage(production): api green none → 1.5.0 (3 replicas)",
            "initial import",
        ]
    );
    s.git_in(&bare, &["fsck", "--strict", "--no-progress"]);
    s.greenlight_in(&bare, &["verify"], None).ok();
    let r = s.greenlight_in(&bare, &["render"], None).code(2);
    assert!(r.stderr.contains("bare repository"), "{}", r.stderr);
}

#[test]
fn verify_catches_a_hand_edited_rendered_file() {
    let s = sandbox();
    s.greenlight(&["verify"]).ok();
    let svc = s
        .read("rendered/production/api.service.yaml")
        .replace("blue", "green");
    s.write("rendered/production/api.service.yaml", &svc);
    s.write("rendered/production/extra.yaml", "kind: ConfigMap\n");
    std::fs::remove_file(s.path("rendered/production/api.ingress.yaml")).unwrap();
    s.git(&["commit", "-qam", "hand edit"]);
    s.git(&["add", "-A"]);
    s.git(&["commit", "-qm", "extra"]);
    let r = s.greenlight(&["verify"]).code(1);
    assert!(
        r.stdout
            .contains("differs    rendered/production/api.service.yaml"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("missing    rendered/production/api.ingress.yaml"),
        "{}",
        r.stdout
    );
    // greenlight did not write extra.yaml: it says so, and how to remove it.
    assert!(
        r.stdout
            .contains("foreign    rendered/production/extra.yaml"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("git rm rendered/production/extra.yaml"),
        "{}",
        r.stderr
    );
    let report = json(&s.greenlight(&["verify", "--output", "json"]).code(1));
    assert_eq!(report["ok"], false);
    assert_eq!(report["drift"].as_array().unwrap().len(), 3);
}

#[test]
fn diff_shows_a_hand_edit_with_a_summary_and_exit_1() {
    let s = sandbox();
    s.greenlight(&["diff"]).ok();
    let values = s
        .read("environments/production/values.yaml")
        .replace("liveColor: blue ", "liveColor: green");
    s.write("environments/production/values.yaml", &values);
    // Green has no image, so it cannot be live: a located values error, exit 2.
    let r = s.greenlight(&["diff", "production"]).code(2);
    assert!(
        r.stderr.contains("environments/production/values.yaml:7:"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("`green` is the live colour but has no image"),
        "{}",
        r.stderr
    );
    s.git(&["checkout", "--", "."]);
    let values = s
        .read("environments/production/values.yaml")
        .replace("tag: \"1.4.0\"", "tag: \"1.4.1\"");
    s.write("environments/production/values.yaml", &values);
    let r = s.greenlight(&["diff", "production"]).code(1);
    assert!(
        r.stdout
            .contains("production: blue 1.4.0 → 1.4.1 (api, 3 replicas)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("+++ b/rendered/production/api-blue.deployment.yaml"),
        "{}",
        r.stdout
    );
}

#[test]
fn unknown_environment_and_bad_values_are_usage_errors() {
    let s = sandbox();
    let r = s.greenlight(&["promote", "prodution"]).code(2);
    assert!(
        r.stderr.contains("unknown environment `prodution`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("did you mean `production`?"),
        "{}",
        r.stderr
    );
    let r = s.greenlight(&["stage", "../etc", "--tag", "1"]).code(2);
    assert!(
        r.stderr
            .contains("`../etc` is not a valid environment name: it has a `.` or `..` component"),
        "{}",
        r.stderr
    );
    let r = s
        .greenlight(&[
            "stage",
            "production",
            "--tag",
            "1",
            "--from-tag",
            "v1-green",
        ])
        .code(2);
    assert!(r.stderr.contains("--from-tag"), "{}", r.stderr);
}

#[test]
fn render_and_values_errors_name_file_line_and_hint() {
    let s = sandbox();
    let bad = VALUES.replace("green: { replicas: 0 }", "green: { replica: 0 }");
    s.write("environments/production/values.yaml", &bad);
    let before = s.read("rendered/production/api.service.yaml");
    let r = s.greenlight(&["render"]).code(2);
    assert!(
        r.stderr.contains("environments/production/values.yaml:7:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean `replicas`"), "{}", r.stderr);
    assert_eq!(s.read("rendered/production/api.service.yaml"), before);
}

#[test]
fn history_json_and_status_read_trailers() {
    let s = sandbox();
    s.at(T0 + 100);
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    let st = json(&s.greenlight(&["status", "--output", "json"]).ok());
    assert_eq!(st["schemaVersion"], 2);
    assert_eq!(st["environments"][0]["staged"], "green");
    assert_eq!(st["environments"][0]["green"]["version"], "1.5.0");
    s.at(T0 + 200);
    s.greenlight(&["promote", "production"]).ok();
    let st = json(&s.greenlight(&["status", "--output", "json"]).ok());
    assert_eq!(st["environments"][0]["live"], "green");
    assert_eq!(st["environments"][0]["staged"], serde_json::Value::Null);
    assert_eq!(st["environments"][0]["lastPromotion"]["time"], T0 + 200);
    let h = json(
        &s.greenlight(&["history", "production", "--output", "json"])
            .ok(),
    );
    let actions: Vec<&str> = h["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["promote", "stage"]);
}

#[test]
fn init_scaffolds_a_repository_that_releases() {
    let s = sandbox();
    let dir = s.root.parent().unwrap().join("new-gitops");
    let r = s
        .greenlight(&[
            "init",
            dir.to_str().unwrap(),
            "--app",
            "web",
            "--env",
            "prod/eu",
            "--tag",
            "2.0.0",
        ])
        .ok();
    assert!(r.stdout.contains("initialised prod/eu"), "{}", r.stdout);
    s.greenlight_in(&dir, &["verify"], None).ok();
    s.greenlight_in(&dir, &["stage", "prod/eu", "--tag", "2.1.0"], None)
        .ok();
    s.greenlight_in(&dir, &["promote", "prod/eu", "--expect-live", "blue"], None)
        .ok();
    assert_eq!(s.git_in(&dir, &["status", "--porcelain"]), "");
    let r = s
        .greenlight(&[
            "init",
            dir.to_str().unwrap(),
            "--app",
            "web",
            "--env",
            "prod/eu",
        ])
        .code(2);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
}

#[test]
fn demo_runs_a_whole_cycle_from_a_fresh_build() {
    let s = sandbox();
    let dir = s.root.parent().unwrap().join("demo");
    // No identity in the environment: the demo must bring its own.
    let mut cmd = std::process::Command::new(bin());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", &s.home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .args(["demo", dir.to_str().unwrap()]);
    let r = Run::from(cmd.output().unwrap()).ok();
    for needle in [
        "$ greenlight stage staging --tag 1.5.0",
        "stage(staging): api green 1.3.2 → 1.5.0 (2 replicas)",
        "promote(staging): api blue → green (1.5.0)",
        "dry run: nothing written",
        "ok: rendered/ matches the values of 2 environments",
    ] {
        assert!(
            r.stdout.contains(needle) || r.stderr.contains(needle),
            "missing {needle:?}:\n{}\n{}",
            r.stdout,
            r.stderr
        );
    }
    let log = s.git_in(&dir, &["log", "--format=%s"]);
    assert_eq!(log.lines().count(), 3, "{log}");
    s.git_in(&dir, &["fsck", "--strict", "--no-progress"]);
    // A second run refuses a non-empty directory.
    let r = s.greenlight(&["demo", dir.to_str().unwrap()]).code(2);
    assert!(r.stderr.contains("is not empty"), "{}", r.stderr);
}

#[test]
fn branch_moved_between_read_and_commit_is_a_conflict_not_an_overwrite() {
    // Two greenlight processes race on the same environment in one repository: the
    // compare-and-swap lets exactly one stage land; the other sees exit 4 or a no-op.
    let s = sandbox();
    let bin = bin();
    let mut children = Vec::new();
    for tag in ["1.5.0", "1.6.0"] {
        let mut cmd = std::process::Command::new(&bin);
        s.env(&mut cmd);
        cmd.args(["stage", "production", "--tag", tag, "--repo"])
            .arg(&s.root);
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        children.push(cmd.spawn().unwrap());
    }
    let codes: Vec<i32> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code().unwrap())
        .collect();
    assert!(codes.contains(&0), "{codes:?}");
    assert!(codes.iter().all(|c| [0, 2, 4].contains(c)), "{codes:?}");
    s.git(&["fsck", "--strict", "--no-progress"]);
    s.greenlight(&["verify"]).ok();
}

#[test]
fn from_tag_and_digest_stage_into_the_named_colour() {
    let s = sandbox();
    let r = s
        .greenlight(&["stage", "production", "--from-tag", "v2.0-green"])
        .ok();
    assert!(
        r.stdout
            .contains("stage(production): api green none → v2.0"),
        "{}",
        r.stdout
    );
    assert!(s
        .read("environments/production/values.yaml")
        .contains("green: { tag: \"v2.0\", replicas: 3 }"));
    let digest = format!("sha256:{}", "ab".repeat(32));
    s.greenlight(&["stage", "production", "--digest", &digest])
        .ok();
    let values = s.read("environments/production/values.yaml");
    assert!(
        values.contains(&format!("green: {{ digest: \"{digest}\", replicas: 3 }}"))
            || values.contains(&format!("green: {{ replicas: 3, digest: \"{digest}\" }}")),
        "{values}"
    );
    let deployment = s.read("rendered/production/api-green.deployment.yaml");
    assert!(
        deployment.contains(&format!("registry.example.com/shop/api@{digest}")),
        "{deployment}"
    );
    let r = s
        .greenlight(&["stage", "production", "--digest", "sha256:nothex"])
        .code(2);
    assert!(r.stderr.contains("digest"), "{}", r.stderr);
}

#[test]
fn render_uses_repository_template_overrides_and_removes_stale_files() {
    let s = sandbox();
    // An override of the Service template, recognisable by an extra label.
    let builtin = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/service.yaml.tera"),
    )
    .unwrap();
    let overridden = builtin.replacen("  labels:\n", "  labels:\n    tier: \"edge\"\n", 1);
    assert_ne!(
        builtin, overridden,
        "the built-in template has a labels block"
    );
    s.write("templates/service.yaml.tera", &overridden);
    let r = s.greenlight(&["render", "-v"]).ok();
    assert!(r.stderr.contains("service.yaml.tera"), "{}", r.stderr);
    assert!(
        r.stderr.contains("override"),
        "which template was used is logged: {}",
        r.stderr
    );
    assert!(s
        .read("rendered/production/api.service.yaml")
        .contains("tier: \"edge\""));
    // Both Services come from service.yaml.tera.
    assert!(s
        .read("rendered/production/api-preview.service.yaml")
        .contains("tier: \"edge\""));

    // Dropping the ingress from values removes its rendered file, and only that file.
    let values = s
        .read("environments/production/values.yaml")
        .replace("ingress: { host: api.example.com, className: nginx }\n", "");
    s.write("environments/production/values.yaml", &values);
    s.write(
        "rendered/production/NOTES.txt",
        "kept: not a rendered file\n",
    );
    let r = s.greenlight(&["render", "production"]).ok();
    assert!(
        r.stdout
            .contains("removed rendered/production/api.ingress.yaml"),
        "{}",
        r.stdout
    );
    assert!(!s.path("rendered/production/api.ingress.yaml").exists());
    assert!(s.path("rendered/production/NOTES.txt").exists());
    assert!(!s
        .read("rendered/production/kustomization.yaml")
        .contains("ingress"));

    // An unknown template name in templates/ is refused with the known names.
    s.write("templates/deploymnet.yaml.tera", "x");
    let r = s.greenlight(&["render"]).code(2);
    assert!(r.stderr.contains("deploymnet.yaml.tera"), "{}", r.stderr);
}

#[test]
fn a_stage_merged_through_a_pull_request_can_be_promoted() {
    // The PR workflow: stage on a branch, merge it with a merge commit, promote on main. The
    // stage commit is then only a second parent of main's history.
    let s = sandbox();
    s.git(&[
        "checkout",
        "-q",
        "-b",
        "greenlight/production/stage-green-1.5.0",
    ]);
    s.at(T0 + 60);
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    s.git(&["checkout", "-q", "main"]);
    s.at(T0 + 120);
    s.git(&[
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge pull request #1",
        "greenlight/production/stage-green-1.5.0",
    ]);
    let first_parent = s.git(&["log", "--first-parent", "--format=%s"]);
    assert!(
        !first_parent.contains("stage(production)"),
        "{first_parent}"
    );
    s.at(T0 + 180);
    let r = s
        .greenlight(&["promote", "production", "--expect-live", "blue"])
        .ok();
    assert!(
        r.stdout
            .contains("promote(production): api blue → green (1.5.0)"),
        "{}",
        r.stdout
    );
    let r = s.greenlight(&["history", "production"]).ok();
    let actions = history_actions(&r.stdout);
    assert_eq!(actions, ["promote", "stage"]);
}

#[test]
fn init_refuses_options_that_would_not_be_plain_values() {
    let s = sandbox();
    let dir = s.root.parent().unwrap().join("bad-init");
    let d = dir.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--host", "a.example.com, className: evil"], "--host"),
        (&["--tag", "1.0\", replicas: 99 }"], "--tag"),
        (&["--image", "registry.example.com/api:1.0"], "--image"),
        (&["--namespace", "Shop"], "--namespace"),
    ];
    for (extra, flag) in cases {
        let mut args = vec!["init", d, "--app", "web", "--env", "prod"];
        args.extend_from_slice(extra);
        let r = s.greenlight(&args).code(2);
        assert!(r.stderr.contains(flag), "{extra:?}: {}", r.stderr);
        assert!(
            !dir.join("environments").exists(),
            "nothing written for {extra:?}"
        );
    }
    let r = s
        .greenlight(&["init", d, "--app", "Web_App", "--env", "prod"])
        .code(2);
    assert!(r.stderr.contains("--app"), "{}", r.stderr);
}

#[test]
fn verify_of_the_commit_names_the_edits_it_did_not_see() {
    let s = sandbox();
    s.greenlight(&["verify"]).ok();
    let path = "rendered/production/api.service.yaml";
    s.write(path, &s.read(path).replace("blue", "green"));
    s.write("environments/staging/values.yaml", "app: x\n");
    let r = s.greenlight(&["verify"]).ok();
    assert!(r.stdout.starts_with("ok: "), "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "2 files under environments/ and rendered/ have uncommitted edits it did not see \
             (environments/staging/values.yaml, rendered/production/api.service.yaml): \
             `greenlight verify --worktree` checks them"
        ),
        "{}",
        r.stdout
    );
    let report = json(&s.greenlight(&["verify", "--output", "json"]).ok());
    assert_eq!(report["uncommitted"].as_array().unwrap().len(), 2);
    // --worktree sees them (and fails on the bad values file).
    s.greenlight(&["verify", "--worktree"]).code(2);
}

/// Inside a git hook, git points `GIT_INDEX_FILE` at the index it is building: a release
/// commit updates that index (as `git add` would there), and the dirty check reads it too.
#[test]
fn a_checkout_commit_updates_the_index_git_index_file_names() {
    let s = sandbox();
    let real = s.path(".git/index");
    let hook_index = s.path(".git/hook-index");
    std::fs::copy(&real, &hook_index).unwrap();
    let before = std::fs::read(&real).unwrap();
    let vars = [("GIT_INDEX_FILE", hook_index.to_str().unwrap())];
    s.greenlight_env(
        &s.root,
        &["stage", "production", "--tag", "1.5.0", "-q"],
        &vars,
    )
    .ok();
    assert!(
        std::fs::read(&real).unwrap() == before,
        "the real index is left alone"
    );
    assert!(!s.path(".git/hook-index.lock").exists());
    let mut git = std::process::Command::new("git");
    s.env(&mut git);
    let status = git
        .args(["status", "--porcelain"])
        .env("GIT_INDEX_FILE", &hook_index)
        .output()
        .unwrap();
    assert!(status.status.success());
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        "",
        "the hook's index matches the release commit and its files"
    );
    // An edit the hook's index does not hold is seen as one.
    s.write(
        "environments/production/values.yaml",
        &VALUES.replace("replicas: 3", "replicas: 4"),
    );
    let refused = s.greenlight_env(&s.root, &["promote", "production"], &vars);
    assert_ne!(refused.code, 0, "{}", refused.stderr);
    assert!(refused.stderr.contains("values.yaml"), "{}", refused.stderr);
}

/// In a sparse checkout that leaves out the environment's rendered files, a release refuses
/// before anything is written and names the `git sparse-checkout add` that fixes it; with the
/// folder added, the same command commits.
#[test]
fn a_sparse_checkout_without_the_environment_is_refused_with_the_folders_to_add() {
    // Index version 3 is read by greenlight, version 4 by libgit2: both see the flag.
    for version in ["3", "4"] {
        sparse_checkout_refusal(version);
    }
}

fn sparse_checkout_refusal(index_version: &str) {
    let s = sandbox();
    s.git(&["sparse-checkout", "set", "--cone", "environments"]);
    s.git(&["update-index", "--index-version", index_version]);
    assert!(!s.path("rendered/production/api.service.yaml").exists());
    let head = s.head();
    let refused = s
        .greenlight(&["stage", "production", "--tag", "1.5.0"])
        .code(2);
    assert!(
        refused
            .stderr
            .contains("sparse-checkout patterns leave out rendered/production/"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("`git sparse-checkout add rendered/production`"),
        "{}",
        refused.stderr
    );
    assert_eq!(s.head(), head, "nothing committed");
    assert_eq!(s.git(&["status", "--porcelain"]), "", "nothing written");
    s.git(&["sparse-checkout", "add", "rendered/production"]);
    s.greenlight(&["stage", "production", "--tag", "1.5.0", "-q"])
        .ok();
    assert_ne!(s.head(), head);
    assert_eq!(s.git(&["status", "--porcelain"]), "");
}
