//! The names values carry, as types: an app name, a namespace, an image repository, a tag and
//! a digest. Each holds text that passed its rule in `crate::grammar` — `values::parse`
//! checks every one (all problems at once, each located) before it returns a `Values`, and
//! [`AppName::parse`] and its siblings check a single value the same way (a command-line
//! argument). Code that receives them (render, release, ops) uses them as they are and never
//! checks them again.

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use crate::grammar::{self, Refusal, Rule};

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $rule:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The rule its text follows.
            pub const RULE: Rule = $rule;

            /// `s` as this type, or why the rule refuses it.
            pub fn parse(s: &str) -> Result<$name, Refusal> {
                Self::RULE.apply(s)?;
                Ok($name(s.to_owned()))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        #[cfg(test)]
        impl $name {
            /// Any text, unchecked: for tests proving that what render prints stays safe
            /// even for a value no rule would let through.
            #[allow(dead_code)]
            pub(crate) fn unchecked(s: &str) -> $name {
                $name(s.to_owned())
            }
        }

        /// Unit tests write names as literals; each is checked like any other.
        #[cfg(test)]
        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name::parse(s).unwrap_or_else(|e| panic!("a test wrote an invalid name: {e}"))
            }
        }

        #[cfg(test)]
        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name::from(s.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = Refusal;
            fn from_str(s: &str) -> Result<$name, Refusal> {
                $name::parse(s)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "description": format!("{} ({})", Self::RULE.what, Self::RULE.expected),
                })
            }
        }
    };
}

name_type!(
    /// The application's name: it names every rendered resource.
    AppName,
    grammar::APP
);
name_type!(
    /// The namespace the resources are rendered into.
    Namespace,
    grammar::DNS_LABEL
);
name_type!(
    /// An image repository without tag or digest (`registry.example.com/shop/api`).
    ImageRepository,
    grammar::IMAGE
);
name_type!(
    /// An image tag (`1.5.0`).
    Tag,
    grammar::TAG
);
name_type!(
    /// An image digest (`sha256:` and 64 hex digits).
    Digest,
    grammar::DIGEST
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_checks_its_rule_with_one_message() {
        assert_eq!(AppName::parse("api").unwrap().as_str(), "api");
        let refusal = AppName::parse("1api").unwrap_err();
        assert_eq!(
            refusal.message,
            "`1api` is not a valid app name: it starts with `1`"
        );
        assert_eq!(refusal.expected, grammar::APP.expected);
        let long = "a".repeat(55);
        assert!(AppName::parse(&long).is_ok());
        assert!(AppName::parse(&format!("{long}a")).is_err());
        assert!("v1:2".parse::<Tag>().is_err());
        assert!(Digest::parse(&format!("sha256:{}", "a".repeat(64))).is_ok());
        assert!(ImageRepository::parse("registry.example.com/api:1.0").is_err());
        assert!(Namespace::parse("Shop").is_err());
    }
}
