//! `--format json`: one JSON object per refresh, one line each. The keys
//! documented in docs/batch-schema.md are a contract.

use std::io::{self, Write};

use serde::Serialize;

use crate::present::sanitize::find_unsafe;

use crate::collect::gpu::{GpuDevice, GpuVendor};
use crate::collect::sample::GpuStatus;
use crate::collect::sample::{NetHooks, NetworkStatus, ZramStats};
use crate::collect::smaps::SmapsRollup;
use crate::model::{Model, ProcessView, UnitView};

const NS_PER_SEC: f64 = 1e9;

#[derive(Serialize)]
struct Zram {
    orig_bytes: u64,
    compr_bytes: u64,
    used_bytes: u64,
}

impl From<&ZramStats> for Zram {
    fn from(z: &ZramStats) -> Self {
        Zram {
            orig_bytes: z.orig_bytes,
            compr_bytes: z.compr_bytes,
            used_bytes: z.used_bytes,
        }
    }
}

#[derive(Serialize)]
struct Pressure {
    cpu: Option<f64>,
    memory: Option<f64>,
    io: Option<f64>,
}

#[derive(Serialize)]
struct System {
    cpus: usize,
    cpu_percent: f64,
    per_cpu_percent: Vec<f64>,
    mem_total_bytes: u64,
    mem_used_bytes: u64,
    mem_available_bytes: u64,
    mem_buffers_bytes: u64,
    mem_cache_bytes: u64,
    swap_total_bytes: u64,
    swap_used_bytes: u64,
    zswap_bytes: Option<u64>,
    zswapped_bytes: Option<u64>,
    zram: Option<Zram>,
    load: [f64; 3],
    uptime_seconds: f64,
    tasks: u64,
    threads: u64,
    kernel_threads: u64,
    running: u64,
    pressure_some_avg10: Pressure,
    /// Bytes per second through the host's real interfaces (loopback and
    /// virtual devices excluded); null on the first refresh.
    net_rx_rate: Option<f64>,
    net_tx_rate: Option<f64>,
}

#[derive(Serialize)]
struct Thread {
    tid: u32,
    state: char,
    comm: String,
    processor: u32,
    cpu_time_seconds: f64,
    wait_percent: Option<f64>,
    run_delay_seconds: Option<f64>,
    run_waits: Option<u64>,
}

/// Stall accounting of one process: shares of the interval and totals.
#[derive(Serialize)]
struct StallsJson {
    io_wait_percent: f64,
    swap_wait_percent: f64,
    reclaim_percent: f64,
    thrashing_percent: f64,
    compact_percent: f64,
    io_wait_seconds: f64,
    swap_wait_seconds: f64,
    reclaim_seconds: f64,
    thrashing_seconds: f64,
    compact_seconds: f64,
}

fn stalls_json(v: &ProcessView) -> Option<StallsJson> {
    let r = v.waits.stalls?;
    let t = v.sample.waits.stalls?;
    let secs = |ns: u64| ns as f64 / NS_PER_SEC;
    Some(StallsJson {
        io_wait_percent: r.blkio,
        swap_wait_percent: r.swapin,
        reclaim_percent: r.reclaim,
        thrashing_percent: r.thrashing,
        compact_percent: r.compact,
        io_wait_seconds: secs(t.blkio_ns),
        swap_wait_seconds: secs(t.swapin_ns),
        reclaim_seconds: secs(t.reclaim_ns),
        thrashing_seconds: secs(t.thrashing_ns),
        compact_seconds: secs(t.compact_ns),
    })
}

