//! Any bytes as a values file: parsing, validation and rendering must never panic, and every
//! parse error must carry a location. Run: see README.md, "Fuzzing".
#![no_main]

use greenlight::render::{render, Templates};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match greenlight::values::parse("values.yaml", text) {
        Ok(values) => {
            let _ = render(&values, "fuzz", &Templates::builtin());
        }
        Err(e) => {
            assert!(!e.diagnostics.is_empty());
            for d in &e.diagnostics {
                assert!(d.line >= 1 && d.column >= 1, "unlocated: {d:?}");
            }
        }
    }
});
