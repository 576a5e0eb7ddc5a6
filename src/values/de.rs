//! A serde `Deserializer` over the spanned tree, so the derived model types are filled in
//! with every type error, unknown key and missing key located at file:line:column.
//!
//! Unknown keys of fixed-schema mappings are all collected (with "did you mean" suggestions)
//! rather than stopping at the first; a wrong type or a missing key stops conversion. Plain
//! scalars are handed to `deserialize_any` as the text written, so literals such as env values
//! and quantities keep their written form (`1.10` stays `1.10`). No semantic rules live here.

use std::cell::RefCell;
use std::fmt;

use saphyr_parser::ScalarStyle;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use super::diagnostic::{Diagnostic, DiagnosticKind};
use super::path::{KeyPath, Seg};
use super::scalar::{self, PlainKind};
use super::tree::{Entry, Node, NodeKind, Pos};
use crate::suggest::{closest as suggest, list};

/// Where a key found in the wrong mapping belongs, for the hint of an unknown key.
const HOMES: &[(&str, &str)] = &[
    ("tag", "`blue` and `green`"),
    ("digest", "`blue` and `green`"),
    ("replicas", "`blue` and `green`"),
    ("requests", "`resources`"),
    ("limits", "`resources`"),
    ("cpu", "`resources.requests` and `resources.limits`"),
    ("memory", "`resources.requests` and `resources.limits`"),
    (
        "ephemeral-storage",
        "`resources.requests` and `resources.limits`",
    ),
    ("host", "`ingress`"),
    ("className", "`ingress`"),
    ("tls", "`ingress`"),
    ("secretName", "`ingress.tls`"),
    (
        "initialDelaySeconds",
        "`readinessProbe` and `livenessProbe`",
    ),
    ("periodSeconds", "`readinessProbe` and `livenessProbe`"),
    ("timeoutSeconds", "`readinessProbe` and `livenessProbe`"),
    ("failureThreshold", "`readinessProbe` and `livenessProbe`"),
    ("secretKeyRef", "the value of an `env` variable"),
    ("configMapKeyRef", "the value of an `env` variable"),
    ("fieldRef", "the value of an `env` variable"),
    ("configMap", "an `envFrom` entry"),
    ("secret", "an `envFrom` entry"),
    ("fsGroup", "`podSecurityContext`"),
    ("readOnlyRootFilesystem", "`securityContext`"),
    ("hosts", "`istio`"),
    ("existingGateway", "`istio`"),
    ("testRoute", "`istio`"),
    ("credentialName", "`istio.gateway`"),
    ("parentRefs", "`gatewayApi`"),
    ("hostnames", "`gatewayApi`"),
    ("previewHeader", "`gatewayApi`"),
    ("sourceRef", "`flux`"),
    ("interval", "`flux`"),
    ("prune", "`flux`"),
    ("repoURL", "`argocd`"),
    ("targetRevision", "`argocd`"),
    ("destination", "`argocd`"),
    ("automated", "`argocd`"),
    ("chat", "`notify`"),
    ("commitStatus", "`notify`"),
    ("channel", "`notify.chat`"),
    ("secretRef", "`notify.chat` and `notify.commitStatus`"),
];

/// Fill `T` from `root`. On failure, every unknown key found plus the error that stopped
/// conversion (if any).
pub(crate) fn from_tree<T: DeserializeOwned>(
    file: &str,
    root: &Node,
) -> Result<T, Vec<Diagnostic>> {
    let (value, diags) = convert(file, root);
    match value {
        Some(v) if diags.is_empty() => Ok(v),
        _ => Err(diags),
    }
}

fn convert<T: DeserializeOwned>(file: &str, root: &Node) -> (Option<T>, Vec<Diagnostic>) {
    let ctx = Ctx {
        file,
        collected: RefCell::new(Vec::new()),
    };
    let result = T::deserialize(NodeDe {
        node: root,
        path: KeyPath::root(),
        ctx: &ctx,
    });
    let (value, stop) = match result {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e)),
    };
    let stop = stop.map(|e| match e {
        DeError::Located(d) => *d,
        DeError::Unlocated(p) => NodeDe {
            node: root,
            path: KeyPath::root(),
            ctx: &ctx,
        }
        .diagnostic(p),
    });
    let mut diags = ctx.collected.into_inner();
    diags.extend(stop);
    (value, diags)
}

