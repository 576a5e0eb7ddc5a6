//! The checkout side of a commit: finding uncommitted edits to the paths a commit will write
//! (by looking at exactly those paths, never scanning the whole tree), then writing those
//! files atomically and updating their index entries once the branch has moved. It never
//! touches a path that is not part of the change.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use git2::{FileMode, Index, IndexEntry, IndexTime, ObjectType, Oid};

use super::index_file::{IndexFile, NewEntry};
use super::RepoError;
use crate::workspace::same_file_system;

/// What the dirty check needs from an index: greenlight's own reader ([`IndexFile`]) where
/// the index format allows, libgit2's otherwise.
pub(crate) trait IndexLookup {
    /// The blob staged for `path` (stage 0), if any.
    fn stage0(&self, path: &str) -> Option<Oid>;
    /// Whether `path` has conflict entries.
    fn conflicted(&self, path: &str) -> bool;
    /// Whether `path` is outside the checkout's sparse-checkout patterns (skip-worktree).
    fn skip_worktree(&self, path: &str) -> bool;
}

impl IndexLookup for IndexFile {
    fn stage0(&self, path: &str) -> Option<Oid> {
        IndexFile::stage0(self, path)
    }
    fn conflicted(&self, path: &str) -> bool {
        IndexFile::conflicted(self, path)
    }
    fn skip_worktree(&self, path: &str) -> bool {
        IndexFile::skip_worktree(self, path)
    }
}

impl IndexLookup for Index {
    fn stage0(&self, path: &str) -> Option<Oid> {
        self.get_path(Path::new(path), 0).map(|entry| entry.id)
    }
    fn conflicted(&self, path: &str) -> bool {
        (1..=3).any(|stage| self.get_path(Path::new(path), stage).is_some())
    }
    fn skip_worktree(&self, path: &str) -> bool {
        (0..=3).any(|stage| {
            self.get_path(Path::new(path), stage).is_some_and(|entry| {
                git2::IndexEntryExtendedFlag::from_bits_truncate(entry.flags_extended)
                    .is_skip_worktree()
            })
        })
    }
}

/// One path of a change, as the checkout sees it.
pub(crate) struct PathChange<'a> {
    /// Repository-relative path (already validated).
    pub path: &'a str,
    /// The blob at this path in `HEAD`, if any.
    pub head: Option<Oid>,
    /// The new content and its blob id and mode; `None` deletes the path.
    pub new: Option<(&'a [u8], Oid, FileMode)>,
}

