//! Operations: each public function runs one greenlight command end to end — find the
//! repository, read the snapshot it needs, call the pure `release` / `render` / `diff`
//! functions, and hand the result to `repo` to commit — and returns a report as data.
//!
//! This is the glue between the pure modules and git; it prints nothing (the `cli` does) and
//! holds no release rules (the `release` module does). One job per file: `location` finds the
//! repository a command works on (a checkout, a bare repository, a temporary clone, a plain
//! folder), `load` reads values and templates and renders one environment, `render` writes
//! `rendered/`, `inspect` runs the read-only commands, `mutate` plans one release command,
//! `publish` commits, pushes and opens the pull request, `statuses` asks the forge about a
//! staged release, `wait` polls it, `scaffold` runs `init` and `demo`,
//! `report` declares the reports, `error` the errors, `progress` how long work reports its
//! progress.

mod error;
mod fleet;
mod inspect;
mod load;
mod location;
mod mutate;
mod progress;
mod publish;
mod render;
mod report;
mod scaffold;
mod statuses;
mod wait;

pub use crate::repo::short;
pub use error::{EnvRefusal, OpsError, Refused, RefusedEnvironments};
pub use inspect::{describe_unreleased, diff, history, status, verify, StatusClock};
pub use load::{
    load_values, mark_live_now, mark_live_now_in, render_env, rendered_files, templates,
    LoadedValues,
};
pub(crate) use location::{checkout_behind, warn_if_checkout_behind};
pub use location::{CommitTree, GitLocation, Location, Scratch};
pub use mutate::ReleaseCommand;
pub use progress::{NoProgress, Progress};
pub use publish::{
    default_branch, release, release_one, BranchChoice, ForgeOptions, Publish, PublishError,
    DEFAULT_RETRIES,
};
pub use render::{render_envs, render_objects};
pub use report::*;
pub use scaffold::{demo, init, InitOptions, EXAMPLE_ENVIRONMENTS};
pub use statuses::{ReportSource, RequiredStatus, MAX_STATUS_COMMITS};
pub use wait::{wait, Clock, SystemClock, WaitOptions, WaitReport};

/// Version of every JSON report's schema; bumped on incompatible changes (2: a colour runs
/// its released configuration, so `diff` counts configuration not yet released as a change
/// and `render` no longer rolls colours).
pub const SCHEMA_VERSION: u32 = 2;
