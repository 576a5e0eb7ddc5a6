//! The values model: the typed form of one `environments/<env>/values.yaml`.
//!
//! Everything both colours share is written once at the top level; a colour block
//! ([`ColorSpec`]) holds only what may differ between the colours: the image tag or digest
//! and the replica count. So the two colours cannot drift apart in configuration.
//! This module only declares the shape; parsing with locations lives in `values::parse`,
//! semantic checks in `values::validate`.

use std::collections::BTreeMap;
use std::fmt;

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

pub use super::kube::Kube;
pub use super::names::{AppName, Digest, ImageRepository, Namespace, Tag};

/// Label keys greenlight sets itself on what it renders, and why; values may not set them.
pub const RESERVED_LABELS: &[(&str, &str)] = &[
    ("app", "the Services select pods by it"),
    ("color", "the Services select pods by it"),
    ("app.kubernetes.io/name", "it names the application"),
    (
        "app.kubernetes.io/instance",
        "it names the colour's Deployment",
    ),
    (
        "app.kubernetes.io/version",
        "it is derived from the colour's image",
    ),
    (
        "app.kubernetes.io/managed-by",
        "it marks greenlight's output",
    ),
];

/// The name of the writable `/tmp` volume every pod gets.
pub const TMP_VOLUME: &str = "tmp";
/// The name of the volume of a mounted `configMap`.
pub const CONFIG_VOLUME: &str = "config";

/// The pod-template annotation greenlight sets to the checksum of the pods' shared
/// configuration; values may not set it.
pub const CHECKSUM_ANNOTATION: &str = "checksum/values";

