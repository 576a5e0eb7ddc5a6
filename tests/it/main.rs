//! greenlight's integration tests, built as one test binary.
//!
//! Every file here used to be its own binary under `tests/`, each linking the whole crate and
//! its dependencies again: 25 links and several gigabytes of `target/` for one `cargo test`.
//! One binary links once. Run a single area with a filter, for example
//! `cargo test --test it remote::` or `cargo test --test it golden::`.

mod common;

mod cli;
mod completions;
mod config_release;
mod crash;
mod diff;
mod example;
mod fleet;
mod forge;
mod golden;
mod help;
mod hostile;
mod house;
mod install;
mod installer;
mod interrupted;
mod json_contract;
mod parallel_render;
mod precommit;
mod progress;
mod property;
mod readme;
mod remote;
mod repo;
mod routing;
mod schema;
mod several;
mod shallow_clone;
mod signing;
mod statuses;
mod tools;
mod values;
mod wait;
mod workload;
mod wrong_results;
