//! The values model: load one `values.yaml`, validate it, locate errors by file, line and
//! column, and save edits back by changing only the edited scalars in the text.
//! It does no rendering, no git and no disk access: callers pass the text and a file label.
//!
//! Parsing runs in three passes, each reporting every problem it finds before stopping:
//! YAML structure (`tree`: syntax, one document, no anchors, aliases, tags or duplicate keys),
//! schema (`de`: types, unknown and missing keys), then semantic rules (`validate`).

mod de;
mod diagnostic;
mod edit;
pub mod kube;
pub mod model;
mod names;
pub mod notify;
mod path;
mod released;
mod scalar;
mod schema;
mod tree;
mod validate;

pub use diagnostic::{Diagnostic, DiagnosticKind, ValuesError};
pub use edit::{edit, EditError, VerificationFailure};
pub use model::*;
pub use notify::{cluster_status_context, Notify};
pub use released::{
    config_map_name, config_of, with_files_read, Config, Released, ReleasedError, Running,
    CONFIG_KEYS,
};
pub use schema::{json_schema, json_schema_text, modeline, SCHEMA_PATH};

/// Refuses characters YAML does not allow in a document (NUL and the other C0 and C1 control
/// characters except tab, line feed, carriage return and next line, DEL, and the
/// non-characters U+FFFE and U+FFFF), each located, before the parser sees them: they are
/// invisible in a review and some tools stop reading at them.
fn check_characters(file: &str, text: &str) -> Result<(), ValuesError> {
    let mut problems = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        for (col, c) in line.chars().enumerate() {
            let allowed = matches!(c, '\t' | '\r' | '\u{85}' | '\u{feff}')
                || !(c.is_control() || c == '\u{fffe}' || c == '\u{ffff}');
            if !allowed {
                problems.push(Diagnostic {
                    file: file.to_owned(),
                    line: n + 1,
                    column: col + 1,
                    path: String::new(),
                    kind: DiagnosticKind::Syntax,
                    message: format!(
                        "the control character U+{:04X} is not allowed in a values file",
                        c as u32
                    ),
                    expected: Some("printable text".to_owned()),
                    hint: Some("delete it (`cat -A` shows where it is)".to_owned()),
                });
                if problems.len() == 20 {
                    return Err(ValuesError::new(problems));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ValuesError::new(problems))
    }
}

/// Parse and validate the text of a values file. `file` is the label used in diagnostics
/// (a repository-relative path such as `environments/staging/values.yaml`).
///
/// Every problem of the first failing pass is reported, sorted by position.
pub fn parse(file: &str, text: &str) -> Result<Values, ValuesError> {
    parse_with_tree(file, text, None).map(|(values, _)| values)
}

/// [`parse`] for the values of environment `env`, which also checks the names built from the
/// environment's name (the Flux Kustomization / Argo CD Application `<app>-<env>`).
pub fn parse_in(env: &str, file: &str, text: &str) -> Result<Values, ValuesError> {
    parse_with_tree(file, text, Some(env)).map(|(values, _)| values)
}

/// [`parse`], also returning the spanned tree that edits and locations need.
pub(crate) fn parse_with_tree(
    file: &str,
    text: &str,
    env: Option<&str>,
) -> Result<(Values, tree::Node), ValuesError> {
    check_characters(file, text)?;
    let root = tree::build(file, text).map_err(ValuesError::new)?;
    let Some(root) = root.filter(|r| !r.is_null()) else {
        return Err(ValuesError::new(vec![Diagnostic {
            file: file.to_owned(),
            line: 1,
            column: 1,
            path: String::new(),
            kind: DiagnosticKind::MissingKey,
            message: "the values file is empty".to_owned(),
            expected: Some(
                "a mapping with at least `app`, `namespace`, `liveColor`, `image`, `blue`, \
                 `green`, `port` and `readinessProbe`"
                    .to_owned(),
            ),
            hint: None,
        }]));
    };
    let values: Values = de::from_tree(file, &root).map_err(ValuesError::new)?;
    let problems = validate::check(file, &root, &values, env);
    if problems.is_empty() {
        Ok((values, root))
    } else {
        Err(ValuesError::new(problems))
    }
}
