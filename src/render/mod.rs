//! Rendering: values + templates in, a map of file name → bytes out (the contents of one
//! `rendered/<env>/` folder). Pure: no disk, no git, no clock, no environment; the same
//! values and templates always give the same bytes.
//!
//! What it renders: a Deployment per colour that has an image, then per routing mode
//! - `service`: the live Service and the preview Service (internal), the Ingress when values
//!   has one, and a preview Ingress to the preview Service only when values enables it;
//! - `istio`: a Service selecting the app only, a VirtualService (default route to the live
//!   subset, and a test route to the idle subset while it runs), a DestinationRule with
//!   `blue`/`green` subsets, and a Gateway unless values names an existing one;
//! - `gateway-api`: a Service per colour and an HTTPRoute weighting them 100/0 by the live
//!   colour, with a header-matched rule to the idle colour while it runs;
//!
//! and a kustomization listing them. With a `flux` / `argocd` block it also renders
//! `<app>.flux-kustomization.yaml` / `<app>.argocd-application.yaml`, which point Flux or
//! Argo CD at the folder and are deliberately left out of the kustomization, and with a
//! `notify` block the notification wiring (`notify`): Flux Providers and Alerts
//! (`<app>-chat.flux-provider.yaml`, `<app>-status.flux-alert.yaml`, ...), left out too, or
//! the Argo CD Application's subscription annotations. Adding a routing mode means adding its templates, a context section in
//! `context` and a branch in the routing match of `plan`.
//!
//! **How no value can inject YAML.** Strings from values reach the output only through the
//! `q` filter (a one-line YAML double-quoted scalar with every quote, backslash, line break,
//! control and bidi character escaped) or, for map keys, `qkey` (plain only when
//! unambiguous, else as `q`). Three layers keep it so:
//! 1. a unit test walks the tera syntax tree of every built-in template and fails unless
//!    every `{{ … }}` is a variable ending in `| q` or `| qkey`, or one of a short allowlist
//!    of variables that the same test proves are integers in the context;
//! 2. tera autoescaping is on for every template with the YAML quoting function as its
//!    escape function, so a string printed without a filter, in an override too, is quoted
//!    anyway (only an explicit `| safe` opts out);
//! 3. every rendered file is parsed back and must be exactly one document that is the object
//!    its file name promises (`check`).
//!
//! Numbers (ports, replicas, probe timings, ids) are typed integers, range-checked here and
//! printed raw.

mod check;
mod context;
mod error;
mod notify;
mod quote;
mod templates;

use std::collections::BTreeMap;

use crate::values::{Color, Routing, Running, Values};

pub use error::{OutputProblem, RenderError, TemplateSource};
pub use templates::Templates;

use check::Expect;

/// Rendered files: file name → bytes.
pub type FileMap = BTreeMap<String, Vec<u8>>;

/// The name of the kustomization file in every rendered folder.
pub const KUSTOMIZATION_FILE: &str = "kustomization.yaml";

/// How the file of the Flux Kustomization that applies a rendered folder ends.
const FLUX_WIRING_SUFFIX: &str = ".flux-kustomization.yaml";
/// How the file of the Argo CD Application that syncs a rendered folder ends.
const ARGO_WIRING_SUFFIX: &str = ".argocd-application.yaml";
/// How the files of the Flux notification Providers of `notify` end.
const FLUX_PROVIDER_SUFFIX: &str = ".flux-provider.yaml";
/// How the files of the Flux notification Alerts of `notify` end.
const FLUX_ALERT_SUFFIX: &str = ".flux-alert.yaml";

/// Whether rendered `file` is one of the objects its folder's kustomization lists: not the
/// kustomization itself, nor the GitOps wiring that is applied once by hand (the Flux
/// Kustomization or Argo CD Application, and the notification Providers and Alerts).
pub fn is_listed(file: &str) -> bool {
    file != KUSTOMIZATION_FILE
        && ![
            FLUX_WIRING_SUFFIX,
            ARGO_WIRING_SUFFIX,
            FLUX_PROVIDER_SUFFIX,
            FLUX_ALERT_SUFFIX,
        ]
        .iter()
        .any(|suffix| file.ends_with(suffix))
}

