//! Per systemd unit and per container totals over every process (not only
//! the exported top K).
//!
//! Summing the cumulative counters of the processes alive now would not
//! give a counter: when a process exits, its CPU seconds would vanish from
//! the sum and Prometheus would read the drop as a reset (and `rate()` would
//! then count the whole remaining total as new work). So each group keeps
//! the counters of the processes that left it (exited, or moved to another
//! cgroup) as of their last sample, and reports those plus what its live
//! processes did while in it: a real counter, which only loses what a
//! process did between its last sample and its exit. Gauges (resident
//! memory, GPU memory, process count) are plain sums of the live processes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::collect::sample::{ProcessKey, ProcessSample};
use crate::model::{Model, ProcessView};

/// A group with no process left is still exported for this long, so that
/// a service restarting between two refreshes keeps its counters; then it
/// is forgotten (Prometheus marks the series stale).
pub const EMPTY_GROUP_GRACE: Duration = Duration::from_secs(300);

/// The cumulative counters of a process (or of a group), in ns and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub user_ns: u64,
    pub system_ns: u64,
    pub io_read_bytes: u64,
    pub io_write_bytes: u64,
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
}

impl Counters {
    fn of(p: &ProcessSample) -> Counters {
        let io = p.io.unwrap_or_default();
        let (rx, tx) = p.net.as_ref().map_or((0, 0), |n| (n.rx_bytes, n.tx_bytes));
        Counters {
            user_ns: p.utime_ns,
            system_ns: p.stime_ns,
            io_read_bytes: io.read_bytes,
            io_write_bytes: io.write_bytes,
            net_rx_bytes: rx,
            net_tx_bytes: tx,
        }
    }

    fn zip(self, o: Counters, f: impl Fn(u64, u64) -> u64) -> Counters {
        Counters {
            user_ns: f(self.user_ns, o.user_ns),
            system_ns: f(self.system_ns, o.system_ns),
            io_read_bytes: f(self.io_read_bytes, o.io_read_bytes),
            io_write_bytes: f(self.io_write_bytes, o.io_write_bytes),
            net_rx_bytes: f(self.net_rx_bytes, o.net_rx_bytes),
            net_tx_bytes: f(self.net_tx_bytes, o.net_tx_bytes),
        }
    }

    fn plus(self, o: Counters) -> Counters {
        self.zip(o, u64::saturating_add)
    }

    fn minus(self, o: Counters) -> Counters {
        self.zip(o, u64::saturating_sub)
    }
}

/// What the group's exited processes add up to since bpftop started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExitTotals {
    pub exits: u64,
    /// Nonzero exit code, or killed by a signal.
    pub nonzero: u64,
    pub oom_kills: u64,
    /// CPU of the exited processes within the intervals they exited in,
    /// beyond what their rows showed (part of `Counters`' CPU too).
    pub cpu_ns: u64,
}

impl ExitTotals {
    fn plus(self, o: ExitTotals) -> ExitTotals {
        ExitTotals {
            exits: self.exits + o.exits,
            nonzero: self.nonzero + o.nonzero,
            oom_kills: self.oom_kills + o.oom_kills,
            cpu_ns: self.cpu_ns + o.cpu_ns,
        }
    }
}

/// One unit's or container's figures at a refresh.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupTotals {
    pub counters: Counters,
    pub exits: ExitTotals,
    pub rss_bytes: u64,
    pub gpu_mem_bytes: u64,
    pub processes: u64,
}

/// Units and containers, each sorted by name.
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    pub units: Vec<(Arc<str>, GroupTotals)>,
    pub containers: Vec<(Arc<str>, GroupTotals)>,
}

/// The unit and the container label of a process, if any.
pub fn groups_of(v: &ProcessView) -> (Option<&str>, Option<&str>) {
    let Some(c) = v.cgroup.as_ref() else {
        return (None, None);
    };
    (
        c.info.unit.unit.as_deref(),
        c.info.container_label.as_deref(),
    )
}

/// A live process: which groups it counts in, and its counters when it
/// joined them (`base`) and at its last sample (`last`).
struct Tracked {
    unit: Option<Arc<str>>,
    container: Option<Arc<str>>,
    base: Counters,
    last: Counters,
}

