//! The project's own top-level `environments/`, `templates/` and `rendered/` are a working
//! example repository: its committed `rendered/` must be exactly what its values render with
//! its templates, and every rendered folder must build with `kubectl kustomize`.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn example_repository_is_rendered_exactly() {
    // A plain copy (no git), so the check reads the files as they are in this checkout.
    let tmp = tempfile::tempdir().unwrap();
    for dir in ["environments", "templates", "rendered"] {
        copy_dir(&root().join(dir), &tmp.path().join(dir));
    }
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("greenlight"))
        .args(["verify", "--repo"])
        .arg(tmp.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rendered/ is stale: run `cargo run -- render --all --repo .`\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("matches the values of 3 environments"),
        "{stdout}"
    );
}

#[test]
fn example_environments_build_with_kustomize() {
    let kubectl = match which("kubectl") {
        Some(k) => k,
        None if std::env::var_os("CI").is_some() => {
            panic!("kubectl is required in CI (it ships on the image at /usr/bin/kubectl)")
        }
        None => {
            eprintln!("skipped: kubectl not found on PATH");
            return;
        }
    };
    for env in ["staging", "production/eu-west/api"] {
        let dir = root().join("rendered").join(env);
        let out = std::process::Command::new(&kubectl)
            .arg("kustomize")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubectl kustomize {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let built = String::from_utf8(out.stdout).unwrap();
        assert!(built.contains("kind: Deployment") && built.contains("kind: Service"));
    }
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// The podinfo example (`environments/podinfo`) carries what podinfo 6.14.1's own manifests
/// say (kustomize/deployment.yaml, hpa.yaml and service.yaml at that tag, written out here
/// field by field), in each running colour's objects.
#[test]
fn the_podinfo_example_carries_its_upstream_manifests() {
    let read = |file: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(root().join("rendered/podinfo").join(file))
            .unwrap_or_else(|e| panic!("rendered/podinfo/{file}: {e}"));
        greenlight::yaml::parse_document(&text).unwrap()
    };
    let deployment = read("podinfo-blue.deployment.yaml");
    let spec = &deployment["spec"];
    assert_eq!(spec["minReadySeconds"], 3);
    assert_eq!(spec["revisionHistoryLimit"], 5);
    assert_eq!(spec["progressDeadlineSeconds"], 60);
    assert_eq!(spec["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
    let pod = &spec["template"];
    assert_eq!(
        pod["metadata"]["annotations"]["prometheus.io/scrape"],
        "true"
    );
    assert_eq!(pod["metadata"]["annotations"]["prometheus.io/port"], "9797");
    let c = &pod["spec"]["containers"][0];
    assert_eq!(c["image"], "ghcr.io/stefanprodan/podinfo:6.14.1");
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    let ports: Vec<(String, i64, String)> = c["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["containerPort"].as_i64().unwrap(),
                p["protocol"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        ports,
        [
            ("http".to_owned(), 9898, "TCP".to_owned()),
            ("http-metrics".to_owned(), 9797, "TCP".to_owned()),
            ("grpc".to_owned(), 9999, "TCP".to_owned()),
        ]
    );
    assert_eq!(
        c["command"],
        serde_json::json!([
            "./podinfo",
            "--port=9898",
            "--port-metrics=9797",
            "--grpc-port=9999",
            "--grpc-service-name=podinfo",
            "--level=info",
            "--random-delay=false",
            "--random-error=false"
        ])
    );
    assert_eq!(
        c["env"],
        serde_json::json!([{"name": "PODINFO_UI_COLOR", "value": "#34577c"}])
    );
    for (probe, path) in [("livenessProbe", "healthz"), ("readinessProbe", "readyz")] {
        assert_eq!(
            c[probe],
            serde_json::json!({
                "exec": {"command": ["podcli", "check", "http", format!("localhost:9898/{path}")]},
                "initialDelaySeconds": 5,
                "timeoutSeconds": 5
            }),
            "{probe}"
        );
    }
    assert_eq!(
        c["resources"],
        serde_json::json!({
            "limits": {"cpu": "2000m", "memory": "512Mi"},
            "requests": {"cpu": "100m", "memory": "64Mi"}
        })
    );
    let mounts = c["volumeMounts"].as_array().unwrap();
    assert!(mounts.contains(&serde_json::json!({"name": "data", "mountPath": "/data"})));
    let volumes = pod["spec"]["volumes"].as_array().unwrap();
    assert!(volumes.contains(&serde_json::json!({"name": "data", "emptyDir": {}})));

    let hpa = read("podinfo-blue.hpa.yaml");
    assert_eq!(hpa["spec"]["minReplicas"], 2);
    assert_eq!(hpa["spec"]["maxReplicas"], 4);
    assert_eq!(
        hpa["spec"]["metrics"],
        serde_json::json!([{
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 99}}
        }])
    );
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "podinfo-blue");

    let service = read("podinfo.service.yaml");
    assert_eq!(service["spec"]["type"], "ClusterIP");
    assert_eq!(
        service["spec"]["ports"],
        serde_json::json!([
            {"name": "http", "port": 9898, "protocol": "TCP", "targetPort": "http"},
            {"name": "grpc", "port": 9999, "protocol": "TCP", "targetPort": "grpc"}
        ])
    );
}
