//! Landing a commit: moving a branch by compare-and-swap or forward only, and bringing the
//! checkout along when that branch is checked out (files and index, in git's own order, with
//! a record that lets the next run finish an update a kill interrupted).

use std::path::Path;

use super::index_file::IndexFile;
use super::*;

impl Repo {
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
    pub(super) fn check_checkout(&self, planned: &PreparedChanges) -> Result<(), RepoError> {
        let Some(workdir) = self.checkout_of(planned)? else {
            return Ok(());
        };
        // The index will be written after the branch moves: refuse now if it cannot be.
        let lock = worktree::index_lock_path(self.git_dir());
        if lock.exists() {
            return Err(RepoError::IndexLocked { path: lock });
        }
        let borrowed = planned.borrowed();
        let check = |index: &dyn worktree::IndexLookup| {
            let outside = worktree::outside_sparse_checkout(index, &borrowed);
            if !outside.is_empty() {
                return Err(RepoError::OutsideSparseCheckout { paths: outside });
            }
            worktree::dirty_paths(workdir, index, &borrowed)
        };
        let dirty = match self.index_file()? {
            Some(index) => {
                let dirty = check(&index);
                // Kept for the next check and the checkout update, which reuse it as long as
                // the file stays the same (a 42,000-file index takes milliseconds to read).
                *self.index_file.borrow_mut() = Some(Box::new(index));
                dirty?
            }
            None => check(&self.index()?)?,
        };
        if dirty.is_empty() {
            Ok(())
        } else {
            Err(RepoError::DirtyPaths { paths: dirty })
        }
    }

    /// The checkout's index as greenlight reads it (`None`: a format left to libgit2): the
    /// one an earlier check of this command read, when the file has not changed since.
    fn index_file(&self) -> Result<Option<IndexFile>, RepoError> {
        let previous = self.index_file.borrow_mut().take();
        IndexFile::reread(
            &worktree::index_path(self.git_dir()),
            previous.map(|index| *index),
        )
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
        let previous = self.index_file.borrow_mut().take().map(|index| *index);
        let updated = worktree::apply(workdir, self.git_dir(), &borrowed, previous, || {
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

    pub(super) fn index(&self) -> Result<git2::Index, RepoError> {
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

    /// Move `refname` from `expected` to `new` under the ref's lock, so a concurrent writer
    /// is detected rather than overwritten.
    pub(super) fn move_branch(
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
