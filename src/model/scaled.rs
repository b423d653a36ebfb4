//! The system figures scaled to bpftop's own cgroup limits, for meters
//! that respect limits.

use super::limits::OwnLimits;
use super::system::{CpuSplit, SystemView};

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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::collect::sample::{OwnCgroup, SystemSample};
    use crate::model::limits::own_limits;

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