/// One application in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Values {
    /// Application name (DNS-1035 label, at most 55 characters); names every rendered
    /// resource.
    pub app: AppName,
    /// Namespace the resources are rendered into (DNS-1123 label).
    pub namespace: Namespace,
    /// The colour that receives production traffic.
    pub live_color: Color,
    /// Image repository without tag or digest, e.g. `registry.example.com/shop/api`.
    pub image: ImageRepository,
    /// The blue colour's image and replica count.
    pub blue: ColorSpec,
    /// The green colour's image and replica count.
    pub green: ColorSpec,
    /// Container port the application listens on (1–65535).
    #[schemars(range(min = 1, max = 65535))]
    pub port: u32,
    /// Port the Services expose (1–65535); defaults to 80.
    #[serde(default)]
    #[schemars(range(min = 1, max = 65535))]
    pub service_port: Option<u32>,
    /// HTTP readiness probe, on both colours.
    pub readiness_probe: Probe,
    /// Optional liveness probe, on both colours.
    #[serde(default)]
    pub liveness_probe: Option<Probe>,
    /// Optional startup probe, on both colours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
    /// Container resources; the deployment template's defaults apply when absent.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Environment variables by name (sorted on output).
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    /// Whole ConfigMaps / Secrets exposed as environment variables, in order.
    #[serde(default)]
    pub env_from: Vec<EnvFrom>,
    /// The Ingress; absent means no Ingress is rendered.
    #[serde(default)]
    pub ingress: Option<Ingress>,
    /// How traffic is switched between colours.
    #[serde(default)]
    pub routing: Routing,
    /// Preview options of `routing: service`: the preview Service is internal unless a
    /// preview Ingress is enabled here.
    #[serde(default)]
    pub preview: Option<Preview>,
    /// Settings of `routing: istio` (required by it, refused by the other modes).
    #[serde(default)]
    pub istio: Option<Istio>,
    /// Settings of `routing: gateway-api` (required by it, refused by the other modes).
    #[serde(default)]
    pub gateway_api: Option<GatewayApi>,
    /// Render a Flux `Kustomization` that applies `rendered/<env>` (applied once by hand).
    #[serde(default)]
    pub flux: Option<Flux>,
    /// Render an Argo CD `Application` that syncs `rendered/<env>` (applied once by hand).
    #[serde(default)]
    pub argocd: Option<ArgoCd>,
    /// How the cluster reports back (with `flux` or `argocd`): a chat hearing of every release
    /// it applies, and the commit status `promote --require-status` and `wait` read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<super::notify::Notify>,
    /// Extra labels on every rendered resource and pod template.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Extra annotations on every rendered resource and pod template.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Overrides of the secure pod-level defaults.
    #[serde(default)]
    pub pod_security_context: PodSecurityContext,
    /// Overrides of the secure container-level defaults.
    #[serde(default)]
    pub security_context: SecurityContext,
    /// A ConfigMap released with each colour, named after its content (`<app>-<hash>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapSpec>,
    /// More fields of the main container: any core/v1 Container field but those greenlight
    /// sets (`name`, `image`) or that have their own key (`env`, `envFrom`, `resources`,
    /// `securityContext`, the probes). `ports` and `volumeMounts` add to greenlight's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::kube::schema_container")]
    pub container: Option<Kube>,
    /// More fields of the pod: any core/v1 PodSpec field but `containers` (see `container`
    /// and `sidecars`) and `securityContext` (see `podSecurityContext`). `volumes` add to
    /// greenlight's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::kube::schema_pod")]
    pub pod: Option<Kube>,
    /// More containers in every pod (core/v1 Containers), after the main one; each gets the
    /// secure container defaults unless it sets its own `securityContext`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "super::kube::schema_sidecars")]
    pub sidecars: Vec<Kube>,
    /// Labels of the pod template only (the Deployments' selectors do not change).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_labels: BTreeMap<String, String>,
    /// Annotations of the pod template only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_annotations: BTreeMap<String, String>,
    /// Settings of both colours' Deployments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeploymentOptions>,
    /// Settings of every Service greenlight renders for the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceOptions>,
    /// A HorizontalPodAutoscaler per running colour (`<app>-<colour>`), starting at that
    /// colour's `replicas`; its Deployment then leaves `replicas` to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::kube::schema_autoscaling")]
    pub autoscaling: Option<Kube>,
    /// A PodDisruptionBudget per running colour (policy/v1 spec without `selector`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::kube::schema_pdb")]
    pub pod_disruption_budget: Option<Kube>,
    /// One NetworkPolicy for the app's pods, both colours (networking/v1 spec without
    /// `podSelector`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::kube::schema_network_policy")]
    pub network_policy: Option<Kube>,
    /// The ServiceAccount the pods run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<ServiceAccountSpec>,
}

/// Settings of both colours' Deployments (apps/v1 DeploymentSpec fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentOptions {
    /// Seconds a new pod must be ready before it counts as available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<u32>,
    /// Old ReplicaSets kept for `kubectl rollout undo` (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_history_limit: Option<u32>,
    /// Seconds before a rollout that makes no progress is reported failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_deadline_seconds: Option<u32>,
}

/// Settings of every Service greenlight renders for the app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceOptions {
    /// Extra ports (core/v1 ServicePorts, each named) besides `http`, on the live, preview,
    /// per-colour and routing backend Services.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "super::kube::schema_service_ports")]
    pub ports: Vec<Kube>,
}

/// The ServiceAccount the pods run as: created by greenlight (`create`, the default) or an
/// existing one (`create: false` and `name`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccountSpec {
    /// Render the ServiceAccount (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<bool>,
    /// Its name (default: the app's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Annotations of the ServiceAccount (e.g. a cloud IAM role).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Whether the pods mount its API token (default `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<bool>,
}

impl ServiceAccountSpec {
    /// Whether greenlight renders the ServiceAccount.
    pub fn creates(&self) -> bool {
        self.create.unwrap_or(true)
    }
}

/// The `configMap` block: configuration shipped with a release as a ConfigMap named after its
/// content (`<app>-<10 hex digits>`), so each colour's pods read their own version and a
/// rollback returns to the old one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigMapSpec {
    /// Keys and their values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, Literal>,
    /// Keys whose values are files of the environment's folder: key → path relative to
    /// `environments/<env>/` (read when a colour is staged).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
    /// Where the keys are mounted as files; without it they become environment variables
    /// (`envFrom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
}

