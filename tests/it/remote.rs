//! Remote workflows on real git servers started by the tests on 127.0.0.1: `--push` with
//! fetch-and-retry (guards re-evaluated on the new tip), `--clone URL`, release branches,
//! and every transport (file://, git daemon, git http-backend with a token, OpenSSH with a
//! key file, known_hosts and ssh-agent). Races run several greenlight processes at once.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::common::sandbox::{bin, racing_git, Run, Sandbox};
use crate::common::servers;

const VALUES: &str = crate::common::sandbox::VALUES;

/// A sandbox whose `production` has 1.5.0 staged in green, pushed to a bare remote
/// (`remote.git` beside the checkout) that the checkout tracks as `origin`.
struct Fixture {
    s: Sandbox,
    remote: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with_envs(&["production"])
    }

    /// Like [`Fixture::new`] with more environments, each staged.
    fn with_envs(envs: &[&str]) -> Fixture {
        let s = Sandbox::with_values(VALUES);
        for env in envs.iter().filter(|e| **e != "production") {
            s.write(&format!("environments/{env}/values.yaml"), VALUES);
        }
        s.greenlight(&["render", "--all"]).ok();
        s.git(&["add", "-A"]);
        s.git(&["commit", "-q", "--allow-empty", "-m", "more environments"]);
        for env in envs {
            s.greenlight(&["stage", env, "--tag", "1.5.0"]).ok();
        }
        let remote = s._tmp.path().join("remote.git");
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
        Fixture { s, remote }
    }

    fn url(&self) -> String {
        format!("file://{}", self.remote.display())
    }

    /// A second checkout of the remote, as another developer or pipeline has it.
    fn clone(&self, name: &str) -> PathBuf {
        let dir = self.s._tmp.path().join(name);
        self.s.git_in(
            self.s._tmp.path(),
            &[
                "clone",
                "-q",
                self.remote.to_str().unwrap(),
                dir.to_str().unwrap(),
            ],
        );
        dir
    }

    fn remote_git(&self, args: &[&str]) -> String {
        let mut full = vec!["--git-dir", self.remote.to_str().unwrap()];
        full.extend_from_slice(args);
        self.s.git_in(self.s._tmp.path(), &full)
    }

    fn remote_tip(&self, branch: &str) -> String {
        self.remote_git(&["rev-parse", &format!("refs/heads/{branch}")])
            .trim()
            .to_owned()
    }

    fn commits_on_main(&self) -> usize {
        self.remote_git(&["rev-list", "--count", "main"])
            .trim()
            .parse()
            .unwrap()
    }

    /// Installs `script` as the remote's pre-receive hook.
    fn pre_receive_hook(&self, script: &str) {
        use std::os::unix::fs::PermissionsExt as _;
        let hook = self.remote.join("hooks/pre-receive");
        std::fs::write(&hook, script).unwrap();
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A `git` for greenlight that lets another pipeline land `args` from `other` just
    /// before greenlight's first push (see [`racing_git`]).
    fn git_racing(&self, other: &std::path::Path, args: &[&str]) -> PathBuf {
        racing_git(self.s._tmp.path(), other, args)
    }

    fn remote_file(&self, branch: &str, path: &str) -> String {
        self.remote_git(&["show", &format!("{branch}:{path}")])
    }
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr:\n{}", run.stdout, run.stderr))
}

fn live_on_remote(f: &Fixture, env: &str) -> String {
    f.remote_file("main", &format!("environments/{env}/values.yaml"))
        .lines()
        .find_map(|l| l.strip_prefix("liveColor: "))
        .expect("liveColor line")
        .trim()
        .to_owned()
}

#[test]
fn push_sends_the_commit_and_the_checkout_follows() {
    let f = Fixture::new();
    let r =
        f.s.greenlight(&["promote", "production", "--push", "--output", "json"])
            .ok();
    let report = json(&r);
    assert_eq!(report["outcome"], "committed");
    assert_eq!(report["push"]["attempts"], 1);
    assert_eq!(f.remote_tip("main"), f.s.head());
    assert_eq!(report["commit"], f.s.head().as_str());
    assert_eq!(live_on_remote(&f, "production"), "green");
    assert_eq!(f.s.git(&["status", "--porcelain"]), "");
    // git's own remote-tracking ref follows, as after `git push`.
    assert_eq!(
        f.s.git(&["rev-parse", "origin/main"]).trim(),
        f.s.head().as_str()
    );
}

