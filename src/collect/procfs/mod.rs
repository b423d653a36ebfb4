//! The /proc backend: the fallback when eBPF cannot load, and the oracle the
//! other backend is tested against, so every field keeps /proc's semantics.
//!
//! What it reads per process and refresh, at the least cost that keeps
//! every value exact (htop reads two files per process and thread; this
//! reads two per process, and a thread's stat only where a process has
//! more than one):
//!
//! - `stat` and `status`, always: everything that changes while a process
//!   sleeps (memory, swap, state) or that must never be stale (the user).
//!   `status` holds the resident set's parts, so statm is not read.
//! - `cmdline` only where it may have changed (see [`memo`]).
//! - `io` and `schedstat` only while someone wants them ([`Extras`]).
//! - the cgroup from the cgroup tree, one read per cgroup
//!   ([`CgroupMap`]), and /proc/PID/cgroup only where that cannot tell.

mod memo;
mod parse;
mod proc_dir;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use self::memo::{CmdlineMemo, Moment};
pub(crate) use self::parse::parse_kib;
use self::parse::ticks_to_ns;
pub use self::parse::{
    parse_io, parse_schedstat, parse_stat, parse_statm, parse_status, split_cmdline, StatFields,
    StatmFields, StatusFields,
};
use self::proc_dir::{ProcDir, RelPath};
use super::cgroup_map::CgroupMap;
use super::cgroups::{parse_cgroup_v2, Hierarchy};
use super::sample::{
    Argv, Comm, ExitCapture, Exits, NetworkStatus, RunQueue, SystemSample, ThreadSample, Waits,
};
use super::{clock, BackendKind, CollectOptions, Collector, Extras, ProcessSample, Sample};

/// PF_KTHREAD in the task flags (include/linux/sched.h).
const PF_KTHREAD: u32 = 0x0020_0000;

pub struct ProcfsCollector {
    proc_root: PathBuf,
    /// Opened at the first collection, whose error names the path.
    proc_dir: Option<ProcDir>,
    threads: bool,
    extras: Extras,
    ticks_per_second: u64,
    page_size: u64,
    /// Where cgroups are named; None: only /proc/PID/cgroup's v2 line.
    hierarchy: Option<Hierarchy>,
    cgroups: CgroupMap,
    cmdlines: CmdlineMemo,
    buf: Vec<u8>,
    /// Reused lists of directory entries.
    pids: Vec<u32>,
    tids: Vec<u32>,
}

/// What one process's threads add up to.
#[derive(Default)]
struct ThreadScan {
    list: Vec<ThreadSample>,
    running: u64,
    run: Option<RunQueue>,
}

impl ProcfsCollector {
    pub fn new(options: &CollectOptions) -> Self {
        ProcfsCollector {
            proc_root: options.proc_root.clone(),
            proc_dir: None,
            threads: options.threads,
            extras: Extras::ALL,
            ticks_per_second: clock::clock_ticks_per_second(),
            page_size: clock::page_size(),
            hierarchy: Hierarchy::find(&options.proc_root),
            cgroups: CgroupMap::default(),
            cmdlines: CmdlineMemo::default(),
            buf: Vec::with_capacity(8192),
            pids: Vec::new(),
            tids: Vec::new(),
        }
    }

    fn open(&mut self) -> anyhow::Result<&ProcDir> {
        if self.proc_dir.is_none() {
            let dir = ProcDir::open(&self.proc_root)
                .with_context(|| format!("cannot list {}", self.proc_root.display()))?;
            self.proc_dir = Some(dir);
        }
        self.proc_dir
            .as_ref()
            .with_context(|| format!("cannot list {}", self.proc_root.display()))
    }

    /// Process `pid` alone, every value read afresh, or None when it does
    /// not exist (or is unreadable).
    pub fn read_pid(&mut self, pid: u32) -> Option<ProcessSample> {
        self.open().ok()?;
        let extras = std::mem::replace(&mut self.extras, Extras::ALL);
        let process = self.read_process(pid, true).map(|(p, _)| p);
        self.extras = extras;
        process
    }

