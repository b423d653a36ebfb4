//! bpftop: an htop-class process monitor whose per-process data comes from
//! one eBPF task-iterator walk per refresh.
//!
//! Data flows one way: kernel → [`collect`] (raw [`collect::Sample`]) →
//! [`model`] (rates, percentages) → a mode: the interface ([`ui`]), batch
//! output ([`batch`]) or the exporter ([`serve`]). [`monitor`] is the
//! pipeline they share and the start-up they all go through.
//!
//! What is public is what the binary, the integration tests, the benchmarks
//! and the man page generator use; the rest stays inside.

// The pipeline.
pub mod collect;
pub mod model;
pub mod monitor;

// The modes.
pub mod batch;
pub mod record;
pub mod serve;
pub mod ui;

// What the modes act with.
pub mod actions;

// The binary's start: the command line, its checks, `--check`, what the
// build was (`--version`); the man page's sections beyond the options.
pub mod allocator;
pub mod build_info;
pub mod check;
pub mod cli;
pub mod man;
pub mod privileges;
pub mod trust;

// Used by the modes only; `present` by the collectors too. `output` is
// public for its benchmark (benches/hot_path.rs).
mod config;
pub mod output;
mod present;

#[cfg(test)]
mod test_support;
