//! Escape sequences in a cgroup name (anyone with a delegated subtree picks
//! it) must not reach root's terminal: the freeze dialog of `bpftop -p PID`
//! shows the path; the pane title, tmux's paste buffers (OSC 52) and the
//! screen (CSI 2J) must stay as they were.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{bin, is_root, one_interface_at_a_time};
use crate::tmux;

fn cgroup2_mount() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let fstype = right.split_whitespace().next()?;
        let mount = left.split_whitespace().nth(4)?;
        (fstype == "cgroup2").then(|| PathBuf::from(mount))
    })
}

/// A cgroup with a hostile name holding a sleeping process; both removed
/// on drop.
struct HostileCgroup {
    dir: PathBuf,
    child: Child,
}

impl HostileCgroup {
    fn create(mount: &Path, name: &str) -> HostileCgroup {
        let dir = mount.join(name);
        std::fs::create_dir(&dir).unwrap();
        let child = Command::new("sleep")
            .arg("600")
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        std::fs::write(dir.join("cgroup.procs"), child.id().to_string()).unwrap();
        HostileCgroup { dir, child }
    }
}

impl Drop for HostileCgroup {
    fn drop(&mut self) {
        let _ = std::fs::write(self.dir.join("cgroup.freeze"), "0");
        let _ = self.child.kill();
        let _ = self.child.wait();
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn cgroup_name_cannot_drive_the_terminal() {
    let _one = one_interface_at_a_time();
    if !is_root() {
        crate::common::skip("needs root (to create a cgroup)");
        return;
    }
    let Some(mount) = cgroup2_mount() else {
        crate::common::skip("no cgroup2 mount");
        return;
    };
    // OSC 2 (title), OSC 52 (clipboard: "PWNED"), CSI 2J (clear), CSI H.
    let name = format!(
        "bpftop-sec-{}\x1b]2;PWNED-TITLE\x07\x1b]52;c;UFdORUQ=\x07\x1b[2J\x1b[H\u{9b}2J",
        std::process::id()
    );
    let cgroup = HostileCgroup::create(&mount, &name);
    let pid = cgroup.child.id();
    let command = format!(
        "env NO_COLOR=1 XDG_CONFIG_HOME=/nonexistent {} -p {pid}",
        bin()
    );
    let Some(tmux) = tmux::start("esc", &command) else {
        return;
    };
    // What the attack would change, set to known values first.
    tmux.run(&["set-option", "-g", "set-clipboard", "on"]);
    tmux.run(&["set-option", "-g", "allow-rename", "on"]);
    tmux.run(&["select-pane", "-t", "t", "-T", "before"]);
    let limit = Duration::from_secs(30);
    tmux.wait_for("the process row", limit, |s| s.contains(&pid.to_string()));
    tmux.keys(&["f"]);
    tmux.wait_for("the freeze dialog", limit, |s| {
        s.contains("processes forked in it are born frozen")
    });
    // Let a second frame reach the terminal too.
    std::thread::sleep(Duration::from_millis(1500));
    let screen = tmux.screen();
    let title = tmux.stdout(&["display-message", "-p", "-t", "t", "#{pane_title}"]);
    let buffers = tmux.stdout(&["list-buffers"]);
    tmux.keys(&["Escape"]);
    tmux.keys(&["q"]);
    println!("after the dialog: title {title:?}, buffers {buffers:?}");
    assert_eq!(title.trim(), "before", "the pane title changed");
    assert_eq!(buffers.trim(), "", "a paste buffer was set through OSC 52");
    // The header survived: the screen was not cleared under bpftop.
    assert!(
        screen.contains("Load average") || screen.contains("Tasks"),
        "screen cleared:\n{screen}"
    );
    // The name is shown, its control characters as '?'.
    assert!(
        screen.contains("?]2;PWNED-TITLE?"),
        "name not shown:\n{screen}"
    );
    drop(cgroup);
}
