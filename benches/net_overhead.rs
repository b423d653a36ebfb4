//! What the network counters cost the workloads they watch: a tight loop
//! of 1-byte UDP sends over loopback, without and with the socket hooks
//! attached, measured side by side in one run. The receiver never reads,
//! so once its queue is full every datagram takes the same path (dropped at
//! enqueue), with or without the hooks. AF_UNIX sends show what the hooks
//! cost where they count nothing.
//!
//! Needs root (or CAP_BPF + CAP_PERFMON) for the "with" case.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::UdpSocket;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

use bpftop::collect::bpf::net::NetCounting;
use bpftop::collect::sample::NetHooks;

fn udp_pair() -> (UdpSocket, UdpSocket) {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.connect(receiver.local_addr().unwrap()).unwrap();
    (sender, receiver)
}

fn sends(c: &mut Criterion) {
    let (udp, _udp_receiver) = udp_pair();
    let (unix, _unix_receiver) = UnixDatagram::pair().unwrap();
    unix.set_nonblocking(true).unwrap();
    while unix.send(&[1]).is_ok() {}
    let mut group = c.benchmark_group("send_1_byte");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(5));
    let measure = |group: &mut criterion::BenchmarkGroup<_>, label: &str| {
        group.bench_function(format!("udp/{label}"), |b| {
            b.iter(|| udp.send(&[1]).unwrap())
        });
        // AF_UNIX passes the tracepoint too and is filtered out there. The
        // receiver's queue is full, so each send fails with EAGAIN: the
        // same short path in both cases.
        group.bench_function(format!("unix/{label}"), |b| {
            b.iter(|| unix.send(&[1]).is_err())
        });
    };
    measure(&mut group, "without_counters");
    match NetCounting::start_with(NetHooks::Tracepoints, false) {
        Ok(counting) => {
            measure(&mut group, "with_counters");
            drop(counting);
            // The baseline again: how much two runs of the same thing differ.
            measure(&mut group, "without_counters_again");
        }
        Err(e) => eprintln!("network counters not attached, only the baseline ran: {e}"),
    }
    group.finish();
}

criterion_group!(benches, sends);
criterion_main!(benches);
