//! YAML-safe quoting of strings from values: the `q` and `qkey` template filters and the
//! escape function that autoescapes every other string expression.
//!
//! `q` always writes a YAML double-quoted scalar on one line, so no value can end its scalar,
//! start a new key or a new document. `qkey` writes a map key plain when it is unambiguous
//! and falls back to `q` otherwise. Nothing here reads disk, env or clock.

use std::collections::HashMap;

use tera::Value;

pub(crate) use crate::yaml::quote;

/// Write a map key: plain when [`crate::yaml::is_plain_safe`] allows it, else as [`quote`]
/// does.
pub(crate) fn quote_key(key: &str) -> String {
    if crate::yaml::is_plain_safe(key) {
        key.to_owned()
    } else {
        quote(key)
    }
}

/// The tera escape function: every string expression without a safe filter is quoted.
pub(crate) fn escape(s: &str) -> String {
    quote(s)
}

/// The `q` filter: a string (or a number or boolean, written as its text) as a quoted scalar.
pub(crate) struct Q;

impl tera::Filter for Q {
    fn filter(&self, value: &Value, _args: &HashMap<String, Value>) -> tera::Result<Value> {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(tera::Error::msg(format!(
                    "filter `q` quotes a string, a number or a boolean, but got {}",
                    kind_of(other)
                )))
            }
        };
        Ok(Value::String(quote(&text)))
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// The `qkey` filter: a map key, plain when safe, quoted otherwise.
pub(crate) struct QKey;

impl tera::Filter for QKey {
    fn filter(&self, value: &Value, _args: &HashMap<String, Value>) -> tera::Result<Value> {
        match value {
            Value::String(s) => Ok(Value::String(quote_key(s))),
            other => Err(tera::Error::msg(format!(
                "filter `qkey` quotes a map key, which must be a string, but got {}",
                kind_of(other)
            ))),
        }
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// A short description of a JSON value's type for filter errors.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null (is the variable set?)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_back(yaml: &str) -> String {
        match crate::yaml::parse_document(yaml).expect("quoted scalar parses") {
            Value::String(s) => s,
            other => panic!("{yaml} reads as {other}, not a string"),
        }
    }

    #[test]
    fn quote_escapes_structure_and_line_breaks() {
        assert_eq!(quote("plain"), r#""plain""#);
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("x\nkind: Secret"), r#""x\nkind: Secret""#);
        assert_eq!(quote("a\r\tb"), r#""a\r\tb""#);
        assert_eq!(quote("\u{0}\u{7f}\u{85}"), r#""\x00\x7F\x85""#);
        assert_eq!(
            quote("\u{2028}\u{2029}\u{feff}\u{202e}"),
            r#""\u2028\u2029\uFEFF\u202E""#
        );
    }

    #[test]
    fn quote_keeps_printable_unicode_raw() {
        assert_eq!(quote("🚀 שלום café"), "\"🚀 שלום café\"");
    }

    #[test]
    fn hostile_strings_parse_back_unchanged() {
        let hostile = [
            "x\nkind: Secret",
            "a: b",
            "---",
            "...",
            "# comment",
            "\"",
            "'",
            "\\",
            "{}",
            "[]",
            "&a",
            "*a",
            "!tag",
            "!!str",
            "%YAML 1.2",
            "@at",
            "`tick`",
            "|",
            ">",
            "- item",
            "? key",
            "",
            " leading and trailing ",
            "🚀 emoji",
            "\u{202e}RTL override",
            "עברית",
            "\u{85}\u{2028}\u{2029}\u{feff}",
            "\u{1b}[31mred",
            "true",
            "null",
            "~",
            "0x1F",
            "1e3",
            "\u{fffe}\u{ffff}",
        ];
        for s in hostile {
            assert_eq!(parse_back(&quote(s)), s, "round trip of {s:?}");
            assert!(!quote(s).contains('\n'), "one line for {s:?}");
        }
    }

    #[test]
    fn plain_keys_are_only_unambiguous_ones() {
        for ok in [
            "app",
            "app.kubernetes.io/name",
            "team_name",
            "a-b",
            "x1",
            "nope",
            "123abc",
            "a:b",
        ] {
            assert_eq!(quote_key(ok), ok, "{ok} should be plain");
        }
        for quoted in [
            "", "true", "True", "NO", "on", "Off", "y", "null", "~", "1", "0x1F", "1e3", "1:20",
            ".inf", "a b", "a: b", "a:", "-a", "a#b", "&a", "*a", "!a", "a\nb", "é",
        ] {
            assert_eq!(quote_key(quoted), quote(quoted));
        }
    }

    #[test]
    fn q_filter_rejects_maps_and_null() {
        let args = HashMap::new();
        assert_eq!(
            tera::Filter::filter(&Q, &Value::from(8080), &args).unwrap(),
            Value::from("\"8080\"")
        );
        let err = tera::Filter::filter(&Q, &Value::Null, &args).unwrap_err();
        assert!(err.to_string().contains("null"), "{err}");
        let err = tera::Filter::filter(&QKey, &Value::from(1), &args).unwrap_err();
        assert!(err.to_string().contains("a number"), "{err}");
    }

    proptest! {
        #[test]
        fn any_string_round_trips_through_q(s in any::<String>()) {
            let quoted = quote(&s);
            prop_assert!(!quoted.contains('\n'));
            prop_assert_eq!(parse_back(&quoted), s);
        }

        #[test]
        fn any_string_round_trips_as_a_map_key(k in any::<String>(), v in any::<String>()) {
            let doc = format!("{}: {}\n", quote_key(&k), quote(&v));
            let map = crate::yaml::parse_document(&doc).expect("one-entry map parses");
            let map = map.as_object().expect("a mapping");
            prop_assert_eq!(map.len(), 1);
            prop_assert_eq!(map.get(&k), Some(&Value::String(v)));
        }
    }
}
