//! `render --all` renders environments in parallel: its output must be byte-for-byte what a
//! sequential render of each environment gives, and a failing environment must be reported
//! the same way whatever the scheduling.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use greenlight::ops::{self, Location};
use greenlight::render::Templates;
use greenlight::values;

const BASE: &str = include_str!("../../environments/staging/values.yaml");

/// Values that differ per environment in every field the templates print.
fn values_for(i: usize) -> String {
    BASE.replace("app: api", &format!("app: api{i}"))
        .replace("shop-staging", &format!("shop-{i}"))
        .replace("\"1.4.0\"", &format!("\"1.{i}.0\""))
        .replace("replicas: 2", &format!("replicas: {}", i % 7 + 1))
        .replace(
            "liveColor: blue",
            if i % 2 == 0 {
                "liveColor: blue"
            } else {
                "liveColor: green"
            },
        )
        .replace(
            "green: { tag: \"1.3.2\", replicas: 0 }",
            &format!("green: {{ tag: \"0.{i}.1\", replicas: 2 }}"),
        )
        .replace("api.staging.example.com", &format!("api{i}.example.com"))
}

fn env_name(i: usize) -> String {
    format!("team{}/app{i}", i % 5)
}

/// Environments 0..n as (name, i), sorted by name: the order commands take them in.
fn sorted_envs(n: usize) -> Vec<(String, usize)> {
    let mut names: Vec<(String, usize)> = (0..n).map(|i| (env_name(i), i)).collect();
    names.sort();
    names
}

/// The environments a `diff` names, in its order.
fn changed_envs(diff: &ops::DiffReport) -> Vec<&str> {
    diff.environments
        .iter()
        .map(|e| e.environment.as_str())
        .collect()
}

fn write_envs(root: &Path, n: usize) {
    for i in 0..n {
        let dir = root.join("environments").join(env_name(i));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("values.yaml"), values_for(i)).unwrap();
    }
}

/// Environment `i`'s values with `from` replaced by `to`.
fn edit_values(root: &Path, i: usize, from: &str, to: &str) {
    let path = root
        .join("environments")
        .join(env_name(i))
        .join("values.yaml");
    let edited = values_for(i).replace(from, to);
    assert_ne!(edited, values_for(i), "{from:?} is in the values");
    fs::write(path, edited).unwrap();
}

fn files_under(root: &Path, dir: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root.join(dir)) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(root).unwrap();
            out.insert(
                rel.to_str().unwrap().to_owned(),
                fs::read(entry.path()).unwrap(),
            );
        }
    }
    out
}

#[test]
fn parallel_render_all_matches_sequential_render_of_each_env() {
    let n = 120;
    let tmp = tempfile::tempdir().unwrap();
    write_envs(tmp.path(), n);

    let report = ops::render_envs(
        &Location::Plain(tmp.path().to_owned()),
        &[],
        true,
        &ops::NoProgress,
    )
    .unwrap();

    let templates = Templates::builtin();
    let mut expected = BTreeMap::new();
    for i in 0..n {
        let env = env_name(i);
        let v = values::parse(&env, &values_for(i)).unwrap();
        let running = values::Running::same(&v);
        expected.extend(ops::render_env(&env, &v, &running, &templates).unwrap());
    }
    let got = files_under(tmp.path(), "rendered");
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "parallel render differs from sequential");

    let reported: Vec<String> = report
        .environments
        .iter()
        .map(|e| e.environment.clone())
        .collect();
    let mut names: Vec<String> = (0..n).map(env_name).collect();
    names.sort();
    assert_eq!(reported, names, "report lists environments in sorted order");
}

#[test]
fn first_failing_env_in_order_is_reported_and_nothing_is_written() {
    let n = 60;
    let tmp = tempfile::tempdir().unwrap();
    write_envs(tmp.path(), n);
    // Two broken environments; the one that sorts first must be the one reported.
    for i in [41, 7] {
        edit_values(tmp.path(), i, "port: 8080", "port: 99999999");
    }
    let mut broken = [env_name(41), env_name(7)];
    broken.sort();

    for _ in 0..5 {
        let err = ops::render_envs(
            &Location::Plain(tmp.path().to_owned()),
            &[],
            true,
            &ops::NoProgress,
        )
        .expect_err("a broken environment fails the render");
        let text = format!("{err:#}");
        assert!(text.contains(&broken[0]), "{text}");
        assert!(!text.contains(&format!("{}/", broken[1])), "{text}");
        assert!(
            !tmp.path().join("rendered").exists(),
            "nothing written on failure"
        );
    }
}

