//! The scalars of values files: how a plain scalar is read (the union of YAML 1.2 and 1.1,
//! from `crate::yaml`), which numbers values accept, and how to write a string so that it
//! reads back unchanged.

/// The YAML 1.2 core booleans.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A decimal integer (`42`, `-1`, `+7`); other bases are refused to keep values readable.
pub(crate) fn parse_decimal(s: &str) -> Option<i128> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i128>().ok()
}

/// A float in YAML 1.2 core syntax (also accepts integers).
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let negative = s.starts_with('-');
    match unsigned {
        ".inf" | ".Inf" | ".INF" => Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }),
        ".nan" | ".NaN" | ".NAN" if unsigned.len() == s.len() => Some(f64::NAN),
        _ if crate::yaml::is_decimal_float(unsigned, false) => s.parse::<f64>().ok(),
        _ => None,
    }
}

/// `s` as a double-quoted YAML scalar (the crate-wide definition in [`crate::yaml`]).
pub(crate) use crate::yaml::quote as double_quoted;
pub(crate) use crate::yaml::{is_null, is_plain_safe, plain_kind, PlainKind};

/// `s` as a single-quoted YAML scalar, or `None` when single quotes cannot hold it verbatim
/// (line breaks and control characters need double-quote escapes).
pub(crate) fn single_quoted(s: &str) -> Option<String> {
    let unrepresentable = |c: char| {
        (c as u32) < 0x20
            || matches!(
                c,
                '\u{7f}' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}'
            )
    };
    if s.chars().any(unrepresentable) {
        return None;
    }
    Some(format!("'{}'", s.replace('\'', "''")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_plain_scalars_like_yaml_1_1_and_1_2() {
        let cases: &[(&str, PlainKind)] = &[
            ("", PlainKind::Null),
            ("~", PlainKind::Null),
            ("null", PlainKind::Null),
            ("NULL", PlainKind::Null),
            ("true", PlainKind::Bool),
            ("False", PlainKind::Bool),
            ("yes", PlainKind::Bool),
            ("off", PlainKind::Bool),
            ("y", PlainKind::Bool),
            ("1", PlainKind::Number),
            ("-1", PlainKind::Number),
            ("1.10", PlainKind::Number),
            ("1.", PlainKind::Number),
            (".5", PlainKind::Number),
            ("1e3", PlainKind::Number),
            ("1E-3", PlainKind::Number),
            ("0x1F", PlainKind::Number),
            ("0o17", PlainKind::Number),
            ("0b101", PlainKind::Number),
            ("1_000", PlainKind::Number),
            ("012", PlainKind::Number),
            ("1:20", PlainKind::Number),
            ("190:20:30.15", PlainKind::Number),
            (".inf", PlainKind::Number),
            ("-.Inf", PlainKind::Number),
            (".NaN", PlainKind::Number),
            ("<<", PlainKind::Special),
            ("1.5.0", PlainKind::String),
            ("v1.10", PlainKind::String),
            ("1.5.0-rc.1", PlainKind::String),
            ("latest", PlainKind::String),
            ("blue", PlainKind::String),
            ("1e", PlainKind::String),
            ("e3", PlainKind::String),
            ("_1", PlainKind::String),
            ("0xZZ", PlainKind::String),
            ("sha256:abc", PlainKind::String),
            ("yesterday", PlainKind::String),
            (".", PlainKind::String),
        ];
        for (text, kind) in cases {
            assert_eq!(plain_kind(text), *kind, "{text:?}");
        }
    }

    #[test]
    fn plain_safety() {
        for safe in [
            "1.5.0",
            "blue",
            "v2",
            "sha256:0123abcd",
            "1.5.0-rc.1_build+7",
            "main",
        ] {
            assert!(is_plain_safe(safe), "{safe:?} should be safe");
        }
        for unsafe_ in [
            "", "1.10", "true", "1e3", "null", "~", "0x1F", " a", "a ", "a: b", "a #b", "a:", "-a",
            "[a]", "a,b", "{a}", "*a", "&a", "!a", "'a'", "\"a\"", "%a", "@a", "a\nb", "a\tb",
            "yes", "é",
        ] {
            assert!(!is_plain_safe(unsafe_), "{unsafe_:?} should be unsafe");
        }
    }

    #[test]
    fn numbers_parse_strictly() {
        assert_eq!(parse_decimal("42"), Some(42));
        assert_eq!(parse_decimal("-7"), Some(-7));
        assert_eq!(parse_decimal("+7"), Some(7));
        assert_eq!(parse_decimal("0x10"), None);
        assert_eq!(parse_decimal("4.0"), None);
        assert_eq!(parse_decimal(""), None);
        assert_eq!(parse_decimal("-"), None);
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_float("1.5"), Some(1.5));
        assert_eq!(parse_float("-.inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("1.5.0"), None);
    }

    #[test]
    fn quoting_escapes_what_it_must() {
        assert_eq!(double_quoted("1.10"), "\"1.10\"");
        assert_eq!(double_quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(double_quoted("a\nb\u{1}"), "\"a\\nb\\x01\"");
        assert_eq!(single_quoted("it's"), Some("'it''s'".to_owned()));
        assert_eq!(single_quoted("a\nb"), None);
    }
}