/// One of the two colours of a blue-green release.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Color {
    /// The blue colour.
    Blue,
    /// The green colour.
    Green,
}

impl Color {
    /// Both colours, blue first (the order of rendered output).
    pub const ALL: [Color; 2] = [Color::Blue, Color::Green];

    /// The other colour.
    pub fn other(self) -> Color {
        match self {
            Color::Blue => Color::Green,
            Color::Green => Color::Blue,
        }
    }

    /// The lowercase name used in values, labels and resource names.
    pub fn as_str(self) -> &'static str {
        match self {
            Color::Blue => "blue",
            Color::Green => "green",
        }
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Color {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "blue" => Ok(Color::Blue),
            "green" => Ok(Color::Green),
            other => Err(format!(
                "`{other}` is not a colour: expected `blue` or `green`"
            )),
        }
    }
}

/// What may differ between the colours: the image version and the replica count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ColorSpec {
    /// Image tag, e.g. `1.5.0`. Mutually exclusive with `digest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<Tag>,
    /// Image digest, `sha256:<64 hex>`. Mutually exclusive with `tag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    /// Replica count (≥ 0); 0 means the colour is scaled down. Signed so that a negative
    /// value gets a located error instead of a type error.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub replicas: i64,
}

impl ColorSpec {
    /// The version shown to people: the tag, else the digest, else `None`.
    pub fn version(&self) -> Option<&str> {
        self.tag.as_deref().or(self.digest.as_deref())
    }

    /// The full image reference for repository `image`, if this colour has an image.
    pub fn image_ref(&self, image: &str) -> Option<String> {
        match (&self.tag, &self.digest) {
            (_, Some(d)) => Some(format!("{image}@{d}")),
            (Some(t), None) => Some(format!("{image}:{t}")),
            (None, None) => None,
        }
    }
}

/// A probe: the shorthand `path` (an HTTP GET on the `http` port, or `port`), or any
/// core/v1 Probe handler (`httpGet`, `exec`, `tcpSocket`, `grpc`), with the probe's timings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Probe {
    /// HTTP path, starting with `/` (the shorthand for `httpGet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Port of the `path` shorthand, a number or a container port's name; defaults to `http`.
    #[serde(default)]
    pub port: Option<PortRef>,
    /// Seconds before the first probe.
    #[serde(default)]
    pub initial_delay_seconds: Option<u32>,
    /// Seconds between probes.
    #[serde(default)]
    pub period_seconds: Option<u32>,
    /// Seconds before a probe times out.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
    /// Consecutive failures before the probe is considered failed.
    #[serde(default)]
    pub failure_threshold: Option<u32>,
    /// Consecutive successes after a failure before the probe passes again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_threshold: Option<u32>,
    /// Seconds the kubelet waits for the pod to stop after this probe failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_grace_period_seconds: Option<u32>,
    /// An HTTP GET (core/v1 HTTPGetAction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::kube::schema_http_get")]
    pub http_get: Option<Kube>,
    /// A command in the container (core/v1 ExecAction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::kube::schema_exec")]
    pub exec: Option<Kube>,
    /// A TCP connection (core/v1 TCPSocketAction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::kube::schema_tcp_socket")]
    pub tcp_socket: Option<Kube>,
    /// A gRPC health check (core/v1 GRPCAction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::kube::schema_grpc")]
    pub grpc: Option<Kube>,
}

impl Probe {
    /// The handlers set, by their values key: exactly one is valid.
    pub fn handlers(&self) -> Vec<&'static str> {
        [
            ("path", self.path.is_some()),
            ("httpGet", self.http_get.is_some()),
            ("exec", self.exec.is_some()),
            ("tcpSocket", self.tcp_socket.is_some()),
            ("grpc", self.grpc.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect()
    }
}

/// A port by number or by the name of a container port (`http`, `metrics`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PortRef {
    /// A port number.
    Number(u32),
    /// A container port's name.
    Name(String),
}

