//! The one place that maps outcomes and errors to exit codes, and prints an error chain with
//! its hint. Exit codes are a contract for CI bots (see README.md):
//! 0 success or nothing to do, 1 differences found, 2 usage or input error,
//! 3 a guard refused, 4 git conflict.

use std::io::Write as _;

use serde::Serialize;

use crate::error::{Class, Classified};
use crate::values::ValuesError;

/// Success, or nothing to do.
pub const OK: u8 = 0;
/// `diff` or `verify` found differences.
pub const DIFFERENCES: u8 = 1;
/// Bad arguments, bad input files, or any other error that is not one of the classes below.
pub const USAGE: u8 = 2;
/// A release guard refused the operation.
pub const REFUSED: u8 = 3;
/// The branch moved under us (after all retries) or another git conflict.
pub const CONFLICT: u8 = 4;

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
        crate::error::UsageError,
        crate::ops::RefusedEnvironments,
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

/// What to do about an error: the hint of the first error in its chain that has one.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    err.chain()
        .filter_map(as_classified)
        .find_map(Classified::hint)
}

/// The exit code of a class of errors.
pub fn code_of(class: Class) -> u8 {
    match class {
        Class::Usage => USAGE,
        Class::Refused => REFUSED,
        Class::Conflict => CONFLICT,
    }
}

/// The exit code for an error: the class of the first classified error in its chain.
pub fn code(err: &anyhow::Error) -> u8 {
    code_of(class(err))
}

/// Prints `error: …`, each `caused by: …`, and `hint: …` to stderr.
pub fn print(err: &anyhow::Error) {
    let mut out = std::io::stderr().lock();
    let mut chain = err.chain();
    if let Some(top) = chain.next() {
        // Located values errors are multi-line by design: print them as they are.
        let _ = writeln!(out, "error: {top}");
    }
    for cause in chain {
        if cause.downcast_ref::<ValuesError>().is_some() {
            let _ = writeln!(out, "{cause}");
        } else {
            let _ = writeln!(out, "  caused by: {cause}");
        }
    }
    if let Some(h) = hint(err) {
        let _ = writeln!(out, "  hint: {h}");
    }
}

/// Reports an argument error found by clap (an unknown flag, a bad value, a missing ENV) and
/// returns its exit code: clap's own message on stderr, and with `--output json` the same
/// JSON error document every other failure prints. `--help` and `--version` exit 0.
pub fn argument_error(err: &clap::Error, cli: &clap::Command) -> std::process::ExitCode {
    use clap::error::{ContextKind, ErrorKind};
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = err.print();
        return std::process::ExitCode::from(OK);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args
        .iter()
        .find_map(|a| cli.get_subcommands().find(|c| c.get_name() == a))
        .map_or("greenlight", |c| c.get_name());
    // A value our own parsers refused reads like every other error; clap's own errors
    // (unknown flags, missing values) keep clap's words.
    let ours =
        std::error::Error::source(err).and_then(|e| e.downcast_ref::<crate::error::UsageError>());
    let (message, hint) = match ours {
        Some(e) => {
            let arg = match err.get(ContextKind::InvalidArg) {
                Some(clap::error::ContextValue::String(a)) if a.starts_with('-') => {
                    format!("{}: ", a.split(' ').next().unwrap_or(a))
                }
                _ => String::new(),
            };
            let message = format!("{arg}{}", e.message);
            let mut out = std::io::stderr().lock();
            let _ = writeln!(out, "error: {message}");
            if let Some(h) = &e.hint {
                let _ = writeln!(out, "  hint: {h}");
            }
            (message, e.hint.clone())
        }
        None => {
            let _ = err.print();
            // clap's text: `error: …` (maybe continued on indented lines), `tip: …` lines,
            // then usage.
            let text = err.render().to_string();
            let lines: Vec<&str> = text.lines().map(str::trim).collect();
            let message = lines
                .iter()
                .take_while(|l| !l.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
                .trim_start_matches("error: ")
                .to_owned();
            let tips: Vec<&str> = lines
                .iter()
                .filter_map(|l| l.strip_prefix("tip: "))
                .collect();
            let hint = match tips.is_empty() {
                true => format!("see `greenlight {command} --help`"),
                false => tips.join("; "),
            };
            (message, Some(hint))
        }
    };
    let json = args
        .windows(2)
        .any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json");
    if json {
        let report = ErrorReport {
            schema_version: crate::ops::SCHEMA_VERSION,
            command: command.to_owned(),
            error: ErrorBody {
                code: USAGE,
                kind: "usage",
                messages: vec![message],
                hint,
                refusals: Vec::new(),
            },
        };
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut out, &report);
        let _ = writeln!(out);
    }
    std::process::ExitCode::from(USAGE)
}

