//! Template source read the way tera 2's lexer reads it: text, comments, output expressions
//! `{{ … }}` and tags `{% … %}`, the last two as tokens. tera keeps its own syntax tree
//! private; this is the public-API way for greenlight to look inside a template. It follows
//! tera's rules with the default delimiters: `-` whitespace control, a comment ends at the
//! first `#}`, string literals (`"`, `'`, `` ` ``) with backslash escapes inside `{{ }}` and
//! `{% %}`, and `}}` / `%}` end an expression wherever they appear outside a string.
//!
//! Two users: the quoting lint of the built-in templates (`lint`, a test), and
//! [`tera1_notes`], which points at syntax an override wrote for tera 1 and says what tera 2
//! expects instead. Neither decides what is safe to render: autoescaping and the output check
//! do that at run time.

use std::fmt;

/// One lexical token inside `{{ … }}` or `{% … %}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token<'a> {
    /// A name: a variable, a filter, a test, a tag or a keyword.
    Ident(&'a str),
    /// An integer literal, as written.
    Int(&'a str),
    /// A float literal, as written.
    Float(&'a str),
    /// A string literal's content, escapes as written.
    Str(&'a str),
    /// `true` or `false`.
    Bool,
    /// An operator or punctuation, as written (`.`, `|`, `(`, `==`, `?.`, …).
    Op(&'a str),
}

/// A piece of template source.
#[derive(Debug, PartialEq)]
pub(crate) enum Piece<'a> {
    /// Text printed as it is.
    Text,
    /// `{# … #}`.
    Comment,
    /// `{{ … }}`: what it prints.
    Output(Vec<Token<'a>>),
    /// `{% … %}`.
    Tag(Vec<Token<'a>>),
}

/// A piece with where it starts (1-based line) and its source text.
#[derive(Debug)]
pub(crate) struct Located<'a> {
    /// The line it starts on, 1-based.
    pub(crate) line: usize,
    /// Its text, delimiters included.
    pub(crate) source: &'a str,
    /// What it is.
    pub(crate) piece: Piece<'a>,
}

/// Operators tera's lexer reads as one token, longest first.
const OPS: &[&str] = &[
    "...", "//", "**", "==", "!=", ">=", "<=", "</", "?.", "?[", "+", "-", "*", "/", "%", "!", ".",
    ",", ":", "~", "|", "=", ">", "<", "(", ")", "[", "]", "{", "}", "@",
];

/// Split `source` into pieces. Errors (with the line) on what tera would refuse to lex: an
/// unclosed `{{`, `{%`, `{#` or string, or a character that starts no token.
pub(crate) fn pieces(source: &str) -> Result<Vec<Located<'_>>, String> {
    let line_at = |at: usize| source[..at].matches('\n').count() + 1;
    let mut out = Vec::new();
    let mut at = 0;
    while at < source.len() {
        let rest = &source[at..];
        let (end, piece) = if let Some(comment) = rest.strip_prefix("{#") {
            let close = comment
                .find("#}")
                .ok_or_else(|| format!("line {}: `{{#` is never closed", line_at(at)))?;
            (2 + close + 2, Piece::Comment)
        } else if let Some(close) = ["{{", "{%"].iter().position(|open| rest.starts_with(open)) {
            let end_marker = ["}}", "%}"][close];
            let (len, tokens) = expression(rest, end_marker)
                .map_err(|(offset, what)| format!("line {}: {what}", line_at(at + offset)))?;
            let piece = if close == 0 {
                Piece::Output(tokens)
            } else {
                Piece::Tag(tokens)
            };
            (len, piece)
        } else {
            let next = ["{{", "{%", "{#"]
                .iter()
                .filter_map(|open| rest.find(open))
                .min()
                .unwrap_or(rest.len());
            (next, Piece::Text)
        };
        out.push(Located {
            line: line_at(at),
            source: &rest[..end],
            piece,
        });
        at += end;
    }
    Ok(out)
}

/// Lex the inside of one `{{ … }}` or `{% … %}` starting at `rest` (which begins with its
/// opening delimiter) up to `end` (`}}` or `%}`, either after an optional `-`). Returns the
/// length of the whole piece and its tokens, or the offset and what is wrong.
fn expression<'a>(rest: &'a str, end: &str) -> Result<(usize, Vec<Token<'a>>), (usize, String)> {
    let bytes = rest.as_bytes();
    let mut at = if bytes.get(2) == Some(&b'-') { 3 } else { 2 };
    let mut tokens = Vec::new();
    loop {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        let here = &rest[at..];
        if here.is_empty() {
            return Err((0, format!("`{}` is never closed", &rest[..2])));
        }
        if here.starts_with(end) {
            return Ok((at + 2, tokens));
        }
        if here.starts_with('-') && here[1..].starts_with(end) {
            return Ok((at + 3, tokens));
        }
        let c = bytes[at];
        let len = if matches!(c, b'"' | b'\'' | b'`') {
            let mut i = at + 1;
            loop {
                match bytes.get(i) {
                    None => return Err((at, "a string is never closed".to_owned())),
                    Some(b'\\') => i += 2,
                    Some(&b) if b == c => break,
                    Some(_) => i += 1,
                }
            }
            tokens.push(Token::Str(&rest[at + 1..i]));
            i + 1 - at
        } else if c.is_ascii_digit() {
            let mut seen_dot = false;
            let len = here
                .bytes()
                .take_while(|&b| {
                    if b == b'.' && !seen_dot {
                        seen_dot = true;
                        true
                    } else {
                        b.is_ascii_digit()
                    }
                })
                .count();
            let text = &here[..len];
            tokens.push(if seen_dot {
                Token::Float(text)
            } else {
                Token::Int(text)
            });
            len
        } else if c == b'_' || c.is_ascii_alphabetic() {
            let len = here
                .bytes()
                .take_while(|b| *b == b'_' || b.is_ascii_alphanumeric())
                .count();
            let word = &here[..len];
            tokens.push(match word {
                "true" | "True" | "false" | "False" => Token::Bool,
                _ => Token::Ident(word),
            });
            len
        } else if let Some(op) = OPS.iter().find(|op| here.starts_with(**op)) {
            tokens.push(Token::Op(op));
            op.len()
        } else {
            let ch = here.chars().next().unwrap_or_default();
            return Err((at, format!("unexpected character {ch:?}")));
        };
        at += len;
    }
}

/// tera 1 filters greenlight's tera 1 build had and tera 2 has not, with what tera 2 offers.
const TERA1_FILTERS: &[(&str, &str)] = &[
    ("trim_start_matches", "has `trim_start(pat=\"…\")`"),
    ("trim_end_matches", "has `trim_end(pat=\"…\")`"),
    ("linebreaksbr", "calls it `newlines_to_br`"),
    ("as_str", "calls it `str`"),
    ("slice", "slices with `x[start:end]`"),
    ("concat", "joins lists with `[...x, y]`"),
    ("map", "maps a list with `[x.field for x in xs]`"),
    (
        "filter",
        "filters a list with `[x for x in xs if x.field == v]`",
    ),
    (
        "json_encode",
        "has no JSON filter (greenlight's `yaml(indent=N)` writes maps and lists)",
    ),
    ("striptags", "has no such filter"),
    ("spaceless", "has no such filter"),
    ("addslashes", "has no such filter"),
];

/// tera 1 tests tera 2 has not.
const TERA1_TESTS: &[(&str, &str)] = &[
    ("divisibleby", "calls it `divisible_by(divisor=N)`"),
    ("object", "calls it `map`"),
    ("matching", "has no such test"),
];

/// tera 1 tags tera 2 has not.
const TERA1_TAGS: &[(&str, &str)] = &[
    ("macro", "has no macros (components replace them)"),
    ("endmacro", "has no macros (components replace them)"),
    (
        "import",
        "has no macros to import (components replace them)",
    ),
];

/// tera 1 functions tera 2 has not.
const TERA1_FUNCTIONS: &[(&str, &str)] = &[("get_env", "has no `get_env`")];

/// Syntax written for tera 1 that tera 2 refuses or reads differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tera1Note {
    /// The line it is on, 1-based.
    pub(crate) line: usize,
    /// What the template wrote, e.g. `| linebreaksbr`.
    pub(crate) found: String,
    /// What tera 2 does instead, e.g. "calls it `newlines_to_br`".
    pub(crate) instead: &'static str,
    /// Whether tera 2 accepts it with another meaning, rather than refusing it.
    pub(crate) silent: bool,
}

impl fmt::Display for Tera1Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: `{}` is tera 1 syntax; tera 2 {}",
            self.line, self.found, self.instead
        )
    }
}

