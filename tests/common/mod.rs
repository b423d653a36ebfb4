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

/// How many times slower than on an idle machine bpftop refreshes here
/// now: the longest gap between the refreshes of `--batch -n 3 -d 10`
/// (each as long as one collection) over 250 ms, at least 1 and at most
/// 20; measured once per test binary. The load average misses what makes
/// a debug build slow among tens of thousands of idle processes: they add
/// no load, yet every refresh walks them all.
pub fn refresh_slowness() -> f64 {
    static SLOWNESS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *SLOWNESS.get_or_init(|| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_bpftop"))
            .args(["--batch", "-n", "3", "-d", "10", "--format", "json"])
            .stderr(std::process::Stdio::null())
            .output();
        let Ok(out) = out else { return 1.0 };
        let times: Vec<f64> = out
            .stdout
            .split(|&b| b == b'\n')
            .filter_map(|line| {
                let rest = line.strip_prefix(b"{\"time\":")?;
                let end = rest.iter().position(|&b| b == b',')?;
                std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
            })
            .collect();
        let longest = times
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold(0.0_f64, f64::max);
        (longest / 0.25).clamp(1.0, 20.0)
    })
}

/// How much longer than on an idle machine a wait for bpftop may take now:
/// the worse of [`overload`] and [`refresh_slowness`].
pub fn patience() -> f64 {
    overload().max(refresh_slowness())
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
