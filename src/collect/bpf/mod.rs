//! The eBPF backend: one `iter/task` walk per refresh.
//!
//! The iterator program stays attached for the collector's lifetime. Each
//! refresh resets the walk state, opens a fresh iterator fd from the link
//! and reads it to its end: the program stores one record per task in an
//! mmapable array map, which we then decode in place. The syscalls per
//! refresh are a constant handful however many tasks there are. Work
//! outside the walk happens only for processes that are new or have exec'd
//! (their cmdline) and for cgroups never seen before (their path).

mod cmdline;
pub mod drm_fds;
mod libbpf_log;
mod mapped;
mod monotonic;
pub mod net;
pub mod record;
pub mod walk_floor;

#[allow(clippy::all, clippy::unwrap_used, clippy::expect_used)]
#[allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    dead_code
)]
mod skel {
    include!(concat!(env!("OUT_DIR"), "/task_iter.skel.rs"));
}

#[allow(clippy::all, clippy::unwrap_used, clippy::expect_used)]
#[allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    dead_code
)]
mod net_skel {
    include!(concat!(env!("OUT_DIR"), "/net.skel.rs"));
}

#[allow(clippy::all, clippy::unwrap_used, clippy::expect_used)]
#[allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    dead_code
)]
mod drm_fds_skel {
    include!(concat!(env!("OUT_DIR"), "/drm_fds.skel.rs"));
}

#[allow(clippy::all, clippy::unwrap_used, clippy::expect_used)]
#[allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    dead_code
)]
mod walk_floor_skel {
    include!(concat!(env!("OUT_DIR"), "/walk_floor.skel.rs"));
}

use rustc_hash::FxHashSet;
use std::io::Read;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

use self::cmdline::CmdlineCache;
use self::mapped::MappedArray;
use self::monotonic::{Counters, Monotonic};
use self::net::NetCounting;
use self::record::{
    comm_bytes, decode_walk_state, records, Aggregator, ProcessAccum, RECORD_SIZE, REC_PRECISE_RSS,
};
use self::skel::types::walk_state;
use super::cgroups::CgroupResolver;
use super::clock;
use super::sample::{
    BackendKind, IoCounters, NetCounters, NetworkStatus, ProcessSample, Sample, SystemSample,
};
use super::state::state_letter;
use super::{CollectOptions, Collector};

/// The loaded program and the memory its walks write.
struct Loaded {
    link: libbpf_rs::Link,
    records: MappedArray,
    walk: MappedArray,
    capacity: usize,
}

/// Room for this many more tasks than exist at load time before a reload.
const CAPACITY_FACTOR: usize = 2;
const MIN_CAPACITY: usize = 4096;

pub struct BpfCollector {
    loaded: Loaded,
    keep_threads: bool,
    sys_root: PathBuf,
    builder: ProcessBuilder,
}

