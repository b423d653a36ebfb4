//! Helpers shared by the integration tests: the root check, a tmux driver,
//! a `ProcessSample` builder and a running exporter.
//!
//! Each integration test is its own crate and uses only some of these, so
//! the rest would warn as unused in that crate.
#![allow(dead_code)]

pub mod sample;
pub mod serve;
pub mod tmux;

/// Whether the test runs as root (loading BPF programs, other users'
/// processes, file capabilities).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Set (by CI, whose machine has every precondition the tests need) to make
/// a skipped test fail, so a missing precondition cannot pass unseen.
pub const NO_SKIPS_ENV: &str = "BPFTOP_TEST_NO_SKIPS";

/// Reports that a test cannot run here and why; fails it where
/// `NO_SKIPS_ENV` is set. The caller returns after it.
pub fn skip(why: &str) {
    assert!(
        std::env::var_os(NO_SKIPS_ENV).is_none(),
        "skipped where skips are failures ({NO_SKIPS_ENV}): {why}"
    );
    println!("skipped: {why}");
}

/// How many times slower than an idle machine this one runs now: the
/// 1-minute load average per CPU, at least 1 and at most 20. Waits for the
/// program under test stretch by it, so a loaded machine (a build beside,
/// 30 000 processes) gets the time it needs while an idle one fails fast.
pub fn overload() -> f64 {
    let load: f64 = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    (load / cpus).clamp(1.0, 20.0)
}

/// The lines of a batch run's stderr other than the one documented line
/// saying its refreshes cannot keep the asked rate (a loaded machine, a
/// debug build): what a test must find empty.
pub fn unexpected_stderr(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !l.starts_with("bpftop: a refresh takes longer than the delay"))
        .collect()
}
