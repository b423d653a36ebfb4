//! A private tmux server (its own socket, so buffers and titles are ours
//! alone) running one command in a pane of known size.

use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// None (with the reason printed) where tmux is missing.
    pub fn start(tag: &str, command: &str) -> Option<Tmux> {
        let tmux = Tmux {
            socket: format!("bpftop-sec-{tag}-{}", std::process::id()),
        };
        let started = Command::new("tmux")
            .args(["-L", &tmux.socket, "-f", "/dev/null"])
            .args(["new-session", "-d", "-s", "t", "-x", "160", "-y", "45"])
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

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap()
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

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}
