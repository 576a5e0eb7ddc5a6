//! Operations: each public function runs one greenlight command end to end — find the
//! repository, read the snapshot it needs, call the pure `release` / `render` / `diff`
//! functions, and hand the result to `repo` to commit — and returns a report as data.
//!
//! This is the glue between the pure modules and git; it prints nothing (the `cli` does) and
//! holds no release rules (the `release` module does).

mod inspect;
mod mutate;
mod progress;
mod publish;
mod report;
mod scaffold;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rayon::prelude::*;

pub use inspect::{diff, history, status, verify, StatusClock};
pub use mutate::{scan_histories, scan_history, HistoryScan, ReleaseCommand};
pub use progress::{NoProgress, Progress};
pub use publish::{
    default_branch, release, BranchChoice, Publish, PublishError, PullRequestOptions,
    DEFAULT_RETRIES,
};
pub use report::*;
pub use scaffold::{demo, init, InitOptions, EXAMPLE_ENVIRONMENTS};

use crate::render::{self, Templates};
use crate::repo::transport::Transport;
use crate::repo::{Oid, Repo};
use crate::values::{self, Values};
use crate::workspace::{self, DiskTree, Snapshot};

/// Version of every JSON report's schema; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Errors of the operations layer that callers tell apart.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// A command that commits was pointed at a directory that is not a git repository.
    #[error("{path} is not a git repository")]
    NotARepository {
        /// The directory.
        path: PathBuf,
        /// The command that needs git.
        command: &'static str,
    },
    /// The branch has no commit to start from.
    #[error("branch {refname} has no commits yet")]
    UnbornBranch {
        /// The branch.
        refname: String,
    },
    /// `render` writes files, which a bare repository has none of.
    #[error("{path} is a bare repository: render writes files into a working tree")]
    BareRender {
        /// The repository.
        path: PathBuf,
    },
    /// A release command found `rendered/<env>/` different from what the environment's
    /// values render (a hand edit committed, or a render not committed): its commit would
    /// silently undo that, so it refuses.
    #[error(
        "rendered/{environment}/ is not what its values render: {}",
        drift.iter().map(|d| format!("{} ({})", d.path, d.problem.as_str())).collect::<Vec<_>>().join(", ")
    )]
    RenderedDrift {
        /// The environment.
        environment: String,
        /// The files that differ.
        drift: Vec<Drift>,
    },
    /// The target of `init` already has that environment.
    #[error("{path} already exists")]
    AlreadyExists {
        /// The values file.
        path: String,
    },
}

impl OpsError {
    /// The exit code of this error: 3 for a refusal to commit over drift, else 2.
    pub fn exit_code(&self) -> u8 {
        match self {
            OpsError::RenderedDrift { .. } => 3,
            _ => 2,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            OpsError::NotARepository { command, .. } => format!(
                "`{command}` commits its change; run it in a git repository (or pass --repo DIR), \
                 or create one with `greenlight init DIR --app NAME --env NAME`"
            ),
            OpsError::UnbornBranch { .. } => {
                "commit the environments first (greenlight init does that for you)".to_owned()
            }
            OpsError::BareRender { .. } => "use `greenlight verify` to check a bare repository, \
                 or a release command to change it"
                .to_owned(),
            OpsError::RenderedDrift { environment, .. } => format!(
                "a release commit would silently undo that, live colour included; see it with \
                 `greenlight verify`, then either keep values as the truth (`greenlight render \
                 {environment} && git add -A rendered/{environment} && git commit`) or move \
                 the hand edit into environments/{environment}/values.yaml, and run the \
                 command again"
            ),
            OpsError::AlreadyExists { .. } => {
                "choose another --env name, or edit the existing values file".to_owned()
            }
        })
    }
}

/// A release guard refused the command in one environment (exit 3). It reads as the
/// refusal; its hint names the environment.
#[derive(Debug, thiserror::Error)]
#[error("{refusal}")]
pub struct Refused {
    /// The environment.
    pub environment: String,
    /// Which guard refused, and why.
    pub refusal: crate::release::Refusal,
}

impl Refused {
    /// What the user can do about it, with the environment filled in.
    pub fn hint(&self) -> Option<String> {
        self.refusal.hint(&self.environment)
    }
}

/// The repository a command works on.
pub enum Location {
    /// A git repository (bare or with a working tree).
    Git(GitLocation),
    /// A plain directory (render, diff and verify work without git).
    Plain(PathBuf),
}

/// A git repository and the branch greenlight works on.
pub struct GitLocation {
    /// The repository.
    pub repo: Repo,
    /// The checked-out (or default) branch, e.g. `refs/heads/main`.
    pub refname: String,
    /// Its tip; `None` on an unborn branch.
    pub tip: Option<Oid>,
    /// For a temporary clone (`--clone URL`): the URL, and the directory, removed on drop.
    pub scratch: Option<Scratch>,
}

