//! The raw sample: what one refresh of a collector yields. Cumulative kernel
//! counters exactly as the kernel keeps them (no rates, no formatting), so
//! that every backend produces the same type and the model can derive rates
//! from two samples.

use std::collections::HashMap;
use std::sync::Arc;

use super::gpu::GpuSnapshot;

pub mod cgroup;
pub mod exited;
pub mod gpu;
pub mod ioprio;
pub mod own_cgroup;
pub mod unit_stats;
pub mod waits;

pub use cgroup::{CgroupFacts, CgroupInfo};
pub use exited::{ExecEvent, ExitCapture, ExitHook, ExitStatus, ExitedProcess, Exits, LateExitCpu};
pub use gpu::GpuStatus;
pub use own_cgroup::OwnCgroup;
pub use unit_stats::{CpuMax, Limit, UnitCgroup, UnitCgroupStats};
pub use waits::{RunQueue, Stalls, Waits};

use serde::Serialize;

/// Which backend produced a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Bpf,
    Procfs,
}

impl BackendKind {
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Bpf => "bpf",
            BackendKind::Procfs => "procfs",
        }
    }

    /// How the interface names it.
    pub fn label(self) -> &'static str {
        match self {
            BackendKind::Bpf => "eBPF",
            BackendKind::Procfs => "procfs",
        }
    }
}

/// I/O accounting as /proc/PID/io reports it, summed over all threads,
/// including exited ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Hash, Eq, Serialize, serde::Deserialize)]
pub struct IoCounters {
    pub rchar: u64,
    pub wchar: u64,
    pub read_bytes: u64,
    pub write_bytes: u64,
}

/// Socket bytes of one process, counted in eBPF since bpftop attached its
/// counters (not since the process started: the kernel keeps no such total).
#[derive(Debug, Clone, Default, PartialEq, Hash, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetCounters {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    /// Interface of the process's last send over a routed (connected)
    /// socket, as its network namespace names it.
    pub iface: Option<Arc<str>>,
}

/// Where the per-process network counters come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetHooks {
    /// tp_btf/sock_send_length and sock_recv_length (kernel >= 6.3).
    Tracepoints,
    /// fexit on inet_sendmsg/inet_recvmsg and their IPv6 twins.
    Fexit,
    /// kprobe + kretprobe on the same functions.
    Kprobes,
}

impl NetHooks {
    pub fn describe(self) -> &'static str {
        match self {
            NetHooks::Tracepoints => "tracepoints sock_send_length/sock_recv_length",
            NetHooks::Fexit => "fexit on inet_sendmsg/inet_recvmsg and their IPv6 twins",
            NetHooks::Kprobes => "kprobes on inet_sendmsg/inet_recvmsg and their IPv6 twins",
        }
    }
}

/// Whether this sample has per-process network counters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NetworkStatus {
    On {
        hooks: NetHooks,
        /// Every socket family is counted, not only AF_INET/AF_INET6.
        all_families: bool,
    },
    Off {
        reason: String,
    },
}

impl Default for NetworkStatus {
    fn default() -> Self {
        NetworkStatus::Off {
            reason: "not measured by this backend".into(),
        }
    }
}

impl NetworkStatus {
    pub fn is_on(&self) -> bool {
        matches!(self, NetworkStatus::On { .. })
    }
}

/// A process's argv, shared between refreshes.
pub type Argv = Arc<[Vec<u8>]>;

/// A task's name as /proc/PID/stat shows it, raw bytes, stored inline: a
/// refresh builds one per process, and a heap allocation each would cost
/// more than the rest of the process's sample. The kernel's comm is at most
/// 15 bytes; /proc adds a workqueue's name to a kworker's, to at most 63.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Comm {
    /// Zero past `len`, so that the derived equality and hash hold.
    bytes: [u8; Comm::CAPACITY],
    len: u8,
}

impl Comm {
    pub const CAPACITY: usize = 63;

    /// `bytes`, cut at CAPACITY (more than /proc ever shows).
    pub fn new(bytes: &[u8]) -> Comm {
        let len = bytes.len().min(Self::CAPACITY);
        let mut comm = Comm {
            bytes: [0; Self::CAPACITY],
            len: len as u8,
        };
        comm.bytes[..len].copy_from_slice(&bytes[..len]);
        comm
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Stored as its bytes (what a recording holds), read back cut at CAPACITY.
impl Serialize for Comm {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.as_bytes())
    }
}

