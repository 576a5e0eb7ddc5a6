//! A hermetic git sandbox for tests that run the binary: a repository in a temp dir with one
//! environment, a cleared environment (no global git config, fixed identities and dates,
//! NO_COLOR), and helpers to run greenlight and git in it.

use std::path::{Path, PathBuf};
use std::process::Output;

/// The greenlight binary under test.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("greenlight")
}

/// The smallest valid values file the tests start from: `api` in namespace `shop`, blue live
/// with 1.4.0 × 3, green empty.
pub const VALUES: &str = "\
app: api
namespace: shop
liveColor: blue
image: registry.example.com/shop/api
blue:  { tag: \"1.4.0\", replicas: 3 }
green: { replicas: 0 }
port: 8080
readinessProbe: { path: /healthz }
";

/// Unix time of the fixture commits; GREENLIGHT_NOW is expressed relative to it.
pub const T0: i64 = 1_700_000_000;

pub struct Sandbox {
    pub _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    /// Committer/author time of the next commits made by greenlight or git.
    pub time: std::cell::Cell<i64>,
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl Sandbox {
    /// A checkout with one environment `production` holding `values`, rendered and committed
    /// by the git CLI.
    pub fn with_values(values: &str) -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("gitops");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let s = Sandbox {
            _tmp: tmp,
            root,
            home,
            time: std::cell::Cell::new(T0),
        };
        s.git(&["init", "-q", "-b", "main"]);
        s.write("environments/production/values.yaml", values);
        s.greenlight(&["render"]).ok();
        s.git(&["add", "-A"]);
        s.git(&["commit", "-q", "-m", "initial import"]);
        s
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    pub fn env(&self, cmd: &mut std::process::Command) {
        let date = format!("@{} +0000", self.time.get());
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Release Bot")
            .env("GIT_AUTHOR_EMAIL", "bot@example.com")
            .env("GIT_COMMITTER_NAME", "Release Bot")
            .env("GIT_COMMITTER_EMAIL", "bot@example.com")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("NO_COLOR", "1")
            .current_dir(&self.root);
    }

    pub fn greenlight_in(&self, dir: &Path, args: &[&str], now: Option<i64>) -> Run {
        let mut cmd = std::process::Command::new(bin());
        self.env(&mut cmd);
        cmd.current_dir(dir).args(args);
        if let Some(now) = now {
            cmd.env("GREENLIGHT_NOW", now.to_string());
        }
        Run::from(cmd.output().unwrap())
    }

    /// Runs greenlight in `dir` with extra environment variables.
    pub fn greenlight_env(&self, dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let mut cmd = std::process::Command::new(bin());
        self.env(&mut cmd);
        cmd.current_dir(dir).args(args).envs(vars.iter().copied());
        Run::from(cmd.output().unwrap())
    }

    pub fn greenlight(&self, args: &[&str]) -> Run {
        self.greenlight_in(&self.root, args, None)
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let mut cmd = std::process::Command::new("git");
        self.env(&mut cmd);
        let out = cmd.current_dir(dir).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.root, args)
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    pub fn commit_count(&self) -> usize {
        self.git(&["rev-list", "--count", "HEAD"])
            .trim()
            .parse()
            .unwrap()
    }

    pub fn at(&self, t: i64) {
        self.time.set(t);
    }
}

/// A `git` for greenlight (through `GREENLIGHT_GIT`, written into `dir`) that, just before the
/// first push, lets another pipeline land `args` (a greenlight command) from the checkout
/// `other`: the remote moves between greenlight's fetch and its push, as in a real race, but
/// every time.
pub fn racing_git(dir: &Path, other: &Path, args: &[&str]) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let mark = dir.join("raced");
    let script = dir.join("racing-git");
    let git = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \" $* \" in *\" push \"*)\n  if [ ! -e '{mark}' ]; then\n    \
             touch '{mark}'\n    (cd '{other}' && env -u GREENLIGHT_GIT '{bin}' {args} -q) \
             >/dev/null || exit 99\n  fi;;\nesac\nexec '{git}' \"$@\"\n",
            mark = mark.display(),
            other = other.display(),
            bin = bin().display(),
            args = args.join(" "),
            git = git.trim(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}
