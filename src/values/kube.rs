//! Kubernetes fields passed through values (`container`, `pod`, `sidecars`, probes, extra
//! Service ports, `autoscaling`, `podDisruptionBudget`, `networkPolicy`): read as YAML 1.2's
//! core schema types them, and checked as the API server would, against the schema of one
//! pinned Kubernetes version ([`KUBERNETES_VERSION`], embedded from `schema/kubernetes/`, see
//! its `extract.py`): types, required fields and unknown fields, each problem located under
//! its block. Which fields greenlight owns is the caller's rule (`validate`), not the schema's.

use std::sync::OnceLock;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::path::Seg;

/// The Kubernetes version whose schema pass-through values are checked against.
pub const KUBERNETES_VERSION: &str = "1.37.0";

/// The definitions of that version reachable from the [`KubeType`]s (no descriptions).
pub(crate) const DEFINITIONS: &str = include_str!("../../schema/kubernetes/v1.37.0.json");

/// The name by which [`Kube`] asks the values deserializer for a typed JSON value.
pub(crate) const KUBE_TOKEN: &str = "$greenlight::Kube";

/// The Kubernetes types a values block may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeType {
    /// `core/v1` Container.
    Container,
    /// `core/v1` PodSpec.
    PodSpec,
    /// `core/v1` Probe.
    Probe,
    /// `core/v1` ServicePort.
    ServicePort,
    /// `autoscaling/v2` HorizontalPodAutoscalerSpec.
    HpaSpec,
    /// `policy/v1` PodDisruptionBudgetSpec.
    PdbSpec,
    /// `networking/v1` NetworkPolicySpec.
    NetworkPolicySpec,
}

impl KubeType {
    const ALL: [KubeType; 7] = [
        KubeType::Container,
        KubeType::PodSpec,
        KubeType::Probe,
        KubeType::ServicePort,
        KubeType::HpaSpec,
        KubeType::PdbSpec,
        KubeType::NetworkPolicySpec,
    ];

    /// The name of its definition in the Kubernetes OpenAPI schema.
    pub fn definition(self) -> &'static str {
        match self {
            KubeType::Container => "io.k8s.api.core.v1.Container",
            KubeType::PodSpec => "io.k8s.api.core.v1.PodSpec",
            KubeType::Probe => "io.k8s.api.core.v1.Probe",
            KubeType::ServicePort => "io.k8s.api.core.v1.ServicePort",
            KubeType::HpaSpec => "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
            KubeType::PdbSpec => "io.k8s.api.policy.v1.PodDisruptionBudgetSpec",
            KubeType::NetworkPolicySpec => "io.k8s.api.networking.v1.NetworkPolicySpec",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).expect("listed")
    }
}

/// A block of Kubernetes fields from values, as JSON: plain scalars typed by YAML 1.2's core
/// schema (an ambiguous one, such as YAML 1.1's `yes`, is refused where it is read), quoted
/// and block scalars as strings. Serializes as that JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Kube(pub Map<String, Value>);

impl Kube {
    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }
}

impl<'de> Deserialize<'de> for Kube {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Kube, D::Error> {
        struct KubeVisitor;
        impl<'de> Visitor<'de> for KubeVisitor {
            type Value = Kube;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping of Kubernetes fields")
            }
            // The values deserializer hands over the block already typed, as JSON text.
            fn visit_str<E: de::Error>(self, json: &str) -> Result<Kube, E> {
                serde_json::from_str(json).map(Kube).map_err(E::custom)
            }
            // Any other deserializer (a record read back, a test): its own types.
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Kube, D::Error> {
                Map::deserialize(d).map(Kube)
            }
        }
        deserializer.deserialize_newtype_struct(KUBE_TOKEN, KubeVisitor)
    }
}

/// A field of a Kubernetes type that greenlight sets itself, or that values spell elsewhere.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Owned {
    /// The Kubernetes field.
    pub field: &'static str,
    /// Who sets it, for the message (`greenlight names the main container \`app\``).
    pub by: &'static str,
    /// The values key that sets it instead, when there is one (for "set twice").
    pub key: Option<&'static str>,
}

const fn owned(field: &'static str, by: &'static str, key: Option<&'static str>) -> Owned {
    Owned { field, by, key }
}

