//! The template set: the built-in templates embedded from the project's `templates/` folder,
//! optionally replaced one by one by a managed repository's overrides, each parsed once by
//! tera through its public API (`Tera::add_raw_template`), built-in and override alike, and
//! rendered here so that every tera error leaves this module naming its template. An override
//! written for tera 1 gets notes saying what tera 2 expects instead (`syntax::tera1_notes`),
//! and is refused where tera 2 would read it differently. It reads no files itself: the caller
//! hands over the override texts.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use super::error::{RenderError, TemplateSource};
use super::{quote, syntax};

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
        "hpa.yaml.tera",
        include_str!("../../templates/hpa.yaml.tera"),
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
        "networkpolicy.yaml.tera",
        include_str!("../../templates/networkpolicy.yaml.tera"),
    ),
    (
        "pdb.yaml.tera",
        include_str!("../../templates/pdb.yaml.tera"),
    ),
    (
        "service.yaml.tera",
        include_str!("../../templates/service.yaml.tera"),
    ),
    (
        "serviceaccount.yaml.tera",
        include_str!("../../templates/serviceaccount.yaml.tera"),
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
    "hpa.yaml.tera",
    "httproute.yaml.tera",
    "ingress.yaml.tera",
    "istio-destinationrule.yaml.tera",
    "istio-gateway.yaml.tera",
    "istio-virtualservice.yaml.tera",
    "kustomization.yaml.tera",
    "networkpolicy.yaml.tera",
    "pdb.yaml.tera",
    "service.yaml.tera",
    "serviceaccount.yaml.tera",
];

/// Suffix on which tera autoescapes with the YAML quoting function.
const AUTOESCAPE_SUFFIX: &str = ".yaml.tera";

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
    /// The built-in text, parsed on first use unless an override replaced it.
    builtin: &'static str,
    /// The parsed template, or why it does not parse. Set at once for an override, on first
    /// use for a built-in template.
    parsed: OnceLock<Result<tera::Tera, RenderError>>,
}