/// Whether a change of rendered `file` (a file name of an `app` folder whose live colour is
/// `live`) reaches live traffic as soon as the GitOps controller applies it: every listed
/// object but the idle colour's Deployment (it serves only once promoted) and the ConfigMap
/// versions (each read only by the colours that reference it). Shared objects (Services,
/// routes) apply at once, and so does any change of the live colour's Deployment (replicas,
/// an in-place reconfigure).
pub fn applies_now(file: &str, app: &str, live: Color) -> bool {
    if !is_listed(file) || file.ends_with(CONFIG_MAP_SUFFIX) {
        return false;
    }
    match COLOUR_SUFFIXES.iter().find_map(|s| file.strip_suffix(s)) {
        Some(stem) => {
            stem.strip_prefix(app).and_then(|c| c.strip_prefix('-')) == Some(live.as_str())
        }
        None => true,
    }
}

/// The file of colour `color`'s Deployment in the folder of `app`.
pub fn deployment_file(app: &str, color: Color) -> String {
    format!("{app}-{color}{DEPLOYMENT_SUFFIX}")
}

/// How the files of one colour's own objects end (`<app>-<colour>.<kind>.yaml`): its
/// Deployment and, under values `autoscaling` / `podDisruptionBudget`, its companions.
const COLOUR_SUFFIXES: [&str; 3] = [DEPLOYMENT_SUFFIX, ".hpa.yaml", ".pdb.yaml"];

/// How the file of a colour's Deployment ends (`<app>-<colour>.deployment.yaml`).
const DEPLOYMENT_SUFFIX: &str = ".deployment.yaml";
/// How the file of a ConfigMap version ends (`<app>-<hash>.configmap.yaml`).
const CONFIG_MAP_SUFFIX: &str = ".configmap.yaml";

