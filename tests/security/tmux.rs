//! A private tmux server (its own socket, so buffers and titles are ours
//! alone) running one command in a pane of known size, as root or as an
//! attacker (then the attacker's own server).

use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::Attacker;

pub struct Tmux<'a> {
    socket: String,
    user: Option<&'a Attacker>,
}

impl<'a> Tmux<'a> {
    /// None (with the reason printed) where tmux is missing.
    pub fn start(tag: &str, command: &str) -> Option<Tmux<'a>> {
        Tmux::start_as(None, tag, command)
    }

    /// `command` in a tmux server run by `user` (root: None).
    pub fn start_as(user: Option<&'a Attacker>, tag: &str, command: &str) -> Option<Tmux<'a>> {
        let tmux = Tmux {
            socket: format!("bpftop-sec-{tag}-{}", std::process::id()),
            user,
        };
        let started = tmux
            .command()
            .args(["-f", "/dev/null"])
            .args(["new-session", "-d", "-s", "t", "-x", "200", "-y", "50"])
            .arg(command)
            .output();
        match started {
            Ok(out) if out.status.success() => Some(tmux),
            Ok(out) => {
                println!(
                    "skipped: tmux failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                None
            }
            Err(e) => {
                println!("skipped: no tmux: {e}");
                None
            }
        }
    }

    fn command(&self) -> Command {
        let mut cmd = match self.user {
            Some(user) => user.command("tmux"),
            None => Command::new("tmux"),
        };
        cmd.args(["-L", &self.socket]);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    pub fn stdout(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.run(args).stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    /// The screen as text.
    pub fn screen(&self) -> String {
        self.stdout(&["capture-pane", "-p", "-t", "t"])
    }

    /// The pane's process (the command, when tmux runs it by exec); None
    /// once the pane has gone (the command exited).
    pub fn pane_pid(&self) -> Option<u32> {
        self.stdout(&["display-message", "-p", "-t", "t", "#{pane_pid}"])
            .trim()
            .parse()
            .ok()
    }

    /// Waits (up to `limit`) until the screen satisfies `check`.
    pub fn wait_for(&self, what: &str, limit: Duration, check: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < limit,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}
