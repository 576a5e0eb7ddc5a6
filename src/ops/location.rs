//! Where a command works: a git repository (a checkout, a bare repository, or a temporary
//! clone of a URL) with the branch it works on, or a plain folder; and how a commit of it is
//! read like a folder ([`CommitTree`]), including what an interrupted run left undone in the
//! checkout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::{CheckoutBehind, OpsError};
use crate::repo::transport::{CloneDepth, Transport};
use crate::repo::{Oid, Repo, Want};
use crate::workspace::{DiskTree, Snapshot};

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
    ///
    /// The clone is partial and shallow: the tip commit and the top levels of its tree. What
    /// a command then reads (an environment's folders and files, older commits for the
    /// guards) is fetched when it is read, so the cost follows what the command touches, not
    /// the size or the age of the repository (see `repo::objects`).
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
        transport.clone_bare(url, &target, branch, CloneDepth::Partial)?;
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
        format!("commit {}", super::short(&self.commit.to_string()))
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
        // `has_file` finds exactly the blobs that `find_files` walks to.
        Ok(Some(self.repo.has_file(self.commit, path)?))
    }
    fn prefetch(&self, files: &[&str], dirs: &[&str], trees: &[&str]) -> anyhow::Result<()> {
        let wants: Vec<Want> = (files.iter().map(|f| Want::File((*f).to_owned())))
            .chain(dirs.iter().map(|d| Want::Files((*d).to_owned())))
            .chain(trees.iter().map(|t| Want::All((*t).to_owned())))
            .collect();
        Ok(self.repo.prefetch(self.commit, &wants)?)
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
