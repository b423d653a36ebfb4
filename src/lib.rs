//! bpftop: an htop-class process monitor whose per-process data comes from
//! one eBPF task-iterator walk per refresh.
//!
//! Data flows one way: kernel → [`collect`] (raw [`collect::Sample`]) →
//! [`model`] (rates, percentages) → output (batch, TUI).

pub mod collect;
