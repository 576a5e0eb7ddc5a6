//! The check every rendered file passes before it is returned: parsed back as YAML, it holds
//! exactly one document, and that document is the object its file name promises (kind,
//! name, namespace), or a kustomization listing exactly the other files. This catches a
//! broken override and, as a second line of defence, any value that escaped its quoting.

use serde_json::Value;

use super::error::{OutputProblem, RenderError};
use crate::yaml;

/// What a rendered file must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expect {
    /// One Kubernetes object.
    Object {
        /// `kind`.
        kind: &'static str,
        /// `metadata.name`.
        name: String,
        /// `metadata.namespace`.
        namespace: String,
    },
    /// A kustomization whose `resources` are exactly these files.
    Kustomization {
        /// The other rendered files, sorted.
        resources: Vec<String>,
    },
}

/// Check rendered `text` of `file` against `expect`.
pub(crate) fn check_file(file: &str, text: &str, expect: &Expect) -> Result<(), RenderError> {
    let fail = |document: usize, problem: OutputProblem| RenderError::OutputCheck {
        file: file.to_owned(),
        document,
        problem,
    };
    let docs = yaml::parse_documents(text).map_err(|e| {
        fail(
            e.document,
            OutputProblem::NotYaml {
                message: e.to_string(),
            },
        )
    })?;
    let doc = match docs.as_slice() {
        [Value::Null] if !has_content(text) => {
            return Err(fail(1, OutputProblem::DocumentCount { found: 0 }))
        }
        [doc] => doc,
        [] => return Err(fail(1, OutputProblem::DocumentCount { found: 0 })),
        _ => return Err(fail(2, OutputProblem::DocumentCount { found: docs.len() })),
    };
    check_document(doc, expect).map_err(|problem| fail(1, problem))?;
    if has_unportable(doc) {
        locate_unportable(doc, &mut String::new()).map_err(|problem| fail(1, problem))?;
    }
    Ok(())
}

/// Characters that go-yaml (inside kustomize) writes raw and then refuses to read back.
fn unportable(c: char) -> bool {
    matches!(u32::from(c), 0x7F..=0x84 | 0x86..=0x9F | 0xFFFE | 0xFFFF)
}

