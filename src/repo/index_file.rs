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
//! What git does when it writes an index is done here too: an untouched entry that is
//! "racily clean" (its file modified no earlier than the second the old index was written,
//! so its stat data proves nothing) and whose file no longer holds its blob is smudged (size
//! 0), so the new index's later timestamp cannot make git trust it; a version 3 index left
//! without extended flags becomes version 2.
//!
//! Only index versions 2 and 3 without mandatory extensions, with entries in git's order,
//! are handled (with SHA-1 ids: libgit2 opens no other repository); anything else (version
//! 4's compressed paths, a split or sparse index, a file that does not parse) is
//! [`IndexFile::read`] saying `None`, and a change this module does not make (a file that
//! would sit beside a folder of the same name the index still holds) is
//! [`IndexFile::write_updated`] saying `false`: the caller then goes through libgit2. Optional
//! extensions that describe the entries by position or the working tree's state (untracked
//! cache, fsmonitor, the end-of-entries marker and entry offset table) and unknown ones are
//! dropped, which git allows and rebuilds; the cache tree is kept, invalidated, and the
//! resolve-undo record (`REUC`, kept by path) as it is.

use std::io::{Read as _, Write as _};
use std::ops::Range;
use std::path::Path;

use git2::Oid;
use sha1::{Digest as _, Sha1};

use super::RepoError;

const HEADER: usize = 12;
const HASH: usize = 20;
/// Bytes of an entry before its path (62), plus 2 with version 3's extended flags.
const FIXED: usize = 62;
/// Where an entry's mtime seconds, mode, file size and flags lie in it.
const MTIME_AT: usize = 8;
const MODE_AT: usize = 24;
const SIZE_AT: usize = 36;
const ID_AT: usize = 40;
const FLAGS_AT: usize = 60;
const EXTENDED_FLAG: u16 = 0x4000;
/// In the extended flags (version 3): the entry is outside the sparse checkout.
const SKIP_WORKTREE: u16 = git2::IndexEntryExtendedFlag::SKIP_WORKTREE.bits();
const STAGE_MASK: u16 = 0x3000;
const NAME_MASK: u16 = 0x0fff;
const NAME_MASK_USIZE: usize = NAME_MASK as usize;
const GITLINK: u32 = 0o160000;

/// An index file, read into the offsets of its entries.
pub(crate) struct IndexFile {
    data: Vec<u8>,
    version: u32,
    entries: Vec<EntryAt>,
    /// Where the extensions start (right after the last entry).
    extensions: usize,
    /// The seconds of the index file's modification time, truncated to 32 bits as git keeps
    /// them (0: no index file), against which git judges entries racily clean.
    mtime: u32,
    /// What tells the file read from a changed one (`None`: never taken as unchanged).
    stamp: Option<Stamp>,
}

/// The identity and content of the index file as it was read: its inode, size, times and
/// trailing checksum (a SHA-1 of everything before it). git and libgit2 write an index by
/// renaming a new file over it, so a rewritten index is another inode with another checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    file: [i64; 7],
    checksum: [u8; HASH],
}

impl Stamp {
    /// The stamp of the open index `file` whose metadata is `meta` and whose last bytes are
    /// `checksum`; `None` where it could not tell a change: no stat identity on this system,
    /// or no checksum (`index.skipHash` writes zeros).
    fn of(meta: &std::fs::Metadata, checksum: &[u8]) -> Option<Stamp> {
        let checksum: [u8; HASH] = checksum.try_into().ok()?;
        if checksum == [0; HASH] {
            return None;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            let file = [
                meta.dev() as i64,
                meta.ino() as i64,
                meta.size() as i64,
                meta.mtime(),
                meta.mtime_nsec(),
                meta.ctime(),
                meta.ctime_nsec(),
            ];
            Some(Stamp { file, checksum })
        }
        #[cfg(not(unix))]
        {
            let _ = (meta, checksum);
            None
        }
    }
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
                index_size(meta.len()),
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
            [s, n, s, n, 0, 0, 0, 0, index_size(meta.len())]
        };
        NewEntry { id, mode, stat }
    }
}

