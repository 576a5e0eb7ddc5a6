//! What the templates see: the values turned into small, ready-to-print context sections
//! (names composed, labels merged, env sorted, the pod-config checksum computed, numbers
//! range-checked). All decisions live here so the templates only lay the data out.
//!
//! Every template gets the common keys (`app`, `namespace`, `live_color`, `idle_color`,
//! `routing`, `labels`, `annotations`); each file adds one section (`deployment`, `service`,
//! `ingress`, `istio` (shared by the Gateway, VirtualService and DestinationRule),
//! `http_route`, `flux`, `argocd` or `kustomization`). A new routing mode adds its own
//! sections and templates.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::error::RenderError;
use crate::grammar;
use crate::values::{
    Color, ColorSpec, EnvFrom, EnvValue, PortRef, Probe, ResourceList, Routing, Values,
    CHECKSUM_ANNOTATION,
};

/// Longest Kubernetes label value.
const MAX_LABEL_VALUE_LEN: usize = 63;

/// Keys every template sees.
#[derive(Debug, Serialize)]
pub(crate) struct Common<'a> {
    app: &'a str,
    namespace: &'a str,
    live_color: Color,
    idle_color: Color,
    routing: Routing,
    /// Metadata labels of resources that belong to no colour.
    labels: BTreeMap<&'a str, String>,
    /// Metadata annotations of every resource (values `annotations`).
    annotations: &'a BTreeMap<String, String>,
}

/// The `deployment` section: one colour's Deployment.
#[derive(Debug, Serialize)]
pub(crate) struct Deployment<'a> {
    pub(crate) name: String,
    color: Color,
    /// Left out under a HorizontalPodAutoscaler, which owns the count.
    #[serde(skip_serializing_if = "Option::is_none")]
    replicas: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_ready_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress_deadline_seconds: Option<u32>,
    revision_history_limit: u32,
    labels: BTreeMap<&'a str, String>,
    /// The pod template's labels: `labels` and values `podLabels`.
    pod_labels: BTreeMap<&'a str, String>,
    /// The Deployment's own annotations (values `annotations` of what the colour runs).
    annotations: &'a BTreeMap<String, String>,
    /// Whether the container has an `envFrom` list (values `envFrom`, or the ConfigMap).
    has_env_from: bool,
    /// The colour's ConfigMap, read as environment variables (no `mountPath`).
    #[serde(skip_serializing_if = "Option::is_none")]
    config_env: Option<String>,
    /// The colour's ConfigMap, mounted as files.
    #[serde(skip_serializing_if = "Option::is_none")]
    config_mount: Option<ConfigMount<'a>>,
    selector: BTreeMap<&'a str, &'a str>,
    pod_annotations: BTreeMap<&'a str, &'a str>,
    image: String,
    port: u32,
    /// Readiness, then liveness and startup when set.
    probes: Vec<ProbeCtx<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<ResourcesCtx<'a>>,
    /// More fields of the main container (values `container` without `ports` and
    /// `volumeMounts`, which add to greenlight's lists).
    container: Map<String, Value>,
    extra_ports: Vec<Value>,
    extra_mounts: Vec<Value>,
    /// More fields of the pod (values `pod` without `volumes` and
    /// `automountServiceAccountToken`).
    pod: Map<String, Value>,
    extra_volumes: Vec<Value>,
    automount_token: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_account_name: Option<String>,
    /// Values `sidecars`, each with the secure container defaults under its own settings.
    sidecars: Vec<Value>,
    env: Vec<EnvVar<'a>>,
    env_from: Vec<EnvFromCtx<'a>>,
    pod_security_context: PodSecurity,
    security_context: ContainerSecurity,
}

/// One probe: the `path` shorthand (`http_path`, `port` or `port_name`), or a `handler`
/// from values written as it is.
#[derive(Debug, Serialize)]
struct ProbeCtx<'a> {
    /// `readinessProbe`, `livenessProbe` or `startupProbe`.
    field: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    handler: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_delay_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    period_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_threshold: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    success_threshold: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    termination_grace_period_seconds: Option<u32>,
}

#[derive(Debug, Serialize)]
struct ResourcesCtx<'a> {
    requests: BTreeMap<&'static str, &'a str>,
    limits: BTreeMap<&'static str, &'a str>,
}

