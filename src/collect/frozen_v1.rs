//! Whether cgroups are frozen by the cgroup v1 freezer, on hybrid hosts where
//! a v1 `freezer` hierarchy is mounted beside cgroup2. Container runtimes
//! there (docker and podman with the cgroupfs driver, through runc) pause a
//! container by writing FROZEN to its v1 `freezer.state`; cgroup2's
//! `cgroup.events` then keeps saying `frozen 0`, and the frozen tasks show
//! as `D` in /proc.
//!
//! Kept cheap: a cgroup2 cgroup is looked up in the v1 freezer only once one
//! of its processes is seen in state `D` (one read of that process's
//! /proc/PID/cgroup, whose `freezer` line names its v1 cgroup). From then on,
//! while the cgroup2 cgroup lives, its `freezer.state` stays open and is
//! re-read with one pread per refresh, so a thaw is seen too. The v1 cgroup
//! of the first process that suggested it stands for the whole cgroup2
//! cgroup (runtimes give a container the same path in every hierarchy).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::cgroups::{decode_path, parse_cgroup_v1, v1_mount_from_mountinfo};

/// `freezer.state` files kept open across refreshes, at most.
const MAX_OPEN_FILES: usize = 256;

/// The mount point of the cgroup v1 hierarchy that holds the `freezer`
/// controller, from a mountinfo text.
pub fn freezer_mount_from_mountinfo(mountinfo: &str) -> Option<PathBuf> {
    v1_mount_from_mountinfo(mountinfo, "freezer")
}

/// The v1 freezer hierarchy's mount point on this system, if any.
pub fn find_freezer_mount(proc_root: &Path) -> Option<PathBuf> {
    let text = fs::read_to_string(proc_root.join("self/mountinfo")).ok()?;
    freezer_mount_from_mountinfo(&text)
}

/// The v1 freezer cgroup from a /proc/PID/cgroup text (the line whose
/// controller list holds `freezer`), escaped as cgroup paths are.
pub fn parse_cgroup_freezer(text: &[u8]) -> Option<String> {
    parse_cgroup_v1(text, b"freezer")
}

/// The value of a `freezer.state` text: FROZEN is frozen; THAWED and
/// FREEZING (not every task has stopped yet) are not.
pub fn parse_freezer_state(text: &str) -> Option<bool> {
    match text.trim() {
        "FROZEN" => Some(true),
        "THAWED" | "FREEZING" => Some(false),
        _ => None,
    }
}

fn read_state(file: &File) -> Option<bool> {
    let mut buf = [0u8; 32];
    let n = file.read_at(&mut buf, 0).ok()?;
    parse_freezer_state(std::str::from_utf8(buf.get(..n)?).ok()?)
}

/// What is known of one cgroup2 cgroup's v1 freezer cgroup.
#[derive(Debug)]
enum Known {
    /// In the v1 root (which cannot be frozen) or unreadable: never frozen
    /// by the v1 freezer.
    Never,
    /// Its v1 freezer cgroup, and its `freezer.state` when kept open.
    At(String, Option<File>),
}

/// The v1 freezer states of the cgroup2 cgroups that have been seen to
/// need it.
#[derive(Debug)]
pub struct V1Freezer {
    proc_root: PathBuf,
    mount: PathBuf,
    /// By cgroup2 path.
    known: HashMap<String, Known>,
}

impl V1Freezer {
    pub fn new(proc_root: &Path, mount: &Path) -> Self {
        V1Freezer {
            proc_root: proc_root.to_path_buf(),
            mount: mount.to_path_buf(),
            known: HashMap::new(),
        }
    }

    /// Whether cgroup2 cgroup `cgroup` is frozen by the v1 freezer. `suspect`
    /// is a process of it in state `D`, if any: only then is an unknown
    /// cgroup looked up. None when neither known nor suspected.
    pub fn is_frozen(&mut self, cgroup: &str, suspect: Option<u32>) -> Option<bool> {
        if !self.known.contains_key(cgroup) {
            let pid = suspect?;
            let known = self.look_up(pid);
            self.known.insert(cgroup.to_owned(), known);
        }
        let open = self
            .known
            .values()
            .filter(|k| matches!(k, Known::At(_, Some(_))))
            .count();
        let mount = &self.mount;
        match self.known.get_mut(cgroup)? {
            Known::Never => Some(false),
            Known::At(path, file) => {
                if let Some(state) = file.as_ref().and_then(read_state) {
                    return Some(state);
                }
                let reopened = open_state(mount, path)?;
                let state = read_state(&reopened);
                if open < MAX_OPEN_FILES {
                    *file = Some(reopened);
                }
                state
            }
        }
    }

    fn look_up(&self, pid: u32) -> Known {
        let Ok(text) = fs::read(self.proc_root.join(pid.to_string()).join("cgroup")) else {
            return Known::Never;
        };
        match parse_cgroup_freezer(&text) {
            Some(path) if path.trim_matches('/').is_empty() => Known::Never,
            Some(path) => Known::At(path, None),
            None => Known::Never,
        }
    }