/// A file size as the index stores it: truncated to 32 bits, except that a non-empty file
/// whose size truncates to 0 is stored as 2^31, as git does (0 marks a smudged entry).
pub(crate) fn index_size(len: u64) -> u32 {
    match len as u32 {
        0 if len != 0 => 0x8000_0000,
        size => size,
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
        let (data, mtime, stamp) = match std::fs::File::open(path) {
            Ok(mut file) => {
                // The metadata of the file read (the open file, even if the path is replaced).
                let meta = file.metadata().map_err(RepoError::io("read", path))?;
                let mut data = Vec::with_capacity(meta.len() as usize + 1);
                file.read_to_end(&mut data)
                    .map_err(RepoError::io("read", path))?;
                let stamp = (data.len() as u64 == meta.len() && data.len() >= HASH)
                    .then(|| Stamp::of(&meta, &data[data.len() - HASH..]))
                    .flatten();
                (data, modified_seconds(&meta), stamp)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut data = b"DIRC".to_vec();
                data.extend_from_slice(&2u32.to_be_bytes());
                data.extend_from_slice(&0u32.to_be_bytes());
                data.extend_from_slice(&[0; HASH]);
                (data, 0, None)
            }
            Err(e) => return Err(RepoError::io("read", path)(e)),
        };
        Ok(Self::parse(data, mtime).map(|index| IndexFile { stamp, ..index }))
    }

    /// The index at `path`: `previous` (read from it earlier) when the file is still the one
    /// it was read from (same inode, size, times and trailing checksum), else read again as
    /// [`IndexFile::read`] does. Saves reading and parsing a large index twice in one command.
    pub fn reread(
        path: &Path,
        previous: Option<IndexFile>,
    ) -> Result<Option<IndexFile>, RepoError> {
        match previous {
            Some(previous) if previous.is_at(path)? => Ok(Some(previous)),
            _ => Self::read(path),
        }
    }

    /// Whether the index file at `path` is still the one this was read from.
    fn is_at(&self, path: &Path) -> Result<bool, RepoError> {
        let Some(stamp) = &self.stamp else {
            return Ok(false);
        };
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(RepoError::io("read", path)(e)),
        };
        let meta = file.metadata().map_err(RepoError::io("read", path))?;
        let Some(end) = meta.len().checked_sub(HASH as u64) else {
            return Ok(false);
        };
        let mut checksum = [0; HASH];
        read_at(&file, &mut checksum, end).map_err(RepoError::io("read", path))?;
        Ok(Stamp::of(&meta, &checksum).as_ref() == Some(stamp))
    }

    fn parse(data: Vec<u8>, mtime: u32) -> Option<IndexFile> {
        if data.len() < HEADER + HASH || &data[..4] != b"DIRC" {
            return None;
        }
        let version = be32(&data, 4);
        if !(2..=3).contains(&version) {
            return None;
        }
        let count = be32(&data, 8) as usize;
        let end = data.len() - HASH;
        let mut entries: Vec<EntryAt> = Vec::with_capacity(count.min(end / FIXED));
        let mut at = HEADER;
        for _ in 0..count {
            if at + FIXED > end {
                return None;
            }
            let flags = be16(&data, at + FLAGS_AT);
            let mut start = at + FIXED;
            if flags & EXTENDED_FLAG != 0 {
                if version < 3 {
                    return None;
                }
                start += 2;
            }
            let len = match (flags & NAME_MASK) as usize {
                NAME_MASK_USIZE => data.get(start..end)?.iter().position(|b| *b == 0)?,
                len => len,
            };
            let fixed = start - at;
            // The entry is padded with 1 to 8 NULs to a multiple of 8 bytes.
            let size = (fixed + len + 8) & !7;
            if len == 0 || at + size > end || data[start + len..at + size].iter().any(|b| *b != 0) {
                return None;
            }
            let entry = EntryAt {
                bytes: at..at + size,
                path: start..start + len,
                stage: ((flags & STAGE_MASK) >> 12) as u8,
            };
            // Sorted by path, then stage, each (path, stage) once: binary search relies on it.
            if let Some(last) = entries.last() {
                let order = data[last.path.clone()]
                    .cmp(&data[entry.path.clone()])
                    .then(last.stage.cmp(&entry.stage));
                if order != std::cmp::Ordering::Less {
                    return None;
                }
            }
            entries.push(entry);
            at += size;
        }
        // Extensions: only a signature starting with 'A' to 'Z' is one a reader may ignore.
        let mut ext = at;
        while ext + 8 <= end {
            let signature = &data[ext..ext + 4];
            let size = be32(&data, ext + 4) as usize;
            if !signature[0].is_ascii_uppercase() || size > end - ext - 8 {
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
            mtime,
            stamp: None,
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

    /// The positions of the entries of `path`, every stage.
    fn range_of(&self, path: &[u8]) -> Range<usize> {
        let from = self.first_at(path);
        let to = from
            + self.entries[from..]
                .iter()
                .take_while(|e| self.path_of(e) == path)
                .count();
        from..to
    }

    /// The entries of `path`, every stage.
    fn entries_of(&self, path: &str) -> &[EntryAt] {
        &self.entries[self.range_of(path.as_bytes())]
    }

    fn id_of(&self, entry: &EntryAt) -> Oid {
        let at = entry.bytes.start + ID_AT;
        Oid::from_bytes(&self.data[at..at + HASH]).expect("20 bytes are an id")
    }

    /// The blob the index holds for `path` at stage 0 (no conflict), if any.
    pub fn stage0(&self, path: &str) -> Option<Oid> {
        self.entries_of(path)
            .iter()
            .find(|e| e.stage == 0)
            .map(|e| self.id_of(e))
    }

    /// Whether `path` has conflict entries (stages 1 to 3).
    pub fn conflicted(&self, path: &str) -> bool {
        self.entries_of(path).iter().any(|e| e.stage != 0)
    }

    /// Whether an entry of `path` is marked skip-worktree (outside a sparse checkout).
    pub fn skip_worktree(&self, path: &str) -> bool {
        self.entries_of(path).iter().any(|e| {
            let at = e.bytes.start;
            be16(&self.data, at + FLAGS_AT) & EXTENDED_FLAG != 0
                && be16(&self.data, at + FIXED) & SKIP_WORKTREE != 0
        })
    }

    /// Whether git would not trust the stat data of `entry`: its file's mtime is not before
    /// the second the index was written (git built without nanosecond times compares
    /// seconds; this is the wider of its two rules). Gitlinks and smudged entries are not.
    fn racy(&self, entry: &EntryAt) -> bool {
        let at = entry.bytes.start;
        entry.stage == 0
            && self.mtime != 0
            && be32(&self.data, at + MTIME_AT) >= self.mtime
            && be32(&self.data, at + MODE_AT) & 0o170000 != GITLINK
            && be32(&self.data, at + SIZE_AT) != 0
    }

    /// [`IndexFile::write_updated`] into memory (`None` where it writes nothing).
    #[cfg(test)]
    pub fn updated(
        &self,
        updates: &[(&str, Option<NewEntry>)],
        holds: &mut dyn FnMut(&str, Oid) -> bool,
    ) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(self.data.len() + 256 * updates.len());
        let written = self
            .write_updated(updates, holds, &mut out)
            .expect("writing to memory does not fail");
        written.then_some(out)
    }

    /// The index with `updates` applied (a path → its new entry, or `None` to remove it),
    /// written to `out` as it is made (no copy of the whole index in memory): every other
    /// entry as it was (smudged when racily clean and `holds(path, blob)` says its checkout
    /// file no longer holds its blob), the cache tree invalidated along the changed paths,
    /// and a fresh trailing checksum. `false`, with nothing written, when a new entry would
    /// sit beside an entry of a folder it replaces or of a file it goes below (git replaces
    /// those; the caller leaves it to libgit2).
    pub fn write_updated(
        &self,
        updates: &[(&str, Option<NewEntry>)],
        holds: &mut dyn FnMut(&str, Oid) -> bool,
        out: impl std::io::Write,
    ) -> std::io::Result<bool> {
        let mut updates = updates.to_vec();
        updates.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        updates.dedup_by(|a, b| a.0 == b.0);
        if self.file_and_folder(&updates) {
            return Ok(false);
        }
        let ranges: Vec<Range<usize>> = updates
            .iter()
            .map(|(path, _)| self.range_of(path.as_bytes()))
            .collect();
        let count = self.entries.len() - ranges.iter().map(ExactSizeIterator::len).sum::<usize>()
            + updates.iter().filter(|(_, new)| new.is_some()).count();
        // A version 3 index without extended flags left is written as version 2, as git does.
        let mut version = self.version;
        if version == 3 {
            let extended = self.entries.iter().any(|e| {
                be16(&self.data, e.bytes.start + FLAGS_AT) & EXTENDED_FLAG != 0
                    && updates
                        .binary_search_by(|(p, _)| p.as_bytes().cmp(self.path_of(e)))
                        .is_err()
            });
            version = if extended { 3 } else { 2 };
        }

        let mut out = Hashing {
            out: std::io::BufWriter::with_capacity(64 << 10, out),
            hash: Sha1::new(),
        };
        out.write(b"DIRC")?;
        out.write(&version.to_be_bytes())?;
        out.write(&(count as u32).to_be_bytes())?;
        let mut next = 0; // the next entry not yet copied
        for ((path, new), range) in updates.iter().zip(&ranges) {
            self.copy(&mut out, next..range.start, holds)?;
            if let Some(entry) = new {
                write_entry(&mut out, path, entry)?;
            }
            next = range.end;
        }
        self.copy(&mut out, next..self.entries.len(), holds)?;

        let changed: Vec<&str> = updates.iter().map(|(p, _)| *p).collect();
        let end = self.data.len() - HASH;
        let mut ext = self.extensions;
        while ext + 8 <= end {
            let signature = &self.data[ext..ext + 4];
            let size = be32(&self.data, ext + 4) as usize;
            let whole = &self.data[ext..ext + 8 + size];
            match signature {
                b"TREE" if changed.is_empty() => out.write(whole)?,
                b"TREE" => {
                    // One that cannot be read is dropped: git rebuilds it.
                    if let Some(tree) = invalidate_tree(&whole[8..], &changed) {
                        out.write(b"TREE")?;
                        out.write(&(tree.len() as u32).to_be_bytes())?;
                        out.write(&tree)?;
                    }
                }
                b"REUC" => out.write(whole)?,
                // The untracked cache, fsmonitor state, end-of-entries marker, entry offset
                // table and anything unknown describe entries or the working tree as they
                // were: dropped.
                _ => {}
            }
            ext += 8 + size;
        }
        let hash = out.hash.finalize();
        out.out.write_all(&hash)?;
        out.out.flush()?;
        Ok(true)
    }

    /// Copies the entries at `positions` to `out` as they are, but smudged (size 0, as git's
    /// `ce_smudge_racily_clean_entry`) where racily clean and no longer what the file holds.
    fn copy<W: std::io::Write>(
        &self,
        out: &mut Hashing<W>,
        positions: Range<usize>,
        holds: &mut dyn FnMut(&str, Oid) -> bool,
    ) -> std::io::Result<()> {
        let Some(run) = self.entries.get(positions).filter(|r| !r.is_empty()) else {
            return Ok(());
        };
        let mut from = run[0].bytes.start;
        for entry in run.iter().filter(|e| self.racy(e)) {
            let path = String::from_utf8_lossy(self.path_of(entry));
            if !holds(&path, self.id_of(entry)) {
                let size = entry.bytes.start + SIZE_AT;
                out.write(&self.data[from..size])?;
                out.write(&[0; 4])?;
                from = size + 4;
            }
        }
        out.write(&self.data[from..run[run.len() - 1].bytes.end])
    }

    /// Whether, after `updates` (sorted), an added path would sit beside an entry of one of
    /// its folders (a file `a` and `a/b`) or above entries (a file `a/b` and `a/b/c`).
    fn file_and_folder(&self, updates: &[(&str, Option<NewEntry>)]) -> bool {
        let update = |path: &[u8]| {
            updates
                .binary_search_by(|(p, _)| p.as_bytes().cmp(path))
                .ok()
                .map(|i| updates[i].1.is_some())
        };
        let present = |path: &[u8]| update(path).unwrap_or(!self.range_of(path).is_empty());
        updates
            .iter()
            .filter(|(_, new)| new.is_some())
            .any(|(path, _)| {
                let path = path.as_bytes();
                let folder_is_a_file = path
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'/')
                    .any(|(i, _)| present(&path[..i]));
                // Entries below `path/` lie between `path/` and `path0` ('0' follows '/').
                let below = [path, b"/"].concat();
                let past = [path, b"0"].concat();
                let file_is_a_folder = self.entries[self.first_at(&below)..self.first_at(&past)]
                    .iter()
                    .any(|e| update(self.path_of(e)).is_none());
                folder_is_a_file || file_is_a_folder
            })
    }
}

