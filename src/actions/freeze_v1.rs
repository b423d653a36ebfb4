//! Freezing and thawing through the cgroup v1 freezer, for the containers
//! whose runtime freezes them there: on hybrid hosts (v1 controllers beside
//! cgroup2), docker and podman with the cgroupfs driver pause a container by
//! writing FROZEN to its v1 `freezer.state`. bpftop uses the same switch for
//! such a container, so that `docker unpause` undoes bpftop's freeze and
//! bpftop's thaw undoes `docker pause`; a cgroup2 `cgroup.freeze` would be a
//! second, separate switch neither side knows of.
//!
//! Writes go through [`CgroupFs`] opened on the v1 freezer mount (checked to
//! be a cgroup v1 filesystem; no symlinks, nothing outside the mount), and
//! the same guards as for cgroup2, read from the v1 freezer's lines of
//! /proc/PID/cgroup.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::cgroupfs::CgroupFs;
use super::freeze::{os_error, plain, processes, FreezeError, Guards};
use crate::collect::frozen_v1::{find_freezer_mount, parse_cgroup_freezer, parse_freezer_state};

const SETTLE_TIMEOUT: Duration = Duration::from_secs(1);
const SETTLE_POLL: Duration = Duration::from_millis(10);

/// Guards in the v1 freezer hierarchy: bpftop's own freezer cgroup, its
/// session's and its parents'.
pub fn guards(proc_root: &Path) -> Guards {
    Guards::current_in(proc_root, parse_cgroup_freezer)
}

/// The v1 freezer cgroup of the processes of cgroup2 cgroup `cgroup` (that
/// of the first listed in its `cgroup.procs`), when it is not the v1 root:
/// the cgroup a container runtime freezes them through. None otherwise.
pub fn v1_cgroup_of(cgroupfs: &CgroupFs, proc_root: &Path, cgroup: &str) -> Option<String> {
    let pid = *processes(cgroupfs, cgroup).ok()?.first()?;
    v1_cgroup_of_pid(proc_root, pid)
}

/// The v1 freezer cgroup of process `pid`, unless it is the v1 root.
pub fn v1_cgroup_of_pid(proc_root: &Path, pid: u32) -> Option<String> {
    let text = fs::read(proc_root.join(pid.to_string()).join("cgroup")).ok()?;
    parse_cgroup_freezer(&text).filter(|path| !path.trim_matches('/').is_empty())
}

fn set_state(v1: &CgroupFs, path: &str, freeze: bool) -> Result<(), FreezeError> {
    let (value, verb) = if freeze {
        ("FROZEN", "freeze")
    } else {
        ("THAWED", "thaw")
    };
    v1.write(path, "freezer.state", value).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            FreezeError::Io(format!(
                "cannot {verb} {path}: no freezer.state under {}",
                v1.mount().display()
            ))
        } else {
            os_error(format!("{verb} {path} (v1 freezer)"), &e)
        }
    })
}

/// Whether `freezer.state` says FROZEN; None when unreadable.
pub fn is_frozen(v1: &CgroupFs, path: &str) -> Option<bool> {
    parse_freezer_state(&v1.read(path, "freezer.state").ok()?)
}

/// Freezes v1 freezer cgroup `path` and waits until it is FROZEN; if it is
/// not within a second, thaws it again. `guards` are the v1 hierarchy's.
pub fn freeze(v1: &CgroupFs, path: &str, guards: &Guards) -> Result<(), FreezeError> {
    guards.check(path)?;
    set_state(v1, path, true)?;
    let start = Instant::now();
    loop {
        // The kernel moves FREEZING on to FROZEN when the state is read.
        if is_frozen(v1, path) == Some(true) {
            return Ok(());
        }
        if start.elapsed() >= SETTLE_TIMEOUT {
            break;
        }
        std::thread::sleep(SETTLE_POLL);
    }
    let undo = match set_state(v1, path, false) {
        Ok(()) => "thawed it again".to_owned(),
        Err(e) => format!("thawing it again failed too: {e}"),
    };
    Err(FreezeError::Io(format!(
        "{path} did not freeze within {} ms; {undo}",
        SETTLE_TIMEOUT.as_millis()
    )))
}

