//! The quoting lint of the built-in templates (test code only): every `{{ … }}` must be a
//! variable ending in one of greenlight's quoting filters, or an allowlisted integer variable.
//!
//! It reads each template with [`super::syntax`] (tera's own syntax tree is private) and parses
//! each output expression with a grammar that accepts only the allowed forms. It reads the
//! whole source, so the bodies of `{% if %}` and `{% for %}` are checked like the top level.
//! It errs on the strict side: a construct it does not know (another tag, an operator, a
//! literal, a second filter) is a problem, never skipped. It decides nothing at run time:
//! autoescaping and the output check do that.

use super::syntax::{pieces, Located, Piece, Token};

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
}
