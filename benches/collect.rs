//! Cost of one refresh of each backend on the running system (the number of
//! tasks is whatever the machine has; bench/ scripts spawn known counts).
//! The bpf backend needs root or CAP_BPF + CAP_PERFMON; without them only
//! the procfs backend is measured.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

use bpftop::collect::bpf::walk_floor::EmptyWalk;
use bpftop::collect::bpf::BpfCollector;
use bpftop::collect::procfs::ProcfsCollector;
use bpftop::collect::sampler::Sampler;
use bpftop::collect::{BackendChoice, CollectOptions, Collector};

fn collect(c: &mut Criterion) {
    let options = CollectOptions::default();
    let mut group = c.benchmark_group("collect");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    match BpfCollector::open(&options) {
        Ok(mut bpf) => {
            // The floor first, then bpftop's refresh, side by side.
            let empty = EmptyWalk::open().unwrap();
            group.bench_function("empty_walk", |b| b.iter(|| empty.walk().unwrap()));
            group.bench_function("bpf", |b| b.iter(|| bpf.collect().unwrap()));
            // A whole refresh: the walk plus system files, cgroup facts, GPUs.
            let mut sampler =
                Sampler::open(BackendChoice::Bpf, &options, "/etc/passwd".into()).unwrap();
            group.bench_function("sampler_bpf", |b| b.iter(|| sampler.sample().unwrap()));
        }
        Err(e) => eprintln!("bpf backend not measured: {e:#}"),
    }
    let mut procfs = ProcfsCollector::new(&options);
    group.bench_function("procfs", |b| b.iter(|| procfs.collect().unwrap()));
    group.finish();
}

criterion_group!(benches, collect);
criterion_main!(benches);
