//! The checkout's index file (`.git/index`), read and updated for the few paths a commit
//! changes, without parsing and re-hashing everything the way libgit2 does.
//!
//! libgit2 verifies the SHA-1 of the whole index when it reads it and builds an entry map of
//! every path: on a 42,000-file checkout (a 5.7 MiB index) that was three quarters of a
//! promote. git itself does not verify the checksum on read. This reads the file as git's
//! documented format (`gitformat-index`: a header, entries sorted by path and stage, then
//! extensions and a trailing SHA-1) into offsets only, finds the entries of the changed paths
//! by binary search, and writes the new index by copying every untouched entry as it is,
//! with the changed entries in place, the cache tree (`TREE`) invalidated along the changed
//! paths as git does, and one SHA-1 over the result.
//!
//! Only index versions 2 and 3 without mandatory extensions are handled; anything else
//! (version 4's compressed paths, a split or sparse index) is [`IndexFile::read`] saying
//! `None`, and the caller goes through libgit2 as before. Optional extensions that describe
//! the entries by position or the working tree's state (untracked cache, fsmonitor, the
//! entry offset tables) are dropped, which git allows and rebuilds; the cache tree is kept,
//! invalidated, and the resolve-undo record (`REUC`) kept as it is.

use std::ops::Range;
use std::path::Path;

use git2::Oid;
use sha1::{Digest as _, Sha1};

use super::RepoError;

const HEADER: usize = 12;
const HASH: usize = 20;
/// Bytes of an entry before its path (62), plus 2 with version 3's extended flags.
const FIXED: usize = 62;
const EXTENDED_FLAG: u16 = 0x4000;
const STAGE_MASK: u16 = 0x3000;
const NAME_MASK: u16 = 0x0fff;

/// An index file, read into the offsets of its entries.
pub(crate) struct IndexFile {
    data: Vec<u8>,
    version: u32,
    entries: Vec<EntryAt>,
    /// Where the extensions start (right after the last entry).
    extensions: usize,
}

/// Where one entry lies in the file.
#[derive(Debug, Clone)]
struct EntryAt {
    bytes: Range<usize>,
    path: Range<usize>,
    stage: u8,
}

/// The new index entry of a path: its blob and the stat data of its checkout file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewEntry {
    id: Oid,
    mode: u32,
    /// ctime seconds and nanoseconds, mtime seconds and nanoseconds, dev, ino (then the
    /// mode), uid, gid and size: the order of the file format, each truncated to 32 bits as
    /// git stores them.
    stat: [u32; 9],
}

impl NewEntry {
    /// The entry of blob `id` with `mode` (`0o100644`, `0o100755`, `0o120000`) whose checkout
    /// file has the metadata `meta`, so git sees the file clean without reading it.
    pub fn new(id: Oid, mode: u32, meta: &std::fs::Metadata) -> NewEntry {
        #[cfg(unix)]
        let stat = {
            use std::os::unix::fs::MetadataExt as _;
            [
                meta.ctime() as u32,
                meta.ctime_nsec() as u32,
                meta.mtime() as u32,
                meta.mtime_nsec() as u32,
                meta.dev() as u32,
                meta.ino() as u32,
                meta.uid(),
                meta.gid(),
                meta.len() as u32,
            ]
        };
        #[cfg(not(unix))]
        let stat = {
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .unwrap_or_default();
            let (s, n) = (mtime.as_secs() as u32, mtime.subsec_nanos());
            [s, n, s, n, 0, 0, 0, 0, meta.len() as u32]
        };
        NewEntry { id, mode, stat }
    }
}

fn be32(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes"))
}

fn be16(data: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(data[at..at + 2].try_into().expect("2 bytes"))
}

