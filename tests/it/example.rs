//! The project's own top-level `environments/`, `templates/` and `rendered/` are a working
//! example repository: its committed `rendered/` must be exactly what its values render with
//! its templates, and every rendered folder must build with `kubectl kustomize`.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn example_repository_is_rendered_exactly() {
    // A plain copy (no git), so the check reads the files as they are in this checkout.
    let tmp = tempfile::tempdir().unwrap();
    for dir in ["environments", "templates", "rendered"] {
        copy_dir(&root().join(dir), &tmp.path().join(dir));
    }
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("greenlight"))
        .args(["verify", "--repo"])
        .arg(tmp.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rendered/ is stale: run `cargo run -- render --all --repo .`\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("matches the values of 2 environments"),
        "{stdout}"
    );
}

#[test]
fn example_environments_build_with_kustomize() {
    let kubectl = match which("kubectl") {
        Some(k) => k,
        None if std::env::var_os("CI").is_some() => {
            panic!("kubectl is required in CI (it ships on the image at /usr/bin/kubectl)")
        }
        None => {
            eprintln!("skipped: kubectl not found on PATH");
            return;
        }
    };
    for env in ["staging", "production/eu-west/api"] {
        let dir = root().join("rendered").join(env);
        let out = std::process::Command::new(&kubectl)
            .arg("kustomize")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubectl kustomize {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let built = String::from_utf8(out.stdout).unwrap();
        assert!(built.contains("kind: Deployment") && built.contains("kind: Service"));
    }
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}