#[test]
fn a_stale_checkout_decides_on_the_remote_tip_and_fast_forwards() {
    let f = Fixture::with_envs(&["production", "staging"]);
    let other = f.clone("other");
    // Someone else promotes staging first.
    f.s.greenlight_in(&other, &["promote", "staging", "--push"], None)
        .ok();
    let theirs = f.remote_tip("main");

    // Our checkout is behind: greenlight fetches first and computes on the remote's tip.
    let r =
        f.s.greenlight(&["promote", "production", "--push", "--output", "json"])
            .ok();
    let report = json(&r);
    assert_eq!(report["push"]["attempts"], 1, "{}", r.stderr);
    let ours = f.remote_tip("main");
    assert_eq!(
        f.remote_git(&["rev-parse", &format!("{ours}^")]).trim(),
        theirs
    );
    assert_eq!(live_on_remote(&f, "staging"), "green");
    assert_eq!(live_on_remote(&f, "production"), "green");
    // The checkout moved forward to the pushed commit, both changes in its files, clean.
    assert_eq!(f.s.head(), ours);
    assert!(f
        .s
        .read("environments/staging/values.yaml")
        .contains("liveColor: green"));
    assert_eq!(f.s.git(&["status", "--porcelain"]), "");
}

#[test]
fn guards_are_read_on_the_remote_tip_not_the_stale_checkout() {
    // Another checkout promoted production; ours is behind and still shows blue live.
    let f = Fixture::new();
    let other = f.clone("other");
    f.s.greenlight_in(&other, &["promote", "production", "--push"], None)
        .ok();
    let theirs = f.remote_tip("main");
    let before = f.s.head();

    // A re-run of that job (same guards) finds the work done on the remote, on a stale
    // checkout too: exit 0, nothing pushed.
    let r =
        f.s.greenlight(&[
            "promote",
            "production",
            "--expect-live",
            "blue",
            "--expect-tag",
            "1.5.0",
            "--push",
        ])
        .ok();
    assert!(
        r.stdout.contains("green (1.5.0) is already live"),
        "{}",
        r.stdout
    );
    assert_eq!(f.remote_tip("main"), theirs);
    // A job expecting another release is refused with what the remote holds.
    let r =
        f.s.greenlight(&[
            "promote",
            "production",
            "--expect-live",
            "blue",
            "--expect-tag",
            "1.6.0",
            "--push",
        ])
        .code(3);
    assert!(
        r.stderr
            .contains("expected blue to be live, but green is live"),
        "{}",
        r.stderr
    );
    assert_eq!(f.remote_tip("main"), theirs, "nothing overwritten");
    assert_eq!(f.s.head(), before, "the local branch did not move");
    assert_eq!(f.s.git(&["status", "--porcelain"]), "");
}

#[test]
fn a_race_lost_at_push_time_recomputes_and_the_guards_refuse() {
    // Between our fetch and our push, another pipeline stages 1.6.0 into green: our
    // promotion of 1.5.0 is computed again on the new tip, where --expect-tag refuses.
    let f = Fixture::new();
    let other = f.clone("other");
    let git = f.git_racing(&other, &["stage", "production", "--tag", "1.6.0", "--push"]);
    let before = f.s.head();
    let r = f.s.greenlight_env(
        &f.s.root,
        &[
            "promote",
            "production",
            "--expect-live",
            "blue",
            "--expect-tag",
            "1.5.0",
            "--push",
        ],
        &[("GREENLIGHT_GIT", git.to_str().unwrap())],
    );
    let r = r.code(3);
    assert!(
        r.stderr
            .contains("expected green to hold `1.5.0`, but it holds `1.6.0`"),
        "{}",
        r.stderr
    );
    assert!(
        f.remote_file("main", "environments/production/values.yaml")
            .contains("tag: \"1.6.0\""),
        "the other pipeline's stage landed"
    );
    assert_eq!(live_on_remote(&f, "production"), "blue", "nothing promoted");
    assert_eq!(f.s.head(), before, "the local branch did not move");
    assert_eq!(f.s.git(&["status", "--porcelain"]), "");
}

