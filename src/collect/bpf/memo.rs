//! What one refresh remembers of each process for the next: the counters it
//! reported (so that they never go backwards) and its argv (read once per
//! exec, and again when its title may have changed). Kept as a vector
//! sorted by pid and joined with the next refresh's processes, which are
//! built in pid order too: a merge with sequential
//! memory access, where a hash map keyed by pid costs a cache miss per
//! process per refresh.

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

#[derive(Debug, Default)]
pub struct ProcessMemo {
    /// The previous refresh's processes, by increasing pid.
    previous: Vec<(u32, Remembered)>,
    /// This refresh's, as they are built.
    current: Vec<(u32, Remembered)>,
    /// Where the merge stands in `previous`.
    cursor: usize,
}

impl ProcessMemo {
    /// The previous refresh's entry for the process `pid` that started at
    /// `start_time_ns` (a reused pid is another process). Within a refresh,
    /// calls must come in increasing pid order.
    pub fn previous(&mut self, pid: u32, start_time_ns: u64) -> Option<&Remembered> {
        // A linear step, not a binary search: the next entry is nearly
        // always the one wanted, and the whole merge stays O(n).
        while self
            .previous
            .get(self.cursor)
            .is_some_and(|(p, _)| *p < pid)
        {
            self.cursor += 1;
        }
        match self.previous.get(self.cursor) {
            Some((p, r)) if *p == pid && r.start_time_ns == start_time_ns => Some(r),
            _ => None,
        }
    }

    /// Records this refresh's entry for `pid` (in increasing pid order).
    pub fn remember(&mut self, pid: u32, entry: Remembered) {
        debug_assert!(self.current.last().is_none_or(|(p, _)| *p < pid));
        self.current.push((pid, entry));
    }

    /// This refresh's entries become the previous ones; processes not seen
    /// in it are forgotten.
    pub fn end_refresh(&mut self) {
        std::mem::swap(&mut self.previous, &mut self.current);
        self.current.clear();
        self.cursor = 0;
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
}
