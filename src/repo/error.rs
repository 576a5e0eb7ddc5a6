//! The one error type of the `repo` and `history` modules: every way reading or writing the
//! git repository can fail, with the data a caller needs to tell the cases apart and a hint
//! that says what to do. It formats messages only; it never prints.

use std::path::PathBuf;

use git2::Oid;

/// Everything that can go wrong while reading or committing to the git repository.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// No git repository was found at (or, for discovery, above) `path`.
    #[error("{} is not inside a git repository", path.display())]
    NotARepository {
        /// The path that was searched from or opened.
        path: PathBuf,
    },

    /// Paths the commit would write have uncommitted edits in the checkout.
    #[error("uncommitted changes in the checkout would be overwritten: {}", paths.join(", "))]
    DirtyPaths {
        /// The offending repository-relative paths, sorted.
        paths: Vec<String>,
    },

    /// The branch no longer points at the commit the change was computed from.
    #[error(
        "{refname} moved while the change was being prepared: expected {}, found {}",
        describe_tip(expected),
        describe_tip(actual)
    )]
    BranchMoved {
        /// The full name of the branch, e.g. `refs/heads/main`.
        refname: String,
        /// The tip the change was computed from (`None`: the branch did not exist yet).
        expected: Option<Oid>,
        /// The tip found when trying to move it (`None`: the branch does not exist).
        actual: Option<Oid>,
    },

    /// A branch cannot be moved forward to a commit that does not contain its tip.
    #[error("{refname} at {from} has commits that {to} does not contain")]
    NotFastForward {
        /// The branch.
        refname: String,
        /// Its tip.
        from: Oid,
        /// The commit it was to move to.
        to: Oid,
    },

    /// The repository belongs to another user, and git's safe.directory does not list it.
    #[error("{} belongs to another user", path.display())]
    NotOwned {
        /// The repository.
        path: PathBuf,
    },
    /// Files a commit would write lie outside the checkout's sparse-checkout patterns.
    #[error(
        "the checkout's sparse-checkout patterns leave out {}",
        paths.join(", ")
    )]
    OutsideSparseCheckout {
        /// The repository-relative paths, sorted.
        paths: Vec<String>,
    },

    /// Another git process holds the index lock (or one was killed while holding it).
    #[error("the index is locked: {} exists", path.display())]
    IndexLocked {
        /// The lock file.
        path: PathBuf,
    },

    /// A file greenlight reads is a symbolic link in the commit.
    #[error("{path} is a symbolic link in the commit: greenlight reads only regular files")]
    Symlink {
        /// The repository-relative path.
        path: String,
    },

    /// git config asks for signed commits and the commit could not be signed.
    #[error("cannot sign the commit: {problem}")]
    Signing {
        /// What is wrong, naming the config key, program or key file.
        problem: String,
    },

    /// No author or committer name or email is configured.
    #[error("no git identity: the {missing} is not set")]
    NoIdentity {
        /// Which part of the identity is missing, e.g. `author email`.
        missing: &'static str,
    },

    /// An identity date variable holds a date in a format greenlight does not read.
    #[error("{variable}={value:?} is not a date greenlight understands")]
    InvalidDate {
        /// The environment variable, e.g. `GIT_AUTHOR_DATE`.
        variable: &'static str,
        /// Its value.
        value: String,
    },

    /// A repository-relative path given to greenlight is unsafe or malformed.
    #[error("invalid repository path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A branch name that git does not accept as a full reference name.
    #[error("invalid branch reference {refname:?}: expected a full name like refs/heads/main")]
    InvalidRefName {
        /// The name as given.
        refname: String,
    },

    /// `HEAD` points at a commit rather than a branch.
    #[error("HEAD is detached in {}: it does not name a branch", git_dir.display())]
    DetachedHead {
        /// The git directory whose `HEAD` is detached.
        git_dir: PathBuf,
    },

    /// A commit was requested with an empty message.
    #[error("refusing to commit with an empty message")]
    EmptyMessage,

    /// Reading or writing a file of the checkout failed.
    #[error("could not {operation} {}", path.display())]
    Io {
        /// What was being done, e.g. `write`.
        operation: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The commit was written and the branch moved, but updating the checkout failed.
    #[error("committed {commit}, but could not update the checkout")]
    CheckoutNotUpdated {
        /// The commit now at the tip of the branch.
        commit: Oid,
        /// The paths the commit changed, which the checkout may not reflect yet.
        paths: Vec<String>,
        /// What went wrong.
        #[source]
        source: Box<RepoError>,
    },

    /// An earlier greenlight moved the branch but was stopped before it brought the checkout
    /// along, and some of those files have been edited since: finishing it would lose edits.
    #[error(
        "greenlight was interrupted after committing {commit} to {refname}, before the checkout \
         caught up; since then these files were edited: {}",
        paths.join(", ")
    )]
    InterruptedCheckoutEdited {
        /// The branch.
        refname: String,
        /// The commit the branch is at, which the checkout does not show yet.
        commit: Oid,
        /// The edited paths, sorted.
        paths: Vec<String>,
    },

    /// The record of an unfinished checkout update cannot be read.
    #[error("{} is damaged", path.display())]
    PendingCheckoutUnreadable {
        /// The record, inside the git directory.
        path: PathBuf,
    },

    /// A partial or shallow clone could not fetch what it lacks from its remote.
    #[error("could not fetch {what} from the remote")]
    Fetch {
        /// What was being fetched, e.g. `more history`.
        what: &'static str,
        /// Why.
        #[source]
        source: super::transport::TransportError,
    },

    /// The history of a shallow clone ends before what a command must read, and there is no
    /// remote to fetch more of it from.
    #[error(
        "the history of this shallow clone ends at {commits} {} before what greenlight must \
         read, and no remote is configured to fetch more",
        if *commits == 1 { "commit" } else { "commits" }
    )]
    ShallowHistory {
        /// How many commits the history stops at.
        commits: usize,
    },

    /// A libgit2 operation failed.
    #[error("git could not {operation}")]
    Git {
        /// What was being done, e.g. `read the index`.
        operation: &'static str,
        /// The libgit2 error.
        #[source]
        source: git2::Error,
    },
}