#[derive(Serialize)]
struct Process {
    pid: u32,
    ppid: u32,
    uid: u32,
    euid: u32,
    user: String,
    state: char,
    comm: String,
    cmdline: Vec<String>,
    threads: u32,
    nice: i32,
    priority: i32,
    processor: u32,
    tty_nr: u32,
    start_time_seconds: f64,
    cpu_percent: f64,
    cpu_time_seconds: f64,
    user_time_seconds: f64,
    system_time_seconds: f64,
    mem_percent: f64,
    rss_bytes: u64,
    shared_bytes: u64,
    virt_bytes: u64,
    /// The parts of rss_bytes, and swap (/proc/PID/status).
    rss_anon_bytes: u64,
    rss_file_bytes: u64,
    rss_shmem_bytes: u64,
    swap_bytes: u64,
    /// From smaps_rollup, with --pss only; null otherwise.
    pss_bytes: Option<u64>,
    uss_bytes: Option<u64>,
    minflt: u64,
    majflt: u64,
    voluntary_ctxt_switches: u64,
    involuntary_ctxt_switches: u64,
    /// Run-queue waits (sched_info); null where the kernel keeps none.
    wait_percent: Option<f64>,
    run_delay_seconds: Option<f64>,
    run_waits: Option<u64>,
    run_waits_per_second: Option<f64>,
    /// Delay accounting; null while it is off ("stalls_off_reason").
    stalls: Option<StallsJson>,
    rchar: Option<u64>,
    wchar: Option<u64>,
    io_read_bytes: Option<u64>,
    io_write_bytes: Option<u64>,
    io_read_rate: f64,
    io_write_rate: f64,
    /// Socket bytes since bpftop started; null when not measured.
    net_rx_bytes: Option<u64>,
    net_tx_bytes: Option<u64>,
    net_rx_rate: Option<f64>,
    net_tx_rate: Option<f64>,
    /// Interface of the last send over a routed socket.
    net_iface: Option<String>,
    /// Share of one GPU (summed over GPUs); null when no GPU source is on.
    gpu_percent: Option<f64>,
    /// Video memory held on all GPUs; null when no GPU source is on.
    gpu_mem_bytes: Option<u64>,
    /// bpftop indices of the GPUs used ("gpus" at the top level).
    gpu_devices: Vec<u32>,
    cgroup: Option<String>,
    unit: Option<String>,
    slice: Option<String>,
    container: Option<ContainerJson>,
    /// The process's cgroup is frozen (cgroup v2 freezer, inherited
    /// freezes included, or the v1 freezer on hybrid hosts, which docker
    /// and podman pause through there); null when unknown (no cgroup2,
    /// unreadable).
    frozen: Option<bool>,
    kernel_thread: bool,
    /// CPU of children that exited in the interval, beyond their rows.
    exited_children_cpu_percent: f64,
    /// Children started in the interval (alive or gone), and execs its
    /// children made in it; null without the exit capture or on the first
    /// refresh.
    children_forked: Option<u32>,
    children_execs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thread_list: Option<Vec<Thread>>,
}

/// A Kubernetes pod (UID and QoS class) or a podman pod (its 64-hex id in
/// `uid`, `qos` null).
#[derive(Serialize)]
struct PodJson {
    uid: String,
    qos: Option<String>,
}

#[derive(Serialize)]
struct ContainerJson {
    runtime: &'static str,
    id: String,
    name: Option<String>,
    pod: Option<PodJson>,
}

fn container_json(v: &ProcessView) -> Option<ContainerJson> {
    let info = &v.cgroup.as_ref()?.info;
    let c = info.container.as_ref()?;
    Some(ContainerJson {
        runtime: c.runtime.name(),
        id: c.id.clone(),
        name: info.container_name.clone(),
        pod: c.pod.as_ref().map(|pod| PodJson {
            uid: pod.uid.clone(),
            qos: pod.qos.clone(),
        }),
    })
}

/// Whether and how per-process network bytes are counted.
#[derive(Serialize)]
struct Network {
    enabled: bool,
    /// "tracepoints", "fexit" or "kprobes"; null when off.
    hooks: Option<NetHooks>,
    all_families: bool,
    /// Why the counters are off; null when on.
    reason: Option<String>,
}

