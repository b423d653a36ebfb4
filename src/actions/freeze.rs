//! Freezing and thawing cgroups with the cgroup v2 freezer: the whole cgroup
//! stops at once, processes forked in it are born frozen, and the processes
//! can neither see nor block it (unlike SIGSTOP).
//!
//! Guards refuse the cgroups whose freezing would stop bpftop itself or the
//! terminal it is shown in, since nothing could then thaw them. A single
//! process is frozen by moving it into a cgroup of its own ([`isolate`]),
//! which [`release`] undoes; one whose bpftop died without undoing it is
//! found and released by [`recover_orphans`].
//!
//! Every write goes through [`CgroupFs`], the verified handle of the
//! cgroup2 mount (no symlinks followed, nothing outside the mount reached).

use std::fmt;
use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use super::cgroupfs::CgroupFs;
use crate::collect::cgroups::{encode_path, parse_cgroup_v2};
use crate::collect::frozen::read_events_frozen;

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
pub(super) fn os_error(action: String, error: &io::Error) -> FreezeError {
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

/// Fails unless `path` is a plain cgroup path ("/a/b").
pub(super) fn plain(path: &str) -> Result<Vec<&str>, FreezeError> {
    components(path).ok_or_else(|| FreezeError::Io(format!("not a cgroup path: {path:?}")))
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
        Guards::current_in(proc_root, parse_cgroup_v2)
    }

    /// The same guards in the hierarchy whose line of /proc/PID/cgroup
    /// `line` picks (the cgroup2 one, or the v1 freezer's).
    pub(super) fn current_in(proc_root: &Path, line: fn(&[u8]) -> Option<String>) -> Guards {
        let cgroup_of = |who: &str| {
            let text = fs::read(proc_root.join(who).join("cgroup")).ok()?;
            line(&text)
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

/// Writes "1" or "0" to the cgroup's cgroup.freeze.
fn set_freeze(cgroupfs: &CgroupFs, cgroup_path: &str, freeze: bool) -> Result<(), FreezeError> {
    let (value, verb) = if freeze {
        ("1", "freeze")
    } else {
        ("0", "thaw")
    };
    let action = || format!("{verb} {cgroup_path}");
    match cgroupfs.write(cgroup_path, "cgroup.freeze", value) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound && cgroupfs.exists(cgroup_path) => {
            Err(FreezeError::NotSupported)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(FreezeError::Io(format!(
            "cannot {}: no such cgroup",
            action()
        ))),
        Err(e) => Err(os_error(action(), &e)),
    }
}

/// Whether cgroup.events says frozen; None when it cannot be read.
fn events_frozen(cgroupfs: &CgroupFs, cgroup_path: &str) -> Option<bool> {
    let events = cgroupfs.open_read(cgroup_path, "cgroup.events").ok()?;
    read_events_frozen(&events)
}

/// Polls cgroup.events until it says frozen, for at most `timeout`.
fn wait_frozen(cgroupfs: &CgroupFs, cgroup_path: &str, timeout: Duration) -> bool {
    let Ok(events) = cgroupfs.open_read(cgroup_path, "cgroup.events") else {
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
pub fn freeze(cgroupfs: &CgroupFs, cgroup_path: &str, guards: &Guards) -> Result<(), FreezeError> {
    freeze_within(cgroupfs, cgroup_path, guards, SETTLE_TIMEOUT)
}

fn freeze_within(
    cgroupfs: &CgroupFs,
    cgroup_path: &str,
    guards: &Guards,
    timeout: Duration,
) -> Result<(), FreezeError> {
    guards.check(cgroup_path)?;
    set_freeze(cgroupfs, cgroup_path, true)?;
    if wait_frozen(cgroupfs, cgroup_path, timeout) {
        return Ok(());
    }
    // Half-frozen is the worst outcome: undo, and say whether that worked.
    let undo = match set_freeze(cgroupfs, cgroup_path, false) {
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
pub fn thaw(cgroupfs: &CgroupFs, cgroup_path: &str) -> Result<(), FreezeError> {
    if plain(cgroup_path)?.is_empty() {
        return Ok(());
    }
    set_freeze(cgroupfs, cgroup_path, false)?;
    if events_frozen(cgroupfs, cgroup_path) != Some(true) {
        return Ok(());
    }
    let by = frozen_ancestor(cgroupfs, cgroup_path).unwrap_or_else(|| "an ancestor".to_owned());
    Err(FreezeError::Io(format!(
        "{cgroup_path} is still frozen: {by} is frozen, thaw that"
    )))
}

/// The nearest ancestor of `cgroup_path` whose own cgroup.freeze is 1.
fn frozen_ancestor(cgroupfs: &CgroupFs, cgroup_path: &str) -> Option<String> {
    let mut path = cgroup_path;
    while let Some((parent, _)) = path.rsplit_once('/') {
        if parent.is_empty() {
            return None;
        }
        let own = cgroupfs.read(parent, "cgroup.freeze").ok()?;
        if own.trim() == "1" {
            return Some(parent.to_owned());
        }
        path = parent;
    }
    None
}

/// The pids listed in the cgroup's cgroup.procs.
pub(super) fn processes(cgroupfs: &CgroupFs, cgroup_path: &str) -> io::Result<Vec<u32>> {
    let procs = cgroupfs.read(cgroup_path, "cgroup.procs")?;
    Ok(procs
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect())
}

/// Whether `pid` is listed in the cgroup's cgroup.procs.
fn has_process(cgroupfs: &CgroupFs, cgroup_path: &str, pid: u32) -> io::Result<bool> {
    Ok(processes(cgroupfs, cgroup_path)?.contains(&pid))
}

/// Moves process `pid` into cgroup `path`.
fn move_process(cgroupfs: &CgroupFs, path: &str, pid: u32) -> Result<(), FreezeError> {
    cgroupfs
        .write(path, "cgroup.procs", &pid.to_string())
        .map_err(|e| os_error(format!("move {pid} into {path}"), &e))
}

/// The last component of a cgroup path.
fn last_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

/// Whether `path` names a cgroup [`isolate`] created.
fn is_isolated(path: &str) -> bool {
    last_name(path).starts_with(ISOLATED_PREFIX)
}

/// The bpftop process that creates isolation cgroups, named in them so that
/// a later bpftop can tell whether it is still alive: a pid alone could be
/// reused, a pid with its start time cannot; the pid namespace says which
/// pids these are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Creator {
    pub pid: u32,
    /// Start time after boot, in clock ticks (field 22 of /proc/PID/stat).
    pub start: u64,
    /// Inode of the pid namespace (/proc/PID/ns/pid).
    pub pid_ns: u64,
}

/// The fields of a /proc/PID/stat text from the third (state) on.
fn stat_fields(stat: &[u8]) -> Option<Vec<&str>> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 2..)?).ok()?;
    Some(rest.split(' ').collect())
}

/// Start time (clock ticks after boot) from a /proc/PID/stat text.
fn start_time(stat: &[u8]) -> Option<u64> {
    stat_fields(stat)?.get(22 - 3)?.parse().ok()
}

/// Whether a /proc/PID/stat text is of a process that has exited (a zombie
/// not yet reaped by its parent, or one being reaped).
fn exited(stat: &[u8]) -> bool {
    stat_fields(stat).is_some_and(|f| matches!(f.first(), Some(&("Z" | "X"))))
}

fn pid_ns(proc_root: &Path, who: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(proc_root.join(who).join("ns/pid"))
        .ok()
        .map(|m| m.ino())
}

impl Creator {
    /// This process, from `proc_root` (normally /proc).
    pub fn current(proc_root: &Path) -> Option<Creator> {
        let stat = fs::read(proc_root.join("self/stat")).ok()?;
        Some(Creator {
            pid: std::process::id(),
            start: start_time(&stat)?,
            pid_ns: pid_ns(proc_root, "self")?,
        })
    }

    /// The name of the cgroup isolating `pid`.
    fn name_for(&self, pid: u32) -> String {
        format!(
            "{ISOLATED_PREFIX}{pid}-by-{}-{}-{}",
            self.pid, self.start, self.pid_ns
        )
    }

    /// The creator named in an isolation cgroup's name; None for other
    /// names (and for those of older bpftop versions, which named none).
    fn from_name(name: &str) -> Option<Creator> {
        let rest = name.strip_prefix(ISOLATED_PREFIX)?;
        let (_, creator) = rest.split_once("-by-")?;
        let mut fields = creator.split('-').map(str::parse::<u64>);
        let (Some(Ok(pid)), Some(Ok(start)), Some(Ok(pid_ns)), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return None;
        };
        Some(Creator {
            pid: u32::try_from(pid).ok()?,
            start,
            pid_ns,
        })
    }

    /// Whether this creator may still be running, as seen from `proc_root`.
    /// Only a definite "no" is false: another pid namespace, or anything
    /// unreadable, counts as alive.
    fn may_be_alive(&self, proc_root: &Path) -> bool {
        if pid_ns(proc_root, "self") != Some(self.pid_ns) {
            return true;
        }
        match fs::read(proc_root.join(self.pid.to_string()).join("stat")) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(_) => true,
            // A zombie is gone: SIGKILL ends it, its parent may reap later.
            Ok(stat) => !exited(&stat) && start_time(&stat).is_none_or(|start| start == self.start),
        }
    }
}

/// Moves process `pid`, now in `cgroup_path`, into a new cgroup of its own
/// so that [`freeze`] can stop it alone; returns the new cgroup's path.
///
/// The new cgroup is a child of the process's cgroup, named after the
/// process and its `creator`: moving back is moving to the parent, which
/// cannot be removed while the child exists, and a later bpftop can release
/// it if the creator died ([`recover_orphans`]). A cgroup with processes has
/// no controllers enabled for its children, so the move is allowed. The
/// root cgroup and those the guards protect are refused. On any error
/// nothing created is left behind. Undo with [`release`], also when the
/// [`freeze`] that follows fails.
pub fn isolate(
    cgroupfs: &CgroupFs,
    pid: u32,
    cgroup_path: &str,
    guards: &Guards,
    creator: &Creator,
) -> Result<String, FreezeError> {
    guards.check(cgroup_path)?;
    if is_isolated(cgroup_path) {
        return Ok(cgroup_path.to_owned()); // isolated already
    }
    let isolated = format!(
        "{}/{}",
        cgroup_path.trim_end_matches('/'),
        creator.name_for(pid)
    );
    guards.check(&isolated)?;
    create_isolated(cgroupfs, &isolated)?;
    let moved = check_member(cgroupfs, cgroup_path, pid)
        .and_then(|()| move_process(cgroupfs, &isolated, pid));
    if let Err(e) = moved {
        let _ = cgroupfs.rmdir(&isolated);
        return Err(e);
    }
    Ok(isolated)
}

/// Whether `pid` can be frozen alone with [`isolate`]: not in the root
/// cgroup, and not alone in an isolation cgroup already. Says nothing of
/// the guards, which refuse with their own reasons.
pub fn can_isolate(cgroup_path: &str) -> bool {
    components(cgroup_path).is_some_and(|parts| !parts.is_empty()) && !is_isolated(cgroup_path)
}

/// Creates the isolation cgroup. An empty one left by an earlier run (the
/// process died while isolated) is removed and made anew.
fn create_isolated(cgroupfs: &CgroupFs, path: &str) -> Result<(), FreezeError> {
    let mkdir = || {
        cgroupfs
            .mkdir(path)
            .map_err(|e| os_error(format!("create {path}"), &e))
    };
    match cgroupfs.mkdir(path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && remove_if_empty(cgroupfs, path) => {
            mkdir()
        }
        Err(e) => Err(os_error(format!("create {path}"), &e)),
        Ok(()) => Ok(()),
    }
}

/// Fails unless `pid` is still in `cgroup_path` (it may have exited or moved
/// since the refresh that showed it).
fn check_member(cgroupfs: &CgroupFs, cgroup_path: &str, pid: u32) -> Result<(), FreezeError> {
    match has_process(cgroupfs, cgroup_path, pid) {
        Ok(true) => Ok(()),
        Ok(false) => Err(FreezeError::Io(format!(
            "cannot isolate {pid}: it is no longer in {cgroup_path}"
        ))),
        Err(e) => Err(os_error(format!("read {cgroup_path}/cgroup.procs"), &e)),
    }
}

/// Undoes [`isolate`]: thaws the isolated cgroup, moves `pid` back to
/// `original_path` if it is still there, and removes the isolated cgroup.
/// Every step is tried; the first failure is returned. Should the process
/// not be movable back, it stays, thawed, in the isolated cgroup, and the
/// error says so.
pub fn release(
    cgroupfs: &CgroupFs,
    isolated_path: &str,
    original_path: &str,
    pid: u32,
) -> Result<(), FreezeError> {
    if !is_isolated(isolated_path) {
        return Err(FreezeError::Io(format!(
            "refusing to release {isolated_path}: bpftop did not create it"
        )));
    }
    let thawed = thaw(cgroupfs, isolated_path);
    let moved = match has_process(cgroupfs, isolated_path, pid) {
        Ok(true) => move_back(cgroupfs, original_path, isolated_path, pid),
        _ => Ok(()),
    };
    let removed = match cgroupfs.rmdir(isolated_path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(os_error(format!("remove {isolated_path}"), &e))
        }
        _ => Ok(()),
    };
    moved.and(thawed).and(removed)
}

/// Moves `pid` from the isolated cgroup back to `original_path`.
fn move_back(
    cgroupfs: &CgroupFs,
    original_path: &str,
    isolated_path: &str,
    pid: u32,
) -> Result<(), FreezeError> {
    move_process(cgroupfs, original_path, pid).map_err(|e| {
        FreezeError::Io(format!(
            "{e}; process {pid} stays, thawed, in {isolated_path}"
        ))
    })
}

/// Removes an isolated cgroup whose process is gone (it died while frozen).
/// True when the cgroup no longer exists afterwards; cgroups [`isolate`] did
/// not create are never removed.
pub fn remove_if_empty(cgroupfs: &CgroupFs, isolated_path: &str) -> bool {
    if !is_isolated(isolated_path) || plain(isolated_path).is_err() {
        return false;
    }
    match processes(cgroupfs, isolated_path) {
        Err(e) => e.kind() == io::ErrorKind::NotFound && !cgroupfs.exists(isolated_path),
        Ok(procs) if procs.is_empty() => cgroupfs.rmdir(isolated_path).is_ok(),
        Ok(_) => false,
    }
}

/// An isolation cgroup of a bpftop that is gone, released by
/// [`recover_orphans`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    /// The isolation cgroup (now removed, unless `error` says otherwise).
    pub isolated: String,
    /// Where its processes were moved back to: its parent.
    pub original: String,
    /// The processes that were in it.
    pub pids: Vec<u32>,
    /// What failed, if anything did.
    pub error: Option<String>,
}

