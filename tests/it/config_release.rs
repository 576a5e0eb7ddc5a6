//! A release is an image and its configuration (issue 14): a configuration edit reaches a
//! colour only when that colour is staged, a rollback returns to the old configuration, and the
//! tree alone says what each colour runs. Every test runs the binary on a real repository.

use std::collections::BTreeMap;

use crate::common::sandbox::{Run, Sandbox};

/// `api`, blue live with 1.4.0 × 3, green empty, one environment variable.
const VALUES: &str = "\
app: api
namespace: shop
liveColor: blue
image: registry.example.com/shop/api
blue:  { tag: \"1.4.0\", replicas: 3 }
green: { replicas: 0 }
port: 8080
readinessProbe: { path: /healthz }
env:
  LOG_LEVEL: info
";

const VALUES_FILE: &str = "environments/production/values.yaml";
const RECORD: &str = "environments/production/released.yaml";
const BLUE: &str = "rendered/production/api-blue.deployment.yaml";
const GREEN: &str = "rendered/production/api-green.deployment.yaml";

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr:\n{}", run.stdout, run.stderr))
}

/// Every file under `rendered/` and `environments/`, by repo-relative path.
fn tree(s: &Sandbox) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for dir in ["rendered", "environments"] {
        for e in walkdir::WalkDir::new(s.path(dir)) {
            let e = e.unwrap();
            if e.file_type().is_file() {
                let rel = e.path().strip_prefix(&s.root).unwrap();
                out.insert(
                    rel.to_string_lossy().into_owned(),
                    std::fs::read_to_string(e.path()).unwrap(),
                );
            }
        }
    }
    out
}

/// Replaces `from` with `to` in the values file (which must contain it).
fn edit_values(s: &Sandbox, from: &str, to: &str) {
    let text = s.read(VALUES_FILE);
    assert!(text.contains(from), "{from:?} not in:\n{text}");
    s.write(VALUES_FILE, &text.replacen(from, to, 1));
}

