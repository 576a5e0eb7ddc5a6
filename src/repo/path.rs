//! The repository-relative paths greenlight reads and writes, as git trees name them: checked
//! by the one path rule (`crate::grammar`), directory arguments normalised, names joined.
//! It touches no disk and no git.

use super::RepoError;

/// Check that `path` is a safe repository-relative file path (`a/b/c.yaml`): the rule of
/// [`crate::grammar::check_relative_path`].
pub(crate) fn validate(path: &str) -> Result<(), RepoError> {
    crate::grammar::check_relative_path(path).map_err(|invalid| RepoError::InvalidPath {
        path: path.to_string(),
        reason: match invalid {
            crate::grammar::Invalid::Malformed { reason } => reason,
            _ => "the path is empty",
        },
    })
}

/// Normalise a directory argument: `""`, `"."` and `"/"` mean the repository root (returned as
/// `""`); a trailing `/` is dropped; anything else must be a valid path.
pub(crate) fn normalize_dir(dir: &str) -> Result<&str, RepoError> {
    if matches!(dir, "" | "." | "/") {
        return Ok("");
    }
    let trimmed = dir.strip_suffix('/').unwrap_or(dir);
    validate(trimmed)?;
    Ok(trimmed)
}

/// Join a normalised directory and a name into a repository-relative path.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(path: &str) -> &'static str {
        match validate(path) {
            Err(RepoError::InvalidPath { reason, path: p }) => {
                assert_eq!(p, path);
                reason
            }
            other => panic!("{path:?} should be invalid, got {other:?}"),
        }
    }

    #[test]
    fn accepts_plain_relative_paths() {
        for ok in [
            "values.yaml",
            "environments/prod/eu/values.yaml",
            ".gitignore",
            "a/.github/x",
            "dir.git/x",
        ] {
            validate(ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
        }
    }

    #[test]
    fn refuses_escapes_and_malformed_paths() {
        assert!(reason("").contains("empty"));
        assert!(reason("/etc/passwd").contains("absolute"));
        assert!(reason("../x").contains(".."));
        assert!(reason("a/../../x").contains(".."));
        assert!(reason("a//b").contains("empty component"));
        assert!(reason("a/b/").contains("empty component"));
        assert!(reason("./a").contains("`.`"));
        assert!(reason(".git/config").contains(".git"));
        assert!(reason("sub/.GIT/hooks/pre-commit").contains(".git"));
        assert!(reason("a\\b").contains("backslash"));
        assert!(reason("a\0b").contains("NUL"));
    }

    #[test]
    fn normalizes_directories() {
        assert_eq!(normalize_dir("").unwrap(), "");
        assert_eq!(normalize_dir(".").unwrap(), "");
        assert_eq!(normalize_dir("/").unwrap(), "");
        assert_eq!(normalize_dir("rendered/prod/").unwrap(), "rendered/prod");
        assert!(normalize_dir("../x").is_err());
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("d/e", "a"), "d/e/a");
    }
}
