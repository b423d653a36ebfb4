//! What a unit's or container's own cgroup says about it in one refresh:
//! pressure, limits, throttling and memory events (plain data; the reader
//! is `collect::cgroup_stats`).

use std::sync::Arc;

/// A memory limit as cgroup v2 writes it: "max" or a number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Limit {
    Unlimited,
    Bytes(u64),
}

impl Limit {
    pub fn bytes(self) -> Option<u64> {
        match self {
            Limit::Unlimited => None,
            Limit::Bytes(b) => Some(b),
        }
    }
}

/// `cpu.max`: a quota per period, both in microseconds; no quota is "max".
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CpuMax {
    pub quota_usec: Option<u64>,
    pub period_usec: u64,
}

impl CpuMax {
    /// The limit in CPUs (0.2 for "20000 100000"); None without a quota.
    pub fn cpus(self) -> Option<f64> {
        let quota = self.quota_usec?;
        (self.period_usec > 0).then(|| quota as f64 / self.period_usec as f64)
    }
}

/// One cgroup's files as of one refresh. Every field is None where its file
/// is absent: the controller is not enabled for the cgroup on cgroup v2
/// (see `unavailable`), or the kernel has no PSI.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UnitCgroupStats {
    /// "some avg10" of cpu.pressure, memory.pressure, io.pressure (%).
    pub cpu_some_avg10: Option<f64>,
    pub memory_some_avg10: Option<f64>,
    pub io_some_avg10: Option<f64>,
    /// cpu.stat: CPU time of the whole cgroup, µs (no controller needed).
    pub usage_usec: Option<u64>,
    /// cpu.stat: throttling (cpu controller only).
    pub nr_throttled: Option<u64>,
    pub throttled_usec: Option<u64>,
    pub cpu_max: Option<CpuMax>,
    pub memory_max: Option<Limit>,
    pub memory_high: Option<Limit>,
    /// memory.events: "oom_kill" and "high" counters (memory controller).
    pub oom_kills: Option<u64>,
    pub high_events: Option<u64>,
    /// Why limits, throttling or memory events are missing, when a
    /// controller is not on cgroup v2 for this cgroup (e.g. "cpu and memory
    /// controllers are on cgroup v1").
    pub unavailable: Option<Arc<str>>,
    /// CLOCK_BOOTTIME when the files were read, ns: what their rates
    /// divide by (a refresh reads them well after its walk began).
    pub read_ns: u64,
}

/// The cgroup that holds a unit or container (the path up to its own
/// component) and its files' values.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UnitCgroup {
    /// "/system.slice/nginx.service", as in /proc/PID/cgroup.
    pub path: Arc<str>,
    pub stats: Arc<UnitCgroupStats>,
}