/// The paths of `changes` outside the checkout's sparse-checkout patterns (their index
/// entries are skip-worktree), sorted: greenlight writes every file it commits into the
/// checkout, which git would not do there.
pub(crate) fn outside_sparse_checkout(
    index: &dyn IndexLookup,
    changes: &[PathChange<'_>],
) -> Vec<String> {
    let mut outside: Vec<String> = changes
        .iter()
        .filter(|change| index.skip_worktree(change.path))
        .map(|change| change.path.to_owned())
        .collect();
    outside.sort();
    outside
}

/// The paths whose index entry or checkout file holds something that is neither the `HEAD`
/// version nor the version about to be written (so writing would lose it), sorted.
pub(crate) fn dirty_paths(
    workdir: &Path,
    index: &dyn IndexLookup,
    changes: &[PathChange<'_>],
) -> Result<Vec<String>, RepoError> {
    let mut dirty = Vec::new();
    for change in changes {
        let target = change.new.map(|(_, id, _)| id);
        let acceptable = |state: Option<Oid>| state == change.head || state == target;
        let rel = Path::new(change.path);
        let conflicted = index.conflicted(change.path);
        let staged = index.stage0(change.path);
        let clean = !conflicted
            && acceptable(staged)
            && match checkout_state(&workdir.join(rel))? {
                FileState::Missing => acceptable(None),
                FileState::Blob(id) => acceptable(Some(id)),
                FileState::NotAFile => false,
            };
        if !clean {
            dirty.push(change.path.to_string());
        }
    }
    dirty.sort();
    Ok(dirty)
}

/// Whether both the index entry and the file of `path` hold `target` (`None`: absent).
pub(crate) fn is_at(
    workdir: &Path,
    index: &Index,
    path: &str,
    target: Option<Oid>,
) -> Result<bool, RepoError> {
    let rel = Path::new(path);
    if index.get_path(rel, 0).map(|entry| entry.id) != target {
        return Ok(false);
    }
    Ok(match checkout_state(&workdir.join(rel))? {
        FileState::Missing => target.is_none(),
        FileState::Blob(id) => target == Some(id),
        FileState::NotAFile => false,
    })
}

/// Whether the checkout file of `path` holds blob `id` (an unreadable one does not).
fn holds(workdir: &Path, path: &str, id: Oid) -> bool {
    matches!(checkout_state(&workdir.join(path)), Ok(FileState::Blob(blob)) if blob == id)
}

enum FileState {
    Missing,
    Blob(Oid),
    NotAFile,
}

fn checkout_state(full: &Path) -> Result<FileState, RepoError> {
    let meta = match fs::symlink_metadata(full) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileState::Missing),
        // A parent of the path is a file: the checkout does not match HEAD's layout.
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Ok(FileState::NotAFile),
        Err(e) => return Err(RepoError::io("inspect", full)(e)),
    };
    if meta.file_type().is_symlink() {
        let target = fs::read_link(full).map_err(RepoError::io("read the link", full))?;
        let id = Oid::hash_object(ObjectType::Blob, target.as_os_str().as_encoded_bytes())
            .map_err(RepoError::git("hash a checkout file"))?;
        return Ok(FileState::Blob(id));
    }
    if !meta.is_file() {
        return Ok(FileState::NotAFile);
    }
    let id =
        Oid::hash_file(ObjectType::Blob, full).map_err(RepoError::git("hash a checkout file"))?;
    Ok(FileState::Blob(id))
}

/// Brings the checkout and the index of the repository at `git_dir` to the new content of
/// `changes`, calling `commit_point` (the branch move) while git's index lock is held, as
/// git's own commands do.
///
/// Order, for crash safety:
/// 1. every new file is written in full to a temporary file (in the scratch folder inside
///    the git directory, when that is on the same file system as the file; else beside it);
/// 2. the index lock (`index.lock`) is taken as git takes it, so no git command writes the
///    index meanwhile (a held lock is [`RepoError::IndexLocked`]), and the index is read
///    (`previous`, read by the caller's dirty check, is taken when the file has not changed);
/// 3. `commit_point` runs; if it fails, the temporary files are removed and the lock given
///    up: nothing has changed;
/// 4. the temporary files are renamed into place and deleted paths removed;
/// 5. the index, with entries carrying the final files' metadata (so `git diff-files` sees
///    them clean without re-reading them), is written into the lock, which is renamed over
///    the index: from here the index matches the branch.
///
/// So whenever no `index.lock` is left, the index is in step with the branch, and a plain
/// `git commit` after a kill never reverts the release; each file is at its old or new
/// content, never a truncated one, and the caller's pending record lets the next run finish
/// steps 4 and 5 (a lock left by a kill stops git and greenlight alike, as a killed git's
/// does).
pub(crate) fn apply(
    workdir: &Path,
    git_dir: &Path,
    changes: &[PathChange<'_>],
    previous: Option<IndexFile>,
    commit_point: impl FnOnce() -> Result<(), RepoError>,
) -> Result<(), RepoError> {
    let scratch = git_dir.join(SCRATCH_DIR);
    let mut staged = Staged::default();
    let written = changes.iter().try_for_each(|change| {
        if let Some((bytes, _, mode)) = change.new {
            let full = workdir.join(change.path);
            staged.write(&full, &scratch, bytes, mode == FileMode::BlobExecutable)?;
        }
        Ok(())
    });
    if let Err(e) = written {
        staged.discard();
        return Err(e);
    }
    let lock = match IndexLock::acquire(git_dir) {
        Ok(lock) => lock,
        Err(e) => {
            staged.discard();
            return Err(e);
        }
    };
    let prepared = lock.current(previous).and_then(|index| {
        commit_point()?;
        Ok(index)
    });
    let mut index = match prepared {
        Ok(index) => index,
        Err(e) => {
            staged.discard();
            lock.release();
            return Err(e);
        }
    };
    // The branch has moved: from here a failure leaves the pending record for the next run,
    // and gives the lock up so that run (or git) can write the index.
    let finished = (|| {
        for (tmp, full) in staged.files.drain(..) {
            fs::rename(&tmp, &full).map_err(RepoError::io("replace", &full))?;
        }
        let mut entries = Vec::with_capacity(changes.len());
        for change in changes {
            let full = workdir.join(change.path);
            match change.new {
                Some((_, id, mode)) => {
                    let meta =
                        fs::symlink_metadata(&full).map_err(RepoError::io("inspect", &full))?;
                    entries.push((change.path, Some((id, mode, meta))));
                }
                None => {
                    match fs::remove_file(&full) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(RepoError::io("delete", &full)(e)),
                    }
                    remove_empty_parents(workdir, change.path);
                    entries.push((change.path, None));
                }
            }
        }
        lock.fill(workdir, &mut index, &entries)
    })();
    match finished {
        Ok(()) => lock.commit(),
        Err(e) => {
            staged.discard();
            lock.release();
            Err(e)
        }
    }
}

