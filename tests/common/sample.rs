//! A `ProcessSample` builder: an idle user process with neutral values,
//! so that a test writes only the fields it is about (and a new field is
//! added here once, not in every test).

use std::sync::Arc;

use bpftop::collect::sample::{IoCounters, NetCounters, ProcessSample};

const SEC: u64 = 1_000_000_000;

pub struct ProcessBuilder(ProcessSample);

impl ProcessBuilder {
    /// Process `pid`: child of 1, uid 1000, running, started 1 s after
    /// boot, no CPU, memory, I/O or network used.
    pub fn new(pid: u32) -> ProcessBuilder {
        ProcessBuilder(ProcessSample {
            pid,
            ppid: 1,
            uid: 1000,
            euid: 1000,
            state: 'R',
            comm: b"process".as_slice().into(),
            priority: 20,
            threads: 1,
            start_time_ns: SEC,
            ..Default::default()
        })
    }

    pub fn comm(mut self, comm: &[u8]) -> Self {
        self.0.comm = comm.into();
        self
    }

    pub fn cgroup(mut self, path: &str) -> Self {
        self.0.cgroup = Some(Arc::from(path));
        self
    }

    /// CPU time used in user and in kernel mode.
    pub fn cpu_ns(mut self, user: u64, system: u64) -> Self {
        self.0.utime_ns = user;
        self.0.stime_ns = system;
        self
    }

    pub fn memory(mut self, rss_bytes: u64, virt_bytes: u64) -> Self {
        self.0.rss_bytes = rss_bytes;
        self.0.virt_bytes = virt_bytes;
        self
    }

    /// Bytes read from and written to storage.
    pub fn io(mut self, read_bytes: u64, write_bytes: u64) -> Self {
        self.0.io = Some(IoCounters {
            rchar: 0,
            wchar: 0,
            read_bytes,
            write_bytes,
        });
        self
    }

    /// Bytes received and sent over the network.
    pub fn net(mut self, rx_bytes: u64, tx_bytes: u64) -> Self {
        self.0.net = Some(NetCounters {
            rx_bytes,
            tx_bytes,
            iface: None,
        });
        self
    }

    pub fn build(self) -> ProcessSample {
        self.0
    }
}
