//! The file-level check of a values file: every semantic rule of the values model (the
//! grammars of `crate::grammar` applied to each field, ranges, and the consistency of the
//! blocks), located through the spanned tree so every problem names file, line and column.
//! All problems are reported at once. Nothing here parses YAML or edits.

use std::collections::BTreeMap;

use saphyr_parser::ScalarStyle;

use super::diagnostic::{Diagnostic, DiagnosticKind};
use super::kube::{
    self, KubeType, Owned, AUTOSCALING_OWNED, CONTAINER_OWNED, NETWORK_POLICY_OWNED, PDB_OWNED,
    POD_OWNED,
};
use super::model::{
    ColorSpec, ConfigMapSpec, EnvValue, GatewayApi, HeaderMatch, Istio, Kube, PortRef, Probe,
    Routing, Values, CONFIG_VOLUME, TMP_VOLUME,
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
    if let Some(p) = &v.startup_probe {
        c.probe("startupProbe", p);
    }
    c.workload(v);
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
    c.labels("labels", &v.labels);
    c.annotations("annotations", &v.annotations);
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
        match p.handlers().as_slice() {
            [_] => {}
            [] => self.push_value(
                &block,
                "the probe has no handler".to_owned(),
                "one of `path` (an HTTP GET on the `http` port), `httpGet`, `exec`, \
                 `tcpSocket` or `grpc`",
                Some(format!(
                    "add `path:` (e.g. `{name}: {{ path: /healthz }}`) or a handler"
                )),
            ),
            [first, second, ..] => self.push(
                self.pos_of_key(&block.key(second)),
                &block.key(second),
                format!("the probe has both `{first}` and `{second}`"),
                "exactly one of `path`, `httpGet`, `exec`, `tcpSocket` or `grpc`",
                Some(format!("keep one of `{first}` and `{second}`")),
            ),
        }
        if let Some(path) = &p.path {
            self.rule(&block.key("path"), path, &HTTP_PATH, false);
        }
        match &p.port {
            // Without any handler, the missing one is the problem (reported above).
            Some(_) if p.handlers().is_empty() => {}
            Some(_) if p.path.is_none() => self.push(
                self.pos_of_key(&block.key("port")),
                &block.key("port"),
                "`port` belongs to the `path` shorthand".to_owned(),
                "`port` with `path`, or the port inside `httpGet`, `tcpSocket` or `grpc`",
                None,
            ),
            Some(PortRef::Number(n)) => self.port(&block.key("port"), Some(*n)),
            Some(PortRef::Name(n)) => self.rule(&block.key("port"), n, &PORT_NAME, false),
            None => {}
        }
        let handlers = [
            ("httpGet", &p.http_get),
            ("exec", &p.exec),
            ("tcpSocket", &p.tcp_socket),
            ("grpc", &p.grpc),
        ];
        let mut probe = serde_json::Map::new();
        for (key, handler) in handlers {
            if let Some(h) = handler {
                probe.insert(key.to_owned(), serde_json::Value::Object(h.0.clone()));
            }
        }
        self.schema(
            &block,
            KubeType::Probe,
            &serde_json::Value::Object(probe),
            &[],
        );
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

    /// Problems the Kubernetes schema finds in `value`, a `kind` written at `block`.
    fn schema(
        &mut self,
        block: &KeyPath,
        kind: KubeType,
        value: &serde_json::Value,
        owned: &[Owned],
    ) {
        for p in kube::check(kind, value, owned) {
            let path = KeyPath(block.0.iter().cloned().chain(p.path).collect());
            let at = if p.on_key {
                self.pos_of_key(&path)
            } else {
                self.pos_of_value(&path)
            };
            self.push(at, &path, p.message, &p.expected, p.hint);
        }
    }

    /// Fields of a pass-through block that greenlight sets or that values spell elsewhere;
    /// true when there is none.
    fn owned_fields(
        &mut self,
        v: &Values,
        block: &KeyPath,
        fields: &Kube,
        owned: &[Owned],
    ) -> bool {
        let mut clean = true;
        for o in owned {
            if !fields.0.contains_key(o.field) {
                continue;
            }
            clean = false;
            let path = block.key(o.field);
            let at = self.pos_of_key(&path);
            let top = o.key.filter(|k| is_set(v, k));
            let (message, expected, hint) = match top {
                Some(key) => {
                    let there = self.pos_of_key(&KeyPath::keys(&[key]));
                    (
                        format!(
                            "`{}` is set twice: here and as `{key}` (line {})",
                            o.field, there.line
                        ),
                        format!("`{}` set once, as the top-level `{key}`", o.field),
                        format!("keep the top-level `{key}` and remove this one"),
                    )
                }
                None => (
                    format!("`{}` is not set here: {}", o.field, o.by),
                    "a field greenlight does not set".to_owned(),
                    match o.key {
                        Some(key) => format!("move it to the top-level `{key}`"),
                        None => "remove it".to_owned(),
                    },
                ),
            };
            self.push(at, &path, message, &expected, Some(hint));
        }
        clean
    }

    /// The pass-through blocks of a workload: the main container, the pod, sidecars, pod
    /// metadata, Service ports and the companions.
    fn workload(&mut self, v: &Values) {
        let top = |key: &str| KeyPath::keys(&[key]);
        self.port_references(v);
        // Names greenlight gives its own volumes, mounts and ports.
        let mut volume_names = vec![TMP_VOLUME];
        let mut mount_paths = vec!["/tmp".to_owned()];
        if let Some(path) = v.config_map.as_ref().and_then(|cm| cm.mount_path.as_ref()) {
            volume_names.push(CONFIG_VOLUME);
            mount_paths.push(path.trim_end_matches('/').to_owned());
        }
        if let Some(c) = &v.container {
            let block = top("container");
            if self.owned_fields(v, &block, c, CONTAINER_OWNED) {
                self.schema(
                    &block,
                    KubeType::Container,
                    &kube::completed(KubeType::Container, &c.0),
                    CONTAINER_OWNED,
                );
            }
            self.container_ports(v, &block, c);
            for (i, mount) in list(c.get("volumeMounts")).iter().enumerate() {
                let at = block.key("volumeMounts").child(Seg::Index(i));
                if let Some(path) = mount["mountPath"].as_str() {
                    if mount_paths.iter().any(|p| p == path.trim_end_matches('/')) {
                        self.push_value(
                            &at.key("mountPath"),
                            format!("`{path}` is where greenlight mounts its own volume"),
                            "another mount path",
                            None,
                        );
                    }
                }
            }
        }
        if let Some(p) = &v.pod {
            let block = top("pod");
            if self.owned_fields(v, &block, p, POD_OWNED) {
                self.schema(
                    &block,
                    KubeType::PodSpec,
                    &kube::completed(KubeType::PodSpec, &p.0),
                    POD_OWNED,
                );
            }
            for (i, volume) in list(p.get("volumes")).iter().enumerate() {
                if let Some(name) = volume["name"].as_str().filter(|n| volume_names.contains(n)) {
                    self.push_value(
                        &block.key("volumes").child(Seg::Index(i)).key("name"),
                        format!("`{name}` names a volume greenlight adds itself"),
                        "another volume name",
                        None,
                    );
                }
            }
            if v.service_account.is_some() && p.get("serviceAccountName").is_some() {
                let path = block.key("serviceAccountName");
                let there = self.pos_of_key(&top("serviceAccount"));
                self.push(
                    self.pos_of_key(&path),
                    &path,
                    format!(
                        "`serviceAccountName` is set twice: here and by `serviceAccount` (line {})",
                        there.line
                    ),
                    "one of them",
                    Some("name the account in `serviceAccount.name`".to_owned()),
                );
            }
        }
        let mut names = vec!["app".to_owned()];
        for (i, sidecar) in v.sidecars.iter().enumerate() {
            let at = top("sidecars").child(Seg::Index(i));
            self.schema(
                &at,
                KubeType::Container,
                &serde_json::Value::Object(sidecar.0.clone()),
                &[],
            );
            if let Some(name) = sidecar.get("name").and_then(|n| n.as_str()) {
                if names.iter().any(|n| n == name) {
                    self.push_value(
                        &at.key("name"),
                        format!("`{name}` names another container of the pod"),
                        "a name of its own (`app` is the main container)",
                        None,
                    );
                }
                names.push(name.to_owned());
            }
            if sidecar.get("image").is_none() {
                self.push_value(
                    &at,
                    "the sidecar has no `image`".to_owned(),
                    "`image`: the sidecar's image reference",
                    None,
                );
            }
        }
        self.labels("podLabels", &v.pod_labels);
        self.annotations("podAnnotations", &v.pod_annotations);
        if let Some(service) = &v.service {
            let mut names = vec!["http".to_owned()];
            let mut ports = vec![v.service_port()];
            for (i, port) in service.ports.iter().enumerate() {
                let at = top("service").key("ports").child(Seg::Index(i));
                self.schema(
                    &at,
                    KubeType::ServicePort,
                    &serde_json::Value::Object(port.0.clone()),
                    &[],
                );
                self.named_port(&at, port.get("name"), &mut names, "Service");
                if let Some(n) = port.get("port").and_then(|p| p.as_u64()) {
                    let n = n as u32;
                    if ports.contains(&n) {
                        self.push_value(
                            &at.key("port"),
                            format!("port {n} is already a port of the Services"),
                            "a port of its own (`servicePort` is the `http` one)",
                            None,
                        );
                    }
                    ports.push(n);
                }
            }
        }
        if let Some(a) = &v.autoscaling {
            let block = top("autoscaling");
            if self.owned_fields(v, &block, a, AUTOSCALING_OWNED) {
                self.schema(
                    &block,
                    KubeType::HpaSpec,
                    &kube::completed(KubeType::HpaSpec, &a.0),
                    AUTOSCALING_OWNED,
                );
            }
            if let Some(max) = a.get("maxReplicas").and_then(|m| m.as_i64()) {
                for color in super::Color::ALL {
                    let replicas = v.color(color).replicas;
                    if replicas > max {
                        self.push_value(
                            &KeyPath::keys(&[color.as_str(), "replicas"]),
                            format!(
                                "{color} starts its HorizontalPodAutoscaler at {replicas} \
                                 replicas, above `autoscaling.maxReplicas` ({max})"
                            ),
                            "replicas from 0 to `autoscaling.maxReplicas`",
                            None,
                        );
                    }
                }
            }
        }
        for (key, kind, owned) in [
            ("podDisruptionBudget", KubeType::PdbSpec, PDB_OWNED),
            (
                "networkPolicy",
                KubeType::NetworkPolicySpec,
                NETWORK_POLICY_OWNED,
            ),
        ] {
            let block_value = match key {
                "podDisruptionBudget" => &v.pod_disruption_budget,
                _ => &v.network_policy,
            };
            if let Some(b) = block_value {
                let block = top(key);
                if self.owned_fields(v, &block, b, owned) {
                    self.schema(&block, kind, &kube::completed(kind, &b.0), owned);
                }
            }
        }
        if let Some(sa) = &v.service_account {
            let block = top("serviceAccount");
            match &sa.name {
                Some(name) => self.rule(&block.key("name"), name, &SUBDOMAIN, false),
                None if !sa.creates() => self.push_value(
                    &block,
                    "`create: false` uses an existing ServiceAccount, but none is named".to_owned(),
                    "`name`: the ServiceAccount the pods run as",
                    None,
                ),
                None => {}
            }
            for key in sa.annotations.keys() {
                self.rule(
                    &block.key("annotations").key(key),
                    key,
                    &QUALIFIED_NAME,
                    true,
                );
            }
        }
    }

    /// Labels under top-level `block`: valid keys and values, none greenlight sets itself.
    fn labels(&mut self, block: &str, labels: &BTreeMap<String, String>) {
        for (key, value) in labels {
            let path = KeyPath::keys(&[block]).key(key);
            self.rule(&path, key, &QUALIFIED_NAME, true);
            self.rule(&path, value, &LABEL_VALUE, false);
            if let Some((_, why)) = super::RESERVED_LABELS.iter().find(|(k, _)| k == key) {
                self.owned_key(&path, key, why);
            }
        }
    }

    /// Annotations under top-level `block`: valid keys, not greenlight's checksum.
    fn annotations(&mut self, block: &str, annotations: &BTreeMap<String, String>) {
        for key in annotations.keys() {
            let path = KeyPath::keys(&[block]).key(key);
            self.rule(&path, key, &QUALIFIED_NAME, true);
            if key == super::CHECKSUM_ANNOTATION {
                self.owned_key(
                    &path,
                    key,
                    "it holds the checksum that rolls the pods when their configuration changes",
                );
            }
        }
    }

    /// Ports referred to by name must exist: a probe's in the main container, a Service
    /// port's `targetPort` in the pod. A name that names nothing sends traffic nowhere.
    fn port_references(&mut self, v: &Values) {
        let names_of = |c: Option<&Kube>| -> Vec<String> {
            list(c.and_then(|c| c.get("ports")))
                .iter()
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect()
        };
        let mut main = vec!["http".to_owned()];
        main.extend(names_of(v.container.as_ref()));
        let mut pod = main.clone();
        for sidecar in &v.sidecars {
            pod.extend(names_of(Some(sidecar)));
        }
        let check = |c: &mut Self, path: KeyPath, name: &str, known: &[String], what: &str| {
            if !known.iter().any(|k| k == name) {
                c.push_value(
                    &path,
                    format!("`{name}` names no port of {what}"),
                    &format!("a port number, or one of {}", crate::suggest::list(known)),
                    crate::suggest::closest(name, known).map(|s| format!("did you mean `{s}`?")),
                );
            }
        };
        for (field, probe) in [
            ("readinessProbe", Some(&v.readiness_probe)),
            ("livenessProbe", v.liveness_probe.as_ref()),
            ("startupProbe", v.startup_probe.as_ref()),
        ] {
            let Some(p) = probe else { continue };
            let block = KeyPath::keys(&[field]);
            if let (Some(PortRef::Name(name)), Some(_)) = (&p.port, &p.path) {
                check(self, block.key("port"), name, &main, "the main container");
            }
            for (key, handler) in [("httpGet", &p.http_get), ("tcpSocket", &p.tcp_socket)] {
                if let Some(name) = handler.as_ref().and_then(|h| h.get("port")?.as_str()) {
                    check(
                        self,
                        block.key(key).key("port"),
                        name,
                        &main,
                        "the main container",
                    );
                }
            }
        }
        if let Some(service) = &v.service {
            for (i, port) in service.ports.iter().enumerate() {
                if let Some(name) = port.get("targetPort").and_then(|t| t.as_str()) {
                    let at = KeyPath::keys(&["service", "ports"])
                        .child(Seg::Index(i))
                        .key("targetPort");
                    check(self, at, name, &pod, "the pod");
                }
            }
        }
    }

    /// The main container's extra ports: each named, neither `http` nor greenlight's port.
    fn container_ports(&mut self, v: &Values, block: &KeyPath, c: &Kube) {
        let mut names = vec!["http".to_owned()];
        for (i, port) in list(c.get("ports")).iter().enumerate() {
            let at = block.key("ports").child(Seg::Index(i));
            self.named_port(&at, port.get("name"), &mut names, "container");
            if port["containerPort"].as_u64() == Some(u64::from(v.port)) {
                self.push_value(
                    &at.key("containerPort"),
                    format!("{} is `port`, the `http` port", v.port),
                    "another port",
                    None,
                );
            }
        }
    }

    /// A port's `name`: present, a valid port name, and not taken.
    fn named_port(
        &mut self,
        at: &KeyPath,
        name: Option<&serde_json::Value>,
        taken: &mut Vec<String>,
        what: &str,
    ) {
        match name.and_then(|n| n.as_str()) {
            None => self.push_value(
                at,
                format!("an extra {what} port needs a `name`"),
                "`name`: a port name such as `metrics` (probes and Services refer to it)",
                None,
            ),
            Some(name) => {
                self.rule(&at.key("name"), name, &PORT_NAME, false);
                if taken.iter().any(|t| t == name) {
                    self.push_value(
                        &at.key("name"),
                        format!("`{name}` names another {what} port"),
                        "a name of its own (`http` is greenlight's)",
                        None,
                    );
                }
                taken.push(name.to_owned());
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
/// The items of a list field of a pass-through block (none when absent or not a list).
fn list(value: Option<&serde_json::Value>) -> &[serde_json::Value] {
    value.and_then(|v| v.as_array()).map_or(&[], Vec::as_slice)
}

/// Whether top-level values key `key` is set.
fn is_set(v: &Values, key: &str) -> bool {
    match key {
        "env" => !v.env.is_empty(),
        "envFrom" => !v.env_from.is_empty(),
        "resources" => v.resources.is_some(),
        "securityContext" => v.security_context != Default::default(),
        "podSecurityContext" => v.pod_security_context != Default::default(),
        "readinessProbe" => true,
        "livenessProbe" => v.liveness_probe.is_some(),
        "startupProbe" => v.startup_probe.is_some(),
        "sidecars" => !v.sidecars.is_empty(),
        _ => false,
    }
}

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
