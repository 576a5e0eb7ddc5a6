//! Records the git commit greenlight is built from, for `greenlight --version`
//! ("unknown" outside a git checkout, e.g. from a source tarball).

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .map(|s| !s.is_empty())
        .unwrap_or(false);
    let suffix = if dirty { "-dirty" } else { "" };
    println!("cargo:rustc-env=GREENLIGHT_COMMIT={commit}{suffix}");
    // Rebuild when HEAD moves: HEAD itself, the branch it names, and packed refs.
    if let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        let git_dir = Path::new(&git_dir);
        println!("cargo:rerun-if-changed={}", git_dir.join("HEAD").display());
        if let Some(common) = git(&["rev-parse", "--path-format=absolute", "--git-common-dir"]) {
            println!("cargo:rerun-if-changed={}/packed-refs", common);
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                println!("cargo:rerun-if-changed={common}/{branch}");
            }
        }
        println!("cargo:rerun-if-changed={}", git_dir.join("index").display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}
