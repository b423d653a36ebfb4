//! The exits of the last refreshes, for a screen that lists them: each
//! exit as its refresh's model described it, how long it lived, and how
//! often the same program failed under the same parent in the same cgroup
//! (a crash loop shows as a large count). Bounded: the newest `keep`
//! refreshes, and at most [`MAX_EXITS`] exits.

use std::collections::VecDeque;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::collect::sample::{Comm, ExitCapture};

use super::{ExitedView, ExitsView};

/// Exits kept at most, whatever the refreshes kept: a loop of 400 short
/// processes a second would otherwise hold 24 000 after a minute.
pub const MAX_EXITS: usize = 10_000;

/// A crash loop: a program that failed this often (nonzero code or a
/// signal) under one parent in one cgroup within the refreshes kept.
pub const LOOP_FAILURES: u32 = 3;

/// One kept exit.
#[derive(Debug, Clone)]
pub struct KeptExit {
    pub exit: ExitedView,
    /// The refresh that reported it (counted from 1).
    pub refresh: u64,
    /// Failed exits of the same program (comm) under the same parent in
    /// the same cgroup, among those kept, this one included if it failed.
    pub failures: u32,
}

impl KeptExit {
    /// How long the process lived, ns.
    pub fn lifetime_ns(&self) -> u64 {
        let p = &self.exit.process;
        p.exit_time_ns.saturating_sub(p.start_time_ns)
    }

    /// Part of a crash loop.
    pub fn looping(&self) -> bool {
        self.failures >= LOOP_FAILURES
    }
}

/// What makes exits "the same program": parent, cgroup and name.
type LoopKey = (u32, Option<Arc<str>>, Comm);

fn loop_key(e: &ExitedView) -> LoopKey {
    let p = &e.process;
    (p.ppid, p.cgroup.clone(), p.comm)
}

/// The exits of the newest refreshes.
#[derive(Debug, Clone)]
pub struct ExitHistory {
    /// Refreshes kept.
    keep: usize,
    /// The newest refresh's number (0 before the first).
    refresh: u64,
    /// Oldest first.
    exits: VecDeque<KeptExit>,
    /// Whether the newest refresh captured exits, or why not.
    capture: ExitCapture,
    /// Exits the kernel could not report (its buffer was full), since
    /// bpftop started.
    dropped_total: u64,
    /// Exits let go for [`MAX_EXITS`] while their refresh was still kept,
    /// and the newest refresh at which that happened.
    trimmed: u64,
    trimmed_at: u64,
}

impl ExitHistory {
    /// Keeps the newest `keep` refreshes (at least one).
    pub fn new(keep: usize) -> ExitHistory {
        ExitHistory {
            keep: keep.max(1),
            refresh: 0,
            exits: VecDeque::new(),
            capture: ExitCapture::default(),
            dropped_total: 0,
            trimmed: 0,
            trimmed_at: 0,
        }
    }

    /// Refreshes kept.
    pub fn keep(&self) -> usize {
        self.keep
    }

    /// Adds a refresh's exits, lets go of those older than the refreshes
    /// kept, and counts the failures again.
    pub fn push(&mut self, exits: &ExitsView) {
        self.refresh += 1;
        self.capture = exits.capture.clone();
        self.dropped_total = exits.dropped_total;
        let refresh = self.refresh;
        self.exits.extend(exits.processes.iter().map(|e| KeptExit {
            exit: e.clone(),
            refresh,
            failures: 0,
        }));
        // Exits of earlier refreshes whose final CPU came now (the newest
        // are the likeliest).
        for l in &exits.late {
            let kept = self.exits.iter_mut().rev().find(|e| {
                e.exit.process.pid == l.late.pid
                    && e.exit.process.start_time_ns == l.late.start_time_ns
            });
            if let Some(e) = kept {
                e.exit.process.utime_ns = l.late.utime_ns;
                e.exit.process.stime_ns = l.late.stime_ns;
            }
        }
        let oldest = self.refresh.saturating_sub(self.keep as u64 - 1);
        while self.exits.front().is_some_and(|e| e.refresh < oldest) {
            self.exits.pop_front();
        }
        if self.trimmed_at < oldest {
            self.trimmed = 0;
        }
        while self.exits.len() > MAX_EXITS {
            self.exits.pop_front();
            self.trimmed += 1;
            self.trimmed_at = refresh;
        }
        self.count_failures();
    }

    fn count_failures(&mut self) {
        let mut failures: FxHashMap<LoopKey, u32> = FxHashMap::default();
        for e in &self.exits {
            if e.exit.process.status.failed() {
                *failures.entry(loop_key(&e.exit)).or_default() += 1;
            }
        }
        for e in &mut self.exits {
            e.failures = failures.get(&loop_key(&e.exit)).copied().unwrap_or(0);
        }
    }

