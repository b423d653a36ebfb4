//! Helpers shared by unit tests.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system's temp dir, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// `label` names the test area in the directory's name.
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("bpftop-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The settings every property test uses: enough cases to find a panic in a
/// parser, few enough to keep `cargo test` quick; no failure files written
/// into the source tree.
pub fn proptest_config() -> proptest::prelude::ProptestConfig {
    proptest::prelude::ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    }
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
    eprintln!("skipped: {why}");
}

/// An exited process: `pid`, child of `ppid`, born at `start_ns` and gone
/// a second later with code 0, nothing else counted. Tests change what
/// they need with struct update syntax.
pub fn exited(pid: u32, ppid: u32, start_ns: u64) -> crate::collect::sample::ExitedProcess {
    crate::collect::sample::ExitedProcess {
        pid,
        ppid,
        uid: 0,
        comm: b"x".into(),
        cmdline: std::sync::Arc::from(Vec::new()),
        start_time_ns: start_ns,
        exit_time_ns: start_ns + 1_000_000_000,
        utime_ns: 0,
        stime_ns: 0,
        peak_rss_bytes: 0,
        minflt: 0,
        majflt: 0,
        io: Default::default(),
        net: None,
        cgroup: None,
        status: crate::collect::sample::ExitStatus::Code(0),
        oom_killed: false,
    }
}
