//! Pins the `--output json` contract documented in README.md ("JSON output"): the binary's
//! reports are deserialized into structs written here, independently of the library's own
//! types, with unknown fields denied. Changing a field name or shape breaks this test; adding
//! a field means updating README.md and these mirrors on purpose.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Release {
    schema_version: u32,
    command: String,
    environment: String,
    outcome: String,
    message: String,
    subject: Option<String>,
    commit: Option<String>,
    branch: String,
    previous_live: String,
    live: String,
    image: Option<String>,
    diff: Diff,
    push: Option<Push>,
    pull_request: Option<PullRequest>,
    notes: Vec<String>,
    config_changes: Vec<FieldChange>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Push {
    remote: String,
    branch: String,
    attempts: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // Filled in by --open-pr, tested in tests/it/forge.rs.
struct PullRequest {
    number: u64,
    url: String,
    reused: bool,
    body_updated: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Diff {
    files: Vec<FileDiff>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileDiff {
    path: String,
    status: String,
    unified: String,
    added: usize,
    removed: usize,
    binary: bool,
    resources: Vec<ResourceChange>,
    live_now: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResourceChange {
    id: ResourceId,
    status: String,
    fields: Vec<FieldChange>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResourceId {
    api_version: String,
    kind: String,
    namespace: Option<String>,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FieldChange {
    path: String,
    before: Option<Value>,
    after: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DiffReport {
    schema_version: u32,
    command: String,
    changed: bool,
    environments: Vec<EnvDiff>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EnvDiff {
    environment: String,
    summary: Vec<String>,
    diff: Diff,
    unreleased_config: Option<Unreleased>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Unreleased {
    changes: Vec<FieldChange>,
    staged_in: Option<String>,
    ship_with: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Verify {
    schema_version: u32,
    command: String,
    source: String,
    ok: bool,
    environments: usize,
    drift: Vec<Drift>,
    checkout_behind: Option<CheckoutBehind>,
    uncommitted: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CheckoutBehind {
    commit: String,
    paths: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Drift {
    path: String,
    problem: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Status {
    schema_version: u32,
    command: String,
    now: i64,
    environments: Vec<EnvStatus>,
    checkout_behind: Option<CheckoutBehind>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EnvStatus {
    environment: String,
    app: String,
    namespace: String,
    live: String,
    staged: Option<String>,
    idle: String,
    idle_state: String,
    blue: ColorStatus,
    green: ColorStatus,
    last_promotion: Option<Record>,
    last_flip: Option<Record>,
    warm_seconds_left: Option<i64>,
    warnings: Vec<String>,
    unreleased_config: Option<Unreleased>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ColorStatus {
    image: Option<String>,
    version: String,
    replicas: i64,
    config_sha256: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct History {
    schema_version: u32,
    command: String,
    environment: String,
    records: Vec<Record>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Record {
    commit: String,
    time: i64,
    action: String,
    environment: String,
    live: Option<String>,
    previous: Option<String>,
    image: Option<String>,
    values_sha256: Option<String>,
    subject: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Render {
    schema_version: u32,
    command: String,
    environments: Vec<RenderedEnv>,
    orphans_removed: Vec<String>,
    foreign: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RenderedEnv {
    environment: String,
    written: Vec<String>,
    unchanged: Vec<String>,
    removed: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Failure {
    schema_version: u32,
    command: String,
    error: ErrorBody,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ErrorBody {
    code: u8,
    kind: String,
    messages: Vec<String>,
    hint: Option<String>,
    refusals: Vec<RefusalEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RefusalEntry {
    environment: String,
    message: String,
    hint: Option<String>,
    statuses: Vec<ContextResult>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ContextResult {
    context: String,
    state: Option<String>,
    commit: Option<String>,
    source: Option<String>,
    detail: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MultiRelease {
    schema_version: u32,
    command: String,
    outcome: String,
    message: String,
    subject: Option<String>,
    commit: Option<String>,
    branch: String,
    push: Option<Push>,
    pull_request: Option<PullRequest>,
    environments: Vec<Release>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Wait {
    schema_version: u32,
    command: String,
    environment: String,
    outcome: String,
    color: String,
    image: Option<String>,
    stage_commit: String,
    tip: String,
    statuses: Vec<ContextResult>,
    polls: u32,
    waited_seconds: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Init {
    schema_version: u32,
    command: String,
    repository: String,
    environment: String,
    files: Vec<String>,
    commit: String,
}

fn run(dir: &Path, args: &[&str], expect: i32) -> String {
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("greenlight"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Bot")
        .env("GIT_AUTHOR_EMAIL", "bot@example.com")
        .env("GIT_COMMITTER_NAME", "Bot")
        .env("GIT_COMMITTER_EMAIL", "bot@example.com")
        .current_dir(dir)
        .args(args)
        .args(["--output", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(expect),
        "{args:?}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}:\n{text}"))
}

#[test]
fn every_report_matches_the_documented_contract() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let repo_s = repo.to_str().unwrap();
    let init: Init = parse(&run(
        tmp.path(),
        &[
            "init", repo_s, "--app", "api", "--env", "staging", "--tag", "1.0.0",
        ],
        0,
    ));
    assert_eq!((init.schema_version, init.command.as_str()), (2, "init"));
    assert_eq!(init.environment, "staging");
    assert!(init
        .files
        .contains(&"environments/staging/values.yaml".to_owned()));
    assert_eq!(init.commit.len(), 40);
    assert!(init.repository.ends_with("repo"));

    let staged: Release = parse(&run(&repo, &["stage", "staging", "--tag", "1.1.0"], 0));
    assert_eq!(staged.schema_version, 2);
    assert_eq!(
        (staged.command.as_str(), staged.outcome.as_str()),
        ("stage", "committed")
    );
    assert_eq!(staged.environment, "staging");
    assert_eq!(staged.branch, "refs/heads/main");
    assert_eq!(
        (staged.previous_live.as_str(), staged.live.as_str()),
        ("blue", "blue")
    );
    assert_eq!(
        staged.image.as_deref(),
        Some("registry.example.com/api:1.1.0")
    );
    assert!(staged.subject.unwrap().starts_with("stage(staging): "));
    assert!(staged.commit.is_some());
    assert!(staged.notes.is_empty());
    // The staged colour runs the configuration the live one does: nothing new ships with it.
    assert!(
        staged.config_changes.is_empty(),
        "{:?}",
        staged.config_changes
    );
    assert!(!staged.message.is_empty());
    let deployment = staged
        .diff
        .files
        .iter()
        .find(|f| f.path == "rendered/staging/api-green.deployment.yaml")
        .expect("the green Deployment is added");
    assert_eq!(deployment.status, "added");
    // The idle colour serves nothing until promoted.
    assert!(!deployment.live_now);
    assert!(deployment.added > 0 && deployment.removed == 0 && !deployment.binary);
    assert!(
        deployment.unified.starts_with("@@ -0,0 +1,"),
        "{}",
        deployment.unified
    );
    let res = &deployment.resources[0];
    assert_eq!(
        (
            res.id.api_version.as_str(),
            res.id.kind.as_str(),
            res.id.namespace.as_deref(),
            res.id.name.as_str()
        ),
        ("apps/v1", "Deployment", Some("api"), "api-green")
    );
    assert_eq!(res.status, "added");

    let dry: Release = parse(&run(&repo, &["promote", "staging", "--dry-run"], 0));
    assert_eq!(dry.outcome, "dry-run");
    assert_eq!(dry.commit, None);
    let svc = dry
        .diff
        .files
        .iter()
        .find(|f| f.path == "rendered/staging/api.service.yaml")
        .unwrap();
    assert_eq!(svc.status, "modified");
    let field = &svc.resources[0].fields[0];
    assert_eq!(field.path, "spec.selector.color");
    assert_eq!(field.before, Some(Value::from("blue")));
    assert_eq!(field.after, Some(Value::from("green")));

    let refused: Failure = parse(&run(
        &repo,
        &["promote", "staging", "--expect-live", "green"],
        3,
    ));
    assert_eq!(
        (refused.schema_version, refused.command.as_str()),
        (2, "promote")
    );
    assert_eq!(
        (refused.error.code, refused.error.kind.as_str()),
        (3, "refused")
    );
    assert_eq!(
        refused.error.messages,
        ["expected green to be live, but blue is live"]
    );
    assert!(refused.error.hint.is_some());
    let entry = &refused.error.refusals[0];
    assert_eq!(
        (entry.environment.as_str(), entry.message.as_str()),
        ("staging", "expected green to be live, but blue is live")
    );
    assert_eq!(entry.hint, refused.error.hint);
    assert!(entry.statuses.is_empty());

    let remote = tmp.path().join("remote.git");
    let remote_s = remote.to_str().unwrap();
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "--bare", remote_s]);
    git(&["remote", "add", "origin", remote_s]);
    git(&["push", "-q", "origin", "main"]);
    let promoted: Release = parse(&run(&repo, &["promote", "staging", "--push"], 0));
    assert_eq!(promoted.outcome, "committed");
    // The flip is in the shared Services (live and preview swap): they apply at once.
    let flips: Vec<(&str, bool)> = promoted
        .diff
        .files
        .iter()
        .filter(|f| f.path.starts_with("rendered/"))
        .map(|f| (f.path.as_str(), f.live_now))
        .collect();
    assert_eq!(
        flips,
        [
            ("rendered/staging/api-preview.service.yaml", true),
            ("rendered/staging/api.service.yaml", true)
        ]
    );
    assert!(promoted.pull_request.is_none());
    let push = promoted.push.expect("--push reports the push");
    assert_eq!(
        (push.remote.as_str(), push.branch.as_str(), push.attempts),
        ("origin", "main", 1)
    );
    let again: Release = parse(&run(&repo, &["promote", "staging"], 0));
    assert_eq!(again.outcome, "no-change");
    assert!(again.diff.files.is_empty());

    let status: Status = parse(&run(&repo, &["status"], 0));
    assert_eq!(
        (status.schema_version, status.command.as_str()),
        (2, "status")
    );
    assert!(status.checkout_behind.is_none());
    assert!(status.environments.iter().all(|e| e.warnings.is_empty()));
    let e = &status.environments[0];
    assert_eq!(
        (e.environment.as_str(), e.app.as_str(), e.namespace.as_str()),
        ("staging", "api", "api")
    );
    assert_eq!((e.live.as_str(), e.staged.as_deref()), ("green", None));
    assert_eq!((e.blue.version.as_str(), e.blue.replicas), ("1.0.0", 2));
    assert_eq!(
        e.green.image.as_deref(),
        Some("registry.example.com/api:1.1.0")
    );
    assert_eq!(e.last_promotion.as_ref().unwrap().action, "promote");
    assert_eq!((e.idle.as_str(), e.idle_state.as_str()), ("blue", "warm"));
    assert_eq!(e.last_flip.as_ref().unwrap().action, "promote");
    // Both colours run the same released configuration, and values hold nothing unreleased.
    assert!(e.unreleased_config.is_none());
    assert_eq!(e.blue.config_sha256.len(), 64);
    assert_eq!(e.blue.config_sha256, e.green.config_sha256);
    let promoted_at = e.last_promotion.as_ref().unwrap().time;
    assert_eq!(
        e.warm_seconds_left,
        Some((promoted_at + 1800 - status.now).max(0))
    );

    let history: History = parse(&run(&repo, &["history", "staging"], 0));
    assert_eq!(
        (history.schema_version, history.command.as_str()),
        (2, "history")
    );
    assert_eq!(history.environment, "staging");
    let r = &history.records[0];
    assert_eq!(
        (r.action.as_str(), r.environment.as_str()),
        ("promote", "staging")
    );
    assert_eq!(
        (r.live.as_deref(), r.previous.as_deref()),
        (Some("green"), Some("blue"))
    );
    assert_eq!(r.values_sha256.as_ref().map(String::len), Some(64));
    assert_eq!(r.commit.len(), 40);
    assert!(r.time > 0 && r.subject.starts_with("promote(staging)"));
    assert_eq!(r.image.as_deref(), Some("registry.example.com/api:1.1.0"));

    let verify: Verify = parse(&run(&repo, &["verify"], 0));
    assert_eq!(
        (verify.schema_version, verify.command.as_str()),
        (2, "verify")
    );
    assert!(verify.checkout_behind.is_none());
    assert!(verify.uncommitted.is_empty());
    assert!(verify.ok && verify.drift.is_empty() && verify.environments == 1);
    assert!(verify.source.starts_with("commit "));

    let values = repo.join("environments/staging/values.yaml");
    let text = std::fs::read_to_string(&values)
        .unwrap()
        .replace("port: 8080", "port: 9090");
    std::fs::write(&values, text).unwrap();
    let diff: DiffReport = parse(&run(&repo, &["diff"], 1));
    assert_eq!(
        (diff.schema_version, diff.command.as_str(), diff.changed),
        (2, "diff", true)
    );
    assert_eq!(diff.environments[0].environment, "staging");
    // No rendered object changes: the edit waits in values until a colour is staged with it.
    let changed: Vec<&str> = diff.environments[0]
        .diff
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(changed, ["environments/staging/values.yaml"]);
    // A configuration edit is not released: no colour runs it yet, and the report says so.
    let unreleased = diff.environments[0].unreleased_config.as_ref().unwrap();
    assert_eq!(unreleased.changes.len(), 1);
    assert_eq!(unreleased.changes[0].path, "port");
    assert_eq!(unreleased.changes[0].after, Some(serde_json::json!(9090)));
    assert_eq!(unreleased.ship_with, "greenlight stage staging");
    assert_eq!(unreleased.staged_in, None);
    assert!(diff.environments[0].summary[0]
        .starts_with("staging: values hold configuration no colour runs yet (port 8080 → 9090)"));

    let render: Render = parse(&run(&repo, &["render"], 0));
    assert_eq!(
        (render.schema_version, render.command.as_str()),
        (2, "render")
    );
    assert!(render.orphans_removed.is_empty() && render.foreign.is_empty());
    let env = &render.environments[0];
    assert_eq!(env.environment, "staging");
    // A new container port rolls no Deployment: it reaches a colour when that is staged.
    assert!(env.written.is_empty(), "{:?}", env.written);
    assert!(env
        .unchanged
        .contains(&"rendered/staging/api-blue.deployment.yaml".to_owned()));
    assert!(env
        .unchanged
        .contains(&"rendered/staging/api.service.yaml".to_owned()));
    assert!(env.removed.is_empty());
    assert!(env
        .unchanged
        .contains(&"rendered/staging/kustomization.yaml".to_owned()));

    let clean: Verify = parse(&run(tmp.path(), &["verify", "--repo", repo_s], 0));
    assert!(
        clean.ok,
        "verify reads the committed tree, not the edited working tree"
    );

    // A plain directory (no git) with a hand-edited manifest: drift is listed.
    let plain = tmp.path().join("plain");
    for entry in walkdir::WalkDir::new(&repo) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(&repo).unwrap();
        if rel.starts_with(".git") {
            continue;
        }
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(plain.join(rel)).unwrap();
        } else {
            std::fs::copy(entry.path(), plain.join(rel)).unwrap();
        }
    }
    let svc = plain.join("rendered/staging/api.service.yaml");
    let edited = std::fs::read_to_string(&svc).unwrap() + "# edited by hand\n";
    std::fs::write(&svc, edited).unwrap();
    let drift: Verify = parse(&run(&plain, &["verify"], 1));
    assert!(!drift.ok);
    assert_eq!(drift.drift.len(), 1);
    assert_eq!(drift.drift[0].path, "rendered/staging/api.service.yaml");
    assert_eq!(drift.drift[0].problem, "differs");
    assert!(!drift.source.starts_with("commit "));
}

#[test]
fn an_interrupted_checkout_is_reported_by_verify_and_status() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let repo_s = repo.to_str().unwrap();
    run(
        tmp.path(),
        &["init", repo_s, "--app", "api", "--env", "staging"],
        0,
    );
    run(&repo, &["stage", "staging", "--tag", "1.1.0"], 0);
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(&repo)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let commit = git(&["rev-parse", "HEAD"]);
    let parent = git(&["rev-parse", "HEAD^"]);
    // As a kill after the branch move leaves it: the checkout at the parent, and the record.
    git(&["read-tree", "--reset", "-u", &parent]);
    std::fs::write(
        repo.join(".git/greenlight-checkout"),
        format!("greenlight checkout update 1\nref refs/heads/main\nfrom {parent}\nto {commit}\n"),
    )
    .unwrap();
    let verify: Verify = parse(&run(&repo, &["verify"], 1));
    assert!(!verify.ok && verify.drift.is_empty());
    let behind = verify
        .checkout_behind
        .expect("verify reports the checkout behind");
    assert_eq!(behind.commit, commit);
    assert_eq!(
        behind.paths,
        [
            "environments/staging/values.yaml",
            "rendered/staging/api-green.deployment.yaml",
            "rendered/staging/kustomization.yaml"
        ]
    );
    let status: Status = parse(&run(&repo, &["status"], 0));
    assert_eq!(status.checkout_behind.unwrap().paths, behind.paths);
}

#[test]
fn several_environments_required_statuses_and_wait_match_the_contract() {
    use crate::common::fake_forge::Forge;
    use crate::statuses::{gitea, setup, FLUX};
    let t = setup();
    // Several environments: one report each, under the release's.
    let many: MultiRelease = parse(
        &t.s.greenlight(&[
            "stage",
            "production",
            "staging",
            "--tag",
            "1.6.0",
            "--dry-run",
            "--output",
            "json",
        ])
        .ok()
        .stdout,
    );
    assert_eq!(
        (
            many.schema_version,
            many.command.as_str(),
            many.outcome.as_str()
        ),
        (2, "stage", "dry-run")
    );
    assert_eq!(many.message, "2 of 2 environments would change");
    assert!(many
        .subject
        .unwrap()
        .starts_with("stage(production, staging): "));
    assert!(many.commit.is_none() && many.push.is_none() && many.pull_request.is_none());
    assert_eq!(many.branch, "refs/heads/main");
    let envs: Vec<&str> = many
        .environments
        .iter()
        .map(|e| e.environment.as_str())
        .collect();
    assert_eq!(envs, ["production", "staging"]);

    // A required status refused: its context, state and commit in the refusal.
    let forge = Forge::start(vec![gitea(&t.stage, &[(FLUX, "failure")])]);
    let failed: Failure = parse(
        &t.run(
            "gitea",
            &forge,
            &["promote", "production", "--require-status", FLUX],
        )
        .code(3)
        .stdout,
    );
    forge.check();
    let status = &failed.error.refusals[0].statuses[0];
    assert_eq!(
        (
            status.context.as_str(),
            status.state.as_deref(),
            status.commit.as_deref(),
            status.source.as_deref(),
            status.detail.as_deref()
        ),
        (
            FLUX,
            Some("failure"),
            Some(t.stage.as_str()),
            Some("status"),
            Some("failure")
        )
    );

    // Several environments refused: one entry each.
    let forge = Forge::start(vec![]);
    let refused: Failure = parse(
        &t.run(
            "gitea",
            &forge,
            &["promote", "production", "staging", "--expect-live", "green"],
        )
        .code(3)
        .stdout,
    );
    let refusals: Vec<&str> = refused
        .error
        .refusals
        .iter()
        .map(|r| r.environment.as_str())
        .collect();
    assert_eq!(refusals, ["production", "staging"]);

    // wait.
    let forge = Forge::start(vec![gitea(&t.stage, &[(FLUX, "success")])]);
    let wait: Wait = parse(
        &t.run("gitea", &forge, &["wait", "production", "--status", FLUX])
            .ok()
            .stdout,
    );
    forge.check();
    assert_eq!(
        (
            wait.schema_version,
            wait.command.as_str(),
            wait.outcome.as_str()
        ),
        (2, "wait", "passed")
    );
    assert_eq!(
        (wait.environment.as_str(), wait.color.as_str()),
        ("production", "green")
    );
    assert_eq!(
        wait.image.as_deref(),
        Some("registry.example.com/shop/api:1.5.0")
    );
    assert_eq!(
        (wait.stage_commit.as_str(), wait.tip.as_str()),
        (t.stage.as_str(), t.stage.as_str())
    );
    assert_eq!((wait.polls, wait.statuses.len()), (1, 1));
    assert!(wait.waited_seconds < 60);
    assert_eq!(wait.statuses[0].state.as_deref(), Some("success"));
}
