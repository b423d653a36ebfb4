//! End to end: X in a real terminal (tmux) lists processes the test ran
//! and reaped, with the codes and the signal wait(2) gave the test, and
//! counts the failures of the same program under the same parent. Needs
//! tmux and root (CI has both); skipped with a message otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::is_root;
use common::tmux::Tmux;

/// How long the interface gets to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(20);

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What wait(2) said of a child: its code, or the signal's name.
fn ending(status: std::process::ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => code.to_string(),
        (None, Some(libc::SIGTERM)) => "SIGTERM".to_owned(),
        other => panic!("unexpected ending {other:?}"),
    }
}

/// The cells of the row whose PID is `pid`, split at spaces.
fn row_cells(screen: &str, pid: u32) -> Option<Vec<String>> {
    screen.lines().find_map(|l| {
        let cells: Vec<String> = l
            .trim_matches(|c: char| c == '│' || c.is_whitespace())
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        (cells.first()? == &pid.to_string()).then_some(cells)
    })
}

#[test]
fn x_lists_exits_with_their_codes_and_signal() {
    if !is_root() {
        common::skip("needs root (CI runs as root)");
        return;
    }
    if Command::new("tmux").arg("-V").output().is_err() {
        panic!("tmux is not installed (the README's test command installs it)");
    }
    let config_home =
        std::env::temp_dir().join(format!("bpftop-exited-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&config_home).unwrap();
    let _config = TempDir(config_home.clone());
    let command = format!(
        "env XDG_CONFIG_HOME={} NO_COLOR=1 {} -d 300",
        config_home.display(),
        env!("CARGO_BIN_EXE_bpftop")
    );
    let tmux = Tmux::start("exited", (200, 60), &command).expect("tmux runs");
    tmux.wait_for_data(PATIENCE);
    tmux.keys(&["X"]);
    let screen = tmux.wait_for("the exited screen", PATIENCE, |s| s.contains("Exited: "));
    if let Some(line) = screen
        .lines()
        .find(|l| l.contains("Exits are not captured"))
    {
        common::skip(&format!(
            "no exit capture here: {}",
            line.trim_matches('│').trim()
        ));
        return;
    }

    // Four failing runs of one program (three exit 7, one exit 42) and a
    // sleep terminated by SIGTERM, all children of this test.
    let mut expected: Vec<(u32, String)> = Vec::new();
    for code in [7, 7, 42, 7] {
        let mut child = Command::new("sh")
            .args(["-c", &format!("exit {code}")])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        expected.push((pid, ending(child.wait().unwrap())));
    }
    let mut sleep = Command::new("sleep")
        .arg("600")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(sleep.id() as i32, libc::SIGTERM) };
    expected.push((sleep.id(), ending(sleep.wait().unwrap())));

    // Newest first: other exits on this machine may push ours down, so
    // the check is made as soon as all five are on the screen.
    let me = std::process::id().to_string();
    let screen = tmux.wait_for("the five exits", PATIENCE, |s| {
        expected.iter().all(|(pid, _)| row_cells(s, *pid).is_some())
    });
    for (i, (pid, ending)) in expected.iter().enumerate() {
        let cells = row_cells(&screen, *pid).unwrap();
        // PID PPID USER LIFE TIME+ EXIT PEAK FAILS ENDED UNIT Command…
        assert_eq!(cells[1], me, "parent of {pid}: {cells:?}");
        assert_eq!(&cells[5], ending, "ending of {pid}: {cells:?}");
        let failures = if i < 4 { "4" } else { "1" };
        assert_eq!(cells[7], failures, "failures of {pid}'s program: {cells:?}");
        let program = if i < 4 { "sh" } else { "sleep" };
        assert!(cells[10..].join(" ").starts_with(program), "{cells:?}");
    }

    // E sorts by ending, the worst first: the SIGTERM above the codes.
    tmux.keys(&["E"]);
    let sleep_pid = expected[4].0;
    tmux.wait_for("sorted by ending", PATIENCE, |s| {
        let lines: Vec<&str> = s.lines().collect();
        let Some(title) = lines.iter().position(|l| l.contains("EXIT▼")) else {
            return false;
        };
        let at = |pid: u32| {
            lines
                .iter()
                .position(|l| row_cells(l, pid).is_some())
                .unwrap_or(usize::MAX)
        };
        at(sleep_pid) > title
            && at(sleep_pid) < at(expected[2].0)
            && at(expected[2].0) < at(expected[0].0)
    });
    tmux.keys(&["X"]);
    tmux.wait_for("the screen closed", PATIENCE, |s| !s.contains("Exited: "));
    tmux.keys(&["q"]);
}
