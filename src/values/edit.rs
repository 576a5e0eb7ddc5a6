//! Text-preserving edits of a values file: the release operations change `liveColor` and the
//! `tag`, `digest` and `replicas` of the colours by rewriting only those scalars in the text,
//! so comments, ordering, quoting and layout survive and the diff shows one line per field.
//!
//! Every edit is proven by parsing the result and comparing it with what was asked. This
//! module refuses to touch any other field and does no disk or git access.

use saphyr_parser::ScalarStyle;
use serde_json::Value as Json;

use super::diagnostic::ValuesError;
use super::model::{Color, ColorSpec, Values};
use super::path::KeyPath;
use super::scalar;
use super::tree::{self, Entry, Node, NodeKind};

/// Why a values file could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The text to edit is not a valid values file.
    #[error("the values file to edit is invalid:\n{source}")]
    Parse {
        /// The problems found in the original text.
        source: ValuesError,
    },
    /// The requested values differ from the file in a field releases may not change.
    #[error(
        "refusing to change `{path}`: a release may only change `liveColor` and the `tag`, \
         `digest` and `replicas` of `blue` and `green`"
    )]
    UnsupportedChange {
        /// Dotted path of the first such field.
        path: String,
    },
    /// A value is written in a form that cannot be rewritten in place.
    #[error("{file}:{line}:{column}: {path}: cannot rewrite this in place: {reason}")]
    UnsupportedLayout {
        /// The file label.
        file: String,
        /// 1-based line of the value.
        line: usize,
        /// 1-based column of the value.
        column: usize,
        /// Dotted path of the value.
        path: String,
        /// What stands in the way, and what to do.
        reason: &'static str,
    },
    /// The edited text does not read back as exactly the requested values.
    #[error("{file}: the edit did not read back as requested: {failure}")]
    Verification {
        /// The file label.
        file: String,
        /// What went wrong.
        failure: VerificationFailure,
    },
}

/// How the edited text failed verification.
#[derive(Debug, thiserror::Error)]
pub enum VerificationFailure {
    /// The edited text does not parse.
    #[error("the edited text is invalid:\n{source}")]
    Reparse {
        /// The problems found in the edited text.
        source: ValuesError,
    },
    /// The edited text parses to different values.
    #[error("`{path}` differs from the requested value")]
    Mismatch {
        /// Dotted path of the first differing field.
        path: String,
    },
}

/// Rewrite `text` (a valid values file labelled `file`) so that it parses to `new`, changing
/// only the scalars that differ. Only `liveColor` and the `tag`, `digest` and `replicas` of
/// `blue` and `green` may differ; anything else is [`EditError::UnsupportedChange`].
///
/// Styles are kept: a plain scalar stays plain when the new text reads back as the same
/// string, otherwise it is double-quoted; a quoted scalar keeps its quotes. A key that is
/// added goes on a new line after the block's last key (block style) or before the next key
/// in `tag`, `digest`, `replicas` order (flow style); a removed key loses its line (block) or
/// its entry and separating comma (flow). Switching between `tag` and `digest` rewrites that
/// one entry. Line endings (LF or CRLF) follow the file.
pub fn edit(file: &str, text: &str, new: &Values) -> Result<String, EditError> {
    let (old, root) =
        super::parse_with_tree(file, text, None).map_err(|source| EditError::Parse { source })?;

    let mut allowed = old.clone();
    allowed.live_color = new.live_color;
    allowed.blue = new.blue.clone();
    allowed.green = new.green.clone();
    if allowed != *new {
        return Err(EditError::UnsupportedChange {
            path: first_difference(&old, new),
        });
    }

    let mut ops = Vec::new();
    if old.live_color != new.live_color {
        ops.push(Op::Set {
            path: vec!["liveColor"],
            value: NewValue::Text(new.live_color.as_str().to_owned()),
            style_if_new: ScalarStyle::Plain,
        });
    }
    for color in Color::ALL {
        plan_color(color, old.color(color), new.color(color), &root, &mut ops);
    }

    let mut out = text.to_owned();
    for op in &ops {
        out = apply(file, &out, op)?;
    }
    // A colour line's comment that greenlight itself wrote describes the colour's role; it
    // goes when the role or the colour changes, rather than stay on as a wrong statement.
    for color in Color::ALL {
        if old.live_color != new.live_color || old.color(color) != new.color(color) {
            out = drop_own_comment(file, &out, color)?;
        }
    }

    let verification = |failure| EditError::Verification {
        file: file.to_owned(),
        failure,
    };
    let reread = super::parse(file, &out)
        .map_err(|source| verification(VerificationFailure::Reparse { source }))?;
    if reread != *new {
        return Err(verification(VerificationFailure::Mismatch {
            path: first_difference(&reread, new),
        }));
    }
    Ok(out)
}