/// State shared by the whole conversion.
struct Ctx<'a> {
    file: &'a str,
    /// Problems that do not stop conversion (unknown keys).
    collected: RefCell<Vec<Diagnostic>>,
}

/// A problem raised by a visitor, before it is given a location.
#[derive(Debug)]
enum Problem {
    Custom {
        message: String,
    },
    InvalidType {
        expected: String,
    },
    InvalidValue {
        unexpected: String,
        expected: String,
    },
    UnknownField {
        field: String,
        expected: &'static [&'static str],
    },
    MissingField {
        field: &'static str,
    },
    UnknownVariant {
        variant: String,
        expected: &'static [&'static str],
    },
    InvalidLength {
        len: usize,
        expected: String,
    },
    DuplicateField {
        field: &'static str,
    },
}

/// The error type of the deserializer: located as soon as a node that knows its position
/// sees it.
#[derive(Debug)]
enum DeError {
    Located(Box<Diagnostic>),
    Unlocated(Problem),
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeError::Located(d) => write!(f, "{d}"),
            DeError::Unlocated(p) => write!(f, "{p:?}"),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::Unlocated(Problem::Custom {
            message: msg.to_string(),
        })
    }
    fn invalid_type(_unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::Unlocated(Problem::InvalidType {
            expected: exp.to_string(),
        })
    }
    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::Unlocated(Problem::InvalidValue {
            unexpected: unexp.to_string(),
            expected: exp.to_string(),
        })
    }
    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
        DeError::Unlocated(Problem::InvalidLength {
            len,
            expected: exp.to_string(),
        })
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError::Unlocated(Problem::UnknownVariant {
            variant: variant.to_owned(),
            expected,
        })
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError::Unlocated(Problem::UnknownField {
            field: field.to_owned(),
            expected,
        })
    }
    fn missing_field(field: &'static str) -> Self {
        DeError::Unlocated(Problem::MissingField { field })
    }
    fn duplicate_field(field: &'static str) -> Self {
        DeError::Unlocated(Problem::DuplicateField { field })
    }
}

/// The diagnostic of an unknown key `key` at `at` in a mapping that accepts `allowed`.
fn unknown_key(file: &str, at: Pos, path: &KeyPath, key: &str, allowed: &[&str]) -> Diagnostic {
    let hint = match suggest(key, allowed) {
        Some(s) => Some(format!("did you mean `{s}`?")),
        None => HOMES
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(k, home)| format!("`{k}` belongs under {home}")),
    };
    Diagnostic {
        file: file.to_owned(),
        line: at.line,
        column: at.column,
        path: path.key(key).to_string(),
        kind: DiagnosticKind::UnknownKey,
        message: "unknown key".to_owned(),
        expected: Some(format!("one of {}", list(allowed))),
        hint,
    }
}

/// A deserializer for one node.
struct NodeDe<'t, 'c> {
    node: &'t Node,
    path: KeyPath,
    ctx: &'c Ctx<'c>,
}

