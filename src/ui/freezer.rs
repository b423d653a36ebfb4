//! Freezing from the interface: the cgroup v2 freezer behind the guards,
//! plus the cgroups bpftop created to freeze a single process, which are
//! always released again (on thaw, when they empty, and whenever bpftop
//! exits — on a termination signal and through the terminal watchdog too;
//! after SIGKILL or a crash, by the next bpftop, [`recover_at_start`]).
//!
//! A freeze must be confirmed by any key within [`KEEP_WITHIN`]: if the
//! frozen cgroup held the terminal bpftop is driven from (in a way the
//! guards could not see), no key can arrive, and the freeze is undone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::actions::cgroupfs::CgroupFs;
use crate::actions::freeze::{self, Creator, FreezeError, Guards};
use crate::actions::freeze_v1::V1Freezer;
use crate::collect::cgroups::find_cgroup2_mount;
use crate::collect::sample::ProcessKey;
use crate::model::Model;
use crate::ui::state::view::Status;

/// How long a new freeze waits for a key before it is undone.
pub const KEEP_WITHIN: Duration = Duration::from_secs(10);

/// Cgroups we created → (the cgroup the process came from, its pid).
type Isolated = HashMap<String, (String, u32)>;

/// What must be undone whichever way bpftop exits.
struct Shared {
    cgroupfs: Arc<CgroupFs>,
    /// The v1 freezer, on hosts that mount one: the containers whose
    /// runtime freezes them there are frozen and thawed there.
    v1: Option<Arc<V1Freezer>>,
    /// The cgroups we created.
    isolated: Isolated,
    /// Cgroups frozen by the last freeze, until a key confirms it.
    unconfirmed: Vec<String>,
    /// Set by [`undo_on_exit`]: nothing more is frozen.
    closing: bool,
}

/// Process-wide, so that an exit from any thread (the event loop leaving on
/// a signal, or the watchdog) can undo it.
static SHARED: Mutex<Option<Shared>> = Mutex::new(None);

/// Undoes what must not outlive bpftop: thaws the freezes nobody confirmed
/// (the promise of [`KEEP_WITHIN`] holds when bpftop is told to stop inside
/// the window) and thaws and dissolves every cgroup bpftop created. Called
/// on every exit path (return, SIGTERM/SIGHUP/SIGINT, the watchdog); safe to
/// call more than once.
pub fn undo_on_exit() {
    let Ok(mut guard) = SHARED.lock() else {
        return;
    };
    let Some(shared) = guard.as_mut() else {
        return;
    };
    shared.closing = true;
    for cgroup in std::mem::take(&mut shared.unconfirmed) {
        if !shared.isolated.contains_key(&cgroup) {
            let _ = thaw_any(&shared.cgroupfs, shared.v1.as_deref(), &cgroup);
        }
    }
    for (path, (original, pid)) in shared.isolated.drain() {
        let _ = freeze::release(&shared.cgroupfs, &path, &original, pid);
    }
}

fn with_shared<T>(f: impl FnOnce(&mut Shared) -> T) -> Option<T> {
    let mut guard = SHARED.lock().ok()?;
    guard.as_mut().map(f)
}

fn with_isolated<T>(f: impl FnOnce(&mut Isolated) -> T) -> Option<T> {
    with_shared(|shared| f(&mut shared.isolated))
}

/// Opens the cgroup2 mount seen from `proc_root`; why not, as an error.
fn open_cgroupfs(proc_root: &Path) -> Result<CgroupFs, FreezeError> {
    let mount = find_cgroup2_mount(proc_root).ok_or(FreezeError::NoCgroup2)?;
    CgroupFs::open(&mount).map_err(|e| FreezeError::Io(format!("cannot freeze: {e}")))
}