impl Templates {
    /// The built-in templates.
    pub fn builtin() -> Templates {
        Templates {
            slots: BUILTIN
                .iter()
                .map(|(name, builtin)| Slot {
                    name,
                    builtin,
                    parsed: OnceLock::new(),
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
                slot.parsed = OnceLock::from(Ok(tera));
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

    /// Render template `name` with `context`. Errors name the template and whether it is
    /// built in or an override, with tera's innermost cause. Panics on a name that is not in
    /// [`Templates::names`]: the renderer only uses known names.
    pub(crate) fn render(
        &self,
        name: &str,
        context: &tera::Context,
    ) -> Result<String, RenderError> {
        let origin = self.source_of(name);
        self.load(name)?
            .render(&tera_name(name, origin), context)
            .map_err(|e| RenderError::Template {
                template: name.to_owned(),
                origin,
                cause: flatten_chain(&e),
                tera1: Vec::new(),
            })
    }

    /// The tera instance holding template `name`, parsing a built-in template on first use
    /// (from any thread: `render --all` shares one set). A built-in template that does not
    /// parse is a [`RenderError::Template`] like a broken override, every time it is asked for.
    fn load(&self, name: &str) -> Result<&tera::Tera, RenderError> {
        let slot = self
            .slots
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} is not a greenlight template"));
        slot.parsed
            .get_or_init(|| parse(slot.name, slot.builtin, TemplateSource::Builtin))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The name tera knows template `name` by, which its messages show before line and column:
/// an override's path in the repository (`templates/service.yaml.tera`), a built-in
/// template's own name. Both end in [`AUTOESCAPE_SUFFIX`].
fn tera_name(name: &str, origin: TemplateSource) -> Cow<'_, str> {
    match origin {
        TemplateSource::Builtin => Cow::Borrowed(name),
        TemplateSource::Override => Cow::Owned(format!("templates/{name}")),
    }
}

/// A tera instance with greenlight's filters and YAML autoescaping, holding template `name`
/// parsed from `text`. Built-in templates and overrides both come through here.
fn parse(name: &str, text: &str, origin: TemplateSource) -> Result<tera::Tera, RenderError> {
    // Set up once and copied per template: registering tera's built-in filters, tests and
    // functions costs more than copying the tables they fill.
    static CONFIGURED: OnceLock<tera::Tera> = OnceLock::new();
    let mut tera = CONFIGURED
        .get_or_init(|| {
            let mut tera = tera::Tera::new();
            tera.autoescape_on([AUTOESCAPE_SUFFIX]);
            tera.set_escape_fn(quote::escape);
            tera.register_filter("q", quote::q);
            tera.register_filter("qkey", quote::qkey);
            tera.register_filter("qtext", quote::qtext);
            tera.register_filter("yaml", quote::yaml);
            tera
        })
        .clone();
    let path = tera_name(name, origin);
    let parsed = tera.add_raw_template(&path, text);
    // An override may be written for tera 1: say what tera 2 expects instead, when tera
    // refuses it or when tera would read it differently (then it is refused here).
    let notes = match origin {
        TemplateSource::Override => syntax::tera1_notes(text),
        TemplateSource::Builtin => Vec::new(),
    };
    let cause = match parsed {
        Err(e) => flatten_chain(&e),
        Ok(()) => match notes.iter().find(|n| n.silent) {
            Some(silent) => format!(
                "written for tera 1, and tera 2, which greenlight renders with, would read it \
                 differently\n --> {path}:{}",
                silent.line
            ),
            None => return Ok(tera),
        },
    };
    Err(RenderError::Template {
        template: name.to_owned(),
        origin,
        cause,
        tera1: notes.iter().map(ToString::to_string).collect(),
    })
}

/// Flatten an error and its `source()` chain into one text, outermost first, so the real cause
/// (often the innermost) is shown. tera's reports start with `error: `, which the message
/// around them already says, and go on with the template name, line and column and the line
/// itself.
fn flatten_chain(err: &dyn std::error::Error) -> String {
    let text = |e: &dyn std::error::Error| {
        let text = e.to_string();
        text.strip_prefix("error: ")
            .map(str::to_owned)
            .unwrap_or(text)
    };
    let mut parts = vec![text(err)];
    let mut cur = err.source();
    while let Some(e) = cur {
        let text = text(e);
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// The known template name closest to `name`, if it is plausibly a typo of it.
fn closest(name: &str) -> Option<String> {
    crate::suggest::closest(name, NAMES).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in templates with `service.yaml.tera` replaced by `text`.
    fn service_override(text: &str) -> Result<Templates, RenderError> {
        Templates::with_overrides(BTreeMap::from([(
            "service.yaml.tera".to_owned(),
            text.to_owned(),
        )]))
    }

    #[test]
    fn names_match_the_builtin_list() {
        let builtin: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        assert_eq!(builtin, NAMES);
        assert!(NAMES.windows(2).all(|w| w[0] < w[1]), "sorted");
        assert!(NAMES.iter().all(|n| n.ends_with(AUTOESCAPE_SUFFIX)));
    }

    #[test]
    fn flatten_chain_shows_the_innermost_cause() {
        let inner = tera::Error::message("Variable `x` not found");
        let outer = tera::Error::chain("Failed to render 'a.yaml.tera'", inner);
        assert_eq!(
            flatten_chain(&outer),
            "Failed to render 'a.yaml.tera': Variable `x` not found"
        );
    }

    /// Values that, between them, use every built-in template: all three routing modes, an
    /// Istio Gateway, a preview Ingress, and both GitOps wiring files.
    const COVERING_FIXTURES: &[(&str, &str)] = &[
        (
            "preview-ingress",
            include_str!("../../fixtures/render/preview-ingress/values.yaml"),
        ),
        (
            "istio-staged",
            include_str!("../../fixtures/render/istio-staged/values.yaml"),
        ),
        (
            "gateway-api-staged",
            include_str!("../../fixtures/render/gateway-api-staged/values.yaml"),
        ),
        (
            "gitops-wiring",
            include_str!("../../fixtures/render/gitops-wiring/values.yaml"),
        ),
        (
            "config-map-env",
            include_str!("../../fixtures/render/config-map-env/values.yaml"),
        ),
        (
            "notify-flux",
            include_str!("../../fixtures/render/notify-flux/values.yaml"),
        ),
        (
            "workload",
            include_str!("../../fixtures/render/workload/values.yaml"),
        ),
    ];

    #[test]
    fn every_builtin_template_parses_on_first_use_and_renders() {
        let templates = Templates::builtin();
        assert!(
            templates.slots.iter().all(|s| s.parsed.get().is_none()),
            "nothing is parsed before it is used"
        );
        for (env, text) in COVERING_FIXTURES {
            let values = crate::values::parse("values.yaml", text).unwrap();
            let running = crate::values::Running::same(&values);
            let files = super::super::render(&values, &running, env, &templates)
                .unwrap_or_else(|e| panic!("{env}: {e}"));
            assert!(files.values().all(|f| !f.is_empty()), "{env}");
        }
        for slot in &templates.slots {
            match slot.parsed.get() {
                Some(Ok(tera)) => assert_eq!(
                    tera.get_template_names().collect::<Vec<_>>(),
                    [slot.name],
                    "one template per tera instance"
                ),
                Some(Err(e)) => panic!("{e}"),
                None => panic!("{} was not rendered by the covering fixtures", slot.name),
            }
        }
    }

    #[test]
    fn a_builtin_template_that_does_not_parse_is_a_template_error() {
        let err = parse("service.yaml.tera", "a: {{ b }", TemplateSource::Builtin).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`service.yaml.tera` (built-in)"), "{text}");
        assert!(text.contains("1:"), "line number in {text}");
        assert!(text.contains("report it as a greenlight bug"), "{text}");
    }

    #[test]
    fn builtin_templates_parse_and_report_builtin() {
        let t = Templates::builtin();
        for name in Templates::names() {
            assert!(t.load(name).is_ok(), "{name} parses");
            assert_eq!(t.source_of(name), TemplateSource::Builtin);
            assert!(Templates::builtin_text(name).is_some());
        }
    }

    #[test]
    fn override_is_used_and_reported() {
        let t = service_override("kind: Service\n").unwrap();
        assert_eq!(t.source_of("service.yaml.tera"), TemplateSource::Override);
        assert_eq!(t.source_of("deployment.yaml.tera"), TemplateSource::Builtin);
        let out = t
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
                tera1,
            } => {
                assert_eq!(template, "ingress.yaml.tera");
                assert_eq!(tera1, &Vec::<String>::new());
                assert_eq!(*origin, TemplateSource::Override);
                assert!(cause.contains("3:"), "line number in {cause}");
                assert!(
                    cause.contains("--> templates/ingress.yaml.tera:3:20"),
                    "the override's path, line and column in {cause}"
                );
            }
            other => panic!("unexpected error {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("ingress.yaml.tera"), "{text}");
        assert!(text.contains("templates/ folder"), "{text}");
    }

    #[test]
    fn an_override_written_for_tera1_says_what_tera2_expects() {
        let err = service_override(
            "kind: Service\nmetadata:\n  name: {{ service.name | linebreaksbr }}\n",
        )
        .unwrap_err();
        let text = err.to_string();
        for part in [
            "template `service.yaml.tera` (override from templates/): Unknown filter `linebreaksbr`",
            "--> templates/service.yaml.tera:3:",
            "\nnote: line 3: `| linebreaksbr` is tera 1 syntax; tera 2 calls it `newlines_to_br`",
            "\"Template overrides and tera 2\"",
            "\nhint: fix the override",
        ] {
            assert!(text.contains(part), "{part:?} in {text}");
        }

        // tera 2 accepts `indent(prefix=…)` and indents by 4: refused, not rendered wrong.
        let err = Templates::with_overrides(BTreeMap::from([(
            "deployment.yaml.tera".to_owned(),
            "spec:\n  template:\n{{ deployment.pod | yaml | indent(prefix=\"    \") | safe }}\n"
                .to_owned(),
        )]))
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(
                "written for tera 1, and tera 2, which greenlight renders with, would \
                           read it differently"
            ),
            "{text}"
        );
        assert!(
            text.contains("--> templates/deployment.yaml.tera:3"),
            "{text}"
        );
        assert!(
            text.contains("note: line 3: `indent(prefix=…)` is tera 1 syntax"),
            "{text}"
        );
    }

    #[test]
    fn unfiltered_lists_and_maps_are_quoted_and_only_safe_opts_out() {
        let t = service_override(
            "l: {{ l }}\nm: {{ m }}\nn: {{ n }}\nb: {{ b }}\nraw: {{ app | safe }}\n",
        )
        .unwrap();
        let mut ctx = tera::Context::new();
        ctx.insert("l", &["a: b"]);
        ctx.insert("m", &BTreeMap::from([("k", "v\n")]));
        ctx.insert("n", &-3);
        ctx.insert("b", &true);
        ctx.insert("app", "x\nkind: Secret");
        let out = t.render("service.yaml.tera", &ctx).unwrap();
        let (quoted, raw) = out.split_once("raw: ").unwrap();
        let doc = crate::yaml::parse_document(quoted).unwrap();
        assert!(doc["l"].is_string() && doc["m"].is_string(), "{quoted}");
        assert_eq!(doc["n"], -3);
        assert_eq!(doc["b"], true);
        assert_eq!(
            raw, "x\nkind: Secret\n",
            "`| safe` prints the value as it is"
        );
    }

    #[test]
    fn unfiltered_strings_are_autoescaped_even_in_overrides() {
        let t =
            service_override("name: {{ app }}\nport: {{ port }}\nkey: {{ app | qkey }}\n").unwrap();
        let mut ctx = tera::Context::new();
        ctx.insert("app", "x\nkind: Secret");
        ctx.insert("port", &80);
        let out = t.render("service.yaml.tera", &ctx).unwrap();
        assert_eq!(
            out,
            "name: \"x\\nkind: Secret\"\nport: 80\nkey: \"x\\nkind: Secret\"\n"
        );
    }
}
