//! System-wide figures derived from samples.

use crate::collect::sample::{CpuTimes, NetDevTotals, Pressure, Sample, SystemSample, ZramStats};

/// Where a CPU's time went over an interval, in percent of that interval.
/// `user` and `nice` exclude guest time, which is shown on its own (as htop
/// does); the parts plus idle and iowait add up to 100.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuSplit {
    pub user: f64,
    pub nice: f64,
    pub system: f64,
    pub irq: f64,
    pub softirq: f64,
    pub iowait: f64,
    pub steal: f64,
    pub guest: f64,
}

impl CpuSplit {
    pub fn between(cur: &CpuTimes, prev: &CpuTimes) -> CpuSplit {
        let d = |a: u64, b: u64| a.saturating_sub(b) as f64;
        let total = |c: &CpuTimes| {
            c.user + c.nice + c.system + c.idle + c.iowait + c.irq + c.softirq + c.steal
        };
        let d_total = d(total(cur), total(prev));
        if d_total == 0.0 {
            return CpuSplit::default();
        }
        let pct = |v: f64| v * 100.0 / d_total;
        let guest = d(cur.guest, prev.guest);
        let guest_nice = d(cur.guest_nice, prev.guest_nice);
        CpuSplit {
            user: pct((d(cur.user, prev.user) - guest).max(0.0)),
            nice: pct((d(cur.nice, prev.nice) - guest_nice).max(0.0)),
            system: pct(d(cur.system, prev.system)),
            irq: pct(d(cur.irq, prev.irq)),
            softirq: pct(d(cur.softirq, prev.softirq)),
            iowait: pct(d(cur.iowait, prev.iowait)),
            steal: pct(d(cur.steal, prev.steal)),
            guest: pct(guest + guest_nice),
        }
    }

    /// Busy share: everything but idle and iowait (htop's CPU%).
    pub fn busy(&self) -> f64 {
        self.user + self.nice + self.system + self.irq + self.softirq + self.steal + self.guest
    }
}

#[derive(Debug, Clone, Default)]
pub struct SystemView {
    pub cpus: usize,
    /// Average busy share over all CPUs, 0–100.
    pub cpu_percent: f64,
    /// Busy share of each CPU, 0–100, in /proc/stat order.
    pub per_cpu_percent: Vec<f64>,
    /// Split of all CPUs' time over the interval.
    pub cpu_split: CpuSplit,
    /// (CPU number, split) for each online CPU, in /proc/stat order.
    pub per_cpu_split: Vec<(u32, CpuSplit)>,
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
    /// Swap lives (at least partly) on zram: the swap meter then shows the
    /// compression ratio.
    pub swap_on_zram: bool,
    pub load: [f64; 3],
    pub uptime_seconds: f64,
    /// User processes (kernel threads excluded).
    pub tasks: u64,
    /// The other threads of user processes: every thread but each
    /// process's main thread (htop's "thr").
    pub threads: u64,
    pub kernel_threads: u64,
    /// Threads in state R, at most one per CPU (htop's "running": more
    /// than that are waiting for a CPU, not running).
    pub running: u64,
    pub pressure: Pressure,
    /// Bytes per second through the host's real interfaces (see
    /// collect::netdev); None on the first refresh or without /proc/net/dev.
    pub net_rx_rate: Option<f64>,
    pub net_tx_rate: Option<f64>,
    /// bpftop's own cgroup limits and their use; None when unlimited.
    pub own_limits: Option<super::limits::OwnLimits>,
}

impl SystemView {
    /// `prev`: the previous refresh's system sample and its time (ns).
    pub fn new(cur: &Sample, prev: Option<(&SystemSample, u64)>) -> SystemView {
        let s = &cur.system;
        let m = &s.mem;
        let cpu_split = prev
            .map(|(p, _)| CpuSplit::between(&s.cpu_total, &p.cpu_total))
            .unwrap_or_default();
        let per_cpu_split = s
            .cpus
            .iter()
            .map(|(id, c)| {
                let split = prev
                    .and_then(|(p, _)| p.cpus.iter().find(|(pid, _)| pid == id))
                    .map(|(_, pc)| CpuSplit::between(c, pc))
                    .unwrap_or_default();
                (*id, split)
            })
            .collect::<Vec<_>>();
        let cpu_percent = cpu_split.busy();
        let per_cpu_percent = per_cpu_split.iter().map(|(_, c)| c.busy()).collect();
        let cache = (m.cached + m.sreclaimable).saturating_sub(m.shmem);
        let used = m
            .total
            .saturating_sub(m.free)
            .saturating_sub(m.buffers)
            .saturating_sub(cache);
        let tasks = cur.processes.iter().filter(|p| !p.kernel_thread).count() as u64;
        let net_rate = |pick: fn(&NetDevTotals) -> u64| {
            let (prev, prev_ns) = prev?;
            let dt = cur.boottime_ns.checked_sub(prev_ns)?;
            let (now, before) = (s.net_dev?, prev.net_dev?);
            // A counter that went backwards (an interface removed) has no rate.
            let delta = pick(&now).checked_sub(pick(&before))?;
            (dt > 0).then(|| delta as f64 * 1e9 / dt as f64)
        };
        SystemView {
            cpus: s.cpus.len(),
            cpu_percent,
            per_cpu_percent,
            cpu_split,
            per_cpu_split,
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
            swap_on_zram: s.swap_on_zram,
            load: s.load,
            uptime_seconds: s.uptime_seconds,
            tasks,
            threads: cur.user_threads.saturating_sub(tasks),
            kernel_threads: cur.kernel_threads,
            running: cur.running_threads.min(s.cpus.len().max(1) as u64),
            pressure: s.pressure,
            net_rx_rate: net_rate(|t| t.rx_bytes),
            net_tx_rate: net_rate(|t| t.tx_bytes),
            own_limits: super::limits::own_limits(s, prev.map(|(p, _)| p)),
        }
    }
}
