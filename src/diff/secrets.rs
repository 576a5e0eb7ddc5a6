//! Secret hygiene: before anything is compared, each side of every changed file is read as
//! YAML, and the values under `data` and `stringData` of every Secret (a document whose `kind`
//! is exactly `Secret`, with any apiVersion, or such an item of a `…List`) are replaced by
//! `<redacted sha256:…>` (the first 12 hex digits of the value's SHA-256), so the text diff,
//! the summaries, the markdown and the JSON never show secret material, while a reviewer still
//! sees which keys changed. Any other string in the Secret equal to one of those values (an
//! alias, a copy) is redacted too; its apiVersion, kind, name and namespace are left as they
//! are.
//!
//! The decision is made on parsed documents, never on lines, so flow style, comments, quoting,
//! escapes, anchors and several documents in one file change nothing. The text shown keeps
//! every other document byte for byte; a Secret document is written again from its redacted
//! tree, in block style with sorted keys and without its comments (which could hold secret
//! material too). A file that does not parse is hidden whole when its text could spell
//! `Secret` (it holds the word, or a backslash that could escape it), and shown as it is
//! otherwise. Pure.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::yaml::{self, Document};

/// One side of a changed file after masking.
pub(super) struct Masked<'a> {
    /// What the diff shows: the file, its Secret documents rewritten with redacted values.
    pub bytes: Cow<'a, [u8]>,
    /// The file's documents, Secrets redacted; `None` when it is not UTF-8 YAML.
    pub documents: Option<Vec<Value>>,
}

/// `bytes` with the values of its Secrets redacted, and its documents.
pub(super) fn mask(bytes: &[u8]) -> Masked<'_> {
    let unchanged = |documents| Masked {
        bytes: Cow::Borrowed(bytes),
        documents,
    };
    // Not text: the diff shows it as a binary file, without content.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return unchanged(None);
    };
    let mut documents = match yaml::parse_stream(text) {
        Ok(documents) => documents,
        Err(_) if could_spell_secret(text) => {
            return Masked {
                bytes: Cow::Owned(hidden(text).into_bytes()),
                documents: None,
            }
        }
        Err(_) => return unchanged(None),
    };
    let secret: Vec<bool> = documents
        .iter_mut()
        .map(|document| redact_document(&mut document.value))
        .collect();
    let values = |documents: Vec<Document>| -> Option<Vec<Value>> {
        Some(documents.into_iter().map(|d| d.value).collect())
    };
    if !secret.contains(&true) {
        return unchanged(values(documents));
    }
    Masked {
        bytes: Cow::Owned(rewrite(text, &documents, &secret).into_bytes()),
        documents: values(documents),
    }
}

/// Whether YAML `text` could hold a `kind: Secret`: a scalar reads as `Secret` only if the
/// word is written, or escapes (`"\x53ecret"`, a `\` line break) spell it.
fn could_spell_secret(text: &str) -> bool {
    text.contains("Secret") || text.contains('\\')
}

/// What is shown of a file that does not parse and could hold a Secret: one line whose hash
/// still changes with the content.
fn hidden(text: &str) -> String {
    format!(
        "# greenlight hides this file: it is not valid YAML and could hold a Secret {}\n",
        redacted(text.as_bytes())
    )
}

/// `text` with each document marked in `secret` written again from its (redacted) tree, the
/// others byte for byte. A document's text runs from its start to the next one's.
fn rewrite(text: &str, documents: &[Document], secret: &[bool]) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, document) in documents.iter().enumerate() {
        let next = documents.get(i + 1);
        let start = if i == 0 { 0 } else { document.start };
        let end = next.map_or(text.len(), |next| next.start);
        if !secret[i] {
            out.push_str(text.get(start..end).unwrap_or_default());
            continue;
        }
        if document.explicit_start {
            out.push_str("---\n");
        }
        out.push_str(&yaml::to_block(&document.value));
        // A next document without `---` followed a `...` that was part of this one's text.
        if next.is_some_and(|next| !next.explicit_start) {
            out.push_str("...\n");
        }
    }
    out
}

