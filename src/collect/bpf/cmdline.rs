//! Command lines for the eBPF backend, read from /proc/PID/cmdline only when
//! a process is new or has exec'd since the last refresh (its self_exec_id
//! changed; the previous argv is kept in memo.rs). Reading it from /proc
//! keeps the kernel's own rules (argv area, setproctitle-style rewrites); the
//! cost is one read per new process, not per process per refresh. A later
//! in-place argv rewrite without exec is therefore not seen.

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