impl From<&NetworkStatus> for Network {
    fn from(status: &NetworkStatus) -> Self {
        match status {
            NetworkStatus::On {
                hooks,
                all_families,
            } => Network {
                enabled: true,
                hooks: Some(*hooks),
                all_families: *all_families,
                reason: None,
            },
            NetworkStatus::Off { reason } => Network {
                enabled: false,
                hooks: None,
                all_families: false,
                reason: Some(reason.clone()),
            },
        }
    }
}

/// One GPU, as the header meters show it.
#[derive(Serialize)]
struct Gpu {
    index: u32,
    name: String,
    /// "nvidia", or the DRM driver's name ("amdgpu", "i915", ...).
    driver: String,
    busy_percent: Option<f64>,
    mem_used_bytes: Option<u64>,
    mem_total_bytes: Option<u64>,
}

impl From<&GpuDevice> for Gpu {
    fn from(d: &GpuDevice) -> Self {
        Gpu {
            index: d.index,
            name: d.name.clone(),
            driver: match &d.vendor {
                GpuVendor::Nvidia => "nvidia".to_owned(),
                GpuVendor::Drm { driver } => driver.clone(),
            },
            busy_percent: d.busy_percent,
            mem_used_bytes: d.mem_used_bytes,
            mem_total_bytes: d.mem_total_bytes,
        }
    }
}

/// What each GPU source does, or why it is off.
#[derive(Serialize)]
struct GpuSources {
    nvml: SourceState,
    drm: SourceState,
}

#[derive(Serialize)]
struct SourceState {
    enabled: bool,
    /// What it reads, or why it is off.
    detail: String,
}

impl From<&Result<String, String>> for SourceState {
    fn from(r: &Result<String, String>) -> Self {
        match r {
            Ok(detail) => SourceState {
                enabled: true,
                detail: detail.clone(),
            },
            Err(reason) => SourceState {
                enabled: false,
                detail: reason.clone(),
            },
        }
    }
}

impl From<&GpuStatus> for GpuSources {
    fn from(s: &GpuStatus) -> Self {
        GpuSources {
            nvml: SourceState::from(&s.nvml),
            drm: SourceState::from(&s.drm),
        }
    }
}

#[derive(Serialize)]
struct Refresh<'a> {
    time: f64,
    backend: &'static str,
    fallback_reason: Option<String>,
    network: Network,
    gpu_sources: GpuSources,
    gpus: Vec<Gpu>,
    /// Why every process's "stalls" is null; null while they are counted.
    stalls_off_reason: Option<&'static str>,
    system: System,
    processes: Processes<'a>,
    exits: super::exited::ExitsJson,
    exited: Vec<super::exited::ExitedJson>,
    units: Vec<Unit>,
}

#[derive(Serialize)]
struct UnitPressure {
    cpu: Option<f64>,
    memory: Option<f64>,
    io: Option<f64>,
}

/// A unit or container with printed processes, and its cgroup's facts.
#[derive(Serialize)]
struct Unit {
    name: String,
    kind: &'static str,
    cgroup: String,
    processes: usize,
    cpu_percent: f64,
    rss_bytes: u64,
    cgroup_cpu_percent: Option<f64>,
    pressure_some_avg10: UnitPressure,
    cpu_max_cpus: Option<f64>,
    cpu_quota_usec: Option<u64>,
    cpu_period_usec: Option<u64>,
    memory_max_bytes: Option<u64>,
    memory_high_bytes: Option<u64>,
    throttled_count: Option<u64>,
    throttled_seconds: Option<f64>,
    throttled_percent: Option<f64>,
    throttled_per_second: Option<f64>,
    oom_kills: Option<u64>,
    memory_high_events: Option<u64>,
    /// Exits, processes started and execs in it per second over the
    /// interval; null without the exit capture or on the first refresh.
    exits_per_second: Option<f64>,
    forks_per_second: Option<f64>,
    execs_per_second: Option<f64>,
    unavailable: Option<String>,
}