/// How deep, and how many cgroups, [`recover_orphans`] looks through: far
/// more than real systems have, but a bound.
const RECOVER_MAX_DEPTH: usize = 64;
const RECOVER_MAX_CGROUPS: usize = 100_000;

/// Finds the isolation cgroups whose creating bpftop is gone (killed with
/// SIGKILL, or crashed, while a process was frozen alone) and releases each:
/// thaws it, moves its processes back to its parent (the cgroup they were
/// isolated from) and removes it. Isolation cgroups of a bpftop that may
/// still be running, and those whose name says no creator, are left alone.
pub fn recover_orphans(cgroupfs: &CgroupFs, proc_root: &Path) -> Vec<Orphan> {
    let mut orphans = Vec::new();
    let mut pending = vec![(String::new(), 0usize)];
    let mut seen = 0usize;
    while let Some((path, depth)) = pending.pop() {
        seen += 1;
        if seen > RECOVER_MAX_CGROUPS {
            break;
        }
        let shown = if path.is_empty() { "/" } else { &path };
        let Ok(children) = cgroupfs.children(shown) else {
            continue;
        };
        for name in children {
            let child = format!("{path}/{}", encode_path(name.as_encoded_bytes()));
            let name = last_name(&child);
            if !name.starts_with(ISOLATED_PREFIX) {
                if depth < RECOVER_MAX_DEPTH {
                    pending.push((child, depth + 1));
                }
                continue;
            }
            let gone = Creator::from_name(name).is_some_and(|c| !c.may_be_alive(proc_root));
            if gone {
                orphans.push(release_orphan(cgroupfs, &child, shown));
            }
        }
    }
    orphans
}