/// Reads `buf.len()` bytes of `file` at `offset`.
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt as _;
        file.read_exact_at(buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek as _, SeekFrom};
        let mut file = file;
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(buf)
    }
}

/// The seconds of `meta`'s modification time as the index keeps them.
fn modified_seconds(meta: &std::fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        meta.mtime() as u32
    }
    #[cfg(not(unix))]
    {
        meta.modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as u32)
    }
}

/// A writer that hashes what goes through it (the index's trailing checksum).
struct Hashing<W: std::io::Write> {
    out: std::io::BufWriter<W>,
    hash: Sha1,
}

impl<W: std::io::Write> Hashing<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hash.update(bytes);
        self.out.write_all(bytes)
    }
}

fn write_entry<W: std::io::Write>(
    out: &mut Hashing<W>,
    path: &str,
    entry: &NewEntry,
) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(FIXED + path.len() + 8);
    for value in &entry.stat[..6] {
        bytes.extend_from_slice(&value.to_be_bytes());
    }
    bytes.extend_from_slice(&entry.mode.to_be_bytes());
    for value in &entry.stat[6..] {
        bytes.extend_from_slice(&value.to_be_bytes());
    }
    bytes.extend_from_slice(entry.id.as_bytes());
    let flags = path.len().min(NAME_MASK_USIZE) as u16;
    bytes.extend_from_slice(&flags.to_be_bytes());
    bytes.extend_from_slice(path.as_bytes());
    // Padded with 1 to 8 NULs to a multiple of 8 bytes.
    bytes.resize((FIXED + path.len() + 8) & !7, 0);
    out.write(&bytes)
}

