//! End to end, htop's keys for inspecting a process and for the view: the
//! real binary in tmux, checked against what this test itself set up (an
//! environment variable, an open file and a listening socket, a system call
//! made in a loop, a process started while paused, the path it was run
//! by). Needs tmux and root (CI has both); skipped with a message
//! otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::tmux::Tmux;

/// How long the interface gets to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(20);

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("bpftop-keys-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child of this test, killed and reaped when dropped.
struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// bpftop with `args` in a 150×40 terminal, colourless, its config in
/// `config`, with `env` set.
fn bpftop(tag: &str, env: &str, args: &str, config: &Path) -> Tmux<'static> {
    let command = format!(
        "env XDG_CONFIG_HOME={} NO_COLOR=1 {env} {} {args}",
        config.display(),
        env!("CARGO_BIN_EXE_bpftop")
    );
    Tmux::start(tag, (150, 40), &command).expect("tmux runs")
}

/// Waits until the panel of `what` is open (its title on the first line).
fn panel(tmux: &Tmux, what: &str) -> String {
    tmux.wait_for(what, PATIENCE, |s| {
        s.lines().next().is_some_and(|l| l.contains(what))
    })
}

/// Esc on its own (an Esc followed at once by a key reads as Alt+key),
/// then waits for the process list.
fn close(tmux: &Tmux) {
    tmux.keys(&["Escape"]);
    tmux.wait_for("the process list", PATIENCE, |s| s.contains("PID USER"));
}

#[test]
fn e_shows_the_environment_the_child_was_given_and_searches_it() {
    if !common::tmux::ready() {
        return;
    }
    let value = format!("set-by-the-test-{}", std::process::id());
    let kid = Kid(Command::new("sleep")
        .arg("600")
        .env("BPFTOP_KEYS_MARK", &value)
        .stdin(Stdio::null())
        .spawn()
        .unwrap());
    let config = TempDir::new("env");
    let tmux = bpftop(
        "keys-env",
        "",
        &format!("-d 300 -p {}", kid.0.id()),
        &config.0,
    );
    tmux.wait_for("the child", PATIENCE, |s| s.contains("sleep 600"));
    tmux.keys(&["e"]);
    panel(&tmux, &format!("Environment of PID {}", kid.0.id()));
    // The inherited environment is long: search for the variable.
    tmux.keys(&["/"]);
    tmux.keys(&["-l", "BPFTOP_KEYS_MA"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the variable", PATIENCE, |s| {
        s.contains(&format!("BPFTOP_KEYS_MARK={value}"))
    });
    close(&tmux);
    tmux.keys(&["q"]);
}

/// A process of another user: bpftop run by root (no GPU discovery, which
/// would keep CAP_SYS_PTRACE on its own) shows its environment, open files
/// and system calls, as htop run by root does. An ordinary user's
/// capability-carrying copy is refused them: tests/security/inspect.rs.
#[test]
fn root_inspects_another_users_process() {
    if !common::tmux::ready() {
        return;
    }
    let mark = format!("other-user-{}", std::process::id());
    let kid = Kid(Command::new("sleep")
        .arg("600")
        .uid(65534)
        .gid(65534)
        .env("BPFTOP_KEYS_OTHER", &mark)
        .stdin(Stdio::null())
        .spawn()
        .unwrap());
    let pid = kid.0.id();
    let config = TempDir::new("other");
    let tmux = bpftop(
        "keys-other",
        "",
        &format!("--no-gpu -d 300 -p {pid}"),
        &config.0,
    );
    tmux.wait_for("the child", PATIENCE, |s| s.contains("sleep 600"));
    tmux.keys(&["e"]);
    tmux.wait_for("its environment", PATIENCE, |s| {
        s.contains(&format!("BPFTOP_KEYS_OTHER={mark}"))
    });
    close(&tmux);
    tmux.keys(&["l"]);
    tmux.wait_for("its open files", PATIENCE, |s| {
        s.contains("FD TYPE") && s.contains("/dev/null")
    });
    close(&tmux);
    tmux.keys(&["s"]);
    // The sleeping process makes no call while traced: the attach is what
    // another user's process would refuse.
    tmux.wait_for("strace attached", PATIENCE, |s| {
        s.contains(&format!("Process {pid} attached"))
    });
    close(&tmux);
    tmux.keys(&["q"]);
}

