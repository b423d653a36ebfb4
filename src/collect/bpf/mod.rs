//! The eBPF backend: one walk over every task per refresh.
//!
//! The walk program stores one record per task in an mmapable array map,
//! which we then decode in place. Where the kernel has the open-coded task
//! iterator (6.7), the walk is one BPF_PROG_RUN of a syscall program that
//! follows the task lists itself; elsewhere the `iter/task` program stays
//! attached, and each refresh opens a fresh iterator fd from its link and
//! reads it to its end. Either way the syscalls per refresh are a constant
//! handful however many tasks there are. Work outside the walk happens only
//! for processes that are new or have exec'd (their cmdline), for processes
//! that ran and whose title is due to be read again (collect/titles.rs),
//! and for cgroups never seen before (their path).

mod argv_walk;
mod assemble;
mod cmdline;
mod delayacct;
pub mod drm_fds;
mod exit_finals;
pub mod exits;
mod init_process;
mod libbpf_log;
mod load;
mod mapped;
mod memo;
mod monotonic;
pub mod net;
pub mod record;
mod skel;
pub mod walk_floor;
mod walker;

use rustc_hash::FxHashSet;
use std::mem::size_of;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};

use self::argv_walk::{ArgvTable, ArgvWalk};
use self::assemble::Resolved;
use self::cmdline::read_argv;
use self::exits::ExitCapture;
use self::load::{load, names_capacity, records_capacity, Loaded};
use self::memo::{ProcessMemo, Remembered};
use self::net::NetCounting;
use self::record::{
    decode_walk_state, records, Aggregator, ProcessAccum, NAME_SIZE, RECORD_SIZE, REC_PRECISE_RSS,
};
use self::skel::task_iter::types::{task_record, walk_state};
pub use self::walker::WalkKind;
use super::cgroup_map::CgroupMap;
use super::cgroups::{CgroupResolver, Hierarchy};
use super::clock;
use super::sample::{
    Argv, BackendKind, ExecEvent, ExitedProcess, Exits, NetCounters, NetworkStatus, ProcessSample,
    Sample, SystemSample,
};
use super::titles;
use super::{CollectOptions, Collector, WalkChoice};

pub struct BpfCollector {
    loaded: Loaded,
    /// The walk's records grouped into processes (buffers reused).
    aggregator: Aggregator,
    sys_root: PathBuf,
    builder: ProcessBuilder,
    init: init_process::InitProcess,
    /// Whether the kernel counts stalls now (kernel.task_delayacct).
    delayacct: delayacct::DelayAcctSwitch,
    /// The exit programs, or why they are not running.
    exits: Result<ExitCapture, String>,
    /// The walk that reads every command line at once, or why it cannot
    /// load (then /proc is read per process, as it is after the first
    /// refresh anyway).
    argv_walk: Result<ArgvWalk, String>,
}

/// Turns a walk's per-process accumulations into samples: reads what the
/// records do not hold (argv, cgroup paths, interface names) and keeps the
/// state that outlives a refresh (caches, high-water marks, the network
/// programs); the assembly itself is in `assemble`. Separate from the mapped records it reads, so both can be
/// borrowed at once.
struct ProcessBuilder {
    page_size: u64,
    proc_root: PathBuf,
    cgroups: CgroupResolver,
    /// On hosts without cgroup v2 (whose ids the walk records), cgroups
    /// come from systemd's v1 hierarchy instead, by its tree.
    v1_cgroups: Option<(Hierarchy, CgroupMap)>,
    /// Last refresh's counters and argv of each process.
    memo: ProcessMemo,
    /// Return an empty argv for processes not read yet (see
    /// `Collector::defer_cmdlines`).
    defer_cmdlines: bool,
    /// This refresh's command lines from the argv walk, where it ran (the
    /// first refresh's read while the programs loaded).
    bulk_argv: Option<ArgvTable>,
    /// The argv of kernel threads and of processes without one, shared.
    no_argv: Argv,
    /// The network programs, or why they are not running.
    net: Result<NetCounting, String>,
    /// Some record had exact RSS (the per-CPU parts summed).
    precise_rss: bool,
    /// Processes whose command line is read at every refresh (when they
    /// ran).
    watched: titles::WatchedTitles,
    /// Which titles are read again at this refresh (when they ran).
    sweep: titles::TitleSweep,
}

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