/// Redacts the Secret `doc` is, or the Secrets of a `…List`; whether there was one.
fn redact_document(doc: &mut Value) -> bool {
    let Some(object) = untagged_mut(doc).as_object_mut() else {
        return false;
    };
    let kind = object.get("kind").map(untagged).and_then(Value::as_str);
    match kind {
        Some("Secret") => {
            redact_secret(object);
            true
        }
        Some(kind) if kind.ends_with("List") => match object.get_mut("items") {
            Some(Value::Array(items)) => items
                .iter_mut()
                .fold(false, |any, item| redact_document(item) | any),
            _ => false,
        },
        _ => false,
    }
}

/// The value under a kept tag (`{"!tag": value}`, see [`crate::yaml`]), or `value`.
fn untagged(value: &Value) -> &Value {
    match value {
        Value::Object(o) if is_tag_wrapper(o) => o.values().next().map_or(value, untagged),
        _ => value,
    }
}

/// [`untagged`], mutable.
fn untagged_mut(value: &mut Value) -> &mut Value {
    if !matches!(value, Value::Object(o) if is_tag_wrapper(o)) {
        return value;
    }
    match value {
        Value::Object(o) => {
            untagged_mut(o.values_mut().next().expect("a tag wrapper has one entry"))
        }
        other => other,
    }
}

fn is_tag_wrapper(object: &Map<String, Value>) -> bool {
    object.len() == 1 && object.keys().all(|key| key.starts_with('!'))
}

/// Redacts every value under `data` and `stringData`, then every other string equal to one.
fn redact_secret(secret: &mut Map<String, Value>) {
    let mut material = BTreeSet::new();
    for field in ["data", "stringData"] {
        match secret.get_mut(field) {
            None | Some(Value::Null) => {}
            Some(Value::Object(entries)) => {
                for value in entries.values_mut() {
                    collect(value, &mut material);
                    *value = redacted_value(value);
                }
            }
            Some(other) => {
                collect(other, &mut material);
                *other = redacted_value(other);
            }
        }
    }
    material.remove("");
    if material.is_empty() {
        return;
    }
    scrub_map(
        secret,
        &material,
        &["apiVersion", "kind", "metadata", "data", "stringData"],
    );
    match secret.get_mut("metadata") {
        Some(Value::Object(metadata)) => scrub_map(metadata, &material, &["name", "namespace"]),
        Some(other) => scrub(other, &material),
        None => {}
    }
}

