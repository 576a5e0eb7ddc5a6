//! The git side of greenlight: open the GitOps repository, read files from a commit's tree,
//! and write one commit of changed files by compare-and-swap on the branch, updating the
//! developer's checkout and index when that branch is checked out. Commits are built from the
//! base tree plus the changed blobs only, so their cost does not grow with the repository.
//! Together with `history` this is the only user of git2; it renders nothing, decides nothing
//! about releases and prints nothing.
//!
//! One job per file: this one opens repositories and declares what the others exchange;
//! `read` reads commits and trees, `commit` builds and writes commits, `land` moves branches
//! (compare-and-swap, fast-forward) and brings the checkout along, `worktree` writes checkout
//! files and the index, `pending` records an interrupted checkout update, `transport` talks
//! to remotes through the git program, `objects` fetches what a partial or shallow clone
//! lacks when it is read, `sign` signs commits, `identity` reads who commits, and `path`
//! holds repository paths to the one path rule.
//!
//! Repositories are opened the way git opens them, honouring git's environment
//! (`GIT_CONFIG_GLOBAL`, `GIT_CONFIG_NOSYSTEM`, `GIT_CEILING_DIRECTORIES`, `GIT_INDEX_FILE`,
//! `GIT_WORK_TREE`, ...), except `GIT_DIR`: the path given always wins.

mod commit;
mod error;
mod identity;
mod index_file;
mod land;
mod objects;
mod path;
mod pending;
mod read;
mod remote_url;
mod sign;
pub mod transport;
mod worktree;

use std::collections::BTreeMap;
use std::path::Path;

use git2::{FileMode, ObjectType, Repository, RepositoryOpenFlags};

pub use error::RepoError;
pub use git2::Oid;
pub use identity::{parse_git_date, GitTime, Identity, Person};
pub use objects::Want;
pub use remote_url::RemoteUrl;

use pending::PendingCheckout;
use worktree::PathChange;

/// The first 12 characters of a commit id, as greenlight shows commits.
pub fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

/// An open git repository (bare or with a checkout).
pub struct Repo {
    inner: Repository,
    /// The remote a partial clone fetches the objects it lacks from (see `objects`).
    promisor: Option<String>,
    /// The checkout's index as the last dirty check read it, for the next reader of the
    /// same command to take when the file has not changed since (see `land`).
    index_file: std::cell::RefCell<Option<Box<index_file::IndexFile>>>,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("git_dir", &self.git_dir())
            .field("workdir", &self.workdir())
            .finish()
    }
}

/// One commit to write: the branch, the tip it was computed from, and the files that change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRequest {
    /// The full branch name, e.g. `refs/heads/main`.
    pub refname: String,
    /// The tip the change was computed from (`None`: the branch does not exist yet).
    pub expected_old: Option<Oid>,
    /// Repository-relative path → new content; `None` deletes the path.
    pub changes: BTreeMap<String, Option<Vec<u8>>>,
    /// The full commit message, trailers included.
    pub message: String,
    /// Update the checkout and index too, when the repository has one and `refname` is the
    /// checked-out branch.
    pub update_worktree: bool,
    /// Commit even when the tree does not change (a record-only commit whose message is the
    /// point, e.g. re-staging an image that values already hold).
    pub allow_empty: bool,
}

/// What [`Repo::commit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// A commit was written and the branch moved to it.
    Committed {
        /// The new commit.
        id: Oid,
        /// Its parent, the old tip (`None` on a new branch).
        parent: Option<Oid>,
    },
    /// The changes would not alter the tree: nothing was written.
    NoChange,
}

/// A commit written by [`Repo::prepare_commit`] but not yet on its branch.
#[derive(Clone)]
pub struct PreparedCommit {
    /// The new commit.
    pub id: Oid,
    /// Its parent, the tip it was computed from (`None` on a new branch).
    pub parent: Option<Oid>,
    subject: String,
    committer: git2::Signature<'static>,
    changes: PreparedChanges,
}

impl std::fmt::Debug for PreparedCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedCommit")
            .field("id", &self.id)
            .field("parent", &self.parent)
            .field("subject", &self.subject)
            .field("changes", &self.changes)
            .finish_non_exhaustive()
    }
}

/// A planned forward move of a branch (see [`Repo::plan_fast_forward`]).
#[derive(Debug, Clone)]
pub struct FastForward {
    from: Option<Oid>,
    to: Oid,
    changes: PreparedChanges,
}

/// A checkout that an interrupted greenlight left behind its branch (see
/// [`Repo::interrupted_checkout`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterruptedCheckout {
    /// The commit the branch is at, which the checkout does not show yet.
    pub commit: Oid,
    /// The paths whose file or index entry is not at that commit's content, sorted.
    pub paths: Vec<String>,
}

/// A checkout update that an interrupted greenlight left unfinished, finished by
/// [`Repo::resume_checkout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumedCheckout {
    /// The commit the checkout now shows.
    pub commit: Oid,
    /// The paths that commit changed, now written.
    pub paths: Vec<String>,
}

/// The paths a branch move changes, with their new contents, for the checkout.
#[derive(Debug, Clone)]
struct PreparedChanges {
    refname: String,
    update_worktree: bool,
    changes: Vec<OwnedChange>,
}

#[derive(Debug, Clone)]
struct OwnedChange {
    path: String,
    head: Option<Oid>,
    new: Option<(Vec<u8>, Oid, FileMode)>,
}

