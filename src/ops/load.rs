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
    let text = read_values_text(snapshot, &path)?;
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
    let released_text = read_text(snapshot, &workspace::released_path(env))?;
    let texts = Texts {
        path,
        text,
        released_text,
    };
    complete(env, texts, values, current)
}

/// The texts an environment's values are loaded from: its values file (repo-relative path
/// and text) and its release record, if it has one.
#[derive(Clone)]
struct Texts {
    path: String,
    text: String,
    released_text: Option<String>,
}

/// What [`load_values`] reads of an environment whatever its values say: the values file and
/// the record of what each colour runs, read on the thread that owns the snapshot so that
/// [`load_read`] can parse them on any thread.
pub(crate) struct ReadValues {
    texts: Texts,
    /// Reading the record failed: [`load_read`] then leaves the environment to
    /// [`load_values`], which reads it again and reports why, in its order.
    record_unreadable: bool,
}

/// Reads what [`load_values`] reads first: an error here is the one it reports first.
pub(crate) fn read_values(snapshot: &dyn Snapshot, env: &str) -> anyhow::Result<ReadValues> {
    let path = workspace::values_path(env);
    let text = read_values_text(snapshot, &path)?;
    let (released_text, record_unreadable) =
        match read_text(snapshot, &workspace::released_path(env)) {
            Ok(released_text) => (released_text, false),
            Err(_) => (None, true),
        };
    Ok(ReadValues {
        texts: Texts {
            path,
            text,
            released_text,
        },
        record_unreadable,
    })
}

/// [`load_values`] from what [`read_values`] read, touching no snapshot: the same result and
/// the same error, or `Ok(None)` when the environment needs its snapshot again (its
/// `configMap` names files, or its release record could not be read). The caller then runs
/// [`load_values`], whose answer is the one for that environment.
pub(crate) fn load_read(env: &str, read: &ReadValues) -> anyhow::Result<Option<LoadedValues>> {
    let values = values::parse_in(env, &read.texts.path, &read.texts.text)?;
    struct NeedsSnapshot;
    let Ok(current) = values::with_files_read(&values, |_| Err(NeedsSnapshot)) else {
        return Ok(None);
    };
    if read.record_unreadable {
        return Ok(None);
    }
    complete(env, read.texts.clone(), values, current).map(Some)
}

/// [`load_read`] and [`render_env`]: the environment's values and what they render, or
/// `Ok(None)` when it needs its snapshot again ([`load_and_render`] then).
pub(crate) fn render_read(
    env: &str,
    read: &ReadValues,
    templates: &Templates,
) -> anyhow::Result<Option<(LoadedValues, crate::diff::FileMap)>> {
    let Some(loaded) = load_read(env, read)? else {
        return Ok(None);
    };
    let files = render_env(env, &loaded.values, &loaded.running, templates)?;
    Ok(Some((loaded, files)))
}

/// [`load_values`] and [`render_env`].
pub(crate) fn load_and_render(
    snapshot: &dyn Snapshot,
    env: &str,
    templates: &Templates,
) -> anyhow::Result<(LoadedValues, crate::diff::FileMap)> {
    let loaded = load_values(snapshot, env)?;
    let files = render_env(env, &loaded.values, &loaded.running, templates)?;
    Ok((loaded, files))
}

/// The values file's text: an error when the snapshot has none.
fn read_values_text(snapshot: &dyn Snapshot, path: &str) -> anyhow::Result<String> {
    read_text(snapshot, path)?
        .ok_or_else(|| anyhow::anyhow!("{path}: no such file in {}", snapshot.describe()))
}

