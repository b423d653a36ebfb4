//! A deterministic collector for tests and demos: a fixed set of processes
//! whose counters advance by known amounts on every collection, and two
//! GPUs whose figures stay the same.

mod gpu;

use std::sync::Arc;

use super::sample::ioprio::IoPriority;
use super::sample::{
    BackendKind, Comm, CpuTimes, IoCounters, MemInfo, MemoryParts, NetCounters, NetDevTotals,
    NetHooks, NetworkStatus, Pressure, ProcessSample, RunQueue, Sample, Stalls, SystemSample,
    ThreadSample, Waits, ZramStats,
};
use super::Collector;
pub use gpu::{demo_gpu, demo_gpu_status};

const SEC: u64 = 1_000_000_000;
const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// Boot time of the first demo sample: three days of uptime.
pub const DEMO_UPTIME_NS: u64 = 3 * 86_400 * SEC;
/// Wall-clock time of the moment `DEMO_UPTIME_NS` after boot.
pub const DEMO_UNIX_TIME: f64 = 1_750_000_000.0;
/// CPU time each thread in state R gains per collection (1 s apart): half
/// a core, so such a thread shows 50 % and a process 50 % per such thread.
pub const RUNNING_THREAD_STEP_NS: u64 = SEC / 2;
/// Storage bytes a running process reads and writes per collection.
pub const RUNNING_READ_STEP: u64 = 64 * KIB;
/// Socket bytes a running demo process receives and sends per second.
pub const RUNNING_NET_RX_STEP: u64 = 96 * KIB;
pub const RUNNING_NET_TX_STEP: u64 = 24 * KIB;
pub const RUNNING_WRITE_STEP: u64 = 16 * KIB;
/// Bytes the host receives and sends through its real interfaces per
/// second (/proc/net/dev).
pub const HOST_NET_RX_STEP: u64 = 3 * MIB / 2;
pub const HOST_NET_TX_STEP: u64 = 200 * KIB;

/// Replays `processes` with counters that advance on every collection.
#[derive(Debug, Clone)]
pub struct FakeCollector {
    processes: Vec<ProcessSample>,
    system: SystemSample,
    boottime_ns: u64,
    unix_time: f64,
    /// Whether samples carry thread lists (as asked by `set_threads`).
    threads: bool,
}

impl FakeCollector {
    pub fn new(processes: Vec<ProcessSample>) -> FakeCollector {
        FakeCollector {
            processes,
            system: demo_system(),
            boottime_ns: DEMO_UPTIME_NS,
            unix_time: DEMO_UNIX_TIME,
            threads: true,
        }
    }

    /// One second passes.
    fn advance(&mut self) {
        self.boottime_ns += SEC;
        self.unix_time += 1.0;
        advance_system(&mut self.system);
        self.processes.iter_mut().for_each(advance_process);
    }

    fn sample(&self) -> Sample {
        let threads_of = |p: &ProcessSample| u64::from(p.threads.max(1));
        let user_threads = self
            .processes
            .iter()
            .filter(|p| !p.kernel_thread)
            .map(threads_of)
            .sum();
        let kernel_threads = self.processes.iter().filter(|p| p.kernel_thread).count() as u64;
        let running_threads = self.processes.iter().map(running_threads).sum();
        let mut processes = self.processes.clone();
        if !self.threads {
            processes.iter_mut().for_each(|p| p.thread_list.clear());
        }
        Sample {
            backend: BackendKind::Procfs,
            boottime_ns: self.boottime_ns,
            unix_time: self.unix_time,
            system: self.system.clone(),
            processes,
            user_threads,
            kernel_threads,
            running_threads,
            cgroups: Default::default(),
            network: NetworkStatus::On {
                hooks: NetHooks::Tracepoints,
                all_families: false,
            },
            gpu: demo_gpu(),
            gpu_status: demo_gpu_status(),
            exits: Default::default(),
        }
    }
}

impl Collector for FakeCollector {
    fn kind(&self) -> BackendKind {
        BackendKind::Procfs
    }

    /// Each call is one second after the previous one.
    fn collect(&mut self) -> anyhow::Result<Sample> {
        self.advance();
        Ok(self.sample())
    }

    fn set_threads(&mut self, threads: bool) {
        self.threads = threads;
    }
}

