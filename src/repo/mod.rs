//! The git side of greenlight: open the GitOps repository, read files from a commit's tree,
//! and write one commit of changed files by compare-and-swap on the branch, updating the
//! developer's checkout and index when that branch is checked out. Commits are built from the
//! base tree plus the changed blobs only, so their cost does not grow with the repository.
//! Together with `history` this is the only user of git2; it renders nothing, decides nothing
//! about releases and prints nothing.
//!
//! Repositories are opened the way git opens them, honouring git's environment
//! (`GIT_CONFIG_GLOBAL`, `GIT_CONFIG_NOSYSTEM`, `GIT_CEILING_DIRECTORIES`, `GIT_INDEX_FILE`,
//! `GIT_WORK_TREE`, ...), except `GIT_DIR`: the path given always wins.

mod error;
mod identity;
mod path;
mod pending;
mod sign;
pub mod transport;
mod worktree;

use std::collections::BTreeMap;
use std::path::Path;

use git2::{FileMode, ObjectType, Repository, RepositoryOpenFlags, Tree, TreeWalkMode};

pub use error::RepoError;
pub use git2::Oid;
pub use identity::{parse_git_date, GitTime, Identity, Person};

use pending::PendingCheckout;
use worktree::PathChange;

/// An open git repository (bare or with a checkout).
pub struct Repo {
    inner: Repository,
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

/// One planned path of a commit, resolved against the base tree.
struct Planned<'a> {
    path: &'a str,
    base: Option<(Oid, FileMode)>,
    new: Option<(&'a [u8], Oid, FileMode)>,
}

impl Planned<'_> {
    fn changes_tree(&self) -> bool {
        match (self.base, self.new) {
            (None, None) => false,
            (Some((old_id, old_mode)), Some((_, new_id, new_mode))) => {
                old_id != new_id || old_mode != new_mode
            }
            _ => true,
        }
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
            Ok(inner) => Ok(Repo { inner }),
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

    pub(crate) fn git(&self) -> &Repository {
        &self.inner
    }

    /// The branch `HEAD` points at, e.g. `refs/heads/main`, also when it has no commit yet.
    pub fn head_branch(&self) -> Result<String, RepoError> {
        let head = self
            .inner
            .find_reference("HEAD")
            .map_err(RepoError::git("read HEAD"))?;
        match head.symbolic_target_bytes() {
            Some(target) => Ok(String::from_utf8_lossy(target).into_owned()),
            None => Err(RepoError::DetachedHead {
                git_dir: self.git_dir().to_path_buf(),
            }),
        }
    }

    /// The commit `refname` points at, or `None` when it does not exist (or is unborn).
    pub fn branch_tip(&self, refname: &str) -> Result<Option<Oid>, RepoError> {
        let reference = match self.inner.find_reference(refname) {
            Ok(r) => r,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) if e.code() == git2::ErrorCode::InvalidSpec => {
                return Err(RepoError::InvalidRefName {
                    refname: refname.to_string(),
                })
            }
            Err(source) => {
                return Err(RepoError::Git {
                    operation: "read the branch",
                    source,
                })
            }
        };
        match reference.resolve() {
            Ok(direct) => Ok(direct.target()),
            Err(e) if is_missing(&e) => Ok(None),
            Err(source) => Err(RepoError::Git {
                operation: "read the branch",
                source,
            }),
        }
    }

