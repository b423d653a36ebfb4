//! A private tmux server (its own socket, so options, buffers and titles
//! concern no one else) running one command in a pane of known size, as
//! root or as another user; killed when dropped.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

/// The pane's target: the only session's only pane.
const PANE: &str = "t";

pub struct Tmux<'a> {
    socket: String,
    /// Builds the bare `tmux` command: as root, or as another user.
    program: Box<dyn Fn() -> Command + 'a>,
    /// The socket file, which tmux leaves behind; removed when dropped.
    socket_path: Option<PathBuf>,
}

impl<'a> Tmux<'a> {
    /// `command` in a `width`×`height` pane of a server named after `tag`;
    /// None (with the reason printed) where tmux is missing or fails.
    pub fn start(tag: &str, (width, height): (u16, u16), command: &str) -> Option<Tmux<'a>> {
        Tmux::start_with(
            Box::new(|| Command::new("tmux")),
            tag,
            (width, height),
            command,
        )
    }

    /// As [`Tmux::start`], with `program` building the `tmux` command (to
    /// run the server as another user).
    pub fn start_with(
        program: Box<dyn Fn() -> Command + 'a>,
        tag: &str,
        (width, height): (u16, u16),
        command: &str,
    ) -> Option<Tmux<'a>> {
        let mut tmux = Tmux {
            socket: format!("bpftop-{tag}-{}", std::process::id()),
            program,
            socket_path: None,
        };
        let (width, height) = (width.to_string(), height.to_string());
        let started = tmux
            .command()
            .args(["-f", "/dev/null", "new-session", "-d", "-s", PANE])
            .args(["-x", &width, "-y", &height, command])
            .output();
        match started {
            Ok(out) if out.status.success() => {
                let path = tmux.stdout(&["display-message", "-p", "#{socket_path}"]);
                tmux.socket_path = Some(PathBuf::from(path.trim_end()));
                Some(tmux)
            }
            Ok(out) => {
                super::skip(&format!(
                    "tmux failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
                None
            }
            Err(e) => {
                super::skip(&format!("no tmux: {e}"));
                None
            }
        }
    }

    fn command(&self) -> Command {
        let mut cmd = (self.program)();
        cmd.args(["-L", &self.socket]);
        cmd
    }

    /// A tmux command against this server.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("tmux runs")
    }

    /// A tmux command's standard output (empty when it failed, as once
    /// the command in the pane has ended the server).
    pub fn stdout(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.run(args).stdout).into_owned()
    }

    /// A tmux command's standard output; panics when it fails.
    pub fn checked(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", PANE];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    /// The screen as text.
    pub fn screen(&self) -> String {
        self.stdout(&["capture-pane", "-p", "-t", PANE])
    }

    /// The screen with its escape sequences (to see the selected row).
    pub fn screen_sgr(&self) -> String {
        self.stdout(&["capture-pane", "-p", "-e", "-t", PANE])
    }

    pub fn title(&self) -> String {
        self.stdout(&["display-message", "-p", "-t", PANE, "#{pane_title}"])
    }

    /// Replaces the pane's command.
    pub fn respawn(&self, command: &str) {
        self.checked(&["respawn-pane", "-k", "-t", PANE, command]);
    }

    /// The pane's process (the command, when tmux runs it by exec); None
    /// once the pane has gone (the command exited).
    pub fn pane_pid(&self) -> Option<u32> {
        self.stdout(&["display-message", "-p", "-t", PANE, "#{pane_pid}"])
            .trim()
            .parse()
            .ok()
    }

    /// Waits (up to `limit`) until the screen satisfies `check`.
    pub fn wait_for(&self, what: &str, limit: Duration, check: impl Fn(&str) -> bool) -> String {
        self.wait(what, limit, false, check)
    }

    /// Waits until a refresh's data is on screen: the header is drawn only
    /// with data, while the table's titles show from the start. Keys that
    /// act on rows (a search) must wait for this, not for the titles: at
    /// 30 000 processes under load the first refresh can take seconds.
    pub fn wait_for_data(&self, limit: Duration) -> String {
        self.wait_for("the first refresh", limit, |s| {
            s.contains("Tasks: ") && s.contains("Command")
        })
    }

    /// As [`Tmux::wait_for`], on the screen with its escape sequences.
    pub fn wait_for_sgr(
        &self,
        what: &str,
        limit: Duration,
        check: impl Fn(&str) -> bool,
    ) -> String {
        self.wait(what, limit, true, check)
    }

    /// `limit` is for an idle machine: it stretches by the worst
    /// [`super::patience`] seen while waiting.
    fn wait(&self, what: &str, limit: Duration, sgr: bool, check: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        let mut stretch = 1.0_f64;
        loop {
            let screen = if sgr {
                self.screen_sgr()
            } else {
                self.screen()
            };
            if check(&screen) {
                return screen;
            }
            stretch = stretch.max(super::patience());
            assert!(
                start.elapsed() < limit.mul_f64(stretch),
                "timed out waiting for {what} ({limit:?} × {stretch:.1} for the machine's load \
                 and bpftop's refresh time); \
                 screen:\n{}{}",
                strip_sgr(&screen),
                if sgr {
                    format!("\nwith its escape sequences:\n{screen:?}")
                } else {
                    String::new()
                }
            );
            thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        // Quitting bpftop may already have ended the server.
        let _ = self.command().arg("kill-server").output();
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The text without its escape sequences (each up to its final letter).
pub fn strip_sgr(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether an interface test can run: as root (CI runs as root; otherwise
/// a skip), with tmux installed (the README's test command installs it).
pub fn ready() -> bool {
    if !super::is_root() {
        super::skip("needs root (CI runs as root)");
        return false;
    }
    if std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_err()
    {
        panic!("tmux is not installed (the README's test command installs it)");
    }
    true
}
