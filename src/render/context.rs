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
use sha2::{Digest, Sha256};

use super::error::RenderError;
use crate::values::{Color, ColorSpec, EnvFrom, EnvValue, Probe, ResourceList, Routing, Values};

/// Label keys greenlight sets itself; values may not override them.
const RESERVED_LABELS: &[(&str, &str)] = &[
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

/// The pod-template annotation holding the shared pod-config checksum.
pub(crate) const CHECKSUM_ANNOTATION: &str = "checksum/values";

/// Longest app name such that `<app>-preview` is still a valid Service name (63 characters).
const MAX_APP_LEN: usize = 63 - "-preview".len();

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
    replicas: i64,
    labels: BTreeMap<&'a str, String>,
    selector: BTreeMap<&'a str, &'a str>,
    pod_annotations: BTreeMap<&'a str, &'a str>,
    image: String,
    port: u32,
    readiness_probe: ProbeCtx<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    liveness_probe: Option<ProbeCtx<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<ResourcesCtx<'a>>,
    env: Vec<EnvVar<'a>>,
    env_from: Vec<EnvFromCtx<'a>>,
    pod_security_context: PodSecurity,
    security_context: ContainerSecurity,
}

#[derive(Debug, Serialize)]
struct ProbeCtx<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_delay_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    period_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_threshold: Option<u32>,
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

/// The `service` section: the live Service or the preview Service.
#[derive(Debug, Serialize)]
pub(crate) struct Service<'a> {
    pub(crate) name: String,
    color: Color,
    preview: bool,
    port: u32,
    selector: BTreeMap<&'a str, &'a str>,
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
}

/// Flux source kinds a Kustomization may reference.
const FLUX_SOURCE_KINDS: &[&str] = &[
    "GitRepository",
    "OCIRepository",
    "Bucket",
    "ExternalArtifact",
];

/// The name of the Flux Kustomization / Argo CD Application of `app` in environment `env`:
/// `<app>-<env>` with `/` as `-`, which must be a DNS-1123 subdomain.
fn wiring_name(app: &str, env: &str) -> Result<String, RenderError> {
    let name = format!("{app}-{}", env.replace('/', "-"));
    if crate::values::validate::check_dns1123_subdomain(&name).is_err() {
        return Err(RenderError::InvalidValue {
            field: "environment".to_owned(),
            value: env.to_owned(),
            expected: "an environment path of lowercase letters, digits, `-`, `.` and `/`, so                        that `<app>-<env>` names the Flux Kustomization / Argo CD Application",
        });
    }
    Ok(name)
}

/// The Flux section, or `None` when values has no `flux` block.
pub(crate) fn flux<'a>(values: &'a Values, env: &str) -> Result<Option<FluxCtx<'a>>, RenderError> {
    let Some(flux) = &values.flux else {
        return Ok(None);
    };
    if !FLUX_SOURCE_KINDS.contains(&flux.source_ref.kind.as_str()) {
        return Err(RenderError::InvalidValue {
            field: "flux.sourceRef.kind".to_owned(),
            value: flux.source_ref.kind.clone(),
            expected: "one of `GitRepository`, `OCIRepository`, `Bucket`, `ExternalArtifact`",
        });
    }
    Ok(Some(FluxCtx {
        name: wiring_name(&values.app, env)?,
        namespace: flux.namespace.as_deref().unwrap_or("flux-system"),
        interval: flux.interval.as_deref().unwrap_or("10m"),
        path: format!("./rendered/{env}"),
        prune: flux.prune.unwrap_or(true),
        source_kind: &flux.source_ref.kind,
        source_name: &flux.source_ref.name,
        source_namespace: flux.source_ref.namespace.as_deref(),
    }))
}

