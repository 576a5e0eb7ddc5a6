//! The markdown view for a pull-request body: a list of resource changes, then the unified
//! diff in a fenced block, cut to a byte budget at item and line boundaries.

use serde_json::Value;

use super::summary::{self, Entry};
use super::{text, Diff, FieldChange, FileStatus, ResourceStatus, DEFAULT_CONTEXT};

/// Changed fields listed under one resource before "… N more fields".
const MARKDOWN_FIELDS: usize = 10;
const NO_CHANGES: &str = "No changes.\n";
/// Used when the budget cannot hold the counting footer.
const SHORT_FOOTER: &str = "_Diff truncated. The full diff is in the commit._\n";
/// The footer's numbers shrink when more is shown, but "1 line" → "0 lines" grows by an `s`
/// in each of its three counts.
const PLURAL_SLACK: usize = 3;

/// See [`Diff::to_markdown`].
pub(super) fn render(diff: &Diff, max_bytes: usize) -> String {
    if diff.is_empty() {
        return fit(NO_CHANGES, max_bytes);
    }
    let items: Vec<String> = summary::entries(diff).into_iter().map(item).collect();
    let files: Vec<(usize, Vec<String>)> = diff
        .files
        .iter()
        .map(|file| {
            let lines = text::file_lines(file, DEFAULT_CONTEXT)
                .iter()
                .map(|line| {
                    let mut out = String::new();
                    line.write(&mut out, false);
                    out
                })
                .collect();
            (text::header_len(file), lines)
        })
        .collect();
    let fence = fence_for(files.iter().flat_map(|(_, lines)| lines));
    let open = format!("\n{fence}diff\n");
    let close = format!("{fence}\n");

    let mut full = items.concat();
    full.push_str(&open);
    for (_, lines) in &files {
        full.extend(lines.iter().map(String::as_str));
    }
    full.push_str(&close);
    if full.len() <= max_bytes {
        return full;
    }

    let total_lines: usize = files.iter().map(|(_, lines)| lines.len()).sum();
    let footer_bound = footer(items.len(), files.len(), total_lines).len() + PLURAL_SLACK;
    let Some(budget) = max_bytes.checked_sub(footer_bound) else {
        return fit(SHORT_FOOTER, max_bytes);
    };

    let mut out = String::new();
    let listed = items
        .iter()
        .take_while(|item| {
            let fits = out.len() + item.len() <= budget;
            if fits {
                out.push_str(item);
            }
            fits
        })
        .count();

    let (mut shown_lines, mut whole_files) = (0, 0);
    // A diff after a cut list would bury the cut; the list matters more.
    if listed == items.len() && out.len() + open.len() + close.len() <= budget {
        let start = out.len();
        let room = budget - close.len();
        out.push_str(&open);
        for (header_len, lines) in &files {
            let size: usize = lines.iter().map(String::len).sum();
            if out.len() + size <= room {
                out.extend(lines.iter().map(String::as_str));
                shown_lines += lines.len();
                whole_files += 1;
                continue;
            }
            let mut used = out.len();
            let take = lines
                .iter()
                .take_while(|line| {
                    used += line.len();
                    used <= room
                })
                .count();
            // A header alone, or a bare `@@` line, tells the reader nothing.
            if take >= header_len + 2 {
                out.extend(lines[..take].iter().map(String::as_str));
                shown_lines += take;
            }
            break;
        }
        if shown_lines == 0 {
            out.truncate(start);
        } else {
            out.push_str(&close);
        }
    }
    out.push_str(&footer(
        items.len() - listed,
        files.len() - whole_files,
        total_lines - shown_lines,
    ));
    debug_assert!(out.len() <= max_bytes);
    out
}

fn fit(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        text.to_string()
    } else {
        String::new()
    }
}

fn footer(unlisted: usize, partial_files: usize, omitted_lines: usize) -> String {
    let mut out = format!(
        "\n_Truncated: {omitted_lines} diff line{} omitted ({partial_files} file{} not shown in full)",
        super::plural(omitted_lines),
        super::plural(partial_files),
    );
    if unlisted > 0 {
        out.push_str(&format!(
            "; {unlisted} more change{} not listed",
            super::plural(unlisted)
        ));
    }
    out.push_str(". The full diff is in the commit._\n");
    out
}

/// A backtick fence longer than any run of backticks in the content, so nothing inside can
/// close it.
fn fence_for<'a>(lines: impl Iterator<Item = &'a String>) -> String {
    let longest = lines
        .map(|line| longest_backtick_run(line))
        .max()
        .unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// An inline code span that holds `s` verbatim, whatever backticks it contains.
fn code(s: &str) -> String {
    let s = summary::escape_controls(s);
    let ticks = "`".repeat(longest_backtick_run(&s) + 1);
    let pad = if s.starts_with(['`', ' ']) || s.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

fn item(entry: Entry<'_>) -> String {
    match entry {
        Entry::File(file) => format!(
            "- **{}** file {} ({}){}\n",
            file_word(file.status),
            code(&file.path),
            summary::file_detail(file),
            live_now_mark(file.live_now)
        ),
        Entry::Resource(file, change) => {
            let mut out = format!(
                "- **{}** {}{}",
                resource_word(change.status),
                code(&change.id.to_string()),
                live_now_mark(file.live_now)
            );
            match change.fields.as_slice() {
                [] => out.push('\n'),
                [field] => {
                    out.push_str(": ");
                    out.push_str(&field_text(field));
                    out.push('\n');
                }
                fields => {
                    out.push_str(":\n");
                    for field in fields.iter().take(MARKDOWN_FIELDS) {
                        out.push_str("  - ");
                        out.push_str(&field_text(field));
                        out.push('\n');
                    }
                    if fields.len() > MARKDOWN_FIELDS {
                        out.push_str(&format!(
                            "  - … {}\n",
                            summary::more_fields(fields.len() - MARKDOWN_FIELDS)
                        ));
                    }
                }
            }
            out
        }
    }
}

/// ` — _applies to live traffic now_` for a file so marked, else nothing.
fn live_now_mark(live_now: bool) -> String {
    match live_now {
        true => format!(" — _{}_", summary::LIVE_NOW),
        false => String::new(),
    }
}

fn field_text(field: &FieldChange) -> String {
    format!(
        "{}: {} → {}",
        code(&field.path),
        value_text(field.before.as_ref()),
        value_text(field.after.as_ref())
    )
}

fn value_text(value: Option<&Value>) -> String {
    match value {
        None => "_absent_".to_string(),
        Some(_) => code(&summary::show_value(value)),
    }
}

fn file_word(status: FileStatus) -> &'static str {
    match status {
        FileStatus::Added => "added",
        FileStatus::Removed => "removed",
        FileStatus::Modified => "modified",
    }
}

fn resource_word(status: ResourceStatus) -> &'static str {
    match status {
        ResourceStatus::Added => "added",
        ResourceStatus::Removed => "removed",
        ResourceStatus::Modified => "modified",
    }
}
