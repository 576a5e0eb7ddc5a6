//! Golden tests of rendering: each `fixtures/render/<case>/values.yaml` is parsed with
//! `greenlight::values::parse`, rendered with the built-in templates, and compared as a
//! directory with `fixtures/render/<case>/expected/` (files only in the actual output, files
//! only in expected, and a unified diff of every file that differs).
//!
//! To accept new output after an intended change, regenerate the expected directories
//! (stale files are deleted) and review the result with `git diff`:
//!
//! ```sh
//! GREENLIGHT_BLESS=1 cargo test --test it golden::
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use greenlight::render::FileMap;
use similar::TextDiff;

fn blessing() -> bool {
    std::env::var_os("GREENLIGHT_BLESS").is_some_and(|v| v == "1")
}

/// Every file under `dir`, by path relative to it.
fn read_dir_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    if !dir.exists() {
        return BTreeMap::new();
    }
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap_or_else(|e| panic!("walk {}: {e}", dir.display())))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).expect("under dir");
            let bytes = fs::read(e.path()).expect("readable expected file");
            (rel.to_string_lossy().replace('\\', "/"), bytes)
        })
        .collect()
}

/// The differences between `expected` and `actual`, as a report; empty when equal.
fn compare(case: &str, expected: &BTreeMap<String, Vec<u8>>, actual: &FileMap) -> String {
    let mut report = String::new();
    for name in actual.keys().filter(|n| !expected.contains_key(*n)) {
        report.push_str(&format!("{case}: only in actual output: {name}\n"));
    }
    for name in expected.keys().filter(|n| !actual.contains_key(*n)) {
        report.push_str(&format!("{case}: only in expected/: {name}\n"));
    }
    for (name, want) in expected {
        let Some(got) = actual.get(name) else {
            continue;
        };
        if want != got {
            let want = String::from_utf8_lossy(want);
            let got = String::from_utf8_lossy(got);
            let diff = TextDiff::from_lines(want.as_ref(), got.as_ref())
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("{case}/expected/{name}"),
                    &format!("{case}/actual/{name}"),
                )
                .to_string();
            report.push_str(&format!("{case}: {name} differs:\n{diff}\n"));
        }
    }
    report
}

#[test]
fn rendered_output_matches_expected_directories() {
    let dirs = crate::common::case_dirs();
    let names: Vec<String> = dirs.iter().map(|d| crate::common::case_name(d)).collect();
    for required in crate::common::REQUIRED_CASES {
        assert!(
            names.iter().any(|n| n == required),
            "fixtures/render/{required}/ is missing (found {names:?})"
        );
    }

    let mut failures = Vec::new();
    for dir in &dirs {
        let case = crate::common::case_name(dir);
        if !dir.join("values.yaml").is_file() {
            failures.push(format!(
                "{case}: fixtures/render/{case}/values.yaml is missing"
            ));
            continue;
        }
        let actual = match crate::common::render_case(dir) {
            Ok(files) => files,
            Err(e) => {
                failures.push(format!("{case}: render failed: {e}"));
                continue;
            }
        };
        let expected_dir = dir.join("expected");
        if blessing() {
            if expected_dir.exists() {
                fs::remove_dir_all(&expected_dir)
                    .unwrap_or_else(|e| panic!("remove {}: {e}", expected_dir.display()));
            }
            crate::common::write_files(&expected_dir, &actual);
            continue;
        }
        let report = compare(&case, &read_dir_files(&expected_dir), &actual);
        if !report.is_empty() {
            failures.push(report);
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nIf the new output is intended, run `GREENLIGHT_BLESS=1 cargo test --test it golden::` \
         and review `git diff fixtures/`.",
        failures.join("\n")
    );
}

#[test]
fn compare_reports_every_kind_of_difference() {
    let expected = BTreeMap::from([
        ("same.yaml".to_owned(), b"a: 1\n".to_vec()),
        ("changed.yaml".to_owned(), b"a: 1\nb: 2\n".to_vec()),
        ("stale.yaml".to_owned(), b"x\n".to_vec()),
    ]);
    let actual = FileMap::from([
        ("same.yaml".to_owned(), b"a: 1\n".to_vec()),
        ("changed.yaml".to_owned(), b"a: 1\nb: 3\n".to_vec()),
        ("new.yaml".to_owned(), b"y\n".to_vec()),
    ]);
    let report = compare("case", &expected, &actual);
    assert!(
        report.contains("only in actual output: new.yaml"),
        "{report}"
    );
    assert!(report.contains("only in expected/: stale.yaml"), "{report}");
    assert!(report.contains("changed.yaml differs"), "{report}");
    assert!(report.contains("-b: 2\n+b: 3\n"), "{report}");
    assert!(!report.contains("same.yaml"), "{report}");
    assert_eq!(compare("case", &expected, &expected.clone()), "");
}

#[test]
fn hostile_strings_come_back_exactly_from_every_rendered_file() {
    let dir = crate::common::fixtures_dir().join("hostile-strings");
    let text = fs::read_to_string(dir.join("values.yaml")).expect("hostile values");
    let values = greenlight::values::parse("hostile-strings/values.yaml", &text)
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        values.annotations.values().any(|v| v == "x\nkind: Secret"),
        "the fixture carries the acceptance case"
    );
    let files = crate::common::render_case(&dir).expect("hostile strings render");
    for (name, bytes) in &files {
        let docs = greenlight::yaml::parse_documents(std::str::from_utf8(bytes).expect("utf-8"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(docs.len(), 1, "{name}: exactly one document");
        if name == "kustomization.yaml" {
            continue;
        }
        let annotations: BTreeMap<String, String> =
            serde_json::from_value(docs[0]["metadata"]["annotations"].clone())
                .unwrap_or_else(|e| panic!("{name}: annotations: {e}"));
        let mut want = values.annotations.clone();
        if name.ends_with(".ingress.yaml") {
            let ingress = values.ingress.as_ref().expect("fixture has an ingress");
            want.extend(ingress.annotations.clone());
        }
        assert_eq!(annotations, want, "{name}: annotations survive exactly");
        if name.ends_with(".deployment.yaml") {
            let env = &docs[0]["spec"]["template"]["spec"]["containers"][0]["env"];
            let env: BTreeMap<String, String> = env
                .as_array()
                .expect("env list")
                .iter()
                .map(|e| {
                    let field = |k: &str| e[k].as_str().expect("string").to_owned();
                    (field("name"), field("value"))
                })
                .collect();
            let want: BTreeMap<String, String> = values
                .env
                .iter()
                .map(|(k, v)| match v {
                    greenlight::values::EnvValue::Literal(l) => (k.clone(), l.0.clone()),
                    other => panic!("fixture env {k} is not a literal: {other:?}"),
                })
                .collect();
            assert_eq!(env, want, "{name}: env values survive exactly");
        }
    }
}
