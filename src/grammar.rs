//! The one home of every rule about a name, an image reference, a path, a quantity or an
//! environment name: the grammars Kubernetes, OCI and git enforce, each with the form a
//! message states as expected and a likely fix. Values files, command-line arguments,
//! environment folders, repository paths and `init` all check with these, so a value is
//! accepted by all of them or refused by the first check, with one message. Pure: no YAML,
//! no disk, no git.

/// The expected form of every port.
pub const PORT_EXPECTED: &str = "a port number from 1 to 65535";

/// Longest `app` name: `<app>-preview` names a Service, whose name is a DNS-1035 label of at
/// most 63 characters.
pub const MAX_APP_LEN: usize = 63 - "-preview".len();

/// Why a name, reference or quantity is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// Nothing was given.
    #[error("is empty")]
    Empty,
    /// Longer than the grammar allows.
    #[error("is {len} characters long, more than {max}")]
    TooLong {
        /// Length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A fixed-length part has the wrong length.
    #[error("has {len} {what}, not {expected}")]
    WrongLength {
        /// What was counted.
        what: &'static str,
        /// How many there are.
        len: usize,
        /// How many there must be.
        expected: usize,
    },
    /// A character the grammar does not allow.
    #[error("contains {}", show(*ch))]
    BadChar {
        /// The first offending character.
        ch: char,
    },
    /// Starts with a character that may only appear inside.
    #[error("starts with {}", show(*ch))]
    BadStart {
        /// The first character.
        ch: char,
    },
    /// Ends with a character that may only appear inside.
    #[error("ends with {}", show(*ch))]
    BadEnd {
        /// The last character.
        ch: char,
    },
    /// A structural problem, described.
    #[error("{reason}")]
    Malformed {
        /// What is wrong with the structure.
        reason: &'static str,
    },
    /// An image repository that carries a tag.
    #[error("includes the tag `{tag}`")]
    HasTag {
        /// The tag found after `:`.
        tag: String,
    },
    /// An image repository that carries a digest.
    #[error("includes the digest `{digest}`")]
    HasDigest {
        /// The digest found after `@`.
        digest: String,
    },
    /// A negative quantity.
    #[error("is negative")]
    Negative,
    /// A host given as an IP address.
    #[error("is an IP address")]
    IpAddress,
}

fn show(ch: char) -> String {
    match ch {
        ' ' => "a space".to_owned(),
        '\t' => "a tab".to_owned(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        '`' => "a backquote".to_owned(),
        c => format!("`{c}`"),
    }
}

fn check_len(s: &str, max: usize) -> Result<(), Invalid> {
    let len = s.chars().count();
    if len == 0 {
        Err(Invalid::Empty)
    } else if len > max {
        Err(Invalid::TooLong { len, max })
    } else {
        Ok(())
    }
}

/// Characters allowed everywhere, then which may not start or end the name.
fn check_chars(
    s: &str,
    allowed: impl Fn(char) -> bool,
    edge: impl Fn(char) -> bool,
) -> Result<(), Invalid> {
    if let Some(ch) = s.chars().find(|c| !allowed(*c)) {
        return Err(Invalid::BadChar { ch });
    }
    match (s.chars().next(), s.chars().last()) {
        (Some(ch), _) if !edge(ch) => Err(Invalid::BadStart { ch }),
        (_, Some(ch)) if !edge(ch) => Err(Invalid::BadEnd { ch }),
        _ => Ok(()),
    }
}

fn lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// A DNS-1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn check_dns1123_label(s: &str) -> Result<(), Invalid> {
    check_len(s, 63)?;
    check_chars(s, |c| lower_alnum(c) || c == '-', lower_alnum)
}

/// A DNS-1123 subdomain: dot-separated DNS-1123 labels, at most 253 characters.
pub fn check_dns1123_subdomain(s: &str) -> Result<(), Invalid> {
    check_len(s, 253)?;
    check_chars(s, |c| lower_alnum(c) || c == '-' || c == '.', lower_alnum)?;
    for part in s.split('.') {
        if part.is_empty() {
            return Err(Invalid::Malformed {
                reason: "has an empty part between dots",
            });
        }
        check_chars(part, |_| true, lower_alnum)?;
    }
    Ok(())
}

/// An Ingress host: a DNS-1123 subdomain, optionally with a leading `*.` wildcard; not an IP.
pub fn check_host(s: &str) -> Result<(), Invalid> {
    let name = s.strip_prefix("*.").unwrap_or(s);
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Err(Invalid::IpAddress);
    }
    if name.contains('*') {
        return Err(Invalid::Malformed {
            reason: "has a `*` that is not a leading `*.`",
        });
    }
    check_dns1123_subdomain(name)
}

/// An HTTP header name as routes match it: lowercase letters, digits and `-`, starting and
/// ending with a letter or digit, at most 256 characters (Istio matches lowercase names).
pub fn check_header_name(s: &str) -> Result<(), Invalid> {
    check_len(s, 256)?;
    check_chars(s, |c| lower_alnum(c) || c == '-', lower_alnum)
}

/// An HTTP header value to match exactly: printable ASCII, at most 4096 characters.
pub fn check_header_value(s: &str) -> Result<(), Invalid> {
    check_len(s, 4096)?;
    check_chars(s, |c| c == ' ' || c.is_ascii_graphic(), |c| c != ' ')
}

/// An Istio gateway reference: `name` or `namespace/name`.
pub fn check_gateway_ref(s: &str) -> Result<(), Invalid> {
    match s.split_once('/') {
        Some((ns, name)) => {
            check_dns1123_label(ns)?;
            check_dns1123_subdomain(name)
        }
        None => check_dns1123_subdomain(s),
    }
}

