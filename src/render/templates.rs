//! The template set: the built-in templates embedded from the project's `templates/` folder,
//! optionally replaced one by one by a managed repository's overrides, parsed once by tera.
//! It reads no files itself: the caller hands over the override texts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::error::{flatten_chain, RenderError};
use super::quote;

/// The built-in templates, by name, embedded at compile time.
const BUILTIN: &[(&str, &str)] = &[
    (
        "argocd-application.yaml.tera",
        include_str!("../../templates/argocd-application.yaml.tera"),
    ),
    (
        "configmap.yaml.tera",
        include_str!("../../templates/configmap.yaml.tera"),
    ),
    (
        "deployment.yaml.tera",
        include_str!("../../templates/deployment.yaml.tera"),
    ),
    (
        "flux-alert.yaml.tera",
        include_str!("../../templates/flux-alert.yaml.tera"),
    ),
    (
        "flux-kustomization.yaml.tera",
        include_str!("../../templates/flux-kustomization.yaml.tera"),
    ),
    (
        "flux-provider.yaml.tera",
        include_str!("../../templates/flux-provider.yaml.tera"),
    ),
    (
        "httproute.yaml.tera",
        include_str!("../../templates/httproute.yaml.tera"),
    ),
    (
        "ingress.yaml.tera",
        include_str!("../../templates/ingress.yaml.tera"),
    ),
    (
        "istio-destinationrule.yaml.tera",
        include_str!("../../templates/istio-destinationrule.yaml.tera"),
    ),
    (
        "istio-gateway.yaml.tera",
        include_str!("../../templates/istio-gateway.yaml.tera"),
    ),
    (
        "istio-virtualservice.yaml.tera",
        include_str!("../../templates/istio-virtualservice.yaml.tera"),
    ),
    (
        "kustomization.yaml.tera",
        include_str!("../../templates/kustomization.yaml.tera"),
    ),
    (
        "service.yaml.tera",
        include_str!("../../templates/service.yaml.tera"),
    ),
];

/// Every template name, sorted; the same names as [`BUILTIN`].
const NAMES: &[&str] = &[
    "argocd-application.yaml.tera",
    "configmap.yaml.tera",
    "deployment.yaml.tera",
    "flux-alert.yaml.tera",
    "flux-kustomization.yaml.tera",
    "flux-provider.yaml.tera",
    "httproute.yaml.tera",
    "ingress.yaml.tera",
    "istio-destinationrule.yaml.tera",
    "istio-gateway.yaml.tera",
    "istio-virtualservice.yaml.tera",
    "kustomization.yaml.tera",
    "service.yaml.tera",
];

/// Suffix on which tera autoescapes with the YAML quoting function.
const AUTOESCAPE_SUFFIX: &str = ".yaml.tera";

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

/// A template set, reused for many renders. Each template is parsed by tera once, when it is
/// first rendered: a command pays only for the templates its routing mode uses (parsing is
/// most of a one-environment render). Overrides are parsed at once, so a broken one is
/// reported even when no environment uses it.
#[derive(Debug, Clone)]
pub struct Templates {
    slots: Vec<Slot>,
    overridden: BTreeSet<String>,
}

#[derive(Debug, Clone)]
struct Slot {
    name: &'static str,
    parsed: std::sync::OnceLock<tera::Tera>,
}

impl Templates {
    /// The built-in templates.
    pub fn builtin() -> Templates {
        Templates {
            slots: BUILTIN
                .iter()
                .map(|(name, _)| Slot {
                    name,
                    parsed: std::sync::OnceLock::new(),
                })
                .collect(),
            overridden: BTreeSet::new(),
        }
    }

    /// The built-in templates with some replaced by `overrides` (name, e.g.
    /// `deployment.yaml.tera` → text). Errors on a name that is not in [`Templates::names`]
    /// and on a template that does not parse (naming the template and line).
    pub fn with_overrides(overrides: BTreeMap<String, String>) -> Result<Templates, RenderError> {
        for name in overrides.keys() {
            if !NAMES.contains(&name.as_str()) {
                return Err(RenderError::UnknownTemplate {
                    name: name.clone(),
                    suggestion: closest(name),
                    known: NAMES.to_vec(),
                });
            }
        }
        let mut templates = Templates::builtin();
        for slot in &mut templates.slots {
            if let Some(text) = overrides.get(slot.name) {
                let tera = parse(slot.name, text, TemplateSource::Override)?;
                slot.parsed = std::sync::OnceLock::from(tera);
            }
        }
        templates.overridden = overrides.into_keys().collect();
        Ok(templates)
    }