impl IndexFile {
    /// Reads the index at `path`: an empty index when there is none, `None` when its format
    /// is one this module leaves to libgit2 (see the module documentation).
    pub fn read(path: &Path) -> Result<Option<IndexFile>, RepoError> {
        let data = match std::fs::read(path) {
            Ok(data) => data,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut data = b"DIRC".to_vec();
                data.extend_from_slice(&2u32.to_be_bytes());
                data.extend_from_slice(&0u32.to_be_bytes());
                data.extend_from_slice(&[0; HASH]);
                data
            }
            Err(e) => return Err(RepoError::io("read", path)(e)),
        };
        Ok(Self::parse(data))
    }

    fn parse(data: Vec<u8>) -> Option<IndexFile> {
        if data.len() < HEADER + HASH || &data[..4] != b"DIRC" {
            return None;
        }
        let version = be32(&data, 4);
        if !(2..=3).contains(&version) {
            return None;
        }
        let count = be32(&data, 8) as usize;
        let end = data.len() - HASH;
        let mut entries = Vec::with_capacity(count);
        let mut at = HEADER;
        for _ in 0..count {
            if at + FIXED > end {
                return None;
            }
            let flags = be16(&data, at + 60);
            let mut start = at + FIXED;
            if flags & EXTENDED_FLAG != 0 {
                if version < 3 {
                    return None;
                }
                start += 2;
            }
            let len = match (flags & NAME_MASK) as usize {
                NAME_MASK_USIZE => data[start..end].iter().position(|b| *b == 0)?,
                len => len,
            };
            let fixed = start - at;
            // The entry is padded with 1 to 8 NULs to a multiple of 8 bytes.
            let size = (fixed + len + 8) & !7;
            if at + size > end || data.get(start + len) != Some(&0) {
                return None;
            }
            entries.push(EntryAt {
                bytes: at..at + size,
                path: start..start + len,
                stage: ((flags & STAGE_MASK) >> 12) as u8,
            });
            at += size;
        }
        // Extensions: a lower-case signature is one a reader must understand.
        let mut ext = at;
        while ext + 8 <= end {
            let signature = &data[ext..ext + 4];
            let size = be32(&data, ext + 4) as usize;
            if signature[0].is_ascii_lowercase() || ext + 8 + size > end {
                return None;
            }
            ext += 8 + size;
        }
        if ext != end {
            return None;
        }
        Some(IndexFile {
            data,
            version,
            entries,
            extensions: at,
        })
    }

    fn path_of(&self, entry: &EntryAt) -> &[u8] {
        &self.data[entry.path.clone()]
    }

    /// The position of the first entry whose path is not before `path` (git orders entries
    /// by the bytes of their path, then by stage).
    fn first_at(&self, path: &[u8]) -> usize {
        self.entries.partition_point(|e| self.path_of(e) < path)
    }

    /// The entries of `path`, every stage.
    fn entries_of(&self, path: &str) -> &[EntryAt] {
        let path = path.as_bytes();
        let from = self.first_at(path);
        let to = from
            + self.entries[from..]
                .iter()
                .take_while(|e| self.path_of(e) == path)
                .count();
        &self.entries[from..to]
    }

    /// The blob the index holds for `path` at stage 0 (no conflict), if any.
    pub fn stage0(&self, path: &str) -> Option<Oid> {
        self.entries_of(path)
            .iter()
            .find(|e| e.stage == 0)
            .and_then(|e| Oid::from_bytes(&self.data[e.bytes.start + 40..e.bytes.start + 60]).ok())
    }

    /// Whether `path` has conflict entries (stages 1 to 3).
    pub fn conflicted(&self, path: &str) -> bool {
        self.entries_of(path).iter().any(|e| e.stage != 0)
    }

    /// The index with `updates` applied (a path → its new entry, or `None` to remove it;
    /// paths sorted and distinct), every other entry as it was, the cache tree invalidated
    /// along the changed paths, and a fresh trailing checksum.
    pub fn updated(&self, updates: &[(&str, Option<NewEntry>)]) -> Vec<u8> {
        let mut updates = updates.to_vec();
        updates.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        updates.dedup_by(|a, b| a.0 == b.0);
        let mut out = Vec::with_capacity(self.data.len() + 256 * updates.len());
        out.extend_from_slice(&self.data[..HEADER]);
        let mut count = self.entries.len();
        let mut next = 0; // the next entry not yet copied
        for (path, new) in &updates {
            let from = self.first_at(path.as_bytes());
            let to = from
                + self.entries[from..]
                    .iter()
                    .take_while(|e| self.path_of(e) == path.as_bytes())
                    .count();
            if let Some(first) = self.entries.get(next..from).filter(|r| !r.is_empty()) {
                let last = first.last().expect("not empty");
                out.extend_from_slice(&self.data[first[0].bytes.start..last.bytes.end]);
            }
            count -= to - from;
            if let Some(entry) = new {
                write_entry(&mut out, path, entry);
                count += 1;
            }
            next = to;
        }
        if let Some(rest) = self.entries.get(next..).filter(|r| !r.is_empty()) {
            let last = rest.last().expect("not empty");
            out.extend_from_slice(&self.data[rest[0].bytes.start..last.bytes.end]);
        }
        out[8..12].copy_from_slice(&(count as u32).to_be_bytes());
        // A version 3 index without extended flags left is written as version 2, as git does.
        if self.version == 3 {
            let extended = self.entries.iter().any(|e| {
                be16(&self.data, e.bytes.start + 60) & EXTENDED_FLAG != 0
                    && !updates.iter().any(|(p, _)| p.as_bytes() == self.path_of(e))
            });
            out[4..8].copy_from_slice(&(if extended { 3u32 } else { 2 }).to_be_bytes());
        }

        let changed: Vec<&str> = updates.iter().map(|(p, _)| *p).collect();
        let end = self.data.len() - HASH;
        let mut ext = self.extensions;
        while ext + 8 <= end {
            let signature = &self.data[ext..ext + 4];
            let size = be32(&self.data, ext + 4) as usize;
            let body = &self.data[ext + 8..ext + 8 + size];
            match signature {
                b"TREE" => {
                    if let Some(tree) = invalidate_tree(body, &changed) {
                        out.extend_from_slice(b"TREE");
                        out.extend_from_slice(&(tree.len() as u32).to_be_bytes());
                        out.extend_from_slice(&tree);
                    }
                }
                b"REUC" => out.extend_from_slice(&self.data[ext..ext + 8 + size]),
                // The untracked cache, fsmonitor state, entry offset tables and anything
                // unknown describe entries or the working tree as they were: dropped.
                _ => {}
            }
            ext += 8 + size;
        }
        let hash = Sha1::digest(&out);
        out.extend_from_slice(&hash);
        out
    }
}

