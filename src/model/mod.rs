//! The model: pure functions from raw samples (current and previous) to the
//! numbers users see: rates, percentages, totals. No I/O here.

pub mod exit_history;
mod exited;
mod limits;
mod scaled;
mod starts;
mod system;
mod units;
mod waits;

#[cfg(test)]
pub(crate) mod testing;

use std::collections::VecDeque;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::collect::gpu::{GpuDevice, ProcessGpu};
use crate::collect::sample::{
    BackendKind, NetworkStatus, ProcessKey, ProcessSample, RunQueue, Sample, Stalls, SystemSample,
    Waits,
};
use crate::collect::sample::{CgroupFacts, GpuStatus};

pub use exited::{ExitedView, ExitsView, LateView};
pub use limits::OwnLimits;
pub use scaled::within_limits;
pub use system::{CpuSplit, SystemView};
pub use units::UnitView;
pub use waits::{StallPercents, WaitRates};

/// One process as shown: its raw sample plus what needs two samples.
#[derive(Debug, Clone)]
pub struct ProcessView {
    pub sample: ProcessSample,
    pub user: Arc<str>,
    /// Share of one CPU over the last interval (100 % = one full core, so a
    /// process with four busy threads shows ~400 %, as in htop).
    pub cpu_percent: f64,
    /// Resident memory as a share of MemTotal.
    pub mem_percent: f64,
    /// Storage-layer I/O rates (read_bytes/write_bytes), bytes per second.
    pub io_read_rate: f64,
    pub io_write_rate: f64,
    /// Socket bytes per second (0 when the network counters are off: see
    /// `Model::network`).
    pub net_rx_rate: f64,
    pub net_tx_rate: f64,
    /// CPU% and WAIT% of each entry of `sample.thread_list`, same order.
    pub thread_rates: Vec<ThreadRates>,
    /// Run-queue waits and stalls over the last interval.
    pub waits: WaitRates,
    /// Unit, container and frozen state of the process's cgroup.
    /// Shared by the processes of one cgroup.
    pub cgroup: Option<Arc<CgroupFacts>>,
    /// Use of the GPUs; None when the process holds none (or no GPU source
    /// is on: see `Model::gpu_status`).
    /// Boxed: few processes have one.
    pub gpu: Option<Box<ProcessGpu>>,
    /// CPU of its children that exited during the interval, beyond what
    /// their rows showed (share of one CPU, like `cpu_percent`).
    pub exited_children_cpu_percent: f64,
    /// Its children whose exits arrived during the interval (see
    /// `ExitsView::interval_ns` for the rate).
    pub exited_children: u32,
    /// Children it started during the interval, alive or already gone (0
    /// without the exit capture and on the first refresh).
    pub children_forked: u32,
    /// Execs its children made during the interval: the programs it
    /// launched (0 without the exit capture).
    pub children_execs: u32,
}

/// One thread's rates over the last interval.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ThreadRates {
    /// 0 for a thread not in the previous sample.
    pub cpu_percent: f64,
    /// None where the run queue is not measured; 0 for a thread not in the
    /// previous sample.
    pub wait_percent: Option<f64>,
}

/// Everything a view needs for one refresh.
#[derive(Debug, Clone)]
pub struct Model {
    pub unix_time: f64,
    pub backend: BackendKind,
    pub fallback_reason: Option<String>,
    pub system: SystemView,
    pub processes: Vec<ProcessView>,
    /// Whether the per-process network counters are measured.
    pub network: NetworkStatus,
    /// The GPUs, for the header meters.
    pub gpus: Vec<GpuDevice>,
    pub gpu_status: GpuStatus,
    /// Units and containers with visible processes, with their cgroup's
    /// pressure, limits and counters.
    pub units: Vec<UnitView>,
    /// Why the stall columns are empty: None while delay accounting counts.
    pub stalls_off: Option<&'static str>,
    /// Processes that exited during the interval.
    pub exits: ExitsView,
    /// What the next refresh's rates are computed from.
    raw_system: SystemSample,
    boottime_ns: u64,
    /// What the next refresh's starts are told from (see starts.rs).
    starts_seen: starts::Seen,
}

/// What the next refresh's rates are computed from: the system counters and
/// each process's counters, without the rest of its view. Kept between
/// refreshes in place of the whole model (a tenth of its size).
#[derive(Debug, Clone, Default)]
pub struct Baselines {
    raw_system: SystemSample,
    boottime_ns: u64,
    /// By increasing pid.
    processes: Vec<(ProcessKey, Baseline)>,
    /// Exits lost since the start, for the interval's count.
    exits_dropped_total: u64,
    /// The units' rows, for their rates.
    units: Vec<UnitView>,
    /// What the next refresh's starts are told from.
    starts_seen: starts::Seen,
}