/// The main container's fields greenlight sets, or that values set at the top level.
pub(crate) const CONTAINER_OWNED: &[Owned] = &[
    owned("name", "greenlight names the main container `app`", None),
    owned(
        "image",
        "the image is values `image` with the colour's `tag` or `digest`",
        None,
    ),
    owned(
        "env",
        "environment variables are the top-level `env`",
        Some("env"),
    ),
    owned(
        "envFrom",
        "the top-level `envFrom` sets it",
        Some("envFrom"),
    ),
    owned(
        "resources",
        "the top-level `resources` sets it",
        Some("resources"),
    ),
    owned(
        "securityContext",
        "the secure container defaults and the top-level `securityContext` set it",
        Some("securityContext"),
    ),
    owned(
        "readinessProbe",
        "the top-level `readinessProbe` sets it",
        Some("readinessProbe"),
    ),
    owned(
        "livenessProbe",
        "the top-level `livenessProbe` sets it",
        Some("livenessProbe"),
    ),
    owned(
        "startupProbe",
        "the top-level `startupProbe` sets it",
        Some("startupProbe"),
    ),
];

/// The pod's fields greenlight sets, or that values set elsewhere.
pub(crate) const POD_OWNED: &[Owned] = &[
    owned(
        "containers",
        "the main container is values `container`, the others `sidecars`",
        Some("sidecars"),
    ),
    owned(
        "securityContext",
        "the secure pod defaults and the top-level `podSecurityContext` set it",
        Some("podSecurityContext"),
    ),
    owned(
        "serviceAccount",
        "it is the deprecated spelling of `serviceAccountName`",
        None,
    ),
    owned(
        "restartPolicy",
        "a Deployment's pods always restart (`Always`)",
        None,
    ),
];

/// The HorizontalPodAutoscaler fields greenlight sets per colour.
pub(crate) const AUTOSCALING_OWNED: &[Owned] = &[
    owned(
        "scaleTargetRef",
        "each colour's HorizontalPodAutoscaler targets that colour's Deployment",
        None,
    ),
    owned(
        "minReplicas",
        "each colour's HorizontalPodAutoscaler starts at that colour's `replicas` (so `stage` \
         pre-scales the idle colour)",
        None,
    ),
];

/// The PodDisruptionBudget fields greenlight sets per colour.
pub(crate) const PDB_OWNED: &[Owned] = &[owned(
    "selector",
    "each colour's PodDisruptionBudget selects that colour's pods",
    None,
)];

/// The NetworkPolicy fields greenlight sets.
pub(crate) const NETWORK_POLICY_OWNED: &[Owned] = &[owned(
    "podSelector",
    "the NetworkPolicy selects the app's pods, both colours",
    None,
)];

/// `block` as a whole `kind` for the schema: with placeholders for the fields greenlight
/// sets itself, so only what values wrote can fail.
pub(crate) fn completed(kind: KubeType, block: &Map<String, Value>) -> Value {
    let mut full = block.clone();
    let mut fill = |field: &str, value: Value| {
        full.entry(field.to_owned()).or_insert(value);
    };
    match kind {
        KubeType::Container => {
            fill("name", Value::from("app"));
            fill("image", Value::from("image"));
        }
        KubeType::PodSpec => fill("containers", Value::Array(Vec::new())),
        KubeType::HpaSpec => {
            fill(
                "scaleTargetRef",
                serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "app"}),
            );
            fill("minReplicas", Value::from(1));
        }
        _ => {}
    }
    Value::Object(full)
}

/// The JSON Schema definitions the values schema refers to for pass-through blocks
/// (`#/definitions/<name>`): the Kubernetes definitions, and each block's own form (its
/// Kubernetes type without the fields greenlight owns).
pub(crate) fn schema_definitions() -> Map<String, Value> {
    let defs = definitions()["$defs"].as_object().expect("$defs");
    let mut out = Map::new();
    for (name, def) in defs {
        out.insert(name.clone(), retarget(def.clone()));
    }
    let without = |kind: KubeType, owned: &[Owned], required: &[&str]| {
        let mut def = out[kind.definition()].clone();
        if let Some(props) = def["properties"].as_object_mut() {
            for o in owned {
                props.remove(o.field);
            }
        }
        def["required"] = Value::from(required.to_vec());
        def
    };
    let blocks = [
        (
            "greenlight.Container",
            without(KubeType::Container, CONTAINER_OWNED, &[]),
        ),
        (
            "greenlight.PodSpec",
            without(KubeType::PodSpec, POD_OWNED, &[]),
        ),
        (
            "greenlight.Autoscaling",
            without(KubeType::HpaSpec, AUTOSCALING_OWNED, &["maxReplicas"]),
        ),
        (
            "greenlight.PodDisruptionBudget",
            without(KubeType::PdbSpec, PDB_OWNED, &[]),
        ),
        (
            "greenlight.NetworkPolicy",
            without(KubeType::NetworkPolicySpec, NETWORK_POLICY_OWNED, &[]),
        ),
        (
            "greenlight.ServicePort",
            without(KubeType::ServicePort, &[], &["name", "port"]),
        ),
    ];
    for (name, def) in blocks {
        out.insert(name.to_owned(), def);
    }
    out
}

