//! The spanned YAML tree of a values file: mappings, sequences and scalars with the position of
//! every key and value, built from `saphyr_parser` events.
//!
//! It owns the YAML-level rules of values files (one document, no anchors, aliases, merge keys,
//! tags or duplicate keys) and the byte offsets that text-preserving edits need. It knows
//! nothing of the values schema: typing lives in `de`, semantic checks in `validate`.

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span};

use super::diagnostic::{Diagnostic, DiagnosticKind};
use super::path::{KeyPath, Seg};

/// A position in the text: 1-based line and column (in characters) and the byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}

/// A range of the text, `start` inclusive and `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TextSpan {
    pub start: Pos,
    pub end: Pos,
}

/// One node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub span: TextSpan,
    pub kind: NodeKind,
}

/// What a node is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    /// A scalar with its (unescaped) value and the style it was written in.
    Scalar { value: String, style: ScalarStyle },
    /// A mapping; `flow` is `{ ... }` style.
    Mapping { entries: Vec<Entry>, flow: bool },
    /// A sequence; `flow` is `[ ... ]` style.
    Sequence { items: Vec<Node>, flow: bool },
}

/// One `key: value` entry of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub key_span: TextSpan,
    pub value: Node,
}

impl Node {
    /// The value of `key` if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The entry of `key` if this is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.kind {
            NodeKind::Mapping { entries, .. } => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The item at `index` if this is a sequence that long.
    pub fn item(&self, index: usize) -> Option<&Node> {
        match &self.kind {
            NodeKind::Sequence { items, .. } => items.get(index),
            _ => None,
        }
    }

    /// The node at `path`, if every step exists.
    pub fn at(&self, path: &[Seg]) -> Option<&Node> {
        path.iter().try_fold(self, |node, seg| match seg {
            Seg::Key(k) => node.get(k),
            Seg::Index(i) => node.item(*i),
        })
    }

