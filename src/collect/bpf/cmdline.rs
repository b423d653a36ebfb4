//! Command lines for the eBPF backend, read from /proc/PID/cmdline only when
//! a process is new or has exec'd since the last refresh (its self_exec_id
//! changed). Reading it from /proc keeps the kernel's own rules (argv area,
//! setproctitle-style rewrites); the cost is one read per new process, not
//! per process per refresh. A later in-place argv rewrite without exec is
//! therefore not seen.

use rustc_hash::FxHashMap;
use std::fs;
use std::path::Path;

use crate::collect::procfs::split_cmdline;
use crate::collect::sample::Argv;

#[derive(Debug)]
struct Entry {
    start_time_ns: u64,
    exec_id: u64,
    args: Argv,
    /// Refresh generation that last saw this process.
    seen: u64,
}

#[derive(Debug, Default)]
pub struct CmdlineCache {
    entries: FxHashMap<u32, Entry>,
    generation: u64,
    /// Return an empty argv for processes not read yet (see
    /// `Collector::defer_cmdlines`).
    pub defer: bool,
}

impl CmdlineCache {
    /// argv of process `pid`, read only if the cached one is stale.
    pub fn get(&mut self, proc_root: &Path, pid: u32, start_time_ns: u64, exec_id: u64) -> Argv {
        let generation = self.generation;
        if let Some(e) = self.entries.get_mut(&pid) {
            if e.start_time_ns == start_time_ns && e.exec_id == exec_id {
                e.seen = generation;
                return e.args.clone();
            }
        }
        if self.defer {
            return Vec::new().into();
        }
        // A process that exits right now has no cmdline: show none, and
        // retry next time rather than caching the emptiness.
        let Ok(raw) = fs::read(proc_root.join(format!("{pid}/cmdline"))) else {
            self.entries.remove(&pid);
            return Vec::new().into();
        };
        let args: Argv = split_cmdline(&raw).into();
        self.entries.insert(
            pid,
            Entry {
                start_time_ns,
                exec_id,
                args: args.clone(),
                seen: generation,
            },
        );
        args
    }

    /// Drops the entries of processes not seen in this refresh.
    pub fn end_refresh(&mut self) {
        let generation = self.generation;
        self.entries.retain(|_, e| e.seen == generation);
        self.generation += 1;
    }
}
