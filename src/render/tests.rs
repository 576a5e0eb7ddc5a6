//! Unit tests of rendering: the quoting guarantee of the built-in templates, checksums,
//! selectors, labels, conditional files, determinism and errors.

use std::collections::BTreeMap;

use serde_json::Value as Yaml;
use tera::ast::{ExprVal, Node};

use super::*;
use crate::values::Running;
use crate::values::{
    ColorSpec, EnvFrom, EnvValue, EnvValueFrom, Ingress, IngressTls, KeyRef, Literal,
    PodSecurityContext, PortRef, Probe, Quantity, ResourceList, Resources, SecurityContext,
};

/// Template expressions that may print without a filter: each must be an integer in the
/// context (proved by `allowlisted_variables_are_integers`).
const INTEGER_VARIABLES: &[&str] = &[
    "deployment.replicas",
    "deployment.min_ready_seconds",
    "deployment.progress_deadline_seconds",
    "deployment.revision_history_limit",
    "deployment.port",
    "probe.port",
    "probe.initial_delay_seconds",
    "probe.period_seconds",
    "probe.timeout_seconds",
    "probe.failure_threshold",
    "probe.success_threshold",
    "probe.termination_grace_period_seconds",
    "deployment.pod_security_context.run_as_user",
    "deployment.pod_security_context.run_as_group",
    "deployment.pod_security_context.fs_group",
    "deployment.security_context.run_as_user",
    "deployment.security_context.run_as_group",
    "companion.min_replicas",
    "service.port",
    "ingress.service_port",
    "istio.port",
    "istio.gateway.port",
    "http_route.port",
    "http_route.blue.weight",
    "http_route.green.weight",
];

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn minimal() -> Values {
    Values {
        app: "api".into(),
        namespace: "shop".into(),
        live_color: Color::Blue,
        image: "registry.example.com/shop/api".into(),
        blue: ColorSpec {
            tag: Some("1.4.0".into()),
            digest: None,
            replicas: 4,
        },
        green: ColorSpec {
            tag: Some("1.5.0".into()),
            digest: None,
            replicas: 2,
        },
        port: 8080,
        service_port: None,
        readiness_probe: probe("/healthz"),
        liveness_probe: None,
        resources: None,
        env: BTreeMap::new(),
        env_from: Vec::new(),
        ingress: None,
        routing: Routing::Service,
        istio: None,
        gateway_api: None,
        preview: None,
        flux: None,
        argocd: None,
        notify: None,
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
        pod_security_context: PodSecurityContext::default(),
        security_context: SecurityContext::default(),
        config_map: None,
        startup_probe: None,
        container: None,
        pod: None,
        sidecars: Vec::new(),
        pod_labels: BTreeMap::new(),
        pod_annotations: BTreeMap::new(),
        deployment: None,
        service: None,
        autoscaling: None,
        pod_disruption_budget: None,
        network_policy: None,
        service_account: None,
    }
}

fn probe(path: &str) -> Probe {
    Probe {
        path: Some(path.into()),
        ..Probe::default()
    }
}

fn full() -> Values {
    let mut v = minimal();
    v.service_port = Some(8081);
    v.readiness_probe = Probe {
        path: Some("/ready".into()),
        port: Some(PortRef::Number(9090)),
        initial_delay_seconds: Some(0),
        period_seconds: Some(5),
        timeout_seconds: Some(2),
        failure_threshold: Some(3),
        success_threshold: Some(1),
        termination_grace_period_seconds: Some(30),
        ..Probe::default()
    };
    v.deployment = Some(crate::values::DeploymentOptions {
        min_ready_seconds: Some(5),
        revision_history_limit: Some(10),
        progress_deadline_seconds: Some(120),
    });
    v.liveness_probe = Some(Probe {
        path: Some("/live".into()),
        port: Some(PortRef::Number(9091)),
        initial_delay_seconds: Some(10),
        period_seconds: Some(15),
        timeout_seconds: Some(3),
        failure_threshold: Some(4),
        ..Probe::default()
    });
    v.resources = Some(Resources {
        requests: ResourceList {
            cpu: Some(Quantity("250m".into())),
            memory: Some(Quantity("256Mi".into())),
            ephemeral_storage: Some(Quantity("1Gi".into())),
        },
        limits: ResourceList {
            cpu: Some(Quantity("1".into())),
            memory: Some(Quantity("512Mi".into())),
            ephemeral_storage: None,
        },
    });
    v.env = BTreeMap::from([
        (
            "LOG_LEVEL".into(),
            EnvValue::Literal(Literal("info".into())),
        ),
        (
            "DB_PASSWORD".into(),
            EnvValue::From(EnvValueFrom {
                secret_key_ref: Some(KeyRef {
                    name: "db".into(),
                    key: "password".into(),
                }),
                config_map_key_ref: None,
                field_ref: None,
            }),
        ),
        (
            "FEATURES".into(),
            EnvValue::From(EnvValueFrom {
                secret_key_ref: None,
                config_map_key_ref: Some(KeyRef {
                    name: "flags".into(),
                    key: "features".into(),
                }),
                field_ref: None,
            }),
        ),
        (
            "POD_NAME".into(),
            EnvValue::From(EnvValueFrom {
                secret_key_ref: None,
                config_map_key_ref: None,
                field_ref: Some("metadata.name".into()),
            }),
        ),
    ]);
    v.env_from = vec![
        EnvFrom {
            config_map: Some("api-config".into()),
            secret: None,
            prefix: None,
        },
        EnvFrom {
            config_map: None,
            secret: Some("api-secrets".into()),
            prefix: Some("SECRET_".into()),
        },
    ];
    v.ingress = Some(Ingress {
        host: "api.example.com".into(),
        class_name: Some("nginx".into()),
        path: Some("/api".into()),
        tls: Some(IngressTls {
            secret_name: "api-tls".into(),
        }),
        annotations: BTreeMap::from([(
            "nginx.ingress.kubernetes.io/proxy-body-size".into(),
            "8m".into(),
        )]),
    });
    v.labels = BTreeMap::from([("team".into(), "payments".into())]);
    v.annotations = BTreeMap::from([("owner".into(), "payments@example.com".into())]);
    v.pod_security_context = PodSecurityContext {
        run_as_user: Some(10001),
        run_as_group: Some(10001),
        fs_group: Some(2000),
    };
    v.security_context = SecurityContext {
        read_only_root_filesystem: Some(false),
        run_as_user: Some(10002),
        run_as_group: Some(10003),
    };
    v
}

