//! The file-level check of a values file: every semantic rule of the values model (the
//! grammars of `crate::grammar` applied to each field, ranges, and the consistency of the
//! blocks), located through the spanned tree so every problem names file, line and column.
//! All problems are reported at once. Nothing here parses YAML or edits.

use saphyr_parser::ScalarStyle;

use super::diagnostic::{Diagnostic, DiagnosticKind};
use super::model::{
    ColorSpec, ConfigMapSpec, EnvValue, GatewayApi, HeaderMatch, Istio, Probe, Routing, Values,
};
use super::path::{KeyPath, Seg};
use super::scalar::{self, PlainKind};
use super::tree::{Node, Pos};
use crate::grammar::*;

/// Every semantic problem of `v`, located through `root`; with the environment `v` belongs to,
/// also those of the names built from it.
pub(crate) fn check(file: &str, root: &Node, v: &Values, env: Option<&str>) -> Vec<Diagnostic> {
    let mut c = Checker {
        file,
        root,
        diags: Vec::new(),
    };
    let top = |key: &str| KeyPath::keys(&[key]);
    c.rule(&top("app"), &v.app, &APP, false);
    c.rule(&top("namespace"), &v.namespace, &DNS_LABEL, false);
    c.rule(&top("image"), &v.image, &IMAGE, false);
    for color in super::Color::ALL {
        c.color(color, v.color(color), color == v.live_color);
    }
    c.port(&top("port"), Some(v.port));
    c.port(&top("servicePort"), v.service_port);
    c.probe("readinessProbe", &v.readiness_probe);
    if let Some(p) = &v.liveness_probe {
        c.probe("livenessProbe", p);
    }
    if let Some(r) = &v.resources {
        for (list, name) in [(&r.requests, "requests"), (&r.limits, "limits")] {
            for (key, q) in [
                ("cpu", &list.cpu),
                ("memory", &list.memory),
                ("ephemeral-storage", &list.ephemeral_storage),
            ] {
                if let Some(q) = q {
                    c.rule(
                        &KeyPath::keys(&["resources", name, key]),
                        &q.0,
                        &QUANTITY,
                        false,
                    );
                }
            }
        }
    }
    c.env(v);
    if let Some(cm) = &v.config_map {
        c.config_map(cm);
    }
    c.env_from(v);
    if let Some(ing) = &v.ingress {
        let at = |key: &str| KeyPath::keys(&["ingress", key]);
        c.rule(&at("host"), &ing.host, &HOST, false);
        if let Some(path) = &ing.path {
            c.rule(&at("path"), path, &HTTP_PATH, false);
        }
        if let Some(class) = &ing.class_name {
            c.rule(&at("className"), class, &SUBDOMAIN, false);
        }
        if let Some(tls) = &ing.tls {
            c.rule(
                &at("tls").key("secretName"),
                &tls.secret_name,
                &SUBDOMAIN,
                false,
            );
        }
        for key in ing.annotations.keys() {
            c.rule(&at("annotations").key(key), key, &QUALIFIED_NAME, true);
        }
    }
    c.routing(v);
    c.wiring(v, env);
    c.notify(v, env);
    for (key, value) in &v.labels {
        let path = top("labels").key(key);
        c.rule(&path, key, &QUALIFIED_NAME, true);
        c.rule(&path, value, &LABEL_VALUE, false);
        if let Some((_, why)) = super::RESERVED_LABELS.iter().find(|(k, _)| k == key) {
            c.owned_key(&path, key, why);
        }
    }
    for key in v.annotations.keys() {
        let path = top("annotations").key(key);
        c.rule(&path, key, &QUALIFIED_NAME, true);
        if key == super::CHECKSUM_ANNOTATION {
            c.owned_key(
                &path,
                key,
                "it holds the checksum that rolls the pods when their configuration changes",
            );
        }
    }
    let pod = &v.pod_security_context;
    let container = &v.security_context;
    for (block, key, id) in [
        ("podSecurityContext", "runAsUser", pod.run_as_user),
        ("podSecurityContext", "runAsGroup", pod.run_as_group),
        ("podSecurityContext", "fsGroup", pod.fs_group),
        ("securityContext", "runAsUser", container.run_as_user),
        ("securityContext", "runAsGroup", container.run_as_group),
    ] {
        let path = KeyPath::keys(&[block, key]);
        match id {
            Some(id) if id < 0 => c.push_value(
                &path,
                format!("`{id}` is negative"),
                "a user or group id of 0 or more",
                None,
            ),
            // The pods always run with `runAsNonRoot: true`: user 0 could never start.
            Some(0) if key == "runAsUser" => c.push_value(
                &path,
                "`0` is root, and greenlight's pods never run as root (`runAsNonRoot: true`)"
                    .to_owned(),
                "a user id above 0",
                Some("pick the image's non-root user, e.g. `runAsUser: 10001`".to_owned()),
            ),
            _ => {}
        }
    }
    c.diags
}

