//! `--open-pr` against a loopback HTTP server that plays GitHub, GitLab or Gitea: it checks
//! the method, path, query, headers and JSON body of every request against each forge's
//! documented REST API, and answers like the forge does. The release branch is pushed to a
//! real bare repository first.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::common::fake_forge::{BodyCheck, Exchange, Forge};
use crate::common::sandbox::{Run, Sandbox};
use serde_json::{json, Value};

const VALUES: &str = crate::common::sandbox::VALUES;

const TOKEN: &str = "tok_0123456789_secret";
const BRANCH: &str = "greenlight/production/promote-green-1.5.0";

/// A checkout with production staged, pushed to a bare remote at `acme/gitops.git` (so a
/// forge told by --forge sees the project `acme/gitops`).
struct Setup {
    s: Sandbox,
    remote: PathBuf,
}

fn setup() -> Setup {
    let s = Sandbox::with_values(VALUES);
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
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
    Setup { s, remote }
}

impl Setup {
    fn open_pr(&self, forge: &str, api: &str, token_var: &str, token: &str) -> Run {
        self.s.greenlight_env(
            &self.s.root,
            &[
                "promote",
                "production",
                "--open-pr",
                "--forge",
                forge,
                "--forge-api-url",
                api,
                "--output",
                "json",
            ],
            &[(token_var, token)],
        )
    }

    fn remote_has_branch(&self) -> bool {
        let out = std::process::Command::new("git")
            .args([
                "--git-dir",
                self.remote.to_str().unwrap(),
                "rev-parse",
                "--verify",
                "-q",
            ])
            .arg(format!("refs/heads/{BRANCH}"))
            .output()
            .unwrap();
        out.status.success()
    }
}

fn json_of(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr))
}

fn pr_body_checks(body_key: &'static str) -> BodyCheck {
    Box::new(move |v: &Value| {
        let body = v[body_key].as_str().expect("a body");
        assert!(
            body.contains("| `production` | blue → **green** |"),
            "{body}"
        );
        assert!(body.contains("```diff"), "{body}");
        assert!(body.contains("-liveColor: blue"), "{body}");
        assert!(body.contains("+liveColor: green"), "{body}");
    })
}

fn github_headers() -> Vec<(&'static str, String)> {
    vec![
        ("Authorization", format!("Bearer {TOKEN}")),
        ("Accept", "application/vnd.github+json".to_owned()),
        ("X-GitHub-Api-Version", "2022-11-28".to_owned()),
    ]
}

fn github_list(answer: Value) -> Exchange {
    Exchange {
        method: "GET",
        path: "/api/v3/repos/acme/gitops/pulls".into(),
        query: vec![
            ("state", "open".into()),
            ("head", format!("acme:{BRANCH}")),
            ("base", "main".into()),
        ],
        headers: github_headers(),
        body: None,
        status: 200,
        answer,
    }
}

/// A body check that also keeps the body, for the answers of later exchanges.
fn capture_body(key: &'static str, into: &Arc<Mutex<String>>) -> BodyCheck {
    let into = into.clone();
    Box::new(move |v: &Value| {
        pr_body_checks(key)(v);
        *into.lock().unwrap() = v[key].as_str().unwrap().to_owned();
    })
}

