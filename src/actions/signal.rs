//! Sending signals to the process a row names, never to whatever process
//! holds its PID now.
//!
//! A row is a [`ProcessKey`] (pid + start time). Between the refresh that
//! showed the row and the key press, the process may have exited and its PID
//! been given to another process. So a signal goes out only after the
//! process's start time in /proc/PID/stat matched the key, and through a
//! pidfd opened *before* that check: the pidfd pins the process that held the
//! PID at open time, so once /proc confirms that process is the right one,
//! the signal cannot reach a successor.

use std::fmt;
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::collect::clock;
use crate::collect::procfs::parse_stat;
use crate::collect::sample::ProcessKey;

/// Every standard Linux signal, 1..=31, in number order, named without the
/// "SIG" prefix (numbers from libc, i.e. the generic numbering of x86-64 and
/// arm64).
pub const SIGNALS: &[(i32, &str)] = &[
    (libc::SIGHUP, "HUP"),
    (libc::SIGINT, "INT"),
    (libc::SIGQUIT, "QUIT"),
    (libc::SIGILL, "ILL"),
    (libc::SIGTRAP, "TRAP"),
    (libc::SIGABRT, "ABRT"),
    (libc::SIGBUS, "BUS"),
    (libc::SIGFPE, "FPE"),
    (libc::SIGKILL, "KILL"),
    (libc::SIGUSR1, "USR1"),
    (libc::SIGSEGV, "SEGV"),
    (libc::SIGUSR2, "USR2"),
    (libc::SIGPIPE, "PIPE"),
    (libc::SIGALRM, "ALRM"),
    (libc::SIGTERM, "TERM"),
    (libc::SIGSTKFLT, "STKFLT"),
    (libc::SIGCHLD, "CHLD"),
    (libc::SIGCONT, "CONT"),
    (libc::SIGSTOP, "STOP"),
    (libc::SIGTSTP, "TSTP"),
    (libc::SIGTTIN, "TTIN"),
    (libc::SIGTTOU, "TTOU"),
    (libc::SIGURG, "URG"),
    (libc::SIGXCPU, "XCPU"),
    (libc::SIGXFSZ, "XFSZ"),
    (libc::SIGVTALRM, "VTALRM"),
    (libc::SIGPROF, "PROF"),
    (libc::SIGWINCH, "WINCH"),
    (libc::SIGIO, "IO"),
    (libc::SIGPWR, "PWR"),
    (libc::SIGSYS, "SYS"),
];

/// The name of a standard signal ("TERM" for 15), None for others.
pub fn signal_name(signal: i32) -> Option<&'static str> {
    SIGNALS
        .iter()
        .find(|&&(number, _)| number == signal)
        .map(|&(_, name)| name)
}

/// Why an action on a process was not done. `op` is the action's name as
/// the status bar shows it ("kill", "renice").
///
/// Signals go through a pidfd. On kernels without pidfd_open (< 5.3, or
/// where seccomp hides it) [`send_signal`] falls back to kill(2), after the
/// same start-time check; there a PID recycled in the microseconds between
/// the check and kill(2) could still receive the signal.
#[derive(Debug)]
pub enum ActionError {
    /// The process no longer exists (ESRCH, or its /proc/PID/stat is gone).
    Gone { op: &'static str, pid: u32 },
    /// The PID now belongs to another process (start time differs): refused.
    PidReused { op: &'static str, pid: u32 },
    /// EPERM or EACCES: another user's process, or lowering nice without
    /// CAP_SYS_NICE.
    PermissionDenied { op: &'static str, pid: u32 },
    /// Anything else, e.g. EINVAL for a bad signal number.
    Other {
        op: &'static str,
        pid: u32,
        error: io::Error,
    },
}

impl ActionError {
    /// Classifies an OS error from acting on `pid`.
    pub fn from_io(op: &'static str, pid: u32, error: io::Error) -> Self {
        match error.raw_os_error() {
            Some(libc::ESRCH) => ActionError::Gone { op, pid },
            Some(libc::EPERM | libc::EACCES) => ActionError::PermissionDenied { op, pid },
            _ if error.kind() == io::ErrorKind::NotFound => ActionError::Gone { op, pid },
            _ => ActionError::Other { op, pid, error },
        }
    }
}

impl fmt::Display for ActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionError::Gone { op, pid } => write!(f, "{op} {pid}: no such process"),
            ActionError::PidReused { op, pid } => write!(
                f,
                "{op} {pid}: refused, the PID now belongs to another process"
            ),
            ActionError::PermissionDenied { op, pid } => {
                write!(f, "{op} {pid}: operation not permitted")
            }
            ActionError::Other { op, pid, error } => write!(f, "{op} {pid}: {error}"),
        }
    }
}

