//! The per-refresh hot path at 30 000 processes, piece by piece, without
//! the kernel: decoding and grouping a walk's records, turning a sample
//! into a model (rates against the previous model), and batch mode's text
//! table of every process. The interface's rows
//! and frame are in benches/ui.rs, the whole collection in
//! benches/collect.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

use std::path::Path;

use bpftop::collect::bpf::record::{records, synthetic_walk, Aggregator};
use bpftop::collect::catalog::Catalog;
use bpftop::collect::fake::{demo_processes, demo_user_name, FakeCollector};
use bpftop::collect::sample::ProcessSample;
use bpftop::collect::Collector;
use bpftop::model::Model;

const PROCESSES: u32 = 30_000;

fn aggregate(c: &mut Criterion) {
    let mut group = c.benchmark_group("records_30k");
    for threads in [1, 4] {
        let walk = synthetic_walk(PROCESSES, threads);
        // Kept across iterations, as the collector keeps it across refreshes.
        let mut agg = Aggregator::new(false);
        group.bench_function(format!("decode_and_group_{threads}_thread"), |b| {
            b.iter(|| {
                let records = records(&walk);
                agg.group(&records);
                agg.processes.len()
            })
        });
    }
    group.finish();
}

/// Two consecutive samples of 30 000 processes from the fake collector.
fn samples() -> (bpftop::collect::Sample, bpftop::collect::Sample) {
    let demo: Vec<ProcessSample> = demo_processes()
        .into_iter()
        .filter(|p| !p.kernel_thread)
        .collect();
    let processes = (0..PROCESSES)
        .map(|i| {
            let mut p = demo[i as usize % demo.len()].clone();
            p.pid = 10_000 + i;
            p
        })
        .collect();
    let mut collector = FakeCollector::new(processes);
    (collector.collect().unwrap(), collector.collect().unwrap())
}

fn model(c: &mut Criterion) {
    let (first, second) = samples();
    let prev = Model::next(first, None, None, &demo_user_name);
    let mut group = c.benchmark_group("model_30k");
    group.sample_size(20);
    // The sample is moved into the model, so each iteration gets a copy
    // made outside the measurement.
    group.bench_function("next_with_rates", |b| {
        b.iter_batched(
            || second.clone(),
            |sample| Model::next(sample, Some(&prev), None, &demo_user_name),
            BatchSize::LargeInput,
        )
    });
    // The same with each process's cgroup facts looked up, as the sampler
    // fills them.
    let mut catalog = Catalog::new(Path::new("/nonexistent-root"), None);
    let mut with_cgroups = second.clone();
    with_cgroups.cgroups = catalog.describe(&with_cgroups.processes);
    group.bench_function("next_with_rates_and_cgroups", |b| {
        b.iter_batched(
            || with_cgroups.clone(),
            |sample| Model::next(sample, Some(&prev), None, &demo_user_name),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// The cgroup facts of 30 000 processes (a handful of distinct cgroups,
/// shared as the collector shares them).
fn catalog(c: &mut Criterion) {
    let (sample, _) = samples();
    let mut catalog = Catalog::new(Path::new("/nonexistent-root"), None);
    let mut group = c.benchmark_group("catalog_30k");
    group.sample_size(20);
    group.bench_function("describe", |b| {
        b.iter(|| catalog.describe(&sample.processes).len())
    });
    group.finish();
}

/// Batch mode's output of one refresh of all 30 000 processes.
fn batch_output(c: &mut Criterion) {
    let (first, second) = samples();
    let prev = Model::next(first, None, None, &demo_user_name);
    let model = Model::next(second, Some(&prev), None, &demo_user_name);
    let rows: Vec<&bpftop::model::ProcessView> = model.processes.iter().collect();
    let mut group = c.benchmark_group("batch_30k");
    group.sample_size(20);
    group.bench_function("text", |b| {
        b.iter(|| bpftop::output::text::render(&model, &rows).len())
    });
    // `--batch --format json`: the same refresh as JSON, about 1 KB a process.
    group.bench_function("json", |b| {
        b.iter(|| bpftop::output::json::write(&mut std::io::sink(), &model, &rows, false, None))
    });
    group.finish();
}

criterion_group!(benches, aggregate, model, catalog, batch_output);
criterion_main!(benches);