/// Threads in state R (the process itself when no thread list is kept).
fn running_threads(p: &ProcessSample) -> u64 {
    if p.thread_list.is_empty() {
        u64::from(p.state == 'R')
    } else {
        p.thread_list.iter().filter(|t| t.state == 'R').count() as u64
    }
}

fn advance_process(p: &mut ProcessSample) {
    for t in p.thread_list.iter_mut().filter(|t| t.state == 'R') {
        t.cpu_time_ns += RUNNING_THREAD_STEP_NS;
    }
    let running = running_threads(p);
    let cpu = running * RUNNING_THREAD_STEP_NS;
    // Split as the kernel would report a mostly-user workload.
    p.utime_ns += cpu / 4 * 3;
    p.stime_ns += cpu - cpu / 4 * 3;
    if running > 0 {
        p.nvcsw += 10;
        p.nivcsw += 2;
        p.minflt += 100;
        if let Some(io) = p.io.as_mut() {
            io.rchar += 2 * RUNNING_READ_STEP;
            io.wchar += 2 * RUNNING_WRITE_STEP;
            io.read_bytes += RUNNING_READ_STEP;
            io.write_bytes += RUNNING_WRITE_STEP;
        }
        if let Some(net) = p.net.as_mut() {
            net.rx_bytes += RUNNING_NET_RX_STEP;
            net.tx_bytes += RUNNING_NET_TX_STEP;
        }
    }
}

/// Per CPU and second (100 ticks): 30 user, 10 system, 5 iowait, 55 idle,
/// so every CPU is 40 % busy; the network moves by its host steps.
fn advance_system(s: &mut SystemSample) {
    let step = |c: &mut CpuTimes| {
        c.user += 30;
        c.system += 10;
        c.iowait += 5;
        c.idle += 55;
    };
    for (_, c) in s.cpus.iter_mut() {
        step(c);
    }
    for _ in 0..s.cpus.len() {
        step(&mut s.cpu_total);
    }
    s.uptime_seconds += 1.0;
    if let Some(net) = s.net_dev.as_mut() {
        net.rx_bytes += HOST_NET_RX_STEP;
        net.tx_bytes += HOST_NET_TX_STEP;
    }
}

/// User names of the demo's uids.
pub fn demo_user_name(uid: u32) -> String {
    match uid {
        0 => "root".to_owned(),
        1000 => "alice".to_owned(),
        33 => "www-data".to_owned(),
        other => other.to_string(),
    }
}

/// A two-CPU machine with 16 GiB, swap, zram and pressure figures.
pub fn demo_system() -> SystemSample {
    let cpu0 = CpuTimes {
        user: 1_200_000,
        nice: 3_000,
        system: 400_000,
        idle: 24_000_000,
        iowait: 50_000,
        irq: 10_000,
        softirq: 20_000,
        steal: 0,
        guest: 0,
        guest_nice: 0,
    };
    let cpu1 = CpuTimes {
        user: 1_000_000,
        nice: 1_000,
        system: 350_000,
        idle: 24_500_000,
        iowait: 30_000,
        irq: 8_000,
        softirq: 15_000,
        steal: 0,
        guest: 0,
        guest_nice: 0,
    };
    let total = CpuTimes {
        user: cpu0.user + cpu1.user,
        nice: cpu0.nice + cpu1.nice,
        system: cpu0.system + cpu1.system,
        idle: cpu0.idle + cpu1.idle,
        iowait: cpu0.iowait + cpu1.iowait,
        irq: cpu0.irq + cpu1.irq,
        softirq: cpu0.softirq + cpu1.softirq,
        ..CpuTimes::default()
    };
    SystemSample {
        cpu_total: total,
        cpus: vec![(0, cpu0), (1, cpu1)],
        mem: MemInfo {
            total: 16 * GIB,
            free: 4 * GIB,
            available: 10 * GIB,
            buffers: 512 * MIB,
            cached: 6 * GIB,
            shmem: 256 * MIB,
            sreclaimable: 512 * MIB,
            swap_total: 8 * GIB,
            swap_free: 7 * GIB,
            swap_cached: 64 * MIB,
            zswap: None,
            zswapped: None,
        },
        zram: Some(ZramStats {
            orig_bytes: 512 * MIB,
            compr_bytes: 128 * MIB,
            used_bytes: 140 * MIB,
        }),
        swap_on_zram: true,
        load: [0.52, 0.61, 0.70],
        uptime_seconds: DEMO_UPTIME_NS as f64 / SEC as f64,
        pressure: Pressure {
            cpu: Some(1.5),
            memory: Some(0.2),
            io: Some(3.1),
        },
        net_dev: Some(NetDevTotals {
            rx_bytes: 40 * GIB,
            tx_bytes: 9 * GIB,
        }),
        own_cgroup: Default::default(),
        delay_accounting: Some(true),
    }
}