/// One file to render: which template, with which extra context section, promising what.
struct Job {
    file: String,
    template: &'static str,
    section: (&'static str, serde_json::Value),
    expect: Expect,
}

/// Render `values` of environment `env` with `templates` into the files of one
/// `rendered/<env>/` folder: each colour's Deployment (and ConfigMap) from what that colour
/// runs (`running`: its released configuration), everything shared from `values`. `env` only names the folder in the Flux Kustomization / Argo CD
/// Application; those two files are not listed in `kustomization.yaml`, because they are
/// applied once by hand to wire the repository and listing them would make the folder manage
/// itself.
pub fn render(
    values: &Values,
    running: &Running,
    env: &str,
    templates: &Templates,
) -> Result<FileMap, RenderError> {
    let common = context::common(values);
    let base = tera::Context::from_serialize(&common).expect("the common context is a map");
    let jobs = plan(values, running)?;

    let mut files = FileMap::new();
    for job in &jobs {
        let text = render_one(templates, &base, job)?;
        files.insert(job.file.clone(), text.into_bytes());
    }

    let resources: Vec<&str> = jobs.iter().map(|j| j.file.as_str()).collect();
    let kustomization = Job {
        file: KUSTOMIZATION_FILE.to_owned(),
        template: "kustomization.yaml.tera",
        section: section(
            "kustomization",
            &context::Kustomization {
                resources: resources.clone(),
            },
        ),
        expect: Expect::Kustomization {
            resources: resources.iter().map(|r| (*r).to_owned()).collect(),
        },
    };
    let text = render_one(templates, &base, &kustomization)?;
    files.insert(kustomization.file, text.into_bytes());
    for job in wiring(values, env) {
        let text = render_one(templates, &base, &job)?;
        files.insert(job.file, text.into_bytes());
    }
    Ok(files)
}

/// The GitOps wiring files values asks for: the Flux Kustomization with the notification
/// Providers and Alerts of `notify`, the Argo CD Application (with the notification
/// subscriptions of `notify`).
fn wiring(values: &Values, env: &str) -> Vec<Job> {
    let app = &values.app;
    let mut jobs = Vec::new();
    if let Some(f) = context::flux(values, env) {
        jobs.push(Job {
            file: format!("{app}{FLUX_WIRING_SUFFIX}"),
            template: "flux-kustomization.yaml.tera",
            expect: Expect::Object {
                kind: "Kustomization",
                name: f.name.clone(),
                namespace: f.namespace.to_owned(),
            },
            section: section("flux", &f),
        });
    }
    for n in notify::flux(values, env) {
        let role = n.role;
        jobs.push(Job {
            file: format!("{app}-{role}{FLUX_PROVIDER_SUFFIX}"),
            template: "flux-provider.yaml.tera",
            expect: Expect::Object {
                kind: "Provider",
                name: n.provider.name.clone(),
                namespace: n.provider.namespace.to_owned(),
            },
            section: section("provider", &n.provider),
        });
        jobs.push(Job {
            file: format!("{app}-{role}{FLUX_ALERT_SUFFIX}"),
            template: "flux-alert.yaml.tera",
            expect: Expect::Object {
                kind: "Alert",
                name: n.alert.name.clone(),
                namespace: n.alert.namespace.to_owned(),
            },
            section: section("alert", &n.alert),
        });
    }
    if let Some(a) = context::argocd(values, env) {
        jobs.push(Job {
            file: format!("{app}{ARGO_WIRING_SUFFIX}"),
            template: "argocd-application.yaml.tera",
            expect: Expect::Object {
                kind: "Application",
                name: a.name.clone(),
                namespace: a.namespace.to_owned(),
            },
            section: section("argocd", &a),
        });
    }
    jobs
}

/// The files to render, sorted by file name, without the kustomization.
fn plan(values: &Values, running: &Running) -> Result<Vec<Job>, RenderError> {
    let app = &values.app;
    let object = |kind: &'static str, name: String| Expect::Object {
        kind,
        name,
        namespace: values.namespace.to_string(),
    };
    let mut jobs = Vec::new();

    let mut config_maps = BTreeMap::new();
    for color in Color::ALL {
        let runs = running.of(color);
        let checksum = context::pod_config_checksum(runs);
        if let Some(d) = context::deployment(runs, color, &checksum) {
            if let Some(cm) = context::config_map(runs) {
                config_maps.insert(cm.name.clone(), cm);
            }
            jobs.push(Job {
                file: deployment_file(app, color),
                template: "deployment.yaml.tera",
                expect: object("Deployment", d.name.clone()),
                section: section("deployment", &d),
            });
        }
    }
    // One ConfigMap per distinct configuration a running colour reads.
    for (name, cm) in config_maps {
        jobs.push(Job {
            file: format!("{name}{CONFIG_MAP_SUFFIX}"),
            template: "configmap.yaml.tera",
            expect: object("ConfigMap", name),
            section: section("config_map", &cm),
        });
    }
    // Each running colour's HorizontalPodAutoscaler and PodDisruptionBudget, from what it
    // runs; the ServiceAccounts the colours run as; the app's NetworkPolicy, from values.
    let mut accounts = BTreeMap::new();
    for color in Color::ALL {
        let runs = running.of(color);
        for (kind, c) in context::colour_companions(runs, color) {
            let (template, object_kind) = match kind {
                "hpa" => ("hpa.yaml.tera", "HorizontalPodAutoscaler"),
                _ => ("pdb.yaml.tera", "PodDisruptionBudget"),
            };
            jobs.push(Job {
                file: format!("{}.{kind}.yaml", c.name),
                template,
                expect: object(object_kind, c.name.clone()),
                section: section("companion", &c),
            });
        }
        if runs.color(color).version().is_some() {
            if let Some(sa) = context::service_account(runs) {
                accounts.insert(sa.name.clone(), sa);
            }
        }
    }
    for (name, sa) in accounts {
        jobs.push(Job {
            file: format!("{name}.serviceaccount.yaml"),
            template: "serviceaccount.yaml.tera",
            expect: object("ServiceAccount", name),
            section: section("companion", &sa),
        });
    }
    if let Some(np) = context::network_policy(values) {
        jobs.push(Job {
            file: format!("{app}.networkpolicy.yaml"),
            template: "networkpolicy.yaml.tera",
            expect: object("NetworkPolicy", np.name.clone()),
            section: section("companion", &np),
        });
    }

