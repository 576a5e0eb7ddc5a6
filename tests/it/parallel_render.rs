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

fn write_envs(root: &Path, n: usize) {
    for i in 0..n {
        let dir = root.join("environments").join(env_name(i));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("values.yaml"), values_for(i)).unwrap();
    }
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
        let path = tmp
            .path()
            .join("environments")
            .join(env_name(i))
            .join("values.yaml");
        fs::write(&path, values_for(i).replace("port: 8080", "port: 99999999")).unwrap();
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
