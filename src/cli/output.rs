//! Where and how commands print: the [`Printer`] (text or JSON, colour only on a terminal,
//! notes silenced by `-q`), and the text form of the reports several commands print.

use std::io::{IsTerminal as _, Write as _};

use serde::Serialize;

use super::{exit, ColorChoice, Global, Output};

/// Where and how a command prints.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    json: bool,
    color: bool,
    quiet: bool,
}

impl Printer {
    pub(crate) fn new(global: &Global) -> Printer {
        let color = match global.ansi {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => no_color_unset() && std::io::stdout().is_terminal(),
        };
        Printer {
            json: global.output == Output::Json,
            color: color && global.output == Output::Text,
            quiet: global.quiet,
        }
    }

    /// True when the report goes out as JSON.
    pub fn json(&self) -> bool {
        self.json
    }

    /// True when text may carry ANSI colour.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Writes the JSON form of a report to stdout.
    pub fn emit_json<T: Serialize>(&self, report: &T) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
        Ok(())
    }

    /// Writes text data to stdout.
    pub fn out(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        if !text.is_empty() && !text.ends_with('\n') {
            let _ = out.write_all(b"\n");
        }
    }

    /// Writes a progress note to stderr (text mode only).
    pub fn note(&self, text: &str) {
        if !self.json && !self.quiet {
            eprintln!("{text}");
        }
    }

    /// A progress bar for long work: drawn on a terminal only, never with JSON output or -q.
    pub fn progress(&self) -> super::progress::Bar {
        super::progress::Bar::new(!self.json && !self.quiet)
    }

    /// Makes `text` bold (when colour is on).
    pub fn bold(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Shows `text` in the colour `name` (`blue` or `green`) names, when colour is on.
    pub fn colored(&self, name: &str, text: &str) -> String {
        let code = match name {
            "blue" => "34",
            "green" => "32",
            _ => return text.to_owned(),
        };
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// True unless the NO_COLOR convention asks for no colour.
pub(crate) fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Prints the resource summary and the unified diff of `d`.
pub(crate) fn print_diff(p: Printer, d: &crate::diff::Diff) {
    for line in d.summary_lines() {
        p.out(&format!("  {line}"));
    }
    p.out("");
    p.out(&d.to_text(crate::diff::TextStyle {
        color: p.color(),
        context: 3,
    }));
}

/// Prints what a release command did and returns its exit code (always 0: refusals are
/// errors).
pub(crate) fn print_release(p: Printer, released: &crate::ops::Released) -> anyhow::Result<u8> {
    use crate::ops::{Outcome, Released};
    let r = match released {
        Released::One(r) => return print_one(p, r),
        Released::Many(r) => r,
    };
    if p.json() {
        p.emit_json(r)?;
        return Ok(exit::OK);
    }
    if let Some(subject) = r
        .subject
        .as_ref()
        .filter(|_| r.outcome != Outcome::NoChange)
    {
        p.out(&p.bold(subject));
    }
    for e in &r.environments {
        match e.outcome {
            Outcome::NoChange => {
                p.out(&format!("{}: {} (nothing to do)", e.environment, e.message))
            }
            _ => {
                p.out(&format!("{}:", p.bold(&e.environment)));
                print_change(p, e);
            }
        }
    }
    match (&r.outcome, &r.commit) {
        (Outcome::Committed, Some(id)) => p.note(&format!(
            "committed {} on {} ({})",
            crate::ops::short(id),
            r.branch,
            r.message
        )),
        (Outcome::DryRun, _) => p.note(&format!("dry run: nothing written ({})", r.message)),
        _ => p.note("nothing to do: no commit"),
    }
    print_publishing(p, r.push.as_ref(), r.pull_request.as_ref());
    Ok(exit::OK)
}

/// Prints the report of one environment's release.
pub(crate) fn print_one(p: Printer, r: &crate::ops::ReleaseReport) -> anyhow::Result<u8> {
    use crate::ops::Outcome;
    if p.json() {
        p.emit_json(r)?;
        return Ok(exit::OK);
    }
    match r.outcome {
        Outcome::NoChange => {
            p.out(&format!("{}: {}", r.environment, r.message));
            p.note("nothing to do: no commit");
        }
        Outcome::DryRun | Outcome::Committed => {
            if let Some(subject) = &r.subject {
                p.out(&p.bold(subject));
            }
            print_change(p, r);
            match (&r.outcome, &r.commit) {
                (Outcome::Committed, Some(id)) => p.note(&format!(
                    "committed {} on {}",
                    crate::ops::short(id),
                    r.branch
                )),
                (Outcome::Committed, None) => p.note(&r.message),
                _ => p.note("dry run: nothing written"),
            }
        }
    }
    print_publishing(p, r.push.as_ref(), r.pull_request.as_ref());
    Ok(exit::OK)
}

/// The notes, configuration changes and diff of one environment's change.
fn print_change(p: Printer, r: &crate::ops::ReleaseReport) {
    for note in &r.notes {
        p.note(&format!("note: {note}"));
    }
    if !r.config_changes.is_empty() {
        let changes: Vec<String> = r
            .config_changes
            .iter()
            .map(|c| {
                format!(
                    "{} {} → {}",
                    c.path,
                    crate::diff::show_value(c.before.as_ref()),
                    crate::diff::show_value(c.after.as_ref())
                )
            })
            .collect();
        p.out(&format!("  configuration: {}", changes.join("; ")));
    }
    print_diff(p, &r.diff);
}

/// Where a release commit went: the push and the pull request.
fn print_publishing(
    p: Printer,
    push: Option<&crate::ops::PushReport>,
    pull_request: Option<&crate::ops::PullRequestReport>,
) {
    if let Some(push) = push {
        let retried = match push.attempts {
            1 => String::new(),
            n => format!(" (computed {n} times: the remote moved meanwhile)"),
        };
        p.note(&format!(
            "pushed {} to {}{retried}",
            push.branch, push.remote
        ));
    }
    if let Some(pr) = pull_request {
        let state = match (pr.reused, pr.body_updated) {
            (false, _) => "opened",
            (true, false) => "already open",
            (true, true) => "already open, description updated",
        };
        p.note(&format!(
            "pull request #{} ({state}): {}",
            pr.number, pr.url
        ));
    }
}

pub(crate) fn print_status(p: Printer, report: &crate::ops::StatusReport) {
    for e in &report.environments {
        p.out(&format!(
            "{}  ({} in {}): live {}{}",
            p.bold(&e.environment),
            e.app,
            e.namespace,
            e.live,
            e.staged
                .map(|c| format!(", {c} staged"))
                .unwrap_or_default()
        ));
        for (name, c) in [("blue", &e.blue), ("green", &e.green)] {
            let marker = if name == e.live.as_str() { "*" } else { " " };
            p.out(&format!(
                "  {marker} {name:<5}  {:<40}  {} replicas  config {}",
                c.image.as_deref().unwrap_or("(no image)"),
                c.replicas,
                &c.config_sha256[..12]
            ));
        }
        if let Some(u) = &e.unreleased_config {
            p.out(&format!("    {}", crate::ops::describe_unreleased(u)));
        }
        if let Some(last) = &e.last_promotion {
            p.out(&format!(
                "    last promotion: {} {} ({})",
                crate::ops::short(&last.commit),
                format_time(last.time),
                last.subject
            ));
        }
    }
}

/// The fleet table of `status` without ENV: one aligned row per environment.
pub(crate) fn print_fleet(p: Printer, report: &crate::ops::StatusReport) {
    const HEADER: [&str; 11] = [
        "ENV",
        "APP",
        "LIVE",
        "VERSION",
        "IDLE",
        "VERSION",
        "REPLICAS",
        "STATE",
        "LAST FLIP",
        "AGE",
        "WARM LEFT",
    ];
    let rows: Vec<[String; 11]> = report
        .environments
        .iter()
        .map(|e| {
            let live = if e.live == crate::values::Color::Blue {
                &e.blue
            } else {
                &e.green
            };
            let idle = if e.idle == crate::values::Color::Blue {
                &e.blue
            } else {
                &e.green
            };
            let (flip, flip_age) = match &e.last_flip {
                Some(f) => (
                    format!("{} {}", f.action, crate::ops::short(&f.commit)),
                    age(report.now - f.time),
                ),
                None => ("-".to_owned(), "-".to_owned()),
            };
            [
                e.environment.clone(),
                e.app.clone(),
                e.live.to_string(),
                live.version.clone(),
                e.idle.to_string(),
                idle.version.clone(),
                idle.replicas.to_string(),
                e.idle_state.as_str().to_owned(),
                flip,
                flip_age,
                e.warm_seconds_left.map_or("-".to_owned(), |s| {
                    if s == 0 {
                        "over".to_owned()
                    } else {
                        age(s)
                    }
                }),
            ]
        })
        .collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 11], style: &dyn Fn(usize, &str) -> String| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let padded = format!("{cell:<w$}");
            out.push_str(&style(i, &padded));
            out.push_str("  ");
        }
        out.trim_end().to_owned()
    };
    p.out(&line(&HEADER.map(str::to_owned), &|_, c| p.bold(c)));
    for row in &rows {
        p.out(&line(row, &|i, c| match i {
            // Colour the live and idle colour names (only on a terminal; Printer decides).
            2 | 4 => p.colored(c.trim_end(), c),
            _ => c.to_owned(),
        }));
    }
    if rows.is_empty() {
        p.note("no environments: create one with `greenlight init`");
    }
    for e in &report.environments {
        if let Some(u) = &e.unreleased_config {
            p.out(&format!(
                "{}: {}",
                e.environment,
                crate::ops::describe_unreleased(u)
            ));
        }
    }
}

/// `one` or `many`, as `count` asks (`1 environment`, `2 environments`).
pub(crate) fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 {
        one
    } else {
        many
    }
}

/// A duration in seconds as a short age: `45s`, `12m`, `3h`, `5d`.
fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d", s / 86_400),
    }
}

pub(crate) fn print_history(p: Printer, report: &crate::ops::HistoryReport) {
    if report.records.is_empty() {
        p.note(&format!(
            "no release actions of {} recorded yet",
            report.environment
        ));
    }
    for r in &report.records {
        p.out(&format!(
            "{}  {}  {:<10}  {}",
            crate::ops::short(&r.commit),
            format_time(r.time),
            r.action,
            r.subject
        ));
    }
}

fn format_time(unix: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}
