//! `promote --require-status` against a loopback forge (GitHub, GitLab, Gitea): the state of
//! each required context on the commits that hold the staged release decides, the newest
//! commit that reports it first; no status, pending, failure or error refuse with exit 3 and
//! write nothing; a later commit that changed the staged release never counts; and the guard
//! is evaluated again when a push race makes greenlight compute the promotion on a new tip.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::common::fake_forge::{Exchange, Forge};
use crate::common::sandbox::{racing_git, Run, Sandbox, VALUES};

pub const TOKEN: &str = "tok_statuses_0123456789";
pub const FLUX: &str = "kustomization/api-production";

/// A checkout with `production` and `staging`; production has 1.5.0 staged in green (the
/// stage commit), pushed to a bare remote at `acme/gitops.git` that the checkout tracks.
pub struct Setup {
    pub s: Sandbox,
    pub remote: PathBuf,
    /// The commit that staged production's green.
    pub stage: String,
}

pub fn setup() -> Setup {
    let s = Sandbox::with_values(VALUES);
    s.write("environments/staging/values.yaml", VALUES);
    s.greenlight(&["render", "--all"]).ok();
    s.git(&["add", "-A"]);
    s.git(&["commit", "-q", "-m", "staging"]);
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    let stage = s.head();
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
    Setup { s, remote, stage }
}

/// The forge's base path and token variable for `--forge kind`.
fn api(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "github" => ("/api/v3", "GITHUB_TOKEN"),
        "gitlab" => ("/api/v4", "GITLAB_TOKEN"),
        _ => ("/api/v1", "GITEA_TOKEN"),
    }
}

impl Setup {
    /// Runs greenlight with the forge `kind` served by `forge` (JSON output).
    pub fn run(&self, kind: &str, forge: &Forge, args: &[&str]) -> Run {
        self.run_env(kind, forge, args, &[])
    }

    pub fn run_env(&self, kind: &str, forge: &Forge, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let (base, var) = api(kind);
        let url = forge.url(base);
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--forge", kind, "--forge-api-url", &url, "--output", "json"]);
        let mut env = vec![(var, TOKEN)];
        env.extend_from_slice(vars);
        self.s.greenlight_env(&self.s.root, &all, &env)
    }

    /// `promote production` requiring `contexts`.
    pub fn promote(&self, kind: &str, forge: &Forge, contexts: &[&str]) -> Run {
        let mut args = vec!["promote", "production"];
        for c in contexts {
            args.extend(["--require-status", c]);
        }
        self.run(kind, forge, &args)
    }

    pub fn live(&self) -> String {
        let text = self.s.read("environments/production/values.yaml");
        let line = text.lines().find(|l| l.starts_with("liveColor:")).unwrap();
        line.trim_start_matches("liveColor:").trim().to_owned()
    }

    /// Commits `values` as production's values (rendered), by hand.
    pub fn commit_values(&self, values: &str, message: &str) -> String {
        self.s.write("environments/production/values.yaml", values);
        self.s.greenlight(&["render", "production"]).ok();
        self.s.git(&["add", "-A"]);
        self.s.git(&["commit", "-q", "-m", message]);
        self.s.head()
    }
}

pub fn json_of(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr))
}

pub fn short(commit: &str) -> &str {
    &commit[..12]
}

/// Gitea's combined status of `commit` (`*`: any commit) with `statuses` of (context, state).
pub fn gitea(commit: &str, statuses: &[(&str, &str)]) -> Exchange {
    let statuses: Vec<Value> = statuses
        .iter()
        .map(|(c, s)| json!({"context": c, "status": s, "description": "x", "id": 1}))
        .collect();
    Exchange {
        method: "GET",
        path: format!("/api/v1/repos/acme/gitops/commits/{commit}/status"),
        query: vec![("limit", "50".into()), ("page", "1".into())],
        headers: vec![("Authorization", format!("token {TOKEN}"))],
        body: None,
        status: 200,
        answer: json!({"state": "pending", "sha": commit, "total_count": statuses.len(), "statuses": statuses}),
    }
}

/// GitLab's statuses of `commit` with `statuses` of (name, status).
pub fn gitlab(commit: &str, statuses: &[(&str, &str)]) -> Exchange {
    let statuses: Vec<Value> = statuses
        .iter()
        .map(|(n, s)| json!({"name": n, "status": s, "sha": commit, "id": 7}))
        .collect();
    Exchange {
        method: "GET",
        path: format!("/api/v4/projects/acme%2Fgitops/repository/commits/{commit}/statuses"),
        query: vec![("per_page", "100".into()), ("page", "1".into())],
        headers: vec![("PRIVATE-TOKEN", TOKEN.to_owned())],
        body: None,
        status: 200,
        answer: Value::Array(statuses),
    }
}

