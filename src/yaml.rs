//! YAML in and out, outside values files: the one home of "YAML text → documents" for the
//! renderer's output check, the diff and the tests, and of writing YAML scalars. Pure: no
//! disk, no printing.
//!
//! Reading: [`parse_stream`], [`parse_documents`] and [`parse_document`] turn YAML text
//! (rendered manifests, committed files) into `serde_json` values, as Kubernetes reads them:
//! - every document of a stream, in order;
//! - aliases resolved within their document (at most [`MAX_ALIAS_NODES`] nodes copied);
//! - plain `<<` merge keys applied: a mapping or a list of mappings, keys written in the
//!   mapping win, then earlier merged mappings over later ones;
//! - plain scalars typed by the YAML 1.2 core schema as serde_yaml read it: `null`, `~` or
//!   nothing; `true`/`false`; integers, also `0x`, `0o`, `0b`; floats. `.inf`, `-.inf`, `.nan`
//!   and integers beyond 64 bits become text (JSON cannot hold them), and digits with a
//!   leading zero stay text;
//! - core tags (`!!str`, `!!int`, …) applied; any other tag kept as `{"!tag": value}`, so a
//!   changed tag is a change;
//! - keys that are not strings written as YAML spells them (`1`, `true`, `null`), a
//!   collection key as its JSON text.
//!
//! Invalid YAML, duplicate keys, aliases to no anchor and nesting deeper than [`MAX_DEPTH`]
//! are errors with a line and column. It is a small builder over `saphyr_parser`'s events (as
//! `values::tree` is), not the `saphyr` crate's loader: no second tree to convert, and the
//! typing above is ours to keep stable.
//!
//! Plain scalars: [`plain_kind`] is how YAML 1.2 or 1.1 reads one, and [`is_plain_safe`] the
//! one rule of when a string may be written without quotes.
//!
//! Writing: [`quote`] is the one definition of a double-quoted scalar, shared by the renderer
//! (every string from values) and the values editor (a changed tag or digest); [`to_block`]
//! writes a JSON value back as block-style YAML.
//!
//! Values files are not read here: `values::tree` keeps spans and refuses much of what this
//! module accepts (anchors, tags, several documents).

use std::collections::HashMap;
use std::fmt::Write as _;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};

/// Deeper nesting is refused, which keeps every recursive walk over a parsed tree bounded.
pub const MAX_DEPTH: usize = 128;

/// How many nodes aliases may copy in one stream ("billion laughs" protection).
pub const MAX_ALIAS_NODES: usize = 100_000;

/// Why a YAML text could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at line {line} column {column}{}", opened_text(kind))]
pub struct YamlError {
    /// 1-based index of the document the problem is in.
    pub document: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong.
    pub kind: YamlErrorKind,
}

/// What is wrong with a YAML text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlErrorKind {
    /// Not YAML syntax; the parser's message.
    #[error("{message}")]
    Syntax {
        /// What the parser expected or found.
        message: String,
        /// The innermost `[` or `{` still open there, if any.
        opened: Option<Opened>,
    },
    /// A mapping holds the same key twice.
    #[error("duplicate key `{key}` in one mapping")]
    DuplicateKey {
        /// The key, as it reads.
        key: String,
    },
    /// An alias (`*name`) names no anchor defined before it in its document.
    #[error("alias to an anchor not defined before it in this document")]
    UnknownAnchor,
    /// A merge key `<<` whose value is not a mapping or a list of mappings.
    #[error("the merge key `<<` takes a mapping or a list of mappings, not {found}")]
    InvalidMerge {
        /// What it was given, e.g. "a scalar".
        found: &'static str,
    },
    /// A scalar with a core tag (`!!int`, `!!bool`, `!!float`, `!!null`) it does not match.
    #[error("`{value}` is not a valid `!!{tag}`")]
    InvalidTagged {
        /// The tag's suffix, e.g. `int`.
        tag: String,
        /// The scalar.
        value: String,
    },
    /// Mappings and lists nested deeper than [`MAX_DEPTH`].
    #[error("mappings and lists are nested more than {limit} levels deep")]
    TooDeep {
        /// [`MAX_DEPTH`].
        limit: usize,
    },
    /// Aliases copy more than [`MAX_ALIAS_NODES`] nodes.
    #[error("aliases expand to more than {limit} nodes")]
    TooManyAliasNodes {
        /// [`MAX_ALIAS_NODES`].
        limit: usize,
    },
    /// [`parse_document`] was given several documents.
    #[error("expected one YAML document, found a second one")]
    SeveralDocuments,
}

/// Where a flow collection (`[` or `{`) was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// `[` or `{`.
    pub bracket: char,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// The end of a syntax error's message: where the collection it is in was opened.
