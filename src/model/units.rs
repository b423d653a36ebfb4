//! Units and containers as rows: the processes of each unit's (or
//! container's) cgroup summed, with the cgroup's own pressure, limits and
//! counters turned into rates.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::starts::StartsByUnit;
use super::{ExitsView, ProcessView};
use crate::collect::sample::UnitCgroupStats;

/// One systemd unit or container.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitView {
    /// Its cgroup ("/system.slice/nginx.service").
    pub path: Arc<str>,
    /// "runtime:name" for a container, else the unit's name.
    pub label: String,
    pub is_container: bool,
    /// The systemd unit as systemd names it (escaped), when there is one.
    pub unit_name: Option<String>,
    /// Sum of its visible processes' CPU% (100 % = one core).
    pub cpu_percent: f64,
    /// Sum of its processes' resident memory.
    pub rss_bytes: u64,
    pub processes: usize,
    /// The cgroup's files as read this refresh.
    pub stats: Arc<UnitCgroupStats>,
    /// CPU% of the whole cgroup from cpu.stat usage_usec (counts exited and
    /// invisible processes too); None on the first refresh.
    pub cgroup_cpu_percent: Option<f64>,
    /// Share of the interval spent throttled (throttled_usec's rate, %).
    pub throttled_percent: Option<f64>,
    /// Throttled periods per second (nr_throttled's rate).
    pub throttles_per_second: Option<f64>,
    /// The first process's pid (a unit row's stand-in for the cursor).
    pub first_pid: u32,
    /// Processes of its cgroup (or below) that exited per second during
    /// the interval; None where exits are not captured or on the first
    /// refresh.
    pub exits_per_second: Option<f64>,
    /// Processes started in it per second, and execs made in it per
    /// second, during the interval; None as for `exits_per_second`.
    pub forks_per_second: Option<f64>,
    pub execs_per_second: Option<f64>,
}

/// The rate of `counter` between `before` and `now`, per second, over
/// `interval_ns`; None without both values or with a counter that went back.
fn rate(now: Option<u64>, before: Option<u64>, interval_ns: Option<u64>) -> Option<f64> {
    let dt = interval_ns.filter(|&dt| dt > 0)? as f64 / 1e9;
    let delta = now?.checked_sub(before?)?;
    Some(delta as f64 / dt)
}

/// The unit rows of `processes`, in first-seen order of pid; rates against
/// the rows of the previous refresh, `interval_ns` before.
pub fn unit_rows(
    processes: &[ProcessView],
    prev: &[UnitView],
    interval_ns: Option<u64>,
) -> Vec<UnitView> {
    let mut rows: Vec<UnitView> = Vec::new();
    // Rows by the address of their path's Arc: the catalog shares one Arc
    // per unit cgroup, so no string is hashed per process.
    let mut index: FxHashMap<usize, usize> = FxHashMap::default();
    for p in processes {
        let Some(facts) = &p.cgroup else { continue };
        let Some(unit) = &facts.unit else { continue };
        let address = Arc::as_ptr(&unit.path).cast::<u8>().addr();
        let i = *index.entry(address).or_insert_with(|| {
            let info = &facts.info;
            let label = info
                .container_label
                .clone()
                .or_else(|| info.unit_label.clone())
                .unwrap_or_else(|| unit.path.to_string());
            rows.push(UnitView {
                path: Arc::clone(&unit.path),
                label,
                is_container: info.container.is_some(),
                unit_name: info.unit.unit.clone(),
                cpu_percent: 0.0,
                rss_bytes: 0,
                processes: 0,
                stats: Arc::clone(&unit.stats),
                cgroup_cpu_percent: None,
                throttled_percent: None,
                throttles_per_second: None,
                first_pid: p.sample.pid,
                exits_per_second: None,
                forks_per_second: None,
                execs_per_second: None,
            });
            rows.len() - 1
        });
        if let Some(row) = rows.get_mut(i) {
            row.cpu_percent += p.cpu_percent;
            row.rss_bytes += p.sample.rss_bytes;
            row.processes += 1;
        }
    }
    let before: FxHashMap<&str, &UnitCgroupStats> =
        prev.iter().map(|u| (&*u.path, &*u.stats)).collect();
    for row in &mut rows {
        let Some(old) = before.get(&*row.path) else {
            continue;
        };
        let s = &row.stats;
        // The files' own read times where both are known (the collector
        // records them); the refreshes' interval otherwise.
        let interval_ns = if s.read_ns > 0 && old.read_ns > 0 {
            Some(s.read_ns.saturating_sub(old.read_ns))
        } else {
            interval_ns
        };
        // µs per second / 1e6 * 100 = µs per second / 1e4.
        row.cgroup_cpu_percent = rate(s.usage_usec, old.usage_usec, interval_ns).map(|r| r / 1e4);
        row.throttled_percent =
            rate(s.throttled_usec, old.throttled_usec, interval_ns).map(|r| r / 1e4);
        row.throttles_per_second = rate(s.nr_throttled, old.nr_throttled, interval_ns);
    }
    rows
}

