//! Changing a process's nice value, for all of its threads.
//!
//! On Linux, setpriority(PRIO_PROCESS, pid) changes only the thread whose
//! TID is `pid`; renicing "the process" as htop users expect means setting
//! every thread listed in /proc/PID/task.

use std::fs;
use std::io;
use std::path::Path;

use super::signal::{checked_pid, verify_start_time, ActionError};
use crate::collect::sample::ProcessKey;

const OP: &str = "renice";

/// The range setpriority accepts; values outside are clamped to it.
pub const NICE_RANGE: std::ops::RangeInclusive<i32> = -20..=19;

/// Sets the nice value of every thread of the process `key` names, after
/// checking that its PID was not reused (start time). `nice` is clamped to
/// -20..=19. Every thread is tried; the first error is returned (EACCES:
/// lowering nice without CAP_SYS_NICE; EPERM: another user's process).
/// Threads that exit meanwhile are skipped.
///
/// setpriority has no pidfd form, so a PID recycled between the check and
/// the calls (microseconds) could still be reniced.
pub fn renice(proc_root: &Path, key: ProcessKey, nice: i32) -> Result<(), ActionError> {
    let nice = nice.clamp(*NICE_RANGE.start(), *NICE_RANGE.end());
    // setpriority's who = 0 means the caller: never let 0 through.
    checked_pid(key.pid).ok_or(ActionError::Gone {
        op: OP,
        pid: key.pid,
    })?;
    verify_start_time(proc_root, key, OP)?;
    let tids = task_ids(proc_root, key.pid).map_err(|e| ActionError::from_io(OP, key.pid, e))?;
    let mut first_error = None;
    let mut changed = 0_usize;
    for tid in tids {
        match set_thread_nice(tid, nice) {
            Ok(()) => changed += 1,
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(ActionError::from_io(OP, key.pid, e)),
        None if changed == 0 => Err(ActionError::Gone {
            op: OP,
            pid: key.pid,
        }),
        None => Ok(()),
    }
}

/// The TIDs in /proc/PID/task, ascending (names that are not TIDs skipped).
fn task_ids(proc_root: &Path, pid: u32) -> io::Result<Vec<u32>> {
    let dir = proc_root.join(pid.to_string()).join("task");
    let mut tids: Vec<u32> = fs::read_dir(dir)?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&tid| tid != 0)
        .collect();
    tids.sort_unstable();
    Ok(tids)
}

fn set_thread_nice(tid: u32, nice: i32) -> io::Result<()> {
    // SAFETY: setpriority touches no memory; tid != 0 (task_ids), so it
    // never means the calling thread.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, nice) } < 0 {
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

    #[test]
    fn task_ids_lists_only_tids() {
        let root = std::env::temp_dir().join(format!("bpftop-renice-{}", std::process::id()));
        let task = root.join("77").join("task");
        for name in ["12", "3", "0", "x", "45"] {
            fs::create_dir_all(task.join(name)).unwrap();
        }
        let tids = task_ids(&root, 77);
        fs::remove_dir_all(&root).unwrap();
        assert_eq!(tids.unwrap(), vec![3, 12, 45]);
        let missing = task_ids(&root, 77).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
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
