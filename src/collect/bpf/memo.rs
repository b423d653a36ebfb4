//! What one refresh remembers of each process for the next: the counters it
//! reported (so that they never go backwards) and its argv (read once per
//! exec, and again when its title may have changed). Kept
//! sorted by pid and joined with the next refresh's processes, which are
//! built in pid order too: a merge with sequential
//! memory access, where a hash map keyed by pid costs a cache miss per
//! process per refresh.

use std::collections::VecDeque;

use crate::collect::sample::Argv;

use super::monotonic::Counters;

/// One process as the previous refresh left it.
#[derive(Debug, Clone)]
pub struct Remembered {
    pub start_time_ns: u64,
    pub exec_id: u64,
    /// None: not read (a kernel thread, deferred, or the read failed).
    pub argv: Option<Argv>,
    /// The process's CPU time (`counters`' user + system) when `argv` was
    /// read: a title can only have changed if it grew since.
    pub title_cpu_ns: u64,
    pub counters: Counters,
}

/// One buffer holds both refreshes: the previous refresh's entries not yet
/// passed at its front, this refresh's at its back. The merge takes from
/// the front what it passes and adds at the back, so the buffer holds about
/// one refresh's processes (more only by the processes that appeared ahead
/// of those that went), where two vectors, the previous and the current,
/// would hold two.
#[derive(Debug, Default)]
pub struct ProcessMemo {
    entries: VecDeque<(u32, Remembered)>,
    /// How many entries at the front are the previous refresh's.
    previous: usize,
}

impl ProcessMemo {
    /// The previous refresh's entry for the process `pid` that started at
    /// `start_time_ns` (a reused pid is another process). Within a refresh,
    /// calls must come in increasing pid order.
    pub fn previous(&mut self, pid: u32, start_time_ns: u64) -> Option<&Remembered> {
        // A linear step, not a binary search: the next entry is nearly
        // always the one wanted, and the whole merge stays O(n).
        self.pass(|p| p < pid);
        match self.entries.front() {
            Some((p, r)) if self.previous > 0 && *p == pid && r.start_time_ns == start_time_ns => {
                Some(r)
            }
            _ => None,
        }
    }

    /// Records this refresh's entry for `pid` (in increasing pid order).
    pub fn remember(&mut self, pid: u32, entry: Remembered) {
        // The previous entry of this pid, if any, has been looked at.
        self.pass(|p| p <= pid);
        debug_assert!(
            self.entries.len() == self.previous
                || self.entries.back().is_some_and(|(p, _)| *p < pid)
        );
        self.entries.push_back((pid, entry));
    }

    /// Whether nothing is remembered: before the first refresh.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// This refresh's entries become the previous ones; processes not seen
    /// in it are forgotten.
    pub fn end_refresh(&mut self) {
        self.pass(|_| true);
        self.previous = self.entries.len();
    }

    /// Forgets the previous refresh's entries at the front while `passed`
    /// says so of their pid.
    fn pass(&mut self, passed: impl Fn(u32) -> bool) {
        while self.previous > 0 && self.entries.front().is_some_and(|(p, _)| passed(*p)) {
            self.entries.pop_front();
            self.previous -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(start_time_ns: u64, minflt: u64) -> Remembered {
        Remembered {
            start_time_ns,
            exec_id: 0,
            argv: None,
            title_cpu_ns: 0,
            counters: Counters {
                minflt,
                ..Default::default()
            },
        }
    }

    #[test]
    fn finds_what_the_previous_refresh_remembered() {
        let mut memo = ProcessMemo::default();
        for (pid, start) in [(3, 30), (7, 70), (9, 90)] {
            memo.remember(pid, entry(start, u64::from(pid)));
        }
        memo.end_refresh();
        assert!(memo.previous(1, 10).is_none(), "never seen");
        assert_eq!(memo.previous(3, 30).map(|r| r.counters.minflt), Some(3));
        assert!(
            memo.previous(7, 71).is_none(),
            "pid reused by a new process"
        );
        assert_eq!(memo.previous(9, 90).map(|r| r.counters.minflt), Some(9));
        assert!(memo.previous(12, 0).is_none());
    }

    #[test]
    fn forgets_processes_not_seen_again() {
        let mut memo = ProcessMemo::default();
        memo.remember(4, entry(1, 1));
        memo.remember(5, entry(1, 1));
        memo.end_refresh();
        assert!(memo.previous(5, 1).is_some());
        memo.remember(5, entry(1, 2));
        memo.end_refresh();
        assert!(
            memo.previous(4, 1).is_none(),
            "4 was not seen in the second refresh"
        );
        assert_eq!(memo.previous(5, 1).map(|r| r.counters.minflt), Some(2));
    }

    #[test]
    fn processes_that_come_and_go_keep_their_own_entries() {
        // Refreshes with pids appearing ahead of and behind the ones that
        // go; each refresh must find exactly the entries of the one before.
        let refreshes: [&[u32]; 4] = [&[2, 4, 6, 8], &[1, 2, 3, 8, 9], &[9, 10, 11], &[]];
        let mut memo = ProcessMemo::default();
        let mut before: &[u32] = &[];
        for (n, pids) in refreshes.iter().enumerate() {
            let n = n as u64;
            for &pid in *pids {
                let found = memo.previous(pid, 0).map(|r| r.counters.minflt);
                // Refresh n remembers n + 1.
                let expected = before.contains(&pid).then_some(n);
                assert_eq!(found, expected, "pid {pid} in refresh {n}");
                memo.remember(pid, entry(0, n + 1));
            }
            memo.end_refresh();
            assert_eq!(memo.entries.len(), pids.len(), "only this refresh is kept");
            before = pids;
        }
    }
}
