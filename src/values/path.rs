//! Dotted key paths (`blue.replicas`, `env.LOG_LEVEL`, `envFrom[0].secret`) as shown in
//! diagnostics. Owns only their structure and spelling.

use std::fmt;

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A path from the document root to a node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The document root.
    pub fn root() -> KeyPath {
        KeyPath(Vec::new())
    }

    /// A path made of plain keys.
    pub fn keys(keys: &[&str]) -> KeyPath {
        KeyPath(keys.iter().map(|k| Seg::Key((*k).to_owned())).collect())
    }

    /// This path extended by one step.
    pub fn child(&self, seg: Seg) -> KeyPath {
        let mut v = self.0.clone();
        v.push(seg);
        KeyPath(v)
    }

    /// This path extended by one key.
    pub fn key(&self, key: &str) -> KeyPath {
        self.child(Seg::Key(key.to_owned()))
    }

    /// The last key of the path, if it ends in a key.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(n) => write!(f, "[{n}]")?,
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if needs_quotes(k) {
                        write!(f, "{k:?}")?;
                    } else {
                        f.write_str(k)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Keys that would make the dotted form ambiguous are shown quoted.
fn needs_quotes(key: &str) -> bool {
    key.is_empty()
        || key
            .chars()
            .any(|c| matches!(c, '.' | '"' | '[' | ']') || c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_paths_like_the_docs() {
        let p = KeyPath::keys(&["blue", "replicas"]);
        assert_eq!(p.to_string(), "blue.replicas");
        let p = KeyPath::keys(&["envFrom"])
            .child(Seg::Index(0))
            .key("secret");
        assert_eq!(p.to_string(), "envFrom[0].secret");
        let p = KeyPath::keys(&["labels", "app.kubernetes.io/name"]);
        assert_eq!(p.to_string(), "labels.\"app.kubernetes.io/name\"");
        assert_eq!(KeyPath::root().to_string(), "");
        assert_eq!(p.last_key(), Some("app.kubernetes.io/name"));
    }
}