/// The Argo CD section, or `None` when values has no `argocd` block.
pub(crate) fn argocd<'a>(
    values: &'a Values,
    env: &str,
) -> Result<Option<ArgoCtx<'a>>, RenderError> {
    let Some(argo) = &values.argocd else {
        return Ok(None);
    };
    let d = &argo.destination;
    if d.server.is_some() == d.name.is_some() {
        return Err(RenderError::Unsupported {
            field: "argocd.destination".to_owned(),
            feature: "an Argo CD destination without exactly one cluster",
            hint: "give exactly one of `server` and `name`",
        });
    }
    Ok(Some(ArgoCtx {
        name: wiring_name(&values.app, env)?,
        namespace: argo.namespace.as_deref().unwrap_or("argocd"),
        project: argo.project.as_deref().unwrap_or("default"),
        repo_url: &argo.repo_url,
        target_revision: argo.target_revision.as_deref().unwrap_or("HEAD"),
        path: format!("rendered/{env}"),
        server: d.server.as_deref(),
        cluster_name: d.name.as_deref(),
        destination_namespace: &values.namespace,
        automated: argo.automated.unwrap_or(false),
    }))
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

/// Check what the templates rely on and build the common keys.
pub(crate) fn common(values: &Values) -> Result<Common<'_>, RenderError> {
    check_app(&values.app)?;
    reject_reserved_labels(&values.labels)?;
    if values.annotations.contains_key(CHECKSUM_ANNOTATION) {
        return Err(RenderError::ReservedKey {
            field: "annotations",
            key: CHECKSUM_ANNOTATION.to_owned(),
            why: "it holds the checksum that rolls the pods when their config changes",
        });
    }
    let live = values.color(values.live_color);
    if live.image_ref(&values.image).is_none() {
        return Err(RenderError::LiveWithoutImage {
            color: values.live_color,
        });
    }
    Ok(Common {
        app: &values.app,
        namespace: &values.namespace,
        live_color: values.live_color,
        idle_color: values.idle_color(),
        routing: values.routing,
        labels: base_labels(values),
        annotations: &values.annotations,
    })
}

/// The Deployment section of colour `color`, or `None` when that colour has no image.
pub(crate) fn deployment<'a>(
    values: &'a Values,
    color: Color,
    checksum: &'a str,
) -> Result<Option<Deployment<'a>>, RenderError> {
    let spec = values.color(color);
    let field = |name: &str| format!("{color}.{name}");
    if spec.tag.is_some() && spec.digest.is_some() {
        return Err(RenderError::InvalidValue {
            field: field("digest"),
            value: spec.digest.clone().unwrap_or_default(),
            expected: "either a tag or a digest, not both: remove one of them",
        });
    }
    let Some(image) = spec.image_ref(&values.image) else {
        return Ok(None);
    };
    let replicas = check_replicas(&field("replicas"), spec.replicas)?;
    let port = check_port("port", values.port)?;

    let mut labels = base_labels(values);
    labels.insert("color", color.as_str().to_owned());
    let selector = BTreeMap::from([("app", values.app.as_str()), ("color", color.as_str())]);

    let mut deployment = Deployment {
        name: format!("{}-{color}", values.app),
        color,
        replicas,
        labels,
        selector,
        pod_annotations: values
            .annotations
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain([(CHECKSUM_ANNOTATION, checksum)])
            .collect(),
        image,
        port,
        readiness_probe: probe("readinessProbe", &values.readiness_probe)?,
        liveness_probe: values
            .liveness_probe
            .as_ref()
            .map(|p| probe("livenessProbe", p))
            .transpose()?,
        resources: values.resources.as_ref().map(|r| ResourcesCtx {
            requests: resource_list(&r.requests),
            limits: resource_list(&r.limits),
        }),
        env: values
            .env
            .iter()
            .map(|(name, value)| env_var(name, value))
            .collect::<Result<_, _>>()?,
        env_from: values
            .env_from
            .iter()
            .enumerate()
            .map(|(i, e)| env_from(i, e))
            .collect::<Result<_, _>>()?,
        pod_security_context: PodSecurity {
            run_as_user: check_id(
                "podSecurityContext.runAsUser",
                values.pod_security_context.run_as_user,
                false,
            )?,
            run_as_group: check_id(
                "podSecurityContext.runAsGroup",
                values.pod_security_context.run_as_group,
                true,
            )?,
            fs_group: check_id(
                "podSecurityContext.fsGroup",
                values.pod_security_context.fs_group,
                true,
            )?,
        },
        security_context: ContainerSecurity {
            read_only_root_filesystem: values
                .security_context
                .read_only_root_filesystem
                .unwrap_or(true),
            run_as_user: check_id(
                "securityContext.runAsUser",
                values.security_context.run_as_user,
                false,
            )?,
            run_as_group: check_id(
                "securityContext.runAsGroup",
                values.security_context.run_as_group,
                true,
            )?,
        },
    };
    let instance = deployment.name.clone();
    deployment
        .labels
        .insert("app.kubernetes.io/instance", instance);
    deployment
        .labels
        .insert("app.kubernetes.io/version", version_label(color, spec)?);
    Ok(Some(deployment))
}