/// One environment variable: `value`, or exactly one of the `*_ref` keys.
#[derive(Debug, Serialize)]
struct EnvVar<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_key_ref: Option<KeyRefCtx<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    config_map_key_ref: Option<KeyRefCtx<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field_ref: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct KeyRefCtx<'a> {
    name: &'a str,
    key: &'a str,
}

/// One `envFrom` entry: exactly one of `config_map` and `secret`.
#[derive(Debug, Serialize)]
struct EnvFromCtx<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    config_map: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct PodSecurity {
    #[serde(skip_serializing_if = "Option::is_none")]
    run_as_user: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_as_group: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fs_group: Option<i64>,
}

#[derive(Debug, Serialize)]
struct ContainerSecurity {
    read_only_root_filesystem: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_as_user: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_as_group: Option<i64>,
}

/// A ConfigMap mounted as files.
#[derive(Debug, Serialize)]
struct ConfigMount<'a> {
    name: String,
    path: &'a str,
}

/// The `config_map` section: one version of the ConfigMap a colour reads.
#[derive(Debug, Serialize)]
pub(crate) struct ConfigMapCtx<'a> {
    pub(crate) name: String,
    labels: BTreeMap<&'a str, String>,
    data: BTreeMap<&'a str, &'a str>,
}

/// The `service` section: the live Service or the preview Service.
#[derive(Debug, Serialize)]
pub(crate) struct Service<'a> {
    pub(crate) name: String,
    color: Color,
    preview: bool,
    port: u32,
    selector: BTreeMap<&'a str, &'a str>,
    /// Values `service.ports`, after `http`.
    extra_ports: Vec<Value>,
}

/// The Istio sections (`gateway`, `virtual_service`, `destination_rule` all read this one,
/// as `istio`).
#[derive(Debug, Serialize)]
pub(crate) struct IstioCtx<'a> {
    pub(crate) name: &'a str,
    /// The Service every route sends to (short name, same namespace).
    host: &'a str,
    port: u32,
    hosts: Vec<&'a str>,
    /// The reference written in the VirtualService's `gateways`.
    gateway_ref: String,
    /// The Gateway to render; `None` with `existingGateway`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) gateway: Option<IstioGatewayCtx<'a>>,
    live_subset: Color,
    /// Present while the idle colour runs (has an image and replicas > 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    test_route: Option<TestRouteCtx<'a>>,
}

/// The Gateway rendered for `routing: istio`.
#[derive(Debug, Serialize)]
pub(crate) struct IstioGatewayCtx<'a> {
    port: u32,
    port_name: &'static str,
    protocol: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_name: Option<&'a str>,
    selector: BTreeMap<&'a str, &'a str>,
}

/// The VirtualService's test route to the idle subset: a cookie regex or an exact header.
#[derive(Debug, Serialize)]
pub(crate) struct TestRouteCtx<'a> {
    subset: Color,
    header: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    regex: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exact: Option<&'a str>,
}

/// The `http_route` section of `routing: gateway-api`.
#[derive(Debug, Serialize)]
pub(crate) struct HttpRouteCtx<'a> {
    pub(crate) name: &'a str,
    parent_refs: Vec<ParentRefCtx<'a>>,
    hostnames: Vec<&'a str>,
    port: u32,
    /// The blue Service, weighted 100 when blue is live, else 0.
    blue: Backend,
    /// The green Service, weighted 100 when green is live, else 0.
    green: Backend,
    /// The header rule to the idle colour, present while it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    preview: Option<PreviewRule<'a>>,
}

/// One `parentRefs` entry.
#[derive(Debug, Serialize)]
pub(crate) struct ParentRefCtx<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    section_name: Option<&'a str>,
}

/// One weighted backend of the default rule.
#[derive(Debug, Serialize)]
pub(crate) struct Backend {
    name: String,
    weight: u32,
}

/// The header-matched rule sending previews to the idle colour's Service.
#[derive(Debug, Serialize)]
pub(crate) struct PreviewRule<'a> {
    header: &'a str,
    value: &'a str,
    backend: String,
}

/// The cookie regex of the Istio test route: matches `test=true` anywhere in the header.
pub(crate) const TEST_COOKIE_REGEX: &str = "^(.*?;)?(test=true)(;.*)?$";

/// The preview header of `routing: gateway-api` when values names none.
pub(crate) const DEFAULT_PREVIEW_HEADER: (&str, &str) = ("x-greenlight-preview", "true");