struct Checker<'a> {
    file: &'a str,
    root: &'a Node,
    diags: Vec<Diagnostic>,
}

impl Checker<'_> {
    /// The routing blocks: the one the mode needs is present and valid, the others absent.
    fn routing(&mut self, v: &Values) {
        let mode = v.routing;
        let wants = |block: &str| format!("`{block}` belongs to `routing: {}`", block_mode(block));
        for (block, present, own) in [
            ("ingress", v.ingress.is_some(), Routing::Service),
            ("preview", v.preview.is_some(), Routing::Service),
            ("istio", v.istio.is_some(), Routing::Istio),
            ("gatewayApi", v.gateway_api.is_some(), Routing::GatewayApi),
        ] {
            if present && mode != own {
                let path = KeyPath::keys(&[block]);
                let at = self.pos_of_key(&path);
                self.push(
                    at,
                    &path,
                    format!("`{block}` has no effect with `routing: {}`", mode.as_str()),
                    &wants(block),
                    Some(format!(
                        "remove `{block}`, or set `routing: {}`",
                        own.as_str()
                    )),
                );
            }
            if !present && mode == own && own != Routing::Service {
                self.push_value(
                    &KeyPath::keys(&["routing"]),
                    format!("`routing: {}` needs an `{block}` block", mode.as_str()),
                    &format!("an `{block}` block next to `routing`"),
                    Some(format!(
                        "{}; see the values reference in README.md",
                        example(block)
                    )),
                );
            }
        }
        if let Some(ing) = v.preview.as_ref().and_then(|p| p.ingress.as_ref()) {
            let at = KeyPath::keys(&["preview", "ingress"]);
            self.rule(&at.key("host"), &ing.host, &HOST, false);
            if v.ingress.as_ref().is_some_and(|main| main.host == ing.host) {
                self.push_value(
                    &at.key("host"),
                    format!("{} is also `ingress.host`", shown(&ing.host)),
                    "a host of its own, such as `preview.api.example.com`",
                    Some("previews must never share the live host: pick another".to_owned()),
                );
            }
            if let Some(class) = &ing.class_name {
                self.rule(&at.key("className"), class, &SUBDOMAIN, false);
            }
            if let Some(tls) = &ing.tls {
                self.rule(
                    &at.key("tls").key("secretName"),
                    &tls.secret_name,
                    &SUBDOMAIN,
                    false,
                );
            }
        }
        if let (Routing::Istio, Some(istio)) = (mode, &v.istio) {
            self.istio(istio);
        }
        if let (Routing::GatewayApi, Some(api)) = (mode, &v.gateway_api) {
            self.gateway_api(api);
        }
    }

    fn istio(&mut self, istio: &Istio) {
        let at = |key: &str| KeyPath::keys(&["istio", key]);
        if istio.hosts.is_empty() {
            self.push_value(
                &at("hosts"),
                "`istio.hosts` is empty".to_owned(),
                "at least one host name",
                Some("write `hosts: [api.example.com]`".to_owned()),
            );
        }
        for (i, host) in istio.hosts.iter().enumerate() {
            self.rule(&at("hosts").child(Seg::Index(i)), host, &HOST, false);
        }
        if let Some(gw) = &istio.existing_gateway {
            self.rule(&at("existingGateway"), gw, &GATEWAY_REF, false);
            if istio.gateway.is_some() {
                let path = at("gateway");
                let pos = self.pos_of_key(&path);
                self.push(
                    pos,
                    &path,
                    "`istio.gateway` and `istio.existingGateway` are both set".to_owned(),
                    "either a Gateway to render (`gateway`) or one to bind to (`existingGateway`)",
                    Some("remove one of them".to_owned()),
                );
            }
        }
        if let Some(gw) = &istio.gateway {
            let path = at("gateway");
            self.port(&path.key("port"), gw.port);
            if let Some(cred) = &gw.credential_name {
                self.rule(&path.key("credentialName"), cred, &SUBDOMAIN, false);
            }
            for (key, value) in &gw.selector {
                let p = path.key("selector").key(key);
                self.rule(&p, key, &QUALIFIED_NAME, true);
                self.rule(&p, value, &LABEL_VALUE, false);
            }
        }
        if let Some(t) = &istio.test_route {
            let path = at("testRoute");
            match (t.cookie, &t.header) {
                (Some(true), Some(_)) => {
                    let pos = self.pos_of_key(&path.key("header"));
                    self.push(
                        pos,
                        &path.key("header"),
                        "`testRoute` sets both `cookie: true` and a `header`".to_owned(),
                        "either `cookie: true` or a `header`",
                        Some("remove one of them".to_owned()),
                    );
                }
                (Some(false), None) => self.push_value(
                    &path.key("cookie"),
                    "`testRoute.cookie` is false but no `header` is given".to_owned(),
                    "a `header: { name, value }` when the cookie is turned off",
                    Some("add a header, or remove `cookie: false`".to_owned()),
                ),
                _ => {}
            }
            if let Some(h) = &t.header {
                self.header(&path.key("header"), h);
            }
        }
    }

    fn gateway_api(&mut self, api: &GatewayApi) {
        let at = |key: &str| KeyPath::keys(&["gatewayApi", key]);
        if api.parent_refs.is_empty() {
            self.push_value(
                &at("parentRefs"),
                "`gatewayApi.parentRefs` is empty".to_owned(),
                "at least one Gateway to attach the HTTPRoute to",
                Some("write `parentRefs: [{ name: public, namespace: gateways }]`".to_owned()),
            );
        }
        for (i, r) in api.parent_refs.iter().enumerate() {
            let p = at("parentRefs").child(Seg::Index(i));
            self.rule(&p.key("name"), &r.name, &SUBDOMAIN, false);
            if let Some(ns) = &r.namespace {
                self.rule(&p.key("namespace"), ns, &DNS_LABEL, false);
            }
            if let Some(section) = &r.section_name {
                self.rule(&p.key("sectionName"), section, &SUBDOMAIN, false);
            }
        }
        for (i, host) in api.hostnames.iter().enumerate() {
            self.rule(&at("hostnames").child(Seg::Index(i)), host, &HOST, false);
        }
        if let Some(h) = &api.preview_header {
            self.header(&at("previewHeader"), h);
        }
    }

    /// The `flux` and `argocd` blocks.
    fn wiring(&mut self, v: &Values, env: Option<&str>) {
        // The Flux Kustomization / Argo CD Application is named `<app>-<env>`.
        for (block, present) in [("flux", v.flux.is_some()), ("argocd", v.argocd.is_some())] {
            let Some(env) = env.filter(|_| present) else {
                continue;
            };
            if let Err(e) = check_wiring_name(&v.app, env) {
                let name = wiring_name(&v.app, env);
                let at = self.pos_of_key(&KeyPath::keys(&[block]));
                self.push(
                    at,
                    &KeyPath::keys(&[block]),
                    format!(
                        "`{name}`, the name `{block}` gives the object it renders \
                         (`<app>-<environment>`), is not a valid name: it {e}"
                    ),
                    "an environment path of lowercase letters, digits, `-`, `.` and `/`",
                    Some(format!(
                        "rename the folder environments/{env} in lowercase, or drop `{block}`"
                    )),
                );
            }
        }
        if let Some(flux) = &v.flux {
            let at = |key: &str| KeyPath::keys(&["flux", key]);
            let kind = &flux.source_ref.kind;
            if !FLUX_SOURCE_KINDS.contains(&kind.as_str()) {
                let hint = crate::suggest::did_you_mean(kind, FLUX_SOURCE_KINDS);
                self.push_value(
                    &at("sourceRef").key("kind"),
                    format!("{} is not a Flux source kind", shown(kind)),
                    "one of `GitRepository`, `OCIRepository`, `Bucket`, `ExternalArtifact`",
                    hint,
                );
            }
            self.rule(
                &at("sourceRef").key("name"),
                &flux.source_ref.name,
                &SUBDOMAIN,
                false,
            );
            if let Some(ns) = &flux.source_ref.namespace {
                self.rule(&at("sourceRef").key("namespace"), ns, &DNS_LABEL, false);
            }
            if let Some(ns) = &flux.namespace {
                self.rule(&at("namespace"), ns, &DNS_LABEL, false);
            }
            if let Some(interval) = &flux.interval {
                self.rule(&at("interval"), interval, &DURATION, false);
            }
        }
        if let Some(argo) = &v.argocd {
            let at = |key: &str| KeyPath::keys(&["argocd", key]);
            if argo.repo_url.trim().is_empty() {
                self.push_value(
                    &at("repoURL"),
                    "`argocd.repoURL` is empty".to_owned(),
                    "the URL of this repository as Argo CD knows it",
                    None,
                );
            }
            if let Some(project) = &argo.project {
                self.rule(&at("project"), project, &SUBDOMAIN, false);
            }
            if let Some(ns) = &argo.namespace {
                self.rule(&at("namespace"), ns, &DNS_LABEL, false);
            }
            let d = &argo.destination;
            if d.server.is_some() == d.name.is_some() {
                let path = at("destination");
                let pos = self.pos_of_key(&path);
                self.push(
                    pos,
                    &path,
                    if d.server.is_some() {
                        "`argocd.destination` sets both `server` and `name`".to_owned()
                    } else {
                        "`argocd.destination` names no cluster".to_owned()
                    },
                    "exactly one of `server` (an API server URL) and `name` (a cluster name)",
                    Some(
                        "write `destination: { server: https://kubernetes.default.svc }`"
                            .to_owned(),
                    ),
                );
            }
        }
    }

    /// The `notify` block: it wires the `flux` or `argocd` controller's notifications.
    fn notify(&mut self, v: &Values, env: Option<&str>) {
        let Some(notify) = &v.notify else {
            return;
        };
        let at = |keys: &[&str]| KeyPath::keys(&[&["notify"], keys].concat());
        if v.flux.is_none() && v.argocd.is_none() {
            let path = at(&[]);
            let pos = self.pos_of_key(&path);
            self.push(
                pos,
                &path,
                "`notify` has nothing to wire: it renders the notifications of the `flux` or \
                 `argocd` block, and values have neither"
                    .to_owned(),
                "a `flux` or `argocd` block beside `notify`",
                Some("add the block of the controller that applies this folder".to_owned()),
            );
        }
        if let Some(chat) = &notify.chat {
            let kind = at(&["chat", "type"]);
            if v.flux.is_some() {
                if FLUX_COMMIT_STATUS_TYPES.contains(&chat.kind.as_str()) {
                    self.push_value(
                        &kind,
                        format!(
                            "{} posts commit statuses, not chat messages",
                            shown(&chat.kind)
                        ),
                        "a chat Provider type such as `slack`, `msteams` or `discord`",
                        Some("move it to `notify.commitStatus`".to_owned()),
                    );
                } else if !FLUX_PROVIDER_TYPES.contains(&chat.kind.as_str()) {
                    let hint = crate::suggest::did_you_mean(&chat.kind, FLUX_PROVIDER_TYPES);
                    self.push_value(
                        &kind,
                        format!("{} is not a Flux Provider type", shown(&chat.kind)),
                        "a Flux notification Provider type such as `slack`, `msteams`, \
                         `discord`, `googlechat`, `matrix`, `telegram` or `generic`",
                        hint,
                    );
                }
            } else {
                self.rule(&kind, &chat.kind, &NOTIFICATION_SERVICE, false);
            }
            for (key, value) in [("channel", &chat.channel), ("address", &chat.address)] {
                if let Some(value) = value {
                    self.rule(&at(&["chat", key]), value, &NOTIFICATION_TEXT, false);
                }
            }
            if let Some(secret) = &chat.secret_ref {
                self.rule(&at(&["chat", "secretRef"]), secret, &SUBDOMAIN, false);
            }
        }
        if let Some(status) = &notify.commit_status {
            self.rule(
                &at(&["commitStatus", "address"]),
                &status.address,
                &REPOSITORY_URL,
                false,
            );
            match &status.kind {
                Some(kind) if !FLUX_COMMIT_STATUS_TYPES.contains(&kind.as_str()) => {
                    let hint = crate::suggest::did_you_mean(kind, FLUX_COMMIT_STATUS_TYPES);
                    self.push_value(
                        &at(&["commitStatus", "type"]),
                        format!("{} does not post commit statuses", shown(kind)),
                        "one of `github`, `gitlab`, `gitea`, `bitbucket`, `bitbucketserver`, \
                         `azuredevops`",
                        hint,
                    );
                }
                Some(_) => {}
                None if check_repository_url(&status.address).is_ok()
                    && status.forge().is_none() =>
                {
                    self.push_value(
                        &at(&["commitStatus", "address"]),
                        format!("cannot tell which forge hosts {}", shown(&status.address)),
                        "github.com, gitlab.com, codeberg.org or a host named github.*, \
                         gitlab.*, gitea.* or forgejo.*; or a `type`",
                        Some("add `type: github` (or gitlab, gitea, ...)".to_owned()),
                    );
                }
                None => {}
            }
            match &status.secret_ref {
                Some(secret) => self.rule(
                    &at(&["commitStatus", "secretRef"]),
                    secret,
                    &SUBDOMAIN,
                    false,
                ),
                None if v.flux.is_some() => {
                    let path = at(&["commitStatus"]);
                    let pos = self.pos_of_key(&path);
                    self.push(
                        pos,
                        &path,
                        "`notify.commitStatus` names no `secretRef`: Flux posts commit \
                         statuses with a token from a Secret"
                            .to_owned(),
                        "`secretRef`: the Secret in the Kustomization's namespace whose \
                         `token` key holds a forge token allowed to write commit statuses",
                        Some("add `secretRef: gitops-token`".to_owned()),
                    );
                }
                None => {}
            }
            if let Some(context) = &status.context {
                self.rule(
                    &at(&["commitStatus", "context"]),
                    context,
                    &STATUS_CONTEXT,
                    false,
                );
            }
        }
        // The Provider and Alert names add `-status` / `-chat` to `<app>-<env>`.
        if let (Some(env), true) = (env, v.flux.is_some()) {
            let longest = format!("{}-status", wiring_name(&v.app, env));
            if check_wiring_name(&v.app, env).is_ok() && check_dns1123_subdomain(&longest).is_err()
            {
                let path = at(&[]);
                let pos = self.pos_of_key(&path);
                self.push(
                    pos,
                    &path,
                    format!("`{longest}`, the name of the Provider `notify` renders, is too long"),
                    "`<app>-<environment>-status` of at most 253 characters",
                    Some("use a shorter environment path".to_owned()),
                );
            }
        }
    }

    fn header(&mut self, path: &KeyPath, h: &HeaderMatch) {
        self.rule(&path.key("name"), &h.name, &HEADER_NAME, false);
        self.rule(&path.key("value"), &h.value, &HEADER_VALUE, false);
    }

    fn pos_of_value(&self, path: &KeyPath) -> Pos {
        self.root.deepest(&path.0).span.start
    }

    fn pos_of_key(&self, path: &KeyPath) -> Pos {
        let (parent, last) = path.0.split_at(path.0.len().saturating_sub(1));
        match (self.root.at(parent), last.first()) {
            (Some(node), Some(Seg::Key(k))) => {
                node.entry(k).map_or(node.span.start, |e| e.key_span.start)
            }
            _ => self.pos_of_value(path),
        }
    }

    fn push(
        &mut self,
        at: Pos,
        path: &KeyPath,
        message: String,
        expected: &str,
        hint: Option<String>,
    ) {
        self.diags.push(Diagnostic {
            file: self.file.to_owned(),
            line: at.line,
            column: at.column,
            path: path.to_string(),
            kind: DiagnosticKind::InvalidValue,
            message,
            expected: Some(expected.to_owned()),
            hint,
        });
    }

    fn push_value(
        &mut self,
        path: &KeyPath,
        message: String,
        expected: &str,
        hint: Option<String>,
    ) {
        let at = self.pos_of_value(path);
        self.push(at, path, message, expected, hint);
    }

    /// A key greenlight sets itself, refused where values sets it.
    fn owned_key(&mut self, path: &KeyPath, key: &str, why: &str) {
        let at = self.pos_of_key(path);
        self.push(
            at,
            path,
            format!("`{key}` is set by greenlight: {why}"),
            "a key of your own",
            Some("remove it".to_owned()),
        );
    }

    /// Apply `rule` to `value`, reported at the key of `path` (for map keys) or its value.
    fn rule(&mut self, path: &KeyPath, value: &str, rule: &Rule, on_key: bool) {
        let Err(e) = (rule.check)(value) else {
            return;
        };
        let at = if on_key {
            self.pos_of_key(path)
        } else {
            self.pos_of_value(path)
        };
        self.push(
            at,
            path,
            format!("{} is not a valid {}: it {e}", shown(value), rule.what),
            rule.expected,
            (rule.hint)(value, &e),
        );
    }

    /// A tag or digest written as a bare YAML number or boolean reads differently elsewhere.
    fn unquoted(&mut self, path: &KeyPath, what: &str) -> bool {
        let Some((text, ScalarStyle::Plain)) = self.root.at(&path.0).and_then(Node::scalar) else {
            return false;
        };
        let kind = scalar::plain_kind(text);
        if matches!(kind, PlainKind::String | PlainKind::Null) {
            return false;
        }
        self.push_value(
            path,
            format!(
                "`{text}` is not quoted, so YAML reads it as {}, not as the text `{text}`",
                kind.describe()
            ),
            &format!("a quoted {what}, such as `{what}: \"{text}\"`"),
            Some(format!("write `{what}: \"{text}\"`")),
        );
        true
    }

    fn color(&mut self, color: super::Color, spec: &ColorSpec, live: bool) {
        let name = color.as_str();
        let block = KeyPath::keys(&[name]);
        if let Some(tag) = &spec.tag {
            let path = block.key("tag");
            if !self.unquoted(&path, "tag") {
                self.rule(&path, tag, &TAG, false);
            }
        }
        if let Some(digest) = &spec.digest {
            let path = block.key("digest");
            if !self.unquoted(&path, "digest") {
                self.rule(&path, digest, &DIGEST, false);
            }
        }
        if spec.tag.is_some() && spec.digest.is_some() {
            let at = self.pos_of_key(&block.key("digest"));
            self.push(
                at,
                &block,
                format!("`{name}` has both a `tag` and a `digest`"),
                "either `tag` or `digest` in a colour block, not both",
                Some(
                    "keep `digest` to pin the exact image, or `tag`, and remove the other"
                        .to_owned(),
                ),
            );
        }
        let replicas = block.key("replicas");
        if spec.replicas < 0 {
            self.push_value(
                &replicas,
                format!("`{}` is negative", spec.replicas),
                "a whole number of replicas, 0 or more (0 scales the colour down)",
                None,
            );
        } else if spec.replicas > i64::from(i32::MAX) {
            self.push_value(
                &replicas,
                format!("`{}` is too large", spec.replicas),
                &format!("a whole number of replicas from 0 to {}", i32::MAX),
                None,
            );
        }
        let has_image = spec.tag.is_some() || spec.digest.is_some();
        if live {
            if !has_image {
                self.push_value(
                    &block,
                    format!("`{name}` is the live colour but has no image"),
                    "a `tag` or `digest` in the live colour: the live colour serves traffic",
                    Some(format!(
                        "give `{name}` the `tag` (or `digest`) of the release it runs, or set \
                         `liveColor` to the colour that runs it"
                    )),
                );
            }
            if spec.replicas == 0 {
                self.push_value(
                    &replicas,
                    format!("`{name}` is the live colour but has 0 replicas"),
                    "at least 1 replica in the live colour: the live colour serves traffic",
                    None,
                );
            }
        } else if spec.replicas > 0 && !has_image {
            self.push_value(
                &replicas,
                format!("`{name}` runs {} replicas but has no image", spec.replicas),
                &format!("a `tag` or `digest` in `{name}` when its replicas are above 0"),
                Some(format!(
                    "give `{name}` the `tag` (or `digest`) of the release it runs, or set its \
                     replicas to 0"
                )),
            );
        }
    }

    fn port(&mut self, path: &KeyPath, port: Option<u32>) {
        if let Some(p) = port.filter(|p| !(1..=65535).contains(p)) {
            self.push_value(
                path,
                format!("`{p}` is not a valid port"),
                PORT_EXPECTED,
                None,
            );
        }
    }

    fn probe(&mut self, name: &str, p: &Probe) {
        let block = KeyPath::keys(&[name]);
        self.rule(&block.key("path"), &p.path, &HTTP_PATH, false);
        self.port(&block.key("port"), p.port);
        for (key, value, min) in [
            ("initialDelaySeconds", p.initial_delay_seconds, 0),
            ("periodSeconds", p.period_seconds, 1),
            ("timeoutSeconds", p.timeout_seconds, 1),
            ("failureThreshold", p.failure_threshold, 1),
        ] {
            let Some(value) = value else { continue };
            // Kubernetes stores these as 32-bit integers.
            let max = i32::MAX as u32;
            if value < min || value > max {
                self.push_value(
                    &block.key(key),
                    format!("`{value}` is out of range"),
                    &format!("a whole number from {min} to {max}"),
                    None,
                );
            }
        }
    }

    fn config_map(&mut self, cm: &ConfigMapSpec) {
        let block = KeyPath::keys(&["configMap"]);
        if cm.data.is_empty() && cm.files.is_empty() {
            self.push_value(
                &block,
                "the ConfigMap has no keys".to_owned(),
                "`data` (keys and values) or `files` (keys and files of the environment's folder)",
                Some("remove `configMap`, or give it a key".to_owned()),
            );
        }
        // Without a mount path the keys become environment variables.
        let key_rule = match cm.mount_path {
            Some(_) => &CONFIG_KEY,
            None => &VARIABLE_NAME,
        };
        for key in cm.data.keys() {
            self.rule(&block.key("data").key(key), key, key_rule, true);
        }
        for (key, path) in &cm.files {
            let at = block.key("files").key(key);
            self.rule(&at, key, key_rule, true);
            if cm.data.contains_key(key) {
                self.push(
                    self.pos_of_key(&at),
                    &at,
                    format!("`{key}` is a key of both `data` and `files`"),
                    "each key once",
                    Some("rename one of them".to_owned()),
                );
            }
            self.rule(&at, path, &ENVIRONMENT_FILE, false);
        }
        if let Some(path) = &cm.mount_path {
            self.rule(&block.key("mountPath"), path, &MOUNT_PATH, false);
        }
    }

    fn env(&mut self, v: &Values) {
        for (name, value) in &v.env {
            let path = KeyPath::keys(&["env", name]);
            self.rule(&path, name, &VARIABLE_NAME, true);
            let EnvValue::From(from) = value else {
                continue;
            };
            let given: Vec<&str> = [
                ("secretKeyRef", from.secret_key_ref.is_some()),
                ("configMapKeyRef", from.config_map_key_ref.is_some()),
                ("fieldRef", from.field_ref.is_some()),
            ]
            .iter()
            .filter(|s| s.1)
            .map(|s| s.0)
            .collect();
            if given.len() != 1 {
                self.push_value(
                    &path,
                    if given.is_empty() {
                        "the value reference names no source".to_owned()
                    } else {
                        format!("the value reference names {} sources", given.len())
                    },
                    "exactly one of `secretKeyRef`, `configMapKeyRef` or `fieldRef`",
                    (given.len() > 1)
                        .then(|| format!("keep one of {}", crate::suggest::list(&given))),
                );
            }
            for (key, r) in [
                ("secretKeyRef", &from.secret_key_ref),
                ("configMapKeyRef", &from.config_map_key_ref),
            ] {
                if let Some(r) = r {
                    self.rule(&path.key(key).key("name"), &r.name, &SUBDOMAIN, false);
                    self.rule(&path.key(key).key("key"), &r.key, &CONFIG_KEY, false);
                }
            }
            if let Some(field) = &from.field_ref {
                self.rule(&path.key("fieldRef"), field, &FIELD_REF, false);
            }
        }
    }

    fn env_from(&mut self, v: &Values) {
        for (i, from) in v.env_from.iter().enumerate() {
            let item = KeyPath::keys(&["envFrom"]).child(Seg::Index(i));
            let both = from.config_map.is_some() && from.secret.is_some();
            if both || (from.config_map.is_none() && from.secret.is_none()) {
                self.push_value(
                    &item,
                    if both {
                        "the entry has both `configMap` and `secret`".to_owned()
                    } else {
                        "the entry has neither `configMap` nor `secret`".to_owned()
                    },
                    "exactly one of `configMap` or `secret`",
                    both.then(|| "split it into two entries".to_owned()),
                );
            }
            for (key, name) in [("configMap", &from.config_map), ("secret", &from.secret)] {
                if let Some(name) = name {
                    self.rule(&item.key(key), name, &SUBDOMAIN, false);
                }
            }
            if let Some(prefix) = from.prefix.as_deref().filter(|p| !p.is_empty()) {
                self.rule(&item.key("prefix"), prefix, &VARIABLE_NAME, false);
            }
        }
    }
}

