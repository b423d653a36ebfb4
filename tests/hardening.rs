//! Hardening, end to end with the real binary:
//!
//! - churn: a helper forks and reaps about 500 short-lived processes a
//!   second while batch mode refreshes at 10 Hz; every line must be valid
//!   JSON, stderr must stay empty, the run must end cleanly and the
//!   collector's RSS must not grow;
//! - hostile names: processes whose comm and argv hold terminal escapes
//!   (clear screen, window title, OSC 52 clipboard write), BEL, C1 controls,
//!   newlines, tabs, invalid UTF-8 and 4 KiB arguments must come out of the
//!   text format, the JSON format and the interface (in tmux) without a
//!   control byte reaching the terminal and without breaking the table.
//!
//! Expected values come from /proc, read by the test itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;

use common::is_root;
use common::tmux::{strip_sgr, Tmux};

const BIN: &str = env!("CARGO_BIN_EXE_bpftop");

/// The churn tests measure fork rates and RSS: one at a time.
static CHURN: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------- churn --

/// Shared with the forking helper through a MAP_SHARED page.
#[repr(C)]
struct ChurnShared {
    forks: AtomicU64,
    stop: AtomicBool,
}

/// A child process that forks `rate` short-lived children a second and
/// reaps them, until dropped.
struct Churn {
    pid: libc::pid_t,
    shared: *mut ChurnShared,
}

impl Churn {
    fn start(rate: u64) -> Churn {
        let size = std::mem::size_of::<ChurnShared>();
        // SAFETY: an anonymous shared mapping; checked below.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(map, libc::MAP_FAILED, "mmap");
        // A fresh mapping is zeroed: a valid ChurnShared (0 forks, no stop).
        let shared = map.cast::<ChurnShared>();
        // SAFETY: getpid has no preconditions.
        let parent = unsafe { libc::getpid() };
        // SAFETY: the child calls only async-signal-safe functions (this
        // process has other threads) and leaves with _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: the child owns nothing that needs unwinding.
            unsafe { churn_loop(&*shared, rate, parent) }
        }
        Churn { pid, shared }
    }

    fn forks(&self) -> u64 {
        // SAFETY: the mapping lives as long as self.
        unsafe { (*self.shared).forks.load(Ordering::Relaxed) }
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        // SAFETY: the mapping lives until munmap below; pid is our child.
        unsafe {
            (*self.shared).stop.store(true, Ordering::Relaxed);
            let deadline = Instant::now() + Duration::from_secs(3);
            while libc::waitpid(self.pid, std::ptr::null_mut(), libc::WNOHANG) == 0 {
                if Instant::now() > deadline {
                    libc::kill(self.pid, libc::SIGKILL);
                    libc::waitpid(self.pid, std::ptr::null_mut(), 0);
                    break;
                }
                thread::sleep(Duration::from_millis(10));
            }
            libc::munmap(self.shared.cast(), std::mem::size_of::<ChurnShared>());
        }
    }
}

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn sleep_ns(ns: i64) {
    let ts = libc::timespec {
        tv_sec: ns / 1_000_000_000,
        tv_nsec: ns % 1_000_000_000,
    };
    // SAFETY: nanosleep reads the timespec; the remainder is not wanted.
    unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
}

/// The helper's body: async-signal-safe calls only, then _exit.
unsafe fn churn_loop(shared: &ChurnShared, rate: u64, parent: libc::pid_t) -> ! {
    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    if libc::getppid() != parent {
        libc::_exit(0);
    }
    // Hold none of the test's pipes (another test's child's stdout, say).
    libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
    let start = monotonic_ns();
    let mut forks = 0u64;
    // The long-lived children, ended at stop rather than waited for.
    let mut lingering = [0 as libc::pid_t; LINGERING];
    while !shared.stop.load(Ordering::Relaxed) {
        while libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) > 0 {}
        let due = (monotonic_ns() - start) as u128 * u128::from(rate) / 1_000_000_000;
        if u128::from(forks) >= due {
            sleep_ns(200_000);
            continue;
        }
        match libc::fork() {
            0 => {
                // Most exit at once or after 2 ms; one in ten lives 50 ms;
                // one in LINGER_EVERY lives 10 s, so that a refresh that
                // reads /proc for seconds (30 000 processes, a debug build)
                // still finds children alive.
                match forks % 10 {
                    _ if forks % LINGER_EVERY == 0 => sleep_ns(10_000_000_000),
                    0 => sleep_ns(50_000_000),
                    n if n % 2 == 1 => sleep_ns(2_000_000),
                    _ => {}
                }
                libc::_exit(0);
            }
            pid if pid > 0 => {
                if forks % LINGER_EVERY == 0 {
                    lingering[(forks / LINGER_EVERY) as usize % LINGERING] = pid;
                }
                forks += 1;
                shared.forks.store(forks, Ordering::Relaxed);
            }
            _ => sleep_ns(1_000_000),
        }
    }
    for pid in lingering.into_iter().filter(|&pid| pid > 0) {
        libc::kill(pid, libc::SIGKILL);
    }
    while libc::waitpid(-1, std::ptr::null_mut(), 0) > 0 {}
    libc::_exit(0);
}