/// A small user process with plausible defaults; callers adjust the rest.
fn process(pid: u32, ppid: u32, uid: u32, comm: &[u8], argv: &[&[u8]]) -> ProcessSample {
    let cmdline: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
    ProcessSample {
        pid,
        ppid,
        uid,
        euid: uid,
        state: 'S',
        comm: Comm::new(comm),
        cmdline: Arc::from(cmdline),
        nice: 0,
        priority: 20,
        threads: 1,
        processor: 0,
        tty_nr: 0,
        start_time_ns: SEC,
        utime_ns: 0,
        stime_ns: 0,
        rss_bytes: 8 * MIB,
        shared_bytes: 4 * MIB,
        virt_bytes: 64 * MIB,
        // RES = anon + file + shmem; SHR = file + shmem.
        memory: MemoryParts {
            anon_bytes: 4 * MIB,
            file_bytes: 3 * MIB,
            shmem_bytes: MIB,
            swap_bytes: 0,
        },
        rollup: None,
        minflt: 1_000,
        majflt: 10,
        nvcsw: 100,
        nivcsw: 5,
        io: Some(IoCounters {
            rchar: 2 * MIB,
            wchar: 512 * KIB,
            read_bytes: MIB,
            write_bytes: 256 * KIB,
        }),
        net: Some(NetCounters {
            rx_bytes: 3 * MIB,
            tx_bytes: 700 * KIB,
            iface: Some("eth0".into()),
        }),
        io_priority: Some(IoPriority::NONE),
        cgroup: Some("/system.slice".into()),
        kernel_thread: false,
        thread_list: Vec::new(),
        waits: Waits {
            run: Some(RunQueue {
                delay_ns: 0,
                count: 0,
            }),
            stalls: Some(Stalls::default()),
        },
    }
}

fn kernel_thread(pid: u32, ppid: u32, comm: &[u8], state: char) -> ProcessSample {
    ProcessSample {
        state,
        kernel_thread: true,
        rss_bytes: 0,
        shared_bytes: 0,
        virt_bytes: 0,
        memory: MemoryParts::default(),
        minflt: 0,
        majflt: 0,
        io: Some(IoCounters::default()),
        net: Some(NetCounters::default()),
        cgroup: Some("/".into()),
        ..process(pid, ppid, 0, comm, &[])
    }
}

fn thread(tid: u32, state: char, comm: &[u8], processor: u32, cpu_time_ns: u64) -> ThreadSample {
    ThreadSample {
        tid,
        state,
        comm: Comm::new(comm),
        processor,
        cpu_time_ns,
        waits: Waits::default(),
    }
}

/// Seconds before the first demo sample, as a start time since boot.
fn started_ago(seconds: u64) -> u64 {
    DEMO_UPTIME_NS - seconds * SEC
}

/// pts/N as /proc's tty_nr encodes it (major 136).
fn pts(n: u32) -> u32 {
    (136 << 8) | n
}

