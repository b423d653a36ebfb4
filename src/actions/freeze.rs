//! Freezing and thawing cgroups with the cgroup v2 freezer: the whole cgroup
//! stops at once, processes forked in it are born frozen, and the processes
//! can neither see nor block it (unlike SIGSTOP).
//!
//! Guards refuse the cgroups whose freezing would stop bpftop itself or the
//! terminal it is shown in, since nothing could then thaw them. A single
//! process is frozen by moving it into a cgroup of its own ([`isolate`]),
//! which [`release`] undoes.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::collect::frozen::read_events_frozen;
use crate::collect::procfs::parse_cgroup_v2;

/// How long [`freeze`] waits for every task to stop, and how often it looks.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(1);
const SETTLE_POLL: Duration = Duration::from_millis(10);

/// Name prefix of the cgroups [`isolate`] creates; only such cgroups are
/// ever removed.
const ISOLATED_PREFIX: &str = "bpftop-freeze-";

/// Why a freeze, thaw or isolation was not done. Each displays as one
/// status-bar line.
#[derive(Debug)]
pub enum FreezeError {
    /// No cgroup2 hierarchy is mounted (for callers without a mount).
    NoCgroup2,
    /// "/": it has no cgroup.freeze, and would hold everything.
    RootCgroup,
    /// "/init.scope": PID 1.
    InitScope,
    /// The cgroup bpftop runs in (the path).
    OwnCgroup(String),
    /// A cgroup containing bpftop's own (the path).
    AncestorOfOwn(String),
    /// The cgroup of bpftop's session leader, or one containing it (the path).
    TerminalSession(String),
    /// For callers asked to freeze a kernel thread's row.
    KernelThread,
    /// No cgroup.freeze: kernel < 5.2.
    NotSupported,
    /// EACCES/EPERM; the action, e.g. "freeze /a/b".
    PermissionDenied(String),
    /// Anything else; the whole message.
    Io(String),
}

impl fmt::Display for FreezeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FreezeError::NoCgroup2 => write!(f, "cannot freeze: no cgroup2 hierarchy is mounted"),
            FreezeError::RootCgroup => write!(f, "refusing to freeze /: the root cgroup"),
            FreezeError::InitScope => write!(f, "refusing to freeze /init.scope: it holds init"),
            FreezeError::OwnCgroup(p) => write!(f, "refusing to freeze {p}: bpftop runs in it"),
            FreezeError::AncestorOfOwn(p) => {
                write!(f, "refusing to freeze {p}: it contains bpftop's cgroup")
            }
            FreezeError::TerminalSession(p) => write!(
                f,
                "refusing to freeze {p}: it is or contains the terminal session running bpftop"
            ),
            FreezeError::KernelThread => write!(f, "kernel threads cannot be frozen"),
            FreezeError::NotSupported => write!(
                f,
                "cannot freeze: this kernel has no cgroup.freeze (needs Linux 5.2)"
            ),
            FreezeError::PermissionDenied(action) => write!(
                f,
                "cannot {action}: permission denied ({})",
                permission_hint(action)
            ),
            FreezeError::Io(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for FreezeError {}

/// What a denied action needs, by its verb.
fn permission_hint(action: &str) -> &'static str {
    if action.starts_with("freeze ") || action.starts_with("thaw ") {
        "needs root or write access to cgroup.freeze"
    } else {
        "needs root"
    }
}

/// Classifies an OS error from doing `action` ("freeze /a/b").
fn os_error(action: String, error: &io::Error) -> FreezeError {
    match error.raw_os_error() {
        Some(libc::EACCES | libc::EPERM) => FreezeError::PermissionDenied(action),
        _ => FreezeError::Io(format!("cannot {action}: {error}")),
    }
}

/// The components of a cgroup path; None unless it is absolute and has no
/// "." or ".." (which could point the guards' prefix test elsewhere).
fn components(path: &str) -> Option<Vec<&str>> {
    if !path.starts_with('/') {
        return None;
    }
    let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    if parts.iter().any(|&c| c == "." || c == "..") {
        return None;
    }
    Some(parts)
}

/// Whether `ancestor` is `path` or contains it, comparing whole components
/// ("/a/b" contains "/a/b/c" but not "/a/bc").
fn contains(ancestor: &[&str], path: &str) -> bool {
    components(path).is_some_and(|p| p.starts_with(ancestor))
}