    fn read(&mut self, path: &RelPath) -> Option<&[u8]> {
        let dir = self.proc_dir.as_ref()?;
        dir.read(path, &mut self.buf).ok()?;
        Some(&self.buf)
    }

    /// One process and its running threads, or None when it vanished (or
    /// is unreadable) mid-walk. `fresh`: read the command line whatever the
    /// memo says.
    fn read_process(&mut self, pid: u32, fresh: bool) -> Option<(ProcessSample, u64)> {
        let stat = parse_stat(self.read(&RelPath::process(pid, "stat"))?)?;
        let status = parse_status(self.read(&RelPath::process(pid, "status"))?)?;
        let (rss_bytes, shared_bytes) = self.resident(pid, &status)?;
        let kernel_thread = stat.flags & PF_KTHREAD != 0;
        let io = if self.extras.io {
            self.read(&RelPath::process(pid, "io")).and_then(parse_io)
        } else {
            None
        };
        let cmdline = self.cmdline(pid, &stat, &status, kernel_thread, fresh);
        let cgroup = self.cgroup(pid);
        let threads = self.scan_threads(pid, &stat);
        let hz = self.ticks_per_second;
        let process = ProcessSample {
            pid: stat.pid,
            ppid: stat.ppid,
            uid: status.uid,
            euid: status.euid,
            state: stat.state,
            comm: Comm::new(&stat.comm),
            cmdline,
            nice: stat.nice,
            priority: stat.priority,
            threads: stat.num_threads,
            processor: stat.processor,
            tty_nr: stat.tty_nr,
            start_time_ns: ticks_to_ns(stat.starttime, hz),
            utime_ns: ticks_to_ns(stat.utime, hz),
            stime_ns: ticks_to_ns(stat.stime, hz),
            rss_bytes,
            shared_bytes,
            virt_bytes: stat.vsize,
            rollup: None,
            minflt: stat.minflt,
            majflt: stat.majflt,
            nvcsw: status.nvcsw,
            nivcsw: status.nivcsw,
            memory: status.memory,
            io,
            net: None,
            io_priority: None,
            cgroup,
            kernel_thread,
            thread_list: threads.list,
            // Stalls need taskstats (a netlink request per task): the eBPF
            // backend's only.
            waits: Waits {
                run: threads.run,
                stalls: None,
            },
        };
        Some((process, threads.running))
    }

    /// Resident and shared bytes as statm gives them (resident = anon +
    /// file + shmem, shared = file + shmem: the same counters), from
    /// status's parts; from statm itself where status lacks them (kernels
    /// before 4.5) although it has a resident set.
    fn resident(&mut self, pid: u32, status: &StatusFields) -> Option<(u64, u64)> {
        let m = status.memory;
        if status.rss_parts || status.rss_bytes == 0 {
            let shared = m.file_bytes.saturating_add(m.shmem_bytes);
            return Some((m.anon_bytes.saturating_add(shared), shared));
        }
        let statm = parse_statm(self.read(&RelPath::process(pid, "statm"))?)?;
        let page = self.page_size;
        Some((
            statm.resident.saturating_mul(page),
            statm.shared.saturating_mul(page),
        ))
    }

    fn cmdline(
        &mut self,
        pid: u32,
        stat: &StatFields,
        status: &StatusFields,
        kernel_thread: bool,
        fresh: bool,
    ) -> Argv {
        // Empty in /proc for both, and a zombie's cannot come back.
        if kernel_thread || matches!(stat.state, 'Z' | 'X') {
            let empty: Argv = Arc::new([]);
            self.cmdlines.forget(pid);
            return empty;
        }
        let moment = Moment::of(stat, status);
        if !fresh {
            if let Some(known) = self.cmdlines.current(pid, &moment) {
                return known;
            }
        }
        match self.read(&RelPath::process(pid, "cmdline")) {
            Some(raw) => {
                let argv: Argv = split_cmdline(raw).into();
                self.cmdlines.store(pid, moment, &argv);
                argv
            }
            // Exited meanwhile (the rest of it is dropped too), or not
            // readable: nothing to remember.
            None => Arc::new([]),
        }
    }

