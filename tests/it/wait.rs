//! `greenlight wait` against the loopback forge: it polls until every context reports
//! success (exit 0), stops at once on a failure (exit 3), times out with its own message (exit
//! 3), refuses when nothing is staged, and sees a commit that landed on the remote while it
//! waited. Intervals are milliseconds, so nothing sleeps long.

use crate::common::fake_forge::Forge;
use crate::statuses::{gitea, json_of, setup, short, Setup, FLUX, TOKEN};

fn wait(t: &Setup, forge: &Forge, extra: &[&str]) -> crate::common::sandbox::Run {
    let mut args = vec!["wait", "production", "--status", FLUX, "--interval", "20ms"];
    args.extend_from_slice(extra);
    t.run("gitea", forge, &args)
}

#[test]
fn it_polls_until_the_cluster_reports_success() {
    let t = setup();
    let forge = Forge::start(vec![
        gitea(&t.stage, &[(FLUX, "pending")]),
        gitea(&t.stage, &[]),
        gitea(&t.stage, &[(FLUX, "success"), ("other", "failure")]),
    ]);
    let r = wait(&t, &forge, &["--timeout", "1m"]).ok();
    forge.check();
    let report = json_of(&r);
    assert_eq!(report["command"], "wait");
    assert_eq!(report["outcome"], "passed");
    assert_eq!(report["polls"], 3);
    assert_eq!(report["color"], "green");
    assert_eq!(report["stageCommit"], t.stage);
    assert_eq!(report["statuses"][0]["context"], FLUX);
    assert_eq!(report["statuses"][0]["state"], "success");
    assert_eq!(report["statuses"][0]["commit"], t.stage);

    // Text on a pipe: the result, and no progress lines.
    let forge = Forge::start(vec![
        gitea(&t.stage, &[(FLUX, "pending")]),
        gitea(&t.stage, &[(FLUX, "success")]),
    ]);
    let url = forge.url("/api/v1");
    let r =
        t.s.greenlight_env(
            &t.s.root,
            &[
                "wait",
                "production",
                "--status",
                FLUX,
                "--interval",
                "20ms",
                "--forge",
                "gitea",
                "--forge-api-url",
                &url,
            ],
            &[("GITEA_TOKEN", TOKEN)],
        )
        .ok();
    forge.check();
    assert!(
        r.stdout.starts_with(
            "production: the release staged in green (registry.example.com/shop/api:1.5.0) passed"
        ),
        "{}",
        r.stdout
    );
    assert!(!r.stderr.contains("waiting for"), "{}", r.stderr);
}

#[test]
fn a_failure_ends_the_wait_at_once() {
    let t = setup();
    let forge = Forge::start(vec![
        gitea(&t.stage, &[(FLUX, "pending")]),
        gitea(&t.stage, &[(FLUX, "failure")]),
    ]);
    let r = wait(&t, &forge, &["--timeout", "10m"]).code(3);
    forge.check();
    let report = json_of(&r);
    assert_eq!(report["error"]["kind"], "refused");
    let message = report["error"]["messages"][0].as_str().unwrap();
    assert!(
        message.contains(&format!("`{FLUX}` is failure on {}", short(&t.stage))),
        "{message}"
    );
    assert!(!message.contains("timed out"), "{message}");
}

