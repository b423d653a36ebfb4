//! Cumulative counters that never go backwards.
//!
//! A walk reads a thread's counters when it visits the thread and the
//! exited threads' totals (signal_struct) when it visits the leader; a
//! thread exiting between the two visits is briefly counted in neither.
//! /proc avoids this with a lock we cannot take from an iterator, so we do
//! what the kernel does for the user/system split anyway (prev_cputime):
//! remember what we reported per process and never report less.

use rustc_hash::FxHashMap;

use crate::collect::sample::{IoCounters, ProcessKey};

/// The cumulative counters of one process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub utime_ns: u64,
    pub stime_ns: u64,
    pub minflt: u64,
    pub majflt: u64,
    pub io: IoCounters,
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

#[derive(Debug, Default)]
pub struct Monotonic {
    last: FxHashMap<ProcessKey, (Counters, u64)>,
    generation: u64,
}

impl Monotonic {
    /// What to report for `key`, given this walk's raw values.
    pub fn apply(
        &mut self,
        key: ProcessKey,
        rtime: u64,
        raw_utime: u64,
        raw_stime: u64,
        raw: Counters,
    ) -> Counters {
        let generation = self.generation;
        // One hash lookup: the slot is read and then overwritten in place.
        let slot = self
            .last
            .entry(key)
            .or_insert((Counters::default(), generation));
        let prev = slot.0;
        let (utime_ns, stime_ns) =
            adjust_cputime(rtime, raw_utime, raw_stime, (prev.utime_ns, prev.stime_ns));
        let io = IoCounters {
            rchar: raw.io.rchar.max(prev.io.rchar),
            wchar: raw.io.wchar.max(prev.io.wchar),
            read_bytes: raw.io.read_bytes.max(prev.io.read_bytes),
            write_bytes: raw.io.write_bytes.max(prev.io.write_bytes),
        };
        let counters = Counters {
            utime_ns,
            stime_ns,
            minflt: raw.minflt.max(prev.minflt),
            majflt: raw.majflt.max(prev.majflt),
            io,
        };
        *slot = (counters, generation);
        counters
    }

    /// Forgets processes not seen in this walk.
    pub fn end_refresh(&mut self) {
        let generation = self.generation;
        self.last.retain(|_, (_, seen)| *seen == generation);
        self.generation += 1;
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
        let key = ProcessKey {
            pid: 5,
            start_time_ns: 1,
        };
        let mut m = Monotonic::default();
        let raw = |minflt, rchar| Counters {
            minflt,
            io: IoCounters {
                rchar,
                ..Default::default()
            },
            ..Default::default()
        };
        let first = m.apply(key, 2000, 1, 1, raw(10, 100));
        m.end_refresh();
        // A thread exited mid-walk: its counts are briefly missing.
        let second = m.apply(key, 1500, 1, 1, raw(7, 60));
        assert_eq!(second.minflt, 10);
        assert_eq!(second.io.rchar, 100);
        assert_eq!(
            second.utime_ns + second.stime_ns,
            first.utime_ns + first.stime_ns
        );
        m.end_refresh();
        // A new process with the same pid starts from its own values.
        let other = ProcessKey {
            pid: 5,
            start_time_ns: 99,
        };
        assert_eq!(m.apply(other, 10, 1, 0, raw(1, 1)).minflt, 1);
    }
}
