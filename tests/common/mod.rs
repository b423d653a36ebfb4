//! Helpers shared by the integration tests: the root check, a tmux driver,
//! a `ProcessSample` builder and a running exporter.
//!
//! Each integration test is its own crate and uses only some of these, so
//! the rest would warn as unused in that crate.
#![allow(dead_code)]

pub mod sample;
pub mod serve;
pub mod tmux;

/// Whether the test runs as root (loading BPF programs, other users'
/// processes, file capabilities).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