    /// The deepest node along `path` that exists (at least `self`).
    pub fn deepest(&self, path: &[Seg]) -> &Node {
        let mut node = self;
        for seg in path {
            let next = match seg {
                Seg::Key(k) => node.get(k),
                Seg::Index(i) => node.item(*i),
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node
    }

    /// The scalar's value and style, if this is a scalar.
    pub fn scalar(&self) -> Option<(&str, ScalarStyle)> {
        match &self.kind {
            NodeKind::Scalar { value, style } => Some((value, *style)),
            _ => None,
        }
    }

    /// Whether this is a plain scalar YAML reads as null (`~`, `null`, empty).
    pub fn is_null(&self) -> bool {
        matches!(self.scalar(), Some((v, ScalarStyle::Plain)) if super::scalar::is_null(v))
    }
}

/// Maps saphyr's character indices to byte offsets.
struct Offsets {
    /// Byte offset of each character, plus the text length at the end. Empty for ASCII text,
    /// where character index and byte offset coincide.
    table: Vec<usize>,
}

impl Offsets {
    fn new(text: &str) -> Offsets {
        let table = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices()
                .map(|(b, _)| b)
                .chain(std::iter::once(text.len()))
                .collect()
        };
        Offsets { table }
    }

    fn pos(&self, m: &Marker) -> Pos {
        let offset = if self.table.is_empty() {
            m.index()
        } else {
            self.table[m.index().min(self.table.len() - 1)]
        };
        Pos {
            line: m.line(),
            column: m.col() + 1,
            offset,
        }
    }

    fn span(&self, s: &Span) -> TextSpan {
        TextSpan {
            start: self.pos(&s.start),
            end: self.pos(&s.end),
        }
    }
}

/// A container being built.
enum Frame {
    Mapping {
        start: TextSpan,
        flow: bool,
        entries: Vec<Entry>,
        pending_key: Option<(String, TextSpan)>,
        path: KeyPath,
    },
    Sequence {
        start: TextSpan,
        flow: bool,
        items: Vec<Node>,
        path: KeyPath,
    },
}

/// Deeper nesting than any values file needs; refusing it keeps recursion bounded.
const MAX_DEPTH: usize = 32;

/// Parse `text` into its tree. `Ok(None)` for a file with no document (empty or only
/// comments). Every YAML-level problem found is reported; a syntax error stops the scan.
pub(crate) fn build(file: &str, text: &str) -> Result<Option<Node>, Vec<Diagnostic>> {
    let offsets = Offsets::new(text);
    let mut diags = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0usize;

    for event in Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(ev) => ev,
            Err(e) => {
                let pos = offsets.pos(e.marker());
                let open_flow = stack.iter().rev().find_map(|f| match f {
                    Frame::Mapping {
                        start, flow: true, ..
                    }
                    | Frame::Sequence {
                        start, flow: true, ..
                    } => Some(start.start),
                    _ => None,
                });
                diags.push(syntax_error(file, pos, e.info(), open_flow));
                return Err(diags);
            }
        };
        let span = offsets.span(&span);
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    diags.push(Diagnostic {
                        file: file.to_owned(),
                        line: span.start.line,
                        column: span.start.column,
                        path: String::new(),
                        kind: DiagnosticKind::UnsupportedYaml,
                        message: "a second YAML document starts here".to_owned(),
                        expected: Some("exactly one document per values file".to_owned()),
                        hint: Some(
                            "remove the `---` and everything after it, or move the other \
                             document into its own environment's values.yaml"
                                .to_owned(),
                        ),
                    });
                    return Err(diags);
                }
            }
            Event::Alias(_) => {
                let path = child_path(&stack);
                diags.push(unsupported(
                    file,
                    span.start,
                    &path,
                    "aliases (`*name`) are not allowed in values files",
                    "write the value out in full: a reviewer must see every value where it applies",
                ));
                let node = Node {
                    span,
                    kind: NodeKind::Scalar {
                        value: String::new(),
                        style: ScalarStyle::Plain,
                    },
                };
                attach(&mut stack, &mut root, node, file, &mut diags);
            }
            Event::Scalar(value, style, anchor, tag) => {
                let path = child_path(&stack);
                check_anchor_and_tag(file, span, &path, anchor, tag.is_some(), &mut diags);
                let node = Node {
                    span,
                    kind: NodeKind::Scalar {
                        value: value.into_owned(),
                        style,
                    },
                };
                attach(&mut stack, &mut root, node, file, &mut diags);
            }
            Event::MappingStart(anchor, tag) => {
                let path = child_path(&stack);
                if stack.len() >= MAX_DEPTH {
                    diags.push(too_deep(file, span.start, &path));
                    return Err(diags);
                }
                check_anchor_and_tag(file, span, &path, anchor, tag.is_some(), &mut diags);
                let flow = text[span.start.offset..span.end.offset].contains('{');
                stack.push(Frame::Mapping {
                    start: span,
                    flow,
                    entries: Vec::new(),
                    pending_key: None,
                    path,
                });
            }
            Event::SequenceStart(anchor, tag) => {
                let path = child_path(&stack);
                if stack.len() >= MAX_DEPTH {
                    diags.push(too_deep(file, span.start, &path));
                    return Err(diags);
                }
                check_anchor_and_tag(file, span, &path, anchor, tag.is_some(), &mut diags);
                let flow = text[span.start.offset..span.end.offset].contains('[');
                stack.push(Frame::Sequence {
                    start: span,
                    flow,
                    items: Vec::new(),
                    path,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let node = match stack.pop() {
                    Some(Frame::Mapping {
                        start,
                        flow,
                        entries,
                        ..
                    }) => Node {
                        span: TextSpan {
                            start: start.start,
                            end: container_end(flow, span),
                        },
                        kind: NodeKind::Mapping { entries, flow },
                    },
                    Some(Frame::Sequence {
                        start, flow, items, ..
                    }) => Node {
                        span: TextSpan {
                            start: start.start,
                            end: container_end(flow, span),
                        },
                        kind: NodeKind::Sequence { items, flow },
                    },
                    None => continue,
                };
                attach(&mut stack, &mut root, node, file, &mut diags);
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    if diags.is_empty() {
        Ok(root)
    } else {
        Err(diags)
    }
}

/// Where a container ends: after its closing bracket (flow), or where the next node starts
/// (block). The parser's span of a closing bracket may run on over a trailing comment.
fn container_end(flow: bool, end_event: TextSpan) -> Pos {
    let mut end = end_event.start;
    if flow {
        end.offset += 1;
        end.column += 1;
    }
    end
}

/// The key path of the node the next event will produce.
fn child_path(stack: &[Frame]) -> KeyPath {
    match stack.last() {
        None => KeyPath::root(),
        Some(Frame::Mapping {
            pending_key: Some((k, _)),
            path,
            ..
        }) => path.child(Seg::Key(k.clone())),
        // A mapping key itself: name it by the mapping.
        Some(Frame::Mapping { path, .. }) => path.clone(),
        Some(Frame::Sequence { items, path, .. }) => path.child(Seg::Index(items.len())),
    }
}

/// Hand a finished node to its parent (or make it the root).
fn attach(
    stack: &mut [Frame],
    root: &mut Option<Node>,
    node: Node,
    file: &str,
    diags: &mut Vec<Diagnostic>,
) {
    match stack.last_mut() {
        None => *root = Some(node),
        Some(Frame::Sequence { items, .. }) => items.push(node),
        Some(Frame::Mapping {
            entries,
            pending_key,
            path,
            ..
        }) => match pending_key.take() {
            Some((key, key_span)) => entries.push(Entry {
                key,
                key_span,
                value: node,
            }),
            None => {
                let key = match &node.kind {
                    NodeKind::Scalar { value, .. } => value.clone(),
                    _ => {
                        diags.push(unsupported(
                            file,
                            node.span.start,
                            path,
                            "a mapping or list used as a key",
                            "keys are plain names such as `replicas`",
                        ));
                        String::new()
                    }
                };
                let key_path = path.child(Seg::Key(key.clone()));
                if key == "<<" && matches!(node.scalar(), Some((_, ScalarStyle::Plain))) {
                    diags.push(unsupported(
                        file,
                        node.span.start,
                        &key_path,
                        "merge keys (`<<`) are not allowed in values files",
                        "write the merged keys out in full: a reviewer must see every value \
                         where it applies",
                    ));
                } else if let Some(first) = entries.iter().find(|e| e.key == key) {
                    diags.push(Diagnostic {
                        file: file.to_owned(),
                        line: node.span.start.line,
                        column: node.span.start.column,
                        path: key_path.to_string(),
                        kind: DiagnosticKind::DuplicateKey,
                        message: format!(
                            "duplicate key (first defined at line {}, column {})",
                            first.key_span.start.line, first.key_span.start.column
                        ),
                        expected: Some("each key at most once per mapping".to_owned()),
                        hint: Some(
                            "remove one of the two; YAML tools disagree about which one wins"
                                .to_owned(),
                        ),
                    });
                }
                *pending_key = Some((key, node.span));
            }
        },
    }
}

fn check_anchor_and_tag(
    file: &str,
    span: TextSpan,
    path: &KeyPath,
    anchor: usize,
    tagged: bool,
    diags: &mut Vec<Diagnostic>,
) {
    if anchor != 0 {
        diags.push(unsupported(
            file,
            span.start,
            path,
            "anchors (`&name`) are not allowed in values files",
            "write the value out in full: a reviewer must see every value where it applies",
        ));
    }
    if tagged {
        diags.push(unsupported(
            file,
            span.start,
            path,
            "YAML tags (such as `!!str`) are not allowed in values files",
            "remove the tag; to make a value a string, write it in double quotes",
        ));
    }
}

fn unsupported(file: &str, at: Pos, path: &KeyPath, message: &str, hint: &str) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        line: at.line,
        column: at.column,
        path: path.to_string(),
        kind: DiagnosticKind::UnsupportedYaml,
        message: message.to_owned(),
        expected: None,
        hint: Some(hint.to_owned()),
    }
}

