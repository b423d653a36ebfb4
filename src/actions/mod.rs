//! Things the user can do to processes and the terminal, each with its own
//! guards: signals through pidfds, renice, clipboard yank.

pub mod cgroupfs;
pub mod freeze;
pub mod renice;
pub mod signal;
pub mod yank;
