//! Time a task spent waiting instead of running: on the run queue (the
//! scheduler's sched_info) and stalled on I/O or memory (delay accounting,
//! task_delay_info). Cumulative ns, as the kernel keeps them.

/// Run-queue waits of a task or a process.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Hash, Eq, serde::Serialize, serde::Deserialize,
)]
pub struct RunQueue {
    /// Time runnable but not running, ns (schedstat's second field).
    pub delay_ns: u64,
    /// Times switched in to run after waiting (schedstat's third field).
    pub count: u64,
}

/// Stall totals of delay accounting, ns. They grow only while
/// kernel.task_delayacct is 1.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Hash, Eq, serde::Serialize, serde::Deserialize,
)]
pub struct Stalls {
    /// Waiting for block I/O (swap-in excluded).
    pub blkio_ns: u64,
    /// Waiting for pages to come back from swap.
    pub swapin_ns: u64,
    /// Direct memory reclaim.
    pub reclaim_ns: u64,
    /// Refaulting pages evicted from the working set.
    pub thrashing_ns: u64,
    /// Direct memory compaction.
    pub compact_ns: u64,
}

impl Stalls {
    /// The component-wise maximum: what a total that never goes backwards
    /// reports.
    pub fn max(self, other: Stalls) -> Stalls {
        Stalls {
            blkio_ns: self.blkio_ns.max(other.blkio_ns),
            swapin_ns: self.swapin_ns.max(other.swapin_ns),
            reclaim_ns: self.reclaim_ns.max(other.reclaim_ns),
            thrashing_ns: self.thrashing_ns.max(other.thrashing_ns),
            compact_ns: self.compact_ns.max(other.compact_ns),
        }
    }

    /// The component-wise sum.
    pub fn plus(self, other: Stalls) -> Stalls {
        Stalls {
            blkio_ns: self.blkio_ns.saturating_add(other.blkio_ns),
            swapin_ns: self.swapin_ns.saturating_add(other.swapin_ns),
            reclaim_ns: self.reclaim_ns.saturating_add(other.reclaim_ns),
            thrashing_ns: self.thrashing_ns.saturating_add(other.thrashing_ns),
            compact_ns: self.compact_ns.saturating_add(other.compact_ns),
        }
    }
}

impl RunQueue {
    pub fn max(self, other: RunQueue) -> RunQueue {
        RunQueue {
            delay_ns: self.delay_ns.max(other.delay_ns),
            count: self.count.max(other.count),
        }
    }

    pub fn plus(self, other: RunQueue) -> RunQueue {
        RunQueue {
            delay_ns: self.delay_ns.saturating_add(other.delay_ns),
            count: self.count.saturating_add(other.count),
        }
    }
}

/// A task's or a process's waits; each part None where the kernel does not
/// keep it (or, for the procfs backend, where it cannot be read).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Hash, Eq, serde::Serialize, serde::Deserialize,
)]
pub struct Waits {
    pub run: Option<RunQueue>,
    /// Kept by the kernel (CONFIG_TASK_DELAY_ACCT); meaningful only while
    /// `SystemSample::delay_accounting` is Some(true).
    pub stalls: Option<Stalls>,
}

impl Waits {
    /// Never below `prev` in any part that both have.
    pub fn never_below(self, prev: Waits) -> Waits {
        Waits {
            run: match (self.run, prev.run) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, _) => a,
            },
            stalls: match (self.stalls, prev.stalls) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, _) => a,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_below_keeps_the_larger_of_each_part() {
        let now = Waits {
            run: Some(RunQueue {
                delay_ns: 5,
                count: 9,
            }),
            stalls: Some(Stalls {
                blkio_ns: 1,
                swapin_ns: 7,
                ..Default::default()
            }),
        };
        let before = Waits {
            run: Some(RunQueue {
                delay_ns: 8,
                count: 3,
            }),
            stalls: Some(Stalls {
                blkio_ns: 4,
                ..Default::default()
            }),
        };
        let w = now.never_below(before);
        assert_eq!(w.run.map(|r| (r.delay_ns, r.count)), Some((8, 9)));
        assert_eq!(w.stalls.map(|s| (s.blkio_ns, s.swapin_ns)), Some((4, 7)));
        // A part the kernel does not keep stays absent.
        assert_eq!(Waits::default().never_below(before).run, None);
    }
}