/// The directory of cgroup `path`, refusing paths that are not plain.
fn cgroup_dir(mount: &Path, path: &str) -> Result<PathBuf, FreezeError> {
    let parts =
        components(path).ok_or_else(|| FreezeError::Io(format!("not a cgroup path: {path:?}")))?;
    Ok(parts.iter().fold(mount.to_path_buf(), |dir, c| dir.join(c)))
}

/// The cgroups that must never be frozen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guards {
    /// bpftop's own cgroup; empty when unknown, which refuses everything.
    pub own_cgroup: String,
    /// The cgroup of bpftop's session leader (the login shell, sshd or the
    /// terminal emulator's side), if it could be read.
    pub session_cgroup: Option<String>,
    /// The cgroups of bpftop's parents up the process tree (the shell, the
    /// terminal multiplexer or emulator, sshd): freezing one would freeze
    /// the terminal bpftop is driven from.
    pub parent_cgroups: Vec<String>,
}

/// Parent of `pid` from /proc/PID/stat (the field after the last ')').
fn parent_of(proc_root: &Path, pid: u32) -> Option<u32> {
    let stat = fs::read(proc_root.join(pid.to_string()).join("stat")).ok()?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 2..)?).ok()?;
    rest.split(' ').nth(1)?.parse().ok()
}

impl Guards {
    /// Guards for this process, from `proc_root` (normally /proc).
    pub fn current(proc_root: &Path) -> Guards {
        let cgroup_of = |who: &str| {
            let text = fs::read(proc_root.join(who).join("cgroup")).ok()?;
            parse_cgroup_v2(&text)
        };
        // SAFETY: getsid(0) asks for our own session; it has no preconditions.
        let sid = unsafe { libc::getsid(0) };
        let mut parent_cgroups = Vec::new();
        let mut pid = std::process::id();
        // Bounded: a process tree is never deeper than this in practice,
        // and a loop must not hang us.
        for _ in 0..64 {
            match parent_of(proc_root, pid) {
                Some(parent) if parent > 1 => {
                    parent_cgroups.extend(cgroup_of(&parent.to_string()));
                    pid = parent;
                }
                _ => break,
            }
        }
        Guards {
            own_cgroup: cgroup_of("self").unwrap_or_default(),
            session_cgroup: (sid > 0).then(|| cgroup_of(&sid.to_string())).flatten(),
            parent_cgroups,
        }
    }

    /// Whether freezing cgroup `target` is allowed.
    pub fn check(&self, target: &str) -> Result<(), FreezeError> {
        let parts = components(target).ok_or_else(|| {
            FreezeError::Io(format!("refusing to freeze {target:?}: not a cgroup path"))
        })?;
        if parts.is_empty() {
            return Err(FreezeError::RootCgroup);
        }
        if parts == ["init.scope"] {
            return Err(FreezeError::InitScope);
        }
        if components(&self.own_cgroup).is_none() {
            return Err(FreezeError::Io(format!(
                "refusing to freeze {target}: bpftop's own cgroup is unknown"
            )));
        }
        if contains(&parts, &self.own_cgroup) {
            return Err(if components(&self.own_cgroup) == Some(parts) {
                FreezeError::OwnCgroup(target.to_owned())
            } else {
                FreezeError::AncestorOfOwn(target.to_owned())
            });
        }
        let terminal = self
            .session_cgroup
            .iter()
            .chain(&self.parent_cgroups)
            .any(|cgroup| contains(&parts, cgroup));
        if terminal {
            return Err(FreezeError::TerminalSession(target.to_owned()));
        }
        Ok(())
    }
}

/// Writes `value` to an existing cgroup file (never O_CREAT: kernfs answers
/// that with EACCES, which would read as a permission problem).
fn write_file(path: &Path, value: &str) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)?
        .write_all(value.as_bytes())
}

/// Writes "1" or "0" to the cgroup's cgroup.freeze.
fn set_freeze(dir: &Path, cgroup_path: &str, freeze: bool) -> Result<(), FreezeError> {
    let (value, verb) = if freeze {
        ("1", "freeze")
    } else {
        ("0", "thaw")
    };
    let action = || format!("{verb} {cgroup_path}");
    match write_file(&dir.join("cgroup.freeze"), value) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound && dir.is_dir() => {
            Err(FreezeError::NotSupported)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(FreezeError::Io(format!(
            "cannot {}: no such cgroup",
            action()
        ))),
        Err(e) => Err(os_error(action(), &e)),
    }
}