#[derive(Default)]
struct Group {
    /// What processes that left the group did while in it.
    retired: Counters,
    exited: ExitTotals,
    /// When it last had no live process (None while it has some).
    empty_since: Option<Instant>,
}

/// Keeps the groups' counters monotonic across refreshes.
#[derive(Default)]
pub struct Aggregator {
    tracked: HashMap<ProcessKey, Tracked>,
    units: HashMap<Arc<str>, Group>,
    containers: HashMap<Arc<str>, Group>,
}

impl Aggregator {
    pub fn new() -> Aggregator {
        Aggregator::default()
    }

    /// Folds in one refresh taken at `now` and returns every group's totals.
    pub fn update(&mut self, model: &Model, now: Instant) -> Aggregates {
        let mut previous = std::mem::take(&mut self.tracked);
        let mut units: HashMap<Arc<str>, GroupTotals> = HashMap::new();
        let mut containers: HashMap<Arc<str>, GroupTotals> = HashMap::new();
        for v in &model.processes {
            let (unit, container) = groups_of(v);
            let now_counters = Counters::of(&v.sample);
            let tracked = match previous.remove(&v.sample.key()) {
                // Counters never go down; max() also keeps a value that was
                // readable before and is not now (I/O of a process that
                // became unreadable).
                Some(t) if t.unit.as_deref() == unit && t.container.as_deref() == container => {
                    Tracked {
                        last: t.last.zip(now_counters, u64::max),
                        ..t
                    }
                }
                Some(t) => {
                    // It moved: what it did before belongs to its old groups,
                    // what it did since its last sample to the new ones.
                    self.retire(&t);
                    Tracked {
                        unit: unit.map(Arc::from),
                        container: container.map(Arc::from),
                        base: t.last,
                        last: t.last.zip(now_counters, u64::max),
                    }
                }
                // New to us (or the first refresh): all it ever did counts.
                None => Tracked {
                    unit: unit.map(Arc::from),
                    container: container.map(Arc::from),
                    base: Counters::default(),
                    last: now_counters,
                },
            };
            let own = tracked.last.minus(tracked.base);
            let gpu_mem = v.gpu.as_ref().map_or(0, |g| g.mem_bytes);
            let add = |totals: &mut GroupTotals| {
                totals.counters = totals.counters.plus(own);
                totals.rss_bytes += v.sample.rss_bytes;
                totals.gpu_mem_bytes += gpu_mem;
                totals.processes += 1;
            };
            if let Some(u) = &tracked.unit {
                add(units.entry(Arc::clone(u)).or_default());
            }
            if let Some(c) = &tracked.container {
                add(containers.entry(Arc::clone(c)).or_default());
            }
            self.tracked.insert(v.sample.key(), tracked);
        }
        // Whatever was not seen again has exited.
        for t in previous.values() {
            self.retire(t);
        }
        // What exited processes did after their last row (all of it for
        // those never seen alive), so that the groups' CPU counters hold
        // short-lived processes too.
        // The final CPU of processes of earlier refreshes counts the same
        // way, without another exit.
        let exits = model.exits.processes.iter().map(|e| {
            let p = &e.process;
            let exit = ExitTotals {
                exits: 1,
                nonzero: u64::from(p.status.failed()),
                oom_kills: u64::from(p.oom_killed),
                cpu_ns: e.interval_cpu_ns,
            };
            (exit, p.utime_ns, p.cpu_time_ns(), &e.cgroup)
        });
        let late = model.exits.late.iter().map(|l| {
            let exit = ExitTotals {
                cpu_ns: l.interval_cpu_ns,
                ..ExitTotals::default()
            };
            (exit, l.late.utime_ns, l.late.cpu_time_ns(), &l.cgroup)
        });
        for (exit, utime_ns, cpu_ns, cgroup) in exits.chain(late) {
            let tail = split(exit.cpu_ns, utime_ns, cpu_ns);
            let Some(facts) = cgroup else { continue };
            let add = |groups: &mut HashMap<Arc<str>, Group>, name: &str| {
                let g = groups.entry(Arc::from(name)).or_default();
                g.retired = g.retired.plus(tail);
                g.exited = g.exited.plus(exit);
            };
            if let Some(u) = facts.info.unit.unit.as_deref() {
                add(&mut self.units, u);
            }
            if let Some(c) = facts.info.container_label.as_deref() {
                add(&mut self.containers, c);
            }
        }
        Aggregates {
            units: finish(&mut self.units, units, now),
            containers: finish(&mut self.containers, containers, now),
        }
    }

