//! System-wide figures derived from samples.

use crate::collect::sample::{CpuTimes, Pressure, Sample, ZramStats};

/// Busy share of a CPU between two /proc/stat readings, in percent
/// (0 when nothing elapsed). Idle and iowait are idle time; guest time is
/// already inside user and nice, so it is not added again.
pub fn cpu_busy_percent(cur: &CpuTimes, prev: &CpuTimes) -> f64 {
    let total =
        |c: &CpuTimes| c.user + c.nice + c.system + c.idle + c.iowait + c.irq + c.softirq + c.steal;
    let idle = |c: &CpuTimes| c.idle + c.iowait;
    let d_total = total(cur).saturating_sub(total(prev));
    let d_idle = idle(cur).saturating_sub(idle(prev));
    if d_total == 0 {
        return 0.0;
    }
    d_total.saturating_sub(d_idle) as f64 * 100.0 / d_total as f64
}

#[derive(Debug, Clone, Default)]
pub struct SystemView {
    pub cpus: usize,
    /// Average busy share over all CPUs, 0–100.
    pub cpu_percent: f64,
    /// Busy share of each CPU, 0–100, in /proc/stat order.
    pub per_cpu_percent: Vec<f64>,
    pub mem_total_bytes: u64,
    /// htop's "used": total − free − buffers − (cached + SReclaimable − Shmem).
    pub mem_used_bytes: u64,
    pub mem_available_bytes: u64,
    pub mem_buffers_bytes: u64,
    /// Page cache as htop counts it: Cached + SReclaimable − Shmem.
    pub mem_cache_bytes: u64,
    pub mem_shmem_bytes: u64,
    pub swap_total_bytes: u64,
    /// SwapTotal − SwapFree, as free(1) shows it.
    pub swap_used_bytes: u64,
    pub swap_cached_bytes: u64,
    pub zswap_bytes: Option<u64>,
    pub zswapped_bytes: Option<u64>,
    pub zram: Option<ZramStats>,
    pub load: [f64; 3],
    pub uptime_seconds: f64,
    /// User processes (kernel threads excluded).
    pub tasks: u64,
    /// Threads of user processes.
    pub threads: u64,
    pub kernel_threads: u64,
    /// Threads in state R.
    pub running: u64,
    pub pressure: Pressure,
}

impl SystemView {
    pub fn new(cur: &Sample, prev: Option<&Sample>) -> SystemView {
        let s = &cur.system;
        let m = &s.mem;
        let (cpu_percent, per_cpu_percent) = match prev {
            Some(p) => (
                cpu_busy_percent(&s.cpu_total, &p.system.cpu_total),
                s.cpus
                    .iter()
                    .map(|(id, c)| {
                        p.system
                            .cpus
                            .iter()
                            .find(|(pid, _)| pid == id)
                            .map(|(_, pc)| cpu_busy_percent(c, pc))
                            .unwrap_or(0.0)
                    })
                    .collect(),
            ),
            None => (0.0, vec![0.0; s.cpus.len()]),
        };
        let cache = (m.cached + m.sreclaimable).saturating_sub(m.shmem);
        let used = m
            .total
            .saturating_sub(m.free)
            .saturating_sub(m.buffers)
            .saturating_sub(cache);
        let tasks = cur.processes.iter().filter(|p| !p.kernel_thread).count() as u64;
        SystemView {
            cpus: s.cpus.len(),
            cpu_percent,
            per_cpu_percent,
            mem_total_bytes: m.total,
            mem_used_bytes: used,
            mem_available_bytes: m.available,
            mem_buffers_bytes: m.buffers,
            mem_cache_bytes: cache,
            mem_shmem_bytes: m.shmem,
            swap_total_bytes: m.swap_total,
            swap_used_bytes: m.swap_total.saturating_sub(m.swap_free),
            swap_cached_bytes: m.swap_cached,
            zswap_bytes: m.zswap,
            zswapped_bytes: m.zswapped,
            zram: s.zram,
            load: s.load,
            uptime_seconds: s.uptime_seconds,
            tasks,
            threads: cur.user_threads,
            kernel_threads: cur.kernel_threads,
            running: cur.running_threads,
            pressure: s.pressure,
        }
    }
}
