//! Rendered output checked by the real tools: `kubectl kustomize` must build every rendered
//! folder, and `kubernetes-validate --strict` must accept every rendered object against the
//! Kubernetes OpenAPI schema of [`KUBERNETES_VERSION`] (unknown fields fail), and the custom
//! resources (Istio, Gateway API) must satisfy the upstream CRD schemas kept in
//! `fixtures/crds/`, strictly (`fixtures/crds/validate.py`, Python `jsonschema`).
//!
//! Both the committed `fixtures/render/*/expected/` folders and a fresh render of each case
//! into a temporary folder are checked. When a tool is missing the test prints a skip note,
//! unless the `CI` environment variable is set: then it fails, naming the tool and how to
//! install it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Kubernetes version whose schema the output must satisfy: the newest that the
/// `kubernetes-validate` package ships.
const KUBERNETES_VERSION: &str = "1.37.0";

struct Tool {
    program: &'static str,
    probe: &'static [&'static str],
    install: &'static str,
}

const KUBECTL: Tool = Tool {
    program: "kubectl",
    probe: &["version", "--client"],
    install: "install kubectl (https://kubernetes.io/docs/tasks/tools/), which bundles kustomize",
};

const KUBERNETES_VALIDATE: Tool = Tool {
    program: "kubernetes-validate",
    probe: &["--version"],
    install: "run `pip install kubernetes-validate`",
};

const CRD_VALIDATOR: Tool = Tool {
    program: "python3",
    probe: &["-c", "import jsonschema, yaml"],
    install: "run `pip install -r .ci/requirements.txt` (jsonschema, PyYAML)",
};

/// The strict CRD schema validator, relative to the crate root.
const CRD_VALIDATE_SCRIPT: &str = "fixtures/crds/validate.py";

/// Whether `tool` runs; if not, fail under CI and skip with a note elsewhere.
fn available(tool: &Tool, test: &str) -> bool {
    let runs = Command::new(tool.program)
        .args(tool.probe)
        .output()
        .is_ok_and(|out| out.status.success());
    if runs {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "`{}` is required for {test} under CI but is not installed or does not run: {}",
            tool.program, tool.install
        );
    }
    eprintln!(
        "note: skipping {test}: `{}` is not installed ({}); with CI set this fails",
        tool.program, tool.install
    );
    false
}