fn github_headers() -> Vec<(&'static str, String)> {
    vec![
        ("Authorization", format!("Bearer {TOKEN}")),
        ("Accept", "application/vnd.github+json".to_owned()),
    ]
}

/// GitHub's combined status of `commit` with `statuses` of (context, state).
pub fn github_status(commit: &str, statuses: &[(&str, &str)]) -> Exchange {
    let statuses: Vec<Value> = statuses
        .iter()
        .map(|(c, s)| json!({"context": c, "state": s, "description": null, "target_url": null}))
        .collect();
    Exchange {
        method: "GET",
        path: format!("/api/v3/repos/acme/gitops/commits/{commit}/status"),
        query: vec![("per_page", "100".into()), ("page", "1".into())],
        headers: github_headers(),
        body: None,
        status: 200,
        answer: json!({"state": "pending", "sha": commit, "total_count": statuses.len(), "statuses": statuses}),
    }
}

/// GitHub's latest check runs of `commit` with `runs` of (name, status, conclusion).
pub fn github_checks(commit: &str, runs: &[(&str, &str, Option<&str>)]) -> Exchange {
    let runs: Vec<Value> = runs
        .iter()
        .map(|(n, s, c)| json!({"name": n, "status": s, "conclusion": c, "id": 3}))
        .collect();
    Exchange {
        method: "GET",
        path: format!("/api/v3/repos/acme/gitops/commits/{commit}/check-runs"),
        query: vec![
            ("filter", "latest".into()),
            ("per_page", "100".into()),
            ("page", "1".into()),
        ],
        headers: github_headers(),
        body: None,
        status: 200,
        answer: json!({"total_count": runs.len(), "check_runs": runs}),
    }
}

#[track_caller]
fn refused(t: &Setup, r: Run, head: &str) -> Value {
    let r = r.code(3);
    assert_eq!(t.s.head(), head, "nothing committed");
    assert_eq!(t.live(), "blue");
    assert_eq!(t.s.git(&["status", "--porcelain"]), "", "nothing written");
    let report = json_of(&r);
    assert_eq!(report["error"]["kind"], "refused", "{report}");
    report
}

