//! How an error ends a command, for the people and bots reading it: every error type that a
//! caller must tell apart says its [`Class`] and, when it knows one, a hint — what to do
//! about it — through one trait, [`Classified`]. Only `cli::exit` finds them in an error's
//! chain and turns classes into exit codes. This module decides nothing else and prints
//! nothing; it depends on no other module but `grammar`.

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

/// Something a person must fix that no other error type describes (a command-line value, a
/// combination of options), said with what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    /// What is wrong, naming the value.
    pub message: String,
    /// What to do instead.
    pub hint: Option<String>,
}

impl Classified for UsageError {
    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}

impl From<crate::grammar::Refusal> for UsageError {
    fn from(r: crate::grammar::Refusal) -> UsageError {
        UsageError {
            hint: Some(r.hint.unwrap_or_else(|| format!("expected {}", r.expected))),
            message: r.message,
        }
    }
}
