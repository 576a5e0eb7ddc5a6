//! Unit tests of the diff module, on realistic rendered manifests.

use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;

const SERVICE: &str = "rendered/production/api.service.yaml";
const GREEN: &str = "rendered/production/api-green.deployment.yaml";

fn service(color: &str) -> String {
    format!(
        "apiVersion: v1
kind: Service
metadata:
  labels:
    app.kubernetes.io/name: api
  name: api
  namespace: shop
spec:
  ports:
  - name: http
    port: 80
    targetPort: 8080
  selector:
    app: api
    color: {color}
"
    )
}

fn deployment(color: &str, tag: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app.kubernetes.io/name: api
    app.kubernetes.io/version: \"{tag}\"
    color: {color}
  name: api-{color}
  namespace: shop
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: api
      color: {color}
  template:
    metadata:
      labels:
        app: api
        color: {color}
    spec:
      containers:
      - image: registry.example.com/api:{tag}
        name: api
        ports:
        - containerPort: 8080
"
    )
}

fn files(entries: &[(&str, &str)]) -> FileMap {
    entries
        .iter()
        .map(|(path, text)| (path.to_string(), text.as_bytes().to_vec()))
        .collect()
}

fn plain() -> TextStyle {
    TextStyle::default()
}

fn field(
    path: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> FieldChange {
    FieldChange {
        path: path.to_string(),
        before,
        after,
    }
}

fn id(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> ResourceId {
    ResourceId {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        namespace: namespace.map(str::to_string),
        name: name.to_string(),
    }
}

/// The fields of the only resource change of the only file.
fn only_fields(diff: &Diff) -> Vec<FieldChange> {
    assert_eq!(diff.files.len(), 1, "{diff:#?}");
    assert_eq!(diff.files[0].resources.len(), 1, "{diff:#?}");
    diff.files[0].resources[0].fields.clone()
}

fn fields_of(old: &str, new: &str) -> Vec<FieldChange> {
    only_fields(&diff(
        &files(&[("rendered/x.yaml", old)]),
        &files(&[("rendered/x.yaml", new)]),
    ))
}

#[test]
fn promotion_flips_one_selector_line() {
    let diff = diff(
        &files(&[(SERVICE, &service("blue"))]),
        &files(&[(SERVICE, &service("green"))]),
    );
    assert_eq!(
        diff.to_text(plain()),
        "diff --git a/rendered/production/api.service.yaml b/rendered/production/api.service.yaml
--- a/rendered/production/api.service.yaml
+++ b/rendered/production/api.service.yaml
@@ -12,4 +12,4 @@
     targetPort: 8080
   selector:
     app: api
-    color: blue
+    color: green
"
    );
    let file = &diff.files[0];
    assert_eq!(file.status, FileStatus::Modified);
    assert_eq!((file.added, file.removed, file.binary), (1, 1, false));
    assert!(file.unified.starts_with("@@ -12,4 +12,4 @@\n"));
    assert_eq!(
        file.resources,
        vec![ResourceChange {
            id: id("v1", "Service", Some("shop"), "api"),
            status: ResourceStatus::Modified,
            fields: vec![field(
                "spec.selector.color",
                Some(json!("blue")),
                Some(json!("green"))
            )],
        }]
    );
    assert_eq!(
        diff.summary_lines(),
        vec!["~ v1 Service shop/api: spec.selector.color blue → green"]
    );
    // The caller knows which files are shared: marked, every summary says so.
    let mut marked = diff.clone();
    marked.mark_live_now(|path| path.ends_with("api.service.yaml"));
    assert!(marked.files[0].live_now);
    assert_eq!(
        marked.summary_lines(),
        vec![
            "~ v1 Service shop/api (applies to live traffic now): \
             spec.selector.color blue → green"
        ]
    );
    assert!(marked.to_markdown(10_000).contains(
        "- **modified** `v1 Service shop/api` — _applies to live traffic now_: \
         `spec.selector.color`"
    ));
    marked.mark_live_now(|_| false);
    assert_eq!(marked, diff);
    assert_eq!(
        diff.stats(),
        Stats {
            files_added: 0,
            files_removed: 0,
            files_modified: 1,
            lines_added: 1,
            lines_removed: 1,
        }
    );
    assert_eq!(
        diff.stats().to_string(),
        "1 file changed, 1 insertion(+), 1 deletion(-)"
    );
}

#[test]
fn stage_changes_image_replicas_and_version_label() {
    let diff = diff(
        &files(&[(GREEN, &deployment("green", "1.4.0", 0))]),
        &files(&[(GREEN, &deployment("green", "1.5.0", 4))]),
    );
    assert_eq!(
        only_fields(&diff),
        vec![
            field(
                "metadata.labels[\"app.kubernetes.io/version\"]",
                Some(json!("1.4.0")),
                Some(json!("1.5.0"))
            ),
            field("spec.replicas", Some(json!(0)), Some(json!(4))),
            field(
                "spec.template.spec.containers[name=api].image",
                Some(json!("registry.example.com/api:1.4.0")),
                Some(json!("registry.example.com/api:1.5.0"))
            ),
        ]
    );
    assert_eq!(
        diff.summary_lines(),
        vec![
            "~ apps/v1 Deployment shop/api-green: \
             metadata.labels[\"app.kubernetes.io/version\"] 1.4.0 → 1.5.0; \
             spec.replicas 0 → 4; \
             spec.template.spec.containers[name=api].image registry.example.com/api:1.4.0 \
             → registry.example.com/api:1.5.0"
        ]
    );
    // Lines 6 and 11 change (3 lines of context around each); line 23 is the image.
    assert_eq!(
        diff.files[0].unified,
        "@@ -3,12 +3,12 @@
 metadata:
   labels:
     app.kubernetes.io/name: api
-    app.kubernetes.io/version: \"1.4.0\"
+    app.kubernetes.io/version: \"1.5.0\"
     color: green
   name: api-green
   namespace: shop
 spec:
-  replicas: 0
+  replicas: 4
   selector:
     matchLabels:
       app: api
@@ -20,7 +20,7 @@
         color: green
     spec:
       containers:
-      - image: registry.example.com/api:1.4.0
+      - image: registry.example.com/api:1.5.0
         name: api
         ports:
         - containerPort: 8080
"
    );
    assert_eq!((diff.files[0].added, diff.files[0].removed), (3, 3));
}

#[test]
fn added_and_removed_files_have_git_headers() {
    let old = files(&[("rendered/production/old.yaml", "a: 1\nb: 2\n")]);
    let new = files(&[("rendered/production/new.yaml", "c: 3\n")]);
    let diff = diff(&old, &new);
    assert_eq!(
        diff.to_text(plain()),
        "diff --git a/rendered/production/new.yaml b/rendered/production/new.yaml
new file mode 100644
--- /dev/null
+++ b/rendered/production/new.yaml
@@ -0,0 +1 @@
+c: 3
diff --git a/rendered/production/old.yaml b/rendered/production/old.yaml
deleted file mode 100644
--- a/rendered/production/old.yaml
+++ /dev/null
@@ -1,2 +0,0 @@
-a: 1
-b: 2
"
    );
    let statuses: Vec<_> = diff.files.iter().map(|f| f.status).collect();
    assert_eq!(statuses, vec![FileStatus::Added, FileStatus::Removed]);
    assert_eq!(
        diff.stats(),
        Stats {
            files_added: 1,
            files_removed: 1,
            files_modified: 0,
            lines_added: 1,
            lines_removed: 2,
        }
    );
    assert_eq!(
        diff.summary_lines(),
        vec![
            "+ file rendered/production/new.yaml (1 line)",
            "- file rendered/production/old.yaml (2 lines)",
        ]
    );
}

#[test]
fn added_and_removed_resources() {
    let blue = "rendered/production/api-blue.deployment.yaml";
    let old = files(&[(blue, &deployment("blue", "1.4.0", 4))]);
    let new = files(&[(GREEN, &deployment("green", "1.5.0", 4))]);
    let diff = diff(&old, &new);
    assert_eq!(
        diff.summary_lines(),
        vec![
            "- apps/v1 Deployment shop/api-blue",
            "+ apps/v1 Deployment shop/api-green",
        ]
    );
    assert_eq!(diff.files[0].path, blue);
    assert_eq!(diff.files[0].resources[0].status, ResourceStatus::Removed);
    assert_eq!(diff.files[1].resources[0].status, ResourceStatus::Added);
    assert!(diff.files[1].resources[0].fields.is_empty());
}

#[test]
fn empty_files_have_only_a_header() {
    let diff = diff(&FileMap::new(), &files(&[("rendered/empty.yaml", "")]));
    assert_eq!(
        diff.to_text(plain()),
        "diff --git a/rendered/empty.yaml b/rendered/empty.yaml\nnew file mode 100644\nindex 0000000..e69de29\n"
    );
    assert_eq!(diff.files[0].unified, "");
    assert_eq!(
        diff.summary_lines(),
        vec!["+ file rendered/empty.yaml (0 lines)"]
    );
}

#[test]
fn missing_newline_at_end_of_file_is_marked_like_git() {
    let diff = diff(
        &files(&[("a.txt", "keep\nx")]),
        &files(&[("a.txt", "keep\ny")]),
    );
    assert_eq!(
        diff.files[0].unified,
        "@@ -1,2 +1,2 @@
 keep
-x
\\ No newline at end of file
+y
\\ No newline at end of file
"
    );

    let added_newline = diff_text("x", "x\n");
    assert_eq!(
        added_newline,
        "@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+x\n"
    );
    let removed_newline = diff_text("x\ny\n", "x\ny");
    assert_eq!(
        removed_newline,
        "@@ -1,2 +1,2 @@\n x\n-y\n+y\n\\ No newline at end of file\n"
    );
}

fn diff_text(old: &str, new: &str) -> String {
    let diff = diff(&files(&[("f", old)]), &files(&[("f", new)]));
    diff.files[0].unified.clone()
}

#[test]
fn carriage_returns_are_content() {
    assert_eq!(
        diff_text("a\r\nb\r\n", "a\r\nc\r\n"),
        "@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n"
    );
    // A lone `\r` is not a line end for git: one line changed, no false "no newline" marker.
    assert_eq!(diff_text("a\rb\n", "a\rc\n"), "@@ -1 +1 @@\n-a\rb\n+a\rc\n");
}

#[test]
fn non_utf8_or_nul_content_is_binary() {
    let mut old = FileMap::new();
    old.insert("logo.png".to_string(), vec![0x89, b'P', b'N', b'G', 0xff]);
    old.insert("nul.txt".to_string(), b"a\0b\n".to_vec());
    let mut new = FileMap::new();
    new.insert("logo.png".to_string(), vec![0x89, b'P', b'N', b'G', 0xfe]);
    new.insert("nul.txt".to_string(), b"a\0c\n".to_vec());
    new.insert("added.bin".to_string(), vec![0xc3, 0x28]);
    let diff = diff(&old, &new);
    assert_eq!(
        diff.to_text(plain()),
        "diff --git a/added.bin b/added.bin
new file mode 100644
Binary files /dev/null and b/added.bin differ
diff --git a/logo.png b/logo.png
Binary files a/logo.png and b/logo.png differ
diff --git a/nul.txt b/nul.txt
Binary files a/nul.txt and b/nul.txt differ
"
    );
    for file in &diff.files {
        assert!(file.binary, "{}", file.path);
        assert_eq!((file.added, file.removed), (0, 0));
        assert!(file.unified.is_empty());
        assert!(file.resources.is_empty());
    }
    assert_eq!(diff.summary_lines()[1], "~ file logo.png (binary)");
}

#[test]
fn text_to_binary_is_binary() {
    let mut new = FileMap::new();
    new.insert("x.yaml".to_string(), vec![b'a', 0xff]);
    let diff = diff(&files(&[("x.yaml", "kind: A\n")]), &new);
    assert!(diff.files[0].binary);
    assert!(diff.files[0].resources.is_empty());
}

#[test]
fn multi_document_files_are_compared_per_resource() {
    let path = "rendered/production/all.yaml";
    let old = format!(
        "---\n{}---\n{}",
        service("blue"),
        deployment("green", "1.4.0", 0)
    );
    let new = format!(
        "---\n{}---\n{}---\n",
        service("blue"),
        deployment("green", "1.5.0", 4)
    );
    let diff = diff(&files(&[(path, &old)]), &files(&[(path, &new)]));
    let changes = &diff.files[0].resources;
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(
        changes[0].id,
        id("apps/v1", "Deployment", Some("shop"), "api-green")
    );
    assert_eq!(changes[0].fields.len(), 3);
}

#[test]
fn documents_in_one_file_with_the_same_id_are_paired_in_order() {
    let old = "kind: ConfigMap\ndata: {a: 1}\n---\nkind: ConfigMap\ndata: {a: 2}\n";
    let new = "kind: ConfigMap\ndata: {a: 1}\n---\nkind: ConfigMap\ndata: {a: 3}\n";
    assert_eq!(
        fields_of(old, new),
        vec![field("data.a", Some(json!(2)), Some(json!(3)))]
    );
}

#[test]
fn special_keys_are_bracketed_and_quoted() {
    let old = "kind: ConfigMap\nmetadata:\n  name: c\ndata:\n  app.conf: a\n  with space: a\n  \"quote\\\"d\": a\n  dash-ed: a\n  9lives: a\n";
    let new = "kind: ConfigMap\nmetadata:\n  name: c\ndata:\n  app.conf: b\n  with space: b\n  \"quote\\\"d\": b\n  dash-ed: b\n  9lives: b\n";
    let paths: Vec<String> = fields_of(old, new).into_iter().map(|f| f.path).collect();
    assert_eq!(
        paths,
        vec![
            "data[\"9lives\"]",
            "data[\"app.conf\"]",
            "data.dash-ed",
            "data[\"quote\\\"d\"]",
            "data[\"with space\"]",
        ]
    );
}

#[test]
fn list_items_are_matched_by_name() {
    let old = "kind: Deployment
spec:
  containers:
  - name: api
    env:
    - {name: A, value: \"1\"}
    - {name: B, value: \"2\"}
";
    let new = "kind: Deployment
spec:
  containers:
  - name: sidecar
  - name: api
    env:
    - {name: B, value: \"3\"}
";
    assert_eq!(
        fields_of(old, new),
        vec![
            field(
                "spec.containers[name=api].env[name=A]",
                Some(json!({"name": "A", "value": "1"})),
                None
            ),
            field(
                "spec.containers[name=api].env[name=B].value",
                Some(json!("2")),
                Some(json!("3"))
            ),
            field(
                "spec.containers[name=sidecar]",
                None,
                Some(json!({"name": "sidecar"}))
            ),
        ]
    );
}

#[test]
fn an_item_added_to_a_list_is_one_addition_not_a_shift() {
    // A kustomization gaining a file in the middle of its list (what `stage` does).
    let old = "kind: Kustomization\nmetadata:\n  name: k\nresources:\n- a-blue.yaml\n- a-preview.yaml\n- a.yaml\n";
    let new = "kind: Kustomization\nmetadata:\n  name: k\nresources:\n- a-blue.yaml\n- a-green.yaml\n- a-preview.yaml\n- a.yaml\n";
    assert_eq!(
        fields_of(old, new),
        vec![field("resources[1]", None, Some(json!("a-green.yaml")))]
    );
    assert_eq!(
        fields_of(new, old),
        vec![field("resources[1]", Some(json!("a-green.yaml")), None)]
    );
}

#[test]
fn a_removed_named_route_is_not_read_as_a_traffic_flip() {
    // Istio after scale-down: the test route to the idle colour goes, the default stays.
    let route = |name: &str, subset: &str| {
        format!(
            "  - name: {name}\n    route:\n    - destination: {{host: api, subset: {subset}}}\n"
        )
    };
    let old = format!(
        "kind: VirtualService\nmetadata:\n  name: api\nspec:\n  http:\n{}{}",
        route("test", "green"),
        route("default", "blue")
    );
    let new = format!(
        "kind: VirtualService\nmetadata:\n  name: api\nspec:\n  http:\n{}",
        route("default", "blue")
    );
    let fields = fields_of(&old, &new);
    assert_eq!(fields.len(), 1, "{fields:?}");
    assert_eq!(fields[0].path, "spec.http[name=test]");
    assert_eq!(fields[0].after, None);
    // A promotion, by contrast, changes the default route's subset in place.
    let promoted = format!(
        "kind: VirtualService\nmetadata:\n  name: api\nspec:\n  http:\n{}",
        route("default", "green")
    );
    assert_eq!(
        fields_of(&new, &promoted),
        vec![field(
            "spec.http[name=default].route[0].destination.subset",
            Some(json!("blue")),
            Some(json!("green"))
        )]
    );
}

#[test]
fn whole_subtrees_and_type_changes_are_one_change() {
    let old = "kind: Deployment
spec:
  replicas: \"4\"
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 100%}}
  paused: null
";
    let new = "kind: Deployment
spec:
  replicas: 4
  strategy: Recreate
  revisionHistoryLimit: 3
";
    assert_eq!(
        fields_of(old, new),
        vec![
            field("spec.paused", Some(json!(null)), None),
            field("spec.replicas", Some(json!("4")), Some(json!(4))),
            field("spec.revisionHistoryLimit", None, Some(json!(3))),
            field(
                "spec.strategy",
                Some(json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "100%"}})),
                Some(json!("Recreate"))
            ),
        ]
    );
    let diff = diff(&files(&[("x.yaml", old)]), &files(&[("x.yaml", new)]));
    // A string that reads as a number is quoted, so the type change is visible.
    assert_eq!(
        diff.summary_lines(),
        vec![
            "~ Deployment x.yaml: spec.paused null → (absent); spec.replicas \"4\" → 4; \
             spec.revisionHistoryLimit (absent) → 3; \
             spec.strategy {\"rollingUpdate\":{\"maxSurge\":\"100%\"},\"type\":\"RollingUpdate\"} → Recreate"
        ]
    );
}