/// The end of [`load_values`], once everything is read: the release record parsed (both
/// colours on the current configuration when there is none) and what each colour runs.
fn complete(
    env: &str,
    texts: Texts,
    values: Values,
    current: Values,
) -> anyhow::Result<LoadedValues> {
    let Texts {
        path,
        text,
        released_text,
    } = texts;
    let released_path = workspace::released_path(env);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Location, NoProgress};
    use crate::workspace::DiskTree;
    use std::fs;

    const VALUES: &str = include_str!("../../environments/staging/values.yaml");

    /// A folder holding environment `staging` with `values` and the other `files` of its
    /// folder.
    fn repo(values: &str, files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join("environments/staging");
        fs::create_dir_all(&env).unwrap();
        fs::write(env.join("values.yaml"), values).unwrap();
        for (name, bytes) in files {
            fs::write(env.join(name), bytes).unwrap();
        }
        dir
    }

    /// `load_values` from the folder, and `load_read` of what `read_values` read there.
    fn load_both(
        dir: &tempfile::TempDir,
    ) -> (
        anyhow::Result<LoadedValues>,
        anyhow::Result<Option<LoadedValues>>,
    ) {
        let snapshot = DiskTree::new(dir.path());
        let read = read_values(&snapshot, "staging");
        (
            load_values(&snapshot, "staging"),
            read.and_then(|r| load_read("staging", &r)),
        )
    }

    fn assert_same_load(dir: &tempfile::TempDir) {
        let (full, read) = load_both(dir);
        let full = full.unwrap();
        let read = read.unwrap().expect("loaded from what was read");
        assert_eq!(
            (&full.path, &full.text, &full.values, &full.current),
            (&read.path, &read.text, &read.values, &read.current)
        );
        assert_eq!(
            (&full.released_path, &full.released_text, &full.released),
            (&read.released_path, &read.released_text, &read.released)
        );
        assert_eq!(full.running, read.running);
    }

    #[test]
    fn loading_what_was_read_is_loading_from_the_snapshot() {
        // Without a release record, then with the one a render writes.
        let dir = repo(VALUES, &[]);
        assert_same_load(&dir);
        let location = Location::Plain(dir.path().to_owned());
        crate::ops::render_envs(&location, &["staging".to_owned()], false, &NoProgress).unwrap();
        let record = dir.path().join("environments/staging/released.yaml");
        assert!(record.is_file(), "the render wrote the release record");
        assert_same_load(&dir);
    }

    #[test]
    fn loading_what_was_read_fails_as_loading_from_the_snapshot() {
        let bad_values = VALUES.replace("port: 8080", "port: 99999999");
        let bad_record: &[u8] = b"# Written by greenlight\nblue: [\n";
        for (values, files) in [
            (bad_values.as_str(), Vec::new()),
            (VALUES, vec![("released.yaml", bad_record)]),
            // Both broken: the values are what loading reports.
            (
                bad_values.as_str(),
                vec![("released.yaml", &b"\xff\xfe"[..])],
            ),
        ] {
            let dir = repo(values, &files);
            let (full, read) = load_both(&dir);
            let full = format!("{:#}", full.err().expect("loading fails"));
            let read = format!("{:#}", read.err().expect("loading what was read fails"));
            assert_eq!(full, read);
        }
    }

    #[test]
    fn an_environment_that_needs_its_folder_again_is_left_to_load_values() {
        // Its configMap names a file of its folder.
        let with_file = format!("{VALUES}configMap:\n  files: {{ app.toml: app.toml }}\n");
        let dir = repo(&with_file, &[("app.toml", b"level = 'debug'\n")]);
        let (full, read) = load_both(&dir);
        assert!(read.unwrap().is_none());
        let full = full.unwrap();
        let data = &full.current.config_map.as_ref().unwrap().data;
        assert_eq!(data.len(), 1, "{data:?}");
        // Its release record cannot be read (not UTF-8): load_values says why.
        let dir = repo(VALUES, &[("released.yaml", b"\xff\xfe")]);
        let (full, read) = load_both(&dir);
        assert!(read.unwrap().is_none());
        let why = format!("{:#}", full.err().expect("an unreadable record fails"));
        assert!(why.contains("released.yaml"), "{why}");
    }
}
