//! Every process's cgroup v2 path from the cgroup tree instead of from each
//! process: one `cgroup.procs` read per cgroup (hundreds on a big machine)
//! replaces one /proc/PID/cgroup read per process (tens of thousands).
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

use super::proc_dir::read_all;
use crate::collect::cgroups::{encode_path, parse_cgroup_v2};

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
    /// Walks the cgroup2 tree under `mount`, then checks the result
    /// against our own /proc/self/cgroup (under `proc_root`).
    pub fn refresh(&mut self, mount: &Path, proc_root: &Path) {
        self.by_pid.clear();
        self.usable = false;
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
        self.usable = self.finds_ourselves(proc_root);
    }

    /// Records the processes of one cgroup.
    fn list(&mut self, dir: &Path, path: &[u8]) {
        if read_all(&dir.join("cgroup.procs"), &mut self.buf).is_err() {
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

    fn finds_ourselves(&self, proc_root: &Path) -> bool {
        let Ok(text) = fs::read(proc_root.join("self/cgroup")) else {
            return false;
        };
        let Some(own) = parse_cgroup_v2(&text) else {
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
    use crate::collect::cgroups::find_cgroup2_mount;

    #[test]
    fn paths_join_like_the_kernel_prints_them() {
        assert_eq!(join(b"/", OsStr::new("user.slice")), b"/user.slice");
        assert_eq!(join(b"/a", OsStr::new("b")), b"/a/b");
    }

    /// The independent truth is each process's own /proc/PID/cgroup.
    #[test]
    fn agrees_with_every_process_cgroup_file() {
        let proc_root = Path::new("/proc");
        let Some(mount) = find_cgroup2_mount(proc_root) else {
            crate::test_support::skip("no cgroup2 mount on this machine");
            return;
        };
        let mut map = CgroupMap::default();
        map.refresh(&mount, proc_root);
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
                    .and_then(|t| parse_cgroup_v2(&t))
            };
            let mut walked = Some(walked);
            for _ in 0..3 {
                if walked.as_deref() == read().as_deref() {
                    break;
                }
                map.refresh(&mount, proc_root);
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
