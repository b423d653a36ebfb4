//! Cumulative counters that never go backwards.
//!
//! A walk reads a thread's counters when it visits the thread and the
//! exited threads' totals (signal_struct) when it visits the leader; a
//! thread exiting between the two visits is briefly counted in neither.
//! /proc avoids this with a lock we cannot take from an iterator, so we do
//! what the kernel does for the user/system split anyway (prev_cputime):
//! remember what we reported per process (memo.rs) and never report less.

use crate::collect::sample::{IoCounters, Waits};

/// The cumulative counters of one process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub utime_ns: u64,
    pub stime_ns: u64,
    pub minflt: u64,
    pub majflt: u64,
    pub io: IoCounters,
    pub waits: Waits,
}

/// Splits the scheduler's exact run time `rtime` into user and system time
/// in the ratio of the tick-sampled `utime`/`stime`, as the kernel's
/// cputime_adjust() does: neither part ever decreases from `prev`, and
/// user + system == rtime whenever rtime has grown.
pub fn adjust_cputime(rtime: u64, utime: u64, stime: u64, prev: (u64, u64)) -> (u64, u64) {
    let (prev_u, prev_s) = prev;
    if prev_u.saturating_add(prev_s) >= rtime {
        return prev;
    }
    let mut s = if stime == 0 {
        0
    } else if utime == 0 {
        rtime
    } else {
        let scaled = rtime as u128 * stime as u128 / (stime as u128 + utime as u128);
        (scaled as u64).min(rtime)
    };
    s = s.max(prev_s);
    let mut u = rtime - s.min(rtime);
    if u < prev_u {
        u = prev_u;
        s = rtime - u;
    }
    (u, s)
}

/// What to report for a process, given this walk's raw values and what
/// was reported for it last time (None for a process seen first).
pub fn never_backwards(
    prev: Option<&Counters>,
    rtime: u64,
    raw_utime: u64,
    raw_stime: u64,
    raw: Counters,
) -> Counters {
    let prev = prev.copied().unwrap_or_default();
    let (utime_ns, stime_ns) =
        adjust_cputime(rtime, raw_utime, raw_stime, (prev.utime_ns, prev.stime_ns));
    Counters {
        utime_ns,
        stime_ns,
        minflt: raw.minflt.max(prev.minflt),
        majflt: raw.majflt.max(prev.majflt),
        io: IoCounters {
            rchar: raw.io.rchar.max(prev.io.rchar),
            wchar: raw.io.wchar.max(prev.io.wchar),
            read_bytes: raw.io.read_bytes.max(prev.io.read_bytes),
            write_bytes: raw.io.write_bytes.max(prev.io.write_bytes),
        },
        waits: raw.waits.never_below(prev.waits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_follows_the_kernel() {
        assert_eq!(adjust_cputime(1000, 3, 1, (0, 0)), (750, 250));
        assert_eq!(adjust_cputime(1000, 0, 0, (0, 0)), (1000, 0));
        assert_eq!(adjust_cputime(1000, 0, 5, (0, 0)), (0, 1000));
        let (u, s) = adjust_cputime(u64::MAX / 2, u64::MAX / 3, u64::MAX / 3, (0, 0));
        assert_eq!(u + s, u64::MAX / 2);
    }

    #[test]
    fn split_never_goes_backwards() {
        // No growth: the previous split stands.
        assert_eq!(adjust_cputime(900, 1, 1, (600, 400)), (600, 400));
        // The ratio now says 50/50, but system may not drop below 400 nor
        // user below 600: user keeps 600 and system takes the rest.
        assert_eq!(adjust_cputime(1100, 1, 1, (600, 400)), (600, 500));
    }

    #[test]
    fn counters_never_decrease_within_a_process() {
        let raw = |minflt, rchar| Counters {
            minflt,
            io: IoCounters {
                rchar,
                ..Default::default()
            },
            ..Default::default()
        };
        let first = never_backwards(None, 2000, 1, 1, raw(10, 100));
        // A thread exited mid-walk: its counts are briefly missing.
        let second = never_backwards(Some(&first), 1500, 1, 1, raw(7, 60));
        assert_eq!(second.minflt, 10);
        assert_eq!(second.io.rchar, 100);
        assert_eq!(
            second.utime_ns + second.stime_ns,
            first.utime_ns + first.stime_ns
        );
        // Once the counts are back and grow, they are reported as they are.
        let third = never_backwards(Some(&second), 2600, 1, 1, raw(12, 130));
        assert_eq!(third.minflt, 12);
        assert_eq!(third.utime_ns + third.stime_ns, 2600);
    }
}