impl NodeDe<'_, '_> {
    /// How to name this node's value in a message.
    fn describe(&self) -> String {
        match &self.node.kind {
            NodeKind::Mapping { .. } => "a mapping".to_owned(),
            NodeKind::Sequence { .. } => "a list".to_owned(),
            NodeKind::Scalar { value, style } => match style {
                ScalarStyle::Plain => match scalar::plain_kind(value) {
                    PlainKind::Null if value.is_empty() => "an empty value".to_owned(),
                    PlainKind::Null => format!("null (`{value}`)"),
                    kind @ (PlainKind::Bool | PlainKind::Number) => {
                        format!("{} (`{value}`)", kind.describe())
                    }
                    PlainKind::Special | PlainKind::String => format!("the text `{value}`"),
                },
                ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                    format!("the quoted text {value:?}")
                }
                ScalarStyle::Literal | ScalarStyle::Folded => "a block of text".to_owned(),
            },
        }
    }

    fn at(&self, kind: DiagnosticKind, path: &KeyPath, message: String) -> Diagnostic {
        Diagnostic {
            file: self.ctx.file.to_owned(),
            line: self.node.span.start.line,
            column: self.node.span.start.column,
            path: path.to_string(),
            kind,
            message,
            expected: None,
            hint: None,
        }
    }

    /// Locate a visitor's problem at this node.
    fn diagnostic(&self, problem: Problem) -> Diagnostic {
        match problem {
            Problem::InvalidType { expected } => self.wrong_type_diag(expected),
            Problem::InvalidValue {
                unexpected,
                expected,
            } => Diagnostic {
                expected: Some(expected),
                ..self.at(
                    DiagnosticKind::InvalidValue,
                    &self.path,
                    format!("invalid value: {unexpected}"),
                )
            },
            Problem::Custom { message } => {
                self.at(DiagnosticKind::InvalidValue, &self.path, message)
            }
            Problem::MissingField { field } => Diagnostic {
                hint: Some(format!("add `{field}:` to the mapping that starts here")),
                ..self.at(
                    DiagnosticKind::MissingKey,
                    &self.path.key(field),
                    "missing required key".to_owned(),
                )
            },
            Problem::UnknownField { field, expected } => unknown_key(
                self.ctx.file,
                self.node.span.start,
                &self.path,
                &field,
                expected,
            ),
            Problem::UnknownVariant { variant, expected } => self.bad_choice(&variant, expected),
            Problem::InvalidLength { len, expected } => Diagnostic {
                expected: Some(expected),
                ..self.at(
                    DiagnosticKind::WrongType,
                    &self.path,
                    format!("wrong number of items: {len}"),
                )
            },
            Problem::DuplicateField { field } => self.at(
                DiagnosticKind::DuplicateKey,
                &self.path.key(field),
                "duplicate key".to_owned(),
            ),
        }
    }

    fn locate(&self, e: DeError) -> DeError {
        match e {
            DeError::Located(_) => e,
            DeError::Unlocated(p) => DeError::Located(Box::new(self.diagnostic(p))),
        }
    }

    fn wrong_type_diag(&self, expected: String) -> Diagnostic {
        let quoted_number = matches!(
            &self.node.kind,
            NodeKind::Scalar { value, style: ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted }
                if scalar::parse_decimal(value).is_some() || scalar::parse_bool(value).is_some()
        );
        let wants_text = expected.contains("string");
        let hint = if quoted_number {
            Some("remove the quotes".to_owned())
        } else if self.node.is_null() && wants_text {
            Some("for an empty string, write `\"\"`".to_owned())
        } else {
            None
        };
        Diagnostic {
            expected: Some(expected),
            hint,
            ..self.at(
                DiagnosticKind::WrongType,
                &self.path,
                format!("wrong type: found {}", self.describe()),
            )
        }
    }

    fn wrong_type(&self, expected: impl Into<String>) -> DeError {
        DeError::Located(Box::new(self.wrong_type_diag(expected.into())))
    }

    fn bad_choice(&self, value: &str, choices: &[&str]) -> Diagnostic {
        let hint = suggest(value, choices).map(|s| format!("did you mean `{s}`?"));
        Diagnostic {
            expected: Some(format!("one of {}", list(choices))),
            hint,
            ..self.at(
                DiagnosticKind::InvalidValue,
                &self.path,
                format!("`{value}` is not an accepted value"),
            )
        }
    }

    /// The text of a non-null scalar, for string-like targets.
    fn text(&self, expected: &str) -> Result<&str, DeError> {
        match &self.node.kind {
            NodeKind::Scalar { value, .. } if !self.node.is_null() => Ok(value),
            _ => Err(self.wrong_type(expected)),
        }
    }

    fn integer(&self, min: i128, max: i128) -> Result<i128, DeError> {
        let expected = match self.path.last_key() {
            Some("port" | "servicePort") => crate::grammar::PORT_EXPECTED.to_owned(),
            Some("replicas") => "a whole number of replicas, 0 or more".to_owned(),
            _ if min == i128::from(i64::MIN) => "a whole number".to_owned(),
            _ => format!("a whole number from {min} to {max}"),
        };
        let n = match self.node.scalar() {
            Some((v, ScalarStyle::Plain)) => scalar::parse_decimal(v),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Ok(n),
            Some(n) => Err(DeError::Located(Box::new(Diagnostic {
                expected: Some(expected),
                ..self.at(
                    DiagnosticKind::InvalidValue,
                    &self.path,
                    format!("`{n}` is out of range"),
                )
            }))),
            None => Err(self.wrong_type(expected)),
        }
    }

    /// This node as JSON, its plain scalars typed as YAML 1.2's core schema reads them. A plain
    /// scalar that YAML 1.1 (what many Kubernetes tools read) would type differently, such as
    /// `yes` or `0x1F` or `1_000`, is refused: quoted it is a string, unambiguously.
    fn typed_json(&self) -> Result<serde_json::Value, DeError> {
        use serde_json::Value as J;
        fn child<'t, 'c>(parent: &NodeDe<'_, 'c>, node: &'t Node, seg: Seg) -> NodeDe<'t, 'c> {
            NodeDe {
                node,
                path: parent.path.child(seg),
                ctx: parent.ctx,
            }
        }
        match &self.node.kind {
            NodeKind::Mapping { entries, .. } => {
                let mut map = serde_json::Map::new();
                for e in entries {
                    let value = child(self, &e.value, Seg::Key(e.key.clone())).typed_json()?;
                    map.insert(e.key.clone(), value);
                }
                Ok(J::Object(map))
            }
            NodeKind::Sequence { items, .. } => items
                .iter()
                .enumerate()
                .map(|(i, item)| child(self, item, Seg::Index(i)).typed_json())
                .collect::<Result<Vec<_>, _>>()
                .map(J::Array),
            NodeKind::Scalar { value, style } if *style != ScalarStyle::Plain => {
                Ok(J::String(value.clone()))
            }
            NodeKind::Scalar { value, .. } => {
                if scalar::is_null(value) {
                    return Ok(J::Null);
                }
                if let Some(b) = scalar::parse_bool(value) {
                    return Ok(J::Bool(b));
                }
                if let Some(n) = scalar::parse_decimal(value) {
                    if let Ok(n) = i64::try_from(n) {
                        return Ok(J::from(n));
                    }
                }
                if let Some(f) = scalar::parse_float(value).and_then(serde_json::Number::from_f64) {
                    return Ok(J::Number(f));
                }
                match scalar::plain_kind(value) {
                    PlainKind::String => Ok(J::String(value.clone())),
                    kind => Err(DeError::Located(Box::new(Diagnostic {
                        expected: Some(format!(
                            "`{value}` quoted, for a string, or a YAML 1.2 {}",
                            match kind {
                                PlainKind::Bool => "boolean (`true` or `false`)",
                                _ => "number (decimal digits)",
                            }
                        )),
                        hint: Some(format!(
                            "YAML 1.1 reads `{value}` as {}, YAML 1.2 as a string: quote it \
                             (`\"{value}\"`) or write what you mean",
                            kind.describe()
                        )),
                        ..self.at(
                            DiagnosticKind::InvalidValue,
                            &self.path,
                            format!("`{value}` is ambiguous"),
                        )
                    }))),
                }
            }
        }
    }

    fn map_access<'s>(&'s self, entries: &'s [Entry], allowed: Option<&'s [&'s str]>) -> MapDe<'s> {
        MapDe {
            entries,
            allowed,
            next: 0,
            path: &self.path,
            ctx: self.ctx,
        }
    }
}

