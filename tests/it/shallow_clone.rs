//! `--clone URL` works in a partial, shallow clone (the tip commit and the top of its tree),
//! fetching the rest when it is read. These tests put the release that a guard must find far
//! below the tip, behind hundreds of unrelated commits, so a walk that stopped where the clone
//! stops would decide wrongly: promote would refuse an environment that is staged, scale-down
//! would not see a young promotion, rollback would not see the stage. Each test also reads
//! the git commands greenlight ran, to prove the clone was shallow and history was fetched.

use std::path::{Path, PathBuf};

use crate::common::sandbox::{Run, Sandbox, T0, VALUES};
use crate::common::servers;

/// How many unrelated commits sit on top of the release the guards must find: more than the
/// first deepening (100 commits), so a second one is needed.
const UNRELATED: usize = 300;

struct Remote {
    s: Sandbox,
    remote: PathBuf,
    /// The commit of the release the guards must find.
    release: String,
    log: PathBuf,
    git: PathBuf,
}

impl Remote {
    /// A remote whose `production` had 1.5.0 staged at T0+60 and, with `promote`, promoted at
    /// T0+120; then [`UNRELATED`] commits that touch only `docs/`, one a minute. The remote
    /// serves partial clones (`uploadpack.allowFilter`), like the big forges.
    fn new(promote: bool) -> Remote {
        let s = Sandbox::with_values(VALUES);
        s.at(T0 + 60);
        s.greenlight(&["stage", "production", "--tag", "1.5.0"])
            .ok();
        if promote {
            s.at(T0 + 120);
            s.greenlight(&["promote", "production"]).ok();
        }
        let release = s.head();
        unrelated_commits(&s, UNRELATED, T0 + 180);
        let remote = s._tmp.path().join("remote.git");
        s.git(&[
            "clone",
            "-q",
            "--bare",
            s.root.to_str().unwrap(),
            remote.to_str().unwrap(),
        ]);
        s.git_in(&remote, &["config", "uploadpack.allowFilter", "true"]);
        let log = s._tmp.path().join("git.log");
        let git = logging_git(s._tmp.path(), &log);
        Remote {
            s,
            remote,
            release,
            log,
            git,
        }
    }

    fn url(&self) -> String {
        format!("file://{}", self.remote.display())
    }

    /// Runs greenlight from an empty folder (no checkout) at `now`, through the logging git.
    fn greenlight(&self, args: &[&str], now: i64) -> Run {
        let elsewhere = self.s._tmp.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        let now = now.to_string();
        self.s.greenlight_env(
            &elsewhere,
            args,
            &[
                ("GREENLIGHT_GIT", self.git.to_str().unwrap()),
                ("GREENLIGHT_NOW", &now),
            ],
        )
    }