impl<'de> Deserialize<'de> for PortRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PortRef, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PortRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number or a container port's name")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PortRef, E> {
                u32::try_from(v)
                    .map(PortRef::Number)
                    .map_err(|_| E::custom(format!("`{v}` is out of range")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PortRef, E> {
                u32::try_from(v)
                    .map(PortRef::Number)
                    .map_err(|_| E::custom(format!("`{v}` is out of range")))
            }
            // The values deserializer hands every scalar over as text: digits are a number
            // (a port name always has a letter).
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PortRef, E> {
                match v.parse::<u64>() {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Ok(PortRef::Name(v.to_owned())),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for PortRef {
    fn schema_name() -> Cow<'static, str> {
        "PortRef".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["integer", "string"],
            "description": "A port number (1–65535) or the name of a container port.",
        })
    }
}

/// Container resource requests and limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resources {
    /// Guaranteed resources.
    #[serde(default)]
    pub requests: ResourceList,
    /// Maximum resources.
    #[serde(default)]
    pub limits: ResourceList,
}

/// A set of Kubernetes quantities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceList {
    /// CPU quantity, e.g. `100m` or `1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Quantity>,
    /// Memory quantity, e.g. `256Mi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Quantity>,
    /// Ephemeral storage quantity, e.g. `1Gi`.
    #[serde(
        default,
        rename = "ephemeral-storage",
        skip_serializing_if = "Option::is_none"
    )]
    pub ephemeral_storage: Option<Quantity>,
}

/// A Kubernetes resource quantity as written (`100m`, `1.5`, `256Mi`); YAML numbers are
/// accepted and kept in their written decimal form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Quantity(pub String);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Kubernetes quantity such as `100m`, `1` or `256Mi`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Quantity, E> {
                Ok(Quantity(v.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "number"],
            "description": "A Kubernetes quantity, e.g. `100m`, `1` or `256Mi`.",
        })
    }
}

/// The value of one environment variable: a literal, or a reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum EnvValue {
    /// A literal value (YAML numbers and booleans are kept as written).
    Literal(Literal),
    /// A value read from a Secret, ConfigMap or pod field.
    From(EnvValueFrom),
}