/// Thaws v1 freezer cgroup `path`; fails when it stays frozen because an
/// ancestor in the v1 hierarchy is.
pub fn thaw(v1: &CgroupFs, path: &str) -> Result<(), FreezeError> {
    if plain(path)?.is_empty() {
        return Ok(());
    }
    set_state(v1, path, false)?;
    if is_frozen(v1, path) == Some(true) {
        return Err(FreezeError::Io(format!(
            "{path} is still frozen: an ancestor in the v1 freezer hierarchy is frozen"
        )));
    }
    Ok(())
}

/// The v1 freezer of a host that mounts one, as the freeze actions use it:
/// each cgroup2 cgroup whose processes are in a v1 freezer cgroup (other
/// than the root) is frozen and thawed there; every other one is not this
/// freezer's (the callers use cgroup2's).
pub struct V1Freezer {
    /// The verified handle, or why the mount was refused.
    fs: Result<CgroupFs, String>,
    proc_root: PathBuf,
}

impl V1Freezer {
    /// None when no v1 freezer hierarchy is mounted.
    pub fn open(proc_root: &Path) -> Option<V1Freezer> {
        let mount = find_freezer_mount(proc_root)?;
        Some(V1Freezer {
            fs: CgroupFs::open_v1(&mount).map_err(|e| e.to_string()),
            proc_root: proc_root.to_path_buf(),
        })
    }

    /// The handle and v1 cgroup that freeze cgroup2 cgroup `cgroup`; None
    /// when it is not this freezer's.
    fn target(
        &self,
        cgroupfs: &CgroupFs,
        cgroup: &str,
    ) -> Option<Result<(&CgroupFs, String), FreezeError>> {
        let path = v1_cgroup_of(cgroupfs, &self.proc_root, cgroup)?;
        Some(match &self.fs {
            Ok(fs) => Ok((fs, path)),
            Err(why) => Err(FreezeError::Io(format!(
                "cannot freeze {cgroup}: its processes are in v1 freezer cgroup {path}, \
                 and the v1 freezer mount was refused: {why}"
            ))),
        })
    }

    /// Freezes cgroup2 cgroup `cgroup` through its v1 freezer cgroup; None
    /// when it is not this freezer's.
    pub fn freeze(&self, cgroupfs: &CgroupFs, cgroup: &str) -> Option<Result<(), FreezeError>> {
        let target = self.target(cgroupfs, cgroup)?;
        Some(target.and_then(|(fs, path)| freeze(fs, &path, &guards(&self.proc_root))))
    }

    /// Thaws cgroup2 cgroup `cgroup` through its v1 freezer cgroup; None
    /// when it is not this freezer's.
    pub fn thaw(&self, cgroupfs: &CgroupFs, cgroup: &str) -> Option<Result<(), FreezeError>> {
        let target = self.target(cgroupfs, cgroup)?;
        Some(target.and_then(|(fs, path)| thaw(fs, &path)))
    }

    /// Whether cgroup2 cgroup `cgroup` is frozen through its v1 freezer
    /// cgroup; None when it is not this freezer's.
    pub fn is_frozen(&self, cgroupfs: &CgroupFs, cgroup: &str) -> Option<bool> {
        let (fs, path) = self.target(cgroupfs, cgroup)?.ok()?;
        is_frozen(fs, &path)
    }