fn unit(u: &UnitView) -> Unit {
    let s = &u.stats;
    Unit {
        name: u.label.clone(),
        kind: if u.is_container { "container" } else { "unit" },
        cgroup: u.path.to_string(),
        processes: u.processes,
        cpu_percent: u.cpu_percent,
        rss_bytes: u.rss_bytes,
        cgroup_cpu_percent: u.cgroup_cpu_percent,
        pressure_some_avg10: UnitPressure {
            cpu: s.cpu_some_avg10,
            memory: s.memory_some_avg10,
            io: s.io_some_avg10,
        },
        cpu_max_cpus: s.cpu_max.and_then(|m| m.cpus()),
        cpu_quota_usec: s.cpu_max.and_then(|m| m.quota_usec),
        cpu_period_usec: s.cpu_max.map(|m| m.period_usec),
        memory_max_bytes: s.memory_max.and_then(|l| l.bytes()),
        memory_high_bytes: s.memory_high.and_then(|l| l.bytes()),
        throttled_count: s.nr_throttled,
        throttled_seconds: s.throttled_usec.map(|us| us as f64 / 1e6),
        throttled_percent: u.throttled_percent,
        throttled_per_second: u.throttles_per_second,
        oom_kills: s.oom_kills,
        memory_high_events: s.high_events,
        exits_per_second: u.exits_per_second,
        forks_per_second: u.forks_per_second,
        execs_per_second: u.execs_per_second,
        unavailable: s.unavailable.as_deref().map(str::to_owned),
    }
}

/// The processes of a refresh, each turned into its JSON object only as it
/// is written: at 30 000 processes a list of them built first would double
/// the memory a refresh takes.
struct Processes<'a> {
    rows: &'a [&'a ProcessView],
    with_threads: bool,
    gpu_on: bool,
    /// Children's forks and execs are counted (exit capture on, not the
    /// first refresh).
    starts_counted: bool,
    rollups: Option<&'a [Option<SmapsRollup>]>,
}

impl Serialize for Processes<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.rows.iter().enumerate().map(|(i, p)| {
            let rollup = self.rollups.and_then(|r| r.get(i).copied().flatten());
            process(
                p,
                self.with_threads,
                self.gpu_on,
                self.starts_counted,
                rollup,
            )
        }))
    }
}

