//! When a command line is read again although the process did not exec:
//! programs that set their title in place (postgres, nginx, sshd, anything
//! using setproctitle) rewrite their argv memory without an exec, which
//! `self_exec_id` cannot see. The rows on screen are read again at every
//! refresh (a few dozen reads); in batch and serve modes every title is read
//! again within a period, the reads spread evenly over it.

use std::time::Duration;

#[derive(Debug, Default)]
pub struct TitlePolicy {
    /// Processes whose title is read at the next refreshes (the
    /// interface's rows on screen), sorted.
    watched: Vec<u32>,
    /// Every title is read again at least this often.
    period_ns: Option<u64>,
}

/// "Never due".
pub const NEVER: u64 = u64::MAX;

impl TitlePolicy {
    /// Reads these processes' titles at every refresh from now on (the
    /// previous set is replaced).
    pub fn watch(&mut self, pids: &[u32]) {
        self.watched.clear();
        self.watched.extend_from_slice(pids);
        self.watched.sort_unstable();
        self.watched.dedup();
    }

    /// Reads every title again at least every `period` (None: only on exec
    /// and for watched processes).
    pub fn set_period(&mut self, period: Option<Duration>) {
        self.period_ns = period.map(|p| u64::try_from(p.as_nanos()).unwrap_or(u64::MAX).max(1));
    }

    /// Whether the title of `pid`, next due at `due_ns`, must be read again
    /// at `now_ns`.
    pub fn stale(&self, pid: u32, due_ns: u64, now_ns: u64) -> bool {
        due_ns <= now_ns || self.watched.binary_search(&pid).is_ok()
    }

    /// When the title of `pid`, read at `now_ns`, is next due. A first read
    /// is followed by the next one after a fraction of the period that
    /// depends on the pid, so that processes first seen together (all of
    /// them, at start) are read again spread over the period, not all at
    /// once.
    pub fn next_due(&self, pid: u32, now_ns: u64, first_read: bool) -> u64 {
        let Some(period) = self.period_ns else {
            return NEVER;
        };
        let wait = if first_read {
            // A multiplicative hash spreads consecutive pids across the
            // period; never zero, so a title is not read twice at once.
            (u64::from(pid).wrapping_mul(0x9e37_79b9_7f4a_7c15) % period).max(1)
        } else {
            period
        };
        now_ns.saturating_add(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    #[test]
    fn without_a_period_only_watched_titles_are_read_again() {
        let mut p = TitlePolicy::default();
        let due = p.next_due(7, 0, true);
        assert_eq!(due, NEVER);
        assert!(!p.stale(7, due, 1000 * SECOND));
        p.watch(&[9, 7, 7]);
        assert!(p.stale(7, due, 1));
        p.watch(&[9]);
        assert!(!p.stale(7, due, 1));
    }

    #[test]
    fn every_title_is_read_within_the_period() {
        let mut p = TitlePolicy::default();
        p.set_period(Some(Duration::from_secs(10)));
        for pid in [1, 2, 300, 4_000_000] {
            let first = p.next_due(pid, 5 * SECOND, true);
            assert!(first > 5 * SECOND && first <= 15 * SECOND, "{first}");
            assert!(!p.stale(pid, first, first - 1));
            assert!(p.stale(pid, first, first));
            assert_eq!(p.next_due(pid, first, false), first + 10 * SECOND);
        }
    }

    #[test]
    fn first_reads_spread_over_the_period() {
        let mut p = TitlePolicy::default();
        p.set_period(Some(Duration::from_secs(10)));
        // 30 000 processes seen at once, refreshed every second: each
        // second of the period gets about a tenth of the re-reads.
        let mut per_second = [0usize; 10];
        for pid in 1..=30_000 {
            let due = p.next_due(pid, 0, true);
            per_second[((due - 1) / SECOND) as usize] += 1;
        }
        for count in per_second {
            assert!((2_500..=3_500).contains(&count), "{per_second:?}");
        }
    }
}
