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

/// A `sleep` under a name no other process has, child of this test;
/// `tag` keeps the copies of tests running side by side apart.
fn spawn_target(tag: &str) -> Target {
    let dir = std::env::temp_dir().join(format!("bpftop-e2e-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("e2e{tag}{}", std::process::id() % 100_000);
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
    let mut target = spawn_target("tgt");
    let config_home = std::env::temp_dir().join(format!("bpftop-e2e-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&config_home).unwrap();
    let _config_dir = TempDir(config_home.clone());
    let tmux = start_in_tmux(
        "e2e",
        &format!("{} -d 300", env!("CARGO_BIN_EXE_bpftop")),
        &config_home,
    );

    // The table shows the process we spawned.
    tmux.wait_for_data(PATIENCE);

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

/// A python process with three more threads, all sleeping; killed when
/// dropped.
struct Threaded {
    child: Child,
}

impl Threaded {
    fn spawn() -> Threaded {
        let child = Command::new("/usr/bin/python3")
            .args([
                "-c",
                "import threading,time\n\
                 [threading.Thread(target=time.sleep,args=(600,),daemon=True).start() for _ in range(3)]\n\
                 time.sleep(600)",
            ])
            .stdin(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let threaded = Threaded { child };
        let start = Instant::now();
        while threaded.tids().len() < 4 {
            assert!(start.elapsed() < PATIENCE, "the threads never started");
            thread::sleep(Duration::from_millis(10));
        }
        threaded
    }

    fn tids(&self) -> Vec<u32> {
        std::fs::read_dir(format!("/proc/{}/task", self.child.id()))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect()
    }

    /// Each thread's Cpus_allowed_list, as the kernel prints it.
    fn allowed_lists(&self) -> Vec<String> {
        self.tids()
            .iter()
            .map(|tid| {
                let path = format!("/proc/{}/task/{tid}/status", self.child.id());
                let status = std::fs::read_to_string(path).unwrap();
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                    .unwrap()
                    .trim()
                    .to_owned()
            })
            .collect()
    }

    /// What `ionice -p TID` says for each thread.
    fn ionice(&self) -> Vec<String> {
        self.tids()
            .iter()
            .map(|tid| {
                let out = Command::new("ionice")
                    .args(["-p", &tid.to_string()])
                    .output()
                    .expect("ionice runs");
                String::from_utf8(out.stdout).unwrap().trim().to_owned()
            })
            .collect()
    }
}

impl Drop for Threaded {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `done` holds, or fails with the screen.
fn wait_until(tmux: &Tmux<'_>, what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < PATIENCE,
            "{what}; screen:\n{}",
            strip_sgr(&tmux.screen_sgr())
        );
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn affinity_and_io_priority_dialogs_reach_every_thread() {
    if !is_root() {
        eprintln!("skipped: needs root (CI runs as root)");
        return;
    }
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    if online.trim() == "0" {
        eprintln!("skipped: one CPU, no affinity to choose");
        return;
    }
    let target = Threaded::spawn();
    let pid = target.child.id();
    let config_home = std::env::temp_dir().join(format!("bpftop-e2e-sched-{}", std::process::id()));
    std::fs::create_dir_all(&config_home).unwrap();
    let _config_dir = TempDir(config_home.clone());
    let tmux = start_in_tmux(
        "e2e-sched",
        &format!("{} -d 300 -p {pid}", env!("CARGO_BIN_EXE_bpftop")),
        &config_home,
    );
    tmux.wait_for_sgr("the target's row", PATIENCE, |s| {
        strip_sgr(s)
            .lines()
            .any(|l| l.trim_start().starts_with(&pid.to_string()))
    });

    // `a`: every CPU checked (the process may run anywhere); uncheck the
    // first, Enter: every thread may run only on the others.
    tmux.keys(&["a"]);
    let screen = tmux.wait_for_sgr("the CPU checklist", PATIENCE, |s| {
        strip_sgr(s).contains("Use CPUs")
    });
    let plain = strip_sgr(&screen);
    assert!(
        plain.contains("[x] CPU 0") && plain.contains("[x] CPU 1"),
        "{plain}"
    );
    tmux.keys(&["Space", "Enter"]);
    let last = online.trim().rsplit(['-', ',']).next().unwrap().to_owned();
    let expected = if last == "1" {
        "1".to_owned()
    } else {
        format!("1-{last}")
    };
    wait_until(&tmux, "every thread allowed all CPUs but 0", || {
        target.allowed_lists().iter().all(|l| *l == expected)
    });
    tmux.wait_for_sgr("the status line", PATIENCE, |s| {
        strip_sgr(s).contains(&format!("may run on CPU {expected}"))
    });

    // `i` opens on the current class (none), End: idle, Up: best-effort 7.
    tmux.keys(&["i"]);
    tmux.wait_for_sgr("the I/O priority list", PATIENCE, |s| {
        let plain = strip_sgr(s);
        plain.contains("I/O priority of 1 process") && plain.contains("None (based on nice)")
    });
    tmux.keys(&["End", "Up", "Enter"]);
    wait_until(&tmux, "every thread best-effort 7", || {
        target.ionice().iter().all(|l| l == "best-effort: prio 7")
    });
    tmux.keys(&["q"]);
}

#[test]
fn io_screen_shows_the_io_priority_and_keeps_its_sort_in_the_config() {
    if !is_root() {
        eprintln!("skipped: needs root (CI runs as root)");
        return;
    }
    let target = spawn_target("io");
    let pid = target.child.id();
    // The truth: a class set by ionice, outside bpftop.
    let set = Command::new("ionice")
        .args(["-c", "2", "-n", "6", "-p", &pid.to_string()])
        .status()
        .expect("ionice runs");
    assert!(set.success());
    let config_home = std::env::temp_dir().join(format!("bpftop-e2e-io-{}", std::process::id()));
    std::fs::create_dir_all(&config_home).unwrap();
    let _config_dir = TempDir(config_home.clone());
    let tmux = start_in_tmux(
        "e2e-io",
        &format!("{} -d 300 -p {pid}", env!("CARGO_BIN_EXE_bpftop")),
        &config_home,
    );
    tmux.wait_for_sgr("the Main screen", PATIENCE, |s| {
        let plain = strip_sgr(s);
        plain.contains("[Main] [I/O]") && plain.contains(&target.name)
    });
    tmux.keys(&["Tab"]);
    // The priority is read for the rows on screen: it shows once the
    // refresh after the row first appeared has come.
    let screen = tmux.wait_for_sgr("the I/O screen with B6", PATIENCE, |s| {
        strip_sgr(s).lines().any(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            cells.first() == Some(&pid.to_string().as_str()) && cells.get(2) == Some(&"B6")
        })
    });
    let plain = strip_sgr(&screen);
    assert!(plain.contains("DISK R/W"), "{plain}");
    assert!(!plain.contains("CPU%"), "{plain}");

    // Sort the I/O screen by PID, save (setup, Esc), back to Main.
    tmux.keys(&["F6"]);
    tmux.wait_for_sgr("the sort chooser", PATIENCE, |s| {
        strip_sgr(s).contains("Sort by")
    });
    tmux.keys(&["Home", "Enter", "F2"]);
    tmux.wait_for_sgr("setup", PATIENCE, |s| strip_sgr(s).contains("Setup"));
    tmux.keys(&["Escape"]);
    let config = config_home.join("bpftop").join("config.toml");
    wait_until(&tmux, "the config file", || config.exists());
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("io_sort_key = \"PID\""), "{text}");
    assert!(text.contains("sort_key = \"CPU%\""), "{text}");
    tmux.keys(&["BTab"]);
    tmux.wait_for_sgr("Main's own sort", PATIENCE, |s| {
        strip_sgr(s).contains("CPU%▽")
    });
    tmux.keys(&["q"]);
}