/// The `flux` section: the Flux Kustomization applying the rendered folder.
#[derive(Debug, Serialize)]
pub(crate) struct FluxCtx<'a> {
    pub(crate) name: String,
    pub(crate) namespace: &'a str,
    interval: &'a str,
    path: String,
    prune: bool,
    source_kind: &'a str,
    source_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_namespace: Option<&'a str>,
    /// Wait for the applied objects to be ready before reporting success: with a commit
    /// status to post (`notify.commitStatus`), success must mean the staged colour runs.
    wait: bool,
}

/// The `argocd` section: the Argo CD Application syncing the rendered folder.
#[derive(Debug, Serialize)]
pub(crate) struct ArgoCtx<'a> {
    pub(crate) name: String,
    pub(crate) namespace: &'a str,
    project: &'a str,
    repo_url: &'a str,
    target_revision: &'a str,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_name: Option<&'a str>,
    destination_namespace: &'a str,
    automated: bool,
    /// The notification subscriptions of `notify`.
    annotations: BTreeMap<String, String>,
}

/// The Flux section, or `None` when values has no `flux` block.
pub(crate) fn flux<'a>(values: &'a Values, env: &str) -> Option<FluxCtx<'a>> {
    let flux = values.flux.as_ref()?;
    Some(FluxCtx {
        name: grammar::wiring_name(&values.app, env),
        namespace: flux.namespace.as_deref().unwrap_or("flux-system"),
        interval: flux.interval.as_deref().unwrap_or("10m"),
        path: format!("./rendered/{env}"),
        prune: flux.prune.unwrap_or(true),
        source_kind: &flux.source_ref.kind,
        source_name: &flux.source_ref.name,
        source_namespace: flux.source_ref.namespace.as_deref(),
        wait: values
            .notify
            .as_ref()
            .is_some_and(|n| n.commit_status.is_some()),
    })
}

/// The Argo CD section, or `None` when values has no `argocd` block.
pub(crate) fn argocd<'a>(values: &'a Values, env: &str) -> Option<ArgoCtx<'a>> {
    let argo = values.argocd.as_ref()?;
    let d = &argo.destination;
    Some(ArgoCtx {
        name: grammar::wiring_name(&values.app, env),
        namespace: argo.namespace.as_deref().unwrap_or("argocd"),
        project: argo.project.as_deref().unwrap_or("default"),
        repo_url: &argo.repo_url,
        target_revision: argo.target_revision.as_deref().unwrap_or("HEAD"),
        path: format!("rendered/{env}"),
        server: d.server.as_deref(),
        cluster_name: d.name.as_deref(),
        destination_namespace: &values.namespace,
        automated: argo.automated.unwrap_or(false),
        annotations: super::notify::argocd_annotations(values),
    })
}

/// The `ingress` section.
#[derive(Debug, Serialize)]
pub(crate) struct Ingress<'a> {
    pub(crate) name: String,
    host: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    class_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_secret_name: Option<&'a str>,
    service_name: String,
    service_port: u32,
    /// Values `annotations` overlaid with `ingress.annotations`.
    annotations: BTreeMap<&'a str, &'a str>,
}

/// The `kustomization` section.
#[derive(Debug, Serialize)]
pub(crate) struct Kustomization<'a> {
    pub(crate) resources: Vec<&'a str>,
}

/// The keys every template sees.
pub(crate) fn common(values: &Values) -> Common<'_> {
    Common {
        app: &values.app,
        namespace: &values.namespace,
        live_color: values.live_color,
        idle_color: values.idle_color(),
        routing: values.routing,
        labels: base_labels(values),
        annotations: &values.annotations,
    }
}