macro_rules! integers {
    ($($method:ident $ty:ty => $visit:ident $as:ty;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let n = self.integer(<$ty>::MIN as i128, <$ty>::MAX as i128)?;
            visitor.$visit(n as $as).map_err(|e| self.locate(e))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDe<'_, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.kind {
            NodeKind::Scalar { .. } if self.node.is_null() => visitor.visit_unit(),
            NodeKind::Scalar { value, .. } => visitor.visit_str(value),
            NodeKind::Mapping { entries, .. } => visitor.visit_map(self.map_access(entries, None)),
            NodeKind::Sequence { items, .. } => visitor.visit_seq(SeqDe {
                items,
                next: 0,
                path: &self.path,
                ctx: self.ctx,
            }),
        };
        result.map_err(|e| self.locate(e))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.scalar() {
            Some((v, ScalarStyle::Plain)) if scalar::parse_bool(v).is_some() => visitor
                .visit_bool(scalar::parse_bool(v).unwrap_or_default())
                .map_err(|e| self.locate(e)),
            _ => Err(self.wrong_type("`true` or `false`")),
        }
    }

    integers! {
        deserialize_i8 i8 => visit_i64 i64;
        deserialize_i16 i16 => visit_i64 i64;
        deserialize_i32 i32 => visit_i64 i64;
        deserialize_i64 i64 => visit_i64 i64;
        deserialize_u8 u8 => visit_u64 u64;
        deserialize_u16 u16 => visit_u64 u64;
        deserialize_u32 u32 => visit_u64 u64;
        deserialize_u64 u64 => visit_u64 u64;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.scalar() {
            Some((v, ScalarStyle::Plain)) => match scalar::parse_float(v) {
                Some(f) => visitor.visit_f64(f).map_err(|e| self.locate(e)),
                None => Err(self.wrong_type("a number")),
            },
            _ => Err(self.wrong_type("a number")),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.text("a string")?;
        visitor.visit_str(text).map_err(|e| self.locate(e))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, DeError> {
        Err(self.wrong_type("bytes, which values files cannot hold"))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor.visit_none().map_err(|e| self.locate(e))
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor.visit_unit().map_err(|e| self.locate(e))
        } else {
            Err(self.wrong_type("an empty value"))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == super::kube::KUBE_TOKEN {
            // A block of Kubernetes fields: typed here, where the scalar styles are known.
            if !matches!(self.node.kind, NodeKind::Mapping { .. }) {
                return Err(self.wrong_type("a mapping of Kubernetes fields"));
            }
            let json = self.typed_json()?;
            return visitor
                .visit_str(&json.to_string())
                .map_err(|e| self.locate(e));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let items: &[Node] = match &self.node.kind {
            NodeKind::Sequence { items, .. } => items,
            // An empty value (all entries commented out) is an empty list.
            _ if self.node.is_null() => &[],
            _ => return Err(self.wrong_type("a list (`- item` lines or `[a, b]`)")),
        };
        visitor
            .visit_seq(SeqDe {
                items,
                next: 0,
                path: &self.path,
                ctx: self.ctx,
            })
            .map_err(|e| self.locate(e))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let entries: &[Entry] = match &self.node.kind {
            NodeKind::Mapping { entries, .. } => entries,
            // An empty value (all entries commented out) is an empty mapping.
            _ if self.node.is_null() => &[],
            _ => return Err(self.wrong_type("a mapping of names to values")),
        };
        visitor
            .visit_map(self.map_access(entries, None))
            .map_err(|e| self.locate(e))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let NodeKind::Mapping { entries, .. } = &self.node.kind else {
            return Err(self.wrong_type(format!("a mapping with the keys {}", list(fields))));
        };
        for e in entries.iter().filter(|e| !fields.contains(&e.key.as_str())) {
            self.ctx.collected.borrow_mut().push(unknown_key(
                self.ctx.file,
                e.key_span.start,
                &self.path,
                &e.key,
                fields,
            ));
        }
        visitor
            .visit_map(self.map_access(entries, Some(fields)))
            .map_err(|e| self.locate(e))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let expected = format!("one of {}", list(variants));
        let value = self.text(&expected)?;
        if !variants.contains(&value) {
            return Err(DeError::Located(Box::new(self.bad_choice(value, variants))));
        }
        visitor
            .visit_enum(IntoDeserializer::<DeError>::into_deserializer(value))
            .map_err(|e| self.locate(e))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

/// The entries of a mapping; with `allowed`, entries with other keys (already reported as
/// unknown) are skipped.
struct MapDe<'s> {
    entries: &'s [Entry],
    allowed: Option<&'s [&'s str]>,
    next: usize,
    path: &'s KeyPath,
    ctx: &'s Ctx<'s>,
}

impl<'de> de::MapAccess<'de> for MapDe<'_> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        while let Some(entry) = self.entries.get(self.next) {
            if self
                .allowed
                .is_some_and(|allowed| !allowed.contains(&entry.key.as_str()))
            {
                self.next += 1;
                continue;
            }
            let key: de::value::StrDeserializer<'_, DeError> =
                entry.key.as_str().into_deserializer();
            return seed.deserialize(key).map(Some).map_err(|e| match e {
                DeError::Unlocated(Problem::UnknownField { field, expected }) => {
                    DeError::Located(Box::new(unknown_key(
                        self.ctx.file,
                        entry.key_span.start,
                        self.path,
                        &field,
                        expected,
                    )))
                }
                DeError::Unlocated(p) => DeError::Located(Box::new(
                    NodeDe {
                        node: &entry.value,
                        path: self.path.key(&entry.key),
                        ctx: self.ctx,
                    }
                    .diagnostic(p),
                )),
                located => located,
            });
        }
        Ok(None)
    }

    fn next_value_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, DeError> {
        let entry = &self.entries[self.next];
        self.next += 1;
        seed.deserialize(NodeDe {
            node: &entry.value,
            path: self.path.key(&entry.key),
            ctx: self.ctx,
        })
    }
}

