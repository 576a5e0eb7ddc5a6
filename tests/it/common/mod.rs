//! Helpers shared by the golden and real-tool tests: find the render fixture cases, render
//! one case the way the CLI does (values::parse + render with the built-in templates), and
//! write a file map to a directory.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod fake_forge;
pub mod sandbox;
pub mod servers;

use std::fs;
use std::path::{Path, PathBuf};

use greenlight::render::{self, FileMap, Templates};

/// Cases that must exist under `fixtures/render/`.
pub const REQUIRED_CASES: &[&str] = &[
    "config-map-env",
    "config-map-mounted",
    "config-released-apart",
    "digest",
    "full",
    "gateway-api-promoted",
    "gateway-api-rolled-back",
    "gateway-api-scaled-down",
    "gateway-api-staged",
    "gitops-wiring",
    "green-live",
    "hostile-strings",
    "idle-empty",
    "istio-promoted",
    "istio-rolled-back",
    "istio-scaled-down",
    "istio-staged",
    "minimal",
    "notify-argocd",
    "notify-flux",
    "preview-ingress",
    "service-promoted",
    "service-rolled-back",
    "service-scaled-down",
    "service-staged",
    "workload",
    "workload-gateway-api",
];

/// `fixtures/render/` of this crate.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/render")
}

/// Every case directory under `fixtures/render/`, sorted by name.
pub fn case_dirs() -> Vec<PathBuf> {
    let root = fixtures_dir();
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()))
        .map(|entry| entry.expect("readable fixture entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The name of a case directory.
pub fn case_name(dir: &Path) -> String {
    dir.file_name()
        .expect("case dir has a name")
        .to_string_lossy()
        .into_owned()
}

/// Parse `<case>/values.yaml` (the files its `configMap` names, and `<case>/released.yaml`
/// when the case has one: what each colour runs) and render it with the built-in templates.
pub fn render_case(dir: &Path) -> Result<FileMap, String> {
    use greenlight::values;
    let path = dir.join("values.yaml");
    let label = format!("fixtures/render/{}/values.yaml", case_name(dir));
    let text = fs::read_to_string(&path)
        .map_err(|e| format!("{label}: cannot read ({e}); every case needs a values.yaml"))?;
    let env = case_name(dir);
    let parsed = values::parse_in(&env, &label, &text).map_err(|e| format!("{e:#}"))?;
    let current = values::with_files_read(&parsed, |file| {
        fs::read_to_string(dir.join(file)).map_err(|e| format!("{label}: {file}: {e}"))
    })?;
    let released_label = format!("fixtures/render/{env}/released.yaml");
    let released = match fs::read_to_string(dir.join("released.yaml")) {
        Ok(text) => values::Released::parse(&released_label, &text).map_err(|e| e.to_string())?,
        Err(_) => values::Released::both(values::config_of(&current)),
    };
    let running = released
        .running(&current, &env, &released_label)
        .map_err(|e| e.to_string())?;
    render::render(&parsed, &running, &env, &Templates::builtin())
        .map_err(|e| format!("{label}: {e}"))
}

/// Write `files` into `dir` (created if needed).
pub fn write_files(dir: &Path, files: &FileMap) {
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    for (name, bytes) in files {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}
