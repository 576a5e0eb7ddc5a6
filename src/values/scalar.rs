//! How YAML reads plain scalars, and how to write a string so that it reads back unchanged.
//!
//! Resolution is deliberately the union of YAML 1.2 (core schema) and YAML 1.1 (what many
//! Kubernetes and GitOps tools still use): a plain scalar counts as "not a string" if either
//! version reads it as null, a boolean or a number. It owns no knowledge of the values schema.

/// What a plain scalar reads as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlainKind {
    /// `~`, `null`, or nothing at all.
    Null,
    /// `true`, `false`, and YAML 1.1's `yes`, `no`, `on`, `off`, `y`, `n`.
    Bool,
    /// An integer or float in either YAML version, including `.inf`, `.nan`, `0x1F`, `1_000`.
    Number,
    /// YAML 1.1's merge key `<<` and value key `=`.
    Special,
    /// A string.
    String,
}

impl PlainKind {
    /// How to name the kind in a message ("a number").
    pub fn describe(self) -> &'static str {
        match self {
            PlainKind::Null => "null",
            PlainKind::Bool => "a boolean",
            PlainKind::Number => "a number",
            PlainKind::Special => "a YAML special key",
            PlainKind::String => "a string",
        }
    }
}

/// Whether YAML 1.2's core schema reads this plain scalar as null.
pub(crate) fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

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
        _ if is_decimal_float(unsigned, false) => s.parse::<f64>().ok(),
        _ => None,
    }
}

/// What YAML 1.2 or 1.1 reads this plain scalar as (the "least string-like" of the two).
pub(crate) fn plain_kind(s: &str) -> PlainKind {
    if is_null(s) {
        return PlainKind::Null;
    }
    if matches!(
        s,
        "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "y"
            | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    ) {
        return PlainKind::Bool;
    }
    if s == "<<" || s == "=" {
        return PlainKind::Special;
    }
    if is_number(s) {
        return PlainKind::Number;
    }
    PlainKind::String
}

fn is_number(s: &str) -> bool {
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if matches!(
        unsigned,
        ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN"
    ) {
        return true;
    }
    let all = |rest: &str, ok: fn(u8) -> bool| !rest.is_empty() && rest.bytes().all(ok);
    if let Some(rest) = unsigned.strip_prefix("0x") {
        return all(rest, |b| b.is_ascii_hexdigit() || b == b'_');
    }
    if let Some(rest) = unsigned.strip_prefix("0o") {
        return all(rest, |b| (b'0'..=b'7').contains(&b) || b == b'_');
    }
    if let Some(rest) = unsigned.strip_prefix("0b") {
        return all(rest, |b| b == b'0' || b == b'1' || b == b'_');
    }
    is_decimal_float(unsigned, true) || is_sexagesimal(unsigned)
}

/// `1`, `1.5`, `1.`, `.5`, `1e3`, `1.5E-2`; with `underscores`, YAML 1.1's `1_000.5` too.
fn is_decimal_float(s: &str, underscores: bool) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digit = |b: u8| b.is_ascii_digit() || (underscores && b == b'_');
    let mut dots = 0;
    let mut digits = 0;
    for b in mantissa.bytes() {
        match b {
            b'.' => dots += 1,
            b if b.is_ascii_digit() => digits += 1,
            b if digit(b) => {}
            _ => return false,
        }
    }
    if dots > 1 || digits == 0 || (underscores && mantissa.starts_with('_')) {
        return false;
    }
    match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
        }
    }
}

/// YAML 1.1 base-60 numbers such as `1:20` or `190:20:30.15`.
fn is_sexagesimal(s: &str) -> bool {
    let mut parts = s.split(':');
    let first = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() || !first.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let ok = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let last = rest[rest.len() - 1];
    let last_int = last.split('.').next().unwrap_or("");
    ok(first)
        && rest[..rest.len() - 1].iter().all(|p| ok(p))
        && ok(last_int)
        && last[last_int.len()..]
            .strip_prefix('.')
            .is_none_or(|frac| frac.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
}

/// Whether `s`, written as a plain scalar in block or flow context, reads back as exactly the
/// string `s`. Conservative: anything unusual is reported unsafe and gets quoted.
pub(crate) fn is_plain_safe(s: &str) -> bool {
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@' | '+');
    let Some(first) = s.chars().next() else {
        return false;
    };
    (first.is_ascii_alphanumeric() || first == '_' || first == '/')
        && s.chars().all(allowed)
        && !s.ends_with(':')
        && plain_kind(s) == PlainKind::String
}

/// `s` as a double-quoted YAML scalar (the crate-wide definition in [`crate::yaml`]).
pub(crate) use crate::yaml::quote as double_quoted;

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