    /// The v1 freezer cgroup known for cgroup2 cgroup `cgroup`.
    pub fn v1_cgroup(&self, cgroup: &str) -> Option<&str> {
        match self.known.get(cgroup)? {
            Known::At(path, _) => Some(path),
            Known::Never => None,
        }
    }

    /// Forgets the cgroup2 cgroups for which `live` is false.
    pub fn retain(&mut self, live: impl Fn(&str) -> bool) {
        self.known.retain(|path, _| live(path));
    }
}

/// Opens `freezer.state` of v1 cgroup `path` under `mount` for reading
/// only (writes go through the verified handle of `actions::cgroupfs`); no
/// symlink as the last component, no blocking open.
fn open_state(mount: &Path, path: &str) -> Option<File> {
    let relative = path.trim_start_matches('/');
    let dir = mount.join(OsStr::from_bytes(&decode_path(relative)));
    File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(dir.join("freezer.state"))
        .ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// This host's mountinfo (hybrid: v1 controllers beside cgroup2).
    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn the_freezer_hierarchy_is_found_by_its_options() {
        assert_eq!(
            freezer_mount_from_mountinfo(HYBRID),
            Some(PathBuf::from("/sys/fs/cgroup/freezer"))
        );
        // Co-mounted controllers, an escaped mount point.
        let co = "50 31 0:40 / /sys/fs/cgroup/a\\040b rw - cgroup cg rw,cpu,freezer,cpuacct\n";
        assert_eq!(
            freezer_mount_from_mountinfo(co),
            Some(PathBuf::from("/sys/fs/cgroup/a b"))
        );
        // cgroup2 only, or a name that merely contains the word.
        let none = "41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n\
                    42 31 0:39 / /x rw - cgroup cgroup rw,name=freezerish\n\
                    43 31 0:40 / /y rw - tmpfs freezer rw,freezer\n";
        assert_eq!(freezer_mount_from_mountinfo(none), None);
    }

    #[test]
    fn the_freezer_line_of_proc_pid_cgroup() {
        let id = "d350cb1c70c5a71c1a67877a44f50bd54926a456197a91492f6802b5de677d73";
        let text = format!(
            "9:name=systemd:/docker/{id}\n6:freezer:/docker/{id}\n1:cpu:/docker/{id}\n0::/docker/{id}\n"
        );
        assert_eq!(
            parse_cgroup_freezer(text.as_bytes()),
            Some(format!("/docker/{id}"))
        );
        assert_eq!(
            parse_cgroup_freezer(b"3:cpu,freezer:/a:b\n"),
            Some("/a:b".into())
        );
        assert_eq!(parse_cgroup_freezer(b"0::/x\n1:name=freezer:/y\n"), None);
        assert_eq!(parse_cgroup_freezer(b""), None);
    }

    #[test]
    fn freezer_states() {
        assert_eq!(parse_freezer_state("FROZEN\n"), Some(true));
        assert_eq!(parse_freezer_state("FREEZING\n"), Some(false));
        assert_eq!(parse_freezer_state("THAWED\n"), Some(false));
        assert_eq!(parse_freezer_state("frozen 1\n"), None);
    }

    /// A fake /proc and v1 mount: only suspected cgroups are looked up,
    /// known ones are re-read every time (a thaw is seen), a v1 root is
    /// never frozen, forgotten ones are looked up again.
    #[test]
    fn suspected_cgroups_are_looked_up_then_followed() {
        let dir = std::env::temp_dir().join(format!("bpftop-freezer-v1-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let proc_root = dir.join("proc");
        let mount = dir.join("freezer");
        fs::create_dir_all(proc_root.join("10")).unwrap();
        fs::create_dir_all(proc_root.join("11")).unwrap();
        fs::create_dir_all(mount.join("docker/c1")).unwrap();
        fs::write(
            proc_root.join("10/cgroup"),
            "6:freezer:/docker/c1\n0::/docker/c1\n",
        )
        .unwrap();
        fs::write(proc_root.join("11/cgroup"), "6:freezer:/\n0::/other\n").unwrap();
        fs::write(mount.join("docker/c1/freezer.state"), "FROZEN\n").unwrap();
        let mut v1 = V1Freezer::new(&proc_root, &mount);
        assert_eq!(v1.is_frozen("/docker/c1", None), None);
        assert_eq!(v1.is_frozen("/docker/c1", Some(10)), Some(true));
        assert_eq!(v1.v1_cgroup("/docker/c1"), Some("/docker/c1"));
        fs::write(mount.join("docker/c1/freezer.state"), "THAWED\n").unwrap();
        assert_eq!(v1.is_frozen("/docker/c1", None), Some(false));
        assert_eq!(v1.is_frozen("/other", Some(11)), Some(false));
        assert_eq!(v1.v1_cgroup("/other"), None);
        v1.retain(|p| p != "/docker/c1");
        assert_eq!(v1.is_frozen("/docker/c1", None), None);
        fs::remove_dir_all(&dir).unwrap();
    }
}