/// The cache tree extension `body` after `paths` changed, as git's
/// `cache_tree_invalidate_path` leaves it: every node on the way to a path marked invalid
/// (entry count -1, no tree id), and a subtree named by a path's last component (a folder
/// replaced by a file, or removed) dropped. `None` when it cannot be read (the extension is
/// then dropped: git rebuilds it).
fn invalidate_tree(body: &[u8], paths: &[&str]) -> Option<Vec<u8>> {
    let components: Vec<Vec<&[u8]>> = paths
        .iter()
        .map(|p| p.as_bytes().split(|b| *b == b'/').collect())
        .collect();
    let all: Vec<&[&[u8]]> = components.iter().map(Vec::as_slice).collect();
    let mut out = Vec::with_capacity(body.len());
    let end = node(body, 0, &all, &mut out)?;
    (end == body.len()).then_some(out)
}

/// The header of the cache tree node at `at`: where its name ends (the NUL), its number of
/// subtrees, and where its subtrees start.
fn header(body: &[u8], at: usize) -> Option<(usize, usize, usize)> {
    let name_end = at + body.get(at..)?.iter().position(|b| *b == 0)?;
    let mut i = name_end + 1;
    let negative = body.get(i) == Some(&b'-');
    if negative {
        i += 1;
    }
    let mut digits = |stop: u8| -> Option<usize> {
        let start = i;
        let mut n: usize = 0;
        while let Some(b) = body.get(i).filter(|b| b.is_ascii_digit()) {
            n = n.checked_mul(10)?.checked_add(usize::from(b - b'0'))?;
            i += 1;
        }
        (i > start && body.get(i) == Some(&stop)).then(|| {
            i += 1;
            n
        })
    };
    let entries = digits(b' ')?;
    let subtrees = digits(b'\n')?;
    // A valid node (a count of 0 or more, "-0" included as git reads it) carries its tree id.
    let next = if negative && entries > 0 { i } else { i + HASH };
    (next <= body.len()).then_some((name_end, subtrees, next))
}

/// Where the cache tree node at `at` ends, its subtrees included.
fn skip(body: &[u8], mut at: usize) -> Option<usize> {
    // Nodes are written depth first, each before its subtrees: count the ones still due.
    let mut due: usize = 1;
    while due > 0 {
        let (_, subtrees, next) = header(body, at)?;
        due = (due - 1).checked_add(subtrees)?;
        at = next;
    }
    Some(at)
}