/// A definition with its references pointing at `#/definitions/` (draft-07's place).
fn retarget(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| k != "$schema")
                .map(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        (k, Value::String(r.replace("#/$defs/", "#/definitions/")))
                    }
                    (_, v) => (k, retarget(v)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(retarget).collect()),
        other => other,
    }
}

fn reference(name: &str, description: &str) -> schemars::Schema {
    let mut schema = schemars::json_schema!({"$ref": format!("#/definitions/{name}")});
    schema.insert("description".to_owned(), description.into());
    schema
}

fn list_of(name: &str, description: &str) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": {"$ref": format!("#/definitions/{name}")},
        "description": description,
    })
}

pub(crate) fn schema_container(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    reference(
        "greenlight.Container",
        "More fields of the main container (core/v1 Container without the fields greenlight sets).",
    )
}

pub(crate) fn schema_pod(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    reference(
        "greenlight.PodSpec",
        "More fields of the pod (core/v1 PodSpec without `containers` and `securityContext`).",
    )
}

pub(crate) fn schema_sidecars(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    list_of(
        "io.k8s.api.core.v1.Container",
        "More containers in every pod (core/v1 Containers).",
    )
}

pub(crate) fn schema_autoscaling(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    reference(
        "greenlight.Autoscaling",
        "A HorizontalPodAutoscaler per running colour (autoscaling/v2 spec without \
         `scaleTargetRef` and `minReplicas`).",
    )
}

pub(crate) fn schema_pdb(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    reference(
        "greenlight.PodDisruptionBudget",
        "A PodDisruptionBudget per running colour (policy/v1 spec without `selector`).",
    )
}

pub(crate) fn schema_network_policy(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    reference(
        "greenlight.NetworkPolicy",
        "One NetworkPolicy for both colours (networking/v1 spec without `podSelector`).",
    )
}

pub(crate) fn schema_service_ports(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    list_of(
        "greenlight.ServicePort",
        "Extra Service ports (core/v1 ServicePorts, each named).",
    )
}

pub(crate) fn schema_http_get(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    reference(
        "io.k8s.api.core.v1.HTTPGetAction",
        "An HTTP GET (core/v1 HTTPGetAction).",
    )
}

pub(crate) fn schema_exec(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    reference(
        "io.k8s.api.core.v1.ExecAction",
        "A command (core/v1 ExecAction).",
    )
}

pub(crate) fn schema_tcp_socket(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    reference(
        "io.k8s.api.core.v1.TCPSocketAction",
        "A TCP connection (core/v1 TCPSocketAction).",
    )
}

pub(crate) fn schema_grpc(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    reference(
        "io.k8s.api.core.v1.GRPCAction",
        "A gRPC health check (core/v1 GRPCAction).",
    )
}

/// One problem the schema found in a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaProblem {
    /// Where, under the block; for an unknown field, the field itself.
    pub path: Vec<Seg>,
    /// Whether the problem is the key at `path` (an unknown field) rather than its value.
    pub on_key: bool,
    /// What is wrong.
    pub message: String,
    /// What was expected.
    pub expected: String,
    /// A "did you mean".
    pub hint: Option<String>,
}

fn definitions() -> &'static Value {
    static DEFS: OnceLock<Value> = OnceLock::new();
    DEFS.get_or_init(|| serde_json::from_str(DEFINITIONS).expect("the embedded schema is JSON"))
}

fn validator(kind: KubeType) -> &'static jsonschema::Validator {
    static VALIDATORS: [OnceLock<jsonschema::Validator>; 7] = [const { OnceLock::new() }; 7];
    VALIDATORS[kind.index()].get_or_init(|| {
        let mut schema = definitions().clone();
        schema["$ref"] = Value::String(format!("#/$defs/{}", kind.definition()));
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&schema)
            .expect("the embedded schema compiles")
    })
}

/// The fields of Kubernetes definition `name`, sorted.
fn fields_of(name: &str) -> Vec<&'static str> {
    definitions()["$defs"][name]["properties"]
        .as_object()
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The fields a block of `kind` may hold, for messages and completions.
pub fn fields(kind: KubeType) -> Vec<&'static str> {
    fields_of(kind.definition())
}