const NAME_MASK_USIZE: usize = NAME_MASK as usize;

fn write_entry(out: &mut Vec<u8>, path: &str, entry: &NewEntry) {
    let start = out.len();
    for value in &entry.stat[..6] {
        out.extend_from_slice(&value.to_be_bytes());
    }
    out.extend_from_slice(&entry.mode.to_be_bytes());
    for value in &entry.stat[6..] {
        out.extend_from_slice(&value.to_be_bytes());
    }
    out.extend_from_slice(entry.id.as_bytes());
    let flags = path.len().min(NAME_MASK_USIZE) as u16;
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(path.as_bytes());
    let size = (FIXED + path.len() + 8) & !7;
    out.resize(start + size, 0);
}

/// The cache tree extension `body` with every node on the way to one of `paths` marked
/// invalid (entry count -1, no tree id), as git's `cache_tree_invalidate_path` does; `None`
/// when it cannot be read (the extension is then dropped: git rebuilds it).
fn invalidate_tree(body: &[u8], paths: &[&str]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len());
    let mut at = 0;
    let prefixes: Vec<Vec<&[u8]>> = paths
        .iter()
        .map(|p| {
            let parts: Vec<&[u8]> = p.as_bytes().split(|b| *b == b'/').collect();
            // The folders on the way: every component but the file name.
            parts[..parts.len() - 1].to_vec()
        })
        .collect();
    let all: Vec<&[&[u8]]> = prefixes.iter().map(|p| p.as_slice()).collect();
    node(body, &mut at, &all, true, &mut out)?;
    (at == body.len()).then_some(out)
}

