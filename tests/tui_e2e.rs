//! End to end: the real binary in a real terminal (tmux), driven by keys.
//! Needs tmux and root (CI has both); skipped with a message otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::is_root;
use common::tmux::{strip_sgr, Tmux};

/// How long the interface gets to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(15);

/// `command` in a 160×45 terminal, colourless, with its config in
/// `config_home`.
fn start_in_tmux(tag: &str, command: &str, config_home: &std::path::Path) -> Tmux<'static> {
    let command = format!(
        "env XDG_CONFIG_HOME={} NO_COLOR=1 {command}",
        config_home.display()
    );
    Tmux::start(tag, (160, 45), &command).expect("tmux runs")
}

/// A line is drawn selected (reverse video in the mono theme).
fn is_selected(line: &str) -> bool {
    line.contains("\x1b[7m")
}

struct Target {
    child: Child,
    name: String,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `sleep` under a name no other process has, child of this test.
fn spawn_target() -> Target {
    let dir = std::env::temp_dir().join(format!("bpftop-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("e2etgt{}", std::process::id() % 100_000);
    let exe = dir.join(&name);
    std::fs::copy("/bin/sleep", &exe).unwrap();
    let child = Command::new(&exe)
        .arg("600")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    Target {
        child,
        name,
        _dir: TempDir(dir),
    }
}

#[test]
fn search_tree_and_kill_in_a_real_terminal() {
    if !is_root() {
        common::skip("needs root (CI runs as root)");
        return;
    }
    if Command::new("tmux").arg("-V").output().is_err() {
        panic!("tmux is not installed (the README's test command installs it)");
    }
    let mut target = spawn_target();
    let config_home = std::env::temp_dir().join(format!("bpftop-e2e-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&config_home).unwrap();
    let _config_dir = TempDir(config_home.clone());
    let tmux = start_in_tmux(
        "e2e",
        &format!("{} -d 300", env!("CARGO_BIN_EXE_bpftop")),
        &config_home,
    );

    // The table shows the process we spawned.
    tmux.wait_for_sgr("the table", PATIENCE, |s| strip_sgr(s).contains("Command"));

    // `/` finds it: the selected line is the target's.
    tmux.keys(&["/"]);
    tmux.keys(&["-l", &target.name]);
    tmux.keys(&["Enter"]);
    tmux.wait_for_sgr("the search to select the target", PATIENCE, |s| {
        s.lines()
            .any(|l| is_selected(l) && strip_sgr(l).contains(&target.name))
    });

    // `t` shows it under its parent (this test), with a tree guide.
    tmux.keys(&["t"]);
    let parent = std::process::id().to_string();
    let screen = tmux.wait_for_sgr("the tree view", PATIENCE, |s| {
        let plain = strip_sgr(s);
        let lines: Vec<&str> = plain.lines().collect();
        let Some(at) = lines.iter().position(|l| l.contains(&target.name)) else {
            return false;
        };
        let guided = lines[at].contains("└─") || lines[at].contains("├─");
        let parent_above = lines[..at]
            .iter()
            .rev()
            .find(|l| l.trim_start().starts_with(&parent));
        guided && parent_above.is_some()
    });
    assert!(strip_sgr(&screen).contains(&target.name));

    // `x` opens the signal menu with TERM selected; Enter sends it.
    tmux.keys(&["/"]);
    tmux.keys(&["-l", &target.name]);
    tmux.keys(&["Enter"]);
    tmux.keys(&["x"]);
    tmux.wait_for_sgr("the signal menu", PATIENCE, |s| {
        strip_sgr(s).contains("Send signal")
    });
    tmux.keys(&["Enter"]);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = target.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the target is still alive; screen:\n{}",
            strip_sgr(&tmux.screen_sgr())
        );
        thread::sleep(Duration::from_millis(100));
    };
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    tmux.keys(&["q"]);
}

/// A process that rewrites its title in place (as setproctitle does, here
/// perl's `$0`) once a line arrives on its stdin; killed when dropped.
struct Retitler {
    child: Child,
}

impl Retitler {
    fn spawn(title: &str) -> Option<Retitler> {
        let child = Command::new("perl")
            .args(["-e", "<STDIN>; $0 = $ARGV[0]; sleep 600", title])
            .stdin(Stdio::piped())
            .spawn();
        match child {
            Ok(child) => Some(Retitler { child }),
            Err(e) => {
                common::skip(&format!("no perl to rewrite a title: {e}"));
                None
            }
        }
    }

    fn retitle(&mut self) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Retitler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_title_rewritten_in_place_shows_at_the_next_refresh() {
    if !is_root() {
        common::skip("needs root (CI runs as root)");
        return;
    }
    let title = format!("retitled-in-place-{}", std::process::id());
    let Some(mut retitler) = Retitler::spawn(&title) else {
        return;
    };
    let pid = retitler.child.id();
    let config_home = std::env::temp_dir().join(format!("bpftop-e2e-title-{}", std::process::id()));
    std::fs::create_dir_all(&config_home).unwrap();
    let _config_dir = TempDir(config_home.clone());
    let tmux = start_in_tmux(
        "e2e-title",
        &format!("{} -d 500 -p {pid}", env!("CARGO_BIN_EXE_bpftop")),
        &config_home,
    );
    // The original command line (perl's) first, then the new title.
    tmux.wait_for_sgr("the original command line", PATIENCE, |s| {
        strip_sgr(s).contains("<STDIN>")
    });
    retitler.retitle();
    tmux.wait_for_sgr("the new title", PATIENCE, |s| {
        let plain = strip_sgr(s);
        plain.contains(&title) && !plain.contains("<STDIN>")
    });
    tmux.keys(&["q"]);
}
