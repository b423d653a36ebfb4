//! The eBPF backend: one walk over every task per refresh.
//!
//! The walk program stores one record per task in an mmapable array map,
//! which we then decode in place. Where the kernel has the open-coded task
//! iterator (6.7), the walk is one BPF_PROG_RUN of a syscall program that
//! follows the task lists itself; elsewhere the `iter/task` program stays
//! attached, and each refresh opens a fresh iterator fd from its link and
//! reads it to its end. Either way the syscalls per refresh are a constant
//! handful however many tasks there are. Work outside the walk happens only
//! for processes that are new or have exec'd (their cmdline) and for cgroups
//! never seen before (their path).

mod cmdline;
pub mod drm_fds;
mod init_process;
mod libbpf_log;
mod mapped;
mod memo;
mod monotonic;
pub mod net;
pub mod record;
mod skel;
mod titles;
pub mod walk_floor;
mod walker;

use rustc_hash::FxHashSet;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

use self::cmdline::read_argv;
use self::mapped::MappedArray;
use self::memo::{ProcessMemo, Remembered};
use self::monotonic::{never_backwards, Counters};
use self::net::NetCounting;
use self::record::{
    decode_walk_state, records, shown_name, Aggregator, ProcessAccum, NAME_SIZE, RECORD_SIZE,
    REC_PRECISE_RSS,
};
use self::skel::task_iter::types::{task_record, walk_state};
pub use self::walker::WalkKind;
use self::walker::Walker;
use super::cgroups::CgroupResolver;
use super::clock;
use super::sample::{
    Argv, BackendKind, IoCounters, NetCounters, NetworkStatus, ProcessSample, Sample, SystemSample,
};
use super::state::state_letter;
use super::{CollectOptions, Collector, WalkChoice};

/// The loaded program and the memory its walks write.
struct Loaded {
    walker: Walker,
    records: MappedArray,
    walk: MappedArray,
    /// Kernel threads' names longer than comm (intf.h: kthread_names).
    names: MappedArray,
    capacity: usize,
    kind: WalkKind,
    /// Records of the walk run at load time, if one was (None also when
    /// it outgrew the map).
    proving_walk: Option<usize>,
}

/// Records for `tasks` tasks plus room to grow before a reload (which
/// costs a program load): a quarter more, at least 4096. The whole map is
/// memory bpftop holds (mapped, it counts in its RSS), so not more.
fn records_capacity(tasks: usize) -> usize {
    tasks + (tasks / 4).max(4096)
}

/// Entries for kernel threads' long names: kernel threads are a small part
/// of the tasks on any machine (a few per CPU plus the workers). Those
/// beyond it keep their comm.
fn names_capacity(records: usize) -> usize {
    (records / 8).max(1024)
}

pub struct BpfCollector {
    loaded: Loaded,
    /// The walk's records grouped into processes (buffers reused).
    aggregator: Aggregator,
    sys_root: PathBuf,
    builder: ProcessBuilder,
    init: init_process::InitProcess,
}

/// Turns a walk's per-process accumulations into samples, with the state
/// that outlives a refresh (caches, high-water marks, the network
/// programs). Separate from the mapped records it reads, so both can be
/// borrowed at once.
struct ProcessBuilder {
    page_size: u64,
    proc_root: PathBuf,
    cgroups: CgroupResolver,
    /// Last refresh's counters and argv of each process.
    memo: ProcessMemo,
    /// Return an empty argv for processes not read yet (see
    /// `Collector::defer_cmdlines`).
    defer_cmdlines: bool,
    /// The argv of kernel threads and of processes without one, shared.
    no_argv: Argv,
    /// The network programs, or why they are not running.
    net: Result<NetCounting, String>,
    /// Some record had exact RSS (the per-CPU parts summed).
    precise_rss: bool,
    /// Processes whose command line is read at every refresh.
    watched: titles::WatchedTitles,
}

/// Lines of libbpf's log kept in an error: the end of a verifier log says
/// what failed.
const LOG_LINES: usize = 8;

/// A failure to load or attach, worded for the user.
#[derive(Debug)]
struct LoadError {
    message: String,
    /// The kernel asked us to try again (EAGAIN/EINTR: the verifier stops
    /// when a signal arrives).
    transient: bool,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LoadError {}

/// Why BPF cannot be used here, in words a user can act on.
fn explain_load_error(err: &libbpf_rs::Error, log: &str) -> anyhow::Error {
    use libbpf_rs::ErrorKind;
    let transient = matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted);
    let message = if err.kind() == ErrorKind::PermissionDenied {
        // libbpf's own lines only repeat the EPERM in more words.
        format!(
            "loading the task iterator: {err} (needs root, or CAP_BPF and CAP_PERFMON: \
             see `bpftop --check`)"
        )
    } else {
        let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = lines[lines.len().saturating_sub(LOG_LINES)..].join("\n  ");
        if tail.is_empty() {
            format!("loading the task iterator: {err}")
        } else {
            format!("loading the task iterator: {err}\n  {tail}")
        }
    };
    anyhow::Error::new(LoadError { message, transient })
}

