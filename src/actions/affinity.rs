//! CPU affinity (htop's `a`): which CPUs a process may run on, set for
//! every one of its threads.

use std::io;
use std::path::Path;

use super::signal::{checked_pid, ActionError};
use super::threads::for_each_thread;
use crate::collect::sample::ProcessKey;

const OP: &str = "set affinity";

/// The most CPUs a mask here can name (glibc's cpu_set_t).
pub const MAX_CPUS: usize = libc::CPU_SETSIZE as usize;

/// The CPUs the process `pid` (its main thread) may run on, ascending.
pub fn affinity(pid: u32) -> Result<Vec<usize>, ActionError> {
    const GET: &str = "get affinity";
    let tid = checked_pid(pid).ok_or(ActionError::Gone { op: GET, pid })?;
    // SAFETY: an all-zero cpu_set_t is a valid empty set; the kernel writes
    // at most its size.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is a live cpu_set_t of the size passed.
    let rc = unsafe { libc::sched_getaffinity(tid, std::mem::size_of_val(&set), &mut set) };
    if rc < 0 {
        return Err(ActionError::from_io(GET, pid, io::Error::last_os_error()));
    }
    // SAFETY: CPU_ISSET reads within the set for cpu < CPU_SETSIZE.
    Ok((0..MAX_CPUS)
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect())
}

/// Lets every thread of the process `key` names run only on `cpus`, after
/// checking that its PID was not reused. An empty choice, or one with no
/// online CPU, is refused with a message saying so; EPERM means another
/// user's process without CAP_SYS_NICE.
pub fn set_affinity(proc_root: &Path, key: ProcessKey, cpus: &[usize]) -> Result<(), ActionError> {
    if cpus.is_empty() {
        return Err(no_cpu(key.pid, "no CPU chosen"));
    }
    if let Some(&cpu) = cpus.iter().find(|&&cpu| cpu >= MAX_CPUS) {
        return Err(no_cpu(key.pid, &format!("CPU {cpu} is beyond {MAX_CPUS}")));
    }
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus {
        // SAFETY: cpu < CPU_SETSIZE (checked above).
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    let result = for_each_thread(proc_root, key, OP, |tid| {
        // SAFETY: set is a live cpu_set_t of the size passed; tid > 0.
        let rc = unsafe { libc::sched_setaffinity(tid, std::mem::size_of_val(&set), &set) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    });
    match result {
        Err(ActionError::Other { error, .. }) if error.raw_os_error() == Some(libc::EINVAL) => {
            Err(no_cpu(key.pid, "none of the chosen CPUs is online"))
        }
        other => other,
    }
}

fn no_cpu(pid: u32, why: &str) -> ActionError {
    ActionError::Other {
        op: OP,
        pid,
        error: io::Error::new(io::ErrorKind::InvalidInput, why.to_owned()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {

    use super::super::signal::testing::*;
    use super::super::threads::task_ids;
    use super::*;

    const PROC: &str = "/proc";

    /// Cpus_allowed_list of one thread, as the kernel prints it ("0-1,3").
    fn allowed_list(pid: u32, tid: u32) -> String {
        let status = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap()
            .trim()
            .to_owned()
    }

    #[test]
    fn every_thread_gets_the_mask_proc_shows() {
        let victim = Victim::threaded();
        let online = affinity(std::process::id()).unwrap();
        let last = *online.last().unwrap();
        set_affinity(Path::new(PROC), victim.key(), &[last]).unwrap();
        for tid in task_ids(Path::new(PROC), victim.pid()).unwrap() {
            assert_eq!(
                allowed_list(victim.pid(), tid),
                last.to_string(),
                "tid {tid}"
            );
        }
        assert_eq!(affinity(victim.pid()).unwrap(), vec![last]);
    }

    #[test]
    fn bad_choices_say_why() {
        let victim = Victim::sleep();
        let before = affinity(victim.pid()).unwrap();
        let err = set_affinity(Path::new(PROC), victim.key(), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("set affinity {}: no CPU chosen", victim.pid())
        );
        // A CPU that cannot be online here (the set's last bit).
        let err = set_affinity(Path::new(PROC), victim.key(), &[MAX_CPUS - 1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "set affinity {}: none of the chosen CPUs is online",
                victim.pid()
            )
        );
        assert_eq!(affinity(victim.pid()).unwrap(), before);
    }

    #[test]
    fn a_gone_process_is_named() {
        let mut victim = Victim::sleep();
        let key = victim.key();
        victim.0.kill().unwrap();
        victim.0.wait().unwrap();
        let err = set_affinity(Path::new(PROC), key, &[0]).unwrap_err();
        assert!(matches!(err, ActionError::Gone { .. }), "{err}");
        assert!(!victim.alive());
    }

    /// Body for `unprivileged_affinity_is_refused`, run as nobody.
    #[test]
    #[ignore = "helper: run by unprivileged_affinity_is_refused"]
    fn helper_affinity_as_nobody() {
        if std::env::var_os(HELPER_ENV).is_none() {
            return;
        }
        let pid: u32 = std::env::var("VICTIM").unwrap().parse().unwrap();
        let err = set_affinity(Path::new(PROC), key_of(pid), &[0]).unwrap_err();
        assert!(matches!(err, ActionError::PermissionDenied { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!("set affinity {pid}: operation not permitted")
        );
        helper_done();
    }

    #[test]
    fn unprivileged_affinity_is_refused() {
        if !is_root() {
            eprintln!("skipped: needs root to run a helper as another user");
            return;
        }
        let victim = Victim::sleep();
        let before = affinity(victim.pid()).unwrap();
        let env = [("VICTIM", victim.pid().to_string())];
        let test = "actions::affinity::tests::helper_affinity_as_nobody";
        if run_helper_as_nobody(test, &env) {
            assert_eq!(affinity(victim.pid()).unwrap(), before);
        }
    }
}