fn message(report: &Value) -> String {
    report["error"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn no_status_pending_failure_and_error_refuse_and_write_nothing() {
    let t = setup();
    let head = t.s.head();
    let s = short(&t.stage);
    for (statuses, expected) in [
        (
            vec![("other", "success")],
            format!("`{FLUX}` has no status yet"),
        ),
        (
            vec![(FLUX, "pending")],
            format!("`{FLUX}` is pending on {s}"),
        ),
        (
            vec![(FLUX, "failure")],
            format!("`{FLUX}` is failure on {s}"),
        ),
        (vec![(FLUX, "error")], format!("`{FLUX}` is error on {s}")),
    ] {
        let forge = Forge::start(vec![gitea(&t.stage, &statuses)]);
        let r = t.promote("gitea", &forge, &[FLUX]);
        forge.check();
        let report = refused(&t, r, &head);
        let text = message(&report);
        assert!(text.contains(&expected), "{text}");
        assert!(
            text.contains(&format!("(looked at {s}, which staged it)")),
            "{text}"
        );
        let hint = report["error"]["hint"].as_str().unwrap();
        match statuses[0].1 {
            "failure" | "error" => assert!(hint.contains("did not pass"), "{hint}"),
            _ => assert!(
                hint.contains(&format!("greenlight wait production --status {FLUX}")),
                "{hint}"
            ),
        }
    }
}

#[test]
fn success_on_the_stage_commit_promotes() {
    let t = setup();
    let forge = Forge::start(vec![gitlab(
        &t.stage,
        &[(FLUX, "success"), ("smoke", "success")],
    )]);
    let r = t.promote("gitlab", &forge, &[FLUX, "smoke"]).ok();
    forge.check();
    let report = json_of(&r);
    assert_eq!(report["outcome"], "committed");
    assert_eq!(t.live(), "green");
    // A retried promote is a no-op that asks the forge nothing.
    let forge = Forge::start(vec![]);
    let r = t.promote("gitlab", &forge, &[FLUX, "smoke"]).ok();
    forge.check();
    assert_eq!(json_of(&r)["outcome"], "no-change");
}

#[test]
fn gitlab_running_and_failed_are_pending_and_failure() {
    let t = setup();
    let head = t.s.head();
    let forge = Forge::start(vec![gitlab(
        &t.stage,
        &[(FLUX, "running"), ("smoke", "failed")],
    )]);
    let r = t.promote("gitlab", &forge, &[FLUX, "smoke"]);
    forge.check();
    let text = message(&refused(&t, r, &head));
    let s = short(&t.stage);
    assert!(
        text.contains(&format!(
            "`{FLUX}` is pending on {s} (commit status: running); `smoke` is failure on {s} \
             (commit status: failed)"
        )),
        "{text}"
    );
}

#[test]
fn a_later_commit_that_holds_the_release_decides_and_older_ones_are_not_asked() {
    let t = setup();
    // Another environment's release lands after the stage: the cluster applied that commit,
    // and reports on it.
    t.s.greenlight(&["stage", "staging", "--tag", "2.0.0"]).ok();
    let later = t.s.head();
    let forge = Forge::start(vec![
        github_status(&later, &[(FLUX, "success")]),
        github_checks(&later, &[("smoke", "completed", Some("success"))]),
    ]);
    let r = t.promote("github", &forge, &[FLUX, "smoke"]).ok();
    forge.check();
    assert_eq!(json_of(&r)["outcome"], "committed");

    // The newest report decides: a failure on the later commit outweighs a success on the
    // stage commit, which is then not even asked about.
    let t = setup();
    let head_before = t.s.head();
    t.s.greenlight(&["stage", "staging", "--tag", "2.0.0"]).ok();
    let later = t.s.head();
    assert_ne!(later, head_before);
    let forge = Forge::start(vec![
        github_status(&later, &[]),
        github_checks(&later, &[("smoke", "completed", Some("timed_out"))]),
    ]);
    let r = t.promote("github", &forge, &["smoke"]);
    forge.check();
    let text = message(&refused(&t, r, &later));
    assert!(
        text.contains(&format!(
            "`smoke` is failure on {} (check run: timed_out)",
            short(&later)
        )),
        "{text}"
    );

    // A check run still running is pending; with nothing on the later commit, the stage
    // commit is asked next.
    let forge = Forge::start(vec![
        github_status(&later, &[]),
        github_checks(&later, &[]),
        github_status(&t.stage, &[]),
        github_checks(&t.stage, &[("smoke", "in_progress", None)]),
    ]);
    let r = t.promote("github", &forge, &["smoke"]);
    forge.check();
    let text = message(&refused(&t, r, &later));
    assert!(
        text.contains(&format!(
            "`smoke` is pending on {} (check run: in_progress) (looked at {}, which staged \
             it, and 1 later commit that holds it)",
            short(&t.stage),
            short(&t.stage)
        )),
        "{text}"
    );
}

#[test]
fn a_later_commit_that_changed_the_staged_release_does_not_count() {
    let t = setup();
    // By hand: green goes to 5 replicas, then back to 3. The middle commit rendered another
    // release for green; whatever the cluster said about it says nothing about this one.
    let changed = t.commit_values(
        &t.s.read("environments/production/values.yaml").replace(
            "green: { tag: \"1.5.0\", replicas: 3 }",
            "green: { tag: \"1.5.0\", replicas: 5 }",
        ),
        "more green",
    );
    let values = t.s.read("environments/production/values.yaml");
    assert!(values.contains("replicas: 5 }"), "{values}");
    let back = t.commit_values(
        &values.replace("replicas: 5 }", "replicas: 3 }"),
        "less green",
    );
    // Only the tip and the stage commit are asked about: a request about `changed` would be
    // an unexpected one, and fail `check`.
    let forge = Forge::start(vec![gitea(&back, &[]), gitea(&t.stage, &[])]);
    let r = t.promote("gitea", &forge, &[FLUX]);
    forge.check();
    let text = message(&refused(&t, r, &back));
    assert!(
        text.contains(&format!(
            "(looked at {}, which staged it, and 1 later commit that holds it)",
            short(&t.stage)
        )),
        "{text}"
    );
    assert!(!forge.requests().iter().any(|r| r.contains(&changed)));
}

#[test]
fn after_a_reconfigure_only_commits_with_the_new_release_count() {
    let t = setup();
    // A configuration edit, shipped to both colours in place: green now runs another release
    // than the one staged, so the stage commit's statuses do not speak for it.
    let values = t.s.read("environments/production/values.yaml");
    t.s.write(
        "environments/production/values.yaml",
        &format!("{values}env: {{ LOG_LEVEL: debug }}\n"),
    );
    t.s.git(&["commit", "-qam", "log level"]);
    t.s.greenlight(&["reconfigure", "production", "--in-place"])
        .ok();
    let reconfigured = t.s.head();
    let forge = Forge::start(vec![gitea(&reconfigured, &[])]);
    let r = t.promote("gitea", &forge, &[FLUX]);
    forge.check();
    let text = message(&refused(&t, r, &reconfigured));
    assert!(
        text.contains(&format!(
            "(looked at {}, the newest commit that holds it; staged in {})",
            short(&reconfigured),
            short(&t.stage)
        )),
        "{text}"
    );
    let forge = Forge::start(vec![gitea(&reconfigured, &[(FLUX, "success")])]);
    t.promote("gitea", &forge, &[FLUX]).ok();
    forge.check();
    assert_eq!(t.live(), "green");
}

#[test]
fn a_commit_the_forge_does_not_know_has_no_status() {
    let t = setup();
    let head = t.s.head();
    let mut unknown = github_status(&t.stage, &[]);
    unknown.status = 422;
    unknown.answer = json!({"message": format!("No commit found for SHA: {}", t.stage)});
    let forge = Forge::start(vec![unknown]);
    let r = t.promote("github", &forge, &[FLUX]);
    forge.check();
    let text = message(&refused(&t, r, &head));
    assert!(
        text.contains(&format!("`{FLUX}` has no status yet")),
        "{text}"
    );
}

#[test]
fn a_refused_token_and_a_missing_one_are_usage_errors() {
    let t = setup();
    let head = t.s.head();
    let mut denied = gitea(&t.stage, &[]);
    denied.status = 403;
    denied.answer = json!({"message": "token does not have at least one of required scope(s)"});
    let forge = Forge::start(vec![denied]);
    let r = t.promote("gitea", &forge, &[FLUX]).code(2);
    forge.check();
    assert!(r.stdout.contains("read:repository"), "{}", r.stdout);
    assert!(!r.stdout.contains(TOKEN) && !r.stderr.contains(TOKEN));
    assert_eq!(t.s.head(), head);

    let r = t.s.greenlight(&[
        "promote",
        "production",
        "--require-status",
        FLUX,
        "--forge",
        "gitea",
        "--forge-api-url",
        "http://127.0.0.1:9/api/v1",
    ]);
    let r = r.code(2);
    assert!(r.stderr.contains("set GITEA_TOKEN"), "{}", r.stderr);
    assert_eq!(t.s.head(), head);
}

#[test]
fn the_guard_is_evaluated_again_on_every_push_retry() {
    // Between greenlight's fetch and its push, another pipeline releases staging: the
    // promotion is computed again on that new tip, where the cluster now reports a failure.
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
    let git = racing_git(
        t.s._tmp.path(),
        &other,
        &["stage", "staging", "--tag", "2.0.0", "--push"],
    );
    let forge = Forge::start(vec![
        gitea(&t.stage, &[(FLUX, "success")]),
        gitea("*", &[(FLUX, "failure")]),
    ]);
    let before = t.s.head();
    let r = t.run_env(
        "gitea",
        &forge,
        &["promote", "production", "--require-status", FLUX, "--push"],
        &[
            ("GREENLIGHT_GIT", git.to_str().unwrap()),
            ("GREENLIGHT_RETRY_BASE_MS", "1"),
        ],
    );
    forge.check();
    let report = refused(&t, r, &before);
    let raced = t.s.git_in(&other, &["rev-parse", "HEAD"]).trim().to_owned();
    assert_eq!(
        forge.requests()[1],
        format!("GET /api/v1/repos/acme/gitops/commits/{raced}/status"),
        "the retry asked about the new tip"
    );
    assert!(
        message(&report).contains(&format!("`{FLUX}` is failure on {}", short(&raced))),
        "{report}"
    );
    let remote_values =
        t.s.git(&["show", "origin/main:environments/production/values.yaml"]);
    assert!(
        remote_values.contains("liveColor: blue"),
        "nothing promoted"
    );
}

#[test]
fn a_temporary_clone_and_a_release_branch_are_gated_too() {
    let t = setup();
    // --clone: the forge is the clone's origin, told by --forge and --forge-api-url.
    let url = format!("file://{}", t.remote.display());
    let forge = Forge::start(vec![gitea(&t.stage, &[(FLUX, "pending")])]);
    let api = forge.url("/api/v1");
    let r = t.s.greenlight_env(
        t.s._tmp.path(),
        &[
            "--clone",
            &url,
            "promote",
            "production",
            "--require-status",
            FLUX,
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
    let report = json_of(&r.code(3));
    assert_eq!(
        report["error"]["refusals"][0]["statuses"][0]["state"],
        "pending"
    );

    // --branch: the release branch starts from the current branch, whose statuses decide.
    let forge = Forge::start(vec![gitea(&t.stage, &[(FLUX, "success")])]);
    let r = t
        .run(
            "gitea",
            &forge,
            &[
                "promote",
                "production",
                "--require-status",
                FLUX,
                "--branch",
            ],
        )
        .ok();
    forge.check();
    assert_eq!(
        json_of(&r)["branch"],
        "refs/heads/greenlight/production/promote-green-1.5.0"
    );
    assert_eq!(t.live(), "blue", "the checkout's branch is left alone");
}
