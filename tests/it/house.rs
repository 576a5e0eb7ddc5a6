//! Tests that guard the shape of the code: every file in `tests/it/` is part of this binary,
//! and no two modules of `src/` import each other (data flows one way: cli → ops → the pure
//! modules → repo / forge).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn every_file_in_tests_it_is_a_module_of_the_binary() {
    let dir = Path::new(ROOT).join("tests/it");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter_map(|e| {
            let name = e.file_name().into_string().unwrap();
            let path = e.path();
            if path.is_dir() && path.join("mod.rs").exists() {
                Some(name)
            } else {
                name.strip_suffix(".rs")
                    .filter(|n| *n != "main")
                    .map(str::to_owned)
            }
        })
        .collect();
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    let declared: BTreeSet<String> = main
        .lines()
        .filter_map(|l| l.trim().strip_prefix("mod "))
        .map(|m| m.trim_end_matches(';').to_owned())
        .collect();
    assert_eq!(
        on_disk, declared,
        "tests/it/main.rs must declare exactly the files of tests/it/ (a file it does not \
         declare is never compiled, so its tests never run)"
    );
}

/// The modules of `src/` (`ops`, `ops::publish`, ...) and the modules each refers to
/// outside its tests, as `crate::a::b` or `super::b`.
fn module_references() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(ROOT).join("src");
    let mut files = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let exists = |module: &str| {
        let rel = module.replace("::", "/");
        src.join(format!("{rel}.rs")).exists() || src.join(&rel).join("mod.rs").exists()
    };
    let mut refs = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().with_extension("");
        let mut name = rel.to_string_lossy().replace('/', "::");
        if let Some(parent) = name.strip_suffix("::mod") {
            name = parent.to_owned();
        }
        if matches!(name.as_str(), "lib" | "main") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default();
        let parent = name.rsplit_once("::").map_or("", |(p, _)| p);
        let mut deps = BTreeSet::new();
        for (prefix, base) in [("crate::", ""), ("super::", parent)] {
            for (i, _) in code.match_indices(prefix) {
                let before = code[..i].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let path: Vec<&str> = code[i + prefix.len()..]
                    .split(|c: char| !(c.is_ascii_lowercase() || c == '_' || c == ':'))
                    .next()
                    .unwrap_or_default()
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .collect();
                // The deepest existing module the path names.
                let mut module = base.to_owned();
                for segment in path {
                    let next = if module.is_empty() {
                        segment.to_owned()
                    } else {
                        format!("{module}::{segment}")
                    };
                    if !exists(&next) {
                        break;
                    }
                    module = next;
                }
                if !module.is_empty() && module != name {
                    deps.insert(module);
                }
            }
        }
        refs.insert(name, deps);
    }
    refs
}

#[test]
fn no_two_modules_import_each_other() {
    let refs = module_references();
    assert!(refs.len() > 40, "found only {} modules", refs.len());
    let uses = |a: &str, b: &str| {
        refs.get(a).is_some_and(|deps| {
            deps.iter()
                .any(|d| d == b || d.starts_with(&format!("{b}::")))
        })
    };
    let mut cycles = Vec::new();
    for a in refs.keys() {
        for b in refs.keys() {
            let nested = a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"));
            if a < b && !nested && uses(a, b) && uses(b, a) {
                cycles.push(format!("{a} <-> {b}"));
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "modules that import each other: {cycles:?}"
    );
}
