//! Run-queue waits and stalls as rates: the share of an interval spent
//! waiting (100 % = one thread waiting all of it, so a process's value can
//! pass 100 % as its CPU% can) and run-queue waits per second.

use crate::collect::sample::{Stalls, Waits};

/// Shares of the interval spent in each stall, percent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StallPercents {
    pub blkio: f64,
    pub swapin: f64,
    pub reclaim: f64,
    pub thrashing: f64,
    pub compact: f64,
}

/// What a process (or thread) waited for over the last interval; None
/// where it is not measured (see `Model::stalls_off` for why stalls are
/// missing).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WaitRates {
    /// Time runnable but not running, percent of the interval.
    pub wait_percent: Option<f64>,
    /// Times switched in after waiting on a run queue, per second.
    pub waits_per_second: Option<f64>,
    pub stalls: Option<StallPercents>,
}

impl WaitRates {
    /// The rates from `before` (None: no baseline, the first refresh) to
    /// `now` over `dt` ns; stalls only when `stalls_counted` (delay
    /// accounting is on).
    pub fn between(now: Waits, before: Option<Waits>, dt: u64, stalls_counted: bool) -> WaitRates {
        let share = |a: u64, b: u64| {
            if dt == 0 {
                0.0
            } else {
                a.saturating_sub(b) as f64 * 100.0 / dt as f64
            }
        };
        let per_second = |a: u64, b: u64| {
            if dt == 0 {
                0.0
            } else {
                a.saturating_sub(b) as f64 * 1e9 / dt as f64
            }
        };
        let run_before = before.and_then(|b| b.run);
        let stalls_before = before.and_then(|b| b.stalls);
        WaitRates {
            wait_percent: now
                .run
                .map(|r| run_before.map_or(0.0, |b| share(r.delay_ns, b.delay_ns))),
            waits_per_second: now
                .run
                .map(|r| run_before.map_or(0.0, |b| per_second(r.count, b.count))),
            stalls: now.stalls.filter(|_| stalls_counted).map(|s| {
                let b = stalls_before.unwrap_or(s);
                stall_percents(s, b, &share)
            }),
        }
    }
}

fn stall_percents(now: Stalls, before: Stalls, share: &dyn Fn(u64, u64) -> f64) -> StallPercents {
    StallPercents {
        blkio: share(now.blkio_ns, before.blkio_ns),
        swapin: share(now.swapin_ns, before.swapin_ns),
        reclaim: share(now.reclaim_ns, before.reclaim_ns),
        thrashing: share(now.thrashing_ns, before.thrashing_ns),
        compact: share(now.compact_ns, before.compact_ns),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::sample::RunQueue;

    const SEC: u64 = 1_000_000_000;

    fn waits(delay_ns: u64, count: u64, blkio_ns: u64) -> Waits {
        Waits {
            run: Some(RunQueue { delay_ns, count }),
            stalls: Some(Stalls {
                blkio_ns,
                ..Default::default()
            }),
        }
    }

    #[test]
    fn shares_of_the_interval_and_waits_per_second() {
        let r = WaitRates::between(
            waits(SEC, 300, SEC / 4),
            Some(waits(0, 100, 0)),
            2 * SEC,
            true,
        );
        assert_eq!(r.wait_percent, Some(50.0));
        assert_eq!(r.waits_per_second, Some(100.0));
        assert_eq!(r.stalls.map(|s| s.blkio), Some(12.5));
    }

    #[test]
    fn stalls_are_missing_while_not_counted_and_runs_where_not_kept() {
        let r = WaitRates::between(waits(SEC, 1, SEC), Some(waits(0, 0, 0)), SEC, false);
        assert_eq!(r.stalls, None);
        let r = WaitRates::between(Waits::default(), None, SEC, true);
        assert_eq!((r.wait_percent, r.waits_per_second), (None, None));
    }
}