/// A temporary bare clone greenlight made for this run.
pub struct Scratch {
    /// The URL it was cloned from (its `origin`).
    pub url: String,
    /// The clone's directory; deleted when dropped.
    pub dir: tempfile::TempDir,
}

impl Location {
    /// Finds the repository: `dir` exactly when given (a git repository, or else a plain
    /// directory), otherwise the git repository enclosing the current directory, or the
    /// current directory itself.
    pub fn find(dir: Option<&Path>) -> anyhow::Result<Location> {
        let git = match dir {
            Some(d) => {
                if !d.is_dir() {
                    anyhow::bail!("--repo {}: no such directory", d.display());
                }
                Repo::open(d).ok()
            }
            None => Repo::discover(&std::env::current_dir()?).ok(),
        };
        match git {
            Some(repo) => {
                let refname = repo.head_branch()?;
                let tip = repo.branch_tip(&refname)?;
                Ok(Location::Git(GitLocation {
                    repo,
                    refname,
                    tip,
                    scratch: None,
                }))
            }
            None => Ok(Location::Plain(match dir {
                Some(d) => d.to_owned(),
                None => std::env::current_dir()?,
            })),
        }
    }

    /// Clones `url` (its default branch, or `branch`) into a temporary bare repository and
    /// works there: for CI bots that push their change and need no checkout.
    pub fn clone_from(url: &str, branch: Option<&str>) -> anyhow::Result<Location> {
        let transport = Transport::from_env();
        let dir = tempfile::Builder::new()
            .prefix("greenlight-clone-")
            .tempdir()
            .context("could not create a temporary directory for the clone")?;
        let target = dir.path().join("repo.git");
        tracing::info!(
            "cloning {} into {}",
            transport.redactor().redact(url),
            target.display()
        );
        transport.clone_bare(url, &target, branch)?;
        let repo = Repo::open(&target)?;
        let refname = repo.head_branch()?;
        let tip = repo.branch_tip(&refname)?;
        Ok(Location::Git(GitLocation {
            repo,
            refname,
            tip,
            scratch: Some(Scratch {
                url: url.to_owned(),
                dir,
            }),
        }))
    }

    /// The git repository, or an error naming the command that needs one.
    pub fn git(self, command: &'static str) -> anyhow::Result<GitLocation> {
        match self {
            Location::Git(g) => Ok(g),
            Location::Plain(path) => Err(OpsError::NotARepository { path, command }.into()),
        }
    }

    /// What is committed: the branch tip's tree, or the directory when there is no git.
    pub fn committed(&self) -> anyhow::Result<Box<dyn Snapshot + '_>> {
        match self {
            Location::Plain(p) => Ok(Box::new(DiskTree::new(p))),
            Location::Git(g) => Ok(Box::new(g.tip_tree()?)),
        }
    }

    /// What is being edited: the working tree when there is one, else what is committed.
    pub fn working(&self) -> anyhow::Result<Box<dyn Snapshot + '_>> {
        match self {
            Location::Plain(p) => Ok(Box::new(DiskTree::new(p))),
            Location::Git(g) => match g.repo.workdir() {
                Some(w) => Ok(Box::new(DiskTree::new(w))),
                None => Ok(Box::new(g.tip_tree()?)),
            },
        }
    }
}

impl GitLocation {
    /// The tree of the branch tip.
    pub fn tip_tree(&self) -> anyhow::Result<CommitTree<'_>> {
        let commit = self.tip.ok_or_else(|| OpsError::UnbornBranch {
            refname: self.refname.clone(),
        })?;
        Ok(CommitTree {
            repo: &self.repo,
            commit,
        })
    }
}

/// One commit of a repository, read through [`Snapshot`].
pub struct CommitTree<'r> {
    repo: &'r Repo,
    commit: Oid,
}

impl<'r> CommitTree<'r> {
    /// The tree of `commit` in `repo`.
    pub fn new(repo: &'r Repo, commit: Oid) -> CommitTree<'r> {
        CommitTree { repo, commit }
    }

    /// The commit this tree belongs to.
    pub fn commit_id(&self) -> Oid {
        self.commit
    }
}

impl Snapshot for CommitTree<'_> {
    fn describe(&self) -> String {
        format!("commit {}", short(&self.commit.to_string()))
    }
    fn read(&self, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.repo.read_file(self.commit, path)?)
    }
    fn files_where(&self, dir: &str, keep: &dyn Fn(&str) -> bool) -> anyhow::Result<Vec<String>> {
        Ok(self.repo.find_files_where(self.commit, dir, keep)?)
    }
    fn dir_files(&self, dir: &str) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
        Ok(self.repo.read_dir_files(self.commit, dir)?)
    }
    fn size(&self, path: &str) -> anyhow::Result<Option<u64>> {
        Ok(self.repo.file_size(self.commit, path)?)
    }
    fn lists_file(&self, path: &str) -> anyhow::Result<Option<bool>> {
        // `read_file` finds exactly the blobs that `find_files` walks to.
        Ok(Some(self.repo.read_file(self.commit, path)?.is_some()))
    }
}

