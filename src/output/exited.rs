//! The JSON of processes that exited during a refresh's interval: the
//! capture's state, each exit, and their CPU per unit and per container.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::collect::sample::{ExitCapture, ExitStatus};
use crate::model::{ExitedView, ExitsView};

const NS_PER_SEC: f64 = 1e9;

/// Whether exits are captured, what was lost, and what they used.
#[derive(Serialize)]
pub struct ExitsJson {
    enabled: bool,
    hook: Option<&'static str>,
    oom_marked: bool,
    /// CPU times are final (taken when each process is freed).
    final_cpu: bool,
    reason: Option<String>,
    /// Exits lost (ring buffer full) in this interval and since start.
    dropped: u64,
    dropped_total: u64,
    /// Final CPU times lost the same way since start.
    dropped_final_total: u64,
    /// CPU of processes that exited in the interval beyond their rows
    /// (100 = one full core): what the rows' cpu_percent leave out.
    cpu_percent: f64,
    by_unit: BTreeMap<String, GroupJson>,
    by_container: BTreeMap<String, GroupJson>,
    /// Processes listed by an earlier refresh whose final CPU came in this
    /// interval.
    late: Vec<LateJson>,
}

/// What a process listed earlier used beyond what was counted then.
#[derive(Serialize)]
pub struct LateJson {
    pid: u32,
    ppid: u32,
    start_time_seconds: f64,
    cpu_time_seconds: f64,
    interval_cpu_seconds: f64,
}

/// The exits of one unit or container in the interval.
#[derive(Serialize, Default)]
pub struct GroupJson {
    exits: u64,
    nonzero_exits: u64,
    oom_kills: u64,
    cpu_percent: f64,
}