/// Every problem of `value` as a `kind`, sorted by path. `owned` fields (refused before,
/// by the caller) are not offered as what the block may hold.
pub(crate) fn check(kind: KubeType, value: &Value, owned: &[Owned]) -> Vec<SchemaProblem> {
    let mut problems: Vec<SchemaProblem> = validator(kind)
        .iter_errors(value)
        .flat_map(|e| problems_of(&e, value, owned))
        .collect();
    problems.sort_by_key(|p| path_key(&p.path));
    problems.dedup();
    problems
}

fn path_key(path: &[Seg]) -> Vec<(usize, String)> {
    path.iter()
        .map(|s| match s {
            Seg::Index(i) => (*i, String::new()),
            Seg::Key(k) => (0, k.clone()),
        })
        .collect()
}

/// `pointer` (a JSON pointer into `root`) as key-path segments.
fn segments(pointer: &str, root: &Value) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut node = Some(root);
    for raw in pointer.split('/').skip(1) {
        let token = raw.replace("~1", "/").replace("~0", "~");
        match node {
            Some(Value::Array(items)) => {
                let i = token.parse().unwrap_or(0);
                node = items.get(i);
                out.push(Seg::Index(i));
            }
            Some(Value::Object(map)) => {
                node = map.get(&token);
                out.push(Seg::Key(token));
            }
            _ => {
                node = None;
                out.push(Seg::Key(token));
            }
        }
    }
    out
}

/// The definition a schema location is inside (`/$defs/<name>/…`).
fn definition_at(schema_path: &str) -> Option<&str> {
    schema_path.strip_prefix("/$defs/")?.split('/').next()
}

/// A type as messages name it: `a string`, `an integer`, …
fn type_name(schema: &Value) -> String {
    if let Some(options) = schema["oneOf"].as_array() {
        let names: Vec<String> = options.iter().map(type_name).collect();
        return names.join(" or ");
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return type_name(&definitions()["$defs"][name]);
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let named: Vec<&str> = types
        .into_iter()
        .filter(|t| *t != "null")
        .map(|t| match t {
            "string" => "a string",
            "integer" => "an integer",
            "number" => "a number",
            "boolean" => "`true` or `false`",
            "array" => "a list",
            "object" => "a mapping",
            other => other,
        })
        .collect();
    if named.is_empty() {
        "a value".to_owned()
    } else {
        named.join(" or ")
    }
}

/// The schema node at `schema_path` (a JSON pointer into the definitions document).
fn schema_at(schema_path: &str) -> &'static Value {
    let mut node = definitions();
    for raw in schema_path.split('/').skip(1) {
        let token = raw.replace("~1", "/").replace("~0", "~");
        node = match node {
            Value::Object(m) => m.get(&token).unwrap_or(&Value::Null),
            Value::Array(a) => token
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get(i))
                .unwrap_or(&Value::Null),
            _ => &Value::Null,
        };
    }
    node
}

/// A schema location without its last keyword (`…/properties/port/type` → `…/properties/port`).
fn parent(schema_path: &str) -> &str {
    schema_path.rsplit_once('/').map_or("", |(p, _)| p)
}

fn problems_of(
    e: &jsonschema::ValidationError<'_>,
    root: &Value,
    owned: &[Owned],
) -> Vec<SchemaProblem> {
    use jsonschema::error::ValidationErrorKind as K;
    let pointer = e.instance_path().as_str().to_owned();
    let schema_path = e.schema_path().as_str().to_owned();
    let path = segments(&pointer, root);
    let definition = definition_at(&schema_path).unwrap_or("");
    let short = definition.rsplit('.').next().unwrap_or(definition);
    let problem = |path: Vec<Seg>, on_key, message: String, expected: String, hint| SchemaProblem {
        path,
        on_key,
        message,
        expected,
        hint,
    };
    match e.kind() {
        K::AdditionalProperties { unexpected } => {
            let mut known = fields_of(definition);
            if path.is_empty() {
                known.retain(|f| !owned.iter().any(|o| o.field == *f));
            }
            unexpected
                .iter()
                .map(|field| {
                    let mut at = path.clone();
                    at.push(Seg::Key(field.clone()));
                    problem(
                        at,
                        true,
                        format!("`{field}` is not a field of a Kubernetes {short}"),
                        format!("one of {}", crate::suggest::list(&known)),
                        crate::suggest::closest(field, &known)
                            .map(|s| format!("did you mean `{s}`?")),
                    )
                })
                .collect()
        }
        K::Required { property } => {
            let field = property.as_str().unwrap_or_default();
            vec![problem(
                path,
                false,
                format!("a Kubernetes {short} needs `{field}`"),
                format!(
                    "`{field}`: {}",
                    type_name(&definitions()["$defs"][definition]["properties"][field])
                ),
                None,
            )]
        }
        K::Type { .. } => {
            let expected = type_name(schema_at(parent(&schema_path)));
            let numeric = expected.contains("integer") || expected.contains("number");
            let quoted_number = numeric
                && e.instance()
                    .as_str()
                    .is_some_and(|s| s.parse::<f64>().is_ok());
            let scalar = !e.instance().is_object() && !e.instance().is_array();
            let hint = if quoted_number {
                Some("remove the quotes".to_owned())
            } else if expected == "a string" && scalar {
                Some(format!("quote it: `\"{}\"`", e.instance()))
            } else {
                None
            };
            vec![problem(
                path,
                false,
                format!("{} is not {expected}", shown(e.instance())),
                expected,
                hint,
            )]
        }
        K::OneOfNotValid { .. } => {
            let expected = type_name(schema_at(parent(&schema_path)));
            vec![problem(
                path,
                false,
                format!("{} is not {expected}", shown(e.instance())),
                expected,
                None,
            )]
        }
        _ => vec![problem(
            path,
            false,
            e.to_string(),
            format!("a valid Kubernetes {short}"),
            None,
        )],
    }
}