    fn retire(&mut self, t: &Tracked) {
        let done = t.last.minus(t.base);
        if let Some(u) = &t.unit {
            let g = self.units.entry(Arc::clone(u)).or_default();
            g.retired = g.retired.plus(done);
        }
        if let Some(c) = &t.container {
            let g = self.containers.entry(Arc::clone(c)).or_default();
            g.retired = g.retired.plus(done);
        }
    }
}

/// `ns` of CPU as user and system time in the ratio of a process's
/// `utime_ns` to its whole `cpu_ns`.
fn split(ns: u64, utime_ns: u64, cpu_ns: u64) -> Counters {
    let user_ns = (u128::from(ns) * u128::from(utime_ns) / u128::from(cpu_ns.max(1))) as u64;
    Counters {
        user_ns: user_ns.min(ns),
        system_ns: ns - user_ns.min(ns),
        ..Counters::default()
    }
}

/// Adds each group's retired counters to its live sums, keeps empty groups
/// through their grace period, and forgets them after it.
fn finish(
    groups: &mut HashMap<Arc<str>, Group>,
    mut live: HashMap<Arc<str>, GroupTotals>,
    now: Instant,
) -> Vec<(Arc<str>, GroupTotals)> {
    for name in live.keys() {
        groups.entry(Arc::clone(name)).or_default().empty_since = None;
    }
    groups.retain(|name, g| {
        if !live.contains_key(name) {
            let since = *g.empty_since.get_or_insert(now);
            if now.saturating_duration_since(since) >= EMPTY_GROUP_GRACE {
                return false;
            }
        }
        let totals = live.entry(Arc::clone(name)).or_default();
        totals.counters = totals.counters.plus(g.retired);
        totals.exits = g.exited;
        true
    });
    let mut out: Vec<_> = live.into_iter().collect();
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::catalog::Catalog;
    use crate::collect::fake::demo_processes;
    use crate::collect::sample::Sample;
    use std::path::Path;

    const SEC: u64 = 1_000_000_000;

    /// A model of `processes` (cgroup facts filled as the sampler does).
    fn model(processes: Vec<ProcessSample>) -> Model {
        let mut catalog = Catalog::new(Path::new("/nonexistent-root"), None);
        let sample = Sample {
            backend: crate::collect::BackendKind::Procfs,
            boottime_ns: 100 * SEC,
            unix_time: 0.0,
            system: Default::default(),
            cgroups: catalog.describe(&processes),
            processes,
            user_threads: 0,
            kernel_threads: 0,
            running_threads: 0,
            network: Default::default(),
            gpu: Default::default(),
            gpu_status: crate::collect::sample::GpuStatus {
                nvml: Err("off".into()),
                drm: Err("off".into()),
            },
            exits: Default::default(),
        };
        Model::new(&sample, None, None, &|_| String::new())
    }

    fn worker(pid: u32, cgroup: &str, user_s: u64) -> ProcessSample {
        ProcessSample {
            pid,
            start_time_ns: u64::from(pid) * SEC,
            utime_ns: user_s * SEC,
            stime_ns: 0,
            rss_bytes: 1000,
            cgroup: Some(cgroup.into()),
            ..demo_processes()[0].clone()
        }
    }

    /// The models of two refreshes a second apart; `exits` exited between.
    fn two_models(
        before: Vec<ProcessSample>,
        after: Vec<ProcessSample>,
        exits: Vec<crate::collect::sample::ExitedProcess>,
    ) -> (Model, Model) {
        two_models_late(before, after, exits, Vec::new())
    }

    /// The same, with `late` final CPU of earlier exits coming in between.
    fn two_models_late(
        before: Vec<ProcessSample>,
        after: Vec<ProcessSample>,
        exits: Vec<crate::collect::sample::ExitedProcess>,
        late: Vec<crate::collect::sample::LateExitCpu>,
    ) -> (Model, Model) {
        let first = model(before);
        let mut catalog = Catalog::new(Path::new("/nonexistent-root"), None);
        let mut cgroups = catalog.describe(&after);
        let paths = (exits.iter().map(|p| &p.cgroup))
            .chain(late.iter().map(|l| &l.cgroup))
            .filter_map(|c| c.as_deref());
        catalog.describe_exited(paths, &mut cgroups);
        let sample = Sample {
            backend: crate::collect::BackendKind::Procfs,
            boottime_ns: 101 * SEC,
            unix_time: 0.0,
            system: Default::default(),
            cgroups,
            processes: after,
            user_threads: 0,
            kernel_threads: 0,
            running_threads: 0,
            network: Default::default(),
            gpu: Default::default(),
            gpu_status: first.gpu_status.clone(),
            exits: crate::collect::sample::Exits {
                capture: Default::default(),
                processes: exits,
                dropped: 0,
                late,
                ..Default::default()
            },
        };
        let second = Model::next(sample, Some(&first), None, &|_| String::new());
        (first, second)
    }

    fn exited(
        pid: u32,
        start_s: u64,
        cgroup: &str,
        cpu_ms: u64,
        code: u8,
        oom: bool,
    ) -> crate::collect::sample::ExitedProcess {
        crate::collect::sample::ExitedProcess {
            exit_time_ns: 101 * SEC,
            utime_ns: cpu_ms * 1_000_000,
            cgroup: Some(cgroup.into()),
            status: crate::collect::sample::ExitStatus::Code(code),
            oom_killed: oom,
            ..crate::test_support::exited(pid, 10, start_s * SEC)
        }
    }

    #[test]
    fn exited_processes_count_in_their_unit() {
        let t0 = Instant::now();
        let mut agg = Aggregator::new();
        // 11 was seen with 7 s and exits with 7.25 s; 50 lived and died
        // within the interval with 0.5 s, exiting 1, OOM-killed.
        let (first, second) = two_models(
            vec![worker(10, WEB, 5), worker(11, WEB, 7)],
            vec![worker(10, WEB, 5)],
            vec![
                exited(11, 11, WEB, 7250, 0, false),
                exited(50, 100, WEB, 500, 1, true),
            ],
        );
        agg.update(&first, t0);
        let a = agg.update(&second, t0);
        let web = unit(&a, "web.service").cloned().unwrap_or_default();
        assert_eq!(
            web.counters.user_ns,
            5 * SEC + 7250 * 1_000_000 + 500 * 1_000_000
        );
        assert_eq!(
            web.exits,
            ExitTotals {
                exits: 2,
                nonzero: 1,
                oom_kills: 1,
                cpu_ns: 750 * 1_000_000,
            }
        );
        // The parent's share and the total: 0.75 s in 1 s.
        assert!((second.exits.cpu_percent - 75.0).abs() < 1e-9);
        let parent = second.processes.iter().find(|p| p.sample.pid == 10);
        assert!(parent.is_some_and(|p| (p.exited_children_cpu_percent - 75.0).abs() < 1e-9));
    }

    /// Final CPU that came a refresh after its exit counts in the unit's
    /// CPU and exited CPU, as user and system time in the final split,
    /// without another exit.
    #[test]
    fn late_final_cpu_counts_in_its_unit() {
        let t0 = Instant::now();
        let mut agg = Aggregator::new();
        let late = crate::collect::sample::LateExitCpu {
            pid: 50,
            ppid: 10,
            start_time_ns: 100 * SEC,
            cgroup: Some(WEB.into()),
            recorded_ns: 100_000_000,
            utime_ns: 300_000_000,
            stime_ns: 100_000_000,
        };
        let (first, second) = two_models_late(
            vec![worker(10, WEB, 5)],
            vec![worker(10, WEB, 5)],
            Vec::new(),
            vec![late],
        );
        agg.update(&first, t0);
        let a = agg.update(&second, t0);
        let web = unit(&a, "web.service").cloned().unwrap_or_default();
        // 0.4 s final, 0.1 s counted before: 0.3 s more, 3:1 user.
        assert_eq!(web.counters.user_ns, 5 * SEC + 225_000_000);
        assert_eq!(web.counters.system_ns, 75_000_000);
        assert_eq!(
            web.exits,
            ExitTotals {
                cpu_ns: 300_000_000,
                ..ExitTotals::default()
            }
        );
        assert!((second.exits.cpu_percent - 30.0).abs() < 1e-9);
    }

    fn unit<'a>(a: &'a Aggregates, name: &str) -> Option<&'a GroupTotals> {
        a.units.iter().find(|(n, _)| &**n == name).map(|(_, t)| t)
    }

    const WEB: &str = "/system.slice/web.service";
    const DB: &str = "/system.slice/db.service";

    #[test]
    fn a_unit_counter_survives_its_processes_exiting() {
        let t0 = Instant::now();
        let mut agg = Aggregator::new();
        let a = agg.update(&model(vec![worker(10, WEB, 5), worker(11, WEB, 7)]), t0);
        let web = unit(&a, "web.service").cloned().unwrap_or_default();
        assert_eq!(web.counters.user_ns, 12 * SEC);
        assert_eq!((web.rss_bytes, web.processes), (2000, 2));

        // 11 exits, 10 works 1 s more, 12 starts with 2 s.
        let a = agg.update(&model(vec![worker(10, WEB, 6), worker(12, WEB, 2)]), t0);
        let web = unit(&a, "web.service").cloned().unwrap_or_default();
        assert_eq!(web.counters.user_ns, (6 + 7 + 2) * SEC);
        assert_eq!(web.processes, 2);
    }

    #[test]
    fn a_process_that_moves_takes_only_its_new_work_along() {
        let t0 = Instant::now();
        let mut agg = Aggregator::new();
        agg.update(&model(vec![worker(10, WEB, 5), worker(20, DB, 1)]), t0);
        let a = agg.update(&model(vec![worker(10, DB, 8), worker(20, DB, 1)]), t0);
        let web = unit(&a, "web.service").cloned().unwrap_or_default();
        let db = unit(&a, "db.service").cloned().unwrap_or_default();
        assert_eq!(web.counters.user_ns, 5 * SEC);
        assert_eq!(web.processes, 0);
        assert_eq!(db.counters.user_ns, (1 + 3) * SEC);
    }

    #[test]
    fn empty_groups_are_kept_for_a_grace_period_then_forgotten() {
        let t0 = Instant::now();
        let mut agg = Aggregator::new();
        agg.update(&model(vec![worker(10, WEB, 5)]), t0);
        let a = agg.update(&model(vec![]), t0 + Duration::from_secs(1));
        assert_eq!(
            unit(&a, "web.service").map(|t| t.counters.user_ns),
            Some(5 * SEC)
        );
        let later = t0 + Duration::from_secs(1) + EMPTY_GROUP_GRACE;
        let a = agg.update(&model(vec![]), later);
        assert!(unit(&a, "web.service").is_none());
        // Back after that: a new counter (a reset for Prometheus).
        let a = agg.update(&model(vec![worker(30, WEB, 1)]), later);
        assert_eq!(
            unit(&a, "web.service").map(|t| t.counters.user_ns),
            Some(SEC)
        );
    }

    #[test]
    fn containers_are_grouped_by_label() {
        let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let path = format!("/system.slice/docker-{id}.scope");
        let a = Aggregator::new().update(
            &model(vec![
                worker(10, &path, 1),
                worker(11, &path, 2),
                worker(12, WEB, 4),
            ]),
            Instant::now(),
        );
        assert_eq!(a.containers.len(), 1);
        assert_eq!(&*a.containers[0].0, "docker:0123456789ab");
        assert_eq!(a.containers[0].1.counters.user_ns, 3 * SEC);
        assert_eq!(a.containers[0].1.processes, 2);
    }
}
