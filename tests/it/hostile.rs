//! The adversarial corpus: one folder per hostile input under `fixtures/hostile/<case>/`, run
//! through the real binary on a real repository. Every case must exit 2 with the message in
//! its `expected.txt` (the whole stderr, with the temporary paths replaced by `<repo>` and
//! `<outside>`) and leave the repository byte for byte as it was (files, links, and `.git`).
//!
//! A case folder holds any of:
//! - `values.yaml`: the bytes of `environments/production/values.yaml` (written as they are);
//! - `templates/…`: template overrides copied into the repository;
//! - `setup`: lines `generate <kind>` (inputs too big to keep as files), `symlink <path> ->
//!   <target>` (`OUTSIDE` is a folder outside the repository holding a valid `values.yaml`),
//!   and `commit` (commit everything first, for commands that read the branch);
//! - `args.json`: the command line (default `["render", "production"]`).
//!
//! Regenerate the expected messages with `GREENLIGHT_BLESS=1 cargo test --test it hostile::` and
//! review the diff.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::sandbox::Sandbox;

const VALUES: &str = crate::common::sandbox::VALUES;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile")
}

/// Every file and link under `root` (`.git` included): path → content or link target.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| !e.file_type().is_dir())
        .map(|e| {
            let content = if e.path_is_symlink() {
                std::fs::read_link(e.path())
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else {
                std::fs::read(e.path()).unwrap()
            };
            (e.path().strip_prefix(root).unwrap().to_owned(), content)
        })
        .collect()
}

fn generate(kind: &str) -> (String, Vec<u8>) {
    match kind {
        "large-values" => {
            let mut text = VALUES.to_owned();
            while text.len() <= 2 << 20 {
                text.push_str("# padding that makes this file far larger than any real one\n");
            }
            (
                "environments/production/values.yaml".into(),
                text.into_bytes(),
            )
        }
        "large-template" => {
            let mut text = String::from("apiVersion: v1\nkind: Service\n");
            while text.len() <= 2 << 20 {
                text.push_str("{# padding #}\n");
            }
            ("templates/service.yaml.tera".into(), text.into_bytes())
        }
        "deep-flow" => {
            let depth = 100_000;
            let text = format!("app: {}{}\n", "[".repeat(depth), "]".repeat(depth));
            (
                "environments/production/values.yaml".into(),
                text.into_bytes(),
            )
        }
        "deep-block" => {
            let mut text = String::from("app:\n");
            for i in 1..1_200 {
                text.push_str(&" ".repeat(i));
                text.push_str("- \n");
            }
            (
                "environments/production/values.yaml".into(),
                text.into_bytes(),
            )
        }
        other => panic!("unknown generator {other}"),
    }
}

fn symlink(target: &Path, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    if link.is_dir() && !link.is_symlink() {
        std::fs::remove_dir_all(link).unwrap();
    } else if link.exists() || link.is_symlink() {
        std::fs::remove_file(link).unwrap();
    }
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn run_case(case: &Path) -> Result<(), String> {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let s = Sandbox::with_values(VALUES);
    let outside = s._tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("values.yaml"), VALUES).unwrap();

    if let Ok(bytes) = std::fs::read(case.join("values.yaml")) {
        std::fs::write(s.path("environments/production/values.yaml"), bytes).unwrap();
    }
    if case.join("templates").is_dir() {
        for entry in std::fs::read_dir(case.join("templates")).unwrap() {
            let entry = entry.unwrap();
            std::fs::create_dir_all(s.path("templates")).unwrap();
            std::fs::copy(entry.path(), s.path("templates").join(entry.file_name())).unwrap();
        }
    }
    let setup = std::fs::read_to_string(case.join("setup")).unwrap_or_default();
    for line in setup.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["generate", kind] => {
                let (path, bytes) = generate(kind);
                std::fs::create_dir_all(s.path(&path).parent().unwrap()).unwrap();
                std::fs::write(s.path(&path), bytes).unwrap();
            }
            ["symlink", link, "->", target] => {
                let target = PathBuf::from(target.replace("OUTSIDE", outside.to_str().unwrap()));
                symlink(&target, &s.path(link));
            }
            ["commit"] => {
                s.git(&["add", "-A"]);
                s.git(&["commit", "-q", "-m", "hostile input"]);
            }
            _ => panic!("{name}: bad setup line {line:?}"),
        }
    }
    let args: Vec<String> = match std::fs::read_to_string(case.join("args.json")) {
        Ok(text) => serde_json::from_str(&text).unwrap(),
        Err(_) => vec!["render".into(), "production".into()],
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let before = snapshot(&s.root);
    let r = s.greenlight(&args);
    let after = snapshot(&s.root);

    let root = s.root.canonicalize().unwrap();
    let outside_real = outside.canonicalize().unwrap();
    let stderr = r
        .stderr
        .replace(root.to_str().unwrap(), "<repo>")
        .replace(s.root.to_str().unwrap(), "<repo>")
        .replace(outside_real.to_str().unwrap(), "<outside>")
        .replace(outside.to_str().unwrap(), "<outside>");
    let expected_path = case.join("expected.txt");
    if std::env::var_os("GREENLIGHT_BLESS").is_some() {
        std::fs::write(&expected_path, &stderr).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path)
        .map_err(|_| format!("{name}: no expected.txt (run with GREENLIGHT_BLESS=1)"))?;
    let mut problems = Vec::new();
    if r.code != 2 {
        problems.push(format!("exit {} instead of 2", r.code));
    }
    if stderr != expected {
        problems.push(format!(
            "stderr differs\n--- expected\n{expected}\n--- actual\n{stderr}"
        ));
    }
    if !stderr.contains("hint:") && !stderr.contains("expected:") {
        problems.push("neither a hint nor what is expected".to_owned());
    }
    if before != after {
        let changed: Vec<_> = before
            .keys()
            .chain(after.keys())
            .filter(|p| before.get(*p) != after.get(*p))
            .collect();
        problems.push(format!("the repository changed: {changed:?}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{name}: {}", problems.join("\n")))
    }
}

