//! Real workloads (issue 15) on real repositories: the HorizontalPodAutoscaler through a whole
//! release cycle, and a refusal that names the file, line and the field's Kubernetes type.

use crate::common::sandbox::Sandbox;

const VALUES: &str = "\
app: api
namespace: shop
liveColor: blue
image: registry.example.com/shop/api
blue:  { tag: \"1.4.0\", replicas: 3 }
green: { replicas: 0 }
port: 8080
readinessProbe: { path: /healthz }
autoscaling:
  maxReplicas: 6
  metrics:
    - type: Resource
      resource: { name: cpu, target: { type: Utilization, averageUtilization: 80 } }
podDisruptionBudget: { maxUnavailable: 1 }
";

const DIR: &str = "rendered/production";

fn doc(s: &Sandbox, file: &str) -> serde_json::Value {
    greenlight::yaml::parse_document(&s.read(&format!("{DIR}/{file}"))).unwrap()
}

fn exists(s: &Sandbox, file: &str) -> bool {
    s.path(&format!("{DIR}/{file}")).exists()
}

#[test]
fn the_autoscaler_follows_each_colour_through_stage_promote_and_scale_down() {
    let s = Sandbox::with_values(VALUES);
    // The live colour runs under its HorizontalPodAutoscaler, which owns the replica count.
    let hpa = doc(&s, "api-blue.hpa.yaml");
    assert_eq!(hpa["spec"]["minReplicas"], 3);
    assert_eq!(hpa["spec"]["maxReplicas"], 6);
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "api-blue");
    assert!(doc(&s, "api-blue.deployment.yaml")["spec"]
        .get("replicas")
        .is_none());
    assert!(exists(&s, "api-blue.pdb.yaml"));
    assert!(!exists(&s, "api-green.hpa.yaml") && !exists(&s, "api-green.pdb.yaml"));

    // stage pre-scales the idle colour: its autoscaler starts at the live replicas.
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    let hpa = doc(&s, "api-green.hpa.yaml");
    assert_eq!(hpa["spec"]["minReplicas"], 3);
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "api-green");
    assert!(doc(&s, "api-green.deployment.yaml")["spec"]
        .get("replicas")
        .is_none());
    let pdb = doc(&s, "api-green.pdb.yaml");
    assert_eq!(pdb["spec"]["selector"]["matchLabels"]["color"], "green");
    let kustomization = s.read(&format!("{DIR}/kustomization.yaml"));
    for file in ["api-green.hpa.yaml", "api-green.pdb.yaml"] {
        assert!(kustomization.contains(file), "{kustomization}");
    }

    s.greenlight(&["promote", "production"]).ok();
    assert!(
        exists(&s, "api-blue.hpa.yaml"),
        "the warm colour keeps its autoscaler"
    );

    // scale-down takes the idle colour's autoscaler away and pins it at zero.
    let out = s.greenlight(&["scale-down", "production", "--force"]).ok();
    assert!(
        out.stdout.contains("scale-down(production)"),
        "{}",
        out.stdout
    );
    assert!(!exists(&s, "api-blue.hpa.yaml") && !exists(&s, "api-blue.pdb.yaml"));
    assert_eq!(doc(&s, "api-blue.deployment.yaml")["spec"]["replicas"], 0);
    let removed = s.git(&["show", "--name-status", "--no-renames", "--format=", "HEAD"]);
    assert!(
        removed.contains(&format!("D\t{DIR}/api-blue.hpa.yaml")),
        "{removed}"
    );
    assert!(
        exists(&s, "api-green.hpa.yaml"),
        "the live colour keeps its autoscaler"
    );
    s.greenlight(&["verify"]).ok();
}

#[test]
fn an_autoscaling_edit_reaches_a_colour_only_when_it_is_staged() {
    let s = Sandbox::with_values(VALUES);
    let before = s.read(&format!("{DIR}/api-blue.hpa.yaml"));
    let values = s.read("environments/production/values.yaml");
    s.write(
        "environments/production/values.yaml",
        &values.replace("maxReplicas: 6", "maxReplicas: 9"),
    );
    s.greenlight(&["render"]).ok();
    assert_eq!(s.read(&format!("{DIR}/api-blue.hpa.yaml")), before);
    s.git(&["commit", "-qam", "allow more replicas"]);
    let diff = s.greenlight(&["diff", "production"]).ok();
    assert!(
        diff.stdout.contains("autoscaling.maxReplicas 6 → 9"),
        "{}",
        diff.stdout
    );
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    assert_eq!(doc(&s, "api-green.hpa.yaml")["spec"]["maxReplicas"], 9);
    assert_eq!(doc(&s, "api-blue.hpa.yaml")["spec"]["maxReplicas"], 6);
}

#[test]
fn a_typo_in_a_kubernetes_field_is_refused_before_anything_is_written() {
    let s = Sandbox::with_values(VALUES);
    let head = s.head();
    let before = s.read(&format!("{DIR}/api-blue.deployment.yaml"));
    let values = s.read("environments/production/values.yaml");
    s.write(
        "environments/production/values.yaml",
        &format!("{values}container:\n  comand: [/app/server]\n"),
    );
    let out = s.greenlight(&["render"]).code(2);
    assert!(
        out.stderr.contains(
            "environments/production/values.yaml:16:3: container.comand: `comand` is not a \
             field of a Kubernetes Container"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `command`?"),
        "{}",
        out.stderr
    );
    assert_eq!(s.read(&format!("{DIR}/api-blue.deployment.yaml")), before);
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .code(2);
    assert_eq!(s.head(), head);
}
