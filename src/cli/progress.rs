//! Progress bars on stderr for long work (`render --all`, `verify`, pushes that retry), with
//! indicatif: shown only on a terminal, never in `--output json` or with `-q`, so pipes and
//! logs stay clean.

use std::io::IsTerminal as _;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::ops::Progress;

/// A progress bar that draws only when allowed to.
pub struct Bar {
    bar: Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl Bar {
    /// A bar that draws on stderr when `enabled` and stderr is a terminal.
    pub fn new(enabled: bool) -> Bar {
        Bar {
            bar: Mutex::new(None),
            enabled,
        }
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, total: u64) {
        // Nothing would be drawn (indicatif draws only on a terminal): no bar at all, rather
        // than one that parses its template to stay hidden.
        if !self.enabled || !std::io::stderr().is_terminal() {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} {elapsed}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_message(what.to_owned());
        *self.bar.lock().expect("not poisoned") = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = &*self.bar.lock().expect("not poisoned") {
            bar.inc(n);
        }
    }

    fn note(&self, text: &str) {
        if !self.enabled || !std::io::stderr().is_terminal() {
            return;
        }
        match &*self.bar.lock().expect("not poisoned") {
            Some(bar) if !bar.is_hidden() => bar.println(text),
            _ => eprintln!("{text}"),
        }
    }

    fn status(&self, text: &str) {
        if !self.enabled || !std::io::stderr().is_terminal() {
            return;
        }
        let mut bar = self.bar.lock().expect("not poisoned");
        let bar = bar.get_or_insert_with(|| {
            let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            spinner.set_style(
                ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"),
            );
            spinner.enable_steady_tick(std::time::Duration::from_millis(120));
            spinner
        });
        bar.set_message(text.to_owned());
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.lock().expect("not poisoned").take() {
            bar.finish_and_clear();
        }
    }
}