/// Trailing comments earlier greenlight versions wrote on a colour's line (`greenlight
/// init`): true only until that colour's role changes.
const OWN_COLOR_COMMENTS: &[&str] = &["# idle: `greenlight stage` puts the next release here"];

/// `text` without the greenlight-written comment (and the spaces before it) at the end of the
/// line where `color`'s value ends, if that line has one.
fn drop_own_comment(file: &str, text: &str, color: Color) -> Result<String, EditError> {
    let root = tree::build(file, text)
        .map_err(|d| EditError::Verification {
            file: file.to_owned(),
            failure: VerificationFailure::Reparse {
                source: ValuesError::new(d),
            },
        })?
        .expect("an edited values file still has its document");
    let Some(entry) = root.entry(color.as_str()) else {
        return Ok(text.to_owned());
    };
    let end = entry.value.span.end.offset;
    let line_end = text[end..]
        .find(['\n', '\r'])
        .map_or(text.len(), |i| end + i);
    let rest = &text[end..line_end];
    let comment = rest.trim_start_matches([' ', '\t']);
    if !OWN_COLOR_COMMENTS.contains(&comment.trim_end()) {
        return Ok(text.to_owned());
    }
    Ok(format!("{}{}", &text[..end], &text[line_end..]))
}

/// A scalar to write.
#[derive(Debug, Clone)]
enum NewValue {
    /// A string, written in the style of the value it replaces.
    Text(String),
    /// A number, always plain.
    Number(i64),
}

/// One change; each is applied to the text left by the previous one.
#[derive(Debug)]
enum Op {
    /// Replace the value at `path`, or add the key to its mapping (written in `style_if_new`).
    Set {
        path: Vec<&'static str>,
        value: NewValue,
        style_if_new: ScalarStyle,
    },
    /// Remove the entry at `path`.
    Remove { path: Vec<&'static str> },
    /// Replace the key at `path` by `to` and its value by `value`.
    Rename {
        path: Vec<&'static str>,
        to: &'static str,
        value: NewValue,
    },
}

fn plan_color(color: Color, old: &ColorSpec, new: &ColorSpec, root: &Node, ops: &mut Vec<Op>) {
    let name = color.as_str();
    let block = root.get(name);
    let has_key = |key: &str| block.and_then(|b| b.get(key)).is_some_and(|v| !v.is_null());
    // The style a new tag or digest takes: that of the other colour's, if it has one.
    let sibling_style = |key: &str, default: ScalarStyle| {
        root.get(color.other().as_str())
            .and_then(|b| b.get(key))
            .filter(|v| !v.is_null())
            .and_then(Node::scalar)
            .map_or(default, |(_, style)| style)
    };

    let removed_tag = old.tag.is_some() && new.tag.is_none();
    let removed_digest = old.digest.is_some() && new.digest.is_none();
    let added_tag = old.tag.is_none() && new.tag.is_some();
    let added_digest = old.digest.is_none() && new.digest.is_some();
    let swap = match (removed_tag, added_digest, removed_digest, added_tag) {
        (true, true, false, false) => {
            Some(("tag", "digest", new.digest.as_deref().map(str::to_owned)))
        }
        (false, false, true, true) => {
            Some(("digest", "tag", new.tag.as_deref().map(str::to_owned)))
        }
        _ => None,
    }
    // Renaming onto a key that is present (with an empty value) would duplicate it.
    .filter(|(_, to, _)| block.and_then(|b| b.entry(to)).is_none());
    if let Some((from, to, Some(value))) = swap {
        ops.push(Op::Rename {
            path: vec![name, from],
            to,
            value: NewValue::Text(value),
        });
    } else {
        for (key, old_v, new_v, default_style) in [
            (
                "tag",
                old.tag.as_deref(),
                new.tag.as_deref(),
                ScalarStyle::DoubleQuoted,
            ),
            (
                "digest",
                old.digest.as_deref(),
                new.digest.as_deref(),
                ScalarStyle::Plain,
            ),
        ] {
            match new_v {
                Some(v) if old_v != Some(v) => ops.push(Op::Set {
                    path: vec![name, key],
                    value: NewValue::Text(v.to_owned()),
                    style_if_new: sibling_style(key, default_style),
                }),
                None if has_key(key) => ops.push(Op::Remove {
                    path: vec![name, key],
                }),
                _ => {}
            }
        }
    }
    if old.replicas != new.replicas {
        ops.push(Op::Set {
            path: vec![name, "replicas"],
            value: NewValue::Number(new.replicas),
            style_if_new: ScalarStyle::Plain,
        });
    }
}

/// The text of `value`, written as close to `style` as reads back correctly.
fn render(value: &NewValue, style: ScalarStyle) -> String {
    match value {
        NewValue::Number(n) => n.to_string(),
        NewValue::Text(s) => match style {
            ScalarStyle::Plain if scalar::is_plain_safe(s) => s.clone(),
            ScalarStyle::SingleQuoted => {
                scalar::single_quoted(s).unwrap_or_else(|| scalar::double_quoted(s))
            }
            _ => scalar::double_quoted(s),
        },
    }
}

/// Apply one operation to `text`.
fn apply(file: &str, text: &str, op: &Op) -> Result<String, EditError> {
    let root = tree::build(file, text)
        .map_err(|d| EditError::Verification {
            file: file.to_owned(),
            failure: VerificationFailure::Reparse {
                source: ValuesError::new(d),
            },
        })?
        .expect("an edited values file still has its document");
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let (parent_path, key) = match op {
        Op::Set { path, .. } | Op::Remove { path } | Op::Rename { path, .. } => {
            (&path[..path.len() - 1], path[path.len() - 1])
        }
    };
    let parent_segs = KeyPath::keys(parent_path).0;
    let parent = root
        .at(&parent_segs)
        .expect("the blocks of a valid values file exist");
    let entry = parent.entry(key);
    let layout = |at: &Node, reason: &'static str| EditError::UnsupportedLayout {
        file: file.to_owned(),
        line: at.span.start.line,
        column: at.span.start.column,
        path: KeyPath::keys(parent_path).key(key).to_string(),
        reason,
    };

