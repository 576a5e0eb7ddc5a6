//! The release cycle in the `istio` and `gateway-api` routing modes, through the binary on
//! real git repositories: stage → promote → rollback → scale-down, asserting that each commit
//! changes exactly the routing lines a reviewer expects.

use crate::common::sandbox::Sandbox;
use greenlight::values::{Color, Routing, Values};
use greenlight::yaml;
use serde_json::Value as Yaml;

const COMMON: &str = "\
app: api
namespace: shop
liveColor: blue
image: registry.example.com/shop/api
blue:  { tag: \"1.4.0\", replicas: 3 }
green: { replicas: 0 }
port: 8080
readinessProbe: { path: /healthz }
";

const ISTIO: &str = "\
routing: istio
istio:
  hosts: [api.example.com]
";

const GATEWAY_API: &str = "\
routing: gateway-api
gatewayApi:
  parentRefs: [{ name: public, namespace: gateways }]
  hostnames: [api.example.com]
";

/// A repository with one environment `production` in the given routing mode, rendered and
/// committed.
fn sandbox(routing: &str) -> Sandbox {
    Sandbox::with_values(&format!("{COMMON}{routing}"))
}

/// What these tests read off a sandbox after each command.
trait Cycle {
    fn run(&self, args: &[&str]) -> String;
    fn rendered_changes(&self) -> Vec<String>;
    fn changed_files(&self) -> Vec<String>;
}

impl Cycle for Sandbox {
    /// Runs greenlight, requires success, and returns its stdout.
    #[track_caller]
    fn run(&self, args: &[&str]) -> String {
        self.greenlight(args).ok().stdout
    }

    /// The lines the last commit changed under `rendered/`, as `file: ±line` (trimmed).
    fn rendered_changes(&self) -> Vec<String> {
        let diff = self.git(&["diff", "HEAD~1", "--unified=0", "--", "rendered/"]);
        let mut file = String::new();
        let mut out = Vec::new();
        for line in diff.lines() {
            if let Some(name) = line.strip_prefix("+++ b/rendered/production/") {
                file = name.to_owned();
            } else if line.starts_with("+++") || line.starts_with("---") {
                continue;
            } else if let Some(sign @ ('+' | '-')) = line.chars().next() {
                out.push(format!("{file}: {sign}{}", line[1..].trim()));
            }
        }
        out
    }

    /// The files the last commit touched.
    fn changed_files(&self) -> Vec<String> {
        self.git(&["diff", "HEAD~1", "--name-only"])
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Run the whole cycle; `after_stage`, `promote`, `rollback` and `scale_down` are the
/// expected rendered line changes of each commit (stage: only those outside the new
/// Deployment and the kustomization).
fn cycle(routing: &str, route_file: &str, expected: [&[&str]; 4]) {
    let s = sandbox(routing);
    let [stage, promote, rollback, scale_down] = expected;

    s.run(&["stage", "production", "--tag", "1.5.0"]);
    let route_changes: Vec<String> = s
        .rendered_changes()
        .into_iter()
        .filter(|l| !l.starts_with("api-green.deployment.yaml") && !l.starts_with("kustomization"))
        .collect();
    assert_eq!(route_changes, stage, "stage");
    assert!(s
        .read("rendered/production/api-green.deployment.yaml")
        .contains("registry.example.com/shop/api:1.5.0"));

    s.run(&["promote", "production"]);
    assert_eq!(
        s.changed_files(),
        [
            "environments/production/values.yaml".to_owned(),
            format!("rendered/production/{route_file}"),
        ],
        "a promotion changes the live colour and the route only"
    );
    assert_eq!(s.rendered_changes(), promote, "promote");

    s.run(&["rollback", "production"]);
    assert_eq!(s.rendered_changes(), rollback, "rollback");

    s.run(&["scale-down", "production", "--force"]);
    assert_eq!(s.rendered_changes(), scale_down, "scale-down");
    assert_eq!(s.git(&["status", "--porcelain"]), "");
    s.run(&["verify"]);
}

#[test]
fn istio_cycle_changes_only_subsets_and_the_test_route() {
    let test_route = |sign: char| -> Vec<String> {
        [
            "- name: \"test\"",
            "match:",
            "- headers:",
            "cookie:",
            "regex: \"^(.*?;)?(test=true)(;.*)?$\"",
            "route:",
            "- destination:",
            "host: \"api\"",
            "subset: \"green\"",
            "port:",
            "number: 80",
        ]
        .iter()
        .map(|l| format!("api.virtualservice.yaml: {sign}{l}"))
        .collect()
    };
    let staged = test_route('+');
    let staged: Vec<&str> = staged.iter().map(String::as_str).collect();
    let mut removed = vec!["api-green.deployment.yaml: -replicas: 3".to_owned()];
    removed.extend(test_route('-'));
    removed.insert(1, "api-green.deployment.yaml: +replicas: 0".to_owned());
    let removed: Vec<&str> = removed.iter().map(String::as_str).collect();
    cycle(
        ISTIO,
        "api.virtualservice.yaml",
        [
            &staged,
            &[
                "api.virtualservice.yaml: -subset: \"green\"",
                "api.virtualservice.yaml: +subset: \"blue\"",
                "api.virtualservice.yaml: -subset: \"blue\"",
                "api.virtualservice.yaml: +subset: \"green\"",
            ],
            &[
                "api.virtualservice.yaml: -subset: \"blue\"",
                "api.virtualservice.yaml: +subset: \"green\"",
                "api.virtualservice.yaml: -subset: \"green\"",
                "api.virtualservice.yaml: +subset: \"blue\"",
            ],
            &removed,
        ],
    );
}

#[test]
fn gateway_api_cycle_changes_only_weights_and_the_preview_rule() {
    let preview = |sign: char| -> Vec<String> {
        [
            "- matches:",
            "- headers:",
            "- type: Exact",
            "name: \"x-greenlight-preview\"",
            "value: \"true\"",
            "backendRefs:",
            "- name: \"api-green\"",
            "port: 80",
        ]
        .iter()
        .map(|l| format!("api.httproute.yaml: {sign}{l}"))
        .collect()
    };
    let staged = preview('+');
    let staged: Vec<&str> = staged.iter().map(String::as_str).collect();
    let mut removed = vec![
        "api-green.deployment.yaml: -replicas: 3".to_owned(),
        "api-green.deployment.yaml: +replicas: 0".to_owned(),
    ];
    removed.extend(preview('-'));
    let removed: Vec<&str> = removed.iter().map(String::as_str).collect();
    cycle(
        GATEWAY_API,
        "api.httproute.yaml",
        [
            &staged,
            &[
                "api.httproute.yaml: -- name: \"api-green\"",
                "api.httproute.yaml: +- name: \"api-blue\"",
                "api.httproute.yaml: -weight: 100",
                "api.httproute.yaml: +weight: 0",
                "api.httproute.yaml: -weight: 0",
                "api.httproute.yaml: +weight: 100",
            ],
            &[
                "api.httproute.yaml: -- name: \"api-blue\"",
                "api.httproute.yaml: +- name: \"api-green\"",
                "api.httproute.yaml: -weight: 0",
                "api.httproute.yaml: +weight: 100",
                "api.httproute.yaml: -weight: 100",
                "api.httproute.yaml: +weight: 0",
            ],
            &removed,
        ],
    );
}

#[test]
fn init_with_flux_and_argocd_wires_the_folder_without_listing_the_wiring() {
    let s = sandbox(ISTIO);
    let dir = s.root.parent().unwrap().join("wired");
    s.greenlight(&[
        "init",
        dir.to_str().unwrap(),
        "--app",
        "web",
        "--env",
        "prod/eu",
        "--flux",
        "gitops",
        "--argocd",
        "https://git.example.com/acme/gitops.git",
    ])
    .ok();
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).unwrap();
    let flux = yaml::parse_document(&read("rendered/prod/eu/web.flux-kustomization.yaml")).unwrap();
    assert_eq!(flux["spec"]["path"], "./rendered/prod/eu");
    assert_eq!(flux["spec"]["sourceRef"]["name"], "gitops");
    assert_eq!(flux["metadata"]["name"], "web-prod-eu");
    let app = yaml::parse_document(&read("rendered/prod/eu/web.argocd-application.yaml")).unwrap();
    assert_eq!(
        app["spec"]["source"]["repoURL"],
        "https://git.example.com/acme/gitops.git"
    );
    assert_eq!(app["spec"]["source"]["path"], "rendered/prod/eu");
    let kustomization = read("rendered/prod/eu/kustomization.yaml");
    assert!(
        !kustomization.contains("flux-kustomization"),
        "{kustomization}"
    );
    assert!(
        !kustomization.contains("argocd-application"),
        "{kustomization}"
    );
    // The wiring files are committed and verified like every rendered file.
    s.greenlight_in(&dir, &["verify"], None).ok();
    std::fs::write(
        dir.join("rendered/prod/eu/web.flux-kustomization.yaml"),
        "# edited\n",
    )
    .unwrap();
    for args in [&["add", "-A"][..], &["commit", "-q", "-m", "hand edit"]] {
        s.git_in(&dir, args);
    }
    // A committed hand edit is drift.
    s.greenlight_in(&dir, &["verify"], None).code(1);
}

/// The committed expected file `name` of a render case, parsed.
fn expected_doc(case: &std::path::Path, name: &str) -> Yaml {
    let path = case.join("expected").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    yaml::parse_document(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn idle_runs(v: &Values) -> bool {
    let idle = v.color(v.idle_color());
    idle.replicas > 0 && idle.version().is_some()
}

/// Structural checks of every committed istio and gateway-api fixture, against its values:
/// subsets, the cookie regex, weights summing to 100, selectors, and the test / preview route
/// present exactly while the idle colour runs.
#[test]
fn every_routing_fixture_routes_live_and_idle_as_its_values_say() {
    let mut checked = 0;
    for case in crate::common::case_dirs() {
        let name = crate::common::case_name(&case);
        let text = std::fs::read_to_string(case.join("values.yaml")).unwrap();
        let v = greenlight::values::parse(&name, &text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (live, idle) = (v.live_color.as_str(), v.idle_color().as_str());
        match v.routing {
            Routing::Service => continue,
            Routing::Istio => {
                let svc = expected_doc(&case, "api.service.yaml");
                assert_eq!(
                    svc["spec"]["selector"].as_object().unwrap().len(),
                    1,
                    "{name}"
                );
                assert_eq!(svc["spec"]["selector"]["app"], "api", "{name}");
                let dr = expected_doc(&case, "api.destinationrule.yaml");
                for (i, c) in Color::ALL.iter().enumerate() {
                    assert_eq!(dr["spec"]["subsets"][i]["name"], c.as_str(), "{name}");
                    assert_eq!(
                        dr["spec"]["subsets"][i]["labels"]["color"],
                        c.as_str(),
                        "{name}"
                    );
                }
                let vs = expected_doc(&case, "api.virtualservice.yaml");
                let http = vs["spec"]["http"].as_array().unwrap();
                let default = http.last().unwrap();
                assert_eq!(default["route"][0]["destination"]["subset"], live, "{name}");
                assert_eq!(http.len(), if idle_runs(&v) { 2 } else { 1 }, "{name}");
                if idle_runs(&v) {
                    let test = &http[0];
                    assert_eq!(test["route"][0]["destination"]["subset"], idle, "{name}");
                    let istio = v.istio.as_ref().unwrap();
                    match istio.test_route.as_ref().and_then(|t| t.header.as_ref()) {
                        Some(h) => assert_eq!(
                            test["match"][0]["headers"][h.name.as_str()]["exact"],
                            h.value.as_str(),
                            "{name}"
                        ),
                        None => assert_eq!(
                            test["match"][0]["headers"]["cookie"]["regex"],
                            "^(.*?;)?(test=true)(;.*)?$",
                            "{name}"
                        ),
                    }
                }
                let has_gateway = case.join("expected/api.gateway.yaml").exists();
                let istio = v.istio.as_ref().unwrap();
                assert_eq!(has_gateway, istio.existing_gateway.is_none(), "{name}");
                let gateway_ref = istio.existing_gateway.as_deref().unwrap_or("api");
                assert_eq!(vs["spec"]["gateways"][0], gateway_ref, "{name}");
            }
            Routing::GatewayApi => {
                for c in Color::ALL {
                    let svc = expected_doc(&case, &format!("api-{c}.service.yaml"));
                    assert_eq!(svc["spec"]["selector"]["color"], c.as_str(), "{name}");
                }
                let route = expected_doc(&case, "api.httproute.yaml");
                let rules = route["spec"]["rules"].as_array().unwrap();
                let backends = rules.last().unwrap()["backendRefs"].as_array().unwrap();
                let total: u64 = backends.iter().map(|b| b["weight"].as_u64().unwrap()).sum();
                assert_eq!(total, 100, "{name}");
                for b in backends {
                    let to_live = b["name"] == format!("api-{live}").as_str();
                    let want = if to_live { 100 } else { 0 };
                    assert_eq!(b["weight"].as_u64(), Some(want), "{name}");
                }
                assert_eq!(rules.len(), if idle_runs(&v) { 2 } else { 1 }, "{name}");
                if idle_runs(&v) {
                    assert_eq!(
                        rules[0]["backendRefs"][0]["name"],
                        format!("api-{idle}").as_str(),
                        "{name}"
                    );
                    assert_eq!(
                        rules[0]["matches"][0]["headers"][0]["type"], "Exact",
                        "{name}"
                    );
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} routing fixtures found");
}