/// The value of environment variable `name` in a rendered Deployment.
fn env_var(s: &Sandbox, deployment: &str, name: &str) -> Option<String> {
    let doc: serde_json::Value = parse_yaml(&s.read(deployment));
    doc["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str().map(str::to_owned))
}

/// A rendered file parsed with greenlight's own YAML reader (one document).
fn parse_yaml(text: &str) -> serde_json::Value {
    greenlight::yaml::parse_document(text).expect("rendered YAML parses")
}

fn image(s: &Sandbox, deployment: &str) -> String {
    let doc = parse_yaml(&s.read(deployment));
    doc["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// blue 1.4.0 and green 1.5.0 both on LOG_LEVEL info, green live.
fn promoted() -> Sandbox {
    let s = Sandbox::with_values(VALUES);
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    s.greenlight(&["promote", "production"]).ok();
    s
}

#[test]
fn a_configuration_edit_reaches_a_colour_only_through_a_release() {
    let s = promoted();
    let before = tree(&s);

    // 1. The edit rolls nothing: render keeps every rendered byte, verify passes both ways.
    edit_values(&s, "LOG_LEVEL: info", "LOG_LEVEL: debug");
    s.greenlight(&["render"]).ok();
    s.greenlight(&["render", "--all"]).ok();
    let after = tree(&s);
    for (path, text) in &before {
        if path != VALUES_FILE {
            assert_eq!(
                after.get(path),
                Some(text),
                "{path} changed on a config edit"
            );
        }
    }
    assert_eq!(after.len(), before.len(), "no file added or removed");
    s.greenlight(&["verify", "--worktree"]).ok();
    let diff = s.greenlight(&["diff", "production"]).code(1);
    assert!(
        diff.stdout.contains(
            "production: values hold configuration no colour runs yet (env.LOG_LEVEL info → debug)"
        ),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout.contains("`greenlight stage production`"),
        "{}",
        diff.stdout
    );
    s.git(&["commit", "-qam", "log level debug"]);
    s.greenlight(&["verify"]).ok();
    // Committed, nothing differs any more; the unreleased configuration is still reported.
    let diff = s.greenlight(&["diff", "production"]).ok();
    assert!(
        diff.stdout.contains("no colour runs yet"),
        "{}",
        diff.stdout
    );
    let status = s.greenlight(&["status", "production"]).ok();
    assert!(
        status
            .stdout
            .contains("values hold configuration no colour runs yet (env.LOG_LEVEL info → debug)"),
        "{}",
        status.stdout
    );
    let report = json(
        &s.greenlight(&["status", "production", "--output", "json"])
            .ok(),
    );
    let unreleased = &report["environments"][0]["unreleasedConfig"];
    assert_eq!(unreleased["changes"][0]["path"], "env.LOG_LEVEL");
    assert_eq!(unreleased["shipWith"], "greenlight stage production");

    // 2. stage --tag ships image and configuration to the idle colour, and only there.
    let green = s.read(GREEN);
    let staged = json(
        &s.greenlight(&["stage", "production", "--tag", "1.6.0", "--output", "json"])
            .ok(),
    );
    assert_eq!(
        staged["configChanges"],
        serde_json::json!([{"path": "env.LOG_LEVEL", "before": "info", "after": "debug"}])
    );
    let files: Vec<&str> = staged["diff"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(files, [RECORD, VALUES_FILE, BLUE], "only blue renders anew");
    assert_eq!(s.read(GREEN), green, "the live colour is untouched");
    assert_eq!(env_var(&s, BLUE, "LOG_LEVEL").as_deref(), Some("debug"));
    assert_eq!(env_var(&s, GREEN, "LOG_LEVEL").as_deref(), Some("info"));
    let record = s.read(RECORD);
    assert!(
        record.contains("LOG_LEVEL: debug") && record.contains("LOG_LEVEL: info"),
        "{record}"
    );
    // What the status reports for each colour follows the record.
    let report = json(
        &s.greenlight(&["status", "production", "--output", "json"])
            .ok(),
    );
    let e = &report["environments"][0];
    assert_eq!(e["unreleasedConfig"]["stagedIn"], "blue", "{e}");
    assert_eq!(
        e["unreleasedConfig"]["shipWith"],
        "greenlight promote production"
    );
    assert_ne!(e["blue"]["configSha256"], e["green"]["configSha256"]);
    // `diff` of every environment reads the same history: the configuration is staged.
    let diff = json(&s.greenlight(&["diff", "--output", "json"]).code(0));
    let e = &diff["environments"][0];
    assert_eq!(e["environment"], "production", "{diff}");
    assert_eq!(e["unreleasedConfig"]["stagedIn"], "blue", "{e}");
    assert_eq!(
        e["unreleasedConfig"]["shipWith"],
        "greenlight promote production"
    );
    let status = s.greenlight(&["status", "production"]).ok();
    assert!(
        status.stdout.contains(
            "configuration staged in blue, not live yet (env.LOG_LEVEL info → debug): \
             `greenlight promote production` ships it"
        ),
        "{}",
        status.stdout
    );

    // 3. promote, then rollback: green still runs 1.5.0 with its old configuration.
    s.greenlight(&["promote", "production"]).ok();
    assert_eq!(env_var(&s, GREEN, "LOG_LEVEL").as_deref(), Some("info"));
    s.greenlight(&["rollback", "production"]).ok();
    assert!(s.read(VALUES_FILE).contains("liveColor: green"));
    assert_eq!(image(&s, GREEN), "registry.example.com/shop/api:1.5.0");
    assert_eq!(env_var(&s, GREEN, "LOG_LEVEL").as_deref(), Some("info"));
    s.greenlight(&["verify"]).ok();

    // 4. A configuration-only stage: the live image with the current configuration.
    let out = s.greenlight(&["stage", "production"]).ok();
    assert!(out.stdout.contains("stage(production)"), "{}", out.stdout);
    assert_eq!(image(&s, BLUE), "registry.example.com/shop/api:1.5.0");
    assert_eq!(env_var(&s, BLUE, "LOG_LEVEL").as_deref(), Some("debug"));
    assert_eq!(env_var(&s, GREEN, "LOG_LEVEL").as_deref(), Some("info"));
    s.greenlight(&["promote", "production"]).ok();
    assert!(s.read(VALUES_FILE).contains("liveColor: blue"));
    s.greenlight(&["verify"]).ok();
    // Nothing left to ship.
    let status = s.greenlight(&["status", "production"]).ok();
    assert!(
        !status.stdout.contains("no colour runs yet"),
        "{}",
        status.stdout
    );
}

#[test]
fn the_diff_says_what_applies_to_live_traffic_now() {
    let s = Sandbox::with_values(VALUES);
    let staged = s
        .greenlight(&["stage", "production", "--tag", "1.5.0", "--dry-run"])
        .ok();
    let line = |out: &str, what: &str| {
        out.lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no line with {what}:\n{out}"))
            .trim_start()
            .to_owned()
    };
    // The idle colour waits for a promote.
    let green = line(&staged.stdout, "Deployment shop/api-green");
    assert!(!green.contains("applies to live traffic now"), "{green}");
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    let promote = s.greenlight(&["promote", "production", "--dry-run"]).ok();
    let service = line(&promote.stdout, "v1 Service shop/api (");
    assert!(
        service.starts_with(
            "~ v1 Service shop/api (applies to live traffic now): spec.selector.color blue → green"
        ),
        "{service}"
    );
    // Changing the live colour's replicas applies at once too.
    s.greenlight(&["promote", "production"]).ok();
    edit_values(&s, "replicas: 3 }", "replicas: 5 }");
    let diff = s.greenlight(&["diff", "production"]).code(1);
    let blue = line(&diff.stdout, "Deployment shop/api-blue");
    assert!(
        !blue.contains("applies to live traffic now"),
        "blue is idle: {blue}"
    );
}

#[test]
fn verify_needs_no_history_and_catches_a_colour_tampered_to_the_current_configuration() {
    let s = promoted();
    edit_values(&s, "LOG_LEVEL: info", "LOG_LEVEL: debug");
    s.git(&["commit", "-qam", "log level debug"]);
    s.greenlight(&["stage", "production", "--tag", "1.6.0"])
        .ok();
    // The colours run different configurations; a depth-1 clone has one commit and no trailers.
    let clone = s._tmp.path().join("shallow");
    let url = format!("file://{}", s.root.display());
    s.git(&["clone", "-q", "--depth", "1", &url, clone.to_str().unwrap()]);
    assert_eq!(
        s.git_in(&clone, &["rev-list", "--count", "HEAD"]).trim(),
        "1"
    );
    let out = s.greenlight_in(&clone, &["verify"], None).ok();
    assert!(out.stdout.starts_with("ok:"), "{}", out.stdout);
    s.greenlight_in(&clone, &["verify", "--worktree"], None)
        .ok();

    // A squash merge of a release branch loses its commits and trailers, not the record.
    s.git(&["checkout", "-q", "-b", "rel"]);
    edit_values(&s, "LOG_LEVEL: debug", "LOG_LEVEL: warn");
    s.git(&["commit", "-qam", "quieter"]);
    s.greenlight(&["stage", "production", "--tag", "1.7.0"])
        .ok();
    s.git(&["checkout", "-q", "main"]);
    s.git(&["merge", "-q", "--squash", "rel"]);
    s.git(&["commit", "-qm", "release 1.7.0 (squashed)"]);
    assert!(s.read(RECORD).contains("LOG_LEVEL: warn"));
    s.greenlight(&["verify"]).ok();

    // Green (live) runs the old configuration. A hand edit that makes it look like values
    // (what re-rendering both colours from values would accept) is drift.
    let green = s.read(GREEN);
    let quoted = "value: \"info\"";
    assert!(green.contains(quoted), "{green}");
    s.write(GREEN, &green.replacen(quoted, "value: \"debug\"", 1));
    s.git(&["commit", "-qam", "hand edit of the live colour"]);
    let out = s.greenlight(&["verify"]).code(1);
    assert!(
        out.stdout.contains(GREEN) || out.stderr.contains(GREEN),
        "{out:?}"
    );
    assert!(
        !out.stdout.contains(BLUE) && !out.stderr.contains(BLUE),
        "{out:?}"
    );
    // And a release command refuses to build on it.
    s.greenlight(&["promote", "production"]).code(3);
}

#[test]
fn a_config_map_file_edit_is_released_like_any_configuration() {
    let s = Sandbox::with_values(VALUES);
    s.write("environments/production/app.toml", "workers = 8\n");
    edit_values(
        &s,
        "env:\n",
        "configMap:\n  mountPath: /etc/api\n  files: { app.toml: app.toml }\nenv:\n",
    );
    s.greenlight(&["render"]).ok();
    assert!(
        !tree(&s).keys().any(|p| p.ends_with(".configmap.yaml")),
        "no colour runs the ConfigMap yet"
    );
    s.git(&["add", "-A"]);
    s.git(&["commit", "-qm", "ship app.toml"]);
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    let maps = |s: &Sandbox| -> Vec<String> {
        tree(s)
            .into_iter()
            .filter(|(p, _)| p.ends_with(".configmap.yaml"))
            .map(|(p, text)| {
                assert!(text.contains("app.toml"), "{text}");
                p
            })
            .collect()
    };
    let first = maps(&s);
    assert_eq!(first.len(), 1, "{first:?}");
    let name = |path: &str| {
        path.rsplit('/')
            .next()
            .unwrap()
            .trim_end_matches(".configmap.yaml")
            .to_owned()
    };
    let v1 = name(&first[0]);
    assert!(s.read(GREEN).contains(&format!("name: \"{v1}\"")));
    assert!(
        !s.read(BLUE).contains("configMap"),
        "blue runs no ConfigMap"
    );
    assert!(s.read(GREEN).contains("mountPath: \"/etc/api\""));
    s.greenlight(&["promote", "production"]).ok();

    // Editing the file changes no rendered byte; diff names the key; a stage ships it.
    s.write("environments/production/app.toml", "workers = 16\n");
    let before = tree(&s);
    s.greenlight(&["render"]).ok();
    assert_eq!(tree(&s), before);
    let diff = s.greenlight(&["diff", "production"]).ok();
    assert!(
        diff.stdout.contains("configMap.data[\"app.toml\"]"),
        "{}",
        diff.stdout
    );
    s.git(&["commit", "-qam", "more workers"]);
    s.greenlight(&["stage", "production", "--tag", "1.6.0"])
        .ok();
    let second = maps(&s);
    assert_eq!(
        second.len(),
        2,
        "each colour reads its own version: {second:?}"
    );
    let v2 = name(second.iter().find(|p| name(p) != v1).unwrap());
    assert!(s.read(BLUE).contains(&format!("name: \"{v2}\"")));
    assert!(s.read(GREEN).contains(&format!("name: \"{v1}\"")));
    let blue_map = s.read(&format!("rendered/production/{v2}.configmap.yaml"));
    assert!(blue_map.contains("workers = 16"), "{blue_map}");

    // Once no colour references the first version, it is no longer rendered.
    s.greenlight(&["promote", "production"]).ok();
    s.write("environments/production/app.toml", "workers = 32\n");
    s.git(&["commit", "-qam", "even more workers"]);
    s.greenlight(&["stage", "production", "--tag", "1.7.0"])
        .ok();
    let third = maps(&s);
    assert_eq!(third.len(), 2, "{third:?}");
    assert!(!third.iter().any(|p| name(p) == v1), "{third:?}");
    let removed = s.git(&["show", "--name-status", "--no-renames", "--format=", "HEAD"]);
    assert!(
        removed.contains(&format!("D\trendered/production/{v1}.configmap.yaml")),
        "{removed}"
    );
    s.greenlight(&["verify"]).ok();
}

#[test]
fn a_config_map_file_outside_the_environment_is_refused() {
    let s = Sandbox::with_values(VALUES);
    s.write("environments/secret.toml", "password = 1\n");
    edit_values(
        &s,
        "env:\n",
        "configMap:\n  files: { app.toml: ../secret.toml }\nenv:\n",
    );
    let out = s.greenlight(&["render"]).code(2);
    assert!(out.stderr.contains("configMap.files"), "{}", out.stderr);
    assert!(out.stderr.contains(VALUES_FILE), "{}", out.stderr);
}

#[test]
fn reconfigure_in_place_is_the_loud_escape_hatch() {
    let s = promoted();
    // Never implied: without --in-place it is a usage error, and it writes nothing.
    let head = s.head();
    s.greenlight(&["reconfigure", "production"]).code(2);
    assert_eq!(s.head(), head);

    // A stage in flight stays staged through it.
    s.greenlight(&["stage", "production", "--tag", "1.6.0"])
        .ok();
    edit_values(&s, "LOG_LEVEL: info", "LOG_LEVEL: warn");
    s.git(&["commit", "-qam", "quieter logs now"]);
    let out = s
        .greenlight(&["reconfigure", "production", "--in-place"])
        .ok();
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("the live colour (green) restarts in place"),
        "{all}"
    );
    assert!(
        all.contains("`rollback` to blue returns to it too"),
        "{all}"
    );
    assert_eq!(env_var(&s, BLUE, "LOG_LEVEL").as_deref(), Some("warn"));
    assert_eq!(env_var(&s, GREEN, "LOG_LEVEL").as_deref(), Some("warn"));
    let message = s.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with("reconfigure(production): "),
        "{message}"
    );
    assert!(
        message.contains("Greenlight-Action: reconfigure"),
        "{message}"
    );
    let history = s.greenlight(&["history", "production"]).ok();
    assert!(history.stdout.contains("reconfigure"), "{}", history.stdout);
    // Run again: nothing to do, no commit.
    let head = s.head();
    s.greenlight(&["reconfigure", "production", "--in-place"])
        .ok();
    assert_eq!(s.head(), head);
    // The guards look past it: blue is still the staged release.
    s.greenlight(&["promote", "production", "--expect-tag", "1.6.0"])
        .ok();
    s.greenlight(&["verify"]).ok();
}

#[test]
fn a_repository_from_before_the_record_keeps_its_bytes() {
    let s = Sandbox::with_values(VALUES);
    // The previous format: values and rendered manifests, no released.yaml.
    s.git(&["rm", "-q", RECORD]);
    s.git(&["commit", "-qm", "written by the previous version"]);
    let before = tree(&s);
    s.greenlight(&["verify"]).ok();
    s.greenlight(&["status", "production"]).ok();
    let diff = s.greenlight(&["diff"]).ok();
    assert!(
        !diff.stdout.contains("no colour runs yet"),
        "{}",
        diff.stdout
    );

    // render records both colours on the current configuration and changes nothing else.
    s.greenlight(&["render"]).ok();
    let after = tree(&s);
    let added: Vec<&String> = after.keys().filter(|p| !before.contains_key(*p)).collect();
    assert_eq!(added, [RECORD]);
    for (path, text) in &before {
        assert_eq!(after.get(path), Some(text), "{path}");
    }
    let record = s.read(RECORD);
    assert!(record.starts_with("# Written by greenlight"), "{record}");

    // Without that render, the first release commit writes the record with its change.
    std::fs::remove_file(s.path(RECORD)).unwrap();
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    let changed = s.git(&["show", "--name-status", "--no-renames", "--format=", "HEAD"]);
    assert_eq!(
        changed.lines().collect::<Vec<_>>(),
        [
            format!("A\t{RECORD}"),
            format!("M\t{VALUES_FILE}"),
            "A\trendered/production/api-green.deployment.yaml".to_owned(),
            "M\trendered/production/kustomization.yaml".to_owned(),
        ]
    );
    assert_eq!(
        s.read(BLUE),
        before[BLUE],
        "the live colour keeps every byte"
    );
    assert_eq!(s.read(RECORD), record);
}