/// A value quoted for a message, with escapes for anything invisible.
/// The routing mode a block belongs to.
fn block_mode(block: &str) -> &'static str {
    match block {
        "istio" => "istio",
        "gatewayApi" => "gateway-api",
        _ => "service",
    }
}

/// A minimal example of a routing block, for hints.
fn example(block: &str) -> &'static str {
    match block {
        "istio" => "add `istio: { hosts: [api.example.com] }`",
        _ => "add `gatewayApi: { parentRefs: [{ name: public, namespace: gateways }] }`",
    }
}

fn shown(s: &str) -> String {
    if !s.is_empty() && s.trim() == s && s.chars().all(|c| !c.is_control() && c != '`') {
        format!("`{s}`")
    } else {
        format!("{s:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_checked_in_range() {
        let root = crate::values::tree::build("t", "port: 0\n")
            .unwrap()
            .unwrap();
        let mut c = Checker {
            file: "t",
            root: &root,
            diags: Vec::new(),
        };
        for p in [1, 80, 65535] {
            c.port(&KeyPath::keys(&["port"]), Some(p));
        }
        c.port(&KeyPath::keys(&["port"]), None);
        assert!(c.diags.is_empty());
        for p in [0, 65536, 70000] {
            c.port(&KeyPath::keys(&["port"]), Some(p));
        }
        assert_eq!(c.diags.len(), 3);
        assert!(c
            .diags
            .iter()
            .all(|d| d.expected.as_deref() == Some(PORT_EXPECTED)));
    }

    const MINIMAL: &str = "app: api\nnamespace: shop\nliveColor: blue\nimage: registry.example.com/api\n\
                           blue: { tag: \"1.0\", replicas: 1 }\ngreen: { replicas: 0 }\nport: 8080\n\
                           readinessProbe: { path: /healthz }\n";

    #[test]
    fn names_built_from_the_environment_are_checked_with_it() {
        let wired =
            format!("{MINIMAL}flux: {{ sourceRef: {{ kind: GitRepository, name: gitops }} }}\n");
        let err = crate::values::parse_in("Prod_EU", "v.yaml", &wired).unwrap_err();
        let d = &err.diagnostics[0];
        assert_eq!((d.line, d.column, d.path.as_str()), (9, 1, "flux"));
        assert!(
            d.message
                .starts_with("`api-Prod_EU`, the name `flux` gives"),
            "{d:?}"
        );
        assert!(d.hint.as_deref().unwrap().contains("environments/Prod_EU"));
        crate::values::parse_in("prod/eu", "v.yaml", &wired).unwrap();
        // Without wiring blocks the environment's name builds no object name.
        crate::values::parse_in("Prod_EU", "v.yaml", MINIMAL).unwrap();
    }

    #[test]
    fn keys_greenlight_sets_and_root_are_refused_where_render_would_need_them() {
        for (extra, path) in [
            ("labels: { color: x }\n", "labels.color"),
            (
                "labels: { app.kubernetes.io/version: x }\n",
                "labels.\"app.kubernetes.io/version\"",
            ),
            (
                "annotations: { checksum/values: x }\n",
                "annotations.checksum/values",
            ),
            (
                "securityContext: { runAsUser: 0 }\n",
                "securityContext.runAsUser",
            ),
            (
                "podSecurityContext: { runAsUser: 0 }\n",
                "podSecurityContext.runAsUser",
            ),
            (
                "livenessProbe: { path: /l, initialDelaySeconds: 3000000000 }\n",
                "livenessProbe.initialDelaySeconds",
            ),
        ] {
            let err = crate::values::parse("v.yaml", &format!("{MINIMAL}{extra}")).unwrap_err();
            assert_eq!(err.diagnostics.len(), 1, "{extra}: {err}");
            assert_eq!(err.diagnostics[0].path, path, "{extra}: {err}");
        }
        // Group 0 is fine: only the user must not be root.
        crate::values::parse(
            "v.yaml",
            &format!("{MINIMAL}securityContext: {{ runAsGroup: 0 }}\n"),
        )
        .unwrap();
    }
}