    let (range, replacement) = match (op, entry) {
        (Op::Set { value, .. }, Some(e)) => set_value(text, e, value).ok_or_else(|| {
            layout(
                &e.value,
                "it is a block scalar (`|` or `>`); write it on one line, then retry",
            )
        })?,
        (
            Op::Set {
                value,
                style_if_new,
                ..
            },
            None,
        ) => {
            let new_entry = format!("{key}: {}", render(value, *style_if_new));
            add_entry(text, parent, key, &new_entry, nl)
                .ok_or_else(|| layout(parent, "the block's keys do not start their lines"))?
        }
        (Op::Remove { .. }, Some(e)) => remove_entry(text, &root, parent_path, parent, e)
            .ok_or_else(|| layout(&e.value, "the key does not start its line"))?,
        (Op::Rename { to, value, .. }, Some(e)) => {
            let (value_range, new_value) = set_value(text, e, value).ok_or_else(|| {
                layout(
                    &e.value,
                    "it is a block scalar (`|` or `>`); write it on one line, then retry",
                )
            })?;
            let key_range = e.key_span.start.offset..e.key_span.end.offset;
            let mut out = String::with_capacity(text.len() + 80);
            out.push_str(&text[..key_range.start]);
            out.push_str(to);
            out.push_str(&text[key_range.end..value_range.start]);
            out.push_str(&new_value);
            out.push_str(&text[value_range.end..]);
            return Ok(out);
        }
        (Op::Remove { .. } | Op::Rename { .. }, None) => return Ok(text.to_owned()),
    };
    let (range, replacement) = if matches!(op, Op::Set { .. }) && entry.is_some() {
        keep_comment_column(text, range, replacement)
    } else {
        (range, replacement)
    };
    let mut out = String::with_capacity(text.len() + replacement.len());
    out.push_str(&text[..range.start]);
    out.push_str(&replacement);
    out.push_str(&text[range.end..]);
    Ok(out)
}

