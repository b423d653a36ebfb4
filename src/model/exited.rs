//! Processes that exited during the interval: what each used that no row
//! showed, and where that CPU belongs (its parent, its unit or container,
//! the total), so that the rows plus the exited add up to the busy CPU.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::collect::sample::{
    CgroupFacts, ExitCapture, ExitedProcess, Exits, LateExitCpu, ProcessKey,
};

use super::{Baseline, ProcessView};

/// One exited process as shown.
#[derive(Debug, Clone)]
pub struct ExitedView {
    pub process: ExitedProcess,
    pub user: Arc<str>,
    /// Unit, container and frozen state of its cgroup, where known.
    pub cgroup: Option<CgroupFacts>,
    /// CPU it used within the interval that no row of this refresh or the
    /// last one shows, ns: all of it for a process born and gone between
    /// two refreshes, the part after its last row for one seen alive.
    pub interval_cpu_ns: u64,
}

/// A process an earlier refresh listed whose final CPU came in this one.
#[derive(Debug, Clone)]
pub struct LateView {
    pub late: LateExitCpu,
    /// Unit, container and frozen state of its cgroup, where known.
    pub cgroup: Option<CgroupFacts>,
    /// What its final CPU adds to what was counted before (its record and
    /// its rows), ns.
    pub interval_cpu_ns: u64,
}

/// The exits of one refresh.
#[derive(Debug, Clone, Default)]
pub struct ExitsView {
    pub capture: ExitCapture,
    /// In the order they exited.
    pub processes: Vec<ExitedView>,
    /// Processes of earlier refreshes whose final CPU came now; their
    /// `interval_cpu_ns` is in `cpu_percent` and their parents' shares.
    pub late: Vec<LateView>,
    /// Final CPU times lost to a full buffer since bpftop started.
    pub finals_dropped: u64,
    /// Exits lost because the kernel's buffer was full: since bpftop
    /// started, and within this interval.
    pub dropped_total: u64,
    pub dropped: u64,
    /// The sum of `interval_cpu_ns`, as a share of one CPU over the
    /// interval (0 on the first refresh).
    pub cpu_percent: f64,
    /// The interval the exits arrived in, ns, for their rates: None on the
    /// first refresh and where exits are not captured.
    pub interval_ns: Option<u64>,
}

/// The CPU counter of the row of process (`pid`, `start`) in `rows`
/// (sorted by pid), if there is one.
fn row_cpu(rows: &[ProcessView], pid: u32, start: u64) -> Option<u64> {
    let i = rows.binary_search_by_key(&pid, |v| v.sample.pid).ok()?;
    let row = &rows[i].sample;
    (row.start_time_ns == start).then(|| row.cpu_time_ns())
}

/// The CPU time the last refresh's row of (`pid`, `start`) showed, if it
/// had one.
fn last_cpu(before: &[(ProcessKey, Baseline)], pid: u32, start: u64) -> Option<u64> {
    let i = before.binary_search_by_key(&pid, |(k, _)| k.pid).ok()?;
    let (key, base) = &before[i];
    (key.start_time_ns == start).then_some(base.cpu_ns)
}

/// The most CPU a row of (`pid`, `start`) showed in this refresh or the
/// last: a zombie row shows the process until it is reaped.
fn shown(rows: &[ProcessView], before: &[(ProcessKey, Baseline)], pid: u32, start: u64) -> u64 {
    last_cpu(before, pid, start)
        .into_iter()
        .chain(row_cpu(rows, pid, start))
        .max()
        .unwrap_or(0)
}

/// Builds the exits view and adds each exited process's interval CPU to
/// its parent's `exited_children_cpu_percent`. `rows` and `before` are
/// this and the last refresh's processes, sorted by pid; `interval_ns` is
/// None on the first refresh.
pub(super) fn account(
    exits: Exits,
    rows: &mut [ProcessView],
    before: &[(ProcessKey, Baseline)],
    prev_dropped: Option<u64>,
    interval_ns: Option<u64>,
    cgroups: &std::collections::HashMap<String, CgroupFacts>,
    user: &mut dyn FnMut(u32) -> Arc<str>,
) -> ExitsView {
    let dt = interval_ns.filter(|&dt| dt > 0);
    let mut total_ns = 0u64;
    let mut per_parent: FxHashMap<u32, u64> = FxHashMap::default();
    let mut children: FxHashMap<u32, u32> = FxHashMap::default();
    let processes: Vec<ExitedView> = exits
        .processes
        .into_iter()
        .map(|p| {
            // A zombie row still shows it: then its CPU is not lost.
            let interval_cpu_ns = match dt {
                Some(_) => {
                    p.cpu_time_ns()
                        .saturating_sub(shown(rows, before, p.pid, p.start_time_ns))
                }
                None => 0,
            };
            total_ns += interval_cpu_ns;
            *children.entry(p.ppid).or_default() += 1;
            if interval_cpu_ns > 0 {
                *per_parent.entry(p.ppid).or_default() += interval_cpu_ns;
            }
            ExitedView {
                user: user(p.uid),
                cgroup: p.cgroup.as_ref().and_then(|c| cgroups.get(&**c).cloned()),
                process: p,
                interval_cpu_ns,
            }
        })
        .collect();
    // What the final CPU adds beyond the record and any row since.
    let late: Vec<LateView> = exits
        .late
        .into_iter()
        .map(|l| {
            let counted = l
                .recorded_ns
                .max(shown(rows, before, l.pid, l.start_time_ns));
            let interval_cpu_ns = match dt {
                Some(_) => l.cpu_time_ns().saturating_sub(counted),
                None => 0,
            };
            total_ns += interval_cpu_ns;
            if interval_cpu_ns > 0 {
                *per_parent.entry(l.ppid).or_default() += interval_cpu_ns;
            }
            LateView {
                cgroup: l.cgroup.as_ref().and_then(|c| cgroups.get(&**c).cloned()),
                late: l,
                interval_cpu_ns,
            }
        })
        .collect();
    let percent = |ns: u64| dt.map_or(0.0, |dt| ns as f64 * 100.0 / dt as f64);
    for (ppid, ns) in per_parent {
        if let Ok(i) = rows.binary_search_by_key(&ppid, |v| v.sample.pid) {
            rows[i].exited_children_cpu_percent += percent(ns);
        }
    }
    for (ppid, n) in children {
        if let Ok(i) = rows.binary_search_by_key(&ppid, |v| v.sample.pid) {
            rows[i].exited_children += n;
        }
    }
    ExitsView {
        interval_ns: dt.filter(|_| exits.capture.is_on()),
        capture: exits.capture,
        processes,
        late,
        finals_dropped: exits.finals_dropped,
        dropped_total: exits.dropped,
        dropped: prev_dropped.map_or(0, |d| exits.dropped.saturating_sub(d)),
        cpu_percent: percent(total_ns),
    }
}