/// The exits of the interval per unit row, as rates. Only units with a
/// process alive have a row: a unit whose every process exited is not
/// listed.
pub fn add_exits(rows: &mut [UnitView], exits: &ExitsView) {
    let Some(dt) = exits.interval_ns.filter(|&dt| dt > 0) else {
        return;
    };
    let mut counts: FxHashMap<&str, u32> = FxHashMap::default();
    for e in &exits.processes {
        if let Some(unit) = e.cgroup.as_ref().and_then(|c| c.unit.as_ref()) {
            *counts.entry(&*unit.path).or_default() += 1;
        }
    }
    for row in rows {
        let n = counts.get(&*row.path).copied().unwrap_or(0);
        row.exits_per_second = Some(f64::from(n) * 1e9 / dt as f64);
    }
}

/// The starts and execs of the interval per unit row, as rates, over
/// `interval_ns` (None where exits are not captured or on the first
/// refresh: then no rate).
pub fn add_starts(rows: &mut [UnitView], starts: &StartsByUnit, interval_ns: Option<u64>) {
    let Some(dt) = interval_ns.filter(|&dt| dt > 0) else {
        return;
    };
    let per_second = |n: u32| Some(f64::from(n) * 1e9 / dt as f64);
    for row in rows {
        let n = starts.get(&row.path).copied().unwrap_or_default();
        row.forks_per_second = per_second(n.forks);
        row.execs_per_second = per_second(n.execs);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rates_need_both_values_and_time() {
        assert_eq!(
            rate(Some(3_000), Some(1_000), Some(2_000_000_000)),
            Some(1_000.0)
        );
        assert_eq!(rate(Some(3_000), None, Some(1)), None);
        assert_eq!(rate(Some(1), Some(3), Some(1)), None);
        assert_eq!(rate(Some(3), Some(1), Some(0)), None);
        assert_eq!(rate(Some(3), Some(1), None), None);
    }

    #[test]
    fn exits_per_second_count_the_units_exits_over_the_interval() {
        use crate::collect::sample::{
            CgroupFacts, ExitCapture, ExitHook, ExitStatus, ExitedProcess, UnitCgroup,
        };
        let path: Arc<str> = Arc::from("/system.slice/app.service");
        let stats = Arc::new(UnitCgroupStats::default());
        let row = |p: &Arc<str>| UnitView {
            path: Arc::clone(p),
            label: p.to_string(),
            is_container: false,
            unit_name: None,
            cpu_percent: 0.0,
            rss_bytes: 0,
            processes: 1,
            stats: Arc::clone(&stats),
            cgroup_cpu_percent: None,
            throttled_percent: None,
            throttles_per_second: None,
            first_pid: 1,
            exits_per_second: None,
            forks_per_second: None,
            execs_per_second: None,
        };
        let other: Arc<str> = Arc::from("/system.slice/other.service");
        let mut rows = vec![row(&path), row(&other)];
        let exit = |unit: Option<&Arc<str>>| crate::model::ExitedView {
            process: ExitedProcess {
                status: ExitStatus::Code(1),
                ..crate::test_support::exited(9, 1, 0)
            },
            user: Arc::from("root"),
            cgroup: Some(CgroupFacts {
                info: Default::default(),
                frozen: None,
                unit: unit.map(|p| UnitCgroup {
                    path: Arc::clone(p),
                    stats: Arc::clone(&stats),
                }),
            }),
            interval_cpu_ns: 0,
        };
        let mut exits = ExitsView {
            capture: ExitCapture::On {
                hook: ExitHook::GroupDead,
                oom: false,
                final_cpu: true,
            },
            processes: vec![
                exit(Some(&path)),
                exit(Some(&path)),
                exit(Some(&path)),
                exit(None),
            ],
            interval_ns: None,
            ..Default::default()
        };
        add_exits(&mut rows, &exits);
        assert_eq!(rows[0].exits_per_second, None, "no interval: no rate");
        exits.interval_ns = Some(2_000_000_000);
        add_exits(&mut rows, &exits);
        assert_eq!(rows[0].exits_per_second, Some(1.5));
        assert_eq!(rows[1].exits_per_second, Some(0.0));
    }
}
