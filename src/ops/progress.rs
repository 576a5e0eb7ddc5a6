//! How long operations tell the caller how far they are, without printing: the `cli` passes
//! an implementation (a terminal progress bar, or nothing) and operations call it.

/// Receives progress of a long operation. Every method has a do-nothing default; calls may
/// come from several threads at once.
pub trait Progress: Sync {
    /// Work of `total` steps begins, described by `what` (e.g. `rendering`).
    fn start(&self, _what: &str, _total: u64) {}
    /// `n` more steps are done.
    fn advance(&self, _n: u64) {}
    /// Something worth a line on its own happened (e.g. a push is retried).
    fn note(&self, _text: &str) {}
    /// The one-line state of a wait, replacing the previous one (e.g. which statuses are
    /// still pending).
    fn status(&self, _text: &str) {}
    /// The work is over (successfully or not).
    fn finish(&self) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {}

/// Starts `what` on `progress` and finishes it when dropped, even on an early error return.
pub(crate) fn stage<'a>(progress: &'a dyn Progress, what: &str, total: u64) -> Stage<'a> {
    progress.start(what, total);
    Stage(progress)
}

/// See [`stage`].
pub(crate) struct Stage<'a>(&'a dyn Progress);

impl Stage<'_> {
    /// `n` more steps are done.
    pub(crate) fn advance(&self, n: u64) {
        self.0.advance(n);
    }
}

impl Drop for Stage<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}
