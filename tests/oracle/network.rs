//! Per-process network counters against known payloads: each workload sums
//! what its own send and receive calls returned (net_workload.rs), and the
//! eBPF counters must agree with those sums within 1 %.

use std::time::{Duration, Instant};

use bpftop::collect::bpf::exits::{decode, ExitCapture};
use bpftop::collect::bpf::net::NetCounting;
use bpftop::collect::sample::{NetHooks, NetworkStatus, Sample};
use bpftop::collect::sampler::Sampler;
use bpftop::collect::{BackendChoice, CollectOptions, NetOptions};

use super::{find, Workload};

const MIB: u64 = 1 << 20;

/// What a network workload reported about itself and its peer.
struct Pair {
    own: u32,
    peer: u32,
    sent: u64,
    received: u64,
    peer_sent: u64,
    peer_received: u64,
}

impl Pair {
    fn of(w: &Workload) -> Pair {
        let f: Vec<u64> = w
            .note
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(f.len(), 5, "unexpected workload report {:?}", w.note);
        Pair {
            own: w.pid(),
            peer: f[0] as u32,
            sent: f[1],
            received: f[2],
            peer_sent: f[3],
            peer_received: f[4],
        }
    }
}

fn bpf_sampler(all_families: bool) -> Sampler {
    let options = CollectOptions {
        net: NetOptions {
            enabled: true,
            all_families,
            ..NetOptions::default()
        },
        ..CollectOptions::default()
    };
    Sampler::open(BackendChoice::Bpf, &options, "/etc/passwd".into())
        .unwrap_or_else(|e| panic!("opening the bpf backend: {e:#}"))
}

/// (rx, tx) bytes the sample holds for `pid`.
fn counters(sample: &Sample, pid: u32) -> (u64, u64) {
    let net = find(sample, pid)
        .net
        .as_ref()
        .unwrap_or_else(|| panic!("pid {pid} has no network counters"));
    (net.rx_bytes, net.tx_bytes)
}

/// `counted` is within 1 % of `truth` (and of the intended payload).
fn assert_counted(what: &str, counted: u64, truth: u64, payload: u64) {
    println!("  {what}: counted {counted}, the process's calls moved {truth}, payload {payload}");
    let close = |a: u64, b: u64| a.abs_diff(b) as f64 <= b as f64 * 0.01;
    assert!(
        close(truth, payload),
        "{what}: the workload itself moved {truth} of {payload} bytes"
    );
    assert!(
        close(counted, truth),
        "{what}: counted {counted}, the process moved {truth}"
    );
}

/// TCP both ways, UDP, sendfile, many threads (one exited) and AF_UNIX.
pub fn counters_match_known_payloads() {
    let mut sampler = bpf_sampler(false);
    let first = sampler.sample().unwrap();
    assert!(
        first.network.is_on(),
        "network counters are off: {:?}",
        first.network
    );
    // Spawned after the programs were attached: all their traffic counts.
    let tcp = Workload::simple(&["net_tcp", &(10 * MIB).to_string()]);
    let udp = Workload::simple(&["net_udp", "1000", "1200"]);
    let sendfile = Workload::simple(&["net_sendfile", &(4 * MIB).to_string()]);
    let threads = Workload::simple(&["net_threads", "4", &MIB.to_string()]);
    let unix = Workload::simple(&["net_unix", &MIB.to_string()]);
    let sample = sampler.sample().unwrap();

    let p = Pair::of(&tcp);
    let ((rx, tx), (peer_rx, peer_tx)) = (counters(&sample, p.own), counters(&sample, p.peer));
    assert_counted("tcp sender tx", tx, p.sent, 10 * MIB);
    assert_counted("tcp sender rx", rx, p.received, 10 * MIB);
    assert_counted("tcp peer rx", peer_rx, p.peer_received, 10 * MIB);
    assert_counted("tcp peer tx", peer_tx, p.peer_sent, 10 * MIB);
    let iface = find(&sample, p.own).net.as_ref().unwrap().iface.clone();
    assert_eq!(iface.as_deref(), Some("lo"), "loopback TCP routes via lo");

    let p = Pair::of(&udp);
    let ((rx, _), (_, peer_tx)) = (counters(&sample, p.own), counters(&sample, p.peer));
    assert_counted("udp sender tx", peer_tx, p.peer_sent, 1000 * 1200);
    assert_counted("udp receiver rx", rx, p.received, 1000 * 1200);

    let p = Pair::of(&sendfile);
    let ((_, tx), (peer_rx, _)) = (counters(&sample, p.own), counters(&sample, p.peer));
    assert_counted("sendfile tx", tx, p.sent, 4 * MIB);
    assert_counted("sendfile peer rx", peer_rx, p.peer_received, 4 * MIB);

    let p = Pair::of(&threads);
    let (_, tx) = counters(&sample, p.own);
    assert_counted("4 sender threads tx", tx, p.sent, 4 * MIB);
    assert_eq!(
        find(&sample, p.own).threads,
        4,
        "one of the four senders exited (main thread + 3 left)"
    );

    let p = Pair::of(&unix);
    assert!(p.sent == MIB && p.peer_received == MIB, "AF_UNIX workload");
    assert_eq!(counters(&sample, p.own), (0, 0), "AF_UNIX is not IP");
    assert_eq!(counters(&sample, p.peer), (0, 0), "AF_UNIX is not IP");

    // Rates: the next sample sees no new traffic from these idle pairs.
    let next = sampler.sample().unwrap();
    let model = bpftop::model::Model::new(&next, Some(&sample), None, &|_| String::new());
    let view = model
        .processes
        .iter()
        .find(|v| v.sample.pid == tcp.pid())
        .unwrap();
    assert_eq!((view.net_rx_rate, view.net_tx_rate), (0.0, 0.0));
}