    match values.routing {
        Routing::Service => {
            for preview in [false, true] {
                let s = context::service(values, preview);
                jobs.push(Job {
                    file: format!("{}.service.yaml", s.name),
                    template: "service.yaml.tera",
                    expect: object("Service", s.name.clone()),
                    section: section("service", &s),
                });
            }
            if let Some(i) = context::ingress(values) {
                jobs.push(Job {
                    file: format!("{app}.ingress.yaml"),
                    template: "ingress.yaml.tera",
                    expect: object("Ingress", i.name.clone()),
                    section: section("ingress", &i),
                });
            }
            if let Some(i) = context::preview_ingress(values) {
                jobs.push(Job {
                    file: format!("{app}-preview.ingress.yaml"),
                    template: "ingress.yaml.tera",
                    expect: object("Ingress", i.name.clone()),
                    section: section("ingress", &i),
                });
            }
        }
        Routing::Istio => {
            let s = context::app_service(values);
            jobs.push(Job {
                file: format!("{app}.service.yaml"),
                template: "service.yaml.tera",
                expect: object("Service", s.name.clone()),
                section: section("service", &s),
            });
            let istio = context::istio(values)?;
            let mut kinds = vec![
                (
                    "VirtualService",
                    "virtualservice",
                    "istio-virtualservice.yaml.tera",
                ),
                (
                    "DestinationRule",
                    "destinationrule",
                    "istio-destinationrule.yaml.tera",
                ),
            ];
            if istio.gateway.is_some() {
                kinds.push(("Gateway", "gateway", "istio-gateway.yaml.tera"));
            }
            for (kind, suffix, template) in kinds {
                jobs.push(Job {
                    file: format!("{app}.{suffix}.yaml"),
                    template,
                    expect: object(kind, istio.name.to_owned()),
                    section: section("istio", &istio),
                });
            }
        }
        Routing::GatewayApi => {
            for color in Color::ALL {
                let s = context::color_service(values, color);
                jobs.push(Job {
                    file: format!("{}.service.yaml", s.name),
                    template: "service.yaml.tera",
                    expect: object("Service", s.name.clone()),
                    section: section("service", &s),
                });
            }
            let route = context::http_route(values)?;
            jobs.push(Job {
                file: format!("{app}.httproute.yaml"),
                template: "httproute.yaml.tera",
                expect: object("HTTPRoute", route.name.to_owned()),
                section: section("http_route", &route),
            });
        }
    }

    jobs.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(jobs)
}

fn section(name: &'static str, data: &impl serde::Serialize) -> (&'static str, serde_json::Value) {
    let value = serde_json::to_value(data).expect("context sections are plain data");
    (name, value)
}

/// Render one job and check the result.
fn render_one(
    templates: &Templates,
    base: &tera::Context,
    job: &Job,
) -> Result<String, RenderError> {
    let mut ctx = base.clone();
    ctx.insert(job.section.0, &job.section.1);
    let text = templates.render(job.template, &ctx)?;
    check::check_file(&job.file, &text, &job.expect).map_err(|e| RenderError::TemplateOutput {
        template: job.template.to_owned(),
        origin: templates.source_of(job.template),
        problem: Box::new(e),
    })?;
    Ok(text)
}

#[cfg(test)]
mod tests;
