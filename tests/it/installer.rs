//! Installing a released greenlight: `install.sh` and the GitHub Action (`action.yml`)
//! against a loopback HTTP server serving a release directory made from the freshly built
//! binary with `build/package.sh`, exactly as the release workflow packages it; and the check
//! that the workflow, install.sh, the Action and the `cargo binstall` metadata agree on the
//! archive names.
//!
//! The server listens on 127.0.0.1 only; every command runs with a cleared environment.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use serde_json::Value;

use crate::common::sandbox::{bin, Run};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const REPO: &str = env!("CARGO_PKG_REPOSITORY");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn install_sh() -> PathBuf {
    root().join("install.sh")
}

/// The release target of the machine running the tests, as install.sh names it.
fn host_target() -> String {
    match std::env::consts::OS {
        "linux" => format!("{}-unknown-linux-gnu", std::env::consts::ARCH),
        "macos" => format!("{}-apple-darwin", std::env::consts::ARCH),
        other => panic!("no release target for {other}"),
    }
}

fn archive_name(target: &str) -> String {
    format!("greenlight-{VERSION}-{target}.tar.gz")
}

fn yaml(rel: &str) -> Value {
    let text = fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    greenlight::yaml::parse_document(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The targets the release workflow builds, from its build matrix.
fn workflow_targets() -> Vec<String> {
    let wf = yaml(".github/workflows/release.yml");
    wf["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .expect("release.yml: jobs.build.strategy.matrix.include is a list")
        .iter()
        .map(|row| {
            row["target"]
                .as_str()
                .expect("each row names a target")
                .to_owned()
        })
        .collect()
}

fn sh(script: &str, args: &[&str]) {
    let out = Command::new("sh")
        .arg(root().join(script))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script} {args:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A release directory as the workflow publishes it: an archive of the test binary for every
/// target of the workflow, SHA256SUMS and install.sh, made once per test run.
fn release() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("installer-release");
        let _ = fs::remove_dir_all(&dir);
        let binary = bin();
        for target in workflow_targets() {
            sh(
                "build/package.sh",
                &[
                    "archive",
                    VERSION,
                    &target,
                    binary.to_str().unwrap(),
                    dir.to_str().unwrap(),
                ],
            );
        }
        sh("build/package.sh", &["sums", dir.to_str().unwrap()]);
        dir
    })
}

/// A copy of `files` of the release into a new directory.
fn release_with(tmp: &Path, files: &[&str]) -> PathBuf {
    let dir = tmp.join("release");
    fs::create_dir_all(&dir).unwrap();
    for f in files {
        fs::copy(release().join(f), dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    dir
}

/// A copy of this platform's archive and SHA256SUMS, with one byte of the archive changed.
fn tampered_release(tmp: &Path) -> PathBuf {
    let archive = archive_name(&host_target());
    let dir = release_with(tmp, &["SHA256SUMS", &archive]);
    let mut bytes = fs::read(dir.join(&archive)).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(dir.join(&archive), bytes).unwrap();
    dir
}

/// A static file server on 127.0.0.1 that records the paths asked for; stopped on drop.
struct FileServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FileServer {
    fn serve(dir: &Path) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (dir, log, stopped) = (dir.to_owned(), requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let _ = answer(stream, &dir, &log);
                }
            }
        });
        FileServer {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(mut stream: TcpStream, dir: &Path, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
    log.lock().unwrap().push(path.clone());
    let rel = path.trim_start_matches('/');
    let file = Some(dir.join(rel))
        .filter(|_| !rel.split('/').any(|c| c.is_empty() || c == ".."))
        .filter(|p| p.is_file());
    match file {
        Some(file) => {
            let body = fs::read(file)?;
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body)
        }
        None => stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\nConnection: close\r\n\r\nnot found\n",
        ),
    }
}

/// A `uname` that reports another OS and CPU, first on PATH.
fn uname_shim(tmp: &Path, os: &str, cpu: &str) -> PathBuf {
    let dir = tmp.join(format!("uname-{os}-{cpu}"));
    fs::create_dir_all(&dir).unwrap();
    let script = dir.join("uname");
    fs::write(
        &script,
        format!("#!/bin/sh\ncase \"$1\" in -s) echo {os} ;; -m) echo {cpu} ;; *) exit 1 ;; esac\n"),
    )
    .unwrap();
    chmod_x(&script);
    dir
}