/// An image tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn check_tag(s: &str) -> Result<(), Invalid> {
    check_len(s, 128)?;
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    check_chars(s, |c| word(c) || c == '.' || c == '-', |_| true)?;
    match s.chars().next() {
        Some(ch) if !word(ch) => Err(Invalid::BadStart { ch }),
        _ => Ok(()),
    }
}

/// An image digest: `sha256:` followed by 64 lowercase hex digits.
pub fn check_digest(s: &str) -> Result<(), Invalid> {
    let Some(hex) = s.strip_prefix("sha256:") else {
        return Err(if s.is_empty() {
            Invalid::Empty
        } else {
            Invalid::Malformed {
                reason: "does not start with `sha256:`",
            }
        });
    };
    if let Some(ch) = hex
        .chars()
        .find(|c| !(c.is_ascii_digit() || ('a'..='f').contains(c)))
    {
        return Err(Invalid::BadChar { ch });
    }
    if hex.len() != 64 {
        return Err(Invalid::WrongLength {
            what: "hex digits after `sha256:`",
            len: hex.len(),
            expected: 64,
        });
    }
    Ok(())
}

/// An OCI image repository without tag or digest (the distribution reference grammar):
/// an optional registry host with optional port, then lowercase path components
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` joined by `/`; at most 255 characters.
pub fn check_image_repository(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Err(Invalid::Empty);
    }
    if let Some((_, digest)) = s.split_once('@') {
        return Err(Invalid::HasDigest {
            digest: digest.to_owned(),
        });
    }
    let last = s.rsplit('/').next().unwrap_or(s);
    if let Some((_, tag)) = last.split_once(':') {
        return Err(Invalid::HasTag {
            tag: tag.to_owned(),
        });
    }
    check_len(s, 255)?;
    let (domain, path) = match s.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, s),
    };
    if let Some(domain) = domain {
        check_registry(domain)?;
    }
    for component in path.split('/') {
        check_path_component(component)?;
    }
    Ok(())
}

fn check_registry(domain: &str) -> Result<(), Invalid> {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return Err(Invalid::Malformed {
                reason: "has a registry address with `[` but no `]`",
            });
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(Invalid::Malformed {
                reason: "has a registry address in `[...]` that is not an IPv6 address",
            });
        }
        match after {
            "" => return Ok(()),
            _ => match after.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => {
                    return Err(Invalid::Malformed {
                        reason: "has text after the registry's `]` that is not a port",
                    })
                }
            },
        }
    } else {
        match domain.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (domain, None),
        }
    };
    if let Some(port) = port {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::Malformed {
                reason: "has a registry port that is not a number",
            });
        }
    }
    if host.is_empty() && domain.starts_with('[') {
        return Ok(());
    }
    for part in host.split('.') {
        if part.is_empty() {
            return Err(Invalid::Malformed {
                reason: "has a registry host with an empty part between dots",
            });
        }
        check_chars(
            part,
            |c| c.is_ascii_alphanumeric() || c == '-',
            |c| c.is_ascii_alphanumeric(),
        )?;
    }
    Ok(())
}

fn check_path_component(c: &str) -> Result<(), Invalid> {
    if c.is_empty() {
        return Err(Invalid::Malformed {
            reason: "has an empty path component (`//`, or `/` at the start or end)",
        });
    }
    check_chars(
        c,
        |ch| lower_alnum(ch) || matches!(ch, '.' | '_' | '-'),
        lower_alnum,
    )?;
    // Runs of separators between alphanumeric words must be `.`, `_`, `__` or `-`+.
    let bad_run = c
        .split(lower_alnum)
        .filter(|run| !run.is_empty())
        .any(|run| !(matches!(run, "." | "_" | "__") || run.bytes().all(|b| b == b'-')));
    if bad_run {
        return Err(Invalid::Malformed {
            reason: "separates words in a path component with something other than \
                     `.`, `_`, `__` or dashes",
        });
    }
    Ok(())
}

/// A Kubernetes resource quantity: a non-negative decimal number with an optional suffix
/// (`n u m k M G T P E`, `Ki Mi Gi Ti Pi Ei`, or a decimal exponent `e3`/`E-2`).
pub fn check_quantity(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Err(Invalid::Empty);
    }
    if s.starts_with('-') {
        return Err(Invalid::Negative);
    }
    let unsigned = s.strip_prefix('+').unwrap_or(s);
    let number_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_end);
    let digits = number.bytes().filter(u8::is_ascii_digit).count();
    if digits == 0 || number.matches('.').count() > 1 {
        return Err(Invalid::Malformed {
            reason: "does not start with a number",
        });
    }
    let exponent_ok = |e: &str| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    };
    let ok = match suffix {
        "" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => true,
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => true,
        _ => suffix.strip_prefix(['e', 'E']).is_some_and(exponent_ok),
    };
    if ok {
        Ok(())
    } else {
        Err(Invalid::Malformed {
            reason: "has an unknown unit suffix",
        })
    }
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A label or annotation key: an optional DNS-1123 subdomain prefix and `/`, then a name of
/// at most 63 characters `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`.
pub fn check_qualified_name(s: &str) -> Result<(), Invalid> {
    let name = match s.split_once('/') {
        Some((prefix, name)) => {
            if name.contains('/') {
                return Err(Invalid::Malformed {
                    reason: "has more than one `/`",
                });
            }
            check_dns1123_subdomain(prefix).map_err(|_| Invalid::Malformed {
                reason: "has a prefix before `/` that is not a DNS-1123 subdomain",
            })?;
            if name.is_empty() {
                return Err(Invalid::Malformed {
                    reason: "has no name after `/`",
                });
            }
            name
        }
        None => s,
    };
    check_len(name, 63)?;
    check_chars(name, name_char, |c| c.is_ascii_alphanumeric())
}