#[derive(Serialize)]
pub struct ExitedJson {
    pid: u32,
    ppid: u32,
    uid: u32,
    user: String,
    comm: String,
    cmdline: Vec<String>,
    start_time_seconds: f64,
    exit_time_seconds: f64,
    lifetime_seconds: f64,
    cpu_time_seconds: f64,
    user_time_seconds: f64,
    system_time_seconds: f64,
    interval_cpu_seconds: f64,
    peak_rss_bytes: u64,
    minflt: u64,
    majflt: u64,
    rchar: u64,
    wchar: u64,
    io_read_bytes: u64,
    io_write_bytes: u64,
    net_rx_bytes: Option<u64>,
    net_tx_bytes: Option<u64>,
    cgroup: Option<String>,
    unit: Option<String>,
    container: Option<String>,
    exit_code: Option<u8>,
    signal: Option<u8>,
    core_dumped: bool,
    oom_killed: bool,
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn exited(v: &ExitedView) -> ExitedJson {
    let p = &v.process;
    let (exit_code, signal, core_dumped) = match p.status {
        ExitStatus::Code(c) => (Some(c), None, false),
        ExitStatus::Signal {
            signal,
            core_dumped,
        } => (None, Some(signal), core_dumped),
    };
    let seconds = |ns: u64| ns as f64 / NS_PER_SEC;
    ExitedJson {
        pid: p.pid,
        ppid: p.ppid,
        uid: p.uid,
        user: v.user.to_string(),
        comm: lossy(&p.comm),
        cmdline: p.cmdline.iter().map(|a| lossy(a)).collect(),
        start_time_seconds: seconds(p.start_time_ns),
        exit_time_seconds: seconds(p.exit_time_ns),
        lifetime_seconds: seconds(p.exit_time_ns.saturating_sub(p.start_time_ns)),
        cpu_time_seconds: seconds(p.cpu_time_ns()),
        user_time_seconds: seconds(p.utime_ns),
        system_time_seconds: seconds(p.stime_ns),
        interval_cpu_seconds: seconds(v.interval_cpu_ns),
        peak_rss_bytes: p.peak_rss_bytes,
        minflt: p.minflt,
        majflt: p.majflt,
        rchar: p.io.rchar,
        wchar: p.io.wchar,
        io_read_bytes: p.io.read_bytes,
        io_write_bytes: p.io.write_bytes,
        net_rx_bytes: p.net.map(|n| n.0),
        net_tx_bytes: p.net.map(|n| n.1),
        cgroup: p.cgroup.as_deref().map(str::to_owned),
        unit: v.cgroup.as_ref().and_then(|c| c.info.unit.unit.clone()),
        container: v
            .cgroup
            .as_ref()
            .and_then(|c| c.info.container_label.clone()),
        exit_code,
        signal,
        core_dumped,
        oom_killed: p.oom_killed,
    }
}

/// The capture's state and totals, with `interval_ns` the refresh's
/// interval (None on the first refresh).
pub fn exits_json(e: &ExitsView) -> ExitsJson {
    let (enabled, hook, oom_marked, final_cpu, reason) = match &e.capture {
        ExitCapture::On {
            hook,
            oom,
            final_cpu,
        } => (true, Some(hook_name(*hook)), *oom, *final_cpu, None),
        ExitCapture::Off { reason } => (false, None, false, false, Some(reason.clone())),
    };
    let mut by_unit: BTreeMap<String, GroupJson> = BTreeMap::new();
    let mut by_container: BTreeMap<String, GroupJson> = BTreeMap::new();
    // The interval's CPU share of a process, in the units of cpu_percent.
    let total_ns: u64 = e.processes.iter().map(|v| v.interval_cpu_ns).sum::<u64>()
        + e.late.iter().map(|l| l.interval_cpu_ns).sum::<u64>();
    let share = |ns: u64| {
        if total_ns == 0 {
            0.0
        } else {
            e.cpu_percent * ns as f64 / total_ns as f64
        }
    };
    for v in &e.processes {
        let Some(facts) = &v.cgroup else { continue };
        let add = |g: &mut GroupJson| {
            g.exits += 1;
            g.nonzero_exits += u64::from(v.process.status.failed());
            g.oom_kills += u64::from(v.process.oom_killed);
            g.cpu_percent += share(v.interval_cpu_ns);
        };
        if let Some(unit) = &facts.info.unit.unit {
            add(by_unit.entry(unit.clone()).or_default());
        }
        if let Some(container) = &facts.info.container_label {
            add(by_container.entry(container.clone()).or_default());
        }
    }
    for l in &e.late {
        let Some(facts) = &l.cgroup else { continue };
        let add = |g: &mut GroupJson| g.cpu_percent += share(l.interval_cpu_ns);
        if let Some(unit) = &facts.info.unit.unit {
            add(by_unit.entry(unit.clone()).or_default());
        }
        if let Some(container) = &facts.info.container_label {
            add(by_container.entry(container.clone()).or_default());
        }
    }
    let seconds = |ns: u64| ns as f64 / NS_PER_SEC;
    let late = e
        .late
        .iter()
        .map(|l| LateJson {
            pid: l.late.pid,
            ppid: l.late.ppid,
            start_time_seconds: seconds(l.late.start_time_ns),
            cpu_time_seconds: seconds(l.late.cpu_time_ns()),
            interval_cpu_seconds: seconds(l.interval_cpu_ns),
        })
        .collect();
    ExitsJson {
        enabled,
        hook,
        oom_marked,
        final_cpu,
        reason,
        dropped: e.dropped,
        dropped_total: e.dropped_total,
        dropped_final_total: e.finals_dropped,
        cpu_percent: e.cpu_percent,
        by_unit,
        by_container,
        late,
    }
}

fn hook_name(hook: crate::collect::sample::ExitHook) -> &'static str {
    use crate::collect::sample::ExitHook;
    match hook {
        ExitHook::GroupDead => "group_dead",
        ExitHook::LastLive => "last_live",
        ExitHook::RawTracepoint => "raw_tracepoint",
    }
}

/// Every process that exited in the interval, in exit order.
pub fn exited_json(e: &ExitsView) -> Vec<ExitedJson> {
    e.processes.iter().map(exited).collect()
}