/// Polls cgroup.events until it says frozen, for at most `timeout`.
fn wait_frozen(dir: &Path, timeout: Duration) -> bool {
    let Ok(events) = File::open(dir.join("cgroup.events")) else {
        return false;
    };
    let start = Instant::now();
    loop {
        if read_events_frozen(&events) == Some(true) {
            return true;
        }
        if start.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(SETTLE_POLL);
    }
}

/// Freezes cgroup `cgroup_path` ("/a/b") and waits until all its tasks
/// have stopped; if they do not within a second, thaws it again.
pub fn freeze(mount: &Path, cgroup_path: &str, guards: &Guards) -> Result<(), FreezeError> {
    freeze_within(mount, cgroup_path, guards, SETTLE_TIMEOUT)
}

fn freeze_within(
    mount: &Path,
    cgroup_path: &str,
    guards: &Guards,
    timeout: Duration,
) -> Result<(), FreezeError> {
    guards.check(cgroup_path)?;
    let dir = cgroup_dir(mount, cgroup_path)?;
    set_freeze(&dir, cgroup_path, true)?;
    if wait_frozen(&dir, timeout) {
        return Ok(());
    }
    // Half-frozen is the worst outcome: undo, and say whether that worked.
    let undo = match set_freeze(&dir, cgroup_path, false) {
        Ok(()) => "thawed it again".to_owned(),
        Err(e) => format!("thawing it again failed too: {e}"),
    };
    Err(FreezeError::Io(format!(
        "{cgroup_path} did not freeze within {} ms; {undo}",
        timeout.as_millis()
    )))
}

/// Thaws cgroup `cgroup_path`. Thawing can harm nothing, so no guards; the
/// root cgroup is never frozen, so thawing it does nothing. Fails, naming the
/// ancestor, when the cgroup stays frozen because an ancestor is.
pub fn thaw(mount: &Path, cgroup_path: &str) -> Result<(), FreezeError> {
    let dir = cgroup_dir(mount, cgroup_path)?;
    if dir == mount {
        return Ok(());
    }
    set_freeze(&dir, cgroup_path, false)?;
    let still_frozen = File::open(dir.join("cgroup.events"))
        .ok()
        .and_then(|f| read_events_frozen(&f));
    if still_frozen != Some(true) {
        return Ok(());
    }
    let by = frozen_ancestor(mount, cgroup_path).unwrap_or_else(|| "an ancestor".to_owned());
    Err(FreezeError::Io(format!(
        "{cgroup_path} is still frozen: {by} is frozen, thaw that"
    )))
}

/// The nearest ancestor of `cgroup_path` whose own cgroup.freeze is 1.
fn frozen_ancestor(mount: &Path, cgroup_path: &str) -> Option<String> {
    let mut path = cgroup_path;
    while let Some((parent, _)) = path.rsplit_once('/') {
        if parent.is_empty() {
            return None;
        }
        let dir = cgroup_dir(mount, parent).ok()?;
        let own = fs::read_to_string(dir.join("cgroup.freeze")).ok()?;
        if own.trim() == "1" {
            return Some(parent.to_owned());
        }
        path = parent;
    }
    None
}

/// Whether `pid` is listed in the cgroup's cgroup.procs.
fn has_process(dir: &Path, pid: u32) -> io::Result<bool> {
    let procs = fs::read_to_string(dir.join("cgroup.procs"))?;
    Ok(procs.lines().any(|l| l.trim().parse() == Ok(pid)))
}

/// Moves process `pid` into the cgroup at `dir` (named `path`).
fn move_process(dir: &Path, path: &str, pid: u32) -> Result<(), FreezeError> {
    write_file(&dir.join("cgroup.procs"), &pid.to_string())
        .map_err(|e| os_error(format!("move {pid} into {path}"), &e))
}

/// Whether `path` names a cgroup [`isolate`] created.
fn is_isolated(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|name| name.starts_with(ISOLATED_PREFIX))
}