/// The Deployment section of colour `color`, or `None` when that colour has no image.
pub(crate) fn deployment<'a>(
    values: &'a Values,
    color: Color,
    checksum: &'a str,
) -> Option<Deployment<'a>> {
    let spec = values.color(color);
    let image = spec.image_ref(&values.image)?;

    let mut labels = base_labels(values);
    labels.insert("color", color.as_str().to_owned());
    let selector = BTreeMap::from([("app", values.app.as_str()), ("color", color.as_str())]);

    let container = values
        .container
        .as_ref()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    let pod = values.pod.as_ref().map(|p| p.0.clone()).unwrap_or_default();
    let (container, extra_ports, extra_mounts) = {
        let mut rest = container;
        let ports = take_list(&mut rest, "ports");
        let mounts = take_list(&mut rest, "volumeMounts");
        (rest, ports, mounts)
    };
    let (pod, extra_volumes, automount) = {
        let mut rest = pod;
        let volumes = take_list(&mut rest, "volumes");
        let automount = rest
            .remove("automountServiceAccountToken")
            .and_then(|v| v.as_bool());
        if let Some(init) = rest.get_mut("initContainers").and_then(Value::as_array_mut) {
            for c in init.iter_mut() {
                with_secure_defaults(c);
            }
        }
        (rest, volumes, automount)
    };
    let sa = values.service_account.as_ref();
    let under_autoscaler = values.autoscaling.is_some() && spec.replicas > 0;
    let pod_labels = labels
        .iter()
        .map(|(k, v)| (*k, v.clone()))
        .chain(
            values
                .pod_labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone())),
        )
        .collect();
    let options = values.deployment.clone().unwrap_or_default();

    let mut deployment = Deployment {
        name: format!("{}-{color}", values.app),
        color,
        replicas: (!under_autoscaler).then_some(spec.replicas),
        min_ready_seconds: options.min_ready_seconds,
        progress_deadline_seconds: options.progress_deadline_seconds,
        revision_history_limit: options.revision_history_limit.unwrap_or(3),
        pod_labels,
        labels,
        annotations: &values.annotations,
        has_env_from: !values.env_from.is_empty()
            || values
                .config_map
                .as_ref()
                .is_some_and(|cm| cm.mount_path.is_none()),
        config_env: values
            .config_map
            .as_ref()
            .filter(|cm| cm.mount_path.is_none())
            .map(|cm| crate::values::config_map_name(&values.app, cm)),
        config_mount: values.config_map.as_ref().and_then(|cm| {
            Some(ConfigMount {
                name: crate::values::config_map_name(&values.app, cm),
                path: cm.mount_path.as_deref()?,
            })
        }),
        selector,
        pod_annotations: values
            .annotations
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(
                values
                    .pod_annotations
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .chain([(CHECKSUM_ANNOTATION, checksum)])
            .collect(),
        image,
        port: values.port,
        probes: [
            ("readinessProbe", Some(&values.readiness_probe)),
            ("livenessProbe", values.liveness_probe.as_ref()),
            ("startupProbe", values.startup_probe.as_ref()),
        ]
        .into_iter()
        .filter_map(|(field, p)| Some(probe(field, p?)))
        .collect(),
        container,
        extra_ports,
        extra_mounts,
        pod,
        extra_volumes,
        automount_token: automount
            .or(sa.and_then(|s| s.automount_service_account_token))
            .unwrap_or(false),
        service_account_name: sa.map(|s| service_account_name(values, s)),
        sidecars: values
            .sidecars
            .iter()
            .map(|s| {
                let mut c = Value::Object(s.0.clone());
                with_secure_defaults(&mut c);
                c
            })
            .collect(),
        resources: values.resources.as_ref().map(|r| ResourcesCtx {
            requests: resource_list(&r.requests),
            limits: resource_list(&r.limits),
        }),
        env: values
            .env
            .iter()
            .map(|(name, value)| env_var(name, value))
            .collect(),
        env_from: values.env_from.iter().map(env_from).collect(),
        pod_security_context: PodSecurity {
            run_as_user: values.pod_security_context.run_as_user,
            run_as_group: values.pod_security_context.run_as_group,
            fs_group: values.pod_security_context.fs_group,
        },
        security_context: ContainerSecurity {
            read_only_root_filesystem: values
                .security_context
                .read_only_root_filesystem
                .unwrap_or(true),
            run_as_user: values.security_context.run_as_user,
            run_as_group: values.security_context.run_as_group,
        },
    };
    let instance = deployment.name.clone();
    for labels in [&mut deployment.labels, &mut deployment.pod_labels] {
        labels.insert("app.kubernetes.io/instance", instance.clone());
        labels.insert("app.kubernetes.io/version", version_label(spec));
    }
    Some(deployment)
}