/// The index being prepared under the lock.
enum Draft {
    /// Read by greenlight; the new one is written straight into the lock.
    File(IndexFile),
    /// A copy opened by libgit2 (index formats [`IndexFile`] leaves to it).
    Git(Index),
}

/// A path of the new index: its blob, mode and checkout file metadata, or `None` (removed).
type IndexChange<'a> = (&'a str, Option<(Oid, FileMode, fs::Metadata)>);

/// The folder inside the git directory where greenlight writes its temporary files.
pub(crate) const SCRATCH_DIR: &str = "greenlight-tmp";

/// The checkout's index: `GIT_INDEX_FILE` when set (relative to the current directory, as
/// git reads it; git sets it for its hooks), else `index` in `git_dir`. libgit2, which the
/// dirty check and the fallback writer use, reads the same variable.
pub(super) fn index_path(git_dir: &Path) -> PathBuf {
    match std::env::var_os("GIT_INDEX_FILE") {
        Some(file) if !file.is_empty() => PathBuf::from(file),
        _ => git_dir.join("index"),
    }
}

/// git's lock of that index: its path with `.lock` added.
pub(super) fn index_lock_path(git_dir: &Path) -> PathBuf {
    let mut lock = index_path(git_dir).into_os_string();
    lock.push(".lock");
    PathBuf::from(lock)
}

/// git's index lock, held from before the new index is prepared until it replaces the index.
struct IndexLock {
    index: PathBuf,
    lock: PathBuf,
    /// Where the new index is prepared before it goes into the lock.
    draft: PathBuf,
}