impl std::error::Error for ActionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ActionError::Other { error, .. } => Some(error),
            _ => None,
        }
    }
}

const OP: &str = "kill";

/// Sends `signal` to the process `key` names, refusing if its PID now
/// belongs to another process (see the module docs).
pub fn send_signal(proc_root: &Path, key: ProcessKey, signal: i32) -> Result<(), ActionError> {
    let pid = checked_pid(key.pid).ok_or(ActionError::Gone {
        op: OP,
        pid: key.pid,
    })?;
    let pidfd = match pidfd_open(pid) {
        Ok(fd) => Some(fd),
        Err(e) if pidfd_unavailable(&e) => None,
        Err(e) => return Err(ActionError::from_io(OP, key.pid, e)),
    };
    deliver(proc_root, key, signal, pidfd)
}

/// Checks the start time, then signals through `pidfd`, or with kill(2)
/// when there is none. The pidfd is closed on return whatever happens.
fn deliver(
    proc_root: &Path,
    key: ProcessKey,
    signal: i32,
    pidfd: Option<OwnedFd>,
) -> Result<(), ActionError> {
    verify_start_time(proc_root, key, OP)?;
    let sent = match &pidfd {
        Some(fd) => pidfd_send_signal(fd, signal),
        None => match checked_pid(key.pid) {
            Some(pid) => kill(pid, signal),
            None => Err(io::Error::from_raw_os_error(libc::ESRCH)),
        },
    };
    sent.map_err(|e| ActionError::from_io(OP, key.pid, e))
}

/// The PID as pid_t, if it can name a single process. 0 and values that
/// turn negative as pid_t would make kill(2) signal process groups.
pub(crate) fn checked_pid(pid: u32) -> Option<libc::pid_t> {
    libc::pid_t::try_from(pid).ok().filter(|&p| p > 0)
}

/// Succeeds only if /proc/PID/stat shows the process `key` names.
pub fn verify_start_time(
    proc_root: &Path,
    key: ProcessKey,
    op: &'static str,
) -> Result<(), ActionError> {
    let path = proc_root.join(key.pid.to_string()).join("stat");
    let line = fs::read(&path).map_err(|e| ActionError::from_io(op, key.pid, e))?;
    let stat = parse_stat(&line).ok_or_else(|| ActionError::Other {
        op,
        pid: key.pid,
        error: io::Error::new(io::ErrorKind::InvalidData, "unparsable /proc/PID/stat"),
    })?;
    let expected = ns_to_ticks(key.start_time_ns, clock::clock_ticks_per_second());
    if stat.pid != key.pid || stat.starttime != expected {
        return Err(ActionError::PidReused { op, pid: key.pid });
    }
    Ok(())
}

