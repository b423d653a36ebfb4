//! Whether cgroups are frozen (cgroup v2 freezer), read cheaply every
//! refresh: each cgroup's `cgroup.events` stays open and is re-read with one
//! pread at offset 0, which makes kernfs generate the text afresh.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::cgroups::decode_path;

/// `cgroup.events` is "populated N\nfrozen N\n"; this leaves room for keys
/// later kernels may add.
const EVENTS_BUF: usize = 256;

/// The value of the `frozen` line of a `cgroup.events` text. It is 1 when the
/// cgroup is frozen by its own `cgroup.freeze` or by an ancestor's (the
/// child's own `cgroup.freeze` then still reads 0).
pub fn parse_events_frozen(text: &str) -> Option<bool> {
    text.lines().find_map(|line| match line.split_once(' ')? {
        ("frozen", "1") => Some(true),
        ("frozen", "0") => Some(false),
        _ => None,
    })
}

/// Reads an open `cgroup.events` from its start: one pread.
pub(crate) fn read_events_frozen(file: &File) -> Option<bool> {
    let mut buf = [0u8; EVENTS_BUF];
    let n = file.read_at(&mut buf, 0).ok()?;
    parse_events_frozen(std::str::from_utf8(buf.get(..n)?).ok()?)
}

/// Open `cgroup.events` files by cgroup path ("/a/b", as in /proc/PID/cgroup).
/// cgroup.events files kept open across refreshes, at most.
const MAX_OPEN_FILES: usize = 256;

#[derive(Debug)]
pub struct FrozenStates {
    mount: PathBuf,
    files: HashMap<String, File>,
}

impl FrozenStates {
    /// `mount`: where cgroup2 is mounted (see `cgroups::find_cgroup2_mount`).
    pub fn new(mount: &Path) -> Self {
        FrozenStates {
            mount: mount.to_path_buf(),
            files: HashMap::new(),
        }
    }

    /// Whether the cgroup is frozen, its own freeze or an inherited one.
    /// None when it cannot be read (a removed cgroup, which is forgotten).
    pub fn is_frozen(&mut self, cgroup_path: &str) -> Option<bool> {
        let relative = cgroup_path.trim_start_matches('/');
        if relative.is_empty() {
            // The root cgroup has no cgroup.freeze: it is never frozen.
            return Some(false);
        }
        if let Some(frozen) = self.files.get(cgroup_path).and_then(read_events_frozen) {
            return Some(frozen);
        }
        // Not open yet, or the open file went stale (a removed cgroup reads
        // ENODEV, even if one with the same path was created since): reopen.
        self.files.remove(cgroup_path);
        // Names that are not UTF-8 are escaped in cgroup paths: the real
        // directory has the decoded bytes. Only read, never written (writes
        // go through the verified handle of `actions::cgroupfs`); still no
        // symlink as the last component, and no blocking open.
        let dir = self.mount.join(OsStr::from_bytes(&decode_path(relative)));
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(dir.join("cgroup.events"))
            .ok()?;
        let frozen = read_events_frozen(&file)?;
        // Keep a bounded number open: thousands of cgroups must not use up
        // the descriptors the rest of bpftop needs; the others are reopened
        // each refresh.
        if self.files.len() < MAX_OPEN_FILES {
            self.files.insert(cgroup_path.to_owned(), file);
        }
        Some(frozen)
    }

    /// Closes the files of cgroups for which `live` is false (removed ones),
    /// bounding the open files to the cgroups still shown.
    pub fn retain(&mut self, live: impl Fn(&str) -> bool) {
        self.files.retain(|path, _| live(path));
    }
}

