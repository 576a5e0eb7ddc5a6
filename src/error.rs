//! How an error ends a command, for the people and bots reading it: every error type that a
//! caller must tell apart says its [`Class`] and, when it knows one, a hint — what to do
//! about it — through one trait, [`Classified`]. Only `cli::exit` turns classes into exit
//! codes. This module decides nothing else and prints nothing.

/// What kind of failure an error is, as a CI bot acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Bad arguments, bad input files, or anything else a person must fix.
    Usage,
    /// A release guard refused the command: the repository's state says no.
    Refused,
    /// Someone else moved the branch (after every retry), or the local branch diverged.
    Conflict,
}

/// An error that knows its class and what the user can do about it.
pub trait Classified: std::error::Error {
    /// Its class.
    fn class(&self) -> Class {
        Class::Usage
    }
    /// What the user can do about it, with what greenlight knows filled in.
    fn hint(&self) -> Option<String> {
        None
    }
}

/// `cause` as a classified error, if it is one of the types that are: the one list of them.
fn as_classified<'e>(cause: &'e (dyn std::error::Error + 'static)) -> Option<&'e dyn Classified> {
    macro_rules! first_of {
        ($($ty:ty),* $(,)?) => {
            $(if let Some(e) = cause.downcast_ref::<$ty>() {
                return Some(e);
            })*
        };
    }
    first_of!(
        crate::ops::Refused,
        crate::ops::OpsError,
        crate::ops::PublishError,
        crate::repo::RepoError,
        crate::repo::transport::TransportError,
        crate::workspace::WorkspaceError,
        crate::forge::ForgeError,
    );
    None
}

/// The class of `err`: that of the first classified error in its chain (usage otherwise).
pub fn class(err: &anyhow::Error) -> Class {
    err.chain()
        .find_map(as_classified)
        .map_or(Class::Usage, Classified::class)
}

/// The hint of the first error in the chain of `err` that has one.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    err.chain()
        .filter_map(as_classified)
        .find_map(Classified::hint)
}
