//! The layout of a managed GitOps repository: where environments, templates and rendered
//! manifests live, how environment names are checked, and how `rendered/<env>/` is written to
//! disk atomically.
//!
//! Reading goes through [`Snapshot`], so the same code serves a working directory ([`DiskTree`])
//! and a git commit (implemented next to `repo`). Writing here is only for the plain `render`
//! command; commits are `repo`'s job. This module renders nothing and knows no git.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Directory holding one `values.yaml` per environment.
pub const ENVIRONMENTS_DIR: &str = "environments";
/// Directory holding the rendered manifests, one folder per environment.
pub const RENDERED_DIR: &str = "rendered";
/// Directory of template overrides.
pub const TEMPLATES_DIR: &str = "templates";
/// The values file name inside an environment folder.
pub const VALUES_FILE: &str = "values.yaml";
/// Suffix of template files.
pub const TEMPLATE_SUFFIX: &str = ".yaml.tera";

/// Errors about the repository layout and environment names (all input errors, exit 2).
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An environment name that is not a plain relative path of safe segments.
    #[error("{refusal}")]
    InvalidEnvName {
        /// What the environment rule says about it.
        refusal: crate::grammar::Refusal,
    },
    /// An environment folder that leads outside the repository (through a symlink).
    #[error("environment `{name}` resolves to {resolved}, outside the repository {root}")]
    EscapesRepository {
        /// The environment name.
        name: String,
        /// Where it leads.
        resolved: PathBuf,
        /// The repository root.
        root: PathBuf,
    },
    /// No `environments/<name>/values.yaml` exists.
    #[error("unknown environment `{name}`: {expected} does not exist")]
    UnknownEnvironment {
        /// The name as given.
        name: String,
        /// The values file that was looked for.
        expected: String,
        /// Closest known environment, if any.
        suggestion: Option<String>,
        /// All known environments.
        known: Vec<String>,
    },
    /// The repository has no environments at all.
    #[error("no environments found: {root} has no {ENVIRONMENTS_DIR}/<env>/{VALUES_FILE}")]
    NoEnvironments {
        /// Where they were looked for.
        root: String,
    },
    /// A file in `rendered/` is not valid UTF-8 or similar content problem.
    #[error("{path}: not valid UTF-8")]
    NotUtf8 {
        /// The file.
        path: String,
    },
    /// A file greenlight reads is not valid UTF-8, at a known place.
    #[error("{path}:{line}:{column}: not valid UTF-8 (byte 0x{byte:02x})")]
    InvalidUtf8 {
        /// The file.
        path: String,
        /// 1-based line of the first invalid byte.
        line: usize,
        /// 1-based column (in characters) of the first invalid byte.
        column: usize,
        /// The byte.
        byte: u8,
    },
    /// A file greenlight reads is larger than it accepts.
    #[error("{path}: {size} bytes, more than the {limit} bytes greenlight reads")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit ([`MAX_INPUT_BYTES`]).
        limit: u64,
    },
    /// A file values name (under `configMap.files`) is not there.
    #[error("{path} does not exist (named in {named_in})")]
    MissingFile {
        /// The file.
        path: String,
        /// The values file that names it.
        named_in: String,
    },
    /// A symbolic link leads outside the repository.
    #[error("{path} is a symbolic link to {}, outside the repository", target.display())]
    SymlinkEscapes {
        /// The repository-relative path of the link.
        path: String,
        /// Where it leads.
        target: PathBuf,
    },
}

/// The largest values file or template greenlight reads (1 MiB): real ones are a few KiB, and
/// a bigger one is a mistake or an attack, refused before it is read.
pub const MAX_INPUT_BYTES: u64 = 1 << 20;

/// `bytes` as text, or an error naming the line and column of the first invalid byte.
pub fn utf8_text(path: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let valid = e.utf8_error().valid_up_to();
        let before = std::str::from_utf8(&bytes[..valid]).expect("valid up to here");
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        WorkspaceError::InvalidUtf8 {
            path: path.to_owned(),
            line,
            column,
            byte: bytes[valid],
        }
    })
}