fn too_deep(file: &str, at: Pos, path: &KeyPath) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        line: at.line,
        column: at.column,
        path: path.to_string(),
        kind: DiagnosticKind::UnsupportedYaml,
        message: format!("mappings and lists are nested more than {MAX_DEPTH} levels deep"),
        expected: None,
        hint: Some("values files need only a few levels of nesting".to_owned()),
    }
}

fn syntax_error(file: &str, at: Pos, info: &str, open_flow: Option<Pos>) -> Diagnostic {
    let opened = |bracket: char| match open_flow {
        Some(p) => format!(
            "the `{bracket}` opened at line {}, column {}",
            p.line, p.column
        ),
        None => format!("the `{bracket}`"),
    };
    let hint = if info.contains("tab") {
        Some("indent with spaces; YAML does not allow tabs for indentation".to_owned())
    } else if info.contains("mapping values are not allowed") {
        Some("check the indentation of this line, or quote a value that contains `: `".to_owned())
    } else if info.contains("did not find expected key") {
        Some(
            "check the indentation: the keys of one mapping must start in the same column"
                .to_owned(),
        )
    } else if info.contains("expected ',' or '}'") {
        Some(format!(
            "close {} with `}}` and separate its entries with `,`",
            opened('{')
        ))
    } else if info.contains("expected ',' or ']'") {
        Some(format!(
            "close {} with `]` and separate its items with `,`",
            opened('[')
        ))
    } else if info.contains("quoted scalar") {
        Some("check for a quote that is not closed".to_owned())
    } else if info.contains("recursion limit") {
        Some(
            "values files need only a few levels of nesting: check for unclosed `[` or `{`"
                .to_owned(),
        )
    } else {
        Some(
            "check the indentation and the quoting at and just before this position \
             (strings holding `: `, `#` or starting with `[`, `{`, `&`, `*` need quotes)"
                .to_owned(),
        )
    };
    let info = if info.contains("recursion limit") {
        "nested too deeply"
    } else {
        info
    };
    Diagnostic {
        file: file.to_owned(),
        line: at.line,
        column: at.column,
        path: String::new(),
        kind: DiagnosticKind::Syntax,
        message: format!("invalid YAML: {info}"),
        expected: None,
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Node {
        build("t.yaml", text)
            .expect("parses")
            .expect("has a document")
    }

    fn errors(text: &str) -> Vec<Diagnostic> {
        build("t.yaml", text).expect_err("must be rejected")
    }

    #[test]
    fn records_key_and_value_positions() {
        let t = tree("# c\napp: api\nblue: { tag: \"1.4.0\", replicas: 4 }\n");
        let app = t.entry("app").unwrap();
        assert_eq!((app.key_span.start.line, app.key_span.start.column), (2, 1));
        assert_eq!(
            (app.value.span.start.line, app.value.span.start.column),
            (2, 6)
        );
        let blue = t.get("blue").unwrap();
        assert!(matches!(blue.kind, NodeKind::Mapping { flow: true, .. }));
        let tag = blue.get("tag").unwrap();
        assert_eq!(tag.scalar(), Some(("1.4.0", ScalarStyle::DoubleQuoted)));
        // The span of a quoted scalar covers its quotes.
        let text = "# c\napp: api\nblue: { tag: \"1.4.0\", replicas: 4 }\n";
        assert_eq!(
            &text[tag.span.start.offset..tag.span.end.offset],
            "\"1.4.0\""
        );
        let end = blue.span.end.offset;
        assert_eq!(&text[end - 1..end], "}");
        let commented = "g: { a: 1 }   # note\n";
        let g = tree(commented);
        let end = g.get("g").unwrap().span.end.offset;
        assert_eq!(&commented[..end], "g: { a: 1 }");
    }

    #[test]
    fn byte_offsets_follow_multibyte_characters() {
        let text = "note: \"héllo wörld\"\napp: api\n";
        let t = tree(text);
        let app = t.get("app").unwrap();
        assert_eq!(&text[app.span.start.offset..app.span.end.offset], "api");
        assert_eq!(app.span.start.column, 6);
    }

    #[test]
    fn block_mappings_are_not_flow() {
        let t = tree("green:\n  tag: x\n  replicas: 0\n");
        assert!(matches!(
            t.get("green").unwrap().kind,
            NodeKind::Mapping { flow: false, .. }
        ));
    }

    #[test]
    fn empty_text_has_no_document() {
        assert_eq!(build("t.yaml", "").unwrap(), None);
        assert_eq!(build("t.yaml", "# only a comment\n").unwrap(), None);
    }

    #[test]
    fn rejects_duplicate_keys_with_both_positions() {
        let d = errors("app: a\nnamespace: n\napp: b\n");
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].line, d[0].column), (3, 1));
        assert_eq!(d[0].path, "app");
        assert!(
            d[0].message.contains("line 1, column 1"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn rejects_anchors_aliases_tags_and_merge_keys() {
        let d = errors("a: &x 1\nb: *x\nc: !!str 5\nd:\n  <<: {e: 1}\n");
        let found: Vec<(usize, &str)> = d.iter().map(|d| (d.line, d.path.as_str())).collect();
        assert_eq!(found, vec![(1, "a"), (2, "b"), (3, "c"), (5, "d.<<")]);
        assert!(d.iter().all(|d| d.kind == DiagnosticKind::UnsupportedYaml));
    }

    #[test]
    fn rejects_a_second_document() {
        let d = errors("a: 1\n---\nb: 2\n");
        assert_eq!((d[0].line, d[0].column), (2, 1));
        assert!(d[0].message.contains("second YAML document"));
    }

    #[test]
    fn allows_a_single_explicit_document() {
        assert!(tree("---\na: 1\n...\n").get("a").is_some());
    }

    #[test]
    fn syntax_errors_are_located_one_based() {
        let d = errors("a: 1\n b: 2\n");
        assert_eq!(d[0].kind, DiagnosticKind::Syntax);
        assert_eq!((d[0].line, d[0].column), (2, 3));
    }

    #[test]
    fn rejects_absurd_nesting() {
        let text = format!(
            "a:\n{}",
            (0..40)
                .map(|i| format!("{}k:\n", " ".repeat(i + 1)))
                .collect::<String>()
        );
        let d = errors(&text);
        assert_eq!((d[0].line, d[0].column), (MAX_DEPTH + 1, MAX_DEPTH + 1));
        assert!(d[0].message.contains("nested"), "{}", d[0]);
        // The parser has its own limit for flow nesting; either way it is an error.
        let text = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        assert!(!errors(&text).is_empty());
    }

    #[test]
    fn paths_name_nested_keys_and_indices() {
        let d = errors("envFrom:\n  - configMap: &a x\n");
        assert_eq!(d[0].path, "envFrom[0].configMap");
    }
}
