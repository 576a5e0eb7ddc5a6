//! Micro-benchmarks of the pure core: parse + render one environment, and diff the manifests
//! of a promotion. Run with `cargo bench --bench render`; `bench/run.sh` measures the whole
//! binary against helm and git.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use greenlight::diff;
use greenlight::ops;
use greenlight::render::Templates;
use greenlight::values;

const STAGING: &str = include_str!("../environments/staging/values.yaml");

fn benches(c: &mut Criterion) {
    let templates = Templates::builtin();
    let blue = values::parse("staging", STAGING).expect("example values parse");
    let promoted_text = STAGING
        .replacen("liveColor: blue", "liveColor: green", 1)
        .replacen("replicas: 0", "replicas: 2", 1);
    let green = values::parse("staging", &promoted_text).expect("promoted values parse");
    let running = values::Running::same(&blue);

    c.bench_function("parse values", |b| {
        b.iter(|| values::parse("staging", black_box(STAGING)).unwrap())
    });
    c.bench_function("render one environment", |b| {
        b.iter(|| ops::render_env("staging", black_box(&blue), &running, &templates).unwrap())
    });
    // A command renders once per process: the first render includes parsing the templates
    // it uses (four of ten for this example's `routing: service`).
    c.bench_function("first render, built-in templates", |b| {
        b.iter(|| {
            ops::render_env("staging", black_box(&blue), &running, &Templates::builtin()).unwrap()
        })
    });

    let old = ops::render_env("staging", &blue, &running, &templates).unwrap();
    let new = ops::render_env(
        "staging",
        &green,
        &values::Running::same(&green),
        &templates,
    )
    .unwrap();
    assert_ne!(old, new, "the promotion changes the manifests");
    c.bench_function("diff a promotion", |b| {
        b.iter(|| diff::diff(black_box(&old), black_box(&new)))
    });
}

criterion_group!(render, benches);
criterion_main!(render);