fn describe_tip(tip: &Option<Oid>) -> String {
    match tip {
        Some(id) => id.to_string(),
        None => "no branch".to_string(),
    }
}

impl crate::error::Classified for RepoError {
    fn class(&self) -> crate::error::Class {
        match self {
            RepoError::BranchMoved { .. } | RepoError::NotFastForward { .. } => {
                crate::error::Class::Conflict
            }
            _ => crate::error::Class::Usage,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            RepoError::NotARepository { .. } => Some(
                "run greenlight inside a clone of the GitOps repository, or pass its path \
                 (run `greenlight init` to create one)"
                    .to_string(),
            ),
            RepoError::NotOwned { path } => Some(format!(
                "if you trust it, run `git config --global --add safe.directory {}`",
                path.display()
            )),
            RepoError::DirtyPaths { paths } => Some(format!(
                "commit or stash your edits first (`git stash push -- {0}`), or discard them \
                 with `git checkout HEAD -- {0}`, then run the command again",
                paths.join(" ")
            )),
            RepoError::BranchMoved { refname, .. } => Some(format!(
                "someone else committed to {refname} meanwhile; run the command again so it \
                 is computed (and its guards checked) on the new tip"
            )),
            RepoError::NotFastForward { refname, .. } => Some(format!(
                "{refname} has commits that are not on the remote; integrate them first \
                 (`git pull --rebase`, then `git push`) and run the command again"
            )),
            RepoError::IndexLocked { path } => Some(format!(
                "another git command is running here, or one was killed; when none is running, \
                 remove {} and run `git status` to check the checkout",
                path.display()
            )),
            RepoError::OutsideSparseCheckout { paths } => {
                let mut folders: Vec<&str> = paths
                    .iter()
                    .map(|p| p.rsplit_once('/').map_or(p.as_str(), |(dir, _)| dir))
                    .collect();
                folders.dedup();
                Some(format!(
                    "greenlight writes every file it commits into the checkout: add the \
                     environment to the sparse checkout (`git sparse-checkout add {}`), or run \
                     the command with `--clone URL`, which needs no checkout; nothing was written",
                    folders.join(" ")
                ))
            }
            RepoError::Symlink { path } => Some(format!(
                "replace the link with the file itself (`git rm --cached {path}`, copy the \
                 content, `git add {path}`): a link could point outside the repository"
            )),
            RepoError::Signing { .. } => Some(
                "fix the signing set-up so that `git commit -S` works here (see `git config \
                 commit.gpgsign`, `gpg.format`, `user.signingkey`), or turn signing off with \
                 `git config commit.gpgsign false`; nothing was committed"
                    .to_string(),
            ),
            RepoError::NoIdentity { .. } => Some(
                "set `git config user.name \"Release Bot\"` and `git config user.email \
                 bot@example.com`, or export GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL, \
                 GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL"
                    .to_string(),
            ),
            RepoError::InvalidDate { variable, .. } => Some(format!(
                "set {variable} to `@<unix-seconds> +0000`, an RFC 2822 date \
                 (`Thu, 07 Apr 2005 22:13:13 +0200`) or an ISO 8601 date with a zone \
                 (`2005-04-07T22:13:13+02:00`), or unset it to use the current time"
            )),
            RepoError::InvalidPath { .. } => Some(
                "paths must be relative to the repository root, use `/` between components, \
                 and contain no empty, `.`, `..` or `.git` components"
                    .to_string(),
            ),
            RepoError::InvalidRefName { .. } => {
                Some("name the branch in full, e.g. refs/heads/main".to_string())
            }
            RepoError::DetachedHead { .. } => Some(
                "check out a branch (`git switch main`) or name the branch to commit to"
                    .to_string(),
            ),
            RepoError::EmptyMessage => None,
            RepoError::Io { .. } => Some(
                "check that the checkout is writable and the disk is not full; \
                 `git status` shows what was already updated"
                    .to_string(),
            ),
            RepoError::CheckoutNotUpdated { paths, .. } => Some(format!(
                "the commit is on the branch; the next greenlight command that commits brings \
                 the checkout in line with it, or run `git checkout HEAD -- {}`",
                paths.join(" ")
            )),
            RepoError::InterruptedCheckoutEdited { paths, .. } => Some(format!(
                "the branch is right and these files are behind it; keep your edits elsewhere, \
                 then `git checkout HEAD -- {}` and run the command again",
                paths.join(" ")
            )),
            RepoError::PendingCheckoutUnreadable { path } => Some(format!(
                "it records a checkout update greenlight did not finish; `git status` lists \
                 the files that differ from the branch: keep the edits you want (`git stash`), \
                 bring the rest in line (`git checkout HEAD -- .` after the stash), then \
                 remove {}",
                path.display()
            )),
            RepoError::Fetch { .. } => None,
            RepoError::ShallowHistory { .. } => Some(
                "fetch the whole history (`git fetch --unshallow`) or add the remote it was \
                 cloned from (`git remote add origin URL`); the release guards read it"
                    .to_string(),
            ),
            RepoError::Git { source, .. } => match source.code() {
                git2::ErrorCode::Locked => Some(
                    "another git process holds a lock on the repository; wait for it to finish \
                     (or remove a stale `.lock` file it left behind) and run again"
                        .to_string(),
                ),
                _ if source.class() == git2::ErrorClass::Index
                    && source.message().contains("unsupported mandatory extension") =>
                {
                    Some(index_extension_hint(source.message()))
                }
                _ => None,
            },
        }
    }
}