fn opened_text(kind: &YamlErrorKind) -> String {
    match kind {
        YamlErrorKind::Syntax {
            opened: Some(o), ..
        } => format!(
            " (in the `{}` opened at line {} column {})",
            o.bracket, o.line, o.column
        ),
        _ => String::new(),
    }
}

/// One document of a YAML stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document's content, read as the module documentation says.
    pub value: Value,
    /// Byte offset where the document starts: its `---` line, or its first node when it has
    /// no `---` (comments before that belong to whatever precedes it).
    pub start: usize,
    /// Whether the document starts with `---`.
    pub explicit_start: bool,
}

/// Every document of `text`, with where each starts.
pub fn parse_stream(text: &str) -> Result<Vec<Document>, YamlError> {
    let mut loader = Loader::new(text);
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            loader.error(
                e.marker(),
                YamlErrorKind::Syntax {
                    message: e.info().to_owned(),
                    opened: loader.open_flow(),
                },
            )
        })?;
        loader.event(event, span)?;
    }
    Ok(loader.documents)
}

/// The content of every document of `text`, in order (none for an empty text).
pub fn parse_documents(text: &str) -> Result<Vec<Value>, YamlError> {
    Ok(parse_stream(text)?.into_iter().map(|d| d.value).collect())
}

/// The content of the one document of `text` (`null` when it has none); a second document is
/// an error.
pub fn parse_document(text: &str) -> Result<Value, YamlError> {
    let mut documents = parse_stream(text)?;
    if let Some(second) = documents.get(1) {
        let (line, column) = line_column(text, second.start);
        return Err(YamlError {
            document: 2,
            line,
            column,
            kind: YamlErrorKind::SeveralDocuments,
        });
    }
    Ok(documents.pop().map_or(Value::Null, |d| d.value))
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// A finished node: its value and what merge keys must know of it.
#[derive(Debug, Clone)]
struct Node {
    value: Value,
    /// Written with a tag that is kept (`{"!tag": …}`).
    tagged: bool,
    /// A list holding a tagged item.
    tagged_item: bool,
    /// Nodes in the subtree, for the alias budget.
    size: usize,
}

impl Node {
    fn leaf(value: Value, tagged: bool) -> Node {
        Node {
            value,
            tagged,
            tagged_item: false,
            size: 1,
        }
    }
}

/// A key read, waiting for its value.
enum PendingKey {
    Key(String, Marker),
    /// The merge key `<<`.
    Merge,
}

/// A collection being built.
enum Frame {
    Sequence {
        start: Span,
        items: Vec<Value>,
        anchor: usize,
        tag: Option<String>,
        size: usize,
        tagged_item: bool,
    },
    Mapping {
        start: Span,
        entries: Map<String, Value>,
        key: Option<PendingKey>,
        merges: Vec<(Node, Marker)>,
        anchor: usize,
        tag: Option<String>,
        size: usize,
    },
}

/// Builds documents from parser events.
struct Loader<'t> {
    text: &'t str,
    /// Character indices are byte offsets.
    ascii: bool,
    /// Character index and byte offset of the last document start, to convert the next one.
    cursor: (usize, usize),
    stack: Vec<Frame>,
    /// Anchor id → its node, for the current document.
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
    documents: Vec<Document>,
    /// Where the current document starts (byte offset, explicit `---`).
    current: (usize, bool),
}

