//! greenlight: blue-green releases for Kubernetes, done entirely in git.
//!
//! Data flows one way:
//!
//! ```text
//! cli ──▶ ops ──▶ values ─▶ release ─▶ render ─▶ diff        (pure: no disk, no git)
//!          │                                                  
//!          ├────▶ workspace (the repository's layout on disk)
//!          ├────▶ history ──▶ repo (git2, and the git program for remotes)
//!          └────▶ forge (pull requests, commit statuses over HTTPS) ─▶ gate (pure)
//! ```
//!
//! - `cli`: arguments, printing, exit codes; one file per subcommand.
//! - `ops`: one operation per command, gluing the modules below; prints nothing.
//! - `values`: the values model: parse, validate (every problem located), edit in place.
//! - `release`: stage / promote / rollback / scale-down as pure functions with their guards.
//! - `render`: templates + values → the files of one `rendered/<env>/`.
//! - `diff`: two file maps → per-file and per-resource changes, text / markdown / JSON.
//! - `workspace`: where environments, templates and rendered files live; atomic writes.
//! - `history`: the release record, written as commit trailers and read back.
//! - `repo`: git: read trees, commit by compare-and-swap, land in the checkout, push.
//! - `forge`: GitHub / GitLab / Gitea pull requests, commit statuses and check runs.
//! - `gate`: the health gate the forge reports, judged per required status context (pure).
//! - Leaves every module may use: `grammar` (every rule about a name, reference, path or
//!   environment name), `yaml` (reading and writing YAML), `suggest` ("did you mean"),
//!   `checksum` (SHA-256 in hex), `error` (the class and hint of an error).
//!
//! `release`, `gate`, `render` and `diff` are pure: they touch no disk and no git. No two modules
//! import each other (a test in `tests/it/house.rs` keeps it so).
#![deny(missing_docs)]

pub mod checksum;
pub mod cli;
pub mod diff;
pub mod error;
pub mod forge;
pub mod gate;
pub mod grammar;
pub mod history;
pub mod ops;
pub mod release;
pub mod render;
pub mod repo;
pub mod suggest;
pub mod values;
pub mod workspace;
pub mod yaml;
