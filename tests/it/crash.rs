//! Crash safety: `greenlight stage` is killed with SIGKILL at random moments, 200+ times, and
//! after every kill the repository must be valid (`git fsck --strict`), the branch at the old
//! or the new commit, every file greenlight writes at its old or new content (never truncated
//! or mixed), the index readable and in step with the branch whenever git's index lock is
//! free (so a plain `git commit` after a kill never reverts the release), and no stray file
//! for `git status` to show. Then the same command, run again, must succeed and leave the checkout
//! exactly at the branch (finishing a checkout update the kill interrupted). `render --all`
//! is killed the same way while it writes: every manifest old or new, `verify --worktree`
//! naming exactly what is left to re-render, and a second render completing it. The seed is
//! printed; set GREENLIGHT_KILL_SEED to replay a run.

#![cfg(unix)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::sandbox::{bin, Sandbox};

const VALUES: &str = "\
app: api
namespace: shop
liveColor: blue
image: registry.example.com/shop/api
blue:  { tag: \"1.4.0\", replicas: 3 }
green: { replicas: 0 }
port: 8080
readinessProbe: { path: /healthz }
ingress: { host: api.example.com, className: nginx }
";

const KILLS: usize = 200;

fn stage_command(s: &Sandbox, n: usize) -> Command {
    let mut cmd = Command::new(bin());
    s.env(&mut cmd);
    cmd.args(["stage", "production", "--tag", &format!("2.{n}.0")])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// The paths a stage commit changes: the values file and the green manifests.
fn written_paths(s: &Sandbox) -> Vec<String> {
    s.git(&["ls-files", "environments", "rendered"])
        .lines()
        .map(str::to_owned)
        .collect()
}

fn blob(s: &Sandbox, commit: &str, path: &str) -> Option<String> {
    let mut cmd = Command::new("git");
    s.env(&mut cmd);
    let out = cmd
        .args(["rev-parse", "--verify", "-q", &format!("{commit}:{path}")])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap().trim().to_owned())
}

fn hash_file(s: &Sandbox, path: &str) -> Option<String> {
    if !s.path(path).exists() {
        return None;
    }
    Some(s.git(&["hash-object", path]).trim().to_owned())
}

/// Every invariant, after one kill. `old` is the tip before the command.
fn check(s: &Sandbox, old: &str, seed: u64, round: usize) {
    let context = format!("seed {seed}, round {round}");
    let mut fsck = Command::new("git");
    s.env(&mut fsck);
    let out = fsck
        .args(["fsck", "--strict", "--no-progress", "--no-dangling"])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{context}: git fsck: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let head = s.head();
    let moved = head != old;
    if moved {
        assert_eq!(
            s.git(&["rev-parse", "HEAD^"]).trim(),
            old,
            "{context}: the branch moved to something that is not a child of the old tip"
        );
    }
    let paths: Vec<String> = {
        let mut p = written_paths(s);
        let mut cmd = Command::new("git");
        s.env(&mut cmd);
        let out = cmd
            .args(["diff", "--name-only", old, "HEAD"])
            .output()
            .unwrap();
        p.extend(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(str::to_owned),
        );
        p.sort();
        p.dedup();
        p
    };
    for path in &paths {
        let before = blob(s, old, path);
        let after = blob(s, "HEAD", path);
        let file = hash_file(s, path);
        assert!(
            file == before || file == after,
            "{context}: {path} is neither its old nor its new content"
        );
        let staged = s
            .git(&["ls-files", "-s", "--", path])
            .split_whitespace()
            .nth(1)
            .map(str::to_owned);
        assert!(
            staged == before || staged == after,
            "{context}: the index entry of {path} is neither old nor new: index {staged:?}, \
             old {before:?}, new {after:?}, file {file:?}; history:\n{}",
            s.git(&["log", "--format=%h %s", "-4"])
        );
    }
    // Unless a kill left git's index lock (which stops `git commit` as a killed git's does),
    // the index is in step with the branch: a plain `git commit` now commits nothing of the
    // release backwards.
    if !s.path(".git/index.lock").exists() {
        let mut cached = Command::new("git");
        s.env(&mut cached);
        let out = cached
            .args(["diff", "--cached", "--name-status", "HEAD"])
            .output()
            .unwrap();
        let staged = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && staged.is_empty(),
            "{context}: the index differs from the branch (a `git commit` would commit this): \
             {staged}"
        );
    }
    // Nothing untracked appears but the new commit's own files whose index entry was not
    // written yet (temporary files live inside .git).
    let untracked = s.git(&["status", "--porcelain", "--untracked-files=all"]);
    let stray: Vec<&str> = untracked
        .lines()
        .filter_map(|l| l.strip_prefix("?? "))
        .filter(|p| !paths.iter().any(|known| known == p))
        .collect();
    assert!(stray.is_empty(), "{context}: stray files: {stray:?}");
}