impl crate::error::Classified for WorkspaceError {
    fn hint(&self) -> Option<String> {
        match self {
            WorkspaceError::InvalidUtf8 { .. } => Some(
                "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`); YAML files are text"
                    .to_owned(),
            ),
            WorkspaceError::TooLarge { .. } => Some(
                "values files and templates need a few KiB; check that the right file is in place"
                    .to_owned(),
            ),
            WorkspaceError::MissingFile { path, named_in } => Some(format!(
                "add {path}, or remove it from `configMap.files` in {named_in}"
            )),
            WorkspaceError::SymlinkEscapes { path, .. } => Some(format!(
                "replace {path} with a regular file inside the repository"
            )),
            WorkspaceError::InvalidEnvName { refusal } => {
                Some(format!("write {}", refusal.expected))
            }
            WorkspaceError::EscapesRepository { .. } => {
                Some("replace the symlink with a real folder inside the repository".to_owned())
            }
            WorkspaceError::UnknownEnvironment {
                suggestion, known, ..
            } => Some(match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None if known.is_empty() => "create one with `greenlight init`".to_owned(),
                None => format!("known environments: {}", known.join(", ")),
            }),
            WorkspaceError::NoEnvironments { .. } => Some(
                "run greenlight inside a GitOps repository (or pass --repo DIR), or create one \
                 with `greenlight init DIR --app NAME --env NAME`"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

type Result<T, E = WorkspaceError> = std::result::Result<T, E>;

/// Read access to one version of a repository's files, by repo-relative `/`-separated paths.
pub trait Snapshot {
    /// A short description for messages: a directory path or a commit id.
    fn describe(&self) -> String;
    /// The content of `path`, or `None` if there is no such file.
    fn read(&self, path: &str) -> anyhow::Result<Option<Vec<u8>>>;
    /// Every file path under `dir` (recursively) whose file name is `name`, sorted.
    fn files_named(&self, dir: &str, name: &str) -> anyhow::Result<Vec<String>> {
        self.files_where(dir, &|file_name| file_name == name)
    }
    /// Every file path under `dir` (recursively) whose file name `keep` accepts, sorted.
    fn files_where(&self, dir: &str, keep: &dyn Fn(&str) -> bool) -> anyhow::Result<Vec<String>>;
    /// The files directly inside `dir` (not recursive), keyed by full path.
    fn dir_files(&self, dir: &str) -> anyhow::Result<BTreeMap<String, Vec<u8>>>;
    /// The size of `path` in bytes without reading it, or `None` if there is no such file.
    fn size(&self, path: &str) -> anyhow::Result<Option<u64>>;
    /// Whether [`Snapshot::files_named`] would list `path`, when the snapshot can tell
    /// without walking a folder; `None` (the default) when it cannot.
    fn lists_file(&self, path: &str) -> anyhow::Result<Option<bool>> {
        let _ = path;
        Ok(None)
    }
    /// Gets ready to read, in as few steps as the snapshot allows, the files `files`, the
    /// files directly in the folders `dirs` and everything below the folders `trees`: a
    /// partial clone fetches them. Reading works without it, only slower.
    fn prefetch(&self, files: &[&str], dirs: &[&str], trees: &[&str]) -> anyhow::Result<()> {
        let _ = (files, dirs, trees);
        Ok(())
    }
}

/// A working directory on disk.
#[derive(Debug, Clone)]
pub struct DiskTree {
    root: PathBuf,
}

impl DiskTree {
    /// The repository whose root is `root`.
    pub fn new(root: impl Into<PathBuf>) -> DiskTree {
        DiskTree { root: root.into() }
    }

    /// The repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Refuses a symbolic link at `full` (repository-relative `rel`) that leads outside the
    /// repository; links inside it are followed like git's checkout would show them.
    fn check_link(&self, full: &Path, rel: &str) -> Result<()> {
        let is_link = fs::symlink_metadata(full).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            return Ok(());
        }
        let root = self.root.canonicalize().map_err(DiskTree::io(&self.root))?;
        match leads_outside(&root, full) {
            Some(target) => Err(WorkspaceError::SymlinkEscapes {
                path: rel.to_owned(),
                target,
            }),
            None => Ok(()),
        }
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WorkspaceError + '_ {
        move |source| WorkspaceError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

impl Snapshot for DiskTree {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn read(&self, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let full = self.root.join(path);
        self.check_link(&full, path)?;
        match fs::read(&full) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DiskTree::io(&full)(e).into()),
        }
    }

    fn size(&self, path: &str) -> anyhow::Result<Option<u64>> {
        let full = self.root.join(path);
        self.check_link(&full, path)?;
        match fs::metadata(&full) {
            Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DiskTree::io(&full)(e).into()),
        }
    }

    fn files_where(&self, dir: &str, keep: &dyn Fn(&str) -> bool) -> anyhow::Result<Vec<String>> {
        let base = self.root.join(dir);
        if !base.is_dir() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        // Symlinks are not followed: an environment must live inside the repository.
        for entry in walkdir::WalkDir::new(&base).follow_links(false) {
            let entry = entry.map_err(|e| {
                let path = e.path().unwrap_or(&base).to_owned();
                WorkspaceError::Io {
                    path,
                    source: e.into(),
                }
            })?;
            // A link named like the file is listed, so that reading it reports where it
            // leads instead of the file seeming absent.
            let file_like = entry.file_type().is_file() || entry.path_is_symlink();
            if file_like && keep(&entry.file_name().to_string_lossy()) {
                let rel = entry
                    .path()
                    .strip_prefix(&self.root)
                    .expect("walkdir stays under its root");
                out.push(to_slash(rel));
            }
        }
        out.sort();
        Ok(out)
    }

    fn dir_files(&self, dir: &str) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
        let base = self.root.join(dir);
        let mut out = BTreeMap::new();
        let entries = match fs::read_dir(&base) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(DiskTree::io(&base)(e).into()),
        };
        for entry in entries {
            let entry = entry.map_err(DiskTree::io(&base))?;
            let ty = entry.file_type().map_err(DiskTree::io(&entry.path()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{dir}/{name}");
            if ty.is_symlink() {
                self.check_link(&entry.path(), &rel)?;
                if !entry.path().is_file() {
                    continue;
                }
            } else if !ty.is_file() {
                continue;
            }
            let bytes = fs::read(entry.path()).map_err(DiskTree::io(&entry.path()))?;
            out.insert(rel, bytes);
        }
        Ok(out)
    }
}

fn to_slash(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether a file under `rendered/` is a manifest greenlight owns (`*.yaml` / `*.yml`): the
/// files `render` replaces or removes and `verify` and `diff` compare.
pub fn is_manifest(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

/// Checks that `name` is a plain relative environment name such as `production/eu-west/api`
/// ([`crate::grammar::ENVIRONMENT`]).
pub fn check_env_name(name: &str) -> Result<()> {
    crate::grammar::ENVIRONMENT
        .apply(name)
        .map_err(|refusal| WorkspaceError::InvalidEnvName { refusal })
}

/// The repo-relative path of an environment's values file.
pub fn values_path(env: &str) -> String {
    format!("{ENVIRONMENTS_DIR}/{env}/{VALUES_FILE}")
}

/// The file name of the record of what each colour runs, beside `values.yaml`.
pub const RELEASED_FILE: &str = "released.yaml";

/// The repo-relative path of an environment's record of what each colour runs.
pub fn released_path(env: &str) -> String {
    format!("{ENVIRONMENTS_DIR}/{env}/{RELEASED_FILE}")
}

/// The repo-relative path of `file` of an environment's folder (a path values checked).
pub fn environment_file(env: &str, file: &str) -> String {
    format!("{ENVIRONMENTS_DIR}/{env}/{file}")
}

/// The repo-relative folder of an environment's rendered manifests.
pub fn rendered_dir(env: &str) -> String {
    format!("{RENDERED_DIR}/{env}")
}

/// Every environment of the snapshot, sorted (`production/eu-west/api`, `staging`, ...).
pub fn discover(snapshot: &dyn Snapshot) -> anyhow::Result<Vec<String>> {
    let prefix = format!("{ENVIRONMENTS_DIR}/");
    let suffix = format!("/{VALUES_FILE}");
    let mut envs = Vec::new();
    for path in snapshot.files_named(ENVIRONMENTS_DIR, VALUES_FILE)? {
        let Some(env) = path
            .strip_prefix(&prefix)
            .and_then(|p| p.strip_suffix(&suffix))
        else {
            continue;
        };
        if check_env_name(env).is_ok() {
            envs.push(env.to_owned());
        } else {
            tracing::warn!(
                path,
                "skipping a values file whose folder name is not a valid environment name"
            );
        }
    }
    envs.sort();
    Ok(envs)
}

/// Resolves the environments a command should act on: the names given (checked to exist),
/// or every environment when `all` is set or no name is given and `default_all` holds.
pub fn select(snapshot: &dyn Snapshot, names: &[String], all: bool) -> anyhow::Result<Vec<String>> {
    if !all && !names.is_empty() {
        // What commands on named environments read: their folders and the templates.
        let dirs: Vec<String> = names
            .iter()
            .filter(|n| check_env_name(n).is_ok())
            .flat_map(|n| [format!("{ENVIRONMENTS_DIR}/{n}"), rendered_dir(n)])
            .chain([TEMPLATES_DIR.to_owned()])
            .collect();
        let dirs: Vec<&str> = dirs.iter().map(String::as_str).collect();
        snapshot.prefetch(&[], &dirs, &[])?;
        // A named environment is usually there: confirm it with one lookup instead of
        // walking every environment (O(repository) per command). The walk still runs for
        // an unknown name, to suggest the closest known one.
        let mut out = BTreeSet::new();
        for name in names {
            check_env_name(name)?;
            if snapshot.lists_file(&values_path(name))? != Some(true) {
                return select_by_walk(snapshot, names, false);
            }
            out.insert(name.to_owned());
        }
        return Ok(out.into_iter().collect());
    }
    select_by_walk(snapshot, names, all)
}

fn select_by_walk(
    snapshot: &dyn Snapshot,
    names: &[String],
    all: bool,
) -> anyhow::Result<Vec<String>> {
    if all || names.is_empty() {
        // Every environment will be read.
        snapshot.prefetch(&[], &[], &[ENVIRONMENTS_DIR, RENDERED_DIR, TEMPLATES_DIR])?;
    }
    let known = discover(snapshot)?;
    if all || names.is_empty() {
        if known.is_empty() {
            return Err(WorkspaceError::NoEnvironments {
                root: snapshot.describe(),
            }
            .into());
        }
        return Ok(known);
    }
    let mut out = BTreeSet::new();
    for name in names {
        check_env_name(name)?;
        if !known.iter().any(|k| k == name) {
            return Err(unknown_env(name, &known).into());
        }
        out.insert(name.to_owned());
    }
    Ok(out.into_iter().collect())
}

fn unknown_env(name: &str, known: &[String]) -> WorkspaceError {
    let suggestion = crate::suggest::closest(name, known).map(str::to_owned);
    WorkspaceError::UnknownEnvironment {
        name: name.to_owned(),
        expected: values_path(name),
        suggestion,
        known: known.to_vec(),
    }
}

/// Template overrides of the repository: file name → text, from `templates/*.yaml.tera`.
pub fn template_overrides(snapshot: &dyn Snapshot) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (path, bytes) in snapshot.dir_files(TEMPLATES_DIR)? {
        let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
        if !name.ends_with(TEMPLATE_SUFFIX) {
            continue;
        }
        if bytes.len() as u64 > MAX_INPUT_BYTES {
            return Err(WorkspaceError::TooLarge {
                path,
                size: bytes.len() as u64,
                limit: MAX_INPUT_BYTES,
            }
            .into());
        }
        out.insert(name, utf8_text(&path, bytes)?);
    }
    Ok(out)
}

/// Checks that the folders of `env` under the repository root do not lead outside it through
/// symlinks. Folders that do not exist yet are fine.
pub fn check_inside(root: &Path, env: &str) -> Result<()> {
    check_env_name(env)?;
    let canonical_root = root.canonicalize().map_err(DiskTree::io(root))?;
    for top in [ENVIRONMENTS_DIR, RENDERED_DIR] {
        let mut path = root.to_path_buf();
        for segment in std::iter::once(top).chain(env.split('/')) {
            path.push(segment);
            // A folder that does not exist yet leads nowhere.
            if !fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                continue;
            }
            if let Some(resolved) = leads_outside(&canonical_root, &path) {
                return Err(WorkspaceError::EscapesRepository {
                    name: env.to_owned(),
                    resolved,
                    root: canonical_root,
                });
            }
        }
    }
    Ok(())
}

/// Where `path`, a symbolic link, leads when that is outside `root` (canonical) or nowhere:
/// the one rule for links in a repository's folders and files.
fn leads_outside(root: &Path, path: &Path) -> Option<PathBuf> {
    match path.canonicalize() {
        Ok(target) if target.starts_with(root) => None,
        Ok(target) => Some(target),
        Err(_) => Some(fs::read_link(path).unwrap_or_default()),
    }
}

/// How every file greenlight renders begins: the mark that tells its own files under
/// `rendered/` from files somebody else put there (which it never deletes).
pub const GENERATED_MARK: &str = "# Generated by greenlight";

/// Whether `bytes` are a file greenlight rendered (see [`GENERATED_MARK`]).
pub fn is_generated(bytes: &[u8]) -> bool {
    bytes.starts_with(GENERATED_MARK.as_bytes())
}

/// What [`write_rendered`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files whose content changed or that were created.
    pub written: Vec<String>,
    /// Files left as they were because their content was already right.
    pub unchanged: Vec<String>,
    /// Stale manifests greenlight had written, removed from the folder.
    pub removed: Vec<String>,
    /// Manifests in the folder that greenlight did not write, left in place.
    pub foreign: Vec<String>,
}