#[test]
fn formatting_only_changes_are_not_resource_changes() {
    let old = "kind: Service\nmetadata: {name: api}\nspec: {selector: {color: blue}}\n";
    let new = "# rendered by greenlight\nkind: Service\nmetadata:\n  name: api\nspec:\n  selector:\n    color: 'blue'\n";
    let diff = diff(&files(&[("svc.yaml", old)]), &files(&[("svc.yaml", new)]));
    assert!(diff.files[0].resources.is_empty());
    assert_eq!(diff.summary_lines(), vec!["~ file svc.yaml (+6 -2 lines)"]);
}

#[test]
fn merge_keys_are_applied_before_comparing() {
    let old = "kind: ConfigMap\nbase: &b {x: 1}\ndata:\n  <<: *b\n";
    let new = "kind: ConfigMap\nbase: {x: 1}\ndata:\n  x: 1\n";
    let diff = diff(&files(&[("c.yaml", old)]), &files(&[("c.yaml", new)]));
    assert!(diff.files[0].resources.is_empty(), "{diff:#?}");
}

#[test]
fn a_moved_resource_is_modified_only_if_its_content_changed() {
    let old_path = "rendered/production/api.service.yaml";
    let new_path = "rendered/production/services.yaml";
    let moved = diff(
        &files(&[(old_path, &service("blue"))]),
        &files(&[(new_path, &service("blue"))]),
    );
    assert!(moved.files.iter().all(|f| f.resources.is_empty()));
    assert_eq!(
        moved.summary_lines(),
        vec![
            "- file rendered/production/api.service.yaml (15 lines)",
            "+ file rendered/production/services.yaml (15 lines)",
        ]
    );

    let moved_and_changed = diff(
        &files(&[(old_path, &service("blue"))]),
        &files(&[(new_path, &service("green"))]),
    );
    assert!(moved_and_changed.files[0].resources.is_empty());
    assert_eq!(
        moved_and_changed.files[1].resources,
        vec![ResourceChange {
            id: id("v1", "Service", Some("shop"), "api"),
            status: ResourceStatus::Modified,
            fields: vec![field(
                "spec.selector.color",
                Some(json!("blue")),
                Some(json!("green"))
            )],
        }]
    );
}

