//! Per-process network counters: loads net.bpf.c with the best hooks this
//! kernel offers, and names the interfaces its records point at.
//!
//! The counters themselves reach userspace inside the task iterator's
//! records (the iterator reads the shared `net_by_tgid` map for each
//! process), so they cost no syscall per process. Interface names cost one
//! lookup the first time an interface is seen.

use std::collections::HashMap;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;

use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags, MapHandle};

use super::libbpf_log;
use super::skel::net as net_skel;
use super::skel::net::types::net_counters;
use crate::collect::sample::NetHooks;
use crate::collect::{NetHooksChoice, NetOptions};

/// Processes that can have counters at once. Entries are allocated on first
/// use; the bucket array costs 16 bytes per slot up front (1 MiB here).
const TABLE_ENTRIES: u32 = 1 << 16;
/// pid_max where /proc does not say (the kernel's default).
const DEFAULT_PID_MAX: u32 = 32_768;
/// Threads that can be inside a probed send or receive at once (kprobes).
const PENDING_CALLS: u32 = 16 * 1024;
/// Interface names remembered in userspace before the cache starts over.
const MAX_CACHED_NAMES: usize = 4096;

/// The network object's maps that other objects take over (reuse_fd):
/// `net_by_tgid` and the `net_seen` bytes that say which tgids may have an
/// entry there (net_maps.h).
#[derive(Clone, Copy)]
pub struct SharedNetMaps<'a> {
    pub counters: BorrowedFd<'a>,
    pub seen: BorrowedFd<'a>,
}

/// The kernel's pid_max now: tgids are below it.
fn pid_max() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(DEFAULT_PID_MAX)
}

/// Elements of `net_seen` (eight tgids each) for every tgid below `pid_max`.
fn seen_slots(pid_max: u32) -> u32 {
    pid_max.div_ceil(8).max(1)
}

/// The attached network programs and the maps userspace needs.
pub struct NetCounting {
    pub hooks: NetHooks,
    pub all_families: bool,
    /// Keep the programs attached.
    _links: Vec<libbpf_rs::Link>,
    /// The program deleting a process's counters at its exit, until the
    /// exit capture takes that over (see `hand_over_exit_cleanup`).
    exit_cleanup: Option<libbpf_rs::Link>,
    counters: MapHandle,
    seen: MapHandle,
    iface_names: MapHandle,
    names: HashMap<u64, Option<Arc<str>>>,
}

/// Kernel functions and tracepoints the hooks attach to, as BTF names them.
struct KernelSymbols {
    sock_tracepoints: bool,
    inet: bool,
    inet6: bool,
}

impl KernelSymbols {
    fn probe() -> Option<KernelSymbols> {
        let btf = libbpf_rs::btf::Btf::from_vmlinux().ok()?;
        let has = |name: &str| btf.type_by_name::<libbpf_rs::btf::BtfType>(name).is_some();
        Some(KernelSymbols {
            sock_tracepoints: has("btf_trace_sock_send_length")
                && has("btf_trace_sock_recv_length"),
            inet: has("inet_sendmsg") && has("inet_recvmsg"),
            inet6: has("inet6_sendmsg") && has("inet6_recvmsg"),
        })
    }
}

/// The programs of one kind of hook; the process-exit cleanup goes with all.
fn programs(hooks: NetHooks, symbols: &KernelSymbols) -> Vec<&'static str> {
    let mut names = vec!["process_exit"];
    match hooks {
        NetHooks::Tracepoints => names.extend(["tp_send", "tp_recv"]),
        NetHooks::Fexit => {
            names.extend(["fexit_inet_send", "fexit_inet_recv"]);
            if symbols.inet6 {
                names.extend(["fexit_inet6_send", "fexit_inet6_recv"]);
            }
        }
        NetHooks::Kprobes => {
            names.extend([
                "kprobe_inet_send",
                "kretprobe_inet_send",
                "kprobe_inet_recv",
                "kretprobe_inet_recv",
            ]);
            if symbols.inet6 {
                names.extend([
                    "kprobe_inet6_send",
                    "kretprobe_inet6_send",
                    "kprobe_inet6_recv",
                    "kretprobe_inet6_recv",
                ]);
            }
        }
    }
    names
}

impl NetCounting {
    /// Attaches the first kind of hook that works here. The error says why
    /// each kind failed, for `--check`.
    pub fn start(options: NetOptions) -> Result<NetCounting, String> {
        if !options.enabled {
            return Err("turned off (--no-net)".into());
        }
        let symbols = KernelSymbols::probe().ok_or_else(|| {
            "the kernel's BTF (/sys/kernel/btf/vmlinux) cannot be read".to_string()
        })?;
        let mut candidates = Vec::new();
        let mut reasons = Vec::new();
        if symbols.sock_tracepoints {
            candidates.push(NetHooks::Tracepoints);
        } else {
            reasons.push("no sock_send_length/sock_recv_length tracepoints (kernel < 6.3)".into());
        }
        if symbols.inet {
            candidates.extend([NetHooks::Fexit, NetHooks::Kprobes]);
        } else {
            reasons.push("no inet_sendmsg/inet_recvmsg in the kernel's BTF".into());
        }
        if let Some(only) = named_kind(options.hooks) {
            if !candidates.contains(&only) {
                return Err(format!(
                    "--net-hooks {} asked for, but {}",
                    hook_name(only),
                    reasons.join("; ")
                ));
            }
            candidates = vec![only];
        }
        for hooks in candidates {
            match Self::attach(hooks, &symbols, options.all_families) {
                Ok(counting) => return Ok(counting),
                Err(e) => reasons.push(format!("{}: {e}", hook_name(hooks))),
            }
        }
        Err(reasons.join("; "))
    }

