//! The manifest diff: two file maps (repo-relative path → bytes) in, a reviewable diff out.
//!
//! This module owns comparing what a commit would change, both per file (a git-style unified
//! diff) and per Kubernetes resource (which resources were added, removed or modified, and
//! which leaf fields changed), and rendering the result as terminal text, a one-line-per-change
//! summary, or markdown for a pull-request body; the CLI serializes the same data as JSON. It is
//! pure: it reads no disk, runs no git, prints nothing, and the same inputs always give the same
//! output. It never fails: odd input (binary files, broken YAML) degrades to less detail, not to
//! an error.

mod markdown;
mod resources;
mod secrets;
mod summary;
mod text;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};

/// Repo-relative path → file contents: one side of a diff.
pub type FileMap = BTreeMap<String, Vec<u8>>;

/// Lines of context around each change when nothing else is asked for (git's default).
pub const DEFAULT_CONTEXT: usize = 3;

/// A value for a one-line view, as summaries show it: `(absent)`, a bare or quoted string,
/// compact JSON for lists and maps, cut when long, control characters escaped.
pub fn show_value(value: Option<&serde_json::Value>) -> String {
    summary::show_value(value)
}

/// The changed leaves between two JSON trees (list items matched by name or content, as a
/// reviewer reads them), in key order: how one configuration differs from another.
pub fn compare_values(before: &serde_json::Value, after: &serde_json::Value) -> Vec<FieldChange> {
    resources::compare(before, after)
}

/// Compares two file maps by path and returns every file that differs, sorted by path.
///
/// Files with identical bytes on both sides are omitted. Every file that differs is masked
/// first (see `secrets`): the values under `data` and `stringData` of each `kind: Secret`
/// document are redacted (a changed value shows as a changed hash), so no output of the diff
/// can show them. For YAML files (`.yaml`, `.yml`, `.json`) the Kubernetes resources on both
/// sides are matched by [`ResourceId`] across all changed files, so a resource moved to another
/// file is reported only if its content changed.
pub fn diff(old: &FileMap, new: &FileMap) -> Diff {
    let paths: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut files = Vec::new();
    let mut documents = Vec::new();
    for path in paths {
        let (before, after) = (old.get(path), new.get(path));
        if before == after {
            continue;
        }
        let before = before.map(|bytes| secrets::mask(bytes));
        let after = after.map(|bytes| secrets::mask(bytes));
        files.push(text::file_diff(
            path,
            before.as_ref().map(|side| &*side.bytes),
            after.as_ref().map(|side| &*side.bytes),
        ));
        documents.push((documents_of(before), documents_of(after)));
    }
    resources::attach(&mut files, documents);
    Diff { files }
}

/// The documents of one side of a changed file: none when the file is absent on that side.
fn documents_of(side: Option<secrets::Masked<'_>>) -> resources::Documents {
    side.map_or(Some(Vec::new()), |side| side.documents)
}

/// Everything that differs between two file maps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Diff {
    /// The changed files, sorted by path; unchanged files are not listed.
    pub files: Vec<FileDiff>,
}

impl Diff {
    /// True when no file differs.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Counts of changed files and of added / removed lines.
    pub fn stats(&self) -> Stats {
        let mut stats = Stats::default();
        for file in &self.files {
            match file.status {
                FileStatus::Added => stats.files_added += 1,
                FileStatus::Removed => stats.files_removed += 1,
                FileStatus::Modified => stats.files_modified += 1,
            }
            stats.lines_added += file.added;
            stats.lines_removed += file.removed;
        }
        stats
    }

    /// The whole diff as git prints it (`diff --git` headers, hunks), coloured with ANSI
    /// escapes only when `style.color` is set.
    ///
    /// A diff that went through JSON no longer holds the file texts, so it is shown with the
    /// context it was computed with ([`DEFAULT_CONTEXT`]) whatever `style.context` says.
    pub fn to_text(&self, style: TextStyle) -> String {
        let mut out = String::new();
        for file in &self.files {
            for line in text::file_lines(file, style.context) {
                line.write(&mut out, style.color);
            }
        }
        out
    }

    /// A markdown rendering for a pull-request body: a list of resource changes, then the
    /// unified diff in a fenced `diff` block, never longer than `max_bytes`.
    ///
    /// When everything does not fit, whole list items and whole diff lines are dropped from
    /// the end and a last line says how much was left out and that the full diff is in the
    /// commit. The fence is longer than any run of backticks in the diff, so content cannot
    /// close it. A budget too small for even that last line gives an empty string.
    pub fn to_markdown(&self, max_bytes: usize) -> String {
        markdown::render(self, max_bytes)
    }

    /// One line per change for a terminal, above the unified diff: `+`, `-` or `~`, then the
    /// resource and, for a modification, its changed fields, e.g.
    /// `~ v1 Service shop/api: spec.selector.color blue → green`.
    ///
    /// Files in which no resource changed (not YAML, comments only, unparseable) get one
    /// `file` line each, so every changed file is accounted for.
    pub fn summary_lines(&self) -> Vec<String> {
        summary::lines(self)
    }

    /// Marks every changed file for which `applies_now(path)` holds as one whose change
    /// reaches live traffic at once; summaries then say so next to each of its changes.
    pub fn mark_live_now(&mut self, applies_now: impl Fn(&str) -> bool) {
        for file in &mut self.files {
            file.live_now = applies_now(&file.path);
        }
    }
}