impl<'t> Loader<'t> {
    fn new(text: &'t str) -> Loader<'t> {
        Loader {
            text,
            ascii: text.is_ascii(),
            cursor: (0, 0),
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
            documents: Vec::new(),
            current: (0, false),
        }
    }

    fn error(&self, at: &Marker, kind: YamlErrorKind) -> YamlError {
        YamlError {
            document: self.documents.len() + 1,
            line: at.line(),
            column: at.col() + 1,
            kind,
        }
    }

    /// Byte offset of character index `index`; indices only grow between calls.
    fn byte_offset(&mut self, index: usize) -> usize {
        if self.ascii {
            return index;
        }
        let (mut chars, mut bytes) = self.cursor;
        for c in self.text[bytes..].chars() {
            if chars >= index {
                break;
            }
            chars += 1;
            bytes += c.len_utf8();
        }
        self.cursor = (chars, bytes);
        bytes
    }

    /// The innermost flow collection being built: its start event's span ends just after
    /// its bracket (a block collection's span is empty, or ends on an anchor or tag).
    fn open_flow(&self) -> Option<Opened> {
        self.stack.iter().rev().find_map(|frame| {
            let (Frame::Sequence { start, .. } | Frame::Mapping { start, .. }) = frame;
            let last = start.end.index().checked_sub(1)?;
            let bracket = if self.ascii {
                char::from(*self.text.as_bytes().get(last)?)
            } else {
                self.text.chars().nth(last)?
            };
            matches!(bracket, '[' | '{').then(|| Opened {
                bracket,
                line: start.end.line(),
                column: start.end.col(),
            })
        })
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let at = span.start;
        match event {
            Event::DocumentStart(explicit) => {
                self.anchors.clear();
                self.current = (self.byte_offset(at.index()), explicit);
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    return Err(self.error(&at, YamlErrorKind::UnknownAnchor));
                };
                self.alias_nodes += node.size;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(self.error(
                        &at,
                        YamlErrorKind::TooManyAliasNodes {
                            limit: MAX_ALIAS_NODES,
                        },
                    ));
                }
                self.complete(node, at)?;
            }
            Event::Scalar(value, style, anchor, tag) => {
                let is_merge_key = value == "<<" && style == ScalarStyle::Plain && tag.is_none();
                if is_merge_key && self.expects_key() {
                    if let Some(Frame::Mapping { key, .. }) = self.stack.last_mut() {
                        *key = Some(PendingKey::Merge);
                    }
                    return Ok(());
                }
                let node =
                    scalar(&value, style, tag.as_deref()).map_err(|kind| self.error(&at, kind))?;
                self.anchor(anchor, &node);
                self.complete(node, at)?;
            }
            Event::SequenceStart(anchor, tag) => {
                self.enter(&at)?;
                self.stack.push(Frame::Sequence {
                    start: span,
                    items: Vec::new(),
                    anchor,
                    tag: tag.as_deref().and_then(kept_tag),
                    size: 1,
                    tagged_item: false,
                });
            }
            Event::MappingStart(anchor, tag) => {
                self.enter(&at)?;
                self.stack.push(Frame::Mapping {
                    start: span,
                    entries: Map::new(),
                    key: None,
                    merges: Vec::new(),
                    anchor,
                    tag: tag.as_deref().and_then(kept_tag),
                    size: 1,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                let (node, anchor, start) = self.finish(frame)?;
                self.anchor(anchor, &node);
                self.complete(node, start)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// Whether the next node is a mapping key.
    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Mapping { key: None, .. }))
    }

    fn enter(&self, at: &Marker) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(at, YamlErrorKind::TooDeep { limit: MAX_DEPTH }));
        }
        Ok(())
    }

    fn anchor(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    /// The node of a finished collection (merge keys applied), its anchor id and where it
    /// started.
    fn finish(&self, frame: Frame) -> Result<(Node, usize, Marker), YamlError> {
        let (value, tag, anchor, size, tagged_item, start) = match frame {
            Frame::Sequence {
                start,
                items,
                anchor,
                tag,
                size,
                tagged_item,
            } => (
                Value::Array(items),
                tag,
                anchor,
                size,
                tagged_item,
                start.start,
            ),
            Frame::Mapping {
                start,
                mut entries,
                merges,
                anchor,
                tag,
                size,
                ..
            } => {
                for (merge, at) in merges {
                    merge_into(&mut entries, merge).map_err(|kind| self.error(&at, kind))?;
                }
                (
                    Value::Object(entries),
                    tag,
                    anchor,
                    size,
                    false,
                    start.start,
                )
            }
        };
        let tagged = tag.is_some();
        let node = Node {
            value: wrap(tag, value),
            tagged,
            tagged_item,
            size,
        };
        Ok((node, anchor, start))
    }

    /// Hands a finished node to the collection being built, or makes it a document.
    fn complete(&mut self, node: Node, at: Marker) -> Result<(), YamlError> {
        let duplicate = match self.stack.last_mut() {
            None => {
                let (start, explicit_start) = self.current;
                self.documents.push(Document {
                    value: node.value,
                    start,
                    explicit_start,
                });
                return Ok(());
            }
            Some(Frame::Sequence {
                items,
                size,
                tagged_item,
                ..
            }) => {
                *size += node.size;
                *tagged_item |= node.tagged;
                items.push(node.value);
                return Ok(());
            }
            Some(Frame::Mapping {
                entries,
                key,
                merges,
                size,
                ..
            }) => {
                *size += node.size;
                match key.take() {
                    None => {
                        *key = Some(PendingKey::Key(key_text(node.value), at));
                        return Ok(());
                    }
                    Some(PendingKey::Merge) => {
                        merges.push((node, at));
                        return Ok(());
                    }
                    Some(PendingKey::Key(name, key_at)) => {
                        if entries.contains_key(&name) {
                            (name, key_at)
                        } else {
                            entries.insert(name, node.value);
                            return Ok(());
                        }
                    }
                }
            }
        };
        let (key, at) = duplicate;
        Err(self.error(&at, YamlErrorKind::DuplicateKey { key }))
    }
}