/// The JSON document printed on stdout when a command fails with `--output json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorReport {
    /// Schema version (the same as every report's).
    pub schema_version: u32,
    /// The command that failed.
    pub command: String,
    /// The error.
    pub error: ErrorBody,
}

/// What went wrong, for bots.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The exit code.
    pub code: u8,
    /// `usage`, `refused` or `conflict`.
    pub kind: &'static str,
    /// The error and its causes, outermost first.
    pub messages: Vec<String>,
    /// What to do about it, when known.
    pub hint: Option<String>,
    /// For a guard's refusal (`kind` = `refused`): each refused environment (one, or each of
    /// a release of several); empty otherwise.
    pub refusals: Vec<RefusalEntry>,
}

/// One environment a guard refused.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefusalEntry {
    /// The environment.
    pub environment: String,
    /// Why, in one sentence.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// For a required status: each context without a success, with its state (`null`: no
    /// status yet) and the commit that decided it.
    pub statuses: Vec<crate::gate::ContextResult>,
}

impl RefusalEntry {
    /// The entry of a refusal in `environment`, if `err`'s chain holds one.
    fn of(environment: Option<&str>, err: &(dyn std::error::Error + 'static)) -> Option<Self> {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(c) = cause {
            if let Some(r) = c.downcast_ref::<crate::ops::Refused>() {
                use crate::release::Refusal;
                let statuses = match &r.refusal {
                    Refusal::StatusNotSuccess { unmet, .. }
                    | Refusal::StatusTimedOut { unmet, .. } => unmet.clone(),
                    _ => Vec::new(),
                };
                return Some(RefusalEntry {
                    environment: environment.unwrap_or(&r.environment).to_owned(),
                    message: r.to_string(),
                    hint: r.hint(),
                    statuses,
                });
            }
            if let Some(
                e @ crate::ops::OpsError::RenderedDrift {
                    environment: env, ..
                },
            ) = c.downcast_ref::<crate::ops::OpsError>()
            {
                return Some(RefusalEntry {
                    environment: environment.unwrap_or(env).to_owned(),
                    message: e.to_string(),
                    hint: e.hint(),
                    statuses: Vec::new(),
                });
            }
            cause = c.source();
        }
        None
    }

    /// Every refusal `err` holds.
    fn all(err: &anyhow::Error) -> Vec<RefusalEntry> {
        for cause in err.chain() {
            if let Some(many) = cause.downcast_ref::<crate::ops::RefusedEnvironments>() {
                return many
                    .refusals
                    .iter()
                    .filter_map(|r| RefusalEntry::of(Some(&r.environment), r.error.as_ref()))
                    .collect();
            }
        }
        err.chain()
            .find_map(|c| RefusalEntry::of(None, c))
            .into_iter()
            .collect()
    }
}