/// Releases the processes an earlier bpftop left frozen alone and could not
/// release (it was killed with SIGKILL or crashed); the status line saying
/// so, or None when there were none.
pub fn recover_at_start(proc_root: &Path) -> Option<Status> {
    let cgroupfs = open_cgroupfs(proc_root).ok()?;
    let orphans = freeze::recover_orphans(&cgroupfs, proc_root);
    let first = orphans.first()?;
    let pids: Vec<String> = orphans
        .iter()
        .flat_map(|o| o.pids.iter().map(u32::to_string))
        .collect();
    let what = match pids.as_slice() {
        [] => format!("removed {}", first.isolated),
        [one] => format!("released PID {one} from {}", first.isolated),
        many => format!(
            "released PIDs {} from {} cgroup(s)",
            many.join(", "),
            orphans.len()
        ),
    };
    let text = format!(
        "{what}: left frozen by a bpftop that is gone; thawed, back in {}{}",
        first.original,
        if orphans.len() > 1 { " etc." } else { "" }
    );
    match orphans.iter().find_map(|o| o.error.as_deref()) {
        None => Some(ok(text)),
        Some(error) => Some(failed(format!("{text} — but: {error}"))),
    }
}

pub struct Freezer {
    /// The verified cgroup2 handle; or None (no cgroup2 mount) or why it
    /// was refused.
    cgroupfs: Result<Arc<CgroupFs>, Option<String>>,
    proc_root: PathBuf,
    /// When the last freeze was made, until a key confirms it.
    unconfirmed_since: Option<Instant>,
}

fn ok(text: String) -> Status {
    Status { text, error: false }
}

fn failed(text: String) -> Status {
    Status { text, error: true }
}

fn is_frozen_by_itself(cgroupfs: &CgroupFs, v1: Option<&V1Freezer>, cgroup: &str) -> bool {
    if let Some(frozen) = v1.and_then(|v1| v1.is_frozen(cgroupfs, cgroup)) {
        return frozen;
    }
    cgroupfs
        .read(cgroup, "cgroup.freeze")
        .is_ok_and(|v| v.trim() == "1")
}

/// Freezes `cgroup` with the freezer its processes' runtime uses: the v1
/// freezer where they are in a v1 freezer cgroup, else cgroup2's.
fn freeze_any(
    cgroupfs: &CgroupFs,
    v1: Option<&V1Freezer>,
    cgroup: &str,
    guards: &Guards,
) -> Result<(), FreezeError> {
    // The cgroup2 guards hold whichever freezer is used.
    guards.check(cgroup)?;
    match v1.and_then(|v1| v1.freeze(cgroupfs, cgroup)) {
        Some(result) => result,
        None => freeze::freeze(cgroupfs, cgroup, guards),
    }
}

/// Thaws `cgroup` with the freezer [`freeze_any`] would use, and cgroup2's
/// too where its own `cgroup.freeze` is set.
fn thaw_any(cgroupfs: &CgroupFs, v1: Option<&V1Freezer>, cgroup: &str) -> Result<(), FreezeError> {
    match v1.and_then(|v1| v1.thaw(cgroupfs, cgroup)) {
        Some(result) => {
            result?;
            let v2_set = cgroupfs
                .read(cgroup, "cgroup.freeze")
                .is_ok_and(|v| v.trim() == "1");
            if v2_set {
                freeze::thaw(cgroupfs, cgroup)?;
            }
            Ok(())
        }
        None => freeze::thaw(cgroupfs, cgroup),
    }
}

impl Freezer {
    pub fn new(proc_root: &Path) -> Freezer {
        let cgroupfs = open_cgroupfs(proc_root).map(Arc::new).map_err(|e| match e {
            FreezeError::NoCgroup2 => None,
            other => Some(other.to_string()),
        });
        if let (Ok(cgroupfs), Ok(mut guard)) = (&cgroupfs, SHARED.lock()) {
            guard
                .get_or_insert_with(|| Shared {
                    cgroupfs: Arc::clone(cgroupfs),
                    v1: V1Freezer::open(proc_root).map(Arc::new),
                    isolated: HashMap::new(),
                    unconfirmed: Vec::new(),
                    closing: false,
                })
                .closing = false;
        }
        Freezer {
            cgroupfs,
            proc_root: proc_root.to_path_buf(),
            unconfirmed_since: None,
        }
    }

    fn cgroupfs(&self) -> Result<Arc<CgroupFs>, FreezeError> {
        match &self.cgroupfs {
            Ok(cgroupfs) => Ok(Arc::clone(cgroupfs)),
            Err(None) => Err(FreezeError::NoCgroup2),
            Err(Some(message)) => Err(FreezeError::Io(message.clone())),
        }
    }