/// The tera 1 syntax in template `source` that tera 2 refuses or reads differently, in
/// source order. Empty when the source does not lex (tera's own error says why).
pub(crate) fn tera1_notes(source: &str) -> Vec<Tera1Note> {
    let Ok(pieces) = pieces(source) else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for Located {
        line,
        source,
        piece,
    } in &pieces
    {
        let mut note = |found: String, instead: &'static str, silent: bool| {
            notes.push(Tera1Note {
                line: *line,
                found,
                instead,
                silent,
            })
        };
        let tokens = match piece {
            Piece::Output(tokens) => tokens.as_slice(),
            Piece::Tag(tokens) => {
                let instead = match tokens.as_slice() {
                    [Token::Ident("filter"), Token::Ident(name), ..] => lookup(TERA1_FILTERS, name),
                    [Token::Ident(tag), ..] => lookup(TERA1_TAGS, tag),
                    _ => None,
                };
                if let Some(instead) = instead {
                    note((*source).to_owned(), instead, false);
                }
                tokens.as_slice()
            }
            Piece::Text | Piece::Comment => continue,
        };
        for (i, token) in tokens.iter().enumerate() {
            let next = &tokens[i + 1..];
            match (token, next) {
                (Token::Op("|"), [Token::Ident(name), rest @ ..]) => {
                    if let Some(instead) = lookup(TERA1_FILTERS, name) {
                        note(format!("| {name}"), instead, false);
                    }
                    if *name == "indent" && keyword_args(rest).contains(&"prefix") {
                        note(
                            "indent(prefix=…)".to_owned(),
                            "indents by `indent(width=N)` spaces and ignores `prefix`",
                            true,
                        );
                    }
                }
                (Token::Ident("is"), rest) => {
                    let rest = match rest {
                        [Token::Ident("not"), rest @ ..] => rest,
                        rest => rest,
                    };
                    if let [Token::Ident(name), rest @ ..] = rest {
                        if let Some(instead) = lookup(TERA1_TESTS, name) {
                            note(format!("is {name}"), instead, false);
                        } else if matches!(rest, [Token::Op("("), ..])
                            && !matches!(
                                rest,
                                [_, Token::Ident(_), Token::Op("="), ..] | [_, Token::Op(")"), ..]
                            )
                        {
                            note(
                                format!("is {name}(…)"),
                                "names a test's arguments: `starting_with(pat=\"…\")`, \
                                 `ending_with(pat=\"…\")`, `containing(pat=…)`",
                                false,
                            );
                        }
                    }
                }
                (Token::Ident(name), [Token::Op("("), ..]) => {
                    if let Some(instead) = lookup(TERA1_FUNCTIONS, name) {
                        note(format!("{name}(…)"), instead, false);
                    }
                }
                (Token::Op("."), [Token::Int(index), ..]) => {
                    note(format!(".{index}"), "indexes a list with `x[0]`", false);
                }
                _ => {}
            }
        }
    }
    notes
}