impl ErrorReport {
    /// The report of `err`, which exits with `code`.
    pub fn new(command: &'static str, err: &anyhow::Error, code: u8) -> ErrorReport {
        let kind = match code {
            REFUSED => "refused",
            CONFLICT => "conflict",
            _ => "usage",
        };
        ErrorReport {
            schema_version: crate::ops::SCHEMA_VERSION,
            command: command.to_owned(),
            error: ErrorBody {
                code,
                kind,
                messages: err.chain().map(|c| c.to_string()).collect(),
                hint: hint(err),
                refusals: match code {
                    REFUSED => RefusalEntry::all(err),
                    _ => Vec::new(),
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{OpsError, PublishError, Refused};
    use crate::release::Refusal;
    use crate::repo::transport::TransportError;
    use crate::repo::RepoError;
    use anyhow::Context as _;

    fn wrapped<E: std::error::Error + Send + Sync + 'static>(e: E) -> anyhow::Error {
        // Callers add context on the way out; the class must survive it.
        Err::<(), _>(e)
            .context("committing environment production")
            .unwrap_err()
    }

    #[test]
    fn each_error_class_has_its_documented_exit_code() {
        let refusal = Refused {
            environment: "production".into(),
            refusal: Refusal::ExpectedLiveMismatch {
                expected: crate::values::Color::Green,
                actual: crate::values::Color::Blue,
            },
        };
        assert_eq!(code(&wrapped(refusal)), REFUSED);
        let drift = OpsError::RenderedDrift {
            environment: "production".into(),
            drift: Vec::new(),
        };
        assert_eq!(code(&wrapped(drift)), REFUSED);
        let moved = RepoError::BranchMoved {
            refname: "refs/heads/main".into(),
            expected: None,
            actual: None,
        };
        assert_eq!(code(&wrapped(moved)), CONFLICT);
        let dirty = RepoError::DirtyPaths {
            paths: vec!["environments/production/values.yaml".into()],
        };
        assert_eq!(code(&wrapped(dirty)), USAGE);
        let not_git = OpsError::NotARepository {
            path: "/x".into(),
            command: "promote",
        };
        assert_eq!(code(&wrapped(not_git)), USAGE);
        let exhausted = PublishError::RetriesExhausted {
            remote: "origin".into(),
            branch: "main".into(),
            attempts: 6,
        };
        assert_eq!(code(&wrapped(exhausted)), CONFLICT);
        let diverged = RepoError::NotFastForward {
            refname: "refs/heads/main".into(),
            from: git2::Oid::ZERO_SHA1,
            to: git2::Oid::ZERO_SHA1,
        };
        assert_eq!(code(&wrapped(diverged)), CONFLICT);
        let rejected = PublishError::Rejected {
            remote: "origin".into(),
            branch: "main".into(),
            reason: "protected branch".into(),
        };
        assert_eq!(code(&wrapped(rejected)), USAGE);
        let auth = TransportError::Auth {
            remote: "origin".into(),
            detail: "denied".into(),
        };
        let auth = wrapped(auth);
        assert_eq!(code(&auth), USAGE);
        assert!(hint(&auth).unwrap().contains("GREENLIGHT_GIT_TOKEN"));
        assert_eq!(code(&anyhow::anyhow!("anything else")), USAGE);
        let distinct = [OK, DIFFERENCES, USAGE, REFUSED, CONFLICT];
        assert_eq!(distinct, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn the_json_error_names_the_class_and_keeps_the_hint() {
        let err = wrapped(Refused {
            environment: "production".into(),
            refusal: Refusal::NoReplicas {
                color: crate::values::Color::Green,
                restage: Some("--tag 1.5.0".into()),
            },
        });
        let report = ErrorReport::new("promote", &err, code(&err));
        assert_eq!((report.error.code, report.error.kind), (3, "refused"));
        assert_eq!(
            report.error.messages,
            [
                "committing environment production",
                "green has 0 replicas, so it cannot take traffic"
            ]
        );
        assert!(report
            .error
            .hint
            .clone()
            .unwrap()
            .contains("greenlight stage production --tag 1.5.0"));
        assert_eq!(report.error.refusals.len(), 1);
        assert_eq!(report.error.refusals[0].environment, "production");
        assert_eq!(
            report.error.refusals[0].message,
            "green has 0 replicas, so it cannot take traffic"
        );
    }
}