/// When the replaced value is followed on its line by spaces and a `#` comment, absorbs or
/// adds spaces so the comment stays in its column (keeping at least one space): aligned
/// comments stay aligned and the reviewed line differs only in the value.
fn keep_comment_column(
    text: &str,
    range: std::ops::Range<usize>,
    mut replacement: String,
) -> (std::ops::Range<usize>, String) {
    let tail = &text[range.end..];
    let rest = &tail[..tail.find(['\n', '\r']).unwrap_or(tail.len())];
    let spaces = rest.len() - rest.trim_start_matches(' ').len();
    if spaces == 0 || !rest[spaces..].starts_with('#') {
        return (range, replacement);
    }
    let old_width = text[range.clone()].chars().count();
    let new_width = replacement.chars().count();
    if new_width > old_width {
        let absorbed = (new_width - old_width).min(spaces - 1);
        (range.start..range.end + absorbed, replacement)
    } else {
        replacement.push_str(&" ".repeat(old_width - new_width));
        (range, replacement)
    }
}

/// The range to replace and its new text to give entry `e` the value `value`; `None` for
/// block scalars.
fn set_value(text: &str, e: &Entry, value: &NewValue) -> Option<(std::ops::Range<usize>, String)> {
    let (_, style) = e.value.scalar()?;
    if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
        return None;
    }
    let span = e.value.span;
    if span.start.offset == span.end.offset {
        // `key:` with nothing after it: write the value after the colon.
        let colon = e.key_span.end.offset + text[e.key_span.end.offset..].find(':')?;
        let style = if matches!(value, NewValue::Text(_)) {
            ScalarStyle::DoubleQuoted
        } else {
            ScalarStyle::Plain
        };
        return Some((colon + 1..colon + 1, format!(" {}", render(value, style))));
    }
    let style = if e.value.is_null() {
        ScalarStyle::DoubleQuoted
    } else {
        style
    };
    Some((span.start.offset..span.end.offset, render(value, style)))
}

/// Where the line holding byte `pos` starts.
fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// Where the content of the line holding byte `pos` ends (before `\r\n` or `\n`).
fn line_content_end(text: &str, pos: usize) -> usize {
    match text[pos..].find('\n') {
        Some(i) if text[..pos + i].ends_with('\r') => pos + i - 1,
        Some(i) => pos + i,
        None => text.len(),
    }
}

/// The line holding byte `pos` ends (after its line break).
fn line_end(text: &str, pos: usize) -> usize {
    text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1)
}

/// The key order in colour blocks; new keys go before the first later key in flow style.
const ORDER: [&str; 3] = ["tag", "digest", "replicas"];

fn add_entry(
    text: &str,
    mapping: &Node,
    key: &str,
    new_entry: &str,
    nl: &str,
) -> Option<(std::ops::Range<usize>, String)> {
    let NodeKind::Mapping { entries, flow } = &mapping.kind else {
        return None;
    };
    if *flow {
        let rank = |k: &str| ORDER.iter().position(|o| *o == k).unwrap_or(ORDER.len());
        if let Some(next) = entries.iter().find(|e| rank(&e.key) > rank(key)) {
            let at = next.key_span.start.offset;
            return Some((at..at, format!("{new_entry}, ")));
        }
        return match entries.last() {
            Some(last) => {
                let at = last.value.span.end.offset;
                Some((at..at, format!(", {new_entry}")))
            }
            None => {
                let open =
                    mapping.span.start.offset + text[mapping.span.start.offset..].find('{')?;
                let close = mapping.span.end.offset - 1;
                Some((open + 1..close, format!(" {new_entry} ")))
            }
        };
    }
    let first = entries.first()?;
    let last = entries.last()?;
    let start = line_start(text, first.key_span.start.offset);
    let indent = &text[start..first.key_span.start.offset];
    if !indent.bytes().all(|b| b == b' ') {
        return None;
    }
    let at = line_content_end(
        text,
        last.value.span.end.offset.max(last.key_span.end.offset),
    );
    Some((at..at, format!("{nl}{indent}{new_entry}")))
}