    fn cgroup(&mut self, pid: u32) -> Option<Arc<str>> {
        if let Some(path) = self.cgroups.get(pid) {
            return Some(path);
        }
        // Taken for the read, which borrows the collector.
        let hierarchy = self.hierarchy.take();
        let path = self
            .read(&RelPath::process(pid, "cgroup"))
            .and_then(|text| match &hierarchy {
                Some(h) => h.path_in(text),
                None => parse_cgroup_v2(text),
            });
        self.hierarchy = hierarchy;
        path.map(Arc::from)
    }

    /// The threads of `pid`: their rows (when asked for), how many run, and
    /// the process's run-queue waits (its live threads' schedstat summed;
    /// /proc keeps nothing of exited threads). A single thread is the
    /// process's own stat; more need the task directory, since the leader's
    /// state says nothing of the others.
    fn scan_threads(&mut self, pid: u32, stat: &StatFields) -> ThreadScan {
        let run_queue = self.extras.run_queue;
        if stat.num_threads <= 1 && !self.threads {
            let run = if run_queue {
                self.read(&RelPath::process(pid, "schedstat"))
                    .and_then(parse_schedstat)
            } else {
                None
            };
            return ThreadScan {
                list: Vec::new(),
                running: u64::from(stat.state == 'R'),
                run,
            };
        }
        let mut tids = std::mem::take(&mut self.tids);
        let listed = self.proc_dir.as_ref().is_some_and(|dir| {
            dir.numbers(RelPath::process(pid, "task").as_os_str(), &mut tids)
                .is_ok()
        });
        tids.sort_unstable();
        let mut scan = ThreadScan::default();
        let mut run_sum: Option<RunQueue> = None;
        for &tid in tids.iter().filter(|_| listed) {
            // A thread that exits mid-walk is skipped.
            let Some(t) = self
                .read(&RelPath::thread(pid, tid, "stat"))
                .and_then(parse_stat)
            else {
                continue;
            };
            let run = if run_queue {
                self.read(&RelPath::thread(pid, tid, "schedstat"))
                    .and_then(parse_schedstat)
            } else {
                None
            };
            if let Some(r) = run {
                run_sum = Some(run_sum.unwrap_or_default().plus(r));
            }
            scan.running += u64::from(t.state == 'R');
            if self.threads {
                scan.list.push(ThreadSample {
                    tid: t.pid,
                    state: t.state,
                    comm: Comm::new(&t.comm),
                    processor: t.processor,
                    cpu_time_ns: ticks_to_ns(
                        t.utime.saturating_add(t.stime),
                        self.ticks_per_second,
                    ),
                    waits: Waits { run, stalls: None },
                });
            }
        }
        self.tids = tids;
        scan.run = run_sum;
        scan
    }
}

impl Collector for ProcfsCollector {
    fn kind(&self) -> BackendKind {
        BackendKind::Procfs
    }

    fn set_threads(&mut self, threads: bool) {
        self.threads = threads;
    }

    fn set_extras(&mut self, extras: Extras) {
        self.extras = extras;
    }

    fn defer_cmdlines(&mut self, defer: bool) {
        self.cmdlines.defer(defer);
    }

    fn watch_titles(&mut self, pids: &[u32]) {
        self.cmdlines.watch(pids);
    }

