//! What the exit capture costs the processes it watches: fork + _exit +
//! waitpid of a trivial child, without and with the exit hooks attached,
//! side by side in one run. The ring buffer is drained outside the timed
//! loops, so every exit takes the path it takes under bpftop (a record
//! written, not dropped).
//!
//! The forks are made by a small helper process forked before anything
//! else, not by the benchmark itself. A fork's cost grows with the
//! forking process's mappings, and the benchmark's change as it runs:
//! forking from it, each case measured slower than the one before, hooks
//! or not (131, 221 and 189 µs for without, with and without again on a
//! 2-CPU VM, where the hooks cost about 1 µs). The helper stays the same
//! from the first case to the last.
//!
//! Needs root (or CAP_BPF + CAP_PERFMON) for the "with" case.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

use bpftop::collect::bpf::exits::ExitCapture;

/// Forks per request to the helper: the ring buffer (1 MiB) holds their
/// records and final CPU times without dropping any.
const BATCH: u64 = 2000;

/// A process that forks trivial children on request and says how long
/// they took.
struct Forker {
    pid: libc::pid_t,
    requests: File,
    answers: File,
}

impl Forker {
    fn start() -> Forker {
        let (req_read, req_write) = pipe();
        let (ans_read, ans_write) = pipe();
        // SAFETY: the child only calls read, write, fork, _exit, waitpid
        // and clock_gettime (Instant), which are safe after fork in a
        // threaded process; it never returns.
        unsafe {
            let pid = libc::fork();
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                libc::close(req_write);
                libc::close(ans_read);
                serve_forks(req_read, ans_write);
            }
            libc::close(req_read);
            libc::close(ans_write);
            Forker {
                pid,
                requests: File::from_raw_fd(req_write),
                answers: File::from_raw_fd(ans_read),
            }
        }
    }

    /// `n` fork + _exit + waitpid, timed inside the helper.
    fn run(&mut self, n: u64) -> Duration {
        self.requests.write_all(&n.to_ne_bytes()).unwrap();
        let mut ns = [0u8; 8];
        self.answers.read_exact(&mut ns).unwrap();
        Duration::from_nanos(u64::from_ne_bytes(ns))
    }
}

impl Drop for Forker {
    fn drop(&mut self) {
        // SAFETY: our own child, ended and reaped.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
    }
}

fn pipe() -> (libc::c_int, libc::c_int) {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    (fds[0], fds[1])
}

/// The helper's loop: a request is a count, the answer the nanoseconds the
/// forks took. Ends when the request pipe closes.
unsafe fn serve_forks(requests: libc::c_int, answers: libc::c_int) -> ! {
    loop {
        let mut n = [0u8; 8];
        if libc::read(requests, n.as_mut_ptr().cast(), 8) != 8 {
            libc::_exit(0);
        }
        let start = Instant::now();
        for _ in 0..u64::from_ne_bytes(n) {
            let pid = libc::fork();
            if pid == 0 {
                libc::_exit(0);
            }
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
        let spent = (start.elapsed().as_nanos() as u64).to_ne_bytes();
        if libc::write(answers, spent.as_ptr().cast(), 8) != 8 {
            libc::_exit(1);
        }
    }
}

/// `iters` forks in batches, with `between` run after each batch, outside
/// the timed part.
fn timed(forker: &mut Forker, iters: u64, mut between: impl FnMut()) -> Duration {
    let mut spent = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(BATCH);
        spent += forker.run(n);
        between();
        left -= n;
    }
    spent
}

fn exits(c: &mut Criterion) {
    let mut forker = Forker::start();
    let mut group = c.benchmark_group("fork_exit");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("without_hooks", |b| {
        b.iter_custom(|iters| timed(&mut forker, iters, || ()))
    });
    match ExitCapture::start(None) {
        Ok(mut capture) => {
            group.bench_function("with_hooks", |b| {
                b.iter_custom(|iters| {
                    timed(&mut forker, iters, || {
                        capture.drain();
                    })
                })
            });
            eprintln!("exit records dropped {}", capture.dropped());
            drop(capture);
            group.bench_function("without_hooks_again", |b| {
                b.iter_custom(|iters| timed(&mut forker, iters, || ()))
            });
        }
        Err(e) => eprintln!("exit hooks not attached, only the baseline ran: {e}"),
    }
    group.finish();
}

criterion_group!(benches, exits);
criterion_main!(benches);