/// A small machine:
///
/// ```text
/// 1 systemd ─┬─ 350 systemd-journald
///            ├─ 400 sshd ── 1200 bash ─┬─ 1300 vim
///            │                         ├─ 1301 top (R)
///            │                         ├─ 1500 hostile names
///            │                         └─ 1600 zombie
///            ├─ 700 cron
///            └─ 900 java (3 threads, 2 in R)
/// 2 kthreadd ─┬─ 14 kworker/0:1-events
///             └─ 15 kworker/1:0H
/// ```
pub fn demo_processes() -> Vec<ProcessSample> {
    let session: Option<Arc<str>> = Some("/user.slice/user-1000.slice/session-3.scope".into());
    vec![
        ProcessSample {
            utime_ns: 9 * SEC,
            stime_ns: 3 * SEC,
            cgroup: Some("/init.scope".into()),
            ..process(1, 0, 0, b"systemd", &[b"/sbin/init", b"splash"])
        },
        kernel_thread(2, 0, b"kthreadd", 'S'),
        kernel_thread(14, 2, b"kworker/0:1-events", 'I'),
        kernel_thread(15, 2, b"kworker/1:0H", 'I'),
        ProcessSample {
            start_time_ns: 2 * SEC,
            utime_ns: 2 * SEC,
            stime_ns: SEC,
            rss_bytes: 40 * MIB,
            shared_bytes: 38 * MIB,
            memory: MemoryParts {
                anon_bytes: 2 * MIB,
                file_bytes: 6 * MIB,
                shmem_bytes: 32 * MIB,
                swap_bytes: 0,
            },
            cgroup: Some("/system.slice/systemd-journald.service".into()),
            ..process(
                350,
                1,
                0,
                b"systemd-journal",
                &[b"/usr/lib/systemd/systemd-journald"],
            )
        },
        ProcessSample {
            start_time_ns: 10 * SEC,
            nice: -5,
            priority: 15,
            // Unreadable I/O, as /proc gives it to an unprivileged reader.
            io: None,
            net: Some(NetCounters {
                rx_bytes: 40 * MIB,
                tx_bytes: 250 * MIB,
                iface: Some("wg0".into()),
            }),
            cgroup: Some("/system.slice/ssh.service".into()),
            ..process(
                400,
                1,
                0,
                b"sshd",
                &[b"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"],
            )
        },
        ProcessSample {
            start_time_ns: 20 * SEC,
            // Local sockets only: no routed send, no interface.
            net: Some(NetCounters {
                rx_bytes: 12 * KIB,
                tx_bytes: 4 * KIB,
                iface: None,
            }),
            cgroup: Some("/system.slice/cron.service".into()),
            ..process(700, 1, 0, b"cron", &[b"/usr/sbin/cron", b"-f"])
        },
        ProcessSample {
            start_time_ns: started_ago(2 * 86_400),
            threads: 3,
            utime_ns: 5400 * SEC,
            stime_ns: 600 * SEC,
            rss_bytes: 2 * GIB + 512 * MIB,
            shared_bytes: 30 * MIB,
            memory: MemoryParts {
                anon_bytes: 2 * GIB + 482 * MIB,
                file_bytes: 28 * MIB,
                shmem_bytes: 2 * MIB,
                swap_bytes: 300 * MIB,
            },
            virt_bytes: 12 * GIB,
            nice: 7,
            priority: 27,
            processor: 0,
            net: Some(NetCounters {
                rx_bytes: 5 * GIB,
                tx_bytes: GIB,
                iface: Some("eth0".into()),
            }),
            cgroup: Some("/system.slice/app.service".into()),
            thread_list: vec![
                thread(900, 'S', b"java", 0, 100 * SEC),
                thread(901, 'R', b"GC Thread#0", 0, 2000 * SEC),
                thread(902, 'R', b"C2 CompilerThre", 1, 3900 * SEC),
            ],
            ..process(
                900,
                1,
                33,
                b"java",
                &[b"/usr/bin/java", b"-Xmx4g", b"-jar", b"app.jar"],
            )
        },
        ProcessSample {
            start_time_ns: started_ago(3600),
            tty_nr: pts(0),
            cgroup: session.clone(),
            ..process(1200, 400, 1000, b"bash", &[b"-bash"])
        },
        ProcessSample {
            start_time_ns: started_ago(600),
            tty_nr: pts(0),
            rss_bytes: 12 * MIB,
            memory: MemoryParts {
                anon_bytes: 8 * MIB,
                file_bytes: 3 * MIB,
                shmem_bytes: MIB,
                swap_bytes: 0,
            },
            cgroup: session.clone(),
            ..process(1300, 1200, 1000, b"vim", &[b"vim", b"notes.txt"])
        },
        ProcessSample {
            start_time_ns: started_ago(30),
            state: 'R',
            processor: 1,
            tty_nr: pts(0),
            cgroup: session.clone(),
            ..process(1301, 1200, 1000, b"top", &[b"top"])
        },
        ProcessSample {
            start_time_ns: started_ago(60),
            tty_nr: pts(0),
            cgroup: session.clone(),
            // A window-title escape, BEL, invalid UTF-8 and a wide name.
            ..process(
                1500,
                1200,
                1000,
                b"\xe5\x90\x8d\xe5\x89\x8d\x1b[2J\x07\xff",
                &[
                    b"./\x1b]0;pwned\x07\xe5\x90\x8d\xe5\x89\x8d",
                    b"--opt=\xff\xfe",
                ],
            )
        },
        ProcessSample {
            start_time_ns: started_ago(5),
            state: 'Z',
            rss_bytes: 0,
            shared_bytes: 0,
            virt_bytes: 0,
            memory: MemoryParts::default(),
            cgroup: session,
            ..process(1600, 1200, 1000, b"defunct-job", &[])
        },
    ]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::Model;

    fn two_refreshes() -> Model {
        let mut fake = FakeCollector::new(demo_processes());
        assert_eq!(fake.kind(), BackendKind::Procfs);
        let prev = fake.collect().unwrap();
        let cur = fake.collect().unwrap();
        assert_eq!(cur.boottime_ns - prev.boottime_ns, SEC);
        Model::new(&cur, Some(&prev), None, &demo_user_name)
    }

    fn cpu(m: &Model, pid: u32) -> f64 {
        m.processes
            .iter()
            .find(|p| p.sample.pid == pid)
            .map(|p| p.cpu_percent)
            .unwrap()
    }

    #[test]
    fn running_threads_show_known_cpu() {
        let m = two_refreshes();
        assert!((cpu(&m, 1301) - 50.0).abs() < 1e-9);
        assert!((cpu(&m, 900) - 100.0).abs() < 1e-9);
        assert_eq!(cpu(&m, 1), 0.0);
        assert_eq!(cpu(&m, 1600), 0.0);
        let java = m.processes.iter().find(|p| p.sample.pid == 900).unwrap();
        let thread_cpu: Vec<f64> = java.thread_rates.iter().map(|t| t.cpu_percent).collect();
        assert_eq!(thread_cpu, vec![0.0, 50.0, 50.0]);
    }

    #[test]
    fn system_and_io_figures_move() {
        let m = two_refreshes();
        assert_eq!(m.system.cpus, 2);
        assert!((m.system.cpu_percent - 40.0).abs() < 1e-9);
        assert_eq!(m.system.mem_total_bytes, 16 * GIB);
        assert!(m.system.zram.is_some());
        let top = m.processes.iter().find(|p| p.sample.pid == 1301).unwrap();
        assert_eq!(top.io_read_rate, RUNNING_READ_STEP as f64);
        assert_eq!(top.io_write_rate, RUNNING_WRITE_STEP as f64);
        assert_eq!(&*top.user, "alice");
        assert_eq!(top.net_rx_rate, (96 * KIB) as f64);
        assert_eq!(top.net_tx_rate, (24 * KIB) as f64);
        assert_eq!(m.system.net_rx_rate, Some(1.5 * MIB as f64));
        assert_eq!(m.system.net_tx_rate, Some((200 * KIB) as f64));
    }

    #[test]
    fn demo_tree_is_consistent() {
        let ps = demo_processes();
        let pids: Vec<u32> = ps.iter().map(|p| p.pid).collect();
        for p in &ps {
            assert!(p.ppid == 0 || pids.contains(&p.ppid), "{}", p.pid);
            // /proc shows workqueue workers' longer names; others fit comm.
            assert!(p.kernel_thread || p.comm.len() <= 15, "{}", p.pid);
            assert!(p.start_time_ns < DEMO_UPTIME_NS);
            if p.kernel_thread {
                assert!(p.cmdline.is_empty());
            }
        }
        let mut sorted = pids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), pids.len());
        let java = ps.iter().find(|p| p.pid == 900).unwrap();
        let thread_ns: u64 = java.thread_list.iter().map(|t| t.cpu_time_ns).sum();
        assert_eq!(thread_ns, java.cpu_time_ns());
    }

    #[test]
    fn sample_counts_threads() {
        let s = FakeCollector::new(demo_processes()).collect().unwrap();
        assert_eq!(s.kernel_threads, 3);
        assert_eq!(s.running_threads, 3);
        assert_eq!(s.user_threads, 9 + 3); // nine single-threaded, java's three
    }

    #[test]
    fn thread_lists_follow_set_threads() {
        let mut fake = FakeCollector::new(demo_processes());
        fake.set_threads(false);
        let s = fake.collect().unwrap();
        assert!(s.processes.iter().all(|p| p.thread_list.is_empty()));
        fake.set_threads(true);
        let s = fake.collect().unwrap();
        assert!(s.processes.iter().any(|p| p.thread_list.len() == 3));
    }
}
