//! Freezing from the interface: the cgroup v2 freezer behind the guards,
//! plus the cgroups bpftop created to freeze a single process, which are
//! always released again (on thaw, when they empty, and whenever bpftop
//! exits — including through the terminal watchdog).
//!
//! A freeze must be confirmed by any key within [`KEEP_WITHIN`]: if the
//! frozen cgroup held the terminal bpftop is driven from (in a way the
//! guards could not see), no key can arrive, and the freeze is undone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::view::Status;
use crate::actions::freeze::{self, FreezeError, Guards};
use crate::collect::cgroups::find_cgroup2_mount;
use crate::collect::sample::ProcessKey;
use crate::model::Model;

/// How long a new freeze waits for a key before it is undone.
pub const KEEP_WITHIN: Duration = Duration::from_secs(10);

/// Cgroups we created → (the cgroup the process came from, its pid).
type Isolated = HashMap<String, (String, u32)>;

/// The cgroup2 mount and the cgroups we created there. Process-wide, so
/// that an exit from any thread can release them.
static ISOLATED: Mutex<Option<(PathBuf, Isolated)>> = Mutex::new(None);

/// Thaws and dissolves every cgroup bpftop created. Called on every exit
/// path; safe to call more than once.
pub fn release_all() {
    let Ok(mut guard) = ISOLATED.lock() else {
        return;
    };
    if let Some((mount, isolated)) = guard.as_mut() {
        for (path, (original, pid)) in isolated.drain() {
            let _ = freeze::release(mount, &path, &original, pid);
        }
    }
}

fn with_isolated<T>(f: impl FnOnce(&mut Isolated) -> T) -> Option<T> {
    let mut guard = ISOLATED.lock().ok()?;
    guard.as_mut().map(|(_, map)| f(map))
}

pub struct Freezer {
    mount: Option<PathBuf>,
    proc_root: PathBuf,
    /// Cgroups frozen by the last freeze, until a key confirms it.
    unconfirmed: Option<(Instant, Vec<String>)>,
}

fn ok(text: String) -> Status {
    Status { text, error: false }
}

fn failed(text: String) -> Status {
    Status { text, error: true }
}

fn is_frozen_by_itself(mount: &Path, cgroup: &str) -> bool {
    std::fs::read_to_string(
        mount
            .join(cgroup.trim_start_matches('/'))
            .join("cgroup.freeze"),
    )
    .is_ok_and(|v| v.trim() == "1")
}

impl Freezer {
    pub fn new(proc_root: &Path) -> Freezer {
        let mount = find_cgroup2_mount(proc_root);
        if let (Some(m), Ok(mut guard)) = (&mount, ISOLATED.lock()) {
            guard.get_or_insert_with(|| (m.clone(), HashMap::new()));
        }
        Freezer {
            mount,
            proc_root: proc_root.to_path_buf(),
            unconfirmed: None,
        }
    }

    fn mount(&self) -> Result<&Path, FreezeError> {
        self.mount.as_deref().ok_or(FreezeError::NoCgroup2)
    }

    /// Guards as of now: the session and parents may have changed.
    fn guards(&self) -> Guards {
        Guards::current(&self.proc_root)
    }

    pub fn freeze(&mut self, cgroups: &[String], isolate: Option<&(ProcessKey, String)>) -> Status {
        let result = match isolate {
            Some((key, cgroup)) => self
                .freeze_alone(key.pid, cgroup)
                .map(|(text, own)| (text, vec![own])),
            None => self
                .freeze_all(cgroups)
                .map(|text| (text, cgroups.to_vec())),
        };
        match result {
            Ok((text, frozen)) => {
                self.unconfirmed = Some((Instant::now(), frozen));
                ok(format!(
                    "{text} — press a key within {} s to keep it",
                    KEEP_WITHIN.as_secs()
                ))
            }
            Err(e) => failed(e.to_string()),
        }
    }

    fn freeze_all(&self, cgroups: &[String]) -> Result<String, FreezeError> {
        let mount = self.mount()?;
        let guards = self.guards();
        // Check every guard first: nothing is frozen if one is refused.
        for cgroup in cgroups {
            guards.check(cgroup)?;
        }
        let already: Vec<bool> = cgroups
            .iter()
            .map(|c| is_frozen_by_itself(mount, c))
            .collect();
        for (done, cgroup) in cgroups.iter().enumerate() {
            if let Err(e) = freeze::freeze(mount, cgroup, &guards) {
                // Nothing half-done: thaw what this request froze, and only
                // that (a cgroup frozen before stays frozen).
                for (earlier, was_frozen) in cgroups[..done].iter().zip(&already) {
                    if !was_frozen {
                        let _ = freeze::thaw(mount, earlier);
                    }
                }
                return Err(e);
            }
        }
        Ok(match cgroups {
            [one] => format!("froze {one}"),
            many => format!("froze {} cgroups", many.len()),
        })
    }

    fn freeze_alone(&mut self, pid: u32, cgroup: &str) -> Result<(String, String), FreezeError> {
        let mount = self.mount()?.to_path_buf();
        let guards = self.guards();
        let own = freeze::isolate(&mount, pid, cgroup, &guards)?;
        // Recorded before freezing, so that any exit from here on releases it.
        with_isolated(|map| map.insert(own.clone(), (cgroup.to_owned(), pid)));
        if let Err(e) = freeze::freeze(&mount, &own, &guards) {
            with_isolated(|map| map.remove(&own));
            let _ = freeze::release(&mount, &own, cgroup, pid);
            return Err(e);
        }
        Ok((format!("moved PID {pid} to {own} and froze it"), own))
    }

    pub fn thaw(&mut self, cgroups: &[String]) -> Status {
        let mut errors = Vec::new();
        for cgroup in cgroups {
            let result = match with_isolated(|map| map.remove(cgroup)).flatten() {
                Some((original, pid)) => {
                    let mount = self.mount.clone().unwrap_or_default();
                    freeze::release(&mount, cgroup, &original, pid)
                }
                None => self.mount().and_then(|m| freeze::thaw(m, cgroup)),
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
        self.unconfirmed = None;
    }

    /// Undoes a freeze nobody confirmed in time; the status to show.
    pub fn expire(&mut self) -> Option<Status> {
        let (since, _) = self.unconfirmed.as_ref()?;
        if since.elapsed() < KEEP_WITHIN {
            return None;
        }
        let (_, cgroups) = self.unconfirmed.take()?;
        let mut status = self.thaw(&cgroups);
        status.text = format!(
            "no key after the freeze: thawed again (was the terminal in it?) — {}",
            status.text
        );
        Some(status)
    }

    /// Removes the cgroups we created whose process has exited.
    pub fn tidy(&mut self, model: &Model) {
        let Some(mount) = self.mount.as_deref() else {
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
                in_use.contains(path.as_str()) || !freeze::remove_if_empty(mount, path)
            })
        });
    }
}

impl Drop for Freezer {
    fn drop(&mut self) {
        release_all();
    }
}
