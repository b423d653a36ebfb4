//! bpftop: an htop-class process monitor whose per-process data comes from
//! one eBPF task-iterator walk per refresh.
//!
//! Data flows one way: kernel → [`collect`] (raw [`collect::Sample`]) →
//! [`model`] (rates, percentages) → [`output`] (batch formats).

pub mod actions;
pub mod batch;
pub mod check;
pub mod cli;
pub mod collect;
pub mod config;
pub mod model;
pub mod monitor;
pub mod output;
pub mod privileges;
pub mod serve;
#[cfg(test)]
mod test_support;
pub mod trust;
pub mod ui;