/// The Service section: the live Service (`preview == false`) or the preview Service.
pub(crate) fn service(values: &Values, preview: bool) -> Result<Service<'_>, RenderError> {
    let (name, color) = if preview {
        (format!("{}-preview", values.app), values.idle_color())
    } else {
        (values.app.clone(), values.live_color)
    };
    Ok(Service {
        name,
        color,
        preview,
        port: check_port("servicePort", values.service_port())?,
        selector: BTreeMap::from([("app", values.app.as_str()), ("color", color.as_str())]),
    })
}

/// Whether the idle colour runs (has an image and replicas > 0), so test traffic can reach it.
fn idle_runs(values: &Values) -> bool {
    let idle = values.color(values.idle_color());
    idle.replicas > 0 && idle.version().is_some()
}

/// A Service selecting the app only (both colours): what Istio subsets route through.
pub(crate) fn app_service(values: &Values) -> Result<Service<'_>, RenderError> {
    Ok(Service {
        name: values.app.clone(),
        color: values.live_color,
        preview: false,
        port: check_port("servicePort", values.service_port())?,
        selector: BTreeMap::from([("app", values.app.as_str())]),
    })
}

/// The Service of one colour (`<app>-<color>`), a backend of the Gateway API HTTPRoute.
pub(crate) fn color_service(values: &Values, color: Color) -> Result<Service<'_>, RenderError> {
    Ok(Service {
        name: format!("{}-{color}", values.app),
        color,
        preview: false,
        port: check_port("servicePort", values.service_port())?,
        selector: BTreeMap::from([("app", values.app.as_str()), ("color", color.as_str())]),
    })
}