impl<'de> serde::Deserialize<'de> for Comm {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Bytes;
        impl serde::de::Visitor<'_> for Bytes {
            type Value = Comm;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a task name's bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Comm, E> {
                Ok(Comm::new(bytes))
            }
        }
        deserializer.deserialize_bytes(Bytes)
    }
}

impl Default for Comm {
    fn default() -> Self {
        Comm::new(b"")
    }
}

impl std::ops::Deref for Comm {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<&[u8]> for Comm {
    fn from(bytes: &[u8]) -> Self {
        Comm::new(bytes)
    }
}

impl<const N: usize> From<&[u8; N]> for Comm {
    fn from(bytes: &[u8; N]) -> Self {
        Comm::new(bytes)
    }
}

impl Ord for Comm {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl PartialOrd for Comm {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Debug for Comm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

impl PartialEq<[u8]> for Comm {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

impl PartialEq<&[u8]> for Comm {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_bytes() == *other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for Comm {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.as_bytes() == other.as_slice()
    }
}

impl PartialEq<Vec<u8>> for Comm {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_bytes() == other.as_slice()
    }
}

/// What a process's resident set is made of, and what of it is swapped
/// out, in bytes, as /proc/PID/status shows them: RssAnon, RssFile and
/// RssShmem (which sum to RES) and VmSwap. Zero without an address space
/// (kernel threads).
#[derive(Debug, Clone, Copy, Default, PartialEq, Hash, Eq, Serialize, serde::Deserialize)]
pub struct MemoryParts {
    pub anon_bytes: u64,
    pub file_bytes: u64,
    pub shmem_bytes: u64,
    pub swap_bytes: u64,
}

/// A process's proportional and unique set sizes, bytes, from
/// /proc/PID/smaps_rollup (read on demand only: see `collect::smaps`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Hash, Eq, serde::Serialize, serde::Deserialize,
)]
pub struct SmapsRollup {
    /// Pss: each resident page divided by the number of processes mapping
    /// it.
    pub pss_bytes: u64,
    /// Private_Clean + Private_Dirty: the pages only this process maps,
    /// what its exit would free.
    pub uss_bytes: u64,
}

/// One thread of a process (only collected when thread rows are requested).
#[derive(Debug, Clone, PartialEq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ThreadSample {
    pub tid: u32,
    /// State letter as /proc/TID/stat shows it.
    pub state: char,
    pub comm: Comm,
    pub processor: u32,
    /// Scheduler run time of this thread, ns.
    pub cpu_time_ns: u64,
    /// Run-queue waits and stalls of this thread.
    pub waits: Waits,
}

/// One process (thread group), with /proc's semantics for every field.
/// The default is an empty record (every number 0, no name): a base for
/// samples built field by field, in tests above all.
#[derive(Debug, Clone, Default, PartialEq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ProcessSample {
    pub pid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub euid: u32,
    /// State letter as /proc/PID/stat shows it: R S D T t X Z P I.
    pub state: char,
    /// The task's name as /proc/PID/stat shows it.
    pub comm: Comm,
    /// argv, each argument's bytes exactly as the process holds them. Empty
    /// for kernel threads and zombies, as /proc/PID/cmdline is. Shared, so
    /// that a refresh reuses the argv of processes seen before.
    pub cmdline: Argv,
    pub nice: i32,
    /// /proc/PID/stat's priority field (prio - 100; negative for RT).
    pub priority: i32,
    pub threads: u32,
    /// CPU the thread-group leader last ran on.
    pub processor: u32,
    /// Controlling terminal as /proc/PID/stat's tty_nr (0: none).
    pub tty_nr: u32,
    /// Start time of the process, ns since boot (CLOCK_BOOTTIME).
    pub start_time_ns: u64,
    /// User and system CPU time of all threads, live and exited, ns; split
    /// the way the kernel's cputime_adjust() does, so their sum is the
    /// scheduler's exact run time.
    pub utime_ns: u64,
    pub stime_ns: u64,
    pub rss_bytes: u64,
    pub shared_bytes: u64,
    pub virt_bytes: u64,
    /// The parts of `rss_bytes`, and swap.
    pub memory: MemoryParts,
    /// PSS and USS, only for the processes the sampler was asked to
    /// inspect (`Sampler::inspect`); None for the others and where
    /// smaps_rollup cannot be read.
    pub rollup: Option<Box<SmapsRollup>>,
    pub minflt: u64,
    pub majflt: u64,
    pub nvcsw: u64,
    pub nivcsw: u64,
    /// None when the kernel does not let us read it (procfs backend without
    /// privileges over the process).
    pub io: Option<IoCounters>,
    /// None when the network counters are off (see `Sample::network`).
    pub net: Option<NetCounters>,
    /// Read only for the processes on screen (see `Sampler::watch_on_screen`);
    /// None for the others and where it cannot be read.
    pub io_priority: Option<ioprio::IoPriority>,
    /// cgroup v2 path relative to the cgroup2 mount ("/system.slice/x.service"),
    /// None when it cannot be resolved.
    pub cgroup: Option<Arc<str>>,
    pub kernel_thread: bool,
    /// Thread rows, filled only when requested.
    pub thread_list: Vec<ThreadSample>,
    /// Run-queue waits and stalls of all threads, live and exited, never
    /// going backwards.
    pub waits: Waits,
}