#[test]
fn github_pull_request_is_opened_then_reused() {
    let t = setup();
    let opened_body = Arc::new(Mutex::new(String::new()));
    let keep = capture_body("body", &opened_body);
    let create = Exchange {
        method: "POST",
        path: "/api/v3/repos/acme/gitops/pulls".into(),
        query: vec![],
        headers: github_headers(),
        body: Some(Box::new(move |v: &Value| {
            assert_eq!(v["head"], BRANCH);
            assert_eq!(v["base"], "main");
            assert_eq!(v["title"], "promote(production): api blue → green (1.5.0)");
            keep(v);
        })),
        status: 201,
        answer: json!({"number": 42, "html_url": "https://github.example/acme/gitops/pull/42"}),
    };
    let forge = Forge::start(vec![github_list(json!([])), create]);
    let r = t
        .open_pr("github", &forge.url("/api/v3"), "GITHUB_TOKEN", TOKEN)
        .ok();
    forge.check();
    let report = json_of(&r);
    assert_eq!(report["pullRequest"]["number"], 42);
    assert_eq!(report["pullRequest"]["reused"], false);
    assert_eq!(report["push"]["branch"], BRANCH);
    assert!(t.remote_has_branch());
    assert!(!r.stdout.contains(TOKEN) && !r.stderr.contains(TOKEN));

    // A re-run finds the change on the branch and the pull request open, with this very
    // description: no second one, and no edit.
    let body = opened_body.lock().unwrap().clone();
    let open = |body: &str| {
        json!([{
            "number": 42,
            "html_url": "https://github.example/acme/gitops/pull/42",
            "head": {"ref": BRANCH},
            "base": {"ref": "main"},
            "body": body,
        }])
    };
    let forge = Forge::start(vec![github_list(open(&body))]);
    let r = t
        .open_pr("github", &forge.url("/api/v3"), "GITHUB_TOKEN", TOKEN)
        .ok();
    forge.check();
    let report = json_of(&r);
    assert_eq!(report["outcome"], "no-change");
    assert_eq!(report["pullRequest"]["reused"], true);
    assert_eq!(report["pullRequest"]["bodyUpdated"], false);
    assert_eq!(report["pullRequest"]["number"], 42);

    // Open with a description that no longer matches the branch: it is replaced.
    let expected = body.clone();
    let update = Exchange {
        method: "PATCH",
        path: "/api/v3/repos/acme/gitops/pulls/42".into(),
        query: vec![],
        headers: github_headers(),
        body: Some(Box::new(move |v: &Value| {
            assert_eq!(v.as_object().unwrap().len(), 1, "only the body: {v}");
            assert_eq!(v["body"], expected.as_str());
        })),
        status: 200,
        answer: json!({"number": 42}),
    };
    let forge = Forge::start(vec![github_list(open("an older description")), update]);
    let r = t.s.greenlight_env(
        &t.s.root,
        &[
            "promote",
            "production",
            "--open-pr",
            "--forge",
            "github",
            "--forge-api-url",
            &forge.url("/api/v3"),
        ],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    forge.check();
    let r = r.ok();
    assert!(
        r.stderr.contains(
            "pull request #42 (already open, description updated): \
             https://github.example/acme/gitops/pull/42"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn a_reused_merge_request_gets_the_current_description() {
    let t = setup();
    let headers = vec![("PRIVATE-TOKEN", TOKEN.to_owned())];
    let list = |answer: Value| Exchange {
        method: "GET",
        path: "/api/v4/projects/acme%2Fgitops/merge_requests".into(),
        query: vec![
            ("state", "opened".into()),
            ("source_branch", BRANCH.into()),
            ("target_branch", "main".into()),
        ],
        headers: vec![("PRIVATE-TOKEN", TOKEN.to_owned())],
        body: None,
        status: 200,
        answer,
    };
    let open = json!([{
        "iid": 5,
        "web_url": "https://gitlab.example/acme/gitops/-/merge_requests/5",
        "source_branch": BRANCH,
        "target_branch": "main",
        "description": "stage only",
    }]);
    let update = Exchange {
        method: "PUT",
        path: "/api/v4/projects/acme%2Fgitops/merge_requests/5".into(),
        query: vec![],
        headers,
        body: Some(Box::new(|v: &Value| {
            assert_eq!(v.as_object().unwrap().len(), 1, "only the description: {v}");
            pr_body_checks("description")(v);
        })),
        status: 200,
        answer: json!({"iid": 5}),
    };
    let forge = Forge::start(vec![list(open), update]);
    let r = t
        .open_pr("gitlab", &forge.url("/api/v4"), "GITLAB_TOKEN", TOKEN)
        .ok();
    forge.check();
    let report = json_of(&r);
    assert_eq!(report["pullRequest"]["reused"], true);
    assert_eq!(report["pullRequest"]["bodyUpdated"], true);
}

#[test]
fn gitlab_merge_request_is_opened() {
    let t = setup();
    let headers = vec![("PRIVATE-TOKEN", TOKEN.to_owned())];
    let list = Exchange {
        method: "GET",
        path: "/api/v4/projects/acme%2Fgitops/merge_requests".into(),
        query: vec![
            ("state", "opened".into()),
            ("source_branch", BRANCH.into()),
            ("target_branch", "main".into()),
        ],
        headers: headers.clone(),
        body: None,
        status: 200,
        answer: json!([]),
    };
    let create = Exchange {
        method: "POST",
        path: "/api/v4/projects/acme%2Fgitops/merge_requests".into(),
        query: vec![],
        headers,
        body: Some(Box::new(|v: &Value| {
            assert_eq!(v["source_branch"], BRANCH);
            assert_eq!(v["target_branch"], "main");
            assert_eq!(v["title"], "promote(production): api blue → green (1.5.0)");
            pr_body_checks("description")(v);
        })),
        status: 201,
        answer: json!({"iid": 5, "web_url": "https://gitlab.example/acme/gitops/-/merge_requests/5"}),
    };
    let forge = Forge::start(vec![list, create]);
    let r = t
        .open_pr("gitlab", &forge.url("/api/v4"), "GITLAB_TOKEN", TOKEN)
        .ok();
    forge.check();
    let report = json_of(&r);
    assert_eq!(report["pullRequest"]["number"], 5);
    assert_eq!(
        report["pullRequest"]["url"],
        "https://gitlab.example/acme/gitops/-/merge_requests/5"
    );
}

#[test]
fn gitea_pull_request_is_found_among_open_ones_or_opened() {
    let t = setup();
    let headers = vec![("Authorization", format!("token {TOKEN}"))];
    let other =
        json!({"number": 1, "html_url": "u1", "head": {"ref": "feature"}, "base": {"ref": "main"}});
    let list = Exchange {
        method: "GET",
        path: "/api/v1/repos/acme/gitops/pulls".into(),
        query: vec![
            ("state", "open".into()),
            ("page", "1".into()),
            ("limit", "50".into()),
        ],
        headers: headers.clone(),
        body: None,
        status: 200,
        answer: json!([other]),
    };
    let create = Exchange {
        method: "POST",
        path: "/api/v1/repos/acme/gitops/pulls".into(),
        query: vec![],
        headers,
        body: Some(Box::new(|v: &Value| {
            assert_eq!(v["head"], BRANCH);
            assert_eq!(v["base"], "main");
            pr_body_checks("body")(v);
        })),
        status: 201,
        answer: json!({"number": 3, "html_url": "https://gitea.example/acme/gitops/pulls/3"}),
    };
    let forge = Forge::start(vec![list, create]);
    let r = t
        .open_pr("gitea", &forge.url("/api/v1"), "GITEA_TOKEN", TOKEN)
        .ok();
    forge.check();
    assert_eq!(json_of(&r)["pullRequest"]["number"], 3);
}

#[test]
fn a_refused_token_is_explained_and_never_echoed() {
    let t = setup();
    let mut list = github_list(json!({"message": format!("Bad credentials for {TOKEN}")}));
    list.status = 401;
    let forge = Forge::start(vec![list]);
    let r = t.open_pr("github", &forge.url("/api/v3"), "GITHUB_TOKEN", TOKEN);
    forge.check();
    let r = r.code(2);
    assert!(
        !r.stdout.contains(TOKEN) && !r.stderr.contains(TOKEN),
        "{}{}",
        r.stdout,
        r.stderr
    );
    assert!(r.stdout.contains("refused the token (401)"), "{}", r.stdout);
    assert!(r.stdout.contains("pull requests: write"), "{}", r.stdout);
}

#[test]
fn a_validation_error_keeps_the_server_s_words() {
    let t = setup();
    let create = Exchange {
        method: "POST",
        path: "/api/v3/repos/acme/gitops/pulls".into(),
        query: vec![],
        headers: github_headers(),
        body: None,
        status: 422,
        answer: json!({"message": "Validation Failed", "errors": [{"message": "No commits between main and x"}]}),
    };
    let forge = Forge::start(vec![github_list(json!([])), create]);
    let r = t.open_pr("github", &forge.url("/api/v3"), "GITHUB_TOKEN", TOKEN);
    forge.check();
    let r = r.code(2);
    assert!(
        r.stdout
            .contains("Validation Failed; No commits between main and x"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_missing_token_stops_before_anything_is_pushed() {
    let t = setup();
    let r = t.s.greenlight(&[
        "promote",
        "production",
        "--open-pr",
        "--forge",
        "github",
        "--forge-api-url",
        "http://127.0.0.1:9",
    ]);
    let r = r.code(2);
    assert!(
        r.stderr.contains("set GITHUB_TOKEN or GH_TOKEN"),
        "{}",
        r.stderr
    );
    assert!(!t.remote_has_branch());
}

#[test]
fn pr_body_file_is_written_for_gh_users() {
    let t = setup();
    let file = t.s._tmp.path().join("body.md");
    t.s.greenlight(&[
        "promote",
        "production",
        "--branch",
        "--pr-body-file",
        file.to_str().unwrap(),
    ])
    .ok();
    let body = std::fs::read_to_string(&file).unwrap();
    pr_body_checks("body")(&json!({ "body": body }));
    assert!(
        !t.remote_has_branch(),
        "no --push: nothing leaves the machine"
    );
}