impl Baselines {
    /// When the sample they come from was taken (CLOCK_BOOTTIME, ns).
    pub fn boottime_ns(&self) -> u64 {
        self.boottime_ns
    }

    pub fn len(&self) -> usize {
        self.processes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.processes.is_empty()
    }
}

/// How a counter moved between two samples of the same process.
#[derive(Debug, Clone)]
struct Baseline {
    cpu_ns: u64,
    /// (read_bytes, write_bytes); None when they could not be read.
    io: Option<(u64, u64)>,
    /// Network (rx, tx) bytes; None when not measured.
    net: Option<(u64, u64)>,
    /// (tid, cpu ns, run-queue delay ns) of each thread, sorted by tid,
    /// when threads were collected.
    threads: Vec<(u32, u64, Option<u64>)>,
    waits: Waits,
}

impl Baseline {
    /// `p`'s counters; its threads' only when `threads` (they are needed
    /// only as the baseline of a process that has thread rows).
    fn of(p: &ProcessSample, threads: bool) -> Self {
        let mut threads: Vec<(u32, u64, Option<u64>)> = if threads {
            p.thread_list
                .iter()
                .map(|t| (t.tid, t.cpu_time_ns, t.waits.run.map(|r| r.delay_ns)))
                .collect()
        } else {
            Vec::new()
        };
        threads.sort_unstable_by_key(|&(tid, _, _)| tid);
        Baseline {
            cpu_ns: p.cpu_time_ns(),
            io: p.io.map(|io| (io.read_bytes, io.write_bytes)),
            net: p.net.as_ref().map(|n| (n.rx_bytes, n.tx_bytes)),
            threads,
            waits: p.waits,
        }
    }
}

/// Bytes of processes already moved out of a sample given back at a time
/// while its model is built (none below this many: an ordinary machine's
/// sample is smaller).
const RELEASE_BYTES: usize = 1 << 20;
const RELEASE_STEP: usize = RELEASE_BYTES / std::mem::size_of::<ProcessSample>();

/// A process born after the previous sample was taken used all its
/// counters within the interval, so its baseline is zero.
static ZERO: Baseline = Baseline {
    cpu_ns: 0,
    io: Some((0, 0)),
    net: Some((0, 0)),
    threads: Vec::new(),
    waits: Waits {
        run: Some(RunQueue {
            delay_ns: 0,
            count: 0,
        }),
        stalls: Some(Stalls {
            blkio_ns: 0,
            swapin_ns: 0,
            reclaim_ns: 0,
            thrashing_ns: 0,
            compact_ns: 0,
        }),
    },
};

impl Model {
    /// When its sample was taken (CLOCK_BOOTTIME, ns): the clock of exit
    /// and start times.
    pub fn boottime_ns(&self) -> u64 {
        self.boottime_ns
    }

    /// Builds the model for `cur`, taking its processes over (no copy per
    /// process). Rates need `prev`, the previous refresh's model; without
    /// it (the first refresh) they are 0. `users` maps uids to names; it is
    /// asked once per distinct uid.
    pub fn next(
        cur: Sample,
        prev: Option<&Model>,
        fallback_reason: Option<String>,
        users: &dyn Fn(u32) -> String,
    ) -> Model {
        let before = prev.map(Model::baselines);
        Model::after(cur, before.as_ref(), fallback_reason, users)
    }

    /// What the next model's rates are computed from.
    pub fn baselines(&self) -> Baselines {
        Baselines {
            raw_system: self.raw_system.clone(),
            boottime_ns: self.boottime_ns,
            processes: self
                .processes
                .iter()
                .map(|v| (v.sample.key(), Baseline::of(&v.sample, true)))
                .collect(),
            exits_dropped_total: self.exits.dropped_total,
            units: self.units.clone(),
            starts_seen: self.starts_seen.clone(),
        }
    }

