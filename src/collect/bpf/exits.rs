//! Exit capture: loads exits.bpf.c with the best hooks this kernel offers
//! and drains its ring buffer once per refresh.
//!
//! Draining is one `consume` over the ring's mapped pages (no syscall per
//! exit, none at all when nothing exited); the drop counter is read from a
//! mapped array. Between refreshes a thread sleeps on the ring; the kernel
//! wakes it only when the ring is more than half full (a fork storm at a
//! long refresh interval, such as the exporter's five seconds), so it
//! empties the ring before it overflows. At ordinary exit rates it never
//! wakes: no syscall at all. Each exec comes through the same ring (for
//! the exec rates), and its argv is kept here per process until its exit
//! record follows (the exit itself
//! then copies and looks up nothing). Each process's final CPU time follows
//! its record into the ring when the process is freed (exit_finals.rs pairs
//! them).

use super::net::SharedNetMaps;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{MapHandle, RingBuffer, RingBufferBuilder};
use rustc_hash::FxHashMap;

use super::exit_finals::{Arrival, Exec, Finals};
pub use super::exit_finals::{Arrivals, LateFinal};
use super::libbpf_log;
use super::mapped::MappedArray;
use super::monotonic::adjust_cputime;
use super::record::comm_bytes;
use super::skel::exits as exits_skel;
use super::skel::exits::types::{exec_argv, exit_final, exit_record, exit_stats};
use crate::collect::procfs::split_cmdline;
use crate::collect::sample::{ExitHook, ExitStatus, ExitedProcess, IoCounters, LateExitCpu};

/// Bytes of the ring buffer: about 2 000 exec'd processes (an exec with its
/// argv is 296 bytes with its header, the exit record 176, its final CPU
/// 32), about 5 000 forked ones that do not exec. The reader thread empties
/// it from half full, so half of it is the margin for that thread's wakeup
/// (about 70 ms of exec'd processes at 15 000 a second). Userspace maps
/// the data twice and all of it is resident from the start: 2 MiB of our
/// RSS, half of it at ordinary scale (4 MiB rings made it 8 MiB).
pub const RING_BYTES: u32 = 1 << 20;
/// Processes whose argv (from their last exec) is kept at once, awaiting
/// their exit; beyond, new execs are not kept.
const ARGV_KEPT: usize = 1 << 16;

/// One item of the ring, as the callback saw it.
enum Item {
    Exec(Box<exec_argv>),
    Arrival(Arrival),
}

/// The programs of one way of hooking, tried in this order, each first
/// with the program that reports the final CPU (`free_btf` beside tp_btf
/// hooks, `free_raw` beside raw ones), then without it.
const ATTEMPTS: &[(ExitHook, &[&str])] = &[
    (ExitHook::GroupDead, &["exit_group_dead", "exec_btf"]),
    (ExitHook::LastLive, &["exit_last_live", "exec_btf"]),
    (ExitHook::RawTracepoint, &["exit_raw", "exec_raw"]),
];

/// The attached exit programs and what userspace reads of them.
pub struct ExitCapture {
    pub hook: ExitHook,
    /// OOM victims are marked (every hook reads the kernel's own mark,
    /// signal->oom_mm, at the exit).
    pub oom: bool,
    /// Network bytes come with each record.
    pub net: bool,
    /// Each process's final CPU time follows its record (sched_process_free
    /// attached); without it the records hold the CPU at the exit hook.
    pub finals: bool,
    /// Why sched_process_free did not load beside the exit hook, when not.
    pub finals_off: Option<String>,
    /// Dropped before the maps it reads (the consumer thread is joined
    /// first, in Drop).
    ring: Arc<Mutex<RingBuffer<'static>>>,
    /// The reader that empties a filling ring between refreshes, and the
    /// eventfd that tells it to stop.
    consumer: Option<(OwnedFd, JoinHandle<()>)>,
    received: Arc<Mutex<Vec<Item>>>,
    settled: Finals,
    /// tgid -> (start_boottime, argv of its last exec), until its exit.
    argv: FxHashMap<u32, (u64, Box<[u8]>)>,
    stats: MappedArray,
    _ring_map: MapHandle,
    _links: Vec<libbpf_rs::Link>,
}