fn chmod_x(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs install.sh with `shell` in a cleared environment (PATH `/usr/bin:/bin`, after
/// `path_first` if given; HOME and TMPDIR in `tmp`). Without `--base-url` in `args`, the
/// base URL is a closed port on 127.0.0.1, so no test ever reaches for the real releases.
fn install(shell: &str, tmp: &Path, path_first: Option<&Path>, args: &[&str]) -> Run {
    let home = tmp.join("home");
    let tmpdir = tmp.join("tmp");
    fs::create_dir_all(&home).unwrap();
    fs::create_dir_all(&tmpdir).unwrap();
    let path = match path_first {
        Some(dir) => format!("{}:/usr/bin:/bin", dir.display()),
        None => "/usr/bin:/bin".to_owned(),
    };
    let out = Command::new(shell)
        .arg(install_sh())
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("HOME", &home)
        .env("TMPDIR", &tmpdir)
        .env(
            "GREENLIGHT_BASE_URL",
            "http://127.0.0.1:9/no-network-in-tests",
        )
        .current_dir(tmp)
        .output()
        .unwrap_or_else(|e| panic!("{shell}: {e} (apt-get install {shell})"));
    let run = Run::from(out);
    assert!(
        fs::read_dir(&tmpdir).unwrap().next().is_none(),
        "install.sh left temporary files behind:\n{}",
        run.stderr
    );
    run
}

/// install.sh under dash, from `base_url` into `dir`.
fn install_into(tmp: &Path, uname: Option<&Path>, base_url: &str, dir: &Path) -> Run {
    let args = ["--base-url", base_url, "--dir", dir.to_str().unwrap()];
    install("dash", tmp, uname, &args)
}

fn version_line(binary: &Path) -> String {
    let out = Command::new(binary).arg("--version").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The names of the entries of `dir` (empty when it does not exist).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn install_sh_installs_the_release_and_prints_its_version() {
    let server = FileServer::serve(release());
    let want = version_line(&bin());
    let archive = format!("/{}", archive_name(&host_target()));
    // dash is Debian's /bin/sh and catches most bash-isms; posh is a strictly POSIX shell.
    for shell in ["sh", "dash", "posh", "bash"] {
        for pinned in [false, true] {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("bin dir");
            let url = server.url();
            let mut args = vec!["--base-url", &url, "--dir", dir.to_str().unwrap()];
            if pinned {
                args.extend(["--version", VERSION]);
            }
            let before = server.requests().len();
            let run = install(shell, tmp.path(), None, &args).ok();
            let installed = dir.join("greenlight");
            assert_eq!(
                run.stdout,
                format!("{want} installed as {}\n", installed.display()),
                "{shell}"
            );
            assert!(run.stderr.contains("checksum ok"), "{}", run.stderr);
            assert_eq!(version_line(&installed), want);
            assert_eq!(listing(&dir), ["greenlight"]);
            assert_eq!(
                server.requests()[before..],
                ["/SHA256SUMS".to_owned(), archive.clone()],
                "{shell}"
            );
        }
    }
}

#[test]
fn install_sh_is_posix_sh() {
    for shell in ["sh", "dash", "posh", "bash"] {
        let out = Command::new(shell)
            .arg("-n")
            .arg(install_sh())
            .output()
            .unwrap_or_else(|e| panic!("{shell}: {e} (apt-get install {shell})"));
        assert!(
            out.status.success(),
            "{shell} -n install.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = fs::read_to_string(install_sh()).unwrap();
    assert!(text.starts_with("#!/bin/sh\n"));
    for bashism in [
        "[[",
        "local ",
        "function ",
        "$'",
        "<(",
        "source ",
        "pipefail",
    ] {
        assert!(!text.contains(bashism), "install.sh uses {bashism:?}");
    }
}

#[test]
fn install_sh_works_with_busybox_alone() {
    // An Alpine-like machine: busybox's sh, wget, tar, sha256sum, and nothing else.
    let tmp = tempfile::tempdir().unwrap();
    let tools = tmp.path().join("busybox");
    fs::create_dir_all(&tools).unwrap();
    let busybox = Path::new("/usr/bin/busybox");
    assert!(busybox.exists(), "apt-get install busybox");
    for applet in [
        "sh",
        "wget",
        "tar",
        "gzip",
        "sha256sum",
        "awk",
        "sed",
        "cut",
        "tr",
        "mktemp",
        "rm",
        "mkdir",
        "cp",
        "mv",
        "chmod",
        "cat",
        "uname",
    ] {
        std::os::unix::fs::symlink(busybox, tools.join(applet)).unwrap();
    }
    let server = FileServer::serve(release());
    let dir = tmp.path().join("bin");
    let home = tmp.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let out = Command::new(tools.join("sh"))
        .arg(install_sh())
        .args(["--base-url", &server.url(), "--dir", dir.to_str().unwrap()])
        .env_clear()
        .env("PATH", &tools)
        .env("HOME", &home)
        .output()
        .unwrap();
    let run = Run::from(out).ok();
    assert!(run.stdout.contains(" installed as "), "{}", run.stdout);
    assert_eq!(version_line(&dir.join("greenlight")), version_line(&bin()));
}

#[test]
fn install_sh_refuses_a_tampered_archive_and_installs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = archive_name(&host_target());
    let server = FileServer::serve(&tampered_release(tmp.path()));
    // An earlier install stays as it was.
    let bin_dir = tmp.path().join("bin");
    fs::create_dir_all(&bin_dir).unwrap();
    fs::write(bin_dir.join("greenlight"), "the previous greenlight").unwrap();

    let run = install_into(tmp.path(), None, &server.url(), &bin_dir).code(1);
    assert!(
        run.stderr
            .contains(&format!("error: checksum mismatch for {archive}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("nothing was installed"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    assert_eq!(listing(&bin_dir), ["greenlight"]);
    assert_eq!(
        fs::read_to_string(bin_dir.join("greenlight")).unwrap(),
        "the previous greenlight"
    );
}

#[test]
fn install_sh_refuses_an_unknown_platform_before_downloading() {
    let server = FileServer::serve(release());
    for (os, cpu, message) in [
        (
            "FreeBSD",
            "amd64",
            "no greenlight release for the OS 'FreeBSD'",
        ),
        (
            "MINGW64_NT-10.0",
            "x86_64",
            "no greenlight release for the OS 'MINGW64_NT-10.0'",
        ),
        (
            "Linux",
            "riscv64",
            "no greenlight release for the CPU 'riscv64'",
        ),
        (
            "Linux",
            "armv7l",
            "no greenlight release for the CPU 'armv7l'",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let shim = uname_shim(tmp.path(), os, cpu);
        let dir = tmp.path().join("bin");
        let run = install_into(tmp.path(), Some(&shim), &server.url(), &dir).code(1);
        assert!(run.stderr.contains(message), "{os} {cpu}: {}", run.stderr);
        assert!(
            run.stderr.contains("hint: build from source"),
            "{}",
            run.stderr
        );
        assert!(!dir.exists());
    }
    assert_eq!(server.requests(), Vec::<String>::new());
}

#[test]
fn install_sh_refuses_a_release_without_this_platform() {
    // A release that has only the Linux x86_64 archive, asked for from macOS on arm64.
    let tmp = tempfile::tempdir().unwrap();
    let linux = archive_name("x86_64-unknown-linux-gnu");
    let dir = release_with(tmp.path(), &[&linux]);
    sh("build/package.sh", &["sums", dir.to_str().unwrap()]);
    let server = FileServer::serve(&dir);
    let shim = uname_shim(tmp.path(), "Darwin", "arm64");
    let bin_dir = tmp.path().join("bin");
    for pinned in [false, true] {
        let url = server.url();
        let mut args = vec!["--base-url", &url, "--dir", bin_dir.to_str().unwrap()];
        if pinned {
            args.extend(["--version", VERSION]);
        }
        let run = install("dash", tmp.path(), Some(&shim), &args).code(1);
        let message = if pinned {
            format!(
                "{} is not in {}/SHA256SUMS: no release of greenlight {VERSION} for aarch64-apple-darwin",
                archive_name("aarch64-apple-darwin"),
                server.url()
            )
        } else {
            format!(
                "the release at {} has no archive for aarch64-apple-darwin",
                server.url()
            )
        };
        assert!(run.stderr.contains(&message), "{}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("hint: the release has: {linux}\n")),
            "{}",
            run.stderr
        );
        assert!(!bin_dir.exists());
    }
    assert_eq!(server.requests(), ["/SHA256SUMS", "/SHA256SUMS"]);
}

#[test]
fn install_sh_reports_a_failed_download_and_installs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    // SHA256SUMS lists the archive, but the archive is missing (404).
    let dir = release_with(tmp.path(), &["SHA256SUMS"]);
    let server = FileServer::serve(&dir);
    let bin_dir = tmp.path().join("bin");
    let archive = archive_name(&host_target());
    let run = install_into(tmp.path(), None, &server.url(), &bin_dir).code(1);
    assert!(
        run.stderr.contains(&format!(
            "error: could not download {}/{archive}",
            server.url()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("404"), "curl says why: {}", run.stderr);

    // No release at all there: SHA256SUMS itself is missing.
    let run = install_into(
        tmp.path(),
        None,
        &format!("{}/v9.9.9", server.url()),
        &bin_dir,
    )
    .code(1);
    assert!(
        run.stderr.contains(&format!(
            "error: could not download {}/v9.9.9/SHA256SUMS",
            server.url()
        )),
        "{}",
        run.stderr
    );
    assert!(!bin_dir.exists());
    assert_eq!(
        server.requests(),
        [
            "/SHA256SUMS".to_owned(),
            format!("/{archive}"),
            "/v9.9.9/SHA256SUMS".to_owned()
        ]
    );
}

#[test]
fn install_sh_resolves_versions_and_rejects_bad_arguments() {
    let server = FileServer::serve(release());
    let tmp = tempfile::tempdir().unwrap();
    let url = server.url();
    let equals = format!("--version=v{VERSION}");
    for args in [
        vec!["--base-url", &url, "--resolve"],
        vec!["--resolve", "--version", VERSION],
        vec!["--resolve", &equals],
    ] {
        let run = install("dash", tmp.path(), None, &args).ok();
        assert_eq!(run.stdout, format!("{VERSION}\n"), "{args:?}");
    }
    // Only `latest` needed the network.
    assert_eq!(server.requests(), ["/SHA256SUMS"]);

    for (args, message) in [
        (vec!["--frobnicate"], "unknown argument: --frobnicate"),
        (vec!["--version"], "--version needs a value"),
        (
            vec!["--version", "1.0/../../x"],
            "expected a version like 0.1.0",
        ),
    ] {
        let run = install("dash", tmp.path(), None, &args).code(2);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("usage: install.sh"), "{}", run.stderr);
    }
}

/// `{ name }`-style templates of `cargo binstall`.
fn binstall_expand(template: &str, target: &str) -> String {
    template
        .replace("{ repo }", REPO)
        .replace("{ name }", "greenlight")
        .replace("{ version }", VERSION)
        .replace("{ target }", target)
        .replace("{ bin }", "greenlight")
        .replace("{ binary-ext }", "")
}

fn binstall_metadata() -> serde_json::Value {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success());
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    meta["packages"][0]["metadata"]["binstall"].clone()
}

#[test]
fn the_workflow_install_sh_the_action_and_binstall_agree_on_archive_names() {
    // The workflow: built on v* tags, for these targets, packaged by build/package.sh.
    let wf = yaml(".github/workflows/release.yml");
    assert_eq!(wf["on"]["push"]["tags"][0], "v*");
    let targets = workflow_targets();
    let text = fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    for line in [
        "version=\"${GITHUB_REF_NAME#v}\"",
        "run: build/package.sh archive \"$VERSION\" \"${{ matrix.target }}\" \"$BIN\" dist",
        "run: build/package.sh sums dist",
        "dist/*.tar.gz dist/SHA256SUMS dist/install.sh",
    ] {
        assert!(text.contains(line), "release.yml no longer has: {line}");
    }

    // install.sh picks each of them, by uname, and nothing else.
    let server = FileServer::serve(release());
    let mut picked = BTreeSet::new();
    for (os, cpu) in [
        ("Linux", "x86_64"),
        ("Linux", "amd64"),
        ("Linux", "aarch64"),
        ("Linux", "arm64"),
        ("Darwin", "x86_64"),
        ("Darwin", "arm64"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let shim = uname_shim(tmp.path(), os, cpu);
        let dir = tmp.path().join("bin");
        install_into(tmp.path(), Some(&shim), &server.url(), &dir).ok();
        let last = server.requests().pop().unwrap();
        let name = last.trim_start_matches('/');
        let target = name
            .strip_prefix(&format!("greenlight-{VERSION}-"))
            .and_then(|t| t.strip_suffix(".tar.gz"))
            .unwrap_or_else(|| panic!("{os} {cpu}: install.sh fetched {last}"));
        picked.insert(target.to_owned());
    }
    assert_eq!(picked, targets.iter().cloned().collect::<BTreeSet<_>>());
    let script = fs::read_to_string(install_sh()).unwrap();
    assert!(
        script.contains(&format!("releases={REPO}/releases\n")),
        "install.sh downloads from the repository of Cargo.toml"
    );

    // The Action installs with install.sh.
    let action = fs::read_to_string(root().join("action.yml")).unwrap();
    assert!(action.contains("sh \"$GITHUB_ACTION_PATH/install.sh\" --version \"$VERSION\""));

    // cargo binstall: the same URLs, and the binary where the archive has it; musl machines
    // get the static gnu build.
    let binstall = binstall_metadata();
    assert_eq!(binstall["pkg-fmt"], "tgz");
    let (url, bin_dir) = (
        binstall["pkg-url"].as_str().expect("binstall pkg-url"),
        binstall["bin-dir"].as_str().expect("binstall bin-dir"),
    );
    for target in &targets {
        assert_eq!(
            binstall_expand(url, target),
            format!(
                "{REPO}/releases/download/v{VERSION}/{}",
                archive_name(target)
            )
        );
        let listing = Command::new("tar")
            .arg("-tzf")
            .arg(release().join(archive_name(target)))
            .output()
            .unwrap();
        let listing = String::from_utf8(listing.stdout).unwrap();
        assert!(
            listing
                .lines()
                .any(|l| l == binstall_expand(bin_dir, target)),
            "{target}: {} not in\n{listing}",
            binstall_expand(bin_dir, target)
        );
    }
    let overrides = binstall["overrides"]
        .as_object()
        .expect("binstall overrides");
    assert_eq!(
        overrides.keys().collect::<Vec<_>>(),
        ["aarch64-unknown-linux-musl", "x86_64-unknown-linux-musl"]
    );
    for (musl, o) in overrides {
        let gnu = musl.replace("-musl", "-gnu");
        assert!(targets.contains(&gnu));
        assert_eq!(
            binstall_expand(o["pkg-url"].as_str().unwrap(), musl),
            format!("{REPO}/releases/download/v{VERSION}/{}", archive_name(&gnu))
        );
        assert_eq!(
            binstall_expand(o["bin-dir"].as_str().unwrap(), musl),
            binstall_expand(bin_dir, &gnu)
        );
    }
}

/// The outcome of running action.yml's steps.
struct ActionRun {
    /// The step that failed and its output, if one did.
    failed: Option<(String, Run)>,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// The lines the steps appended to $GITHUB_PATH.
    path: Vec<String>,
    /// The steps that ran, by name or id.
    ran: Vec<String>,
}

/// Runs the composite steps of action.yml the way a GitHub runner does (bash, `-eo pipefail`,
/// GITHUB_OUTPUT / GITHUB_PATH files, the step's `if:` and `env:`), with install.sh pointed at
/// `base_url` (GREENLIGHT_BASE_URL) and `actions/cache` answering `cache_hit`. Expressions
/// this runner does not know fail the test, so the Action cannot outgrow it unnoticed.
fn run_action(
    inputs: &[(&str, &str)],
    base_url: &str,
    work: &Path,
    tool_cache: &Path,
    cache_hit: bool,
) -> ActionRun {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let mut input: BTreeMap<String, String> = BTreeMap::new();
    for (name, spec) in action["inputs"].as_object().unwrap() {
        let default = spec["default"].as_str().unwrap_or_default();
        input.insert(name.clone(), default.to_owned());
    }
    for (k, v) in inputs {
        assert!(input.contains_key(*k), "action.yml has no input {k}");
        input.insert((*k).to_owned(), (*v).to_owned());
    }
    let mut run = ActionRun {
        failed: None,
        outputs: BTreeMap::new(),
        path: Vec::new(),
        ran: Vec::new(),
    };
    let lookup = |expr: &str, outputs: &BTreeMap<String, BTreeMap<String, String>>| -> String {
        let expr = expr.trim();
        let parts: Vec<&str> = expr.split('.').collect();
        match parts.as_slice() {
            ["inputs", name] => input[*name].clone(),
            ["steps", id, "outputs", name] => outputs
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            ["runner", "tool_cache"] => tool_cache.display().to_string(),
            ["runner", "os"] => "Linux".to_owned(),
            ["runner", "arch"] => "X64".to_owned(),
            _ => panic!("the test's action runner does not know ${{{{ {expr} }}}}"),
        }
    };
    let expand = |text: &str, outputs: &BTreeMap<String, BTreeMap<String, String>>| -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            let end = rest[start..].find("}}").expect("closed ${{") + start;
            out.push_str(&rest[..start]);
            out.push_str(&lookup(&rest[start + 3..end], outputs));
            rest = &rest[end + 2..];
        }
        out + rest
    };
    fs::create_dir_all(work).unwrap();
    let github_path = work.join("github_path");
    fs::write(&github_path, "").unwrap();
    let runner_temp = work.join("runner_temp");
    let home = work.join("home");
    let workspace = work.join("workspace");
    for d in [&runner_temp, &home, &workspace] {
        fs::create_dir_all(d).unwrap();
    }
    for (i, step) in action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let id = step["id"].as_str().map(str::to_owned);
        let label = id.clone().unwrap_or_else(|| format!("step {i}"));
        if let Some(cond) = step["if"].as_str() {
            let (lhs, op, rhs) = if let Some((l, r)) = cond.split_once("!=") {
                (l, "!=", r)
            } else if let Some((l, r)) = cond.split_once("==") {
                (l, "==", r)
            } else {
                panic!("the test's action runner does not know if: {cond}")
            };
            let rhs = rhs.trim();
            assert!(rhs.starts_with('\'') && rhs.ends_with('\''), "if: {cond}");
            let equal = lookup(lhs, &run.outputs) == rhs[1..rhs.len() - 1];
            if equal != (op == "==") {
                continue;
            }
        }
        if let Some(uses) = step["uses"].as_str() {
            assert!(
                uses.starts_with("actions/cache@"),
                "unexpected uses: {uses}"
            );
            let path = expand(step["with"]["path"].as_str().unwrap(), &run.outputs);
            let key = expand(step["with"]["key"].as_str().unwrap(), &run.outputs);
            let version = &run.outputs["resolve"]["version"];
            assert!(
                path.starts_with(&tool_cache.display().to_string()),
                "{path}"
            );
            assert!(key.contains(&format!("-{version}-")), "cache key {key}");
            let mut o = BTreeMap::new();
            o.insert("cache-hit".to_owned(), cache_hit.to_string());
            run.outputs.insert(id.expect("the cache step has an id"), o);
            run.ran.push(label);
            continue;
        }
        assert_eq!(step["shell"], "bash", "{label}");
        let script = work.join(format!("step-{i}.sh"));
        fs::write(&script, step["run"].as_str().expect("a run step")).unwrap();
        let output_file = work.join(format!("output-{i}"));
        fs::write(&output_file, "").unwrap();
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(&workspace)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &home)
            .env("GITHUB_ACTION_PATH", root())
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_PATH", &github_path)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TEMP", &runner_temp)
            .env("GREENLIGHT_BASE_URL", base_url)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1");
        if let Some(env) = step["env"].as_object() {
            for (k, v) in env {
                cmd.env(k, expand(v.as_str().unwrap(), &run.outputs));
            }
        }
        let result = Run::from(cmd.output().unwrap());
        run.ran.push(label.clone());
        if result.code != 0 {
            run.failed = Some((label, result));
            break;
        }
        if let Some(id) = id {
            let text = fs::read_to_string(&output_file).unwrap();
            let o = text
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            run.outputs.insert(id, o);
        }
    }
    run.path = fs::read_to_string(&github_path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    run
}

#[test]
fn the_action_installs_caches_per_version_and_runs_greenlight() {
    let server = FileServer::serve(release());
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("tool cache");

    // A first run: the latest release, not cached yet, then greenlight with quoted arguments
    // (never expanded by a shell).
    let work = tmp.path().join("run1");
    let run = run_action(
        &[("args", "demo 'a demo/$HOME'")],
        &server.url(),
        &work,
        &cache,
        false,
    );
    if let Some((step, r)) = &run.failed {
        panic!("{step} failed:\n{}\n{}", r.stdout, r.stderr);
    }
    assert_eq!(run.outputs["resolve"]["version"], VERSION);
    let dir = PathBuf::from(&run.outputs["resolve"]["dir"]);
    assert!(dir.starts_with(&cache), "{}", dir.display());
    assert!(dir.to_str().unwrap().contains(&format!("/{VERSION}/")));
    assert_eq!(run.path, [dir.display().to_string()]);
    assert_eq!(version_line(&dir.join("greenlight")), version_line(&bin()));
    assert_eq!(run.ran.len(), 5, "{:?}", run.ran);
    let demo = work.join("workspace/a demo/$HOME");
    assert!(
        demo.join(".git").is_dir(),
        "greenlight demo ran in {}",
        demo.display()
    );

    // A second run of that version restores it from the cache: no download.
    let before = server.requests().len();
    let run = run_action(
        &[("version", &format!("v{VERSION}"))],
        &server.url(),
        &tmp.path().join("run2"),
        &cache,
        true,
    );
    assert!(run.failed.is_none());
    assert_eq!(run.ran, ["resolve", "cache", "step 3"]);
    assert_eq!(run.path, [dir.display().to_string()]);
    assert_eq!(
        server.requests().len(),
        before,
        "a pinned cached version needs no network"
    );
}

#[test]
fn the_action_fails_on_a_tampered_archive_and_puts_nothing_on_path() {
    let tmp = tempfile::tempdir().unwrap();
    let server = FileServer::serve(&tampered_release(tmp.path()));
    let cache = tmp.path().join("cache");
    let run = run_action(
        &[("version", VERSION), ("args", "verify")],
        &server.url(),
        &tmp.path().join("work"),
        &cache,
        false,
    );
    let (step, r) = run.failed.expect("the install step fails");
    assert_eq!(step, "step 2");
    assert!(r.stderr.contains("checksum mismatch"), "{}", r.stderr);
    assert!(run.path.is_empty());
    let dir = PathBuf::from(&run.outputs["resolve"]["dir"]);
    assert!(listing(&dir).is_empty());

    // An unmatched quote in args fails before greenlight runs.
    let server = FileServer::serve(release());
    let run = run_action(
        &[("args", "demo 'unclosed")],
        &server.url(),
        &tmp.path().join("work2"),
        &cache,
        false,
    );
    let (step, r) = run.failed.expect("the args step fails");
    assert_eq!(step, "step 4");
    assert!(r.stderr.contains("unmatched single quote"), "{}", r.stderr);
    assert!(listing(&tmp.path().join("work2/workspace")).is_empty());
}

#[test]
fn readme_ci_recipes_install_a_pinned_release_not_cargo_install() {
    // Pinned to this version: a release bump updates the recipes with it.
    let readme = include_str!("../../README.md");
    let section = readme
        .split("### A CI bot: stage → pull request → merge → promote")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has the CI bot recipes");
    assert!(!section.contains("cargo install"), "{section}");
    let slug = REPO.trim_start_matches("https://github.com/");
    // GitHub Actions: the example workflow that CI validates, word for word.
    let example = fs::read_to_string(root().join("examples/github-actions/release.yml")).unwrap();
    assert!(
        section.contains(&format!("```yaml\n{example}```\n")),
        "README's GitHub Actions recipe is examples/github-actions/release.yml"
    );
    let uses = format!("uses: {slug}@v{VERSION}");
    let with = format!("with: {{ version: \"{VERSION}\" }}");
    assert_eq!(example.matches(&uses).count(), 2, "{example}");
    assert_eq!(example.matches(&with).count(), 2, "{example}");
    // GitLab CI: install.sh of the pinned release.
    assert!(section.contains(&format!(
        "curl -fsSL {REPO}/releases/download/v{VERSION}/install.sh | sh -s -- --version {VERSION}"
    )));
}