/// One churn child in LINGER_EVERY lives 10 s: about one a second at the
/// test's rate, so LINGERING covers every one alive at once.
const LINGER_EVERY: u64 = 500;
const LINGERING: usize = 16;

/// What the churn test reads of each JSON line.
#[derive(Deserialize)]
struct Snapshot {
    backend: String,
    system: SnapshotSystem,
    processes: Vec<SnapshotProcess>,
}

#[derive(Deserialize)]
struct SnapshotSystem {
    tasks: u64,
}

#[derive(Deserialize)]
struct SnapshotProcess {
    pid: u32,
    ppid: u32,
    comm: String,
}

/// VmRSS of `pid` in kB, from /proc.
fn vm_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Lines of a child's stdout, through a channel so reads can time out.
fn line_reader(stdout: impl Read + Send + 'static) -> mpsc::Receiver<std::io::Result<String>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let end = line.is_err();
            if tx.send(line).is_err() || end {
                break;
            }
        }
    });
    rx
}

/// All of a child's stderr, collected on a thread.
fn drain(mut stderr: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stderr.read_to_end(&mut out);
        out
    })
}

/// Kills and reaps a child when dropped, on every path.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Refreshes measured after the 10th, at the least.
const MIN_MEASURED: u64 = 10;

/// Runs batch JSON at 10 Hz for `window` under churn and checks it.
fn churn_run(backend: &str, window: Duration) {
    let _one_at_a_time = CHURN.lock().unwrap_or_else(|e| e.into_inner());
    let churn = Churn::start(520);
    let helper = churn.pid as u32;
    let helper_comm = std::fs::read_to_string(format!("/proc/{helper}/comm")).unwrap();
    let helper_comm = helper_comm.trim_end_matches('\n').to_owned();
    let me = std::process::id();

    let mut child = Command::new(BIN)
        .args([
            "--batch",
            "--format",
            "json",
            "-d",
            "100",
            "--backend",
            backend,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bpftop starts");
    let pid = child.id();
    let lines = line_reader(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let mut child = Reaped(child);

    let mut refreshes = 0u64;
    let mut rss_10th = None;
    let mut rss_last;
    let mut rss_max = 0;
    let mut rss_measured = Vec::new();
    let mut tasks_10th = 0;
    let mut tasks_last;
    let mut saw_churn_child = 0u64;
    let mut start: Option<(Instant, u64)> = None;
    let mut end;
    // How long a refresh may take comes from this machine, in this run: the
    // first may load programs and read every process (slow at 30 000
    // processes in a debug build); later ones get five times the slowest
    // gap seen so far, and never less than 10 s.
    let mut patience = Duration::from_secs(120);
    let mut last_line = Instant::now();
    let mut slowest = Duration::ZERO;
    loop {
        let line = match lines.recv_timeout(patience) {
            Ok(line) => line.expect("reading bpftop's stdout"),
            Err(e) => {
                panic!("{backend}: no line for {patience:?} after {refreshes} refreshes ({e})")
            }
        };
        if refreshes > 0 {
            slowest = slowest.max(last_line.elapsed());
            patience = (slowest * 5).max(Duration::from_secs(10));
        }
        last_line = Instant::now();
        refreshes += 1;
        let snapshot: Snapshot = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "{backend}: refresh {refreshes} is not valid JSON ({e}): {}",
                line.chars().take(300).collect::<String>()
            )
        });
        assert_eq!(snapshot.backend, backend);
        let rss = vm_rss_kb(pid).expect("bpftop's VmRSS");
        rss_max = rss_max.max(rss);
        rss_last = rss;
        if refreshes >= 10 {
            rss_measured.push(rss);
        }
        tasks_last = snapshot.system.tasks;
        if refreshes == 10 {
            rss_10th = Some(rss);
            tasks_10th = snapshot.system.tasks;
            start = Some((Instant::now(), churn.forks()));
        }
        // Truth from the test's side: the helper is our child, with the
        // comm /proc gave it, in every refresh; its children come and go.
        let pids: HashSet<u32> = snapshot.processes.iter().map(|p| p.pid).collect();
        assert_eq!(
            pids.len(),
            snapshot.processes.len(),
            "{backend}: a pid listed twice in refresh {refreshes}"
        );
        let found = snapshot.processes.iter().find(|p| p.pid == helper);
        let found = found.unwrap_or_else(|| {
            panic!("{backend}: the churn helper {helper} is missing from refresh {refreshes}")
        });
        assert_eq!(
            (found.ppid, found.comm.as_str()),
            (me, helper_comm.as_str())
        );
        if snapshot.processes.iter().any(|p| p.ppid == helper) {
            saw_churn_child += 1;
        }
        if let Some((at, _)) = start {
            end = (Instant::now(), churn.forks());
            // The window, and enough refreshes in it to measure growth (a
            // loaded machine refreshes less often than asked): the window
            // stretches to what that many refreshes take at the slowest
            // pace seen (each line must still come within `patience`).
            let enough = refreshes >= 10 + MIN_MEASURED;
            let stretched = (window * 5).max(slowest * (MIN_MEASURED as u32 + 2));
            if at.elapsed() >= window && enough || at.elapsed() >= stretched {
                break;
            }
        }
    }
    let (started, forks_at_start) = start.unwrap();
    let (ended, forks_at_end) = end;
    let elapsed = ended.duration_since(started).as_secs_f64();
    let rate = (forks_at_end - forks_at_start) as f64 / elapsed;
    drop(churn);

    // Closing the pipe ends batch mode quietly (EPIPE), exit status 0.
    drop(lines);
    // It sees the closed pipe at its next write: within a refresh or two.
    let exit_within = (slowest * 3).max(Duration::from_secs(10));
    let status = wait_timeout(&mut child.0, exit_within).unwrap_or_else(|| {
        panic!("{backend}: bpftop did not exit within {exit_within:?} after its stdout closed")
    });
    let stderr = stderr.join().unwrap();
    let rss_10th = rss_10th.unwrap();
    let growth = (rss_last as f64 - rss_10th as f64) / rss_10th as f64 * 100.0;
    let measured_refreshes = refreshes - 10;
    eprintln!(
        "churn {backend}: {rate:.0} forks/s over {elapsed:.1} s, {measured_refreshes} refreshes \
         measured ({refreshes} in all, {saw_churn_child} showing a churn child), VmRSS \
         {rss_10th} kB at refresh 10 -> {rss_last} kB at refresh {refreshes} ({growth:+.2} %, \
         max {rss_max} kB), tasks {tasks_10th} -> {tasks_last}"
    );
    // Nothing on stderr but the one documented line saying the refreshes
    // cannot keep the asked rate (a loaded machine, a debug build).
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(
        common::unexpected_stderr(&stderr).is_empty(),
        "{backend}: stderr: {stderr}"
    );
    assert!(status.success(), "{backend}: exit status {status:?}");
    // Asked for 520 a second; a loaded machine forks slower, and 300 a
    // second still puts exits inside every refresh.
    assert!(rate >= 300.0, "{backend}: only {rate:.0} forks/s");
    // Asked for 10 Hz; a loaded machine (30 000 processes, a build beside,
    // an unoptimised binary) gives fewer: enough to measure is what counts,
    // and the window stretches to get them.
    assert!(
        measured_refreshes >= MIN_MEASURED,
        "{backend}: {measured_refreshes} refreshes in {elapsed:.1} s"
    );
    assert!(
        saw_churn_child > 0,
        "{backend}: no refresh showed one of the helper's children"
    );
    // A leak grows all along; the allocator's free memory it keeps (up to
    // 8 MiB a heap) only moves up and down, and a refresh caught in the
    // middle of its work reads high once. So the median of the second half
    // of the measured refreshes may not rise 5 % above the first half's:
    // a leak moves every sample up, a passing peak moves no median.
    let median = |half: &[u64]| {
        let mut sorted = half.to_vec();
        sorted.sort_unstable();
        sorted.get(sorted.len() / 2).copied()
    };
    let (first, second) = rss_measured.split_at(rss_measured.len() / 2);
    let first_median = median(first).unwrap_or(rss_10th);
    let second_median = median(second).unwrap_or(rss_last);
    assert!(
        (second_median as f64) < first_median as f64 * 1.05,
        "{backend}: VmRSS kept growing: median {first_median} kB in the first half of the \
         measured refreshes, {second_median} kB in the second (from {rss_10th} kB at refresh 10 \
         to {rss_last} kB, max {rss_max} kB; tasks {tasks_10th} -> {tasks_last})"
    );
}

