//! YAML-safe quoting of strings from values: the `q` and `qkey` template filters and the
//! escape function that autoescapes every other string expression.
//!
//! `q` always writes a YAML double-quoted scalar on one line, so no value can end its scalar,
//! start a new key or a new document. `qkey` writes a map key plain when it is unambiguous
//! and falls back to `q` otherwise. Nothing here reads disk, env or clock.

use serde_json::Value;
use tera::{Kwargs, State, TeraResult};

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

/// The tera escape function: every expression that prints a string (or a list or map) without
/// a safe filter is written as [`quote`] writes it. tera never escapes numbers, booleans or
/// `none`: they are safe as they are.
pub(crate) fn escape(s: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    out.write_all(quote(s).as_bytes())
}

/// A template value as JSON, the form the quoting functions read: strings without a copy of
/// anything else, numbers written as values write them.
fn json(value: &tera::Value) -> TeraResult<Value> {
    match value.as_str() {
        Some(s) => Ok(Value::String(s.to_owned())),
        None if value.is_undefined() => Ok(Value::Null),
        None => serde_json::to_value(value)
            .map_err(|e| tera::Error::message(format!("a template value is not plain data: {e}"))),
    }
}

/// A filter's output: text the filter made YAML-safe itself, so autoescaping leaves it as is.
fn safe(text: &str) -> tera::Value {
    tera::Value::safe_string(text)
}

/// The `q` filter: a string (or a number or boolean, written as its text) as a quoted scalar.
pub(crate) fn q(value: &tera::Value, _: Kwargs, _: &State) -> TeraResult<tera::Value> {
    if let Some(s) = value.as_str() {
        return Ok(safe(&quote(s)));
    }
    let text = match json(value)? {
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => {
            return Err(tera::Error::message(format!(
                "filter `q` quotes a string, a number or a boolean, but got {}",
                kind_of(&other)
            )))
        }
    };
    Ok(safe(&quote(&text)))
}

/// The `qkey` filter: a map key, plain when safe, quoted otherwise.
pub(crate) fn qkey(value: &tera::Value, _: Kwargs, _: &State) -> TeraResult<tera::Value> {
    match value.as_str() {
        Some(s) => Ok(safe(&quote_key(s))),
        None => Err(tera::Error::message(format!(
            "filter `qkey` quotes a map key, which must be a string, but got {}",
            kind_of(&json(value)?)
        ))),
    }
}

/// A string as a literal block scalar (`|`, `|-` or `|+` and its lines at `indent`), when
/// it has several lines that a block holds verbatim; otherwise as [`quote`] does. A reviewer
/// then reads a multi-line file as lines, and its diff shows the lines that changed.
///
/// A block cannot hold a character [`quote`] escapes (controls, carriage returns, the
/// invisible, bidirectional or line-separating Unicode characters; line feeds and tabs
/// excepted), or a first line that is empty or starts with a space (it sets the block's
/// indentation): those go through [`quote`].
pub(crate) fn quote_text(s: &str, indent: usize) -> String {
    let blockable = s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && !s
            .chars()
            .any(|c| c != '\n' && c != '\t' && crate::yaml::needs_escape(c));
    if !blockable {
        return quote(s);
    }
    let body = s.trim_end_matches('\n');
    let chomp = match s.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let pad = " ".repeat(indent);
    let mut out = format!("|{chomp}");
    for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    out
}