#[test]
fn kustomization_is_named_by_its_path() {
    let path = "rendered/production/kustomization.yaml";
    let old = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- api.service.yaml\n";
    let new = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- api.service.yaml\n- api.ingress.yaml\n";
    let diff = diff(&files(&[(path, old)]), &files(&[(path, new)]));
    assert_eq!(
        diff.files[0].resources[0].id,
        id(
            "kustomize.config.k8s.io/v1beta1",
            "Kustomization",
            None,
            path
        )
    );
    assert_eq!(
        diff.summary_lines(),
        vec![format!(
            "~ kustomize.config.k8s.io/v1beta1 Kustomization {path}: \
             resources[1] (absent) → api.ingress.yaml"
        )]
    );
}

#[test]
fn odd_yaml_never_fails_and_gives_no_resources() {
    let cases = [
        "kind: [unclosed\n",
        "a: 1\na: 2\n",
        "- just\n- a list\n",
        "plain scalar\n",
        "kind: 3\n",
        "kind: \"\"\n",
        "? [complex, key]\n: v\n",
        "---\n---\n",
        "&a [*a]\n",
        "kind: Service\nmetadata: 7\n",
    ];
    for (i, case) in cases.iter().enumerate() {
        let path = format!("odd{i}.yaml");
        let diff = diff(
            &files(&[(&path, case)]),
            &files(&[(&path, &format!("{case}# changed\n"))]),
        );
        assert_eq!(diff.files.len(), 1, "{case}");
        assert!(
            diff.files[0].resources.is_empty(),
            "{case}: {:?}",
            diff.files[0].resources
        );
    }
}