    /// The exits kept, oldest first, up to refresh `until` (the refresh on
    /// screen while updates are paused), all of them when None.
    pub fn exits(&self, until: Option<u64>) -> impl Iterator<Item = &KeptExit> {
        let until = until.unwrap_or(u64::MAX);
        self.exits.iter().filter(move |e| e.refresh <= until)
    }

    /// The newest refresh's number.
    pub fn refresh(&self) -> u64 {
        self.refresh
    }

    pub fn capture(&self) -> &ExitCapture {
        &self.capture
    }

    pub fn dropped_total(&self) -> u64 {
        self.dropped_total
    }

    /// Exits of the refreshes kept that were let go early, because more
    /// than [`MAX_EXITS`] arrived.
    pub fn trimmed(&self) -> u64 {
        self.trimmed
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::collect::sample::{ExitStatus, ExitedProcess};

    pub(crate) fn exited(pid: u32, ppid: u32, comm: &str, status: ExitStatus) -> ExitedView {
        ExitedView {
            process: ExitedProcess {
                pid,
                ppid,
                uid: 0,
                comm: Comm::from(comm.as_bytes()),
                cmdline: Default::default(),
                start_time_ns: 1_000_000_000,
                exit_time_ns: 3_500_000_000,
                utime_ns: 10_000_000,
                stime_ns: 5_000_000,
                peak_rss_bytes: 4 << 20,
                minflt: 0,
                majflt: 0,
                io: Default::default(),
                net: None,
                cgroup: Some(Arc::from("/system.slice/app.service")),
                status,
                oom_killed: false,
            },
            user: Arc::from("root"),
            cgroup: None,
            interval_cpu_ns: 15_000_000,
        }
    }

    fn refresh(exits: Vec<ExitedView>) -> ExitsView {
        ExitsView {
            capture: ExitCapture::On {
                hook: crate::collect::sample::ExitHook::GroupDead,
                oom: true,
                final_cpu: true,
            },
            processes: exits,
            ..Default::default()
        }
    }

    #[test]
    fn keeps_the_newest_refreshes_and_counts_failures_of_one_program() {
        let mut h = ExitHistory::new(2);
        h.push(&refresh(vec![
            exited(10, 1, "crash", ExitStatus::Code(1)),
            exited(11, 1, "ok", ExitStatus::Code(0)),
        ]));
        h.push(&refresh(vec![
            exited(12, 1, "crash", ExitStatus::Code(1)),
            // Another parent: another program as far as loops go.
            exited(13, 2, "crash", ExitStatus::Code(1)),
        ]));
        h.push(&refresh(vec![exited(
            14,
            1,
            "crash",
            ExitStatus::Signal {
                signal: 11,
                core_dumped: true,
            },
        )]));
        let kept: Vec<(u32, u32)> = h
            .exits(None)
            .map(|e| (e.exit.process.pid, e.failures))
            .collect();
        // The first refresh is gone; 12 and 14 failed under parent 1.
        assert_eq!(kept, [(12, 2), (13, 1), (14, 2)]);
        assert!(!h.exits(None).any(KeptExit::looping));
        assert_eq!(h.exits(Some(2)).count(), 2, "up to the paused refresh");
        assert_eq!(h.exits(None).next().unwrap().lifetime_ns(), 2_500_000_000);
    }

    #[test]
    fn a_flood_keeps_the_newest_exits() {
        let mut h = ExitHistory::new(5);
        let many: Vec<ExitedView> = (0..MAX_EXITS as u32 + 7)
            .map(|pid| exited(pid, 1, "sh", ExitStatus::Code(2)))
            .collect();
        h.push(&refresh(many));
        assert_eq!(h.exits(None).count(), MAX_EXITS);
        assert_eq!(h.trimmed(), 7);
        assert_eq!(h.exits(None).next().unwrap().exit.process.pid, 7);
        assert!(h.exits(None).all(KeptExit::looping));
    }

    /// A final CPU that came after its exit's refresh updates the exit kept.
    #[test]
    fn late_final_cpu_updates_the_exit_kept() {
        let mut h = ExitHistory::new(3);
        h.push(&refresh(vec![exited(10, 1, "ls", ExitStatus::Code(0))]));
        let mut next = refresh(Vec::new());
        next.late.push(crate::model::LateView {
            late: crate::collect::sample::LateExitCpu {
                pid: 10,
                ppid: 1,
                start_time_ns: 1_000_000_000,
                cgroup: None,
                recorded_ns: 15_000_000,
                utime_ns: 30_000_000,
                stime_ns: 10_000_000,
            },
            cgroup: None,
            interval_cpu_ns: 25_000_000,
        });
        h.push(&next);
        let p = &h.exits(None).next().unwrap().exit.process;
        assert_eq!((p.utime_ns, p.stime_ns), (30_000_000, 10_000_000));
    }
}
