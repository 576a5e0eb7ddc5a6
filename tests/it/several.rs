//! Releases of several environments at once: every guard of every environment first, then one
//! commit with a trailer group per environment that `history` and `status` read back (or none,
//! with every refusal listed), one push with the same race handling, one pull request.

use serde_json::{json, Value};

use crate::common::fake_forge::{Exchange, Forge};
use crate::common::sandbox::{racing_git, Run, Sandbox, VALUES};

const EU: &str = "production/eu-west/api";
const US: &str = "production/us-east/api";

/// A checkout with three environments of the same app, blue live with 1.4.0 in each.
fn sandbox() -> Sandbox {
    let s = Sandbox::with_values(VALUES);
    for env in [EU, US] {
        s.write(&format!("environments/{env}/values.yaml"), VALUES);
    }
    s.greenlight(&["render", "--all"]).ok();
    s.git(&["add", "-A"]);
    s.git(&["commit", "-q", "-m", "two regions"]);
    s
}

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr))
}

fn live(s: &Sandbox, env: &str) -> String {
    let text = s.read(&format!("environments/{env}/values.yaml"));
    let line = text.lines().find(|l| l.starts_with("liveColor:")).unwrap();
    line.trim_start_matches("liveColor:").trim().to_owned()
}

#[test]
fn one_commit_releases_every_environment_and_history_reads_each_back() {
    let s = sandbox();
    let before = s.commit_count();
    let r = s
        .greenlight(&["stage", EU, US, "--tag", "1.5.0", "--output", "json"])
        .ok();
    assert_eq!(s.commit_count(), before + 1, "one commit");
    let report = json(&r);
    assert_eq!(report["outcome"], "committed");
    assert_eq!(report["message"], "2 of 2 environments changed");
    let stage_commit = s.head();
    assert_eq!(report["commit"], stage_commit);
    for (i, env) in [EU, US].iter().enumerate() {
        let e = &report["environments"][i];
        assert_eq!(e["environment"], *env);
        assert_eq!(e["outcome"], "committed");
        assert_eq!(e["commit"], stage_commit);
        assert_eq!(e["image"], "registry.example.com/shop/api:1.5.0");
        assert!(e["push"].is_null() && e["pullRequest"].is_null());
    }
    assert_eq!(
        report["subject"],
        format!("stage({EU}, {US}): api green none → 1.5.0 (3 replicas)")
    );
    // The message: both summaries, and a trailer group each.
    let message = s.git(&["log", "-1", "--format=%B"]);
    assert_eq!(
        message.matches("Greenlight-Action: stage").count(),
        2,
        "{message}"
    );
    assert!(message.contains(&format!("Greenlight-Environment: {EU}")));
    assert!(message.contains(&format!("Greenlight-Environment: {US}")));
    assert!(
        message.contains(&format!("{EU}: stage green 1.5.0")),
        "{message}"
    );

    let r = s
        .greenlight(&[
            "promote",
            EU,
            US,
            "--expect-tag",
            "1.5.0",
            "--output",
            "json",
        ])
        .ok();
    let promoted = s.head();
    assert_eq!(s.commit_count(), before + 2);
    assert_eq!(
        json(&r)["subject"],
        format!("promote({EU}, {US}): api blue → green (1.5.0)")
    );
    assert_eq!(
        (live(&s, EU), live(&s, US)),
        ("green".into(), "green".into())
    );
    assert_eq!(
        live(&s, "production"),
        "blue",
        "an environment not named is untouched"
    );

    // history and status read each environment's release from the shared commits.
    for env in [EU, US] {
        let h = json(&s.greenlight(&["history", env, "--output", "json"]).ok());
        let records: Vec<(&str, &str)> = h["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["action"].as_str().unwrap(), r["commit"].as_str().unwrap()))
            .collect();
        assert_eq!(
            records,
            [
                ("promote", promoted.as_str()),
                ("stage", stage_commit.as_str())
            ]
        );
        assert_eq!(h["records"][0]["environment"], env);
        assert_eq!(h["records"][0]["live"], "green");
    }
    let status = json(&s.greenlight(&["status", "--output", "json"]).ok());
    for e in status["environments"].as_array().unwrap() {
        let expected = if e["environment"] == "production" {
            Value::Null
        } else {
            json!(promoted)
        };
        assert_eq!(e["lastPromotion"]["commit"], expected, "{e}");
    }
    // The scale-down guard reads each environment's last promotion.
    let soon = Some(crate::common::sandbox::T0 + 60);
    let r = s
        .greenlight_in(&s.root, &["scale-down", EU, US], soon)
        .code(3);
    assert!(
        r.stderr.contains("2 of 2 environments refused"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("29m left"), "{}", r.stderr);
    s.greenlight_in(&s.root, &["scale-down", EU, US, "--force"], soon)
        .ok();
    assert_eq!(s.commit_count(), before + 3);
    s.greenlight(&["verify"]).ok();
}

#[test]
fn a_refusal_in_the_last_environment_commits_nothing_and_lists_each() {
    let s = sandbox();
    s.greenlight(&["stage", EU, "--tag", "1.5.0"]).ok();
    let head = s.head();
    let r = s
        .greenlight(&["promote", EU, US, "--output", "json"])
        .code(3);
    assert_eq!(s.head(), head, "nothing committed");
    assert_eq!(s.git(&["status", "--porcelain"]), "");
    assert_eq!(
        live(&s, EU),
        "blue",
        "the environment that could go did not go alone"
    );
    let report = json(&r);
    assert_eq!(report["error"]["kind"], "refused");
    let message = report["error"]["messages"][0].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "1 of 2 environments refused, so none was released:\n  {US}: green has no image"
        )),
        "{message}"
    );
    let refusals = report["error"]["refusals"].as_array().unwrap();
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0]["environment"], US);
    assert!(refusals[0]["hint"]
        .as_str()
        .unwrap()
        .contains(&format!("greenlight stage {US}")));

    // Two refusals, both listed, in the order named; and on stderr for people.
    let r = s
        .greenlight(&["promote", US, "production", EU, "--expect-live", "green"])
        .code(3);
    for env in [US, "production", EU] {
        assert!(
            r.stderr.contains(&format!(
                "\n  {env}: expected green to be live, but blue is live"
            )),
            "{}",
            r.stderr
        );
    }
    assert!(
        r.stderr.contains("3 of 3 environments refused"),
        "{}",
        r.stderr
    );
    assert_eq!(s.head(), head);
}