#[test]
fn a_file_that_stops_parsing_reports_no_resources() {
    let diff = diff(
        &files(&[(SERVICE, &service("blue"))]),
        &files(&[(SERVICE, "kind: Service\nspec: [broken\n")]),
    );
    assert!(diff.files[0].resources.is_empty());
    assert_eq!(
        diff.summary_lines(),
        vec![format!("~ file {SERVICE} (+1 -14 lines)")]
    );
}

#[test]
fn only_yaml_paths_are_read_as_resources() {
    let diff = diff(
        &files(&[("notes.txt", &service("blue"))]),
        &files(&[("notes.txt", &service("green"))]),
    );
    assert!(diff.files[0].resources.is_empty());
    let json_file = diff_of_paths(
        "svc.json",
        "{\"kind\": \"Service\", \"spec\": {\"x\": 1}}\n",
        "{\"kind\": \"Service\", \"spec\": {\"x\": 2}}\n",
    );
    assert_eq!(json_file.files[0].resources.len(), 1);
}

fn diff_of_paths(path: &str, old: &str, new: &str) -> Diff {
    diff(&files(&[(path, old)]), &files(&[(path, new)]))
}

#[test]
fn namespace_empty_or_missing_is_none() {
    let diff = diff_of_paths(
        "x.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, namespace: \"\"}\nspec: {a: 1}\n",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, namespace: \"\"}\nspec: {a: 2}\n",
    );
    let id = &diff.files[0].resources[0].id;
    assert_eq!(id.namespace, None);
    assert_eq!(id.to_string(), "v1 Namespace shop");
}

