//! Cost of one refresh of each backend on the running system (the number of
//! tasks is whatever the machine has; bench/ scripts spawn known counts).
//! The bpf backend needs root or CAP_BPF + CAP_PERFMON; without them only
//! the procfs backend is measured.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

use bpftop::collect::bpf::walk_floor::EmptyWalk;
use bpftop::collect::bpf::{BpfCollector, WalkKind};
use bpftop::collect::procfs::ProcfsCollector;
use bpftop::collect::sampler::Sampler;
use bpftop::collect::{BackendChoice, CollectOptions, Collector, Extras, WalkChoice};

fn collect(c: &mut Criterion) {
    let options = CollectOptions::default();
    let mut group = c.benchmark_group("collect");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    match BpfCollector::open(&options) {
        Ok(mut bpf) => {
            // The floors first, then bpftop's refresh, side by side. The
            // iter/task floor is the yardstick of the performance targets.
            let empty = EmptyWalk::open(WalkKind::TaskIterator).unwrap();
            group.bench_function("empty_walk", |b| b.iter(|| empty.walk().unwrap()));
            match EmptyWalk::open(WalkKind::OpenCoded) {
                Ok(empty) => {
                    group.bench_function("empty_walk_open_coded", |b| {
                        b.iter(|| empty.walk().unwrap())
                    });
                }
                Err(e) => eprintln!("open-coded floor not measured: {e:#}"),
            }
            group.bench_function(format!("bpf_{:?}", bpf.walk_kind()), |b| {
                b.iter(|| bpf.collect().unwrap())
            });
            let iter_options = CollectOptions {
                walk: WalkChoice::Iter,
                ..CollectOptions::default()
            };
            if bpf.walk_kind() != WalkKind::TaskIterator {
                let mut by_iter = BpfCollector::open(&iter_options).unwrap();
                group.bench_function("bpf_TaskIterator", |b| {
                    b.iter(|| by_iter.collect().unwrap())
                });
            }
            // A whole refresh: the walk plus system files, cgroup facts, GPUs.
            let mut sampler =
                Sampler::open(BackendChoice::Bpf, &options, "/etc/passwd".into()).unwrap();
            group.bench_function("sampler_bpf", |b| b.iter(|| sampler.sample().unwrap()));
        }
        Err(e) => eprintln!("bpf backend not measured: {e:#}"),
    }
    // Everything, as batch and serve read it.
    let mut procfs = ProcfsCollector::new(&options);
    group.bench_function("procfs", |b| b.iter(|| procfs.collect().unwrap()));
    // What the interface's default columns need (no I/O, no run-queue
    // waits), command lines already read: the steady state.
    let mut procfs = ProcfsCollector::new(&options);
    procfs.set_extras(Extras::NONE);
    group.bench_function("procfs_default_columns", |b| {
        b.iter(|| procfs.collect().unwrap())
    });
    group.finish();
}

criterion_group!(benches, collect);
criterion_main!(benches);