    /// The git commands greenlight ran so far, one per line.
    fn git_calls(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn remote_values(&self) -> String {
        self.s.git_in(
            &self.remote,
            &["show", "main:environments/production/values.yaml"],
        )
    }
}

/// `count` commits that change only `docs/notes.txt`, made by `git fast-import`, one a minute
/// from `from`.
fn unrelated_commits(s: &Sandbox, count: usize, from: i64) {
    let tip = s.head();
    let mut stream = String::new();
    for i in 0..count {
        let message = format!("docs: note {i}\n");
        let data = format!("note {i}\n");
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter Dev <dev@example.com> {} +0000\ndata {}\n{}",
            from + 60 * i as i64,
            message.len(),
            message
        ));
        if i == 0 {
            stream.push_str(&format!("from {tip}\n"));
        }
        stream.push_str(&format!(
            "M 100644 inline docs/notes.txt\ndata {}\n{}\n",
            data.len(),
            data
        ));
    }
    let mut cmd = std::process::Command::new("git");
    s.env(&mut cmd);
    let mut child = cmd
        .args(["fast-import", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    s.git(&["reset", "-q", "--hard", "main"]);
}

/// A `git` that appends its arguments to `log`, then runs git.
fn logging_git(dir: &Path, log: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let script = dir.join("logging-git");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec git \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// The clone was shallow and partial, and the history walk fetched more of it twice (100
/// commits, then 800) before it reached the release.
#[track_caller]
fn assert_shallow_then_deepened(calls: &str) {
    let clone = calls
        .lines()
        .find(|l| l.starts_with("clone "))
        .unwrap_or_else(|| panic!("no clone in:\n{calls}"));
    assert!(
        clone.contains("--depth=1") && clone.contains("--filter=tree:2"),
        "{clone}"
    );
    assert!(calls.contains("--deepen=100"), "{calls}");
    assert!(calls.contains("--deepen=800"), "{calls}");
    assert!(!calls.contains("--unshallow"), "{calls}");
    assert!(
        calls.contains("--stdin"),
        "objects were fetched on demand:\n{calls}"
    );
}

#[test]
fn promote_finds_a_stage_older_than_the_clone() {
    let r = Remote::new(false);
    let run = r.greenlight(
        &[
            "promote",
            "production",
            "--expect-tag",
            "1.5.0",
            "--clone",
            &r.url(),
        ],
        T0 + 100_000,
    );
    run.ok();
    assert!(r.remote_values().contains("liveColor: green"));
    assert_shallow_then_deepened(&r.git_calls());
    // What was pushed is complete and connected on the remote.
    r.s.git_in(&r.remote, &["fsck", "--strict", "--no-progress"]);
}

#[test]
fn rollback_refuses_because_of_a_stage_older_than_the_clone() {
    let r = Remote::new(false);
    let run = r.greenlight(
        &["rollback", "production", "--clone", &r.url()],
        T0 + 100_000,
    );
    let run = run.code(3);
    // The refusal names the stage commit, so it was read, not assumed absent.
    let short = &r.release[..12];
    assert!(
        run.stderr.contains("holds the release staged in") && run.stderr.contains(short),
        "{}",
        run.stderr
    );
    assert_shallow_then_deepened(&r.git_calls());
    assert!(r.remote_values().contains("liveColor: blue"));
}

#[test]
fn scale_down_sees_a_young_promotion_older_than_the_clone() {
    let r = Remote::new(true);
    // 300 minutes of unrelated commits came after the promotion at T0+120; with a warm period
    // of a day, the promotion is still young.
    let run = r.greenlight(
        &[
            "scale-down",
            "production",
            "--warm",
            "1d",
            "--clone",
            &r.url(),
        ],
        T0 + 120 + 6 * 3600,
    );
    let run = run.code(3);
    let short = &r.release[..12];
    assert!(
        run.stderr
            .contains(&format!("the last promotion ({short}) is 6h old")),
        "{}",
        run.stderr
    );
    assert_shallow_then_deepened(&r.git_calls());
    assert!(r
        .remote_values()
        .contains("blue:  { tag: \"1.4.0\", replicas: 3 }"));

    // Once the day is over it scales down: the refusal was the promotion's age, not a guess.
    let run = r.greenlight(
        &[
            "scale-down",
            "production",
            "--warm",
            "1d",
            "--clone",
            &r.url(),
        ],
        T0 + 120 + 25 * 3600,
    );
    run.ok();
    assert!(r.remote_values().contains("replicas: 0"));
}

#[test]
fn a_guard_that_needs_no_history_fetches_none() {
    // The newest release of staging is the tip itself: no deepening, one clone, one push.
    let r = Remote::new(true);
    let checkout = r.s._tmp.path().join("dev");
    r.s.git_in(
        r.s._tmp.path(),
        &["clone", "-q", &r.url(), checkout.to_str().unwrap()],
    );
    r.s.greenlight_in(&checkout, &["stage", "production", "--tag", "1.6.0"], None)
        .ok();
    r.s.git_in(&checkout, &["push", "-q", "origin", "main"]);
    let run = r.greenlight(
        &["promote", "production", "--clone", &r.url()],
        T0 + 100_000,
    );
    run.ok();
    let calls = r.git_calls();
    assert!(!calls.contains("--deepen"), "{calls}");
    assert!(
        r.remote_values().contains("liveColor: blue"),
        "promoted back to blue"
    );
}

#[test]
fn over_git_daemon_the_guard_reads_deep_history_too() {
    let r = Remote::new(false);
    let daemon = servers::git_daemon(r.s._tmp.path());
    let url = format!("git://127.0.0.1:{}/remote.git", daemon.port);
    r.greenlight(&["promote", "production", "--clone", &url], T0 + 100_000)
        .ok();
    assert!(r.remote_values().contains("liveColor: green"));
    assert_shallow_then_deepened(&r.git_calls());
}

#[test]
fn a_shallow_checkout_fetches_history_from_its_remote_or_says_it_cannot() {
    let r = Remote::new(false);
    let shallow = r.s._tmp.path().join("shallow");
    r.s.git_in(
        r.s._tmp.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &r.url(),
            shallow.to_str().unwrap(),
        ],
    );
    // Without a remote, the guard cannot read the stage: an error, never a wrong answer.
    r.s.git_in(&shallow, &["remote", "remove", "origin"]);
    let run =
        r.s.greenlight_in(&shallow, &["promote", "production"], None)
            .code(2);
    assert!(run.stderr.contains("shallow clone"), "{}", run.stderr);
    assert!(
        run.stderr.contains("git fetch --unshallow"),
        "{}",
        run.stderr
    );

    // With its remote back, it fetches more history and promotes.
    r.s.git_in(&shallow, &["remote", "add", "origin", &r.url()]);
    r.s.greenlight_in(&shallow, &["promote", "production"], None)
        .ok();
    let values =
        std::fs::read_to_string(shallow.join("environments/production/values.yaml")).unwrap();
    assert!(values.contains("liveColor: green"), "{values}");
}

#[test]
fn read_commands_fetch_a_whole_fleet_in_a_few_requests() {
    let r = Remote::new(true);
    // Six more environments on the remote, so reading file by file would take dozens of
    // requests.
    let checkout = r.s._tmp.path().join("dev");
    r.s.git_in(
        r.s._tmp.path(),
        &["clone", "-q", &r.url(), checkout.to_str().unwrap()],
    );
    for i in 0..6 {
        let dir = checkout.join(format!("environments/team{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("values.yaml"), VALUES).unwrap();
    }
    r.s.greenlight_in(&checkout, &["render", "--all"], None)
        .ok();
    r.s.git_in(&checkout, &["add", "-A"]);
    r.s.git_in(&checkout, &["commit", "-q", "-m", "six teams"]);
    r.s.git_in(&checkout, &["push", "-q", "origin", "main"]);

    let verify = r
        .greenlight(&["verify", "--repo", &r.url()], T0 + 100_000)
        .ok();
    assert!(
        verify.stdout.contains("7 environments"),
        "{}",
        verify.stdout
    );
    let fetches = |calls: &str| calls.lines().filter(|l| l.contains("--stdin")).count();
    let calls = r.git_calls();
    assert!(
        fetches(&calls) <= 3,
        "fetched in too many requests:\n{calls}"
    );

    std::fs::remove_file(&r.log).unwrap();
    let status = r
        .greenlight(&["status", "--repo", &r.url()], T0 + 100_000)
        .ok();
    assert!(status.stdout.contains("team5"), "{}", status.stdout);
    assert!(status.stdout.contains("production"), "{}", status.stdout);
    let calls = r.git_calls();
    assert!(
        fetches(&calls) <= 3,
        "fetched in too many requests:\n{calls}"
    );
}

#[test]
fn racing_pipelines_on_partial_clones_land_one_promotion() {
    // Four runs of the same promote job, each in its own partial, shallow clone: one lands;
    // the others are rejected, fetch the new tip (partially), compute again with every guard
    // (reading history through the fetched commits) and find their work done.
    let r = Remote::new(false);
    let before: usize =
        r.s.git_in(&r.remote, &["rev-list", "--count", "main"])
            .trim()
            .parse()
            .unwrap();
    let git = r.git.to_str().unwrap().to_owned();
    let children: Vec<_> = (0..4)
        .map(|i| {
            let mut cmd = std::process::Command::new(crate::common::sandbox::bin());
            r.s.env(&mut cmd);
            let date = format!("@{} +0000", T0 + 100_000 + i);
            cmd.env("GIT_COMMITTER_DATE", &date)
                .env("GIT_AUTHOR_DATE", &date)
                .env("GREENLIGHT_GIT", &git)
                .env("GREENLIGHT_RETRY_BASE_MS", "10")
                .current_dir(r.s._tmp.path())
                .args([
                    "promote",
                    "production",
                    "--expect-live",
                    "blue",
                    "--expect-tag",
                    "1.5.0",
                    "--push-retries",
                    "5",
                    "--clone",
                    &r.url(),
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let runs: Vec<Run> = children
        .into_iter()
        .map(|c| Run::from(c.wait_with_output().unwrap()))
        .collect();
    for run in &runs {
        assert_eq!(run.code, 0, "{runs:?}");
    }
    let done = runs
        .iter()
        .filter(|r| r.stdout.contains("green (1.5.0) is already live"))
        .count();
    assert_eq!(done, 3, "{runs:?}");
    let after: usize =
        r.s.git_in(&r.remote, &["rev-list", "--count", "main"])
            .trim()
            .parse()
            .unwrap();
    assert_eq!(after, before + 1, "{runs:?}");
    assert!(r.remote_values().contains("liveColor: green"));
    r.s.git_in(&r.remote, &["fsck", "--strict", "--no-progress"]);
    assert_shallow_then_deepened(&r.git_calls());
}
