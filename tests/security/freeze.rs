//! Freezing: what bpftop freezes must not outlive it by accident, and what it
//! writes in the cgroup tree must be the cgroup files and nothing else.
//!
//! * a freeze not yet confirmed is undone when bpftop is told to stop
//!   (SIGTERM, SIGHUP, SIGINT) inside the confirmation window;
//! * a process frozen alone by a bpftop killed with SIGKILL is released by
//!   the next bpftop;
//! * a fake cgroup2 mount with a symlinked `cgroup.freeze` cannot make
//!   bpftop write to the file the link points to;
//! * a cgroup whose name is not UTF-8 keeps its processes' cgroup, escaped.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use bpftop::collect::cgroups::find_cgroup2_mount;

use crate::support::{bin, is_root, one_interface_at_a_time, setup, Attacker, Scratch};
use crate::tmux::{self, Tmux};

/// How long anything may take on a busy machine (builds run beside us).
const PATIENCE: Duration = Duration::from_secs(45);

fn wait_until(what: &str, mut done: impl FnMut() -> bool, detail: impl Fn() -> String) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < PATIENCE,
            "timed out waiting for {what}\n{}",
            detail()
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// A cgroup `/bpftop-sec-<tag>-<pid>` with `sleep` processes in a child
/// `work`; thawed, emptied and removed on drop.
struct TestCgroup {
    mount: PathBuf,
    path: String,
    children: Vec<Child>,
}

impl TestCgroup {
    fn create(tag: &str) -> Option<TestCgroup> {
        if !is_root() {
            crate::common::skip("needs root (to create cgroups)");
            return None;
        }
        if Command::new("tmux").arg("-V").output().is_err() {
            crate::common::skip("no tmux");
            return None;
        }
        let Some(mount) = find_cgroup2_mount(Path::new("/proc")) else {
            crate::common::skip("no cgroup2 mount");
            return None;
        };
        let path = format!("/bpftop-sec-{tag}-{}", std::process::id());
        let cg = TestCgroup {
            mount,
            path,
            children: Vec::new(),
        };
        cg.remove_tree(&cg.dir(&cg.path));
        fs::create_dir(cg.dir(&cg.path)).unwrap();
        if !cg.dir(&cg.path).join("cgroup.freeze").exists() {
            crate::common::skip("no cgroup.freeze (kernel < 5.2)");
            return None;
        }
        fs::create_dir(cg.dir(&cg.work())).unwrap();
        Some(cg)
    }

    fn work(&self) -> String {
        format!("{}/work", self.path)
    }

    fn dir(&self, path: &str) -> PathBuf {
        self.mount
            .join(OsStr::from_bytes(path.trim_start_matches('/').as_bytes()))
    }

    /// Spawns `sleep` into cgroup `path`; its pid.
    fn spawn_sleep(&mut self, dir: &Path) -> u32 {
        let child = Command::new("sleep")
            .arg("600")
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        self.children.push(child);
        fs::write(dir.join("cgroup.procs"), pid.to_string()).unwrap();
        pid
    }

    fn frozen(dir: &Path) -> bool {
        fs::read_to_string(dir.join("cgroup.events"))
            .unwrap_or_default()
            .contains("frozen 1")
    }

    fn remove_tree(&self, dir: &Path) {
        let _ = fs::write(dir.join("cgroup.freeze"), "0");
        for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                self.remove_tree(&entry.path());
            }
        }
        let _ = fs::remove_dir(dir);
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.remove_tree(&self.dir(&self.path));
    }
}

/// The cgroup v2 path of `pid`, raw.
fn cgroup_of(pid: u32) -> Vec<u8> {
    let text = fs::read(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    text.split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"0::"))
        .unwrap_or_default()
        .to_vec()
}

/// bpftop in a tmux server of its own, run by root or by an attacker, with
/// a config directory of its own.
struct Tui<'a> {
    tmux: Tmux<'a>,
    _config: Scratch,
}

impl<'a> Tui<'a> {
    fn start(tag: &str, args: &str) -> Tui<'a> {
        Tui::start_as(None, &bin(), tag, args)
    }

    fn start_as(user: Option<&'a Attacker>, bin: &str, tag: &str, args: &str) -> Tui<'a> {
        let config = Scratch::new(&format!("freeze-cfg-{tag}"));
        let config_home = match user {
            Some(user) => user.home.join(".config"),
            None => config.path().to_path_buf(),
        };
        let command = format!(
            "exec env XDG_CONFIG_HOME={} NO_COLOR=1 {bin} {args}",
            config_home.display()
        );
        let tmux = tmux::start_as(user, tag, &command).expect("tmux runs");
        Tui {
            tmux,
            _config: config,
        }
    }

    fn keys(&self, keys: &[&str]) {
        self.tmux.keys(keys);
    }

    fn screen(&self) -> String {
        self.tmux.screen()
    }

    fn wait_for(&self, what: &str, text: &str) {
        self.tmux.wait_for(what, PATIENCE, |s| s.contains(text));
    }

    /// bpftop's pid; None when it has already exited (refused to start).
    fn pid(&self) -> Option<u32> {
        self.tmux.pane_pid()
    }
}

