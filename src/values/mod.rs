//! The values model: load one `values.yaml`, validate it, locate errors by file, line and
//! column, and save edits back by changing only the edited scalars in the text.
//! It does no rendering and no git.

pub mod model;

pub use model::*;

/// Parse and validate the text of a values file. `file` is the label used in errors.
///
/// Placeholder until the located parser lands: plain serde_yaml, no semantic checks.
pub fn parse(file: &str, text: &str) -> anyhow::Result<Values> {
    use anyhow::Context as _;
    serde_yaml::from_str(text).with_context(|| format!("{file}: invalid values"))
}