#[test]
fn l_shows_an_open_file_and_a_listening_socket_of_the_child() {
    if !common::tmux::ready() {
        return;
    }
    let dir = TempDir::new("files");
    let path = dir.0.join("held-open.txt");
    let file = std::fs::File::create(&path).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let unix_path = dir.0.join("listening.sock");
    let unix = std::os::unix::net::UnixListener::bind(&unix_path).unwrap();
    use std::os::fd::AsRawFd;
    let (file_fd, socket_fd, unix_fd) = (file.as_raw_fd(), listener.as_raw_fd(), unix.as_raw_fd());
    let mut command = Command::new("sleep");
    command.arg("600").stdin(Stdio::null());
    // SAFETY: fcntl and dup2 are async-signal-safe. The child gets the
    // file as fd 7 and the sockets as fds 8 and 9 (dup2 clears
    // close-on-exec); the sources are first moved above those numbers, so
    // that no dup2 overwrites a source not yet copied.
    unsafe {
        command.pre_exec(move || {
            let mut high = [0; 3];
            for (i, from) in [file_fd, socket_fd, unix_fd].into_iter().enumerate() {
                high[i] = libc::fcntl(from, libc::F_DUPFD_CLOEXEC, 500);
                if high[i] < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for (i, from) in high.into_iter().enumerate() {
                if libc::dup2(from, 7 + i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let kid = Kid(command.spawn().unwrap());
    let tmux = bpftop(
        "keys-files",
        "",
        &format!("-d 300 -p {}", kid.0.id()),
        &dir.0,
    );
    tmux.wait_for("the child", PATIENCE, |s| s.contains("sleep 600"));
    tmux.keys(&["l"]);
    panel(&tmux, &format!("Open files of PID {}", kid.0.id()));
    let screen = tmux.wait_for("the file and the sockets", PATIENCE, |s| {
        let has = |fd: &str, kind: &str, name: &str| {
            s.lines().any(|l| {
                let l = l.trim_start_matches('│');
                let mut words = l.split_whitespace();
                words.next() == Some(fd) && words.next() == Some(kind) && l.contains(name)
            })
        };
        has("7", "REG", path.to_str().unwrap())
            && has("8", "TCP", &format!("127.0.0.1:{port} (LISTEN)"))
            && has("9", "UNIX", unix_path.to_str().unwrap())
    });
    assert!(screen.contains("   FD TYPE"), "{screen}");
    close(&tmux);
    tmux.keys(&["q"]);
}

/// The processes whose parent is `parent` and whose name is `comm`.
fn children_named(parent: u32, comm: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let ppid = stat[close + 2..].split(' ').nth(1);
        if &stat[open + 1..close] == comm && ppid == Some(&parent.to_string()) {
            found.push(pid);
        }
    }
    found
}

fn wait_until(what: &str, check: impl Fn() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn s_traces_a_syscall_the_child_makes_and_closing_stops_strace() {
    if !common::tmux::ready() {
        return;
    }
    if Command::new("strace").arg("-V").output().is_err() {
        common::skip("strace is not installed");
        return;
    }
    // The shell's `[ -e PATH ]` is a builtin: the shell itself stats the
    // path, in a loop.
    let marker = format!("/nonexistent/bpftop-keys-{}", std::process::id());
    let kid = Kid(Command::new("sh")
        .args([
            "-c",
            &format!("while :; do [ -e {marker} ]; sleep 0.2; done"),
        ])
        .stdin(Stdio::null())
        .spawn()
        .unwrap());
    let pid = kid.0.id();
    let config = TempDir::new("trace");
    let tmux = bpftop("keys-trace", "", &format!("-d 300 -p {pid}"), &config.0);
    tmux.wait_for("the child", PATIENCE, |s| s.contains("while :"));
    let bpftop_pid = tmux.pane_pid().unwrap();
    tmux.keys(&["s"]);
    panel(&tmux, &format!("System calls of PID {pid}"));
    tmux.wait_for("the traced stat of the marker", PATIENCE, |s| {
        s.lines()
            .any(|l| l.contains(&format!("\"{marker}\"")) && l.contains("ENOENT"))
    });
    assert_eq!(children_named(bpftop_pid, "strace").len(), 1);
    close(&tmux);
    // strace is stopped and reaped (not even a zombie is left), and the
    // child runs on untraced.
    wait_until("strace to be gone", || {
        children_named(bpftop_pid, "strace").is_empty()
    });
    wait_until("the child to be untraced", || {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .any(|l| l == "TracerPid:\t0")
    });
    // Quitting with a trace open stops strace too.
    tmux.keys(&["s"]);
    panel(&tmux, &format!("System calls of PID {pid}"));
    wait_until("strace to start", || {
        children_named(bpftop_pid, "strace").len() == 1
    });
    let strace = children_named(bpftop_pid, "strace")[0];
    tmux.keys(&["C-c"]);
    wait_until("strace to end with bpftop", || {
        !Path::new(&format!("/proc/{strace}")).exists()
    });
}

#[test]
fn s_without_strace_says_it_is_not_installed() {
    if !common::tmux::ready() {
        return;
    }
    let kid = Kid(Command::new("sleep")
        .arg("600")
        .stdin(Stdio::null())
        .spawn()
        .unwrap());
    let config = TempDir::new("nostrace");
    // No strace on this PATH.
    let tmux = bpftop(
        "keys-nostrace",
        &format!("PATH={}", config.0.display()),
        &format!("-d 300 -p {}", kid.0.id()),
        &config.0,
    );
    tmux.wait_for("the child", PATIENCE, |s| s.contains("sleep 600"));
    tmux.keys(&["s"]);
    tmux.wait_for("the reason", PATIENCE, |s| {
        s.contains("strace is not installed")
    });
    close(&tmux);
    tmux.keys(&["q"]);
}

/// The Uptime meter's text, which changes as refreshes arrive.
fn uptime(screen: &str) -> Option<String> {
    let at = screen.find("Uptime: ")?;
    Some(screen[at..].split_whitespace().nth(1)?.to_owned())
}

#[test]
fn z_pauses_hash_hides_the_meters_and_p_drops_the_path() {
    if !common::tmux::ready() {
        return;
    }
    let dir = TempDir::new("view");
    let prefix = format!("kz{}", std::process::id() % 100_000);
    let exe = |suffix: &str| {
        let exe = dir.0.join(format!("{prefix}{suffix}"));
        std::fs::copy("/bin/sleep", &exe).unwrap();
        exe
    };
    let (first_exe, second_exe) = (exe("a"), exe("b"));
    let spawn = |exe: &Path| {
        Kid(Command::new(exe)
            .arg("600")
            .stdin(Stdio::null())
            .spawn()
            .unwrap())
    };
    let _first = spawn(&first_exe);
    let tmux = bpftop("keys-view", "", "-d 200", &dir.0);
    tmux.wait_for("the table", PATIENCE, |s| s.contains("PID USER"));
    tmux.keys(&["-l", "\\"]);
    tmux.keys(&["-l", &prefix]);
    tmux.keys(&["Enter"]);
    // The Command column shows the path it was run by.
    let full = format!("{} 600", first_exe.display());
    let screen = tmux.wait_for("the first child by its path", PATIENCE, |s| {
        s.contains(&full)
    });

    // How long two refreshes take here and now: the uptime (whole
    // seconds) changes at least once in that time.
    let start = Instant::now();
    let shown = uptime(&screen);
    tmux.wait_for("a refresh", PATIENCE, |s| uptime(s) != shown);
    let pace = start.elapsed();

    tmux.keys(&["Z"]);
    tmux.wait_for("the PAUSED marker", PATIENCE, |s| {
        s.lines()
            .any(|l| l.contains("F10Quit") && l.trim_end().ends_with("PAUSED"))
    });
    let _second = spawn(&second_exe);
    let frozen = tmux.screen();
    // Several refreshes' worth of time: nothing new is shown.
    std::thread::sleep(pace * 3 + Duration::from_secs(1));
    let still = tmux.screen();
    assert!(!still.contains(&format!("{prefix}b")), "{still}");
    assert_eq!(
        uptime(&still),
        uptime(&frozen),
        "the header moved on while paused"
    );
    tmux.keys(&["Z"]);
    tmux.wait_for("the second child after resuming", PATIENCE, |s| {
        s.contains(&format!("{prefix}b 600")) && !s.contains("PAUSED")
    });

    // `#`: no meters; the screen tabs and the column titles on top.
    tmux.keys(&["#"]);
    tmux.wait_for("the meters to go", PATIENCE, |s| {
        s.lines().take(2).any(|l| l.contains("PID USER")) && !s.contains("Uptime:")
    });
    tmux.keys(&["#"]);
    tmux.wait_for("the meters to come back", PATIENCE, |s| {
        s.contains("Uptime:")
    });

    // `p`: the program's name without the directory it was run from.
    tmux.keys(&["p"]);
    let short = tmux.wait_for("the command without its path", PATIENCE, |s| {
        !s.contains(&first_exe.display().to_string())
    });
    assert!(short.contains(&format!(" {prefix}a 600")), "{short}");
    tmux.keys(&["p"]);
    tmux.wait_for("the path again", PATIENCE, |s| s.contains(&full));
    tmux.keys(&["q"]);
}