#[test]
fn resources_render_only_the_lists_values_set() {
    let container = |resources: Resources| {
        let mut v = minimal();
        v.resources = Some(resources);
        let files = render_ok(&v);
        let text = text(&files, "api-blue.deployment.yaml");
        assert!(!text.contains("\n\n"), "no blank line:\n{text}");
        at(
            &doc(&files, "api-blue.deployment.yaml"),
            &["spec", "template", "spec", "containers", "0", "resources"],
        )
        .clone()
    };
    let requests_only = Resources {
        requests: ResourceList {
            cpu: Some(Quantity("200m".into())),
            ..ResourceList::default()
        },
        limits: ResourceList::default(),
    };
    assert_eq!(
        container(requests_only),
        serde_json::json!({"requests": {"cpu": "200m"}})
    );
    let limits_only = Resources {
        requests: ResourceList::default(),
        limits: ResourceList {
            memory: Some(Quantity("1Gi".into())),
            ..ResourceList::default()
        },
    };
    assert_eq!(
        container(limits_only),
        serde_json::json!({"limits": {"memory": "1Gi"}})
    );
    assert_eq!(container(Resources::default()), serde_json::json!({}));
}

#[test]
fn only_shared_objects_and_the_live_deployment_apply_now() {
    use crate::render::applies_now;
    let live = Color::Green;
    for shared in [
        "api.service.yaml",
        "api-preview.service.yaml",
        "api.ingress.yaml",
        "api.virtualservice.yaml",
        "api-blue.service.yaml",
        "api.httproute.yaml",
        "api-green.deployment.yaml",
        "api-green.hpa.yaml",
        "api.networkpolicy.yaml",
        "api.serviceaccount.yaml",
    ] {
        assert!(applies_now(shared, "api", live), "{shared}");
    }
    for waits in [
        "api-blue.deployment.yaml",
        "api-blue.hpa.yaml",
        "api-blue.pdb.yaml",
        "api-3f2a9c1b.configmap.yaml",
        "kustomization.yaml",
        "api.flux-kustomization.yaml",
        "api.argocd-application.yaml",
        // Another app's Deployment whose name starts like this one's.
        "api-green-x-green.deployment.yaml",
    ] {
        assert!(!applies_now(waits, "api", live), "{waits}");
    }
    assert!(applies_now("api-blue.deployment.yaml", "api", Color::Blue));
}

fn render_ok(v: &Values) -> FileMap {
    render(v, &Running::same(v), "production", &Templates::builtin())
        .unwrap_or_else(|e| panic!("render failed: {e}"))
}

fn text(files: &FileMap, name: &str) -> String {
    let bytes = files
        .get(name)
        .unwrap_or_else(|| panic!("no file {name} in {:?}", files.keys().collect::<Vec<_>>()));
    String::from_utf8(bytes.clone()).expect("utf-8")
}

fn doc(files: &FileMap, name: &str) -> Yaml {
    crate::yaml::parse_document(&text(files, name)).expect("rendered file parses")
}

fn at<'v>(doc: &'v Yaml, path: &[&str]) -> &'v Yaml {
    path.iter().fold(doc, |v, key| match key.parse::<usize>() {
        Ok(i) => &v[i],
        Err(_) => &v[*key],
    })
}

fn str_at<'v>(doc: &'v Yaml, path: &[&str]) -> &'v str {
    at(doc, path)
        .as_str()
        .unwrap_or_else(|| panic!("no string at {path:?} in {doc:?}"))
}

fn pod_checksum(files: &FileMap, file: &str) -> String {
    let d = doc(files, file);
    str_at(
        &d,
        &[
            "spec",
            "template",
            "metadata",
            "annotations",
            "checksum/values",
        ],
    )
    .to_owned()
}

// ---- the quoting guarantee ------------------------------------------------------------

fn lint_nodes(template: &str, nodes: &[Node], problems: &mut Vec<String>, used: &mut Vec<String>) {
    for node in nodes {
        match node {
            Node::Text(_) | Node::Comment(..) => {}
            Node::VariableBlock(_, expr) => {
                let ok = match (&expr.val, expr.filters.as_slice()) {
                    (ExprVal::Ident(_), [f]) => match f.name.as_str() {
                        "q" | "qkey" => f.args.is_empty(),
                        // Block YAML of values data, every string quoted by the filter.
                        "yaml" | "qtext" => f.args.iter().all(|(name, arg)| {
                            name == "indent" && matches!(arg.val, ExprVal::Int(_))
                        }),
                        _ => false,
                    },
                    (ExprVal::Ident(ident), []) => {
                        used.push(ident.clone());
                        INTEGER_VARIABLES.contains(&ident.as_str())
                    }
                    _ => false,
                };
                if !ok || expr.negated {
                    problems.push(format!(
                        "{template}: `{{{{ {:?} }}}}` must be a variable ending in `| q`, \
                         `| qkey`, `| qtext(indent=N)` or `| yaml(indent=N)`, or an \
                         allowlisted integer variable",
                        expr
                    ));
                }
            }
            Node::If(cond, _) => {
                for (_, _, body) in &cond.conditions {
                    lint_nodes(template, body, problems, used);
                }
                if let Some((_, body)) = &cond.otherwise {
                    lint_nodes(template, body, problems, used);
                }
            }
            Node::Forloop(_, for_loop, _) => {
                lint_nodes(template, &for_loop.body, problems, used);
                if let Some(body) = &for_loop.empty_body {
                    lint_nodes(template, body, problems, used);
                }
            }
            other => problems.push(format!(
                "{template}: tag {other:?} is not used by built-in templates; \
                 extend this lint before using it"
            )),
        }
    }
}