    /// Whether template `name` is built in or overridden. Names that are not in
    /// [`Templates::names`] report [`TemplateSource::Builtin`].
    pub fn source_of(&self, name: &str) -> TemplateSource {
        if self.overridden.contains(name) {
            TemplateSource::Override
        } else {
            TemplateSource::Builtin
        }
    }

    /// The names of all templates, sorted: the file names an override must use.
    pub fn names() -> &'static [&'static str] {
        NAMES
    }

    /// The text of built-in template `name`, if there is one.
    pub fn builtin_text(name: &str) -> Option<&'static str> {
        BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// The tera instance holding template `name`, parsed on first use. Panics on a name that
    /// is not in [`Templates::names`] (the renderer only uses known names) and on a built-in
    /// template that does not parse (the unit tests parse every one).
    pub(crate) fn tera(&self, name: &str) -> &tera::Tera {
        let slot = self
            .slots
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} is not a greenlight template"));
        // Only built-in templates are left to initialise: overrides are parsed up front.
        slot.parsed.get_or_init(|| prebuilt_tera(slot.name))
    }
}

/// The syntax trees of the built-in templates, generated at build time by `build.rs` from
/// the same files as [`BUILTIN`], so that no render parses them (`prebuilt_trees_are_what_tera_parses`
/// checks they are identical to tera's own parse).
#[allow(clippy::all, clippy::pedantic, unused_imports)]
mod prebuilt {
    use std::collections::HashMap;
    use tera::ast::*;
    include!(concat!(env!("OUT_DIR"), "/builtin_templates.rs"));
}

/// A tera instance with greenlight's filters and YAML autoescaping, and no template yet.
fn new_tera() -> tera::Tera {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![AUTOESCAPE_SUFFIX]);
    tera.set_escape_fn(quote::escape);
    tera.register_filter("q", quote::Q);
    tera.register_filter("qkey", quote::QKey);
    tera
}

/// Built-in template `name` in its own tera instance, from its prebuilt syntax tree. The tree
/// is what `tera::Template::new` would produce; build.rs refuses built-in templates with
/// macros, blocks or `extends`, so those parts of the template stay empty.
fn prebuilt_tera(name: &str) -> tera::Tera {
    let ast = prebuilt::ast(name).unwrap_or_else(|| {
        panic!("{name} has no prebuilt syntax tree (build.rs makes one per file)")
    });
    let mut tera = new_tera();
    tera.templates.insert(
        name.to_owned(),
        tera::Template {
            name: name.to_owned(),
            path: None,
            ast,
            from_extend: false,
            macros: Default::default(),
            imported_macro_files: Vec::new(),
            parent: None,
            blocks: Default::default(),
            parents: Vec::new(),
            blocks_definitions: Default::default(),
        },
    );
    tera.build_inheritance_chains()
        .expect("a template without parents has an inheritance chain");
    tera
}

/// Parse one template into its own tera instance with greenlight's filters and YAML
/// autoescaping.
fn parse(name: &str, text: &str, origin: TemplateSource) -> Result<tera::Tera, RenderError> {
    let mut tera = new_tera();
    tera.add_raw_template(name, text)
        .map_err(|e| RenderError::Template {
            template: name.to_owned(),
            origin,
            cause: flatten_chain(&e),
        })?;
    Ok(tera)
}

