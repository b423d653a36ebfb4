//! bpftop's own cgroup limits (a container's) and its use of them, and the
//! system figures scaled to them for meters that respect limits.

use super::system::{CpuSplit, SystemView};
use crate::collect::sample::SystemSample;

/// The limits bpftop runs under and how much of them is used.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OwnLimits {
    /// The CPU limit in CPUs; None without a quota.
    pub cpus: Option<f64>,
    /// CPU used by the whole cgroup over the interval, in % of the limit
    /// (0–100); None without a quota or on the first refresh.
    pub cpu_percent: Option<f64>,
    /// The memory limit; None without one (or one above the machine's).
    pub memory_limit_bytes: Option<u64>,
    pub memory_usage_bytes: Option<u64>,
    pub memory_cache_bytes: Option<u64>,
}

/// The limits of `cur`'s own cgroup, with CPU use since `prev`; None when
/// bpftop runs under no limit.
pub fn own_limits(cur: &SystemSample, prev: Option<&SystemSample>) -> Option<OwnLimits> {
    let own = &cur.own_cgroup;
    if !own.is_limited() {
        return None;
    }
    let cpu_percent = (|| {
        let cpus = own.cpu_limit_cpus.filter(|c| *c > 0.0)?;
        let before = &prev?.own_cgroup;
        let used = own.cpu_usage_ns?.checked_sub(before.cpu_usage_ns?)? as f64;
        let dt = own
            .read_ns
            .checked_sub(before.read_ns)
            .filter(|dt| *dt > 0)? as f64;
        Some((used / dt / cpus * 100.0).clamp(0.0, 100.0))
    })();
    Some(OwnLimits {
        cpus: own.cpu_limit_cpus,
        cpu_percent,
        memory_limit_bytes: own.memory_limit_bytes,
        memory_usage_bytes: own.memory_usage_bytes,
        memory_cache_bytes: own.memory_cache_bytes,
    })
}

/// `system` with the average CPU and the memory meter measured against the
/// limits: CPU as the cgroup's share of its quota (the host's split of busy
/// time kept in proportion), memory as the cgroup's use of its limit. What
/// has no limit stays as the host's. The per-CPU bars stay the host's CPUs.
pub fn within_limits(system: &SystemView, limits: &OwnLimits) -> SystemView {
    let mut s = system.clone();
    if let Some(target) = limits.cpu_percent {
        let busy = s.cpu_split.busy();
        let split = &mut s.cpu_split;
        if busy > 0.0 {
            let f = target / busy;
            for part in [
                &mut split.user,
                &mut split.nice,
                &mut split.system,
                &mut split.irq,
                &mut split.softirq,
                &mut split.steal,
                &mut split.guest,
            ] {
                *part *= f;
            }
        } else {
            *split = CpuSplit {
                user: target,
                ..CpuSplit::default()
            };
        }
        split.iowait = 0.0;
        s.cpu_percent = target;
    }
    if let (Some(limit), Some(usage)) = (limits.memory_limit_bytes, limits.memory_usage_bytes) {
        let usage = usage.min(limit);
        let cache = limits.memory_cache_bytes.unwrap_or(0).min(usage);
        s.mem_total_bytes = limit;
        s.mem_used_bytes = usage - cache;
        s.mem_cache_bytes = cache;
        s.mem_buffers_bytes = 0;
        s.mem_available_bytes = limit - (usage - cache);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::sample::OwnCgroup;

    fn sample(usage_ms: u64, read_ms: u64) -> SystemSample {
        SystemSample {
            own_cgroup: OwnCgroup {
                cpu_limit_cpus: Some(0.5),
                cpu_usage_ns: Some(usage_ms * 1_000_000),
                memory_limit_bytes: Some(1 << 30),
                memory_usage_bytes: Some(600 << 20),
                memory_cache_bytes: Some(100 << 20),
                read_ns: read_ms * 1_000_000,
            },
            ..Default::default()
        }
    }

    #[test]
    fn cpu_is_a_share_of_the_quota_and_memory_of_the_limit() {
        // 250 ms of CPU in 1 s under a quota of half a CPU: 50 %.
        let limits = own_limits(&sample(1250, 2000), Some(&sample(1000, 1000))).unwrap();
        assert_eq!(limits.cpu_percent, Some(50.0));
        let host = SystemView {
            cpu_split: CpuSplit {
                user: 10.0,
                system: 10.0,
                iowait: 5.0,
                ..CpuSplit::default()
            },
            cpu_percent: 20.0,
            mem_total_bytes: 16 << 30,
            mem_used_bytes: 8 << 30,
            ..SystemView::default()
        };
        let scaled = within_limits(&host, &limits);
        assert_eq!(scaled.cpu_percent, 50.0);
        assert_eq!(
            (scaled.cpu_split.user, scaled.cpu_split.system),
            (25.0, 25.0)
        );
        assert_eq!(scaled.mem_total_bytes, 1 << 30);
        assert_eq!(scaled.mem_used_bytes, 500 << 20);
        assert_eq!(scaled.mem_cache_bytes, 100 << 20);
        // No limit: nothing to scale to.
        assert_eq!(own_limits(&SystemSample::default(), None), None);
    }
}