/// A label value: empty, or at most 63 characters `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`.
pub fn check_label_value(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Ok(());
    }
    check_len(s, 63)?;
    check_chars(s, name_char, |c| c.is_ascii_alphanumeric())
}

/// An environment variable name: `[-._a-zA-Z][-._a-zA-Z0-9]*`.
pub fn check_variable_name(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Err(Invalid::Empty);
    }
    check_chars(
        s,
        |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'),
        |_| true,
    )?;
    match s.chars().next() {
        Some(ch) if ch.is_ascii_digit() => Err(Invalid::BadStart { ch }),
        _ => Ok(()),
    }
}

/// A key inside a ConfigMap or Secret: `[-._a-zA-Z0-9]+`, at most 253 characters.
pub fn check_config_key(s: &str) -> Result<(), Invalid> {
    check_len(s, 253)?;
    check_chars(
        s,
        |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'),
        |_| true,
    )
}

/// An HTTP path: starts with `/`, no whitespace or control characters.
pub fn check_http_path(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Err(Invalid::Empty);
    }
    if let Some(ch) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(Invalid::BadChar { ch });
    }
    match s.chars().next() {
        Some('/') => Ok(()),
        Some(ch) => Err(Invalid::BadStart { ch }),
        None => Err(Invalid::Empty),
    }
}

/// The pod fields an environment variable may read (`fieldRef`).
const FIELD_REFS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.labels['<key>']",
    "metadata.annotations['<key>']",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// A pod field an environment variable may read.
pub fn check_field_ref(s: &str) -> Result<(), Invalid> {
    let subscript = |prefix: &str| {
        s.strip_prefix(prefix)
            .and_then(|r| r.strip_prefix("['"))
            .and_then(|r| r.strip_suffix("']"))
            .is_some_and(|key| check_qualified_name(key).is_ok())
    };
    if FIELD_REFS.contains(&s) || subscript("metadata.labels") || subscript("metadata.annotations")
    {
        Ok(())
    } else if s.is_empty() {
        Err(Invalid::Empty)
    } else {
        Err(Invalid::Malformed {
            reason: "is not a pod field that Kubernetes exposes to containers",
        })
    }
}

/// A DNS-1035 label (what Service names must be): `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63
/// characters.
pub fn check_dns1035_label(s: &str) -> Result<(), Invalid> {
    check_dns1123_label(s)?;
    match s.chars().next() {
        Some(ch) if !ch.is_ascii_lowercase() => Err(Invalid::BadStart { ch }),
        _ => Ok(()),
    }
}

/// A port name (IANA service name, what Kubernetes requires of container and Service port
/// names): lowercase letters, digits and `-`, at least one letter, no `--`, starting and
/// ending with a letter or digit, at most 15 characters.
pub fn check_port_name(s: &str) -> Result<(), Invalid> {
    check_len(s, 15)?;
    check_chars(s, |c| lower_alnum(c) || c == '-', lower_alnum)?;
    if s.contains("--") {
        return Err(Invalid::Malformed { reason: "has `--`" });
    }
    if !s.chars().any(|c| c.is_ascii_lowercase()) {
        return Err(Invalid::Malformed {
            reason: "has no letter",
        });
    }
    Ok(())
}

/// An `app` name: it names every resource (`<app>-preview` is a Service), so a DNS-1035
/// label of at most [`MAX_APP_LEN`] characters. That also keeps file names free of `/`.
pub fn check_app_name(s: &str) -> Result<(), Invalid> {
    check_dns1035_label(s)?;
    check_len(s, MAX_APP_LEN)
}

/// An environment name: a relative path of segments under `environments/`, such as
/// `staging` or `production/eu-west/api` (letters, digits, `-`, `_`, `.`, no segment
/// starting with `.`).
pub fn check_environment(s: &str) -> Result<(), Invalid> {
    check_relative_path(s)?;
    for segment in s.split('/') {
        check_chars(
            segment,
            |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'),
            |_| true,
        )?;
        if let Some(ch) = segment.chars().next().filter(|c| *c == '.') {
            return Err(Invalid::BadStart { ch });
        }
    }
    Ok(())
}

/// A path relative to the repository root, `a/b/c.yaml`: not empty, not absolute, `/`
/// between components (no `\`), no empty, `.` or `..` component, no NUL, and never into
/// `.git`. The one rule for every path greenlight reads or writes by name.
pub fn check_relative_path(s: &str) -> Result<(), Invalid> {
    let malformed = |reason| Err(Invalid::Malformed { reason });
    if s.is_empty() {
        return Err(Invalid::Empty);
    }
    if s.contains('\0') {
        return malformed("contains a NUL byte");
    }
    if s.contains('\\') {
        return malformed("contains a backslash; use `/` between components");
    }
    if s.starts_with('/') {
        return malformed("is absolute; give it relative to the repository root");
    }
    for component in s.split('/') {
        match component {
            "" => return malformed("has an empty component (`//` or a trailing `/`)"),
            "." | ".." => return malformed("has a `.` or `..` component"),
            c if c.eq_ignore_ascii_case(".git") => return malformed("reaches into `.git`"),
            _ => {}
        }
    }
    Ok(())
}