#[test]
fn empty_diff() {
    let same = files(&[
        (SERVICE, &service("blue")),
        (GREEN, &deployment("green", "1", 0)),
    ]);
    let diff = diff(&same, &same);
    assert!(diff.is_empty());
    assert_eq!(
        diff.to_text(TextStyle {
            color: true,
            context: 3
        }),
        ""
    );
    assert!(diff.summary_lines().is_empty());
    assert_eq!(diff.stats(), Stats::default());
    assert_eq!(diff.stats().to_string(), "no changes");
    assert_eq!(diff.to_markdown(1000), "No changes.\n");
    assert_eq!(diff.to_markdown(3), "");
    assert_eq!(
        super::diff(&FileMap::new(), &FileMap::new()),
        Diff::default()
    );
}

#[test]
fn colour_only_when_asked() {
    let diff = diff(
        &files(&[(SERVICE, &service("blue"))]),
        &files(&[(SERVICE, &service("green"))]),
    );
    let plain = diff.to_text(TextStyle {
        color: false,
        context: 3,
    });
    assert!(!plain.contains('\x1b'));
    assert!(!diff.files[0].unified.contains('\x1b'));
    assert!(!diff.to_markdown(10_000).contains('\x1b'));

    let coloured = diff.to_text(TextStyle {
        color: true,
        context: 3,
    });
    assert!(coloured.contains(
        "\x1b[1mdiff --git a/rendered/production/api.service.yaml b/rendered/production/api.service.yaml\x1b[0m\n"
    ));
    assert!(coloured.contains("\x1b[36m@@ -12,4 +12,4 @@\x1b[0m\n"));
    assert!(coloured.contains("\x1b[31m-    color: blue\x1b[0m\n"));
    assert!(coloured.contains("\x1b[32m+    color: green\x1b[0m\n"));
    assert!(
        coloured.contains("\n   selector:\n"),
        "context lines stay plain"
    );
    assert_eq!(strip_ansi(&coloured), plain);
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn context_is_configurable() {
    let diff = diff(
        &files(&[(SERVICE, &service("blue"))]),
        &files(&[(SERVICE, &service("green"))]),
    );
    let hunks = |context| {
        let text = diff.to_text(TextStyle {
            color: false,
            context,
        });
        text.split_once("@@")
            .map(|(_, rest)| format!("@@{rest}"))
            .unwrap()
    };
    assert_eq!(
        hunks(0),
        "@@ -15 +15 @@\n-    color: blue\n+    color: green\n"
    );
    assert_eq!(
        hunks(1),
        "@@ -14,2 +14,2 @@\n     app: api\n-    color: blue\n+    color: green\n"
    );
    assert_eq!(hunks(3), diff.files[0].unified);
    assert_eq!(hunks(100).lines().count(), 17);
    assert!(hunks(100).starts_with("@@ -1,15 +1,15 @@\n apiVersion: v1\n"));
}

#[test]
fn separate_changes_make_separate_hunks_with_zero_context() {
    let old = "a\nb\nc\nd\ne\n";
    let new = "a\nB\nc\nD\ne\nf\n";
    let diff = diff_of_paths("f.txt", old, new);
    let text = diff.to_text(TextStyle {
        color: false,
        context: 0,
    });
    assert!(
        text.ends_with("@@ -2 +2 @@\n-b\n+B\n@@ -4 +4 @@\n-d\n+D\n@@ -5,0 +6 @@\n+f\n"),
        "{text}"
    );
}

#[test]
fn paths_are_quoted_like_git() {
    assert_eq!(
        text::quote_path("a/", "plain/path.yaml"),
        "a/plain/path.yaml"
    );
    assert_eq!(text::quote_path("a/", "q\"x"), "\"a/q\\\"x\"");
    assert_eq!(
        text::quote_path("b/", "tab\there\\"),
        "\"b/tab\\there\\\\\""
    );
    assert_eq!(text::quote_path("a/", "nl\n\x1b"), "\"a/nl\\n\\033\"");
    assert_eq!(text::quote_path("a/", "ünïcode"), "a/ünïcode");
    let diff = diff_of_paths("my file", "a\n", "b\n");
    assert_eq!(
        diff.to_text(plain()),
        "diff --git a/my file b/my file\n--- a/my file\t\n+++ b/my file\t\n@@ -1 +1 @@\n-a\n+b\n"
    );
    let added = super::diff(&FileMap::new(), &files(&[("c d.yaml", "a")]));
    assert_eq!(
        added.to_text(plain()),
        "diff --git a/c d.yaml b/c d.yaml\nnew file mode 100644\n--- /dev/null\n+++ b/c d.yaml\t\n\
         @@ -0,0 +1 @@\n+a\n\\ No newline at end of file\n"
    );
    let mut binary = FileMap::new();
    binary.insert("c d.bin".to_string(), vec![0xff]);
    assert_eq!(
        super::diff(&FileMap::new(), &binary).to_text(plain()),
        "diff --git a/c d.bin b/c d.bin\nnew file mode 100644\nBinary files /dev/null and b/c d.bin differ\n"
    );
}

#[test]
fn diff_is_deterministic() {
    let old = files(&[
        (SERVICE, &service("blue")),
        (GREEN, &deployment("green", "1.4.0", 0)),
        ("rendered/production/gone.yaml", "kind: ConfigMap\n"),
    ]);
    let new = files(&[
        (SERVICE, &service("green")),
        (GREEN, &deployment("green", "1.5.0", 4)),
        (
            "rendered/production/kustomization.yaml",
            "kind: Kustomization\n",
        ),
    ]);
    let first = diff(&old, &new);
    let second = diff(&old, &new);
    assert_eq!(first, second);
    assert_eq!(first.to_text(plain()), second.to_text(plain()));
    assert_eq!(first.to_markdown(500), second.to_markdown(500));
    assert_eq!(
        serde_json::to_string(&first).unwrap(),
        serde_json::to_string(&second).unwrap()
    );
    let paths: Vec<&str> = first.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            GREEN,
            SERVICE,
            "rendered/production/gone.yaml",
            "rendered/production/kustomization.yaml",
        ]
    );
}

