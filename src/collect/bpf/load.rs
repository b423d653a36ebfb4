//! Loading the walk program: the walk of the kind asked for (or the one
//! this kernel has), with exact RSS where the verifier accepts it, its
//! records mapped into our memory. Everything here talks to the kernel;
//! turning the records into processes is elsewhere.

use super::net::SharedNetMaps;
use std::mem::{size_of, MaybeUninit};
use std::path::Path;

use anyhow::{anyhow, Context};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

use super::libbpf_log;
use super::mapped::{MappableArray, MappedArray};
use super::record::{decode_walk_state, NAME_SIZE, RECORD_SIZE};
use super::skel::task_iter::types::walk_state;
use super::walker::{WalkKind, Walker};
use crate::collect::WalkChoice;

/// The loaded program and the memory its walks write.
pub struct Loaded {
    walker: Walker,
    /// Mapped only while a refresh reads them.
    pub records: MappableArray,
    pub walk: MappedArray,
    /// Kernel threads' names longer than comm (intf.h: kthread_names).
    pub names: MappedArray,
    pub capacity: usize,
    pub kind: WalkKind,
    /// Records of the walk run at load time, if one was (None also when
    /// it outgrew the map).
    pub proving_walk: Option<usize>,
    /// Whether the walks read the stall counters (task->delays).
    pub read_delays: bool,
}

/// Records for `tasks` tasks plus room to grow before a reload (which
/// costs a program load): a quarter more, at least 4096. The whole map is
/// memory bpftop holds (mapped, it counts in its RSS), so not more.
pub fn records_capacity(tasks: usize) -> usize {
    tasks + (tasks / 4).max(4096)
}

/// Entries for kernel threads' long names: kernel threads are a small part
/// of the tasks on any machine (a few per CPU plus the workers). Those
/// beyond it keep their comm.
pub fn names_capacity(records: usize) -> usize {
    (records / 8).max(1024)
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

/// Highest possible CPU number + 1, from a cpu list such as "0-3,8-11"
/// (per-CPU data is indexed by CPU number, and the list may have holes).
pub fn cpu_id_limit(list: &str) -> Option<u32> {
    list.trim()
        .split(',')
        .filter_map(|range| range.rsplit('-').next()?.trim().parse::<u32>().ok())
        .max()
        .map(|highest| highest + 1)
}

/// Loads with exact RSS first; a kernel whose verifier rejects the per-CPU
/// loop (e.g. thousands of possible CPUs) gets the approximate RSS instead.
pub fn load(
    choice: WalkChoice,
    capacity: usize,
    sys_root: &Path,
    net: Option<SharedNetMaps>,
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

/// How the open-coded walk's loop body reaches the verifier (task_iter.bpf.c,
/// walk_one): as a global function checked once, where the kernel takes its
/// untrusted task argument, else inline (start-up slower by most of a
/// second). The iterator's program has one body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoopBody {
    Global,
    Inline,
}

/// Loads the walk of `kind`, with exact RSS if the verifier accepts it.
fn load_kind(
    kind: WalkKind,
    capacity: usize,
    nr_cpus: u32,
    net: Option<SharedNetMaps>,
) -> anyhow::Result<Loaded> {
    let bodies: &[LoopBody] = match kind {
        WalkKind::OpenCoded => &[LoopBody::Global, LoopBody::Inline],
        WalkKind::TaskIterator => &[LoopBody::Inline],
    };
    let mut failure = None;
    for precise_rss in [true, false] {
        for &body in bodies {
            match load_with(kind, body, capacity, nr_cpus, precise_rss, net) {
                Ok(loaded) => return Ok(loaded),
                Err(e) => failure = Some(e),
            }
        }
    }
    Err(failure.unwrap_or_else(|| anyhow!("no walk program to load")))
}

/// `net`: the network programs' counters maps, which the walk then reads.
fn load_with(
    kind: WalkKind,
    body: LoopBody,
    capacity: usize,
    nr_cpus: u32,
    precise_rss: bool,
    net: Option<SharedNetMaps>,
) -> anyhow::Result<Loaded> {
    let _capture = libbpf_log::Capture::start();
    let fail = |e: libbpf_rs::Error| explain_load_error(&e, &libbpf_log::take());

    let mut storage = MaybeUninit::uninit();
    let mut open = super::skel::task_iter::TaskIterSkelBuilder::default()
        .open(&mut storage)
        .map_err(fail)?;
    let rodata = open
        .maps
        .rodata_data
        .as_deref_mut()
        .ok_or_else(|| anyhow!("the BPF object has no read-only data section"))?;
    super::skel::check_record_size(
        "the task walk",
        Some(rodata.record_size as usize),
        RECORD_SIZE,
    )?;
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
        Some(net) => {
            open.maps.net_by_tgid.reuse_fd(net.counters).map_err(fail)?;
            open.maps.net_seen.reuse_fd(net.seen).map_err(fail)?;
        }
        // Unused: the smallest table the kernel accepts.
        None => open.maps.net_by_tgid.set_max_entries(1).map_err(fail)?,
    }

    let progs = &mut open.progs;
    let (open_coded, other_body) = match body {
        LoopBody::Global => (&mut progs.walk_tasks, &mut progs.walk_tasks_inline),
        LoopBody::Inline => (&mut progs.walk_tasks_inline, &mut progs.walk_tasks),
    };
    other_body.set_autoload(false);
    kind.enable(open_coded, &mut progs.dump_task);
    let loaded = open.load().map_err(fail)?;
    let open_coded = match body {
        LoopBody::Global => &loaded.progs.walk_tasks,
        LoopBody::Inline => &loaded.progs.walk_tasks_inline,
    };
    let walker = Walker::new(kind, open_coded, &loaded.progs.dump_task)?;
    let records = MappableArray::new(&loaded.maps.records, RECORD_SIZE, capacity)?;
    let walk = MappedArray::map(&loaded.maps.walk, size_of::<walk_state>(), 1)?;
    let names = MappedArray::map(
        &loaded.maps.kthread_names,
        NAME_SIZE,
        names_capacity(capacity),
    )?;
    // The program's fd (or link), the records map's fd and the mappings
    // keep the program and maps alive; the skeleton's object (and its
    // borrow of `storage`) can go.
    let mut loaded = Loaded {
        walker,
        records,
        walk,
        names,
        capacity,
        kind,
        proving_walk: None,
        read_delays: false,
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
    pub fn run(&mut self) -> anyhow::Result<Option<usize>> {
        // (walk_tasks also resets it itself.)
        let state = self.walk.bytes_mut(size_of::<walk_state>());
        state.fill(0);
        let flag = std::mem::offset_of!(walk_state, read_delays);
        state[flag..flag + 8].copy_from_slice(&u64::from(self.read_delays).to_ne_bytes());
        self.walker.walk()?;
        let state = decode_walk_state(self.walk.bytes(size_of::<walk_state>()));
        if state.dropped > 0 {
            return Ok(None);
        }
        Ok(Some((state.count as usize).min(self.capacity)))
    }
}