/// What to do about an index libgit2 cannot read: a split index (`link`) or a sparse index
/// (`sdir`), which git writes when `core.splitIndex` or `index.sparse` is on.
fn index_extension_hint(message: &str) -> String {
    let undo = if message.contains("'sdir'") {
        "this checkout uses a sparse index: run `git sparse-checkout set --no-sparse-index` \
         (the sparse checkout itself can stay)"
    } else if message.contains("'link'") {
        "this checkout uses a split index: run `git update-index --no-split-index` (and \
         `git config core.splitIndex false`)"
    } else {
        "git wrote the index with an extension libgit2 cannot read: rewrite it with \
         `git update-index --index-version 2`"
    };
    format!("{undo}, or run the command with `--clone URL`, which needs no checkout; nothing was written")
}

impl RepoError {
    pub(crate) fn git(operation: &'static str) -> impl FnOnce(git2::Error) -> RepoError {
        move |source| RepoError::Git { operation, source }
    }

    pub(crate) fn io(
        operation: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> RepoError {
        let path = path.into();
        move |source| RepoError::Io {
            operation,
            path,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Classified as _;

    #[test]
    fn branch_moved_names_both_tips() {
        let expected = Oid::from_str("1111111111111111111111111111111111111111").unwrap();
        let err = RepoError::BranchMoved {
            refname: "refs/heads/main".into(),
            expected: Some(expected),
            actual: None,
        };
        assert_eq!(
            err.to_string(),
            "refs/heads/main moved while the change was being prepared: \
             expected 1111111111111111111111111111111111111111, found no branch"
        );
        assert!(err.hint().unwrap().contains("run the command again"));
    }

    #[test]
    fn dirty_paths_hint_names_the_paths() {
        let err = RepoError::DirtyPaths {
            paths: vec!["a.yaml".into(), "b/c.yaml".into()],
        };
        assert_eq!(
            err.to_string(),
            "uncommitted changes in the checkout would be overwritten: a.yaml, b/c.yaml"
        );
        assert!(err.hint().unwrap().contains("-- a.yaml b/c.yaml"));
    }

    #[test]
    fn owner_errors_name_the_directory_safe_directory_needs() {
        let err = RepoError::NotOwned {
            path: "/srv/gitops".into(),
        };
        assert_eq!(err.to_string(), "/srv/gitops belongs to another user");
        assert_eq!(
            err.hint().unwrap(),
            "if you trust it, run `git config --global --add safe.directory /srv/gitops`"
        );
    }
}