#[test]
fn an_environment_with_nothing_to_do_is_reported_and_the_others_go() {
    let s = sandbox();
    s.greenlight(&["stage", EU, US, "--tag", "1.5.0"]).ok();
    s.greenlight(&["promote", EU]).ok();
    let before = s.commit_count();
    let r = s
        .greenlight(&[
            "promote",
            EU,
            US,
            "--expect-tag",
            "1.5.0",
            "--output",
            "json",
        ])
        .ok();
    assert_eq!(s.commit_count(), before + 1);
    let report = json(&r);
    assert_eq!(report["outcome"], "committed");
    assert_eq!(report["message"], "1 of 2 environments changed");
    assert_eq!(report["environments"][0]["outcome"], "no-change");
    assert!(report["environments"][0]["message"]
        .as_str()
        .unwrap()
        .contains("green (1.5.0) is already live"));
    assert!(report["environments"][0]["commit"].is_null());
    assert_eq!(report["environments"][1]["outcome"], "committed");
    // A release that changes one environment is that environment's own commit.
    let message = s.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with(&format!("promote({US}): api blue → green (1.5.0)")),
        "{message}"
    );
    assert_eq!(message.matches("Greenlight-Action").count(), 1);

    // Everything already done: no commit, exit 0.
    let r = s.greenlight(&["promote", EU, US]).ok();
    assert_eq!(s.commit_count(), before + 1);
    assert!(
        r.stderr.contains("nothing to do: no commit"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains(&format!("{US}: green (1.5.0) is already live")),
        "{}",
        r.stdout
    );
}

