//! The record of a checkout update in flight, so that a greenlight killed between moving the
//! branch and writing the checkout (SIGKILL, a cancelled CI job, a full disk) leaves something
//! the next run can finish, instead of a checkout that silently shows the commit reverted.
//!
//! The record is one small text file in the git directory, written (atomically) before the
//! branch moves and removed once the checkout and index match the new commit:
//!
//! ```text
//! greenlight checkout update 1
//! ref refs/heads/main
//! from 0123…   (or `none` on an unborn branch)
//! to 4567…
//! ```
//!
//! git keeps its own interrupted operations the same way (`.git/MERGE_HEAD`,
//! `.git/sequencer/`); this file is greenlight's.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use git2::Oid;

use super::RepoError;

/// The file's name inside the git directory.
pub(crate) const FILE: &str = "greenlight-checkout";
const HEADER: &str = "greenlight checkout update 1";

/// A branch move whose checkout update may not have finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingCheckout {
    /// The branch, in full (`refs/heads/main`).
    pub refname: String,
    /// Its tip before the move; `None` on an unborn branch.
    pub from: Option<Oid>,
    /// The commit it was moved to.
    pub to: Oid,
}

impl PendingCheckout {
    fn encode(&self) -> String {
        let from = self
            .from
            .map_or_else(|| "none".to_owned(), |id| id.to_string());
        format!(
            "{HEADER}\nref {}\nfrom {from}\nto {}\n",
            self.refname, self.to
        )
    }

    fn decode(text: &str) -> Option<PendingCheckout> {
        let mut lines = text.lines();
        if lines.next()? != HEADER {
            return None;
        }
        let mut field = |name: &str| lines.next()?.strip_prefix(name)?.strip_prefix(' ');
        let refname = field("ref")?.to_owned();
        let from = match field("from")? {
            "none" => None,
            hex => Some(full_oid(hex)?),
        };
        let to = full_oid(field("to")?)?;
        if !refname.starts_with("refs/") || lines.next().is_some() {
            return None;
        }
        Some(PendingCheckout { refname, from, to })
    }
}

/// A whole object id (`Oid::from_str` also takes a prefix, padding it with zeros).
fn full_oid(hex: &str) -> Option<Oid> {
    (hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| Oid::from_str(hex).ok())
        .flatten()
}

pub(crate) fn path(git_dir: &Path) -> PathBuf {
    git_dir.join(FILE)
}

/// Writes the record: to a temporary file, then renamed into place, so that a reader sees
/// the whole record or none. Like the branch move it precedes (libgit2 and git write refs
/// without an fsync unless `core.fsync` asks), it is not fsync'ed: a killed process loses
/// nothing the kernel holds.
pub(crate) fn record(git_dir: &Path, pending: &PendingCheckout) -> Result<(), RepoError> {
    let target = path(git_dir);
    let temp = git_dir.join(format!("{FILE}.{}.tmp", std::process::id()));
    let written =
        fs::File::create(&temp).and_then(|mut file| file.write_all(pending.encode().as_bytes()));
    if let Err(e) = written.and_then(|()| fs::rename(&temp, &target)) {
        let _ = fs::remove_file(&temp);
        return Err(RepoError::io("write", &target)(e));
    }
    Ok(())
}

/// Reads the record, if there is one.
pub(crate) fn read(git_dir: &Path) -> Result<Option<PendingCheckout>, RepoError> {
    let file = path(git_dir);
    let text = match fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(RepoError::PendingCheckoutUnreadable { path: file })
        }
        Err(e) => return Err(RepoError::io("read", &file)(e)),
    };
    PendingCheckout::decode(&text)
        .map(Some)
        .ok_or(RepoError::PendingCheckoutUnreadable { path: file })
}

/// Removes the record (there may be none).
pub(crate) fn clear(git_dir: &Path) -> Result<(), RepoError> {
    let file = path(git_dir);
    match fs::remove_file(&file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RepoError::io("remove", &file)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    #[test]
    fn a_record_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        for from in [Some(id(1)), None] {
            let pending = PendingCheckout {
                refname: "refs/heads/main".into(),
                from,
                to: id(2),
            };
            record(dir.path(), &pending).unwrap();
            assert_eq!(read(dir.path()).unwrap(), Some(pending));
        }
        clear(dir.path()).unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
        clear(dir.path()).unwrap();
        // Only the record itself is left behind, never a temporary file.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_damaged_record_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let good = PendingCheckout {
            refname: "refs/heads/main".into(),
            from: Some(id(1)),
            to: id(2),
        }
        .encode();
        let damaged = [
            String::new(),
            good.replace("update 1", "update 2"),
            good.replace("ref refs/heads/main", "ref main"),
            good.replace("from ", "from x"),
            good[..good.len() - 10].to_owned(),
            format!("{good}extra\n"),
        ];
        for text in damaged {
            fs::write(path(dir.path()), &text).unwrap();
            let err = read(dir.path()).unwrap_err();
            assert!(
                matches!(&err, RepoError::PendingCheckoutUnreadable { path } if path.ends_with(FILE)),
                "{text:?}: {err}"
            );
        }
    }
}
