//! The git-style unified diff of one file: hunks, headers, path quoting and colour.

use std::sync::Arc;

use std::fmt::Write as _;
use std::ops::Range;

use similar::{Algorithm, ChangeTag, DiffTag, TextDiff};

use super::{FileDiff, FileStatus, Source, DEFAULT_CONTEXT};

const NO_NEWLINE: &str = "\\ No newline at end of file";
/// Git writes every file with this mode; the file maps greenlight diffs carry no modes.
const FILE_MODE: &str = "100644";
/// Git's abbreviated ids of "no blob" and of the empty blob: an empty file added or removed
/// has no hunks, and without an `index` line git's patch parsers take its header as cut short.
const NO_BLOB: &str = "0000000";
const EMPTY_BLOB: &str = "e69de29";

/// Builds the [`FileDiff`] of one path; at least one side is present. The sides may be equal
/// when masking made them so (a comment changed in a Secret): the file then has no hunks.
pub(super) fn file_diff(path: &str, old: Option<&[u8]>, new: Option<&[u8]>) -> FileDiff {
    let status = match (old, new) {
        (None, _) => FileStatus::Added,
        (_, None) => FileStatus::Removed,
        _ => FileStatus::Modified,
    };
    let texts = (
        old.map(text_of).unwrap_or(Some("")),
        new.map(text_of).unwrap_or(Some("")),
    );
    let mut file = FileDiff {
        path: path.to_string(),
        status,
        unified: String::new(),
        added: 0,
        removed: 0,
        binary: true,
        resources: Vec::new(),
        live_now: false,
        source: Source::default(),
    };
    if let (Some(old), Some(new)) = texts {
        let hunks = hunks(old, new, DEFAULT_CONTEXT);
        file.unified = hunks.text;
        file.added = hunks.added;
        file.removed = hunks.removed;
        file.binary = false;
        file.source = Source(Some(Arc::new((old.to_string(), new.to_string()))));
    }
    file
}

/// The text of a file, or `None` when git would call it binary: not UTF-8, or a NUL byte.
fn text_of(bytes: &[u8]) -> Option<&str> {
    if bytes.contains(&0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// Lines split after each `\n` (the only line end git knows), the last one possibly without.
fn split_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// The hunks of a text diff and its line counts.
pub(super) struct Hunks {
    /// Hunk text, every line ending in `\n`.
    pub text: String,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
}

/// Computes the hunks between two texts with `context` lines of context.
pub(super) fn hunks(old: &str, new: &str, context: usize) -> Hunks {
    let script = edit_script(&split_lines(old), &split_lines(new));
    let count = |wanted: ChangeTag| script.iter().filter(|(tag, _)| *tag == wanted).count();
    let mut text = String::new();
    // Lines before the current hunk on each side, counted once over the whole script.
    let (mut counted, mut old_before, mut new_before) = (0, 0, 0);
    for range in hunk_ranges(&script, context) {
        let (old_skipped, new_skipped) = side_lengths(&script[counted..range.start]);
        old_before += old_skipped;
        new_before += new_skipped;
        let inside = &script[range.clone()];
        let (old_len, new_len) = side_lengths(inside);
        let _ = writeln!(
            text,
            "@@ -{} +{} @@",
            hunk_range(old_before, old_len),
            hunk_range(new_before, new_len)
        );
        for (tag, line) in inside {
            text.push(match tag {
                ChangeTag::Equal => ' ',
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
            });
            text.push_str(line);
            if !line.ends_with('\n') {
                text.push('\n');
                text.push_str(NO_NEWLINE);
                text.push('\n');
            }
        }
        old_before += old_len;
        new_before += new_len;
        counted = range.end;
    }
    Hunks {
        text,
        added: count(ChangeTag::Insert),
        removed: count(ChangeTag::Delete),
    }
}

/// How many old and new lines a stretch of an edit script spans.
fn side_lengths(entries: &[(ChangeTag, &str)]) -> (usize, usize) {
    let inserted = entries
        .iter()
        .filter(|(tag, _)| *tag == ChangeTag::Insert)
        .count();
    let deleted = entries
        .iter()
        .filter(|(tag, _)| *tag == ChangeTag::Delete)
        .count();
    (entries.len() - inserted, entries.len() - deleted)
}

/// The line-by-line edit script from `old` to `new`: every old line once as `Equal` or
/// `Delete`, every new line once as `Equal` or `Insert`, in order, deletions before insertions.
///
/// The script is rebuilt from the lengths of similar's ops and checked line by line, because
/// its Myers ops can carry wrong indices for the other side (mitsuhiko/similar#78). Should the
/// check ever fail, the script falls back to "delete all, insert all", which is still a
/// correct patch.
fn edit_script<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<(ChangeTag, &'a str)> {
    let ops = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .diff_slices(old, new)
        .ops()
        .to_vec();
    let mut script = Vec::with_capacity(old.len().max(new.len()));
    let (mut o, mut n) = (0, 0);
    for op in ops {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        let (old_len, new_len) = (old_range.len(), new_range.len());
        let (Some(old_part), Some(new_part)) = (old.get(o..o + old_len), new.get(n..n + new_len))
        else {
            return replace_all(old, new);
        };
        if tag == DiffTag::Equal {
            if old_part != new_part {
                return replace_all(old, new);
            }
            script.extend(old_part.iter().map(|line| (ChangeTag::Equal, *line)));
        } else {
            script.extend(old_part.iter().map(|line| (ChangeTag::Delete, *line)));
            script.extend(new_part.iter().map(|line| (ChangeTag::Insert, *line)));
        }
        o += old_len;
        n += new_len;
    }
    if (o, n) != (old.len(), new.len()) {
        return replace_all(old, new);
    }
    script
}

fn replace_all<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<(ChangeTag, &'a str)> {
    let deleted = old.iter().map(|line| (ChangeTag::Delete, *line));
    deleted
        .chain(new.iter().map(|line| (ChangeTag::Insert, *line)))
        .collect()
}

/// The spans of `script` that become hunks: each change with `context` lines around it,
/// joined when the unchanged lines between two changes are `2 * context` or fewer (as git).
fn hunk_ranges(script: &[(ChangeTag, &str)], context: usize) -> Vec<Range<usize>> {
    let mut ranges: Vec<Range<usize>> = Vec::new();
    for (index, (tag, _)) in script.iter().enumerate() {
        if *tag == ChangeTag::Equal {
            continue;
        }
        let start = index.saturating_sub(context);
        let end = (index + context + 1).min(script.len());
        match ranges.last_mut() {
            Some(last) if start <= last.end => last.end = end,
            _ => ranges.push(start..end),
        }
    }
    ranges
}

/// One side of a hunk header: `start,len` (1-based), `start` alone for one line, and for an
/// empty side the line before it with `,0`.
fn hunk_range(lines_before: usize, len: usize) -> String {
    match len {
        0 => format!("{lines_before},0"),
        1 => format!("{}", lines_before + 1),
        _ => format!("{},{len}", lines_before + 1),
    }
}

/// What a line of the text diff is, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `diff --git`, mode, `---` / `+++` and `Binary files` lines.
    Header,
    /// `@@ -a,b +c,d @@`.
    Hunk,
    /// `+` line.
    Added,
    /// `-` line.
    Removed,
    /// Context line or `\ No newline at end of file`.
    Plain,
}

/// One line of the text diff, without its `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
    /// What the line is.
    pub kind: Kind,
    /// The line, without ANSI and without the trailing newline.
    pub text: String,
}