#[test]
fn summary_caps_the_fields_of_one_resource() {
    let old: String = (0..8).map(|i| format!("k{i}: a\n")).collect();
    let new: String = (0..8).map(|i| format!("k{i}: b\n")).collect();
    let diff = diff_of_paths(
        "c.yaml",
        &format!("kind: ConfigMap\ndata:\n{}", indent(&old)),
        &format!("kind: ConfigMap\ndata:\n{}", indent(&new)),
    );
    assert_eq!(
        diff.summary_lines(),
        vec![
            "~ ConfigMap c.yaml: data.k0 a → b; data.k1 a → b; data.k2 a → b; \
              data.k3 a → b; data.k4 a → b; … 3 more fields"
        ]
    );
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}\n")).collect()
}

#[test]
fn values_are_shown_on_one_line_and_long_ones_cut() {
    use summary::show_value;
    assert_eq!(show_value(None), "(absent)");
    assert_eq!(show_value(Some(&json!("green"))), "green");
    assert_eq!(show_value(Some(&json!("1.5"))), "\"1.5\"");
    assert_eq!(show_value(Some(&json!("true"))), "\"true\"");
    assert_eq!(show_value(Some(&json!(""))), "\"\"");
    assert_eq!(show_value(Some(&json!("two words"))), "\"two words\"");
    assert_eq!(show_value(Some(&json!("a\nb"))), "\"a\\nb\"");
    assert_eq!(show_value(Some(&json!("a\u{9b}b"))), "\"a\\u{9b}b\"");
    assert_eq!(show_value(Some(&json!(null))), "null");
    assert_eq!(show_value(Some(&json!(1.5))), "1.5");
    let digest = format!("registry.example.com/api@sha256:{}", "a".repeat(64));
    assert_eq!(show_value(Some(&json!(digest))), digest);
    let long = "x".repeat(300);
    assert_eq!(
        show_value(Some(&json!(long))),
        format!("{}…", "x".repeat(200))
    );
    let list = json!(["é".repeat(100)]);
    let shown = show_value(Some(&list));
    assert_eq!(shown.chars().count(), 81);
    assert!(shown.ends_with('…'));
}

#[test]
fn control_characters_in_names_cannot_break_summary_lines() {
    let diff = diff_of_paths(
        "x.yaml",
        "kind: ConfigMap\nmetadata: {name: \"a\\nb\\e[2J\"}\ndata: {k: 1}\n",
        "kind: ConfigMap\nmetadata: {name: \"a\\nb\\e[2J\"}\ndata: {k: 2}\n",
    );
    assert_eq!(
        diff.summary_lines(),
        vec!["~ ConfigMap a\\nb\\u{1b}[2J: data.k 1 → 2"]
    );
}

