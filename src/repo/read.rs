//! Reading a repository: branches and their tips, the tree of a commit, the files of a
//! path, a folder or a name anywhere under a folder, and how commits relate. Reads only.

use std::collections::BTreeMap;

use git2::{FileMode, ObjectType, Tree, TreeWalkMode};

use super::{path, Oid, Repo, RepoError};

impl Repo {
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

    pub(super) fn tree_of(&self, commit: Oid) -> Result<Tree<'_>, RepoError> {
        let id = self
            .inner
            .find_commit(commit)
            .map(|c| c.tree_id())
            .map_err(RepoError::git("read the commit's tree"))?;
        self.tree(id)
    }

    /// The entry at `path` below `root`, walking its folders one at a time (so a partial
    /// clone fetches the ones it lacks); `None` when nothing is there or a parent is a file.
    pub(super) fn entry_at(
        &self,
        root: &Tree<'_>,
        path: &str,
    ) -> Result<Option<git2::TreeEntry<'static>>, RepoError> {
        let mut parts = path.split('/').filter(|p| !p.is_empty()).peekable();
        let mut dir: Option<Tree<'_>> = None;
        while let Some(name) = parts.next() {
            let entry = match dir.as_ref().unwrap_or(root).get_name(name) {
                Some(entry) => entry.to_owned(),
                None => return Ok(None),
            };
            if parts.peek().is_none() {
                return Ok(Some(entry));
            }
            if entry.kind() != Some(ObjectType::Tree) {
                return Ok(None);
            }
            dir = Some(self.tree(entry.id())?);
        }
        Ok(None)
    }

    /// The content of the file at `path` in `commit`, or `None` when there is no file there.
    pub fn read_file(&self, commit: Oid, path: &str) -> Result<Option<Vec<u8>>, RepoError> {
        path::validate(path)?;
        let tree = self.tree_of(commit)?;
        let Some(entry) = self.entry_at(&tree, path)? else {
            return Ok(None);
        };
        if entry.kind() != Some(ObjectType::Blob) {
            return Ok(None);
        }
        if entry.filemode() == i32::from(FileMode::Link) {
            return Err(RepoError::Symlink {
                path: path.to_owned(),
            });
        }
        Ok(Some(self.blob(entry.id())?.content().to_vec()))
    }

    /// Whether `commit` has a file (not a folder or submodule) at `path`; reads no content.
    pub fn has_file(&self, commit: Oid, path: &str) -> Result<bool, RepoError> {
        Ok(self.file_id(commit, path)?.is_some())
    }

    /// The blob id of the file at `path` in `commit` (two files hold the same bytes exactly
    /// when their ids are equal), or `None` when there is no file there; reads no content, so
    /// a partial clone fetches no blob for it.
    pub fn file_id(&self, commit: Oid, path: &str) -> Result<Option<Oid>, RepoError> {
        path::validate(path)?;
        let tree = self.tree_of(commit)?;
        Ok(self
            .entry_at(&tree, path)?
            .filter(|e| e.kind() == Some(ObjectType::Blob))
            .map(|e| e.id()))
    }

    /// The size in bytes of the file at `path` in `commit`, read from the object header
    /// (the content is not inflated), or `None` when there is no such file.
    pub fn file_size(&self, commit: Oid, path: &str) -> Result<Option<u64>, RepoError> {
        path::validate(path)?;
        let tree = self.tree_of(commit)?;
        match self.entry_at(&tree, path)? {
            Some(entry) if entry.kind() == Some(ObjectType::Blob) => {
                Ok(Some(self.blob_size(entry.id())? as u64))
            }
            _ => Ok(None),
        }
    }

    /// The subtree at `dir` (`""` is the root), or `None` when there is none.
    fn subtree(&self, commit: Oid, dir: &str) -> Result<Option<Tree<'_>>, RepoError> {
        let root = self.tree_of(commit)?;
        if dir.is_empty() {
            return Ok(Some(root));
        }
        match self.entry_at(&root, dir)? {
            Some(entry) if entry.kind() == Some(ObjectType::Tree) => {
                self.tree(entry.id()).map(Some)
            }
            _ => Ok(None),
        }
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
        if self.is_partial() {
            self.prefetch(commit, &[super::Want::Files(dir.to_owned())])?;
        }
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
            let blob = self.blob(entry.id())?;
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
        let walk = || {
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
            .map(|()| found)
        };
        let mut found = match walk() {
            // A partial clone lacks folders below: fetch them all at once and walk again.
            Err(e) if e.class() == git2::ErrorClass::Odb && self.is_partial() => {
                self.fetch_trees_below(&tree)?;
                walk()
            }
            other => other,
        }
        .map_err(RepoError::git("walk the tree"))?;
        found.sort();
        Ok(found)
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

    /// The commits that descend from `since` and are reachable from `tip` (`tip` included,
    /// `since` not), newest first (the reverse of a topological walk from `since` on), at
    /// most `limit` of them: the history a branch made after `since`. Commits merged in from
    /// a branch that forked before `since` do not descend from it and are left out. One walk:
    /// a commit descends from `since` when one of its parents is `since` or descends from it.
    pub fn commits_since(&self, tip: Oid, since: Oid, limit: usize) -> Result<Vec<Oid>, RepoError> {
        let walk_error = RepoError::git("walk the history");
        let mut walk = self.inner.revwalk().map_err(walk_error)?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .map_err(RepoError::git("walk the history"))?;
        walk.push(tip).map_err(RepoError::git("walk the history"))?;
        walk.hide(since)
            .map_err(RepoError::git("walk the history"))?;
        let mut descendants = std::collections::HashSet::from([since]);
        let mut found = Vec::new();
        for id in walk {
            let id = id.map_err(RepoError::git("walk the history"))?;
            let commit = self
                .inner
                .find_commit(id)
                .map_err(RepoError::git("read a commit"))?;
            if commit.parent_ids().any(|p| descendants.contains(&p)) {
                descendants.insert(id);
                found.push(id);
            }
        }
        found.reverse();
        found.truncate(limit);
        Ok(found)
    }

    /// The files under `dirs` whose checkout or index differs from `HEAD` (edited, added,
    /// deleted, untracked), sorted; empty in a bare repository.
    pub fn uncommitted(&self, dirs: &[&str]) -> Result<Vec<String>, RepoError> {
        if self.is_bare() {
            return Ok(Vec::new());
        }
        let mut options = git2::StatusOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false);
        for dir in dirs {
            options.pathspec(format!("{dir}/"));
        }
        let statuses = self
            .git()
            .statuses(Some(&mut options))
            .map_err(RepoError::git("read the checkout's status"))?;
        let mut paths: Vec<String> = statuses
            .iter()
            .filter(|e| e.status() != git2::Status::CURRENT)
            .filter_map(|e| e.path().ok().map(str::to_owned))
            .collect();
        paths.sort();
        Ok(paths)
    }

    /// How many commits `local` has that `upstream` lacks, and the other way round.
    pub fn ahead_behind(&self, local: Oid, upstream: Oid) -> Result<(usize, usize), RepoError> {
        self.inner
            .graph_ahead_behind(local, upstream)
            .map_err(RepoError::git("compare commits"))
    }
}

fn is_missing(e: &git2::Error) -> bool {
    matches!(
        e.code(),
        git2::ErrorCode::NotFound | git2::ErrorCode::UnbornBranch
    )
}