/// Moves process `pid`, now in `cgroup_path`, into a new cgroup of its own
/// so that [`freeze`] can stop it alone; returns the new cgroup's path.
///
/// The new cgroup is a sibling, `<parent>/bpftop-freeze-<pid>`: cgroup v2
/// allows no processes in a cgroup whose children have controllers, so a
/// child of the process's cgroup would not work. Processes in the root
/// cgroup or a top-level one are refused (that would create a top-level
/// cgroup), as are those in cgroups the guards protect. On any error nothing
/// created is left behind. Undo with [`release`], also when the
/// [`freeze`] that follows fails.
pub fn isolate(
    mount: &Path,
    pid: u32,
    cgroup_path: &str,
    guards: &Guards,
) -> Result<String, FreezeError> {
    guards.check(cgroup_path)?;
    let isolated_name = format!("{ISOLATED_PREFIX}{pid}");
    if cgroup_path.rsplit('/').next() == Some(isolated_name.as_str()) {
        return Ok(cgroup_path.to_owned()); // isolated already
    }
    let parent = match cgroup_path.rsplit_once('/') {
        Some((parent, _)) if !parent.is_empty() => parent,
        _ => return Err(FreezeError::RootCgroup),
    };
    let isolated = format!("{parent}/{isolated_name}");
    guards.check(&isolated)?;
    let dir = cgroup_dir(mount, &isolated)?;
    create_isolated(mount, &dir, &isolated)?;
    let moved =
        check_member(mount, cgroup_path, pid).and_then(|()| move_process(&dir, &isolated, pid));
    if let Err(e) = moved {
        let _ = fs::remove_dir(&dir);
        return Err(e);
    }
    Ok(isolated)
}

/// Creates the isolation cgroup. An empty one left by an earlier run (the
/// process died while isolated) is removed and made anew.
fn create_isolated(mount: &Path, dir: &Path, path: &str) -> Result<(), FreezeError> {
    let mkdir = || fs::create_dir(dir).map_err(|e| os_error(format!("create {path}"), &e));
    match fs::create_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && remove_if_empty(mount, path) => {
            mkdir()
        }
        Err(e) => Err(os_error(format!("create {path}"), &e)),
        Ok(()) => Ok(()),
    }
}

/// Fails unless `pid` is still in `cgroup_path` (it may have exited or moved
/// since the refresh that showed it).
fn check_member(mount: &Path, cgroup_path: &str, pid: u32) -> Result<(), FreezeError> {
    let dir = cgroup_dir(mount, cgroup_path)?;
    match has_process(&dir, pid) {
        Ok(true) => Ok(()),
        Ok(false) => Err(FreezeError::Io(format!(
            "cannot isolate {pid}: it is no longer in {cgroup_path}"
        ))),
        Err(e) => Err(os_error(format!("read {cgroup_path}/cgroup.procs"), &e)),
    }
}

/// Undoes [`isolate`]: thaws the isolated cgroup, moves `pid` back to
/// `original_path` if it is still there, and removes the isolated cgroup.
/// Every step is tried; the first failure is returned. If the original
/// cgroup has gone (systemd removes scopes once emptied), the process stays,
/// thawed, in the isolated cgroup, and the error says so.
pub fn release(
    mount: &Path,
    isolated_path: &str,
    original_path: &str,
    pid: u32,
) -> Result<(), FreezeError> {
    if !is_isolated(isolated_path) {
        return Err(FreezeError::Io(format!(
            "refusing to release {isolated_path}: bpftop did not create it"
        )));
    }
    let dir = cgroup_dir(mount, isolated_path)?;
    let thawed = thaw(mount, isolated_path);
    let moved = match has_process(&dir, pid) {
        Ok(true) => move_back(mount, original_path, isolated_path, pid),
        _ => Ok(()),
    };
    let removed = match fs::remove_dir(&dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(os_error(format!("remove {isolated_path}"), &e))
        }
        _ => Ok(()),
    };
    moved.and(thawed).and(removed)
}

/// Moves `pid` from the isolated cgroup back to `original_path`.
fn move_back(
    mount: &Path,
    original_path: &str,
    isolated_path: &str,
    pid: u32,
) -> Result<(), FreezeError> {
    let original = cgroup_dir(mount, original_path)?;
    move_process(&original, original_path, pid).map_err(|e| {
        FreezeError::Io(format!(
            "{e}; process {pid} stays, thawed, in {isolated_path}"
        ))
    })
}