#[test]
fn sigkill_at_any_moment_leaves_a_valid_repository() {
    let s = Sandbox::with_values(VALUES);
    let seed: u64 = std::env::var("GREENLIGHT_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    println!("GREENLIGHT_KILL_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);

    // How long one uninterrupted stage takes here: kills are spread over that span.
    let started = Instant::now();
    assert!(stage_command(&s, 0).status().unwrap().success());
    let span = started.elapsed().max(Duration::from_millis(5));
    s.git(&["reset", "-q", "--hard", "HEAD^"]);

    let mut landed = 0;
    let mut scale = 1.0f64;
    let mut stale_locks = 0;
    let mut behind = 0;
    for round in 1..=KILLS {
        let old = s.head();
        let mut child = stage_command(&s, round).spawn().unwrap();
        // The machine's load changes how long a run takes (other tests run meanwhile), so
        // the spread follows what the kills hit: wider when few commits land, narrower when
        // most do, keeping kills on both sides of the commit point.
        if round > 10 {
            let ratio = landed as f64 / (round - 1) as f64;
            if ratio < 0.25 {
                scale = (scale * 1.15).min(20.0);
            } else if ratio > 0.75 {
                scale = (scale / 1.15).max(0.05);
            }
        }
        let delay = span.mul_f64(rng.f64() * 1.2 * scale);
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        check(&s, &old, seed, round);
        if s.head() != old {
            landed += 1;
        }
        let _ = status;
        // A kill while the branch or index was locked leaves the lock file, exactly as a
        // killed git does; greenlight then refuses clearly instead of guessing.
        let locks: Vec<std::path::PathBuf> = [".git/refs/heads/main.lock", ".git/index.lock"]
            .iter()
            .map(|l| s.path(l))
            .filter(|l| l.exists())
            .collect();
        if !locks.is_empty() {
            stale_locks += 1;
            let mut again = stage_command(&s, 10_000 + round);
            let out = again.stderr(Stdio::piped()).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{stderr}");
            assert!(stderr.contains(".lock"), "seed {seed}: {stderr}");
            check(&s, &old, seed, round);
            for lock in locks {
                std::fs::remove_file(lock).unwrap();
            }
        }
        if s.head() != old && s.path(".git/greenlight-checkout").exists() {
            behind += 1;
        }
        // Running the same command again finishes whatever the kill interrupted, with no
        // help from git: the branch has the stage and the checkout is exactly the branch.
        let again = stage_command(&s, round)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            again.status.success(),
            "seed {seed}, round {round}: the command run again failed: {}",
            String::from_utf8_lossy(&again.stderr)
        );
        assert!(
            s.git(&["show", "HEAD:environments/production/values.yaml"])
                .contains(&format!("tag: \"2.{round}.0\"")),
            "seed {seed}, round {round}: the stage is not on the branch"
        );
        assert_eq!(
            s.git(&["status", "--porcelain", "--untracked-files=all"]),
            "",
            "seed {seed}, round {round}: the checkout differs from the branch"
        );
        assert!(
            !s.path(".git/greenlight-checkout").exists(),
            "seed {seed}, round {round}: the pending-checkout record is left"
        );
    }
    println!(
        "{landed} of {KILLS} commits landed before the kill; {stale_locks} kills left a lock \
         file; {behind} stopped between the branch move and the end of the checkout update"
    );
    // The kills hit both sides of the commit point (otherwise the test proves little).
    assert!(landed > 0 && landed < KILLS, "landed {landed} of {KILLS}");
}

/// Environments of the `render --all` kill test: enough files that a render spends a while
/// writing them.
const RENDER_ENVS: usize = 60;
const RENDER_KILLS: usize = 30;

fn render_all(s: &Sandbox) -> Command {
    let mut cmd = Command::new(bin());
    s.env(&mut cmd);
    cmd.args(["render", "--all"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Every file under `rendered/`, with its content.
fn rendered_tree(s: &Sandbox) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    for entry in walkdir::WalkDir::new(s.path("rendered")) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(&s.root).unwrap();
            files.insert(
                rel.to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            );
        }
    }
    files
}