/// Writes the rendered files of `env` into `<root>/rendered/<env>/` atomically: every new
/// file is first written to a temporary file, and only when all of them are written are they
/// renamed into place, so a reader (or a kill) sees each file old or new, never half-written.
/// Temporary files go to `scratch` when given and on the same file system (a folder git does
/// not show, such as one inside `.git`, so a killed run leaves nothing in the checkout), else
/// beside the files. A failure leaves the old files intact. Stale manifests greenlight wrote
/// in that folder (not in sub-folders) are removed afterwards; a manifest it did not write is
/// never deleted, only reported.
pub fn write_rendered(
    root: &Path,
    env: &str,
    files: &BTreeMap<String, Vec<u8>>,
    scratch: Option<&Path>,
) -> Result<WriteReport> {
    check_inside(root, env)?;
    let dir = root.join(RENDERED_DIR).join(env);
    fs::create_dir_all(&dir).map_err(DiskTree::io(&dir))?;
    let scratch = scratch.filter(|s| same_file_system(s, &dir));
    let mut report = WriteReport::default();
    let mut temps: Vec<(PathBuf, PathBuf, String)> = Vec::new();
    let result = (|| {
        for (name, bytes) in files {
            debug_assert!(!name.contains('/'), "rendered file names are flat");
            let target = dir.join(name);
            let rel = format!("{}/{name}", rendered_dir(env));
            if fs::read(&target).ok().as_deref() == Some(bytes.as_slice()) {
                report.unchanged.push(rel);
                continue;
            }
            let temp = temporary_file(&dir, name, scratch);
            let mut f = fs::File::create(&temp).map_err(DiskTree::io(&temp))?;
            temps.push((temp.clone(), target, rel));
            // Not fsync'ed (an fsync per file was most of a render that writes): the rename
            // keeps a half-written file from ever being visible, and a file lost to a crash is
            // re-rendered from the values, as git leaves work-tree files unsynced on checkout.
            f.write_all(bytes).map_err(DiskTree::io(&temp))?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (temp, _, _) in &temps {
            let _ = fs::remove_file(temp);
        }
        return Err(e);
    }
    for (temp, target, rel) in temps {
        fs::rename(&temp, &target).map_err(DiskTree::io(&target))?;
        report.written.push(rel);
    }
    for entry in fs::read_dir(&dir).map_err(DiskTree::io(&dir))? {
        let entry = entry.map_err(DiskTree::io(&dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if is_file && is_manifest(&name) && !files.contains_key(&name) {
            let rel = format!("{}/{name}", rendered_dir(env));
            if remove_if_generated(&entry.path())? {
                report.removed.push(rel);
            } else {
                report.foreign.push(rel);
            }
        }
    }
    report.written.sort();
    report.removed.sort();
    report.foreign.sort();
    Ok(report)
}

/// A new temporary file's path for `name` of `dir`: in `scratch` (known to be on the same
/// file system) with a name unique in this process, else beside the file.
fn temporary_file(dir: &Path, name: &str, scratch: Option<&Path>) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    match scratch {
        Some(scratch) => {
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            scratch.join(format!("render-{}-{n}.tmp", std::process::id()))
        }
        None => dir.join(format!(".{name}.greenlight-{}.tmp", std::process::id())),
    }
}

/// Whether `scratch` exists (or can be created) on the file system of `dir`, so a rename from
/// one to the other works (for rendered files here, and checkout files in `repo`).
pub(crate) fn same_file_system(scratch: &Path, dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        fs::create_dir_all(scratch).is_ok()
            && matches!(
                (fs::metadata(scratch), fs::metadata(dir)),
                (Ok(a), Ok(b)) if a.dev() == b.dev()
            )
    }
    #[cfg(not(unix))]
    {
        let _ = (scratch, dir);
        false
    }
}

/// Writes `bytes` to `rel` (repository-relative) under `root` through a temporary file (in
/// `scratch`, as for [`write_rendered`], or beside it) and a rename, so the file is always
/// its old or its new content.
pub fn write_file(root: &Path, rel: &str, bytes: &[u8], scratch: Option<&Path>) -> Result<()> {
    let target = root.join(rel);
    let dir = target.parent().expect("a repository path has a folder");
    fs::create_dir_all(dir).map_err(DiskTree::io(dir))?;
    let name = target
        .file_name()
        .expect("a repository path names a file")
        .to_string_lossy();
    let temp = temporary_file(dir, &name, scratch.filter(|s| same_file_system(s, dir)));
    let written = fs::write(&temp, bytes)
        .map_err(DiskTree::io(&temp))
        .and_then(|()| fs::rename(&temp, &target).map_err(DiskTree::io(&target)));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Removes the file at `path` when greenlight wrote it; true when it did.
fn remove_if_generated(path: &Path) -> Result<bool> {
    let bytes = fs::read(path).map_err(DiskTree::io(path))?;
    if !is_generated(&bytes) {
        return Ok(false);
    }
    fs::remove_file(path).map_err(DiskTree::io(path))?;
    Ok(true)
}

/// What [`remove_orphans`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrphanReport {
    /// Manifests greenlight wrote for environments that no longer exist, removed.
    pub removed: Vec<String>,
    /// Manifests outside every environment's folder that greenlight did not write, left.
    pub foreign: Vec<String>,
}

/// Removes what greenlight rendered for environments that no longer exist: every manifest
/// under `rendered/` outside the folders of `envs` that greenlight wrote (folders emptied by
/// that are removed too). Manifests it did not write are reported, never deleted.
pub fn remove_orphans(root: &Path, envs: &[String]) -> Result<OrphanReport> {
    let base = root.join(RENDERED_DIR);
    let mut report = OrphanReport::default();
    if !base.is_dir() {
        return Ok(report);
    }
    let known: BTreeSet<&str> = envs.iter().map(String::as_str).collect();
    let mut orphans = Vec::new();
    for entry in walkdir::WalkDir::new(&base).follow_links(false) {
        let entry = entry.map_err(|e| WorkspaceError::Io {
            path: e.path().unwrap_or(&base).to_owned(),
            source: e.into(),
        })?;
        if !entry.file_type().is_file() || !is_manifest(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(root)
            .expect("walkdir stays under its root");
        let rel = to_slash(rel);
        let folder = rel
            .strip_prefix(&format!("{RENDERED_DIR}/"))
            .and_then(|r| r.rsplit_once('/'))
            .map_or("", |(folder, _)| folder);
        if !known.contains(folder) {
            orphans.push((entry.into_path(), rel));
        }
    }
    for (path, rel) in orphans {
        if remove_if_generated(&path)? {
            remove_empty_folders(&base, &path);
            report.removed.push(rel);
        } else {
            report.foreign.push(rel);
        }
    }
    report.removed.sort();
    report.foreign.sort();
    Ok(report)
}

/// Removes the folders between `file`'s and `base` that are empty now.
fn remove_empty_folders(base: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir.filter(|d| d.starts_with(base) && *d != base) {
        // Stops at the first folder that still has entries.
        if fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Classified as _;

    #[test]
    fn env_names() {
        for ok in ["staging", "production/eu-west/api", "a_b.c-1"] {
            check_env_name(ok).unwrap();
        }
        for bad in [
            "",
            "/etc",
            "../x",
            "a/../b",
            "a//b",
            "a/",
            ".",
            "a/.hidden",
            "a b",
            "a\\b",
            "ä",
        ] {
            assert!(check_env_name(bad).is_err(), "{bad:?} should be refused");
        }
    }

    fn tree() -> (tempfile::TempDir, DiskTree) {
        let dir = tempfile::tempdir().unwrap();
        for env in ["staging", "production/eu-west/api"] {
            let p = dir.path().join(ENVIRONMENTS_DIR).join(env);
            fs::create_dir_all(&p).unwrap();
            fs::write(p.join(VALUES_FILE), "app: x\n").unwrap();
        }
        let t = DiskTree::new(dir.path());
        (dir, t)
    }

    #[test]
    fn discovers_nested_environments() {
        let (_d, t) = tree();
        assert_eq!(discover(&t).unwrap(), ["production/eu-west/api", "staging"]);
        assert_eq!(select(&t, &[], false).unwrap().len(), 2);
        assert!(select(&t, &["staging/".into()], false).is_err());
        let err = select(&t, &["stagin".into()], false).unwrap_err();
        let err = err.downcast::<WorkspaceError>().unwrap();
        assert_eq!(err.hint().unwrap(), "did you mean `staging`?");
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_environment_outside_is_refused() {
        let (d, _t) = tree();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("environments/evil")).unwrap();
        let err = check_inside(d.path(), "evil").unwrap_err();
        assert!(
            matches!(err, WorkspaceError::EscapesRepository { .. }),
            "{err}"
        );
        // A walk does not follow the symlink either.
        fs::write(outside.path().join(VALUES_FILE), "x").unwrap();
        assert!(!discover(&DiskTree::new(d.path()))
            .unwrap()
            .contains(&"evil".to_owned()));
        // A link of the top folder is caught too, and a link that stays inside is fine.
        std::os::unix::fs::symlink(outside.path(), d.path().join("rendered")).unwrap();
        let err = check_inside(d.path(), "staging").unwrap_err();
        assert!(
            matches!(err, WorkspaceError::EscapesRepository { .. }),
            "{err}"
        );
        fs::remove_file(d.path().join("rendered")).unwrap();
        fs::create_dir_all(d.path().join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(d.path().join("elsewhere"), d.path().join("rendered")).unwrap();
        check_inside(d.path(), "staging").unwrap();
    }

    #[test]
    fn writes_atomically_and_removes_only_stale_yaml_it_wrote() {
        let (d, _t) = tree();
        let dir = d.path().join("rendered/staging");
        fs::create_dir_all(dir.join("nested")).unwrap();
        fs::write(
            dir.join("old.yaml"),
            format!("{GENERATED_MARK} from values.yaml\n"),
        )
        .unwrap();
        fs::write(dir.join("mine.yaml"), "# a file somebody put here\n").unwrap();
        fs::write(dir.join("keep.txt"), "notes").unwrap();
        fs::write(dir.join("same.yaml"), "same").unwrap();
        let mut files = BTreeMap::new();
        files.insert("a.yaml".to_owned(), b"a: 1\n".to_vec());
        files.insert("same.yaml".to_owned(), b"same".to_vec());
        let r = write_rendered(d.path(), "staging", &files, None).unwrap();
        assert_eq!(r.written, ["rendered/staging/a.yaml"]);
        assert_eq!(r.unchanged, ["rendered/staging/same.yaml"]);
        assert_eq!(r.removed, ["rendered/staging/old.yaml"]);
        assert_eq!(r.foreign, ["rendered/staging/mine.yaml"]);
        assert!(dir.join("mine.yaml").exists());
        assert!(dir.join("keep.txt").exists() && dir.join("nested").is_dir());
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("greenlight-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn orphans_greenlight_wrote_are_removed_and_others_kept() {
        let (d, _t) = tree();
        let generated = format!("{GENERATED_MARK} from values.yaml\nkind: x\n");
        let put = |rel: &str, text: &str| {
            let p = d.path().join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        };
        put("rendered/staging/a.yaml", &generated);
        put("rendered/production/eu-west/api/a.yaml", &generated);
        put("rendered/dev/a.yaml", &generated);
        put("rendered/dev/deep/b.yml", &generated);
        put("rendered/production/c.yaml", &generated);
        put("rendered/old/notes.yaml", "mine: true\n");
        put("rendered/old/README.md", &generated);
        let envs = ["production/eu-west/api".to_owned(), "staging".to_owned()];
        let r = remove_orphans(d.path(), &envs).unwrap();
        assert_eq!(
            r.removed,
            [
                "rendered/dev/a.yaml",
                "rendered/dev/deep/b.yml",
                "rendered/production/c.yaml"
            ]
        );
        assert_eq!(r.foreign, ["rendered/old/notes.yaml"]);
        assert!(!d.path().join("rendered/dev").exists());
        assert!(d.path().join("rendered/staging/a.yaml").exists());
        assert!(d
            .path()
            .join("rendered/production/eu-west/api/a.yaml")
            .exists());
        assert!(d.path().join("rendered/old/notes.yaml").exists());
        assert!(d.path().join("rendered/old/README.md").exists());
    }

    #[test]
    fn failed_write_leaves_old_files_intact() {
        let (d, _t) = tree();
        let dir = d.path().join("rendered/staging");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("a.yaml"), "old a").unwrap();
        // A directory where b.yaml's temporary file must go makes its creation fail, even for
        // root, after a.yaml's temporary file was already written.
        let blocker = dir.join(format!(".b.yaml.greenlight-{}.tmp", std::process::id()));
        fs::create_dir(&blocker).unwrap();
        let mut files = BTreeMap::new();
        files.insert("a.yaml".to_owned(), b"new a".to_vec());
        files.insert("b.yaml".to_owned(), b"new b".to_vec());
        let err = write_rendered(d.path(), "staging", &files, None).unwrap_err();
        assert!(matches!(err, WorkspaceError::Io { .. }), "{err}");
        assert_eq!(fs::read_to_string(dir.join("a.yaml")).unwrap(), "old a");
        assert!(!dir.join("b.yaml").exists());
        fs::remove_dir(&blocker).unwrap();
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.yaml"], "temporary files were left behind");
    }

    /// A snapshot that knows its files by lookup and counts folder walks.
    struct Lookup {
        files: Vec<String>,
        walks: std::cell::Cell<usize>,
    }

    impl Snapshot for Lookup {
        fn describe(&self) -> String {
            "lookup".to_owned()
        }
        fn read(&self, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
            Ok(self.files.iter().any(|f| f == path).then(Vec::new))
        }
        fn size(&self, path: &str) -> anyhow::Result<Option<u64>> {
            Ok(self.files.iter().any(|f| f == path).then_some(0))
        }
        fn files_where(
            &self,
            _dir: &str,
            _keep: &dyn Fn(&str) -> bool,
        ) -> anyhow::Result<Vec<String>> {
            self.walks.set(self.walks.get() + 1);
            Ok(self.files.clone())
        }
        fn dir_files(&self, _dir: &str) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
            Ok(BTreeMap::new())
        }
        fn lists_file(&self, path: &str) -> anyhow::Result<Option<bool>> {
            Ok(Some(self.files.iter().any(|f| f == path)))
        }
    }

    #[test]
    fn named_envs_are_confirmed_by_lookup_and_unknown_ones_still_get_a_suggestion() {
        let snap = Lookup {
            files: vec![values_path("production"), values_path("staging")],
            walks: std::cell::Cell::new(0),
        };
        let names = ["staging".to_owned(), "production".to_owned()];
        assert_eq!(
            select(&snap, &names, false).unwrap(),
            ["production", "staging"]
        );
        assert_eq!(snap.walks.get(), 0, "known names need no walk");

        let err = select(&snap, &["prodution".to_owned()], false).unwrap_err();
        let err = err.downcast::<WorkspaceError>().unwrap();
        assert!(
            matches!(&err, WorkspaceError::UnknownEnvironment { suggestion: Some(s), .. } if s == "production"),
            "{err}"
        );
        assert_eq!(snap.walks.get(), 1);

        assert_eq!(
            select(&snap, &names, true).unwrap(),
            ["production", "staging"]
        );
        assert_eq!(snap.walks.get(), 2, "--all lists every environment");
    }
}