/// Turns a walk's per-process accumulations into samples, with the state
/// that outlives a refresh (caches, high-water marks, the network
/// programs). Separate from the mapped records it reads, so both can be
/// borrowed at once.
struct ProcessBuilder {
    page_size: u64,
    proc_root: PathBuf,
    cgroups: CgroupResolver,
    cmdlines: CmdlineCache,
    monotonic: Monotonic,
    /// The network programs, or why they are not running.
    net: Result<NetCounting, String>,
    /// Some record had exact RSS (the per-CPU parts summed).
    precise_rss: bool,
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
fn load(capacity: usize, sys_root: &Path, net: Option<BorrowedFd>) -> anyhow::Result<Loaded> {
    let possible = sys_root.join("devices/system/cpu/possible");
    let nr_cpus = std::fs::read_to_string(&possible)
        .ok()
        .and_then(|l| cpu_id_limit(&l))
        .ok_or_else(|| anyhow!("cannot read the CPU list {}", possible.display()))?;
    let mut attempt = 1;
    loop {
        let result = load_with(capacity, nr_cpus, true, net)
            .or_else(|_| load_with(capacity, nr_cpus, false, net));
        match result {
            Err(e) if is_transient(&e) && attempt < LOAD_ATTEMPTS => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// `net`: the network programs' counters map, which the iterator then reads.
fn load_with(
    capacity: usize,
    nr_cpus: u32,
    precise_rss: bool,
    net: Option<BorrowedFd>,
) -> anyhow::Result<Loaded> {
    let _capture = libbpf_log::Capture::start();
    let fail = |e: libbpf_rs::Error| explain_load_error(&e, &libbpf_log::take());

    let mut storage = MaybeUninit::uninit();
    let mut open = skel::TaskIterSkelBuilder::default()
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
    match net {
        Some(fd) => open.maps.net_by_tgid.reuse_fd(fd).map_err(fail)?,
        // Unused: the smallest table the kernel accepts.
        None => open.maps.net_by_tgid.set_max_entries(1).map_err(fail)?,
    }

    let loaded = open.load().map_err(fail)?;
    let link = loaded.progs.dump_task.attach().map_err(fail)?;
    let records = MappedArray::map(&loaded.maps.records, RECORD_SIZE, capacity)?;
    let walk = MappedArray::map(&loaded.maps.walk, size_of::<walk_state>(), 1)?;
    // The link and the mappings keep the program and maps alive; the
    // skeleton's object (and its borrow of `storage`) can go.
    Ok(Loaded {
        link,
        records,
        walk,
        capacity,
    })
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
            (tasks * CAPACITY_FACTOR).max(MIN_CAPACITY),
            &options.sys_root,
            net.as_ref().ok().map(NetCounting::counters_fd),
        )?;
        let mut collector = BpfCollector {
            loaded,
            sys_root: options.sys_root.clone(),
            keep_threads: options.threads,
            builder: ProcessBuilder {
                page_size: clock::page_size(),
                proc_root: options.proc_root.clone(),
                cgroups: CgroupResolver::new(&options.proc_root),
                cmdlines: CmdlineCache::default(),
                monotonic: Monotonic::default(),
                net,
                precise_rss: false,
            },
        };
        // One walk proves the iterator works before auto commits to it
        // (the walk alone: building samples is ordinary code).
        let count = collector
            .walk()
            .context("first walk of the task iterator")?;
        if count == 0 {
            return Err(anyhow!("the task iterator returned no tasks"));
        }
        collector.builder.precise_rss =
            records(collector.loaded.records.bytes(count * RECORD_SIZE))
                .iter()
                .any(|r| r.record_flags & REC_PRECISE_RSS != 0);
        Ok(collector)
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

    /// Runs one walk; returns the number of records, or None when the
    /// records map was too small for all tasks.
    fn run_walk(&mut self) -> anyhow::Result<Option<usize>> {
        self.loaded.walk.bytes_mut(size_of::<walk_state>()).fill(0);
        let mut iter =
            libbpf_rs::Iter::new(&self.loaded.link).context("opening the task iterator")?;
        let mut end = [0u8; 64];
        loop {
            match iter.read(&mut end) {
                Ok(0) => break,
                Ok(_) => continue,
                // More than a million tasks without output: the kernel asks
                // us to read again, and the walk goes on.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e).context("reading the task iterator"),
            }
        }
        let state = decode_walk_state(self.loaded.walk.bytes(size_of::<walk_state>()));
        if state.dropped > 0 {
            return Ok(None);
        }
        Ok(Some((state.count as usize).min(self.loaded.capacity)))
    }

    /// Walks all tasks, growing the records map when the system has
    /// outgrown it; returns the number of records.
    fn walk(&mut self) -> anyhow::Result<usize> {
        if let Some(count) = self.run_walk()? {
            return Ok(count);
        }
        let tasks = task_count(&self.builder.proc_root).unwrap_or(0);
        let capacity = (tasks * CAPACITY_FACTOR).max(self.loaded.capacity * 2);
        let net = self.builder.net.as_ref().ok().map(NetCounting::counters_fd);
        // Capabilities were dropped after the first load: the ones a load
        // needs are raised from the permitted set for this one.
        self.loaded = crate::privileges::with_load_caps(|| load(capacity, &self.sys_root, net))?;
        self.run_walk()?
            .ok_or_else(|| anyhow!("more than {capacity} tasks appeared during one walk"))
    }
}

impl ProcessBuilder {
    fn build_process(&mut self, pid: u32, accum: ProcessAccum) -> Option<ProcessSample> {
        let leader = accum.leader?;
        let kernel_thread = ProcessAccum::is_kernel_thread(leader);
        let start_time_ns = leader.start_boottime;
        let key = crate::collect::sample::ProcessKey { pid, start_time_ns };
        let counters = self.monotonic.apply(
            key,
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
        let cmdline = if kernel_thread || !ProcessAccum::has_mm(leader) {
            Vec::new().into()
        } else {
            self.cmdlines
                .get(&self.proc_root, pid, start_time_ns, leader.exec_id)
        };
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
        Some(ProcessSample {
            pid,
            ppid: leader.ppid,
            uid: leader.uid,
            euid: leader.euid,
            state: state_letter(leader.state, leader.exit_state),
            comm: comm_bytes(&leader.comm),
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
        })
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
        self.keep_threads = threads;
    }

    fn defer_cmdlines(&mut self, defer: bool) {
        self.builder.cmdlines.defer = defer;
    }

    fn collect(&mut self) -> anyhow::Result<Sample> {
        let boottime_ns = clock::boottime_ns();
        let unix_time = clock::unix_time();
        let count = self.walk()?;
        let records = records(self.loaded.records.bytes(count * RECORD_SIZE));
        let mut agg = Aggregator::new(self.keep_threads, count);
        agg.add_records(&records);

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
            network: self.network_status(),
            gpu: Default::default(),
            gpu_status: Default::default(),
        };
        let mut live_cgroups = FxHashSet::default();
        let builder = &mut self.builder;
        for (pid, accum) in agg.processes {
            sample.running_threads += accum.running_threads;
            let threads = accum.thread_count;
            if let Some(leader) = accum.leader {
                live_cgroups.insert(leader.cgroup_id);
            }
            let Some(p) = builder.build_process(pid, accum) else {
                continue;
            };
            if p.kernel_thread {
                sample.kernel_threads += 1;
            } else {
                sample.user_threads += threads;
            }
            sample.processes.push(p);
        }
        builder.cgroups.retain(|id| live_cgroups.contains(&id));
        builder.cmdlines.end_refresh();
        builder.monotonic.end_refresh();
        sample.processes.sort_unstable_by_key(|p| p.pid);
        Ok(sample)
    }
}