    /// As [`Model::next`], from the previous refresh's baselines rather
    /// than its whole model.
    pub fn after(
        mut cur: Sample,
        prev: Option<&Baselines>,
        fallback_reason: Option<String>,
        users: &dyn Fn(u32) -> String,
    ) -> Model {
        // Both lists in pid order, so baselines are found by merging them.
        if !cur.processes.is_sorted_by_key(|p| p.pid) {
            cur.processes.sort_unstable_by_key(|p| p.pid);
        }
        let system = SystemView::new(&cur, prev.map(|m| (&m.raw_system, m.boottime_ns)));
        let interval_ns = prev.map(|m| cur.boottime_ns.saturating_sub(m.boottime_ns));
        let prev_processes: &[(ProcessKey, Baseline)] = prev.map_or(&[], |m| &m.processes);
        let mem_total = system.mem_total_bytes;
        let stalls_off = stalls_off(cur.backend, cur.system.delay_accounting);
        let mut names: FxHashMap<u32, Arc<str>> = FxHashMap::default();
        // Facts per cgroup Arc, by address: the collector shares one Arc per
        // cgroup path, so each path is hashed once rather than once per
        // process. The Arcs all live on in the new model's processes, so no
        // address is reused while this map exists.
        let mut facts: FxHashMap<usize, Option<Arc<CgroupFacts>>> = FxHashMap::default();
        // The sample's processes are moved into the views from its end, and
        // the space they leave is given back as it grows: at 30 000
        // processes the sample (14 MB) and the views (22 MB) would
        // otherwise be held whole at once, on top of the model on screen.
        let mut samples = std::mem::take(&mut cur.processes);
        let mut views = VecDeque::with_capacity(samples.len());
        let mut before = prev_processes.iter().rev().peekable();
        while let Some(p) = samples.pop() {
            if samples.capacity() - samples.len() >= RELEASE_STEP {
                samples.shrink_to_fit();
            }
            let view = {
                while before.next_if(|(key, _)| key.pid > p.pid).is_some() {}
                let seen = before
                    .peek()
                    .filter(|(key, _)| *key == p.key())
                    .map(|(_, b)| b);
                let base = match (prev, seen) {
                    (_, Some(b)) => Some(b),
                    (Some(prev), None) if p.start_time_ns >= prev.boottime_ns => Some(&ZERO),
                    _ => None,
                };
                let rates = match (base, interval_ns) {
                    (Some(b), Some(dt)) if dt > 0 => {
                        Rates::between(&Baseline::of(&p, false), b, dt)
                    }
                    _ => Rates::default(),
                };
                let thread_rates = thread_rates(&p, base, interval_ns);
                let waits = match interval_ns {
                    Some(dt) if dt > 0 => {
                        WaitRates::between(p.waits, base.map(|b| b.waits), dt, stalls_off.is_none())
                    }
                    _ => WaitRates::between(p.waits, None, 0, stalls_off.is_none()),
                };
                let mem_percent = if mem_total > 0 {
                    p.rss_bytes as f64 * 100.0 / mem_total as f64
                } else {
                    0.0
                };
                let user = names
                    .entry(p.uid)
                    .or_insert_with(|| users(p.uid).into())
                    .clone();
                let cgroup = p.cgroup.as_ref().and_then(|c| {
                    facts
                        .entry(Arc::as_ptr(c).cast::<u8>().addr())
                        .or_insert_with(|| cur.cgroups.get(&**c).cloned().map(Arc::new))
                        .clone()
                });
                ProcessView {
                    user,
                    cgroup,
                    gpu: cur.gpu.processes.get(&p.pid).cloned().map(Box::new),
                    sample: p,
                    cpu_percent: rates.cpu_percent,
                    mem_percent,
                    io_read_rate: rates.io_read,
                    io_write_rate: rates.io_write,
                    net_rx_rate: rates.net_rx,
                    net_tx_rate: rates.net_tx,
                    thread_rates,
                    waits,
                    exited_children_cpu_percent: 0.0,
                    exited_children: 0,
                    children_forked: 0,
                    children_execs: 0,
                }
            };
            views.push_front(view);
        }
        // Filled from the back, the buffer is in order from its start: no
        // data moves.
        let mut processes = Vec::from(views);
        let (starts, starts_seen) = match prev {
            Some(prev) if cur.exits.capture.is_on() => starts::count(
                &mut processes,
                prev_processes,
                prev.boottime_ns,
                &prev.starts_seen,
                &cur.exits,
                &cur.cgroups,
            ),
            _ => (
                starts::StartsByUnit::default(),
                starts::Seen::first(prev.map_or(cur.boottime_ns, |m| m.starts_seen.floor_ns())),
            ),
        };
        let exits = exited::account(
            std::mem::take(&mut cur.exits),
            &mut processes,
            prev_processes,
            prev.map(|m| m.exits_dropped_total),
            interval_ns,
            &cur.cgroups,
            &mut |uid| {
                names
                    .entry(uid)
                    .or_insert_with(|| users(uid).into())
                    .clone()
            },
        );
        let mut units = units::unit_rows(&processes, prev.map_or(&[], |m| &m.units), interval_ns);
        units::add_exits(&mut units, &exits);
        units::add_starts(&mut units, &starts, exits.interval_ns);

        Model {
            units,
            unix_time: cur.unix_time,
            backend: cur.backend,
            fallback_reason,
            system,
            processes,
            network: cur.network,
            gpus: cur.gpu.devices,
            gpu_status: cur.gpu_status,
            stalls_off,
            exits,
            raw_system: cur.system,
            boottime_ns: cur.boottime_ns,
            starts_seen,
        }
    }

