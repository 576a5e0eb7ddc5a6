//! The release cycle in the `istio` and `gateway-api` routing modes, through the binary on
//! real git repositories: stage → promote → rollback → scale-down, asserting that each commit
//! changes exactly the routing lines a reviewer expects.

mod common;

use std::path::PathBuf;

use greenlight::values::{Color, Routing, Values};
use serde_yaml::Value as Yaml;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("greenlight")
}

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

struct Sandbox {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Sandbox {
    /// A repository with one environment `production` in the given routing mode, rendered and
    /// committed.
    fn new(routing: &str) -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("gitops");
        let values = root.join("environments/production/values.yaml");
        std::fs::create_dir_all(values.parent().unwrap()).unwrap();
        std::fs::write(values, format!("{COMMON}{routing}")).unwrap();
        let s = Sandbox { _tmp: tmp, root };
        s.git(&["init", "-q", "-b", "main"]);
        s.greenlight(&["render"]);
        s.git(&["add", "-A"]);
        s.git(&["commit", "-q", "-m", "initial import"]);
        s
    }

    fn command(&self, program: PathBuf) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", &self.root)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Release Bot")
            .env("GIT_AUTHOR_EMAIL", "bot@example.com")
            .env("GIT_COMMITTER_NAME", "Release Bot")
            .env("GIT_COMMITTER_EMAIL", "bot@example.com")
            .env("NO_COLOR", "1")
            .current_dir(&self.root);
        cmd
    }

    #[track_caller]
    fn greenlight(&self, args: &[&str]) -> String {
        let out = self.command(bin()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "greenlight {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    #[track_caller]
    fn git(&self, args: &[&str]) -> String {
        let out = self.command("git".into()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap()
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
    let s = Sandbox::new(routing);
    let [stage, promote, rollback, scale_down] = expected;

    s.greenlight(&["stage", "production", "--tag", "1.5.0"]);
    let route_changes: Vec<String> = s
        .rendered_changes()
        .into_iter()
        .filter(|l| !l.starts_with("api-green.deployment.yaml") && !l.starts_with("kustomization"))
        .collect();
    assert_eq!(route_changes, stage, "stage");
    assert!(s
        .read("rendered/production/api-green.deployment.yaml")
        .contains("registry.example.com/shop/api:1.5.0"));

    s.greenlight(&["promote", "production"]);
    assert_eq!(
        s.changed_files(),
        [
            "environments/production/values.yaml".to_owned(),
            format!("rendered/production/{route_file}"),
        ],
        "a promotion changes the live colour and the route only"
    );
    assert_eq!(s.rendered_changes(), promote, "promote");

    s.greenlight(&["rollback", "production"]);
    assert_eq!(s.rendered_changes(), rollback, "rollback");

    s.greenlight(&["scale-down", "production", "--force"]);
    assert_eq!(s.rendered_changes(), scale_down, "scale-down");
    assert_eq!(s.git(&["status", "--porcelain"]), "");
    s.greenlight(&["verify"]);
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
    let s = Sandbox::new(ISTIO);
    let dir = s.root.parent().unwrap().join("wired");
    let out = s
        .command(bin())
        .args([
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
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).unwrap();
    let flux: serde_yaml::Value =
        serde_yaml::from_str(&read("rendered/prod/eu/web.flux-kustomization.yaml")).unwrap();
    assert_eq!(flux["spec"]["path"], "./rendered/prod/eu");
    assert_eq!(flux["spec"]["sourceRef"]["name"], "gitops");
    assert_eq!(flux["metadata"]["name"], "web-prod-eu");
    let app: serde_yaml::Value =
        serde_yaml::from_str(&read("rendered/prod/eu/web.argocd-application.yaml")).unwrap();
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
    let verify = s
        .command(bin())
        .current_dir(&dir)
        .arg("verify")
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    std::fs::write(
        dir.join("rendered/prod/eu/web.flux-kustomization.yaml"),
        "# edited\n",
    )
    .unwrap();
    for args in [&["add", "-A"][..], &["commit", "-q", "-m", "hand edit"]] {
        let git = s
            .command("git".into())
            .current_dir(&dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            git.status.success(),
            "{}",
            String::from_utf8_lossy(&git.stderr)
        );
    }
    let verify = s
        .command(bin())
        .current_dir(&dir)
        .arg("verify")
        .output()
        .unwrap();
    assert_eq!(
        verify.status.code(),
        Some(1),
        "a committed hand edit is drift"
    );
}

/// The committed expected file `name` of a render case, parsed.
fn expected_doc(case: &std::path::Path, name: &str) -> Yaml {
    let path = case.join("expected").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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
    for case in common::case_dirs() {
        let name = common::case_name(&case);
        let text = std::fs::read_to_string(case.join("values.yaml")).unwrap();
        let v = greenlight::values::parse(&name, &text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (live, idle) = (v.live_color.as_str(), v.idle_color().as_str());
        match v.routing {
            Routing::Service => continue,
            Routing::Istio => {
                let svc = expected_doc(&case, "api.service.yaml");
                assert_eq!(
                    svc["spec"]["selector"].as_mapping().unwrap().len(),
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
                let http = vs["spec"]["http"].as_sequence().unwrap();
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
                let rules = route["spec"]["rules"].as_sequence().unwrap();
                let backends = rules.last().unwrap()["backendRefs"].as_sequence().unwrap();
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
