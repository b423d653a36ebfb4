//! When a process's command line is read again, so that most refreshes read
//! none: argv changes only by an exec or when the process rewrites it in
//! place (setproctitle), and either needs the process to run.
//!
//! Read again at once when the process exec'd: its name (comm) or where
//! its argv lies (stat's arg_start and arg_end, new at every exec) changed,
//! or its pid now names a process started at another time.
//!
//! Otherwise read again, like the eBPF backend's titles (see
//! `collect::titles`), at the next refresh for the rows on screen and
//! within 10 s for every process, but only where the process may have run
//! since the last read: its leader's context switches (status: every run
//! of the leader ends in one), its threads' CPU time in clock ticks, page
//! faults or thread count changed, or it is running now. A process with
//! more than one thread is read within 10 s whatever these say: another
//! thread may rewrite argv in less than a tick without a fault.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHasher};

use super::parse::{StatFields, StatusFields};
use crate::collect::sample::Argv;
use crate::collect::titles::{TitleSweep, WatchedTitles};

/// What a process's stat and status say at one refresh, for comparing
/// with the last read.
pub struct Moment {
    start_ticks: u64,
    /// A hash of comm and argv's bounds: changes at an exec.
    image: u64,
    /// A hash of counters that only move when the process runs.
    activity: u64,
    running: bool,
    threaded: bool,
}

fn hash(value: impl Hash) -> u64 {
    let mut hasher = FxHasher::default();
    value.hash(&mut hasher);
    hasher.finish()
}

impl Moment {
    pub fn of(stat: &StatFields, status: &StatusFields) -> Moment {
        Moment {
            start_ticks: stat.starttime,
            image: hash((&stat.comm, stat.arg_start, stat.arg_end)),
            activity: hash((
                status.nvcsw,
                status.nivcsw,
                stat.utime,
                stat.stime,
                stat.minflt,
                stat.majflt,
                stat.num_threads,
            )),
            running: stat.state == 'R',
            threaded: stat.num_threads > 1,
        }
    }
}

/// A command line as last read.
struct Known {
    start_ticks: u64,
    image: u64,
    activity: u64,
    argv: Argv,
    /// The refresh that last saw the process.
    seen: u32,
}

#[derive(Default)]
pub struct CmdlineMemo {
    known: FxHashMap<u32, Known>,
    watched: WatchedTitles,
    sweep: TitleSweep,
    deferred: bool,
    refresh: u32,
}

impl CmdlineMemo {
    /// While on, a command line not read yet is left empty instead of read
    /// (see `Collector::defer_cmdlines`).
    pub fn defer(&mut self, on: bool) {
        self.deferred = on;
    }

    /// These processes' command lines are read at every refresh where they
    /// may have changed.
    pub fn watch(&mut self, pids: &[u32]) {
        self.watched.set(pids);
    }

    pub fn begin_refresh(&mut self, now_ns: u64) {
        self.sweep.begin_refresh(now_ns);
        self.refresh = self.refresh.wrapping_add(1);
    }

    /// Forgets the processes this refresh did not see.
    pub fn end_refresh(&mut self) {
        let refresh = self.refresh;
        self.known.retain(|_, k| k.seen == refresh);
    }

    pub fn forget(&mut self, pid: u32) {
        self.known.remove(&pid);
    }

    /// The command line to show when no read is needed: the one last read,
    /// or an empty one while reads are deferred. None: read it now.
    pub fn current(&mut self, pid: u32, now: &Moment) -> Option<Argv> {
        let empty = || -> Argv { Arc::new([]) };
        let Some(known) = self.known.get_mut(&pid) else {
            return self.deferred.then(empty);
        };
        if known.start_ticks != now.start_ticks {
            return self.deferred.then(empty);
        }
        if known.image != now.image {
            return None;
        }
        let ran = now.running || known.activity != now.activity;
        let due = self.watched.contains(pid) || self.sweep.due(pid);
        if due && (ran || now.threaded) {
            return None;
        }
        known.seen = self.refresh;
        Some(known.argv.clone())
    }