impl ExitCapture {
    /// Attaches the first set of hooks that loads here; `net_counters` are
    /// the network programs' maps, read and cleaned at each exit. The error
    /// says why each way failed, for `--check`.
    pub fn start(net_counters: Option<SharedNetMaps<'_>>) -> Result<ExitCapture, String> {
        let btf = libbpf_rs::btf::Btf::from_vmlinux()
            .map_err(|_| "the kernel's BTF (/sys/kernel/btf/vmlinux) cannot be read".to_string())?;
        if btf
            .type_by_name::<libbpf_rs::btf::BtfType>("btf_trace_sched_process_exit")
            .is_none()
        {
            return Err("the kernel has no sched_process_exit tracepoint in its BTF".into());
        }
        let mut reasons = Vec::new();
        for finals in [true, false] {
            for (i, &(hook, programs)) in ATTEMPTS.iter().enumerate() {
                let mut wanted = programs.to_vec();
                if finals {
                    wanted.push(if hook == ExitHook::RawTracepoint {
                        "free_raw"
                    } else {
                        "free_btf"
                    });
                }
                match Self::attach(hook, &wanted, net_counters) {
                    Ok(mut capture) => {
                        if !finals {
                            // The same programs' failure with the free hook.
                            capture.finals_off = reasons.get(i).cloned();
                        }
                        return Ok(capture);
                    }
                    Err(e) => reasons.push(format!("{}: {e}", wanted.join("+"))),
                }
            }
        }
        Err(reasons.join("; "))
    }

