//! Every process's cgroup from the cgroup tree instead of from each
//! process: one `cgroup.procs` read per cgroup (hundreds on a big machine)
//! replaces one /proc/PID/cgroup read per process (tens of thousands). The
//! tree is cgroup v2's, or systemd's v1 hierarchy on hosts without v2
//! ([`Hierarchy`]).
//!
//! The map is exact, never stale: a process listed in exactly one cgroup
//! was in that cgroup at the moment that file was read, as a read of its
//! /proc/PID/cgroup would say. A process that moves while the tree is
//! walked may be listed twice or not at all; for those (and for processes
//! in another cgroup namespace, outside the mount) the caller reads
//! /proc/PID/cgroup as before.
//!
//! The paths are the mount's: they equal /proc/PID/cgroup's only when the
//! mount's root is our cgroup namespace's root. That is checked at every
//! walk against our own process, whose /proc/self/cgroup path must be
//! where the walk found us; otherwise the map is not used.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::cgroups::{encode_path, Hierarchy};

/// Where a process was found.
enum Seen {
    Once(Arc<str>),
    /// Listed in more than one cgroup: it moved during the walk.
    Moved,
}

#[derive(Default)]
pub struct CgroupMap {
    by_pid: FxHashMap<u32, Seen>,
    usable: bool,
    buf: Vec<u8>,
}

impl CgroupMap {
    /// Walks the tree of `hierarchy`, then checks the result against our
    /// own /proc/self/cgroup (under `proc_root`).
    pub fn refresh(&mut self, hierarchy: &Hierarchy, proc_root: &Path) {
        self.by_pid.clear();
        self.usable = false;
        let mount = hierarchy.mount();
        let mut stack: Vec<(PathBuf, Vec<u8>)> = vec![(mount.to_path_buf(), b"/".to_vec())];
        while let Some((dir, path)) = stack.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue; // removed while walking: its processes moved on
            };
            self.list(&dir, &path);
            for entry in entries.flatten() {
                if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                let child = join(&path, &entry.file_name());
                stack.push((entry.path(), child));
            }
        }
        self.usable = self.finds_ourselves(hierarchy, proc_root);
    }

    /// Records the processes of one cgroup.
    fn list(&mut self, dir: &Path, path: &[u8]) {
        self.buf.clear();
        let read = fs::File::open(dir.join("cgroup.procs"))
            .and_then(|mut file| std::io::Read::read_to_end(&mut file, &mut self.buf));
        if read.is_err() {
            return;
        }
        let path: Arc<str> = encode_path(path).into();
        for line in self.buf.split(|&b| b == b'\n') {
            let Some(pid) = std::str::from_utf8(line).ok().and_then(|s| s.parse().ok()) else {
                continue;
            };
            self.by_pid
                .entry(pid)
                .and_modify(|seen| *seen = Seen::Moved)
                .or_insert_with(|| Seen::Once(path.clone()));
        }
    }

    fn finds_ourselves(&self, hierarchy: &Hierarchy, proc_root: &Path) -> bool {
        let Ok(text) = fs::read(proc_root.join("self/cgroup")) else {
            return false;
        };
        let Some(own) = hierarchy.path_in(&text) else {
            return false;
        };
        matches!(self.by_pid.get(&std::process::id()), Some(Seen::Once(p)) if **p == own)
    }

    /// The cgroup of `pid` where the walk knows it for certain; None means
    /// "read /proc/PID/cgroup".
    pub fn get(&self, pid: u32) -> Option<Arc<str>> {
        if !self.usable {
            return None;
        }
        match self.by_pid.get(&pid)? {
            Seen::Once(path) => Some(path.clone()),
            Seen::Moved => None,
        }
    }
}

/// The cgroup path of directory `name` in cgroup `parent`, as the kernel
/// prints it ("/" for the root).
fn join(parent: &[u8], name: &OsStr) -> Vec<u8> {
    let mut child = parent.to_vec();
    if child.len() > 1 {
        child.push(b'/');
    }
    child.extend_from_slice(name.as_bytes());
    child
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A v1-only host's systemd hierarchy, as a directory tree: our own
    /// process in a service, two others in a slice and the root.
    #[test]
    fn walks_systemds_v1_tree_on_hosts_without_v2() {
        let me = std::process::id();
        let dir = std::env::temp_dir().join(format!("bpftop-cgmap-{me}"));
        let mount = dir.join("systemd");
        let unit = mount.join("system.slice/x.service");
        fs::create_dir_all(&unit).unwrap();
        fs::create_dir_all(dir.join("proc/self")).unwrap();
        fs::write(mount.join("cgroup.procs"), "1\n").unwrap();
        fs::write(mount.join("system.slice/cgroup.procs"), "").unwrap();
        fs::write(unit.join("cgroup.procs"), format!("{me}\n77\n")).unwrap();
        let own = "3:cpu:/\n1:name=systemd:/system.slice/x.service\n";
        fs::write(dir.join("proc/self/cgroup"), own).unwrap();
        let mut map = CgroupMap::default();
        map.refresh(&Hierarchy::V1Systemd(mount.clone()), &dir.join("proc"));
        let found = [1, 77, me, 5].map(|pid| map.get(pid));
        // Our own process elsewhere than the tree says: the map is not used.
        fs::write(dir.join("proc/self/cgroup"), "1:name=systemd:/\n").unwrap();
        map.refresh(&Hierarchy::V1Systemd(mount), &dir.join("proc"));
        let unusable = map.get(77);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found[0].as_deref(), Some("/"));
        assert_eq!(found[1].as_deref(), Some("/system.slice/x.service"));
        assert_eq!(found[2].as_deref(), Some("/system.slice/x.service"));
        assert_eq!(found[3], None, "not listed: read from /proc");
        assert_eq!(unusable, None);
    }

    #[test]
    fn paths_join_like_the_kernel_prints_them() {
        assert_eq!(join(b"/", OsStr::new("user.slice")), b"/user.slice");
        assert_eq!(join(b"/a", OsStr::new("b")), b"/a/b");
    }

    /// The independent truth is each process's own /proc/PID/cgroup.
    #[test]
    fn agrees_with_every_process_cgroup_file() {
        let proc_root = Path::new("/proc");
        let Some(hierarchy) = Hierarchy::find(proc_root) else {
            crate::test_support::skip("no cgroup hierarchy names processes on this machine");
            return;
        };
        let mut map = CgroupMap::default();
        map.refresh(&hierarchy, proc_root);
        assert!(
            map.usable,
            "our own process was not found where /proc/self/cgroup says"
        );
        let mut compared = 0;
        for entry in fs::read_dir(proc_root).unwrap().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let Some(walked) = map.get(pid) else { continue };
            // Processes may move or exit meanwhile: read again and compare
            // only where the file says the same twice around the lookup.
            // Processes may move meanwhile (a container runtime moves its
            // new processes): a difference must persist over three walks.
            let read = || {
                fs::read(entry.path().join("cgroup"))
                    .ok()
                    .and_then(|t| hierarchy.path_in(&t))
            };
            let mut walked = Some(walked);
            for _ in 0..3 {
                if walked.as_deref() == read().as_deref() {
                    break;
                }
                map.refresh(&hierarchy, proc_root);
                walked = map.get(pid);
            }
            if let (Some(walked), Some(read)) = (walked, read()) {
                assert_eq!(*walked, read, "pid {pid}");
                compared += 1;
            }
        }
        assert!(compared > 0, "no process compared");
    }
}