/// Adds the entries of a merge key's value that `entries` does not have yet.
fn merge_into(entries: &mut Map<String, Value>, merge: Node) -> Result<(), YamlErrorKind> {
    let invalid = |found| Err(YamlErrorKind::InvalidMerge { found });
    if merge.tagged {
        return invalid("a tagged value");
    }
    let add = |entries: &mut Map<String, Value>, from: Map<String, Value>| {
        for (key, value) in from {
            entries.entry(key).or_insert(value);
        }
    };
    match merge.value {
        Value::Object(from) => add(entries, from),
        Value::Array(items) => {
            if merge.tagged_item {
                return invalid("a list holding a tagged value");
            }
            for item in items {
                match item {
                    Value::Object(from) => add(entries, from),
                    Value::Array(_) => return invalid("a list holding a list"),
                    _ => return invalid("a list holding a scalar"),
                }
            }
        }
        _ => return invalid("a scalar"),
    }
    Ok(())
}

/// A key as a JSON object key: strings as they are, other scalars as YAML spells them, a
/// collection as its JSON text.
fn key_text(key: Value) -> String {
    match key {
        Value::String(s) => s,
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        complex => complex.to_string(),
    }
}

/// `value` under its kept tag, if any.
fn wrap(tag: Option<String>, value: Value) -> Value {
    match tag {
        Some(tag) => Value::Object(Map::from_iter([(tag, value)])),
        None => value,
    }
}

const CORE: &str = "tag:yaml.org,2002:";

/// How a tag is spelled when kept; `None` for core-schema tags and the non-specific `!`,
/// which only decide how a scalar is read.
fn kept_tag(tag: &Tag) -> Option<String> {
    if tag.handle == "!" {
        return Some(format!("!{}", tag.suffix));
    }
    let full = format!("{}{}", tag.handle, tag.suffix);
    if full == "!" || full.starts_with(CORE) {
        None
    } else if full.starts_with('!') {
        Some(full)
    } else {
        Some(format!("!<{full}>"))
    }
}

/// The core-schema suffix of a tag (`int` for `!!int`), if it is one.
fn core_suffix(tag: &Tag) -> Option<String> {
    let full = format!("{}{}", tag.handle, tag.suffix);
    full.strip_prefix(CORE).map(str::to_owned)
}