fn is_transient(err: &anyhow::Error) -> bool {
    err.downcast_ref::<LoadError>().is_some_and(|e| e.transient)
}

/// Attempts at loading when the kernel says "try again".
const LOAD_ATTEMPTS: u32 = 3;

/// Number of tasks (threads) in the system: the denominator of
/// /proc/loadavg's fourth field.
fn task_count(proc_root: &Path) -> Option<usize> {
    let text = std::fs::read_to_string(proc_root.join("loadavg")).ok()?;
    text.split_whitespace()
        .nth(3)?
        .split_once('/')?
        .1
        .parse()
        .ok()
}

/// Highest possible CPU number + 1, from a cpu list such as "0-3,8-11"
/// (per-CPU data is indexed by CPU number, and the list may have holes).
pub fn cpu_id_limit(list: &str) -> Option<u32> {
    list.trim()
        .split(',')
        .filter_map(|range| range.rsplit('-').next()?.trim().parse::<u32>().ok())
        .max()
        .map(|highest| highest + 1)
}

/// Whether we run in the initial PID namespace: the iterator reports the
/// kernel's global ids, which only match /proc there. NSpid lists one id
/// per namespace level.
fn in_initial_pid_namespace(proc_root: &Path) -> bool {
    std::fs::read_to_string(proc_root.join("self/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .map(|ids| ids.split_whitespace().count() <= 1)
        })
        .unwrap_or(true)
}

