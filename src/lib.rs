//! greenlight: blue-green releases for Kubernetes, done entirely in git.
//!
//! Data flows one way: `cli` → `values` → `release` → `render` → `diff` → `repo` (→ `forge`).
//! `release`, `render` and `diff` are pure: they touch no disk and no git.
#![deny(missing_docs)]

pub mod checksum;
pub mod cli;
pub mod diff;
pub mod error;
pub mod forge;
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