    fn attach(
        hook: ExitHook,
        wanted: &[&str],
        net_counters: Option<SharedNetMaps<'_>>,
    ) -> Result<ExitCapture, String> {
        let _capture = libbpf_log::Capture::start();
        let fail = libbpf_log::failure;
        let mut storage = MaybeUninit::uninit();
        let mut open = exits_skel::ExitsSkelBuilder::default()
            .open(&mut storage)
            .map_err(|e| fail("opening", e))?;
        for mut prog in open.open_object_mut().progs_mut() {
            let load = wanted.iter().any(|w| prog.name() == *w);
            prog.set_autoload(load);
        }
        let rodata = open
            .maps
            .rodata_data
            .as_deref_mut()
            .ok_or("the exit object has no read-only data")?;
        rodata.read_net = net_counters.is_some();
        rodata.wake_above = u64::from(RING_BYTES / 2);
        if let Some(net) = net_counters {
            open.maps
                .net_by_tgid
                .reuse_fd(net.counters)
                .map_err(|e| fail("sharing the network counters", e))?;
            open.maps
                .net_seen
                .reuse_fd(net.seen)
                .map_err(|e| fail("sharing the network counters", e))?;
        }
        open.maps
            .exits
            .set_max_entries(RING_BYTES)
            .map_err(|e| fail("sizing", e))?;
        let loaded = open.load().map_err(|e| fail("loading", e))?;
        let mut links = Vec::new();
        for prog in loaded.object().progs_mut() {
            if wanted.iter().any(|w| prog.name() == *w) {
                let name = prog.name().to_string_lossy().into_owned();
                links.push(
                    prog.attach()
                        .map_err(|e| fail(&format!("attaching {name}"), e))?,
                );
            }
        }
        let ring_map = MapHandle::try_from(&loaded.maps.exits)
            .map_err(|e| format!("keeping the ring buffer: {e}"))?;
        let stats = MappedArray::map(&loaded.maps.exit_stats, size_of::<exit_stats>(), 1)
            .map_err(|e| format!("{e:#}"))?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&received);
        let mut builder = RingBufferBuilder::new();
        builder
            .add(&ring_map, move |bytes: &[u8]| {
                // SAFETY (each read): the three items are plain integers
                // and byte arrays, valid for any bits; the length was
                // checked (the kernel rounds it up to 8, which none needs).
                let arrival = match bytes.len() {
                    FINAL => Item::Arrival(Arrival::Final(unsafe {
                        std::ptr::read_unaligned(bytes.as_ptr().cast())
                    })),
                    EXIT => Item::Arrival(Arrival::Exit(Box::new(unsafe {
                        std::ptr::read_unaligned(bytes.as_ptr().cast())
                    }))),
                    EXEC => Item::Exec(Box::new(unsafe {
                        std::ptr::read_unaligned(bytes.as_ptr().cast())
                    })),
                    _ => return 0,
                };
                if let Ok(mut v) = sink.lock() {
                    v.push(arrival);
                }
                0
            })
            .map_err(|e| format!("reading the ring buffer: {e}"))?;
        let ring = Arc::new(Mutex::new(
            builder
                .build()
                .map_err(|e| format!("reading the ring buffer: {e}"))?,
        ));
        let consumer = start_reader(&ring, ring_map.as_fd().as_raw_fd())?;
        Ok(ExitCapture {
            hook,
            oom: true,
            net: net_counters.is_some(),
            finals: wanted.iter().any(|w| w.starts_with("free_")),
            finals_off: None,
            ring,
            consumer: Some(consumer),
            received,
            settled: Finals::default(),
            argv: FxHashMap::default(),
            stats,
            _ring_map: ring_map,
            _links: links,
        })
    }

    /// The records written since the last call, oldest first, with the
    /// final CPU of those already freed, and the final CPU of earlier
    /// calls' records freed since.
    pub fn drain(&mut self) -> Arrivals {
        // Consume reads the mapped ring: no syscall unless the kernel must
        // be woken, and never one per record.
        if let Ok(r) = self.ring.lock() {
            let _ = r.consume();
        }
        let items = self
            .received
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        let mut argv = FxHashMap::default();
        let mut execs = Vec::new();
        let mut arrived = Vec::with_capacity(items.len());
        // In ring order: an exec's argv comes before the exit of its
        // process, a later exec's replaces it.
        for item in items {
            match item {
                Item::Exec(e) => {
                    execs.push(Exec {
                        pid: e.pid,
                        ppid: e.ppid,
                        cgroup_id: e.cgroup_id,
                    });
                    let len = (e.len as usize).min(e.argv.len());
                    if len == 0 {
                        // No argv: an earlier program's would be wrong.
                        self.argv.remove(&e.pid);
                    } else if self.argv.len() < ARGV_KEPT || self.argv.contains_key(&e.pid) {
                        let bytes = e.argv[..len].iter().map(|&c| c as u8).collect();
                        self.argv.insert(e.pid, (e.start_boottime, bytes));
                    }
                }
                Item::Arrival(a) => {
                    if let Arrival::Exit(r) = &a {
                        if let Some((start, bytes)) = self.argv.remove(&r.pid) {
                            if start == r.start_boottime {
                                argv.insert((r.pid, start), bytes);
                            }
                        }
                    }
                    arrived.push(a);
                }
            }
        }
        let mut out = self.settled.settle(arrived);
        out.argv = argv;
        out.execs = execs;
        out
    }

    /// Final CPU times lost because the ring buffer was full, since
    /// loading (their processes keep the CPU of their exit records).
    pub fn finals_dropped(&self) -> u64 {
        self.stat(1)
    }

    /// Exits dropped because the ring buffer was full, since loading.
    /// (Records written are not counted in the kernel: a shared counter
    /// bumped by every exit would cost each exit a contended cache line.)
    pub fn dropped(&self) -> u64 {
        self.stat(0)
    }

    /// Word `i` of the mapped exit_stats.
    fn stat(&self, i: usize) -> u64 {
        debug_assert!(i < size_of::<exit_stats>() / size_of::<u64>());
        let base = self.stats.bytes(size_of::<exit_stats>()).as_ptr();
        // SAFETY: the mapping is page-aligned and holds exit_stats, whose
        // words the kernel updates atomically while we read them.
        unsafe { AtomicU64::from_ptr(base.cast_mut().cast::<u64>().add(i)) }.load(Ordering::Relaxed)
    }
}

impl Drop for ExitCapture {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.consumer.take() {
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a live u64 to our eventfd.
            unsafe { libc::write(stop.as_raw_fd(), (&raw const one).cast(), 8) };
            let _ = thread.join();
        }
    }
}