/// A value as messages show it: JSON, cut after 60 characters.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(path: &[Seg]) -> String {
        super::super::path::KeyPath(path.to_vec()).to_string()
    }

    #[test]
    fn every_type_compiles_and_accepts_an_empty_or_minimal_block() {
        for kind in KubeType::ALL {
            let minimal = match kind {
                KubeType::Container => json!({"name": "sidecar"}),
                KubeType::PodSpec => json!({"containers": []}),
                KubeType::ServicePort => json!({"port": 9090}),
                KubeType::HpaSpec => json!({
                    "maxReplicas": 3,
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "a"}
                }),
                _ => json!({}),
            };
            assert_eq!(check(kind, &minimal, &[]), [], "{kind:?}");
            assert!(!fields(kind).is_empty(), "{kind:?}");
        }
    }

    #[test]
    fn unknown_fields_are_located_with_a_suggestion() {
        let problems = check(
            KubeType::Container,
            &json!({"name": "a", "comand": ["x"], "ports": [{"containerPort": 1, "nmae": "g"}]}),
            CONTAINER_OWNED,
        );
        let shown: Vec<(String, bool, &str, Option<&str>)> = problems
            .iter()
            .map(|p| {
                (
                    keys(&p.path),
                    p.on_key,
                    p.message.as_str(),
                    p.hint.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "comand".to_owned(),
                    true,
                    "`comand` is not a field of a Kubernetes Container",
                    Some("did you mean `command`?")
                ),
                (
                    "ports[0].nmae".to_owned(),
                    true,
                    "`nmae` is not a field of a Kubernetes ContainerPort",
                    Some("did you mean `name`?")
                ),
            ]
        );
        assert!(problems[0].expected.contains("`command`"));
        // What greenlight sets is not offered.
        assert!(
            !problems[0].expected.contains("`image`"),
            "{}",
            problems[0].expected
        );
        assert!(
            problems[1].expected.contains("`name`"),
            "{}",
            problems[1].expected
        );
    }

    #[test]
    fn types_and_required_fields_are_named_as_kubernetes_spells_them() {
        let problems = check(
            KubeType::Container,
            &json!({
                "name": "a",
                "args": [1],
                "ports": [{"containerPort": "80"}],
                "readinessProbe": {"tcpSocket": {"port": 1.5}},
                "volumeMounts": [{"name": "data"}]
            }),
            &[],
        );
        let shown: Vec<(String, &str, &str)> = problems
            .iter()
            .map(|p| (keys(&p.path), p.message.as_str(), p.expected.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("args[0]".to_owned(), "1 is not a string", "a string"),
                (
                    "ports[0].containerPort".to_owned(),
                    "\"80\" is not an integer",
                    "an integer"
                ),
                (
                    "readinessProbe.tcpSocket.port".to_owned(),
                    "1.5 is not a string or an integer",
                    "a string or an integer"
                ),
                (
                    "volumeMounts[0]".to_owned(),
                    "a Kubernetes VolumeMount needs `mountPath`",
                    "`mountPath`: a string"
                ),
            ]
        );
    }

    #[test]
    fn the_embedded_schema_names_its_version() {
        let comment = definitions()["$comment"].as_str().unwrap();
        assert!(comment.starts_with(&format!("Kubernetes v{KUBERNETES_VERSION} ")));
        for kind in KubeType::ALL {
            assert!(comment.contains(kind.definition()), "{kind:?}");
        }
    }
}