/// The name of the Flux Kustomization / Argo CD Application of `app` in environment `env`:
/// `<app>-<env>` with `/` as `-`, which must be a DNS-1123 subdomain (so `env` must be
/// lowercase).
pub fn wiring_name(app: &str, env: &str) -> String {
    format!("{app}-{}", env.replace('/', "-"))
}

/// Whether [`wiring_name`] of `app` in `env` is a valid object name.
pub fn check_wiring_name(app: &str, env: &str) -> Result<(), Invalid> {
    check_dns1123_subdomain(&wiring_name(app, env))
}

/// One grammar as messages state it: what the value is called, the check, the accepted
/// form, and a likely fix.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// What the value is, in a message (`app name`).
    pub what: &'static str,
    /// The check.
    pub check: fn(&str) -> Result<(), Invalid>,
    /// The accepted form, for the `expected:` line.
    pub expected: &'static str,
    /// A likely fix for a refused value.
    pub hint: fn(&str, &Invalid) -> Option<String>,
}

impl Rule {
    /// The check, with a refusal described fully: `` `v1:2` is not an image tag: it contains
    /// `:` ``, the expected form, and the hint.
    pub fn apply(&self, value: &str) -> Result<(), Refusal> {
        (self.check)(value).map_err(|invalid| Refusal {
            message: format!(
                "`{}` is not a valid {}: it {invalid}",
                value.escape_debug(),
                self.what
            ),
            expected: self.expected,
            hint: (self.hint)(value, &invalid),
        })
    }
}

/// A value a [`Rule`] refused, described for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// What is wrong, naming the value.
    pub message: String,
    /// The accepted form.
    pub expected: &'static str,
    /// A likely fix.
    pub hint: Option<String>,
}

fn no_hint(_: &str, _: &Invalid) -> Option<String> {
    None
}

fn dns_hint(_: &str, e: &Invalid) -> Option<String> {
    match e {
        Invalid::BadChar { ch } if ch.is_ascii_uppercase() => {
            Some("use lowercase letters".to_owned())
        }
        Invalid::BadChar { ch: '_' } => Some("use `-` instead of `_`".to_owned()),
        _ => None,
    }
}

fn image_hint(image: &str, e: &Invalid) -> Option<String> {
    match e {
        Invalid::HasTag { tag } => Some(format!(
            "write `image: {}` and move the tag into the colour block: `tag: \"{tag}\"`",
            &image[..image.len() - tag.len() - 1]
        )),
        Invalid::HasDigest { digest } => Some(format!(
            "write `image: {}` and move the digest into the colour block: `digest: {digest}`",
            &image[..image.len() - digest.len() - 1]
        )),
        Invalid::BadChar { ch } if ch.is_ascii_uppercase() => {
            Some("repository paths are lowercase".to_owned())
        }
        _ => None,
    }
}

fn quantity_hint(q: &str, _: &Invalid) -> Option<String> {
    let number = q.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &q[number.len()..];
    let unit = suffix.chars().next()?.to_ascii_uppercase();
    if !"KMGTPE".contains(unit) {
        return None;
    }
    let decimal = if unit == 'K' { 'k' } else { unit };
    match suffix.to_ascii_lowercase().as_str() {
        "kb" | "mb" | "gb" | "tb" | "pb" | "eb" => Some(format!(
            "quantities have no `B`: write `{number}{unit}i` (powers of 1024) or \
             `{number}{decimal}` (powers of 1000)"
        )),
        "ki" | "mi" | "gi" | "ti" | "pi" | "ei" => Some(format!("write `{number}{unit}i`")),
        "k" if suffix == "K" => Some(format!("write `{number}k` or `{number}Ki`")),
        _ => None,
    }
}

fn field_ref_hint(field: &str, _: &Invalid) -> Option<String> {
    crate::suggest::did_you_mean(field, FIELD_REFS)
}