/// Releases isolation cgroup `isolated`, child of `original`.
fn release_orphan(cgroupfs: &CgroupFs, isolated: &str, original: &str) -> Orphan {
    let pids = processes(cgroupfs, isolated).unwrap_or_default();
    let mut errors = Vec::new();
    if let Err(e) = thaw(cgroupfs, isolated) {
        errors.push(e.to_string());
    }
    for &pid in &pids {
        if let Err(e) = move_back(cgroupfs, original, isolated, pid) {
            errors.push(e.to_string());
        }
    }
    if let Err(e) = cgroupfs.rmdir(isolated) {
        if e.kind() != io::ErrorKind::NotFound {
            errors.push(os_error(format!("remove {isolated}"), &e).to_string());
        }
    }
    Orphan {
        isolated: isolated.to_owned(),
        original: original.to_owned(),
        pids,
        error: errors.into_iter().next(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::actions::signal::testing::{helper_done, run_helper_as_nobody, HELPER_ENV};
    use crate::collect::frozen::testing::TestCgroup;
    use crate::collect::frozen::FrozenStates;
    use std::os::unix::ffi::OsStrExt;
    use std::path::PathBuf;

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

    /// The verified handle of a test cgroup's mount.
    fn cgfs(cg: &TestCgroup) -> CgroupFs {
        CgroupFs::open(&cg.mount).unwrap()
    }

    fn me() -> Creator {
        Creator::current(Path::new("/proc")).unwrap()
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

    impl FakeMount {
        fn handle(&self) -> CgroupFs {
            CgroupFs::open_unverified(&self.0).unwrap()
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
        let cgroupfs = fake.handle();
        let err = freeze(&cgroupfs, "/x", &guards()).unwrap_err();
        assert!(matches!(err, FreezeError::NotSupported), "{err}");
        assert!(matches!(
            thaw(&cgroupfs, "/x"),
            Err(FreezeError::NotSupported)
        ));
        // No O_CREAT: the file was not made.
        assert!(!fake.0.join("x/cgroup.freeze").exists());
        let err = freeze(&cgroupfs, "/gone", &guards()).unwrap_err();
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
        let err = freeze_within(&fake.handle(), "/x", &guards(), timeout).unwrap_err();
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
        let cgroupfs = fake.handle();
        let err = thaw(&cgroupfs, "/a/b/c").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/a/b/c is still frozen: /a is frozen, thaw that"
        );
        // Written in place, never truncated: kernfs files take the value.
        assert_eq!(
            fs::read_to_string(a.join("b/c/cgroup.freeze")).unwrap(),
            "0\n"
        );
        assert!(thaw(&cgroupfs, "/").is_ok()); // root: nothing to do
    }

    #[test]
    fn freeze_and_thaw_a_real_cgroup() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let work = cg.child("work");
        let pid = cg.spawn_sleep(&work);
        let g = real_guards();
        freeze(&cgfs(&cg), &work, &g).unwrap();
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
        let err = thaw(&cgfs(&cg), &grandchild).unwrap_err();
        assert!(
            err.to_string().contains(&format!(": {work} is frozen")),
            "{err}"
        );

        thaw(&cgfs(&cg), &work).unwrap();
        assert!(!events_frozen(&cg, &work));
        assert_eq!(states.is_frozen(&work), Some(false));
        assert_eq!(states.is_frozen(&grandchild), Some(false));
    }

    #[test]
    fn isolate_freeze_release_round_trip() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let cgroupfs = cgfs(&cg);
        let work = cg.child("work");
        let pid = cg.spawn_sleep(&work);
        let other = cg.spawn_sleep(&work);
        let g = real_guards();
        let creator = me();
        let isolated = isolate(&cgroupfs, pid, &work, &g, &creator).unwrap();
        // A child of the process's cgroup, naming the process and its creator.
        assert_eq!(
            isolated,
            format!(
                "{work}/bpftop-freeze-{pid}-by-{}-{}-{}",
                creator.pid, creator.start, creator.pid_ns
            )
        );
        assert_eq!(cg.procs(&isolated), [pid]);
        assert_eq!(cg.procs(&work), [other]);
        // Isolating it again is a no-op.
        assert_eq!(
            isolate(&cgroupfs, pid, &isolated, &g, &creator).unwrap(),
            isolated
        );
        assert!(!can_isolate(&isolated));

        freeze(&cgroupfs, &isolated, &g).unwrap();
        let mut states = FrozenStates::new(&cg.mount);
        assert_eq!(states.is_frozen(&isolated), Some(true));
        assert_eq!(states.is_frozen(&work), Some(false)); // the other runs on

        release(&cgroupfs, &isolated, &work, pid).unwrap();
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
        let cgroupfs = cgfs(&cg);
        let work = cg.child("work");
        let pid = cg.spawn_sleep(&work);
        let g = real_guards();
        let isolated = isolate(&cgroupfs, pid, &work, &g, &me()).unwrap();
        freeze(&cgroupfs, &isolated, &g).unwrap();
        assert!(!remove_if_empty(&cgroupfs, &isolated)); // still populated
        assert!(cg.dir(&isolated).exists());
        cg.kill(pid); // SIGKILL reaches frozen tasks
        assert!(remove_if_empty(&cgroupfs, &isolated));
        assert!(!cg.dir(&isolated).exists());
        // Gone stays true.
        assert!(remove_if_empty(&cgroupfs, &isolated));
        // Only cgroups isolate made are ever removed.
        assert!(!remove_if_empty(&cgroupfs, &work));
        assert!(cg.dir(&work).exists());
        let err = release(&cgroupfs, &work, &cg.path, pid).unwrap_err();
        assert!(err.to_string().contains("did not create it"), "{err}");
    }

    #[test]
    fn failed_isolation_leaves_nothing_behind() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let cgroupfs = cgfs(&cg);
        let work = cg.child("work");
        let pid = cg.spawn_sleep(&work);
        let g = real_guards();
        let creator = me();
        // Our own pid is not in `work`: the new cgroup must not survive.
        let own = std::process::id();
        let err = isolate(&cgroupfs, own, &work, &g, &creator).unwrap_err();
        assert!(err.to_string().contains("no longer in"), "{err}");
        assert!(cgroupfs.children(&work).unwrap().is_empty());
        // A leftover empty cgroup of an earlier run is replaced.
        let stale = cg.child(&format!("work/{}", creator.name_for(pid)));
        assert_eq!(isolate(&cgroupfs, pid, &work, &g, &creator).unwrap(), stale);
        assert_eq!(cg.procs(&stale), [pid]);
        release(&cgroupfs, &stale, &work, pid).unwrap();
        // Processes in the root cgroup are refused, and not offered.
        assert!(matches!(
            isolate(&cgroupfs, 1, "/", &g, &creator),
            Err(FreezeError::RootCgroup)
        ));
        assert!(!can_isolate("/"));
    }

    /// Reproduction: `i` was offered for a process in a top-level cgroup,
    /// then refused with "refusing to freeze /: the root cgroup". The
    /// isolation cgroup is now a child, which works at any depth.
    #[test]
    fn a_process_in_a_top_level_cgroup_can_be_frozen_alone() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let cgroupfs = cgfs(&cg);
        let top = cg.path.clone();
        assert!(can_isolate(&top));
        let pid = cg.spawn_sleep(&top);
        let other = cg.spawn_sleep(&top);
        let g = real_guards();
        let isolated = isolate(&cgroupfs, pid, &top, &g, &me()).unwrap();
        freeze(&cgroupfs, &isolated, &g).unwrap();
        assert!(events_frozen(&cg, &isolated));
        assert!(!events_frozen(&cg, &top));
        assert_eq!(cg.procs(&top), [other]);
        release(&cgroupfs, &isolated, &top, pid).unwrap();
        assert_eq!(cg.procs(&top).len(), 2);
    }

    #[test]
    fn the_original_cgroup_cannot_vanish_under_an_isolated_process() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let cgroupfs = cgfs(&cg);
        let work = cg.child("work");
        let pid = cg.spawn_sleep(&work);
        let g = real_guards();
        let isolated = isolate(&cgroupfs, pid, &work, &g, &me()).unwrap();
        freeze(&cgroupfs, &isolated, &g).unwrap();
        // As systemd does to emptied scopes: refused, the child is in it.
        let err = fs::remove_dir(cg.dir(&work)).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EBUSY), "{err}");
        release(&cgroupfs, &isolated, &work, pid).unwrap();
        assert_eq!(cg.procs(&work), [pid]);
        assert!(!events_frozen(&cg, &work));
    }

    #[test]
    fn creators_are_read_back_from_names() {
        let c = Creator {
            pid: 4242,
            start: 987_654,
            pid_ns: 4_026_531_836,
        };
        let name = c.name_for(17);
        assert_eq!(name, "bpftop-freeze-17-by-4242-987654-4026531836");
        assert_eq!(Creator::from_name(&name), Some(c));
        for other in [
            "bpftop-freeze-17", // older bpftop: no creator, left alone
            "bpftop-freeze-17-by-4242-987654",
            "bpftop-freeze-17-by-4242-987654-1-2",
            "bpftop-freeze-17-by-x-987654-1",
            "bpftop-freeze-17-by-99999999999-1-1",
            "system.slice",
        ] {
            assert_eq!(Creator::from_name(other), None, "{other}");
        }
        let stat = b"42 (a) b) c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
            123456 1000 10";
        assert_eq!(start_time(stat), Some(123_456));
        assert!(!exited(stat));
        assert!(exited(
            b"42 (a) Z 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 9"
        ));
    }

    #[test]
    fn only_a_creator_that_is_gone_counts_as_gone() {
        let proc_root = Path::new("/proc");
        let alive = me();
        assert!(alive.may_be_alive(proc_root));
        // The same pid started at another time: pid reuse.
        let reused = Creator {
            start: alive.start + 1,
            ..alive
        };
        assert!(!reused.may_be_alive(proc_root));
        // A pid that does not exist (above pid_max's ceiling).
        let gone = Creator {
            pid: 4_194_304 + 7,
            ..alive
        };
        assert!(!gone.may_be_alive(proc_root));
        // A zombie not yet reaped (bpftop killed, its parent slow to wait).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let stat_path = format!("/proc/{}/stat", child.id());
        let deadline = Instant::now() + Duration::from_secs(30);
        let stat = loop {
            let stat = fs::read(&stat_path).unwrap();
            if exited(&stat) || Instant::now() > deadline {
                break stat;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let zombie = Creator {
            pid: child.id(),
            start: start_time(&stat).unwrap(),
            ..alive
        };
        assert!(!zombie.may_be_alive(proc_root));
        child.wait().unwrap();
        // Another pid namespace: its pids mean nothing here.
        let elsewhere = Creator {
            pid_ns: alive.pid_ns + 1,
            ..gone
        };
        assert!(elsewhere.may_be_alive(proc_root));
    }

    /// Reproduction: SIGKILL of bpftop during an `i` freeze left the process
    /// frozen in its isolation cgroup for good. A later bpftop releases it,
    /// and never the isolation cgroups of a bpftop still running.
    #[test]
    fn orphaned_isolation_cgroups_are_released_and_live_ones_kept() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let cgroupfs = cgfs(&cg);
        let work = cg.child("work");
        let orphan = cg.spawn_sleep(&work);
        let kept = cg.spawn_sleep(&work);
        let g = real_guards();
        let alive = me();
        let dead = Creator {
            pid: 4_194_304 + 11,
            ..alive
        };
        let orphaned = isolate(&cgroupfs, orphan, &work, &g, &dead).unwrap();
        let live = isolate(&cgroupfs, kept, &work, &g, &alive).unwrap();
        freeze(&cgroupfs, &orphaned, &g).unwrap();
        freeze(&cgroupfs, &live, &g).unwrap();
        // An older bpftop's name (no creator) is left alone too.
        let unnamed = cg.child("work/bpftop-freeze-1");

        let found = recover_orphans(&cgroupfs, Path::new("/proc"));
        let ours: Vec<&Orphan> = found
            .iter()
            .filter(|o| o.isolated.starts_with(&cg.path))
            .collect();
        assert_eq!(
            ours,
            [&Orphan {
                isolated: orphaned.clone(),
                original: work.clone(),
                pids: vec![orphan],
                error: None,
            }]
        );
        assert!(!cg.dir(&orphaned).exists());
        assert_eq!(cg.procs(&work), [orphan]);
        assert!(!events_frozen(&cg, &work));
        assert!(events_frozen(&cg, &live));
        assert_eq!(cg.procs(&live), [kept]);
        assert!(cg.dir(&unnamed).exists());
        release(&cgroupfs, &live, &work, kept).unwrap();
    }

    #[test]
    fn freeze_reaches_a_cgroup_whose_name_is_not_utf8() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let cgroupfs = cgfs(&cg);
        let raw = cg
            .dir(&cg.path)
            .join(std::ffi::OsStr::from_bytes(b"a\xff\xfe"));
        fs::create_dir(&raw).unwrap();
        let child = format!("{}/a\\xff\\xfe", cg.path);
        let pid = cg.spawn_sleep(&cg.path.clone());
        fs::write(raw.join("cgroup.procs"), pid.to_string()).unwrap();
        let seen = parse_cgroup_v2(&fs::read(format!("/proc/{pid}/cgroup")).unwrap());
        assert_eq!(seen.as_deref(), Some(child.as_str()));
        let g = real_guards();
        freeze(&cgroupfs, &child, &g).unwrap();
        assert!(fs::read_to_string(raw.join("cgroup.events"))
            .unwrap()
            .contains("frozen 1"));
        thaw(&cgroupfs, &child).unwrap();
        assert!(fs::read_to_string(raw.join("cgroup.events"))
            .unwrap()
            .contains("frozen 0"));
    }

    /// Reproduction: with cap_dac_override, a symlinked cgroup.freeze made
    /// a freeze write to the file it points to. Refused now; the target is
    /// unchanged.
    #[test]
    fn a_symlinked_cgroup_freeze_is_refused() {
        let fake = FakeMount::new("symlink");
        fs::create_dir(fake.0.join("x")).unwrap();
        let target = fake.0.join("victim");
        fs::write(&target, "precious\n").unwrap();
        std::os::unix::fs::symlink(&target, fake.0.join("x/cgroup.freeze")).unwrap();
        let err = freeze(&fake.handle(), "/x", &guards()).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        let err = thaw(&fake.handle(), "/x").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious\n");
    }

    #[test]
    fn a_mount_that_is_not_cgroup2_is_refused() {
        let fake = FakeMount::new("not-cgroup2");
        let err = CgroupFs::open(&fake.0).unwrap_err();
        assert!(err.to_string().contains("not a cgroup2 mount"), "{err}");
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
        let cgroupfs = CgroupFs::open(&mount).unwrap();
        let err = freeze(&cgroupfs, &target, &real_guards()).unwrap_err();
        assert!(matches!(err, FreezeError::PermissionDenied(_)), "{err}");
        let err = thaw(&cgroupfs, &target).unwrap_err();
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