/// The items of a sequence.
struct SeqDe<'s> {
    items: &'s [Node],
    next: usize,
    path: &'s KeyPath,
    ctx: &'s Ctx<'s>,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_> {
    type Error = DeError;

    fn next_element_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, DeError> {
        let Some(item) = self.items.get(self.next) else {
            return Ok(None);
        };
        let index = self.next;
        self.next += 1;
        seed.deserialize(NodeDe {
            node: item,
            path: self.path.child(super::path::Seg::Index(index)),
            ctx: self.ctx,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.next)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;
    use crate::values::tree;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Inner {
        tag: Option<String>,
        #[serde(default)]
        replicas: i64,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Outer {
        name: String,
        port: u32,
        #[serde(default)]
        enabled: Option<bool>,
        blue: Inner,
        #[serde(default)]
        env: BTreeMap<String, String>,
        #[serde(default)]
        list: Vec<String>,
        #[serde(default)]
        color: Option<crate::values::Color>,
    }

    fn convert(text: &str) -> Result<Outer, Vec<Diagnostic>> {
        let root = tree::build("t.yaml", text).unwrap().unwrap();
        from_tree("t.yaml", &root)
    }

    #[test]
    fn fills_the_model_and_keeps_written_text() {
        let o = convert(
            "name: api\nport: 8080\nenabled: true\nblue: { tag: \"1.4\", replicas: 3 }\n\
             env: { A: 1.10, B: 'x' }\nlist: [a, b]\ncolor: green\n",
        )
        .unwrap();
        assert_eq!(o.name, "api");
        assert_eq!(o.port, 8080);
        assert_eq!(o.enabled, Some(true));
        assert_eq!(o.blue.tag.as_deref(), Some("1.4"));
        assert_eq!(o.blue.replicas, 3);
        assert_eq!(o.env["A"], "1.10");
        assert_eq!(o.list, vec!["a", "b"]);
        assert_eq!(o.color, Some(crate::values::Color::Green));
    }

    #[test]
    fn null_collections_are_empty() {
        let o = convert("name: a\nport: 1\nblue: {}\nenv:\nlist: ~\n").unwrap();
        assert!(o.env.is_empty() && o.list.is_empty());
    }

    #[test]
    fn collects_every_unknown_key_with_suggestions() {
        let d = convert("name: a\nport: 1\nnmae: b\nblue:\n  replica: 3\n").unwrap_err();
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].line, d[0].column, d[0].path.as_str()), (3, 1, "nmae"));
        assert_eq!(d[0].hint.as_deref(), Some("did you mean `name`?"));
        assert_eq!(
            (d[1].line, d[1].column, d[1].path.as_str()),
            (5, 3, "blue.replica")
        );
        assert_eq!(d[1].hint.as_deref(), Some("did you mean `replicas`?"));
        assert_eq!(d[1].expected.as_deref(), Some("one of `tag`, `replicas`"));
    }

    #[test]
    fn hints_where_a_misplaced_key_belongs() {
        let d = convert("name: a\nport: 1\nblue: {}\ndigest: x\n").unwrap_err();
        assert_eq!(
            d[0].hint.as_deref(),
            Some("`digest` belongs under `blue` and `green`")
        );
    }

    #[test]
    fn wrong_types_are_located_at_the_value() {
        let d = convert("name: a\nport: \"8080\"\nblue: {}\n").unwrap_err();
        assert_eq!((d[0].line, d[0].column, d[0].path.as_str()), (2, 7, "port"));
        assert_eq!(d[0].kind, DiagnosticKind::WrongType);
        assert_eq!(d[0].message, "wrong type: found the quoted text \"8080\"");
        assert_eq!(d[0].hint.as_deref(), Some("remove the quotes"));

        let d = convert("name: a\nport: 1\nblue: [a]\n").unwrap_err();
        assert_eq!((d[0].line, d[0].column, d[0].path.as_str()), (3, 7, "blue"));
        assert_eq!(d[0].message, "wrong type: found a list");

        let d = convert("name: a\nport: 1\nblue: {replicas: 1.5}\n").unwrap_err();
        assert_eq!(d[0].path, "blue.replicas");
        assert_eq!(d[0].message, "wrong type: found a number (`1.5`)");
    }

    #[test]
    fn out_of_range_integers_name_the_range() {
        let d = convert("name: a\nport: -1\nblue: {}\n").unwrap_err();
        assert_eq!(d[0].message, "`-1` is out of range");
        assert_eq!(
            d[0].expected.as_deref(),
            Some(crate::grammar::PORT_EXPECTED)
        );
    }

    #[test]
    fn missing_keys_are_located_at_their_mapping() {
        let d = convert("# comment\nname: a\nblue: {}\n").unwrap_err();
        assert_eq!((d[0].line, d[0].column, d[0].path.as_str()), (2, 1, "port"));
        assert_eq!(d[0].kind, DiagnosticKind::MissingKey);
    }

    #[test]
    fn bad_choices_list_the_accepted_values() {
        let d = convert("name: a\nport: 1\nblue: {}\ncolor: gren\n").unwrap_err();
        assert_eq!(d[0].message, "`gren` is not an accepted value");
        assert_eq!(d[0].expected.as_deref(), Some("one of `blue`, `green`"));
        assert_eq!(d[0].hint.as_deref(), Some("did you mean `green`?"));
    }

    #[test]
    fn suggestions_need_to_be_close() {
        let keys = ["tag", "digest", "replicas"];
        assert_eq!(suggest("replica", &keys), Some("replicas"));
        assert_eq!(suggest("Replicas", &keys), Some("replicas"));
        assert_eq!(suggest("tags", &keys), Some("tag"));
        assert_eq!(
            suggest("live_color", &["liveColor", "app"]),
            Some("liveColor")
        );
        assert_eq!(suggest("volumes", &keys), None);
    }
}