/// Each case's committed expected folder, and a fresh render of it in a temp folder.
fn rendered_dirs(tmp: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for case in crate::common::case_dirs() {
        let name = crate::common::case_name(&case);
        dirs.push(case.join("expected"));
        let files = crate::common::render_case(&case).unwrap_or_else(|e| panic!("{name}: {e}"));
        let fresh = tmp.join(&name);
        crate::common::write_files(&fresh, &files);
        dirs.push(fresh);
    }
    assert!(!dirs.is_empty(), "no render fixtures found");
    dirs
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn kustomize_builds_every_rendered_folder() {
    if !available(&KUBECTL, "kustomize_builds_every_rendered_folder") {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for dir in rendered_dirs(tmp.path()) {
        let (ok, output) = run(Command::new(KUBECTL.program).arg("kustomize").arg(&dir));
        if !ok {
            failures.push(format!("kubectl kustomize {}:\n{output}", dir.display()));
        } else if !output.contains("kind: Deployment") {
            failures.push(format!(
                "kubectl kustomize {} produced no Deployment:\n{output}",
                dir.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every rendered object file (not the kustomization) of every case, fresh and committed.
fn object_files(tmp: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in rendered_dirs(tmp) {
        let mut in_dir: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.file_name() != Some(OsStr::new("kustomization.yaml")))
            .collect();
        in_dir.sort();
        files.append(&mut in_dir);
    }
    files
}

/// The number in the validator's `N custom resource(s) checked` summary.
fn checked_count(output: &str) -> usize {
    output
        .lines()
        .find_map(|l| l.strip_suffix(" problem(s)"))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary line in validator output:\n{output}"))
}

#[test]
fn custom_resources_validate_strictly_against_the_upstream_crds() {
    if !available(
        &CRD_VALIDATOR,
        "custom_resources_validate_strictly_against_the_upstream_crds",
    ) {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let files = object_files(tmp.path());
    let custom = files
        .iter()
        .filter(|f| {
            let name = f.to_string_lossy();
            [
                ".gateway.yaml",
                ".virtualservice.yaml",
                ".destinationrule.yaml",
                ".httproute.yaml",
                ".flux-kustomization.yaml",
                ".argocd-application.yaml",
                ".flux-provider.yaml",
                ".flux-alert.yaml",
            ]
            .iter()
            .any(|s| name.ends_with(s))
        })
        .count();
    assert!(custom > 0, "no fixture renders a custom resource");
    let (ok, output) = run(Command::new(CRD_VALIDATOR.program)
        .arg(CRD_VALIDATE_SCRIPT)
        .args(&files));
    assert!(
        ok,
        "rendered custom resources break their CRD schemas:\n{output}"
    );
    assert_eq!(checked_count(&output), custom, "{output}");
}

#[test]
fn the_crd_validator_rejects_unknown_fields_and_undocumented_versions() {
    if !available(
        &CRD_VALIDATOR,
        "the_crd_validator_rejects_unknown_fields_and_undocumented_versions",
    ) {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let cases = [
        (
            "unknown-field.yaml",
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
             metadata: {name: api, namespace: shop}\n\
             spec: {host: api, subsets: [{name: blue, labels: {color: blue}, colour: x}]}\n",
            "'colour' was unexpected",
        ),
        (
            "old-version.yaml",
            "apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\n\
             metadata: {name: api, namespace: shop}\nspec: {hosts: [a.example.com]}\n",
            "has no stored schema",
        ),
        (
            "bad-weight.yaml",
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n\
             metadata: {name: api, namespace: shop}\n\
             spec: {rules: [{backendRefs: [{name: api-blue, port: 80, weight: -1}]}]}\n",
            "weight",
        ),
        (
            "alert-typo.yaml",
            "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Alert\n\
             metadata: {name: api-chat, namespace: flux-system}\n\
             spec: {providerRef: {name: api-chat}, eventSources: [{kind: Kustomization, \
             name: api, nmespace: x}]}\n",
            "'nmespace' was unexpected",
        ),
        (
            "provider-type.yaml",
            "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Provider\n\
             metadata: {name: api-chat, namespace: flux-system}\nspec: {type: slak}\n",
            "'slak' is not one of",
        ),
    ];
    for (file, text, needle) in cases {
        let path = tmp.path().join(file);
        std::fs::write(&path, text).expect("write case");
        let (ok, output) = run(Command::new(CRD_VALIDATOR.program)
            .arg(CRD_VALIDATE_SCRIPT)
            .arg(&path));
        assert!(!ok, "{file} was accepted:\n{output}");
        assert!(
            output.contains(needle),
            "{file}: no `{needle}` in:\n{output}"
        );
    }
}

#[test]
fn rendered_objects_validate_against_the_kubernetes_schema() {
    if !available(
        &KUBERNETES_VALIDATE,
        "rendered_objects_validate_against_the_kubernetes_schema",
    ) {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in rendered_dirs(tmp.path()) {
        let mut in_dir: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.file_name() != Some(OsStr::new("kustomization.yaml")))
            .collect();
        assert!(!in_dir.is_empty(), "{} holds no objects", dir.display());
        in_dir.sort();
        files.append(&mut in_dir);
    }
    let (ok, output) = run(Command::new(KUBERNETES_VALIDATE.program)
        .args([
            "--strict",
            "--quiet",
            "--kubernetes-version",
            KUBERNETES_VERSION,
        ])
        .args(&files));
    assert!(
        ok,
        "kubernetes-validate --strict (Kubernetes {KUBERNETES_VERSION}) rejected rendered \
         output; if the version is unsupported, upgrade with `pip install -U \
         kubernetes-validate`:\n{output}"
    );
}

#[test]
fn render_stdout_streams_one_environment_for_the_tools_and_writes_nothing() {
    if !available(
        &KUBERNETES_VALIDATE,
        "render_stdout_streams_one_environment_for_the_tools_and_writes_nothing",
    ) {
        return;
    }
    let s = crate::common::sandbox::Sandbox::with_values(crate::common::sandbox::VALUES);
    // An edit not rendered yet: --stdout shows what values render now, and writes nothing.
    let path = "environments/production/values.yaml";
    s.write(path, &s.read(path).replace("replicas: 3", "replicas: 5"));
    let before = s.git(&["status", "--porcelain"]);
    let r = s.greenlight(&["render", "production", "--stdout"]).ok();
    assert_eq!(s.git(&["status", "--porcelain"]), before, "nothing written");
    let sources: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("# Source: "))
        .collect();
    assert_eq!(
        sources,
        [
            "rendered/production/api-blue.deployment.yaml",
            "rendered/production/api-preview.service.yaml",
            "rendered/production/api.service.yaml"
        ]
    );
    assert_eq!(r.stdout.matches("\n---\n").count() + 1, 3, "{}", r.stdout);
    assert!(r.stdout.contains("replicas: 5"), "{}", r.stdout);
    let stream = s._tmp.path().join("stream.yaml");
    std::fs::write(&stream, &r.stdout).unwrap();
    let (ok, output) = run(Command::new(KUBERNETES_VALIDATE.program)
        .args(["--strict", "--kubernetes-version", KUBERNETES_VERSION])
        .arg(&stream));
    assert!(ok, "{output}");
    assert_eq!(
        output.matches(" passed for resource ").count(),
        3,
        "{output}"
    );
    // One environment, in YAML only.
    let r = s.greenlight(&["render", "--stdout"]).code(2);
    assert!(
        r.stderr.contains("--stdout prints one environment"),
        "{}",
        r.stderr
    );
    let r = s
        .greenlight(&["render", "production", "--stdout", "--output", "json"])
        .code(2);
    assert!(r.stderr.contains("leave out --output json"), "{}", r.stderr);
}

const CHECKOV: Tool = Tool {
    program: "checkov",
    probe: &["--version"],
    install: "run `pip install -r .ci/requirements.txt` (checkov)",
};

/// checkov findings that are the user's decision in values, not a default greenlight sets:
/// a tag rather than a digest, the pull policy, the user id, probes and resources of
/// sidecars, whether to have a NetworkPolicy, secrets as variables.
const USER_CHOICES: &[&str] = &[
    "CKV_K8S_8",  // liveness probe: optional in values
    "CKV_K8S_9",  // readiness probe: of a sidecar
    "CKV_K8S_10", // CPU requests: values `resources`
    "CKV_K8S_11", // CPU limits: values `resources`
    "CKV_K8S_12", // memory requests: values `resources`
    "CKV_K8S_13", // memory limits: values `resources`
    "CKV_K8S_15", // pull policy Always: values `container.imagePullPolicy`
    "CKV_K8S_35", // secrets as files: values `env`
    "CKV_K8S_40", // a high UID: values `securityContext.runAsUser`
    "CKV_K8S_43", // a digest: `stage --digest`
    "CKV2_K8S_6", // a NetworkPolicy: values `networkPolicy`
];

/// What a case overrides on purpose, by case: the finding that override causes.
const OVERRIDES: &[(&str, &str)] = &[
    ("full", "CKV_K8S_22"), // securityContext.readOnlyRootFilesystem: false
    ("hostile-strings", "CKV_K8S_153"), // hostile annotations, an nginx snippet among them
];

/// The secure defaults, checked on every Deployment: no privilege escalation, a read-only
/// root filesystem, non-root, no NET_RAW, capabilities dropped, seccomp, no service account
/// token, no privileged container, no host namespaces.
const SECURE_DEFAULTS: &[&str] = &[
    "CKV_K8S_16",
    "CKV_K8S_17",
    "CKV_K8S_18",
    "CKV_K8S_19",
    "CKV_K8S_20",
    "CKV_K8S_22",
    "CKV_K8S_23",
    "CKV_K8S_28",
    "CKV_K8S_31",
    "CKV_K8S_37",
    "CKV_K8S_38",
];

#[test]
fn checkov_finds_nothing_but_the_users_own_choices() {
    if !available(&CHECKOV, "checkov_finds_nothing_but_the_users_own_choices") {
        return;
    }
    // Every case's committed output (the golden test proves it is what greenlight renders).
    let out = Command::new(CHECKOV.program)
        .arg("-d")
        .arg(crate::common::fixtures_dir())
        .args(["--framework", "kubernetes", "--skip-download", "--compact"])
        .args(["-o", "json"])
        .output()
        .expect("checkov runs");
    let output = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&output)
        .unwrap_or_else(|e| panic!("checkov printed no JSON ({e}):\n{output}"));
    let report = report.as_array().map_or(&report, |all| &all[0]);
    // Paths are relative to the folder given: `/<case>/expected/<file>`.
    let case_of = |check: &serde_json::Value| -> String {
        let path = check["file_path"].as_str().unwrap_or_default();
        path.trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let mut unexpected = Vec::new();
    for check in report["results"]["failed_checks"].as_array().unwrap() {
        let id = check["check_id"].as_str().unwrap();
        let case = case_of(check);
        let overridden = OVERRIDES.iter().any(|(c, i)| *c == case && *i == id);
        if !USER_CHOICES.contains(&id) && !overridden {
            unexpected.push(format!(
                "{case}: {id} {} ({})",
                check["check_name"], check["resource"]
            ));
        }
    }
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    // The secure defaults were checked, and passed, on the Deployments of the workload case
    // (every container, sidecars included).
    let passed: Vec<(String, String)> = report["results"]["passed_checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| case_of(c) == "workload")
        .map(|c| {
            (
                c["check_id"].as_str().unwrap().to_owned(),
                c["resource"].to_string(),
            )
        })
        .collect();
    for id in SECURE_DEFAULTS {
        assert!(
            passed
                .iter()
                .any(|(i, r)| i == id && r.contains("Deployment.shop.shop-blue")),
            "{id} did not pass on the workload's blue Deployment"
        );
    }
}
