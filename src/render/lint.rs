//! The quoting lint of the built-in templates (test code only): every `{{ … }}` must be a
//! variable ending in one of greenlight's quoting filters, or an allowlisted integer variable.
//!
//! tera 2 keeps its syntax tree private, so this module reads a template's source the way
//! tera's lexer does (the default delimiters, `-` whitespace control, comments that end at the
//! first `#}`, string literals with backslash escapes inside `{{ }}` and `{% %}`) into text,
//! comments, output expressions and tags, and parses each output expression with a grammar
//! that accepts only the allowed forms. It reads the whole source, so the bodies of `{% if %}`
//! and `{% for %}` are checked like the top level. It errs on the strict side: a construct it
//! does not know (another tag, an operator, a literal, a second filter) is a problem, never
//! skipped. It decides nothing at run time: autoescaping and the output check do that.

/// One lexical token inside `{{ … }}` or `{% … %}`.
#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Ident(&'a str),
    Int(&'a str),
    Float(&'a str),
    Str(&'a str),
    Bool,
    /// An operator or punctuation, as written (`.`, `|`, `(`, `==`, `?.`, …).
    Op(&'a str),
}

/// A piece of template source.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
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
struct Located<'a> {
    line: usize,
    source: &'a str,
    piece: Piece<'a>,
}

/// Operators tera's lexer reads as one token, longest first.
const OPS: &[&str] = &[
    "...", "//", "**", "==", "!=", ">=", "<=", "</", "?.", "?[", "+", "-", "*", "/", "%", "!", ".",
    ",", ":", "~", "|", "=", ">", "<", "(", ")", "[", "]", "{", "}", "@",
];

/// Split `source` into pieces. Errors (with the line) on what tera would refuse to lex: an
/// unclosed `{{`, `{%`, `{#` or string, or a character that starts no token.
fn pieces(source: &str) -> Result<Vec<Located<'_>>, String> {
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

/// The tags the built-in templates use: none of them prints anything itself.
const TAGS: &[&str] = &["if", "elif", "else", "endif", "for", "endfor"];

/// What one output expression is, when the lint allows it.
enum Allowed {
    /// A variable ending in a quoting filter.
    Quoted,
    /// A bare variable (allowed only when allowlisted as an integer).
    Bare(String),
}

/// Parse an output expression: `path`, `path | q`, `path | qkey`, or `path | yaml` /
/// `path | qtext`, each optionally with `(indent=N)`. `None` for anything else.
fn output(tokens: &[Token<'_>]) -> Option<Allowed> {
    let mut path = Vec::new();
    let mut rest = tokens;
    loop {
        match rest {
            [Token::Ident(name), tail @ ..] => {
                path.push(*name);
                rest = tail;
            }
            _ => return None,
        }
        match rest {
            [Token::Op("."), tail @ ..] => rest = tail,
            _ => break,
        }
    }
    match rest {
        [] => Some(Allowed::Bare(path.join("."))),
        [Token::Op("|"), Token::Ident("q" | "qkey")] => Some(Allowed::Quoted),
        [Token::Op("|"), Token::Ident("yaml" | "qtext")] => Some(Allowed::Quoted),
        [Token::Op("|"), Token::Ident("yaml" | "qtext"), Token::Op("("), args @ .., Token::Op(")")] => {
            indent_only(args).then_some(Allowed::Quoted)
        }
        _ => None,
    }
}

/// Whether filter arguments are exactly `indent=<integer>`.
fn indent_only(args: &[Token<'_>]) -> bool {
    matches!(
        args,
        [Token::Ident("indent"), Token::Op("="), Token::Int(_)]
    )
}

/// The outcome of linting templates.
#[derive(Debug, Default)]
pub(crate) struct Lint {
    /// Every expression or tag that breaks the rule, with template and line.
    pub(crate) problems: Vec<String>,
    /// The bare variables that were printed (each allowlisted).
    pub(crate) used: Vec<String>,
}

impl Lint {
    /// Lint template `name` with text `source`; `integers` are the variables that may be
    /// printed bare.
    pub(crate) fn template(&mut self, name: &str, source: &str, integers: &[&str]) {
        let pieces = match pieces(source) {
            Ok(p) => p,
            Err(e) => {
                self.problems.push(format!("{name}: {e}"));
                return;
            }
        };
        for Located {
            line,
            source,
            piece,
        } in pieces
        {
            match piece {
                Piece::Text | Piece::Comment => {}
                Piece::Output(tokens) => match output(&tokens) {
                    Some(Allowed::Quoted) => {}
                    Some(Allowed::Bare(path)) if integers.contains(&path.as_str()) => {
                        self.used.push(path);
                    }
                    _ => self.problems.push(format!(
                        "{name}:{line}: `{source}` must be a variable ending in `| q`, \
                         `| qkey`, `| qtext(indent=N)` or `| yaml(indent=N)`, or an \
                         allowlisted integer variable"
                    )),
                },
                Piece::Tag(tokens) => match tokens.first() {
                    Some(Token::Ident(tag)) if TAGS.contains(tag) => {}
                    _ => self.problems.push(format!(
                        "{name}:{line}: `{source}` is not a tag the built-in templates use \
                         ({}); extend this lint before using it",
                        TAGS.join(", ")
                    )),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTEGERS: &[&str] = &["service.port"];

    fn problems(source: &str) -> Vec<String> {
        let mut lint = Lint::default();
        lint.template("t", source, INTEGERS);
        lint.problems
    }

    #[test]
    fn quoted_variables_and_allowlisted_integers_pass() {
        let source = "a: {{ app | q }}\n{{ key | qkey }}: {{- x.y | q -}}\n\
                      b: {{ deployment.pod | yaml(indent=6) }}\n\
                      c: {{ text | qtext(indent=2) }}\n\
                      d: {{ list | yaml }}\n\
                      port: {{ service.port }}\n";
        assert_eq!(problems(source), Vec::<String>::new());
        let mut lint = Lint::default();
        lint.template("t", source, INTEGERS);
        assert_eq!(lint.used, ["service.port"]);
    }

    #[test]
    fn an_unquoted_variable_is_caught_at_its_line() {
        let p = problems("a: {{ app | q }}\nb: {{ app }}\n");
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(p[0].starts_with("t:2: `{{ app }}` must be"), "{p:#?}");
    }

    #[test]
    fn unquoted_variables_inside_if_and_for_bodies_are_caught() {
        let p = problems(
            "{% if a %}\n  x: {{ a }}\n{%- elif b %}\n  {{ b | q }}\n{% else %}{{ c.d }}{% endif %}\n\
             {%- for k, v in m %}\n  {{ k | qkey }}: {{ v }}\n{%- else %}{{ e }}{% endfor %}\n",
        );
        let lines: Vec<&str> = p.iter().map(|p| &p[..p.find(' ').unwrap()]).collect();
        assert_eq!(lines, ["t:2:", "t:5:", "t:7:", "t:8:"], "{p:#?}");
    }

    #[test]
    fn anything_but_a_plain_variable_with_one_quoting_filter_is_refused() {
        for expression in [
            "{{ app | upper }}",
            "{{ app | safe }}",
            "{{ app | q | safe }}",
            "{{ app | upper | q }}",
            "{{ app | q(x=1) }}",
            "{{ app | yaml(indent=\"2\") }}",
            "{{ app | yaml(indent=2, other=1) }}",
            "{{ app | qtext(indent=n) }}",
            "{{ app ~ other | q }}",
            "{{ \"literal\" }}",
            "{{ 80 }}",
            "{{ true }}",
            "{{ app[0] | q }}",
            "{{ app?.name | q }}",
            "{{ not app }}",
            "{{ -service.port }}",
            "{{ service.port + 1 }}",
            "{{ app if a else b }}",
            "{{ f() }}",
            "{{ [app] | q }}",
            "{{<button label=\"x\"/>}}",
            "{{ }}",
            "{{ service . port . x }}",
        ] {
            assert_eq!(
                problems(expression).len(),
                1,
                "{expression} must be refused"
            );
        }
    }

    #[test]
    fn tags_other_than_if_and_for_are_refused() {
        for tag in [
            "{% set x = app %}",
            "{% include \"other\" %}",
            "{% raw %}{{ app }}{% endraw %}",
            "{% filter upper %}x{% endfilter %}",
            "{% block b %}{% endblock %}",
            "{% extends \"base\" %}",
            "{% <component> %}x{% </component> %}",
            "{% break %}",
            "{%  %}",
        ] {
            assert!(!problems(tag).is_empty(), "{tag} must be refused");
        }
    }

    #[test]
    fn delimiters_inside_strings_and_comments_are_read_as_tera_reads_them() {
        // A `%}` inside a string does not end the tag, so the `{{ app }}` after it is seen.
        assert_eq!(
            problems("{% if a == \"%}\" %}{{ app }}{% endif %}").len(),
            1
        );
        // An escaped quote does not end the string.
        assert_eq!(
            problems("{% if a == \"\\\"%}\" %}{{ app }}{% endif %}").len(),
            1
        );
        assert_eq!(
            problems("{% if a == '}}' %}{{ app | q }}{% endif %}"),
            [""; 0]
        );
        // A comment ends at its first `#}`: what follows is read again.
        assert_eq!(problems("{# {{ app }} #}").len(), 0);
        assert_eq!(problems("{#- a #} {{ app }} #}").len(), 1);
        // `}}` ends an output expression even after a `{`, as in tera's lexer.
        assert_eq!(problems("{{ {\"a\": app} }}").len(), 1);
    }

    #[test]
    fn unclosed_delimiters_and_strings_are_problems() {
        for source in [
            "a: {{ app | q }",
            "{% if a %",
            "{# comment",
            "{% if a == \"x %}",
            "{{ app $ }}",
        ] {
            let p = problems(source);
            assert_eq!(p.len(), 1, "{source}: {p:#?}");
            assert!(p[0].starts_with("t: line 1:"), "{p:#?}");
        }
    }

    #[test]
    fn pieces_cover_the_source_and_text_holds_no_delimiter() {
        let source = include_str!("../../templates/deployment.yaml.tera");
        let pieces = pieces(source).unwrap();
        let joined: String = pieces.iter().map(|p| p.source).collect();
        assert_eq!(joined, source);
        for p in &pieces {
            if p.piece == Piece::Text {
                assert!(
                    !["{{", "{%", "{#"].iter().any(|d| p.source.contains(d)),
                    "{:?}",
                    p.source
                );
            }
        }
        let outputs = pieces
            .iter()
            .filter(|p| matches!(p.piece, Piece::Output(_)))
            .count();
        assert_eq!(outputs, source.matches("{{").count());
    }
}
