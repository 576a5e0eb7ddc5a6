//! Secret hygiene: before anything is compared, the values under `data` and `stringData` of
//! every `kind: Secret` document are replaced by `<redacted sha256:…>` (the first 12 hex digits
//! of the value's SHA-256), so diffs, summaries and pull-request bodies never show secret
//! material, while a reviewer still sees which keys changed.
//!
//! Works on the text, line by line, so the rest of the file diffs exactly as written. Unusual
//! layouts are masked wholesale rather than risked: a `data:` written as a flow mapping, or any
//! line under it that is not a simple `key: value`, becomes one redacted value.

use sha2::{Digest as _, Sha256};

/// `text` with the secret values of its Secret documents redacted; other text unchanged.
pub(crate) fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut document: Vec<&str> = Vec::new();
    for line in text.split_inclusive('\n') {
        if is_separator(line) {
            out.push_str(&mask_document(&document));
            document.clear();
            out.push_str(line);
        } else {
            document.push(line);
        }
    }
    out.push_str(&mask_document(&document));
    out
}

fn is_separator(line: &str) -> bool {
    let l = line.trim_end();
    l == "---" || l.starts_with("--- ")
}

fn is_secret(lines: &[&str]) -> bool {
    lines.iter().any(|l| {
        l.strip_prefix("kind:")
            .map(|k| matches!(k.trim().trim_matches(['"', '\'']), "Secret"))
            .unwrap_or(false)
    })
}

fn redacted(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("<redacted sha256:{hex}>")
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn mask_document(lines: &[&str]) -> String {
    if !is_secret(lines) {
        return lines.concat();
    }
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let top_key = line
            .strip_prefix("data:")
            .or_else(|| line.strip_prefix("stringData:"));
        let Some(rest) = top_key else {
            out.push_str(line);
            i += 1;
            continue;
        };
        let key = &line[..line.len() - rest.len()];
        let rest = rest.trim();
        if !rest.is_empty() && !rest.starts_with('#') {
            // Flow mapping or scalar on the same line: redact it whole.
            out.push_str(&format!("{key} {}\n", redacted(rest)));
            i += 1;
            continue;
        }
        out.push_str(line);
        i += 1;
        // The block below `data:`: every more-indented (or blank) line.
        let start = i;
        while i < lines.len()
            && (lines[i].trim().is_empty() || indent(lines[i]) > 0)
            && !is_separator(lines[i])
        {
            i += 1;
        }
        out.push_str(&mask_block(&lines[start..i]));
    }
    out
}

/// The entries of a `data:` block: `key: value` lines, whose value may continue on more
/// indented lines (block scalars).
fn mask_block(lines: &[&str]) -> String {
    let Some(first) = lines.iter().find(|l| !l.trim().is_empty()) else {
        return lines.concat();
    };
    let child = indent(first);
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim().is_empty() || indent(line) != child {
            // Blank, or a continuation we did not expect: redact rather than show.
            if !line.trim().is_empty() {
                out.push_str(&format!("{}{}\n", " ".repeat(child), redacted(line)));
            } else {
                out.push_str(line);
            }
            i += 1;
            continue;
        }
        let trimmed = line.trim();
        let Some((name, value)) = split_entry(trimmed) else {
            out.push_str(&format!("{}{}\n", " ".repeat(child), redacted(trimmed)));
            i += 1;
            continue;
        };
        let mut secret = value.to_owned();
        i += 1;
        while i < lines.len() && (lines[i].trim().is_empty() || indent(lines[i]) > child) {
            secret.push('\n');
            secret.push_str(lines[i]);
            i += 1;
        }
        out.push_str(&format!(
            "{}{name}: {}\n",
            " ".repeat(child),
            redacted(&secret)
        ));
    }
    out
}

/// `key: value` → (key, value); keys may be quoted.
fn split_entry(line: &str) -> Option<(&str, &str)> {
    if let Some(quote) = line.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let end = line[1..].find(quote)? + 1;
        let rest = line[end + 1..].strip_prefix(':')?;
        return Some((&line[..=end], rest.trim()));
    }
    let (key, value) = line.split_once(':')?;
    Some((key, value.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: aHVudGVyMg==\n  \"user name\": YWRtaW4=\nstringData:\n  token: |\n    line one\n    line two\n  url: postgres://u:p@h/db\n";

    #[test]
    fn secret_values_are_redacted_and_keys_kept() {
        let masked = mask(SECRET);
        for secret in [
            "aHVudGVyMg==",
            "YWRtaW4=",
            "line one",
            "line two",
            "postgres://",
        ] {
            assert!(!masked.contains(secret), "{secret} leaked:\n{masked}");
        }
        for kept in [
            "kind: Secret",
            "  name: db",
            "  password: <redacted sha256:",
            "  \"user name\": <redacted",
            "  token: <redacted",
            "type: Opaque",
        ] {
            assert!(masked.contains(kept), "{kept} missing:\n{masked}");
        }
    }

    #[test]
    fn a_changed_value_changes_its_hash_and_only_its_line() {
        let changed = SECRET.replace("aHVudGVyMg==", "bmV3cGFzcw==");
        let (a, b) = (mask(SECRET), mask(&changed));
        let differing: Vec<_> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).collect();
        assert_eq!(differing.len(), 1, "{differing:?}");
        assert!(differing[0].0.starts_with("  password: <redacted sha256:"));
    }

    #[test]
    fn other_documents_and_flow_data_are_handled() {
        let text =
            "kind: ConfigMap\ndata:\n  a: visible\n---\nkind: Secret\ndata: {password: c2VjcmV0}\n";
        let masked = mask(text);
        assert!(masked.contains("a: visible"), "{masked}");
        assert!(!masked.contains("c2VjcmV0"), "{masked}");
        assert!(masked.contains("data: <redacted sha256:"), "{masked}");
    }
}