#[test]
fn churn_bpf_60s() {
    if !is_root() {
        common::skip("needs root");
        return;
    }
    churn_run("bpf", Duration::from_secs(60));
}

#[test]
fn churn_procfs_15s() {
    if !is_root() {
        common::skip("needs root");
        return;
    }
    churn_run("procfs", Duration::from_secs(15));
}

// -------------------------------------------------------- hostile names --

/// A hostile process: a copy of /bin/sh under a hostile file name (which
/// becomes its comm), reading its stdin with hostile arguments after it.
struct HostileSpec {
    file_name: Vec<u8>,
    args: Vec<Vec<u8>>,
}

struct Hostile {
    child: Child,
    /// Held open: the shell waits on `read` until it closes.
    _stdin: ChildStdin,
    marker: String,
}

/// The hostile processes and their directory, all gone when dropped.
struct HostileSet {
    procs: Vec<Hostile>,
    dir: PathBuf,
}

impl Drop for HostileSet {
    fn drop(&mut self) {
        for p in &mut self.procs {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn hostile_specs(markers: &[String]) -> Vec<HostileSpec> {
    let arg = |s: &str| s.as_bytes().to_vec();
    let mut big = b"A".repeat(1024);
    big.extend_from_slice(b"\x1b[5m");
    big.resize(4096, b'B');
    vec![
        HostileSpec {
            // clear screen, then set the window title to "pwned"
            file_name: b"\x1b[2J\x1b]0;pwned\x07".to_vec(),
            args: vec![
                arg(&markers[0]),
                // OSC 52: write "pwned" to the clipboard
                arg("\x1b]52;c;cHduZWQ=\x07"),
                arg("\x1b[2J\x1b[H"),
                arg("\x07\x07bell"),
                // C1 CSI (U+009B), then DEL
                arg("\u{9b}31mc1\x7f"),
            ],
        },
        HostileSpec {
            file_name: b"nl\nTab\tx\xff\xfe".to_vec(),
            args: vec![
                arg(&markers[1]),
                arg("line1\nline2\r\nline3"),
                arg("tab\there"),
                b"\xff\xfe\xc3(invalid utf-8".to_vec(),
                arg("\x1b]2;pwned2\x1b\\"),
            ],
        },
        HostileSpec {
            file_name: b"big\x1b[31mred".to_vec(),
            args: vec![arg(&markers[2]), big, b"\x1b[2J".repeat(1024)],
        },
    ]
}

/// Starts the hostile processes and waits until each has exec'd.
fn spawn_hostile() -> HostileSet {
    let me = std::process::id();
    let dir = std::env::temp_dir().join(format!("bpftop-hardening-{me}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut set = HostileSet {
        procs: Vec::new(),
        dir: dir.clone(),
    };
    let markers: Vec<String> = (0..3).map(|i| format!("hstl{me}x{i}")).collect();
    let shell = std::fs::canonicalize("/bin/sh").unwrap();
    for (spec, marker) in hostile_specs(&markers).into_iter().zip(markers) {
        let exe = dir.join(OsStr::from_bytes(&spec.file_name));
        std::fs::copy(&shell, &exe).unwrap();
        let mut child = Command::new(&exe)
            .arg("-c")
            .arg("read x")
            .args(spec.args.iter().map(|a| OsStr::from_bytes(a)))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        set.procs.push(Hostile {
            child,
            _stdin: stdin,
            marker,
        });
    }
    for p in &set.procs {
        let pid = p.child.id();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !proc_cmdline(pid).is_some_and(|a| a.iter().any(|a| a == p.marker.as_bytes())) {
            assert!(
                Instant::now() < deadline,
                "hostile process {pid} did not start"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
    set
}

/// comm from /proc (less the newline the kernel appends).
fn proc_comm(pid: u32) -> Vec<u8> {
    let mut comm = std::fs::read(format!("/proc/{pid}/comm")).unwrap();
    if comm.last() == Some(&b'\n') {
        comm.pop();
    }
    comm
}

fn proc_cmdline(pid: u32) -> Option<Vec<Vec<u8>>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let body = raw.strip_suffix(b"\0").unwrap_or(&raw);
    Some(body.split(|&b| b == 0).map(<[u8]>::to_vec).collect())
}

/// What a terminal may be shown of process-controlled bytes, as ps(1)
/// does it: invalid UTF-8 as U+FFFD, control characters as '?'.
fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Control bytes that must never reach a terminal: C0 (but newline), DEL,
/// and C1 as UTF-8.
fn control_bytes(out: &[u8]) -> Vec<(usize, String)> {
    let text = String::from_utf8_lossy(out);
    text.char_indices()
        .filter(|&(_, c)| c.is_control() && c != '\n')
        .map(|(i, c)| (i, format!("{c:?}")))
        .collect()
}

fn batch(backend: &str, format: &str) -> Vec<u8> {
    let out = Command::new(BIN)
        .args(["--batch", "--format", format, "-n", "3", "-d", "300"])
        .args(["--backend", backend])
        .stdin(Stdio::null())
        .output()
        .expect("bpftop runs");
    assert!(
        out.status.success(),
        "{backend} {format}: {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{backend} {format}: stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// (a) The text format: no control byte at all, every table line a row,
/// each hostile process on exactly one line with its command as /proc
/// gives it, neutralised.
fn check_text(backend: &str, set: &HostileSet) {
    let out = batch(backend, "text");
    let bad = control_bytes(&out);
    assert!(
        bad.is_empty(),
        "{backend}: control characters in the text output: {:?}",
        &bad[..bad.len().min(10)]
    );
    assert!(!out.contains(&0x1b) && !out.contains(&0x07));
    let text = String::from_utf8(out).expect("the text output is UTF-8");
    let last = text.rsplit("bpftop - up").next().unwrap();
    let mut lines = last.lines();
    lines
        .by_ref()
        .find(|l| l.trim_start().starts_with("PID USER"))
        .expect("the table header");
    let rows: Vec<&str> = lines.take_while(|l| !l.is_empty()).collect();
    assert!(rows.len() > 3, "{backend}: {} rows", rows.len());
    for row in &rows {
        let pid = row
            .get(..7)
            .map(str::trim)
            .and_then(|p| p.parse::<u32>().ok());
        assert!(
            pid.is_some() && row.as_bytes().get(7) == Some(&b' '),
            "{backend}: a line that is not a row (the table was broken): {:?}",
            row.chars().take(120).collect::<String>()
        );
    }
    for p in &set.procs {
        let pid = p.child.id();
        let args = proc_cmdline(pid).unwrap();
        let expected: Vec<String> = args.iter().map(|a| shown(a)).collect();
        let expected = expected.join(" ");
        let mine: Vec<&&str> = rows
            .iter()
            .filter(|r| r.get(..7).map(str::trim) == Some(&pid.to_string()))
            .collect();
        assert_eq!(
            mine.len(),
            1,
            "{backend}: pid {pid} on {} lines",
            mine.len()
        );
        assert!(
            mine[0].ends_with(&format!("  {expected}")),
            "{backend}: pid {pid}: row {:?}\nexpected command {:?}",
            mine[0],
            expected
        );
        // And nothing else mentions the marker: no fragment of its argv
        // landed on a line of its own.
        let lines_with_marker = last.lines().filter(|l| l.contains(&p.marker)).count();
        assert_eq!(lines_with_marker, 1, "{backend}: marker {}", p.marker);
    }
}

/// (b) JSON: every line parses, no raw control byte (the encoder escapes
/// them), and comm and argv are /proc's, exactly (lossy UTF-8 only).
fn check_json(backend: &str, set: &HostileSet) {
    let out = batch(backend, "json");
    assert!(
        !out.contains(&0x1b) && !out.contains(&0x07),
        "{backend}: raw ESC or BEL in JSON"
    );
    let text = String::from_utf8(out).expect("JSON output is UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(text.contains("\\u001b"), "ESC escaped as \\u001b");
    let last: serde_json::Value = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .next_back()
        .unwrap();
    let processes = last["processes"].as_array().unwrap();
    for p in &set.procs {
        let pid = p.child.id();
        let entry = processes
            .iter()
            .find(|e| e["pid"].as_u64() == Some(u64::from(pid)))
            .unwrap_or_else(|| panic!("{backend}: pid {pid} missing from JSON"));
        let comm = String::from_utf8_lossy(&proc_comm(pid)).into_owned();
        assert_eq!(
            entry["comm"].as_str(),
            Some(comm.as_str()),
            "{backend}: comm"
        );
        let argv: Vec<String> = proc_cmdline(pid)
            .unwrap()
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let got: Vec<&str> = entry["cmdline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(got, argv, "{backend}: cmdline of {pid}");
    }
}

/// How long the interface gets to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(20);

/// Escape sequences in a captured pane other than SGR (`ESC [ … m`).
fn non_sgr_escapes(s: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find('\x1b') {
        let tail = &rest[at + 1..];
        let sgr = tail.strip_prefix('[').and_then(|t| {
            let end = t.find(|c: char| !(c.is_ascii_digit() || c == ';' || c == ':'))?;
            (t.as_bytes()[end] == b'm').then_some(end + 2)
        });
        match sgr {
            Some(len) => rest = &tail[len..],
            None => {
                found.push(tail.chars().take(12).collect());
                rest = tail;
            }
        }
    }
    found
}

/// (c) The interface in a real terminal: searching for the hostile
/// process shows it on one row, with its escapes neutralised; the title,
/// the clipboard and the layout are untouched.
fn check_tui(set: &HostileSet) {
    let config_home = set.dir.join("config");
    std::fs::create_dir_all(&config_home).unwrap();
    // The pane starts with an idle command, so that its title can be read
    // before bpftop writes anything, and an OSC 52 from the pane would
    // reach tmux's buffers (set-clipboard on).
    let tmux = Tmux::start("hardening", (220, 50), "sleep 600").expect("tmux runs");
    tmux.checked(&["set-option", "-s", "set-clipboard", "on"]);
    let title = tmux.title();
    tmux.respawn(&format!(
        "env XDG_CONFIG_HOME={} NO_COLOR=1 {BIN} -d 500",
        config_home.display()
    ));
    let before = tmux.wait_for_sgr("the whole screen", PATIENCE, |s| {
        let plain = strip_sgr(s);
        plain.contains("Tasks:") && plain.contains("Command") && plain.contains("F10Quit")
    });
    assert_eq!(tmux.title(), title, "the pane title was changed");
    let header_lines = strip_sgr(&before)
        .lines()
        .position(|l| l.contains("PID") && l.contains("Command"))
        .unwrap();

    for p in &set.procs {
        let pid = p.child.id();
        tmux.keys(&["/"]);
        tmux.keys(&["-l", &p.marker]);
        tmux.keys(&["Enter"]);
        // Selected, and the search closed (the key bar back): a search
        // selects as it is typed, before Enter is read.
        let screen = tmux.wait_for_sgr("the search to select the hostile process", PATIENCE, |s| {
            s.lines()
                .any(|l| l.contains("\x1b[7m") && strip_sgr(l).contains(&p.marker))
                && strip_sgr(s).lines().any(|l| l.starts_with("F1Help"))
        });
        // Two more refreshes with the row on screen.
        thread::sleep(Duration::from_millis(1200));
        let screen = {
            let again = tmux.screen_sgr();
            if strip_sgr(&again).contains(&p.marker) {
                again
            } else {
                screen
            }
        };
        let escapes = non_sgr_escapes(&screen);
        assert!(escapes.is_empty(), "escapes in the pane: {escapes:?}");
        let plain = strip_sgr(&screen);
        let rows: Vec<&str> = plain.lines().filter(|l| l.contains(&p.marker)).collect();
        assert_eq!(rows.len(), 1, "pid {pid}: rows {rows:?}");
        let row = rows[0];
        assert!(
            row.trim_start().starts_with(&pid.to_string()),
            "pid {pid}: row {row:?}"
        );
        assert!(
            !row.chars().any(|c| c.is_control()),
            "pid {pid}: control characters in {row:?}"
        );
        // The Command cell shows /proc's argv with each control character
        // as '?' (cut at the pane's edge): neither raw nor silently dropped.
        let column = strip_sgr(&before)
            .lines()
            .nth(header_lines)
            .and_then(|l| l.find("Command").map(|at| l[..at].chars().count()))
            .unwrap();
        let cell: String = row.chars().skip(column).collect();
        let cell = cell.trim_end();
        let argv: Vec<String> = proc_cmdline(pid)
            .unwrap()
            .iter()
            .map(|a| shown(a))
            .collect();
        let expected = argv.join(" ");
        assert!(
            cell.len() > 40 && expected.starts_with(cell),
            "pid {pid}: Command cell {cell:?}\nexpected (a prefix of) {expected:?}"
        );
        // Layout: the header and the column titles where they were, and
        // every row under the titles starts with a pid.
        let lines: Vec<&str> = plain.lines().collect();
        assert_eq!(
            lines
                .iter()
                .position(|l| l.contains("PID") && l.contains("Command")),
            Some(header_lines),
            "the column titles moved:\n{plain}"
        );
        assert!(
            lines[..header_lines].iter().any(|l| l.contains("Tasks")),
            "the header is gone:\n{plain}"
        );
        // Rows down to the status line above the function keys.
        let footer = lines.iter().rposition(|l| l.starts_with("F1Help")).unwrap();
        assert_eq!(lines.len(), 50, "the pane scrolled or wrapped:\n{plain}");
        // The rows are contiguous from the titles down (a cleared screen
        // would leave gaps: only changed cells are redrawn).
        let mut table = &lines[header_lines + 1..footer - 1];
        while table.last().is_some_and(|l| l.trim().is_empty()) {
            table = &table[..table.len() - 1];
        }
        assert!(table.len() >= 10, "the table is gone:\n{plain}");
        for l in table {
            let first = l.split_whitespace().next().unwrap_or("");
            assert!(
                first.parse::<u32>().is_ok(),
                "a table line that is not a row: {l:?}\n{plain}"
            );
        }
        assert_eq!(tmux.title(), title, "the pane title was changed");
        let buffers = tmux.checked(&["list-buffers", "-F", "#{buffer_sample}"]);
        assert!(
            buffers.trim().is_empty(),
            "the clipboard (tmux buffers) was written: {buffers:?}"
        );
    }
    let bell = tmux.checked(&["display-message", "-p", "-t", "t", "#{window_bell_flag}"]);
    assert_eq!(bell.trim(), "0", "a BEL reached the terminal");
    tmux.keys(&["q"]);
}

#[test]
fn hostile_names() {
    if Command::new("tmux").arg("-V").output().is_err() {
        panic!("tmux is not installed (the README's test command installs it)");
    }
    let set = spawn_hostile();
    for p in &set.procs {
        let pid = p.child.id();
        let comm = proc_comm(pid);
        assert!(
            comm.iter().any(|b| b.is_ascii_control()),
            "pid {pid}: comm {comm:?} has no control byte: the test would prove nothing"
        );
    }
    let backends: &[&str] = if is_root() {
        &["bpf", "procfs"]
    } else {
        common::skip("the bpf backend needs root");
        &["procfs"]
    };
    for backend in backends {
        check_text(backend, &set);
        check_json(backend, &set);
    }
    check_tui(&set);
    // The processes were alive throughout: each row seen was theirs.
    for p in &set.procs {
        assert!(Path::new(&format!("/proc/{}", p.child.id())).exists());
    }
    let _ = std::io::stderr().flush();
}
