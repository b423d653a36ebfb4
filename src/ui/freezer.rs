//! Freezing from the interface: the cgroup v2 freezer behind the guards,
//! plus the cgroups bpftop created to freeze a single process, which are
//! always released again (on thaw, when they empty, and when bpftop quits).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::view::Status;
use crate::actions::freeze::{self, FreezeError, Guards};
use crate::collect::cgroups::find_cgroup2_mount;
use crate::collect::sample::ProcessKey;
use crate::model::Model;

pub struct Freezer {
    mount: Option<PathBuf>,
    guards: Guards,
    /// Cgroups we created → (the cgroup the process came from, its pid).
    isolated: HashMap<String, (String, u32)>,
}

fn ok(text: String) -> Status {
    Status { text, error: false }
}

fn failed(text: String) -> Status {
    Status { text, error: true }
}

impl Freezer {
    pub fn new(proc_root: &Path) -> Freezer {
        Freezer {
            mount: find_cgroup2_mount(proc_root),
            guards: Guards::current(proc_root),
            isolated: HashMap::new(),
        }
    }

    fn mount(&self) -> Result<&Path, FreezeError> {
        self.mount.as_deref().ok_or(FreezeError::NoCgroup2)
    }

    pub fn freeze(&mut self, cgroups: &[String], isolate: Option<&(ProcessKey, String)>) -> Status {
        let result = match isolate {
            Some((key, cgroup)) => self.freeze_alone(key.pid, cgroup),
            None => self.freeze_all(cgroups),
        };
        match result {
            Ok(text) => ok(text),
            Err(e) => failed(e.to_string()),
        }
    }

    fn freeze_all(&self, cgroups: &[String]) -> Result<String, FreezeError> {
        let mount = self.mount()?;
        // Check every guard first: nothing is frozen if one is refused.
        for cgroup in cgroups {
            self.guards.check(cgroup)?;
        }
        for (done, cgroup) in cgroups.iter().enumerate() {
            if let Err(e) = freeze::freeze(mount, cgroup, &self.guards) {
                // Nothing half-done: thaw what this request froze.
                for earlier in &cgroups[..done] {
                    let _ = freeze::thaw(mount, earlier);
                }
                return Err(e);
            }
        }
        Ok(match cgroups {
            [one] => format!("froze {one}"),
            many => format!("froze {} cgroups", many.len()),
        })
    }

    fn freeze_alone(&mut self, pid: u32, cgroup: &str) -> Result<String, FreezeError> {
        let mount = self.mount()?.to_path_buf();
        let own = freeze::isolate(&mount, pid, cgroup, &self.guards)?;
        if let Err(e) = freeze::freeze(&mount, &own, &self.guards) {
            let _ = freeze::release(&mount, &own, cgroup, pid);
            return Err(e);
        }
        self.isolated.insert(own.clone(), (cgroup.to_owned(), pid));
        Ok(format!("moved PID {pid} to {own} and froze it"))
    }

    pub fn thaw(&mut self, cgroups: &[String]) -> Status {
        let mut errors = Vec::new();
        for cgroup in cgroups {
            let result = match self.isolated.remove(cgroup) {
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

    /// Removes the cgroups we created whose process has exited.
    pub fn tidy(&mut self, model: &Model) {
        let Some(mount) = self.mount.clone() else {
            return;
        };
        let in_use: std::collections::HashSet<&str> = model
            .processes
            .iter()
            .filter_map(|p| p.sample.cgroup.as_deref())
            .collect();
        self.isolated.retain(|path, _| {
            in_use.contains(path.as_str()) || !freeze::remove_if_empty(&mount, path)
        });
    }

    /// Thaws and dissolves every cgroup we created (at exit).
    pub fn release_all(&mut self) {
        let Some(mount) = self.mount.clone() else {
            return;
        };
        for (path, (original, pid)) in self.isolated.drain() {
            let _ = freeze::release(&mount, &path, &original, pid);
        }
    }
}

impl Drop for Freezer {
    fn drop(&mut self) {
        self.release_all();
    }
}
