//! Acting on every thread of a process. On Linux, setpriority,
//! sched_setaffinity and ioprio_set with a PID change only the thread
//! whose TID it is; acting on "the process" as htop users expect means
//! acting on every thread listed in /proc/PID/task.

use std::fs;
use std::io;
use std::path::Path;

use super::signal::{checked_pid, verify_start_time, ActionError};
use crate::collect::sample::ProcessKey;

/// Calls `apply` for every thread of the process `key` names, after
/// checking that its PID was not reused (start time). Every thread is
/// tried; the first error is returned. Threads that exit meanwhile are
/// skipped; a process with none left is gone.
///
/// These calls have no pidfd form, so a PID recycled between the check and
/// the calls (microseconds) could still be reached.
pub fn for_each_thread(
    proc_root: &Path,
    key: ProcessKey,
    op: &'static str,
    mut apply: impl FnMut(libc::pid_t) -> io::Result<()>,
) -> Result<(), ActionError> {
    // A pid of 0 means the caller to all of these calls: never let it through.
    checked_pid(key.pid).ok_or(ActionError::Gone { op, pid: key.pid })?;
    verify_start_time(proc_root, key, op)?;
    let tids = task_ids(proc_root, key.pid).map_err(|e| ActionError::from_io(op, key.pid, e))?;
    let mut first_error = None;
    let mut changed = 0_usize;
    for tid in tids.into_iter().filter_map(checked_pid) {
        match apply(tid) {
            Ok(()) => changed += 1,
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(ActionError::from_io(op, key.pid, e)),
        None if changed == 0 => Err(ActionError::Gone { op, pid: key.pid }),
        None => Ok(()),
    }
}

/// The TIDs in /proc/PID/task, ascending (names that are not TIDs skipped).
pub(crate) fn task_ids(proc_root: &Path, pid: u32) -> io::Result<Vec<u32>> {
    let dir = proc_root.join(pid.to_string()).join("task");
    let mut tids: Vec<u32> = fs::read_dir(dir)?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&tid| tid != 0)
        .collect();
    tids.sort_unstable();
    Ok(tids)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_lists_only_tids() {
        let root = std::env::temp_dir().join(format!("bpftop-threads-{}", std::process::id()));
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
}