/// How [`Diff::to_text`] renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TextStyle {
    /// Emit ANSI colours (the caller decides: a terminal, and no `NO_COLOR`).
    pub color: bool,
    /// Lines of unchanged context around each change.
    pub context: usize,
}

impl Default for TextStyle {
    fn default() -> Self {
        TextStyle {
            color: false,
            context: DEFAULT_CONTEXT,
        }
    }
}

/// Counts over a whole [`Diff`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stats {
    /// Files that exist only on the new side.
    pub files_added: usize,
    /// Files that exist only on the old side.
    pub files_removed: usize,
    /// Files on both sides whose bytes differ.
    pub files_modified: usize,
    /// Lines added, over all text files.
    pub lines_added: usize,
    /// Lines removed, over all text files.
    pub lines_removed: usize,
}

impl Stats {
    /// Files added, removed or modified.
    pub fn files_changed(&self) -> usize {
        self.files_added + self.files_removed + self.files_modified
    }
}

impl fmt::Display for Stats {
    /// Git's `--shortstat` wording: `2 files changed, 3 insertions(+), 1 deletion(-)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.files_changed() == 0 {
            return f.write_str("no changes");
        }
        write!(
            f,
            "{} file{} changed, {} insertion{}(+), {} deletion{}(-)",
            self.files_changed(),
            plural(self.files_changed()),
            self.lines_added,
            plural(self.lines_added),
            self.lines_removed,
            plural(self.lines_removed),
        )
    }
}

/// One changed file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileDiff {
    /// Repo-relative path.
    pub path: String,
    /// Whether the file was added, removed or modified.
    pub status: FileStatus,
    /// The hunks (from the first `@@` line on) with [`DEFAULT_CONTEXT`] lines of context,
    /// without the `diff --git` header and without ANSI; empty for binary or empty files.
    pub unified: String,
    /// Lines added (0 for binary files).
    pub added: usize,
    /// Lines removed (0 for binary files).
    pub removed: usize,
    /// Either side is not UTF-8 text (or contains a NUL byte, as git decides).
    pub binary: bool,
    /// Resource changes attributed to this file: where a resource is now, or where it was
    /// if it is gone. Empty for files that are not YAML or cannot be parsed.
    pub resources: Vec<ResourceChange>,
    /// The cluster acts on this file's change as soon as the GitOps controller applies the
    /// commit, whichever colour is live (a Service, a route, the live colour's Deployment),
    /// as opposed to a change that waits for a promote (the idle colour, a ConfigMap version).
    /// Set by the caller, who knows what is shared: see [`Diff::mark_live_now`].
    pub live_now: bool,
    #[serde(skip)]
    source: Source,
}

/// Whether a file or resource appeared, disappeared or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FileStatus {
    /// Only on the new side.
    Added,
    /// Only on the old side.
    Removed,
    /// On both sides, different.
    Modified,
}

/// Whether a Kubernetes resource appeared, disappeared or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResourceStatus {
    /// Only on the new side.
    Added,
    /// Only on the old side.
    Removed,
    /// On both sides with different content.
    Modified,
}

/// One Kubernetes resource that was added, removed or modified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceChange {
    /// Which resource.
    pub id: ResourceId,
    /// What happened to it.
    pub status: ResourceStatus,
    /// The changed leaf fields, for a modification (empty for added / removed resources).
    pub fields: Vec<FieldChange>,
}

/// What identifies a resource: `apiVersion`, `kind`, `metadata.namespace`, `metadata.name`.
///
/// Displays as `apps/v1 Deployment shop/api-green` (`apps/v1 Deployment api-green` without a
/// namespace). A document without `metadata.name` (a `Kustomization`) is named by its file path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceId {
    /// `apiVersion`, empty when the document has none.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace`; `None` when absent or empty.
    pub namespace: Option<String>,
    /// `metadata.name`, or the file path when the document has no name.
    pub name: String,
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.api_version.is_empty() {
            write!(f, "{} ", self.api_version)?;
        }
        write!(f, "{} ", self.kind)?;
        if let Some(namespace) = &self.namespace {
            write!(f, "{namespace}/")?;
        }
        f.write_str(&self.name)
    }
}

/// One changed leaf (or one whole added / removed subtree) of a modified resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldChange {
    /// Where, e.g. `spec.template.spec.containers[name=app].image` or
    /// `metadata.labels["app.kubernetes.io/version"]` (keys that are not plain identifiers
    /// are written as JSON strings in brackets).
    pub path: String,
    /// The old value; `None` (omitted in JSON) when the field did not exist, which is not the
    /// same as a `null` value.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub before: Option<serde_json::Value>,
    /// The new value; `None` (omitted in JSON) when the field no longer exists.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub after: Option<serde_json::Value>,
}

/// A present JSON field is `Some`, even when its value is `null` (absent is `None` through
/// `#[serde(default)]`).
fn present<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(deserializer).map(Some)
}

/// The text of both sides of a text file, kept so [`Diff::to_text`] can use any context.
///
/// It is a cache of what the public fields describe, so it takes no part in equality, and it
/// does not survive serialization.
#[derive(Clone, Default)]
struct Source(Option<Arc<(String, String)>>);

impl PartialEq for Source {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(texts) => write!(f, "Source({} → {} bytes)", texts.0.len(), texts.1.len()),
            None => f.write_str("Source(none)"),
        }
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests;