#[test]
fn local_commits_missing_on_the_remote_are_never_published() {
    let f = Fixture::with_envs(&["production", "staging"]);
    f.s.write("NOTES.md", "local work\n");
    f.s.git(&["add", "NOTES.md"]);
    f.s.git(&["commit", "-q", "-m", "WIP do not push"]);
    let mine = f.s.head();
    let theirs = f.remote_tip("main");

    // The remote did not move: the release would still carry the WIP commit along.
    let r = f.s.greenlight(&["promote", "production", "--push"]).code(4);
    assert!(
        r.stderr
            .contains("main has 1 commit that origin/main lacks; a release push would publish it"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("git log origin/main..main"),
        "{}",
        r.stderr
    );
    assert_eq!(f.remote_tip("main"), theirs);
    assert_eq!(f.s.head(), mine);
    assert_eq!(f.s.git(&["status", "--porcelain"]), "");
    // A release branch would carry it into the pull request unannounced: refused too.
    let r =
        f.s.greenlight(&["promote", "production", "--branch", "--push"])
            .code(4);
    assert!(r.stderr.contains("origin/main lacks"), "{}", r.stderr);
    assert_eq!(f.remote_git(&["branch", "--list", "greenlight/*"]), "");

    // The remote moved too (diverged): the same refusal.
    let other = f.clone("other");
    f.s.greenlight_in(&other, &["promote", "staging", "--push"], None)
        .ok();
    let theirs = f.remote_tip("main");
    let r = f.s.greenlight(&["promote", "production", "--push"]).code(4);
    assert!(r.stderr.contains("origin/main lacks"), "{}", r.stderr);
    assert_eq!(f.remote_tip("main"), theirs);
    assert_eq!(f.s.head(), mine);
}

#[test]
fn a_remote_without_the_branch_gets_no_history_pushed() {
    let f = Fixture::new();
    let empty = f.s._tmp.path().join("empty.git");
    f.s.git(&[
        "init",
        "-q",
        "--bare",
        "-b",
        "main",
        empty.to_str().unwrap(),
    ]);
    f.s.git(&["remote", "add", "fresh", empty.to_str().unwrap()]);
    let r =
        f.s.greenlight(&["promote", "production", "--push", "--remote", "fresh"])
            .code(4);
    assert!(
        r.stderr.contains("fresh has no branch main"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("git push -u fresh main"), "{}", r.stderr);
    assert_eq!(
        f.s.git_in(
            f.s._tmp.path(),
            &["--git-dir", empty.to_str().unwrap(), "rev-list", "--all"]
        ),
        ""
    );
}

#[test]
fn a_hook_rejection_is_final_and_leaves_the_checkout_alone() {
    let f = Fixture::new();
    f.pre_receive_hook("#!/bin/sh\necho 'main is protected: open a pull request' >&2\nexit 1\n");
    let before = (f.s.head(), f.remote_tip("main"));
    let r = f.s.greenlight(&["promote", "production", "--push"]).code(2);
    assert!(
        r.stderr.contains("main is protected: open a pull request"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--branch"), "hint: {}", r.stderr);
    assert_eq!((f.s.head(), f.remote_tip("main")), before);
    assert!(f
        .s
        .read("environments/production/values.yaml")
        .contains("liveColor: blue"));
    assert_eq!(f.s.git(&["status", "--porcelain"]), "");
}

#[test]
fn clone_url_needs_no_checkout() {
    let f = Fixture::new();
    let elsewhere = f.s._tmp.path().join("empty");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let r = f.s.greenlight_in(
        &elsewhere,
        &[
            "promote",
            "production",
            "--clone",
            &f.url(),
            "--output",
            "json",
        ],
        None,
    );
    let report = json(&r.ok());
    assert_eq!(report["push"]["remote"], f.url().as_str());
    assert_eq!(live_on_remote(&f, "production"), "green");
    assert_eq!(report["commit"], f.remote_tip("main").as_str());
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);

    // A URL in --repo does the same; read commands work on it too.
    let r =
        f.s.greenlight_in(
            &elsewhere,
            &["status", "production", "--repo", &f.url()],
            None,
        )
        .ok();
    assert!(r.stdout.contains("live green"), "{}", r.stdout);
    f.s.greenlight_in(
        &elsewhere,
        &["rollback", "production", "--repo", &f.url()],
        None,
    )
    .ok();
    assert_eq!(live_on_remote(&f, "production"), "blue");
}

#[test]
fn clone_of_a_missing_repository_says_so() {
    let f = Fixture::new();
    let missing = format!("file://{}/nope.git", f.s._tmp.path().display());
    let r =
        f.s.greenlight(&["promote", "production", "--clone", &missing])
            .code(2);
    assert!(r.stderr.contains("no such repository"), "{}", r.stderr);
}

#[test]
fn release_branches_leave_the_checkout_and_main_alone() {
    let f = Fixture::new();
    let main_before = f.remote_tip("main");
    let head_before = f.s.head();
    let r =
        f.s.greenlight(&[
            "promote",
            "production",
            "--branch",
            "--push",
            "--output",
            "json",
        ])
        .ok();
    let report = json(&r);
    let branch = "greenlight/production/promote-green-1.5.0";
    assert_eq!(report["push"]["branch"], branch);
    assert_eq!(report["branch"], format!("refs/heads/{branch}").as_str());
    assert_eq!(f.remote_tip("main"), main_before);
    assert_eq!(f.remote_tip(branch), report["commit"].as_str().unwrap());
    assert_eq!(
        f.remote_git(&["rev-parse", &format!("{branch}^")]).trim(),
        main_before
    );
    // The checkout stays on main, untouched; the local branch exists for `gh pr create`.
    assert_eq!(f.s.head(), head_before);
    assert_eq!(f.s.git(&["status", "--porcelain"]), "");
    assert_eq!(f.s.git(&["rev-parse", branch]).trim(), f.remote_tip(branch));

    // Re-running the pipeline continues the branch and finds the change made.
    let r =
        f.s.greenlight(&["promote", "production", "--branch", "--push"])
            .ok();
    assert!(r.stdout.contains("is already live"), "{}", r.stdout);
    assert_eq!(f.remote_tip(branch), report["commit"].as_str().unwrap());
}

#[test]
fn a_named_release_branch_without_push_is_only_local() {
    let f = Fixture::new();
    let head = f.s.head();
    f.s.greenlight(&["promote", "production", "--branch=release/prod"])
        .ok();
    assert_eq!(f.s.head(), head);
    let tip = f.s.git(&["rev-parse", "release/prod"]);
    assert_eq!(
        f.s.git(&["rev-parse", "release/prod^"]),
        format!("{head}\n")
    );
    assert!(f
        .s
        .git(&["show", "release/prod:environments/production/values.yaml"])
        .contains("liveColor: green"));
    assert!(!tip.is_empty());
    let r =
        f.s.greenlight(&["promote", "production", "--branch=bad..name"]);
    let r = r.code(2);
    assert!(r.stderr.contains("not a valid branch name"), "{}", r.stderr);
}

#[test]
fn push_over_git_daemon() {
    let f = Fixture::new();
    let daemon = servers::git_daemon(f.s._tmp.path());
    let url = format!("git://127.0.0.1:{}/remote.git", daemon.port);
    f.s.git(&["remote", "set-url", "origin", &url]);
    f.s.greenlight(&["promote", "production", "--push"]).ok();
    assert_eq!(f.remote_tip("main"), f.s.head());
    let elsewhere = f.s._tmp.path();
    f.s.greenlight_in(
        elsewhere,
        &["rollback", "production", "--clone", &url],
        None,
    )
    .ok();
    assert_eq!(live_on_remote(&f, "production"), "blue");
}

#[test]
fn push_over_http_with_a_token_that_never_shows() {
    let f = Fixture::new();
    let token = "glt_s3cr3t_t0ken_value";
    let http = servers::git_http(f.s._tmp.path(), Some(token));
    let url = format!("http://127.0.0.1:{}/remote.git", http.port);
    let elsewhere = f.s._tmp.path();

    // No token: git may not prompt; the error says what to set, and names no secret.
    let r =
        f.s.greenlight_env(elsewhere, &["promote", "production", "--clone", &url], &[]);
    let r = r.code(2);
    assert!(r.stderr.contains("authentication failed"), "{}", r.stderr);
    assert!(r.stderr.contains("GREENLIGHT_GIT_TOKEN"), "{}", r.stderr);

    // A wrong token: same, and the wrong token is not echoed.
    let r = f.s.greenlight_env(
        elsewhere,
        &[
            "promote",
            "production",
            "--clone",
            &url,
            "--output",
            "json",
            "-vv",
        ],
        &[("GREENLIGHT_GIT_TOKEN", "wrong-token-123")],
    );
    let r = r.code(2);
    assert!(!r.stdout.contains("wrong-token-123") && !r.stderr.contains("wrong-token-123"));

    let r = f.s.greenlight_env(
        elsewhere,
        &[
            "promote",
            "production",
            "--clone",
            &url,
            "--output",
            "json",
            "-vv",
        ],
        &[("GREENLIGHT_GIT_TOKEN", token)],
    );
    let r = r.ok();
    assert!(!r.stdout.contains(token) && !r.stderr.contains(token));
    assert_eq!(live_on_remote(&f, "production"), "green");

    // git's own credential helpers work too (here `store`, configured in the checkout).
    let store = f.s._tmp.path().join("git-credentials");
    std::fs::write(
        &store,
        format!("http://bot:{token}@127.0.0.1%3a{}\n", http.port),
    )
    .unwrap();
    f.s.git(&["remote", "set-url", "origin", &url]);
    f.s.git(&[
        "config",
        "credential.helper",
        &format!("store --file={}", store.display()),
    ]);
    f.s.git(&["fetch", "-q", "origin"]);
    f.s.git(&["reset", "-q", "--hard", "origin/main"]);
    let r = f.s.greenlight(&["rollback", "production", "--push"]);
    let r = r.ok();
    assert!(!r.stdout.contains(token) && !r.stderr.contains(token));
    assert_eq!(live_on_remote(&f, "production"), "blue");
}

#[test]
fn push_over_ssh_with_a_key_file_and_known_hosts() {
    let f = Fixture::new();
    let sshd = servers::sshd(&f.s._tmp.path().join("ssh"));
    let url = format!(
        "ssh://{}@127.0.0.1:{}{}",
        sshd.user,
        sshd.server.port,
        f.remote.display()
    );
    let key = sshd.client_key.to_str().unwrap();
    let known = sshd.known_hosts.to_str().unwrap();
    f.s.git(&["remote", "set-url", "origin", &url]);
    let vars = [
        ("GREENLIGHT_SSH_KEY", key),
        ("GREENLIGHT_SSH_KNOWN_HOSTS", known),
    ];
    f.s.greenlight_env(&f.s.root, &["promote", "production", "--push"], &vars)
        .ok();
    assert_eq!(f.remote_tip("main"), f.s.head());

    // An unknown host key is refused, never accepted.
    let empty = f.s._tmp.path().join("ssh/empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let r = f.s.greenlight_env(
        &f.s.root,
        &["rollback", "production", "--push"],
        &[
            ("GREENLIGHT_SSH_KEY", key),
            ("GREENLIGHT_SSH_KNOWN_HOSTS", empty.to_str().unwrap()),
        ],
    );
    let r = r.code(2);
    assert!(
        r.stderr.contains("host key could not be verified"),
        "{}",
        r.stderr
    );
    assert_eq!(live_on_remote(&f, "production"), "green");

    // Without greenlight's variables, git's core.sshCommand is used as git would.
    f.s.git(&[
        "config",
        "core.sshCommand",
        &format!("ssh -o BatchMode=yes -i {key} -o UserKnownHostsFile={known}"),
    ]);
    f.s.greenlight(&["rollback", "production", "--push"]).ok();
    assert_eq!(live_on_remote(&f, "production"), "blue");
}

#[test]
fn push_over_ssh_with_the_agent() {
    let f = Fixture::new();
    let sshd = servers::sshd(&f.s._tmp.path().join("ssh"));
    let socket = f.s._tmp.path().join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .args(["-D", "-a"])
        .arg(&socket)
        .stdout(Stdio::null())
        .spawn()
        .expect("ssh-agent must be installed (openssh-client)");
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _agent = Kill(&mut agent);
    for _ in 0..200 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let added = Command::new("ssh-add")
        .arg(&sshd.client_key)
        .env("SSH_AUTH_SOCK", &socket)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(added.success());
    let url = format!(
        "ssh://{}@127.0.0.1:{}{}",
        sshd.user,
        sshd.server.port,
        f.remote.display()
    );
    let elsewhere = f.s._tmp.path();
    f.s.greenlight_env(
        elsewhere,
        &["promote", "production", "--clone", &url],
        &[
            ("SSH_AUTH_SOCK", socket.to_str().unwrap()),
            (
                "GREENLIGHT_SSH_KNOWN_HOSTS",
                sshd.known_hosts.to_str().unwrap(),
            ),
        ],
    )
    .ok();
    assert_eq!(live_on_remote(&f, "production"), "green");
}

/// Spawns greenlight processes at once and returns their results in order.
fn run_all(s: &Sandbox, runs: Vec<Vec<String>>) -> Vec<Run> {
    let children: Vec<_> = runs
        .iter()
        .enumerate()
        .map(|(i, args)| {
            let mut cmd = Command::new(bin());
            s.env(&mut cmd);
            // Distinct commit times, so no two pipelines write the very same commit.
            let date = format!("@{} +0000", crate::common::sandbox::T0 + 60 + i as i64);
            cmd.env("GIT_COMMITTER_DATE", &date)
                .env("GIT_AUTHOR_DATE", &date)
                .current_dir(s._tmp.path())
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| Run::from(c.wait_with_output().unwrap()))
        .collect()
}

fn fsck_and_linear(f: &Fixture) {
    f.remote_git(&["fsck", "--strict", "--no-progress"]);
    assert_eq!(f.remote_git(&["rev-list", "--merges", "main"]), "");
}

#[test]
fn eight_pipelines_promoting_eight_environments_all_land() {
    let envs: Vec<String> = (1..=8).map(|i| format!("team{i}")).collect();
    let names: Vec<&str> = envs.iter().map(String::as_str).collect();
    let f = Fixture::with_envs(&names);
    let before: usize = f.commits_on_main();
    // Every rejection means another pipeline landed, so with 8 pipelines nobody is rejected
    // more than 7 times: 7 retries make the outcome independent of timing.
    let runs = envs
        .iter()
        .map(|env| {
            [
                "promote",
                env,
                "--expect-live",
                "blue",
                "--push-retries",
                "7",
                "--clone",
                &f.url(),
            ]
            .map(String::from)
            .to_vec()
        })
        .collect();
    for (env, r) in envs.iter().zip(run_all(&f.s, runs)) {
        let _ = r.ok();
        assert_eq!(live_on_remote(&f, env), "green", "{env}");
    }
    let after: usize = f.commits_on_main();
    assert_eq!(after, before + 8);
    fsck_and_linear(&f);
}

#[test]
fn four_pipelines_promoting_one_environment_make_one_commit() {
    // Four runs of the same job race; one lands, the other three recompute on its commit and
    // find their work done (the newest action is the promotion their guards describe).
    let f = Fixture::new();
    let before: usize = f.commits_on_main();
    let runs = (0..4)
        .map(|_| {
            [
                "promote",
                "production",
                "--expect-live",
                "blue",
                "--expect-tag",
                "1.5.0",
                "--clone",
                &f.url(),
            ]
            .map(String::from)
            .to_vec()
        })
        .collect();
    let results = run_all(&f.s, runs);
    let codes: Vec<i32> = results.iter().map(|r| r.code).collect();
    assert_eq!(codes, [0, 0, 0, 0], "{results:?}");
    let done = results
        .iter()
        .filter(|r| r.stdout.contains("green (1.5.0) is already live"))
        .count();
    assert_eq!(done, 3, "{results:?}");
    let after: usize = f.commits_on_main();
    assert_eq!(after, before + 1);
    assert_eq!(live_on_remote(&f, "production"), "green");
    fsck_and_linear(&f);
}

/// `git push --porcelain` run by hand against every kind of server, its output fed to the one
/// classifier greenlight uses: the unit tests' captured messages stay true for the git here.
#[test]
fn the_push_classifier_reads_what_real_servers_say() {
    use greenlight::repo::transport::{classify_push, PushStatus, TransportError};

    let f = Fixture::new();
    let stale = f.clone("stale");
    f.s.greenlight(&["promote", "production", "--push"]).ok();
    f.s.git_in(
        &stale,
        &["commit", "-q", "--allow-empty", "-m", "stale work"],
    );
    f.pre_receive_hook("#!/bin/sh\nfor r in $(cat | cut -d' ' -f3); do [ \"$r\" = refs/heads/locked ] && { echo 'locked by policy' >&2; exit 1; }; done\nexit 0\n");
    let daemon = servers::git_daemon(f.s._tmp.path());
    let http = servers::git_http(f.s._tmp.path(), None);
    let sshd = servers::sshd(&f.s._tmp.path().join("ssh"));
    let ssh_command = format!(
        "ssh -o BatchMode=yes -o IdentitiesOnly=yes -i {} -o UserKnownHostsFile={}",
        sshd.client_key.display(),
        sshd.known_hosts.display()
    );
    let urls = [
        format!("file://{}", f.remote.display()),
        format!("git://127.0.0.1:{}/remote.git", daemon.port),
        format!("http://127.0.0.1:{}/remote.git", http.port),
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            sshd.user,
            sshd.server.port,
            f.remote.display()
        ),
    ];
    let push = |url: &str, refspec: &str| {
        let mut cmd = Command::new("git");
        f.s.env(&mut cmd);
        let out = cmd
            .current_dir(&stale)
            .env("GIT_SSH_COMMAND", &ssh_command)
            .env("GIT_TERMINAL_PROMPT", "0")
            .args(["push", "--porcelain", url, refspec])
            .output()
            .unwrap();
        classify_push(
            out.status.success(),
            &String::from_utf8_lossy(&out.stdout),
            &String::from_utf8_lossy(&out.stderr),
            url,
        )
    };
    for url in &urls {
        assert_eq!(
            push(url, "HEAD:refs/heads/main"),
            Ok(PushStatus::NonFastForward),
            "{url}"
        );
        match push(url, "HEAD:refs/heads/locked") {
            Ok(PushStatus::RemoteRejected { reason }) => {
                assert!(reason.contains("locked by policy"), "{url}: {reason}")
            }
            other => panic!("{url}: {other:?}"),
        }
        let branch = format!("refs/heads/new-{}", url.split(':').next().unwrap());
        assert_eq!(
            push(url, &format!("HEAD:{branch}")),
            Ok(PushStatus::Accepted),
            "{url}"
        );
        assert_eq!(
            push(url, &format!("HEAD:{branch}")),
            Ok(PushStatus::UpToDate),
            "{url}"
        );
    }
    let missing = format!("file://{}/missing.git", f.s._tmp.path().display());
    assert!(matches!(
        push(&missing, "HEAD:refs/heads/main"),
        Err(TransportError::NoRepository { .. })
    ));
    let refused = format!("git://127.0.0.1:{}/remote.git", free_port_for_test());
    assert!(matches!(
        push(&refused, "HEAD:refs/heads/main"),
        Err(TransportError::Unreachable { .. })
    ));
}

fn free_port_for_test() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_last_rejected_retry_exits_4_and_changes_nothing() {
    let f = Fixture::with_envs(&["production", "staging"]);
    let other = f.clone("other");
    let git = f.git_racing(&other, &["promote", "staging", "--push"]);
    let mine = f.s.head();
    let r = f.s.greenlight_env(
        &f.s.root,
        &["promote", "production", "--push", "--push-retries", "0"],
        &[("GREENLIGHT_GIT", git.to_str().unwrap())],
    );
    let r = r.code(4);
    assert!(
        r.stderr.contains("rejected every push of main (1 attempt)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--push-retries"), "{}", r.stderr);
    assert_eq!(live_on_remote(&f, "staging"), "green");
    assert_eq!(live_on_remote(&f, "production"), "blue");
    assert_eq!(f.s.head(), mine);
    assert_eq!(f.s.git(&["status", "--porcelain"]), "");
}

#[test]
fn a_retried_push_says_so_on_a_terminal_only() {
    let f = Fixture::with_envs(&["production", "staging"]);
    let other = f.clone("other");
    let git = f.git_racing(&other, &["promote", "staging", "--push"]);
    let mut cmd = Command::new("script");
    f.s.env(&mut cmd);
    let out = cmd
        .env("GREENLIGHT_GIT", &git)
        .args([
            "-qec",
            &format!("{} promote production --push", bin().display()),
            "/dev/null",
        ])
        .output()
        .expect("script (bsdutils)");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("moved while main was being pushed; computing the change again"),
        "{shown}"
    );

    // The same kind of retry on a pipe prints no such line (JSON counts the attempts).
    let third = f.clone("third");
    std::fs::remove_file(f.s._tmp.path().join("raced")).unwrap();
    let git = f.git_racing(&third, &["rollback", "production", "--push"]);
    let r = f.s.greenlight_env(
        &other,
        &["rollback", "staging", "--push", "--output", "json"],
        &[("GREENLIGHT_GIT", git.to_str().unwrap())],
    );
    let r = r.ok();
    assert_eq!(json(&r)["push"]["attempts"], 2);
    assert!(
        !r.stderr.contains("computing the change again"),
        "{}",
        r.stderr
    );
}