#[test]
fn dry_runs_and_text_output_name_every_environment() {
    let s = sandbox();
    s.greenlight(&["stage", EU, US, "--tag", "1.5.0"]).ok();
    let head = s.head();
    let r = s.greenlight(&["promote", EU, US, "--dry-run"]).ok();
    assert_eq!(s.head(), head);
    assert!(
        r.stdout.starts_with(&format!(
            "promote({EU}, {US}): api blue → green (1.5.0)\n{EU}:\n"
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&format!("\n{US}:\n")), "{}", r.stdout);
    assert!(r
        .stderr
        .contains("dry run: nothing written (2 of 2 environments would change)"));
    let r = s
        .greenlight(&["promote", EU, US, "--dry-run", "--output", "json"])
        .ok();
    assert_eq!(json(&r)["outcome"], "dry-run");
}

#[test]
fn an_environment_named_twice_is_a_usage_error() {
    let s = sandbox();
    let r = s.greenlight(&["stage", EU, EU, "--tag", "1.5.0"]).code(2);
    assert!(
        r.stderr
            .contains(&format!("environment {EU} is named twice")),
        "{}",
        r.stderr
    );
}

/// A bare remote the checkout tracks as `origin`, at `acme/gitops.git`.
fn with_remote(s: &Sandbox) -> std::path::PathBuf {
    let remote = s._tmp.path().join("acme/gitops.git");
    s.git(&[
        "init",
        "-q",
        "--bare",
        "-b",
        "main",
        remote.to_str().unwrap(),
    ]);
    s.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    s.git(&["push", "-q", "-u", "origin", "main"]);
    remote
}

#[test]
fn one_push_recomputes_every_environment_when_the_remote_moved() {
    let s = sandbox();
    s.greenlight(&["stage", EU, US, "--tag", "1.5.0"]).ok();
    let remote = with_remote(&s);
    let other = s._tmp.path().join("other");
    s.git_in(
        s._tmp.path(),
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    // Another pipeline stages production between our fetch and our push.
    let git = racing_git(
        s._tmp.path(),
        &other,
        &["stage", "production", "--tag", "2.0.0", "--push"],
    );
    let r = s.greenlight_env(
        &s.root,
        &["promote", EU, US, "--push", "--output", "json"],
        &[
            ("GREENLIGHT_GIT", git.to_str().unwrap()),
            ("GREENLIGHT_RETRY_BASE_MS", "1"),
        ],
    );
    let report = json(&r.ok());
    assert_eq!(report["push"]["attempts"], 2);
    assert!(report["environments"][0]["push"].is_null());
    let log = s.git(&["log", "-2", "--format=%s", "origin/main"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            format!("promote({EU}, {US}): api blue → green (1.5.0)").as_str(),
            "stage(production): api green none → 2.0.0 (3 replicas)",
        ]
    );
}

#[test]
fn one_pull_request_shows_every_environment() {
    let s = sandbox();
    s.greenlight(&["stage", EU, US, "--tag", "1.5.0"]).ok();
    with_remote(&s);
    const TOKEN: &str = "tok_several_0123";
    let branch = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = branch.clone();
    let create = Exchange {
        method: "POST",
        path: "/api/v1/repos/acme/gitops/pulls".into(),
        query: vec![],
        headers: vec![("Authorization", format!("token {TOKEN}"))],
        body: Some(Box::new(move |v: &Value| {
            let body = v["body"].as_str().unwrap();
            assert!(
                body.starts_with("greenlight `promote` of 2 environments."),
                "{body}"
            );
            for env in [EU, US] {
                assert!(
                    body.contains(&format!("| `{env}` | blue → **green** |")),
                    "{body}"
                );
                assert!(
                    body.contains(&format!("environments/{env}/values.yaml")),
                    "{body}"
                );
            }
            assert_eq!(
                v["title"],
                format!("promote({EU}, {US}): api blue → green (1.5.0)")
            );
            *seen.lock().unwrap() = v["head"].as_str().unwrap().to_owned();
        })),
        status: 201,
        answer: json!({"number": 9, "html_url": "https://gitea.example/acme/gitops/pulls/9"}),
    };
    let list = Exchange {
        method: "GET",
        path: "/api/v1/repos/acme/gitops/pulls".into(),
        query: vec![("state", "open".into())],
        headers: vec![],
        body: None,
        status: 200,
        answer: json!([]),
    };
    let forge = Forge::start(vec![list, create]);
    let api = forge.url("/api/v1");
    let r = s.greenlight_env(
        &s.root,
        &[
            "promote",
            EU,
            US,
            "--open-pr",
            "--forge",
            "gitea",
            "--forge-api-url",
            &api,
            "--output",
            "json",
        ],
        &[("GITEA_TOKEN", TOKEN)],
    );
    forge.check();
    let report = json(&r.ok());
    assert_eq!(report["pullRequest"]["number"], 9);
    let branch = branch.lock().unwrap().clone();
    assert!(
        branch.starts_with("greenlight/multi/promote-1.5.0-"),
        "{branch}"
    );
    assert_eq!(report["push"]["branch"], branch.as_str());
    assert_eq!(live(&s, EU), "blue", "the checkout's branch is left alone");
}

#[test]
fn a_status_refused_in_the_last_environment_refuses_the_release() {
    use crate::statuses::gitea;
    let s = sandbox();
    s.greenlight(&["stage", EU, US, "--tag", "1.5.0"]).ok();
    let stage = s.head();
    with_remote(&s);
    // Each environment asks about the commits that hold its own staged release: here, the
    // one commit that staged both. The first passes, the last is still pending.
    let forge = Forge::start(vec![
        gitea(&stage, &[("smoke", "success")]),
        gitea(&stage, &[("smoke", "pending")]),
    ]);
    let api = forge.url("/api/v1");
    let r = s.greenlight_env(
        &s.root,
        &[
            "promote",
            EU,
            US,
            "--require-status",
            "smoke",
            "--forge",
            "gitea",
            "--forge-api-url",
            &api,
            "--output",
            "json",
        ],
        &[("GITEA_TOKEN", crate::statuses::TOKEN)],
    );
    forge.check();
    let report = json(&r.code(3));
    assert_eq!(s.head(), stage, "nothing committed");
    assert_eq!(live(&s, EU), "blue");
    let refusals = report["error"]["refusals"].as_array().unwrap();
    assert_eq!(refusals.len(), 1, "{report}");
    assert_eq!(refusals[0]["environment"], US);
    assert_eq!(
        refusals[0]["statuses"],
        json!([{"context": "smoke", "state": "pending", "commit": stage, "source": "status", "detail": "pending"}])
    );
}