/// Chosen by the shape of the value (scalar or mapping) rather than by trying each variant, so
/// that a mistake inside a reference is reported as that mistake, not as "no variant matched".
impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = EnvValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a string, number or boolean, or a mapping with one of `secretKeyRef`, \
                     `configMapKeyRef` or `fieldRef`",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EnvValue, E> {
                Ok(EnvValue::Literal(Literal(v.to_owned())))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<EnvValue, E> {
                Ok(EnvValue::Literal(Literal(v.to_string())))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<EnvValue, E> {
                Ok(EnvValue::Literal(Literal(v.to_string())))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<EnvValue, E> {
                Ok(EnvValue::Literal(Literal(v.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<EnvValue, E> {
                Ok(EnvValue::Literal(Literal(v.to_string())))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<EnvValue, A::Error> {
                EnvValueFrom::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(EnvValue::From)
            }
        }
        d.deserialize_any(V)
    }
}

/// A scalar written in values, kept as the string the container will see.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Literal(pub String);

impl<'de> Deserialize<'de> for Literal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Literal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Literal, E> {
                Ok(Literal(v.to_owned()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Literal, E> {
                Ok(Literal(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Literal, E> {
                Ok(Literal(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Literal, E> {
                Ok(Literal(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Literal, E> {
                Ok(Literal(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Literal {
    fn schema_name() -> Cow<'static, str> {
        "Literal".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "number", "boolean"],
            "description": "A literal value; numbers and booleans are passed as written.",
        })
    }
}

/// Exactly one source for an environment variable's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvValueFrom {
    /// A key of a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeyRef>,
    /// A key of a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeyRef>,
    /// A field of the pod, e.g. `metadata.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ref: Option<String>,
}

/// A key in a named Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRef {
    /// The Secret or ConfigMap name.
    pub name: String,
    /// The key inside it.
    pub key: String,
}

/// One `envFrom` source: exactly one of `configMap` or `secret`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvFrom {
    /// A ConfigMap whose keys become variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    /// A Secret whose keys become variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Prefix added to every variable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// The Ingress in front of the live Service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ingress {
    /// Host name (DNS-1123 subdomain, optionally with a leading `*.`).
    pub host: String,
    /// IngressClass name.
    #[serde(default)]
    pub class_name: Option<String>,
    /// URL path prefix; defaults to `/`.
    #[serde(default)]
    pub path: Option<String>,
    /// TLS termination with a certificate from a Secret.
    #[serde(default)]
    pub tls: Option<IngressTls>,
    /// Annotations of the Ingress only (e.g. for the controller).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// TLS settings of the Ingress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressTls {
    /// The Secret holding the certificate and key.
    pub secret_name: String,
}

/// The `preview` block of `routing: service`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preview {
    /// An Ingress in front of the preview Service; absent keeps the preview internal.
    #[serde(default)]
    pub ingress: Option<PreviewIngress>,
}

/// The preview Ingress: a separate host that reaches the idle colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviewIngress {
    /// Host name; must differ from `ingress.host`.
    pub host: String,
    /// IngressClass name.
    #[serde(default)]
    pub class_name: Option<String>,
    /// TLS termination with a certificate from a Secret.
    #[serde(default)]
    pub tls: Option<IngressTls>,
}

/// How traffic is switched between colours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Routing {
    /// The Service selects `color: <liveColor>`; a preview Service selects the idle colour.
    #[default]
    Service,
    /// Istio: a Gateway, a VirtualService routing to the live subset (and, while the idle
    /// colour runs, a test route to it) and a DestinationRule with `blue`/`green` subsets.
    Istio,
    /// Gateway API: an HTTPRoute weighting the per-colour Services 100/0, plus a
    /// header-matched rule to the idle colour while it runs.
    GatewayApi,
}

impl Routing {
    /// The name written in values (`service`, `istio`, `gateway-api`).
    pub fn as_str(self) -> &'static str {
        match self {
            Routing::Service => "service",
            Routing::Istio => "istio",
            Routing::GatewayApi => "gateway-api",
        }
    }
}

impl fmt::Display for Routing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `istio` block: which hosts the VirtualService serves, through which Gateway, and how
/// test requests reach the idle colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Istio {
    /// Host names the Gateway and VirtualService serve (at least one).
    pub hosts: Vec<String>,
    /// The Gateway greenlight renders; defaults apply when absent. Not with `existingGateway`.
    #[serde(default)]
    pub gateway: Option<IstioGateway>,
    /// An existing Gateway (`name` or `namespace/name`) to bind to instead of rendering one.
    #[serde(default)]
    pub existing_gateway: Option<String>,
    /// How test requests are told apart; the cookie `test=true` when absent.
    #[serde(default)]
    pub test_route: Option<TestRoute>,
}

/// The Gateway rendered for `routing: istio`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IstioGateway {
    /// Port the gateway listens on; 443 with `credentialName`, else 80.
    #[serde(default)]
    pub port: Option<u32>,
    /// Secret with the TLS certificate: the server becomes HTTPS with TLS mode `SIMPLE`.
    #[serde(default)]
    pub credential_name: Option<String>,
    /// Labels selecting the gateway pods; `istio: ingressgateway` when empty.
    #[serde(default)]
    pub selector: BTreeMap<String, String>,
}

/// How the Istio test route recognises a test request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestRoute {
    /// Match the cookie `test=true` (the default); `false` needs a `header`.
    #[serde(default)]
    pub cookie: Option<bool>,
    /// Match this header instead of the cookie.
    #[serde(default)]
    pub header: Option<HeaderMatch>,
}

/// An HTTP header with an exact value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeaderMatch {
    /// Header name, e.g. `x-preview`.
    pub name: String,
    /// The exact value that selects the idle colour.
    pub value: String,
}

/// The `gatewayApi` block: where the HTTPRoute attaches and how previews are selected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayApi {
    /// The Gateways (or listeners) the HTTPRoute attaches to (at least one).
    pub parent_refs: Vec<ParentRef>,
    /// Host names the route serves; all of the parent's when empty.
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// The header that sends a request to the idle colour; `x-greenlight-preview: "true"`
    /// when absent.
    #[serde(default)]
    pub preview_header: Option<HeaderMatch>,
}

/// The `flux` block: how the rendered Flux `Kustomization` finds the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Flux {
    /// The Flux source holding this repository.
    pub source_ref: SourceRef,
    /// Reconciliation interval (Go duration); `10m` when absent.
    #[serde(default)]
    pub interval: Option<String>,
    /// Delete objects removed from the folder; `true` when absent.
    #[serde(default)]
    pub prune: Option<bool>,
    /// Namespace of the Kustomization object; `flux-system` when absent.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// A Flux source reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceRef {
    /// `GitRepository`, `OCIRepository`, `Bucket` or `ExternalArtifact`.
    pub kind: String,
    /// Source name.
    pub name: String,
    /// Source namespace; the Kustomization's when absent.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// The `argocd` block: the rendered Argo CD `Application`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArgoCd {
    /// Argo CD project; `default` when absent.
    #[serde(default)]
    pub project: Option<String>,
    /// URL of this repository as Argo CD knows it.
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// Branch, tag or commit to sync; `HEAD` when absent.
    #[serde(default)]
    pub target_revision: Option<String>,
    /// The cluster to deploy to.
    pub destination: ArgoDestination,
    /// Sync automatically (with prune and self-heal); manual sync when absent or false.
    #[serde(default)]
    pub automated: Option<bool>,
    /// Namespace of the Application object; `argocd` when absent.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// The cluster of an Argo CD Application: exactly one of `server` and `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArgoDestination {
    /// API server URL, e.g. `https://kubernetes.default.svc`.
    #[serde(default)]
    pub server: Option<String>,
    /// Cluster name registered in Argo CD.
    #[serde(default)]
    pub name: Option<String>,
}

/// A Gateway an HTTPRoute attaches to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParentRef {
    /// Gateway name.
    pub name: String,
    /// Gateway namespace; the route's own namespace when absent.
    #[serde(default)]
    pub namespace: Option<String>,
    /// One listener of the Gateway.
    #[serde(default)]
    pub section_name: Option<String>,
}

/// Overrides of the secure pod-level defaults (`runAsNonRoot: true`, seccomp `RuntimeDefault`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodSecurityContext {
    /// UID for all containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<i64>,
    /// GID for all containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<i64>,
    /// Group owning mounted volumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs_group: Option<i64>,
}

/// Overrides of the secure container-level defaults (read-only root filesystem, no privilege
/// escalation, all capabilities dropped).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityContext {
    /// Set to `false` for applications that must write to their root filesystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_root_filesystem: Option<bool>,
    /// UID of the container process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<i64>,
    /// GID of the container process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<i64>,
}

impl Values {
    /// The colour not receiving production traffic.
    pub fn idle_color(&self) -> Color {
        self.live_color.other()
    }

    /// The block of colour `c`.
    pub fn color(&self, c: Color) -> &ColorSpec {
        match c {
            Color::Blue => &self.blue,
            Color::Green => &self.green,
        }
    }

    /// The block of colour `c`, mutably.
    pub fn color_mut(&mut self, c: Color) -> &mut ColorSpec {
        match c {
            Color::Blue => &mut self.blue,
            Color::Green => &mut self.green,
        }
    }

    /// The Service port, 80 unless set.
    pub fn service_port(&self) -> u32 {
        self.service_port.unwrap_or(80)
    }
}