/// The Istio section; an error unless values has an `istio` block.
pub(crate) fn istio(values: &Values) -> Result<IstioCtx<'_>, RenderError> {
    let Some(istio) = &values.istio else {
        return Err(RenderError::Unsupported {
            field: "routing".to_owned(),
            feature: "`routing: istio` without an `istio` block",
            hint: "add `istio: { hosts: [api.example.com] }`",
        });
    };
    if istio.hosts.is_empty() {
        return Err(RenderError::Unsupported {
            field: "istio.hosts".to_owned(),
            feature: "an Istio route without hosts",
            hint: "list at least one host name in `istio.hosts`",
        });
    }
    let gateway = match (&istio.existing_gateway, &istio.gateway) {
        (Some(_), Some(_)) => {
            return Err(RenderError::Unsupported {
                field: "istio.gateway".to_owned(),
                feature: "both `istio.gateway` and `istio.existingGateway`",
                hint: "remove one of them",
            })
        }
        (Some(_), None) => None,
        (None, gw) => {
            let tls = gw.as_ref().and_then(|g| g.credential_name.as_deref());
            let port = gw
                .as_ref()
                .and_then(|g| g.port)
                .unwrap_or(if tls.is_some() { 443 } else { 80 });
            let selector: BTreeMap<&str, &str> = match gw {
                Some(g) if !g.selector.is_empty() => g
                    .selector
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
                _ => BTreeMap::from([("istio", "ingressgateway")]),
            };
            Some(IstioGatewayCtx {
                port: check_port("istio.gateway.port", port)?,
                port_name: if tls.is_some() { "https" } else { "http" },
                protocol: if tls.is_some() { "HTTPS" } else { "HTTP" },
                credential_name: tls,
                selector,
            })
        }
    };
    let test_route = match &istio.test_route {
        _ if !idle_runs(values) => None,
        Some(crate::values::TestRoute {
            header: Some(h),
            cookie,
        }) if *cookie != Some(true) => Some(TestRouteCtx {
            subset: values.idle_color(),
            header: &h.name,
            regex: None,
            exact: Some(&h.value),
        }),
        Some(crate::values::TestRoute {
            cookie: Some(false),
            header: None,
        }) => {
            return Err(RenderError::Unsupported {
                field: "istio.testRoute".to_owned(),
                feature: "a test route with neither the cookie nor a header",
                hint: "remove `cookie: false`, or add `header: { name, value }`",
            })
        }
        Some(crate::values::TestRoute {
            cookie: Some(true),
            header: Some(_),
        }) => {
            return Err(RenderError::Unsupported {
                field: "istio.testRoute".to_owned(),
                feature: "a test route with both the cookie and a header",
                hint: "keep one of `cookie: true` and `header`",
            })
        }
        _ => Some(TestRouteCtx {
            subset: values.idle_color(),
            header: "cookie",
            regex: Some(TEST_COOKIE_REGEX),
            exact: None,
        }),
    };
    Ok(IstioCtx {
        name: &values.app,
        host: &values.app,
        port: check_port("servicePort", values.service_port())?,
        hosts: istio.hosts.iter().map(String::as_str).collect(),
        gateway_ref: istio
            .existing_gateway
            .clone()
            .unwrap_or_else(|| values.app.clone()),
        gateway,
        live_subset: values.live_color,
        test_route,
    })
}

/// The Gateway API HTTPRoute section; an error unless values has a `gatewayApi` block.
pub(crate) fn http_route(values: &Values) -> Result<HttpRouteCtx<'_>, RenderError> {
    let Some(api) = &values.gateway_api else {
        return Err(RenderError::Unsupported {
            field: "routing".to_owned(),
            feature: "`routing: gateway-api` without a `gatewayApi` block",
            hint: "add `gatewayApi: { parentRefs: [{ name: public, namespace: gateways }] }`",
        });
    };
    if api.parent_refs.is_empty() {
        return Err(RenderError::Unsupported {
            field: "gatewayApi.parentRefs".to_owned(),
            feature: "an HTTPRoute attached to no Gateway",
            hint: "list at least one Gateway in `gatewayApi.parentRefs`",
        });
    }
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
        port: check_port("servicePort", values.service_port())?,
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
pub(crate) fn ingress(values: &Values) -> Result<Option<Ingress<'_>>, RenderError> {
    let Some(ing) = &values.ingress else {
        return Ok(None);
    };
    Ok(Some(Ingress {
        name: values.app.clone(),
        host: &ing.host,
        path: ing.path.as_deref().unwrap_or("/"),
        class_name: ing.class_name.as_deref(),
        tls_secret_name: ing.tls.as_ref().map(|t| t.secret_name.as_str()),
        service_name: values.app.clone(),
        service_port: check_port("servicePort", values.service_port())?,
        annotations: values
            .annotations
            .iter()
            .chain(&ing.annotations)
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
    }))
}