/// ns since boot → clock ticks, rounding down as the kernel's
/// nsec_to_clock_t() does for /proc/PID/stat's starttime.
pub(crate) fn ns_to_ticks(ns: u64, ticks_per_second: u64) -> u64 {
    let ticks = u128::from(ns) * u128::from(ticks_per_second) / 1_000_000_000;
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

/// The flags argument of the pidfd syscalls: none.
const NO_FLAGS: libc::c_long = 0;

/// pidfd_open failing this way means the call is missing, not the process:
/// ENOSYS before 5.3; EPERM is not among its documented errors, so it
/// comes from a seccomp filter that blocks it.
fn pidfd_unavailable(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::ENOSYS | libc::EPERM))
}

fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and touches no memory of ours.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::c_long::from(pid), NO_FLAGS) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(ret).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn pidfd_send_signal(pidfd: &OwnedFd, signal: i32) -> io::Result<()> {
    // SAFETY: a valid fd, a null siginfo (the kernel fills in SI_USER as
    // kill(2) does) and no flags.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            libc::c_long::from(pidfd.as_raw_fd()),
            libc::c_long::from(signal),
            std::ptr::null::<libc::siginfo_t>(),
            NO_FLAGS,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn kill(pid: libc::pid_t, signal: i32) -> io::Result<()> {
    // SAFETY: kill touches no memory; pid > 0 (checked_pid) so it names one
    // process, never a group.
    if unsafe { libc::kill(pid, signal) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Processes to act on in tests, and a way to run a test body as another
/// user by re-executing the test binary.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod testing {
    use std::path::Path;
    use std::process::{Child, Command};

    use super::*;

    /// A child process killed when dropped, so a failing test leaks none.
    pub struct Victim(pub Child);

    impl Victim {
        pub fn spawn(program: &mut Command) -> Victim {
            Victim(program.spawn().unwrap())
        }

        pub fn sleep() -> Victim {
            Victim::spawn(Command::new("sleep").arg("30"))
        }

        /// A process of four threads, all sleeping, once all four exist.
        pub fn threaded() -> Victim {
            let victim = Victim::spawn(Command::new("/usr/bin/python3").args([
                "-c",
                "import threading,time\n\
                 [threading.Thread(target=time.sleep,args=(60,),daemon=True).start() for _ in range(3)]\n\
                 time.sleep(60)",
            ]));
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            let proc_root = Path::new("/proc");
            while super::super::threads::task_ids(proc_root, victim.pid())
                .unwrap()
                .len()
                < 4
            {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the threads never started"
                );
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            victim
        }

        pub fn pid(&self) -> u32 {
            self.0.id()
        }

        pub fn key(&self) -> ProcessKey {
            key_of(self.pid())
        }

        pub fn alive(&mut self) -> bool {
            self.0.try_wait().unwrap().is_none()
        }
    }

    impl Drop for Victim {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// The key the collectors would build for `pid`.
    pub fn key_of(pid: u32) -> ProcessKey {
        let stat = parse_stat(&fs::read(format!("/proc/{pid}/stat")).unwrap()).unwrap();
        let hz = clock::clock_ticks_per_second();
        ProcessKey {
            pid,
            start_time_ns: stat.starttime * 1_000_000_000 / hz,
        }
    }

    pub fn stat_nice(stat_path: &Path) -> i32 {
        parse_stat(&fs::read(stat_path).unwrap()).unwrap().nice
    }

    /// Env var that makes a helper test run its body (in a re-executed
    /// test binary) instead of returning at once.
    pub const HELPER_ENV: &str = "BPFTOP_ACTIONS_TEST_HELPER";

    /// Exit status of a helper whose body ran to the end; a filter that
    /// matched no test would exit 0, so 0 cannot mean success.
    pub const HELPER_DONE: i32 = 42;

    /// Ends a helper body, proving to the parent that it ran.
    pub fn helper_done() -> ! {
        std::process::exit(HELPER_DONE)
    }

    /// Runs the #[ignore]d test `test` (full path) in a fresh copy of the
    /// test binary with `env` set, as uid/gid 65534, and asserts that its
    /// body ran to the end. False (skip) when the binary cannot be started
    /// as that user.
    pub fn run_helper_as_nobody(test: &str, env: &[(&str, String)]) -> bool {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::CommandExt;
        // The checkout may sit under a directory nobody cannot enter (a 0700
        // home): run a link to (or copy of) the binary from a fresh
        // world-readable directory instead.
        let dir = crate::test_support::TempDir::new("nobody");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let exe = dir.path().join("test-binary");
        let own = std::env::current_exe().unwrap();
        if fs::hard_link(&own, &exe).is_err() {
            fs::copy(&own, &exe).unwrap();
        }
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        let mut cmd = Command::new(&exe);
        cmd.args([test, "--exact", "--ignored", "--test-threads=1"])
            .env(HELPER_ENV, "1")
            .uid(65534)
            .gid(65534);
        for (name, value) in env {
            cmd.env(name, value);
        }
        let Ok(output) = cmd.output() else {
            crate::test_support::skip("cannot run the test binary as nobody");
            return false;
        };
        let log = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(HELPER_DONE), "{log}");
        true
    }

    pub fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::testing::*;
    use super::*;

    const PROC: &str = "/proc";

    #[test]
    fn signals_are_1_to_31_in_order_with_unique_names() {
        let numbers: Vec<i32> = SIGNALS.iter().map(|&(n, _)| n).collect();
        assert_eq!(numbers, (1..=31).collect::<Vec<_>>());
        let mut names: Vec<&str> = SIGNALS.iter().map(|&(_, n)| n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 31);
        assert_eq!(signal_name(9), Some("KILL"));
        assert_eq!(signal_name(15), Some("TERM"));
        assert_eq!(signal_name(16), Some("STKFLT"));
        assert_eq!(signal_name(29), Some("IO"));
        assert_eq!(signal_name(31), Some("SYS"));
        assert_eq!(signal_name(32), None);
    }

    #[test]
    fn ticks_round_down_like_the_kernel() {
        assert_eq!(ns_to_ticks(2_500_000_000, 100), 250);
        assert_eq!(ns_to_ticks(2_509_999_999, 100), 250);
        assert_eq!(ns_to_ticks(2_510_000_000, 100), 251);
        assert_eq!(ns_to_ticks(u64::MAX, 1000), u64::MAX / 1_000_000);
    }

    #[test]
    fn pids_that_name_groups_are_never_used() {
        assert_eq!(checked_pid(0), None);
        assert_eq!(checked_pid(u32::MAX), None);
        assert_eq!(checked_pid(1 << 31), None);
        assert_eq!(checked_pid(42), Some(42));
        // Were 0 or u32::MAX passed on, kill(2) would hit our own group.
        for pid in [0, u32::MAX] {
            let key = ProcessKey {
                pid,
                start_time_ns: 0,
            };
            let err = send_signal(Path::new(PROC), key, 0).unwrap_err();
            assert!(matches!(err, ActionError::Gone { .. }), "{err}");
        }
    }

    #[test]
    fn sigterm_reaches_the_keyed_process() {
        let mut victim = Victim::sleep();
        send_signal(Path::new(PROC), victim.key(), libc::SIGTERM).unwrap();
        let status = victim.0.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGTERM));
    }

    #[test]
    fn kill_fallback_also_checks_and_delivers() {
        let mut victim = Victim::sleep();
        let mut wrong = victim.key();
        wrong.start_time_ns += 1_000_000_000;
        let err = deliver(Path::new(PROC), wrong, libc::SIGKILL, None).unwrap_err();
        assert!(matches!(err, ActionError::PidReused { .. }), "{err}");
        assert!(victim.alive());
        deliver(Path::new(PROC), victim.key(), libc::SIGKILL, None).unwrap();
        assert_eq!(victim.0.wait().unwrap().signal(), Some(libc::SIGKILL));
    }

    #[test]
    fn wrong_start_time_is_refused() {
        let mut victim = Victim::sleep();
        let key = victim.key();
        // One tick is the resolution of /proc's start time; any offset of a
        // tick or more must be caught, in either direction.
        let tick = 1_000_000_000 / clock::clock_ticks_per_second();
        for start_time_ns in [key.start_time_ns + tick, key.start_time_ns - tick] {
            let wrong = ProcessKey {
                start_time_ns,
                ..key
            };
            let err = send_signal(Path::new(PROC), wrong, libc::SIGKILL).unwrap_err();
            assert!(matches!(err, ActionError::PidReused { pid, .. } if pid == key.pid));
            assert!(err
                .to_string()
                .starts_with(&format!("kill {}: refused", key.pid)));
        }
        assert!(victim.alive());
    }

    #[test]
    fn nonexistent_pid_is_gone() {
        // PIDs are below pid_max, so pid_max itself never names a process.
        let pid_max: u32 = fs::read_to_string("/proc/sys/kernel/pid_max")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let key = ProcessKey {
            pid: pid_max,
            start_time_ns: 0,
        };
        let err = send_signal(Path::new(PROC), key, libc::SIGTERM).unwrap_err();
        assert!(matches!(err, ActionError::Gone { .. }), "{err}");
        assert_eq!(err.to_string(), format!("kill {pid_max}: no such process"));
    }

    #[test]
    fn missing_stat_is_gone_and_nothing_is_sent() {
        let mut victim = Victim::sleep();
        let empty = std::env::temp_dir().join(format!("bpftop-no-proc-{}", std::process::id()));
        let err = send_signal(&empty, victim.key(), libc::SIGKILL).unwrap_err();
        assert!(matches!(err, ActionError::Gone { .. }), "{err}");
        assert!(victim.alive());
    }

    #[test]
    fn errors_are_classified_and_read_as_one_line() {
        let io = io::Error::from_raw_os_error;
        let eperm = ActionError::from_io("kill", 1234, io(libc::EPERM));
        assert!(matches!(eperm, ActionError::PermissionDenied { .. }));
        assert_eq!(eperm.to_string(), "kill 1234: operation not permitted");
        let eacces = ActionError::from_io("renice", 7, io(libc::EACCES));
        assert_eq!(eacces.to_string(), "renice 7: operation not permitted");
        let esrch = ActionError::from_io("kill", 7, io(libc::ESRCH));
        assert!(matches!(esrch, ActionError::Gone { .. }));
        let einval = ActionError::from_io("kill", 7, io(libc::EINVAL));
        assert!(matches!(einval, ActionError::Other { .. }));
        assert!(einval.to_string().starts_with("kill 7: "));
        assert!(!einval.to_string().contains('\n'));
    }

    #[test]
    fn bad_signal_number_is_another_error() {
        let victim = Victim::sleep();
        let err = send_signal(Path::new(PROC), victim.key(), 1000).unwrap_err();
        assert!(matches!(err, ActionError::Other { .. }), "{err}");
    }

    /// Body for `other_users_process_is_not_permitted`, run as nobody.
    #[test]
    #[ignore = "helper: run by other_users_process_is_not_permitted"]
    fn helper_signal_as_nobody() {
        if std::env::var_os(HELPER_ENV).is_none() {
            return;
        }
        let pid: u32 = std::env::var("VICTIM").unwrap().parse().unwrap();
        let err = send_signal(Path::new(PROC), key_of(pid), libc::SIGTERM).unwrap_err();
        assert!(matches!(err, ActionError::PermissionDenied { .. }), "{err}");
        helper_done();
    }

    #[test]
    fn other_users_process_is_not_permitted() {
        if !is_root() {
            crate::test_support::skip("needs root to run a helper as another user");
            return;
        }
        let mut victim = Victim::sleep();
        let env = [("VICTIM", victim.pid().to_string())];
        let test = "actions::signal::tests::helper_signal_as_nobody";
        if run_helper_as_nobody(test, &env) {
            assert!(victim.alive());
        }
    }
}
