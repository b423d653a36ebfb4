//! Command lines for the eBPF backend, read from /proc/PID/cmdline when a
//! process is new or has exec'd since the last refresh (its self_exec_id
//! changed; the previous argv is kept in memo.rs), and again when its title
//! may have been rewritten in place (titles.rs says when). Reading it from
//! /proc keeps the kernel's own rules (argv area, setproctitle-style
//! rewrites); the cost is one read per new process, and none per refresh
//! for a process that does not run.

use std::fs;
use std::path::Path;

use crate::collect::procfs::split_cmdline;
use crate::collect::sample::Argv;

/// argv of process `pid`, or None when it cannot be read (a process that
/// exits right now: shown without one, and read again next time).
pub fn read_argv(proc_root: &Path, pid: u32) -> Option<Argv> {
    let raw = fs::read(proc_root.join(format!("{pid}/cmdline"))).ok()?;
    Some(split_cmdline(&raw).into())
}