fn promotion_and_stage() -> Diff {
    diff(
        &files(&[
            (SERVICE, &service("blue")),
            (GREEN, &deployment("green", "1.4.0", 0)),
            ("rendered/production/notes.txt", "one\n"),
        ]),
        &files(&[
            (SERVICE, &service("green")),
            (GREEN, &deployment("green", "1.5.0", 4)),
            ("rendered/production/notes.txt", "one\ntwo\n"),
        ]),
    )
}

#[test]
fn markdown_lists_changes_then_the_diff() {
    let diff = promotion_and_stage();
    let markdown = diff.to_markdown(100_000);
    let expected_list = "\
- **modified** `apps/v1 Deployment shop/api-green`:
  - `metadata.labels[\"app.kubernetes.io/version\"]`: `1.4.0` → `1.5.0`
  - `spec.replicas`: `0` → `4`
  - `spec.template.spec.containers[name=api].image`: `registry.example.com/api:1.4.0` → `registry.example.com/api:1.5.0`
- **modified** `v1 Service shop/api`: `spec.selector.color`: `blue` → `green`
- **modified** file `rendered/production/notes.txt` (+1 -0 lines)

```diff
";
    assert!(markdown.starts_with(expected_list), "{markdown}");
    assert_eq!(
        markdown,
        format!("{expected_list}{}```\n", diff.to_text(plain()))
    );
}

#[test]
fn markdown_values_absent_are_marked_and_backticks_are_safe() {
    let diff = diff_of_paths(
        "c.yaml",
        "kind: ConfigMap\ndata: {}\n",
        "kind: ConfigMap\ndata: {\"we`ird\": \"```\"}\n",
    );
    let markdown = diff.to_markdown(10_000);
    assert!(
        markdown.starts_with(
            "- **modified** `ConfigMap c.yaml`: ``data[\"we`ird\"]``: _absent_ → ````\"```\"````\n"
        ),
        "{markdown}"
    );
    assert!(markdown.contains("\n````diff\n"), "{markdown}");
    assert!(markdown.ends_with("\n````\n"), "{markdown}");
}

#[test]
fn markdown_fence_outlasts_backticks_in_content() {
    let diff = diff_of_paths("README.md", "```\n", "````\n ```\n");
    let markdown = diff.to_markdown(10_000);
    assert!(markdown.contains("\n`````diff\n"), "{markdown}");
    assert!(markdown.ends_with("\n`````\n"), "{markdown}");
    assert_fences_valid(&markdown);
}

#[test]
fn markdown_caps_fields_per_resource() {
    let old: String = (0..12).map(|i| format!("  k{i:02}: a\n")).collect();
    let new: String = (0..12).map(|i| format!("  k{i:02}: b\n")).collect();
    let diff = diff_of_paths(
        "c.yaml",
        &format!("kind: ConfigMap\ndata:\n{old}"),
        &format!("kind: ConfigMap\ndata:\n{new}"),
    );
    let markdown = diff.to_markdown(100_000);
    assert!(
        markdown.contains("  - `data.k09`: `a` → `b`\n  - … 2 more fields\n"),
        "{markdown}"
    );
    assert!(!markdown.contains("`data.k10`"));
}

/// Every fence opened is closed by a line of the same backticks.
fn assert_fences_valid(markdown: &str) {
    let mut open: Option<&str> = None;
    for line in markdown.lines() {
        match open {
            None => {
                if let Some(ticks) = line.strip_suffix("diff") {
                    if !ticks.is_empty() && ticks.chars().all(|c| c == '`') {
                        assert!(ticks.len() >= 3, "{markdown}");
                        open = Some(ticks);
                    }
                }
            }
            Some(ticks) => {
                let trimmed = line.trim_start_matches(' ');
                let closes = line.len() - trimmed.len() <= 3
                    && trimmed.trim_end().len() >= ticks.len()
                    && trimmed.trim_end().chars().all(|c| c == '`');
                if closes {
                    assert_eq!(trimmed, ticks, "{markdown}");
                    open = None;
                }
            }
        }
    }
    assert_eq!(open, None, "unclosed fence in:\n{markdown}");
}

#[test]
fn markdown_truncation_respects_every_budget() {
    // Multi-byte content so that a cut inside a line would show.
    let old = files(&[
        (SERVICE, &service("blue")),
        (GREEN, &deployment("green", "1.4.0", 0)),
        ("rendered/production/notes.txt", &"é€😀\n".repeat(5)),
    ]);
    let new = files(&[
        (SERVICE, &service("green")),
        (GREEN, &deployment("green", "1.5.0", 4)),
        ("rendered/production/notes.txt", &"😀€é\n".repeat(5)),
    ]);
    let diff = diff(&old, &new);
    let full = diff.to_markdown(usize::MAX);
    let full_lines: Vec<&str> = full.lines().collect();
    assert!(!full.contains("Truncated"));
    let mut saw_partial_diff = false;
    let mut saw_list_only = false;
    for max in 0..=full.len() {
        let markdown = diff.to_markdown(max);
        assert!(markdown.len() <= max, "{max}: {} bytes", markdown.len());
        if max == full.len() {
            assert_eq!(markdown, full);
            continue;
        }
        if markdown.is_empty() {
            continue;
        }
        assert_fences_valid(&markdown);
        assert!(
            markdown.ends_with("The full diff is in the commit._\n"),
            "{max}: {markdown}"
        );
        // Everything but the footer is whole lines of the full rendering, in order.
        let body: Vec<&str> = markdown.lines().filter(|l| !l.starts_with('_')).collect();
        let mut rest = full_lines.iter();
        for line in &body {
            if line.is_empty() || line.chars().all(|c| c == '`') {
                continue;
            }
            assert!(rest.any(|full_line| full_line == line), "{max}: {line:?}");
        }
        saw_partial_diff |=
            markdown.contains("```diff\n") && markdown.contains("(1 file not shown");
        saw_list_only |= !markdown.contains("```") && markdown.contains("**modified**");
    }
    assert!(saw_partial_diff && saw_list_only);
}