fn remove_entry(
    text: &str,
    root: &Node,
    parent_path: &[&str],
    mapping: &Node,
    e: &Entry,
) -> Option<(std::ops::Range<usize>, String)> {
    let NodeKind::Mapping { entries, flow } = &mapping.kind else {
        return None;
    };
    let index = entries.iter().position(|x| std::ptr::eq(x, e))?;
    if *flow {
        let range = if let Some(next) = entries.get(index + 1) {
            e.key_span.start.offset..next.key_span.start.offset
        } else if index > 0 {
            entries[index - 1].value.span.end.offset..e.value.span.end.offset
        } else {
            let open = mapping.span.start.offset + text[mapping.span.start.offset..].find('{')?;
            open + 1..mapping.span.end.offset - 1
        };
        return Some((range, String::new()));
    }
    let start = line_start(text, e.key_span.start.offset);
    if !text[start..e.key_span.start.offset]
        .bytes()
        .all(|b| b == b' ')
    {
        return None;
    }
    let value_end = e.value.span.end.offset.max(e.key_span.end.offset);
    if entries.len() == 1 {
        // Removing the only key would leave `green:` empty (null): write `{}` instead.
        let (parents, last) = parent_path.split_at(parent_path.len().checked_sub(1)?);
        let owner = root.at(&KeyPath::keys(parents).0)?.entry(last.first()?)?;
        let colon = owner.key_span.end.offset + text[owner.key_span.end.offset..].find(':')?;
        return Some((
            colon + 1..line_content_end(text, value_end),
            " {}".to_owned(),
        ));
    }
    Some((start..line_end(text, value_end), String::new()))
}

/// The dotted path of the first field where `a` and `b` differ.
fn first_difference(a: &Values, b: &Values) -> String {
    fn walk(a: &Json, b: &Json, path: KeyPath) -> Option<KeyPath> {
        match (a, b) {
            (Json::Object(x), Json::Object(y)) => {
                let null = Json::Null;
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                keys.into_iter().find_map(|k| {
                    let (va, vb) = (x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null));
                    (va != vb).then(|| walk(va, vb, path.key(k)).unwrap_or(path.key(k)))
                })
            }
            (Json::Array(x), Json::Array(y)) if x.len() == y.len() => {
                x.iter().zip(y).enumerate().find_map(|(i, (va, vb))| {
                    let p = path.child(super::path::Seg::Index(i));
                    (va != vb).then(|| walk(va, vb, p.clone()).unwrap_or(p))
                })
            }
            _ => (a != b).then_some(path),
        }
    }
    let (Ok(a), Ok(b)) = (serde_json::to_value(a), serde_json::to_value(b)) else {
        return String::new();
    };
    walk(&a, &b, KeyPath::root()).map_or_else(String::new, |p| p.to_string())
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    const BLOCK: &str = "\
# Production values for the API.
app: api
namespace: shop
liveColor: blue   # flipped by promote
image: registry.example.com/shop/api
blue:
  tag: \"1.4.0\"
  replicas: 4  # pre-scaled
green:
  tag: '1.3.9'
  replicas: 0
# The container port.
port: 8080
readinessProbe:
  path: /healthz
