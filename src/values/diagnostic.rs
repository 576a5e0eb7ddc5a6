//! Located diagnostics of values files and the error that carries them.
//!
//! Owns the stable text format (`file:line:col: path: message` with indented `expected:` and
//! `hint:` lines) that the invalid-input fixtures pin. It does no parsing and no checking.

use std::fmt;

use serde::Serialize;

/// What sort of problem a [`Diagnostic`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosticKind {
    /// The text is not valid YAML.
    Syntax,
    /// Valid YAML that values files forbid: several documents, anchors, aliases, merge keys,
    /// tags, or keys that are not plain scalars.
    UnsupportedYaml,
    /// The same key twice in one mapping.
    DuplicateKey,
    /// A key the schema does not know.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A value of the wrong YAML type (a list where a mapping belongs, text for a number...).
    WrongType,
    /// A value of the right type that breaks a rule (name grammar, range, consistency).
    InvalidValue,
}

/// One problem in a values file, with its location and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    /// The file label given to `parse` (a repository-relative path).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Dotted key path such as `blue.replicas` or `env.LOG_LEVEL`; empty for the whole file.
    pub path: String,
    /// The sort of problem.
    pub kind: DiagnosticKind,
    /// What is wrong.
    pub message: String,
    /// The form that would be accepted.
    pub expected: Option<String>,
    /// How to fix it, when there is a likely fix.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(expected) = &self.expected {
            write!(f, "\n  expected: {expected}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// A values file that cannot be used: every problem found, sorted by position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValuesError {
    /// At least one diagnostic, sorted by line then column.
    pub diagnostics: Vec<Diagnostic>,
}

impl ValuesError {
    /// An error from diagnostics in any order; they are sorted by position.
    pub(crate) fn new(mut diagnostics: Vec<Diagnostic>) -> ValuesError {
        debug_assert!(!diagnostics.is_empty());
        diagnostics.sort_by_key(|d| (d.line, d.column));
        diagnostics.dedup();
        ValuesError { diagnostics }
    }
}

/// How many problems are printed; the rest are counted (a hostile file can hold thousands).
const SHOWN: usize = 10;

impl fmt::Display for ValuesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().take(SHOWN).enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        let more = self.diagnostics.len().saturating_sub(SHOWN);
        if more > 0 {
            write!(
                f,
                "\n... and {more} more problem{} in the same file (fix these first)",
                if more == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(line: usize, column: usize, path: &str) -> Diagnostic {
        Diagnostic {
            file: "environments/staging/values.yaml".into(),
            line,
            column,
            path: path.into(),
            kind: DiagnosticKind::UnknownKey,
            message: "unknown key".into(),
            expected: Some("one of `tag`, `digest`, `replicas`".into()),
            hint: Some("did you mean `replicas`?".into()),
        }
    }

    #[test]
    fn displays_the_documented_format() {
        assert_eq!(
            diag(7, 10, "blue.replica").to_string(),
            "environments/staging/values.yaml:7:10: blue.replica: unknown key\n  \
             expected: one of `tag`, `digest`, `replicas`\n  \
             hint: did you mean `replicas`?"
        );
    }

    #[test]
    fn omits_absent_parts() {
        let mut d = diag(1, 1, "");
        d.expected = None;
        d.hint = None;
        assert_eq!(
            d.to_string(),
            "environments/staging/values.yaml:1:1: unknown key"
        );
    }

    #[test]
    fn error_sorts_blocks_by_position() {
        let e = ValuesError::new(vec![diag(9, 1, "b"), diag(2, 5, "a"), diag(2, 3, "c")]);
        let order: Vec<&str> = e.diagnostics.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(order, vec!["c", "a", "b"]);
        assert_eq!(e.to_string().matches("unknown key").count(), 3);
    }
}