/// The preview Ingress section (to the preview Service), or `None` unless values enables it.
pub(crate) fn preview_ingress(values: &Values) -> Result<Option<Ingress<'_>>, RenderError> {
    let Some(ing) = values.preview.as_ref().and_then(|p| p.ingress.as_ref()) else {
        return Ok(None);
    };
    if values
        .ingress
        .as_ref()
        .is_some_and(|main| main.host == ing.host)
    {
        return Err(RenderError::InvalidValue {
            field: "preview.ingress.host".to_owned(),
            value: ing.host.clone(),
            expected: "a host other than `ingress.host`, so previews never share the live host",
        });
    }
    let name = format!("{}-preview", values.app);
    Ok(Some(Ingress {
        name: name.clone(),
        host: &ing.host,
        path: "/",
        class_name: ing.class_name.as_deref(),
        tls_secret_name: ing.tls.as_ref().map(|t| t.secret_name.as_str()),
        service_name: name,
        service_port: check_port("servicePort", values.service_port())?,
        annotations: values
            .annotations
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
    }))
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
    };
    let bytes = serde_json::to_vec(&shared).expect("plain data serializes to JSON");
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `app.kubernetes.io/version` label of a colour: its tag, or the first 12 hex digits of
/// its digest, made a valid label value (at most 63 characters, alphanumeric at both ends).
pub(crate) fn version_label(color: Color, spec: &ColorSpec) -> Result<String, RenderError> {
    if let Some(digest) = &spec.digest {
        let hex = digest.split_once(':').map(|(_, hex)| hex).unwrap_or("");
        let short: String = hex.chars().take(12).collect();
        if short.len() == 12 && short.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(short);
        }
        return Err(RenderError::InvalidValue {
            field: format!("{color}.digest"),
            value: digest.clone(),
            expected: "a digest such as `sha256:` followed by 64 hex digits",
        });
    }
    let tag = spec.tag.as_deref().unwrap_or("");
    let valid_chars = tag
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let truncated: String = tag.chars().take(MAX_LABEL_VALUE_LEN).collect();
    let label = truncated.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if valid_chars && !label.is_empty() {
        return Ok(label.to_owned());
    }
    Err(RenderError::InvalidValue {
        field: format!("{color}.tag"),
        value: tag.to_owned(),
        expected: "an image tag of letters, digits, `_`, `.` and `-` containing at least one \
                   letter or digit",
    })
}

/// Labels every resource carries: `app`, the recommended name and managed-by labels, and
/// values `labels`.
fn base_labels(values: &Values) -> BTreeMap<&str, String> {
    let mut labels: BTreeMap<&str, String> = values
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    labels.insert("app", values.app.clone());
    labels.insert("app.kubernetes.io/name", values.app.clone());
    labels.insert("app.kubernetes.io/managed-by", "greenlight".to_owned());
    labels
}

fn reject_reserved_labels(labels: &BTreeMap<String, String>) -> Result<(), RenderError> {
    for (key, why) in RESERVED_LABELS {
        if labels.contains_key(*key) {
            return Err(RenderError::ReservedKey {
                field: "labels",
                key: (*key).to_owned(),
                why,
            });
        }
    }
    Ok(())
}

/// The app name builds every resource and file name, so it must be a DNS-1035 label short
/// enough for `<app>-preview`; that also keeps the file names free of `/` and `..`.
fn check_app(app: &str) -> Result<(), RenderError> {
    let bytes = app.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_APP_LEN
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[bytes.len() - 1] != b'-';
    if ok {
        Ok(())
    } else {
        Err(RenderError::InvalidValue {
            field: "app".to_owned(),
            value: app.to_owned(),
            expected: "a DNS-1035 label of at most 55 characters (lowercase letters, digits and \
                       `-`, starting with a letter, not ending with `-`), so that \
                       `<app>-preview` is a valid Service name",
        })
    }
}

fn check_replicas(field: &str, v: i64) -> Result<i64, RenderError> {
    if (0..=i64::from(i32::MAX)).contains(&v) {
        Ok(v)
    } else {
        Err(RenderError::InvalidValue {
            field: field.to_owned(),
            value: v.to_string(),
            expected: "a whole number from 0 to 2147483647",
        })
    }
}