/// The rule of an app.
pub const APP: Rule = Rule {
    what: "app name",
    check: check_app_name,
    expected: "a DNS-1035 label: lowercase letters, digits and `-`, starting with a letter and \
               ending with a letter or digit, at most 55 characters (so that `<app>-preview` is \
               a valid Service name)",
    hint: dns_hint,
};
/// The rule of a dns label.
pub const DNS_LABEL: Rule = Rule {
    what: "DNS-1123 label",
    check: check_dns1123_label,
    expected: "a DNS-1123 label: lowercase letters, digits and `-`, starting and ending with a \
               letter or digit, at most 63 characters",
    hint: dns_hint,
};
/// The rule of a subdomain.
pub const SUBDOMAIN: Rule = Rule {
    what: "DNS-1123 subdomain",
    check: check_dns1123_subdomain,
    expected: "a DNS-1123 subdomain: dot-separated words of lowercase letters, digits and `-`, \
               at most 253 characters",
    hint: dns_hint,
};
/// The rule of an host.
pub const HOST: Rule = Rule {
    what: "host name",
    check: check_host,
    expected: "a DNS-1123 subdomain such as `api.example.com`, optionally starting with `*.`",
    hint: dns_hint,
};
/// The rule of an http path.
pub const HTTP_PATH: Rule = Rule {
    what: "HTTP path",
    check: check_http_path,
    expected: "a path starting with `/`, without spaces, such as `/healthz`",
    hint: no_hint,
};
/// The rule of an image.
pub const IMAGE: Rule = Rule {
    what: "image repository",
    check: check_image_repository,
    expected: "an image repository without tag or digest, such as \
               `registry.example.com/shop/api`",
    hint: image_hint,
};
/// The rule of a tag.
pub const TAG: Rule = Rule {
    what: "image tag",
    check: check_tag,
    expected: "letters, digits, `_`, `.` and `-`, not starting with `.` or `-`, at most 128 \
               characters",
    hint: no_hint,
};
/// The rule of a digest.
pub const DIGEST: Rule = Rule {
    what: "image digest",
    check: check_digest,
    expected: "`sha256:` followed by 64 lowercase hex digits",
    hint: no_hint,
};
/// The rule of a quantity.
pub const QUANTITY: Rule = Rule {
    what: "quantity",
    check: check_quantity,
    expected: "a Kubernetes quantity such as `100m`, `0.5`, `1`, `256Mi` or `1G` (units: n u m \
               k M G T P E, Ki Mi Gi Ti Pi Ei)",
    hint: quantity_hint,
};
/// The rule of a qualified name.
pub const QUALIFIED_NAME: Rule = Rule {
    what: "key",
    check: check_qualified_name,
    expected: "an optional DNS-1123 subdomain and `/`, then at most 63 letters, digits, `-`, `_` \
               and `.`, starting and ending with a letter or digit (such as `example.com/team`)",
    hint: no_hint,
};
/// The rule of a label value.
pub const LABEL_VALUE: Rule = Rule {
    what: "label value",
    check: check_label_value,
    expected: "empty, or at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a \
               letter or digit",
    hint: no_hint,
};
/// The rule of an environment variable name.
pub const VARIABLE_NAME: Rule = Rule {
    what: "variable name",
    check: check_variable_name,
    expected: "letters, digits, `_`, `-` and `.`, not starting with a digit (such as \
               `LOG_LEVEL`)",
    hint: no_hint,
};
/// The rule of a config key.
pub const CONFIG_KEY: Rule = Rule {
    what: "ConfigMap or Secret key",
    check: check_config_key,
    expected: "letters, digits, `-`, `_` and `.`, at most 253 characters",
    hint: no_hint,
};
/// The rule of a field ref.
pub const FIELD_REF: Rule = Rule {
    what: "pod field",
    check: check_field_ref,
    expected: "a pod field such as `metadata.name`, `metadata.namespace`, \
               `metadata.labels['<key>']`, `spec.nodeName` or `status.podIP`",
    hint: field_ref_hint,
};

/// The rule of an header name.
pub const HEADER_NAME: Rule = Rule {
    what: "header name",
    check: check_header_name,
    expected: "lowercase letters, digits and `-`, such as `x-preview`",
    hint: dns_hint,
};
/// The rule of an header value.
pub const HEADER_VALUE: Rule = Rule {
    what: "header value",
    check: check_header_value,
    expected: "printable ASCII text, at most 4096 characters",
    hint: no_hint,
};
/// Source kinds a Flux Kustomization may reference.
pub const FLUX_SOURCE_KINDS: &[&str] = &[
    "GitRepository",
    "OCIRepository",
    "Bucket",
    "ExternalArtifact",
];

/// Every `spec.type` of a Flux notification-controller Provider (v1beta3, notification-
/// controller v1.9.3).
pub const FLUX_PROVIDER_TYPES: &[&str] = &[
    "alertmanager",
    "azuredevops",
    "azureeventhub",
    "bitbucket",
    "bitbucketserver",
    "datadog",
    "discord",
    "generic",
    "generic-hmac",
    "gitea",
    "giteapullrequestcomment",
    "github",
    "githubdispatch",
    "githubpullrequestcomment",
    "gitlab",
    "gitlabmergerequestcomment",
    "googlechat",
    "googlepubsub",
    "grafana",
    "lark",
    "matrix",
    "msteams",
    "nats",
    "opsgenie",
    "otel",
    "pagerduty",
    "rocket",
    "sentry",
    "slack",
    "telegram",
    "webex",
    "zulip",
];

/// The Flux Provider types that post commit statuses (the only ones `commitStatusExpr` is
/// allowed on).
pub const FLUX_COMMIT_STATUS_TYPES: &[&str] = &[
    "azuredevops",
    "bitbucket",
    "bitbucketserver",
    "gitea",
    "github",
    "gitlab",
];

/// The forge a host name suggests (`github`, `gitlab` or `gitea`): github.com and GitHub
/// Enterprise hosts named `github.*`, gitlab.com and `gitlab.*`, codeberg.org, `gitea.*` and
/// `forgejo.*`; `None` for any other host.
pub fn forge_of_host(host: &str) -> Option<&'static str> {
    let first = host.split('.').next().unwrap_or_default();
    if host == "github.com" || host.ends_with(".github.com") || first == "github" {
        Some("github")
    } else if host == "gitlab.com" || first == "gitlab" {
        Some("gitlab")
    } else if host == "codeberg.org" || first == "gitea" || first == "forgejo" {
        Some("gitea")
    } else {
        None
    }
}

/// A commit status context as greenlight writes it into a Flux `commitStatusExpr` (a CEL
/// string literal): printable ASCII without quotes or backslashes, at most 255 characters.
pub fn check_status_context(s: &str) -> Result<(), Invalid> {
    check_len(s, 255)?;
    check_chars(
        s,
        |c| (c == ' ' || c.is_ascii_graphic()) && !matches!(c, '\'' | '"' | '\\'),
        |c| c != ' ',
    )
}

/// The rule of a status context.
pub const STATUS_CONTEXT: Rule = Rule {
    what: "status context",
    check: check_status_context,
    expected: "a status name such as `kustomization/api-production`: printable ASCII without \
               quotes or backslashes, at most 255 characters",
    hint: no_hint,
};

