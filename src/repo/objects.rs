//! Objects a clone does not hold yet, fetched through the git program when they are read.
//!
//! A partial clone (git's `extensions.partialclone`; greenlight's `--clone` makes one with
//! only the tip commit and the top levels of its tree) lacks most trees and blobs, and
//! libgit2 cannot fetch them by itself: reading one is a "not found" error. Here every tree
//! and blob greenlight reads goes through [`Repo::tree`] and [`Repo::blob`], which ask the
//! promisor remote for a missing object (`git fetch --stdin` with its id, as git's own lazy
//! fetch does) and read it again; [`Repo::prefetch`] gets what a command is about to read in
//! a few requests (one per two levels of folders, one for all the blobs) instead of one per
//! object. A shallow clone lacks history: [`Repo::deepen`] fetches more of it (commits only,
//! in a partial clone), for the history walk that reaches the boundary
//! ([`Repo::shallow_boundary`]). Nothing here moves a ref or touches a checkout.

use std::collections::HashSet;

use git2::{Blob, ErrorClass, ErrorCode, ObjectType, OdbLookupFlags, Tree};

use super::transport::{Deepen, ObjectFilter, Transport};
use super::{Oid, Repo, RepoError};

/// What a command is about to read, for [`Repo::prefetch`]; paths are repository-relative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// One file.
    File(String),
    /// The files directly in a folder.
    Files(String),
    /// Everything below a folder.
    All(String),
}

impl Want {
    fn path(&self) -> &str {
        match self {
            Want::File(p) | Want::Files(p) | Want::All(p) => p.trim_end_matches('/'),
        }
    }
}

/// The remote a partial clone fetches missing objects from: the one git's
/// `extensions.partialclone` names, or else the first with `remote.<name>.promisor` set
/// (what `git clone --filter` writes).
pub(super) fn promisor_remote(repo: &git2::Repository) -> Option<String> {
    let config = repo.config().and_then(|mut c| c.snapshot()).ok()?;
    if let Ok(name) = config.get_string("extensions.partialclone") {
        return Some(name).filter(|n| !n.is_empty());
    }
    let entries = config.entries(Some(r"^remote\..*\.promisor$")).ok()?;
    let mut found = None;
    entries
        .for_each(|entry| {
            if found.is_none() && entry.value().ok() == Some("true") {
                found = entry
                    .name()
                    .ok()
                    .and_then(|n| n.strip_prefix("remote."))
                    .and_then(|n| n.strip_suffix(".promisor"))
                    .map(str::to_owned);
            }
        })
        .ok()?;
    found
}

/// Whether `e` says an object is not in the object database (as opposed to a path that is
/// not in a tree, or a damaged object).
fn is_missing_object(e: &git2::Error) -> bool {
    e.class() == ErrorClass::Odb && e.code() == ErrorCode::NotFound
}

/// How many commits the first deepening of a shallow clone fetches, and by how much each
/// next one grows, before the rest of the history is fetched at once.
const FIRST_DEEPEN: u32 = 100;
const DEEPEN_GROWTH: u32 = 8;
const DEEPEN_STEPS: u32 = 3;

impl Repo {
    /// Whether the repository is a partial clone: objects it lacks are fetched when read.
    pub fn is_partial(&self) -> bool {
        self.promisor.is_some()
    }