    /// The model of `cur` after `prev`, from two samples (copies both; for
    /// tests and one-off use, where no previous model exists).
    pub fn new(
        cur: &Sample,
        prev: Option<&Sample>,
        fallback_reason: Option<String>,
        users: &dyn Fn(u32) -> String,
    ) -> Model {
        let before = prev.map(|p| Model::next(p.clone(), None, None, users));
        Model::next(cur.clone(), before.as_ref(), fallback_reason, users)
    }
}

/// CPU% and WAIT% of each of `p`'s threads: 0 for a thread without a
/// baseline; WAIT% None where the run queue is not measured.
fn thread_rates(
    p: &ProcessSample,
    base: Option<&Baseline>,
    interval_ns: Option<u64>,
) -> Vec<ThreadRates> {
    let dt = interval_ns.filter(|&dt| dt > 0);
    p.thread_list
        .iter()
        .map(|t| {
            let before = base.and_then(|b| {
                let i = b
                    .threads
                    .binary_search_by_key(&t.tid, |&(tid, _, _)| tid)
                    .ok()?;
                Some(b.threads[i])
            });
            let share = |now: u64, before: u64| match dt {
                Some(dt) => now.saturating_sub(before) as f64 * 100.0 / dt as f64,
                None => 0.0,
            };
            let cpu_percent = before.map_or(0.0, |(_, cpu_ns, _)| share(t.cpu_time_ns, cpu_ns));
            let wait_percent = t.waits.run.map(|run| match before {
                Some((_, _, Some(delay_ns))) => share(run.delay_ns, delay_ns),
                _ => 0.0,
            });
            ThreadRates {
                cpu_percent,
                wait_percent,
            }
        })
        .collect()
}

/// Why no stall is shown, or None while they are counted.
fn stalls_off(backend: BackendKind, delay_accounting: Option<bool>) -> Option<&'static str> {
    match (backend, delay_accounting) {
        (BackendKind::Procfs, _) => Some("stalls need the eBPF backend"),
        (_, Some(true)) => None,
        (_, Some(false)) => Some("delay accounting is off (sysctl kernel.task_delayacct=1)"),
        (_, None) => Some("this kernel keeps no delay accounting"),
    }
}

/// What a process did per second between two baselines.
#[derive(Debug, Default)]
struct Rates {
    cpu_percent: f64,
    io_read: f64,
    io_write: f64,
    net_rx: f64,
    net_tx: f64,
}