    fn tree_of(&self, commit: Oid) -> Result<Tree<'_>, RepoError> {
        self.inner
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(RepoError::git("read the commit's tree"))
    }

    /// The content of the file at `path` in `commit`, or `None` when there is no file there.
    pub fn read_file(&self, commit: Oid, path: &str) -> Result<Option<Vec<u8>>, RepoError> {
        path::validate(path)?;
        let tree = self.tree_of(commit)?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(entry) => entry,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(source) => {
                return Err(RepoError::Git {
                    operation: "look up a path",
                    source,
                })
            }
        };
        if entry.kind() != Some(ObjectType::Blob) {
            return Ok(None);
        }
        if entry.filemode() == i32::from(FileMode::Link) {
            return Err(RepoError::Symlink {
                path: path.to_owned(),
            });
        }
        let blob = self
            .inner
            .find_blob(entry.id())
            .map_err(RepoError::git("read a file"))?;
        Ok(Some(blob.content().to_vec()))
    }

    /// The size in bytes of the file at `path` in `commit`, read from the object header
    /// (the content is not inflated), or `None` when there is no such file.
    pub fn file_size(&self, commit: Oid, path: &str) -> Result<Option<u64>, RepoError> {
        path::validate(path)?;
        let tree = self.tree_of(commit)?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => entry,
            Ok(_) => return Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(source) => {
                return Err(RepoError::Git {
                    operation: "look up a path",
                    source,
                })
            }
        };
        let odb = self
            .inner
            .odb()
            .map_err(RepoError::git("open the object database"))?;
        let (size, _) = odb
            .read_header(entry.id())
            .map_err(RepoError::git("read a file's size"))?;
        Ok(Some(size as u64))
    }

    /// The subtree at `dir` (`""` is the root), or `None` when there is none.
    fn subtree(&self, commit: Oid, dir: &str) -> Result<Option<Tree<'_>>, RepoError> {
        let root = self.tree_of(commit)?;
        if dir.is_empty() {
            return Ok(Some(root));
        }
        let entry = match root.get_path(Path::new(dir)) {
            Ok(entry) => entry,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(source) => {
                return Err(RepoError::Git {
                    operation: "look up a directory",
                    source,
                })
            }
        };
        if entry.kind() != Some(ObjectType::Tree) {
            return Ok(None);
        }
        self.inner
            .find_tree(entry.id())
            .map(Some)
            .map_err(RepoError::git("read a directory"))
    }

    /// The files directly under `dir` in `commit` (not recursive), keyed by their full
    /// repository-relative path. Empty when `dir` does not exist.
    pub fn read_dir_files(
        &self,
        commit: Oid,
        dir: &str,
    ) -> Result<BTreeMap<String, Vec<u8>>, RepoError> {
        let dir = path::normalize_dir(dir)?;
        let mut files = BTreeMap::new();
        let Some(tree) = self.subtree(commit, dir)? else {
            return Ok(files);
        };
        for entry in tree.iter() {
            if entry.kind() != Some(ObjectType::Blob) {
                continue;
            }
            let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
            if entry.filemode() == i32::from(FileMode::Link) {
                return Err(RepoError::Symlink {
                    path: path::join(dir, &name),
                });
            }
            let blob = self
                .inner
                .find_blob(entry.id())
                .map_err(RepoError::git("read a file"))?;
            files.insert(path::join(dir, &name), blob.content().to_vec());
        }
        Ok(files)
    }

    /// Every file under `dir` (recursively) whose name is `file_name`, as sorted
    /// repository-relative paths. Used to discover environments in bare repositories.
    pub fn find_files(
        &self,
        commit: Oid,
        dir: &str,
        file_name: &str,
    ) -> Result<Vec<String>, RepoError> {
        self.find_files_where(commit, dir, &|name| name == file_name)
    }

    /// Every file under `dir` at `commit` whose file name `keep` accepts, as repo-relative
    /// paths, sorted.
    pub fn find_files_where(
        &self,
        commit: Oid,
        dir: &str,
        keep: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, RepoError> {
        let dir = path::normalize_dir(dir)?;
        let Some(tree) = self.subtree(commit, dir)? else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
            if entry.kind() == Some(ObjectType::Blob)
                && keep(&String::from_utf8_lossy(entry.name_bytes()))
            {
                found.push(path::join(
                    dir,
                    &format!("{parent}{}", String::from_utf8_lossy(entry.name_bytes())),
                ));
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(RepoError::git("walk the tree"))?;
        found.sort();
        Ok(found)
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

    /// Write `req` as one commit by [`Repo::identity`]. See [`Repo::commit_as`].
    pub fn commit(&self, req: &CommitRequest) -> Result<CommitOutcome, RepoError> {
        let identity = self.identity()?;
        self.commit_as(req, &identity)
    }

    /// Write `req` as one commit by `identity`: the base tree plus the changed blobs, then
    /// move the branch from `expected_old` to it (compare-and-swap), then (for the checked-out
    /// branch, when asked) update the checkout files and index entries of exactly the changed
    /// paths. The message is cleaned up like git does (trailing whitespace, extra blank
    /// lines; `#` lines are kept).
    ///
    /// Refuses before writing anything when the branch moved, or when a path whose content
    /// changes holds, in the index or the checkout, something that is neither the branch's
    /// version nor the new one (an edit, a staged change, an untracked file, a deletion).
    /// Returns [`CommitOutcome::NoChange`] (nothing written) when the tree would not change.
    pub fn commit_as(
        &self,
        req: &CommitRequest,
        identity: &Identity,
    ) -> Result<CommitOutcome, RepoError> {
        if req.update_worktree {
            // An interrupted greenlight's checkout update is finished before anything new.
            self.resume_checkout()?;
        }
        let Some(prepared) = self.prepare_commit_as(req, identity)? else {
            return Ok(CommitOutcome::NoChange);
        };
        self.finish_commit(&prepared)?;
        Ok(CommitOutcome::Committed {
            id: prepared.id,
            parent: prepared.parent,
        })
    }

    /// The first half of [`Repo::commit`]: every check, then the blobs, tree and commit
    /// written to the object database — but no branch moved and no file touched, so the
    /// commit can be pushed before it lands locally. `None` when the tree would not change.
    pub fn prepare_commit(&self, req: &CommitRequest) -> Result<Option<PreparedCommit>, RepoError> {
        let identity = self.identity()?;
        self.prepare_commit_as(req, &identity)
    }

    fn prepare_commit_as(
        &self,
        req: &CommitRequest,
        identity: &Identity,
    ) -> Result<Option<PreparedCommit>, RepoError> {
        if !req.refname.starts_with("refs/") || !git2::Reference::is_valid_name(&req.refname) {
            return Err(RepoError::InvalidRefName {
                refname: req.refname.clone(),
            });
        }
        for path in req.changes.keys() {
            path::validate(path)?;
        }
        check_no_nested_changes(&req.changes)?;
        let message = git2::message_prettify(req.message.as_str(), None)
            .map_err(RepoError::git("clean up the commit message"))?;
        if message.trim().is_empty() {
            return Err(RepoError::EmptyMessage);
        }

        let actual = self.branch_tip(&req.refname)?;
        if actual != req.expected_old {
            return Err(RepoError::BranchMoved {
                refname: req.refname.clone(),
                expected: req.expected_old,
                actual,
            });
        }
        let parent = req
            .expected_old
            .map(|id| self.inner.find_commit(id))
            .transpose()
            .map_err(RepoError::git("read the branch tip"))?;
        let base_tree = parent
            .as_ref()
            .map(|c| c.tree())
            .transpose()
            .map_err(RepoError::git("read the branch tip's tree"))?;

        let plan = self.plan(base_tree.as_ref(), &req.changes)?;
        if !req.allow_empty && !plan.iter().any(Planned::changes_tree) {
            return Ok(None);
        }
        // Paths whose content stays the same are neither checked nor rewritten.
        let changes: Vec<OwnedChange> = plan
            .iter()
            .filter(|p| p.changes_tree())
            .map(|p| OwnedChange {
                path: p.path.to_owned(),
                head: p.base.map(|(id, _)| id),
                new: p.new.map(|(bytes, id, mode)| (bytes.to_vec(), id, mode)),
            })
            .collect();
        let prepared_changes = PreparedChanges {
            refname: req.refname.clone(),
            update_worktree: req.update_worktree,
            changes,
        };
        self.check_checkout(&prepared_changes)?;

        let (author, committer) = identity.signatures()?;
        let tree_id = self.build_tree(base_tree.as_ref(), &plan)?;
        if !req.allow_empty && base_tree.as_ref().map(Tree::id) == Some(tree_id) {
            return Ok(None);
        }
        let tree = self
            .inner
            .find_tree(tree_id)
            .map_err(RepoError::git("read the new tree"))?;
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let id = self.write_commit(&author, &committer, &message, &tree, &parents)?;
        Ok(Some(PreparedCommit {
            id,
            parent: req.expected_old,
            subject: message.lines().next().unwrap_or_default().to_owned(),
            committer,
            changes: prepared_changes,
        }))
    }

    /// Writes a commit object, signed when git config asks for it (see `sign`): a signing
    /// failure writes nothing.
    fn write_commit(
        &self,
        author: &git2::Signature<'_>,
        committer: &git2::Signature<'_>,
        message: &str,
        tree: &Tree<'_>,
        parents: &[&git2::Commit<'_>],
    ) -> Result<Oid, RepoError> {
        let config = self
            .inner
            .config()
            .and_then(|mut c| c.snapshot())
            .map_err(RepoError::git("read the git config"))?;
        let get = |key: &str| config.get_string(key).ok();
        let me = format!(
            "{} <{}>",
            committer.name().unwrap_or_default(),
            committer.email().unwrap_or_default()
        );
        let Some(signer) = sign::from_config(&get, &me)? else {
            return self
                .inner
                .commit(None, author, committer, message, tree, parents)
                .map_err(RepoError::git("write the commit"));
        };
        let buffer = self
            .inner
            .commit_create_buffer(author, committer, message, tree, parents)
            .map_err(RepoError::git("build the commit"))?;
        let content = std::str::from_utf8(&buffer).map_err(|_| RepoError::Signing {
            problem: "the commit is not valid UTF-8".to_owned(),
        })?;
        let signature = signer.sign(content.as_bytes())?;
        self.inner
            .commit_signed(content, &signature, None)
            .map_err(RepoError::git("write the signed commit"))
    }

    /// The second half of [`Repo::commit`]: moves the branch from the prepared commit's parent
    /// to it (compare-and-swap) and brings the checkout along when that branch is checked out
    /// (checking again that no path to write was edited meanwhile).
    pub fn finish_commit(&self, prepared: &PreparedCommit) -> Result<(), RepoError> {
        self.check_checkout(&prepared.changes)?;
        self.land(
            &prepared.changes,
            prepared.parent,
            prepared.id,
            &prepared.committer,
            &format!("greenlight: {}", prepared.subject),
        )
    }

    /// The first line of commit `id`'s message.
    pub fn commit_subject(&self, id: Oid) -> Result<String, RepoError> {
        let commit = self
            .inner
            .find_commit(id)
            .map_err(RepoError::git("read a commit"))?;
        Ok(String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned())
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: Oid, descendant: Oid) -> Result<bool, RepoError> {
        if ancestor == descendant {
            return Ok(true);
        }
        self.inner
            .graph_descendant_of(descendant, ancestor)
            .map_err(RepoError::git("compare commits"))
    }

    /// How many commits `local` has that `upstream` lacks, and the other way round.
    pub fn ahead_behind(&self, local: Oid, upstream: Oid) -> Result<(usize, usize), RepoError> {
        self.inner
            .graph_ahead_behind(local, upstream)
            .map_err(RepoError::git("compare commits"))
    }

    /// Plans moving `refname` forward from `from` to `to` (which must descend from it) and
    /// refuses, writing nothing, when the checkout (if `refname` is checked out and
    /// `update_worktree`) has edits in a path the move would write.
    pub fn plan_fast_forward(
        &self,
        refname: &str,
        from: Option<Oid>,
        to: Oid,
        update_worktree: bool,
    ) -> Result<FastForward, RepoError> {
        if let Some(from) = from {
            if !self.is_ancestor(from, to)? {
                return Err(RepoError::NotFastForward {
                    refname: refname.to_owned(),
                    from,
                    to,
                });
            }
        }
        let old_tree = from.map(|id| self.tree_of(id)).transpose()?;
        let new_tree = self.tree_of(to)?;
        let mut changes = Vec::new();
        if update_worktree && self.checked_out_workdir(refname)?.is_some() {
            let diff = self
                .inner
                .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), None)
                .map_err(RepoError::git("compare the trees"))?;
            for delta in diff.deltas() {
                let path = delta
                    .new_file()
                    .path()
                    .or_else(|| delta.old_file().path())
                    .and_then(Path::to_str)
                    .ok_or_else(|| RepoError::InvalidPath {
                        path: format!("{:?}", delta.new_file().path()),
                        reason: "it is not valid UTF-8",
                    })?
                    .to_owned();
                let side = |file: git2::DiffFile<'_>| {
                    (!file.id().is_zero()).then(|| (file.id(), file.mode()))
                };
                let head = side(delta.old_file()).map(|(id, _)| id);
                let new = match side(delta.new_file()) {
                    None => None,
                    Some((id, mode)) => {
                        let blob = self
                            .inner
                            .find_blob(id)
                            .map_err(RepoError::git("read a file's blob"))?;
                        Some((blob.content().to_vec(), id, mode))
                    }
                };
                changes.push(OwnedChange { path, head, new });
            }
        }
        let planned = PreparedChanges {
            refname: refname.to_owned(),
            update_worktree,
            changes,
        };
        self.check_checkout(&planned)?;
        Ok(FastForward {
            from,
            to,
            changes: planned,
        })
    }

    /// Moves the branch forward as planned by [`Repo::plan_fast_forward`], checking the
    /// checkout again first.
    pub fn fast_forward(&self, ff: &FastForward) -> Result<(), RepoError> {
        self.check_checkout(&ff.changes)?;
        let (_, committer) = self.identity()?.signatures()?;
        self.land(
            &ff.changes,
            ff.from,
            ff.to,
            &committer,
            &format!("greenlight: fast-forward to {}", ff.to),
        )
    }

    /// Refuses when `planned` would overwrite an edit in the checkout of its branch.
    fn check_checkout(&self, planned: &PreparedChanges) -> Result<(), RepoError> {
        let Some(workdir) = self.checkout_of(planned)? else {
            return Ok(());
        };
        // The index will be written after the branch moves: refuse now if it cannot be.
        let lock = self.git_dir().join("index.lock");
        if lock.exists() {
            return Err(RepoError::IndexLocked { path: lock });
        }
        let borrowed = planned.borrowed();
        let dirty = worktree::dirty_paths(workdir, &self.index()?, &borrowed)?;
        if dirty.is_empty() {
            Ok(())
        } else {
            Err(RepoError::DirtyPaths { paths: dirty })
        }
    }

    fn checkout_of(&self, planned: &PreparedChanges) -> Result<Option<&Path>, RepoError> {
        if planned.update_worktree {
            self.checked_out_workdir(&planned.refname)
        } else {
            Ok(None)
        }
    }

    /// Moves the branch by compare-and-swap and brings the checkout's files and index entries
    /// along (see [`worktree::apply`] for the order).
    fn land(
        &self,
        planned: &PreparedChanges,
        expected_old: Option<Oid>,
        new: Oid,
        committer: &git2::Signature<'_>,
        reflog_message: &str,
    ) -> Result<(), RepoError> {
        let Some(workdir) = self.checkout_of(planned)? else {
            return self.move_branch(
                &planned.refname,
                expected_old,
                new,
                committer,
                reflog_message,
            );
        };
        // Between the branch move and the last file rename, a kill leaves the checkout behind
        // its branch: the record lets the next run finish the job.
        let git_dir = self.git_dir();
        // What earlier killed runs left (never seen by git, but never cleaned otherwise).
        worktree::sweep_stale(&git_dir.join(worktree::SCRATCH_DIR), "write-");
        worktree::sweep_stale(&git_dir.join(worktree::SCRATCH_DIR), "index-");
        worktree::sweep_stale(git_dir, &format!("{}.", pending::FILE));
        pending::record(
            git_dir,
            &PendingCheckout {
                refname: planned.refname.clone(),
                from: expected_old,
                to: new,
            },
        )?;
        let moved = self.update_checkout(workdir, planned, new, || {
            self.move_branch(
                &planned.refname,
                expected_old,
                new,
                committer,
                reflog_message,
            )
        });
        match moved {
            Ok(()) => pending::clear(git_dir),
            Err(e) => {
                // The branch did not move (a lost compare-and-swap): nothing to finish later.
                if self.branch_tip(&planned.refname)? != Some(new) {
                    pending::clear(git_dir)?;
                }
                Err(e)
            }
        }
    }

    /// Writes the files and index entries of `planned`, with `commit_point` (the branch move
    /// to `commit`, or nothing when it has moved already) between preparing them and writing
    /// the index (see [`worktree::apply`]). When it fails after the commit point, the
    /// pending-checkout record stays, for [`Repo::resume_checkout`].
    fn update_checkout(
        &self,
        workdir: &Path,
        planned: &PreparedChanges,
        commit: Oid,
        commit_point: impl FnOnce() -> Result<(), RepoError>,
    ) -> Result<(), RepoError> {
        let borrowed = planned.borrowed();
        let mut moved = false;
        let updated = worktree::apply(workdir, self.git_dir(), &borrowed, || {
            commit_point()?;
            moved = true;
            Ok(())
        });
        match updated {
            Err(source) if moved => Err(RepoError::CheckoutNotUpdated {
                commit,
                paths: planned.changes.iter().map(|p| p.path.clone()).collect(),
                source: Box::new(source),
            }),
            other => other,
        }
    }

    /// The commit an earlier, interrupted greenlight moved the checked-out branch to without
    /// bringing the checkout along (see [`Repo::resume_checkout`]), if there is one.
    /// Only the paths whose file or index entry is not at that commit's content yet count: a
    /// record left by a kill after the last write is no interruption.
    pub fn interrupted_checkout(&self) -> Result<Option<InterruptedCheckout>, RepoError> {
        let Some((pending, true)) = self.live_pending()? else {
            return Ok(None);
        };
        let Some(workdir) = self.checked_out_workdir(&pending.refname)? else {
            return Ok(None);
        };
        let old_tree = pending.from.map(|id| self.tree_of(id)).transpose()?;
        let new_tree = self.tree_of(pending.to)?;
        let diff = self
            .inner
            .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), None)
            .map_err(RepoError::git("compare the trees"))?;
        let index = self.index()?;
        let mut paths = Vec::new();
        for delta in diff.deltas() {
            let Some(path) = delta
                .new_file()
                .path()
                .or_else(|| delta.old_file().path())
                .and_then(Path::to_str)
            else {
                continue;
            };
            let target = (!delta.new_file().id().is_zero()).then(|| delta.new_file().id());
            if !worktree::is_at(workdir, &index, path, target)? {
                paths.push(path.to_owned());
            }
        }
        Ok((!paths.is_empty()).then_some(InterruptedCheckout {
            commit: pending.to,
            paths,
        }))
    }

    /// Finishes the checkout update of an interrupted greenlight: when the branch is still at
    /// the commit it moved it to and still checked out, writes that commit's files and index
    /// entries, as the interrupted run would have. Each path must still be at its old or new
    /// content (anything else is an edit made since, refused with
    /// [`RepoError::InterruptedCheckoutEdited`], writing nothing). A record that no longer
    /// applies (the branch moved on, or another branch is checked out) is removed.
    pub fn resume_checkout(&self) -> Result<Option<ResumedCheckout>, RepoError> {
        let git_dir = self.git_dir();
        let Some((pending, live)) = self.live_pending()? else {
            return Ok(None);
        };
        if !live {
            tracing::debug!("removing a stale pending-checkout record: {pending:?}");
            pending::clear(git_dir)?;
            return Ok(None);
        }
        let ff = self
            .plan_fast_forward(&pending.refname, pending.from, pending.to, true)
            .map_err(|e| match e {
                RepoError::DirtyPaths { paths } => RepoError::InterruptedCheckoutEdited {
                    refname: pending.refname.clone(),
                    commit: pending.to,
                    paths,
                },
                e => e,
            })?;
        // A live record's branch is checked out, so the plan has a checkout to write.
        if let Some(workdir) = self.checkout_of(&ff.changes)? {
            self.update_checkout(workdir, &ff.changes, pending.to, || Ok(()))?;
        }
        pending::clear(git_dir)?;
        Ok(Some(ResumedCheckout {
            commit: pending.to,
            paths: ff.changes.changes.iter().map(|c| c.path.clone()).collect(),
        }))
    }

    /// The pending-checkout record, if any, and whether it still applies: its branch is
    /// checked out here and at the commit the record moved it to.
    fn live_pending(&self) -> Result<Option<(PendingCheckout, bool)>, RepoError> {
        let Some(pending) = pending::read(self.git_dir())? else {
            return Ok(None);
        };
        let live = self.checked_out_workdir(&pending.refname)?.is_some()
            && self.branch_tip(&pending.refname)? == Some(pending.to);
        Ok(Some((pending, live)))
    }

    /// The checkout root when the repository has one and `refname` is checked out there.
    fn checked_out_workdir(&self, refname: &str) -> Result<Option<&Path>, RepoError> {
        let Some(workdir) = self.inner.workdir().filter(|_| !self.inner.is_bare()) else {
            return Ok(None);
        };
        match self.head_branch() {
            Ok(head) if head == refname => Ok(Some(workdir)),
            Ok(_) | Err(RepoError::DetachedHead { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn index(&self) -> Result<git2::Index, RepoError> {
        let mut index = self
            .inner
            .index()
            .map_err(RepoError::git("open the index"))?;
        // The repository caches its index; pick up changes other processes made since.
        index
            .read(false)
            .map_err(RepoError::git("read the index"))?;
        Ok(index)
    }

    /// Resolve every change against the base tree, hashing the new contents (nothing is
    /// written yet), and refuse changes that would replace a directory or write under a file.
    fn plan<'a>(
        &self,
        base: Option<&Tree<'_>>,
        changes: &'a BTreeMap<String, Option<Vec<u8>>>,
    ) -> Result<Vec<Planned<'a>>, RepoError> {
        let mut plan = Vec::with_capacity(changes.len());
        for (path, content) in changes {
            let base_entry = match base {
                Some(tree) => lookup(tree, path)?,
                None => None,
            };
            let base_blob = match base_entry {
                None => None,
                Some((_, ObjectType::Tree, _)) => {
                    return Err(RepoError::InvalidPath {
                        path: path.clone(),
                        reason: "it is a directory in the branch, not a file",
                    })
                }
                Some((_, ObjectType::Commit, _)) => {
                    return Err(RepoError::InvalidPath {
                        path: path.clone(),
                        reason: "it is a submodule in the branch, not a file",
                    })
                }
                Some((id, _, mode)) => Some((id, mode)),
            };
            if content.is_some() && base_blob.is_none() {
                if let Some(tree) = base {
                    check_parents_are_directories(tree, path)?;
                }
            }
            let new = match content {
                None => None,
                Some(bytes) => {
                    let id = Oid::hash_object(ObjectType::Blob, bytes)
                        .map_err(RepoError::git("hash a file"))?;
                    let mode = match base_blob {
                        Some((_, FileMode::BlobExecutable)) => FileMode::BlobExecutable,
                        _ => FileMode::Blob,
                    };
                    Some((bytes.as_slice(), id, mode))
                }
            };
            plan.push(Planned {
                path,
                base: base_blob,
                new,
            });
        }
        Ok(plan)
    }

    /// The base tree with the planned blobs written and swapped in; only the directories on
    /// the changed paths are rewritten.
    fn build_tree(&self, base: Option<&Tree<'_>>, plan: &[Planned<'_>]) -> Result<Oid, RepoError> {
        let empty;
        let base = match base {
            Some(tree) => tree,
            None => {
                let id = self
                    .inner
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .map_err(RepoError::git("write the empty tree"))?;
                empty = self
                    .inner
                    .find_tree(id)
                    .map_err(RepoError::git("read the empty tree"))?;
                &empty
            }
        };
        let mut updates = git2::build::TreeUpdateBuilder::new();
        for planned in plan.iter().filter(|p| p.changes_tree()) {
            match planned.new {
                Some((bytes, hashed, mode)) => {
                    let id = self
                        .inner
                        .blob(bytes)
                        .map_err(RepoError::git("write a file's blob"))?;
                    debug_assert_eq!(id, hashed);
                    updates.upsert(planned.path, id, mode);
                }
                None => {
                    updates.remove(planned.path);
                }
            }
        }
        updates
            .create_updated(&self.inner, base)
            .map_err(RepoError::git("write the new tree"))
    }

    /// Move `refname` from `expected` to `new` under the ref's lock, so a concurrent writer
    /// is detected rather than overwritten.
    fn move_branch(
        &self,
        refname: &str,
        expected: Option<Oid>,
        new: Oid,
        committer: &git2::Signature<'_>,
        reflog_message: &str,
    ) -> Result<(), RepoError> {
        let mut tx = self
            .inner
            .transaction()
            .map_err(RepoError::git("start a ref transaction"))?;
        tx.lock_ref(refname)
            .map_err(RepoError::git("lock the branch"))?;
        let actual = self.branch_tip(refname)?;
        if actual != expected {
            return Err(RepoError::BranchMoved {
                refname: refname.to_string(),
                expected,
                actual,
            });
        }
        tx.set_target(refname, new, Some(committer), reflog_message)
            .map_err(RepoError::git("move the branch"))?;
        tx.commit().map_err(RepoError::git("move the branch"))
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

fn is_missing(e: &git2::Error) -> bool {
    matches!(
        e.code(),
        git2::ErrorCode::NotFound | git2::ErrorCode::UnbornBranch
    )
}

/// The id, kind and mode of the tree entry at `path`, or `None` when nothing is there.
fn lookup(tree: &Tree<'_>, path: &str) -> Result<Option<(Oid, ObjectType, FileMode)>, RepoError> {
    match tree.get_path(Path::new(path)) {
        Ok(entry) => {
            let kind = entry.kind().unwrap_or(ObjectType::Any);
            let mode = match entry.filemode() {
                0o100755 => FileMode::BlobExecutable,
                0o120000 => FileMode::Link,
                0o040000 => FileMode::Tree,
                0o160000 => FileMode::Commit,
                _ => FileMode::Blob,
            };
            Ok(Some((entry.id(), kind, mode)))
        }
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(source) => Err(RepoError::Git {
            operation: "look up a path",
            source,
        }),
    }
}

fn check_parents_are_directories(tree: &Tree<'_>, path: &str) -> Result<(), RepoError> {
    let mut end = 0;
    while let Some(slash) = path[end..].find('/') {
        end += slash;
        if let Some((_, kind, _)) = lookup(tree, &path[..end])? {
            if kind != ObjectType::Tree {
                return Err(RepoError::InvalidPath {
                    path: path.to_string(),
                    reason: "one of its parent directories is a file in the branch",
                });
            }
        }
        end += 1;
    }
    Ok(())
}

/// Refuse a change set where one changed path is a parent directory of another.
fn check_no_nested_changes(changes: &BTreeMap<String, Option<Vec<u8>>>) -> Result<(), RepoError> {
    for path in changes.keys() {
        let mut prefix = path.clone();
        prefix.push('/');
        if let Some((nested, _)) = changes.range(prefix.clone()..).next() {
            if nested.starts_with(&prefix) {
                return Err(RepoError::InvalidPath {
                    path: nested.clone(),
                    reason: "another changed path is one of its parent directories",
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
