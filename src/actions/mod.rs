//! Things the user can do to processes and the terminal, each with its own
//! guards: signals through pidfds, renice, CPU affinity, I/O priority,
//! clipboard yank (and what tmux does with it).

pub mod affinity;
pub mod cgroupfs;
pub mod freeze;
pub mod freeze_v1;
pub mod ioprio;
pub mod renice;
pub mod signal;
mod threads;
pub mod tmux_clipboard;
pub mod yank;