impl Line {
    /// Appends the line and its newline, wrapped in ANSI colour when `color` is set.
    pub(super) fn write(&self, out: &mut String, color: bool) {
        let code = match self.kind {
            Kind::Header => "\x1b[1m",
            Kind::Hunk => "\x1b[36m",
            Kind::Added => "\x1b[32m",
            Kind::Removed => "\x1b[31m",
            Kind::Plain => "",
        };
        if color && !code.is_empty() {
            out.push_str(code);
            out.push_str(&self.text);
            out.push_str("\x1b[0m\n");
        } else {
            out.push_str(&self.text);
            out.push('\n');
        }
    }
}

/// The lines git prints for one file: its header, then its hunks with `context` lines of
/// context (recomputed from the kept texts when they are there, else the stored hunks).
pub(super) fn file_lines(file: &FileDiff, context: usize) -> Vec<Line> {
    let mut lines = header_lines(file);
    let recomputed;
    let unified = match &file.source.0 {
        Some(texts) if context != DEFAULT_CONTEXT => {
            recomputed = hunks(&texts.0, &texts.1, context).text;
            &recomputed
        }
        _ => &file.unified,
    };
    // Not `str::lines`: that would drop a `\r` before the `\n`, which is content here.
    lines.extend(unified.split_terminator('\n').map(|text| Line {
        kind: match text.as_bytes().first() {
            Some(b'@') => Kind::Hunk,
            Some(b'+') => Kind::Added,
            Some(b'-') => Kind::Removed,
            _ => Kind::Plain,
        },
        text: text.to_string(),
    }));
    lines
}

/// Number of lines [`file_lines`] puts before the first hunk.
pub(super) fn header_len(file: &FileDiff) -> usize {
    header_lines(file).len()
}

fn header_lines(file: &FileDiff) -> Vec<Line> {
    let a = quote_path("a/", &file.path);
    let b = quote_path("b/", &file.path);
    // Git ends a name containing a space with a tab on the `---` / `+++` lines, so the name's
    // end is unambiguous; `/dev/null` gets none.
    let tab = if file.path.contains(' ') { "\t" } else { "" };
    let (old_name, new_name) = match file.status {
        FileStatus::Added => ("/dev/null".to_string(), format!("{b}{tab}")),
        FileStatus::Removed => (format!("{a}{tab}"), "/dev/null".to_string()),
        FileStatus::Modified => (format!("{a}{tab}"), format!("{b}{tab}")),
    };
    let mut texts = vec![format!("diff --git {a} {b}")];
    match file.status {
        FileStatus::Added => texts.push(format!("new file mode {FILE_MODE}")),
        FileStatus::Removed => texts.push(format!("deleted file mode {FILE_MODE}")),
        FileStatus::Modified => {}
    }
    if file.binary {
        let old_name = old_name.trim_end_matches('\t');
        let new_name = new_name.trim_end_matches('\t');
        texts.push(format!("Binary files {old_name} and {new_name} differ"));
    } else if file.unified.is_empty() {
        match file.status {
            FileStatus::Added => texts.push(format!("index {NO_BLOB}..{EMPTY_BLOB}")),
            FileStatus::Removed => texts.push(format!("index {EMPTY_BLOB}..{NO_BLOB}")),
            FileStatus::Modified => {}
        }
    } else {
        texts.push(format!("--- {old_name}"));
        texts.push(format!("+++ {new_name}"));
    }
    texts
        .into_iter()
        .map(|text| Line {
            kind: Kind::Header,
            text,
        })
        .collect()
}

/// `prefix` + `path`, in double quotes with C escapes when git would quote it (a quote, a
/// backslash or a control character); other characters, including non-ASCII, stay as they are.
pub(super) fn quote_path(prefix: &str, path: &str) -> String {
    let full = format!("{prefix}{path}");
    if !full
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_control())
    {
        return full;
    }
    let mut out = String::from("\"");
    for c in full.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0b' => out.push_str("\\v"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let mut buf = [0; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{byte:03o}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