/// Throwaway cgroups for tests that need the real cgroup2 hierarchy.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod testing {
    use std::fs;
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command};
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::collect::cgroups::find_cgroup2_mount;

    static NEXT: AtomicUsize = AtomicUsize::new(0);

    /// A cgroup `/bpftop-test-<pid>-<n>` under the cgroup2 mount. Dropping it
    /// kills the processes spawned through it, thaws and removes its whole
    /// subtree, even when the test failed half-way.
    pub struct TestCgroup {
        pub mount: PathBuf,
        /// "/bpftop-test-<pid>-<n>"
        pub path: String,
        children: Vec<Child>,
    }

    impl TestCgroup {
        /// None (after printing why) when not root, without cgroup2, or on
        /// a kernel without the v2 freezer.
        pub fn create() -> Option<TestCgroup> {
            // SAFETY: geteuid has no preconditions.
            if unsafe { libc::geteuid() } != 0 {
                crate::test_support::skip("needs root to create cgroups");
                return None;
            }
            let Some(mount) = find_cgroup2_mount(Path::new("/proc")) else {
                crate::test_support::skip("no cgroup2 mount");
                return None;
            };
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = format!("/bpftop-test-{}-{n}", std::process::id());
            let cgroup = TestCgroup {
                mount,
                path,
                children: Vec::new(),
            };
            if let Err(e) = fs::create_dir(cgroup.dir(&cgroup.path)) {
                crate::test_support::skip(&format!("cannot create a cgroup: {e}"));
                return None;
            }
            if !cgroup.dir(&cgroup.path).join("cgroup.freeze").exists() {
                crate::test_support::skip("no cgroup.freeze (kernel < 5.2)");
                return None;
            }
            Some(cgroup)
        }

        /// The directory of cgroup `path`.
        pub fn dir(&self, path: &str) -> PathBuf {
            self.mount.join(path.trim_start_matches('/'))
        }

        /// Creates `<self.path>/<name>` and returns its cgroup path.
        pub fn child(&self, name: &str) -> String {
            let path = format!("{}/{name}", self.path);
            fs::create_dir(self.dir(&path)).unwrap();
            path
        }

        /// Spawns `sleep 60` into cgroup `path`; returns its pid.
        pub fn spawn_sleep(&mut self, path: &str) -> u32 {
            let child = Command::new("sleep").arg("60").spawn().unwrap();
            let pid = child.id();
            self.children.push(child);
            self.write(path, "cgroup.procs", &pid.to_string());
            pid
        }

        pub fn write(&self, path: &str, file: &str, value: &str) {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .open(self.dir(path).join(file))
                .unwrap();
            f.write_all(value.as_bytes()).unwrap();
        }

        pub fn read(&self, path: &str, file: &str) -> String {
            fs::read_to_string(self.dir(path).join(file)).unwrap()
        }

        /// The pids listed in the cgroup's cgroup.procs.
        pub fn procs(&self, path: &str) -> Vec<u32> {
            let text = self.read(path, "cgroup.procs");
            text.lines().map(|l| l.parse().unwrap()).collect()
        }

        /// Kills the spawned process `pid` and reaps it.
        pub fn kill(&mut self, pid: u32) {
            if let Some(i) = self.children.iter().position(|c| c.id() == pid) {
                let mut child = self.children.swap_remove(i);
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// Thaws `dir`, then removes its subtree, deepest cgroups first.
    fn remove_tree(dir: &Path) {
        let _ = fs::write(dir.join("cgroup.freeze"), "0");
        for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_tree(&entry.path());
            }
        }
        let _ = fs::remove_dir(dir);
    }

    impl Drop for TestCgroup {
        fn drop(&mut self) {
            for child in &mut self.children {
                let _ = child.kill(); // SIGKILL ends frozen tasks too
                let _ = child.wait();
            }
            remove_tree(&self.dir(&self.path));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::io::{Seek, SeekFrom};

    use super::testing::TestCgroup;
    use super::*;

    #[test]
    fn frozen_line_is_parsed() {
        assert_eq!(parse_events_frozen("populated 1\nfrozen 1\n"), Some(true));
        assert_eq!(parse_events_frozen("populated 1\nfrozen 0\n"), Some(false));
        // Order and extra keys do not matter.
        assert_eq!(parse_events_frozen("frozen 1\npopulated 0"), Some(true));
        assert_eq!(
            parse_events_frozen("populated 0\nnew_key 3\nfrozen 0\n"),
            Some(false)
        );
    }

    #[test]
    fn missing_or_odd_frozen_lines_are_none() {
        assert_eq!(parse_events_frozen("populated 1\n"), None); // kernel < 5.2
        assert_eq!(parse_events_frozen(""), None);
        assert_eq!(parse_events_frozen("frozen\n"), None);
        assert_eq!(parse_events_frozen("frozen 2\n"), None);
        assert_eq!(parse_events_frozen("frozen 10\n"), None);
        assert_eq!(parse_events_frozen("unfrozen 1\nxfrozen 1\n"), None);
        // "populated 1" must not be taken for the frozen value.
        assert_eq!(parse_events_frozen("populated 1\nfrozen x\n"), None);
    }

    #[test]
    fn root_is_never_frozen_and_opens_nothing() {
        let mut states = FrozenStates::new(Path::new("/nonexistent-mount"));
        assert_eq!(states.is_frozen("/"), Some(false));
        assert!(states.files.is_empty());
        assert_eq!(states.is_frozen("/gone"), None);
        assert!(states.files.is_empty());
    }

    #[test]
    fn retain_forgets_dead_cgroups() {
        let mut states = FrozenStates::new(Path::new("/"));
        for path in ["/a", "/b", "/c"] {
            states
                .files
                .insert(path.to_owned(), File::open("/dev/null").unwrap());
        }
        states.retain(|path| path != "/b");
        let mut left: Vec<&str> = states.files.keys().map(String::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["/a", "/c"]);
    }

    #[test]
    fn reads_own_and_inherited_freeze_through_one_open_file() {
        let Some(mut cg) = TestCgroup::create() else {
            return;
        };
        let work = cg.child("work");
        cg.spawn_sleep(&work);
        let mut states = FrozenStates::new(&cg.mount);
        assert_eq!(states.is_frozen(&cg.path), Some(false));
        assert_eq!(states.is_frozen(&work), Some(false));
        // Mark the open file description: pread leaves its offset alone, a
        // reopened file would be back at 0.
        let mark = |states: &FrozenStates| {
            let mut file = states.files.get(&work).unwrap();
            file.stream_position().unwrap()
        };
        let mut file = states.files.get(&work).unwrap();
        file.seek(SeekFrom::Start(3)).unwrap();

        cg.write(&cg.path, "cgroup.freeze", "1");
        // The freeze settles when every task has stopped: on a loaded
        // machine that takes longer than on a quiet one.
        let settled = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while states.is_frozen(&cg.path) != Some(true) && std::time::Instant::now() < settled {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(states.is_frozen(&cg.path), Some(true));
        // On this kernel a child of a frozen cgroup reports "frozen 1" in
        // its cgroup.events while its own cgroup.freeze stays 0.
        assert_eq!(states.is_frozen(&work), Some(true));
        assert_eq!(cg.read(&work, "cgroup.freeze").trim(), "0");
        // So does a cgroup created under a frozen one, even an empty one.
        let grandchild = cg.child("work/grandchild");
        assert_eq!(states.is_frozen(&grandchild), Some(true));
        // The same open file was re-read, not reopened.
        assert_eq!(mark(&states), 3);

        cg.write(&cg.path, "cgroup.freeze", "0");
        assert_eq!(states.is_frozen(&work), Some(false));
        assert_eq!(states.is_frozen(&grandchild), Some(false));
        assert_eq!(mark(&states), 3);
        assert_eq!(states.files.len(), 3);
    }

    #[test]
    fn a_cgroup_whose_name_is_not_utf8_is_read() {
        let Some(cg) = TestCgroup::create() else {
            return;
        };
        let raw = cg.dir(&cg.path).join(OsStr::from_bytes(b"a\xff\xfe"));
        std::fs::create_dir(&raw).unwrap();
        let mut states = FrozenStates::new(&cg.mount);
        let path = format!("{}/a\\xff\\xfe", cg.path);
        assert_eq!(states.is_frozen(&path), Some(false));
        cg.write(&cg.path, "cgroup.freeze", "1");
        let settled = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while states.is_frozen(&path) != Some(true) && std::time::Instant::now() < settled {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(states.is_frozen(&path), Some(true));
    }

    #[test]
    fn removed_cgroup_is_none_and_forgotten() {
        let Some(cg) = TestCgroup::create() else {
            return;
        };
        let gone = cg.child("gone");
        let mut states = FrozenStates::new(&cg.mount);
        assert_eq!(states.is_frozen(&gone), Some(false));
        std::fs::remove_dir(cg.dir(&gone)).unwrap();
        assert_eq!(states.is_frozen(&gone), None);
        assert!(!states.files.contains_key(&gone));
        // Recreated under the same path: the stale file is replaced.
        std::fs::create_dir(cg.dir(&gone)).unwrap();
        assert_eq!(states.is_frozen(&gone), Some(false));
        assert!(states.files.contains_key(&gone));
    }

    /// Property tests: no cgroup.events text makes the parser panic, and
    /// the frozen line is found among any others.
    mod props {
        use super::*;
        use proptest::prelude::*;

        use crate::test_support::proptest_config as config;

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn arbitrary_text_never_panics(raw in prop::collection::vec(any::<u8>(), 0..512)) {
                let _ = parse_events_frozen(&String::from_utf8_lossy(&raw));
            }

            #[test]
            fn the_frozen_line_is_found(
                before in prop::collection::vec("[a-eg-z_][a-z_]{0,12} [0-9]{1,3}", 0..4),
                after in prop::collection::vec("[^\n]{0,20}", 0..4),
                frozen in any::<bool>(),
            ) {
                let mut text = before.join("\n");
                text.push_str(&format!("\nfrozen {}\n", u8::from(frozen)));
                text.push_str(&after.join("\n"));
                prop_assert_eq!(parse_events_frozen(&text), Some(frozen));
            }
        }
    }
}