impl ProcessSample {
    /// The identity of a process across samples: a recycled PID has a
    /// different start time, so two processes never share a key.
    pub fn key(&self) -> ProcessKey {
        ProcessKey {
            pid: self.pid,
            start_time_ns: self.start_time_ns,
        }
    }

    pub fn cpu_time_ns(&self) -> u64 {
        self.utime_ns + self.stime_ns
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessKey {
    pub pid: u32,
    pub start_time_ns: u64,
}

/// Time split of one CPU (or all CPUs) from /proc/stat, in USER_HZ ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CpuTimes {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
    /// guest and guest_nice are already included in user and nice.
    pub guest: u64,
    pub guest_nice: u64,
}

/// /proc/meminfo, in bytes. Optional fields are absent on some kernels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemInfo {
    pub total: u64,
    pub free: u64,
    pub available: u64,
    pub buffers: u64,
    pub cached: u64,
    pub shmem: u64,
    pub sreclaimable: u64,
    pub swap_total: u64,
    pub swap_free: u64,
    pub swap_cached: u64,
    pub zswap: Option<u64>,
    pub zswapped: Option<u64>,
}

/// Totals over /sys/block/zram*/mm_stat, bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ZramStats {
    /// Uncompressed size of the data stored.
    pub orig_bytes: u64,
    /// Compressed size of that data.
    pub compr_bytes: u64,
    /// Memory the zram devices actually take, allocator overhead included.
    pub used_bytes: u64,
}

/// PSI "some avg10" percentages from /proc/pressure.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pressure {
    pub cpu: Option<f64>,
    pub memory: Option<f64>,
    pub io: Option<f64>,
}

/// Bytes through the network interfaces of bpftop's network namespace
/// (/proc/net/dev), loopback excluded: traffic that left or entered the host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetDevTotals {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// System-wide state, read from a constant number of files per refresh.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SystemSample {
    pub cpu_total: CpuTimes,
    /// One entry per online CPU, indexed by position in /proc/stat (cpuN).
    pub cpus: Vec<(u32, CpuTimes)>,
    pub mem: MemInfo,
    /// None when no zram device exists.
    pub zram: Option<ZramStats>,
    /// Some active swap device is a zram device (/proc/swaps lists a
    /// /dev/zramN), so swapped-out pages are compressed in memory.
    pub swap_on_zram: bool,
    pub load: [f64; 3],
    pub uptime_seconds: f64,
    pub pressure: Pressure,
    /// None when /proc/net/dev cannot be read.
    pub net_dev: Option<NetDevTotals>,
    /// bpftop's own cgroup's limits and use (filled by the sampler).
    pub own_cgroup: OwnCgroup,
    /// kernel.task_delayacct: whether stalls are being counted; None where
    /// the kernel has no such switch (no delay accounting).
    pub delay_accounting: Option<bool>,
}

/// Everything one refresh produced.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    pub backend: BackendKind,
    /// Monotonic time of the collection (CLOCK_BOOTTIME), ns: the clock
    /// process start times are measured on, and what rates divide by.
    pub boottime_ns: u64,
    /// Wall-clock time of the collection, seconds since the Unix epoch.
    pub unix_time: f64,
    pub system: SystemSample,
    pub processes: Vec<ProcessSample>,
    /// Number of threads of user processes (kernel threads excluded).
    pub user_threads: u64,
    /// Number of kernel threads.
    pub kernel_threads: u64,
    /// Threads currently in state R.
    pub running_threads: u64,
    /// Unit, container and frozen state of each distinct cgroup path of
    /// `processes` (filled by the sampler).
    pub cgroups: HashMap<String, CgroupFacts>,
    /// Whether `ProcessSample::net` is measured, and how.
    pub network: NetworkStatus,
    /// GPUs and each process's use of them (filled by the sampler).
    pub gpu: GpuSnapshot,
    pub gpu_status: GpuStatus,
    /// Processes that exited since the last refresh.
    pub exits: Exits,
}