#[test]
fn markdown_truncation_footer_counts_what_was_left_out() {
    let diff = promotion_and_stage();
    let full = diff.to_markdown(usize::MAX);
    let total_lines = diff.to_text(plain()).lines().count();
    let list_end = full.find("\n```diff\n").unwrap() + 1;

    // Room for the list and the footer only: the whole diff is left out.
    let list_only = diff.to_markdown(list_end + 135);
    assert!(!list_only.contains("```"), "{list_only}");
    assert!(
        list_only.ends_with(&format!(
            "\n_Truncated: {total_lines} diff lines omitted (3 files not shown in full). \
             The full diff is in the commit._\n"
        )),
        "{list_only}"
    );

    // Too little room for the whole list: the rest is counted.
    let first_item = full.find("- **modified** `v1 Service").unwrap();
    let short = diff.to_markdown(first_item + 140);
    assert!(
        short.starts_with("- **modified** `apps/v1 Deployment"),
        "{short}"
    );
    assert!(!short.contains("Service"), "{short}");
    assert!(short.contains("; 2 more changes not listed."), "{short}");

    // No room for the counting footer: the short one.
    assert_eq!(
        diff.to_markdown(60),
        "_Diff truncated. The full diff is in the commit._\n"
    );
    assert_eq!(diff.to_markdown(10), "");
}

#[test]
fn markdown_never_shows_a_file_header_without_its_lines() {
    let diff = promotion_and_stage();
    let full = diff.to_markdown(usize::MAX);
    for max in 0..full.len() {
        let markdown = diff.to_markdown(max);
        let lines: Vec<&str> = markdown.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("+++ ") {
                let next = lines.get(i + 1).copied().unwrap_or("");
                let after = lines.get(i + 2).copied().unwrap_or("");
                assert!(next.starts_with("@@"), "{max}: {markdown}");
                assert!(!after.starts_with('`'), "{max}: {markdown}");
            }
        }
    }
}

#[test]
fn json_contract_round_trips_with_unknown_fields_denied() {
    let diff = diff_of_paths(
        "x.yaml",
        "kind: Deployment\nspec: {paused: null, replicas: 1}\n",
        "kind: Deployment\nspec: {replicas: 2, minReadySeconds: null}\n",
    );
    let value = serde_json::to_value(&diff).unwrap();
    let fields = &value["files"][0]["resources"][0]["fields"];
    assert_eq!(
        fields,
        &json!([
            {"path": "spec.minReadySeconds", "after": null},
            {"path": "spec.paused", "before": null},
            {"path": "spec.replicas", "before": 1, "after": 2},
        ])
    );
    assert_eq!(
        value["files"][0]["resources"][0]["id"],
        json!({"apiVersion": "", "kind": "Deployment", "namespace": null, "name": "x.yaml"})
    );
    assert_eq!(value["files"][0]["status"], json!("modified"));
    assert_eq!(
        value["files"][0]["resources"][0]["status"],
        json!("modified")
    );
    let keys: Vec<&String> = value["files"][0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        vec![
            "added",
            "binary",
            "liveNow",
            "path",
            "removed",
            "resources",
            "status",
            "unified"
        ]
    );

    let back: Diff = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(back, diff);
    assert_eq!(
        back.files[0].resources[0].fields[0].after,
        Some(json!(null))
    );
    assert_eq!(back.files[0].resources[0].fields[0].before, None);
    // Without the texts, the stored hunks are what is shown.
    assert_eq!(back.to_text(plain()), diff.to_text(plain()));

    let mut unknown = value;
    unknown["files"][0]["extra"] = json!(1);
    assert!(serde_json::from_value::<Diff>(unknown).is_err());
    let stats: Stats =
        serde_json::from_str(&serde_json::to_string(&diff.stats()).unwrap()).unwrap();
    assert_eq!(stats, diff.stats());
}

#[test]
fn hunks_join_like_git_when_changes_are_close() {
    let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
    let new = old
        .replace("\n4\n", "\nX\n")
        .replace("\n11\n", "\nY\n")
        .replace("\n19\n", "\nZ\n");
    let unified = diff_text(&old, &new);
    let headers: Vec<&str> = unified.lines().filter(|l| l.starts_with("@@")).collect();
    // Six unchanged lines between 4 and 11 join the hunks; seven between 11 and 19 do not.
    assert_eq!(headers, vec!["@@ -1,14 +1,14 @@", "@@ -16,5 +16,5 @@"]);
}

#[test]
fn hunk_headers_stay_right_where_similar_misnumbers_its_ops() {
    // mitsuhiko/similar#78: Myers reports a wrong `new_index` for this deletion; the header
    // must still be git's.
    assert_eq!(
        diff_text("a\nb\n", "b\nb\na"),
        "@@ -1,2 +1,3 @@\n-a\n b\n+b\n+a\n\\ No newline at end of file\n"
    );
}