/// The `companion` section: a HorizontalPodAutoscaler or PodDisruptionBudget of one colour,
/// a NetworkPolicy of the app, or its ServiceAccount. `spec` is the values block as written
/// (without the fields greenlight sets, which the template writes).
#[derive(Debug, Serialize)]
pub(crate) struct Companion<'a> {
    pub(crate) name: String,
    labels: BTreeMap<&'a str, String>,
    annotations: BTreeMap<&'a str, &'a str>,
    /// The pods it is about: `app` (and `color` for one colour's).
    selector: BTreeMap<&'a str, &'a str>,
    /// The HorizontalPodAutoscaler's starting replicas (the colour's `replicas`).
    #[serde(skip_serializing_if = "Option::is_none")]
    min_replicas: Option<i64>,
    /// The ServiceAccount's token mounting.
    automount_token: bool,
    spec: Map<String, Value>,
}

/// The companions of colour `color` running `runs` (its values): its HorizontalPodAutoscaler
/// and PodDisruptionBudget, each when values asks for it and the colour runs (an image and
/// replicas: a scaled-down colour has neither, so `scale-down` removes them).
pub(crate) fn colour_companions(runs: &Values, color: Color) -> Vec<(&'static str, Companion<'_>)> {
    let spec = runs.color(color);
    if spec.replicas == 0 || spec.version().is_none() {
        return Vec::new();
    }
    let mut labels = base_labels(runs);
    labels.insert("color", color.as_str().to_owned());
    labels.insert(
        "app.kubernetes.io/instance",
        format!("{}-{color}", runs.app),
    );
    let companion = |block: &crate::values::Kube, min_replicas| Companion {
        name: format!("{}-{color}", runs.app),
        labels: labels.clone(),
        annotations: annotations_of(runs),
        selector: BTreeMap::from([("app", runs.app.as_str()), ("color", color.as_str())]),
        min_replicas,
        automount_token: false,
        spec: block.0.clone(),
    };
    let mut out = Vec::new();
    if let Some(a) = &runs.autoscaling {
        out.push(("hpa", companion(a, Some(spec.replicas))));
    }
    if let Some(p) = &runs.pod_disruption_budget {
        out.push(("pdb", companion(p, None)));
    }
    out
}

/// The NetworkPolicy of the app's pods (both colours), when values has one.
pub(crate) fn network_policy(values: &Values) -> Option<Companion<'_>> {
    let block = values.network_policy.as_ref()?;
    Some(Companion {
        name: values.app.to_string(),
        labels: base_labels(values),
        annotations: annotations_of(values),
        selector: BTreeMap::from([("app", values.app.as_str())]),
        min_replicas: None,
        automount_token: false,
        spec: block.0.clone(),
    })
}

/// The ServiceAccount the colour running `runs` uses, when greenlight creates it.
pub(crate) fn service_account(runs: &Values) -> Option<Companion<'_>> {
    let sa = runs.service_account.as_ref().filter(|sa| sa.creates())?;
    let mut annotations = annotations_of(runs);
    annotations.extend(sa.annotations.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Some(Companion {
        name: service_account_name(runs, sa),
        labels: base_labels(runs),
        annotations,
        selector: BTreeMap::new(),
        min_replicas: None,
        automount_token: sa.automount_service_account_token.unwrap_or(false),
        spec: Map::new(),
    })
}

fn annotations_of(values: &Values) -> BTreeMap<&str, &str> {
    values
        .annotations
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The ConfigMap the colour running `values` reads, if it has one.
pub(crate) fn config_map(values: &Values) -> Option<ConfigMapCtx<'_>> {
    let cm = values.config_map.as_ref()?;
    Some(ConfigMapCtx {
        name: crate::values::config_map_name(&values.app, cm),
        labels: base_labels(values),
        data: cm
            .data
            .iter()
            .map(|(k, v)| (k.as_str(), v.0.as_str()))
            .collect(),
    })
}

/// The Service section: the live Service (`preview == false`) or the preview Service.
pub(crate) fn service(values: &Values, preview: bool) -> Service<'_> {
    let (name, color) = if preview {
        (format!("{}-preview", values.app), values.idle_color())
    } else {
        (values.app.to_string(), values.live_color)
    };
    Service {
        name,
        color,
        preview,
        port: values.service_port(),
        selector: BTreeMap::from([("app", values.app.as_str()), ("color", color.as_str())]),
        extra_ports: extra_service_ports(values),
    }
}

/// Values `service.ports`, as written.
fn extra_service_ports(values: &Values) -> Vec<Value> {
    values.service.as_ref().map_or_else(Vec::new, |s| {
        s.ports.iter().map(|p| Value::Object(p.0.clone())).collect()
    })
}