#[test]
fn every_hostile_input_is_refused_cleanly_and_changes_nothing() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "the corpus lost cases: {}", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|c| run_case(c).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Hand-made Secrets committed under rendered/ (which a render then removes): whatever their
/// layout, the diff shows their keys with redacted values and never the values.
#[test]
fn secret_data_never_shows_in_diffs() {
    let s = Sandbox::with_values(VALUES);
    let files = [
        (
            "rendered/production/db.secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n  password: c3VwZXJzZWNyZXQ=\nstringData:\n  url: postgres://app:hunter2@db/shop\n",
        ),
        (
            "rendered/production/flow.secret.yaml",
            "apiVersion: v1\nkind: Secret  # hand-made\nmetadata: {name: flow, namespace: shop}\ndata: {password: Zmxvd3NlY3JldA==}\n",
        ),
        (
            "rendered/production/bundle.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  mode: visible-setting\n---\napiVersion: v1\nkind: \"Secret\"\ndata:\n  token: &token YnVuZGxlLXRva2Vu\nstringData:\n  again: *token\n  note: bundled-plaintext\nmetadata:\n  name: bundle\n  namespace: shop\n  annotations:\n    copy: *token\n",
        ),
        (
            "rendered/production/broken.yaml",
            "apiVersion: v1\nkind: Secret\ndata:\n  password: YnJva2VuLXNlY3JldA==\n  oops: [\n",
        ),
    ];
    for (path, text) in files {
        s.write(path, text);
    }
    s.git(&["add", "-A"]);
    s.git(&["commit", "-q", "-m", "hand-made secrets"]);
    let secrets = [
        "c3VwZXJzZWNyZXQ=",
        "hunter2",
        "Zmxvd3NlY3JldA==",
        "YnVuZGxlLXRva2Vu",
        "bundled-plaintext",
        "YnJva2VuLXNlY3JldA==",
    ];
    for args in [
        vec!["diff", "production"],
        vec!["diff", "production", "--output", "json"],
        vec!["render", "production", "--output", "json"],
    ] {
        let r = s.greenlight(&args);
        let all = format!("{}{}", r.stdout, r.stderr);
        for secret in secrets {
            assert!(!all.contains(secret), "{args:?} printed {secret}:\n{all}");
        }
        if args[0] == "diff" {
            for shown in [
                "password: \"<redacted sha256:",
                "url: \"<redacted sha256:",
                "token: \"<redacted sha256:",
                "copy: \"<redacted sha256:",
                "mode: visible-setting",
                "greenlight hides this file",
            ] {
                // JSON escapes the quotes.
                let shown = if args.contains(&"json") {
                    shown.replace('"', "\\\"")
                } else {
                    shown.to_owned()
                };
                assert!(
                    all.contains(&shown),
                    "{args:?} does not show {shown}:\n{all}"
                );
            }
        }
    }
}