/// Strings in JSON are lossy UTF-8 (JSON cannot carry arbitrary bytes);
/// control characters are escaped by the JSON encoder itself.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn process(
    v: &ProcessView,
    with_threads: bool,
    gpu_on: bool,
    starts_counted: bool,
    rollup: Option<SmapsRollup>,
) -> Process {
    let p = &v.sample;
    Process {
        pid: p.pid,
        ppid: p.ppid,
        uid: p.uid,
        euid: p.euid,
        user: v.user.to_string(),
        state: p.state,
        comm: lossy(&p.comm),
        cmdline: p.cmdline.iter().map(|a| lossy(a)).collect(),
        threads: p.threads,
        nice: p.nice,
        priority: p.priority,
        processor: p.processor,
        tty_nr: p.tty_nr,
        start_time_seconds: p.start_time_ns as f64 / NS_PER_SEC,
        cpu_percent: v.cpu_percent,
        cpu_time_seconds: p.cpu_time_ns() as f64 / NS_PER_SEC,
        user_time_seconds: p.utime_ns as f64 / NS_PER_SEC,
        system_time_seconds: p.stime_ns as f64 / NS_PER_SEC,
        mem_percent: v.mem_percent,
        rss_bytes: p.rss_bytes,
        shared_bytes: p.shared_bytes,
        virt_bytes: p.virt_bytes,
        rss_anon_bytes: p.memory.anon_bytes,
        rss_file_bytes: p.memory.file_bytes,
        rss_shmem_bytes: p.memory.shmem_bytes,
        swap_bytes: p.memory.swap_bytes,
        pss_bytes: rollup.map(|r| r.pss_bytes),
        uss_bytes: rollup.map(|r| r.uss_bytes),
        minflt: p.minflt,
        majflt: p.majflt,
        voluntary_ctxt_switches: p.nvcsw,
        involuntary_ctxt_switches: p.nivcsw,
        wait_percent: v.waits.wait_percent,
        run_delay_seconds: p.waits.run.map(|r| r.delay_ns as f64 / NS_PER_SEC),
        run_waits: p.waits.run.map(|r| r.count),
        run_waits_per_second: v.waits.waits_per_second,
        stalls: stalls_json(v),
        rchar: p.io.map(|io| io.rchar),
        wchar: p.io.map(|io| io.wchar),
        io_read_bytes: p.io.map(|io| io.read_bytes),
        io_write_bytes: p.io.map(|io| io.write_bytes),
        io_read_rate: v.io_read_rate,
        io_write_rate: v.io_write_rate,
        net_rx_bytes: p.net.as_ref().map(|n| n.rx_bytes),
        net_tx_bytes: p.net.as_ref().map(|n| n.tx_bytes),
        net_rx_rate: p.net.as_ref().map(|_| v.net_rx_rate),
        net_tx_rate: p.net.as_ref().map(|_| v.net_tx_rate),
        net_iface: p
            .net
            .as_ref()
            .and_then(|n| n.iface.as_deref().map(str::to_owned)),
        gpu_percent: gpu_on.then(|| v.gpu.as_ref().map_or(0.0, |g| g.busy_percent)),
        gpu_mem_bytes: gpu_on.then(|| v.gpu.as_ref().map_or(0, |g| g.mem_bytes)),
        gpu_devices: v
            .gpu
            .as_ref()
            .map(|g| g.devices.clone())
            .unwrap_or_default(),
        cgroup: p.cgroup.as_deref().map(str::to_owned),
        unit: v.cgroup.as_ref().and_then(|c| c.info.unit.unit.clone()),
        slice: v.cgroup.as_ref().and_then(|c| c.info.unit.slice.clone()),
        container: container_json(v),
        frozen: v.cgroup.as_ref().and_then(|c| c.frozen),
        kernel_thread: p.kernel_thread,
        exited_children_cpu_percent: v.exited_children_cpu_percent,
        children_forked: starts_counted.then_some(v.children_forked),
        children_execs: starts_counted.then_some(v.children_execs),
        thread_list: with_threads.then(|| {
            p.thread_list
                .iter()
                .enumerate()
                .map(|(i, t)| Thread {
                    tid: t.tid,
                    state: t.state,
                    comm: lossy(&t.comm),
                    processor: t.processor,
                    cpu_time_seconds: t.cpu_time_ns as f64 / NS_PER_SEC,
                    wait_percent: v.thread_rates.get(i).and_then(|r| r.wait_percent),
                    run_delay_seconds: t.waits.run.map(|r| r.delay_ns as f64 / NS_PER_SEC),
                    run_waits: t.waits.run.map(|r| r.count),
                })
                .collect()
        }),
    }
}