    /// Attaches one kind of hook only (tests exercise each fallback with it).
    pub fn start_with(hooks: NetHooks, all_families: bool) -> Result<NetCounting, String> {
        let symbols = KernelSymbols::probe().ok_or_else(|| {
            "the kernel's BTF (/sys/kernel/btf/vmlinux) cannot be read".to_string()
        })?;
        Self::attach(hooks, &symbols, all_families)
    }

    fn attach(
        hooks: NetHooks,
        symbols: &KernelSymbols,
        all_families: bool,
    ) -> Result<NetCounting, String> {
        let _capture = libbpf_log::Capture::start();
        let fail = libbpf_log::failure;
        let wanted = programs(hooks, symbols);
        let mut storage = MaybeUninit::uninit();
        let mut open = net_skel::NetSkelBuilder::default()
            .open(&mut storage)
            .map_err(|e| fail("opening", e))?;
        for mut prog in open.open_object_mut().progs_mut() {
            let load = wanted.iter().any(|w| prog.name() == *w);
            prog.set_autoload(load);
        }
        let pending = if hooks == NetHooks::Kprobes {
            PENDING_CALLS
        } else {
            1
        };
        let rodata = open
            .maps
            .rodata_data
            .as_deref_mut()
            .ok_or("the network object has no read-only data")?;
        rodata.all_families = all_families && hooks == NetHooks::Tracepoints;
        open.maps
            .net_by_tgid
            .set_max_entries(TABLE_ENTRIES)
            .map_err(|e| fail("sizing", e))?;
        open.maps
            .net_seen
            .set_max_entries(seen_slots(pid_max()))
            .map_err(|e| fail("sizing", e))?;
        open.maps
            .pending
            .set_max_entries(pending)
            .map_err(|e| fail("sizing", e))?;
        let loaded = open.load().map_err(|e| fail("loading", e))?;
        let mut links = Vec::new();
        let mut exit_cleanup = None;
        for prog in loaded.object().progs_mut() {
            if wanted.iter().any(|w| prog.name() == *w) {
                let name = prog.name().to_string_lossy().into_owned();
                let link = prog
                    .attach()
                    .map_err(|e| fail(&format!("attaching {name}"), e))?;
                if name == "process_exit" {
                    exit_cleanup = Some(link);
                } else {
                    links.push(link);
                }
            }
        }
        let handle = |map: &libbpf_rs::MapMut| {
            MapHandle::try_from(map).map_err(|e| format!("keeping a map: {e}"))
        };
        Ok(NetCounting {
            hooks,
            all_families: all_families && hooks == NetHooks::Tracepoints,
            _links: links,
            exit_cleanup,
            counters: handle(&loaded.maps.net_by_tgid)?,
            seen: handle(&loaded.maps.net_seen)?,
            iface_names: handle(&loaded.maps.iface_names)?,
            names: HashMap::new(),
        })
    }

    /// Detaches the cleanup at process exit: the exit capture, attached
    /// after it, reads a process's counters there and deletes them itself.
    /// Programs on one tracepoint run in the order they were attached, so
    /// this one would delete the counters before the exit capture reads
    /// them.
    pub fn hand_over_exit_cleanup(&mut self) {
        self.exit_cleanup = None;
    }

    /// The maps the task iterator reads and the exit capture cleans.
    pub fn shared_maps(&self) -> SharedNetMaps<'_> {
        SharedNetMaps {
            counters: self.counters.as_fd(),
            seen: self.seen.as_fd(),
        }
    }

    /// Name of an interface key from a record (0: none).
    pub fn iface_name(&mut self, key: u64) -> Option<Arc<str>> {
        if key == 0 {
            return None;
        }
        if let Some(known) = self.names.get(&key) {
            return known.clone();
        }
        if self.names.len() >= MAX_CACHED_NAMES {
            self.names.clear();
        }
        let name = self
            .iface_names
            .lookup(&key.to_ne_bytes(), MapFlags::ANY)
            .ok()
            .flatten()
            .map(|bytes| {
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                Arc::from(String::from_utf8_lossy(&bytes[..end]).as_ref())
            });
        self.names.insert(key, name.clone());
        name
    }

    /// The (rx, tx) bytes of the process with this tgid; None when it has
    /// no counters (no socket I/O since the programs were attached, or it
    /// exited). One syscall: for tests and diagnostics, not per refresh.
    pub fn totals(&self, tgid: u32) -> Option<(u64, u64)> {
        let value = self
            .counters
            .lookup(&tgid.to_ne_bytes(), MapFlags::ANY)
            .ok()??;
        if value.len() < size_of::<net_counters>() {
            return None;
        }
        // SAFETY: net_counters is four u64s, valid for any bits; the length
        // was checked and read_unaligned copes with any alignment.
        let c = unsafe { std::ptr::read_unaligned(value.as_ptr().cast::<net_counters>()) };
        Some((c.rx_bytes, c.tx_bytes))
    }
}

/// The one kind of hook `choice` names; None for auto.
fn named_kind(choice: NetHooksChoice) -> Option<NetHooks> {
    match choice {
        NetHooksChoice::Auto => None,
        NetHooksChoice::Tracepoints => Some(NetHooks::Tracepoints),
        NetHooksChoice::Fexit => Some(NetHooks::Fexit),
        NetHooksChoice::Kprobes => Some(NetHooks::Kprobes),
    }
}

fn hook_name(hooks: NetHooks) -> &'static str {
    match hooks {
        NetHooks::Tracepoints => "tracepoints",
        NetHooks::Fexit => "fexit",
        NetHooks::Kprobes => "kprobes",
    }
}