/// What an interrupted greenlight left undone in the checkout of `repo`: the branch is at a
/// commit whose files (or index entries) the checkout does not show yet, so what a command
/// reads from the checkout is the commit before, and `git commit -a` would revert it.
pub(crate) fn checkout_behind(repo: &Repo) -> Option<CheckoutBehind> {
    match repo.interrupted_checkout() {
        Ok(Some(behind)) => Some(CheckoutBehind {
            commit: behind.commit.to_string(),
            paths: behind.paths,
        }),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!("{e}");
            None
        }
    }
}

/// Warns (on stderr) when the checkout of `repo` is behind its branch (see
/// [`checkout_behind`]), and returns what is behind. Called by the commands that show the
/// user the checkout (`diff`, `verify`, `status`, dry runs), not by every reader of it.
pub(crate) fn warn_if_checkout_behind(repo: &Repo) -> Option<CheckoutBehind> {
    let behind = checkout_behind(repo)?;
    tracing::warn!("{}", behind.explain());
    Some(behind)
}

/// The first 12 characters of a commit id.
pub fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

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

/// `render`: renders the selected environments (all when none are named) from the working
/// directory into `rendered/<env>/`. Every environment is rendered before any file is
/// written, so one bad values file leaves every folder as it was.
pub fn render_envs(
    location: &Location,
    envs: &[String],
    all: bool,
    progress: &dyn Progress,
) -> anyhow::Result<RenderReport> {
    let root = match location {
        Location::Plain(p) => p.clone(),
        Location::Git(g) => match g.repo.workdir() {
            Some(w) => w.to_owned(),
            None => {
                return Err(OpsError::BareRender {
                    path: g.repo.git_dir().to_owned(),
                }
                .into())
            }
        },
    };
    let disk = DiskTree::new(&root);
    // A named environment whose folder is a link out of the repository is reported as such,
    // not as missing.
    for env in envs {
        workspace::check_inside(&root, env)?;
    }
    let selected = workspace::select(&disk, envs, all)?;
    let templates = templates(&disk)?;
    // Environments are independent, so they load and render in parallel; the results keep
    // the selection's order and the first failing environment (in that order) is reported,
    // so output and errors are the same as a sequential run.
    let rendering = progress::stage(progress, "rendering", selected.len() as u64);
    let render_one = |env: &String| {
        // Named environments were checked above.
        if !envs.contains(env) {
            workspace::check_inside(&root, env)?;
        }
        let loaded = load_values(&disk, env)?;
        let files = render::render(&loaded.values, env, &templates)
            .with_context(|| format!("rendering environment {env}"));
        rendering.advance(1);
        files
    };
    // One environment is rendered on this thread: starting the thread pool costs more than
    // the render.
    let results: Vec<anyhow::Result<render::FileMap>> = if selected.len() > 1 {
        selected.par_iter().map(render_one).collect()
    } else {
        selected.iter().map(render_one).collect()
    };
    drop(rendering);
    let mut rendered = Vec::with_capacity(results.len());
    for (env, files) in selected.iter().zip(results) {
        rendered.push((env, files?));
    }
    let writing = progress::stage(progress, "writing", rendered.len() as u64);
    let mut out = Vec::new();
    let mut foreign = Vec::new();
    for (env, files) in rendered {
        let r = workspace::write_rendered(&root, env, &files)?;
        writing.advance(1);
        foreign.extend(r.foreign);
        out.push(RenderedEnv {
            environment: env.clone(),
            written: r.written,
            unchanged: r.unchanged,
            removed: r.removed,
        });
    }
    drop(writing);
    // Rendering everything also clears what environments that no longer exist left behind,
    // so `verify`'s advice (render --all) fixes a removed environment.
    let mut orphans_removed = Vec::new();
    if all || envs.is_empty() {
        let orphans = workspace::remove_orphans(&root, &selected)?;
        orphans_removed = orphans.removed;
        foreign.extend(orphans.foreign);
    }
    foreign.sort();
    for path in &foreign {
        tracing::warn!(
            "left {path} in place: greenlight did not write it (it does not start with \
             `{}`); `git rm {path}` if it does not belong under rendered/",
            workspace::GENERATED_MARK
        );
    }
    Ok(RenderReport {
        schema_version: SCHEMA_VERSION,
        command: "render".to_owned(),
        environments: out,
        orphans_removed,
        foreign,
    })
}