    /// The tree `id`, fetched first when a partial clone lacks it.
    pub(crate) fn tree(&self, id: Oid) -> Result<Tree<'_>, RepoError> {
        match self.inner.find_tree(id) {
            Err(e) if is_missing_object(&e) && self.is_partial() => {
                self.fetch_missing(&[id], ObjectFilter::Exact)?;
                self.inner.find_tree(id)
            }
            other => other,
        }
        .map_err(RepoError::git("read a directory"))
    }

    /// The blob `id`, fetched first when a partial clone lacks it.
    pub(crate) fn blob(&self, id: Oid) -> Result<Blob<'_>, RepoError> {
        match self.inner.find_blob(id) {
            Err(e) if is_missing_object(&e) && self.is_partial() => {
                self.fetch_missing(&[id], ObjectFilter::Exact)?;
                self.inner.find_blob(id)
            }
            other => other,
        }
        .map_err(RepoError::git("read a file"))
    }

    /// The size of blob `id` from its object header, fetching it first when missing.
    pub(crate) fn blob_size(&self, id: Oid) -> Result<usize, RepoError> {
        let odb = self
            .inner
            .odb()
            .map_err(RepoError::git("open the object database"))?;
        match odb.read_header(id) {
            Err(e) if is_missing_object(&e) && self.is_partial() => {
                self.fetch_missing(&[id], ObjectFilter::Exact)?;
                odb.read_header(id)
            }
            other => other,
        }
        .map(|(size, _)| size)
        .map_err(RepoError::git("read a file's size"))
    }

    /// Those of `ids` the object database does not hold.
    fn missing(&self, ids: impl IntoIterator<Item = Oid>) -> Result<Vec<Oid>, RepoError> {
        let odb = self
            .inner
            .odb()
            .map_err(RepoError::git("open the object database"))?;
        let mut seen = HashSet::new();
        Ok(ids
            .into_iter()
            .filter(|id| seen.insert(*id) && !odb.exists_ext(*id, OdbLookupFlags::NO_REFRESH))
            .collect())
    }

    /// Fetches `ids` from the promisor remote in one request and makes libgit2 see the new
    /// pack.
    fn fetch_missing(&self, ids: &[Oid], filter: ObjectFilter) -> Result<(), RepoError> {
        let Some(remote) = &self.promisor else {
            return Ok(());
        };
        if ids.is_empty() {
            return Ok(());
        }
        Transport::from_env()
            .fetch_objects(self.git_dir(), remote, ids, filter)
            .map_err(|source| RepoError::Fetch {
                what: "the objects it lacks",
                source,
            })?;
        self.inner
            .odb()
            .and_then(|odb| odb.refresh())
            .map_err(RepoError::git("read the fetched objects"))
    }

    /// Fetches what reading `wants` at `commit` needs and a partial clone lacks, in few
    /// requests: the folders on the way, two levels per request, then every blob at once.
    /// Does nothing in a repository that holds all its objects. Paths that do not exist are
    /// skipped (reading them later says so).
    pub fn prefetch(&self, commit: Oid, wants: &[Want]) -> Result<(), RepoError> {
        if !self.is_partial() {
            return Ok(());
        }
        let root = self.tree_of(commit)?.id();
        // Each want walks down its folders; all walks take a step per round.
        let mut walks: Vec<(&Want, Vec<&str>, Oid)> = wants
            .iter()
            .map(|w| {
                let parts: Vec<&str> = w.path().split('/').filter(|p| !p.is_empty()).collect();
                (w, parts, root)
            })
            .collect();
        let mut blobs: Vec<Oid> = Vec::new();
        let mut whole: Vec<Oid> = Vec::new();
        while !walks.is_empty() {
            let lacking = self.missing(walks.iter().map(|(_, _, tree)| *tree))?;
            self.fetch_missing(&lacking, ObjectFilter::Children)?;
            let mut next = Vec::new();
            for (want, parts, id) in walks {
                let tree = self.tree(id)?;
                let last = match want {
                    Want::File(_) => 1,
                    Want::Files(_) | Want::All(_) => 0,
                };
                if parts.len() > last {
                    let Some(entry) = tree.get_name(parts[0]) else {
                        continue;
                    };
                    if entry.kind() == Some(ObjectType::Tree) {
                        next.push((want, parts[1..].to_vec(), entry.id()));
                    }
                    continue;
                }
                match want {
                    Want::File(_) => {
                        if let Some(entry) = parts.first().and_then(|name| tree.get_name(name)) {
                            if entry.kind() == Some(ObjectType::Blob) {
                                blobs.push(entry.id());
                            }
                        }
                    }
                    Want::Files(_) => blobs.extend(
                        tree.iter()
                            .filter(|e| e.kind() == Some(ObjectType::Blob))
                            .map(|e| e.id()),
                    ),
                    Want::All(_) => whole.push(id),
                }
            }
            walks = next;
        }
        for id in whole {
            let tree = self.tree(id)?;
            blobs.extend(self.blobs_below(&tree)?);
        }
        let lacking = self.missing(blobs)?;
        self.fetch_missing(&lacking, ObjectFilter::Exact)
    }

    /// Every blob below `tree`, fetching the trees a partial clone lacks (all in one request).
    fn blobs_below(&self, tree: &Tree<'_>) -> Result<Vec<Oid>, RepoError> {
        let walk = |tree: &Tree<'_>| {
            let mut blobs = Vec::new();
            tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
                if entry.kind() == Some(ObjectType::Blob) {
                    blobs.push(entry.id());
                }
                git2::TreeWalkResult::Ok
            })
            .map(|()| blobs)
        };
        match walk(tree) {
            Err(e) if e.class() == ErrorClass::Odb && self.is_partial() => {
                self.fetch_trees_below(tree)?;
                walk(tree)
            }
            other => other,
        }
        .map_err(RepoError::git("walk the tree"))
    }

    /// Fetches, in one request, every tree below `tree` that a partial clone lacks.
    pub(super) fn fetch_trees_below(&self, tree: &Tree<'_>) -> Result<(), RepoError> {
        let mut lacking = Vec::new();
        let mut pending = vec![tree.id()];
        while let Some(id) = pending.pop() {
            let Ok(tree) = self.inner.find_tree(id) else {
                lacking.push(id);
                continue;
            };
            pending.extend(
                tree.iter()
                    .filter(|e| e.kind() == Some(ObjectType::Tree))
                    .map(|e| e.id()),
            );
        }
        self.fetch_missing(&lacking, ObjectFilter::Trees)
    }

    /// The commits at which a shallow clone's history stops (git's `shallow` file): their
    /// parents are not in the repository. Empty for a complete history.
    pub fn shallow_boundary(&self) -> Result<HashSet<Oid>, RepoError> {
        let path = self.inner.commondir().join("shallow");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
            Err(e) => return Err(RepoError::io("read", path)(e)),
        };
        Ok(text
            .lines()
            .filter_map(|line| Oid::from_str(line.trim()).ok())
            .collect())
    }

    /// The remote a shallow clone fetches more history from: the promisor remote of a
    /// partial clone, else the upstream remote of the checked-out branch, else `origin`.
    fn history_remote(&self) -> Option<String> {
        if let Some(remote) = &self.promisor {
            return Some(remote.clone());
        }
        let config = self.inner.config().ok()?;
        let upstream = self.head_branch().ok().and_then(|head| {
            let short = head.strip_prefix("refs/heads/")?.to_owned();
            config.get_string(&format!("branch.{short}.remote")).ok()
        });
        upstream
            .or_else(|| {
                config
                    .get_string("remote.origin.url")
                    .ok()
                    .map(|_| "origin".to_owned())
            })
            .filter(|r| r != ".")
    }

    /// Fetches more history behind the shallow boundary, the `round`-th time for this walk
    /// (0 first): 100 commits, then 800, then 6,400, then all the rest. Commits only in a
    /// partial clone. An error when the repository has no remote to fetch it from.
    pub fn deepen(&self, tip: Oid, round: u32) -> Result<(), RepoError> {
        let boundary = self.shallow_boundary()?;
        let Some(remote) = self.history_remote() else {
            return Err(RepoError::ShallowHistory {
                commits: boundary.len(),
            });
        };
        let by = match round {
            r if r < DEEPEN_STEPS => Deepen::By(FIRST_DEEPEN * DEEPEN_GROWTH.pow(r)),
            _ => Deepen::All,
        };
        tracing::info!("the history is shallow: fetching more of it from {remote} ({by:?})");
        Transport::from_env()
            .deepen(self.git_dir(), &remote, tip, by, self.is_partial())
            .map_err(|source| RepoError::Fetch {
                what: "more history",
                source,
            })?;
        self.inner
            .odb()
            .and_then(|odb| odb.refresh())
            .map_err(RepoError::git("read the fetched history"))
    }
}