    /// Guards as of now: the session and parents may have changed.
    fn guards(&self) -> Guards {
        Guards::current(&self.proc_root)
    }

    /// Freezes `cgroups`, or the process of `isolate` alone. Done holding
    /// the shared state, and recorded there before each write: an exit from
    /// another thread (the watchdog) either comes first, and then nothing is
    /// frozen, or waits and undoes all of it.
    pub fn freeze(&mut self, cgroups: &[String], isolate: Option<&(ProcessKey, String)>) -> Status {
        let result = self.cgroupfs().and_then(|_| {
            let mut guard = SHARED
                .lock()
                .map_err(|_| FreezeError::Io("cannot freeze: internal state lost".to_owned()))?;
            let shared = guard.as_mut().ok_or(FreezeError::NoCgroup2)?;
            if shared.closing {
                return Err(FreezeError::Io(
                    "not freezing: bpftop is exiting".to_owned(),
                ));
            }
            shared.unconfirmed.clear();
            match isolate {
                Some((key, cgroup)) => self.freeze_alone(shared, key.pid, cgroup),
                None => self.freeze_all(shared, cgroups),
            }
        });
        match result {
            Ok(text) => {
                self.unconfirmed_since = Some(Instant::now());
                ok(format!(
                    "{text} — press a key within {} s to keep it",
                    KEEP_WITHIN.as_secs()
                ))
            }
            Err(e) => failed(e.to_string()),
        }
    }

    fn freeze_all(&self, shared: &mut Shared, cgroups: &[String]) -> Result<String, FreezeError> {
        let cgroupfs = Arc::clone(&shared.cgroupfs);
        let v1 = shared.v1.clone();
        let guards = self.guards();
        // Check every guard first: nothing is frozen if one is refused.
        for cgroup in cgroups {
            guards.check(cgroup)?;
        }
        for cgroup in cgroups {
            // Only what this request freezes is undone unconfirmed (a cgroup
            // frozen before stays frozen).
            if !is_frozen_by_itself(&cgroupfs, v1.as_deref(), cgroup) {
                shared.unconfirmed.push(cgroup.clone());
            }
            if let Err(e) = freeze_any(&cgroupfs, v1.as_deref(), cgroup, &guards) {
                // Nothing half-done: thaw what this request froze.
                for earlier in shared.unconfirmed.drain(..) {
                    let _ = thaw_any(&cgroupfs, v1.as_deref(), &earlier);
                }
                return Err(e);
            }
        }
        Ok(match cgroups {
            [one] => format!("froze {one}"),
            many => format!("froze {} cgroups", many.len()),
        })
    }

    fn freeze_alone(
        &self,
        shared: &mut Shared,
        pid: u32,
        cgroup: &str,
    ) -> Result<String, FreezeError> {
        let cgroupfs = Arc::clone(&shared.cgroupfs);
        if let Some(v1) = &shared.v1 {
            v1.check_alone(pid)?;
        }
        let guards = self.guards();
        let creator = Creator::current(&self.proc_root).ok_or_else(|| {
            FreezeError::Io("cannot isolate: bpftop's own start time is unreadable".to_owned())
        })?;
        let own = freeze::isolate(&cgroupfs, pid, cgroup, &guards, &creator)?;
        // Recorded before freezing, so that any exit from here on releases it.
        shared
            .isolated
            .insert(own.clone(), (cgroup.to_owned(), pid));
        shared.unconfirmed.push(own.clone());
        if let Err(e) = freeze::freeze(&cgroupfs, &own, &guards) {
            shared.isolated.remove(&own);
            shared.unconfirmed.clear();
            let _ = freeze::release(&cgroupfs, &own, cgroup, pid);
            return Err(e);
        }
        Ok(format!("moved PID {pid} to {own} and froze it"))
    }

