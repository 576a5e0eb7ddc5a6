//! Reading what a release is made of: an environment's values (validated), the templates
//! (built-in ones with the repository's overrides), and the rendered files of one
//! environment, from any snapshot (a commit or a folder).

use std::collections::BTreeMap;

use anyhow::Context as _;

use crate::render::{self, Templates};
use crate::values::{self, Released, Running, Values};
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

/// One environment's values as read from a snapshot, with what each colour runs.
pub struct LoadedValues {
    /// Repo-relative path of the values file.
    pub path: String,
    /// Its text.
    pub text: String,
    /// Its parsed, validated form, as written.
    pub values: Values,
    /// The same with the `configMap` files read in: the configuration a stage would release.
    pub current: Values,
    /// Repo-relative path of the record of what each colour runs.
    pub released_path: String,
    /// Its text; `None` when it was not written yet (a new environment, or one from before
    /// greenlight recorded it): then both colours run the current configuration.
    pub released_text: Option<String>,
    /// The record (both colours on the current configuration when there is no file).
    pub released: Released,
    /// What each colour runs.
    pub running: Running,
}

/// Reads and validates the values of `env`, the files its `configMap` names, and the record
/// of what each colour runs.
pub fn load_values(snapshot: &dyn Snapshot, env: &str) -> anyhow::Result<LoadedValues> {
    let path = workspace::values_path(env);
    let text = read_text(snapshot, &path)?
        .ok_or_else(|| anyhow::anyhow!("{path}: no such file in {}", snapshot.describe()))?;
    let values = values::parse_in(env, &path, &text)?;
    let current = values::with_files_read(&values, |file| {
        let full = workspace::environment_file(env, file);
        read_text(snapshot, &full)?.ok_or_else(|| {
            anyhow::Error::from(workspace::WorkspaceError::MissingFile {
                path: full,
                named_in: path.clone(),
            })
        })
    })?;
    let released_path = workspace::released_path(env);
    let released_text = read_text(snapshot, &released_path)?;
    let released = match &released_text {
        Some(text) => Released::parse(&released_path, text)?,
        None => Released::both(values::config_of(&current)),
    };
    let running = released.running(&current, env, &released_path)?;
    Ok(LoadedValues {
        path,
        text,
        values,
        current,
        released_path,
        released_text,
        released,
        running,
    })
}

/// The text of `path` in `snapshot`, refused when larger than greenlight reads or not UTF-8;
/// `None` when there is no such file.
fn read_text(snapshot: &dyn Snapshot, path: &str) -> anyhow::Result<Option<String>> {
    if let Some(size) = snapshot.size(path)? {
        if size > workspace::MAX_INPUT_BYTES {
            return Err(workspace::WorkspaceError::TooLarge {
                path: path.to_owned(),
                size,
                limit: workspace::MAX_INPUT_BYTES,
            }
            .into());
        }
    }
    match snapshot.read(path)? {
        Some(bytes) => Ok(Some(workspace::utf8_text(path, bytes)?)),
        None => Ok(None),
    }
}

/// Renders environment `env` (shared objects from `values`, each colour from what it runs)
/// into repo-relative paths under `rendered/<env>/`.
pub fn render_env(
    env: &str,
    values: &Values,
    running: &Running,
    templates: &Templates,
) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let files = render::render(values, running, env, templates)
        .with_context(|| format!("rendering environment {env}"))?;
    let dir = workspace::rendered_dir(env);
    Ok(files
        .into_iter()
        .map(|(name, bytes)| (format!("{dir}/{name}"), bytes))
        .collect())
}

/// Marks the changes of `diff` under `rendered/<env>/` that reach live traffic as soon as they
/// are applied, for an environment whose values (after the change) are `values`.
pub fn mark_live_now(diff: &mut crate::diff::Diff, env: &str, values: &Values) {
    mark_live_now_in(diff, &[(env, values)]);
}

/// [`mark_live_now`] for a diff of several environments, each with its values after the
/// change.
pub fn mark_live_now_in(diff: &mut crate::diff::Diff, envs: &[(&str, &Values)]) {
    let dirs: Vec<(String, &Values)> = envs
        .iter()
        .map(|(env, values)| (format!("{}/", workspace::rendered_dir(env)), *values))
        .collect();
    diff.mark_live_now(|path| {
        dirs.iter().any(|(dir, values)| {
            path.strip_prefix(dir.as_str()).is_some_and(|file| {
                !file.contains('/')
                    && render::applies_now(file, values.app.as_str(), values.live_color)
            })
        })
    });
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