#[test]
fn every_builtin_output_expression_is_quoted_or_an_allowlisted_integer() {
    let templates = Templates::builtin();
    let mut problems = Vec::new();
    let mut used = Vec::new();
    for name in Templates::names() {
        let ast = &templates.tera(name).get_template(name).unwrap().ast;
        lint_nodes(name, ast, &mut problems, &mut used);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for allowed in INTEGER_VARIABLES {
        assert!(
            used.iter().any(|u| u == allowed),
            "allowlisted `{allowed}` is not used by any template: remove it"
        );
    }
}

#[test]
fn the_lint_catches_an_unquoted_string() {
    let tpl = tera::Template::new(
        "t",
        None,
        "a: {{ app }}\nb: {{ app | upper }}\nc: {{ app | q }}",
    )
    .unwrap();
    let mut problems = Vec::new();
    lint_nodes("t", &tpl.ast, &mut problems, &mut Vec::new());
    assert_eq!(problems.len(), 2, "{problems:#?}");
}

#[test]
fn allowlisted_variables_are_integers() {
    let v = full();
    let checksum = "0".repeat(64);
    let deployment =
        serde_json::to_value(context::deployment(&v, Color::Blue, &checksum).unwrap()).unwrap();
    let sections = serde_json::json!({
        "probe": deployment["probes"][0],
        "companion": context::colour_companions(&workload_values(), Color::Blue)[0].1,
        "deployment": deployment,
        "service": context::service(&v, false),
        "ingress": context::ingress(&v).unwrap(),
        "istio": context::istio(&istio_values()).unwrap(),
        "http_route": context::http_route(&gateway_api_values()).unwrap(),
    });
    for path in INTEGER_VARIABLES {
        let found = path
            .split('.')
            .try_fold(&sections, |v, key| v.get(key))
            .unwrap_or_else(|| panic!("`{path}` is not in the context of the full values"));
        assert!(
            found.is_i64() || found.is_u64(),
            "`{path}` is {found}, not an integer"
        );
    }
}

#[test]
fn injection_in_annotation_and_env_stays_one_scalar() {
    let hostile = "x\nkind: Secret";
    let mut v = minimal();
    v.annotations.insert("note".into(), hostile.into());
    v.env
        .insert("MOTD".into(), EnvValue::Literal(Literal(hostile.into())));
    let files = render_ok(&v);
    let file = "api-blue.deployment.yaml";
    let raw = text(&files, file);
    assert!(raw.contains(r#"note: "x\nkind: Secret""#), "{raw}");
    assert_eq!(
        raw.matches("\nkind:").count(),
        1,
        "only the real kind key:\n{raw}"
    );

    let docs = crate::yaml::parse_documents(&raw).expect("rendered file parses");
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    assert_eq!(str_at(d, &["kind"]), "Deployment");
    assert_eq!(str_at(d, &["metadata", "annotations", "note"]), hostile);
    assert_eq!(
        at(d, &["metadata", "annotations"])
            .as_object()
            .unwrap()
            .len(),
        1
    );
    let container = at(d, &["spec", "template", "spec", "containers", "0"]);
    assert_eq!(str_at(container, &["env", "0", "name"]), "MOTD");
    assert_eq!(str_at(container, &["env", "0", "value"]), hostile);
    assert_eq!(at(container, &["env"]).as_array().unwrap().len(), 1);
    assert_eq!(at(container, &["env", "0"]).as_object().unwrap().len(), 2);
}

const HOSTILE: &[&str] = &[
    "x\nkind: Secret",
    "a: b",
    "---\napiVersion: v1",
    "...",
    "# not a comment",
    "\"quoted\"",
    "'single'",
    "back\\slash",
    "{}",
    "[]",
    "&anchor",
    "*alias",
    "!tag",
    "%TAG",
    "@at",
    "`backtick`",
    "🚀 emoji",
    "\u{202e}RTL override עברית",
    "\r\n\t\u{85}\u{2028}\u{2029}\u{feff}\u{1b}\u{0}",
    "true",
    "~",
    "",
];

#[test]
fn hostile_strings_in_every_string_field_parse_back_exactly() {
    for (i, s) in HOSTILE.iter().enumerate() {
        let s = (*s).to_owned();
        let mut v = full();
        // Names no rule lets through, to prove the templates quote them all the same.
        v.namespace = crate::values::Namespace::unchecked(&s);
        v.image = crate::values::ImageRepository::unchecked(&s);
        v.readiness_probe.path = Some(s.clone());
        v.labels = BTreeMap::from([(s.clone(), s.clone())]);
        v.annotations = BTreeMap::from([(s.clone(), s.clone())]);
        v.env = BTreeMap::from([(s.clone(), EnvValue::Literal(Literal(s.clone())))]);
        v.env_from = vec![EnvFrom {
            config_map: Some(s.clone()),
            secret: None,
            prefix: Some(s.clone()),
        }];
        let ing = v.ingress.as_mut().unwrap();
        ing.host = s.clone();
        ing.path = Some(s.clone());
        ing.class_name = Some(s.clone());
        ing.tls = Some(IngressTls {
            secret_name: s.clone(),
        });
        ing.annotations = BTreeMap::from([(format!("{s}/ingress"), s.clone())]);

        let files = render(&v, &Running::same(&v), "production", &Templates::builtin())
            .unwrap_or_else(|e| panic!("case {i} {s:?}: {e}"));
        for (name, bytes) in &files {
            let raw = std::str::from_utf8(bytes).unwrap();
            let docs = crate::yaml::parse_documents(raw)
                .unwrap_or_else(|e| panic!("case {i}: {name}: {e}"))
                .len();
            assert_eq!(docs, 1, "case {i}: {name} has {docs} documents");
            if name != KUSTOMIZATION_FILE {
                assert_eq!(str_at(&doc(&files, name), &["metadata", "namespace"]), s);
            }
        }
        let d = doc(&files, "api-blue.deployment.yaml");
        assert_eq!(str_at(&d, &["metadata", "labels", &s]), s, "case {i}");
        assert_eq!(str_at(&d, &["metadata", "annotations", &s]), s, "case {i}");
        let c = at(&d, &["spec", "template", "spec", "containers", "0"]);
        assert_eq!(str_at(c, &["image"]), format!("{s}:1.4.0"), "case {i}");
        assert_eq!(str_at(c, &["env", "0", "name"]), s, "case {i}");
        assert_eq!(str_at(c, &["env", "0", "value"]), s, "case {i}");
        assert_eq!(str_at(c, &["envFrom", "0", "configMapRef", "name"]), s);
        assert_eq!(str_at(c, &["envFrom", "0", "prefix"]), s);
        assert_eq!(str_at(c, &["readinessProbe", "httpGet", "path"]), s);
        let ing = doc(&files, "api.ingress.yaml");
        assert_eq!(str_at(&ing, &["spec", "ingressClassName"]), s);
        assert_eq!(str_at(&ing, &["spec", "tls", "0", "secretName"]), s);
        assert_eq!(str_at(&ing, &["spec", "tls", "0", "hosts", "0"]), s);
        assert_eq!(str_at(&ing, &["spec", "rules", "0", "host"]), s);
        assert_eq!(
            str_at(&ing, &["spec", "rules", "0", "http", "paths", "0", "path"]),
            s
        );
        let key = format!("{s}/ingress");
        assert_eq!(str_at(&ing, &["metadata", "annotations", &key]), s);
        assert_eq!(
            at(&ing, &["metadata", "annotations"])
                .as_object()
                .unwrap()
                .len(),
            2,
            "case {i}"
        );
    }
}

#[test]
fn characters_kustomize_cannot_process_are_refused() {
    let mut v = minimal();
    v.env
        .insert("BAD".into(), EnvValue::Literal(Literal("a\u{7f}b".into())));
    let err = render(&v, &Running::same(&v), "production", &Templates::builtin()).unwrap_err();
    assert!(err.to_string().contains("deployment.yaml.tera"), "{err}");
    let err = output_problem(err);
    assert_eq!(
        err,
        RenderError::OutputCheck {
            file: "api-blue.deployment.yaml".into(),
            document: 1,
            problem: OutputProblem::UnportableCharacter {
                path: "spec.template.spec.containers[0].env[0].value".into(),
                character: '\u{7f}',
            },
        }
    );
    assert!(err.to_string().contains("U+007F"), "{err}");
}

// ---- checksum -------------------------------------------------------------------------

#[test]
fn config_change_rolls_both_colours() {
    let before = render_ok(&minimal());
    let mut v = minimal();
    v.env
        .insert("NEW".into(), EnvValue::Literal(Literal("1".into())));
    let after = render_ok(&v);
    for file in ["api-blue.deployment.yaml", "api-green.deployment.yaml"] {
        assert_ne!(
            pod_checksum(&before, file),
            pod_checksum(&after, file),
            "{file}"
        );
    }
    assert_eq!(
        pod_checksum(&after, "api-blue.deployment.yaml"),
        pod_checksum(&after, "api-green.deployment.yaml")
    );
    let sum = pod_checksum(&after, "api-blue.deployment.yaml");
    assert_eq!(sum.len(), 64);
    assert!(sum
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

    let changes: [fn(&mut Values); 5] = [
        |v| v.port = 9000,
        |v| v.readiness_probe.path = Some("/other".into()),
        |v| v.security_context.read_only_root_filesystem = Some(false),
        |v| {
            v.labels.insert("team".into(), "x".into());
        },
        |v| {
            v.annotations.insert("a".into(), "b".into());
        },
    ];
    for change in changes {
        let mut v = minimal();
        change(&mut v);
        assert_ne!(
            context::pod_config_checksum(&v),
            context::pod_config_checksum(&minimal())
        );
    }
}

#[test]
fn tag_and_replica_changes_do_not_change_the_checksum() {
    let before = render_ok(&minimal());
    let mut v = minimal();
    v.green.tag = Some("1.6.0".into());
    v.green.replicas = 7;
    let after = render_ok(&v);
    assert_eq!(
        pod_checksum(&before, "api-green.deployment.yaml"),
        pod_checksum(&after, "api-green.deployment.yaml")
    );
    assert_eq!(
        before["api-blue.deployment.yaml"], after["api-blue.deployment.yaml"],
        "the other colour is untouched"
    );
    assert_ne!(
        before["api-green.deployment.yaml"],
        after["api-green.deployment.yaml"]
    );
    let mut promoted = minimal();
    promoted.live_color = Color::Green;
    assert_eq!(
        context::pod_config_checksum(&minimal()),
        context::pod_config_checksum(&promoted)
    );
}

// ---- selectors, labels, names ---------------------------------------------------------

#[test]
fn selectors_are_minimal_and_follow_the_live_colour() {
    let files = render_ok(&minimal());
    let d = doc(&files, "api-green.deployment.yaml");
    let selector = at(&d, &["spec", "selector", "matchLabels"])
        .as_object()
        .unwrap();
    assert_eq!(selector.len(), 2);
    assert_eq!(
        str_at(&d, &["spec", "selector", "matchLabels", "app"]),
        "api"
    );
    assert_eq!(
        str_at(&d, &["spec", "selector", "matchLabels", "color"]),
        "green"
    );
    for (key, value) in selector {
        assert_eq!(
            at(&d, &["spec", "template", "metadata", "labels"])[key],
            *value,
            "pod template carries the selector labels"
        );
    }

    let live = doc(&files, "api.service.yaml");
    assert_eq!(str_at(&live, &["metadata", "name"]), "api");
    assert_eq!(str_at(&live, &["spec", "selector", "color"]), "blue");
    assert_eq!(str_at(&live, &["spec", "selector", "app"]), "api");
    assert_eq!(
        at(&live, &["spec", "ports", "0", "port"]).as_u64(),
        Some(80)
    );
    assert_eq!(str_at(&live, &["spec", "ports", "0", "targetPort"]), "http");
    let preview = doc(&files, "api-preview.service.yaml");
    assert_eq!(str_at(&preview, &["metadata", "name"]), "api-preview");
    assert_eq!(str_at(&preview, &["spec", "selector", "color"]), "green");
    assert_eq!(str_at(&preview, &["spec", "type"]), "ClusterIP");
}

#[test]
fn promotion_changes_one_selector_line_per_service_and_nothing_else() {
    let before = render_ok(&full());
    let mut v = full();
    v.live_color = Color::Green;
    let after = render_ok(&v);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (name, old) in &before {
        let new = &after[name];
        if name.ends_with(".service.yaml") {
            let old = String::from_utf8_lossy(old);
            let new = String::from_utf8_lossy(new);
            let changed: Vec<(&str, &str)> = old
                .lines()
                .zip(new.lines())
                .filter(|(a, b)| a != b)
                .collect();
            assert_eq!(old.lines().count(), new.lines().count());
            assert_eq!(changed.len(), 1, "{name}: {changed:?}");
            assert!(
                changed[0].0.trim_start().starts_with("color: "),
                "{changed:?}"
            );
        } else {
            assert_eq!(old, new, "{name} must not change on promotion");
        }
    }
}

#[test]
fn deployment_labels_and_version() {
    let mut v = minimal();
    v.labels.insert("team".into(), "payments".into());
    v.green = ColorSpec {
        tag: None,
        digest: Some(DIGEST.into()),
        replicas: 1,
    };
    let files = render_ok(&v);
    let blue = doc(&files, "api-blue.deployment.yaml");
    let labels = at(&blue, &["metadata", "labels"]);
    for (key, value) in [
        ("app", "api"),
        ("color", "blue"),
        ("team", "payments"),
        ("app.kubernetes.io/name", "api"),
        ("app.kubernetes.io/instance", "api-blue"),
        ("app.kubernetes.io/version", "1.4.0"),
        ("app.kubernetes.io/managed-by", "greenlight"),
    ] {
        assert_eq!(labels[key].as_str(), Some(value), "{key}");
    }
    assert_eq!(
        labels,
        at(&blue, &["spec", "template", "metadata", "labels"])
    );
    let green = doc(&files, "api-green.deployment.yaml");
    assert_eq!(
        str_at(&green, &["metadata", "labels", "app.kubernetes.io/version"]),
        "0123456789ab"
    );
    assert_eq!(
        str_at(
            &green,
            &["spec", "template", "spec", "containers", "0", "image"]
        ),
        format!("registry.example.com/shop/api@{DIGEST}")
    );
    let svc = doc(&files, "api.service.yaml");
    assert_eq!(str_at(&svc, &["metadata", "labels", "team"]), "payments");
    assert!(at(&svc, &["metadata", "labels", "color"]).is_null());
}

#[test]
fn version_label_is_a_valid_label_value() {
    let spec = |tag: &str| ColorSpec {
        tag: Some(tag.into()),
        digest: None,
        replicas: 1,
    };
    let long = format!("{}-{}", "a".repeat(62), "b".repeat(40));
    assert_eq!(context::version_label(&spec(&long)), "a".repeat(62));
    assert_eq!(context::version_label(&spec("_1.0_")), "1.0");
    // Nothing alphanumeric left: the empty label value, which Kubernetes accepts.
    assert_eq!(context::version_label(&spec("___")), "");
    let digest = ColorSpec {
        tag: None,
        digest: Some(DIGEST.into()),
        replicas: 1,
    };
    assert_eq!(context::version_label(&digest), &DIGEST[7..19]);
}

// ---- files present or not -------------------------------------------------------------

#[test]
fn idle_colour_without_image_has_no_deployment() {
    let mut v = minimal();
    v.green = ColorSpec::default();
    let files = render_ok(&v);
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "api-blue.deployment.yaml",
            "api-preview.service.yaml",
            "api.service.yaml",
            "kustomization.yaml"
        ]
    );
    let k = doc(&files, KUSTOMIZATION_FILE);
    let listed: Vec<&str> = at(&k, &["resources"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        [
            "api-blue.deployment.yaml",
            "api-preview.service.yaml",
            "api.service.yaml"
        ]
    );
}

#[test]
fn ingress_only_when_set_and_without_colour() {
    assert!(!render_ok(&minimal()).contains_key("api.ingress.yaml"));
    let files = render_ok(&full());
    let raw = text(&files, "api.ingress.yaml");
    for colour in ["\"blue\"", "\"green\"", "-blue", "-green", "color:"] {
        assert!(!raw.contains(colour), "{colour} in {raw}");
    }
    let ing = doc(&files, "api.ingress.yaml");
    let backend = at(
        &ing,
        &[
            "spec", "rules", "0", "http", "paths", "0", "backend", "service",
        ],
    );
    assert_eq!(str_at(backend, &["name"]), "api");
    assert_eq!(at(backend, &["port", "number"]).as_u64(), Some(8081));
    assert_eq!(
        str_at(
            &ing,
            &["spec", "rules", "0", "http", "paths", "0", "pathType"]
        ),
        "Prefix"
    );
    let annotations = at(&ing, &["metadata", "annotations"]).as_object().unwrap();
    assert_eq!(annotations.len(), 2, "values + ingress annotations");
    let k = doc(&files, KUSTOMIZATION_FILE);
    assert_eq!(at(&k, &["resources"]).as_array().unwrap().len(), 5);
}

// ---- pod spec defaults and overrides --------------------------------------------------

#[test]
fn secure_defaults_and_resource_defaults() {
    let files = render_ok(&minimal());
    let d = doc(&files, "api-blue.deployment.yaml");
    let spec = at(&d, &["spec"]);
    assert_eq!(at(spec, &["replicas"]).as_u64(), Some(4));
    assert_eq!(
        str_at(spec, &["strategy", "rollingUpdate", "maxSurge"]),
        "100%"
    );
    assert_eq!(
        at(spec, &["strategy", "rollingUpdate", "maxUnavailable"]).as_u64(),
        Some(0)
    );
    let pod = at(spec, &["template", "spec"]);
    assert_eq!(
        at(pod, &["automountServiceAccountToken"]).as_bool(),
        Some(false)
    );
    assert_eq!(
        at(pod, &["securityContext", "runAsNonRoot"]).as_bool(),
        Some(true)
    );
    assert!(at(pod, &["securityContext", "runAsUser"]).is_null());
    assert_eq!(
        str_at(pod, &["securityContext", "seccompProfile", "type"]),
        "RuntimeDefault"
    );
    let c = at(pod, &["containers", "0"]);
    assert_eq!(str_at(c, &["name"]), "app");
    assert_eq!(str_at(c, &["ports", "0", "name"]), "http");
    assert_eq!(at(c, &["ports", "0", "containerPort"]).as_u64(), Some(8080));
    assert_eq!(str_at(c, &["readinessProbe", "httpGet", "port"]), "http");
    assert!(at(c, &["livenessProbe"]).is_null());
    assert!(at(c, &["env"]).is_null() && at(c, &["envFrom"]).is_null());
    assert_eq!(str_at(c, &["resources", "requests", "cpu"]), "100m");
    assert_eq!(str_at(c, &["resources", "requests", "memory"]), "128Mi");
    assert_eq!(str_at(c, &["resources", "limits", "cpu"]), "500m");
    assert_eq!(str_at(c, &["resources", "limits", "memory"]), "256Mi");
    let sc = at(c, &["securityContext"]);
    assert_eq!(at(sc, &["allowPrivilegeEscalation"]).as_bool(), Some(false));
    assert_eq!(at(sc, &["readOnlyRootFilesystem"]).as_bool(), Some(true));
    assert_eq!(at(sc, &["runAsNonRoot"]).as_bool(), Some(true));
    assert_eq!(str_at(sc, &["capabilities", "drop", "0"]), "ALL");
    assert_eq!(str_at(c, &["volumeMounts", "0", "mountPath"]), "/tmp");
    assert_eq!(str_at(pod, &["volumes", "0", "name"]), "tmp");
    assert!(at(pod, &["volumes", "0", "emptyDir"]).is_object());
}

#[test]
fn full_values_reach_the_pod_spec() {
    let files = render_ok(&full());
    let d = doc(&files, "api-green.deployment.yaml");
    let pod = at(&d, &["spec", "template", "spec"]);
    assert_eq!(
        at(pod, &["securityContext", "runAsUser"]).as_u64(),
        Some(10001)
    );
    assert_eq!(
        at(pod, &["securityContext", "fsGroup"]).as_u64(),
        Some(2000)
    );
    let c = at(pod, &["containers", "0"]);
    let names: Vec<&str> = at(c, &["env"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["DB_PASSWORD", "FEATURES", "LOG_LEVEL", "POD_NAME"]);
    assert_eq!(
        str_at(c, &["env", "0", "valueFrom", "secretKeyRef", "key"]),
        "password"
    );
    assert_eq!(
        str_at(c, &["env", "1", "valueFrom", "configMapKeyRef", "name"]),
        "flags"
    );
    assert_eq!(str_at(c, &["env", "2", "value"]), "info");
    assert_eq!(
        str_at(c, &["env", "3", "valueFrom", "fieldRef", "fieldPath"]),
        "metadata.name"
    );
    assert_eq!(
        str_at(c, &["envFrom", "0", "configMapRef", "name"]),
        "api-config"
    );
    assert_eq!(
        str_at(c, &["envFrom", "1", "secretRef", "name"]),
        "api-secrets"
    );
    assert_eq!(str_at(c, &["envFrom", "1", "prefix"]), "SECRET_");
    assert_eq!(
        at(c, &["readinessProbe", "httpGet", "port"]).as_u64(),
        Some(9090)
    );
    assert_eq!(
        at(c, &["readinessProbe", "initialDelaySeconds"]).as_u64(),
        Some(0)
    );
    assert_eq!(
        at(c, &["livenessProbe", "failureThreshold"]).as_u64(),
        Some(4)
    );
    assert_eq!(
        str_at(c, &["resources", "requests", "ephemeral-storage"]),
        "1Gi"
    );
    assert_eq!(str_at(c, &["resources", "limits", "cpu"]), "1");
    assert_eq!(
        at(c, &["securityContext", "readOnlyRootFilesystem"]).as_bool(),
        Some(false)
    );
    assert_eq!(
        at(c, &["securityContext", "runAsGroup"]).as_u64(),
        Some(10003)
    );
    let annotations = at(&d, &["spec", "template", "metadata", "annotations"]);
    assert_eq!(annotations["owner"].as_str(), Some("payments@example.com"));
}

// ---- determinism and layout -----------------------------------------------------------

#[test]
fn same_values_same_bytes_regardless_of_map_order() {
    let a = render_ok(&full());
    assert_eq!(a, render_ok(&full()));

    let mut v = full();
    let keys = ["zeta", "alpha", "mid.example.com/key", "0num"];
    v.labels = keys
        .iter()
        .map(|k| ((*k).to_owned(), "v".to_owned()))
        .collect();
    let mut reversed = full();
    reversed.labels = BTreeMap::new();
    for k in keys.iter().rev() {
        reversed.labels.insert((*k).to_owned(), "v".to_owned());
    }
    assert_eq!(render_ok(&v), render_ok(&reversed));

    let text_a = "app: api\nnamespace: shop\nliveColor: blue\nimage: r/api\n\
                  blue: {tag: '1', replicas: 1}\ngreen: {tag: '2', replicas: 1}\nport: 80\n\
                  readinessProbe: {path: /}\nlabels: {b: '2', a: '1'}\n\
                  env: {Z: z, A: a}\n";
    let text_b = "env: {A: a, Z: z}\nlabels: {a: '1', b: '2'}\nreadinessProbe: {path: /}\n\
                  port: 80\ngreen: {replicas: 1, tag: '2'}\nblue: {replicas: 1, tag: '1'}\n\
                  image: r/api\nliveColor: blue\nnamespace: shop\napp: api\n";
    let va = crate::values::parse("a.yaml", text_a).unwrap();
    let vb = crate::values::parse("b.yaml", text_b).unwrap();
    assert_eq!(render_ok(&va), render_ok(&vb));
}

#[test]
fn output_is_readable_block_yaml() {
    for (name, bytes) in render_ok(&full()) {
        let raw = String::from_utf8(bytes).unwrap();
        assert!(
            raw.starts_with(
                "# Generated by greenlight from values.yaml; edit values, not this file.\n"
            ),
            "{name} header:\n{raw}"
        );
        assert!(
            raw.ends_with('\n') && !raw.ends_with("\n\n"),
            "{name} ending"
        );
        for line in raw.lines() {
            assert!(!line.trim().is_empty(), "{name}: blank line");
            assert_eq!(line, line.trim_end(), "{name}: trailing space in {line:?}");
            let indent = line.len() - line.trim_start().len();
            assert_eq!(indent % 2, 0, "{name}: odd indent in {line:?}");
            assert!(!line.contains('\t'), "{name}: tab in {line:?}");
        }
    }
}

// ---- errors ---------------------------------------------------------------------------

#[test]
fn override_render_errors_name_the_template_and_cause() {
    let templates = Templates::with_overrides(BTreeMap::from([(
        "service.yaml.tera".to_owned(),
        "kind: Service\nmetadata:\n  name: {{ service.nmae | q }}\n".to_owned(),
    )]))
    .unwrap();
    let err = render(
        &minimal(),
        &Running::same(&minimal()),
        "production",
        &templates,
    )
    .unwrap_err();
    match &err {
        RenderError::Template {
            template,
            origin,
            cause,
        } => {
            assert_eq!(template, "service.yaml.tera");
            assert_eq!(*origin, TemplateSource::Override);
            assert!(cause.contains("service.nmae"), "{cause}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn override_output_is_checked() {
    let injected = Templates::builtin_text("service.yaml.tera")
        .unwrap()
        .to_owned()
        + "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen\n";
    let templates =
        Templates::with_overrides(BTreeMap::from([("service.yaml.tera".to_owned(), injected)]))
            .unwrap();
    let err = render(
        &minimal(),
        &Running::same(&minimal()),
        "production",
        &templates,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("template `service.yaml.tera` (override from templates/)"),
        "{err}"
    );
    let err = output_problem(err);
    assert_eq!(
        err,
        RenderError::OutputCheck {
            file: "api-preview.service.yaml".into(),
            document: 2,
            problem: OutputProblem::DocumentCount { found: 2 },
        }
    );

    let renamed = Templates::builtin_text("ingress.yaml.tera")
        .unwrap()
        .replace("name: {{ ingress.name | q }}", "name: other");
    let templates =
        Templates::with_overrides(BTreeMap::from([("ingress.yaml.tera".to_owned(), renamed)]))
            .unwrap();
    let err = output_problem(
        render(&full(), &Running::same(&full()), "production", &templates).unwrap_err(),
    );
    assert!(
        matches!(
            &err,
            RenderError::OutputCheck {
                problem: OutputProblem::Mismatch {
                    field: "metadata.name",
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
}

// ---- routing modes ------------------------------------------------------------------------

/// The workload fixture: every pass-through block and companion.
fn workload_values() -> Values {
    crate::values::parse(
        "workload/values.yaml",
        include_str!("../../fixtures/render/workload/values.yaml"),
    )
    .unwrap()
}

fn istio_values() -> Values {
    let mut v = minimal();
    v.routing = Routing::Istio;
    v.istio = Some(crate::values::Istio {
        hosts: vec!["api.example.com".into()],
        gateway: Some(crate::values::IstioGateway {
            port: Some(8443),
            credential_name: Some("api-tls".into()),
            selector: BTreeMap::new(),
        }),
        existing_gateway: None,
        test_route: None,
    });
    v
}

fn gateway_api_values() -> Values {
    let mut v = minimal();
    v.routing = Routing::GatewayApi;
    v.gateway_api = Some(crate::values::GatewayApi {
        parent_refs: vec![crate::values::ParentRef {
            name: "public".into(),
            namespace: Some("gateways".into()),
            section_name: None,
        }],
        hostnames: vec!["api.example.com".into()],
        preview_header: None,
    });
    v
}

/// Every line that differs between the renders of `a` and `b`, as `-old` / `+new`.
fn changed_lines(a: &FileMap, b: &FileMap) -> Vec<String> {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same files are rendered"
    );
    let mut out = Vec::new();
    for (name, old) in a {
        let old = String::from_utf8_lossy(old);
        let new = String::from_utf8_lossy(&b[name]);
        for change in similar::TextDiff::from_lines(old.as_ref(), new.as_ref()).iter_all_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Equal => continue,
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
            };
            out.push(format!("{name}: {sign}{}", change.value().trim()));
        }
    }
    out
}

#[test]
fn istio_renders_gateway_virtual_service_destination_rule_and_app_service() {
    let files = render_ok(&istio_values());
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "api-blue.deployment.yaml",
            "api-green.deployment.yaml",
            "api.destinationrule.yaml",
            "api.gateway.yaml",
            "api.service.yaml",
            "api.virtualservice.yaml",
            "kustomization.yaml",
        ]
    );
    let svc = doc(&files, "api.service.yaml");
    let selector: BTreeMap<String, String> =
        serde_json::from_value(at(&svc, &["spec", "selector"]).clone()).unwrap();
    assert_eq!(selector, BTreeMap::from([("app".into(), "api".into())]));

    let dr = doc(&files, "api.destinationrule.yaml");
    assert_eq!(at(&dr, &["apiVersion"]), "networking.istio.io/v1");
    assert_eq!(at(&dr, &["spec", "host"]), "api");
    for (i, color) in ["blue", "green"].iter().enumerate() {
        let i = i.to_string();
        assert_eq!(at(&dr, &["spec", "subsets", &i, "name"]), *color);
        assert_eq!(at(&dr, &["spec", "subsets", &i, "labels", "color"]), *color);
    }

    let gw = doc(&files, "api.gateway.yaml");
    let server = at(&gw, &["spec", "servers", "0"]);
    assert_eq!(at(server, &["port", "number"]).as_u64(), Some(8443));
    assert_eq!(at(server, &["port", "protocol"]), "HTTPS");
    assert_eq!(at(server, &["tls", "mode"]), "SIMPLE");
    assert_eq!(at(server, &["tls", "credentialName"]), "api-tls");
    assert_eq!(at(server, &["hosts", "0"]), "api.example.com");
    assert_eq!(at(&gw, &["spec", "selector", "istio"]), "ingressgateway");
}

#[test]
fn istio_test_route_precedes_the_default_route_while_idle_runs() {
    let files = render_ok(&istio_values());
    let vs = doc(&files, "api.virtualservice.yaml");
    assert_eq!(at(&vs, &["spec", "gateways", "0"]), "api");
    assert_eq!(at(&vs, &["spec", "hosts", "0"]), "api.example.com");
    let http = at(&vs, &["spec", "http"]).as_array().unwrap();
    assert_eq!(http.len(), 2);
    let test = &http[0];
    assert_eq!(
        at(test, &["match", "0", "headers", "cookie", "regex"]),
        "^(.*?;)?(test=true)(;.*)?$"
    );
    assert_eq!(at(test, &["route", "0", "destination", "subset"]), "green");
    assert_eq!(at(test, &["route", "0", "destination", "host"]), "api");
    let default = &http[1];
    assert!(
        default.get("match").is_none(),
        "the default route matches all"
    );
    assert_eq!(
        at(default, &["route", "0", "destination", "subset"]),
        "blue"
    );
    assert_eq!(
        at(default, &["route", "0", "destination", "port", "number"]).as_u64(),
        Some(80)
    );
}

#[test]
fn istio_test_route_disappears_when_idle_is_scaled_to_zero() {
    let mut v = istio_values();
    v.green.replicas = 0;
    let vs = doc(&render_ok(&v), "api.virtualservice.yaml");
    let http = at(&vs, &["spec", "http"]).as_array().unwrap();
    assert_eq!(http.len(), 1);
    assert_eq!(
        at(&http[0], &["route", "0", "destination", "subset"]),
        "blue"
    );
}

#[test]
fn istio_header_test_route_and_existing_gateway() {
    let mut v = istio_values();
    let istio = v.istio.as_mut().unwrap();
    istio.gateway = None;
    istio.existing_gateway = Some("istio-system/public".into());
    istio.test_route = Some(crate::values::TestRoute {
        cookie: None,
        header: Some(crate::values::HeaderMatch {
            name: "x-canary".into(),
            value: "yes".into(),
        }),
    });
    let files = render_ok(&v);
    assert!(!files.contains_key("api.gateway.yaml"));
    let vs = doc(&files, "api.virtualservice.yaml");
    assert_eq!(at(&vs, &["spec", "gateways", "0"]), "istio-system/public");
    let test = at(&vs, &["spec", "http", "0"]);
    assert_eq!(
        at(test, &["match", "0", "headers", "x-canary", "exact"]),
        "yes"
    );
    assert!(at(test, &["match", "0", "headers"]).get("cookie").is_none());
}

#[test]
fn istio_promotion_changes_only_the_subset_lines() {
    let staged = istio_values();
    let mut promoted = staged.clone();
    promoted.live_color = Color::Green;
    let changes = changed_lines(&render_ok(&staged), &render_ok(&promoted));
    assert_eq!(
        changes,
        [
            "api.virtualservice.yaml: -subset: \"green\"",
            "api.virtualservice.yaml: +subset: \"blue\"",
            "api.virtualservice.yaml: -subset: \"blue\"",
            "api.virtualservice.yaml: +subset: \"green\"",
        ]
    );
}

#[test]
fn istio_without_its_block_is_an_error() {
    let mut v = istio_values();
    v.istio = None;
    let err = render(&v, &Running::same(&v), "production", &Templates::builtin()).unwrap_err();
    assert!(err.to_string().contains("istio"), "{err}");
}

#[test]
fn gateway_api_weights_live_100_and_routes_the_preview_header_to_idle() {
    let files = render_ok(&gateway_api_values());
    for color in ["blue", "green"] {
        let svc = doc(&files, &format!("api-{color}.service.yaml"));
        assert_eq!(at(&svc, &["spec", "selector", "color"]), color);
        assert_eq!(at(&svc, &["spec", "selector", "app"]), "api");
    }
    assert!(!files.contains_key("api.service.yaml"));
    let route = doc(&files, "api.httproute.yaml");
    assert_eq!(at(&route, &["apiVersion"]), "gateway.networking.k8s.io/v1");
    assert_eq!(at(&route, &["spec", "parentRefs", "0", "name"]), "public");
    assert_eq!(
        at(&route, &["spec", "parentRefs", "0", "namespace"]),
        "gateways"
    );
    assert_eq!(at(&route, &["spec", "hostnames", "0"]), "api.example.com");
    let rules = at(&route, &["spec", "rules"]).as_array().unwrap();
    assert_eq!(rules.len(), 2);
    let header = at(&rules[0], &["matches", "0", "headers", "0"]);
    assert_eq!(at(header, &["type"]), "Exact");
    assert_eq!(at(header, &["name"]), "x-greenlight-preview");
    assert_eq!(at(header, &["value"]), "true");
    assert_eq!(at(&rules[0], &["backendRefs", "0", "name"]), "api-green");
    let backends = at(&rules[1], &["backendRefs"]).as_array().unwrap();
    let weights: Vec<(String, u64)> = backends
        .iter()
        .map(|b| {
            (
                at(b, &["name"]).as_str().unwrap().to_owned(),
                at(b, &["weight"]).as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(weights, [("api-blue".into(), 100), ("api-green".into(), 0)]);
    assert_eq!(weights.iter().map(|(_, w)| w).sum::<u64>(), 100);
}

#[test]
fn gateway_api_preview_rule_disappears_when_idle_is_scaled_to_zero() {
    let mut v = gateway_api_values();
    v.green.replicas = 0;
    let route = doc(&render_ok(&v), "api.httproute.yaml");
    let rules = at(&route, &["spec", "rules"]).as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert!(rules[0].get("matches").is_none());
}

#[test]
fn gateway_api_promotion_changes_only_weights_and_preview_backend() {
    let staged = gateway_api_values();
    let mut promoted = staged.clone();
    promoted.live_color = Color::Green;
    let changes = changed_lines(&render_ok(&staged), &render_ok(&promoted));
    assert_eq!(
        changes,
        [
            "api.httproute.yaml: -- name: \"api-green\"",
            "api.httproute.yaml: +- name: \"api-blue\"",
            "api.httproute.yaml: -weight: 100",
            "api.httproute.yaml: +weight: 0",
            "api.httproute.yaml: -weight: 0",
            "api.httproute.yaml: +weight: 100",
        ]
    );
}

// ---- GitOps wiring ------------------------------------------------------------------------

fn wired() -> Values {
    let mut v = minimal();
    v.flux = Some(crate::values::Flux {
        source_ref: crate::values::SourceRef {
            kind: "GitRepository".into(),
            name: "gitops".into(),
            namespace: None,
        },
        interval: None,
        prune: Some(false),
        namespace: None,
    });
    v.argocd = Some(crate::values::ArgoCd {
        project: None,
        repo_url: "https://git.example.com/gitops.git".into(),
        target_revision: Some("main".into()),
        destination: crate::values::ArgoDestination {
            server: None,
            name: Some("eu-west".into()),
        },
        automated: None,
        namespace: None,
    });
    v
}

#[test]
fn flux_and_argocd_point_at_the_environment_folder_and_stay_out_of_the_kustomization() {
    let files = render(
        &wired(),
        &Running::same(&wired()),
        "production/eu-west",
        &Templates::builtin(),
    )
    .unwrap();
    let kustomization = text(&files, "kustomization.yaml");
    assert!(
        !kustomization.contains("flux-kustomization"),
        "{kustomization}"
    );
    assert!(
        !kustomization.contains("argocd-application"),
        "{kustomization}"
    );

    let flux = doc(&files, "api.flux-kustomization.yaml");
    assert_eq!(at(&flux, &["apiVersion"]), "kustomize.toolkit.fluxcd.io/v1");
    assert_eq!(at(&flux, &["metadata", "name"]), "api-production-eu-west");
    assert_eq!(at(&flux, &["metadata", "namespace"]), "flux-system");
    assert_eq!(
        at(&flux, &["spec", "path"]),
        "./rendered/production/eu-west"
    );
    assert_eq!(at(&flux, &["spec", "prune"]).as_bool(), Some(false));
    assert_eq!(at(&flux, &["spec", "interval"]), "10m");
    assert_eq!(at(&flux, &["spec", "sourceRef", "kind"]), "GitRepository");
    assert!(at(&flux, &["spec", "sourceRef"]).get("namespace").is_none());

    let app = doc(&files, "api.argocd-application.yaml");
    assert_eq!(at(&app, &["apiVersion"]), "argoproj.io/v1alpha1");
    assert_eq!(at(&app, &["metadata", "namespace"]), "argocd");
    assert_eq!(at(&app, &["spec", "project"]), "default");
    assert_eq!(
        at(&app, &["spec", "source", "path"]),
        "rendered/production/eu-west"
    );
    assert_eq!(at(&app, &["spec", "source", "targetRevision"]), "main");
    assert_eq!(at(&app, &["spec", "destination", "name"]), "eu-west");
    assert_eq!(at(&app, &["spec", "destination", "namespace"]), "shop");
    assert!(at(&app, &["spec", "destination"]).get("server").is_none());
    assert!(
        app["spec"].get("syncPolicy").is_none(),
        "manual sync by default"
    );
}

#[test]
fn preview_ingress_is_rendered_only_when_enabled_and_reaches_the_preview_service() {
    let mut v = minimal();
    v.ingress = Some(Ingress {
        host: "api.example.com".into(),
        class_name: None,
        path: None,
        tls: None,
        annotations: BTreeMap::new(),
    });
    assert!(!render_ok(&v).contains_key("api-preview.ingress.yaml"));

    v.preview = Some(crate::values::Preview {
        ingress: Some(crate::values::PreviewIngress {
            host: "preview.api.example.com".into(),
            class_name: Some("nginx".into()),
            tls: None,
        }),
    });
    let files = render_ok(&v);
    let ing = doc(&files, "api-preview.ingress.yaml");
    assert_eq!(at(&ing, &["metadata", "name"]), "api-preview");
    let rule = at(&ing, &["spec", "rules", "0"]);
    assert_eq!(at(rule, &["host"]), "preview.api.example.com");
    assert_eq!(
        at(rule, &["http", "paths", "0", "backend", "service", "name"]),
        "api-preview"
    );
    assert!(text(&files, "kustomization.yaml").contains("api-preview.ingress.yaml"));

    // A promotion flips the preview Service's selector, never the Ingresses.
    let mut promoted = v.clone();
    promoted.live_color = Color::Green;
    let changes = changed_lines(&files, &render_ok(&promoted));
    assert!(
        changes.iter().all(|l| l.contains(".service.yaml")),
        "{changes:?}"
    );
}

/// The output check inside a template's output error.
fn output_problem(err: RenderError) -> RenderError {
    match err {
        RenderError::TemplateOutput { problem, .. } => *problem,
        other => panic!("expected a template output error, got {other:?}"),
    }
}
