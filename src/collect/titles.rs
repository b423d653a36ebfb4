//! When a command line is read again although the process did not exec:
//! programs that set their title in place (postgres, nginx, sshd, anything
//! using setproctitle) rewrite their argv memory without an exec, which
//! `self_exec_id` cannot see.
//!
//! Only a process that ran can rewrite its own argv, and a process that ran
//! has used CPU time: a title is read again only when the process's CPU
//! time grew since it was last read. Idle processes (most of them, on most
//! machines) cost nothing. Of those that ran, a title is read again
//!
//! - at every refresh for the rows the interface shows ([`WatchedTitles`]),
//! - and, for every process, once per sweep ([`TitleSweep`]): each process
//!   has a fixed phase in the sweep, spread over the processes by a hash of
//!   its pid, and each refresh reads the titles whose phase the sweep
//!   passed since the previous one. A full turn takes `⌊10 s / interval⌋`
//!   refreshes, at most [`TITLE_BOUND_NS`] (10 s) at a steady refresh
//!   rate, and a rewritten title is read at the first refresh whose part
//!   of the turn holds its phase, less than a turn later: within 10 s (one
//!   refresh, where refreshes are more than 10 s apart). A refresh reads
//!   about `ran / ⌊10 s / interval⌋` titles, where `ran` is the number of
//!   processes that used CPU time (half of them at 5 s, all of them above
//!   5 s).
//!
//! What this cannot see: a change made to a process's memory from outside
//! it (a debugger, /proc/PID/mem, process_vm_writev) while the process
//! itself does not run; it shows once the process runs again.

/// A title rewritten in place shows within this time (batch and serve
/// modes; at the next refresh for rows on screen).
pub const TITLE_BOUND_NS: u64 = 10_000_000_000;

/// One full turn of the sweep, in units of 2^-32 turn.
const TURN: u64 = 1 << 32;

#[derive(Debug, Default)]
pub struct WatchedTitles {
    /// Sorted, without repeats.
    pids: Vec<u32>,
}

impl WatchedTitles {
    /// Watches these processes from now on (the previous set is replaced).
    pub fn set(&mut self, pids: &[u32]) {
        self.pids.clear();
        self.pids.extend_from_slice(pids);
        self.pids.sort_unstable();
        self.pids.dedup();
    }

    pub fn contains(&self, pid: u32) -> bool {
        self.pids.binary_search(&pid).is_ok()
    }
}

/// Which processes' titles are due at this refresh: those whose phase lies
/// in the part of the turn the sweep passed since the previous refresh.
#[derive(Debug, Default)]
pub struct TitleSweep {
    /// The previous refresh's time (CLOCK_BOOTTIME, ns).
    last_ns: Option<u64>,
    /// Where the sweep stands, in units of 2^-32 turn.
    position: u32,
    /// This refresh's window: phases in (start, start + len], len in units
    /// of 2^-32 turn; a whole turn or more: every process.
    start: u32,
    len: u64,
}

impl TitleSweep {
    /// Moves the sweep on for the refresh taken at `now_ns`: by a whole
    /// number of refreshes per turn that fits `TITLE_BOUND_NS` at this
    /// refresh interval (1/⌊bound / interval⌋ of a turn, rounded up); the
    /// whole turn when refreshes are the bound apart or more.
    pub fn begin_refresh(&mut self, now_ns: u64) {
        let Some(last) = self.last_ns.replace(now_ns) else {
            // The first refresh reads every command line anyway.
            self.len = 0;
            return;
        };
        let interval = now_ns.saturating_sub(last).max(1);
        let per_turn = TITLE_BOUND_NS / interval;
        self.start = self.position;
        self.len = if per_turn <= 1 {
            TURN
        } else {
            TURN.div_ceil(per_turn)
        };
        // Truncation is the wrap-around of the turn.
        self.position = self.position.wrapping_add(self.len as u32);
    }

    /// Whether process `pid`'s title is due at this refresh.
    pub fn due(&self, pid: u32) -> bool {
        if self.len >= TURN {
            return true;
        }
        let offset = phase(pid).wrapping_sub(self.start).wrapping_sub(1);
        u64::from(offset) < self.len
    }
}

/// A process's place in the turn: Fibonacci hashing of its pid, which
/// spreads consecutive pids evenly over the turn.
fn phase(pid: u32) -> u32 {
    pid.wrapping_mul(0x9E37_79B9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_is_replaced() {
        let mut w = WatchedTitles::default();
        assert!(!w.contains(7));
        w.set(&[9, 7, 7, 1]);
        assert!(w.contains(7) && w.contains(1) && w.contains(9));
        assert!(!w.contains(8));
        w.set(&[9]);
        assert!(!w.contains(7) && w.contains(9));
    }

    const MS: u64 = 1_000_000;

    /// For `pids` under a steady refresh interval: the longest time between
    /// two refreshes at which a process is due, and the most processes due
    /// at one refresh.
    fn sweep(interval_ms: u64, pids: u32, refreshes: u64) -> (u64, usize) {
        let mut sweep = TitleSweep::default();
        let mut last_due = vec![0u64; pids as usize];
        let (mut longest, mut most) = (0, 0);
        for r in 0..refreshes {
            let now = 1_000 * MS + r * interval_ms * MS;
            sweep.begin_refresh(now);
            let mut due = 0;
            for pid in 0..pids {
                if r > 0 && sweep.due(pid) {
                    due += 1;
                    // The first turn starts at the first refresh.
                    let since = last_due[pid as usize];
                    longest = longest.max(r - since);
                    last_due[pid as usize] = r;
                }
            }
            most = most.max(due);
        }
        // The time since the last read at the end counts too.
        for &since in &last_due {
            longest = longest.max(refreshes - 1 - since);
        }
        (longest * interval_ms, most)
    }

    #[test]
    fn every_process_is_due_within_the_bound() {
        for interval_ms in [50, 333, 999, 1000, 1001, 1500, 2000, 3000, 4999] {
            // Three turns.
            let refreshes = 3 * TITLE_BOUND_NS / (interval_ms * MS) + 2;
            let (longest_ms, most) = sweep(interval_ms, 5000, refreshes);
            assert!(
                longest_ms * MS <= TITLE_BOUND_NS,
                "{interval_ms} ms: {longest_ms} ms between two reads"
            );
            // Spread evenly: about 5000 / ⌊10 s / interval⌋ per refresh,
            // not all of them at once.
            let even = 5000.0 / (10_000 / interval_ms) as f64;
            assert!(
                (most as f64) <= even * 1.2 + 10.0,
                "{interval_ms} ms: {most} due at once, {even:.0} expected"
            );
        }
    }

    #[test]
    fn refreshes_far_apart_read_titles_every_refresh_or_every_other() {
        for interval_ms in [7000, 10_000, 30_000] {
            let (longest_ms, most) = sweep(interval_ms, 300, 4);
            assert_eq!(longest_ms, interval_ms, "{interval_ms} ms");
            assert_eq!(most, 300);
        }
        // 5 s: half of them at each refresh, each every other refresh.
        let (longest_ms, most) = sweep(5000, 300, 8);
        assert_eq!(longest_ms, 10_000);
        assert!((140..=160).contains(&most), "{most}");
    }

    #[test]
    fn the_first_refresh_has_nothing_due() {
        let mut sweep = TitleSweep::default();
        sweep.begin_refresh(5 * 1_000 * MS);
        assert!((0..1000).all(|pid| !sweep.due(pid)));
    }
}
