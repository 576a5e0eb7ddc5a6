//! Semantic rules of values files: name grammars (DNS-1123, OCI references, label keys,
//! quantities), ranges, and the consistency of the colour blocks.
//!
//! The `check_*` functions are public so that other modules can vet user input (a `--tag`
//! given on the command line) with the same grammar the values file gets. The file-level pass
//! reports every problem, located through the spanned tree. Nothing here parses YAML or edits.

use saphyr_parser::ScalarStyle;

use super::diagnostic::{Diagnostic, DiagnosticKind};
use super::model::{ColorSpec, EnvValue, GatewayApi, HeaderMatch, Istio, Probe, Routing, Values};
use super::path::{KeyPath, Seg};
use super::scalar::{self, PlainKind};
use super::tree::{Node, Pos};

/// The expected form of every port.
pub const PORT_EXPECTED: &str = "a port number from 1 to 65535";

/// Longest `app` name, so that `<app>-preview` and `<app>-green` stay valid names.
pub const MAX_APP_LEN: usize = 47;

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
pub fn check_env_name(s: &str) -> Result<(), Invalid> {
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

/// An `app` name: a DNS-1123 label of at most 47 characters, so that `<app>-preview` and
/// `<app>-green` stay valid names.
pub fn check_app_name(s: &str) -> Result<(), Invalid> {
    check_dns1123_label(s)?;
    check_len(s, MAX_APP_LEN)
}

/// One grammar as the file-level pass applies it: what it is called in messages, the check,
/// the accepted form, and a likely fix.
struct Rule {
    what: &'static str,
    check: fn(&str) -> Result<(), Invalid>,
    expected: &'static str,
    hint: fn(&str, &Invalid) -> Option<String>,
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
    super::de::suggest(field, FIELD_REFS).map(|s| format!("did you mean `{s}`?"))
}

const APP: Rule = Rule {
    what: "app name",
    check: check_app_name,
    expected: "a DNS-1123 label: lowercase letters, digits and `-`, starting and ending with a \
               letter or digit, at most 47 characters (so that `<app>-preview` and \
               `<app>-green` stay valid names)",
    hint: dns_hint,
};
const DNS_LABEL: Rule = Rule {
    what: "DNS-1123 label",
    check: check_dns1123_label,
    expected: "a DNS-1123 label: lowercase letters, digits and `-`, starting and ending with a \
               letter or digit, at most 63 characters",
    hint: dns_hint,
};
const SUBDOMAIN: Rule = Rule {
    what: "DNS-1123 subdomain",
    check: check_dns1123_subdomain,
    expected: "a DNS-1123 subdomain: dot-separated words of lowercase letters, digits and `-`, \
               at most 253 characters",
    hint: dns_hint,
};
const HOST: Rule = Rule {
    what: "host name",
    check: check_host,
    expected: "a DNS-1123 subdomain such as `api.example.com`, optionally starting with `*.`",
    hint: dns_hint,
};
const HTTP_PATH: Rule = Rule {
    what: "HTTP path",
    check: check_http_path,
    expected: "a path starting with `/`, without spaces, such as `/healthz`",
    hint: no_hint,
};
const IMAGE: Rule = Rule {
    what: "image repository",
    check: check_image_repository,
    expected: "an image repository without tag or digest, such as \
               `registry.example.com/shop/api`",
    hint: image_hint,
};
const TAG: Rule = Rule {
    what: "image tag",
    check: check_tag,
    expected: "letters, digits, `_`, `.` and `-`, not starting with `.` or `-`, at most 128 \
               characters",
    hint: no_hint,
};
const DIGEST: Rule = Rule {
    what: "image digest",
    check: check_digest,
    expected: "`sha256:` followed by 64 lowercase hex digits",
    hint: no_hint,
};
const QUANTITY: Rule = Rule {
    what: "quantity",
    check: check_quantity,
    expected: "a Kubernetes quantity such as `100m`, `0.5`, `1`, `256Mi` or `1G` (units: n u m \
               k M G T P E, Ki Mi Gi Ti Pi Ei)",
    hint: quantity_hint,
};
const QUALIFIED_NAME: Rule = Rule {
    what: "key",
    check: check_qualified_name,
    expected: "an optional DNS-1123 subdomain and `/`, then at most 63 letters, digits, `-`, `_` \
               and `.`, starting and ending with a letter or digit (such as `example.com/team`)",
    hint: no_hint,
};
const LABEL_VALUE: Rule = Rule {
    what: "label value",
    check: check_label_value,
    expected: "empty, or at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a \
               letter or digit",
    hint: no_hint,
};
const ENV_NAME: Rule = Rule {
    what: "variable name",
    check: check_env_name,
    expected: "letters, digits, `_`, `-` and `.`, not starting with a digit (such as \
               `LOG_LEVEL`)",
    hint: no_hint,
};
const CONFIG_KEY: Rule = Rule {
    what: "ConfigMap or Secret key",
    check: check_config_key,
    expected: "letters, digits, `-`, `_` and `.`, at most 253 characters",
    hint: no_hint,
};
const FIELD_REF: Rule = Rule {
    what: "pod field",
    check: check_field_ref,
    expected: "a pod field such as `metadata.name`, `metadata.namespace`, \
               `metadata.labels['<key>']`, `spec.nodeName` or `status.podIP`",
    hint: field_ref_hint,
};

const HEADER_NAME: Rule = Rule {
    what: "header name",
    check: check_header_name,
    expected: "lowercase letters, digits and `-`, such as `x-preview`",
    hint: dns_hint,
};
const HEADER_VALUE: Rule = Rule {
    what: "header value",
    check: check_header_value,
    expected: "printable ASCII text, at most 4096 characters",
    hint: no_hint,
};
/// Source kinds a Flux Kustomization may reference.
const FLUX_SOURCE_KINDS: &[&str] = &[
    "GitRepository",
    "OCIRepository",
    "Bucket",
    "ExternalArtifact",
];

fn strsim_closest(value: &str, choices: &[&str]) -> Option<String> {
    choices
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&value.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

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

const DURATION: Rule = Rule {
    what: "duration",
    check: check_duration,
    expected: "a duration such as `10m`, `30s` or `1h30m` (units ms, s, m, h)",
    hint: no_hint,
};
const GATEWAY_REF: Rule = Rule {
    what: "gateway reference",
    check: check_gateway_ref,
    expected: "a Gateway name, or `namespace/name` such as `istio-system/public`",
    hint: dns_hint,
};

/// Every semantic problem of `v`, located through `root`.
pub(crate) fn check(file: &str, root: &Node, v: &Values) -> Vec<Diagnostic> {
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
    c.wiring(v);
    for (key, value) in &v.labels {
        c.rule(&top("labels").key(key), key, &QUALIFIED_NAME, true);
        c.rule(&top("labels").key(key), value, &LABEL_VALUE, false);
    }
    for key in v.annotations.keys() {
        c.rule(&top("annotations").key(key), key, &QUALIFIED_NAME, true);
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
        if let Some(id) = id.filter(|id| *id < 0) {
            c.push_value(
                &KeyPath::keys(&[block, key]),
                format!("`{id}` is negative"),
                "a user or group id of 0 or more",
                None,
            );
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
    fn wiring(&mut self, v: &Values) {
        if let Some(flux) = &v.flux {
            let at = |key: &str| KeyPath::keys(&["flux", key]);
            let kind = &flux.source_ref.kind;
            if !FLUX_SOURCE_KINDS.contains(&kind.as_str()) {
                let hint = strsim_closest(kind, FLUX_SOURCE_KINDS);
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
        for (key, value) in [
            ("periodSeconds", p.period_seconds),
            ("timeoutSeconds", p.timeout_seconds),
            ("failureThreshold", p.failure_threshold),
        ] {
            if value == Some(0) {
                self.push_value(
                    &block.key(key),
                    "`0` is too small".to_owned(),
                    "a whole number of 1 or more",
                    None,
                );
            }
        }
    }

    fn env(&mut self, v: &Values) {
        for (name, value) in &v.env {
            let path = KeyPath::keys(&["env", name]);
            self.rule(&path, name, &ENV_NAME, true);
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
                    (given.len() > 1).then(|| format!("keep one of {}", super::de::list(&given))),
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
                self.rule(&item.key("prefix"), prefix, &ENV_NAME, false);
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
    fn env_names() {
        table(
            check_env_name,
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
