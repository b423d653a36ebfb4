//! `bpftop --check`: what works on this kernel, and why not.

use std::fmt::Write;
use std::fs;

use crate::collect::bpf::drm_fds::BpfDrmScan;
use crate::collect::bpf::{BpfCollector, WalkKind};
use crate::collect::cgroups::Hierarchy;
use crate::collect::sample::BackendKind;
use crate::collect::sampler::open_gpu;
use crate::collect::{CollectOptions, Collector};
use crate::privileges::{self, Mode};

/// Capabilities that matter to bpftop, with what each one enables.
const CAPABILITIES: &[(u32, &str, &str)] = &[
    (39, "cap_bpf", "load BPF programs"),
    (
        38,
        "cap_perfmon",
        "tracing programs and reading kernel memory",
    ),
    (21, "cap_sys_admin", "BPF on kernels before 5.8"),
    (
        19,
        "cap_sys_ptrace",
        "read /proc/PID/io, fdinfo and smaps_rollup of other users",
    ),
    (1, "cap_dac_override", "write cgroup files (freeze/thaw)"),
    (5, "cap_kill", "signal other users' processes"),
    (23, "cap_sys_nice", "lower the nice value of processes"),
];

fn kernel_release() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The CapEff mask from a /proc/PID/status text.
pub fn effective_caps(status: &str) -> Option<u64> {
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

/// The report, as lines of text.
pub fn report(options: &CollectOptions) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "kernel:          {}", kernel_release());
    let btf = options.sys_root.join("kernel/btf/vmlinux");
    let _ = writeln!(
        out,
        "BTF:             {}",
        if btf.exists() {
            format!("yes ({})", btf.display())
        } else {
            format!("no ({} missing; CO-RE programs cannot load)", btf.display())
        }
    );
    let status = fs::read_to_string(options.proc_root.join("self/status")).unwrap_or_default();
    let caps = effective_caps(&status).unwrap_or(0);
    let _ = writeln!(out, "capabilities:    CapEff={caps:016x}");
    for (bit, name, what) in CAPABILITIES {
        let have = if caps & (1u64 << bit) != 0 {
            "yes"
        } else {
            "no "
        };
        let _ = writeln!(out, "  {name:<17}{have}  {what}");
    }
    let cgroups = match Hierarchy::find(&options.proc_root) {
        Some(Hierarchy::V2(mount)) => format!("cgroup v2 at {}", mount.display()),
        Some(Hierarchy::V1Systemd(mount)) => format!(
            "no cgroup v2 mount: units, slices and containers from systemd's v1 hierarchy at {} \
             (no unit pressure or limits; freezing a unit needs cgroup v2)",
            mount.display()
        ),
        None => "neither cgroup v2 nor systemd's v1 hierarchy is mounted: \
                 no CGROUP paths, units, containers or freeze"
            .to_owned(),
    };
    let _ = writeln!(out, "cgroups:         {cgroups}");
    let _ = writeln!(out, "programs:");
    let bpf = BpfCollector::open(options);
    let bpf_loads = bpf.is_ok();
    match bpf {
        Ok(mut c) => {
            let _ = writeln!(out, "  task walk       {}", c.walk_kind().describe());
            let init = match c.collect() {
                Ok(_) if c.init_from_proc() => {
                    "read from /proc (the task walk does not visit it on this kernel)"
                }
                Ok(_) => "in the task walk",
                Err(_) => "unknown (the first refresh failed)",
            };
            let _ = writeln!(out, "  PID 1           {init}");
            // The walk's length at this machine's task count: the open-coded
            // one is a single RCU read-side section (and runs without a
            // chance to reschedule), iter/task takes the lock per task.
            let timed = match c.timed_walk() {
                Ok((tasks, took)) => format!(
                    "{tasks} tasks in {:.1} ms{}",
                    took.as_secs_f64() * 1000.0,
                    match c.walk_kind() {
                        WalkKind::OpenCoded => ", one RCU read-side section",
                        WalkKind::TaskIterator => "",
                    }
                ),
                Err(e) => format!("fails: {e:#}"),
            };
            let _ = writeln!(out, "  one walk        {timed}");
            let _ = writeln!(
                out,
                "  RSS             {}",
                if c.precise_rss() {
                    "exact (per-CPU counter parts summed)"
                } else {
                    "approximate (per-CPU counter parts not readable)"
                }
            );
            let network = match c.network() {
                Ok(n) => format!(
                    "{} ({})",
                    n.hooks.describe(),
                    if n.all_families {
                        "every socket family"
                    } else {
                        "IPv4 and IPv6 sockets"
                    }
                ),
                Err(reason) => format!("off: {reason}"),
            };
            let _ = writeln!(out, "  network         {network}");
            let exits = match c.exit_capture() {
                Ok(x) => format!(
                    "{}, argv at exec{}{}",
                    x.hook.describe(),
                    if x.oom {
                        ", OOM kills marked"
                    } else {
                        "; OOM kills not marked"
                    },
                    match (&x.finals, &x.finals_off) {
                        (true, _) => ", final CPU at sched_process_free".to_owned(),
                        (false, Some(why)) => format!(
                            "; CPU as at the exit hook, short processes under-counted \
                             (sched_process_free does not load: {why})"
                        ),
                        (false, None) => "; CPU as at the exit hook".to_owned(),
                    }
                ),
                Err(reason) => format!("off: {reason}"),
            };
            let _ = writeln!(out, "  exits           {exits}");
            let argv = match c.argv_walk() {
                Ok(()) => "iter.s/task reads them all for the first refresh".to_owned(),
                Err(reason) => format!("from /proc at the first refresh: {reason}"),
            };
            let _ = writeln!(out, "  command lines   {argv}");
            let drm_scan = match BpfDrmScan::open() {
                Ok(_) => "loads (finds DRM files for GPU usage)".to_owned(),
                Err(e) => format!("fails: {e:#} (GPU clients are found through /proc)"),
            };
            let _ = writeln!(out, "  iter/task_file  {drm_scan}");
            let _ = writeln!(out, "backend (auto):  bpf");
        }
        Err(e) => {
            let reason = format!("{e:#}").replace('\n', "\n                  ");
            let _ = writeln!(out, "  task walk       fails: {reason}");
            let _ = writeln!(out, "  network         off: needs the bpf backend");
            let _ = writeln!(out, "  exits           off: needs the bpf backend");
            let _ = writeln!(out, "  command lines   from /proc: needs the bpf backend");
            let _ = writeln!(
                out,
                "backend (auto):  procfs, because the task iterator does not load"
            );
        }
    }
    let backend = if bpf_loads {
        BackendKind::Bpf
    } else {
        BackendKind::Procfs
    };
    let gpu = open_gpu(options, backend);
    let state = |r: &Result<String, String>| match r {
        Ok(what) => what.clone(),
        Err(why) => format!("off: {why}"),
    };
    let _ = writeln!(out, "gpu:");
    let _ = writeln!(out, "  NVML            {}", state(&gpu.status().nvml));
    let _ = writeln!(out, "  DRM fdinfo      {}", state(&gpu.status().drm));
    // What `drop_after_load` would leave, from what this process holds now
    // (nothing is dropped here).
    let procfs = !bpf_loads;
    let keeps = |mode| privileges::describe(&privileges::would_keep(mode, options.gpu, procfs));
    let _ = writeln!(out, "after loading keeps:");
    let _ = writeln!(out, "  interactive     {}", keeps(Mode::Interactive));
    let _ = writeln!(out, "  batch, serve    {}", keeps(Mode::Batch));
    if !procfs {
        let held = privileges::describe(&privileges::reload_caps(&privileges::held()));
        let _ = writeln!(
            out,
            "  permitted only  {held} (raised to grow the records map)"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capeff_is_parsed() {
        let status = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert_eq!(effective_caps(status), Some(0x1ff_ffff_ffff));
        assert_eq!(effective_caps("CapEff:\tzz\n"), None);
        assert_eq!(effective_caps(""), None);
    }
}