/// `greenlight verify --worktree --output json`: its exit code and the drifted paths.
fn verify_worktree(s: &Sandbox) -> (i32, std::collections::BTreeSet<String>) {
    let run = s.greenlight(&["verify", "--worktree", "--output", "json"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    let drift = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap().to_owned())
        .collect();
    (run.code, drift)
}

/// `render --all` killed with SIGKILL mid-write: every rendered file is its old content (or
/// absent, where the folder had been deleted) or its new content, never partial; nothing else
/// appears in the checkout (temporary files live inside `.git`); `verify --worktree` names
/// exactly the files still to re-render; and `render --all` run again completes.
#[test]
fn sigkill_during_render_all_leaves_old_or_new_files() {
    let s = Sandbox::with_values(VALUES);
    for i in 0..RENDER_ENVS {
        s.write(&format!("environments/team{i:02}/values.yaml"), VALUES);
    }
    s.greenlight(&["render", "--all"]).ok();
    s.git(&["add", "-A"]);
    s.git(&["commit", "-q", "-m", "teams"]);
    // Values change everywhere (a port every object uses, shared: it applies at once), and
    // the commit still holds the old manifests: the render rewrites all of them.
    for rel in s.git(&["ls-files", "environments"]).lines() {
        let text = s.read(rel).replace("port: 8080", "port: 9090");
        s.write(rel, &text);
    }
    s.git(&["commit", "-q", "-am", "port 9090"]);
    let old = rendered_tree(&s);

    let seed: u64 = std::env::var("GREENLIGHT_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    println!("GREENLIGHT_KILL_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);

    // The new manifests, from one uninterrupted run, which also says how long a run takes.
    let started = Instant::now();
    assert!(render_all(&s).status().unwrap().success());
    let span = started.elapsed().max(Duration::from_millis(5));
    let new = rendered_tree(&s);
    assert_eq!(new.len(), old.len());
    assert!(new.iter().filter(|(p, b)| old.get(*p) != Some(b)).count() > RENDER_ENVS);

    let (mut before, mut partial, mut after) = (0, 0, 0);
    let mut scale = 1.0f64;
    for round in 1..=RENDER_KILLS {
        // Back to the committed manifests; a quarter of the folders deleted (a first render).
        s.git(&["checkout", "-q", "--", "rendered"]);
        let cold: Vec<String> = (0..RENDER_ENVS)
            .filter(|_| rng.u8(..4) == 0)
            .map(|i| format!("rendered/team{i:02}"))
            .collect();
        for dir in &cold {
            std::fs::remove_dir_all(s.path(dir)).unwrap();
        }
        let start = rendered_tree(&s);

        // Kills follow what they hit, as the machine's load changes how long a run takes:
        // later when most land before any file is written, earlier when most land after the
        // last one, so that many land in the middle of the writing.
        if round > 5 {
            if before * 2 > round {
                scale = (scale * 1.2).min(20.0);
            } else if after * 2 > round {
                scale = (scale / 1.2).max(0.05);
            }
        }
        let mut child = render_all(&s).spawn().unwrap();
        std::thread::sleep(span.mul_f64(rng.f64() * 1.2 * scale));
        let _ = child.kill();
        child.wait().unwrap();

        let context = format!("seed {seed}, round {round}");
        let now = rendered_tree(&s);
        let mut stale = std::collections::BTreeSet::new();
        for (path, bytes) in &new {
            match now.get(path) {
                Some(b) if b == bytes => {}
                Some(b) => {
                    assert_eq!(Some(b), start.get(path), "{context}: {path} is partial");
                    stale.insert(path.clone());
                }
                None => {
                    assert!(!start.contains_key(path), "{context}: {path} disappeared");
                    stale.insert(path.clone());
                }
            }
        }
        let extra: Vec<&String> = now.keys().filter(|p| !new.contains_key(*p)).collect();
        assert!(extra.is_empty(), "{context}: unexpected files {extra:?}");
        let untracked = s.git(&["status", "--porcelain", "--untracked-files=all"]);
        let stray: Vec<&str> = untracked
            .lines()
            .filter_map(|l| l.strip_prefix("?? "))
            .filter(|p| !new.contains_key(*p))
            .collect();
        assert!(stray.is_empty(), "{context}: stray files {stray:?}");
        let changed = start.iter().filter(|(p, b)| new.get(*p) != Some(b)).count();
        match stale.len() {
            0 => after += 1,
            n if n == changed => before += 1,
            _ => partial += 1,
        }

        // verify names exactly what is left to re-render.
        let (code, drift) = verify_worktree(&s);
        assert_eq!(code, if stale.is_empty() { 0 } else { 1 }, "{context}");
        assert_eq!(drift, stale, "{context}");

        // And a render run again completes it.
        assert!(render_all(&s).status().unwrap().success(), "{context}");
        assert_eq!(rendered_tree(&s), new, "{context}");
        assert_eq!(verify_worktree(&s), (0, Default::default()), "{context}");
    }
    println!(
        "{before} kills before any file was written, {partial} in the middle, {after} after \
         the last one"
    );
    // Kills landed in the middle of the writing (otherwise the test proves little).
    assert!(
        partial > 0,
        "{before} before, {partial} partial, {after} after"
    );
}