/// What tera 2 offers instead of tera 1's `name`, if `name` is in `table`.
fn lookup(table: &[(&str, &'static str)], name: &str) -> Option<&'static str> {
    table.iter().find(|(n, _)| *n == name).map(|(_, i)| *i)
}

/// The keyword argument names of a call whose tokens start at its `(` (none without one).
fn keyword_args<'a>(tokens: &[Token<'a>]) -> Vec<&'a str> {
    let [Token::Op("("), rest @ ..] = tokens else {
        return Vec::new();
    };
    let mut depth = 0usize;
    let mut names = Vec::new();
    for (i, token) in rest.iter().enumerate() {
        match token {
            Token::Op("(" | "[" | "{") => depth += 1,
            Token::Op(")") if depth == 0 => break,
            Token::Op(")" | "]" | "}") => depth = depth.saturating_sub(1),
            Token::Ident(name) if depth == 0 && matches!(rest.get(i + 1), Some(Token::Op("="))) => {
                names.push(*name)
            }
            _ => {}
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_source_and_text_holds_no_delimiter() {
        for name in crate::render::Templates::names() {
            let source = crate::render::Templates::builtin_text(name).unwrap();
            let pieces = pieces(source).unwrap();
            let joined: String = pieces.iter().map(|p| p.source).collect();
            assert_eq!(joined, source, "{name}");
            for p in &pieces {
                if p.piece == Piece::Text {
                    assert!(
                        !["{{", "{%", "{#"].iter().any(|d| p.source.contains(d)),
                        "{name}: {:?}",
                        p.source
                    );
                }
            }
        }
    }

    #[test]
    fn pieces_carry_their_line_and_tokens() {
        let pieces = pieces("a\n{%- if x == \"%}\" -%}\n{{ y.z | q(n=1) }}{# c #}").unwrap();
        let summary: Vec<(usize, &str)> = pieces.iter().map(|p| (p.line, p.source)).collect();
        assert_eq!(
            summary,
            [
                (1, "a\n"),
                (2, "{%- if x == \"%}\" -%}"),
                (2, "\n"),
                (3, "{{ y.z | q(n=1) }}"),
                (3, "{# c #}"),
            ]
        );
        assert_eq!(
            pieces[1].piece,
            Piece::Tag(vec![
                Token::Ident("if"),
                Token::Ident("x"),
                Token::Op("=="),
                Token::Str("%}"),
            ])
        );
        assert_eq!(
            pieces[3].piece,
            Piece::Output(vec![
                Token::Ident("y"),
                Token::Op("."),
                Token::Ident("z"),
                Token::Op("|"),
                Token::Ident("q"),
                Token::Op("("),
                Token::Ident("n"),
                Token::Op("="),
                Token::Int("1"),
                Token::Op(")"),
            ])
        );
    }

    #[test]
    fn the_builtin_templates_use_no_tera1_syntax() {
        for name in crate::render::Templates::names() {
            let source = crate::render::Templates::builtin_text(name).unwrap();
            assert_eq!(tera1_notes(source), [], "{name}");
        }
    }

    #[test]
    fn tera1_syntax_is_named_with_what_tera2_expects() {
        let source = "a: {{ x | linebreaksbr }}\n\
                      {% if n is divisibleby(3) %}{% endif %}\n\
                      {% if s is starting_with(\"a\") %}{% endif %}\n\
                      {% macro m() %}{% endmacro m %}\n\
                      {{ l.0 | q }} {{ get_env(name=\"HOME\") }}\n\
                      {{ y | yaml | indent(prefix=\"  \") | safe }}\n\
                      {% filter spaceless %}{% endfilter %}\n";
        let notes: Vec<String> = tera1_notes(source)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            notes,
            [
                "line 1: `| linebreaksbr` is tera 1 syntax; tera 2 calls it `newlines_to_br`",
                "line 2: `is divisibleby` is tera 1 syntax; tera 2 calls it `divisible_by(divisor=N)`",
                "line 3: `is starting_with(…)` is tera 1 syntax; tera 2 names a test's arguments: \
                 `starting_with(pat=\"…\")`, `ending_with(pat=\"…\")`, `containing(pat=…)`",
                "line 4: `{% macro m() %}` is tera 1 syntax; tera 2 has no macros (components replace \
                 them)",
                "line 4: `{% endmacro m %}` is tera 1 syntax; tera 2 has no macros (components \
                 replace them)",
                "line 5: `.0` is tera 1 syntax; tera 2 indexes a list with `x[0]`",
                "line 5: `get_env(…)` is tera 1 syntax; tera 2 has no `get_env`",
                "line 6: `indent(prefix=…)` is tera 1 syntax; tera 2 indents by `indent(width=N)` \
                 spaces and ignores `prefix`",
                "line 7: `{% filter spaceless %}` is tera 1 syntax; tera 2 has no such filter",
            ]
        );
        let silent: Vec<bool> = tera1_notes(source).iter().map(|n| n.silent).collect();
        assert_eq!(
            silent.iter().filter(|s| **s).count(),
            1,
            "only `indent(prefix=…)`"
        );
    }

    #[test]
    fn tera2_syntax_gets_no_notes() {
        let source =
            "{% if s is starting_with(pat=\"a\") %}{{ s | trim_start(pat=\"a\") }}{% endif %}\n\
                      {% if n is divisible_by(divisor=3) %}{{ l[0] | q }}{% endif %}\n\
                      {% if m is map and n is defined and not (x is undefined) %}{% endif %}\n\
                      {{ y | indent(width=2) }} {{ \"| slice\" }} {# | concat #}\n";
        assert_eq!(tera1_notes(source), []);
    }
}