/// A folder of `n` environments (more than one chunk of `ops::fleet`), rendered.
fn rendered_fleet(n: usize) -> (tempfile::TempDir, Location) {
    let tmp = tempfile::tempdir().unwrap();
    write_envs(tmp.path(), n);
    let location = Location::Plain(tmp.path().to_owned());
    ops::render_envs(&location, &[], true, &ops::NoProgress).unwrap();
    (tmp, location)
}

/// `verify` renders environments in parallel too, a chunk at a time (more environments than
/// one chunk here): what it compares is what a sequential render gives, so a clean tree
/// passes and one edited file is the one drift reported.
#[test]
fn parallel_verify_sees_exactly_the_drift() {
    let n = 300;
    let (tmp, location) = rendered_fleet(n);
    let clean = ops::verify(&location, true, &ops::NoProgress).unwrap();
    assert!(clean.ok && clean.drift.is_empty(), "{:?}", clean.drift);
    assert_eq!(clean.environments, n);

    // The last environment in sorted order, in the last chunk.
    let mut names: Vec<String> = (0..n).map(env_name).collect();
    names.sort();
    let last = names.last().unwrap();
    let dir = tmp.path().join("rendered").join(last);
    let service = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_str().unwrap().ends_with("preview.service.yaml"))
        .unwrap();
    let text = fs::read_to_string(&service).unwrap();
    fs::write(&service, text.replace("port: 80", "port: 81")).unwrap();

    let drifted = ops::verify(&location, true, &ops::NoProgress).unwrap();
    assert!(!drifted.ok);
    let paths: Vec<&str> = drifted.drift.iter().map(|d| d.path.as_str()).collect();
    let rel = service.strip_prefix(tmp.path()).unwrap().to_str().unwrap();
    assert_eq!(paths, vec![rel]);
}

/// A template override that breaks the output of one app only: loading its values works,
/// rendering it fails.
fn break_rendering_of(root: &Path, i: usize) {
    let dir = root.join("templates");
    fs::create_dir_all(&dir).unwrap();
    let builtin = Templates::builtin_text("service.yaml.tera").unwrap();
    let broken = builtin.replacen(
        "kind: Service",
        &format!("kind: {{% if app == \"api{i}\" %}}Broken{{% else %}}Service{{% endif %}}"),
        1,
    );
    assert_ne!(broken, builtin, "the override changes the template");
    fs::write(dir.join("service.yaml.tera"), broken).unwrap();
}

/// Whatever fails first in environment order is what `verify` reports, across chunks and
/// within one, whether it fails loading its values or rendering them.
#[test]
fn verify_reports_the_first_failing_environment_in_order() {
    let n = 300;
    let names = sorted_envs(n);
    // (sorted position that fails rendering, sorted position that fails loading): the first
    // chunk holds positions 0..256.
    for (render_at, load_at) in [(40, 280), (280, 40), (40, 100), (100, 40)] {
        let tmp = tempfile::tempdir().unwrap();
        write_envs(tmp.path(), n);
        break_rendering_of(tmp.path(), names[render_at].1);
        edit_values(tmp.path(), names[load_at].1, "port: 8080", "port: 99999999");
        let (first, named) = match render_at < load_at {
            true => (
                render_at,
                format!("rendering environment {}:", names[render_at].0),
            ),
            false => (
                load_at,
                format!("environments/{}/values.yaml:", names[load_at].0),
            ),
        };
        let other = &names[render_at.max(load_at)].0;
        for _ in 0..3 {
            let err = ops::verify(
                &Location::Plain(tmp.path().to_owned()),
                true,
                &ops::NoProgress,
            )
            .expect_err("a broken environment fails verify");
            let text = format!("{err:#}");
            assert!(text.contains(&named), "expected {}: {text}", names[first].0);
            assert!(!text.contains(&format!("{other}/")), "{text}");
            assert!(!text.contains(&format!("{other}:")), "{text}");
        }
    }
}