/// Starts the thread that empties the ring when the kernel wakes it (the
/// ring more than half full), and stops when the returned eventfd is
/// written. It waits on the ring's own epoll set, to which the eventfd is
/// added: the ring buffer's poll is never called, only consume. The ring
/// (map fd `ring_fd`) is watched edge-triggered: level-triggered, a ring
/// that still holds a few records after a consume would wake the reader
/// again at once, over and over while exits keep coming.
fn start_reader(
    ring: &Arc<Mutex<RingBuffer<'static>>>,
    ring_fd: i32,
) -> Result<(OwnedFd, JoinHandle<()>), String> {
    let epoll = ring
        .lock()
        .map_err(|_| "the exit ring's lock is poisoned".to_string())?
        .epoll_fd();
    // SAFETY: eventfd returns a new descriptor or -1.
    let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    if raw < 0 {
        return Err(format!("eventfd: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: `raw` is a descriptor we own.
    let stop = unsafe { OwnedFd::from_raw_fd(raw) };
    const STOP: u64 = u64::MAX;
    let mut ev = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: STOP,
    };
    // The ring's entry as libbpf added it (its index, 0, as data), made
    // edge-triggered.
    let mut ring_ev = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLET) as u32,
        u64: 0,
    };
    // SAFETY: the descriptors are open; the events are valid.
    let added = unsafe {
        libc::epoll_ctl(epoll, libc::EPOLL_CTL_MOD, ring_fd, &mut ring_ev) == 0
            && libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, raw, &mut ev) == 0
    };
    if !added {
        return Err(format!("epoll_ctl: {}", std::io::Error::last_os_error()));
    }
    let ring = Arc::clone(ring);
    let thread = std::thread::Builder::new()
        .name("exit-ring".into())
        .spawn(move || {
            let mut events = [libc::epoll_event { events: 0, u64: 0 }; 4];
            loop {
                // SAFETY: `epoll` stays open while the ring (held here)
                // lives; `events` has room for 4.
                let n = unsafe { libc::epoll_wait(epoll, events.as_mut_ptr(), 4, -1) };
                if n < 0 {
                    if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                        continue;
                    }
                    return;
                }
                let ready = &events[..n.unsigned_abs() as usize];
                if ready.iter().any(|e| e.u64 == STOP) {
                    return;
                }
                if let Ok(r) = ring.lock() {
                    let _ = r.consume();
                }
            }
        })
        .map_err(|e| format!("starting the exit ring's reader: {e}"))?;
    Ok((stop, thread))
}

/// An exit record as a sample, with the argv of its last exec where one
/// came (the cgroup path is resolved by the caller).
pub fn decode(r: &exit_record, argv: Option<&[u8]>, page_size: u64, net: bool) -> ExitedProcess {
    let (utime_ns, stime_ns) = adjust_cputime(r.sum_exec_runtime, r.utime, r.stime, (0, 0));
    let cmdline = argv.map(split_cmdline).unwrap_or_default();
    ExitedProcess {
        pid: r.pid,
        ppid: r.ppid,
        uid: r.uid,
        comm: comm_bytes(&r.comm),
        cmdline: cmdline.into(),
        start_time_ns: r.start_boottime,
        exit_time_ns: r.exit_boottime,
        utime_ns,
        stime_ns,
        peak_rss_bytes: r.maxrss_pages.saturating_mul(page_size),
        minflt: r.min_flt,
        majflt: r.maj_flt,
        io: IoCounters {
            rchar: r.rchar,
            wchar: r.wchar,
            read_bytes: r.read_bytes,
            write_bytes: r.write_bytes,
        },
        net: net.then_some((r.net_rx_bytes, r.net_tx_bytes)),
        cgroup: None,
        status: ExitStatus::from_wait_status(r.wait_status),
        oom_killed: r.flags & EXIT_OOM_KILLED != 0,
    }
}

/// The final CPU of a process an earlier drain returned, as a sample.
pub fn decode_late(l: &LateFinal, cgroup: Option<Arc<str>>) -> LateExitCpu {
    let (utime_ns, stime_ns) = adjust_cputime(l.final_ns, l.utime, l.stime, (0, 0));
    LateExitCpu {
        pid: l.pid,
        ppid: l.ppid,
        start_time_ns: l.start_boottime,
        cgroup,
        recorded_ns: l.recorded_ns,
        utime_ns,
        stime_ns,
    }
}

/// intf.h's enum bpftop_exit_flag, from the object's BTF.
const EXIT_OOM_KILLED: u32 = exits_skel::types::bpftop_exit_flag::BPFTOP_EXIT_OOM_KILLED.0;

/// The ring's items, told apart by their sizes.
const FINAL: usize = size_of::<exit_final>();
const EXIT: usize = size_of::<exit_record>();
const EXEC: usize = size_of::<exec_argv>();
const _: () = assert!(FINAL != EXIT && EXIT != EXEC && EXEC != FINAL);
