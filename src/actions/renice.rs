//! Changing a process's nice value, for all of its threads.
//!
//! On Linux, setpriority(PRIO_PROCESS, pid) changes only the thread whose
//! TID is `pid`; renicing "the process" as htop users expect means setting
//! every thread listed in /proc/PID/task.

use std::io;
use std::path::Path;

use super::signal::ActionError;
use super::threads::for_each_thread;
use crate::collect::sample::ProcessKey;

const OP: &str = "renice";

/// The range setpriority accepts; values outside are clamped to it.
pub const NICE_RANGE: std::ops::RangeInclusive<i32> = -20..=19;

/// Sets the nice value of every thread of the process `key` names, after
/// checking that its PID was not reused (start time). `nice` is clamped to
/// -20..=19. Every thread is tried; the first error is returned (EACCES:
/// lowering nice without CAP_SYS_NICE; EPERM: another user's process).
/// Threads that exit meanwhile are skipped.
pub fn renice(proc_root: &Path, key: ProcessKey, nice: i32) -> Result<(), ActionError> {
    let nice = nice.clamp(*NICE_RANGE.start(), *NICE_RANGE.end());
    for_each_thread(proc_root, key, OP, |tid| set_thread_nice(tid, nice))
}

fn set_thread_nice(tid: libc::pid_t, nice: i32) -> io::Result<()> {
    // SAFETY: setpriority touches no memory; tid > 0 (for_each_thread),
    // so it never means the calling thread.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::process::Command;
    use std::time::{Duration, Instant};

    use super::super::signal::testing::*;
    use super::super::threads::task_ids;
    use super::*;

    const PROC: &str = "/proc";

    fn nice_of(pid: u32) -> i32 {
        stat_nice(&Path::new(PROC).join(pid.to_string()).join("stat"))
    }

    #[test]
    fn renice_sets_and_clamps() {
        let victim = Victim::sleep();
        renice(Path::new(PROC), victim.key(), 5).unwrap();
        assert_eq!(nice_of(victim.pid()), 5);
        renice(Path::new(PROC), victim.key(), 100).unwrap();
        assert_eq!(nice_of(victim.pid()), 19);
    }

    #[test]
    fn wrong_start_time_is_refused() {
        let victim = Victim::sleep();
        let before = nice_of(victim.pid());
        let mut wrong = victim.key();
        wrong.start_time_ns += 1_000_000_000;
        let err = renice(Path::new(PROC), wrong, before + 7).unwrap_err();
        assert!(matches!(err, ActionError::PidReused { .. }), "{err}");
        assert_eq!(nice_of(victim.pid()), before);
    }

    #[test]
    fn pid_zero_is_never_the_caller() {
        let key = ProcessKey {
            pid: 0,
            start_time_ns: 0,
        };
        let err = renice(Path::new(PROC), key, 19).unwrap_err();
        assert!(matches!(err, ActionError::Gone { .. }), "{err}");
    }

    /// Body for `every_thread_is_reniced`: a process with several threads.
    #[test]
    #[ignore = "helper: run by every_thread_is_reniced"]
    fn helper_threads() {
        if std::env::var_os(HELPER_ENV).is_none() {
            return;
        }
        for _ in 0..3 {
            std::thread::spawn(|| std::thread::sleep(Duration::from_secs(30)));
        }
        std::thread::sleep(Duration::from_secs(30));
        helper_done();
    }

    #[test]
    fn every_thread_is_reniced() {
        let exe = std::env::current_exe().unwrap();
        let victim = Victim::spawn(
            Command::new(exe)
                .args(["actions::renice::tests::helper_threads", "--exact"])
                .args(["--ignored", "--test-threads=1"])
                .env(HELPER_ENV, "1")
                .stdout(std::process::Stdio::null()),
        );
        // At least the main thread + the 3 spawned.
        let deadline = Instant::now() + Duration::from_secs(10);
        while task_ids(Path::new(PROC), victim.pid()).unwrap().len() < 4 {
            assert!(Instant::now() < deadline, "helper threads never started");
            std::thread::sleep(Duration::from_millis(10));
        }
        renice(Path::new(PROC), victim.key(), 6).unwrap();
        let task = Path::new(PROC).join(victim.pid().to_string()).join("task");
        for tid in task_ids(Path::new(PROC), victim.pid()).unwrap() {
            assert_eq!(stat_nice(&task.join(tid.to_string()).join("stat")), 6);
        }
    }

    /// Body for `unprivileged_renice_errors`, run as nobody.
    #[test]
    #[ignore = "helper: run by unprivileged_renice_errors"]
    fn helper_renice_as_nobody() {
        if std::env::var_os(HELPER_ENV).is_none() {
            return;
        }
        // Another user's process: EPERM.
        let pid: u32 = std::env::var("VICTIM").unwrap().parse().unwrap();
        let err = renice(Path::new(PROC), key_of(pid), 5).unwrap_err();
        assert!(matches!(err, ActionError::PermissionDenied { .. }), "{err}");
        // Our own child: raising is allowed, lowering again is EACCES.
        let own = Victim::sleep();
        let raised = nice_of(own.pid()) + 1;
        renice(Path::new(PROC), own.key(), raised).unwrap();
        let err = renice(Path::new(PROC), own.key(), raised - 1).unwrap_err();
        assert!(matches!(err, ActionError::PermissionDenied { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!("renice {}: operation not permitted", own.pid())
        );
        assert_eq!(nice_of(own.pid()), raised);
        drop(own);
        helper_done();
    }

    #[test]
    fn unprivileged_renice_errors() {
        if !is_root() {
            crate::test_support::skip("needs root to run a helper as another user");
            return;
        }
        let victim = Victim::sleep();
        let before = nice_of(victim.pid());
        let env = [("VICTIM", victim.pid().to_string())];
        let test = "actions::renice::tests::helper_renice_as_nobody";
        if run_helper_as_nobody(test, &env) {
            assert_eq!(nice_of(victim.pid()), before);
        }
    }
}