    pub fn store(&mut self, pid: u32, now: Moment, argv: &Argv) {
        self.known.insert(
            pid,
            Known {
                start_ticks: now.start_ticks,
                image: now.image,
                activity: now.activity,
                argv: argv.clone(),
                seen: self.refresh,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn stat(comm: &[u8], state: char, utime: u64, arg_start: u64) -> StatFields {
        StatFields {
            pid: 10,
            comm: comm.to_vec(),
            state,
            ppid: 1,
            tty_nr: 0,
            flags: 0,
            minflt: 5,
            majflt: 0,
            utime,
            stime: 0,
            priority: 20,
            nice: 0,
            num_threads: 1,
            starttime: 100,
            vsize: 0,
            processor: 0,
            arg_start,
            arg_end: arg_start + 16,
        }
    }

    fn status(switches: u64) -> StatusFields {
        StatusFields {
            nvcsw: switches,
            ..StatusFields::default()
        }
    }

    const SEC: u64 = 1_000_000_000;

    /// A memo that read pid 10's argv at t = 1 s.
    fn memo_with_read() -> CmdlineMemo {
        let mut memo = CmdlineMemo::default();
        memo.begin_refresh(SEC);
        assert!(memo
            .current(10, &Moment::of(&stat(b"a", 'S', 1, 4096), &status(3)))
            .is_none());
        memo.store(
            10,
            Moment::of(&stat(b"a", 'S', 1, 4096), &status(3)),
            &Arc::from(vec![b"a".to_vec()]),
        );
        memo.end_refresh();
        memo
    }

    #[test]
    fn an_idle_process_is_not_read_again() {
        let mut memo = memo_with_read();
        for t in 2..40 {
            memo.begin_refresh(t * SEC);
            let argv = memo.current(10, &Moment::of(&stat(b"a", 'S', 1, 4096), &status(3)));
            assert_eq!(argv.unwrap()[0], b"a");
            memo.end_refresh();
        }
    }

    #[test]
    fn an_exec_is_read_at_once() {
        let mut memo = memo_with_read();
        memo.begin_refresh(2 * SEC);
        assert!(memo
            .current(10, &Moment::of(&stat(b"b", 'S', 1, 4096), &status(3)))
            .is_none());
        assert!(memo
            .current(10, &Moment::of(&stat(b"a", 'S', 1, 8192), &status(3)))
            .is_none());
    }

    #[test]
    fn a_process_that_ran_is_read_within_ten_seconds() {
        let mut memo = memo_with_read();
        let woke = Moment::of(&stat(b"a", 'S', 1, 4096), &status(4));
        let mut read_at = None;
        for t in 2..=12 {
            memo.begin_refresh(t * SEC);
            if memo.current(10, &woke).is_none() {
                read_at = Some(t);
                break;
            }
            memo.end_refresh();
        }
        let read_at = read_at.expect("not read again within 10 s");
        assert!(read_at <= 11, "read at {read_at} s");
    }

    #[test]
    fn watched_rows_that_ran_are_read_at_the_next_refresh() {
        let mut memo = memo_with_read();
        memo.watch(&[10]);
        memo.begin_refresh(2 * SEC);
        assert!(memo
            .current(10, &Moment::of(&stat(b"a", 'S', 1, 4096), &status(3)))
            .is_some());
        assert!(memo
            .current(10, &Moment::of(&stat(b"a", 'R', 1, 4096), &status(3)))
            .is_none());
        assert!(memo
            .current(10, &Moment::of(&stat(b"a", 'S', 2, 4096), &status(3)))
            .is_none());
    }

    #[test]
    fn a_reused_pid_is_read_and_deferral_leaves_it_empty() {
        let mut memo = memo_with_read();
        memo.begin_refresh(2 * SEC);
        let mut other = stat(b"a", 'S', 1, 4096);
        other.starttime = 999;
        assert!(memo.current(10, &Moment::of(&other, &status(3))).is_none());
        memo.defer(true);
        assert_eq!(
            memo.current(10, &Moment::of(&other, &status(3)))
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            memo.current(11, &Moment::of(&other, &status(3)))
                .unwrap()
                .len(),
            0
        );
    }

    #[test]
    fn processes_not_seen_are_forgotten() {
        let mut memo = memo_with_read();
        memo.begin_refresh(2 * SEC);
        memo.end_refresh();
        assert!(memo.known.is_empty());
    }
}