/// Whether the argv walk may run: it reads every process's memory with the
/// loader's privileges, past a `hidepid` mount of /proc, so only for root;
/// a capability copy run by an ordinary user reads /proc per process.
fn argv_walk_allowed() -> Result<(), String> {
    // SAFETY: getuid cannot fail and touches no memory.
    if unsafe { libc::getuid() } == 0 {
        Ok(())
    } else {
        Err("not run as root: command lines are read from /proc".to_owned())
    }
}

/// Loads with a larger records map per walk before a refresh gives up.
const GROWTH_ATTEMPTS: usize = 4;

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
        // The first refresh needs every process's command line: the walk
        // that reads them runs on a thread of its own while the other
        // programs load (it is loaded first, so that libbpf's log of one
        // load is never mixed with another's).
        let argv_first = argv_walk_allowed()
            .and_then(|()| ArgvWalk::open().map_err(|e| format!("{e:#}")))
            .and_then(|walk| {
                // About 60 bytes a process; allocated here so that the
                // memory is this thread's arena's, not the walk thread's.
                let mut bytes = Vec::with_capacity(tasks.saturating_mul(64));
                std::thread::Builder::new()
                    .name("argv walk".to_owned())
                    .spawn(move || {
                        let read = walk.read_into(&mut bytes).is_ok();
                        (walk, read.then_some(bytes))
                    })
                    .map_err(|e| format!("starting the command-line walk: {e}"))
            });
        let mut net = NetCounting::start(options.net);
        let exits = ExitCapture::start(net.as_ref().ok().map(NetCounting::shared_maps));
        if let (Ok(net), Ok(_)) = (net.as_mut(), exits.as_ref()) {
            net.hand_over_exit_cleanup();
        }
        let loaded = load(
            options.walk,
            records_capacity(tasks),
            &options.sys_root,
            net.as_ref().ok().map(NetCounting::shared_maps),
        )?;
        let mut collector = BpfCollector {
            loaded,
            sys_root: options.sys_root.clone(),
            aggregator: Aggregator::new(options.threads),
            builder: ProcessBuilder {
                page_size: clock::page_size(),
                proc_root: options.proc_root.clone(),
                cgroups: CgroupResolver::new(&options.proc_root),
                v1_cgroups: match Hierarchy::find(&options.proc_root) {
                    Some(h @ Hierarchy::V1Systemd(_)) => Some((h, CgroupMap::default())),
                    _ => None,
                },
                memo: ProcessMemo::default(),
                defer_cmdlines: false,
                bulk_argv: None,
                no_argv: Argv::from(Vec::new()),
                net,
                precise_rss: false,
                watched: titles::WatchedTitles::default(),
                sweep: titles::TitleSweep::default(),
            },
            init: init_process::InitProcess::new(options),
            delayacct: delayacct::DelayAcctSwitch::open(&options.proc_root),
            exits,
            argv_walk: Err(String::new()),
        };
        (collector.argv_walk, collector.builder.bulk_argv) = match argv_first.map(|t| t.join()) {
            Ok(Ok((walk, bytes))) => (Ok(walk), bytes.map(ArgvTable::new)),
            Ok(Err(_)) => (Err("the command-line walk panicked".to_owned()), None),
            Err(reason) => (Err(reason), None),
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
        let mapped = collector.loaded.records.map_first(count)?;
        collector.builder.precise_rss = records(mapped.bytes(count * RECORD_SIZE))
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

    /// The exit programs, or why they are not running.
    pub fn exit_capture(&self) -> &Result<ExitCapture, String> {
        &self.exits
    }

    /// The processes that exited since the last call (cgroups resolved
    /// through the cache the walk fills, or the parent's cgroup file).
    fn drain_exits(&mut self) -> Exits {
        let capture = match &mut self.exits {
            Ok(capture) => capture,
            Err(reason) => {
                return Exits {
                    capture: crate::collect::sample::ExitCapture::Off {
                        reason: reason.clone(),
                    },
                    ..Default::default()
                }
            }
        };
        let arrived = capture.drain();
        let page_size = self.builder.page_size;
        // An id unknown to the cache is tried once per refresh, through the
        // parent (which is often in the same cgroup).
        let mut tried = FxHashSet::default();
        let cgroups = &mut self.builder.cgroups;
        let mut cgroup = |id: u64, ppid: u32| {
            if id != 0 && (cgroups.knows(id) || tried.insert(id)) {
                cgroups.resolve(id, ppid)
            } else {
                None
            }
        };
        let processes: Vec<ExitedProcess> = arrived
            .exits
            .iter()
            .map(|r| {
                let mut p = exits::decode(r, arrived.argv_of(r), page_size, capture.net);
                p.cgroup = cgroup(r.cgroup_id, r.ppid);
                p
            })
            .collect();
        let late = arrived
            .late
            .iter()
            .map(|l| exits::decode_late(l, cgroup(l.cgroup_id, l.ppid)))
            .collect();
        let execs = arrived
            .execs
            .iter()
            .map(|e| ExecEvent {
                pid: e.pid,
                ppid: e.ppid,
                cgroup: cgroup(e.cgroup_id, e.ppid),
            })
            .collect();
        Exits {
            capture: crate::collect::sample::ExitCapture::On {
                hook: capture.hook,
                oom: capture.oom,
                final_cpu: capture.finals,
            },
            processes,
            dropped: capture.dropped(),
            late,
            finals_dropped: capture.finals_dropped(),
            execs,
        }
    }

    /// Whether the walk that reads every command line at once loaded, or
    /// why not.
    pub fn argv_walk(&self) -> Result<(), &str> {
        self.argv_walk.as_ref().map(|_| ()).map_err(String::as_str)
    }

    /// One walk alone, timed: the tasks it recorded and how long it took.
    /// The open-coded walk holds the RCU read lock from its first task to
    /// its last, so this is also the length of that read-side section.
    pub fn timed_walk(&mut self) -> anyhow::Result<(usize, std::time::Duration)> {
        let start = std::time::Instant::now();
        let count = self.walk()?;
        Ok((count, start.elapsed()))
    }

    /// How this collector walks the tasks.
    pub fn walk_kind(&self) -> WalkKind {
        self.loaded.kind
    }

    /// Walks all tasks, growing the records map when the system has
    /// outgrown it; returns the number of records.
    fn walk(&mut self) -> anyhow::Result<usize> {
        let read_delays = self.delayacct.on();
        self.loaded.read_delays = read_delays;
        if let Some(count) = self.loaded.run()? {
            return Ok(count);
        }
        // The same kind of walk as before: the kernel has not changed.
        let kind = match self.loaded.kind {
            WalkKind::OpenCoded => WalkChoice::OpenCoded,
            WalkKind::TaskIterator => WalkChoice::Iter,
        };
        // Room for the tasks there are now; where a fork storm outruns even
        // that during the walk, at least twice the last map each time.
        let mut floor = self.loaded.capacity;
        for _ in 0..GROWTH_ATTEMPTS {
            let tasks = task_count(&self.builder.proc_root).unwrap_or(0);
            let capacity = records_capacity(tasks.max(floor));
            let net = self.builder.net.as_ref().ok().map(NetCounting::shared_maps);
            // Capabilities were dropped after the first load: the ones a
            // load needs are raised from the permitted set for this one.
            self.loaded =
                crate::privileges::with_load_caps(|| load(kind, capacity, &self.sys_root, net))?;
            self.loaded.read_delays = read_delays;
            if let Some(count) = self.loaded.run()? {
                return Ok(count);
            }
            floor = capacity * 2;
        }
        Err(anyhow!(
            "more than {} tasks appeared during one walk, {GROWTH_ATTEMPTS} times",
            self.loaded.capacity
        ))
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
        let counters = assemble::counters(previous.map(|r| &r.counters), &accum, leader);
        let cpu_ns = counters.utime_ns + counters.stime_ns;
        // argv is read once per process and exec (self_exec_id changes),
        // and again when its title may have been rewritten in place: the
        // process ran since the last read, and it is on screen or its turn
        // in the sweep came (collect/titles.rs). A failed re-read keeps the
        // last one.
        let (argv, title_cpu_ns) = if kernel_thread || !ProcessAccum::has_mm(leader) {
            (None, cpu_ns)
        } else {
            let kept = previous
                .filter(|r| r.exec_id == leader.exec_id)
                .and_then(|r| Some((r.argv.clone()?, r.title_cpu_ns)));
            match kept {
                Some((argv, read_at))
                    if read_at != cpu_ns && (self.watched.contains(pid) || self.sweep.due(pid)) =>
                {
                    match read_argv(&self.proc_root, pid) {
                        // The same title: the shared one stays.
                        Some(new) if new == argv => (Some(argv), cpu_ns),
                        Some(new) => (Some(new), cpu_ns),
                        None => (Some(argv), read_at),
                    }
                }
                Some((argv, read_at)) => (Some(argv), read_at),
                None => match self
                    .bulk_argv
                    .as_ref()
                    .and_then(|t| t.get(pid, start_time_ns, leader.exec_id))
                {
                    Some(argv) => (Some(argv), cpu_ns),
                    None if self.defer_cmdlines => (None, cpu_ns),
                    None => (read_argv(&self.proc_root, pid), cpu_ns),
                },
            }
        };
        let cmdline = argv.clone().unwrap_or_else(|| self.no_argv.clone());
        self.memo.remember(
            pid,
            Remembered {
                start_time_ns,
                exec_id: leader.exec_id,
                argv,
                title_cpu_ns,
                counters,
            },
        );
        if leader.record_flags & REC_PRECISE_RSS != 0 {
            self.precise_rss = true;
        }
        let cgroup = match (&self.v1_cgroups, leader.cgroup_id) {
            (Some((hierarchy, map)), _) => map.get(pid).or_else(|| {
                let text = std::fs::read(self.proc_root.join(format!("{pid}/cgroup"))).ok()?;
                hierarchy.path_in(&text).map(std::sync::Arc::from)
            }),
            (None, 0) => None,
            (None, id) => self.cgroups.resolve(id, pid),
        };
        let net = match &mut self.net {
            Ok(counting) => Some(NetCounters {
                rx_bytes: leader.net_rx_bytes,
                tx_bytes: leader.net_tx_bytes,
                iface: counting.iface_name(leader.net_iface),
            }),
            Err(_) => None,
        };
        assemble::process_sample(
            pid,
            accum,
            leader,
            names,
            self.page_size,
            counters,
            Resolved {
                cmdline,
                cgroup,
                net,
            },
        )
    }
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
        // Before the walk: a process exiting between the two is reported
        // next time, its last row here being its baseline; drained after
        // the walk, its CPU in between would be counted twice.
        let exits = self.drain_exits();
        let count = self.walk()?;
        // Mapped for this refresh only (unmapped when `mapped` goes, at the
        // end of the refresh): the records need not be resident while the
        // model is built from the sample.
        let mapped = self.loaded.records.map_first(count)?;
        let records = records(mapped.bytes(count * RECORD_SIZE));
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
            exits,
        };
        let mut live_cgroups = FxHashSet::default();
        let builder = &mut self.builder;
        // At the first refresh every process needs its command line: one
        // walk reads them all (the one taken while loading, if it worked).
        // Those it does not have are read from /proc as at any refresh.
        if builder.bulk_argv.is_none() && builder.memo.is_empty() {
            builder.bulk_argv = self.argv_walk.as_ref().ok().and_then(|w| w.read().ok());
        }
        builder.sweep.begin_refresh(boottime_ns);
        if let Some((hierarchy, map)) = &mut builder.v1_cgroups {
            map.refresh(hierarchy, &builder.proc_root);
        }
        assemble::processes(
            &mut agg.processes,
            &records,
            &mut sample,
            &mut live_cgroups,
            |pid, accum, leader| builder.build_process(pid, accum, leader, names),
        );
        builder.cgroups.retain(|id| live_cgroups.contains(&id));
        builder.memo.end_refresh();
        builder.bulk_argv = None;
        self.init.fill(&mut sample);
        Ok(sample)
    }
}
