//! The checkout side of a commit: finding uncommitted edits to the paths a commit will write
//! (by looking at exactly those paths, never scanning the whole tree), then writing those
//! files atomically and updating their index entries once the branch has moved. It never
//! touches a path that is not part of the change.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use git2::{FileMode, Index, IndexEntry, IndexTime, ObjectType, Oid};

use super::RepoError;

/// One path of a change, as the checkout sees it.
pub(crate) struct PathChange<'a> {
    /// Repository-relative path (already validated).
    pub path: &'a str,
    /// The blob at this path in `HEAD`, if any.
    pub head: Option<Oid>,
    /// The new content and its blob id and mode; `None` deletes the path.
    pub new: Option<(&'a [u8], Oid, FileMode)>,
}

/// The paths whose index entry or checkout file holds something that is neither the `HEAD`
/// version nor the version about to be written (so writing would lose it), sorted.
pub(crate) fn dirty_paths(
    workdir: &Path,
    index: &Index,
    changes: &[PathChange<'_>],
) -> Result<Vec<String>, RepoError> {
    let mut dirty = Vec::new();
    for change in changes {
        let target = change.new.map(|(_, id, _)| id);
        let acceptable = |state: Option<Oid>| state == change.head || state == target;
        let rel = Path::new(change.path);
        let conflicted = (1..=3).any(|stage| index.get_path(rel, stage).is_some());
        let staged = index.get_path(rel, 0).map(|entry| entry.id);
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

/// Write (or delete) every changed file in the checkout and record it in the index, then
/// write the index. Files are replaced atomically by renaming a temporary file into place, so
/// a file is always either its old or its new version, never a truncated one. The temporary
/// files are made in `scratch` (inside the git directory) when it is on the same file system,
/// so a process killed mid-way leaves nothing for `git status` to show; otherwise next to the
/// file. Directories emptied by a deletion are removed.
///
/// Order, for crash safety: the caller records the move (`pending`), moves the branch, then
/// this writes the files, then the index (itself written to a lock file and renamed). A kill
/// at any point leaves the branch at the old or the new commit, each file at its old or new
/// content, and the index at its old or new state; `git fsck` stays clean, and the record
/// lets the next run finish the update (writing the same content again is harmless).
pub(crate) fn apply(
    workdir: &Path,
    scratch: &Path,
    index: &mut Index,
    changes: &[PathChange<'_>],
) -> Result<(), RepoError> {
    for change in changes {
        let full = workdir.join(change.path);
        match change.new {
            Some((bytes, id, mode)) => {
                write_atomically_via(&full, scratch, bytes, mode == FileMode::BlobExecutable)?;
                let meta = fs::symlink_metadata(&full).map_err(RepoError::io("inspect", &full))?;
                index
                    .add(&index_entry(change.path, id, mode, &meta))
                    .map_err(RepoError::git("update the index"))?;
            }
            None => {
                match fs::remove_file(&full) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(RepoError::io("delete", &full)(e)),
                }
                remove_empty_parents(workdir, change.path);
                index
                    .remove_path(Path::new(change.path))
                    .map_err(RepoError::git("update the index"))?;
            }
        }
    }
    index.write().map_err(RepoError::git("write the index"))
}

/// [`write_atomically`] through a temporary file in `scratch`, falling back to one next to
/// the file when a rename from `scratch` is not possible (another file system).
fn write_atomically_via(
    full: &Path,
    scratch: &Path,
    bytes: &[u8],
    executable: bool,
) -> Result<(), RepoError> {
    let dir = full
        .parent()
        .expect("a checkout file always has a parent directory");
    fs::create_dir_all(dir).map_err(RepoError::io("create the directory", dir))?;
    if fs::create_dir_all(scratch).is_ok() {
        let tmp = scratch.join(format!("write-{}.tmp", std::process::id()));
        if write_new_file(&tmp, bytes, executable).is_ok() {
            match fs::rename(&tmp, full) {
                Ok(()) => return Ok(()),
                Err(_) => {
                    let _ = fs::remove_file(&tmp);
                }
            }
        }
    }
    write_atomically(full, bytes, executable)
}

fn write_atomically(full: &Path, bytes: &[u8], executable: bool) -> Result<(), RepoError> {
    let dir = full
        .parent()
        .expect("a checkout file always has a parent directory");
    fs::create_dir_all(dir).map_err(RepoError::io("create the directory", dir))?;
    let name = full
        .file_name()
        .expect("validated paths end in a file name")
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.greenlight-{}.tmp", std::process::id()));
    let written = write_new_file(&tmp, bytes, executable);
    let renamed =
        written.and_then(|()| fs::rename(&tmp, full).map_err(RepoError::io("replace", full)));
    if renamed.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    renamed
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
    file.write_all(bytes).map_err(RepoError::io("write", tmp))?;
    file.sync_all().map_err(RepoError::io("flush", tmp))
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
        // The index stores sizes truncated to 32 bits, like git.
        file_size: meta.len() as u32,
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