impl IndexLock {
    /// Takes `index.lock` as git does (creating it exclusively).
    fn acquire(git_dir: &Path) -> Result<IndexLock, RepoError> {
        let index = index_path(git_dir);
        let lock = index_lock_path(git_dir);
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(RepoError::IndexLocked { path: lock })
            }
            Err(e) => return Err(RepoError::io("create", &lock)(e)),
        }
        let scratch = git_dir.join(SCRATCH_DIR);
        let _ = fs::create_dir_all(&scratch);
        Ok(IndexLock {
            index,
            draft: scratch.join(format!("index-{}.tmp", std::process::id())),
            lock,
        })
    }

    /// The current index, to edit (nobody can change it while the lock is held): read by
    /// [`IndexFile`] when its format allows (`previous` when the file is still the one it
    /// was read from), else a copy opened by libgit2.
    fn current(&self, previous: Option<IndexFile>) -> Result<Draft, RepoError> {
        match IndexFile::reread(&self.index, previous)? {
            Some(file) => Ok(Draft::File(file)),
            None => self.copy_for_libgit2().map(Draft::Git),
        }
    }

    /// A copy of the current index opened by libgit2.
    fn copy_for_libgit2(&self) -> Result<Index, RepoError> {
        let _ = fs::remove_file(&self.draft);
        match fs::copy(&self.index, &self.draft) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(RepoError::io("copy", &self.index)(e)),
        }
        Index::open(&self.draft).map_err(RepoError::git("read the index"))
    }

    /// Writes the index with `entries` (a path and its new blob, mode and checkout file
    /// metadata, or `None` to remove it) into the lock, ready to replace the index. Other
    /// entries git would find racily clean whose file in `workdir` no longer holds their
    /// blob are smudged, as git does when it writes an index.
    fn fill(
        &self,
        workdir: &Path,
        index: &mut Draft,
        entries: &[IndexChange<'_>],
    ) -> Result<(), RepoError> {
        let file = match index {
            Draft::File(file) => file,
            Draft::Git(index) => return self.fill_with_libgit2(workdir, index, entries),
        };
        let updates: Vec<(&str, Option<NewEntry>)> = entries
            .iter()
            .map(|(path, new)| {
                let entry = new
                    .as_ref()
                    .map(|(id, mode, meta)| NewEntry::new(*id, u32::from(*mode), meta));
                (*path, entry)
            })
            .collect();
        let lock = fs::File::create(&self.lock).map_err(RepoError::io("write", &self.lock))?;
        let written = file
            .write_updated(&updates, &mut |path, id| holds(workdir, path, id), lock)
            .map_err(RepoError::io("write", &self.lock))?;
        if written {
            Ok(())
        } else {
            // A change it does not make: libgit2 makes it.
            self.fill_with_libgit2(workdir, &mut self.copy_for_libgit2()?, entries)
        }
    }

    /// [`IndexLock::fill`] through libgit2, `index` being a copy of the index.
    fn fill_with_libgit2(
        &self,
        workdir: &Path,
        index: &mut Index,
        entries: &[IndexChange<'_>],
    ) -> Result<(), RepoError> {
        // libgit2 smudges racily clean entries only in a repository's own index, not in this
        // copy: do it as git does, before the changed entries get their new stat data.
        let written = fs::metadata(&self.index)
            .ok()
            .and_then(|meta| meta.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as u32);
        let racy: Vec<IndexEntry> = index
            .iter()
            .filter(|e| {
                (e.flags >> 12) & 3 == 0
                    && written != 0
                    && e.mtime.seconds() as u32 >= written
                    && e.mode & 0o170000 != 0o160000
                    && e.file_size != 0
            })
            .collect();
        for mut entry in racy {
            let path = String::from_utf8_lossy(&entry.path).into_owned();
            if !holds(workdir, &path, entry.id) {
                entry.file_size = 0;
                index
                    .add(&entry)
                    .map_err(RepoError::git("update the index"))?;
            }
        }
        for (path, new) in entries {
            match new {
                Some((id, mode, meta)) => index
                    .add(&index_entry(path, *id, *mode, meta))
                    .map_err(RepoError::git("update the index"))?,
                // Not there (an untracked path): nothing to remove.
                None => {
                    let _ = index.remove_path(Path::new(path));
                }
            }
        }
        index.write().map_err(RepoError::git("write the index"))?;
        fs::rename(&self.draft, &self.lock).map_err(RepoError::io("write", &self.lock))
    }

    /// Replaces the index with the lock's content, releasing the lock.
    fn commit(self) -> Result<(), RepoError> {
        fs::rename(&self.lock, &self.index).map_err(RepoError::io("write", &self.index))
    }

    /// Gives the lock up, leaving the index as it was.
    fn release(self) {
        let _ = fs::remove_file(&self.draft);
        let _ = fs::remove_file(&self.lock);
    }
}

/// Temporary files holding new contents, each with the path it will be renamed to.
#[derive(Default)]
struct Staged {
    files: Vec<(PathBuf, PathBuf)>,
}

impl Staged {
    /// Writes `bytes` to a new temporary file from which a rename to `full` will succeed:
    /// in `scratch` when it is on the same file system as `full`'s folder (so a killed run
    /// leaves nothing for `git status` to show), else beside `full`. Returns its path.
    fn write(
        &mut self,
        full: &Path,
        scratch: &Path,
        bytes: &[u8],
        executable: bool,
    ) -> Result<PathBuf, RepoError> {
        let dir = full
            .parent()
            .expect("a checkout file always has a parent directory");
        fs::create_dir_all(dir).map_err(RepoError::io("create the directory", dir))?;
        let n = self.files.len();
        let tmp = match same_file_system(scratch, dir) {
            true => scratch.join(format!("write-{}-{n}.tmp", std::process::id())),
            false => {
                let name = full
                    .file_name()
                    .expect("validated paths end in a file name")
                    .to_string_lossy();
                dir.join(format!(".{name}.greenlight-{}.tmp", std::process::id()))
            }
        };
        write_new_file(&tmp, bytes, executable)?;
        self.files.push((tmp.clone(), full.to_owned()));
        Ok(tmp)
    }

    fn discard(&mut self) {
        for (tmp, _) in self.files.drain(..) {
            let _ = fs::remove_file(tmp);
        }
    }
}

fn write_new_file(tmp: &PathBuf, bytes: &[u8], executable: bool) -> Result<(), RepoError> {
    match fs::remove_file(tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(RepoError::io("remove the stale temporary file", tmp)(e)),
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if executable { 0o777 } else { 0o666 });
    }
    #[cfg(not(unix))]
    let _ = executable;
    let mut file = options.open(tmp).map_err(RepoError::io("create", tmp))?;
    // Not fsync'ed, as git leaves checkout files on checkout: the rename keeps a half-written
    // file from ever being visible, a killed process loses nothing the kernel holds, and an
    // fsync waits for the whole file system journal (tens of milliseconds on a busy disk).
    file.write_all(bytes).map_err(RepoError::io("write", tmp))
}