/// Whether the idle colour runs (has an image and replicas > 0), so test traffic can reach it.
fn idle_runs(values: &Values) -> bool {
    let idle = values.color(values.idle_color());
    idle.replicas > 0 && idle.version().is_some()
}

/// A Service selecting the app only (both colours): what Istio subsets route through.
pub(crate) fn app_service(values: &Values) -> Service<'_> {
    Service {
        name: values.app.to_string(),
        color: values.live_color,
        preview: false,
        port: values.service_port(),
        selector: BTreeMap::from([("app", values.app.as_str())]),
        extra_ports: extra_service_ports(values),
    }
}

/// The Service of one colour (`<app>-<color>`), a backend of the Gateway API HTTPRoute.
pub(crate) fn color_service(values: &Values, color: Color) -> Service<'_> {
    Service {
        name: format!("{}-{color}", values.app),
        color,
        preview: false,
        port: values.service_port(),
        selector: BTreeMap::from([("app", values.app.as_str()), ("color", color.as_str())]),
        extra_ports: extra_service_ports(values),
    }
}

/// The Istio section; values of `routing: istio` always have an `istio` block.
pub(crate) fn istio(values: &Values) -> Result<IstioCtx<'_>, RenderError> {
    let istio = values.istio.as_ref().ok_or(RenderError::MissingBlock {
        block: "istio",
        routing: values.routing,
    })?;
    let gateway = match &istio.existing_gateway {
        Some(_) => None,
        None => {
            let gw = istio.gateway.as_ref();
            let tls = gw.and_then(|g| g.credential_name.as_deref());
            let selector: BTreeMap<&str, &str> = match gw {
                Some(g) if !g.selector.is_empty() => g
                    .selector
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
                _ => BTreeMap::from([("istio", "ingressgateway")]),
            };
            Some(IstioGatewayCtx {
                port: gw
                    .and_then(|g| g.port)
                    .unwrap_or(if tls.is_some() { 443 } else { 80 }),
                port_name: if tls.is_some() { "https" } else { "http" },
                protocol: if tls.is_some() { "HTTPS" } else { "HTTP" },
                credential_name: tls,
                selector,
            })
        }
    };
    // A header when one is given (and the cookie not asked for), else the cookie.
    let test_route = match istio
        .test_route
        .as_ref()
        .and_then(|t| t.header.as_ref().filter(|_| t.cookie != Some(true)))
    {
        _ if !idle_runs(values) => None,
        Some(h) => Some(TestRouteCtx {
            subset: values.idle_color(),
            header: &h.name,
            regex: None,
            exact: Some(&h.value),
        }),
        None => Some(TestRouteCtx {
            subset: values.idle_color(),
            header: "cookie",
            regex: Some(TEST_COOKIE_REGEX),
            exact: None,
        }),
    };
    Ok(IstioCtx {
        name: &values.app,
        host: &values.app,
        port: values.service_port(),
        hosts: istio.hosts.iter().map(String::as_str).collect(),
        gateway_ref: istio
            .existing_gateway
            .clone()
            .unwrap_or_else(|| values.app.to_string()),
        gateway,
        live_subset: values.live_color,
        test_route,
    })
}

/// The Gateway API HTTPRoute section; values of `routing: gateway-api` always have a
/// `gatewayApi` block.
pub(crate) fn http_route(values: &Values) -> Result<HttpRouteCtx<'_>, RenderError> {
    let api = values
        .gateway_api
        .as_ref()
        .ok_or(RenderError::MissingBlock {
            block: "gatewayApi",
            routing: values.routing,
        })?;
    let (header, value) = api
        .preview_header
        .as_ref()
        .map_or(DEFAULT_PREVIEW_HEADER, |h| {
            (h.name.as_str(), h.value.as_str())
        });
    let idle = values.idle_color();
    let backend = |c: Color| Backend {
        name: format!("{}-{c}", values.app),
        weight: if c == values.live_color { 100 } else { 0 },
    };
    Ok(HttpRouteCtx {
        name: &values.app,
        parent_refs: api
            .parent_refs
            .iter()
            .map(|r| ParentRefCtx {
                name: &r.name,
                namespace: r.namespace.as_deref(),
                section_name: r.section_name.as_deref(),
            })
            .collect(),
        hostnames: api.hostnames.iter().map(String::as_str).collect(),
        port: values.service_port(),
        blue: backend(Color::Blue),
        green: backend(Color::Green),
        preview: idle_runs(values).then(|| PreviewRule {
            header,
            value,
            backend: format!("{}-{idle}", values.app),
        }),
    })
}

