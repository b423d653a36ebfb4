//! Collectors: everything that reads the kernel. Backends implement
//! [`Collector`] and all yield the same raw [`Sample`]; they know nothing of
//! how the data is shown. [`backend`] opens the one the user chose.

pub mod backend;
pub mod bpf;
pub mod catalog;
pub mod cgroup_map;
pub mod cgroup_stats;
pub mod cgroups;
pub mod clock;
pub mod containers;
pub mod environ;
pub mod fake;
pub mod frozen;
pub mod frozen_v1;
pub mod gpu;
pub mod ioprio;
pub mod netdev;
pub mod open_files;
pub mod own_cgroup;
pub mod procfs;
pub mod sample;
pub mod sampler;
pub mod smaps;
pub mod state;
pub mod system;
pub mod titles;
pub mod units;
pub mod users;

use std::path::PathBuf;

pub use sample::{BackendKind, ProcessSample, Sample};

/// One source of samples.
pub trait Collector {
    fn kind(&self) -> BackendKind;
    /// Takes one sample. Processes that exit during the walk are skipped,
    /// never reported as errors.
    fn collect(&mut self) -> anyhow::Result<Sample>;
    /// Whether to fill `ProcessSample::thread_list` from now on. A backend
    /// without thread detail (the fake one) may ignore it.
    fn set_threads(&mut self, _threads: bool) {}
    /// While on, command lines not read yet are left empty (and read
    /// later) instead of being read now: the interface's first frame does
    /// not wait for tens of thousands of /proc/PID/cmdline reads. A backend
    /// whose command lines cost nothing extra may ignore it.
    fn defer_cmdlines(&mut self, _defer: bool) {}
    /// Read these processes' command lines at every refresh from now on
    /// (when they may have changed), replacing the previous set (the
    /// interface's rows on screen): a process may rewrite its title without
    /// an exec. The others' are read again within 10 s. A backend that
    /// reads every command line at every refresh may ignore it.
    fn watch_titles(&mut self, _pids: &[u32]) {}
    /// Which optional per-process values to read from now on (all, until
    /// told otherwise). A backend for which they cost nothing extra may
    /// ignore it.
    fn set_extras(&mut self, _extras: Extras) {}
}

/// Per-process values that cost the procfs backend one more file per
/// process and refresh: the interface asks only for those its columns
/// show. Off, a sample carries None for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extras {
    /// I/O counters (/proc/PID/io).
    pub io: bool,
    /// Run-queue waits (/proc/PID/schedstat, per thread).
    pub run_queue: bool,
}

impl Extras {
    pub const ALL: Extras = Extras {
        io: true,
        run_queue: true,
    };
    pub const NONE: Extras = Extras {
        io: false,
        run_queue: false,
    };

    pub fn union(self, other: Extras) -> Extras {
        Extras {
            io: self.io || other.io,
            run_queue: self.run_queue || other.run_queue,
        }
    }
}

/// What a collector is asked for, and where the kernel's files are (tests
/// point these at fixture trees).
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Fill `ProcessSample::thread_list`.
    pub threads: bool,
    pub proc_root: PathBuf,
    pub sys_root: PathBuf,
    /// Per-process network counters (bpf backend only).
    pub net: NetOptions,
    /// Look for GPUs (NVML, DRM fdinfo).
    pub gpu: bool,
    /// How the bpf backend walks the tasks.
    pub walk: WalkChoice,
}

/// How the bpf backend walks the tasks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum WalkChoice {
    /// The open-coded task iterator where the kernel has it (6.7), else
    /// iter/task.
    #[default]
    Auto,
    /// The open-coded task iterator only.
    OpenCoded,
    /// iter/task only (kernel >= 5.8).
    Iter,
}

/// What the per-process network counters count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetOptions {
    pub enabled: bool,
    /// Count every socket family (AF_UNIX, netlink, ...), not only IP.
    pub all_families: bool,
    /// Which kernel hooks may count.
    pub hooks: NetHooksChoice,
}

/// Which kernel hooks the network counters attach to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum NetHooksChoice {
    /// The socket tracepoints (6.3), else fexit, else kprobes: the first
    /// that attaches.
    #[default]
    Auto,
    /// tp_btf/sock_send_length and sock_recv_length only.
    Tracepoints,
    /// fexit on inet_sendmsg/inet_recvmsg (and IPv6) only.
    Fexit,
    /// kprobes on the same functions only.
    Kprobes,
}

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            enabled: true,
            all_families: false,
            hooks: NetHooksChoice::Auto,
        }
    }
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            net: NetOptions::default(),
            gpu: true,
            walk: WalkChoice::Auto,
            threads: false,
            proc_root: PathBuf::from("/proc"),
            sys_root: PathBuf::from("/sys"),
        }
    }
}

/// The backend a user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    /// bpf when it loads, else procfs (the reason is recorded).
    Auto,
    Bpf,
    Procfs,
}
