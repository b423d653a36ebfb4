//! Processes that exited since the last refresh, as the kernel reported
//! them at their last thread's exit: what no walk of live tasks can see.

use std::sync::Arc;

use serde::Serialize;

use super::{Argv, Comm, IoCounters};

/// How a process ended, as wait(2) reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExitStatus {
    /// exit(code) or a return from main.
    Code(u8),
    /// Killed by a signal.
    Signal { signal: u8, core_dumped: bool },
}

impl ExitStatus {
    /// Decodes a wait(2) status word (exit code << 8, or the signal in the
    /// low 7 bits and the core flag in bit 7).
    pub fn from_wait_status(status: i32) -> ExitStatus {
        let signal = (status & 0x7f) as u8;
        if signal == 0 {
            ExitStatus::Code(((status >> 8) & 0xff) as u8)
        } else {
            ExitStatus::Signal {
                signal,
                core_dumped: status & 0x80 != 0,
            }
        }
    }

    /// A nonzero code or any signal.
    pub fn failed(self) -> bool {
        !matches!(self, ExitStatus::Code(0))
    }
}

/// One process (thread group) that exited; totals cover all its threads.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExitedProcess {
    pub pid: u32,
    /// The parent at the time of the exit.
    pub ppid: u32,
    pub uid: u32,
    pub comm: Comm,
    /// argv of the process's last exec, cut at 256 bytes; empty when it
    /// was not seen exec (it started before bpftop, or the table was full).
    pub cmdline: Argv,
    /// Start time, ns since boot (CLOCK_BOOTTIME), as in `ProcessSample`.
    pub start_time_ns: u64,
    /// When its last thread exited, same clock.
    pub exit_time_ns: u64,
    /// User and system CPU time of all threads, ns, summing to the
    /// scheduler's run time.
    pub utime_ns: u64,
    pub stime_ns: u64,
    /// Peak resident set, bytes (what getrusage's ru_maxrss reports).
    pub peak_rss_bytes: u64,
    pub minflt: u64,
    pub majflt: u64,
    pub io: IoCounters,
    /// Socket (rx, tx) bytes since bpftop attached its counters; None when
    /// the network counters are off.
    pub net: Option<(u64, u64)>,
    /// cgroup v2 path, None when it could not be resolved.
    pub cgroup: Option<Arc<str>>,
    pub status: ExitStatus,
    /// The OOM killer chose it.
    pub oom_killed: bool,
}

impl ExitedProcess {
    /// The identity its rows had while it lived.
    pub fn key(&self) -> super::ProcessKey {
        super::ProcessKey {
            pid: self.pid,
            start_time_ns: self.start_time_ns,
        }
    }

    pub fn cpu_time_ns(&self) -> u64 {
        self.utime_ns + self.stime_ns
    }
}

/// Which kernel hook reports exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitHook {
    /// tp_btf/sched_process_exit with the kernel's group_dead argument.
    GroupDead,
    /// tp_btf/sched_process_exit; the last thread found by signal->live.
    LastLive,
    /// raw_tp/sched_process_exit, the same with probe reads.
    RawTracepoint,
}

impl ExitHook {
    pub fn describe(self) -> &'static str {
        match self {
            ExitHook::GroupDead => "tp_btf/sched_process_exit (group_dead argument)",
            ExitHook::LastLive => "tp_btf/sched_process_exit (last live thread)",
            ExitHook::RawTracepoint => "raw_tp/sched_process_exit (last live thread)",
        }
    }
}

/// Whether exits are captured.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExitCapture {
    On {
        hook: ExitHook,
        /// The OOM killer's choices are marked (from signal->oom_mm at the
        /// exit).
        oom: bool,
        /// Each process's CPU is its final one, taken when it is freed
        /// (sched_process_free attached); else what the exit hook saw.
        final_cpu: bool,
    },
    Off {
        reason: String,
    },
}

impl Default for ExitCapture {
    fn default() -> Self {
        ExitCapture::Off {
            reason: "not measured by this backend".into(),
        }
    }
}

impl ExitCapture {
    pub fn is_on(&self) -> bool {
        matches!(self, ExitCapture::On { .. })
    }
}

/// The exits of one refresh.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Exits {
    pub capture: ExitCapture,
    /// Processes whose last thread exited since the last refresh, in the
    /// order they exited.
    pub processes: Vec<ExitedProcess>,
    /// Exits lost because the kernel's buffer was full, since bpftop
    /// started (never silent: shown and exported).
    pub dropped: u64,
    /// Processes of earlier refreshes whose final CPU came since the last
    /// refresh.
    pub late: Vec<LateExitCpu>,
    /// Final CPU times lost to a full buffer since bpftop started (those
    /// processes keep the CPU their exit record gave).
    pub finals_dropped: u64,
    /// The execs since the last refresh, in the order they happened.
    pub execs: Vec<ExecEvent>,
}

/// One exec (execve that succeeded): the process that made it, its parent
/// then, and its cgroup then, where known.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExecEvent {
    pub pid: u32,
    pub ppid: u32,
    pub cgroup: Option<Arc<str>>,
}

/// The final CPU time of a process that an earlier refresh listed: the
/// kernel gives it once the process is reaped and has switched out for the
/// last time, which may be after the refresh its exit came in.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LateExitCpu {
    pub pid: u32,
    /// The parent at the time of the exit.
    pub ppid: u32,
    pub start_time_ns: u64,
    /// cgroup v2 path, where known.
    pub cgroup: Option<Arc<str>>,
    /// The CPU time the earlier refresh had, ns.
    pub recorded_ns: u64,
    /// The final user and system CPU time, ns, summing to the final run
    /// time.
    pub utime_ns: u64,
    pub stime_ns: u64,
}

impl LateExitCpu {
    pub fn cpu_time_ns(&self) -> u64 {
        self.utime_ns + self.stime_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_status_words() {
        assert_eq!(ExitStatus::from_wait_status(0), ExitStatus::Code(0));
        assert_eq!(ExitStatus::from_wait_status(3 << 8), ExitStatus::Code(3));
        assert_eq!(
            ExitStatus::from_wait_status(255 << 8),
            ExitStatus::Code(255)
        );
        assert_eq!(
            ExitStatus::from_wait_status(9),
            ExitStatus::Signal {
                signal: 9,
                core_dumped: false
            }
        );
        assert_eq!(
            ExitStatus::from_wait_status(11 | 0x80),
            ExitStatus::Signal {
                signal: 11,
                core_dumped: true
            }
        );
        assert!(!ExitStatus::Code(0).failed());
        assert!(ExitStatus::Code(1).failed());
    }
}