    pub fn thaw(&mut self, cgroups: &[String]) -> Status {
        let mut errors = Vec::new();
        for cgroup in cgroups {
            let result = match with_isolated(|map| map.remove(cgroup)).flatten() {
                Some((original, pid)) => self
                    .cgroupfs()
                    .and_then(|fs| freeze::release(&fs, cgroup, &original, pid)),
                None => self.cgroupfs().and_then(|fs| {
                    let v1 = with_shared(|shared| shared.v1.clone()).flatten();
                    thaw_any(&fs, v1.as_deref(), cgroup)
                }),
            };
            if let Err(e) = result {
                errors.push(e.to_string());
            }
        }
        match errors.first() {
            None => ok(format!("thawed {} cgroup(s)", cgroups.len())),
            Some(first) => failed(first.clone()),
        }
    }

    /// A key arrived: the user still controls the terminal.
    pub fn confirm(&mut self) {
        if self.unconfirmed_since.take().is_some() {
            with_shared(|shared| shared.unconfirmed.clear());
        }
    }

    /// Whether a freeze waits for a key to show the terminal still works.
    pub fn awaiting_key(&self) -> bool {
        self.unconfirmed_since.is_some()
    }

    /// Undoes a freeze nobody confirmed in time; the status to show.
    pub fn expire(&mut self) -> Option<Status> {
        if self.unconfirmed_since?.elapsed() < KEEP_WITHIN {
            return None;
        }
        self.unconfirmed_since = None;
        // Forgotten only once thawed: an exit meanwhile thaws them too.
        let cgroups = with_shared(|shared| shared.unconfirmed.clone())?;
        let mut status = self.thaw(&cgroups);
        with_shared(|shared| shared.unconfirmed.clear());
        status.text = format!(
            "no key after the freeze: thawed again (was the terminal in it?) — {}",
            status.text
        );
        Some(status)
    }

    /// Removes the cgroups we created whose process has exited.
    pub fn tidy(&mut self, model: &Model) {
        let Ok(cgroupfs) = self.cgroupfs() else {
            return;
        };
        with_isolated(|map| {
            // Nearly always nothing is isolated: then there is nothing to
            // look up, and no set of every process's cgroup to build.
            if map.is_empty() {
                return;
            }
            let in_use: rustc_hash::FxHashSet<&str> = model
                .processes
                .iter()
                .filter_map(|p| p.sample.cgroup.as_deref())
                .collect();
            map.retain(|path, _| {
                in_use.contains(path.as_str()) || !freeze::remove_if_empty(&cgroupfs, path)
            })
        });
    }
}

impl Drop for Freezer {
    /// The event loop left (quit, or a termination signal): nothing bpftop
    /// froze without confirmation, or isolated, outlives it.
    fn drop(&mut self) {
        undo_on_exit();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::collect::frozen::testing::TestCgroup;

    fn frozen(cg: &TestCgroup, path: &str) -> bool {
        cg.read(path, "cgroup.events").contains("frozen 1")
    }

    /// Reproduction: SIGTERM/SIGHUP inside the confirmation window left the
    /// cgroup frozen; the exit path (Drop, watchdog) undoes it now, and only
    /// what the unconfirmed request froze.
    #[test]
    fn an_exit_before_confirmation_undoes_the_freeze() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let work = cg.child("work");
        let before = cg.child("before");
        cg.spawn_sleep(&work);
        cg.write(&before, "cgroup.freeze", "1");
        let mut freezer = Freezer::new(Path::new("/proc"));
        let status = freezer.freeze(&[work.clone(), before.clone()], None);
        assert!(!status.error, "{}", status.text);
        assert!(frozen(&cg, &work));
        undo_on_exit();
        assert!(!frozen(&cg, &work));
        // Frozen before the request: stays frozen.
        assert_eq!(cg.read(&before, "cgroup.freeze").trim(), "1");
        // Exiting: nothing more is frozen.
        let status = freezer.freeze(std::slice::from_ref(&work), None);
        assert!(
            status.error && status.text.contains("exiting"),
            "{}",
            status.text
        );
        assert!(!frozen(&cg, &work));

        // A confirmed freeze is kept on exit.
        let mut freezer = Freezer::new(Path::new("/proc"));
        let status = freezer.freeze(std::slice::from_ref(&work), None);
        assert!(!status.error, "{}", status.text);
        freezer.confirm();
        drop(freezer);
        assert!(frozen(&cg, &work));
        cg.write(&work, "cgroup.freeze", "0");
    }
}