/// Remove the directories between `rel`'s parent and the checkout root that are now empty.
fn remove_empty_parents(workdir: &Path, rel: &str) {
    let mut dir = rel;
    while let Some((parent, _)) = dir.rsplit_once('/') {
        // Stops at the first directory that still has entries (or cannot be removed).
        if fs::remove_dir(workdir.join(parent)).is_err() {
            break;
        }
        dir = parent;
    }
}

fn index_entry(path: &str, id: Oid, mode: FileMode, meta: &fs::Metadata) -> IndexEntry {
    let (ctime, mtime, dev, ino, uid, gid) = stat(meta);
    IndexEntry {
        ctime,
        mtime,
        dev,
        ino,
        mode: u32::from(mode),
        uid,
        gid,
        file_size: super::index_file::index_size(meta.len()),
        id,
        flags: 0,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

#[cfg(unix)]
fn stat(meta: &fs::Metadata) -> (IndexTime, IndexTime, u32, u32, u32, u32) {
    use std::os::unix::fs::MetadataExt as _;
    // The index format stores 32-bit fields; git truncates the same way.
    (
        IndexTime::new(meta.ctime() as i32, meta.ctime_nsec() as u32),
        IndexTime::new(meta.mtime() as i32, meta.mtime_nsec() as u32),
        meta.dev() as u32,
        meta.ino() as u32,
        meta.uid(),
        meta.gid(),
    )
}

#[cfg(not(unix))]
fn stat(meta: &fs::Metadata) -> (IndexTime, IndexTime, u32, u32, u32, u32) {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| IndexTime::new(d.as_secs() as i32, d.subsec_nanos()))
        .unwrap_or_else(|| IndexTime::new(0, 0));
    (mtime, mtime, 0, 0, 0, 0)
}

/// Temporary files older than this are left over from a killed run (a write takes
/// milliseconds), never in use by a live one.
pub(crate) const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the files of `dir` whose name starts with `prefix` and ends in `.tmp` and that
/// were last modified more than [`STALE_AFTER`] ago: what a greenlight killed mid-write
/// leaves in the git directory. Best effort: a file that cannot be removed is skipped.
pub(crate) fn sweep_stale(dir: &Path, prefix: &str) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(prefix) && name.ends_with(".tmp")) {
            continue;
        }
        let stale = entry
            .metadata()
            .ok()
            .filter(fs::Metadata::is_file)
            .and_then(|meta| meta.modified().ok())
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if stale && fs::remove_file(entry.path()).is_ok() {
            tracing::debug!("removed a stale temporary file: {}", entry.path().display());
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_temporary_files_with_the_prefix_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let old = std::time::SystemTime::now() - STALE_AFTER - std::time::Duration::from_secs(60);
        let make = |name: &str, aged: bool| {
            let path = dir.path().join(name);
            let file = fs::File::create(&path).unwrap();
            if aged {
                file.set_modified(old).unwrap();
            }
        };
        make("write-1.tmp", true); // a killed run's: removed
        make("write-2.tmp", false); // a live run's: kept
        make("write-3.yaml", true); // not a temporary file: kept
        make("other-4.tmp", true); // another prefix: kept
        fs::create_dir(dir.path().join("write-5.tmp")).unwrap(); // not a file: kept
        assert_eq!(sweep_stale(dir.path(), "write-"), 1);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["other-4.tmp", "write-2.tmp", "write-3.yaml", "write-5.tmp"]
        );
        assert_eq!(sweep_stale(&dir.path().join("missing"), "write-"), 0);
    }

    /// What [`apply`] does for one file: stage it (here beside the file: the scratch folder
    /// does not exist on another file system in a test), then rename it into place.
    fn write_atomically(full: &Path, bytes: &[u8], executable: bool) -> Result<(), RepoError> {
        let mut staged = Staged::default();
        let scratch = full.parent().unwrap().join(".scratch");
        staged.write(full, &scratch, bytes, executable)?;
        for (tmp, full) in staged.files.drain(..) {
            fs::rename(&tmp, &full).map_err(RepoError::io("replace", &full))?;
        }
        fs::remove_dir(&scratch).unwrap();
        Ok(())
    }

    #[test]
    fn the_index_follows_the_commit_point_and_a_failed_one_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let workdir = dir.path();
        let git_dir = repo.path();
        fs::write(workdir.join("a.yaml"), b"old\n").unwrap();
        let old = repo.blob(b"old\n").unwrap();
        let mut index = repo.index().unwrap();
        let meta = fs::metadata(workdir.join("a.yaml")).unwrap();
        index
            .add(&index_entry("a.yaml", old, FileMode::Blob, &meta))
            .unwrap();
        index.write().unwrap();
        let on_disk = || Index::open(&git_dir.join("index")).unwrap();
        let entry = |index: &Index| index.get_path(Path::new("a.yaml"), 0).map(|e| e.id);
        let id = repo.blob(b"new\n").unwrap();
        let changes = [PathChange {
            path: "a.yaml",
            head: Some(old),
            new: Some((b"new\n", id, FileMode::Blob)),
        }];
        let scratch = git_dir.join(SCRATCH_DIR);

        let refused = apply(workdir, git_dir, &changes, None, || {
            Err(RepoError::InvalidPath {
                path: "x".into(),
                reason: "the branch moved",
            })
        });
        assert!(matches!(
            refused,
            Err(RepoError::InvalidPath {
                reason: "the branch moved",
                ..
            })
        ));
        assert_eq!(fs::read(workdir.join("a.yaml")).unwrap(), b"old\n");
        assert_eq!(fs::read_dir(&scratch).unwrap().count(), 0);
        assert!(!git_dir.join("index.lock").exists());
        assert_eq!(entry(&on_disk()), Some(old));

        // At the commit point git's index lock is held and nothing else has changed; right
        // after it, file and index are the new ones, the entry's stat data that of the file.
        apply(workdir, git_dir, &changes, None, || {
            assert_eq!(fs::read(workdir.join("a.yaml")).unwrap(), b"old\n");
            assert_eq!(entry(&on_disk()), Some(old));
            assert!(git_dir.join("index.lock").exists());
            Ok(())
        })
        .unwrap();
        assert_eq!(fs::read(workdir.join("a.yaml")).unwrap(), b"new\n");
        assert_eq!(entry(&on_disk()), Some(id));
        let written = on_disk().get_path(Path::new("a.yaml"), 0).unwrap();
        let meta = fs::metadata(workdir.join("a.yaml")).unwrap();
        let (ctime, mtime, ..) = stat(&meta);
        assert_eq!(
            (written.ctime, written.mtime, written.file_size),
            (ctime, mtime, meta.len() as u32)
        );
        assert!(!git_dir.join("index.lock").exists());
        assert_eq!(fs::read_dir(&scratch).unwrap().count(), 0);

        // A held lock (another git, or a killed one) stops it before anything is written.
        fs::write(git_dir.join("index.lock"), b"").unwrap();
        let locked = apply(workdir, git_dir, &changes, None, || {
            panic!("must not be reached")
        });
        assert!(matches!(locked, Err(RepoError::IndexLocked { .. })));
        assert!(git_dir.join("index.lock").exists());
    }

    #[test]
    fn atomic_write_replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a/b/c.yaml");
        write_atomically(&file, b"one\n", false).unwrap();
        write_atomically(&file, b"two\n", false).unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two\n");
        let names: Vec<_> = fs::read_dir(dir.path().join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("c.yaml")]);
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_sets_the_executable_bit_on_request() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("run.sh");
        let plain = dir.path().join("plain.txt");
        write_atomically(&exe, b"#!/bin/sh\n", true).unwrap();
        write_atomically(&plain, b"x", false).unwrap();
        assert_ne!(fs::metadata(&exe).unwrap().permissions().mode() & 0o100, 0);
        assert_eq!(
            fs::metadata(&plain).unwrap().permissions().mode() & 0o111,
            0
        );
    }

    #[test]
    fn empty_parents_are_removed_up_to_the_first_non_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("keep/gone/deeper")).unwrap();
        fs::write(dir.path().join("keep/other"), b"x").unwrap();
        remove_empty_parents(dir.path(), "keep/gone/deeper/file");
        assert!(!dir.path().join("keep/gone").exists());
        assert!(dir.path().join("keep/other").exists());
    }

    #[test]
    fn checkout_state_distinguishes_missing_files_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f"), b"hello\n").unwrap();
        fs::create_dir(dir.path().join("d")).unwrap();
        assert!(matches!(
            checkout_state(&dir.path().join("missing")).unwrap(),
            FileState::Missing
        ));
        assert!(matches!(
            checkout_state(&dir.path().join("d")).unwrap(),
            FileState::NotAFile
        ));
        assert!(matches!(
            checkout_state(&dir.path().join("f/under-a-file")).unwrap(),
            FileState::NotAFile
        ));
        match checkout_state(&dir.path().join("f")).unwrap() {
            FileState::Blob(id) => {
                assert_eq!(id, Oid::hash_object(ObjectType::Blob, b"hello\n").unwrap())
            }
            _ => panic!("a regular file hashes to its blob id"),
        }
    }
}
