//! `e` and `l` show a process's environment and open files, which the
//! kernel guards with a ptrace check. A capability-carrying copy keeps
//! CAP_SYS_PTRACE, so an ordinary user running it could read root's secrets
//! through them: it must show only what that user could read. Root's own
//! bpftop shows them, which proves the test would see a leak.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{bin, one_interface_at_a_time, pane, setup, Scratch};
use crate::tmux::Tmux;

const SHOWN: Duration = Duration::from_secs(60);

/// A root process holding a secret in its environment and a root-only file
/// open as fd 5 under a secret name; killed when dropped.
struct Victim {
    child: Child,
    secret: String,
    _dir: Scratch,
}

impl Victim {
    fn start(tag: &str) -> Victim {
        let secret = format!("root-secret-{tag}-{}", std::process::id());
        let dir = Scratch::new(&format!("inspect-{tag}"));
        let file = dir.path().join(format!("{secret}.key"));
        std::fs::write(&file, "k").unwrap();
        let child = Command::new("sh")
            .arg("-c")
            .arg("exec 5<\"$1\"; exec sleep 600")
            .arg("sh")
            .arg(&file)
            .env("BPFTOP_TEST_SECRET", &secret)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Victim {
            child,
            secret,
            _dir: dir,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens the panel `key` on the only process listed (`-p PID`) and returns
/// the screen once the panel has its text (or its refusal).
fn panel(tmux: &Tmux, key: &str, victim: &Victim, done: impl Fn(&str) -> bool) -> String {
    let pid = victim.pid().to_string();
    tmux.wait_for("the victim's row", SHOWN, |s| {
        s.contains(&pid) && s.contains("sleep")
    });
    tmux.keys(&[key]);
    let screen = tmux.wait_for("the panel", SHOWN, done);
    tmux.keys(&["Escape"]);
    screen
}

fn refused(screen: &str) -> bool {
    screen.contains("permission denied")
}

/// bpftop listing only the victim (`-p`, no GPU discovery), started by
/// `start` with those arguments: the screens of its `e` and `l` panels.
fn inspect(
    victim: &Victim,
    start: impl FnOnce(&str) -> Option<Tmux<'static>>,
) -> Option<(String, String)> {
    let tmux = start(&format!("--no-gpu -p {}", victim.pid()))?;
    let done = |s: &str| refused(s) || s.contains(&victim.secret);
    let environment = panel(&tmux, "e", victim, done);
    let files = panel(&tmux, "l", victim, done);
    tmux.keys(&["q"]);
    Some((environment, files))
}

#[test]
fn a_capability_carrying_copy_shows_no_other_users_environment_or_files() {
    let _one = one_interface_at_a_time();
    let Some((attacker, binary)) = setup("inspect") else {
        return;
    };
    let victim = Victim::start("cap");
    let Some((environment, files)) = inspect(&victim, |args| {
        pane("inspcap", &attacker, &binary.path, args, true)
    }) else {
        return;
    };
    for (what, screen) in [("environment", &environment), ("open files", &files)] {
        assert!(
            !screen.contains(&victim.secret),
            "{what} of root's process leaked:\n{screen}"
        );
        assert!(refused(screen), "{what}: no refusal:\n{screen}");
    }
}

#[test]
fn root_sees_every_processs_environment_and_files() {
    let _one = one_interface_at_a_time();
    let Some((attacker, _binary)) = setup("inspectroot") else {
        return;
    };
    let victim = Victim::start("root");
    // As root, without GPU discovery: the interface itself keeps what e and
    // l need.
    let root_binary = bin();
    let Some((environment, files)) = inspect(&victim, |args| {
        pane(
            "insproot",
            &attacker,
            std::path::Path::new(&root_binary),
            args,
            false,
        )
    }) else {
        return;
    };
    assert!(environment.contains(&victim.secret), "{environment}");
    assert!(files.contains(&victim.secret), "{files}");
}
