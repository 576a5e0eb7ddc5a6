//! Reading what a release is made of: an environment's values (validated), the templates
//! (built-in ones with the repository's overrides), and the rendered files of one
//! environment, from any snapshot (a commit or a folder).

use std::collections::BTreeMap;

use anyhow::Context as _;

use crate::render::{self, Templates};
use crate::values::{self, Values};
use crate::workspace::{self, Snapshot};

/// The templates of a snapshot: built-in ones, with the repository's `templates/` overrides.
pub fn templates(snapshot: &dyn Snapshot) -> anyhow::Result<Templates> {
    let overrides = workspace::template_overrides(snapshot)?;
    let templates = Templates::with_overrides(overrides)
        .with_context(|| format!("loading templates of {}", snapshot.describe()))?;
    for name in Templates::names() {
        tracing::info!(
            template = name,
            source = %templates.source_of(name),
            "template in use"
        );
    }
    Ok(templates)
}

/// One environment's values as read from a snapshot.
pub struct LoadedValues {
    /// Repo-relative path of the values file.
    pub path: String,
    /// Its text.
    pub text: String,
    /// Its parsed, validated form.
    pub values: Values,
}

/// Reads and validates the values of `env`.
pub fn load_values(snapshot: &dyn Snapshot, env: &str) -> anyhow::Result<LoadedValues> {
    let path = workspace::values_path(env);
    if let Some(size) = snapshot.size(&path)? {
        if size > workspace::MAX_INPUT_BYTES {
            return Err(workspace::WorkspaceError::TooLarge {
                path,
                size,
                limit: workspace::MAX_INPUT_BYTES,
            }
            .into());
        }
    }
    let bytes = snapshot
        .read(&path)?
        .ok_or_else(|| anyhow::anyhow!("{path}: no such file in {}", snapshot.describe()))?;
    let text = workspace::utf8_text(&path, bytes)?;
    let values = values::parse_in(env, &path, &text)?;
    Ok(LoadedValues { path, text, values })
}

/// Renders `values` into repo-relative paths under `rendered/<env>/`.
pub fn render_env(
    env: &str,
    values: &Values,
    templates: &Templates,
) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let files = render::render(values, env, templates)
        .with_context(|| format!("rendering environment {env}"))?;
    let dir = workspace::rendered_dir(env);
    Ok(files
        .into_iter()
        .map(|(name, bytes)| (format!("{dir}/{name}"), bytes))
        .collect())
}

/// The YAML files currently under `rendered/<env>/` (not sub-folders: those are other
/// environments).
pub fn rendered_files(
    snapshot: &dyn Snapshot,
    env: &str,
) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    Ok(snapshot
        .dir_files(&workspace::rendered_dir(env))?
        .into_iter()
        .filter(|(p, _)| workspace::is_manifest(p))
        .collect())
}
