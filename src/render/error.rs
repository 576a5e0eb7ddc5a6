//! The errors of rendering: template problems and output that fails its checks (values are
//! not checked here: `values::parse` is their one check). Each variant carries the data a caller needs to report it; the
//! messages say what was wrong, where, and what to do. It also names where a template came
//! from ([`TemplateSource`]), because that decides the hint. A leaf: it imports nothing else
//! from `render`.

use std::fmt;

/// Where a template's text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateSource {
    /// Built into greenlight.
    Builtin,
    /// From the managed repository's `templates/` folder.
    Override,
}

impl TemplateSource {
    /// What the user should do about an error in a template of this origin.
    pub(crate) fn fix_hint(self) -> &'static str {
        match self {
            TemplateSource::Builtin => {
                "hint: this is a built-in template; please report it as a greenlight bug"
            }
            TemplateSource::Override => {
                "hint: fix the override in the repository's templates/ folder, or delete it to \
                 use the built-in template"
            }
        }
    }
}

impl fmt::Display for TemplateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TemplateSource::Builtin => "built-in",
            TemplateSource::Override => "override from templates/",
        })
    }
}

/// Why rendering failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A template failed to parse or to render.
    #[error("template `{template}` ({origin}): {cause}\n{hint}", hint = origin.fix_hint())]
    Template {
        /// The template's name, e.g. `deployment.yaml.tera`.
        template: String,
        /// Whether it is the built-in template or a repository override.
        origin: TemplateSource,
        /// tera's message chain flattened into one text, innermost cause last.
        cause: String,
    },

    /// An override names a template greenlight does not have.
    #[error(
        "templates/{name} does not override any built-in template{did_you_mean}; \
         the templates that can be overridden are: {known}. Rename or remove the file",
        did_you_mean = did_you_mean(suggestion.as_deref()),
        known = known.join(", ")
    )]
    UnknownTemplate {
        /// The name that was given.
        name: String,
        /// The closest known name, if one is close.
        suggestion: Option<String>,
        /// Every template name that can be overridden.
        known: Vec<&'static str>,
    },

    /// A rendered file is not the one Kubernetes object its name promises.
    #[error("rendered file `{file}`, document {document}: {problem}")]
    OutputCheck {
        /// The rendered file's name.
        file: String,
        /// 1-based index of the YAML document the problem is in.
        document: usize,
        /// What is missing or invalid.
        problem: OutputProblem,
    },

    /// A template rendered something that is not the object its file promises.
    #[error("template `{template}` ({origin}) rendered an invalid file: {problem}\n{hint}", hint = origin.fix_hint())]
    TemplateOutput {
        /// The template file name.
        template: String,
        /// Built-in or override.
        origin: TemplateSource,
        /// The output problem ([`RenderError::OutputCheck`]).
        problem: Box<RenderError>,
    },

    /// Values lack the block their routing mode renders from: they did not come through
    /// `values::parse`, which requires it.
    #[error("values of `routing: {routing}` have no `{block}` block (values::parse requires one)")]
    MissingBlock {
        /// The block, e.g. `istio`.
        block: &'static str,
        /// The routing mode.
        routing: crate::values::Routing,
    },
}

/// What is wrong with one rendered document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputProblem {
    /// The text is not valid YAML.
    NotYaml {
        /// The YAML parser's message.
        message: String,
    },
    /// The file holds a number of documents other than one.
    DocumentCount {
        /// How many documents were found.
        found: usize,
    },
    /// The document is empty or not a mapping.
    NotAMapping,
    /// A required field is absent, null or not a string.
    MissingField {
        /// Dotted path of the field, e.g. `metadata.name`.
        field: &'static str,
    },
    /// A field has another value than the file name promises.
    Mismatch {
        /// Dotted path of the field.
        field: &'static str,
        /// The value the file name or values call for.
        expected: String,
        /// The rendered value.
        found: String,
    },
    /// A string holds a character that kustomize (and so Flux and Argo CD) cannot process:
    /// DEL, a C1 control other than NEL, U+FFFE or U+FFFF.
    UnportableCharacter {
        /// Where the string is, e.g. `metadata.annotations.note`.
        path: String,
        /// The character.
        character: char,
    },
    /// The kustomization's `resources` are not exactly the other rendered files.
    KustomizationResources {
        /// Rendered files it does not list.
        missing: Vec<String>,
        /// Listed entries that were not rendered.
        unexpected: Vec<String>,
    },
}

impl fmt::Display for OutputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputProblem::NotYaml { message } => write!(f, "not valid YAML: {message}"),
            OutputProblem::DocumentCount { found } => write!(
                f,
                "expected exactly one YAML document, found {found} (a template must output \
                 exactly one object per file)"
            ),
            OutputProblem::NotAMapping => {
                f.write_str("the document is empty or not a YAML mapping")
            }
            OutputProblem::MissingField { field } => {
                write!(f, "`{field}` is missing or not a string")
            }
            OutputProblem::Mismatch {
                field,
                expected,
                found,
            } => write!(f, "`{field}` is `{found}`, expected `{expected}`"),
            OutputProblem::UnportableCharacter { path, character } => write!(
                f,
                "`{path}` contains the character U+{:04X}, which kustomize (and so Flux and \
                 Argo CD) cannot process; remove it from the value in values.yaml",
                u32::from(*character)
            ),
            OutputProblem::KustomizationResources {
                missing,
                unexpected,
            } => {
                f.write_str("`resources` must list exactly the other rendered files")?;
                if !missing.is_empty() {
                    write!(f, "; not listed: {}", missing.join(", "))?;
                }
                if !unexpected.is_empty() {
                    write!(f, "; listed but not rendered: {}", unexpected.join(", "))?;
                }
                Ok(())
            }
        }
    }
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_template_lists_known_names_and_suggests() {
        let e = RenderError::UnknownTemplate {
            name: "deploy.yaml.tera".into(),
            suggestion: Some("deployment.yaml.tera".into()),
            known: vec!["deployment.yaml.tera", "service.yaml.tera"],
        };
        let text = e.to_string();
        assert!(text.contains("templates/deploy.yaml.tera"), "{text}");
        assert!(
            text.contains("did you mean `deployment.yaml.tera`"),
            "{text}"
        );
        assert!(
            text.contains("deployment.yaml.tera, service.yaml.tera"),
            "{text}"
        );
    }
}
