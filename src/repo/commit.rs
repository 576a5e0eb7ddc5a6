//! Writing a commit: the base tree plus the changed blobs (only the directories on the
//! changed paths are rewritten, so the cost does not grow with the repository), a signature
//! when git config asks for one, and the branch moved by compare-and-swap (see `land`).

use std::collections::BTreeMap;

use git2::{FileMode, ObjectType, Tree};

use super::*;

impl Repo {
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

    pub(super) fn prepare_commit_as(
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
            .map(|c| self.tree(c.tree_id()))
            .transpose()?;

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
                Some(tree) => self.lookup(tree, path)?,
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
                    self.check_parents_are_directories(tree, path)?;
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
    /// The id, kind and mode of the tree entry at `path`, or `None` when nothing is there.
    fn lookup(
        &self,
        tree: &Tree<'_>,
        path: &str,
    ) -> Result<Option<(Oid, ObjectType, FileMode)>, RepoError> {
        Ok(self.entry_at(tree, path)?.map(|entry| {
            let kind = entry.kind().unwrap_or(ObjectType::Any);
            let mode = match entry.filemode() {
                0o100755 => FileMode::BlobExecutable,
                0o120000 => FileMode::Link,
                0o040000 => FileMode::Tree,
                0o160000 => FileMode::Commit,
                _ => FileMode::Blob,
            };
            (entry.id(), kind, mode)
        }))
    }

    fn check_parents_are_directories(&self, tree: &Tree<'_>, path: &str) -> Result<(), RepoError> {
        let mut end = 0;
        while let Some(slash) = path[end..].find('/') {
            end += slash;
            if let Some((_, kind, _)) = self.lookup(tree, &path[..end])? {
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
