//! The exposition: one refresh turned into metric families, rendered once
//! per refresh in both text formats (OpenMetrics for Prometheus, which asks
//! for it; Prometheus' classic text for everything else, promtool
//! included). Scrapes only ever copy a pointer to the rendered bytes.
//!
//! Names follow Prometheus' conventions: a `bpftop_` prefix, base units as
//! suffixes (`_seconds`, `_bytes`, `_ratio`), cumulative counters ending in
//! `_total`. Per-process series carry `pid`, `comm`, `user`, `unit` and
//! `container` labels (empty when the process has none) and exist only for
//! the top K processes by CPU and by resident memory; units and containers
//! are aggregated over every process (see `aggregate`).

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    prometheus_text, text, DescriptorEncoder, EncodeLabel, EncodeLabelSet, LabelSetEncoder,
    NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::aggregate::{groups_of, Aggregates, GroupTotals};
use crate::collect::sample::CpuTimes;
use crate::model::{Model, ProcessView};
use crate::present::sanitize::printable;

/// What Prometheus asks for in its Accept header.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// Prometheus' classic text format (version 0.0.4).
pub const TEXT_CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// bpftop's own figures, exported beside the machine's.
#[derive(Debug, Clone, Copy, Default)]
pub struct SelfStats {
    /// How long the last refresh took to sample and build its model.
    pub collection_seconds: f64,
    pub collections: u64,
    pub collection_errors: u64,
    /// /metrics requests answered before this refresh was rendered.
    pub scrapes: u64,
}

/// Everything one exposition is made from.
pub struct Refresh<'a> {
    pub model: &'a Model,
    /// /proc/stat's line for all CPUs, in `user_hz` ticks.
    pub cpu_ticks: CpuTimes,
    pub user_hz: u64,
    pub groups: &'a Aggregates,
    /// Per-process series for the top `top_k` by CPU and by memory.
    pub top_k: usize,
    pub stats: SelfStats,
}

/// One refresh, rendered.
#[derive(Debug, Clone)]
pub struct Exposition {
    pub openmetrics: Bytes,
    pub text: Bytes,
}

/// Renders `r` in both formats.
pub fn render(r: &Refresh) -> Result<Exposition, fmt::Error> {
    let families = Arc::new(families(r));
    let mut registry = Registry::with_prefix("bpftop");
    registry.register_collector(Box::new(Arc::clone(&families)));
    let mut openmetrics = String::new();
    text::encode(&mut openmetrics, &registry)?;
    let mut classic = String::new();
    prometheus_text::encode(&mut classic, &registry)?;
    Ok(Exposition {
        openmetrics: Bytes::from(openmetrics),
        text: Bytes::from(classic),
    })
}

/// The processes that get their own series: the union of the top `k` by
/// CPU% and the top `k` by resident memory, in the model's order. Ties on
/// CPU% (all of them on the first refresh, which has no rates yet) go to
/// the larger total CPU time.
pub fn top_processes(processes: &[ProcessView], k: usize) -> Vec<usize> {
    if k >= processes.len() {
        return (0..processes.len()).collect();
    }
    let mut keep = vec![false; processes.len()];
    let mut pick = |cmp: &dyn Fn(&ProcessView, &ProcessView) -> std::cmp::Ordering| {
        let mut order: Vec<usize> = (0..processes.len()).collect();
        order.select_nth_unstable_by(k, |&a, &b| cmp(&processes[a], &processes[b]));
        for &i in &order[..k] {
            keep[i] = true;
        }
    };
    if k > 0 {
        pick(&|a, b| {
            b.cpu_percent
                .total_cmp(&a.cpu_percent)
                .then_with(|| b.sample.cpu_time_ns().cmp(&a.sample.cpu_time_ns()))
        });
        pick(&|a, b| b.sample.rss_bytes.cmp(&a.sample.rss_bytes));
    }
    (0..processes.len()).filter(|&i| keep[i]).collect()
}