/// One refresh as a single line of JSON (no trailing newline), written to `out` as it
/// is produced (no copy of the whole refresh in memory), with the
/// processes `rows`, in that order. `rollups`, when asked for, holds each
/// row's smaps_rollup figures (None: unreadable); without it pss_bytes and
/// uss_bytes are null.
pub fn write(
    out: &mut impl Write,
    model: &Model,
    rows: &[&ProcessView],
    with_threads: bool,
    rollups: Option<&[Option<SmapsRollup>]>,
) -> io::Result<()> {
    let s = &model.system;
    let refresh = Refresh {
        time: model.unix_time,
        backend: model.backend.name(),
        fallback_reason: model.fallback_reason.clone(),
        network: Network::from(&model.network),
        gpu_sources: GpuSources::from(&model.gpu_status),
        gpus: model.gpus.iter().map(Gpu::from).collect(),
        stalls_off_reason: model.stalls_off,
        system: System {
            cpus: s.cpus,
            cpu_percent: s.cpu_percent,
            per_cpu_percent: s.per_cpu_percent.clone(),
            mem_total_bytes: s.mem_total_bytes,
            mem_used_bytes: s.mem_used_bytes,
            mem_available_bytes: s.mem_available_bytes,
            mem_buffers_bytes: s.mem_buffers_bytes,
            mem_cache_bytes: s.mem_cache_bytes,
            swap_total_bytes: s.swap_total_bytes,
            swap_used_bytes: s.swap_used_bytes,
            zswap_bytes: s.zswap_bytes,
            zswapped_bytes: s.zswapped_bytes,
            zram: s.zram.as_ref().map(Zram::from),
            load: s.load,
            uptime_seconds: s.uptime_seconds,
            tasks: s.tasks,
            threads: s.threads,
            kernel_threads: s.kernel_threads,
            running: s.running,
            pressure_some_avg10: Pressure {
                cpu: s.pressure.cpu,
                memory: s.pressure.memory,
                io: s.pressure.io,
            },
            net_rx_rate: s.net_rx_rate,
            net_tx_rate: s.net_tx_rate,
        },
        processes: Processes {
            rows,
            with_threads,
            gpu_on: model.gpu_status.any_on(),
            starts_counted: model.exits.interval_ns.is_some(),
            rollups,
        },
        units: {
            // The units of the printed processes only (after -p, -u).
            let shown: std::collections::HashSet<&str> = rows
                .iter()
                .filter_map(|p| p.cgroup.as_ref()?.unit.as_ref().map(|u| &*u.path))
                .collect();
            model
                .units
                .iter()
                .filter(|u| shown.contains(&*u.path))
                .map(unit)
                .collect()
        },
        exits: super::exited::exits_json(&model.exits),
        exited: super::exited::exited_json(&model.exits),
    };
    write_terminal_safe_json(out, &refresh)
}

/// JSON in which every character that must not reach a terminal raw (see
/// [`is_unsafe`](crate::present::sanitize::is_unsafe): C1 controls, bidi overrides, invisible format
/// characters; serde_json escapes only C0) is written as a `\uXXXX`
/// escape. Lossless: a JSON reader gets the same strings back, while
/// `cat`ting the output cannot drive the terminal.
pub fn write_terminal_safe_json(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    value
        .serialize(&mut serde_json::Serializer::with_formatter(
            out,
            TerminalSafe,
        ))
        .map_err(io::Error::from)
}

struct TerminalSafe;

impl serde_json::ser::Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some((at, c)) = find_unsafe(rest) {
            let (safe, from_unsafe) = rest.split_at(at);
            writer.write_all(safe.as_bytes())?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            rest = from_unsafe.get(c.len_utf8()..).unwrap_or("");
        }
        writer.write_all(rest.as_bytes())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::present::sanitize::is_unsafe;

    #[test]
    fn unsafe_characters_are_escaped_losslessly() {
        let hostile = "a\x1b]2;t\x07b\u{9b}2J\u{85}c\u{202e}d\u{200d}e\u{e0067}f\u{e9}";
        let mut out = Vec::new();
        write_terminal_safe_json(&mut out, &vec![hostile]).unwrap();
        let json = String::from_utf8(out).unwrap();
        assert!(!json.chars().any(is_unsafe), "{json}");
        assert!(
            json.contains("\\u009b") && json.contains("\\u202e"),
            "{json}"
        );
        // Outside the BMP: a surrogate pair, as JSON requires.
        assert!(json.contains("\\udb40\\udc67"), "{json}");
        // Ordinary non-ASCII text stays as it is.
        assert!(json.contains('\u{e9}'), "{json}");
        let back: Vec<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, vec![hostile.to_owned()]);
    }
}
