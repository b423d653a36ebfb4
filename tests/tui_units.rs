//! End to end: gu in a real terminal (tmux) lists a unit made by the test,
//! with the cgroup facts this host has, and Enter shows only its processes.
//! Needs tmux and root (CI has both); skipped with a message otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use bpftop::collect::cgroups::find_cgroup2_mount;
use common::is_root;
use common::tmux::Tmux;

/// How long the interface gets to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(20);

/// A cgroup named like a systemd unit holding one `sleep`; the sleep is
/// killed and the cgroup removed when dropped.
struct UnitCgroup {
    dir: PathBuf,
    child: Child,
}

impl Drop for UnitCgroup {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let until = Instant::now() + Duration::from_secs(10);
        while std::fs::remove_dir(&self.dir).is_err() && self.dir.exists() && Instant::now() < until
        {
            thread::sleep(Duration::from_millis(50));
        }
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn gu_lists_a_unit_and_enter_shows_its_processes() {
    if !is_root() {
        common::skip("needs root (CI runs as root)");
        return;
    }
    if Command::new("tmux").arg("-V").output().is_err() {
        panic!("tmux is not installed (the README's test command installs it)");
    }
    let Some(mount) = find_cgroup2_mount(Path::new("/proc")) else {
        common::skip("no cgroup2 mount");
        return;
    };
    let unit = format!("bpftop-test-{}-tui.service", std::process::id());
    let dir = mount.join(&unit);
    std::fs::create_dir(&dir).unwrap();
    let child = Command::new("sleep")
        .arg("600")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let cgroup = UnitCgroup { dir, child };
    std::fs::write(cgroup.dir.join("cgroup.procs"), pid.to_string()).unwrap();
    let v2_limits = std::fs::read_to_string(mount.join("cgroup.subtree_control"))
        .is_ok_and(|t| t.split_whitespace().any(|c| c == "cpu"))
        && std::fs::read_to_string(mount.join("cgroup.subtree_control"))
            .is_ok_and(|t| t.split_whitespace().any(|c| c == "memory"));

    let config_home = std::env::temp_dir().join(format!("bpftop-units-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&config_home).unwrap();
    let _config = TempDir(config_home.clone());
    let command = format!(
        "env XDG_CONFIG_HOME={} NO_COLOR=1 {} -d 300",
        config_home.display(),
        env!("CARGO_BIN_EXE_bpftop")
    );
    let tmux = Tmux::start("units", (160, 40), &command).expect("tmux runs");
    tmux.wait_for_data(PATIENCE);

    // Until a refresh has seen the sleep in its cgroup, gu may find no unit
    // (and says so in the status line): ask again until the table opens.
    let until = Instant::now() + PATIENCE * 3;
    let screen = loop {
        tmux.keys(&["g", "u"]);
        let asked = Instant::now();
        let mut screen = tmux.screen();
        while !screen.contains("Units and containers") && asked.elapsed() < Duration::from_secs(3) {
            thread::sleep(Duration::from_millis(200));
            screen = tmux.screen();
        }
        if screen.contains("Units and containers") {
            break tmux.wait_for("the test's unit in the table", PATIENCE, |s| {
                s.contains(&unit)
            });
        }
        assert!(
            Instant::now() < until,
            "gu never opened the table:\n{screen}"
        );
    };
    let row = screen.lines().find(|l| l.contains(&unit)).unwrap();
    // One process; its cgroup's pressure is read (a number, not "-").
    let cells: Vec<&str> = row.trim_matches('│').split_whitespace().collect();
    assert_eq!(cells.first(), Some(&"1"), "{row}");
    assert!(
        cells.get(3).is_some_and(|c| c.parse::<f64>().is_ok()),
        "{row}"
    );
    if !v2_limits {
        // Hybrid host: the limits are on cgroup v1, and the table says so.
        assert!(screen.contains("cgroup v1"), "{screen}");
        assert!(cells.get(7).is_some_and(|c| *c == "-"), "{row}");
    }

    // Select the test's unit (sorted by name: P sorts by CPU, so step
    // down to it) and show its processes.
    let lines: Vec<&str> = screen.lines().collect();
    let title = lines.iter().position(|l| l.contains("PROCS")).unwrap();
    let at = lines.iter().position(|l| l.contains(&unit)).unwrap();
    for _ in 0..(at - title - 1) {
        tmux.keys(&["j"]);
    }
    tmux.keys(&["Enter"]);
    let own = env!("CARGO_BIN_EXE_bpftop");
    tmux.wait_for("only the unit's processes", PATIENCE, |s| {
        !s.contains("Units and containers")
            && s.lines()
                .any(|l| l.contains(&pid.to_string()) && l.contains("sleep"))
            && !s.contains(own)
    });

    // gu opens and closes the table.
    tmux.keys(&["g", "u"]);
    tmux.wait_for("the table again", PATIENCE, |s| {
        s.contains("Units and containers")
    });
    tmux.keys(&["g", "u"]);
    tmux.wait_for("the table closed", PATIENCE, |s| {
        !s.contains("Units and containers")
    });
    tmux.keys(&["q"]);
}