/// With every family counted, AF_UNIX traffic shows up too.
pub fn all_families_count_unix_sockets() {
    let mut sampler = bpf_sampler(true);
    let status = sampler.sample().unwrap().network;
    if !kernel_has_socket_tracepoints() {
        crate::common::skip("counting every family needs the socket tracepoints (>= 6.3)");
        return;
    }
    assert_eq!(
        status,
        NetworkStatus::On {
            hooks: NetHooks::Tracepoints,
            all_families: true
        }
    );
    let unix = Workload::simple(&["net_unix", &MIB.to_string()]);
    let sample = sampler.sample().unwrap();
    let p = Pair::of(&unix);
    let ((_, tx), (peer_rx, _)) = (counters(&sample, p.own), counters(&sample, p.peer));
    assert_counted("AF_UNIX tx", tx, p.sent, MIB);
    assert_counted("AF_UNIX peer rx", peer_rx, p.peer_received, MIB);
}

/// The kernel's BTF names the tracepoints (read independently of bpftop).
fn kernel_has_socket_tracepoints() -> bool {
    let btf = std::fs::read("/sys/kernel/btf/vmlinux").unwrap_or_default();
    let name = b"btf_trace_sock_send_length";
    btf.windows(name.len()).any(|w| w == name)
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("timed out waiting until {what}");
}

/// Counters survive a thread's exit and go with the process's exit.
pub fn counters_go_when_the_process_exits() {
    let counting = NetCounting::start_with(NetHooks::Tracepoints, false)
        .unwrap_or_else(|e| panic!("attaching the socket tracepoints: {e}"));
    let threads = Workload::simple(&["net_threads", "4", "65536"]);
    let p = Pair::of(&threads);
    assert_eq!(
        counting.totals(p.own),
        Some((0, 4 * 65536)),
        "a sender with an exited thread keeps its counters"
    );
    assert_eq!(counting.totals(p.peer), Some((4 * 65536, 0)));
    // SAFETY: killing the workload's own child (the peer).
    unsafe { libc::kill(p.peer as i32, libc::SIGKILL) };
    wait_until("the killed peer's counters are gone", || {
        counting.totals(p.peer).is_none()
    });
    assert!(
        counting.totals(p.own).is_some(),
        "the other process keeps its counters"
    );
    let own = p.own;
    drop(threads);
    wait_until("the exited sender's counters are gone", || {
        counting.totals(own).is_none()
    });
}

/// With the exit capture sharing the counters, a process's bytes travel in
/// its exit record and the capture deletes its entry. Only processes
/// marked in `net_seen` are looked up at their exit, so this fails if the
/// mark is not set where counting starts.
pub fn exit_records_carry_the_counters() {
    let mut counting = NetCounting::start_with(NetHooks::Tracepoints, false)
        .unwrap_or_else(|e| panic!("attaching the socket tracepoints: {e}"));
    let mut capture = ExitCapture::start(Some(counting.shared_maps()))
        .unwrap_or_else(|e| panic!("attaching the exit capture: {e}"));
    counting.hand_over_exit_cleanup();
    let tcp = Workload::simple(&["net_tcp", &MIB.to_string()]);
    let p = Pair::of(&tcp);
    assert!(
        counting.totals(p.own).is_some(),
        "the sender has no counters"
    );
    drop(tcp);
    let deadline = Instant::now() + Duration::from_secs(120);
    let exited = loop {
        let arrived = capture.drain();
        if let Some(r) = arrived.exits.iter().find(|r| r.pid == p.own) {
            break decode(r, None, 4096, true);
        }
        assert!(
            Instant::now() < deadline,
            "no exit record for the sender {}",
            p.own
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let (rx, tx) = exited.net.expect("the exit record has the counters");
    assert_counted("exited sender tx", tx, p.sent, MIB);
    assert_counted("exited sender rx", rx, p.received, MIB);
    assert_eq!(
        counting.totals(p.own),
        None,
        "the exit capture deleted the sender's counters"
    );
}

/// Every hook kind either attaches and counts exactly, or fails with a
/// reason (fexit and kprobes are unavailable on some kernels).
pub fn every_hook_kind_counts_or_says_why() {
    for hooks in [NetHooks::Tracepoints, NetHooks::Fexit, NetHooks::Kprobes] {
        match NetCounting::start_with(hooks, false) {
            Ok(counting) => {
                let tcp = Workload::simple(&["net_tcp", &MIB.to_string()]);
                let p = Pair::of(&tcp);
                let (rx, tx) = counting
                    .totals(p.own)
                    .unwrap_or_else(|| panic!("{hooks:?}: the sender has no counters"));
                assert_counted(&format!("{hooks:?} tx"), tx, p.sent, MIB);
                assert_counted(&format!("{hooks:?} rx"), rx, p.received, MIB);
            }
            Err(reason) => {
                assert!(
                    !reason.trim().is_empty(),
                    "{hooks:?} failed without a reason"
                );
                assert!(
                    hooks != NetHooks::Tracepoints || !kernel_has_socket_tracepoints(),
                    "the kernel has the socket tracepoints, yet they do not attach: {reason}"
                );
                println!("  {hooks:?}: unavailable here: {reason}");
            }
        }
    }
}
