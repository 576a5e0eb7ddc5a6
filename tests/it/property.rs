//! Property tests over the whole input surface (the CI stand-in for the cargo-fuzz target in
//! fuzz/): no string in values changes the structure of the rendered output, and no input —
//! arbitrary bytes or structure-aware YAML documents — makes parsing, validation or rendering
//! panic; every parse error carries a location.

use std::collections::BTreeMap;

use greenlight::render::{render, RenderError, Templates};
use greenlight::values::{self, EnvValue, Literal, Values};
use proptest::prelude::*;
use serde_json::Value;

const BASE: &str = "\
app: api
namespace: shop
liveColor: blue
image: registry.example.com/shop/api
blue:  { tag: \"1.4.0\", replicas: 2 }
green: { tag: \"1.5.0\", replicas: 0 }
port: 8080
readinessProbe: { path: /healthz }
";

/// Strings built from the pieces that break naive templating: newlines, document markers,
/// `: `, flow and comment characters, tabs, quotes, backslashes, YAML indicators and unicode.
fn hostile_string() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "\n",
        "---",
        "...",
        ": ",
        "- ",
        "{",
        "}",
        "[",
        "]",
        "#",
        "\t",
        "\"",
        "'",
        "\\",
        "&a",
        "*a",
        "!!str",
        "%YAML",
        "|",
        ">",
        "@",
        "`",
        ",",
        "?",
        " ",
        "  ",
        "kind: Secret",
        "é",
        "中文",
        "🚀",
        "\u{202e}",
        "\u{2028}",
        "\u{85}",
        "\u{feff}",
        "true",
        "null",
        "0x1F",
        "1e3",
        "~",
        "=",
        "<<",
    ]);
    prop::collection::vec(
        prop_oneof![pieces.prop_map(str::to_owned), "[a-z0-9]{1,4}"],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

fn base() -> Values {
    values::parse("values.yaml", BASE).expect("the base values parse")
}

fn documents(text: &str) -> Vec<Value> {
    greenlight::yaml::parse_documents(text).expect("rendered output is YAML")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A string in an env value or an annotation renders as one scalar equal to it: no
    /// extra document, key or object can come out of it.
    #[test]
    fn strings_never_change_the_structure_of_the_output(s in hostile_string()) {
        let mut v = base();
        v.env.insert("HOSTILE".into(), EnvValue::Literal(Literal(s.clone())));
        v.annotations.insert("example.com/hostile".into(), s.clone());
        let files = match render(&v, &greenlight::values::Running::same(&v), "production", &Templates::builtin()) {
            Ok(files) => files,
            // Characters kustomize cannot read are refused by the output check, by design.
            Err(RenderError::TemplateOutput { .. }) if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) || s.contains(['\u{feff}', '\u{fffe}']) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
        };
        let deployment = files
            .iter()
            .find(|(path, _)| path.ends_with("api-blue.deployment.yaml"))
            .map(|(_, bytes)| std::str::from_utf8(bytes).unwrap())
            .expect("the blue Deployment is rendered");
        let docs = documents(deployment);
        prop_assert_eq!(docs.len(), 1);
        let d = &docs[0];
        prop_assert_eq!(d["kind"].as_str(), Some("Deployment"));
        prop_assert_eq!(d["metadata"]["annotations"]["example.com/hostile"].as_str(), Some(s.as_str()));
        let env = d["spec"]["template"]["spec"]["containers"][0]["env"].as_array().unwrap();
        let hostile = env.iter().find(|e| e["name"] == "HOSTILE").unwrap();
        prop_assert_eq!(hostile["value"].as_str(), Some(s.as_str()));
        // Every rendered file is exactly one document of the kind its name says.
        for (path, bytes) in &files {
            let docs = documents(std::str::from_utf8(bytes).unwrap());
            if path.ends_with("kustomization.yaml") { continue; }
            prop_assert_eq!(docs.len(), 1, "{}", path);
        }
    }

    /// Arbitrary bytes never panic the parser, and every error points at a line and column.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            match values::parse("values.yaml", text) {
                Ok(v) => { let _ = render(&v, &greenlight::values::Running::same(&v), "fuzz", &Templates::builtin()); }
                Err(e) => for d in &e.diagnostics {
                    prop_assert!(d.line >= 1 && d.column >= 1, "{:?}", d);
                },
            }
        }
    }

    /// Structure-aware documents: the valid base with keys replaced, added or retyped at random
    /// and nested values of every YAML kind. Parsing never panics; whatever parses renders or
    /// fails cleanly; errors are located.
    #[test]
    fn mutated_documents_never_panic(edits in prop::collection::vec((key(), yaml_value(3)), 1..6)) {
        let mut doc: BTreeMap<String, String> = BASE
            .lines()
            .filter_map(|l| l.split_once(": ").map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        for (k, v) in edits {
            doc.insert(k, v);
        }
        let text: String = doc.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        match values::parse("values.yaml", &text) {
            Ok(v) => { let _ = render(&v, &greenlight::values::Running::same(&v), "fuzz", &Templates::builtin()); }
            Err(e) => {
                prop_assert!(!e.diagnostics.is_empty());
                for d in &e.diagnostics {
                    prop_assert!(d.line >= 1 && d.column >= 1, "{:?}", d);
                }
            }
        }
    }
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "app",
            "namespace",
            "liveColor",
            "image",
            "blue",
            "green",
            "port",
            "servicePort",
            "readinessProbe",
            "livenessProbe",
            "resources",
            "env",
            "envFrom",
            "ingress",
            "routing",
            "preview",
            "istio",
            "gatewayApi",
            "labels",
            "annotations",
            "flux",
            "argocd",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z]{1,8}",
    ]
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("~".to_owned()),
        Just("\"\"".to_owned()),
        Just("blue".to_owned()),
        Just("green".to_owned()),
        Just("1.5".to_owned()),
        Just("\"x\\ny\"".to_owned()),
        "[a-z0-9./:-]{1,12}",
    ]
}

fn yaml_value(depth: u32) -> impl Strategy<Value = String> {
    scalar().prop_recursive(depth, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            prop::collection::vec((key(), inner), 0..4).prop_map(|pairs| {
                let body: Vec<String> = pairs
                    .into_iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect();
                format!("{{{}}}", body.join(", "))
            }),
        ]
    })
}