/// A scalar event as a node.
fn scalar(value: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Node, YamlErrorKind> {
    let plain = style == ScalarStyle::Plain;
    let Some(tag) = tag else {
        let value = if plain {
            resolve(value)
        } else {
            Value::String(value.to_owned())
        };
        return Ok(Node::leaf(value, false));
    };
    if let Some(suffix) = core_suffix(tag) {
        let typed = match suffix.as_str() {
            "null" => is_null_word(value).then_some(Value::Null),
            "bool" => parse_bool(value).map(Value::Bool),
            "int" => parse_int(value).map(Value::Number),
            "float" => parse_float(value).map(float_value),
            _ => Some(Value::String(value.to_owned())),
        };
        return typed
            .map(|v| Node::leaf(v, false))
            .ok_or_else(|| YamlErrorKind::InvalidTagged {
                tag: suffix,
                value: value.to_owned(),
            });
    }
    let Some(kept) = kept_tag(tag) else {
        // The non-specific tag `!`: a string, whatever it looks like.
        return Ok(Node::leaf(Value::String(value.to_owned()), false));
    };
    let inner = if plain {
        resolve(value)
    } else {
        Value::String(value.to_owned())
    };
    Ok(Node::leaf(wrap(Some(kept), inner), true))
}

/// What an untagged plain scalar reads as under the core schema.
fn resolve(s: &str) -> Value {
    if s.is_empty() || is_null_word(s) {
        return Value::Null;
    }
    if let Some(b) = parse_bool(s) {
        return Value::Bool(b);
    }
    // A number starts with a digit, a sign or a dot: most plain scalars (keys) are words.
    if s.as_bytes()[0].is_ascii_alphabetic() {
        return Value::String(s.to_owned());
    }
    if let Some(n) = parse_int(s) {
        return Value::Number(n);
    }
    if !leading_zero_digits(s) {
        if let Some(f) = parse_float(s) {
            return float_value(f);
        }
    }
    Value::String(s.to_owned())
}

fn is_null_word(s: &str) -> bool {
    matches!(s, "~" | "null" | "Null" | "NULL")
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// `0123` and `-007`: digits with a leading zero, which YAML 1.2 reads as a string.
fn leading_zero_digits(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    s.len() > 1 && s.starts_with('0') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

/// An integer that fits 64 bits: decimal, `0x`, `0o` or `0b`, with an optional sign.
fn parse_int(s: &str) -> Option<Number> {
    let (negative, unsigned) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    // `from_str_radix` would accept a second sign.
    if unsigned.starts_with(['+', '-']) || leading_zero_digits(s) {
        return None;
    }
    let (digits, radix) = [("0x", 16), ("0o", 8), ("0b", 2)]
        .into_iter()
        .find_map(|(prefix, radix)| unsigned.strip_prefix(prefix).map(|d| (d, radix)))
        .unwrap_or((unsigned, 10));
    if digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if !negative {
        return Some(Number::from(magnitude));
    }
    if magnitude == 1 << 63 {
        return Some(Number::from(i64::MIN));
    }
    i64::try_from(magnitude).ok().map(|m| Number::from(-m))
}

/// A float: decimal notation, or `.inf`, `-.inf`, `.nan` in their three spellings.
fn parse_float(s: &str) -> Option<f64> {
    let unsigned = match s.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => s,
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" if unsigned.len() == s.len() => return Some(f64::NAN),
        _ => {}
    }
    // Rust also reads `inf`, `NaN` and overflow as non-finite; YAML reads those as strings.
    unsigned.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A float as JSON: a number, or `.inf`, `-.inf`, `.nan` as text.
fn float_value(f: f64) -> Value {
    match Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None if f.is_nan() => Value::String(".nan".to_owned()),
        None if f > 0.0 => Value::String(".inf".to_owned()),
        None => Value::String("-.inf".to_owned()),
    }
}

/// `value` as block-style YAML (one document, no `---`), ending with a newline; it reads
/// back, through [`parse_document`], as `value`.
///
/// Keys come in the order of the map (sorted); strings are plain where that reads back as
/// the same string in YAML 1.2 and 1.1, otherwise [`quote`]d; empty collections are `{}` and
/// `[]`.
pub fn to_block(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_mapping(map, 0, false, &mut out),
        Value::Array(items) if !items.is_empty() => write_sequence(items, 0, false, &mut out),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

/// Writes the entries of `map` at `indent`; with `inline`, the first one goes on the current
/// line (after a `- `).
fn write_mapping(map: &Map<String, Value>, indent: usize, inline: bool, out: &mut String) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !inline {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&string_text(key));
        out.push(':');
        write_value(value, indent + 2, out);
    }
}

/// Writes the items of `items` at `indent`; `inline` as for [`write_mapping`].
fn write_sequence(items: &[Value], indent: usize, inline: bool, out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline {
            out.push_str(&" ".repeat(indent));
        }
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                out.push(' ');
                write_mapping(map, indent + 2, true, out);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push(' ');
                write_sequence(inner, indent + 2, true, out);
            }
            scalar => {
                out.push(' ');
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
    }
}

/// Writes the value after `key:`: a scalar on the same line, a collection below at `indent`.
fn write_value(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_mapping(map, indent, false, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_sequence(items, indent, false, out);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

/// A scalar or an empty collection, in flow style.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_text(s),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

/// `s` plain when that is safe, else double-quoted.
fn string_text(s: &str) -> String {
    if plain_safe(s) {
        s.to_owned()
    } else {
        quote(s)
    }
}

/// Whether `s` written plain, as a key or a value in block style, reads back as the string
/// `s` in YAML 1.2, and is not one YAML 1.1 reads otherwise (`yes`, `on`, `017`, `1_000`,
/// `1:20`). Conservative: anything unusual is quoted.
fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@' | '+');
    let digit_first_ok = !first.is_ascii_digit()
        || (s.bytes().any(|b| b.is_ascii_alphabetic()) && !s.contains(['_', ':']));
    (first.is_ascii_alphanumeric() || first == '_' || first == '/')
        && digit_first_ok
        && s.chars().all(allowed)
        && !s.ends_with(':')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off"
        )
        && matches!(resolve(s), Value::String(_))
}