/// Copies the cache tree node at `at`, on the way to `paths` (their components below it),
/// to `out` invalidated, with its subtrees on the way invalidated too, the ones a path names
/// dropped and the others copied as they are. Returns where the node ends.
fn node(body: &[u8], at: usize, paths: &[&[&[u8]]], out: &mut Vec<u8>) -> Option<usize> {
    let (name_end, subtrees, mut next) = header(body, at)?;
    let mut kept = Vec::with_capacity(subtrees);
    for _ in 0..subtrees {
        let (child_name_end, ..) = header(body, next)?;
        let end = skip(body, next)?;
        let name = &body[next..child_name_end];
        if !paths.iter().any(|p| p.len() == 1 && p[0] == name) {
            kept.push((next, name, end));
        }
        next = end;
    }
    out.extend_from_slice(&body[at..=name_end]);
    out.extend_from_slice(format!("-1 {}\n", kept.len()).as_bytes());
    for (start, name, end) in kept {
        let below: Vec<&[&[u8]]> = paths
            .iter()
            .filter(|p| p.len() > 1 && p[0] == name)
            .map(|p| &p[1..])
            .collect();
        if below.is_empty() {
            out.extend_from_slice(&body[start..end]);
        } else {
            node(body, start, &below, out)?;
        }
    }
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt as _;
    use std::process::Command;
    use std::time::{Duration, SystemTime};

    fn git_with(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn git(dir: &Path, args: &[&str]) -> String {
        git_with(dir, &[], args)
    }

    const FILES: [&str; 9] = [
        "a.yaml",
        "environments/prod/values.yaml",
        "environments/staging/values.yaml",
        "rendered/prod/api.service.yaml",
        "rendered/prod/api-blue.deployment.yaml",
        "rendered/prod-eu/api.service.yaml",
        "rendered/staging/api.service.yaml",
        "rendered/x",
        "z/deep/er/file",
    ];

    /// A checkout with files in nested folders, committed, with a complete cache tree in its
    /// index (`git commit` leaves one).
    fn checkout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        for path in FILES {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, format!("{path}\n")).unwrap();
        }
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-q", "-m", "one"]);
        dir
    }

    fn index_path(dir: &Path) -> std::path::PathBuf {
        dir.join(".git/index")
    }

    fn read(dir: &Path) -> IndexFile {
        IndexFile::read(&index_path(dir))
            .unwrap()
            .expect("a format greenlight writes")
    }

    /// Writes `content` to `path` in the checkout and its blob, and returns its new entry.
    fn entry_for(dir: &Path, path: &str, content: &[u8]) -> NewEntry {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, content).unwrap();
        let id = git2::Repository::open(dir).unwrap().blob(content).unwrap();
        NewEntry::new(id, 0o100644, &std::fs::metadata(&full).unwrap())
    }

    /// Whether each checkout file holds its blob, as the caller answers.
    fn holds(dir: &Path) -> impl FnMut(&str, Oid) -> bool + '_ {
        |path, id| {
            std::fs::read(dir.join(path))
                .is_ok_and(|bytes| Oid::hash_object(git2::ObjectType::Blob, &bytes).unwrap() == id)
        }
    }

    /// The signatures of the extensions of the index `data`, in order.
    fn signatures(data: &[u8]) -> Vec<String> {
        let index = IndexFile::parse(data.to_vec(), 0).expect("readable");
        let end = index.data.len() - HASH;
        let mut at = index.extensions;
        let mut found = Vec::new();
        while at + 8 <= end {
            found.push(String::from_utf8_lossy(&index.data[at..at + 4]).into_owned());
            at += 8 + be32(&index.data, at + 4) as usize;
        }
        found
    }

    /// The signatures of the extensions of the index file at `path`, in order.
    fn extensions(path: &Path) -> Vec<String> {
        signatures(&std::fs::read(path).unwrap())
    }

    /// Applies `changes` (a path and its new content, or `None`: deleted) to the checkout,
    /// then brings the index along twice: with [`IndexFile::updated`] into `.git/index`, and
    /// with `git update-index` into a copy; returns both files.
    fn ours_and_gits(dir: &Path, changes: &[(&str, Option<&[u8]>)]) -> (Vec<u8>, Vec<u8>) {
        let index = read(dir);
        std::fs::copy(index_path(dir), dir.join(".git/index.git")).unwrap();
        let mut updates = Vec::new();
        for (path, content) in changes {
            match content {
                Some(content) => updates.push((*path, Some(entry_for(dir, path, content)))),
                None => {
                    let full = dir.join(path);
                    std::fs::remove_file(&full).unwrap();
                    // An emptied folder goes, as greenlight removes it.
                    let _ = std::fs::remove_dir(full.parent().unwrap());
                    updates.push((*path, None));
                }
            }
        }
        let bytes = index.updated(&updates, &mut holds(dir)).expect("written");
        std::fs::write(index_path(dir), &bytes).unwrap();
        let env = [("GIT_INDEX_FILE", ".git/index.git")];
        let removed: Vec<&str> = changes
            .iter()
            .filter(|(_, c)| c.is_none())
            .map(|(p, _)| *p)
            .collect();
        let added: Vec<&str> = changes
            .iter()
            .filter(|(_, c)| c.is_some())
            .map(|(p, _)| *p)
            .collect();
        if !removed.is_empty() {
            let args = [&["update-index", "--force-remove", "--"][..], &removed].concat();
            git_with(dir, &env, &args);
        }
        if !added.is_empty() {
            let args = [&["update-index", "--add", "--"][..], &added].concat();
            git_with(dir, &env, &args);
        }
        (bytes, std::fs::read(dir.join(".git/index.git")).unwrap())
    }

    /// What git reads from the index: every entry with its stat data, and nothing to
    /// commit or refresh but `changed`.
    fn assert_git_agrees(dir: &Path, staged: &str) {
        git(dir, &["fsck", "--no-progress", "--strict"]);
        assert_eq!(git(dir, &["diff-files", "--name-status"]), "");
        assert_eq!(git(dir, &["diff", "--cached", "--name-status"]), staged);
        // git verifies every valid cache tree node against the entries before it writes.
        git_with(
            dir,
            &[("GIT_TEST_CHECK_CACHE_TREE", "1")],
            &["update-index", "--force-write-index"],
        );
        // The tree git writes from it is the one a full `git add` of the checkout gives.
        let ours = git(dir, &["write-tree"]);
        let env = [("GIT_INDEX_FILE", ".git/index.fresh")];
        git_with(dir, &env, &["add", "-A"]);
        assert_eq!(git_with(dir, &env, &["write-tree"]), ours);
    }

    #[test]
    fn reads_what_git_wrote() {
        let dir = checkout();
        let index = read(dir.path());
        assert_eq!(index.entries.len(), FILES.len());
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
        assert_eq!(extensions(&index_path(dir.path())), ["TREE"]);
    }

    #[test]
    fn an_update_is_byte_for_byte_what_git_update_index_writes() {
        let dir = checkout();
        let (ours, gits) = ours_and_gits(
            dir.path(),
            &[
                ("environments/staging/values.yaml", None),
                ("rendered/prod/api.ingress.yaml", Some(b"new\n")),
                ("rendered/prod/api.service.yaml", Some(b"changed\n")),
                ("rendered/new/deep/file.yaml", Some(b"deep\n")),
            ],
        );
        assert_eq!(ours, gits);
        assert_eq!(extensions(&index_path(dir.path())), ["TREE"]);
        let debug = git(dir.path(), &["ls-files", "--stage", "--debug"]);
        let env = [("GIT_INDEX_FILE", ".git/index.git")];
        assert_eq!(
            git_with(dir.path(), &env, &["ls-files", "--stage", "--debug"]),
            debug
        );
        assert_git_agrees(
            dir.path(),
            "D\tenvironments/staging/values.yaml\nA\trendered/new/deep/file.yaml\n\
             A\trendered/prod/api.ingress.yaml\nM\trendered/prod/api.service.yaml\n",
        );
    }

    #[test]
    fn files_and_folders_trade_places_as_in_git() {
        // A folder replaced by a file: git drops its cache tree node.
        let dir = checkout();
        let (ours, gits) = ours_and_gits(
            dir.path(),
            &[
                ("rendered/prod/api-blue.deployment.yaml", None),
                ("rendered/prod/api.service.yaml", None),
                ("rendered/prod", Some(b"a file\n")),
            ],
        );
        assert_eq!(ours, gits);
        assert_git_agrees(
            dir.path(),
            "A\trendered/prod\nD\trendered/prod/api-blue.deployment.yaml\n\
             D\trendered/prod/api.service.yaml\n",
        );

        // A file replaced by a folder.
        let dir = checkout();
        let (ours, gits) = ours_and_gits(
            dir.path(),
            &[("rendered/x", None), ("rendered/x/y.yaml", Some(b"y\n"))],
        );
        assert_eq!(ours, gits);
        assert_git_agrees(dir.path(), "D\trendered/x\nA\trendered/x/y.yaml\n");
    }

    #[test]
    fn a_file_beside_its_own_folder_is_left_to_libgit2() {
        let dir = checkout();
        let index = read(dir.path());
        let entry = entry_for(dir.path(), "other", b"x\n");
        for path in ["rendered/x/below", "rendered/prod", "a.yaml/b"] {
            let update = [(path, Some(entry.clone()))];
            assert!(index.updated(&update, &mut |_, _| true).is_none(), "{path}");
        }
        // Once the other side goes, it is an ordinary change.
        let update = [("rendered/x", None), ("rendered/x/below", Some(entry))];
        assert!(index.updated(&update, &mut |_, _| true).is_some());
    }

    #[test]
    fn an_index_already_invalidated_is_updated_again() {
        let dir = checkout();
        for (file, content) in [
            ("rendered/prod/api.service.yaml", &b"one\n"[..]),
            ("rendered/staging/api.service.yaml", b"two\n"),
            ("z/deep/er/file", b"three\n"),
            ("rendered/prod/api.service.yaml", b"four\n"),
        ] {
            let (ours, gits) = ours_and_gits(dir.path(), &[(file, Some(content))]);
            assert_eq!(ours, gits, "{file}");
        }
        assert_git_agrees(
            dir.path(),
            "M\trendered/prod/api.service.yaml\nM\trendered/staging/api.service.yaml\n\
             M\tz/deep/er/file\n",
        );
    }

    #[test]
    fn the_cache_tree_is_invalidated_only_on_the_changed_paths() {
        let dir = checkout();
        let changed = entry_for(dir.path(), "rendered/prod/api.service.yaml", b"changed\n");
        let update = [("rendered/prod/api.service.yaml", Some(changed))];
        let bytes = read(dir.path()).updated(&update, &mut |_, _| true).unwrap();
        std::fs::write(index_path(dir.path()), bytes).unwrap();
        let read = read(dir.path());
        let at = read.extensions;
        assert_eq!(&read.data[at..at + 4], b"TREE");
        let body = &read.data[at + 8..at + 8 + be32(&read.data, at + 4) as usize];
        let text = String::from_utf8_lossy(body);
        // The root, `rendered` and `rendered/prod` are invalid, the rest still valid.
        assert!(text.starts_with("\0-1 "), "root invalid: {text:?}");
        assert!(text.contains("rendered\0-1 "), "{text:?}");
        assert!(text.contains("prod\0-1 0\n"), "{text:?}");
        assert!(text.contains("prod-eu\x001 0\n"), "{text:?}");
        let tree = git(dir.path(), &["rev-parse", "HEAD:environments"]);
        let environments = Oid::from_str(tree.trim()).unwrap();
        let at = body
            .windows(b"environments\0".len())
            .position(|w| w == b"environments\0")
            .unwrap();
        let line_end = at + body[at..].iter().position(|b| *b == b'\n').unwrap();
        assert_eq!(&body[line_end + 1..line_end + 21], environments.as_bytes());
    }

    #[test]
    fn extended_flags_and_a_version_3_index_follow_git() {
        let dir = checkout();
        // Intent-to-add entries make a version 3 index; replacing the last one leaves
        // version 2, as git writes it.
        for path in ["rendered/new.yaml", "rendered/new2.yaml"] {
            std::fs::write(dir.path().join(path), "n\n").unwrap();
            git(dir.path(), &["add", "-N", path]);
        }
        assert_eq!(read(dir.path()).version, 3);
        let (ours, gits) = ours_and_gits(dir.path(), &[("rendered/new.yaml", Some(b"n1\n"))]);
        assert_eq!(ours, gits);
        assert_eq!(be32(&ours, 4), 3, "an intent-to-add entry is left");
        let (ours, gits) = ours_and_gits(dir.path(), &[("rendered/new2.yaml", Some(b"n2\n"))]);
        assert_eq!(ours, gits);
        assert_eq!(be32(&ours, 4), 2);

        // A skip-worktree entry replaced is an ordinary entry again, as libgit2 writes it
        // (`git update-index` would leave it alone).
        git(dir.path(), &["update-index", "--skip-worktree", "a.yaml"]);
        assert_eq!(git(dir.path(), &["ls-files", "-t", "a.yaml"]), "S a.yaml\n");
        let index = read(dir.path());
        assert_eq!(index.version, 3);
        let entry = entry_for(dir.path(), "a.yaml", b"a2\n");
        let bytes = index
            .updated(&[("a.yaml", Some(entry))], &mut holds(dir.path()))
            .unwrap();
        assert_eq!(be32(&bytes, 4), 2);
        std::fs::write(index_path(dir.path()), bytes).unwrap();
        assert_eq!(git(dir.path(), &["ls-files", "-t", "a.yaml"]), "H a.yaml\n");
        assert_git_agrees(
            dir.path(),
            "M\ta.yaml\nA\trendered/new.yaml\nA\trendered/new2.yaml\n",
        );
    }

    #[test]
    fn extensions_are_kept_only_while_still_true() {
        let dir = checkout();
        // A resolved conflict leaves a resolve-undo record (REUC).
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
        std::fs::write(dir.path().join("a.yaml"), "resolved\n").unwrap();
        git(dir.path(), &["add", "a.yaml"]);
        let resolve_undo = git(dir.path(), &["ls-files", "--resolve-undo"]);
        assert!(resolve_undo.contains("a.yaml"), "{resolve_undo}");
        // The untracked cache (UNTR), the end-of-entries marker (EOIE) and the entry offset
        // table (IEOT), which git only reads with several threads.
        let config = [
            "-c",
            "core.untrackedCache=true",
            "-c",
            "index.recordEndOfIndexEntries=true",
            "-c",
            "index.recordOffsetTable=true",
            "-c",
            "index.threads=2",
        ];
        std::fs::write(dir.path().join("untracked.txt"), "u\n").unwrap();
        git(
            dir.path(),
            &[&config[..], &["status", "--porcelain"]].concat(),
        );
        git(
            dir.path(),
            &[&config[..], &["update-index", "--force-write-index"]].concat(),
        );
        let before = extensions(&index_path(dir.path()));
        for signature in ["TREE", "REUC", "UNTR", "IEOT", "EOIE"] {
            assert!(before.iter().any(|s| s == signature), "{before:?}");
        }

        let index = read(dir.path());
        let changed = entry_for(dir.path(), "rendered/staging/api.service.yaml", b"new\n");
        std::fs::write(dir.path().join("rendered/staging/untracked.txt"), "u\n").unwrap();
        let update = [("rendered/staging/api.service.yaml", Some(changed))];
        let bytes = index.updated(&update, &mut holds(dir.path())).unwrap();
        std::fs::write(index_path(dir.path()), bytes).unwrap();
        assert_eq!(extensions(&index_path(dir.path())), ["TREE", "REUC"]);
        // git reads it with the same settings, and sees the new untracked file.
        assert_eq!(
            git(
                dir.path(),
                &[&config[..], &["status", "--porcelain", "-uall"]].concat()
            ),
            "M  a.yaml\nM  rendered/staging/api.service.yaml\n\
             ?? rendered/staging/untracked.txt\n?? untracked.txt\n"
        );
        assert_eq!(
            git(dir.path(), &["ls-files", "--resolve-undo"]),
            resolve_undo
        );
        assert_eq!(
            git(dir.path(), &[&config[..], &["diff-files"]].concat()),
            ""
        );
        git(dir.path(), &["fsck", "--no-progress"]);
    }

    #[test]
    fn a_racily_clean_entry_whose_file_changed_is_smudged() {
        let dir = checkout();
        let file = dir.path().join("a.yaml");
        let stamp = SystemTime::now() - Duration::from_secs(100);
        let set_mtime = |path: &Path, time: SystemTime| {
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(time)
                .unwrap();
        };
        set_mtime(&file, stamp);
        set_mtime(&dir.path().join("environments/prod/values.yaml"), stamp);
        git(dir.path(), &["update-index", "--refresh"]);
        // The index written in the same second as the files: git cannot trust their stat data.
        set_mtime(&index_path(dir.path()), stamp);
        // One changes without changing size or mtime: only its content tells.
        std::fs::write(&file, "A.yaml\n").unwrap();
        set_mtime(&file, stamp);
        let no_ctime = ["-c", "core.trustctime=false"];
        let dirty = || {
            git(
                dir.path(),
                &[&no_ctime[..], &["diff-files", "--name-only"]].concat(),
            )
        };
        assert_eq!(dirty(), "a.yaml\n");

        let index = read(dir.path());
        let changed = entry_for(dir.path(), "z/deep/er/file", b"new\n");
        let bytes = index
            .updated(&[("z/deep/er/file", Some(changed))], &mut holds(dir.path()))
            .unwrap();
        std::fs::write(index_path(dir.path()), bytes).unwrap();
        // A later index would vouch for the stat data it copied: the entry must say changed.
        set_mtime(
            &index_path(dir.path()),
            SystemTime::now() + Duration::from_secs(100),
        );
        assert_eq!(dirty(), "a.yaml\n");
        let debug = git(dir.path(), &["ls-files", "--debug", "a.yaml"]);
        assert!(debug.contains("size: 0\t"), "{debug}");
        // The racy entry whose file still holds its blob keeps its stat data.
        let debug = git(
            dir.path(),
            &["ls-files", "--debug", "environments/prod/values.yaml"],
        );
        assert!(!debug.contains("size: 0\t"), "{debug}");
    }

    #[test]
    fn formats_left_to_libgit2() {
        let dir = checkout();
        let index = index_path(dir.path());
        let readable = || IndexFile::read(&index).unwrap().is_some();
        git(dir.path(), &["update-index", "--index-version", "4"]);
        assert!(!readable(), "version 4");
        git(dir.path(), &["update-index", "--index-version", "2"]);
        assert!(readable());
        git(dir.path(), &["update-index", "--split-index"]);
        assert!(!readable(), "a split index");
        git(dir.path(), &["update-index", "--no-split-index"]);
        assert!(readable());
        git(
            dir.path(),
            &[
                "sparse-checkout",
                "set",
                "--cone",
                "--sparse-index",
                "environments",
            ],
        );
        assert!(!readable(), "a sparse index");
        git(dir.path(), &["sparse-checkout", "disable"]);
        assert!(readable());

        // Damaged or unusual files: a short file, entries out of order, a bad padding, a
        // path running past the end, an extension that is not optional or runs past the end.
        let good = std::fs::read(&index).unwrap();
        let parses = |data: &[u8]| IndexFile::parse(data.to_vec(), 0).is_some();
        assert!(parses(&good));
        assert!(!parses(b"DIRC\0\0\0\x02"));
        let first = IndexFile::parse(good.clone(), 0).unwrap().entries[0].clone();
        let second = IndexFile::parse(good.clone(), 0).unwrap().entries[1].clone();
        let mut swapped = good[..HEADER].to_vec();
        swapped.extend_from_slice(&good[second.bytes.clone()]);
        swapped.extend_from_slice(&good[first.bytes.clone()]);
        swapped.extend_from_slice(&good[second.bytes.end..]);
        assert!(!parses(&swapped), "out of order");
        let mut padding = good.clone();
        padding[first.bytes.end - 1] = b'x';
        assert!(!parses(&padding), "padding");
        let mut long = good.clone();
        long[first.bytes.start + FLAGS_AT..first.bytes.start + FLAGS_AT + 2]
            .copy_from_slice(&0x0ff0u16.to_be_bytes());
        assert!(!parses(&long), "a path past the end");
        let mut extended = good.clone();
        extended[first.bytes.start + FLAGS_AT] |= 0x40;
        assert!(!parses(&extended), "extended flags in version 2");
        let ext = IndexFile::parse(good.clone(), 0).unwrap().extensions;
        for signature in [&b"tree"[..], b"1REE", b"link", b"sdir"] {
            let mut mandatory = good.clone();
            mandatory[ext..ext + 4].copy_from_slice(signature);
            assert!(!parses(&mandatory), "{signature:?}");
        }
        let mut past = good.clone();
        past[ext + 4..ext + 8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(!parses(&past), "an extension past the end");
        let mut count = good.clone();
        count[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(!parses(&count), "more entries than the file holds");
        // A cache tree that does not parse is dropped, not copied.
        let mut tree = good.clone();
        tree[ext + 9] = b'x';
        let tree = IndexFile::parse(tree, 0).unwrap();
        let update = [("a.yaml", None)];
        let bytes = tree.updated(&update, &mut |_, _| true).unwrap();
        assert!(signatures(&bytes).is_empty());

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
        let index = read(dir.path());
        assert!(index.conflicted("a.yaml"));
        assert_eq!(index.stage0("a.yaml"), None);
        assert!(!index.conflicted("environments/prod/values.yaml"));
    }

    #[test]
    fn an_index_read_earlier_is_reused_only_while_the_file_is_the_same() {
        let dir = checkout();
        let path = index_path(dir.path());
        let reused = |previous: IndexFile| {
            let at = previous.data.as_ptr();
            let again = IndexFile::reread(&path, Some(previous)).unwrap().unwrap();
            (again.data.as_ptr() == at, again)
        };
        let (same, index) = reused(read(dir.path()));
        assert!(same, "an untouched file is not read again");
        let (same, index) = reused(index);
        assert!(same);

        // git replaces the file (a staged edit): read again, and the edit is seen.
        std::fs::write(dir.path().join("a.yaml"), "staged\n").unwrap();
        git(dir.path(), &["add", "a.yaml"]);
        let (same, index) = reused(index);
        assert!(!same, "a new index file");
        let staged = git(dir.path(), &["rev-parse", ":a.yaml"]);
        assert_eq!(index.stage0("a.yaml").unwrap().to_string(), staged.trim());

        // The same file written over in place with other content of the same size.
        let mut other = std::fs::read(&path).unwrap();
        let end = other.len() - HASH;
        let at = index.entries[0].bytes.start + MTIME_AT;
        other[at] ^= 1;
        let hash = Sha1::digest(&other[..end]);
        other[end..].copy_from_slice(&hash);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .write_all_at(&other, 0)
            .unwrap();
        let (same, index) = reused(index);
        assert!(!same, "other content in the same file");

        // Only its time changed: read again (the racy rule reads the time).
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::now() + Duration::from_secs(5))
            .unwrap();
        let (same, index) = reused(index);
        assert!(!same, "a new time");

        // Gone: an empty index.
        std::fs::remove_file(&path).unwrap();
        let (same, index) = reused(index);
        assert!(!same);
        assert!(index.entries.is_empty());

        // An index written without a checksum (index.skipHash) is never taken as unchanged.
        git(
            dir.path(),
            &["-c", "index.skipHash=true", "read-tree", "HEAD"],
        );
        let data = std::fs::read(&path).unwrap();
        assert_eq!(data[data.len() - HASH..], [0; HASH]);
        let (same, _) = reused(read(dir.path()));
        assert!(!same);
    }

    #[test]
    fn sizes_are_stored_as_git_stores_them() {
        assert_eq!(index_size(0), 0);
        assert_eq!(index_size(5), 5);
        assert_eq!(index_size(1 << 32), 0x8000_0000);
        assert_eq!(index_size((1 << 32) + 7), 7);
    }
}