    fn collect(&mut self) -> anyhow::Result<Sample> {
        let mut pids = std::mem::take(&mut self.pids);
        let listed = self
            .open()?
            .numbers(OsStr::new(""), &mut pids)
            .with_context(|| format!("cannot list {}", self.proc_root.display()));
        let listed = listed.map(|()| pids.sort_unstable());
        if let Err(e) = listed {
            self.pids = pids;
            return Err(e);
        }
        if let Some(hierarchy) = &self.hierarchy {
            self.cgroups.refresh(hierarchy, &self.proc_root);
        }
        self.cmdlines.begin_refresh(clock::boottime_ns());
        let mut processes = Vec::with_capacity(pids.len());
        let (mut user_threads, mut kernel_threads, mut running_threads) = (0, 0, 0);
        for &pid in &pids {
            let Some((process, running)) = self.read_process(pid, false) else {
                continue;
            };
            if process.kernel_thread {
                kernel_threads += 1;
            } else {
                user_threads += u64::from(process.threads);
            }
            running_threads += running;
            processes.push(process);
        }
        self.cmdlines.end_refresh();
        self.pids = pids;
        // Stamped after the walk so that no start time is in the future.
        Ok(Sample {
            backend: BackendKind::Procfs,
            boottime_ns: clock::boottime_ns(),
            unix_time: clock::unix_time(),
            system: SystemSample::default(),
            processes,
            user_threads,
            kernel_threads,
            running_threads,
            cgroups: Default::default(),
            network: NetworkStatus::Off {
                reason: "the procfs backend has no per-process network counters \
                         (they are counted in eBPF)"
                    .into(),
            },
            gpu: Default::default(),
            gpu_status: Default::default(),
            exits: Exits {
                capture: ExitCapture::Off {
                    reason: "needs the bpf backend: /proc shows only processes alive at a refresh"
                        .into(),
                },
                ..Default::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    // Tests may panic on failure; that is how they report it.
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::parse::stat_line;
    use super::*;
    use std::fs;
    use std::os::unix::ffi::OsStrExt;
    use std::process::Command;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{Duration, Instant};

    /// A unique directory under the system temp dir, removed on drop.
    struct TempTree(PathBuf);

    impl TempTree {
        fn new() -> Self {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let name = format!(
                "bpftop-procfs-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            );
            let path = std::env::temp_dir().join(name);
            fs::create_dir_all(&path).unwrap();
            TempTree(path)
        }

        fn write(&self, rel: &str, contents: &[u8]) {
            let path = self.0.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, contents).unwrap();
        }
    }

    impl Drop for TempTree {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const STATUS: &[u8] = b"Name:\tx\nUid:\t1000\t1001\t1000\t1000\n\
        VmRSS:\t      80 kB\nRssAnon:\t      40 kB\nRssFile:\t      32 kB\n\
        RssShmem:\t       8 kB\nVmSwap:\t      12 kB\n\
        voluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t3\n";

    /// pid 100: a two-thread user process without an io file; pid 200: exits
    /// mid-walk (no status); pid 300: a kernel thread.
    fn fixture() -> TempTree {
        let tree = TempTree::new();
        let user = [
            (4, "1"),
            (7, "34816"),
            (9, "4194304"),
            (10, "11"),
            (12, "2"),
            (14, "100"),
            (15, "50"),
            (18, "20"),
            (19, "0"),
            (20, "2"),
            (22, "250"),
            (23, "123456"),
            (39, "2"),
        ];
        tree.write("100/stat", &stat_line(100, b"fake (one)", &user));
        tree.write("100/status", STATUS);
        tree.write("100/statm", b"300 20 10 1 0 5 0\n");
        tree.write("100/cmdline", b"fake\0--flag\0\0");
        tree.write("100/cgroup", b"1:cpu:/\n0::/user.slice\n");
        tree.write("100/task/100/stat", &stat_line(100, b"fake (one)", &user));
        let worker = [(3, "R"), (14, "3"), (15, "4"), (39, "1")];
        tree.write("100/task/101/stat", &stat_line(101, b"worker", &worker));
        tree.write("200/stat", &stat_line(200, b"gone", &[]));
        tree.write("200/statm", b"0 0 0 0 0 0 0\n");
        let kthread = [(3, "I"), (4, "2"), (9, "2129984"), (20, "1")];
        tree.write("300/stat", &stat_line(300, b"kworker/0:1", &kthread));
        tree.write("300/status", b"Uid:\t0\t0\t0\t0\n");
        tree.write("300/statm", b"0 0 0 0 0 0 0\n");
        tree.write("300/cmdline", b"");
        tree.write(
            "300/io",
            b"rchar: 1\nwchar: 2\nread_bytes: 3\nwrite_bytes: 4\n",
        );
        tree.write("uptime", b"1.00 2.00\n");
        tree.write("net/dev", b"");
        tree
    }

    fn collect_fixture(tree: &TempTree, threads: bool) -> Sample {
        let options = CollectOptions {
            threads,
            proc_root: tree.0.clone(),
            ..CollectOptions::default()
        };
        ProcfsCollector::new(&options).collect().unwrap()
    }

    #[test]
    fn fixture_tree_skips_vanished_processes() {
        let tree = fixture();
        let sample = collect_fixture(&tree, true);
        let hz = clock::clock_ticks_per_second();
        assert_eq!(sample.backend, BackendKind::Procfs);
        let pids: Vec<u32> = sample.processes.iter().map(|p| p.pid).collect();
        assert_eq!(pids, [100, 300]);
        let p = &sample.processes[0];
        assert_eq!((p.ppid, p.uid, p.euid, p.state), (1, 1000, 1001, 'S'));
        assert_eq!(p.comm, b"fake (one)");
        assert_eq!(
            *p.cmdline,
            [b"fake".to_vec(), b"--flag".to_vec(), Vec::new()]
        );
        assert_eq!((p.nice, p.priority, p.threads, p.processor), (0, 20, 2, 2));
        assert_eq!(p.tty_nr, 34816);
        assert_eq!(p.start_time_ns, 250 * 1_000_000_000 / hz);
        assert_eq!(p.utime_ns, 100 * 1_000_000_000 / hz);
        assert_eq!(p.stime_ns, 50 * 1_000_000_000 / hz);
        // status's parts, as statm counts them: anon + file + shmem, and
        // file + shmem.
        assert_eq!((p.rss_bytes, p.shared_bytes), (80 << 10, 40 << 10));
        assert_eq!(p.memory.swap_bytes, 12 << 10);
        assert_eq!(p.virt_bytes, 123_456);
        assert_eq!((p.minflt, p.majflt, p.nvcsw, p.nivcsw), (11, 2, 7, 3));
        assert_eq!(p.io, None);
        assert_eq!(p.cgroup.as_deref(), Some("/user.slice"));
        assert!(!p.kernel_thread);
        let tids: Vec<u32> = p.thread_list.iter().map(|t| t.tid).collect();
        assert_eq!(tids, [100, 101]);
        let worker = &p.thread_list[1];
        assert_eq!((worker.state, worker.processor), ('R', 1));
        assert_eq!(worker.comm, b"worker");
        assert_eq!(worker.cpu_time_ns, 7 * 1_000_000_000 / hz);

        let k = &sample.processes[1];
        assert!(k.kernel_thread);
        assert_eq!((k.state, k.ppid, k.uid), ('I', 2, 0));
        assert!(k.cmdline.is_empty());
        assert_eq!(k.cgroup, None);
        assert_eq!(k.io.map(|io| io.write_bytes), Some(4));

        assert_eq!(sample.user_threads, 2);
        assert_eq!(sample.kernel_threads, 1);
        assert_eq!(sample.running_threads, 1);
    }

    /// Before kernel 4.5 status has VmRSS but not its parts: statm then.
    #[test]
    fn resident_set_from_statm_where_status_has_no_parts() {
        let tree = fixture();
        tree.write(
            "100/status",
            b"Name:\tx\nUid:\t1000\t1001\t1000\t1000\nVmRSS:\t      80 kB\n",
        );
        let page = clock::page_size();
        let sample = collect_fixture(&tree, false);
        let p = &sample.processes[0];
        assert_eq!((p.rss_bytes, p.shared_bytes), (20 * page, 10 * page));
    }

    #[test]
    fn optional_values_only_while_wanted() {
        let tree = fixture();
        tree.write(
            "100/io",
            b"rchar: 1\nwchar: 2\nread_bytes: 3\nwrite_bytes: 4\n",
        );
        tree.write("100/schedstat", b"5 6 7\n");
        let options = CollectOptions {
            proc_root: tree.0.clone(),
            ..CollectOptions::default()
        };
        let mut collector = ProcfsCollector::new(&options);
        let wants = |c: &mut ProcfsCollector| {
            let p = c.collect().unwrap().processes.remove(0);
            (p.io.is_some(), p.waits.run.is_some())
        };
        assert_eq!(
            wants(&mut collector),
            (true, false),
            "two threads, no task files"
        );
        tree.write("100/task/100/schedstat", b"5 6 7\n");
        tree.write("100/task/101/schedstat", b"1 2 3\n");
        let p = collector.collect().unwrap().processes.remove(0);
        let run = p.waits.run.unwrap();
        assert_eq!((run.delay_ns, run.count), (8, 10), "the threads' sum");
        collector.set_extras(Extras::NONE);
        assert_eq!(wants(&mut collector), (false, false));
        collector.set_extras(Extras {
            io: false,
            run_queue: true,
        });
        assert_eq!(wants(&mut collector), (false, true));
    }

    #[test]
    fn running_threads_counted_without_thread_rows() {
        let tree = fixture();
        let sample = collect_fixture(&tree, false);
        assert!(sample.processes.iter().all(|p| p.thread_list.is_empty()));
        assert_eq!(sample.running_threads, 1);
    }

    #[test]
    fn unreadable_proc_root_is_an_error_naming_it() {
        let tree = TempTree::new();
        let missing = tree.0.join("missing");
        let options = CollectOptions {
            proc_root: missing.clone(),
            ..CollectOptions::default()
        };
        let err = ProcfsCollector::new(&options).collect().unwrap_err();
        assert!(format!("{err:#}").contains(&missing.display().to_string()));
    }

    /// Kills and reaps the child even when an assertion fails.
    struct ChildGuard(std::process::Child);

    impl Drop for ChildGuard {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn real_child_matches_what_we_spawned() {
        let child = ChildGuard(Command::new("sleep").arg("30").spawn().unwrap());
        let pid = child.0.id();
        let mut collector = ProcfsCollector::new(&CollectOptions::default());
        // Right after exec the child may still be on its way to nanosleep.
        let deadline = Instant::now() + Duration::from_secs(10);
        let (record, sample) = loop {
            let sample = collector.collect().unwrap();
            let found = sample.processes.iter().find(|p| p.pid == pid).cloned();
            match found {
                Some(p) if p.state == 'S' => break (p, sample),
                other if Instant::now() > deadline => panic!("child not sleeping: {other:?}"),
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        assert_eq!(record.ppid, std::process::id());
        assert_eq!(*record.cmdline, [b"sleep".to_vec(), b"30".to_vec()]);
        assert_eq!(record.comm, b"sleep");
        // SAFETY: getuid has no preconditions.
        assert_eq!(record.uid, unsafe { libc::getuid() });
        assert_eq!(record.threads, 1);
        assert!(!record.kernel_thread);
        assert!(record.io.is_some(), "our own child's io must be readable");
        assert!(record.start_time_ns > 0 && record.start_time_ns <= sample.boottime_ns);
        drop(child);
    }

    fn own_task_count() -> usize {
        fs::read_dir("/proc/self/task").unwrap().count()
    }

    #[test]
    fn real_self_thread_count_and_argv() {
        let me = std::process::id();
        let mut collector = ProcfsCollector::new(&CollectOptions::default());
        // Other tests start and stop threads concurrently: retry until the
        // count is stable around the collection.
        for _ in 0..200 {
            let before = own_task_count();
            let sample = collector.collect().unwrap();
            let after = own_task_count();
            let own = sample.processes.iter().find(|p| p.pid == me).unwrap();
            // The collecting thread itself is running.
            assert!(sample.running_threads >= 1);
            if before != after || own.threads as usize != before {
                continue;
            }
            let argv: Vec<Vec<u8>> = std::env::args_os().map(|a| a.as_bytes().to_vec()).collect();
            assert_eq!(*own.cmdline, argv[..]);
            // SAFETY: geteuid has no preconditions.
            assert_eq!(own.euid, unsafe { libc::geteuid() });
            assert!(own.io.is_some());
            return;
        }
        panic!("thread count of our own process never matched /proc/self/task");
    }
}