#[test]
fn a_timeout_is_a_refusal_with_its_own_message() {
    let t = setup();
    // The interval is longer than the timeout: one look now, one at the deadline (only one
    // when the machine is so loaded that the first look ends after the deadline).
    // Both looks find no status, so the message is the same either way.
    let forge = Forge::start(vec![gitea(&t.stage, &[]), gitea(&t.stage, &[])]);
    let r = t.run(
        "gitea",
        &forge,
        &[
            "wait",
            "production",
            "--status",
            FLUX,
            "--timeout",
            "150ms",
            "--interval",
            "10s",
        ],
    );
    forge.check_served(1..=2);
    let r = r.code(3);
    let report = json_of(&r);
    let message = report["error"]["messages"][0].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "timed out after 150ms waiting for the release staged in green: `{FLUX}` has no \
             status yet"
        )),
        "{message}"
    );
    assert!(report["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("longer --timeout"));
}

#[test]
fn nothing_staged_is_refused_without_asking_the_forge() {
    let t = setup();
    let forge = Forge::start(vec![]);
    let r = t.run("gitea", &forge, &["wait", "staging", "--status", FLUX]);
    forge.check();
    let report = json_of(&r.code(3));
    assert_eq!(
        report["error"]["messages"][0],
        "green has no image, so it cannot take traffic"
    );
    // After the promotion, the idle colour is the warm previous release: nothing to wait for.
    t.s.greenlight(&["promote", "production"]).ok();
    t.s.git(&["push", "-q", "origin", "main"]);
    let r = t.run("gitea", &forge, &["wait", "production", "--status", FLUX]);
    forge.check();
    let report = json_of(&r.code(3));
    let message = report["error"]["messages"][0].as_str().unwrap();
    assert!(
        message.starts_with("blue is not staged: it is the previous release"),
        "{message}"
    );
}

#[test]
fn a_commit_that_lands_while_waiting_counts() {
    use std::os::unix::fs::PermissionsExt as _;
    let t = setup();
    let other = t.s._tmp.path().join("other");
    t.s.git_in(
        t.s._tmp.path(),
        &[
            "clone",
            "-q",
            t.remote.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    // A `git` that lets another pipeline release staging just before greenlight's second
    // fetch: the cluster applies that commit and reports on it, not on the stage commit.
    let dir = t.s._tmp.path();
    let git = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let script = dir.join("fetching-git");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \" $* \" in *\" fetch \"*)\n  if [ -e '{one}' ] && [ ! -e '{two}' ]; then\n    \
             touch '{two}'\n    (cd '{other}' && env -u GREENLIGHT_GIT '{bin}' stage staging --tag 2.0.0 --push -q) \
             >/dev/null || exit 99\n  fi\n  touch '{one}';;\nesac\nexec '{git}' \"$@\"\n",
            one = dir.join("fetched-once").display(),
            two = dir.join("landed").display(),
            other = other.display(),
            bin = crate::common::sandbox::bin().display(),
            git = git.trim(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let forge = Forge::start(vec![
        gitea(&t.stage, &[(FLUX, "pending")]),
        gitea("*", &[(FLUX, "success")]),
    ]);
    let r = t.run_env(
        "gitea",
        &forge,
        &[
            "wait",
            "production",
            "--status",
            FLUX,
            "--interval",
            "20ms",
            "--timeout",
            "1m",
        ],
        &[("GREENLIGHT_GIT", script.to_str().unwrap())],
    );
    forge.check();
    let r = r.ok();
    let landed = t.s.git_in(&other, &["rev-parse", "HEAD"]).trim().to_owned();
    assert_ne!(landed, t.stage);
    assert_eq!(
        forge.requests()[1],
        format!("GET /api/v1/repos/acme/gitops/commits/{landed}/status")
    );
    let report = json_of(&r);
    assert_eq!(report["tip"], landed);
    assert_eq!(report["statuses"][0]["commit"], landed);
}

#[test]
fn a_temporary_clone_waits_too() {
    let t = setup();
    let forge = Forge::start(vec![gitea(&t.stage, &[(FLUX, "success")])]);
    let url = format!("file://{}", t.remote.display());
    let api = forge.url("/api/v1");
    let r =
        t.s.greenlight_env(
            t.s._tmp.path(),
            &[
                "--clone",
                &url,
                "wait",
                "production",
                "--status",
                FLUX,
                "--forge",
                "gitea",
                "--forge-api-url",
                &api,
                "--output",
                "json",
            ],
            &[("GITEA_TOKEN", TOKEN)],
        )
        .ok();
    forge.check();
    assert_eq!(json_of(&r)["outcome"], "passed");
}

#[test]
fn a_terminal_shows_what_is_still_pending() {
    let t = setup();
    let forge = Forge::start(vec![
        gitea(&t.stage, &[(FLUX, "pending")]),
        gitea(&t.stage, &[(FLUX, "pending")]),
        gitea(&t.stage, &[(FLUX, "success")]),
    ]);
    let command = format!(
        "env GITEA_TOKEN={TOKEN} GIT_CONFIG_GLOBAL=/dev/null {} wait production --status {FLUX} \
         --interval 150ms --forge gitea --forge-api-url {}",
        crate::common::sandbox::bin().display(),
        forge.url("/api/v1")
    );
    // A real pseudo-terminal (util-linux `script`).
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(&t.s.root)
        .env_remove("NO_COLOR")
        .output()
        .expect("script (Debian package bsdutils)");
    forge.check();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains(&format!("waiting for production: {FLUX} pending")),
        "no progress line on a terminal:\n{shown}"
    );
    assert!(shown.contains("passed"), "{shown}");
}

#[test]
fn without_status_it_waits_for_what_notify_makes_the_cluster_post() {
    let t = setup();
    // Without `notify`, there is no status the cluster is known to post.
    let forge = Forge::start(vec![]);
    let r = t.run("gitea", &forge, &["wait", "production"]).code(2);
    forge.check();
    assert!(
        json_of(&r)["error"]["messages"][0]
            .as_str()
            .unwrap()
            .contains("has no `notify.commitStatus`"),
        "{}",
        r.stdout
    );
    let values = t.s.read("environments/production/values.yaml");
    let wired = t.commit_values(
        &format!(
            "{values}flux: {{ sourceRef: {{ kind: GitRepository, name: gitops }} }}\n\
             notify:\n  commitStatus: {{ address: \"https://gitea.example.com/acme/gitops\", \
             secretRef: gitops-token }}\n"
        ),
        "notify",
    );
    t.s.git(&["push", "-q", "origin", "main"]);
    assert!(t
        .s
        .read("rendered/production/api-status.flux-provider.yaml")
        .contains(&format!("commitStatusExpr: \"'{FLUX}'\"")));
    let forge = Forge::start(vec![gitea(&wired, &[(FLUX, "success")])]);
    let r = t.run("gitea", &forge, &["wait", "production"]).ok();
    forge.check();
    assert_eq!(json_of(&r)["statuses"][0]["context"], FLUX);
    // The same context for promote.
    let forge = Forge::start(vec![gitea(&wired, &[(FLUX, "success")])]);
    t.run(
        "gitea",
        &forge,
        &["promote", "production", "--require-cluster-status"],
    )
    .ok();
    forge.check();
}
