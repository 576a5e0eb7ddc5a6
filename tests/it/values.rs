//! Data-driven tests of `greenlight::values::parse` and `edit` through the public API.
//!
//! - `fixtures/values/valid/<case>.yaml` must parse.
//! - `fixtures/values/invalid/<case>.yaml` must be rejected with exactly the text of
//!   `<case>.expected`: the error's `Display`, with the file label
//!   `fixtures/values/invalid/<case>.yaml`. Every `.yaml` needs its `.expected` and vice versa.
//!
//! To regenerate the `.expected` files after an intended change of messages, run
//! `GREENLIGHT_BLESS=1 cargo test --test it values::` and review the diff before committing.

use std::fs;
use std::path::{Path, PathBuf};

use greenlight::values::{edit, parse, Color, DiagnosticKind, EnvValue, Values};
use proptest::prelude::*;
use similar::TextDiff;

fn fixtures(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/values")
        .join(dir)
}

/// The file names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn invalid_fixtures_fail_with_the_expected_messages() {
    let dir = fixtures("invalid");
    let bless = std::env::var_os("GREENLIGHT_BLESS").is_some_and(|v| v == "1");
    let all = names(&dir);
    let mut failures = Vec::new();
    let mut cases = 0;

    for name in &all {
        let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
        let partner = match ext {
            "yaml" => format!("{stem}.expected"),
            "expected" => format!("{stem}.yaml"),
            _ => {
                failures.push(format!(
                    "{name}: only `.yaml` and `.expected` files belong here"
                ));
                continue;
            }
        };
        let blessing_this_one = bless && ext == "yaml";
        if !blessing_this_one && !all.contains(&partner) {
            failures.push(format!("{name}: has no `{partner}`"));
        }
        if ext != "yaml" {
            continue;
        }
        cases += 1;
        let label = format!("fixtures/values/invalid/{name}");
        let text = read(&dir.join(name));
        let actual = match parse(&label, &text) {
            Ok(_) => {
                failures.push(format!(
                    "{name}: parsed without error, but it is an invalid case"
                ));
                continue;
            }
            Err(e) => format!("{e}\n"),
        };
        let expected_path = dir.join(&partner);
        if bless {
            fs::write(&expected_path, &actual)
                .unwrap_or_else(|e| panic!("writing {}: {e}", expected_path.display()));
            continue;
        }
        let Ok(expected) = fs::read_to_string(&expected_path) else {
            continue;
        };
        if actual != expected {
            let diff = TextDiff::from_lines(&expected, &actual)
                .unified_diff()
                .header(&partner, "actual")
                .to_string();
            failures.push(format!("{name}: the message differs\n{diff}"));
        }
    }
    assert!(cases >= 25, "only {cases} invalid cases");
    assert!(
        failures.is_empty(),
        "{} problem(s); run with GREENLIGHT_BLESS=1 to accept new messages:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn valid_fixtures_parse() {
    let dir = fixtures("valid");
    let mut failures = Vec::new();
    for name in names(&dir) {
        if !name.ends_with(".yaml") {
            failures.push(format!("{name}: only `.yaml` files belong here"));
            continue;
        }
        let label = format!("fixtures/values/valid/{name}");
        if let Err(e) = parse(&label, &read(&dir.join(&name))) {
            failures.push(e.to_string());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every leaf that is `null`, an empty map or an empty list in `value`, by path.
fn unset(value: &serde_json::Value, path: String, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Null => out.push(path),
        serde_json::Value::Object(m) if m.is_empty() => out.push(path),
        serde_json::Value::Array(a) if a.is_empty() => out.push(path),
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                unset(v, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_full_routing_fixtures_set_every_routing_key() {
    for (file, block, exclusive) in [
        ("full-istio.yaml", ".istio", ".istio.existingGateway"),
        ("full-gateway-api.yaml", ".gatewayApi", ""),
    ] {
        let text = read(&fixtures("valid").join(file));
        let v = parse(file, &text).unwrap_or_else(|e| panic!("{file} parses: {e}"));
        let mut missing = Vec::new();
        unset(
            &serde_json::to_value(&v).unwrap(),
            String::new(),
            &mut missing,
        );
        // `existingGateway` excludes `gateway`: the istio-scaled-down render fixture uses it.
        missing.retain(|p| p.starts_with(block) && p != exclusive);
        assert!(missing.is_empty(), "{file} leaves these unset: {missing:?}");
    }
}

#[test]
fn the_full_fixture_sets_every_key() {
    let text = read(&fixtures("valid").join("full.yaml"));
    let v = parse("full.yaml", &text).expect("full.yaml parses");
    let mut missing = Vec::new();
    unset(
        &serde_json::to_value(&v).unwrap(),
        String::new(),
        &mut missing,
    );
    // A colour block holds a tag or a digest, never both; an Argo CD destination a server or a
    // name; the routing blocks belong to other modes and are covered by `full-istio.yaml` and
    // `full-gateway-api.yaml`.
    missing.retain(|p| {
        !matches!(
            p.as_str(),
            ".blue.digest"
                | ".green.digest"
                | ".argocd.destination.name"
                | ".istio"
                | ".gatewayApi"
        )
    });
    assert!(
        missing.is_empty(),
        "full.yaml leaves these unset: {missing:?}"
    );
    let refs = v
        .env
        .values()
        .filter(|e| matches!(e, EnvValue::From(_)))
        .count();
    assert_eq!(refs, 3, "one env reference of each kind");
}

#[test]
fn literals_keep_their_written_form() {
    let v = parse("full.yaml", &read(&fixtures("valid").join("full.yaml"))).unwrap();
    let literal = |name: &str| match &v.env[name] {
        EnvValue::Literal(l) => l.0.clone(),
        other => panic!("{name} is {other:?}"),
    };
    assert_eq!(literal("VERSION"), "1.10");
    assert_eq!(literal("DEBUG"), "false");
    assert_eq!(literal("FEATURE_FLAGS"), "a: b, c # d");
    assert_eq!(literal("GREETING"), "héllo\nwörld");
    let limits = &v.resources.as_ref().unwrap().limits;
    assert_eq!(limits.cpu.as_ref().unwrap().0, "1");
    assert_eq!(
        v.annotations["description"],
        "Checkout service.\nOwns the cart and the payment flow.\n"
    );
}

#[test]
fn crlf_files_parse_like_lf_files() {
    let text = read(&fixtures("valid").join("full.yaml"));
    let crlf = text.replace('\n', "\r\n");
    assert_eq!(parse("a", &crlf).unwrap(), parse("a", &text).unwrap());
}

#[test]
fn every_diagnostic_names_file_line_and_column() {
    let dir = fixtures("invalid");
    for name in names(&dir).into_iter().filter(|n| n.ends_with(".yaml")) {
        let label = format!("fixtures/values/invalid/{name}");
        let err = parse(&label, &read(&dir.join(&name))).expect_err(&name);
        assert!(!err.diagnostics.is_empty(), "{name}");
        let mut last = (0, 0);
        for d in &err.diagnostics {
            assert_eq!(d.file, label);
            assert!(d.line >= 1 && d.column >= 1, "{name}: {d}");
            assert!((d.line, d.column) >= last, "{name}: not sorted");
            last = (d.line, d.column);
            assert!(
                !d.message.contains("did not match any variant"),
                "{name}: serde's untagged message leaked: {d}"
            );
        }
    }
}

#[test]
fn reports_every_semantic_problem_at_once() {
    let text = "\
app: My_App
namespace: shop
liveColor: blue
image: registry.example.com/api:1.2
blue: { tag: \"1.4.0\", replicas: -1 }
green: { replicas: 2 }
port: 0
readinessProbe: { path: healthz }
";
    let err = parse("v.yaml", text).unwrap_err();
    let paths: Vec<&str> = err.diagnostics.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "app",
            "image",
            "blue.replicas",
            "green.replicas",
            "port",
            "readinessProbe.path"
        ]
    );
    assert!(err
        .diagnostics
        .iter()
        .all(|d| d.kind == DiagnosticKind::InvalidValue));
}

const BASE: &str = "\
# Staging values.
app: api
namespace: shop
liveColor: blue   # flipped by promote
image: registry.example.com/shop/api
blue:
  tag: TAG_BLUE
  replicas: 4  # pre-scaled
green: { tag: TAG_GREEN, replicas: 4 }
port: 8080
readinessProbe:
  path: /healthz
";

fn tag_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
        "[0-9]{1,3}(\\.[0-9]{1,3}){0,2}",
        "[0-9]{1,3}[eE][0-9]{1,2}",
        prop::sample::select(vec![
            "1.10", "1.0", "10", "0", "007", "1e3", "0x1F", "0o17", "0b11", "1_000", "true",
            "True", "false", "yes", "no", "on", "off", "y", "n", "null", "Null", "NULL", "_",
            "nan", "inf",
        ])
        .prop_map(str::to_owned),
    ]
}

fn quote_style() -> impl Strategy<Value = (&'static str, &'static str)> {
    prop::sample::select(vec![("", ""), ("\"", "\""), ("'", "'")])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// For any valid tag, editing it in then parsing gives the tag back, and only the edited
    /// line changes, whatever the style the old tag was written in.
    #[test]
    fn edited_tags_read_back(
        new_blue in tag_strategy(),
        new_green in tag_strategy(),
        (open, close) in quote_style(),
    ) {
        let text = BASE
            .replace("TAG_BLUE", &format!("{open}v1.4.0{close}"))
            .replace("TAG_GREEN", &format!("{open}v1.5.0{close}"));
        let mut v: Values = parse("v.yaml", &text).unwrap();
        v.blue.tag = Some(greenlight::values::Tag::parse(&new_blue).unwrap());
        v.green.tag = Some(greenlight::values::Tag::parse(&new_green).unwrap());
        let out = edit("v.yaml", &text, &v).unwrap();
        let back = parse("v.yaml", &out).unwrap();
        prop_assert_eq!(back.blue.tag.as_deref(), Some(new_blue.as_str()));
        prop_assert_eq!(back.green.tag.as_deref(), Some(new_green.as_str()));
        let changed: Vec<usize> = text
            .lines()
            .zip(out.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, _)| i + 1)
            .collect();
        prop_assert_eq!(text.lines().count(), out.lines().count());
        prop_assert!(changed.iter().all(|l| *l == 7 || *l == 9), "{:?}", changed);
    }

    /// Releases flip colours and scale replicas without touching anything else.
    #[test]
    fn release_edits_change_only_their_lines(
        live in prop::bool::ANY,
        blue_replicas in 1i64..50,
        green_replicas in 1i64..50,
    ) {
        let text = BASE.replace("TAG_BLUE", "\"1.4.0\"").replace("TAG_GREEN", "\"1.5.0\"");
        let mut v = parse("v.yaml", &text).unwrap();
        v.live_color = if live { Color::Blue } else { Color::Green };
        v.blue.replicas = blue_replicas;
        v.green.replicas = green_replicas;
        let out = edit("v.yaml", &text, &v).unwrap();
        prop_assert_eq!(parse("v.yaml", &out).unwrap(), v);
        for (a, b) in text.lines().zip(out.lines()) {
            if a != b {
                prop_assert!(
                    a.starts_with("liveColor:") || a.contains("replicas:"),
                    "unexpected change {:?} -> {:?}", a, b
                );
                // Comments on edited lines survive.
                prop_assert_eq!(a.split_once('#').map(|x| x.1), b.split_once('#').map(|x| x.1));
            }
        }
    }
}