    /// Refuses to freeze process `pid` alone when its container runtime
    /// freezes it through a v1 freezer cgroup: moving it out would take it
    /// from under the runtime.
    pub fn check_alone(&self, pid: u32) -> Result<(), FreezeError> {
        match v1_cgroup_of_pid(&self.proc_root, pid) {
            None => Ok(()),
            Some(path) => Err(FreezeError::Io(format!(
                "cannot freeze PID {pid} alone: it is in v1 freezer cgroup {path}, \
                 which its container runtime freezes; freeze its whole cgroup"
            ))),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::collect::frozen_v1::find_freezer_mount;
    use std::process::{Child, Command};

    /// A v1 freezer cgroup with a `sleep` in it, removed when dropped.
    struct V1Cgroup {
        dir: std::path::PathBuf,
        path: String,
        child: Child,
    }

    impl V1Cgroup {
        fn create() -> Option<(CgroupFs, V1Cgroup)> {
            // SAFETY: geteuid has no preconditions.
            if unsafe { libc::geteuid() } != 0 {
                crate::test_support::skip("needs root to create cgroups");
                return None;
            }
            let Some(mount) = find_freezer_mount(Path::new("/proc")) else {
                // Not a hybrid or v1 host: nothing here uses the v1 freezer.
                return None;
            };
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = format!("/bpftop-test-v1-{}-{n}", std::process::id());
            let dir = mount.join(path.trim_start_matches('/'));
            fs::create_dir(&dir).unwrap();
            let child = Command::new("sleep").arg("60").spawn().unwrap();
            fs::write(dir.join("cgroup.procs"), child.id().to_string()).unwrap();
            Some((
                CgroupFs::open_v1(&mount).unwrap(),
                V1Cgroup { dir, path, child },
            ))
        }

        /// The state letter /proc shows for the sleep.
        fn state(&self) -> char {
            let stat = fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
            let after = stat.rsplit_once(") ").unwrap().1;
            after.chars().next().unwrap()
        }
    }

    impl Drop for V1Cgroup {
        fn drop(&mut self) {
            let _ = fs::write(self.dir.join("freezer.state"), "THAWED");
            let _ = self.child.kill();
            let _ = self.child.wait();
            let _ = fs::remove_dir(&self.dir);
        }
    }

    #[test]
    fn freeze_and_thaw_through_the_v1_freezer() {
        let Some((v1, cg)) = V1Cgroup::create() else {
            return;
        };
        assert_eq!(
            v1_cgroup_of_pid(Path::new("/proc"), cg.child.id()),
            Some(cg.path.clone())
        );
        // bpftop itself is not in it: the guards let it through.
        freeze(&v1, &cg.path, &guards(Path::new("/proc"))).unwrap();
        // The kernel's own account: FROZEN, and the task shows as D.
        assert_eq!(
            fs::read_to_string(cg.dir.join("freezer.state")).unwrap(),
            "FROZEN\n"
        );
        assert_eq!(cg.state(), 'D');
        thaw(&v1, &cg.path).unwrap();
        assert_eq!(
            fs::read_to_string(cg.dir.join("freezer.state")).unwrap(),
            "THAWED\n"
        );
        assert_ne!(cg.state(), 'D');
    }

    /// A process the runtime freezes through the v1 freezer is not moved
    /// out to be frozen alone; one in the v1 root may be.
    #[test]
    fn a_process_in_a_v1_freezer_cgroup_is_not_isolated() {
        let Some((_v1, cg)) = V1Cgroup::create() else {
            return;
        };
        let freezer = V1Freezer::open(Path::new("/proc")).unwrap();
        let err = freezer.check_alone(cg.child.id()).unwrap_err();
        assert!(err.to_string().contains(&cg.path), "{err}");
        if v1_cgroup_of_pid(Path::new("/proc"), std::process::id()).is_none() {
            freezer.check_alone(std::process::id()).unwrap();
        }
    }

    #[test]
    fn the_v1_root_and_bpftops_own_cgroup_are_refused() {
        let Some(mount) = find_freezer_mount(Path::new("/proc")) else {
            return;
        };
        let v1 = CgroupFs::open_v1(&mount).unwrap();
        let guards = guards(Path::new("/proc"));
        assert!(matches!(
            freeze(&v1, "/", &guards),
            Err(FreezeError::RootCgroup)
        ));
        // This test's own v1 freezer cgroup (the root here, or a real one).
        let own = guards.own_cgroup.clone();
        assert!(freeze(&v1, &own, &guards).is_err());
        assert!(freeze(&v1, "/../x", &guards).is_err());
        // The root is never frozen, so thawing it does nothing.
        thaw(&v1, "/").unwrap();
    }
}