/// Every string (key or value) under `value`.
fn collect(value: &Value, material: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            material.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|item| collect(item, material)),
        Value::Object(map) => {
            for (key, item) in map {
                material.insert(key.clone());
                collect(item, material);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Redacts the strings under `value` (keys too) that are in `material`.
fn scrub(value: &mut Value, material: &BTreeSet<String>) {
    match value {
        Value::String(s) if material.contains(s.as_str()) => *value = redacted_value(value),
        Value::Array(items) => items.iter_mut().for_each(|item| scrub(item, material)),
        Value::Object(map) => scrub_map(map, material, &[]),
        _ => {}
    }
}

/// [`scrub`] of the entries of `map`, except the entries of the keys in `keep`.
fn scrub_map(map: &mut Map<String, Value>, material: &BTreeSet<String>, keep: &[&str]) {
    let scrubbed = |key: &str| material.contains(key) && !keep.contains(&key);
    if map.keys().any(|key| scrubbed(key)) {
        *map = std::mem::take(map)
            .into_iter()
            .map(|(key, value)| {
                if scrubbed(&key) {
                    (redacted(key.as_bytes()), value)
                } else {
                    (key, value)
                }
            })
            .collect();
    }
    for (key, value) in map.iter_mut() {
        if !keep.contains(&key.as_str()) {
            scrub(value, material);
        }
    }
}

/// The redacted form of a value: of a string's text, or of anything else's JSON.
fn redacted_value(value: &Value) -> Value {
    Value::String(match value {
        Value::String(s) => redacted(s.as_bytes()),
        other => redacted(other.to_string().as_bytes()),
    })
}

/// `<redacted sha256:…>` with the first 12 hex digits of the SHA-256 of `bytes`.
fn redacted(bytes: &[u8]) -> String {
    let hex = crate::checksum::sha256_hex(bytes);
    format!("<redacted sha256:{}>", &hex[..12])
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::diff::{diff, FileMap, TextStyle};

    const PATH: &str = "rendered/production/db.yaml";

    const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: aHVudGVyMg==\n  \"user name\": YWRtaW4=\nstringData:\n  token: |\n    line one\n    line two\n  url: postgres://u:p@h/db\n";

    fn shown(text: &str) -> String {
        String::from_utf8(mask(text.as_bytes()).bytes.into_owned()).expect("masked text is UTF-8")
    }

    /// Every output of the diff of one file from `old` to `new`: the text diff, the markdown,
    /// the JSON and the summary lines.
    fn outputs(old: &str, new: &str) -> [(&'static str, String); 4] {
        let side = |text: &str| FileMap::from([(PATH.to_owned(), text.as_bytes().to_vec())]);
        let d = diff(&side(old), &side(new));
        [
            ("text", d.to_text(TextStyle::default())),
            ("markdown", d.to_markdown(1 << 20)),
            (
                "json",
                serde_json::to_string(&d).expect("a diff serializes"),
            ),
            ("summary", d.summary_lines().join("\n")),
        ]
    }

    /// No output of the diff from `old` to `new` shows any of `secrets`; the field `changed`
    /// (e.g. `data.password`) is listed as changed in the markdown, JSON and summary, and the
    /// text diff adds a redacted line for its key.
    fn assert_masked(old: &str, new: &str, secrets: &[&str], changed: &str) {
        let key = changed.rsplit('.').next().expect("a field path");
        for (name, out) in outputs(old, new) {
            for secret in secrets {
                assert!(!out.contains(secret), "the {name} shows {secret}:\n{out}");
            }
            if name == "text" {
                assert!(
                    out.lines().any(|line| line.starts_with('+')
                        && line.contains(&format!("{key}: \"<redacted sha256:"))),
                    "the text does not show {key} changing:\n{out}"
                );
            } else {
                assert!(out.contains(changed), "the {name} misses {changed}:\n{out}");
                assert!(out.contains("<redacted sha256:"), "{name}:\n{out}");
            }
        }
    }

    #[test]
    fn secret_values_are_redacted_and_keys_kept() {
        let masked = shown(SECRET);
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
            "kind: Secret\n",
            "  name: db\n",
            "  password: \"<redacted sha256:",
            "  \"user name\": \"<redacted",
            "  token: \"<redacted",
            "type: Opaque\n",
        ] {
            assert!(masked.contains(kept), "{kept} missing:\n{masked}");
        }
        // The hash is of the value as it reads.
        // (sha256 of `aHVudGVyMg==`, cut to 12 hex digits)
        assert!(masked.contains("password: \"<redacted sha256:b073aefd7c92>\""));
    }

    #[test]
    fn a_changed_value_changes_its_hash_and_only_its_line() {
        let changed = SECRET.replace("aHVudGVyMg==", "bmV3cGFzcw==");
        let (a, b) = (shown(SECRET), shown(&changed));
        let differing: Vec<_> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).collect();
        assert_eq!(differing.len(), 1, "{differing:?}");
        assert!(differing[0]
            .0
            .starts_with("  password: \"<redacted sha256:"));
    }

    #[test]
    fn the_text_shown_reads_as_the_documents_compared() {
        let text =
            format!("# a header\n{SECRET}...\nkind: ConfigMap\ndata: {{a: 1}}\n---\n{SECRET}");
        let masked = mask(text.as_bytes());
        let shown = std::str::from_utf8(&masked.bytes).unwrap();
        assert_eq!(
            yaml::parse_documents(shown).unwrap(),
            masked.documents.unwrap(),
            "{shown}"
        );
        assert!(
            shown.contains("...\nkind: ConfigMap\ndata: {a: 1}\n---\n"),
            "{shown}"
        );
    }

    #[test]
    fn files_without_a_secret_are_shown_as_they_are() {
        for text in [
            "# c\nkind: ConfigMap\ndata:\n  password: visible # Secret\n",
            "kind: SealedSecret\nspec: {encryptedData: {a: AgB}}\n",
            "kind: Service\nspec: [broken\n",
            "kind: secret\ndata: {a: b}\n",
        ] {
            assert!(
                matches!(mask(text.as_bytes()).bytes, Cow::Borrowed(_)),
                "{text}"
            );
        }
        let binary = [b'k', 0xff, b'S'];
        let masked = mask(&binary);
        assert_eq!((&*masked.bytes, masked.documents), (&binary[..], None));
    }

    #[test]
    fn a_secret_in_flow_style_is_masked() {
        let old = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\ndata: {password: c2VjcmV0, user: YWRtaW4=}\n";
        let new = old.replace("c2VjcmV0", "bmV3cGFzcw==");
        assert_masked(
            old,
            &new,
            &["c2VjcmV0", "bmV3cGFzcw==", "YWRtaW4="],
            "data.password",
        );
    }

    #[test]
    fn a_secret_whose_kind_has_a_comment_is_masked() {
        let old = "apiVersion: v1\nkind: Secret  # comment\nmetadata:\n  name: db\ndata:\n  password: c2VjcmV0 # was aHVudGVyMg==\n";
        let new = old.replace("c2VjcmV0", "bmV3cGFzcw==");
        assert_masked(
            old,
            &new,
            &["c2VjcmV0", "bmV3cGFzcw==", "aHVudGVyMg=="],
            "data.password",
        );
    }

    #[test]
    fn a_secret_whose_kind_is_quoted_or_escaped_is_masked() {
        for kind in ["\"Secret\"", "'Secret'", "\"\\x53ecret\"", "!!str Secret"] {
            let old = format!(
                "apiVersion: v1\nkind: {kind}\nmetadata:\n  name: db\ndata:\n  password: c2VjcmV0\n"
            );
            let new = old.replace("c2VjcmV0", "bmV3cGFzcw==");
            assert_masked(&old, &new, &["c2VjcmV0", "bmV3cGFzcw=="], "data.password");
        }
    }

    #[test]
    fn a_secret_after_a_config_map_is_masked_and_the_config_map_shown() {
        let old = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  mode: fast\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: c2VjcmV0\n";
        let new = old
            .replace("mode: fast", "mode: slow")
            .replace("c2VjcmV0", "bmV3cGFzcw==");
        assert_masked(old, &new, &["c2VjcmV0", "bmV3cGFzcw=="], "data.password");
        let [(_, text), (_, markdown), (_, json), (_, summary)] = outputs(old, &new);
        for out in [&text, &markdown] {
            assert!(out.contains("\n-  mode: fast\n+  mode: slow\n"), "{out}");
        }
        assert!(json.contains("\"path\":\"data.mode\""), "{json}");
        assert!(summary.contains("data.mode fast → slow"), "{summary}");
        // The ConfigMap's text is kept byte for byte, in its place.
        let masked = shown(old);
        assert!(
            masked.starts_with(&old[..old.find("---").unwrap() + 4]),
            "{masked}"
        );
    }

    #[test]
    fn data_and_string_data_are_both_masked() {
        let old = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: c2VjcmV0\nstringData:\n  url: postgres://app:hunter2@db/shop\n";
        let new = old.replace("hunter2", "swordfish");
        assert_masked(
            old,
            &new,
            &["c2VjcmV0", "hunter2", "swordfish", "postgres://"],
            "stringData.url",
        );
    }

    #[test]
    fn a_secret_with_anchors_and_aliases_is_masked_wherever_its_values_go() {
        let old = "apiVersion: v1\nkind: Secret\ndata:\n  password: &pw c2VjcmV0\nstringData:\n  again: *pw\nmetadata:\n  name: db\n  annotations:\n    copy: *pw\n";
        let new = old.replace("c2VjcmV0", "bmV3cGFzcw==");
        assert_masked(old, &new, &["c2VjcmV0", "bmV3cGFzcw=="], "data.password");
        let [_, _, (_, json), _] = outputs(old, &new);
        assert!(json.contains("metadata.annotations.copy"), "{json}");
        // Merged in from an anchor outside `data`: the anchored copy is redacted too.
        let old = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nx-base: &base\n  password: c2VjcmV0\ndata:\n  <<: *base\n  user: YWRtaW4=\n";
        let new = old.replace("c2VjcmV0", "bmV3cGFzcw==");
        assert_masked(
            old,
            &new,
            &["c2VjcmV0", "bmV3cGFzcw==", "YWRtaW4="],
            "data.password",
        );
    }

    #[test]
    fn secrets_in_lists_and_tagged_documents_are_masked() {
        let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: db}\n  data: {password: c2VjcmV0}\n";
        let new = list.replace("c2VjcmV0", "bmV3cGFzcw==");
        for (name, out) in outputs(list, &new) {
            assert!(
                !out.contains("c2VjcmV0") && !out.contains("bmV3cGFzcw=="),
                "{name}:\n{out}"
            );
        }
        // A tag on the document or on its kind (which makes it no resource to compare).
        for tagged in [
            "--- !k8s\napiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata: {password: c2VjcmV0}\n",
            "apiVersion: v1\nkind: !k Secret\nmetadata: {name: db}\ndata: {password: c2VjcmV0}\n",
        ] {
            let new = tagged.replace("c2VjcmV0", "bmV3cGFzcw==");
            for (name, out) in outputs(tagged, &new) {
                assert!(!out.contains("c2VjcmV0") && !out.contains("bmV3cGFzcw=="), "{name}:\n{out}");
            }
        }
    }

    #[test]
    fn an_unparseable_file_that_could_hold_a_secret_is_hidden_whole() {
        let old =
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: c2VjcmV0\n";
        let new = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: bmV3cGFzcw==\n  broken: [\n";
        for (name, out) in outputs(old, new) {
            for secret in ["c2VjcmV0", "bmV3cGFzcw=="] {
                assert!(!out.contains(secret), "the {name} shows {secret}:\n{out}");
            }
            if name != "summary" {
                assert!(out.contains("greenlight hides this file"), "{name}:\n{out}");
            }
        }
        // A duplicate key (which YAML tools resolve differently) is not valid YAML either, and
        // an escape could spell `Secret` where the word is not written.
        for text in [
            "kind: Secret\ndata: {a: c2VjcmV0}\ndata: {b: c2VjcmV0}\n",
            "kind: \"\\x53ecret\"\ndata: {a: c2VjcmV0\n",
        ] {
            assert!(
                shown(text).starts_with("# greenlight hides this file"),
                "{text}"
            );
            assert_ne!(
                shown(text),
                shown(&text.replace("c2Vj", "bmV3")),
                "the hash follows the content"
            );
        }
    }

    /// YAML-ish text made of the pieces that matter here.
    fn yamlish() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "kind: Secret\n",
            "kind: ConfigMap\n",
            "kind: List\nitems:\n",
            "data:\n",
            "stringData: ",
            "  ",
            "- ",
            "a: ",
            "b: ",
            "<<: ",
            "&x ",
            "*x",
            "!t ",
            "---\n",
            "...\n",
            "# c\n",
            "\n",
            "{",
            "}",
            "[",
            "]",
            ", ",
            "c2VjcmV0",
            "'q'",
            "\"\\x53\"",
            "é",
            "|\n  ",
            "1",
            "~",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Masking never fails, and the text shown reads as the documents compared.
        #[test]
        fn masking_any_text_is_consistent(text in yamlish()) {
            let masked = mask(text.as_bytes());
            let shown = std::str::from_utf8(&masked.bytes).expect("UTF-8 in, UTF-8 out");
            if let Some(documents) = masked.documents {
                prop_assert_eq!(yaml::parse_documents(shown).ok(), Some(documents), "{}", shown);
            }
        }
    }

    #[test]
    fn a_comment_changed_in_a_secret_is_a_changed_file_without_hunks() {
        let old = "kind: Secret\ndata:\n  password: c2VjcmV0 # old\n";
        let new = "kind: Secret\ndata:\n  password: c2VjcmV0 # new\n";
        let side = |text: &str| FileMap::from([(PATH.to_owned(), text.as_bytes().to_vec())]);
        let d = diff(&side(old), &side(new));
        assert_eq!(d.files.len(), 1);
        assert_eq!((d.files[0].added, d.files[0].removed), (0, 0));
        assert!(d.files[0].resources.is_empty());
        assert!(!d.to_text(TextStyle::default()).contains("c2VjcmV0"));
    }
}
