//! Installable as users expect: the package metadata `cargo install` and crates.io show, and
//! `greenlight --version` naming the commit the binary was built from.

use std::process::Command;

use serde_json::Value;

#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = Command::new(assert_cmd::cargo::cargo_bin("greenlight"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let version = String::from_utf8(out.stdout).unwrap();
    assert!(
        version.starts_with(&format!(
            "greenlight {} (commit ",
            env!("CARGO_PKG_VERSION")
        )),
        "{version}"
    );
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    if head.status.success() {
        let head = String::from_utf8(head.stdout).unwrap();
        assert!(version.contains(head.trim()), "{version} vs HEAD {head}");
    } else {
        assert!(version.contains("(commit unknown)"), "{version}");
    }
}

#[test]
fn the_package_carries_the_metadata_cargo_install_shows() {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let package = &meta["packages"][0];
    assert_eq!(package["name"], "greenlight");
    for field in [
        "description",
        "license",
        "repository",
        "rust_version",
        "readme",
    ] {
        assert!(
            package[field].as_str().is_some_and(|v| !v.is_empty()),
            "Cargo.toml needs {field}"
        );
    }
    for field in ["keywords", "categories"] {
        assert!(
            package[field].as_array().is_some_and(|v| !v.is_empty()),
            "Cargo.toml needs {field}"
        );
    }
    let bins: Vec<&str> = package["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"][0] == "bin")
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(bins, ["greenlight"]);
}