impl Rates {
    fn between(now: &Baseline, before: &Baseline, dt: u64) -> Rates {
        let per_second = |d: u64| d as f64 * 1e9 / dt as f64;
        // A rate needs the counter in both samples.
        let pair = |now: Option<(u64, u64)>, before: Option<(u64, u64)>| match (now, before) {
            (Some((a1, b1)), Some((a0, b0))) => (
                per_second(a1.saturating_sub(a0)),
                per_second(b1.saturating_sub(b0)),
            ),
            _ => (0.0, 0.0),
        };
        let (io_read, io_write) = pair(now.io, before.io);
        let (net_rx, net_tx) = pair(now.net, before.net);
        Rates {
            cpu_percent: now.cpu_ns.saturating_sub(before.cpu_ns) as f64 * 100.0 / dt as f64,
            io_read,
            io_write,
            net_rx,
            net_tx,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu_of_threads(p: &ProcessView) -> Vec<f64> {
        p.thread_rates.iter().map(|t| t.cpu_percent).collect()
    }
    use crate::collect::sample::{CpuTimes, IoCounters, MemInfo, SystemSample};

    const SEC: u64 = 1_000_000_000;

    fn process(pid: u32, start_time_ns: u64, cpu_ns: u64) -> ProcessSample {
        ProcessSample {
            pid,
            ppid: 1,
            state: 'S',
            comm: b"x".into(),
            priority: 20,
            threads: 1,
            start_time_ns,
            utime_ns: cpu_ns / 4 * 3,
            stime_ns: cpu_ns - cpu_ns / 4 * 3,
            rss_bytes: 1 << 30,
            io: Some(IoCounters::default()),
            net: Some(Default::default()),
            ..Default::default()
        }
    }

    fn sample(boottime_ns: u64, processes: Vec<ProcessSample>) -> Sample {
        Sample {
            backend: BackendKind::Procfs,
            boottime_ns,
            unix_time: 0.0,
            system: SystemSample {
                mem: MemInfo {
                    total: 4 << 30,
                    ..Default::default()
                },
                ..Default::default()
            },
            processes,
            user_threads: 0,
            kernel_threads: 0,
            running_threads: 0,
            cgroups: Default::default(),
            network: Default::default(),
            gpu: Default::default(),
            gpu_status: Default::default(),
            exits: Default::default(),
        }
    }

    fn no_names(_: u32) -> String {
        String::new()
    }

    fn cpu_of(model: &Model, pid: u32) -> f64 {
        model
            .processes
            .iter()
            .find(|p| p.sample.pid == pid)
            .map(|p| p.cpu_percent)
            .unwrap_or(f64::NAN)
    }

    /// Children's exits are counted on their parent's row, with the
    /// interval they arrived in for the rate; without capture, no interval.
    #[test]
    fn exited_children_are_counted_on_their_parent() {
        use crate::collect::sample::{ExitCapture, ExitHook, ExitedProcess, Exits};
        let child = |pid: u32, ppid: u32| ExitedProcess {
            utime_ns: SEC / 100,
            stime_ns: SEC / 100,
            ..crate::test_support::exited(pid, ppid, 10 * SEC + 1)
        };
        let prev = sample(10 * SEC, vec![process(7, SEC, SEC), process(8, SEC, SEC)]);
        let mut cur = sample(12 * SEC, vec![process(7, SEC, SEC), process(8, SEC, SEC)]);
        cur.exits = Exits {
            capture: ExitCapture::On {
                hook: ExitHook::GroupDead,
                oom: false,
                final_cpu: true,
            },
            processes: vec![child(100, 7), child(101, 7), child(102, 7), child(103, 8)],
            dropped: 0,
            ..Default::default()
        };
        let m = Model::new(&cur, Some(&prev), None, &no_names);
        let counts: Vec<u32> = m.processes.iter().map(|p| p.exited_children).collect();
        assert_eq!(counts, [3, 1]);
        assert_eq!(m.exits.interval_ns, Some(2 * SEC));
        // 3 × 20 ms over 2 s: 3 % of a CPU.
        assert!((m.processes[0].exited_children_cpu_percent - 3.0).abs() < 1e-9);
        cur.exits.capture = ExitCapture::Off {
            reason: "off".into(),
        };
        let m = Model::new(&cur, Some(&prev), None, &no_names);
        assert_eq!(m.exits.interval_ns, None);
    }

    /// The final CPU of a process listed by an earlier refresh goes to its
    /// parent and the total, beyond what its record and any zombie row of
    /// it counted before.
    #[test]
    fn late_final_cpu_adds_what_was_not_counted() {
        use crate::collect::sample::{ExitCapture, ExitHook, Exits, LateExitCpu};
        let late = |pid: u32, recorded_ns: u64| LateExitCpu {
            pid,
            ppid: 7,
            start_time_ns: 5 * SEC,
            cgroup: None,
            recorded_ns,
            utime_ns: 30_000_000,
            stime_ns: 10_000_000,
        };
        // 101's zombie row showed 35 ms last refresh.
        let prev = sample(
            10 * SEC,
            vec![process(7, SEC, SEC), process(101, 5 * SEC, 35_000_000)],
        );
        let mut cur = sample(12 * SEC, vec![process(7, SEC, SEC)]);
        cur.exits = Exits {
            capture: ExitCapture::On {
                hook: ExitHook::GroupDead,
                oom: false,
                final_cpu: true,
            },
            late: vec![late(100, 10_000_000), late(101, 10_000_000)],
            ..Default::default()
        };
        let m = Model::new(&cur, Some(&prev), None, &no_names);
        let added: Vec<u64> = m.exits.late.iter().map(|l| l.interval_cpu_ns).collect();
        assert_eq!(added, [30_000_000, 5_000_000]);
        // 35 ms over 2 s: 1.75 % of a CPU, on the parent and in the total.
        assert!((m.processes[0].exited_children_cpu_percent - 1.75).abs() < 1e-9);
        assert!((m.exits.cpu_percent - 1.75).abs() < 1e-9);
        assert_eq!(m.processes[0].exited_children, 0, "no new exit");
    }

    /// Each child counts once as started on its parent, whether a row or
    /// only an exit shows it; execs count on the exec'ing process's parent;
    /// both per unit too.
    #[test]
    fn forks_and_execs_count_on_parents_and_units() {
        use crate::collect::sample::{
            CgroupFacts, ExecEvent, ExitCapture, ExitHook, ExitedProcess, Exits, UnitCgroup,
        };
        let unit: Arc<str> = Arc::from("/app.service");
        let cgroup: Arc<str> = Arc::from("/app.service/worker");
        let child = |pid: u32, ppid: u32, start: u64| ProcessSample {
            ppid,
            cgroup: Some(Arc::clone(&cgroup)),
            ..process(pid, start, 0)
        };
        let exit = |pid: u32, ppid: u32, start: u64| ExitedProcess {
            cgroup: Some(Arc::clone(&cgroup)),
            ..crate::test_support::exited(pid, ppid, start)
        };
        let exec = |pid: u32, ppid: u32| ExecEvent {
            pid,
            ppid,
            cgroup: Some(Arc::clone(&cgroup)),
        };
        // 20 was already a row; 22 is new to the rows but older than the
        // last sample (not a start of this interval).
        let prev = sample(
            10 * SEC,
            vec![child(7, 0, SEC), child(8, 0, SEC), child(20, 7, 9 * SEC)],
        );
        let mut cur = sample(
            12 * SEC,
            vec![
                child(7, 0, SEC),
                child(8, 0, SEC),
                child(20, 7, 9 * SEC),
                child(21, 7, 11 * SEC),
                child(22, 8, 5 * SEC),
                child(23, 7, 11 * SEC),
            ],
        );
        cur.cgroups.insert(
            cgroup.to_string(),
            CgroupFacts {
                info: Default::default(),
                frozen: None,
                unit: Some(UnitCgroup {
                    path: Arc::clone(&unit),
                    stats: Default::default(),
                }),
            },
        );
        cur.exits = Exits {
            capture: ExitCapture::On {
                hook: ExitHook::GroupDead,
                oom: false,
                final_cpu: true,
            },
            processes: vec![
                // Born and gone within the interval: a start.
                exit(100, 7, 10 * SEC + 1),
                exit(101, 8, 11 * SEC),
                // Its row (a zombie) is already counted; 20 was a row last
                // time; 102 was born before the last sample.
                exit(23, 7, 11 * SEC),
                exit(20, 7, 9 * SEC),
                exit(102, 7, 9 * SEC),
            ],
            execs: vec![exec(21, 7), exec(100, 7), exec(30, 8), exec(31, 99)],
            ..Default::default()
        };
        let m = Model::new(&cur, Some(&prev), None, &no_names);
        let counts = |pid: u32| {
            let p = m.processes.iter().find(|p| p.sample.pid == pid);
            p.map(|p| (p.children_forked, p.children_execs))
        };
        assert_eq!(
            counts(7),
            Some((3, 2)),
            "21, 23 and 100; execs of 21 and 100"
        );
        assert_eq!(counts(8), Some((1, 1)), "101; the exec of 30");
        assert_eq!(counts(21), Some((0, 0)));
        let row = m.units.iter().find(|u| u.path == unit);
        // 4 starts and 4 execs (one of a parent with no row) over 2 s.
        assert_eq!(row.map(|u| u.forks_per_second), Some(Some(2.0)));
        assert_eq!(row.map(|u| u.execs_per_second), Some(Some(2.0)));
        // Without the capture nothing is counted.
        cur.exits.capture = ExitCapture::Off {
            reason: "off".into(),
        };
        let m = Model::new(&cur, Some(&prev), None, &no_names);
        assert!(m
            .processes
            .iter()
            .all(|p| (p.children_forked, p.children_execs) == (0, 0)));
        assert_eq!(m.units[0].forks_per_second, None);
    }

    /// The walk runs after the exits are drained: a process can leave the
    /// walk a refresh before its exit arrives. Its exit is not a new
    /// start; the exit of a child born just before a sample and gone
    /// before the walk reached it is one, though no row ever showed it.
    #[test]
    fn an_exit_arriving_a_refresh_after_its_row_left_counts_once() {
        use crate::collect::sample::{ExitCapture, ExitHook, ExitedProcess, Exits};
        let child = |pid: u32, start: u64| ProcessSample {
            ppid: 7,
            ..process(pid, start, 0)
        };
        let exit = |pid: u32, start: u64| crate::test_support::exited(pid, 7, start);
        let captured = |processes: Vec<ExitedProcess>| Exits {
            capture: ExitCapture::On {
                hook: ExitHook::GroupDead,
                oom: false,
                final_cpu: true,
            },
            processes,
            ..Default::default()
        };
        let forks = |m: &Model| {
            m.processes
                .iter()
                .find(|p| p.sample.pid == 7)
                .map(|p| p.children_forked)
        };
        // 50, born during the first walk, is a row then, gone from the walk
        // at 12 s, its exit drained at 14 s; 60 was born at 11.9 s and
        // exited after the 12 s drain, before the walk reached it.
        let born_50 = 10 * SEC + 200_000_000;
        let mut a = sample(10 * SEC, vec![process(7, SEC, 0), child(50, born_50)]);
        a.exits = captured(Vec::new());
        let mut b = sample(12 * SEC, vec![process(7, SEC, 0)]);
        b.exits = captured(Vec::new());
        let mut c = sample(14 * SEC, vec![process(7, SEC, 0)]);
        c.exits = captured(vec![exit(50, born_50), exit(60, 11_900_000_000)]);
        let ma = Model::next(a, None, None, &no_names);
        let mb = Model::next(b, Some(&ma), None, &no_names);
        assert_eq!(forks(&mb), Some(0));
        let mc = Model::next(c, Some(&mb), None, &no_names);
        assert_eq!(forks(&mc), Some(1), "60 once, 50 not again");
    }

    #[test]
    fn first_refresh_has_no_rates() {
        let cur = sample(10 * SEC, vec![process(7, SEC, 5 * SEC)]);
        let m = Model::new(&cur, None, None, &no_names);
        assert_eq!(cpu_of(&m, 7), 0.0);
        assert_eq!(m.processes[0].mem_percent, 25.0);
    }

    #[test]
    fn cpu_percent_is_per_core_over_the_interval() {
        let prev = sample(10 * SEC, vec![process(7, SEC, 5 * SEC)]);
        // Two full cores for two seconds: 4 s of CPU, 200 %.
        let cur = sample(12 * SEC, vec![process(7, SEC, 9 * SEC)]);
        let m = Model::new(&cur, Some(&prev), None, &no_names);
        assert!((cpu_of(&m, 7) - 200.0).abs() < 1e-9);
    }

    #[test]
    fn a_recycled_pid_never_inherits_the_old_counters() {
        // PID 7 had 50 s of CPU; a new process got PID 7 after prev was taken.
        let prev = sample(10 * SEC, vec![process(7, SEC, 50 * SEC)]);
        let cur = sample(11 * SEC, vec![process(7, 10 * SEC + 1, SEC / 2)]);
        let m = Model::new(&cur, Some(&prev), None, &no_names);
        // Its whole half second of CPU falls inside the 1 s interval.
        assert!((cpu_of(&m, 7) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn baselines_are_matched_across_models_in_any_order() {
        // Processes come unsorted, some vanish and some appear; each finds
        // its own previous counters and nobody else's.
        let prev = sample(
            10 * SEC,
            vec![
                process(9, SEC, 9 * SEC),
                process(3, SEC, 3 * SEC),
                process(5, SEC, 5 * SEC),
            ],
        );
        let cur = sample(
            11 * SEC,
            vec![
                process(9, SEC, 9 * SEC + SEC / 10),
                process(4, SEC, 4 * SEC),
                process(3, SEC, 3 * SEC + SEC / 2),
            ],
        );
        let first = Model::next(prev, None, None, &no_names);
        let m = Model::next(cur, Some(&first), None, &no_names);
        let pids: Vec<u32> = m.processes.iter().map(|p| p.sample.pid).collect();
        assert_eq!(pids, vec![3, 4, 9]);
        assert!((cpu_of(&m, 3) - 50.0).abs() < 1e-9);
        assert_eq!(
            cpu_of(&m, 4),
            0.0,
            "existed before prev but unseen: no rate"
        );
        assert!((cpu_of(&m, 9) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn user_names_are_asked_once_per_uid() {
        let asked = std::cell::Cell::new(0);
        let names = |uid: u32| {
            asked.set(asked.get() + 1);
            format!("u{uid}")
        };
        let cur = sample(10 * SEC, vec![process(1, SEC, 0), process(2, SEC, 0)]);
        let m = Model::next(cur, None, None, &names);
        assert_eq!(asked.get(), 1);
        assert!(Arc::ptr_eq(&m.processes[0].user, &m.processes[1].user));
        assert_eq!(&*m.processes[0].user, "u0");
    }

    #[test]
    fn an_unknown_old_process_gets_no_made_up_rate() {
        let prev = sample(10 * SEC, vec![]);
        let cur = sample(11 * SEC, vec![process(8, 5 * SEC, 3 * SEC)]);
        let m = Model::new(&cur, Some(&prev), None, &no_names);
        assert_eq!(cpu_of(&m, 8), 0.0);
    }

    #[test]
    fn threads_get_their_own_rates() {
        use crate::collect::sample::ThreadSample;
        let thread = |tid, cpu_time_ns| ThreadSample {
            tid,
            state: 'R',
            comm: b"t".into(),
            processor: 0,
            cpu_time_ns,
            waits: Default::default(),
        };
        let mut a = process(7, SEC, 0);
        a.thread_list = vec![thread(7, SEC), thread(9, 0)];
        let mut b = a.clone();
        b.thread_list = vec![thread(7, SEC), thread(9, SEC / 2), thread(12, SEC)];
        let prev = sample(10 * SEC, vec![a]);
        let cur = sample(11 * SEC, vec![b]);
        let m = Model::new(&cur, Some(&prev), None, &no_names);
        // Thread 12 is new: no baseline, no made-up rate.
        assert_eq!(cpu_of_threads(&m.processes[0]), vec![0.0, 50.0, 0.0]);
    }

    #[test]
    fn io_rates_use_storage_bytes() {
        let mut a = process(7, SEC, 0);
        a.io = Some(IoCounters {
            read_bytes: 1000,
            write_bytes: 0,
            ..Default::default()
        });
        let mut b = a.clone();
        b.io = Some(IoCounters {
            read_bytes: 5000,
            write_bytes: 2000,
            ..Default::default()
        });
        let prev = sample(10 * SEC, vec![a]);
        let cur = sample(12 * SEC, vec![b]);
        let m = Model::new(&cur, Some(&prev), None, &no_names);
        assert_eq!(m.processes[0].io_read_rate, 2000.0);
        assert_eq!(m.processes[0].io_write_rate, 1000.0);

        // Counters that just became readable give no rate, not their total.
        let mut hidden = process(7, SEC, 0);
        hidden.io = None;
        let m = Model::new(&cur, Some(&sample(10 * SEC, vec![hidden])), None, &no_names);
        assert_eq!(m.processes[0].io_read_rate, 0.0);
    }

    #[test]
    fn network_rates_are_socket_bytes_per_second() {
        use crate::collect::sample::NetCounters;
        let counters = |rx_bytes, tx_bytes| {
            Some(NetCounters {
                rx_bytes,
                tx_bytes,
                iface: None,
            })
        };
        let mut a = process(7, SEC, 0);
        a.net = counters(1000, 100);
        let mut b = a.clone();
        b.net = counters(9000, 4100);
        let m = Model::new(
            &sample(14 * SEC, vec![b.clone()]),
            Some(&sample(10 * SEC, vec![a])),
            None,
            &no_names,
        );
        assert_eq!(m.processes[0].net_rx_rate, 2000.0);
        assert_eq!(m.processes[0].net_tx_rate, 1000.0);

        // A process born during the interval counted all of its bytes then.
        let mut born = b.clone();
        born.pid = 8;
        born.start_time_ns = 11 * SEC;
        let m = Model::new(
            &sample(14 * SEC, vec![born]),
            Some(&sample(10 * SEC, vec![])),
            None,
            &no_names,
        );
        assert_eq!(m.processes[0].net_rx_rate, 2250.0);

        // Counters that were off before have no rate yet.
        let mut off = process(7, SEC, 0);
        off.net = None;
        let m = Model::new(
            &sample(14 * SEC, vec![b]),
            Some(&sample(10 * SEC, vec![off])),
            None,
            &no_names,
        );
        assert_eq!(m.processes[0].net_rx_rate, 0.0);
    }

    #[test]
    fn cpu_split_excludes_idle_and_iowait_from_busy() {
        let prev = CpuTimes::default();
        let cur = CpuTimes {
            user: 30,
            system: 10,
            idle: 50,
            iowait: 10,
            guest: 30, // inside user already
            ..Default::default()
        };
        let split = CpuSplit::between(&cur, &prev);
        assert_eq!(split.user, 0.0); // all 30 ticks of user were guest
        assert_eq!(split.guest, 30.0);
        assert_eq!(split.system, 10.0);
        assert_eq!(split.busy(), 40.0);
        assert_eq!(CpuSplit::between(&prev, &prev).busy(), 0.0);
    }

    #[test]
    fn memory_used_follows_htop() {
        let mut s = sample(SEC, vec![]);
        s.system.mem = MemInfo {
            total: 1000,
            free: 100,
            buffers: 50,
            cached: 300,
            sreclaimable: 20,
            shmem: 70,
            ..Default::default()
        };
        let v = SystemView::new(&s, None);
        assert_eq!(v.mem_cache_bytes, 250);
        assert_eq!(v.mem_used_bytes, 600);
    }
}