/// Removes an isolated cgroup whose process is gone (it died while frozen).
/// True when the cgroup no longer exists afterwards; cgroups [`isolate`] did
/// not create are never removed.
pub fn remove_if_empty(mount: &Path, isolated_path: &str) -> bool {
    if !is_isolated(isolated_path) {
        return false;
    }
    let Ok(dir) = cgroup_dir(mount, isolated_path) else {
        return false;
    };
    match fs::read_to_string(dir.join("cgroup.procs")) {
        Err(e) => e.kind() == io::ErrorKind::NotFound && !dir.exists(),
        Ok(procs) if procs.trim().is_empty() => fs::remove_dir(&dir).is_ok(),
        Ok(_) => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::actions::signal::testing::{helper_done, run_helper_as_nobody, HELPER_ENV};
    use crate::collect::frozen::testing::TestCgroup;
    use crate::collect::frozen::FrozenStates;

    const OWN: &str = "/user.slice/user-1000.slice/session-2.scope";
    const SESSION: &str = "/user.slice/user-1000.slice/user@1000.service/app.slice/tmux.scope";
    const PARENT: &str = "/user.slice/user-1000.slice/user@1000.service/app.slice/terminal.scope";

    fn guards() -> Guards {
        Guards {
            own_cgroup: OWN.to_owned(),
            session_cgroup: Some(SESSION.to_owned()),
            parent_cgroups: vec![PARENT.to_owned()],
        }
    }

    #[test]
    fn the_terminal_bpftop_runs_under_is_refused() {
        let g = guards();
        assert!(matches!(
            g.check(PARENT),
            Err(FreezeError::TerminalSession(_))
        ));
        assert!(matches!(
            g.check("/user.slice/user-1000.slice/user@1000.service/app.slice"),
            Err(FreezeError::TerminalSession(_))
        ));
        assert!(g
            .check("/user.slice/user-1000.slice/user@1000.service/app.slice/other.scope")
            .is_ok());
    }

    #[test]
    fn parents_are_found_up_the_process_tree() {
        // This test runs under cargo: our parent is a real process whose
        // cgroup must be among the guarded ones.
        let g = real_guards();
        let parent = std::os::unix::process::parent_id();
        let cgroup = parse_cgroup_v2(&fs::read(format!("/proc/{parent}/cgroup")).unwrap());
        if parent > 1 {
            assert!(
                g.parent_cgroups.contains(&cgroup.unwrap()),
                "{:?}",
                g.parent_cgroups
            );
        }
    }

    /// Guards for tests on real cgroups: bpftop's real cgroup and session.
    fn real_guards() -> Guards {
        Guards::current(Path::new("/proc"))
    }

    fn events_frozen(cg: &TestCgroup, path: &str) -> bool {
        cg.read(path, "cgroup.events").contains("frozen 1")
    }

    #[test]
    fn whole_components_decide_ancestry() {
        let a_b = components("/a/b").unwrap();
        assert!(contains(&a_b, "/a/b/c"));
        assert!(contains(&a_b, "/a/b"));
        assert!(contains(&a_b, "//a/b/"));
        assert!(!contains(&a_b, "/a/bc"));
        assert!(!contains(&a_b, "/a"));
        assert!(contains(&[], "/anything"));
        assert_eq!(components("/a/../b"), None);
        assert_eq!(components("/a/./b"), None);
        assert_eq!(components("a/b"), None);
        assert_eq!(components("/"), Some(vec![]));
    }

    #[test]
    fn guards_refuse_what_would_stop_bpftop_or_its_terminal() {
        let g = guards();
        assert!(matches!(g.check("/"), Err(FreezeError::RootCgroup)));
        assert!(matches!(g.check("//"), Err(FreezeError::RootCgroup)));
        assert!(matches!(
            g.check("/init.scope"),
            Err(FreezeError::InitScope)
        ));
        assert!(matches!(g.check(OWN), Err(FreezeError::OwnCgroup(p)) if p == OWN));
        let own_slash = format!("{OWN}/");
        assert!(matches!(
            g.check(&own_slash),
            Err(FreezeError::OwnCgroup(_))
        ));
        for ancestor in ["/user.slice", "/user.slice/user-1000.slice"] {
            let err = g.check(ancestor).unwrap_err();
            assert!(matches!(err, FreezeError::AncestorOfOwn(ref p) if p == ancestor));
        }
        assert!(matches!(
            g.check(SESSION),
            Err(FreezeError::TerminalSession(_))
        ));
        let session_parent = "/user.slice/user-1000.slice/user@1000.service/app.slice";
        assert!(matches!(
            g.check(session_parent),
            Err(FreezeError::TerminalSession(_))
        ));
        // Sneaking up with ".." is refused too.
        assert!(g.check("/system.slice/../user.slice").is_err());
    }

    #[test]
    fn guards_allow_unrelated_cgroups() {
        let g = guards();
        for ok in [
            "/system.slice/nginx.service",
            "/user.slice/user-1000",                 // string prefix only
            "/user.slice/user-1000.slice/session-2", // "/a/bc" case
            "/user.slice/user-1000.slice/session-2.scope/child", // below own
            "/init.scope/child",
        ] {
            assert!(g.check(ok).is_ok(), "{ok}");
        }
        let no_session = Guards {
            session_cgroup: None,
            ..guards()
        };
        assert!(no_session.check(SESSION).is_ok());
    }

    #[test]
    fn unknown_own_cgroup_refuses_everything_but_says_why() {
        let g = Guards {
            own_cgroup: String::new(),
            session_cgroup: None,
            parent_cgroups: Vec::new(),
        };
        let err = g.check("/system.slice/nginx.service").unwrap_err();
        assert!(err.to_string().contains("own cgroup is unknown"), "{err}");
    }

    #[test]
    fn current_guards_read_own_and_session_cgroups() {
        let g = real_guards();
        let own = parse_cgroup_v2(&fs::read("/proc/self/cgroup").unwrap()).unwrap();
        assert_eq!(g.own_cgroup, own);
        // SAFETY: no preconditions.
        let sid = unsafe { libc::getsid(0) };
        let session = fs::read(format!("/proc/{sid}/cgroup"))
            .ok()
            .and_then(|t| parse_cgroup_v2(&t));
        assert_eq!(g.session_cgroup, session);
        // A fixture tree shows the parsing is of proc_root, not /proc.
        let root = std::env::temp_dir().join(format!("bpftop-guards-{}", std::process::id()));
        fs::create_dir_all(root.join("self")).unwrap();
        fs::write(root.join("self/cgroup"), "1:cpu:/v1\n0::/x/y.scope\n").unwrap();
        let g = Guards::current(&root);
        let _ = fs::remove_dir_all(&root);
        assert_eq!(g.own_cgroup, "/x/y.scope");
        assert_eq!(g.session_cgroup, None);
    }

    #[test]
    fn errors_read_as_one_status_line() {
        let lines = [
            (
                FreezeError::RootCgroup,
                "refusing to freeze /: the root cgroup",
            ),
            (
                FreezeError::OwnCgroup("/a/s.scope".into()),
                "refusing to freeze /a/s.scope: bpftop runs in it",
            ),
            (
                FreezeError::AncestorOfOwn("/a".into()),
                "refusing to freeze /a: it contains bpftop's cgroup",
            ),
            (FreezeError::KernelThread, "kernel threads cannot be frozen"),
            (
                FreezeError::PermissionDenied("freeze /a/b".into()),
                "cannot freeze /a/b: permission denied \
                 (needs root or write access to cgroup.freeze)",
            ),
            (
                FreezeError::PermissionDenied("move 7 into /a/c".into()),
                "cannot move 7 into /a/c: permission denied (needs root)",
            ),
        ];
        for (err, line) in lines {
            assert_eq!(err.to_string(), line);
        }
        for err in [
            FreezeError::NoCgroup2,
            FreezeError::InitScope,
            FreezeError::NotSupported,
            FreezeError::TerminalSession("/t".into()),
        ] {
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn errno_is_mapped() {
        let io = io::Error::from_raw_os_error;
        for errno in [libc::EACCES, libc::EPERM] {
            let err = os_error("thaw /x".into(), &io(errno));
            assert!(matches!(err, FreezeError::PermissionDenied(ref a) if a == "thaw /x"));
        }
        let err = os_error("freeze /x".into(), &io(libc::EBUSY));
        assert!(matches!(err, FreezeError::Io(_)));
        assert!(err.to_string().starts_with("cannot freeze /x: "), "{err}");
    }

    /// A fake mount (plain directory) for testing file handling.
    struct FakeMount(PathBuf);

    impl FakeMount {
        fn new(name: &str) -> FakeMount {
            let dir =
                std::env::temp_dir().join(format!("bpftop-fake-cg-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            FakeMount(dir)
        }
    }

    impl Drop for FakeMount {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn missing_cgroup_freeze_is_not_supported() {
        let fake = FakeMount::new("old-kernel");
        fs::create_dir(fake.0.join("x")).unwrap();
        let err = freeze(&fake.0, "/x", &guards()).unwrap_err();
        assert!(matches!(err, FreezeError::NotSupported), "{err}");
        assert!(matches!(
            thaw(&fake.0, "/x"),
            Err(FreezeError::NotSupported)
        ));
        // No O_CREAT: the file was not made.
        assert!(!fake.0.join("x/cgroup.freeze").exists());
        let err = freeze(&fake.0, "/gone", &guards()).unwrap_err();
        assert_eq!(err.to_string(), "cannot freeze /gone: no such cgroup");
    }

    #[test]
    fn freeze_that_does_not_settle_is_undone() {
        let fake = FakeMount::new("unsettled");
        let dir = fake.0.join("x");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("cgroup.freeze"), "0").unwrap();
        fs::write(dir.join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        let timeout = Duration::from_millis(50);
        let err = freeze_within(&fake.0, "/x", &guards(), timeout).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/x did not freeze within 50 ms; thawed it again"
        );
        assert_eq!(fs::read_to_string(dir.join("cgroup.freeze")).unwrap(), "0");
    }

    #[test]
    fn thaw_names_the_frozen_ancestor() {
        let fake = FakeMount::new("ancestor");
        let a = fake.0.join("a");
        fs::create_dir_all(a.join("b/c")).unwrap();
        for (dir, own) in [(&a, "1\n"), (&a.join("b"), "0\n"), (&a.join("b/c"), "1\n")] {
            fs::write(dir.join("cgroup.freeze"), own).unwrap();
        }
        fs::write(a.join("b/c/cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        let err = thaw(&fake.0, "/a/b/c").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/a/b/c is still frozen: /a is frozen, thaw that"
        );
        assert_eq!(
            fs::read_to_string(a.join("b/c/cgroup.freeze")).unwrap(),
            "0"
        );
        assert!(thaw(&fake.0, "/").is_ok()); // root: nothing to do
    }

    #[test]
    fn freeze_and_thaw_a_real_cgroup() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let work = cg.child("work");
        let pid = cg.spawn_sleep(&work);
        let g = real_guards();
        freeze(&cg.mount, &work, &g).unwrap();
        assert!(events_frozen(&cg, &work));
        assert_eq!(cg.read(&work, "cgroup.freeze").trim(), "1");
        // Frozen tasks show as sleeping; what proves them stopped is the
        // kernel's "frozen 1", set only once every task has stopped.
        assert_eq!(cg.procs(&work), [pid]);
        let mut states = FrozenStates::new(&cg.mount);
        assert_eq!(states.is_frozen(&work), Some(true));
        assert_eq!(states.is_frozen(&cg.path), Some(false));
        // Inherited: a cgroup made below the frozen one is frozen at once.
        let grandchild = cg.child("work/inner");
        assert_eq!(states.is_frozen(&grandchild), Some(true));
        assert_eq!(cg.read(&grandchild, "cgroup.freeze").trim(), "0");
        // Thawing the grandchild cannot undo its parent's freeze.
        let err = thaw(&cg.mount, &grandchild).unwrap_err();
        assert!(
            err.to_string().contains(&format!(": {work} is frozen")),
            "{err}"
        );

        thaw(&cg.mount, &work).unwrap();
        assert!(!events_frozen(&cg, &work));
        assert_eq!(states.is_frozen(&work), Some(false));
        assert_eq!(states.is_frozen(&grandchild), Some(false));
    }

    #[test]
    fn isolate_freeze_release_round_trip() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let work = cg.child("work");
        let pid = cg.spawn_sleep(&work);
        let other = cg.spawn_sleep(&work);
        let g = real_guards();
        let isolated = isolate(&cg.mount, pid, &work, &g).unwrap();
        assert_eq!(isolated, format!("{}/bpftop-freeze-{pid}", cg.path));
        assert_eq!(cg.procs(&isolated), [pid]);
        assert_eq!(cg.procs(&work), [other]);
        // Isolating it again is a no-op.
        assert_eq!(isolate(&cg.mount, pid, &isolated, &g).unwrap(), isolated);

        freeze(&cg.mount, &isolated, &g).unwrap();
        let mut states = FrozenStates::new(&cg.mount);
        assert_eq!(states.is_frozen(&isolated), Some(true));
        assert_eq!(states.is_frozen(&work), Some(false)); // the other runs on

        release(&cg.mount, &isolated, &work, pid).unwrap();
        assert!(!cg.dir(&isolated).exists());
        let mut procs = cg.procs(&work);
        procs.sort_unstable();
        let mut expected = [pid, other];
        expected.sort_unstable();
        assert_eq!(procs, expected);
        assert!(!events_frozen(&cg, &work));
    }

    #[test]
    fn isolated_cgroup_of_a_dead_process_is_removed() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let work = cg.child("work");
        let pid = cg.spawn_sleep(&work);
        let g = real_guards();
        let isolated = isolate(&cg.mount, pid, &work, &g).unwrap();
        freeze(&cg.mount, &isolated, &g).unwrap();
        assert!(!remove_if_empty(&cg.mount, &isolated)); // still populated
        assert!(cg.dir(&isolated).exists());
        cg.kill(pid); // SIGKILL reaches frozen tasks
        assert!(remove_if_empty(&cg.mount, &isolated));
        assert!(!cg.dir(&isolated).exists());
        // Gone stays true.
        assert!(remove_if_empty(&cg.mount, &isolated));
        // Only cgroups isolate made are ever removed.
        assert!(!remove_if_empty(&cg.mount, &work));
        assert!(cg.dir(&work).exists());
        let err = release(&cg.mount, &work, &cg.path, pid).unwrap_err();
        assert!(err.to_string().contains("did not create it"), "{err}");
    }

    #[test]
    fn failed_isolation_leaves_nothing_behind() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let work = cg.child("work");
        let pid = cg.spawn_sleep(&work);
        let g = real_guards();
        // Our own pid is not in `work`: the new cgroup must not survive.
        let me = std::process::id();
        let err = isolate(&cg.mount, me, &work, &g).unwrap_err();
        assert!(err.to_string().contains("no longer in"), "{err}");
        assert!(!cg.dir(&format!("{}/bpftop-freeze-{me}", cg.path)).exists());
        // A leftover empty cgroup of an earlier run is replaced.
        let stale = cg.child(&format!("bpftop-freeze-{pid}"));
        assert_eq!(isolate(&cg.mount, pid, &work, &g).unwrap(), stale);
        assert_eq!(cg.procs(&stale), [pid]);
        release(&cg.mount, &stale, &work, pid).unwrap();
        // Processes in the root cgroup or a top-level one are refused.
        let top = cg.path.clone();
        assert!(matches!(
            isolate(&cg.mount, pid, &top, &g),
            Err(FreezeError::RootCgroup)
        ));
        assert!(matches!(
            isolate(&cg.mount, 1, "/", &g),
            Err(FreezeError::RootCgroup)
        ));
    }

    #[test]
    fn release_reports_a_vanished_original_cgroup() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let work = cg.child("work");
        let pid = cg.spawn_sleep(&work);
        let g = real_guards();
        let isolated = isolate(&cg.mount, pid, &work, &g).unwrap();
        freeze(&cg.mount, &isolated, &g).unwrap();
        fs::remove_dir(cg.dir(&work)).unwrap(); // as systemd does to empty scopes
        let err = release(&cg.mount, &isolated, &work, pid).unwrap_err();
        assert!(err.to_string().contains("stays, thawed, in"), "{err}");
        assert_eq!(cg.procs(&isolated), [pid]);
        assert!(!events_frozen(&cg, &isolated));
    }

    /// Body for `unprivileged_freeze_is_permission_denied`, run as nobody.
    #[test]
    #[ignore = "helper: run by unprivileged_freeze_is_permission_denied"]
    fn helper_freeze_as_nobody() {
        if std::env::var_os(HELPER_ENV).is_none() {
            return;
        }
        let mount = PathBuf::from(std::env::var("CG_MOUNT").unwrap());
        let target = std::env::var("CG_TARGET").unwrap();
        let err = freeze(&mount, &target, &real_guards()).unwrap_err();
        assert!(matches!(err, FreezeError::PermissionDenied(_)), "{err}");
        let err = thaw(&mount, &target).unwrap_err();
        assert!(matches!(err, FreezeError::PermissionDenied(_)), "{err}");
        helper_done();
    }

    #[test]
    fn unprivileged_freeze_is_permission_denied() {
        let Some(cg) = TestCgroup::create() else {
            return;
        };
        let work = cg.child("work");
        let env = [
            ("CG_MOUNT", cg.mount.display().to_string()),
            ("CG_TARGET", work.clone()),
        ];
        let test = "actions::freeze::tests::helper_freeze_as_nobody";
        if run_helper_as_nobody(test, &env) {
            assert_eq!(cg.read(&work, "cgroup.freeze").trim(), "0");
        }
    }
}
