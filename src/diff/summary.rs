//! The short, one-entry-per-change view of a diff, shared by the terminal summary and the
//! markdown list: which resources changed and how, and the files in which no resource did.

use serde_json::Value;

use super::{Diff, FileDiff, FileStatus, ResourceChange, ResourceStatus};

/// Changed fields listed per resource in a terminal summary line before "… N more fields".
const SUMMARY_FIELDS: usize = 5;
/// A string or number is shown whole up to this many characters (an image digest fits).
const MAX_SCALAR_CHARS: usize = 200;
/// A mapping or sequence is shown as compact JSON up to this many characters.
const MAX_COMPOSITE_CHARS: usize = 80;

/// What the summaries say of a change that reaches live traffic without a promote.
pub(super) const LIVE_NOW: &str = "applies to live traffic now";

/// One entry of the summary: a resource change, or a changed file without any.
#[derive(Debug, Clone, Copy)]
pub(super) enum Entry<'a> {
    /// A resource added, removed or modified, and the file it belongs to.
    Resource(&'a FileDiff, &'a ResourceChange),
    /// A changed file in which no resource changed.
    File(&'a FileDiff),
}

/// The entries in file order, resources in id order within a file.
pub(super) fn entries(diff: &Diff) -> Vec<Entry<'_>> {
    let mut entries = Vec::new();
    for file in &diff.files {
        if file.resources.is_empty() {
            entries.push(Entry::File(file));
        } else {
            entries.extend(file.resources.iter().map(|r| Entry::Resource(file, r)));
        }
    }
    entries
}

/// The terminal summary: see [`Diff::summary_lines`].
pub(super) fn lines(diff: &Diff) -> Vec<String> {
    entries(diff)
        .into_iter()
        .map(|entry| match entry {
            Entry::Resource(file, change) => resource_line(change, file.live_now),
            Entry::File(file) => format!(
                "{} file {} ({}){}",
                file_sigil(file.status),
                escape_controls(&file.path),
                file_detail(file),
                live_now_mark(file.live_now)
            ),
        })
        .collect()
}

/// ` (applies to live traffic now)` for a file so marked, else nothing.
pub(super) fn live_now_mark(live_now: bool) -> String {
    match live_now {
        true => format!(" ({LIVE_NOW})"),
        false => String::new(),
    }
}

fn resource_line(change: &ResourceChange, live_now: bool) -> String {
    let sigil = match change.status {
        ResourceStatus::Added => '+',
        ResourceStatus::Removed => '-',
        ResourceStatus::Modified => '~',
    };
    let mut line = format!(
        "{sigil} {}{}",
        escape_controls(&change.id.to_string()),
        live_now_mark(live_now)
    );
    if !change.fields.is_empty() {
        let shown: Vec<String> = change
            .fields
            .iter()
            .take(SUMMARY_FIELDS)
            .map(|field| {
                format!(
                    "{} {} → {}",
                    field.path,
                    show_value(field.before.as_ref()),
                    show_value(field.after.as_ref())
                )
            })
            .collect();
        line.push_str(": ");
        line.push_str(&shown.join("; "));
        let hidden = change.fields.len() - shown.len();
        if hidden > 0 {
            line.push_str(&format!("; … {}", more_fields(hidden)));
        }
    }
    line
}

fn file_sigil(status: FileStatus) -> char {
    match status {
        FileStatus::Added => '+',
        FileStatus::Removed => '-',
        FileStatus::Modified => '~',
    }
}

/// `binary`, `3 lines` for an added or removed file, `+2 -1 lines` for a modified one.
pub(super) fn file_detail(file: &FileDiff) -> String {
    if file.binary {
        return "binary".to_string();
    }
    match file.status {
        FileStatus::Added => count_lines(file.added),
        FileStatus::Removed => count_lines(file.removed),
        FileStatus::Modified => format!("+{} -{} lines", file.added, file.removed),
    }
}

fn count_lines(count: usize) -> String {
    format!("{count} line{}", super::plural(count))
}

/// `3 more fields`.
pub(super) fn more_fields(count: usize) -> String {
    format!("{count} more field{}", super::plural(count))
}

/// A value for a one-line view: `(absent)` for a missing field; a string bare when it cannot
/// be mistaken for another type or run into the text around it, otherwise JSON-quoted;
/// mappings and sequences as compact JSON. Long values are cut with `…`; control characters
/// are always escaped, so the result is one line.
pub(super) fn show_value(value: Option<&Value>) -> String {
    let shown = match value {
        None => "(absent)".to_string(),
        Some(Value::String(s)) if is_bare(s) => truncate(s, MAX_SCALAR_CHARS),
        Some(scalar @ (Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null)) => {
            truncate(&scalar.to_string(), MAX_SCALAR_CHARS)
        }
        Some(composite) => truncate(&composite.to_string(), MAX_COMPOSITE_CHARS),
    };
    // JSON escapes only C0 controls; DEL and C1 (a terminal's CSI) need it too.
    escape_controls(&shown)
}

fn is_bare(s: &str) -> bool {
    let reads_as_other_type = s.parse::<f64>().is_ok()
        || matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "~" | "yes" | "no" | "on" | "off"
        );
    !s.is_empty()
        && !reads_as_other_type
        && s.chars()
            .all(|c| c.is_alphanumeric() || "-._/:@+=,%".contains(c))
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

/// Replaces control characters (a newline in a name, an escape sequence) with Rust-style
/// escapes so a name cannot break a line or drive a terminal.
pub(super) fn escape_controls(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
