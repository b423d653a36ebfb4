//! Pairs each exit record with the final CPU time its process reports when
//! it is freed (exits.bpf.c's exit_final): in the same drain, the record's
//! CPU is replaced; for a record handed out by an earlier drain, the
//! difference comes back as a late figure, so that the refresh it arrives
//! in still counts it.

use rustc_hash::FxHashMap;

use super::skel::exits::types::{exit_final, exit_record};

/// Records whose final CPU is awaited, at most (a zombie nobody reaps
/// never sends it).
const PENDING_MAX: usize = 16_384;
/// Drains a record waits for its final CPU before it is forgotten (about
/// a minute at one drain a second).
const PENDING_DRAINS: u32 = 64;

/// One item of the exit ring, in the order the kernel wrote it.
pub enum Arrival {
    Exit(Box<exit_record>),
    Final(exit_final),
}

/// What one drain brought.
#[derive(Default)]
pub struct Arrivals {
    /// Processes that exited, oldest first; CPU final where it came in the
    /// same drain.
    pub exits: Vec<exit_record>,
    /// Processes handed out by an earlier drain whose final CPU came now.
    pub late: Vec<LateFinal>,
    /// The argv of the last exec of processes in `exits`, by (pid,
    /// start_boottime), where it came.
    pub argv: FxHashMap<(u32, u64), Box<[u8]>>,
    /// The execs since the last drain, in the order they happened.
    pub execs: Vec<Exec>,
}

/// One exec: the process that made it, its parent and its cgroup then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exec {
    pub pid: u32,
    pub ppid: u32,
    pub cgroup_id: u64,
}

impl Arrivals {
    /// The argv of the last exec of `r`'s process, where it came.
    pub fn argv_of(&self, r: &exit_record) -> Option<&[u8]> {
        self.argv.get(&(r.pid, r.start_boottime)).map(|a| &a[..])
    }
}

/// The final CPU of a process whose record an earlier drain returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateFinal {
    pub pid: u32,
    pub ppid: u32,
    pub start_boottime: u64,
    pub cgroup_id: u64,
    /// The record's CPU time and the final one, ns (final > recorded).
    pub recorded_ns: u64,
    pub final_ns: u64,
    /// The record's tick-based user/system split, for dividing the final.
    pub utime: u64,
    pub stime: u64,
}

struct Pending {
    ppid: u32,
    cgroup_id: u64,
    sum_exec_runtime: u64,
    utime: u64,
    stime: u64,
    drain: u32,
}

/// Records handed out whose final CPU has not come yet.
#[derive(Default)]
pub struct Finals {
    pending: FxHashMap<(u32, u64), Pending>,
    drains: u32,
}

impl Finals {
    /// Applies the finals among `arrived` to the records before them, or to
    /// those of earlier drains.
    pub fn settle(&mut self, arrived: Vec<Arrival>) -> Arrivals {
        self.drains = self.drains.wrapping_add(1);
        let mut out = Arrivals::default();
        let mut here: FxHashMap<(u32, u64), usize> = FxHashMap::default();
        for a in arrived {
            match a {
                Arrival::Exit(r) => {
                    here.insert((r.pid, r.start_boottime), out.exits.len());
                    out.exits.push(*r);
                }
                Arrival::Final(f) => {
                    let key = (f.pid, f.start_boottime);
                    if let Some(i) = here.remove(&key) {
                        let r = &mut out.exits[i];
                        r.sum_exec_runtime = r.sum_exec_runtime.max(f.sum_exec_runtime);
                    } else if let Some(p) = self.pending.remove(&key) {
                        if f.sum_exec_runtime > p.sum_exec_runtime {
                            out.late.push(LateFinal {
                                pid: f.pid,
                                ppid: p.ppid,
                                start_boottime: f.start_boottime,
                                cgroup_id: p.cgroup_id,
                                recorded_ns: p.sum_exec_runtime,
                                final_ns: f.sum_exec_runtime,
                                utime: p.utime,
                                stime: p.stime,
                            });
                        }
                    }
                    // Else a process that exited before the capture began,
                    // or whose record was lost: nothing to complete.
                }
            }
        }
        let drain = self.drains;
        self.pending
            .retain(|_, p| drain.wrapping_sub(p.drain) < PENDING_DRAINS);
        for (key, i) in here {
            if self.pending.len() >= PENDING_MAX {
                break;
            }
            let r = &out.exits[i];
            self.pending.insert(
                key,
                Pending {
                    ppid: r.ppid,
                    cgroup_id: r.cgroup_id,
                    sum_exec_runtime: r.sum_exec_runtime,
                    utime: r.utime,
                    stime: r.stime,
                    drain,
                },
            );
        }
        out
    }

    /// Records awaiting their final CPU.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pid: u32, start: u64, cpu: u64) -> Arrival {
        // SAFETY: exit_record is plain integers and byte arrays.
        let mut r: exit_record = unsafe { std::mem::zeroed() };
        r.pid = pid;
        r.ppid = 1;
        r.start_boottime = start;
        r.sum_exec_runtime = cpu;
        r.cgroup_id = 7;
        Arrival::Exit(Box::new(r))
    }

    fn last(pid: u32, start: u64, cpu: u64) -> Arrival {
        Arrival::Final(exit_final {
            pid,
            pad: 0,
            start_boottime: start,
            sum_exec_runtime: cpu,
        })
    }

    #[test]
    fn a_final_in_the_same_drain_replaces_the_records_cpu() {
        let mut f = Finals::default();
        let a = f.settle(vec![record(5, 10, 100), last(5, 10, 700)]);
        assert_eq!(a.exits[0].sum_exec_runtime, 700);
        assert!(a.late.is_empty());
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn a_final_in_a_later_drain_comes_back_late_with_the_records_parent() {
        let mut f = Finals::default();
        let a = f.settle(vec![record(5, 10, 100), record(6, 11, 50)]);
        assert_eq!(a.exits.len(), 2);
        assert_eq!(f.pending(), 2);
        let b = f.settle(vec![last(6, 11, 80), last(5, 10, 100)]);
        assert!(b.exits.is_empty());
        assert_eq!(
            b.late,
            vec![LateFinal {
                pid: 6,
                ppid: 1,
                start_boottime: 11,
                cgroup_id: 7,
                recorded_ns: 50,
                final_ns: 80,
                utime: 0,
                stime: 0,
            }]
        );
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn finals_of_unknown_or_reused_pids_change_nothing() {
        let mut f = Finals::default();
        f.settle(vec![record(5, 10, 100)]);
        // The same pid, another process: the start time tells them apart.
        let b = f.settle(vec![last(5, 99, 500), last(8, 1, 5)]);
        assert!(b.late.is_empty());
        assert_eq!(f.pending(), 1);
    }

    #[test]
    fn a_final_never_lowers_the_records_cpu() {
        let mut f = Finals::default();
        let a = f.settle(vec![record(5, 10, 100), last(5, 10, 90)]);
        assert_eq!(a.exits[0].sum_exec_runtime, 100);
    }

    #[test]
    fn records_wait_a_bounded_number_of_drains() {
        let mut f = Finals::default();
        f.settle(vec![record(5, 10, 100)]);
        for _ in 0..PENDING_DRAINS {
            f.settle(Vec::new());
        }
        assert_eq!(f.pending(), 0);
    }
}
