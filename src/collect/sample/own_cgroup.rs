//! The limits of the cgroup bpftop itself runs in (a container's), and its
//! use of them, for meters scaled to the limits (plain data; the reader is
//! `collect::own_cgroup`).

/// bpftop's own cgroup as of one refresh. None fields: no limit set, or
/// not readable (no cgroup of that kind).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OwnCgroup {
    /// cpu.max (v2) or cfs_quota_us / cfs_period_us (v1), in CPUs.
    pub cpu_limit_cpus: Option<f64>,
    /// CPU time of the whole cgroup, ns (cpu.stat usage_usec, or
    /// cpuacct.usage on v1).
    pub cpu_usage_ns: Option<u64>,
    /// memory.max (v2) or memory.limit_in_bytes (v1), when below the
    /// machine's memory.
    pub memory_limit_bytes: Option<u64>,
    /// memory.current (v2) or memory.usage_in_bytes (v1).
    pub memory_usage_bytes: Option<u64>,
    /// The page cache part of it (memory.stat file / total_cache).
    pub memory_cache_bytes: Option<u64>,
    /// CLOCK_BOOTTIME when read, ns.
    pub read_ns: u64,
}

impl OwnCgroup {
    pub fn is_limited(&self) -> bool {
        self.cpu_limit_cpus.is_some() || self.memory_limit_bytes.is_some()
    }
}
