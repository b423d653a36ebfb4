//! The interface's work per key press and per refresh at 30 000 processes:
//! building the rows (sort, filter, tree) and drawing one frame.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use bpftop::collect::fake::{demo_processes, demo_user_name, FakeCollector};
use bpftop::collect::sample::ProcessSample;
use bpftop::collect::Collector;
use bpftop::model::Model;
use bpftop::ui::freezer::Freezer;
use bpftop::ui::render::draw;
use bpftop::ui::theme::Theme;
use bpftop::ui::view::ViewState;

const PROCESSES: u32 = 30_000;

/// 30 000 processes: the demo machine's user processes repeated under
/// fresh pids, each parented to an earlier one so the tree is deep and wide.
fn big_model() -> Model {
    let demo: Vec<ProcessSample> = demo_processes()
        .into_iter()
        .filter(|p| !p.kernel_thread)
        .collect();
    let processes: Vec<ProcessSample> = (0..PROCESSES)
        .map(|i| {
            let mut p = demo[i as usize % demo.len()].clone();
            p.pid = 10_000 + i;
            p.ppid = if i < 10 { 1 } else { 10_000 + i / 10 };
            p.utime_ns += u64::from(i) * 1_000_000;
            p
        })
        .collect();
    let mut collector = FakeCollector::new(processes);
    let first = collector.collect().unwrap();
    let second = collector.collect().unwrap();
    Model::new(&second, Some(&first), None, &demo_user_name)
}

fn ui(c: &mut Criterion) {
    let model = Arc::new(big_model());
    let mut group = c.benchmark_group("ui_30k");
    group.sample_size(20);
    let mut view = ViewState::new(Theme::default_theme());
    view.page_rows = 40;
    view.set_model(model.clone());
    group.bench_function("rebuild_rows_flat", |b| b.iter(|| view.rebuild()));
    // What a refresh does besides drawing: the freezer's tidying and taking
    // the new model (tags pruned, rows rebuilt).
    let mut freezer = Freezer::new(Path::new("/proc"));
    group.bench_function("refresh_flat", |b| {
        b.iter(|| {
            freezer.tidy(&model);
            view.set_model(model.clone())
        })
    });
    // One process tagged: the tags are pruned against the new model.
    view.tagged.insert(model.processes[0].sample.key());
    group.bench_function("refresh_flat_tagged", |b| {
        b.iter(|| {
            freezer.tidy(&model);
            view.set_model(model.clone())
        })
    });
    view.tagged.clear();
    drop(freezer);
    view.tree = true;
    group.bench_function("rebuild_rows_tree", |b| b.iter(|| view.rebuild()));
    view.filter = bpftop::ui::rows::Filter::parse("java");
    group.bench_function("rebuild_rows_tree_filtered", |b| b.iter(|| view.rebuild()));
    view.filter = None;
    view.rebuild();
    let area = Rect::new(0, 0, 200, 60);
    let mut buf = Buffer::empty(area);
    group.bench_function("draw_frame_200x60", |b| {
        b.iter(|| {
            buf.reset();
            draw(&view, area, &mut buf)
        })
    });
    group.finish();
}

criterion_group!(benches, ui);
criterion_main!(benches);
