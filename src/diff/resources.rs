//! Per-resource comparison: the Kubernetes documents of the changed YAML files (parsed, and
//! their Secrets redacted, before they come here), matched by [`ResourceId`] across files, and
//! the changed leaf fields of each modified resource.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;

use super::{FieldChange, FileDiff, ResourceChange, ResourceId, ResourceStatus};

/// Where one resource document sits on one side: its file's index in the diff, and its tree.
type Occurrence = (usize, Value);

/// The documents of one side of a changed file, as [`crate::yaml`] reads them: empty when the
/// file is absent on that side, `None` when it is not YAML text.
pub(super) type Documents = Option<Vec<Value>>;

/// Fills the `resources` of every file in `files`, the changed files, from `documents`: the
/// old and new documents of each file, in the same order.
///
/// A file whose present sides do not all parse as YAML takes no part at all: its resources
/// are unknown, and claiming them added or removed would mislead.
pub(super) fn attach(files: &mut [FileDiff], documents: Vec<(Documents, Documents)>) {
    let mut by_id: BTreeMap<ResourceId, (Vec<Occurrence>, Vec<Occurrence>)> = BTreeMap::new();
    for (index, (file, sides)) in files.iter().zip(documents).enumerate() {
        if file.binary || !is_yaml_path(&file.path) {
            continue;
        }
        let (Some(old_docs), Some(new_docs)) = sides else {
            continue;
        };
        for doc in old_docs {
            if let Some(id) = resource_id(&doc, &file.path) {
                by_id.entry(id).or_default().0.push((index, doc));
            }
        }
        for doc in new_docs {
            if let Some(id) = resource_id(&doc, &file.path) {
                by_id.entry(id).or_default().1.push((index, doc));
            }
        }
    }
    // Iterating ids in order keeps every file's list sorted by id.
    for (id, (olds, news)) in by_id {
        for (file, status, fields) in pair(olds, news) {
            files[file].resources.push(ResourceChange {
                id: id.clone(),
                status,
                fields,
            });
        }
    }
}

/// Matches the old and new occurrences of one id: same file first, then in order. Returns
/// the file each change belongs to (the new one for a modification), its status and fields.
fn pair(
    mut olds: Vec<Occurrence>,
    mut news: Vec<Occurrence>,
) -> Vec<(usize, ResourceStatus, Vec<FieldChange>)> {
    let mut matched = Vec::new();
    let mut i = 0;
    while i < olds.len() {
        match news.iter().position(|(file, _)| *file == olds[i].0) {
            Some(j) => matched.push((olds.remove(i), news.remove(j))),
            None => i += 1,
        }
    }
    let common = olds.len().min(news.len());
    let removed = olds.split_off(common);
    let added = news.split_off(common);
    matched.extend(olds.into_iter().zip(news));

    let mut changes = Vec::new();
    for ((_, before), (file, after)) in matched {
        let fields = compare(&before, &after);
        if !fields.is_empty() {
            changes.push((file, ResourceStatus::Modified, fields));
        }
    }
    changes.extend(
        removed
            .into_iter()
            .map(|(file, _)| (file, ResourceStatus::Removed, Vec::new())),
    );
    changes.extend(
        added
            .into_iter()
            .map(|(file, _)| (file, ResourceStatus::Added, Vec::new())),
    );
    changes
}

fn is_yaml_path(path: &str) -> bool {
    let path = path.to_ascii_lowercase();
    [".yaml", ".yml", ".json"]
        .iter()
        .any(|extension| path.ends_with(extension))
}

/// The id of a document that is a resource: a mapping with a string `kind`.
pub(super) fn resource_id(doc: &Value, path: &str) -> Option<ResourceId> {
    let object = doc.as_object()?;
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .filter(|kind| !kind.is_empty())?;
    let metadata = object.get("metadata").and_then(Value::as_object);
    let meta_string = |key: &str| {
        metadata
            .and_then(|metadata| metadata.get(key))
            .and_then(scalar_string)
            .filter(|s| !s.is_empty())
    };
    Some(ResourceId {
        api_version: object
            .get("apiVersion")
            .and_then(scalar_string)
            .unwrap_or_default(),
        kind: kind.to_string(),
        namespace: meta_string("namespace"),
        name: meta_string("name").unwrap_or_else(|| path.to_string()),
    })
}

fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One step of a field path.
#[derive(Debug, Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
    /// A list item known by its `name` (containers, ports, routes): `[name=http]`.
    Name(&'a str),
}

/// The changed leaves between two trees, in key order (list items matched as
/// [`walk_list`] says).
pub(super) fn compare(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    walk(&mut Vec::new(), Some(before), Some(after), &mut changes);
    changes
}

fn walk<'a>(
    path: &mut Vec<Segment<'a>>,
    before: Option<&'a Value>,
    after: Option<&'a Value>,
    changes: &mut Vec<FieldChange>,
) {
    if before == after {
        return;
    }
    match (before, after) {
        (Some(Value::Object(before)), Some(Value::Object(after))) => {
            let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
            for key in keys {
                path.push(Segment::Key(key));
                walk(path, before.get(key), after.get(key), changes);
                path.pop();
            }
        }
        (Some(Value::Array(before)), Some(Value::Array(after))) => {
            walk_list(path, before, after, changes)
        }
        _ => changes.push(FieldChange {
            path: format_path(path),
            before: before.cloned(),
            after: after.cloned(),
        }),
    }
}

/// The changes between two lists, items matched as a reviewer reads them: by `name` when
/// every item has one (`spec.http[name=test]` removed, not "item 0 became another route"),
/// else equal items with each other wherever they moved; what is left is paired in order
/// when as many items left as came (`route[0].destination.subset blue → green`), otherwise
/// reported as removed and added items.
fn walk_list<'a>(
    path: &mut Vec<Segment<'a>>,
    before: &'a [Value],
    after: &'a [Value],
    changes: &mut Vec<FieldChange>,
) {
    let name = |item: &'a Value| item.get("name").and_then(Value::as_str);
    let named = |items: &'a [Value]| items.iter().map(name).collect::<Option<Vec<&str>>>();
    if let (Some(old), Some(new)) = (named(before), named(after)) {
        let unique = |names: &[&str]| names.iter().collect::<BTreeSet<_>>().len() == names.len();
        if unique(&old) && unique(&new) {
            for (i, n) in old.iter().enumerate() {
                let j = new.iter().position(|m| m == n);
                path.push(Segment::Name(n));
                walk(path, Some(&before[i]), j.map(|j| &after[j]), changes);
                path.pop();
            }
            for (j, n) in new.iter().enumerate().filter(|(_, n)| !old.contains(n)) {
                path.push(Segment::Name(n));
                walk(path, None, Some(&after[j]), changes);
                path.pop();
            }
            return;
        }
    }
    let mut unmatched_old: Vec<usize> = (0..before.len()).collect();
    let mut unmatched_new = Vec::new();
    for (j, item) in after.iter().enumerate() {
        match unmatched_old.iter().position(|&i| before[i] == *item) {
            Some(k) => {
                unmatched_old.remove(k);
            }
            None => unmatched_new.push(j),
        }
    }
    if unmatched_old.len() == unmatched_new.len() {
        for (&i, &j) in unmatched_old.iter().zip(&unmatched_new) {
            path.push(Segment::Index(j));
            walk(path, Some(&before[i]), Some(&after[j]), changes);
            path.pop();
        }
        return;
    }
    for &i in &unmatched_old {
        path.push(Segment::Index(i));
        walk(path, Some(&before[i]), None, changes);
        path.pop();
    }
    for &j in &unmatched_new {
        path.push(Segment::Index(j));
        walk(path, None, Some(&after[j]), changes);
        path.pop();
    }
}

/// `spec.containers[name=app].image`, `resources[1]`; keys that are not identifiers go in brackets as JSON strings:
/// `metadata.labels["app.kubernetes.io/version"]`.
fn format_path(path: &[Segment<'_>]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) if is_plain_key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Key(key) => {
                let _ = write!(out, "[{}]", Value::String((*key).to_string()));
            }
            Segment::Index(index) => {
                let _ = write!(out, "[{index}]");
            }
            Segment::Name(name) if is_plain_key(name) => {
                let _ = write!(out, "[name={name}]");
            }
            Segment::Name(name) => {
                let _ = write!(out, "[name={}]", Value::String((*name).to_string()));
            }
        }
    }
    out
}

fn is_plain_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