/// `diff` of every environment renders them in parallel too: it says, in order, what `diff`
/// of each environment alone says.
#[test]
fn parallel_diff_matches_one_environment_at_a_time() {
    let n = 300;
    let (tmp, location) = rendered_fleet(n);
    // Edits in both chunks.
    let names = sorted_envs(n);
    for at in [3, 200, 290] {
        let i = names[at].1;
        edit_values(tmp.path(), i, "port: 8080", "port: 8081");
    }
    let all = ops::diff(&location, &[]).unwrap();
    assert_eq!(
        changed_envs(&all),
        [&names[3].0, &names[200].0, &names[290].0]
    );
    for e in &all.environments {
        let alone = ops::diff(&location, std::slice::from_ref(&e.environment)).unwrap();
        assert_eq!(alone.environments, vec![e.clone()]);
    }
}

/// Environments whose `configMap` names a file of their folder, and one whose release record
/// cannot be read, are loaded on the reading thread in their turn, not with the others in
/// parallel: `verify` and `diff` see them exactly as the others, and the first failure in
/// environment order is still the one reported.
#[test]
fn environments_loaded_in_their_turn_are_verified_and_diffed_like_the_others() {
    let n = 300;
    let tmp = tempfile::tempdir().unwrap();
    write_envs(tmp.path(), n);
    let names = sorted_envs(n);
    let with_files = [5, 150, 290];
    for at in with_files {
        let (env, i) = &names[at];
        let dir = tmp.path().join("environments").join(env);
        let values = format!(
            "{}configMap:\n  files: {{ app.toml: app.toml }}\n",
            values_for(*i)
        );
        fs::write(dir.join("values.yaml"), values).unwrap();
        fs::write(dir.join("app.toml"), format!("name = 'app{i}'\n")).unwrap();
    }
    let location = Location::Plain(tmp.path().to_owned());
    ops::render_envs(&location, &[], true, &ops::NoProgress).unwrap();
    let clean = ops::verify(&location, true, &ops::NoProgress).unwrap();
    assert!(clean.ok && clean.drift.is_empty(), "{:?}", clean.drift);
    assert!(ops::diff(&location, &[]).unwrap().environments.is_empty());

    // An edit of one file a configMap names is configuration no colour runs yet: nothing
    // rendered drifts, and diff names that environment alone, for its unreleased
    // configuration (read from the edited file).
    let (edited, i) = &names[150];
    let file = tmp
        .path()
        .join("environments")
        .join(edited)
        .join("app.toml");
    fs::write(&file, format!("name = 'app{i}-edited'\n")).unwrap();
    let still = ops::verify(&location, true, &ops::NoProgress).unwrap();
    assert!(still.ok && still.drift.is_empty(), "{:?}", still.drift);
    let diff = ops::diff(&location, &[]).unwrap();
    assert_eq!(changed_envs(&diff), [edited.as_str()]);
    let unreleased = diff.environments[0].unreleased_config.as_ref().unwrap();
    let paths: Vec<&str> = unreleased.changes.iter().map(|c| c.path.as_str()).collect();
    assert!(paths.iter().any(|p| p.contains("app.toml")), "{paths:?}");
    fs::write(&file, format!("name = 'app{i}'\n")).unwrap();

    // A release record that is not UTF-8 (read on this thread, in its turn) against a
    // rendering failure (found in parallel) before or after it.
    let record_at = 200;
    let record = tmp
        .path()
        .join("environments")
        .join(&names[record_at].0)
        .join("released.yaml");
    fs::write(&record, b"\xff\xfe").unwrap();
    for (render_at, expect_record) in [(280, true), (20, false)] {
        break_rendering_of(tmp.path(), names[render_at].1);
        let named = match expect_record {
            true => format!("environments/{}/released.yaml", names[record_at].0),
            false => format!("rendering environment {}:", names[render_at].0),
        };
        for err in [
            ops::verify(&location, true, &ops::NoProgress).expect_err("verify fails"),
            ops::diff(&location, &[]).expect_err("diff fails"),
        ] {
            let text = format!("{err:#}");
            assert!(text.contains(&named), "expected {named}: {text}");
        }
    }
}