/// The name of an Argo CD notification service, as it appears in the annotation
/// `notifications.argoproj.io/subscribe.<trigger>.<service>`: letters, digits, `-`, `_` and
/// `.`, starting and ending with a letter or digit, at most 34 characters (so the longest
/// trigger's annotation name stays within 63).
pub fn check_notification_service(s: &str) -> Result<(), Invalid> {
    check_len(s, 34)?;
    check_chars(
        s,
        |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'),
        |c| c.is_ascii_alphanumeric(),
    )
}

/// The rule of an Argo CD notification service name.
pub const NOTIFICATION_SERVICE: Rule = Rule {
    what: "notification service name",
    check: check_notification_service,
    expected: "the name of a service in argocd-notifications-cm such as `slack` or `teams`: \
               letters, digits, `-`, `_` and `.`, at most 34 characters",
    hint: no_hint,
};

/// The web address of a repository on a forge: an `https://` (or `http://`) URL with a host,
/// no credentials, and a path of at least `owner/repo`, at most 2048 characters.
pub fn check_repository_url(s: &str) -> Result<(), Invalid> {
    check_len(s, 2048)?;
    let url = url::Url::parse(s).map_err(|_| Invalid::Malformed {
        reason: "is not a URL",
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Invalid::Malformed {
            reason: "is not an https:// (or http://) URL",
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Invalid::Malformed {
            reason: "has no host",
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Invalid::Malformed {
            reason: "holds credentials (the token belongs in the Secret)",
        });
    }
    let segments = url
        .path_segments()
        .map_or(0, |p| p.filter(|s| !s.is_empty()).count());
    if segments < 2 {
        return Err(Invalid::Malformed {
            reason: "has no `owner/repository` path",
        });
    }
    Ok(())
}

/// The rule of a repository URL.
pub const REPOSITORY_URL: Rule = Rule {
    what: "repository URL",
    check: check_repository_url,
    expected: "the repository's web address, such as `https://github.com/acme/gitops`",
    hint: no_hint,
};

/// A notification setting (a channel, a webhook address): one line of at most 2048
/// characters.
pub fn check_notification_text(s: &str) -> Result<(), Invalid> {
    check_len(s, 2048)?;
    check_chars(s, |c| !c.is_control(), |c| !c.is_whitespace())
}

/// The rule of a notification setting.
pub const NOTIFICATION_TEXT: Rule = Rule {
    what: "notification setting",
    check: check_notification_text,
    expected: "one line of at most 2048 characters, without leading or trailing spaces",
    hint: no_hint,
};

/// A Go duration as Flux accepts it: `([0-9]+(\.[0-9]+)?(ms|s|m|h))+`, such as `10m` or `1h30m`.
pub fn check_duration(s: &str) -> Result<(), Invalid> {
    check_len(s, 64)?;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        let valid_number = !number.is_empty()
            && !number.starts_with('.')
            && !number.ends_with('.')
            && number.matches('.').count() <= 1;
        if !valid_number {
            return Err(Invalid::Malformed {
                reason: "is not a number followed by a unit",
            });
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h"]
            .into_iter()
            .find(|u| rest.starts_with(u))
            .ok_or(Invalid::Malformed {
                reason: "has a number without a unit of `ms`, `s`, `m` or `h`",
            })?;
        rest = &rest[unit.len()..];
    }
    Ok(())
}

/// The rule of a duration.
pub const DURATION: Rule = Rule {
    what: "duration",
    check: check_duration,
    expected: "a duration such as `10m`, `30s` or `1h30m` (units ms, s, m, h)",
    hint: no_hint,
};
/// The rule of a gateway ref.
pub const GATEWAY_REF: Rule = Rule {
    what: "gateway reference",
    check: check_gateway_ref,
    expected: "a Gateway name, or `namespace/name` such as `istio-system/public`",
    hint: dns_hint,
};

/// A colour-coded release tag, `VERSION-COLOR`: an image tag, `-`, and `blue` or `green`
/// (`v2.0-green`).
pub fn check_release_tag(s: &str) -> Result<(), Invalid> {
    let Some((version, color)) = s.rsplit_once('-') else {
        return Err(if s.is_empty() {
            Invalid::Empty
        } else {
            Invalid::Malformed {
                reason: "has no `-COLOR` at the end",
            }
        });
    };
    if !matches!(color, "blue" | "green") {
        return Err(Invalid::Malformed {
            reason: "does not end in `-blue` or `-green`",
        });
    }
    check_tag(version)
}

/// The rule of a colour-coded release tag.
pub const RELEASE_TAG: Rule = Rule {
    what: "release tag",
    check: check_release_tag,
    expected: "VERSION-COLOR: an image tag, `-` and `blue` or `green`, such as `v2.0-green`",
    hint: no_hint,
};

/// A file of an environment's folder, named relative to it: a relative path that stays
/// inside the folder (see [`check_relative_path`]).
pub fn check_environment_file(s: &str) -> Result<(), Invalid> {
    check_relative_path(s)
}

/// The rule of a file of an environment's folder.
pub const ENVIRONMENT_FILE: Rule = Rule {
    what: "file of the environment's folder",
    check: check_environment_file,
    expected: "a path relative to the environment's folder, such as `app.toml` or \
               `config/app.toml`, without `..`",
    hint: no_hint,
};

/// Where a volume is mounted in a container: an absolute path, not `/`, without `.` or `..`
/// components.
pub fn check_mount_path(s: &str) -> Result<(), Invalid> {
    let Some(rest) = s.strip_prefix('/') else {
        return Err(match s.chars().next() {
            Some(ch) => Invalid::BadStart { ch },
            None => Invalid::Empty,
        });
    };
    if rest.is_empty() {
        return Err(Invalid::Malformed {
            reason: "is the root folder",
        });
    }
    check_relative_path(rest.trim_end_matches('/'))
}

/// The rule of a port name.
pub const PORT_NAME: Rule = Rule {
    what: "port name",
    check: check_port_name,
    expected: "a port name: lowercase letters, digits and `-`, at least one letter, starting \
               and ending with a letter or digit, no `--`, at most 15 characters (e.g. \
               `metrics`, `grpc`)",
    hint: no_hint,
};

/// The rule of a mount path.
pub const MOUNT_PATH: Rule = Rule {
    what: "mount path",
    check: check_mount_path,
    expected: "an absolute path such as `/etc/app`",
    hint: no_hint,
};

/// The rule of an environment name (a folder under `environments/`).
pub const ENVIRONMENT: Rule = Rule {
    what: "environment name",
    check: check_environment,
    expected: "a relative path under environments/ of letters, digits, `-`, `_` and `.`, such \
               as `staging` or `production/eu-west/api`",
    hint: no_hint,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn table(check: fn(&str) -> Result<(), Invalid>, valid: &[&str], invalid: &[(&str, Invalid)]) {
        for v in valid {
            assert_eq!(check(v), Ok(()), "{v:?} should be valid");
        }
        for (v, why) in invalid {
            assert_eq!(check(v).as_ref(), Err(why), "{v:?}");
        }
    }

    #[test]
    fn dns1123_labels() {
        let long = "a".repeat(64);
        table(
            check_dns1123_label,
            &["a", "api", "my-app-2", "0abc", &"a".repeat(63)],
            &[
                ("", Invalid::Empty),
                (&long, Invalid::TooLong { len: 64, max: 63 }),
                ("My-app", Invalid::BadChar { ch: 'M' }),
                ("my_app", Invalid::BadChar { ch: '_' }),
                ("my.app", Invalid::BadChar { ch: '.' }),
                ("-app", Invalid::BadStart { ch: '-' }),
                ("app-", Invalid::BadEnd { ch: '-' }),
            ],
        );
    }

    #[test]
    fn dns1123_subdomains() {
        let long = format!("{}.com", "a".repeat(250));
        table(
            check_dns1123_subdomain,
            &["a", "nginx", "api.example.com", "my-secret.v2"],
            &[
                ("", Invalid::Empty),
                (&long, Invalid::TooLong { len: 254, max: 253 }),
                (
                    "a..b",
                    Invalid::Malformed {
                        reason: "has an empty part between dots",
                    },
                ),
                ("a.-b", Invalid::BadStart { ch: '-' }),
                ("a-.b", Invalid::BadEnd { ch: '-' }),
                (".a", Invalid::BadStart { ch: '.' }),
                ("Api.com", Invalid::BadChar { ch: 'A' }),
            ],
        );
    }

    #[test]
    fn hosts() {
        table(
            check_host,
            &["api.example.com", "*.example.com", "localhost"],
            &[
                ("10.0.0.1", Invalid::IpAddress),
                (
                    "a.*.com",
                    Invalid::Malformed {
                        reason: "has a `*` that is not a leading `*.`",
                    },
                ),
                ("api_x.com", Invalid::BadChar { ch: '_' }),
            ],
        );
    }

    #[test]
    fn image_repositories() {
        table(
            check_image_repository,
            &[
                "api",
                "library/nginx",
                "registry.example.com/shop/api",
                "localhost/api",
                "localhost:5000/api",
                "registry.example.com:5000/a/b/c",
                "[::1]:5000/api",
                "Registry.Example.com/api",
                "ghcr.io/org/my_image__x.y-z--w",
            ],
            &[
                ("", Invalid::Empty),
                ("api:1.2", Invalid::HasTag { tag: "1.2".into() }),
                (
                    "registry.example.com:5000/api:latest",
                    Invalid::HasTag {
                        tag: "latest".into(),
                    },
                ),
                (
                    "api@sha256:abc",
                    Invalid::HasDigest {
                        digest: "sha256:abc".into(),
                    },
                ),
                ("Shop", Invalid::BadChar { ch: 'S' }),
                ("shop/API", Invalid::BadChar { ch: 'A' }),
                (
                    "shop//api",
                    Invalid::Malformed {
                        reason: "has an empty path component (`//`, or `/` at the start or end)",
                    },
                ),
                (
                    "shop/api/",
                    Invalid::Malformed {
                        reason: "has an empty path component (`//`, or `/` at the start or end)",
                    },
                ),
                ("shop/-api", Invalid::BadStart { ch: '-' }),
                (
                    "shop/a..b",
                    Invalid::Malformed {
                        reason: "separates words in a path component with something other than \
                             `.`, `_`, `__` or dashes",
                    },
                ),
                (
                    "shop/a___b",
                    Invalid::Malformed {
                        reason: "separates words in a path component with something other than \
                             `.`, `_`, `__` or dashes",
                    },
                ),
                ("reg-.com/api", Invalid::BadEnd { ch: '-' }),
                (
                    "reg.com:x/api",
                    Invalid::Malformed {
                        reason: "has a registry port that is not a number",
                    },
                ),
                (
                    &format!("r.io/{}", "a".repeat(252)),
                    Invalid::TooLong { len: 257, max: 255 },
                ),
            ],
        );
    }

    #[test]
    fn tags() {
        table(
            check_tag,
            &[
                "1.5.0",
                "v1",
                "latest",
                "_x",
                "1.5.0-rc.1_build",
                &"a".repeat(128),
            ],
            &[
                ("", Invalid::Empty),
                (".x", Invalid::BadStart { ch: '.' }),
                ("-x", Invalid::BadStart { ch: '-' }),
                ("1.0+build", Invalid::BadChar { ch: '+' }),
                ("a b", Invalid::BadChar { ch: ' ' }),
                (&"a".repeat(129), Invalid::TooLong { len: 129, max: 128 }),
            ],
        );
    }

    #[test]
    fn digests() {
        let hex = "0123456789abcdef".repeat(4);
        table(
            check_digest,
            &[&format!("sha256:{hex}")],
            &[
                ("", Invalid::Empty),
                (
                    &hex,
                    Invalid::Malformed {
                        reason: "does not start with `sha256:`",
                    },
                ),
                (
                    &format!("sha256:{}", hex.to_uppercase()),
                    Invalid::BadChar { ch: 'A' },
                ),
                (
                    &format!("sha256:{}", &hex[1..]),
                    Invalid::WrongLength {
                        what: "hex digits after `sha256:`",
                        len: 63,
                        expected: 64,
                    },
                ),
                (
                    &format!("sha512:{hex}"),
                    Invalid::Malformed {
                        reason: "does not start with `sha256:`",
                    },
                ),
            ],
        );
    }

    #[test]
    fn quantities() {
        let unit = Invalid::Malformed {
            reason: "has an unknown unit suffix",
        };
        let nan = Invalid::Malformed {
            reason: "does not start with a number",
        };
        table(
            check_quantity,
            &[
                "0", "1", "100m", "0.5", ".5", "1.", "256Mi", "1Gi", "2Ti", "1k", "1M", "1e3",
                "1E-2", "5n", "3u", "+1", "1.5Gi", "12Ei",
            ],
            &[
                ("", Invalid::Empty),
                ("-1", Invalid::Negative),
                ("256MB", unit.clone()),
                ("1gi", unit.clone()),
                ("1K", unit.clone()),
                ("1e", unit.clone()),
                ("1 Gi", unit),
                ("Mi", nan.clone()),
                ("1.2.3", nan.clone()),
                (".", nan),
            ],
        );
    }

    #[test]
    fn qualified_names() {
        table(
            check_qualified_name,
            &[
                "app",
                "team",
                "example.com/team",
                "app.kubernetes.io/name",
                "A_b.c-D",
                "a",
            ],
            &[
                ("", Invalid::Empty),
                ("-a", Invalid::BadStart { ch: '-' }),
                ("a_", Invalid::BadEnd { ch: '_' }),
                ("a b", Invalid::BadChar { ch: ' ' }),
                (
                    "a/b/c",
                    Invalid::Malformed {
                        reason: "has more than one `/`",
                    },
                ),
                (
                    "Example.com/x",
                    Invalid::Malformed {
                        reason: "has a prefix before `/` that is not a DNS-1123 subdomain",
                    },
                ),
                (
                    "/x",
                    Invalid::Malformed {
                        reason: "has a prefix before `/` that is not a DNS-1123 subdomain",
                    },
                ),
                (
                    "example.com/",
                    Invalid::Malformed {
                        reason: "has no name after `/`",
                    },
                ),
                (&"a".repeat(64), Invalid::TooLong { len: 64, max: 63 }),
            ],
        );
    }

    #[test]
    fn label_values() {
        table(
            check_label_value,
            &["", "v1", "1.10", "a-b_c.D"],
            &[
                ("a b", Invalid::BadChar { ch: ' ' }),
                ("-a", Invalid::BadStart { ch: '-' }),
                ("a/b", Invalid::BadChar { ch: '/' }),
                (&"a".repeat(64), Invalid::TooLong { len: 64, max: 63 }),
            ],
        );
    }

    #[test]
    fn variable_names() {
        table(
            check_variable_name,
            &["LOG_LEVEL", "_x", "a.b-c", "-x", ".x", "x1"],
            &[
                ("", Invalid::Empty),
                ("1X", Invalid::BadStart { ch: '1' }),
                ("A B", Invalid::BadChar { ch: ' ' }),
                ("A=B", Invalid::BadChar { ch: '=' }),
            ],
        );
    }

    #[test]
    fn http_paths() {
        table(
            check_http_path,
            &["/", "/healthz", "/api/v1?x=1"],
            &[
                ("", Invalid::Empty),
                ("healthz", Invalid::BadStart { ch: 'h' }),
                ("/a b", Invalid::BadChar { ch: ' ' }),
                ("/a\n", Invalid::BadChar { ch: '\n' }),
            ],
        );
    }

    #[test]
    fn field_refs() {
        let not_field = Invalid::Malformed {
            reason: "is not a pod field that Kubernetes exposes to containers",
        };
        table(
            check_field_ref,
            &[
                "metadata.name",
                "status.podIP",
                "metadata.labels['app.kubernetes.io/name']",
            ],
            &[
                ("", Invalid::Empty),
                ("metadata.nam", not_field.clone()),
                ("metadata.labels['bad key']", not_field),
            ],
        );
    }

    #[test]
    fn invalid_reads_as_a_sentence_fragment() {
        assert_eq!(Invalid::BadChar { ch: ' ' }.to_string(), "contains a space");
        assert_eq!(
            Invalid::TooLong { len: 64, max: 63 }.to_string(),
            "is 64 characters long, more than 63"
        );
        assert_eq!(
            Invalid::HasTag { tag: "1.2".into() }.to_string(),
            "includes the tag `1.2`"
        );
    }
}
