//! What the exit capture costs the processes it watches: fork + _exit +
//! waitpid of a trivial child, without and with the exit hooks attached,
//! side by side in one run. The ring buffer is drained outside the timed
//! loops, so every exit takes the path it takes under bpftop (a record
//! written, not dropped).
//!
//! Needs root (or CAP_BPF + CAP_PERFMON) for the "with" case.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

use bpftop::collect::bpf::exits::ExitCapture;

/// One child that exits at once, reaped.
fn fork_exit() {
    // SAFETY: the child only calls _exit; the parent waits for it.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            libc::_exit(0);
        }
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
}

fn exits(c: &mut Criterion) {
    let mut group = c.benchmark_group("fork_exit");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("without_hooks", |b| b.iter(fork_exit));
    match ExitCapture::start(None) {
        Ok(mut capture) => {
            group.bench_function("with_hooks", |b| {
                b.iter_custom(|iters| {
                    let mut spent = Duration::ZERO;
                    let mut left = iters;
                    while left > 0 {
                        let n = left.min(2000);
                        let start = Instant::now();
                        for _ in 0..n {
                            fork_exit();
                        }
                        spent += start.elapsed();
                        capture.drain();
                        left -= n;
                    }
                    spent
                })
            });
            eprintln!("exit records dropped {}", capture.dropped());
            drop(capture);
            group.bench_function("without_hooks_again", |b| b.iter(fork_exit));
        }
        Err(e) => eprintln!("exit hooks not attached, only the baseline ran: {e}"),
    }
    group.finish();
}

criterion_group!(benches, exits);
criterion_main!(benches);