fn check_port(field: &str, port: u32) -> Result<u32, RenderError> {
    if (1..=65535).contains(&port) {
        Ok(port)
    } else {
        Err(RenderError::InvalidValue {
            field: field.to_owned(),
            value: port.to_string(),
            expected: "a port number from 1 to 65535",
        })
    }
}

fn check_int32(field: String, v: Option<u32>) -> Result<Option<u32>, RenderError> {
    match v {
        Some(n) if i32::try_from(n).is_err() => Err(RenderError::InvalidValue {
            field,
            value: n.to_string(),
            expected: "a whole number from 0 to 2147483647",
        }),
        other => Ok(other),
    }
}

/// A user or group id; a user id of 0 (root) contradicts the enforced `runAsNonRoot`.
fn check_id(field: &str, id: Option<i64>, zero_ok: bool) -> Result<Option<i64>, RenderError> {
    match id {
        Some(n) if n < 0 => Err(RenderError::InvalidValue {
            field: field.to_owned(),
            value: n.to_string(),
            expected: "a non-negative id",
        }),
        Some(0) if !zero_ok => Err(RenderError::InvalidValue {
            field: field.to_owned(),
            value: "0".to_owned(),
            expected: "a non-root user id (greater than 0): greenlight always sets \
                       `runAsNonRoot: true`",
        }),
        other => Ok(other),
    }
}

fn probe<'a>(field: &str, p: &'a Probe) -> Result<ProbeCtx<'a>, RenderError> {
    Ok(ProbeCtx {
        path: &p.path,
        port: p
            .port
            .map(|port| check_port(&format!("{field}.port"), port))
            .transpose()?,
        initial_delay_seconds: check_int32(
            format!("{field}.initialDelaySeconds"),
            p.initial_delay_seconds,
        )?,
        period_seconds: check_int32(format!("{field}.periodSeconds"), p.period_seconds)?,
        timeout_seconds: check_int32(format!("{field}.timeoutSeconds"), p.timeout_seconds)?,
        failure_threshold: check_int32(format!("{field}.failureThreshold"), p.failure_threshold)?,
    })
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

fn env_var<'a>(name: &'a str, value: &'a EnvValue) -> Result<EnvVar<'a>, RenderError> {
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
            let key_ref = |r: &'a crate::values::KeyRef| KeyRefCtx {
                name: &r.name,
                key: &r.key,
            };
            var.secret_key_ref = from.secret_key_ref.as_ref().map(key_ref);
            var.config_map_key_ref = from.config_map_key_ref.as_ref().map(key_ref);
            var.field_ref = from.field_ref.as_deref();
            let sources = usize::from(var.secret_key_ref.is_some())
                + usize::from(var.config_map_key_ref.is_some())
                + usize::from(var.field_ref.is_some());
            if sources != 1 {
                return Err(RenderError::Unsupported {
                    field: format!("env.{name}"),
                    feature: if sources == 0 {
                        "an environment variable reference without a source"
                    } else {
                        "an environment variable reference with more than one source"
                    },
                    hint: "give exactly one of `secretKeyRef`, `configMapKeyRef` or `fieldRef`",
                });
            }
        }
    }
    Ok(var)
}

fn env_from(index: usize, e: &EnvFrom) -> Result<EnvFromCtx<'_>, RenderError> {
    if e.config_map.is_some() == e.secret.is_some() {
        return Err(RenderError::Unsupported {
            field: format!("envFrom[{index}]"),
            feature: if e.config_map.is_some() {
                "an envFrom entry with both a ConfigMap and a Secret"
            } else {
                "an envFrom entry without a ConfigMap or Secret"
            },
            hint: "give exactly one of `configMap` or `secret` per entry",
        });
    }
    Ok(EnvFromCtx {
        config_map: e.config_map.as_deref(),
        secret: e.secret.as_deref(),
        prefix: e.prefix.as_deref(),
    })
}