/// `value` (JSON from values) as block YAML, every line indented by `indent` spaces and no
/// final line break: map keys as [`quote_key`] writes them (`name` first, then sorted), strings as
/// [`quote_text`] does, numbers, booleans and null as JSON writes them, an empty map or list
/// as `{}` or `[]`. A scalar is written alone, without indentation.
pub(crate) fn to_yaml(value: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match value {
        // `name` first, as Kubernetes manifests are written (a list item reads by its name).
        Value::Object(map) if !map.is_empty() => map
            .iter()
            .filter(|(key, _)| *key == "name")
            .chain(map.iter().filter(|(key, _)| *key != "name"))
            .map(|(key, value)| {
                let key = quote_key(key);
                match value {
                    Value::Object(m) if !m.is_empty() => {
                        format!("{pad}{key}:\n{}", to_yaml(value, indent + 2))
                    }
                    Value::Array(a) if !a.is_empty() => {
                        format!("{pad}{key}:\n{}", to_yaml(value, indent + 2))
                    }
                    Value::String(s) => format!("{pad}{key}: {}", quote_text(s, indent + 2)),
                    scalar => format!("{pad}{key}: {}", to_yaml(scalar, 0)),
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::Object(m) if !m.is_empty() => {
                    let inner = to_yaml(item, indent + 2);
                    format!("{pad}- {}", &inner[indent + 2..])
                }
                Value::Array(a) if !a.is_empty() => {
                    let inner = to_yaml(item, indent + 2);
                    format!("{pad}- {}", &inner[indent + 2..])
                }
                Value::String(s) => format!("{pad}- {}", quote_text(s, indent + 2)),
                scalar => format!("{pad}- {}", to_yaml(scalar, 0)),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        Value::String(s) => quote(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
    }
}

/// The `indent` argument of a filter (0 when absent).
fn indent_arg(filter: &str, kwargs: &Kwargs) -> TeraResult<usize> {
    let indent = kwargs.get::<&tera::Value>("indent")?;
    match indent {
        None => Ok(0),
        Some(v) if v.is_number() => {
            v.as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    tera::Error::message(format!("filter `{filter}`: `indent` must be a count"))
                })
        }
        Some(_) => Err(tera::Error::message(format!(
            "filter `{filter}`: `indent` must be a number"
        ))),
    }
}

/// The `yaml` filter: a map or list from values as block YAML (see [`to_yaml`]), each line
/// indented by `indent` spaces: `{{ deployment.pod | yaml(indent=6) }}`.
pub(crate) fn yaml(value: &tera::Value, kwargs: Kwargs, _: &State) -> TeraResult<tera::Value> {
    let indent = indent_arg("yaml", &kwargs)?;
    Ok(safe(&to_yaml(&json(value)?, indent)))
}

/// The `qtext` filter: a string as a literal block at `indent` when it has several lines,
/// else as `q` quotes it (see [`quote_text`]).
pub(crate) fn qtext(value: &tera::Value, kwargs: Kwargs, _: &State) -> TeraResult<tera::Value> {
    let indent = indent_arg("qtext", &kwargs)?;
    match value.as_str() {
        Some(s) => Ok(safe(&quote_text(s, indent))),
        None => Err(tera::Error::message(format!(
            "filter `qtext` writes a string, but got {}",
            kind_of(&json(value)?)
        ))),
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

    /// Render `template` with `v` through a tera instance holding the filters; errors as text
    /// with their causes.
    fn render(template: &str, v: Value) -> Result<String, String> {
        let mut tera = tera::Tera::new();
        tera.register_filter("q", q);
        tera.register_filter("qkey", qkey);
        tera.register_filter("qtext", qtext);
        tera.register_filter("yaml", yaml);
        tera.add_raw_template("t", template)
            .map_err(|e| e.to_string())?;
        let mut ctx = tera::Context::new();
        ctx.insert("v", &v);
        tera.render("t", &ctx).map_err(|e| {
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                text.push_str(&format!(": {c}"));
                cause = c.source();
            }
            text
        })
    }

    #[test]
    fn q_filter_rejects_maps_and_null() {
        assert_eq!(
            render("{{ v | q }}", Value::from(8080)).unwrap(),
            "\"8080\""
        );
        assert_eq!(
            render("{{ v | q }}", Value::from(true)).unwrap(),
            "\"true\""
        );
        let err = render("{{ v | q }}", Value::Null).unwrap_err();
        assert!(err.contains("null"), "{err}");
        let err = render("{{ v | q }}", serde_json::json!({"a": 1})).unwrap_err();
        assert!(err.contains("a map"), "{err}");
        let err = render("{{ v | qkey }}", Value::from(1)).unwrap_err();
        assert!(err.contains("a number"), "{err}");
    }

    #[test]
    fn filters_read_the_indent_argument() {
        let v = serde_json::json!({"a": [1, "x"]});
        assert_eq!(
            render("{{ v | yaml(indent=2) }}", v.clone()).unwrap(),
            "  a:\n    - 1\n    - \"x\""
        );
        assert_eq!(
            render("{{ v | yaml }}", v.clone()).unwrap(),
            "a:\n  - 1\n  - \"x\""
        );
        let err = render("{{ v | yaml(indent=\"2\") }}", v).unwrap_err();
        assert!(err.contains("`indent` must be a number"), "{err}");
        assert_eq!(
            render("{{ v | qtext(indent=2) }}", Value::from("a\nb")).unwrap(),
            "|-\n  a\n  b"
        );
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

        #[test]
        fn any_string_round_trips_as_text_under_a_key(
            s in "([a-z #:\"'|>-]{0,8}\n?){0,6}|\\PC{0,40}",
            indent in 0usize..6,
        ) {
            let doc = format!("{}key: {}\n", " ".repeat(indent), quote_text(&s, indent + 2));
            let map = crate::yaml::parse_document(&doc).unwrap_or_else(|e| panic!("{e}:\n{doc}"));
            prop_assert_eq!(&map["key"], &Value::String(s));
        }

        #[test]
        fn any_json_round_trips_through_yaml(value in json_value()) {
            let doc = format!("root:\n{}\n", to_yaml(&value, 2));
            let wrapped = match &value {
                Value::Object(m) if !m.is_empty() => doc,
                Value::Array(a) if !a.is_empty() => doc,
                _ => format!("root: {}\n", to_yaml(&value, 2)),
            };
            let back = crate::yaml::parse_document(&wrapped)
                .unwrap_or_else(|e| panic!("{e}:\n{wrapped}"));
            prop_assert_eq!(&back["root"], &value, "{}", wrapped);
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z0-9 :#\n-]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z0-9_./-]{1,8}|\\PC{1,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn multi_line_text_is_a_literal_block_a_reviewer_reads_as_lines() {
        assert_eq!(
            quote_text("[server]\nworkers = 8\n", 4),
            "|\n    [server]\n    workers = 8"
        );
        assert_eq!(quote_text("a\n\nb", 2), "|-\n  a\n\n  b");
        assert_eq!(quote_text("a\n\n", 2), "|+\n  a\n");
        // What a block cannot hold verbatim stays double-quoted.
        assert_eq!(quote_text("one line", 2), "\"one line\"");
        // Every character `quote` escapes keeps a text out of a block, bidirectional marks
        // included (a reviewer would not see them in a block).
        for c in [
            '\r', '\u{85}', '\u{61c}', '\u{200e}', '\u{202e}', '\u{feff}',
        ] {
            let text = format!("a{c}\nb\n");
            assert_eq!(quote_text(&text, 2), quote(&text), "{c:?}");
        }
        assert_eq!(quote_text(" indented\nx", 2), "\" indented\\nx\"");
        assert_eq!(quote_text("a\r\nb", 2), "\"a\\r\\nb\"");
        assert_eq!(quote_text("a\n\u{202e}b", 2), "\"a\\n\\u202Eb\"");
    }

    #[test]
    fn yaml_writes_block_style_with_quoted_strings() {
        let value = serde_json::json!({
            "command": ["./podinfo", "--port=9898"],
            "ports": [{"name": "grpc", "containerPort": 9999}],
            "stdin": false,
            "empty": {},
        });
        assert_eq!(
            to_yaml(&value, 4),
            "    command:\n      - \"./podinfo\"\n      - \"--port=9898\"\n    empty: {}\n    \
             ports:\n      - name: \"grpc\"\n        containerPort: 9999\n    stdin: false"
        );
    }
}
