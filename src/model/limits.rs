//! bpftop's own cgroup limits (a container's) and its use of them.

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