/// Quote `s` as a YAML double-quoted scalar that parses back to exactly `s`.
///
/// Escaped: `\` and `"`; every line break (`\n`, `\r`, U+0085, U+2028, U+2029); every
/// character YAML does not allow raw (C0 controls except tab, DEL, C1 controls, U+FFFE,
/// U+FFFF); tab; the byte-order mark U+FEFF; and the bidirectional formatting characters
/// (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which are legal but can make a
/// reviewed diff display something other than what is applied.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let cp = u32::from(c);
                if cp <= 0xFF {
                    let _ = write!(out, "\\x{cp:02X}");
                } else if cp <= 0xFFFF {
                    let _ = write!(out, "\\u{cp:04X}");
                } else {
                    let _ = write!(out, "\\U{cp:08X}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `c` must be written as an escape sequence inside a double-quoted scalar (and so
/// cannot stand raw in a block scalar either).
pub(crate) fn needs_escape(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00..=0x1F
            | 0x7F..=0x9F
            | 0x061C
            | 0x200E
            | 0x200F
            | 0x2028
            | 0x2029
            | 0x202A..=0x202E
            | 0x2066..=0x2069
            | 0xFEFF
            | 0xFFFE
            | 0xFFFF
    )
}

// ---- plain scalars ------------------------------------------------------------------------
//
// How a plain scalar is read, as the union of YAML 1.2 (core schema) and YAML 1.1 (what many
// Kubernetes and GitOps tools still use): a plain scalar counts as "not a string" if either
// version reads it as null, a boolean or a number. The one rule of when a string may be
// written plain: values edits and rendered map keys follow it.

/// What a plain scalar reads as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainKind {
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
pub fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// What YAML 1.2 or 1.1 reads this plain scalar as (the "least string-like" of the two).
pub fn plain_kind(s: &str) -> PlainKind {
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
pub(crate) fn is_decimal_float(s: &str, underscores: bool) -> bool {
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
pub fn is_plain_safe(s: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn one(text: &str) -> Value {
        parse_document(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn kind(text: &str) -> (usize, usize, YamlErrorKind) {
        match parse_stream(text) {
            Err(e) => (e.line, e.column, e.kind),
            Ok(docs) => panic!("{text:?} parsed: {docs:?}"),
        }
    }

    #[test]
    fn streams_hold_every_document_and_where_it_starts() {
        let text = "# head\na: 1\n---\n# c\nb: [x]\n...\nc: é\n---\nd: 4\n";
        let docs = parse_stream(text).unwrap();
        let values: Vec<&Value> = docs.iter().map(|d| &d.value).collect();
        assert_eq!(
            values,
            [
                &json!({"a": 1}),
                &json!({"b": ["x"]}),
                &json!({"c": "é"}),
                &json!({"d": 4})
            ]
        );
        let starts: Vec<(usize, bool)> = docs.iter().map(|d| (d.start, d.explicit_start)).collect();
        // Byte offsets, past the two-byte `é`.
        let d = text.rfind("---").unwrap();
        assert_eq!(
            starts,
            [
                (7, false),
                (12, true),
                (text.find("c: ").unwrap(), false),
                (d, true)
            ]
        );
        assert!(parse_stream("").unwrap().is_empty());
        assert!(parse_stream("# only a comment\n").unwrap().is_empty());
        assert_eq!(
            parse_documents("---\n---\n").unwrap(),
            [Value::Null, Value::Null]
        );
        assert_eq!(one(""), Value::Null);
        let e = parse_document("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(
            (e.document, e.line, e.kind),
            (2, 2, YamlErrorKind::SeveralDocuments)
        );
    }

    #[test]
    fn aliases_are_resolved_within_their_document() {
        assert_eq!(
            one("a: &x {k: [1, 2]}\nb: *x\nc: &s text\nd: *s\n"),
            json!({"a": {"k": [1, 2]}, "b": {"k": [1, 2]}, "c": "text", "d": "text"})
        );
        // Anchors may be redefined; an alias takes the latest.
        assert_eq!(one("- &a 1\n- &a 2\n- *a\n"), json!([1, 2, 2]));
        for text in ["a: *nowhere\n", "&a [*a]\n", "a: &x 1\n---\nb: *x\n"] {
            assert!(
                matches!(
                    kind(text).2,
                    YamlErrorKind::UnknownAnchor | YamlErrorKind::Syntax { .. }
                ),
                "{text:?}: {:?}",
                kind(text)
            );
        }
        assert_eq!(
            kind("a: &x 1\n---\nb: *x\n"),
            (3, 4, YamlErrorKind::UnknownAnchor)
        );
    }

    #[test]
    fn alias_expansion_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        assert_eq!(
            kind(&text).2,
            YamlErrorKind::TooManyAliasNodes {
                limit: MAX_ALIAS_NODES
            }
        );
        let fine = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n";
        assert_eq!(one(fine)["b"][2], json!([1, 2, 3]));
    }

    #[test]
    fn merge_keys_apply_as_kubernetes_reads_them() {
        let base = "base: &b {x: 1, y: 1}\nother: &o {y: 2, z: 2}\n";
        // Keys written in the mapping win, before or after `<<`.
        let m = one(&format!("{base}m:\n  x: 0\n  <<: *b\n  y: 0\n"));
        assert_eq!(m["m"], json!({"x": 0, "y": 0}));
        // In a list, earlier mappings win over later ones.
        let m = one(&format!("{base}m:\n  <<: [*b, *o]\n"));
        assert_eq!(m["m"], json!({"x": 1, "y": 1, "z": 2}));
        let m = one(&format!("{base}m:\n  <<: [*o, *b]\n  w: 3\n"));
        assert_eq!(m["m"], json!({"w": 3, "x": 1, "y": 2, "z": 2}));
        // A merge inside an anchored mapping is applied before the alias copies it.
        let m = one(&format!("{base}c: &c {{<<: *b, z: 3}}\nm: {{<<: *c}}\n"));
        assert_eq!(m["m"], json!({"x": 1, "y": 1, "z": 3}));
        // A quoted `<<` is an ordinary key.
        assert_eq!(one("'<<': {a: 1}\n"), json!({"<<": {"a": 1}}));
        for (text, found) in [
            ("a: {<<: 1}\n", "a scalar"),
            ("a: {<<: [[{b: 1}]]}\n", "a list holding a list"),
            ("a: {<<: [1]}\n", "a list holding a scalar"),
            ("a: {<<: !t {b: 1}}\n", "a tagged value"),
            ("a: {<<: [!t {b: 1}]}\n", "a list holding a tagged value"),
        ] {
            assert_eq!(
                kind(text).2,
                YamlErrorKind::InvalidMerge { found },
                "{text:?}"
            );
        }
        let (line, column, _) = kind("a: 1\nb:\n  <<: oops\n");
        assert_eq!((line, column), (3, 7));
    }

    #[test]
    fn plain_scalars_are_typed_by_the_core_schema() {
        let cases = [
            ("~", json!(null)),
            ("null", json!(null)),
            ("NULL", json!(null)),
            ("", json!(null)),
            ("true", json!(true)),
            ("False", json!(false)),
            ("yes", json!("yes")),
            ("on", json!("on")),
            ("42", json!(42)),
            ("+42", json!(42)),
            ("-42", json!(-42)),
            ("0", json!(0)),
            ("-0", json!(0)),
            ("0x1F", json!(31)),
            ("-0x1F", json!(-31)),
            ("0o17", json!(15)),
            ("0b101", json!(5)),
            ("0x", json!("0x")),
            ("0x-1", json!("0x-1")),
            ("+-1", json!("+-1")),
            ("017", json!("017")),
            ("-007", json!("-007")),
            ("1_000", json!("1_000")),
            ("18446744073709551615", json!(18446744073709551615u64)),
            ("-9223372036854775808", json!(i64::MIN)),
            ("1.5", json!(1.5)),
            ("-1.5e3", json!(-1500.0)),
            (".5", json!(0.5)),
            ("1e400", json!("1e400")),
            (".inf", json!(".inf")),
            ("+.Inf", json!(".inf")),
            ("-.INF", json!("-.inf")),
            (".nan", json!(".nan")),
            ("inf", json!("inf")),
            ("NaN", json!("NaN")),
            ("Infinity", json!("Infinity")),
            ("e5", json!("e5")),
            ("x1", json!("x1")),
            ("1.2.3", json!("1.2.3")),
            ("100%", json!("100%")),
        ];
        for (plain, want) in cases {
            assert_eq!(one(&format!("v: {plain}\n"))["v"], want, "{plain:?}");
        }
        // Quoted scalars are strings, whatever they look like.
        assert_eq!(
            one("a: '1'\nb: \"true\"\nc: |\n  null\n"),
            json!({"a": "1", "b": "true", "c": "null\n"})
        );
    }

    #[test]
    fn tags_are_kept_or_applied() {
        assert_eq!(
            one("a: !!str 1\nb: !!int \"7\"\nc: !!float 1\nd: !!bool true\ne: !!null ~\nf: !!binary aGk=\n"),
            json!({"a": "1", "b": 7, "c": 1.0, "d": true, "e": null, "f": "aGk="})
        );
        assert_eq!(
            one("a: !vault 1\nb: !vault '1'\nc: !t {x: 1}\nd: !t [1]\ne: ! 12\nf: !<tag:x.org,1:y> z\ng: !!map {k: v}\n"),
            json!({
                "a": {"!vault": 1},
                "b": {"!vault": "1"},
                "c": {"!t": {"x": 1}},
                "d": {"!t": [1]},
                "e": "12",
                "f": {"!<tag:x.org,1:y>": "z"},
                "g": {"k": "v"}
            })
        );
        assert_eq!(
            kind("a: !!int twelve\n"),
            (
                1,
                4,
                YamlErrorKind::InvalidTagged {
                    tag: "int".into(),
                    value: "twelve".into()
                }
            )
        );
        assert!(matches!(
            kind("a: !!bool yes\n").2,
            YamlErrorKind::InvalidTagged { .. }
        ));
    }

    #[test]
    fn keys_that_are_not_strings_keep_their_yaml_spelling() {
        assert_eq!(
            one("1: a\ntrue: b\n~: c\n0x10: d\n1.5: e\n? [x, y]\n: f\n? {k: v}\n: g\n"),
            json!({
                "1": "a", "true": "b", "null": "c", "16": "d", "1.5": "e",
                "[\"x\",\"y\"]": "f", "{\"k\":\"v\"}": "g"
            })
        );
    }

    #[test]
    fn invalid_yaml_is_located() {
        let e = parse_stream("a: 1\nb: &x [x,\n").unwrap_err();
        let opened = Some(Opened {
            bracket: '[',
            line: 2,
            column: 7,
        });
        assert!(
            matches!(&e.kind, YamlErrorKind::Syntax { opened: o, .. } if *o == opened),
            "{e:?}"
        );
        assert_eq!((e.document, e.line, e.column), (1, 3, 1));
        assert!(
            e.to_string()
                .ends_with("at line 3 column 1 (in the `[` opened at line 2 column 7)"),
            "{e}"
        );
        let e = parse_stream("a:\n  b: c\n d: e\n").unwrap_err();
        assert!(
            matches!(e.kind, YamlErrorKind::Syntax { opened: None, .. }),
            "{e:?}"
        );
        let e = parse_stream("a: 1\n---\nkind: Service\nkind: Secret\n").unwrap_err();
        assert_eq!(
            (e.document, e.line, e.column, e.kind.clone()),
            (2, 4, 1, YamlErrorKind::DuplicateKey { key: "kind".into() })
        );
        assert_eq!(
            e.to_string(),
            "duplicate key `kind` in one mapping at line 4 column 1"
        );
        // Keys that spell the same JSON key collide too.
        assert!(matches!(
            kind("1: a\n'1': b\n").2,
            YamlErrorKind::DuplicateKey { .. }
        ));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(kind(&deep).2, YamlErrorKind::TooDeep { limit: MAX_DEPTH });
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_document(&ok).is_ok());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Any text reads or fails with a location; documents start in order, on characters.
        #[test]
        fn any_text_reads_or_fails_cleanly(text in "([-:#&*!|>'\"{}\\[\\], \n<~a1é]|\\PC){0,60}") {
            match parse_stream(&text) {
                Ok(documents) => {
                    let mut last = 0;
                    for d in &documents {
                        proptest::prop_assert!(d.start >= last && text.is_char_boundary(d.start));
                        last = d.start;
                    }
                }
                Err(e) => proptest::prop_assert!(e.line >= 1 && e.column >= 1 && e.document >= 1),
            }
        }

        /// Whatever parses is written back by `to_block` as text that reads the same.
        #[test]
        fn block_output_of_any_document_reads_back(text in "([-:#&*!|'\"{}\\[\\], \n<a1é]){0,60}") {
            if let Ok(documents) = parse_documents(&text) {
                for value in documents {
                    let block = to_block(&value);
                    proptest::prop_assert_eq!(parse_document(&block).ok(), Some(value), "{}", block);
                }
            }
        }
    }

    #[test]
    fn block_output_reads_back_as_the_same_value() {
        let value = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db", "labels": {"app.kubernetes.io/name": "db", "9lives": "x"}},
            "data": {"password": "<redacted sha256:0123456789ab>", "empty": ""},
            "strings": [
                "yes", "on", "N", "017", "1_000", "1:20", "1.5", "1e3", "0x1F", ".inf", "null",
                "~", "true", "- a", "a: b", "a #b", "#c", "x:", "*a", "&a", "!t", "%d", "@e",
                "'q'", "\"q\"", " lead", "trail ", "two\nlines", "tab\t", "é", "{}", "[]",
                "<<", "=", "?", "-", ":", "10m", "v1.2.3", "a-b_c/d:e@f+g"
            ],
            "numbers": [0, -1, 1.5, 18446744073709551615u64, 1e300],
            "other": [null, true, false, {}, [], [[1, [2]], {"a": [3]}], [{"a": 1, "b": {"c": 2}}]],
            "": "empty key",
            "!t": {"tagged": "looking"}
        });
        let text = to_block(&value);
        assert_eq!(one(&text), value, "{text}");
        for scalar in [json!(null), json!("x"), json!(1), json!({}), json!([])] {
            assert_eq!(one(&to_block(&scalar)), scalar);
        }
        assert!(
            text.contains("\n  password: \"<redacted sha256:0123456789ab>\"\n"),
            "{text}"
        );
        assert!(text.contains("\nkind: Secret\n"), "{text}");
        assert!(text.contains("\n  - \"yes\"\n"), "{text}");
        assert!(
            text.contains("\n  - - - 1\n      - - 2\n    - a:\n        - 3\n"),
            "{text}"
        );
    }
}
