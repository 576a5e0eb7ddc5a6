//! The values file's JSON Schema, generated from the model types: checked against the real
//! files with Python's reference `jsonschema` (every file greenlight accepts is valid; the
//! invalid fixtures the schema can express are rejected by both), kept committed for editors,
//! and written by `greenlight init` with a modeline in each values file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::sandbox::bin;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn schema_text() -> String {
    let out = Command::new(bin()).arg("schema").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// Validation errors per file, from Python's jsonschema.
fn python_validate(schema: &Path, files: &[PathBuf]) -> BTreeMap<String, Vec<String>> {
    let out = Command::new("python3")
        .arg(root().join("tests/support/check_schema.py"))
        .arg(schema)
        .args(files)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "check_schema.py: {} (pip install -r .ci/requirements.txt)",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn values_files(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.file_name().is_some_and(|n| n == "values.yaml"))
        .collect()
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let path = root().join("schema/values.schema.json");
    let generated = schema_text();
    if std::env::var_os("GREENLIGHT_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/values.schema.json is stale: regenerate with `greenlight schema > \
         schema/values.schema.json` (or GREENLIGHT_BLESS=1 cargo test)"
    );
}

#[test]
fn every_values_file_greenlight_accepts_is_valid_for_the_schema() {
    let mut files = values_files(&root().join("environments"));
    files.extend(values_files(&root().join("fixtures/render")));
    if let Ok(dir) = std::fs::read_dir(root().join("fixtures/values/valid")) {
        files.extend(
            dir.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml")),
        );
    }
    assert!(files.len() > 20, "found only {} files", files.len());
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        greenlight::values::parse(&file.display().to_string(), &text)
            .unwrap_or_else(|e| panic!("greenlight rejects {}: {e}", file.display()));
    }
    let results = python_validate(&root().join("schema/values.schema.json"), &files);
    let failures: Vec<_> = results.iter().filter(|(_, e)| !e.is_empty()).collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Invalid fixtures whose mistake a schema can express: unknown keys, wrong types, bad enum
/// values, missing keys, out-of-range numbers.
const SCHEMA_EXPRESSIBLE: &[&str] = &[
    "boolean-tag",
    "live-color-typo",
    "misplaced-key",
    "missing-required-key",
    "negative-replicas",
    "numeric-tag",
    "port-negative",
    "port-too-large",
    "port-zero",
    "unknown-key-color-block",
    "unknown-key-env-from",
    "unknown-key-env-reference",
    "unknown-key-flow-block",
    "unknown-key-probe",
    "unknown-key-top-level",
    "unknown-keys-everywhere",
    "wrong-type-color-block",
    "wrong-type-env-list",
    "wrong-type-quoted-port",
    "wrong-type-replicas",
];

#[test]
fn invalid_fixtures_the_schema_can_express_are_rejected_by_both() {
    let dir = root().join("fixtures/values/invalid");
    let files: Vec<PathBuf> = SCHEMA_EXPRESSIBLE
        .iter()
        .map(|case| dir.join(format!("{case}.yaml")))
        .collect();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(
            greenlight::values::parse("values.yaml", &text).is_err(),
            "greenlight accepts {}",
            file.display()
        );
    }
    let results = python_validate(&root().join("schema/values.schema.json"), &files);
    let accepted: Vec<_> = results.iter().filter(|(_, e)| e.is_empty()).collect();
    assert!(accepted.is_empty(), "the schema accepts {accepted:#?}");
}

#[test]
fn init_writes_the_schema_and_points_values_at_it() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("gitops");
    let run = |args: &[&str]| {
        let out = Command::new(bin())
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Bot")
            .env("GIT_AUTHOR_EMAIL", "bot@example.com")
            .env("GIT_COMMITTER_NAME", "Bot")
            .env("GIT_COMMITTER_EMAIL", "bot@example.com")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let repo_s = repo.to_str().unwrap();
    run(&[
        "init",
        repo_s,
        "--app",
        "api",
        "--env",
        "prod/eu/api",
        "--tag",
        "1.0.0",
    ]);
    let schema = std::fs::read_to_string(repo.join("schema/values.schema.json")).unwrap();
    assert_eq!(schema, schema_text());
    let values_path = repo.join("environments/prod/eu/api/values.yaml");
    let values = std::fs::read_to_string(&values_path).unwrap();
    let first = values.lines().next().unwrap();
    let target = first
        .strip_prefix("# yaml-language-server: $schema=")
        .unwrap_or_else(|| panic!("no modeline: {first}"));
    let resolved = values_path.parent().unwrap().join(target);
    assert_eq!(
        std::fs::canonicalize(resolved).unwrap(),
        std::fs::canonicalize(repo.join("schema/values.schema.json")).unwrap()
    );
    // Release commands keep the modeline (they edit only the changed scalars).
    run(&["stage", "prod/eu/api", "--tag", "1.1.0", "--repo", repo_s]);
    let after = std::fs::read_to_string(&values_path).unwrap();
    assert_eq!(after.lines().next(), Some(first));
    let results = python_validate(&repo.join("schema/values.schema.json"), &[values_path]);
    assert!(results.values().all(Vec::is_empty), "{results:?}");
}