/// Copies one node of the cache tree at `*at` (and its subtrees) to `out`, invalidating it
/// when `on_path`, and its children on the way to `paths` (relative to this node).
fn node(
    body: &[u8],
    at: &mut usize,
    paths: &[&[&[u8]]],
    on_path: bool,
    out: &mut Vec<u8>,
) -> Option<()> {
    let name_end = *at + body[*at..].iter().position(|b| *b == 0)?;
    let line_end = name_end + body[name_end..].iter().position(|b| *b == b'\n')?;
    let counts = std::str::from_utf8(&body[name_end + 1..line_end]).ok()?;
    let (entries, subtrees) = counts.split_once(' ')?;
    let entries: i64 = entries.parse().ok()?;
    let subtrees: usize = subtrees.parse().ok()?;
    let mut next = line_end + 1;
    if entries >= 0 {
        next += HASH;
        if next > body.len() {
            return None;
        }
    }
    if on_path {
        out.extend_from_slice(&body[*at..=name_end]);
        out.extend_from_slice(format!("-1 {subtrees}\n").as_bytes());
    } else {
        out.extend_from_slice(&body[*at..next]);
    }
    *at = next;
    for _ in 0..subtrees {
        let name_end = *at + body[*at..].iter().position(|b| *b == 0)?;
        let name = &body[*at..name_end];
        let below: Vec<&[&[u8]]> = paths
            .iter()
            .filter(|p| on_path && p.first() == Some(&name))
            .map(|p| &p[1..])
            .collect();
        node(body, at, &below, !below.is_empty(), out)?;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A checkout with files in nested folders, committed, with a cache tree in its index.
    fn checkout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        for path in [
            "a.yaml",
            "environments/prod/values.yaml",
            "environments/staging/values.yaml",
            "rendered/prod/api.service.yaml",
            "rendered/prod/api-blue.deployment.yaml",
            "rendered/staging/api.service.yaml",
            "z/deep/er/file",
        ] {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, format!("{path}\n")).unwrap();
        }
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-q", "-m", "one"]);
        // `git commit` leaves a complete cache tree behind.
        git(dir.path(), &["update-index", "--refresh"]);
        dir
    }

    /// Writes `content` to `path` in the checkout and its blob, and returns its new entry.
    fn entry_for(dir: &Path, path: &str, content: &[u8]) -> NewEntry {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, content).unwrap();
        let id = git2::Repository::open(dir).unwrap().blob(content).unwrap();
        NewEntry::new(id, 0o100644, &std::fs::metadata(&full).unwrap())
    }

    #[test]
    fn reads_what_git_wrote() {
        let dir = checkout();
        let index = IndexFile::read(&dir.path().join(".git/index"))
            .unwrap()
            .expect("a version 2 index");
        assert_eq!(index.entries.len(), 7);
        let expected = git(
            dir.path(),
            &["rev-parse", ":rendered/prod/api.service.yaml"],
        );
        assert_eq!(
            index
                .stage0("rendered/prod/api.service.yaml")
                .unwrap()
                .to_string(),
            expected.trim()
        );
        assert_eq!(index.stage0("rendered/prod"), None);
        assert_eq!(index.stage0("rendered/prod/missing.yaml"), None);
        assert!(!index.conflicted("a.yaml"));
    }

    #[test]
    fn an_update_is_what_git_reads_and_what_git_add_makes() {
        let dir = checkout();
        let path = dir.path().join(".git/index");
        let index = IndexFile::read(&path).unwrap().unwrap();
        let changed = entry_for(dir.path(), "rendered/prod/api.service.yaml", b"changed\n");
        let added = entry_for(dir.path(), "rendered/prod/api.ingress.yaml", b"new\n");
        std::fs::remove_file(dir.path().join("environments/staging/values.yaml")).unwrap();
        let bytes = index.updated(&[
            ("environments/staging/values.yaml", None),
            ("rendered/prod/api.ingress.yaml", Some(added)),
            ("rendered/prod/api.service.yaml", Some(changed)),
        ]);
        std::fs::write(&path, &bytes).unwrap();

        // git reads it (`fsck` verifies its checksum) and sees the checkout files exactly as
        // the index says, so only the three changes are staged and nothing else differs.
        assert_eq!(git(dir.path(), &["diff", "--name-status"]), "");
        let staged = git(dir.path(), &["diff", "--cached", "--name-status"]);
        assert_eq!(
            staged,
            "D\tenvironments/staging/values.yaml\nA\trendered/prod/api.ingress.yaml\n\
             M\trendered/prod/api.service.yaml\n"
        );
        // The cache tree says nothing wrong: the tree git writes from it is the one a full
        // `git add` of the same checkout gives.
        let ours = git(dir.path(), &["write-tree"]);
        git(dir.path(), &["rm", "-q", "--cached", "-r", "."]);
        git(dir.path(), &["add", "-A"]);
        assert_eq!(git(dir.path(), &["write-tree"]), ours);
        git(dir.path(), &["fsck", "--no-progress"]);
    }

    #[test]
    fn the_cache_tree_is_invalidated_only_on_the_changed_paths() {
        let dir = checkout();
        let path = dir.path().join(".git/index");
        let index = IndexFile::read(&path).unwrap().unwrap();
        let changed = entry_for(dir.path(), "rendered/prod/api.service.yaml", b"changed\n");
        std::fs::write(
            &path,
            index.updated(&[("rendered/prod/api.service.yaml", Some(changed))]),
        )
        .unwrap();
        let dump = git(
            dir.path(),
            &["-c", "core.quotePath=false", "ls-files", "--debug"],
        );
        assert!(!dump.is_empty());
        // git's own view of the cache tree: `rendered` and `rendered/prod` (and the root) are
        // invalid, the rest still valid.
        let tree = git(dir.path(), &["rev-parse", "HEAD:environments"]);
        let read = IndexFile::read(&path).unwrap().unwrap();
        let end = read.data.len() - HASH;
        let mut ext = read.extensions;
        let mut body = None;
        while ext + 8 <= end {
            let size = be32(&read.data, ext + 4) as usize;
            if &read.data[ext..ext + 4] == b"TREE" {
                body = Some(read.data[ext + 8..ext + 8 + size].to_vec());
            }
            ext += 8 + size;
        }
        let body = body.expect("the cache tree is kept");
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with("\0-1 "), "root invalid: {text:?}");
        assert!(text.contains("rendered\0-1 "), "{text:?}");
        assert!(text.contains("prod\0-1 0\n"), "{text:?}");
        let environments = Oid::from_str(tree.trim()).unwrap();
        let at = body
            .windows(b"environments\0".len())
            .position(|w| w == b"environments\0")
            .unwrap();
        let line_end = at + body[at..].iter().position(|b| *b == b'\n').unwrap();
        assert_eq!(&body[line_end + 1..line_end + 21], environments.as_bytes());
    }

    #[test]
    fn formats_left_to_libgit2() {
        let dir = checkout();
        git(dir.path(), &["update-index", "--index-version", "4"]);
        assert!(IndexFile::read(&dir.path().join(".git/index"))
            .unwrap()
            .is_none());
        git(dir.path(), &["update-index", "--index-version", "2"]);
        assert!(IndexFile::read(&dir.path().join(".git/index"))
            .unwrap()
            .is_some());
        git(dir.path(), &["update-index", "--split-index"]);
        assert!(IndexFile::read(&dir.path().join(".git/index"))
            .unwrap()
            .is_none());
        assert!(IndexFile::parse(b"DIRC\0\0\0\x02".to_vec()).is_none());
        // No index yet: an empty one.
        let fresh = tempfile::tempdir().unwrap();
        let empty = IndexFile::read(&fresh.path().join("index"))
            .unwrap()
            .unwrap();
        assert_eq!(empty.stage0("a"), None);
    }

    #[test]
    fn conflicts_are_seen() {
        let dir = checkout();
        git(dir.path(), &["checkout", "-q", "-b", "other"]);
        std::fs::write(dir.path().join("a.yaml"), "other\n").unwrap();
        git(dir.path(), &["commit", "-qam", "other"]);
        git(dir.path(), &["checkout", "-q", "main"]);
        std::fs::write(dir.path().join("a.yaml"), "main\n").unwrap();
        git(dir.path(), &["commit", "-qam", "main"]);
        let _ = Command::new("git")
            .args(["merge", "-q", "other"])
            .current_dir(dir.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        let index = IndexFile::read(&dir.path().join(".git/index"))
            .unwrap()
            .unwrap();
        assert!(index.conflicted("a.yaml"));
        assert_eq!(index.stage0("a.yaml"), None);
        assert!(!index.conflicted("environments/prod/values.yaml"));
    }
}