/// The Ingress section, or `None` when values has no `ingress`.
pub(crate) fn ingress(values: &Values) -> Option<Ingress<'_>> {
    let ing = values.ingress.as_ref()?;
    Some(Ingress {
        name: values.app.to_string(),
        host: &ing.host,
        path: ing.path.as_deref().unwrap_or("/"),
        class_name: ing.class_name.as_deref(),
        tls_secret_name: ing.tls.as_ref().map(|t| t.secret_name.as_str()),
        service_name: values.app.to_string(),
        service_port: values.service_port(),
        annotations: values
            .annotations
            .iter()
            .chain(&ing.annotations)
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
    })
}

/// The preview Ingress section (to the preview Service), or `None` unless values enables it.
pub(crate) fn preview_ingress(values: &Values) -> Option<Ingress<'_>> {
    let ing = values.preview.as_ref().and_then(|p| p.ingress.as_ref())?;
    let name = format!("{}-preview", values.app);
    Some(Ingress {
        name: name.clone(),
        host: &ing.host,
        path: "/",
        class_name: ing.class_name.as_deref(),
        tls_secret_name: ing.tls.as_ref().map(|t| t.secret_name.as_str()),
        service_name: name,
        service_port: values.service_port(),
        annotations: values
            .annotations
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
    })
}

/// SHA-256 (hex) of everything in values that goes into both colours' pod templates.
///
/// The colour blocks are left out, so a tag or replica change rolls only its colour while a
/// config change rolls both. The serialization is canonical: a struct with fixed field
/// order and `BTreeMap`s, through serde_json.
pub(crate) fn pod_config_checksum(values: &Values) -> String {
    #[derive(Serialize)]
    struct SharedPodConfig<'a> {
        port: u32,
        readiness_probe: &'a Probe,
        liveness_probe: &'a Option<Probe>,
        resources: &'a Option<crate::values::Resources>,
        env: &'a BTreeMap<String, EnvValue>,
        env_from: &'a [EnvFrom],
        pod_security_context: &'a crate::values::PodSecurityContext,
        security_context: &'a crate::values::SecurityContext,
        labels: &'a BTreeMap<String, String>,
        annotations: &'a BTreeMap<String, String>,
        // Added after the first release: left out when unset, so the checksum of pods that
        // use none of them is what it was.
        #[serde(skip_serializing_if = "Option::is_none")]
        startup_probe: &'a Option<Probe>,
        #[serde(skip_serializing_if = "Option::is_none")]
        container: &'a Option<crate::values::Kube>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pod: &'a Option<crate::values::Kube>,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        sidecars: &'a [crate::values::Kube],
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        pod_labels: &'a BTreeMap<String, String>,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        pod_annotations: &'a BTreeMap<String, String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        service_account: &'a Option<crate::values::ServiceAccountSpec>,
    }
    let shared = SharedPodConfig {
        port: values.port,
        readiness_probe: &values.readiness_probe,
        liveness_probe: &values.liveness_probe,
        resources: &values.resources,
        env: &values.env,
        env_from: &values.env_from,
        pod_security_context: &values.pod_security_context,
        security_context: &values.security_context,
        labels: &values.labels,
        annotations: &values.annotations,
        startup_probe: &values.startup_probe,
        container: &values.container,
        pod: &values.pod,
        sidecars: &values.sidecars,
        pod_labels: &values.pod_labels,
        pod_annotations: &values.pod_annotations,
        service_account: &values.service_account,
    };
    let bytes = serde_json::to_vec(&shared).expect("plain data serializes to JSON");
    crate::checksum::sha256_hex(&bytes)
}