impl PreparedChanges {
    fn borrowed(&self) -> Vec<PathChange<'_>> {
        self.changes
            .iter()
            .map(|c| PathChange {
                path: &c.path,
                head: c.head,
                new: c
                    .new
                    .as_ref()
                    .map(|(b, id, mode)| (b.as_slice(), *id, *mode)),
            })
            .collect()
    }
}

impl Repo {
    /// Open the repository enclosing `start` (searching upwards like git), bare or not.
    pub fn discover(start: &Path) -> Result<Repo, RepoError> {
        Self::open_with(start, RepositoryOpenFlags::FROM_ENV)
    }

    /// Open exactly the repository at `path`: a bare repository, a `.git` directory or the
    /// root of a checkout. No search upwards.
    pub fn open(path: &Path) -> Result<Repo, RepoError> {
        Self::open_with(
            path,
            RepositoryOpenFlags::FROM_ENV | RepositoryOpenFlags::NO_SEARCH,
        )
    }

    fn open_with(path: &Path, flags: RepositoryOpenFlags) -> Result<Repo, RepoError> {
        cache_large_trees();
        // With an explicit (non-empty) ceiling list libgit2 skips GIT_CEILING_DIRECTORIES,
        // so pass git's variable through ourselves.
        let ceilings: Vec<std::path::PathBuf> = std::env::var_os("GIT_CEILING_DIRECTORIES")
            .map(|v| std::env::split_paths(&v).collect())
            .unwrap_or_default();
        match Repository::open_ext(path, flags, &ceilings) {
            Ok(inner) => Ok(Repo {
                promisor: objects::promisor_remote(&inner),
                inner,
                index_file: std::cell::RefCell::new(None),
            }),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Err(RepoError::NotARepository {
                path: path.to_path_buf(),
            }),
            // libgit2 names the repository it found (`repository path '/x' is not owned by
            // current user`), which is what safe.directory must list.
            Err(e) if e.code() == git2::ErrorCode::Owner => Err(RepoError::NotOwned {
                path: e
                    .message()
                    .split('\'')
                    .nth(1)
                    .map(std::path::PathBuf::from)
                    .unwrap_or_else(|| path.to_path_buf()),
            }),
            Err(source) => Err(RepoError::Git {
                operation: "open the repository",
                source,
            }),
        }
    }

    /// Create a repository with a checkout at `path` whose unborn `HEAD` names
    /// `initial_branch` (`main` or `refs/heads/main`), then open it.
    pub fn init(path: &Path, initial_branch: &str) -> Result<Repo, RepoError> {
        let mut options = git2::RepositoryInitOptions::new();
        options.initial_head(initial_branch).mkpath(true);
        Repository::init_opts(path, &options).map_err(RepoError::git("create the repository"))?;
        Self::open(path)
    }

    /// Whether the repository is bare (no checkout).
    pub fn is_bare(&self) -> bool {
        self.inner.is_bare()
    }

    /// The root of the checkout, when there is one.
    pub fn workdir(&self) -> Option<&Path> {
        self.inner.workdir()
    }

    /// The git directory (`.git`, the bare repository, or a linked worktree's git dir).
    pub fn git_dir(&self) -> &Path {
        self.inner.path()
    }

    /// The folder inside the git directory where greenlight keeps temporary files (git
    /// never shows them), created if needed, with what killed runs left there more than an
    /// hour ago removed.
    pub fn scratch_dir(&self) -> std::path::PathBuf {
        let dir = self.git_dir().join(worktree::SCRATCH_DIR);
        let _ = std::fs::create_dir_all(&dir);
        worktree::sweep_stale(&dir, "render-");
        dir
    }

    pub(crate) fn git(&self) -> &Repository {
        &self.inner
    }

    /// The identity commits are written with: git's environment variables over this
    /// repository's git config (see [`Identity::from_env_and_config`]).
    pub fn identity(&self) -> Result<Identity, RepoError> {
        let config = self
            .inner
            .config()
            .map_err(RepoError::git("read the git config"))?;
        Identity::from_env_and_config(&|key| std::env::var(key).ok(), &config)
    }

    /// Sets `user.name` / `user.email` in this repository's own config when no identity is
    /// found (used by `demo`, whose scratch repository must commit on a fresh machine).
    pub fn ensure_identity(&self, name: &str, email: &str) -> Result<(), RepoError> {
        match self.identity() {
            Ok(_) => Ok(()),
            Err(RepoError::NoIdentity { .. }) => {
                let mut config = self
                    .inner
                    .config()
                    .and_then(|c| c.open_level(git2::ConfigLevel::Local))
                    .map_err(RepoError::git("open the repository config"))?;
                config
                    .set_str("user.name", name)
                    .and_then(|()| config.set_str("user.email", email))
                    .map_err(RepoError::git("write the repository config"))
            }
            Err(e) => Err(e),
        }
    }
}

/// Lets libgit2 keep parsed trees of any size in its object cache. By default it caches only
/// trees under 4 KiB, so a folder with thousands of entries (`rendered/` of a large fleet) was
/// read and parsed again on every path lookup: half of a promote in a bare repository of
/// 42,000 files.
fn cache_large_trees() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: libgit2 options are process-global; this runs once, before the first
        // repository is opened, and nothing else in greenlight sets them.
        let set = unsafe { git2::opts::set_cache_object_limit(ObjectType::Tree, 16 << 20) };
        if let Err(e) = set {
            tracing::debug!("could not raise libgit2's tree cache limit: {e}");
        }
    });
}

#[cfg(test)]
mod tests;