#[derive(Debug, Clone, Copy)]
enum Value {
    Int(u64),
    Float(f64),
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

/// Labels shared by the series of one process or group.
type Labels = Arc<[(&'static str, String)]>;

#[derive(Debug)]
struct Series {
    labels: Labels,
    /// One more label that varies within the family (`mode`, `resource`).
    extra: Option<(&'static str, &'static str)>,
    value: Value,
}

#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    unit: Option<Unit>,
    kind: MetricType,
    series: Vec<Series>,
}

impl Family {
    fn push(&mut self, labels: &Labels, extra: Option<(&'static str, &'static str)>, v: Value) {
        self.series.push(Series {
            labels: Arc::clone(labels),
            extra,
            value: v,
        });
    }
}

#[derive(Debug, Default)]
struct Families(Vec<Family>);

impl Families {
    fn add(
        &mut self,
        name: &'static str,
        help: &'static str,
        unit: Option<Unit>,
        kind: MetricType,
    ) -> usize {
        self.0.push(Family {
            name,
            help,
            unit,
            kind,
            series: Vec::new(),
        });
        self.0.len() - 1
    }

    fn counter(&mut self, name: &'static str, help: &'static str, unit: Option<Unit>) -> usize {
        self.add(name, help, unit, MetricType::Counter)
    }

    fn gauge(&mut self, name: &'static str, help: &'static str, unit: Option<Unit>) -> usize {
        self.add(name, help, unit, MetricType::Gauge)
    }

    /// A family with a single unlabelled series.
    fn single(
        &mut self,
        name: &'static str,
        help: &'static str,
        unit: Option<Unit>,
        kind: MetricType,
        v: Value,
    ) {
        let f = self.add(name, help, unit, kind);
        self.0[f].push(&Labels::from([]), None, v);
    }
}

struct SeriesLabels<'a>(&'a Series);

impl EncodeLabelSet for SeriesLabels<'_> {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), fmt::Error> {
        for (k, v) in self.0.labels.iter() {
            (*k, v.as_str()).encode(encoder.encode_label())?;
        }
        if let Some(extra) = self.0.extra {
            extra.encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

impl Collector for Families {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        for f in self.0.iter().filter(|f| !f.series.is_empty()) {
            let mut metric = encoder.encode_descriptor(f.name, f.help, f.unit.as_ref(), f.kind)?;
            for s in &f.series {
                let labels = SeriesLabels(s);
                let mut m = metric.encode_family(&labels)?;
                match (f.kind, s.value) {
                    (MetricType::Counter, Value::Int(v)) => {
                        m.encode_counter::<NoLabelSet, _, f64>(&v, None)?
                    }
                    (MetricType::Counter, Value::Float(v)) => {
                        m.encode_counter::<NoLabelSet, _, f64>(&v, None)?
                    }
                    (_, Value::Int(v)) => m.encode_gauge(&v)?,
                    (_, Value::Float(v)) => m.encode_gauge(&v)?,
                }
            }
        }
        Ok(())
    }
}

const CPU_MODE: &str = "mode";

fn seconds(ns: u64) -> Value {
    Value::Float(ns as f64 / 1e9)
}

/// Per-process and per-group families, filled side by side.
struct Resources {
    cpu: usize,
    rss: usize,
    io_read: usize,
    io_write: usize,
    net_rx: usize,
    net_tx: usize,
    gpu_mem: usize,
}

impl Resources {
    fn new(
        f: &mut Families,
        [cpu, rss, io_read, io_write, net_rx, net_tx, gpu_mem]: [&'static str; 7],
        per_process: bool,
    ) -> Resources {
        let help = |process: &'static str, group: &'static str| {
            if per_process {
                process
            } else {
                group
            }
        };
        Resources {
            cpu: f.counter(
                cpu,
                help(
                    "CPU time of the process (all threads, exited ones included), by mode.",
                    "CPU time of the group's processes while in it, exited ones included, by mode.",
                ),
                Some(Unit::Seconds),
            ),
            rss: f.gauge(
                rss,
                help(
                    "Resident memory of the process.",
                    "Resident memory of the group's processes, summed (shared pages count once per process).",
                ),
                Some(Unit::Bytes),
            ),
            io_read: f.counter(
                io_read,
                help(
                    "Bytes the process caused to be read from storage.",
                    "Bytes the group's processes caused to be read from storage.",
                ),
                Some(Unit::Bytes),
            ),
            io_write: f.counter(
                io_write,
                help(
                    "Bytes the process caused to be written to storage.",
                    "Bytes the group's processes caused to be written to storage.",
                ),
                Some(Unit::Bytes),
            ),
            net_rx: f.counter(
                net_rx,
                help(
                    "Socket bytes the process received since bpftop started counting.",
                    "Socket bytes the group's processes received since bpftop started counting.",
                ),
                Some(Unit::Bytes),
            ),
            net_tx: f.counter(
                net_tx,
                help(
                    "Socket bytes the process sent since bpftop started counting.",
                    "Socket bytes the group's processes sent since bpftop started counting.",
                ),
                Some(Unit::Bytes),
            ),
            gpu_mem: f.gauge(
                gpu_mem,
                help(
                    "Video memory the process holds on all GPUs.",
                    "Video memory the group's processes hold on all GPUs.",
                ),
                Some(Unit::Bytes),
            ),
        }
    }

    fn process(&self, f: &mut Families, labels: &Labels, v: &ProcessView) {
        let p = &v.sample;
        f.0[self.cpu].push(labels, Some((CPU_MODE, "user")), seconds(p.utime_ns));
        f.0[self.cpu].push(labels, Some((CPU_MODE, "system")), seconds(p.stime_ns));
        f.0[self.rss].push(labels, None, p.rss_bytes.into());
        // Unknown counters get no series rather than a made-up zero.
        if let Some(io) = p.io {
            f.0[self.io_read].push(labels, None, io.read_bytes.into());
            f.0[self.io_write].push(labels, None, io.write_bytes.into());
        }
        if let Some(net) = &p.net {
            f.0[self.net_rx].push(labels, None, net.rx_bytes.into());
            f.0[self.net_tx].push(labels, None, net.tx_bytes.into());
        }
        if let Some(gpu) = &v.gpu {
            f.0[self.gpu_mem].push(labels, None, gpu.mem_bytes.into());
        }
    }

    fn group(&self, f: &mut Families, labels: &Labels, t: &GroupTotals, net: bool, gpu: bool) {
        let c = &t.counters;
        f.0[self.cpu].push(labels, Some((CPU_MODE, "user")), seconds(c.user_ns));
        f.0[self.cpu].push(labels, Some((CPU_MODE, "system")), seconds(c.system_ns));
        f.0[self.rss].push(labels, None, t.rss_bytes.into());
        f.0[self.io_read].push(labels, None, c.io_read_bytes.into());
        f.0[self.io_write].push(labels, None, c.io_write_bytes.into());
        if net {
            f.0[self.net_rx].push(labels, None, c.net_rx_bytes.into());
            f.0[self.net_tx].push(labels, None, c.net_tx_bytes.into());
        }
        if gpu {
            f.0[self.gpu_mem].push(labels, None, t.gpu_mem_bytes.into());
        }
    }
}

fn families(r: &Refresh) -> Families {
    let mut f = Families::default();
    let m = r.model;
    let net_on = m.network.is_on();
    let gpu_on = m.gpu_status.any_on();
    let exits_on = m.exits.capture.is_on();

    let process = Resources::new(
        &mut f,
        [
            "process_cpu",
            "process_resident_memory",
            "process_io_read",
            "process_io_write",
            "process_network_receive",
            "process_network_transmit",
            "process_gpu_memory",
        ],
        true,
    );
    // Not part of the groups' resources: summed address spaces mean nothing.
    let virt = f.gauge(
        "process_virtual_memory",
        "Virtual memory size of the process.",
        Some(Unit::Bytes),
    );
    let top = top_processes(&m.processes, r.top_k);
    for &i in &top {
        let v = &m.processes[i];
        let (unit, container) = groups_of(v);
        let labels: Labels = Arc::new([
            ("pid", v.sample.pid.to_string()),
            ("comm", printable(&v.sample.comm)),
            ("user", v.user.to_string()),
            ("unit", unit.unwrap_or_default().to_owned()),
            ("container", container.unwrap_or_default().to_owned()),
        ]);
        process.process(&mut f, &labels, v);
        f.0[virt].push(&labels, None, v.sample.virt_bytes.into());
    }

    for (label, groups, names, count) in [
        (
            "unit",
            &r.groups.units,
            [
                "unit_cpu",
                "unit_resident_memory",
                "unit_io_read",
                "unit_io_write",
                "unit_network_receive",
                "unit_network_transmit",
                "unit_gpu_memory",
            ],
            "unit_processes",
        ),
        (
            "container",
            &r.groups.containers,
            [
                "container_cpu",
                "container_resident_memory",
                "container_io_read",
                "container_io_write",
                "container_network_receive",
                "container_network_transmit",
                "container_gpu_memory",
            ],
            "container_processes",
        ),
    ] {
        let resources = Resources::new(&mut f, names, false);
        let count = f.gauge(count, "Processes in the group now.", None);
        let exits = exit_families(&mut f, label, exits_on);
        for (name, totals) in groups {
            let labels: Labels = Arc::new([(label, name.to_string())]);
            resources.group(&mut f, &labels, totals, net_on, gpu_on);
            f.0[count].push(&labels, None, totals.processes.into());
            if let Some([n, nonzero, oom, cpu]) = exits {
                let e = &totals.exits;
                f.0[n].push(&labels, None, e.exits.into());
                f.0[nonzero].push(&labels, None, e.nonzero.into());
                f.0[oom].push(&labels, None, e.oom_kills.into());
                f.0[cpu].push(&labels, None, seconds(e.cpu_ns));
            }
        }
    }
    if exits_on {
        f.single(
            "exits_dropped",
            "Process exits lost because the kernel's exit buffer was full.",
            None,
            MetricType::Counter,
            m.exits.dropped_total.into(),
        );
    }

    unit_cgroups(&mut f, m);
    system(&mut f, r);
    own(&mut f, r, top.len());
    f
}

/// Each unit's and container's own cgroup: pressure, limits, throttling and
/// memory events. A file that is absent (its controller is not on cgroup v2
/// for the cgroup) gives no series rather than a made-up zero.
fn unit_cgroups(f: &mut Families, m: &Model) {
    let pressure = f.gauge(
        "unit_pressure_some_avg10",
        "Share of the last 10 s in which some task of the unit's cgroup stalled on the resource.",
        Some(Unit::Other("ratio".into())),
    );
    let throttled = f.counter(
        "unit_cpu_throttled",
        "Time the unit's cgroup was throttled by its cpu.max quota.",
        Some(Unit::Seconds),
    );
    let periods = f.counter(
        "unit_cpu_throttled_periods",
        "Periods in which the unit's cgroup was throttled (cpu.stat nr_throttled).",
        None,
    );
    let cpu_max = f.gauge(
        "unit_cpu_max_cpus",
        "The unit's cpu.max quota in CPUs (absent when unlimited).",
        None,
    );
    let memory_max = f.gauge(
        "unit_memory_max",
        "The unit's memory.max (absent when unlimited).",
        Some(Unit::Bytes),
    );
    let memory_high = f.gauge(
        "unit_memory_high",
        "The unit's memory.high (absent when unlimited).",
        Some(Unit::Bytes),
    );
    let ooms = f.counter(
        "unit_oom_kills",
        "Processes of the unit's cgroup killed by the OOM killer (memory.events oom_kill).",
        None,
    );
    let highs = f.counter(
        "unit_memory_high_events",
        "Times the unit's cgroup went over memory.high (memory.events high).",
        None,
    );
    for u in &m.units {
        let container = if u.is_container { u.label.as_str() } else { "" };
        let labels: Labels = Arc::new([
            ("unit", u.unit_name.clone().unwrap_or_default()),
            ("container", container.to_owned()),
        ]);
        let s = &u.stats;
        for (resource, value) in [
            ("cpu", s.cpu_some_avg10),
            ("memory", s.memory_some_avg10),
            ("io", s.io_some_avg10),
        ] {
            if let Some(v) = value {
                let ratio = v / 100.0;
                f.0[pressure].push(&labels, Some(("resource", resource)), ratio.into());
            }
        }
        let mut put = |family: usize, v: Option<Value>| {
            if let Some(v) = v {
                f.0[family].push(&labels, None, v);
            }
        };
        put(
            throttled,
            s.throttled_usec.map(|us| Value::Float(us as f64 / 1e6)),
        );
        put(periods, s.nr_throttled.map(Value::Int));
        put(cpu_max, s.cpu_max.and_then(|c| c.cpus()).map(Value::Float));
        put(
            memory_max,
            s.memory_max.and_then(|l| l.bytes()).map(Value::Int),
        );
        put(
            memory_high,
            s.memory_high.and_then(|l| l.bytes()).map(Value::Int),
        );
        put(ooms, s.oom_kills.map(Value::Int));
        put(highs, s.high_events.map(Value::Int));
    }
}

/// The exit counters of units or containers (`label`), when exits are
/// captured: exits, nonzero exits, OOM kills, CPU seconds.
fn exit_families(f: &mut Families, label: &'static str, on: bool) -> Option<[usize; 4]> {
    if !on {
        return None;
    }
    let (exits, nonzero, oom, cpu) = if label == "unit" {
        (
            "unit_exits",
            "unit_nonzero_exits",
            "unit_exits_oom_killed",
            "unit_exited_cpu",
        )
    } else {
        (
            "container_exits",
            "container_nonzero_exits",
            "container_exits_oom_killed",
            "container_exited_cpu",
        )
    };
    Some([
        f.counter(exits, "Processes of the group that exited.", None),
        f.counter(
            nonzero,
            "Processes of the group that exited with a nonzero code or were killed by a signal.",
            None,
        ),
        f.counter(oom, "Processes of the group the OOM killer chose.", None),
        f.counter(
            cpu,
            "CPU time exited processes of the group used after their last refresh (all of it for those living shorter than a refresh); included in the group's CPU counter.",
            Some(Unit::Seconds),
        ),
    ])
}

fn system(f: &mut Families, r: &Refresh) {
    let s = &r.model.system;
    let t = &r.cpu_ticks;
    let hz = r.user_hz.max(1) as f64;
    let cpu = f.counter(
        "system_cpu",
        "CPU time of all CPUs by mode, as /proc/stat counts it (user and nice include guest time).",
        Some(Unit::Seconds),
    );
    let none = Labels::from([]);
    for (mode, ticks) in [
        ("user", t.user),
        ("nice", t.nice),
        ("system", t.system),
        ("idle", t.idle),
        ("iowait", t.iowait),
        ("irq", t.irq),
        ("softirq", t.softirq),
        ("steal", t.steal),
    ] {
        f.0[cpu].push(&none, Some((CPU_MODE, mode)), (ticks as f64 / hz).into());
    }
    let gauge = |f: &mut Families, name, help, unit, v: Value| {
        f.single(name, help, unit, MetricType::Gauge, v)
    };
    gauge(
        f,
        "system_cpus",
        "Online CPUs.",
        None,
        (s.cpus as u64).into(),
    );
    let bytes = Some(Unit::Bytes);
    for (name, help, v) in [
        ("system_memory_total", "MemTotal.", s.mem_total_bytes),
        (
            "system_memory_used",
            "Memory in use as htop counts it: total - free - buffers - cache.",
            s.mem_used_bytes,
        ),
        (
            "system_memory_available",
            "MemAvailable.",
            s.mem_available_bytes,
        ),
        ("system_memory_buffers", "Buffers.", s.mem_buffers_bytes),
        (
            "system_memory_cached",
            "Page cache: Cached + SReclaimable - Shmem.",
            s.mem_cache_bytes,
        ),
        ("system_swap_total", "SwapTotal.", s.swap_total_bytes),
        (
            "system_swap_used",
            "SwapTotal - SwapFree.",
            s.swap_used_bytes,
        ),
    ] {
        gauge(f, name, help, bytes.clone(), v.into());
    }
    if let Some(z) = s.zram {
        for (name, help, v) in [
            (
                "system_zram_original",
                "Uncompressed size of the data stored in zram devices.",
                z.orig_bytes,
            ),
            (
                "system_zram_compressed",
                "Compressed size of the data stored in zram devices.",
                z.compr_bytes,
            ),
            (
                "system_zram_used",
                "Memory the zram devices take, allocator overhead included.",
                z.used_bytes,
            ),
        ] {
            gauge(f, name, help, bytes.clone(), v.into());
        }
    }
    let psi = f.gauge(
        "system_pressure_some_avg10",
        "Share of the last 10 s in which some task stalled on the resource (PSI some avg10).",
        Some(Unit::Other("ratio".into())),
    );
    for (resource, v) in [
        ("cpu", s.pressure.cpu),
        ("memory", s.pressure.memory),
        ("io", s.pressure.io),
    ] {
        if let Some(pct) = v {
            f.0[psi].push(&none, Some(("resource", resource)), (pct / 100.0).into());
        }
    }
    for (name, help, v) in [
        ("system_load1", "Load average over 1 minute.", s.load[0]),
        ("system_load5", "Load average over 5 minutes.", s.load[1]),
        ("system_load15", "Load average over 15 minutes.", s.load[2]),
    ] {
        gauge(f, name, help, None, v.into());
    }
    gauge(
        f,
        "system_processes",
        "User processes (kernel threads excluded).",
        None,
        s.tasks.into(),
    );
    gauge(
        f,
        "system_threads",
        "Threads of user processes.",
        None,
        s.threads.into(),
    );
}

fn own(f: &mut Families, r: &Refresh, exported: usize) {
    let st = &r.stats;
    f.single(
        "collection_duration",
        "How long bpftop's last refresh took to sample the machine and build its model.",
        Some(Unit::Seconds),
        MetricType::Gauge,
        st.collection_seconds.into(),
    );
    f.single(
        "collections",
        "Refreshes bpftop completed.",
        None,
        MetricType::Counter,
        st.collections.into(),
    );
    f.single(
        "collection_errors",
        "Refreshes that failed (the previous exposition was kept).",
        None,
        MetricType::Counter,
        st.collection_errors.into(),
    );
    f.single(
        "scrapes",
        "Requests for /metrics answered before this exposition was rendered.",
        None,
        MetricType::Counter,
        st.scrapes.into(),
    );
    f.single(
        "exported_processes",
        "Processes with their own series in this exposition (the top K by CPU and by memory).",
        None,
        MetricType::Gauge,
        (exported as u64).into(),
    );
    f.single(
        "last_refresh_timestamp",
        "Unix time of the refresh this exposition shows.",
        Some(Unit::Seconds),
        MetricType::Gauge,
        r.model.unix_time.into(),
    );
    let backend = f.gauge(
        "backend_info",
        "Where per-process data comes from (value always 1).",
        None,
    );
    let labels: Labels = Arc::new([("backend", r.model.backend.name().to_owned())]);
    f.0[backend].push(&labels, None, 1u64.into());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::catalog::Catalog;
    use crate::collect::fake::{demo_processes, demo_user_name, FakeCollector};
    use crate::collect::Collector as _;

    /// The demo machine after two refreshes, with its cgroups described as
    /// the sampler does.
    fn demo_model() -> Model {
        let mut fake = FakeCollector::new(demo_processes());
        let mut catalog = Catalog::new(std::path::Path::new("/nonexistent-root"), None);
        let mut take = || {
            let mut s = fake.collect().ok()?;
            s.cgroups = catalog.describe(&s.processes);
            Some(s)
        };
        let (Some(prev), Some(cur)) = (take(), take()) else {
            panic!("the fake collector failed");
        };
        Model::new(&cur, Some(&prev), None, &demo_user_name)
    }

    fn refresh_of(model: &Model, top_k: usize) -> Exposition {
        let groups =
            super::super::aggregate::Aggregator::new().update(model, std::time::Instant::now());
        let r = Refresh {
            model,
            cpu_ticks: CpuTimes {
                user: 250,
                idle: 1000,
                ..Default::default()
            },
            user_hz: 100,
            groups: &groups,
            top_k,
            stats: SelfStats {
                collection_seconds: 0.004,
                collections: 7,
                collection_errors: 1,
                scrapes: 3,
            },
        };
        match render(&r) {
            Ok(e) => e,
            Err(e) => panic!("render failed: {e}"),
        }
    }

    fn lines(b: &Bytes) -> Vec<String> {
        String::from_utf8_lossy(b)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn top_k_is_the_union_of_cpu_and_memory_leaders() {
        let m = demo_model();
        let all = top_processes(&m.processes, usize::MAX);
        assert_eq!(all.len(), m.processes.len());
        let one = top_processes(&m.processes, 1);
        assert!(!one.is_empty() && one.len() <= 2);
        let by_cpu = m
            .processes
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.cpu_percent.total_cmp(&b.1.cpu_percent))
            .map(|(i, _)| i);
        let by_rss = m
            .processes
            .iter()
            .enumerate()
            .max_by_key(|(_, p)| p.sample.rss_bytes)
            .map(|(i, _)| i);
        for i in [by_cpu, by_rss].into_iter().flatten() {
            assert!(one.contains(&i), "{i} missing from {one:?}");
        }
        assert!(top_processes(&m.processes, 0).is_empty());
    }

    #[test]
    fn both_formats_carry_the_same_samples() {
        let m = demo_model();
        let e = refresh_of(&m, 3);
        let om = lines(&e.openmetrics);
        let text = lines(&e.text);
        assert_eq!(om.last().map(String::as_str), Some("# EOF"));
        assert!(om.contains(&"# TYPE bpftop_process_cpu_seconds counter".to_owned()));
        assert!(om.contains(&"# UNIT bpftop_process_cpu_seconds seconds".to_owned()));
        assert!(text.contains(&"# TYPE bpftop_process_cpu_seconds_total counter".to_owned()));
        let samples = |l: &[String]| -> Vec<String> {
            l.iter().filter(|l| !l.starts_with('#')).cloned().collect()
        };
        assert_eq!(samples(&om), samples(&text));
        assert!(text.contains(&"bpftop_system_cpu_seconds_total{mode=\"user\"} 2.5".to_owned()));
        assert!(text.contains(&"bpftop_collections_total 7".to_owned()));
        assert!(text.contains(&"bpftop_backend_info{backend=\"procfs\"} 1".to_owned()));
    }

    #[test]
    fn cardinality_follows_top_k() {
        let m = demo_model();
        let count = |e: &Exposition| {
            lines(&e.text)
                .iter()
                .filter(|l| l.starts_with("bpftop_process_resident_memory_bytes{"))
                .count()
        };
        assert_eq!(count(&refresh_of(&m, 0)), 0);
        let two = count(&refresh_of(&m, 2));
        assert!((2..=4).contains(&two), "{two}");
        assert_eq!(count(&refresh_of(&m, 1000)), m.processes.len());
        // Units are exported whatever K is.
        assert!(lines(&refresh_of(&m, 0).text)
            .iter()
            .any(|l| l
                .starts_with("bpftop_unit_cpu_seconds_total{unit=\"systemd-journald.service\"")));
    }

    #[test]
    fn unit_cgroup_facts_are_exported_and_absent_files_give_no_series() {
        use crate::collect::sample::{CpuMax, Limit, UnitCgroupStats};
        let mut m = demo_model();
        let stats = UnitCgroupStats {
            cpu_some_avg10: Some(12.5),
            memory_some_avg10: Some(50.0),
            io_some_avg10: None,
            usage_usec: Some(9_000_000),
            nr_throttled: Some(40),
            throttled_usec: Some(3_500_000),
            cpu_max: Some(CpuMax {
                quota_usec: Some(20_000),
                period_usec: 100_000,
            }),
            memory_max: Some(Limit::Bytes(1 << 30)),
            memory_high: Some(Limit::Unlimited),
            oom_kills: Some(2),
            high_events: Some(17),
            unavailable: None,
            read_ns: 0,
        };
        m.units = vec![crate::model::UnitView {
            path: Arc::from("/system.slice/web.service"),
            label: "web.service".to_owned(),
            is_container: false,
            unit_name: Some("web.service".to_owned()),
            cpu_percent: 20.0,
            rss_bytes: 1,
            processes: 1,
            stats: Arc::new(stats),
            cgroup_cpu_percent: None,
            throttled_percent: None,
            throttles_per_second: None,
            first_pid: 1,
            exits_per_second: None,
            forks_per_second: None,
            execs_per_second: None,
        }];
        let text = lines(&refresh_of(&m, 0).text);
        let has = |l: &str| assert!(text.contains(&l.to_owned()), "{l} missing");
        let labels = "unit=\"web.service\",container=\"\"";
        has(&format!(
            "bpftop_unit_pressure_some_avg10_ratio{{{labels},resource=\"cpu\"}} 0.125"
        ));
        has(&format!(
            "bpftop_unit_pressure_some_avg10_ratio{{{labels},resource=\"memory\"}} 0.5"
        ));
        has(&format!(
            "bpftop_unit_cpu_throttled_seconds_total{{{labels}}} 3.5"
        ));
        has(&format!(
            "bpftop_unit_cpu_throttled_periods_total{{{labels}}} 40"
        ));
        has(&format!("bpftop_unit_cpu_max_cpus{{{labels}}} 0.2"));
        has(&format!(
            "bpftop_unit_memory_max_bytes{{{labels}}} 1073741824"
        ));
        has(&format!("bpftop_unit_oom_kills_total{{{labels}}} 2"));
        has(&format!(
            "bpftop_unit_memory_high_events_total{{{labels}}} 17"
        ));
        // Unknown io pressure and an unlimited memory.high give no series.
        assert!(!text
            .iter()
            .any(|l| l.starts_with("bpftop_unit_pressure") && l.contains("resource=\"io\"")));
        assert!(!text
            .iter()
            .any(|l| l.starts_with("bpftop_unit_memory_high_bytes{")));
    }
}