";

    const FLOW: &str = "\
app: api
namespace: shop
liveColor: blue
image: registry.example.com/shop/api
blue: { tag: \"1.4.0\", replicas: 4 }
green: { replicas: 0 }   # scaled down
port: 8080
readinessProbe: { path: /healthz }
";

    fn values(text: &str) -> Values {
        crate::values::parse("t.yaml", text).expect("fixture parses")
    }

    /// Lines of `before` and `after` that differ, as (before, after) pairs, requiring that
    /// the files have the same number of lines.
    fn changed_lines<'a>(before: &'a str, after: &'a str) -> Vec<(&'a str, &'a str)> {
        let (b, a): (Vec<&str>, Vec<&str>) =
            (before.split('\n').collect(), after.split('\n').collect());
        assert_eq!(b.len(), a.len(), "line count changed:\n{after}");
        b.into_iter().zip(a).filter(|(x, y)| x != y).collect()
    }

    #[test]
    fn flipping_live_changes_one_plain_scalar_and_keeps_its_comment() {
        let mut v = values(BLOCK);
        v.live_color = Color::Green;
        v.green.replicas = 4;
        let out = edit("t.yaml", BLOCK, &v).unwrap();
        assert_eq!(
            changed_lines(BLOCK, &out),
            vec![
                (
                    "liveColor: blue   # flipped by promote",
                    "liveColor: green  # flipped by promote"
                ),
                ("  replicas: 0", "  replicas: 4"),
            ]
        );
        assert_eq!(values(&out), v);
    }

    #[test]
    fn a_role_comment_greenlight_wrote_goes_with_the_role_and_others_stay() {
        let text = FLOW.replace(
            "green: { replicas: 0 }   # scaled down",
            "green: { replicas: 0 }               # idle: `greenlight stage` puts the next release here",
        );
        // A stage changes green: its greenlight-written role comment goes.
        let mut staged = values(&text);
        staged.green.tag = Some("1.5.0".into());
        staged.green.replicas = 4;
        let out = edit("t.yaml", &text, &staged).unwrap();
        assert!(
            out.contains("green: { tag: \"1.5.0\", replicas: 4 }\nport"),
            "{out}"
        );
        // A promotion flips the roles: gone too. Comments the user wrote stay.
        let ready = |t: &str| {
            t.replace(
                "green: { replicas: 0 }",
                "green: { tag: \"1.5.0\", replicas: 4 }",
            )
        };
        let text = ready(&text);
        let mut promoted = values(&text);
        promoted.live_color = Color::Green;
        let out = edit("t.yaml", &text, &promoted).unwrap();
        assert!(
            out.contains("green: { tag: \"1.5.0\", replicas: 4 }\nport"),
            "{out}"
        );
        let flow = ready(FLOW);
        let mut flipped = values(&flow);
        flipped.live_color = Color::Green;
        let out = edit("t.yaml", &flow, &flipped).unwrap();
        assert!(out.contains("replicas: 4 }   # scaled down"), "{out}");
        // Nothing changes for green: its comment stays, whoever wrote it.
        let mut blue_only = values(&text);
        blue_only.blue.replicas = 5;
        let out = edit("t.yaml", &text, &blue_only).unwrap();
        assert!(out.contains("# idle: `greenlight stage`"), "{out}");
    }

    #[test]
    fn trailing_comments_keep_their_column_when_there_is_room() {
        let aligned = BLOCK
            .replace(
                "liveColor: blue   # flipped by promote",
                "liveColor: green  # flipped by promote",
            )
            .replace("  replicas: 0", "  replicas: 4");
        let mut v = values(&aligned);
        v.live_color = Color::Blue;
        let out = edit("t.yaml", &aligned, &v).unwrap();
        assert_eq!(
            changed_lines(&aligned, &out),
            vec![(
                "liveColor: green  # flipped by promote",
                "liveColor: blue   # flipped by promote"
            )]
        );
        let tight = BLOCK
            .replace(
                "liveColor: blue   # flipped by promote",
                "liveColor: blue # flipped by promote",
            )
            .replace("  replicas: 0", "  replicas: 4");
        let mut v = values(&tight);
        v.live_color = Color::Green;
        let out = edit("t.yaml", &tight, &v).unwrap();
        assert_eq!(
            changed_lines(&tight, &out),
            vec![(
                "liveColor: blue # flipped by promote",
                "liveColor: green # flipped by promote"
            )]
        );
    }

    #[test]
    fn replacing_keeps_each_quote_style() {
        let mut v = values(BLOCK);
        v.blue.tag = Some("1.10".into());
        v.green.tag = Some("1.5.0".into());
        v.blue.replicas = 3;
        let out = edit("t.yaml", BLOCK, &v).unwrap();
        assert_eq!(
            changed_lines(BLOCK, &out),
            vec![
                ("  tag: \"1.4.0\"", "  tag: \"1.10\""),
                ("  replicas: 4  # pre-scaled", "  replicas: 3  # pre-scaled"),
                ("  tag: '1.3.9'", "  tag: '1.5.0'"),
            ]
        );
    }

    #[test]
    fn a_plain_tag_is_quoted_only_when_it_would_not_read_back() {
        let text = BLOCK.replace("tag: \"1.4.0\"", "tag: v1.4.0");
        let mut v = values(&text);
        v.blue.tag = Some("v1.5.0".into());
        let out = edit("t.yaml", &text, &v).unwrap();
        assert_eq!(
            changed_lines(&text, &out),
            vec![("  tag: v1.4.0", "  tag: v1.5.0")]
        );
        for tricky in ["1.10", "true", "1e3", "null", "0x1F", "123", "yes", "1_000"] {
            v.blue.tag = Some(tricky.into());
            let out = edit("t.yaml", &text, &v).unwrap();
            let line = format!("  tag: \"{tricky}\"");
            assert_eq!(
                changed_lines(&text, &out),
                vec![("  tag: v1.4.0", line.as_str())]
            );
        }
    }

    #[test]
    fn adds_a_key_to_a_flow_mapping_in_key_order() {
        let mut v = values(FLOW);
        v.green.tag = Some("1.5.0".into());
        v.green.replicas = 4;
        let out = edit("t.yaml", FLOW, &v).unwrap();
        assert_eq!(
            changed_lines(FLOW, &out),
            vec![(
                "green: { replicas: 0 }   # scaled down",
                "green: { tag: \"1.5.0\", replicas: 4 }   # scaled down"
            )]
        );
    }

    #[test]
    fn a_new_tag_mirrors_the_other_colours_style() {
        let text = FLOW.replace("tag: \"1.4.0\"", "tag: v1.4.0");
        let mut v = values(&text);
        v.green.tag = Some("v1.5.0".into());
        let out = edit("t.yaml", &text, &v).unwrap();
        assert!(out.contains("green: { tag: v1.5.0, replicas: 0 }"), "{out}");
    }

    #[test]
    fn adds_a_key_to_an_empty_flow_mapping() {
        let text = FLOW.replace("green: { replicas: 0 }", "green: {}");
        let mut v = values(&text);
        v.green.digest = Some(format!("sha256:{}", "a".repeat(64)).into());
        let out = edit("t.yaml", &text, &v).unwrap();
        assert!(
            out.contains(&format!("green: {{ digest: sha256:{} }}", "a".repeat(64))),
            "{out}"
        );
    }

    #[test]
    fn adds_a_line_after_the_last_key_of_a_block() {
        let text = BLOCK.replace("  tag: '1.3.9'\n", "");
        let mut v = values(&text);
        v.green.tag = Some("1.5.0".into());
        let out = edit("t.yaml", &text, &v).unwrap();
        let expected = text.replace(
            "  replicas: 0\n# The container port.",
            "  replicas: 0\n  tag: \"1.5.0\"\n# The container port.",
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn removes_exactly_one_entry() {
        let mut v = values(BLOCK);
        v.green.tag = None;
        let out = edit("t.yaml", BLOCK, &v).unwrap();
        assert_eq!(out, BLOCK.replace("  tag: '1.3.9'\n", ""));

        let text = FLOW.replace(
            "green: { replicas: 0 }",
            "green: { tag: \"1.3.9\", replicas: 0 }",
        );
        let mut v = values(&text);
        v.green.tag = None;
        assert_eq!(edit("t.yaml", &text, &v).unwrap(), FLOW);

        let text = FLOW.replace("green: { replicas: 0 }", "green: { replicas: 0, tag: x }");
        assert_eq!(edit("t.yaml", &text, &v).unwrap(), FLOW);
    }

    #[test]
    fn removing_the_only_key_of_a_block_leaves_an_empty_mapping() {
        let text = BLOCK.replace("  tag: '1.3.9'\n  replicas: 0\n", "  tag: '1.3.9'\n");
        let mut v = values(&text);
        v.green.tag = None;
        let out = edit("t.yaml", &text, &v).unwrap();
        assert_eq!(
            out,
            BLOCK.replace("green:\n  tag: '1.3.9'\n  replicas: 0\n", "green: {}\n")
        );
    }

    #[test]
    fn switching_tag_and_digest_rewrites_one_entry() {
        let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
        let mut v = values(BLOCK);
        v.blue.tag = None;
        v.blue.digest = Some(digest.clone().into());
        let out = edit("t.yaml", BLOCK, &v).unwrap();
        let line = format!("  digest: \"{digest}\"");
        assert_eq!(
            changed_lines(BLOCK, &out),
            vec![("  tag: \"1.4.0\"", line.as_str())]
        );

        let mut back = v.clone();
        back.blue.digest = None;
        back.blue.tag = Some("1.4.0".into());
        assert_eq!(edit("t.yaml", &out, &back).unwrap(), BLOCK);

        let mut v = values(FLOW);
        v.blue.tag = None;
        v.blue.digest = Some(digest.clone().into());
        let out = edit("t.yaml", FLOW, &v).unwrap();
        assert!(
            out.contains(&format!("blue: {{ digest: \"{digest}\", replicas: 4 }}")),
            "{out}"
        );
    }

    #[test]
    fn switching_onto_an_empty_key_fills_it() {
        let text = BLOCK.replace("  tag: '1.3.9'\n", "  tag: '1.3.9'\n  digest:\n");
        let mut v = values(&text);
        v.green.tag = None;
        v.green.digest = Some(format!("sha256:{}", "b".repeat(64)).into());
        let out = edit("t.yaml", &text, &v).unwrap();
        let expected = text.replace("  tag: '1.3.9'\n", "").replace(
            "  digest:\n",
            &format!("  digest: \"sha256:{}\"\n", "b".repeat(64)),
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn fills_an_empty_value() {
        let text = BLOCK.replace("  tag: '1.3.9'\n", "  tag:\n");
        let mut v = values(&text);
        v.green.tag = Some("1.5.0".into());
        let out = edit("t.yaml", &text, &v).unwrap();
        assert_eq!(
            changed_lines(&text, &out),
            vec![("  tag:", "  tag: \"1.5.0\"")]
        );
    }

    #[test]
    fn keeps_crlf_line_endings() {
        let text = BLOCK.replace("  tag: '1.3.9'\n", "").replace('\n', "\r\n");
        let mut v = values(&text);
        v.green.tag = Some("1.5.0".into());
        v.live_color = Color::Blue;
        let out = edit("t.yaml", &text, &v).unwrap();
        assert_eq!(out.matches('\n').count(), out.matches("\r\n").count());
        assert!(
            out.contains("  replicas: 0\r\n  tag: \"1.5.0\"\r\n"),
            "{out:?}"
        );
    }

    #[test]
    fn nothing_to_change_returns_the_text() {
        assert_eq!(edit("t.yaml", BLOCK, &values(BLOCK)).unwrap(), BLOCK);
    }

    #[test]
    fn refuses_changes_outside_the_release_fields() {
        let mut v = values(BLOCK);
        v.port = 9090;
        match edit("t.yaml", BLOCK, &v) {
            Err(EditError::UnsupportedChange { path }) => assert_eq!(path, "port"),
            other => panic!("expected UnsupportedChange, got {other:?}"),
        }
        let mut v = values(BLOCK);
        v.readiness_probe.path = Some("/ready".into());
        match edit("t.yaml", BLOCK, &v) {
            Err(EditError::UnsupportedChange { path }) => assert_eq!(path, "readinessProbe.path"),
            other => panic!("expected UnsupportedChange, got {other:?}"),
        }
    }

    #[test]
    fn refuses_to_write_invalid_values() {
        let mut v = values(BLOCK);
        v.live_color = Color::Green; // green has 0 replicas
        match edit("t.yaml", BLOCK, &v) {
            Err(EditError::Verification {
                failure: VerificationFailure::Reparse { source },
                ..
            }) => assert!(source
                .to_string()
                .contains("live colour but has 0 replicas")),
            other => panic!("expected a verification failure, got {other:?}"),
        }
    }

    #[test]
    fn refuses_to_edit_an_invalid_file() {
        let v = values(BLOCK);
        assert!(matches!(
            edit("t.yaml", "app: [", &v),
            Err(EditError::Parse { .. })
        ));
    }

    #[test]
    fn refuses_block_scalars() {
        let text = BLOCK.replace("  tag: '1.3.9'\n", "  tag: >-\n    1.3.9\n");
        let mut v = values(&text);
        v.green.tag = Some("1.5.0".into());
        match edit("t.yaml", &text, &v) {
            Err(EditError::UnsupportedLayout { path, line, .. }) => {
                assert_eq!((path.as_str(), line), ("green.tag", 11));
            }
            other => panic!("expected UnsupportedLayout, got {other:?}"),
        }
    }

    #[test]
    fn multi_line_flow_mappings() {
        let text = FLOW.replace(
            "blue: { tag: \"1.4.0\", replicas: 4 }",
            "blue: {\n  tag: \"1.4.0\",  # current\n  replicas: 4\n}",
        );
        let mut v = values(&text);
        v.blue.tag = None;
        v.blue.digest = None;
        v.live_color = Color::Blue;
        // The live colour needs an image: removing it must fail verification, not corrupt.
        assert!(matches!(
            edit("t.yaml", &text, &v),
            Err(EditError::Verification { .. })
        ));
        v.blue.tag = Some("1.4.1".into());
        let out = edit("t.yaml", &text, &v).unwrap();
        assert_eq!(out, text.replace("1.4.0", "1.4.1"));
    }
}
