//! Cost of one refresh of each backend on the running system (the number of
//! tasks is whatever the machine has; bench/ scripts spawn known counts).
//! The bpf backend needs root or CAP_BPF + CAP_PERFMON; without them only
//! the procfs backend is measured.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

use bpftop::collect::bpf::BpfCollector;
use bpftop::collect::procfs::ProcfsCollector;
use bpftop::collect::{CollectOptions, Collector};

fn collect(c: &mut Criterion) {
    let options = CollectOptions::default();
    let mut group = c.benchmark_group("collect");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    match BpfCollector::open(&options) {
        Ok(mut bpf) => {
            group.bench_function("bpf", |b| b.iter(|| bpf.collect().unwrap()));
        }
        Err(e) => eprintln!("bpf backend not measured: {e:#}"),
    }
    let mut procfs = ProcfsCollector::new(&options);
    group.bench_function("procfs", |b| b.iter(|| procfs.collect().unwrap()));
    group.finish();
}

criterion_group!(benches, collect);
criterion_main!(benches);
