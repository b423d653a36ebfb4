//! I/O priority (htop's `i`): a class and level set with ioprio_set(2)
//! on every thread of a process.

use std::io;
use std::path::Path;

use super::signal::ActionError;
use super::threads::for_each_thread;
use crate::collect::ioprio::IOPRIO_WHO_PROCESS;
use crate::collect::sample::ioprio::IoPriority;
use crate::collect::sample::ProcessKey;

pub use crate::collect::ioprio::io_priority;

const OP: &str = "set I/O priority";

/// Sets `priority` on every thread of the process `key` names, after
/// checking that its PID was not reused. EPERM: another user's process, or
/// the realtime class without CAP_SYS_ADMIN.
pub fn set_io_priority(
    proc_root: &Path,
    key: ProcessKey,
    priority: IoPriority,
) -> Result<(), ActionError> {
    let raw = libc::c_long::from(priority.to_raw());
    for_each_thread(proc_root, key, OP, |tid| {
        // SAFETY: ioprio_set takes three integers and touches no memory;
        // tid > 0, so it never means the caller.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_ioprio_set,
                IOPRIO_WHO_PROCESS,
                libc::c_long::from(tid),
                raw,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::process::Command;

    use super::super::signal::testing::*;
    use super::super::threads::task_ids;
    use super::*;
    use crate::collect::sample::ioprio::IoClass;

    const PROC: &str = "/proc";

    /// What `ionice -p TID` says, e.g. "best-effort: prio 6" or "idle";
    /// None without ionice.
    fn ionice(tid: u32) -> Option<String> {
        let out = Command::new("ionice")
            .args(["-p", &tid.to_string()])
            .output()
            .ok()?;
        assert!(out.status.success(), "{out:?}");
        Some(String::from_utf8(out.stdout).unwrap().trim().to_owned())
    }

    #[test]
    fn every_thread_gets_the_class_ionice_reports() {
        let victim = Victim::threaded();
        let tids = task_ids(Path::new(PROC), victim.pid()).unwrap();
        let cases = [
            (IoClass::BestEffort, 6, "best-effort: prio 6"),
            (IoClass::Idle, 0, "idle"),
            (IoClass::Realtime, 2, "realtime: prio 2"),
        ];
        for (class, level, said) in cases {
            if class == IoClass::Realtime && !is_root() {
                continue;
            }
            let wanted = IoPriority { class, level };
            set_io_priority(Path::new(PROC), victim.key(), wanted).unwrap();
            for &tid in &tids {
                match ionice(tid) {
                    Some(text) => assert_eq!(text, said, "tid {tid}"),
                    None => eprintln!("no ionice: compared with ioprio_get only"),
                }
                assert_eq!(io_priority(tid), Some(wanted), "tid {tid}");
            }
        }
    }

    #[test]
    fn a_gone_process_is_named() {
        let mut victim = Victim::sleep();
        let key = victim.key();
        victim.0.kill().unwrap();
        victim.0.wait().unwrap();
        let err = set_io_priority(Path::new(PROC), key, IoPriority::NONE).unwrap_err();
        assert!(matches!(err, ActionError::Gone { .. }), "{err}");
    }

    /// Body for `unprivileged_io_priority_is_refused`, run as nobody.
    #[test]
    #[ignore = "helper: run by unprivileged_io_priority_is_refused"]
    fn helper_ioprio_as_nobody() {
        if std::env::var_os(HELPER_ENV).is_none() {
            return;
        }
        let idle = IoPriority {
            class: IoClass::Idle,
            level: 0,
        };
        // Another user's process: EPERM.
        let pid: u32 = std::env::var("VICTIM").unwrap().parse().unwrap();
        let err = set_io_priority(Path::new(PROC), key_of(pid), idle).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("set I/O priority {pid}: operation not permitted")
        );
        // Our own child: realtime needs CAP_SYS_ADMIN, idle is allowed.
        let own = Victim::sleep();
        let rt = IoPriority {
            class: IoClass::Realtime,
            level: 0,
        };
        let err = set_io_priority(Path::new(PROC), own.key(), rt).unwrap_err();
        assert!(matches!(err, ActionError::PermissionDenied { .. }), "{err}");
        set_io_priority(Path::new(PROC), own.key(), idle).unwrap();
        assert_eq!(io_priority(own.pid()), Some(idle));
        drop(own);
        helper_done();
    }

    #[test]
    fn unprivileged_io_priority_is_refused() {
        if !is_root() {
            eprintln!("skipped: needs root to run a helper as another user");
            return;
        }
        let victim = Victim::sleep();
        let before = io_priority(victim.pid());
        let env = [("VICTIM", victim.pid().to_string())];
        let test = "actions::ioprio::tests::helper_ioprio_as_nobody";
        if run_helper_as_nobody(test, &env) {
            assert_eq!(io_priority(victim.pid()), before);
        }
    }
}