/// Loads with exact RSS first; a kernel whose verifier rejects the per-CPU
/// loop (e.g. thousands of possible CPUs) gets the approximate RSS instead.
fn load(
    choice: WalkChoice,
    capacity: usize,
    sys_root: &Path,
    net: Option<BorrowedFd>,
) -> anyhow::Result<Loaded> {
    let possible = sys_root.join("devices/system/cpu/possible");
    let nr_cpus = std::fs::read_to_string(&possible)
        .ok()
        .and_then(|l| cpu_id_limit(&l))
        .ok_or_else(|| anyhow!("cannot read the CPU list {}", possible.display()))?;
    let mut attempt = 1;
    loop {
        let result = match choice {
            WalkChoice::Auto => load_kind(WalkKind::OpenCoded, capacity, nr_cpus, net)
                .or_else(|_| load_kind(WalkKind::TaskIterator, capacity, nr_cpus, net)),
            WalkChoice::OpenCoded => load_kind(WalkKind::OpenCoded, capacity, nr_cpus, net),
            WalkChoice::Iter => load_kind(WalkKind::TaskIterator, capacity, nr_cpus, net),
        };
        match result {
            Err(e) if is_transient(&e) && attempt < LOAD_ATTEMPTS => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Loads the walk of `kind`, with exact RSS if the verifier accepts it.
fn load_kind(
    kind: WalkKind,
    capacity: usize,
    nr_cpus: u32,
    net: Option<BorrowedFd>,
) -> anyhow::Result<Loaded> {
    load_with(kind, capacity, nr_cpus, true, net)
        .or_else(|_| load_with(kind, capacity, nr_cpus, false, net))
}

/// `net`: the network programs' counters map, which the walk then reads.
fn load_with(
    kind: WalkKind,
    capacity: usize,
    nr_cpus: u32,
    precise_rss: bool,
    net: Option<BorrowedFd>,
) -> anyhow::Result<Loaded> {
    let _capture = libbpf_log::Capture::start();
    let fail = |e: libbpf_rs::Error| explain_load_error(&e, &libbpf_log::take());

    let mut storage = MaybeUninit::uninit();
    let mut open = skel::task_iter::TaskIterSkelBuilder::default()
        .open(&mut storage)
        .map_err(fail)?;
    let rodata = open
        .maps
        .rodata_data
        .as_deref_mut()
        .ok_or_else(|| anyhow!("the BPF object has no read-only data section"))?;
    if rodata.record_size as usize != RECORD_SIZE {
        return Err(anyhow!(
            "record layout mismatch: BPF writes {} bytes, Rust reads {}",
            rodata.record_size,
            RECORD_SIZE
        ));
    }
    rodata.nr_cpu_ids = nr_cpus;
    rodata.precise_rss = precise_rss;
    rodata.read_net = net.is_some();
    let entries = u32::try_from(capacity).context("record capacity")?;
    open.maps.records.set_max_entries(entries).map_err(fail)?;
    // Pages are touched only for the kernel threads that need an entry.
    open.maps
        .kthread_names
        .set_max_entries(entries)
        .map_err(fail)?;
    match net {
        Some(fd) => open.maps.net_by_tgid.reuse_fd(fd).map_err(fail)?,
        // Unused: the smallest table the kernel accepts.
        None => open.maps.net_by_tgid.set_max_entries(1).map_err(fail)?,
    }

    kind.enable(&mut open.progs.walk_tasks, &mut open.progs.dump_task);
    let loaded = open.load().map_err(fail)?;
    let walker = Walker::new(kind, &loaded.progs.walk_tasks, &loaded.progs.dump_task)?;
    let records = MappedArray::map(&loaded.maps.records, RECORD_SIZE, capacity)?;
    let walk = MappedArray::map(&loaded.maps.walk, size_of::<walk_state>(), 1)?;
    let names = MappedArray::map(
        &loaded.maps.kthread_names,
        NAME_SIZE,
        names_capacity(capacity),
    )?;
    // The program's fd (or link) and the mappings keep the program and maps
    // alive; the skeleton's object (and its borrow of `storage`) can go.
    let mut loaded = Loaded {
        walker,
        records,
        walk,
        names,
        capacity,
        kind,
        proving_walk: None,
    };
    // A program that loads but cannot run must fail now, while the other
    // kind can still be loaded.
    if kind == WalkKind::OpenCoded {
        loaded.proving_walk = loaded.run()?;
    }
    Ok(loaded)
}

impl Loaded {
    /// Runs one walk; returns the number of records, or None when the
    /// records map was too small for all tasks.
    fn run(&mut self) -> anyhow::Result<Option<usize>> {
        // (walk_tasks also resets it itself.)
        self.walk.bytes_mut(size_of::<walk_state>()).fill(0);
        self.walker.walk()?;
        let state = decode_walk_state(self.walk.bytes(size_of::<walk_state>()));
        if state.dropped > 0 {
            return Ok(None);
        }
        Ok(Some((state.count as usize).min(self.capacity)))
    }
}

impl BpfCollector {
    pub fn open(options: &CollectOptions) -> anyhow::Result<Self> {
        let btf = options.sys_root.join("kernel/btf/vmlinux");
        if !btf.exists() {
            return Err(anyhow!(
                "the kernel has no BTF ({} is missing; needs CONFIG_DEBUG_INFO_BTF)",
                btf.display()
            ));
        }
        if !in_initial_pid_namespace(&options.proc_root) {
            return Err(anyhow!(
                "running inside a PID namespace: the task iterator reports the host's \
                 process ids, which this /proc does not show"
            ));
        }
        let tasks = task_count(&options.proc_root).unwrap_or(0);
        let net = NetCounting::start(options.net);
        let loaded = load(
            options.walk,
            records_capacity(tasks),
            &options.sys_root,
            net.as_ref().ok().map(NetCounting::counters_fd),
        )?;
        let mut collector = BpfCollector {
            loaded,
            sys_root: options.sys_root.clone(),
            aggregator: Aggregator::new(options.threads),
            builder: ProcessBuilder {
                page_size: clock::page_size(),
                proc_root: options.proc_root.clone(),
                cgroups: CgroupResolver::new(&options.proc_root),
                memo: ProcessMemo::default(),
                defer_cmdlines: false,
                no_argv: Argv::from(Vec::new()),
                net,
                precise_rss: false,
                watched: titles::WatchedTitles::default(),
            },
            init: init_process::InitProcess::new(options),
        };
        // One walk proves the walk works before auto commits to it (the
        // walk alone: building samples is ordinary code). The open-coded
        // one has walked while loading; its records are still in the map.
        let count = match collector.loaded.proving_walk {
            Some(count) => count,
            None => collector
                .walk()
                .context("first walk of the task iterator")?,
        };
        if count == 0 {
            return Err(anyhow!("the task iterator returned no tasks"));
        }
        collector.builder.precise_rss =
            records(collector.loaded.records.bytes(count * RECORD_SIZE))
                .iter()
                .any(|r| r.record_flags & REC_PRECISE_RSS != 0);
        Ok(collector)
    }

    /// Whether the last refresh read PID 1 from /proc because the walk did
    /// not visit it.
    pub fn init_from_proc(&self) -> bool {
        self.init.read_from_proc()
    }

    /// Whether RSS includes the per-CPU parts of the kernel's counters
    /// (exact, as /proc shows it) on this kernel.
    pub fn precise_rss(&self) -> bool {
        self.builder.precise_rss
    }

    /// The network programs, or why they are not running.
    pub fn network(&self) -> &Result<NetCounting, String> {
        &self.builder.net
    }

    fn network_status(&self) -> NetworkStatus {
        match &self.builder.net {
            Ok(n) => NetworkStatus::On {
                hooks: n.hooks,
                all_families: n.all_families,
            },
            Err(reason) => NetworkStatus::Off {
                reason: reason.clone(),
            },
        }
    }

    /// How this collector walks the tasks.
    pub fn walk_kind(&self) -> WalkKind {
        self.loaded.kind
    }

    /// Walks all tasks, growing the records map when the system has
    /// outgrown it; returns the number of records.
    fn walk(&mut self) -> anyhow::Result<usize> {
        if let Some(count) = self.loaded.run()? {
            return Ok(count);
        }
        let tasks = task_count(&self.builder.proc_root).unwrap_or(0);
        let capacity = records_capacity(tasks.max(self.loaded.capacity));
        let net = self.builder.net.as_ref().ok().map(NetCounting::counters_fd);
        // Capabilities were dropped after the first load: the ones a load
        // needs are raised from the permitted set for this one.
        // The same kind of walk as before: the kernel has not changed.
        let kind = match self.loaded.kind {
            WalkKind::OpenCoded => WalkChoice::OpenCoded,
            WalkKind::TaskIterator => WalkChoice::Iter,
        };
        self.loaded =
            crate::privileges::with_load_caps(|| load(kind, capacity, &self.sys_root, net))?;
        self.loaded
            .run()?
            .ok_or_else(|| anyhow!("more than {capacity} tasks appeared during one walk"))
    }
}

impl ProcessBuilder {
    /// The sample of process `pid`; processes must come in increasing pid
    /// order (the memo is merged with them).
    fn build_process(
        &mut self,
        pid: u32,
        accum: ProcessAccum,
        leader: &task_record,
        names: &[u8],
    ) -> ProcessSample {
        let kernel_thread = ProcessAccum::is_kernel_thread(leader);
        let start_time_ns = leader.start_boottime;
        let previous = self.memo.previous(pid, start_time_ns);
        let counters = never_backwards(
            previous.map(|r| &r.counters),
            accum.sum_exec_runtime + leader.dead_sum_exec_runtime,
            accum.utime + leader.dead_utime,
            accum.stime + leader.dead_stime,
            Counters {
                utime_ns: 0,
                stime_ns: 0,
                minflt: accum.min_flt + leader.dead_min_flt,
                majflt: accum.maj_flt + leader.dead_maj_flt,
                io: IoCounters {
                    rchar: accum.io.rchar + leader.dead_rchar,
                    wchar: accum.io.wchar + leader.dead_wchar,
                    read_bytes: accum.io.read_bytes + leader.dead_read_bytes,
                    write_bytes: accum.io.write_bytes + leader.dead_write_bytes,
                },
            },
        );
        // argv is read once per process and exec (self_exec_id changes),
        // and at every refresh for watched processes, whose title may have
        // been rewritten in place (a failed re-read keeps the last one).
        let argv = if kernel_thread || !ProcessAccum::has_mm(leader) {
            None
        } else {
            let kept = previous
                .filter(|r| r.exec_id == leader.exec_id)
                .and_then(|r| r.argv.clone());
            match kept {
                Some(argv) if self.watched.contains(pid) => {
                    read_argv(&self.proc_root, pid).or(Some(argv))
                }
                Some(argv) => Some(argv),
                None if self.defer_cmdlines => None,
                None => read_argv(&self.proc_root, pid),
            }
        };
        let cmdline = argv.clone().unwrap_or_else(|| self.no_argv.clone());
        self.memo.remember(
            pid,
            Remembered {
                start_time_ns,
                exec_id: leader.exec_id,
                argv,
                counters,
            },
        );
        let page = self.page_size;
        // /proc clamps each counter at zero (percpu_counter_read_positive).
        let pages = |v: i64| v.max(0) as u64;
        let (rss, shared, virt) = if ProcessAccum::has_mm(leader) {
            let file = pages(leader.rss_file);
            let anon = pages(leader.rss_anon);
            let shmem = pages(leader.rss_shmem);
            // Saturating: an address space torn down mid-walk may read
            // as garbage, which must not overflow.
            (
                file.saturating_add(anon)
                    .saturating_add(shmem)
                    .saturating_mul(page),
                file.saturating_add(shmem).saturating_mul(page),
                leader.total_vm.saturating_mul(page),
            )
        } else {
            (0, 0, 0)
        };
        if leader.record_flags & REC_PRECISE_RSS != 0 {
            self.precise_rss = true;
        }
        let cgroup = match leader.cgroup_id {
            0 => None,
            id => self.cgroups.resolve(id, pid),
        };
        let net = match &mut self.net {
            Ok(counting) => Some(NetCounters {
                rx_bytes: leader.net_rx_bytes,
                tx_bytes: leader.net_tx_bytes,
                iface: counting.iface_name(leader.net_iface),
            }),
            Err(_) => None,
        };
        ProcessSample {
            pid,
            ppid: leader.ppid,
            uid: leader.uid,
            euid: leader.euid,
            state: state_letter(leader.state, leader.exit_state),
            comm: shown_name(leader, names),
            cmdline,
            nice: leader.static_prio - 120,
            priority: leader.prio - 100,
            threads: leader.nr_threads,
            processor: leader.processor,
            tty_nr: encode_tty(leader.tty_major, leader.tty_minor),
            start_time_ns,
            utime_ns: counters.utime_ns,
            stime_ns: counters.stime_ns,
            rss_bytes: rss,
            shared_bytes: shared,
            virt_bytes: virt,
            minflt: counters.minflt,
            majflt: counters.majflt,
            // /proc/PID/status counts the leader's own switches only.
            nvcsw: leader.nvcsw,
            nivcsw: leader.nivcsw,
            io: Some(counters.io),
            net,
            cgroup,
            kernel_thread,
            thread_list: accum.threads,
        }
    }
}

/// new_encode_dev(MKDEV(major, minor)), the form /proc/PID/stat's tty_nr has.
fn encode_tty(major: u32, minor: u32) -> u32 {
    if major == 0 && minor == 0 {
        return 0;
    }
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

impl Collector for BpfCollector {
    fn kind(&self) -> BackendKind {
        BackendKind::Bpf
    }

    fn set_threads(&mut self, threads: bool) {
        self.aggregator.keep_threads = threads;
        self.init.set_threads(threads);
    }

    fn defer_cmdlines(&mut self, defer: bool) {
        self.builder.defer_cmdlines = defer;
    }

    fn watch_titles(&mut self, pids: &[u32]) {
        self.builder.watched.set(pids);
    }

    fn collect(&mut self) -> anyhow::Result<Sample> {
        let boottime_ns = clock::boottime_ns();
        let unix_time = clock::unix_time();
        let count = self.walk()?;
        let records = records(self.loaded.records.bytes(count * RECORD_SIZE));
        let walk_state = decode_walk_state(self.loaded.walk.bytes(size_of::<walk_state>()));
        let named = (walk_state.names as usize).min(names_capacity(self.loaded.capacity));
        let names = self.loaded.names.bytes(named * NAME_SIZE);
        let network = self.network_status();
        let agg = &mut self.aggregator;
        agg.group(&records);

        let mut sample = Sample {
            backend: BackendKind::Bpf,
            boottime_ns,
            unix_time,
            system: SystemSample::default(),
            processes: Vec::with_capacity(agg.processes.len()),
            user_threads: 0,
            kernel_threads: 0,
            running_threads: 0,
            cgroups: Default::default(),
            network,
            gpu: Default::default(),
            gpu_status: Default::default(),
        };
        let mut live_cgroups = FxHashSet::default();
        let mut last_cgroup = None;
        let builder = &mut self.builder;
        // In pid order, as the memo's merge needs and the sample promises;
        // the walk's order is nearly that already (creation order, or tid
        // order), which the stable sort's run detection makes cheap.
        agg.processes.sort_by_key(|(pid, _)| *pid);
        for (pid, accum) in agg.processes.drain(..) {
            sample.running_threads += accum.running_threads;
            let threads = accum.thread_count;
            let Some(leader) = accum.leader.map(|i| &records[i]) else {
                continue;
            };
            // Neighbours mostly share a cgroup: skip the repeats.
            if last_cgroup != Some(leader.cgroup_id) {
                live_cgroups.insert(leader.cgroup_id);
                last_cgroup = Some(leader.cgroup_id);
            }
            let p = builder.build_process(pid, accum, leader, names);
            if p.kernel_thread {
                sample.kernel_threads += 1;
            } else {
                sample.user_threads += threads;
            }
            sample.processes.push(p);
        }
        builder.cgroups.retain(|id| live_cgroups.contains(&id));
        builder.memo.end_refresh();
        self.init.fill(&mut sample);
        Ok(sample)
    }
}