fn signal(pid: u32, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).unwrap();
    // SAFETY: kill has no memory preconditions.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

fn gone(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
        || fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

/// Reproduction: `f`, Enter, then SIGTERM/SIGHUP/SIGINT to bpftop within
/// the 10 s confirmation window left the cgroup frozen.
#[test]
fn a_signal_inside_the_confirmation_window_undoes_the_freeze() {
    let _one = one_interface_at_a_time();
    for (name, sig) in [
        ("term", libc::SIGTERM),
        ("hup", libc::SIGHUP),
        ("int", libc::SIGINT),
    ] {
        let Some(mut cg) = TestCgroup::create(&format!("sig{name}")) else {
            return;
        };
        let work = cg.dir(&cg.work());
        let pid = cg.spawn_sleep(&work);
        let tui = Tui::start(&format!("sig{name}"), &format!("-d 500 -p {pid}"));
        tui.wait_for("the target's row", &format!("{pid} "));
        tui.keys(&["f"]);
        tui.wait_for("the freeze dialog", "Enter: freeze");
        tui.keys(&["Enter"]);
        tui.wait_for("the freeze to be done", "press a key within");
        assert!(TestCgroup::frozen(&work), "{name}: not frozen");
        let bpftop = tui.pid().expect("bpftop runs");
        signal(bpftop, sig);
        wait_until(
            &format!("bpftop to exit on SIG{name}"),
            || gone(bpftop),
            String::new,
        );
        wait_until(
            &format!("the cgroup to be thawed after SIG{name}"),
            || !TestCgroup::frozen(&work),
            || {
                format!(
                    "cgroup.events: {:?}",
                    fs::read_to_string(work.join("cgroup.events"))
                )
            },
        );
        assert_eq!(
            fs::read_to_string(work.join("cgroup.freeze"))
                .unwrap()
                .trim(),
            "0"
        );
    }
}

/// Reproduction: SIGKILL during an `i` freeze left the process frozen in
/// its isolation cgroup for good, and a new bpftop did not recover it.
#[test]
fn a_process_frozen_alone_by_a_killed_bpftop_is_released_at_start() {
    let _one = one_interface_at_a_time();
    let Some(mut cg) = TestCgroup::create("orphan") else {
        return;
    };
    let work = cg.dir(&cg.work());
    let pid = cg.spawn_sleep(&work);
    let _other = cg.spawn_sleep(&work);
    let original = cgroup_of(pid);
    let bpftop;
    {
        let tui = Tui::start("orphan1", &format!("-d 500 -p {pid}"));
        tui.wait_for("the target's row", &format!("{pid} "));
        tui.keys(&["f"]);
        tui.wait_for(
            "the offer to freeze it alone",
            &format!("move only PID {pid}"),
        );
        tui.keys(&["i"]);
        tui.wait_for("the isolated freeze", "press a key within");
        bpftop = tui.pid().expect("bpftop runs");
        signal(bpftop, libc::SIGKILL);
        wait_until("bpftop to die", || gone(bpftop), String::new);
    }
    let isolated = cgroup_of(pid);
    assert_ne!(isolated, original);
    let isolated_dir = cg.mount.join(OsStr::from_bytes(&isolated[1..]));
    assert!(
        isolated_dir
            .file_name()
            .unwrap()
            .as_bytes()
            .starts_with(b"bpftop-freeze-"),
        "{isolated_dir:?}"
    );
    thread::sleep(Duration::from_millis(300));
    assert!(TestCgroup::frozen(&isolated_dir), "left frozen by SIGKILL");

    let tui = Tui::start("orphan2", &format!("-d 500 -p {pid}"));
    let reported = format!("released PID {pid}");
    wait_until(
        "the recovery to be reported",
        || tui.screen().contains(&reported),
        || {
            format!(
                "in {:?}; creator {:?}; screen:\n{}",
                String::from_utf8_lossy(&cgroup_of(pid)),
                fs::read_to_string(format!("/proc/{bpftop}/stat")),
                tui.screen()
            )
        },
    );
    assert_eq!(cgroup_of(pid), original);
    assert!(!isolated_dir.exists());
    assert!(!TestCgroup::frozen(&work));
    tui.keys(&["q"]);
}

/// Reproduction: with cap_dac_override, a fake mountinfo naming a directory
/// as the cgroup2 mount, and a `cgroup.freeze` there that is a symlink to a
/// root-owned 0600 file, `f` truncated that file. Now the mount is refused
/// (not cgroup2) and the file is unchanged. Run by an ordinary user with the
/// capability-carrying copy, and by root. (A bpftop with capabilities may
/// refuse --proc-root altogether: then it writes nothing either.)
#[test]
fn a_fake_mount_with_a_symlinked_cgroup_freeze_writes_nothing() {
    let _one = one_interface_at_a_time();
    let Some(mut cg) = TestCgroup::create("symlink") else {
        return;
    };
    let work = cg.dir(&cg.work());
    let pid = cg.spawn_sleep(&work);
    let scratch = Scratch::new("freeze-symlink");
    let victim = scratch.path().join("victim");
    fs::write(&victim, "precious\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();

    // The attacker's tree (in their home, where there is an attacker).
    let attack = setup("frzlnk");
    let base = match &attack {
        Some((attacker, _)) => attacker.home.join("fake"),
        None => scratch.path().join("fake"),
    };
    let mkdir = |dir: &Path| match &attack {
        Some((attacker, _)) => attacker.mkdir(dir),
        None => fs::create_dir_all(dir).unwrap(),
    };

    // The fake mount: the test cgroup's path, with a symlinked cgroup.freeze.
    let fake_mount = base.join("mount");
    let fake_work = fake_mount.join(cg.work().trim_start_matches('/'));
    mkdir(&fake_work);
    std::os::unix::fs::symlink(&victim, fake_work.join("cgroup.freeze")).unwrap();

    // The fake /proc: the real one, entry by entry, but for self/mountinfo.
    let proc_root = base.join("proc");
    mkdir(&proc_root.join("self"));
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name();
        if name != "self" && name != "thread-self" {
            let _ = std::os::unix::fs::symlink(entry.path(), proc_root.join(&name));
        }
    }
    for entry in fs::read_dir("/proc/self").unwrap().flatten() {
        let name = entry.file_name();
        if name != "mountinfo" {
            let target = Path::new("/proc/self").join(&name);
            let _ = std::os::unix::fs::symlink(target, proc_root.join("self").join(&name));
        }
    }
    fs::write(
        proc_root.join("self/mountinfo"),
        format!(
            "40 1 0:35 / {} rw - cgroup2 cgroup2 rw\n",
            fake_mount.display()
        ),
    )
    .unwrap();
    let args = format!(
        "--backend procfs --proc-root {} -d 500 -p {pid}",
        proc_root.display()
    );

    let mut runs = vec![Tui::start("symlink-root", &args)];
    if let Some((attacker, binary)) = &attack {
        let bin = binary.path.to_str().unwrap();
        runs.push(Tui::start_as(Some(attacker), bin, "symlink-user", &args));
    }
    for tui in runs {
        let bpftop = tui.pid();
        let shown = Instant::now();
        let up = loop {
            if tui.screen().contains(&format!("{pid} ")) {
                break true;
            }
            if bpftop.is_none_or(gone) || shown.elapsed() > PATIENCE {
                break false; // refused the flag: nothing written either
            }
            thread::sleep(Duration::from_millis(100));
        };
        if up {
            tui.keys(&["f"]);
            tui.wait_for("the freeze dialog", "Enter: freeze");
            tui.keys(&["Enter"]);
            let untouched = || fs::read_to_string(&victim).unwrap() == "precious\n";
            wait_until(
                "the refusal",
                || !untouched() || tui.screen().contains("not a cgroup2 mount"),
                || format!("screen:\n{}", tui.screen()),
            );
            assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
            tui.keys(&["q"]);
        }
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
        assert!(!TestCgroup::frozen(&work));
    }
}

/// Reproduction: a cgroup named with bytes that are not UTF-8 made its
/// processes' cgroup null (eBPF backend) or mangled beyond use (procfs).
#[test]
fn a_cgroup_name_that_is_not_utf8_is_kept_escaped() {
    let Some(mut cg) = TestCgroup::create("utf8") else {
        return;
    };
    let raw = cg.dir(&cg.path).join(OsStr::from_bytes(b"a\xff\xfeb"));
    fs::create_dir(&raw).unwrap();
    let pid = cg.spawn_sleep(&raw);
    let expected = format!("{}/a\\xff\\xfeb", cg.path);
    for backend in ["procfs", "bpf"] {
        let out = Command::new(bin())
            .args([
                "--batch",
                "-n",
                "2",
                "--format",
                "json",
                "--backend",
                backend,
            ])
            .args(["-p", &pid.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{backend}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let last = stdout.lines().last().unwrap();
        let doc: serde_json::Value = serde_json::from_str(last).unwrap();
        let process = doc["processes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["pid"] == pid)
            .unwrap_or_else(|| panic!("{backend}: pid {pid} missing"));
        assert_eq!(process["cgroup"], expected.as_str(), "{backend}");
    }
}