/// The `app.kubernetes.io/version` label of a colour: its tag, or the first 12 hex digits of
/// its digest, made a valid label value (at most 63 characters, alphanumeric at both ends;
/// empty when nothing alphanumeric is left, which a label value may be).
pub(crate) fn version_label(spec: &ColorSpec) -> String {
    if let Some(digest) = &spec.digest {
        let hex = digest.split_once(':').map_or("", |(_, hex)| hex);
        return hex.chars().take(12).collect();
    }
    let tag = spec.tag.as_deref().unwrap_or("");
    let truncated: String = tag.chars().take(MAX_LABEL_VALUE_LEN).collect();
    truncated
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// Labels every resource carries: `app`, the recommended name and managed-by labels, and
/// values `labels`.
fn base_labels(values: &Values) -> BTreeMap<&str, String> {
    let mut labels: BTreeMap<&str, String> = values
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    labels.insert("app", values.app.to_string());
    labels.insert("app.kubernetes.io/name", values.app.to_string());
    labels.insert("app.kubernetes.io/managed-by", "greenlight".to_owned());
    labels
}

fn probe<'a>(field: &'static str, p: &'a Probe) -> ProbeCtx<'a> {
    let handler = [
        ("httpGet", &p.http_get),
        ("exec", &p.exec),
        ("tcpSocket", &p.tcp_socket),
        ("grpc", &p.grpc),
    ]
    .into_iter()
    .find_map(|(key, h)| {
        let h = h.as_ref()?;
        Some(Map::from_iter([(
            key.to_owned(),
            Value::Object(h.0.clone()),
        )]))
    });
    ProbeCtx {
        field,
        http_path: p.path.as_deref(),
        port: match &p.port {
            Some(PortRef::Number(n)) => Some(*n),
            _ => None,
        },
        port_name: match &p.port {
            Some(PortRef::Name(n)) => Some(n),
            _ => None,
        },
        handler,
        initial_delay_seconds: p.initial_delay_seconds,
        period_seconds: p.period_seconds,
        timeout_seconds: p.timeout_seconds,
        failure_threshold: p.failure_threshold,
        success_threshold: p.success_threshold,
        termination_grace_period_seconds: p.termination_grace_period_seconds,
    }
}

/// Removes list `key` from `map` and returns its items (none when absent).
fn take_list(map: &mut Map<String, Value>, key: &str) -> Vec<Value> {
    match map.remove(key) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// The container security settings greenlight's own container runs with: what a container
/// from values gets unless it sets the field itself.
fn with_secure_defaults(container: &mut Value) {
    let Some(c) = container.as_object_mut() else {
        return;
    };
    let security = c
        .entry("securityContext")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(security) = security.as_object_mut() else {
        return;
    };
    for (key, value) in [
        ("allowPrivilegeEscalation", serde_json::json!(false)),
        ("capabilities", serde_json::json!({"drop": ["ALL"]})),
        ("readOnlyRootFilesystem", serde_json::json!(true)),
        ("runAsNonRoot", serde_json::json!(true)),
    ] {
        security.entry(key.to_owned()).or_insert(value);
    }
}

/// The name of the ServiceAccount `sa` of `values`: its `name`, else the app's.
pub(crate) fn service_account_name(
    values: &Values,
    sa: &crate::values::ServiceAccountSpec,
) -> String {
    sa.name.clone().unwrap_or_else(|| values.app.to_string())
}

fn resource_list(list: &ResourceList) -> BTreeMap<&'static str, &str> {
    [
        ("cpu", &list.cpu),
        ("memory", &list.memory),
        ("ephemeral-storage", &list.ephemeral_storage),
    ]
    .into_iter()
    .filter_map(|(k, q)| q.as_ref().map(|q| (k, q.0.as_str())))
    .collect()
}

fn env_var<'a>(name: &'a str, value: &'a EnvValue) -> EnvVar<'a> {
    let key_ref = |r: &'a crate::values::KeyRef| KeyRefCtx {
        name: &r.name,
        key: &r.key,
    };
    let mut var = EnvVar {
        name,
        value: None,
        secret_key_ref: None,
        config_map_key_ref: None,
        field_ref: None,
    };
    match value {
        EnvValue::Literal(lit) => var.value = Some(&lit.0),
        EnvValue::From(from) => {
            var.secret_key_ref = from.secret_key_ref.as_ref().map(key_ref);
            var.config_map_key_ref = from.config_map_key_ref.as_ref().map(key_ref);
            var.field_ref = from.field_ref.as_deref();
        }
    }
    var
}

fn env_from(e: &EnvFrom) -> EnvFromCtx<'_> {
    EnvFromCtx {
        config_map: e.config_map.as_deref(),
        secret: e.secret.as_deref(),
        prefix: e.prefix.as_deref(),
    }
}
