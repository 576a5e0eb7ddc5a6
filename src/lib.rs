//! greenlight: blue-green releases for Kubernetes, done entirely in git.
#![deny(missing_docs)]
//!
//! Data flows one way: `cli` → `values` → `release` → `render` → `diff` → `repo` (→ `forge`).
//! `release`, `render` and `diff` are pure: they touch no disk and no git.

pub mod diff;
pub mod history;
pub mod render;
pub mod repo;
pub mod values;
