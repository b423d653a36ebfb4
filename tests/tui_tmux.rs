//! The interface inside tmux, as a daily user meets it: where a yank goes
//! (checked against tmux's own paste buffers), and the short messages that
//! say why a key did nothing, each within an 80-column terminal. Needs
//! tmux and root (CI has both); skipped with a message otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::tmux::Tmux;

/// How long the interface gets to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(20);

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `sleep` with arguments no other process has, child of this test.
struct Target {
    child: Child,
}

impl Target {
    fn spawn() -> Target {
        let child = Command::new("sleep")
            .arg(format!("{}.25", 500 + std::process::id() % 1000))
            .arg("1")
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Target { child }
    }

    /// The command line as the kernel keeps it, arguments joined by spaces.
    fn cmdline(&self) -> String {
        let raw = std::fs::read(format!("/proc/{}/cmdline", self.child.id())).unwrap();
        raw.split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tmux server (default options, as tmux 3.3 ships them: set-clipboard
/// external, allow-passthrough off) whose 80×24 pane runs bpftop showing
/// only `pid`, once its row is on screen.
fn bpftop_in_tmux(tag: &str, pid: u32, config_home: &Path) -> Tmux<'static> {
    let tmux = Tmux::start(tag, (80, 24), "sleep 600").expect("tmux runs");
    tmux.respawn(&format!(
        "env XDG_CONFIG_HOME={} NO_COLOR=1 {} -d 500 -p {pid}",
        config_home.display(),
        env!("CARGO_BIN_EXE_bpftop")
    ));
    let pid = pid.to_string();
    tmux.wait_for("the process row", PATIENCE, |s| {
        s.lines()
            .any(|l| l.split_whitespace().next() == Some(pid.as_str()))
    });
    tmux
}

/// The line above the function-key bar.
fn status_line(screen: &str) -> String {
    let lines: Vec<&str> = screen.lines().collect();
    let keys = lines
        .iter()
        .rposition(|l| l.starts_with("F1Help"))
        .expect("the key bar");
    lines[keys - 1].trim_end().to_owned()
}

fn config_home(tag: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("bpftop-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// With `set-clipboard on`, tmux keeps what a yank sends in its paste
/// buffer: the buffer holds the selected process's pid and command line
/// as the kernel has them. With tmux's defaults nothing can reach a
/// clipboard, and the status line says so instead of claiming a copy.
#[test]
fn yank_reaches_the_tmux_buffer_or_says_it_did_not() {
    if !common::tmux::ready() {
        return;
    }
    let target = Target::spawn();
    let pid = target.child.id();
    let config = config_home("yank");
    let tmux = bpftop_in_tmux("yank", pid, &config.0);

    // tmux's defaults: nothing is sent, nothing is claimed.
    tmux.keys(&["y", "p"]);
    let screen = tmux.wait_for("the not-copied message", PATIENCE, |s| {
        s.contains("not copied")
    });
    let said = status_line(&screen);
    assert_eq!(
        said,
        "not copied: tmux set-clipboard external, allow-passthrough off: set either on"
    );
    assert_eq!(tmux.stdout(&["list-buffers"]).trim(), "", "no buffer");

    // set-clipboard on: tmux stores the plain sequence.
    tmux.checked(&["set-option", "-g", "set-clipboard", "on"]);
    tmux.keys(&["y", "p"]);
    let expected = format!("yanked {} characters", pid.to_string().len());
    tmux.wait_for("the pid yank", PATIENCE, |s| s.contains(&expected));
    assert_eq!(tmux.checked(&["show-buffer"]), pid.to_string());

    let cmdline = target.cmdline();
    assert!(cmdline.starts_with("sleep "), "{cmdline}");
    tmux.keys(&["y", "c"]);
    let expected = format!("yanked {} characters (tmux buffer", cmdline.chars().count());
    tmux.wait_for("the command line yank", PATIENCE, |s| s.contains(&expected));
    assert_eq!(tmux.checked(&["show-buffer"]), cmdline);

    // Passthrough on, set-clipboard off: the wrapped sequence is for the
    // terminal outside tmux; tmux itself stores nothing.
    let buffers = tmux.checked(&["list-buffers"]);
    tmux.checked(&["set-option", "-g", "set-clipboard", "off"]);
    tmux.checked(&["set-option", "-g", "allow-passthrough", "on"]);
    tmux.keys(&["y", "p"]);
    tmux.wait_for("the passthrough yank", PATIENCE, |s| {
        s.contains("(through tmux to the terminal)")
    });
    assert_eq!(tmux.checked(&["list-buffers"]), buffers, "no new buffer");
    tmux.keys(&["q"]);
}

/// The status line takes a row only when it has something to say; the
/// messages of gG without a GPU and of o without the UNIT column fit 80
/// columns; O says why there is nothing to choose, or offers a choice.
#[test]
fn messages_take_a_row_only_when_there_is_something_to_say() {
    if !common::tmux::ready() {
        return;
    }
    let target = Target::spawn();
    let pid = target.child.id();
    let config = config_home("messages");
    let tmux = bpftop_in_tmux("messages", pid, &config.0);

    // One process shown (-p): the row above the key bar is empty, and the
    // header's meter names the backend.
    let screen = tmux.screen();
    assert_eq!(status_line(&screen), "", "{screen}");
    assert!(screen.contains("Backend: "), "{screen}");

    let gpu = Path::new("/dev/nvidiactl").exists()
        || std::fs::read_dir("/sys/class/drm")
            .map(|d| {
                d.flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with("card"))
            })
            .unwrap_or(false);
    if gpu {
        println!("gG message not checked: this machine has a GPU");
    } else {
        tmux.keys(&["g", "G"]);
        let screen = tmux.wait_for("the no-GPU message", PATIENCE, |s| s.contains("no GPU:"));
        let said = status_line(&screen);
        assert!(said.starts_with("no GPU: NVML: "), "{said}");
        assert!(
            said.ends_with(" (bpftop --check)"),
            "cut at 80 columns: {said}"
        );
    }

    tmux.keys(&["o"]);
    let screen = tmux.wait_for("the o message", PATIENCE, |s| s.contains("UNIT shows"));
    let said = status_line(&screen);
    assert!(
        said.ends_with("but the UNIT column is hidden (F2 adds it)"),
        "{said}"
    );

    tmux.keys(&["O"]);
    let screen = tmux.wait_for("O's answer", PATIENCE, |s| {
        s.contains("Show only") || s.contains("no systemd unit or container")
    });
    if !Path::new("/run/systemd/system").exists() && !screen.contains("Show only") {
        println!("O without systemd: {}", status_line(&screen));
    }
    tmux.keys(&["Escape"]);
    tmux.keys(&["q"]);
}