/// Whether a string (key or value) under `v` holds an [`unportable`] character: the walk of
/// every rendered document, without [`locate_unportable`]'s paths.
fn has_unportable(v: &Value) -> bool {
    // Every unportable character is DEL or beyond, so a text of bytes below 0x7F has none.
    let bad = |s: &str| s.bytes().any(|b| b >= 0x7F) && s.chars().any(unportable);
    match v {
        Value::String(s) => bad(s),
        Value::Array(items) => items.iter().any(has_unportable),
        Value::Object(map) => map.iter().any(|(k, v)| bad(k) || has_unportable(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Fail on the first string (key or value, keys in sorted order) under `v` with an
/// [`unportable`] character; `path` is the dotted path to `v`.
fn locate_unportable(v: &Value, path: &mut String) -> Result<(), OutputProblem> {
    let found = |s: &str, path: &str| match s.chars().find(|c| unportable(*c)) {
        Some(character) => Err(OutputProblem::UnportableCharacter {
            path: path.to_owned(),
            character,
        }),
        None => Ok(()),
    };
    match v {
        Value::String(s) => found(s, path),
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let r = locate_unportable(item, path);
            path.truncate(len);
            r
        }),
        Value::Object(map) => map.iter().try_for_each(|(key, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            let r = found(key, path).and_then(|()| locate_unportable(item, path));
            path.truncate(len);
            r
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// Whether `text` holds anything but blank lines, comments and document markers (the YAML
/// parser reports a text of only `---` as one null document).
fn has_content(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .any(|line| !(line.is_empty() || line.starts_with('#') || line == "---" || line == "..."))
}

fn check_document(doc: &Value, expect: &Expect) -> Result<(), OutputProblem> {
    if !doc.is_object() {
        return Err(OutputProblem::NotAMapping);
    }
    let api_version = string_at(doc, &["apiVersion"], "apiVersion")?;
    let kind = string_at(doc, &["kind"], "kind")?;
    match expect {
        Expect::Object {
            kind: want_kind,
            name,
            namespace,
        } => {
            let found_name = string_at(doc, &["metadata", "name"], "metadata.name")?;
            let found_ns = string_at(doc, &["metadata", "namespace"], "metadata.namespace")?;
            equal("kind", want_kind, kind)?;
            if let Some(want) = api_version_of(want_kind) {
                equal("apiVersion", want, api_version)?;
            }
            equal("metadata.name", name, found_name)?;
            equal("metadata.namespace", namespace, found_ns)
        }
        Expect::Kustomization { resources } => {
            equal("apiVersion", "kustomize.config.k8s.io/v1beta1", api_version)?;
            equal("kind", "Kustomization", kind)?;
            let listed: Vec<&str> = match doc.get("resources").and_then(Value::as_array) {
                Some(seq) => seq.iter().filter_map(Value::as_str).collect(),
                None => {
                    return Err(OutputProblem::MissingField { field: "resources" });
                }
            };
            let missing: Vec<String> = resources
                .iter()
                .filter(|r| !listed.contains(&r.as_str()))
                .cloned()
                .collect();
            let unexpected: Vec<String> = listed
                .iter()
                .filter(|l| !resources.iter().any(|r| r == *l))
                .map(|l| (*l).to_owned())
                .collect();
            if missing.is_empty() && unexpected.is_empty() {
                Ok(())
            } else {
                Err(OutputProblem::KustomizationResources {
                    missing,
                    unexpected,
                })
            }
        }
    }
}

/// The apiVersion greenlight renders each kind with: the stable versions the Kubernetes,
/// Istio, Gateway API, Flux and Argo CD references document.
pub(crate) fn api_version_of(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Deployment" => "apps/v1",
        "Service" => "v1",
        "Ingress" => "networking.k8s.io/v1",
        "Gateway" | "VirtualService" | "DestinationRule" => "networking.istio.io/v1",
        "HTTPRoute" => "gateway.networking.k8s.io/v1",
        "Kustomization" => "kustomize.toolkit.fluxcd.io/v1",
        "Application" => "argoproj.io/v1alpha1",
        _ => return None,
    })
}

fn string_at<'v>(
    doc: &'v Value,
    path: &[&str],
    field: &'static str,
) -> Result<&'v str, OutputProblem> {
    path.iter()
        .try_fold(doc, |v, key| v.get(*key))
        .and_then(Value::as_str)
        .ok_or(OutputProblem::MissingField { field })
}

fn equal(field: &'static str, expected: &str, found: &str) -> Result<(), OutputProblem> {
    if expected == found {
        Ok(())
    } else {
        Err(OutputProblem::Mismatch {
            field,
            expected: expected.to_owned(),
            found: found.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc() -> Expect {
        Expect::Object {
            kind: "Service",
            name: "api".into(),
            namespace: "shop".into(),
        }
    }

    fn problem(text: &str, expect: &Expect) -> (usize, OutputProblem) {
        match check_file("api.service.yaml", text, expect) {
            Err(RenderError::OutputCheck {
                file,
                document,
                problem,
            }) => {
                assert_eq!(file, "api.service.yaml");
                (document, problem)
            }
            other => panic!("expected an output check failure, got {other:?}"),
        }
    }

    const GOOD: &str =
        "# header\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\n";

    #[test]
    fn accepts_the_promised_object() {
        check_file("api.service.yaml", GOOD, &svc()).unwrap();
    }

    #[test]
    fn rejects_extra_and_missing_documents() {
        let two = format!("{GOOD}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n");
        assert_eq!(
            problem(&two, &svc()),
            (2, OutputProblem::DocumentCount { found: 2 })
        );
        for empty in ["", "# only a comment\n", "\n---\n"] {
            assert_eq!(
                problem(empty, &svc()),
                (1, OutputProblem::DocumentCount { found: 0 }),
                "{empty:?}"
            );
        }
        assert_eq!(problem("null\n", &svc()), (1, OutputProblem::NotAMapping));
    }

    #[test]
    fn rejects_invalid_yaml_and_duplicate_keys() {
        let (_, p) = problem("kind: [\n", &svc());
        assert!(matches!(p, OutputProblem::NotYaml { .. }), "{p:?}");
        let dup = format!("{GOOD}kind: Secret\n");
        assert_eq!(
            problem(&dup, &svc()),
            (
                1,
                OutputProblem::NotYaml {
                    message: "duplicate key `kind` in one mapping at line 7 column 1".into()
                }
            )
        );
        let (document, p) = problem(&format!("{GOOD}---\nkind: [\n"), &svc());
        assert_eq!(document, 2, "the error names the document it is in");
        let OutputProblem::NotYaml { message } = p else {
            panic!("{p:?}")
        };
        assert!(
            message.contains("at line 9 column 1 (in the `[` opened at line 8 column 7)"),
            "{message}"
        );
    }

    #[test]
    fn rejects_missing_fields_and_mismatches() {
        assert_eq!(problem("- a\n", &svc()).1, OutputProblem::NotAMapping);
        assert_eq!(
            problem("kind: Service\n", &svc()).1,
            OutputProblem::MissingField {
                field: "apiVersion"
            }
        );
        assert_eq!(
            problem("apiVersion: v1\nkind: Service\nmetadata: {}\n", &svc()).1,
            OutputProblem::MissingField {
                field: "metadata.name"
            }
        );
        let wrong_kind = GOOD.replace("kind: Service", "kind: Secret");
        assert_eq!(
            problem(&wrong_kind, &svc()).1,
            OutputProblem::Mismatch {
                field: "kind",
                expected: "Service".into(),
                found: "Secret".into()
            }
        );
        let wrong_ns = GOOD.replace("namespace: shop", "namespace: kube-system");
        assert!(matches!(
            problem(&wrong_ns, &svc()).1,
            OutputProblem::Mismatch {
                field: "metadata.namespace",
                ..
            }
        ));
    }

    #[test]
    fn rejects_characters_kustomize_cannot_process() {
        for c in ['\u{7f}', '\u{80}', '\u{9b}', '\u{fffe}', '\u{ffff}'] {
            let text = format!(
                "{GOOD}  annotations:\n    note: \"a\\u{:04X}b\"\nspec:\n  ports: [{{name: \"x\"}}]\n",
                u32::from(c)
            );
            assert_eq!(
                problem(&text, &svc()).1,
                OutputProblem::UnportableCharacter {
                    path: "metadata.annotations.note".into(),
                    character: c
                },
                "{text}"
            );
        }
        let text = format!("{GOOD}spec:\n  ports:\n    - name: \"\\x85\\t\\x1B\\u2028\"\n");
        check_file("api.service.yaml", &text, &svc()).unwrap();
        let text = format!("{GOOD}spec:\n  ports:\n    - name: \"\\x9F\"\n");
        assert_eq!(
            problem(&text, &svc()).1,
            OutputProblem::UnportableCharacter {
                path: "spec.ports[0].name".into(),
                character: '\u{9f}'
            }
        );
    }

    #[test]
    fn kustomization_must_list_exactly_the_other_files() {
        let expect = Expect::Kustomization {
            resources: vec!["a.yaml".into(), "b.yaml".into()],
        };
        let head = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
        check_file(
            "k",
            &format!("{head}resources:\n  - a.yaml\n  - b.yaml\n"),
            &expect,
        )
        .unwrap();
        let err = check_file(
            "k",
            &format!("{head}resources:\n  - a.yaml\n  - c.yaml\n"),
            &expect,
        )
        .unwrap_err();
        let RenderError::OutputCheck { problem, .. } = err else {
            panic!("wrong error {err:?}")
        };
        assert_eq!(
            problem,
            OutputProblem::KustomizationResources {
                missing: vec!["b.yaml".into()],
                unexpected: vec!["c.yaml".into()]
            }
        );
        let err = check_file("k", head, &expect).unwrap_err();
        assert!(err.to_string().contains("`resources`"), "{err}");
    }

    #[test]
    fn routing_kinds_must_have_their_documented_api_version() {
        let expect = Expect::Object {
            kind: "VirtualService",
            name: "api".into(),
            namespace: "shop".into(),
        };
        let good = "apiVersion: networking.istio.io/v1\nkind: VirtualService\n\
                    metadata: {name: api, namespace: shop}\n";
        assert!(check_file("api.virtualservice.yaml", good, &expect).is_ok());
        let old = good.replace("networking.istio.io/v1", "networking.istio.io/v1alpha3");
        match check_file("api.virtualservice.yaml", &old, &expect) {
            Err(RenderError::OutputCheck {
                problem: OutputProblem::Mismatch { field, found, .. },
                ..
            }) => {
                assert_eq!(field, "apiVersion");
                assert_eq!(found, "networking.istio.io/v1alpha3");
            }
            other => panic!("expected an apiVersion mismatch, got {other:?}"),
        }
    }
}
