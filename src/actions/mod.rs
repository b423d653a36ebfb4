//! Things the user can do to processes and the terminal, each with its own
//! guards: signals through pidfds, renice, CPU affinity, I/O priority,
//! clipboard yank.

pub mod affinity;
pub mod cgroupfs;
pub mod freeze;
pub mod ioprio;
pub mod renice;
pub mod signal;
mod threads;
pub mod yank;