/// The known template name closest to `name`, if it is plausibly a typo of it.
fn closest(name: &str) -> Option<String> {
    NAMES
        .iter()
        .map(|known| (strsim::jaro_winkler(name, known), *known))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, known)| known.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_builtin_list() {
        let builtin: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        assert_eq!(builtin, NAMES);
        assert!(NAMES.windows(2).all(|w| w[0] < w[1]), "sorted");
        assert!(NAMES.iter().all(|n| n.ends_with(AUTOESCAPE_SUFFIX)));
    }

    #[test]
    fn prebuilt_trees_are_what_tera_parses() {
        for (name, text) in BUILTIN {
            let parsed = tera::Template::new(name, None, text).unwrap();
            assert_eq!(
                prebuilt::ast(name).as_ref(),
                Some(&parsed.ast),
                "{name}: the tree build.rs generated differs from tera's parse"
            );
            assert!(parsed.macros.is_empty() && parsed.blocks.is_empty());
            let tera = prebuilt_tera(name);
            let template = tera.get_template(name).unwrap();
            assert_eq!(template.parents, parsed.parents);
            assert!(template.blocks_definitions.is_empty());
        }
        assert_eq!(prebuilt::ast("nope.yaml.tera"), None);
    }

    #[test]
    fn builtin_templates_parse_and_report_builtin() {
        let t = Templates::builtin();
        for name in Templates::names() {
            assert!(t.tera(name).get_template(name).is_ok());
            assert_eq!(t.source_of(name), TemplateSource::Builtin);
            assert!(Templates::builtin_text(name).is_some());
        }
    }

    #[test]
    fn override_is_used_and_reported() {
        let t = Templates::with_overrides(BTreeMap::from([(
            "service.yaml.tera".to_owned(),
            "kind: Service\n".to_owned(),
        )]))
        .unwrap();
        assert_eq!(t.source_of("service.yaml.tera"), TemplateSource::Override);
        assert_eq!(t.source_of("deployment.yaml.tera"), TemplateSource::Builtin);
        let out = t
            .tera("service.yaml.tera")
            .render("service.yaml.tera", &tera::Context::new())
            .unwrap();
        assert_eq!(out, "kind: Service\n");
    }

    #[test]
    fn unknown_override_is_an_error_listing_known_names() {
        let err = Templates::with_overrides(BTreeMap::from([(
            "deploymnet.yaml.tera".to_owned(),
            String::new(),
        )]))
        .unwrap_err();
        match &err {
            RenderError::UnknownTemplate {
                name,
                suggestion,
                known,
            } => {
                assert_eq!(name, "deploymnet.yaml.tera");
                assert_eq!(suggestion.as_deref(), Some("deployment.yaml.tera"));
                assert_eq!(known, &NAMES.to_vec());
            }
            other => panic!("unexpected error {other:?}"),
        }
        let err =
            Templates::with_overrides(BTreeMap::from([("README.md".to_owned(), String::new())]))
                .unwrap_err();
        assert!(
            matches!(
                &err,
                RenderError::UnknownTemplate {
                    suggestion: None,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn syntax_error_names_template_and_line() {
        let err = Templates::with_overrides(BTreeMap::from([(
            "ingress.yaml.tera".to_owned(),
            "kind: Ingress\nmetadata:\n  name: {{ app | q }\n".to_owned(),
        )]))
        .unwrap_err();
        match &err {
            RenderError::Template {
                template,
                origin,
                cause,
            } => {
                assert_eq!(template, "ingress.yaml.tera");
                assert_eq!(*origin, TemplateSource::Override);
                assert!(cause.contains("3:"), "line number in {cause}");
            }
            other => panic!("unexpected error {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("ingress.yaml.tera"), "{text}");
        assert!(text.contains("templates/ folder"), "{text}");
    }

    #[test]
    fn unfiltered_strings_are_autoescaped_even_in_overrides() {
        let t = Templates::with_overrides(BTreeMap::from([(
            "service.yaml.tera".to_owned(),
            "name: {{ app }}\nport: {{ port }}\nkey: {{ app | qkey }}\n".to_owned(),
        )]))
        .unwrap();
        let mut ctx = tera::Context::new();
        ctx.insert("app", "x\nkind: Secret");
        ctx.insert("port", &80);
        let out = t
            .tera("service.yaml.tera")
            .render("service.yaml.tera", &ctx)
            .unwrap();
        assert_eq!(
            out,
            "name: \"x\\nkind: Secret\"\nport: 80\nkey: \"x\\nkind: Secret\"\n"
        );
    }
}
