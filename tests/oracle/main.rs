//! Correctness suite: spawns processes in known states and compares what
//! each backend reports with the kernel's own accounting in /proc, read by
//! the test itself (truth.rs), not by bpftop's parsers.
//!
//! A plain `main` (harness = false) so that the binary can re-execute itself
//! as the workloads, with arbitrary (non-UTF-8) arguments.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod exit_workload;
mod exits;
mod gpu;
mod memory;
mod net_workload;
mod network;
mod truth;
mod unit_limits;
mod waits;
mod workload;

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::CommandExt;
use std::panic::{self, AssertUnwindSafe};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use bpftop::collect::sample::{ProcessSample, Sample};
use bpftop::collect::sampler::Sampler;
use bpftop::collect::{BackendChoice, CollectOptions, WalkChoice};
use bpftop::model::Model;
use common::is_root;

/// A spawned workload, killed and reaped when dropped.
struct Workload {
    child: Child,
    /// What the workload printed after "ready".
    note: String,
}

impl Workload {
    fn spawn(args: &[OsString]) -> Workload {
        let exe = std::env::current_exe().unwrap();
        let mut child = Command::new(exe)
            .arg("workload")
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let note = line
            .trim_end()
            .strip_prefix("ready")
            .unwrap_or_else(|| panic!("workload {args:?} did not start: {line:?}"))
            .trim()
            .to_owned();
        Workload { child, note }
    }

    fn simple(args: &[&str]) -> Workload {
        Workload::spawn(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Workload {
    fn drop(&mut self) {
        let pid = self.child.id() as i32;
        // SAFETY: signalling our own child (and, for "idle", its group).
        unsafe {
            libc::kill(pid, libc::SIGCONT);
            libc::kill(-pid, libc::SIGKILL);
            libc::kill(pid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// The user name of `uid` through the C library (getpwuid), independently
/// of bpftop's own passwd parser.
fn user_name(uid: u32) -> String {
    // SAFETY: getpwuid returns NULL or a pointer to a static passwd entry,
    // read before any other call could overwrite it.
    unsafe {
        let pw = libc::getpwuid(uid);
        if pw.is_null() {
            return uid.to_string();
        }
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_string_lossy()
            .into_owned()
    }
}

/// The verified handle freezing goes through.
fn cgroupfs(mount: &std::path::Path) -> bpftop::actions::cgroupfs::CgroupFs {
    bpftop::actions::cgroupfs::CgroupFs::open(mount).unwrap()
}

fn sampler(choice: BackendChoice, walk: WalkChoice) -> Sampler {
    let options = CollectOptions {
        walk,
        ..CollectOptions::default()
    };
    Sampler::open(choice, &options, "/etc/passwd".into())
        .unwrap_or_else(|e| panic!("opening {choice:?} ({walk:?} walk): {e:#}"))
}

fn find(sample: &Sample, pid: u32) -> &ProcessSample {
    sample
        .processes
        .iter()
        .find(|p| p.pid == pid)
        .unwrap_or_else(|| panic!("pid {pid} missing from the {:?} sample", sample.backend))
}

fn within(actual: f64, expected: f64, tolerance: f64) -> bool {
    (actual - expected).abs() <= tolerance
}

/// Exact fields, memory and CPU time of known processes against /proc.
fn known_processes_match_proc(choice: BackendChoice, walk: WalkChoice) {
    let hold = Workload::simple(&["hold", "64", "16"]);
    let nice = Workload::simple(&["nice"]);
    let stopped = Workload::simple(&["sleep"]);
    // SAFETY: stopping our own child.
    unsafe { libc::kill(stopped.pid() as i32, libc::SIGSTOP) };
    let zombie_parent = Workload::simple(&["zombie"]);
    let zombie: u32 = zombie_parent.note.parse().unwrap();
    let mut long_args: Vec<OsString> = vec!["sleep".into()];
    for i in 0..12u8 {
        let mut arg = vec![0xff, 0xfe, b'x', b'0' + i];
        arg.extend(std::iter::repeat_n(b'a' + i, 700));
        arg.extend_from_slice(b" \xc3\x28 end");
        long_args.push(OsString::from_vec(arg));
    }
    let argv = Workload::spawn(&long_args);
    let hostile_comm = b"a (b) \x1b[c)";
    let hex: String = hostile_comm.iter().map(|b| format!("{b:02x}")).collect();
    let comm = Workload::simple(&["comm", &hex]);
    let exited = Workload::simple(&["threads_exit"]);
    let tty = Workload::simple(&["tty"]);
    // Spinning until killed: a slow sample (30 000 processes, a debug
    // build) must still find its four threads.
    let spin = Workload::simple(&["spin", "600000"]);
    thread::sleep(Duration::from_millis(300));
    // Wait for the stop to take effect.
    for _ in 0..50 {
        if truth::read(stopped.pid()).map(|t| t.state) == Some('T') {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }

    let pids = [
        hold.pid(),
        nice.pid(),
        stopped.pid(),
        zombie,
        argv.pid(),
        comm.pid(),
        exited.pid(),
        tty.pid(),
        spin.pid(),
    ];
    let mut s = sampler(choice, walk);
    let before: Vec<truth::Truth> = pids.iter().map(|&p| truth::read(p).unwrap()).collect();
    let sample = s.sample().unwrap();
    for (i, pid) in pids.into_iter().enumerate() {
        let p = find(&sample, pid);
        let t = truth::read(pid).unwrap();
        let what = format!("{choice:?} pid {pid}");
        // Counters that move by themselves lie between the two readings.
        let (b, a) = (before[i].ctxt, t.ctxt);
        assert!(
            (b.0..=a.0).contains(&p.nvcsw) && (b.1..=a.1).contains(&p.nivcsw),
            "{what}: ctxt switches {}/{} not within /proc {b:?}..{a:?}",
            p.nvcsw,
            p.nivcsw
        );
        assert_eq!(p.euid, t.euid, "{what}: euid");
        assert_eq!(p.ppid, t.ppid, "{what}: ppid");
        assert_eq!(p.uid, t.uid, "{what}: uid");
        // A sleeper may be caught awake: the state must be one that /proc
        // showed just before or just after the sample.
        assert!(
            p.state == t.state || p.state == before[i].state,
            "{what}: state {} vs /proc {} / {}",
            p.state,
            before[i].state,
            t.state
        );
        assert_eq!(p.nice, t.nice, "{what}: nice");
        assert_eq!(p.threads, t.threads, "{what}: threads");
        assert_eq!(p.comm, t.comm, "{what}: comm");
        assert_eq!(*p.cmdline, t.cmdline[..], "{what}: cmdline");
        assert_eq!(p.priority, t.priority, "{what}: priority");
        assert_eq!(p.tty_nr, t.tty_nr, "{what}: tty_nr");
        assert_eq!(p.virt_bytes, t.virt_bytes, "{what}: virt");
        let start_ticks = p.start_time_ns as f64 * truth::ticks_per_second() / 1e9;
        assert!(
            within(start_ticks, t.start_ticks as f64, 1.0),
            "{what}: start {start_ticks} ticks vs /proc {}",
            t.start_ticks
        );
        if pid != spin.pid() {
            // Idle processes take no faults between the two readings.
            assert_eq!(p.minflt, t.minflt, "{what}: minflt");
            assert_eq!(p.majflt, t.majflt, "{what}: majflt");
            let io =
                p.io.map(|io| [io.rchar, io.wchar, io.read_bytes, io.write_bytes]);
            assert_eq!(io, Some(t.io), "{what}: io");
            let tol = (t.rss_bytes as f64 * 0.01).max(256.0 * 1024.0);
            assert!(
                within(p.rss_bytes as f64, t.rss_bytes as f64, tol),
                "{what}: rss {} vs /proc {}",
                p.rss_bytes,
                t.rss_bytes
            );
            assert!(
                within(p.shared_bytes as f64, t.shared_bytes as f64, tol),
                "{what}: shared {} vs /proc {}",
                p.shared_bytes,
                t.shared_bytes
            );
            let cpu = p.cpu_time_ns() as f64 / 1e9;
            let tolerance = (t.cpu_seconds * 0.02).max(0.02);
            assert!(
                within(cpu, t.cpu_seconds, tolerance),
                "{what}: cpu time {cpu} vs /proc {}",
                t.cpu_seconds
            );
            let user = p.utime_ns as f64 / 1e9;
            assert!(
                within(user, t.utime_seconds, tolerance),
                "{what}: user time {user} vs /proc {}",
                t.utime_seconds
            );
        }
    }
    // Known values, not just agreement.
    assert_eq!(find(&sample, nice.pid()).nice, 7);
    assert_eq!(find(&sample, stopped.pid()).state, 'T');
    assert_eq!(find(&sample, zombie).state, 'Z');
    assert_eq!(find(&sample, comm.pid()).comm, hostile_comm.to_vec());
    let expected_argv: Vec<Vec<u8>> = long_args.iter().map(|a| a.clone().into_vec()).collect();
    assert_eq!(find(&sample, argv.pid()).cmdline[2..], expected_argv[..]);
    assert_eq!(find(&sample, spin.pid()).threads, 5);
    // The exited threads' 4 × 150 ms are still the process's.
    let gone = find(&sample, exited.pid());
    assert!(
        gone.cpu_time_ns() >= 500_000_000,
        "exited threads lost: {gone:?}"
    );
    assert_eq!(gone.threads, 1);
    assert_ne!(
        find(&sample, tty.pid()).tty_nr,
        0,
        "tty workload has a terminal"
    );
    let held = find(&sample, hold.pid());
    assert!(
        held.rss_bytes >= 80 << 20,
        "rss {} < 80 MiB",
        held.rss_bytes
    );
    assert!(
        held.shared_bytes >= 16 << 20,
        "shared {} < 16 MiB",
        held.shared_bytes
    );

    // The spinner's CPU time moves while we sample: it must lie between the
    // /proc readings taken just before and just after.
    let spin_before = &before[before.len() - 1];
    let spin_after = truth::read(spin.pid()).unwrap();
    let cpu = find(&sample, spin.pid()).cpu_time_ns() as f64 / 1e9;
    let tol = (spin_after.cpu_seconds * 0.02).max(0.02);
    assert!(
        cpu >= spin_before.cpu_seconds - tol && cpu <= spin_after.cpu_seconds + tol,
        "{choice:?}: spinner cpu {cpu} not within /proc [{}, {}]",
        spin_before.cpu_seconds,
        spin_after.cpu_seconds
    );
}

/// Four spinning threads show min(4, CPUs) × 100 % over a refresh, and
/// the same rate /proc's counters give over the same interval.
fn spinner_cpu_percent(choice: BackendChoice) {
    // Spinning until killed: on a loaded machine opening the sampler and
    // sampling may take seconds, and the spinner must still be spinning.
    let spin = Workload::simple(&["spin", "600000"]);
    let mut s = sampler(choice, WalkChoice::Auto);
    thread::sleep(Duration::from_millis(200));
    let t0 = truth::read(spin.pid()).unwrap();
    let t0_at = std::time::Instant::now();
    let first = s.sample().unwrap();
    thread::sleep(Duration::from_millis(1000));
    let second = s.sample().unwrap();
    let t1 = truth::read(spin.pid()).unwrap();
    let truth_interval = t0_at.elapsed().as_secs_f64();
    let model = Model::new(&second, Some(&first), None, &|_| String::new());
    let p = model
        .processes
        .iter()
        .find(|p| p.sample.pid == spin.pid())
        .unwrap();
    let cpus = thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let expected = 100.0 * 4.min(cpus) as f64;
    // /proc's rate over the test's own readings, which bracket the samples.
    let proc_rate = (t1.cpu_seconds - t0.cpu_seconds) * 100.0 / truth_interval;
    println!(
        "    {choice:?}: spinner {:.1}%, /proc {proc_rate:.1}% (expected {expected}%, {cpus} CPUs)",
        p.cpu_percent
    );
    // On a machine busy with other work the spinner itself gets less than
    // its CPUs (the kernel's own accounting shows it); then only the
    // comparison with /proc below is meaningful.
    if within(proc_rate, expected, expected * 0.15) {
        assert!(
            within(p.cpu_percent, expected, expected * 0.15),
            "{choice:?}: spinner at {:.1}%, expected {expected}% ± 15%",
            p.cpu_percent
        );
    } else {
        println!("    the machine is busy: the spinner got {proc_rate:.1}% by /proc's count");
    }
    assert!(
        within(p.cpu_percent, proc_rate, expected * 0.15),
        "{choice:?}: {:.1}% vs /proc's {proc_rate:.1}%",
        p.cpu_percent
    );
}

/// `--batch --format json` prints one object per refresh with the contract keys.
/// Runs the bpftop binary; it must succeed.
fn run_ok(command: &mut Command) -> std::process::Output {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn bpftop() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bpftop"))
}

fn batch_json_contract() {
    // Busy for longer than the run, so the first refresh has CPU to show.
    let spin = Workload::simple(&["spin", "60000"]);
    let spin_pid = spin.pid();
    let out = run_ok(bpftop().args(["--batch", "-n", "2", "-d", "300", "--format", "json"]));
    drop(spin);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "one line per refresh");
    for (i, line) in lines.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in ["time", "backend", "fallback_reason", "system", "processes"] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        let expected_backend = if is_root() { "bpf" } else { "procfs" };
        assert_eq!(v["backend"], expected_backend);
        let sys = &v["system"];
        for key in [
            "cpus",
            "cpu_percent",
            "mem_total_bytes",
            "mem_used_bytes",
            "mem_available_bytes",
            "swap_total_bytes",
            "swap_used_bytes",
            "zram",
            "load",
            "uptime_seconds",
            "tasks",
            "threads",
            "kernel_threads",
            "running",
        ] {
            assert!(sys.get(key).is_some(), "system.{key} missing");
        }
        let procs = v["processes"].as_array().unwrap();
        let me = procs
            .iter()
            .find(|p| p["pid"] == std::process::id())
            .expect("the test process is listed");
        for key in [
            "pid",
            "ppid",
            "uid",
            "user",
            "state",
            "comm",
            "cmdline",
            "threads",
            "nice",
            "priority",
            "processor",
            "start_time_seconds",
            "cpu_percent",
            "cpu_time_seconds",
            "mem_percent",
            "rss_bytes",
            "shared_bytes",
            "virt_bytes",
            "rss_anon_bytes",
            "rss_file_bytes",
            "rss_shmem_bytes",
            "swap_bytes",
            "pss_bytes",
            "uss_bytes",
            "minflt",
            "majflt",
            "io_read_bytes",
            "io_write_bytes",
            "cgroup",
            "kernel_thread",
        ] {
            assert!(me.get(key).is_some(), "process.{key} missing");
        }
        // Read only when --pss asks.
        assert!(
            me["pss_bytes"].is_null() && me["uss_bytes"].is_null(),
            "{me}"
        );
        let uid = me["uid"].as_u64().unwrap() as u32;
        assert_eq!(me["user"].as_str(), Some(user_name(uid).as_str()));
        if i == 0 {
            // Measured over the short first interval after a baseline, as
            // `top -b -n 1`: the spinner's four threads show.
            let spinner = procs
                .iter()
                .find(|p| p["pid"] == spin_pid)
                .expect("the spinner is listed");
            assert!(
                spinner["cpu_percent"].as_f64().unwrap() > 10.0,
                "the first refresh has no rates: {spinner}"
            );
        }
    }
}

/// Without BTF, `auto` falls back to procfs and says why; `bpf` fails cleanly.
fn fallback_without_btf() {
    let fake_sys = std::env::temp_dir().join(format!("bpftop-nobtf-{}", std::process::id()));
    std::fs::create_dir_all(&fake_sys).unwrap();
    let run = |backend: &str| {
        bpftop()
            .args([
                "--batch",
                "-n",
                "1",
                "--format",
                "json",
                "--backend",
                backend,
                "--sys-root",
            ])
            .arg(&fake_sys)
            .output()
            .unwrap()
    };
    let auto = run("auto");
    let bpf = run("bpf");
    let _ = std::fs::remove_dir_all(&fake_sys);
    assert!(auto.status.success());
    let v: serde_json::Value = serde_json::from_slice(&auto.stdout).unwrap();
    assert_eq!(v["backend"], "procfs");
    let reason = v["fallback_reason"].as_str().unwrap();
    assert!(reason.contains("BTF"), "reason: {reason}");
    assert_eq!(
        bpf.status.code(),
        Some(1),
        "bpf without BTF must fail, not panic"
    );
    assert!(String::from_utf8_lossy(&bpf.stderr).contains("BTF"));
}

/// As an unprivileged user, `auto` falls back with a reason about privileges.
fn fallback_without_privileges() {
    let out = run_ok(
        bpftop()
            .args(["--batch", "-n", "1", "--format", "json"])
            .uid(65534)
            .gid(65534),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["backend"], "procfs");
    let reason = v["fallback_reason"].as_str().unwrap();
    assert!(reason.contains("CAP_BPF"), "reason: {reason}");
}

/// Processes exiting while we walk never make a refresh fail.
fn churn_does_not_break_refreshes(choice: BackendChoice, walk: WalkChoice) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = Command::new("true").status();
            }
        })
    };
    let mut s = sampler(choice, walk);
    for _ in 0..100 {
        let sample = s.sample().unwrap();
        assert!(sample.processes.len() > 1);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.join().unwrap();
}

/// Syscalls per refresh of the bpf backend, from strace, for a number of
/// extra idle processes: the median, over the steady refreshes, of the
/// calls from one walk to the next (each refresh runs the walk program
/// once), start-up left out.
fn syscalls_per_refresh(extra: usize) -> f64 {
    let idle = Workload::simple(&["idle", &extra.to_string()]);
    let out_file = std::env::temp_dir().join(format!("bpftop-strace-{}", std::process::id()));
    let status = Command::new("strace")
        .arg("-f")
        .arg("-o")
        .arg(&out_file)
        .arg(env!("CARGO_BIN_EXE_bpftop"))
        .args([
            "--batch",
            "--backend",
            "bpf",
            "--format",
            "json",
            "-d",
            "50",
            "-n",
            "13",
        ])
        .stdout(Stdio::null())
        .status()
        .expect("strace is installed");
    assert!(status.success());
    let trace = std::fs::read_to_string(&out_file).unwrap();
    let _ = std::fs::remove_file(&out_file);
    drop(idle);
    let mut per_refresh = calls_between_walks(&trace);
    // Loading walks once or twice, and the first refreshes still read
    // every process's command line.
    assert!(per_refresh.len() >= 12, "13 refreshes: {per_refresh:?}");
    per_refresh.drain(..3);
    per_refresh.sort_unstable();
    f64::from(per_refresh[per_refresh.len() / 2])
}

/// In an `strace -f` log: the number of calls between each run of the walk
/// (the open-coded walk's BPF_PROG_TEST_RUN, or iter/task's
/// BPF_ITER_CREATE) and the next; an interrupted call, split in two lines,
/// counts once.
fn calls_between_walks(trace: &str) -> Vec<u32> {
    let mut gaps = Vec::new();
    let mut calls = None;
    for line in trace.lines() {
        let call = line
            .split_once(' ')
            .map_or("", |(_, rest)| rest.trim_start());
        if call.starts_with("<...") || call.starts_with("+++") || call.starts_with("---") {
            continue;
        }
        if call.starts_with("bpf(BPF_PROG_TEST_RUN") || call.starts_with("bpf(BPF_ITER_CREATE") {
            if let Some(n) = calls.replace(0) {
                gaps.push(n);
            }
        } else if let Some(n) = calls.as_mut() {
            *n += 1;
        }
    }
    gaps
}

fn syscalls_do_not_grow_with_processes() {
    if Command::new("strace").arg("-V").output().is_err() {
        panic!("strace is not installed (the README's test command installs it)");
    }
    let small = syscalls_per_refresh(100);
    let large = syscalls_per_refresh(5000);
    println!("    syscalls per refresh: {small:.1} with 100 extra processes, {large:.1} with 5000");
    assert!((large - small).abs() <= 10.0, "{small} vs {large}");
}

/// The records map is sized for the tasks at load time plus some room;
/// more tasks than that make the collector load a larger one, and no task
/// may go missing from the refresh that outgrew it.
fn records_map_grows_with_tasks() {
    let mut s = sampler(BackendChoice::Bpf, WalkChoice::Auto);
    let first = s.sample().unwrap();
    let before = first.user_threads + first.kernel_threads;
    // More than the room of any map sized for `before` tasks.
    let extra = (before / 4).max(4096) as usize + 500;
    let idle = Workload::simple(&["idle", &extra.to_string()]);
    let sample = s.sample().unwrap();
    let children = sample
        .processes
        .iter()
        .filter(|p| p.ppid == idle.pid())
        .count();
    println!("    {before} tasks at load, {extra} more spawned, {children} seen");
    assert_eq!(children, extra);
}

/// A cgroup of our own under the cgroup2 mount, holding one sleeping
/// process; frozen through bpftop's freeze action, it must show as frozen
/// in the batch output exactly when the kernel's cgroup.events says so.
fn frozen_state_follows_the_kernel() {
    use bpftop::actions::freeze;
    let Some(mount) = bpftop::collect::cgroups::find_cgroup2_mount(std::path::Path::new("/proc"))
    else {
        crate::common::skip("no cgroup2 mount");
        return;
    };
    let name = format!("/bpftop-oracle-{}", std::process::id());
    let dir = mount.join(name.trim_start_matches('/'));
    std::fs::create_dir(&dir).unwrap();
    struct Cleanup(std::path::PathBuf, Option<Workload>);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::write(self.0.join("cgroup.freeze"), "0");
            drop(self.1.take());
            for _ in 0..50 {
                if std::fs::remove_dir(&self.0).is_ok() {
                    break;
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
    let sleeper = Workload::simple(&["sleep"]);
    let pid = sleeper.pid();
    let cleanup = Cleanup(dir.clone(), Some(sleeper));
    std::fs::write(dir.join("cgroup.procs"), pid.to_string()).unwrap();
    let frozen_in_json = || -> bool {
        let out = run_ok(bpftop().args(["--batch", "-n", "1", "--format", "json"]));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let p = v["processes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["pid"] == pid)
            .cloned()
            .unwrap();
        assert_eq!(p["cgroup"], name.as_str());
        p["frozen"].as_bool().unwrap()
    };
    let kernel_says = || {
        std::fs::read_to_string(dir.join("cgroup.events"))
            .unwrap()
            .contains("frozen 1")
    };
    assert!(!frozen_in_json() && !kernel_says());
    let guards = freeze::Guards::current(std::path::Path::new("/proc"));
    freeze::freeze(&cgroupfs(&mount), &name, &guards).unwrap();
    assert!(kernel_says());
    assert!(frozen_in_json(), "frozen cgroup not reported");
    freeze::thaw(&cgroupfs(&mount), &name).unwrap();
    assert!(!kernel_says());
    assert!(!frozen_in_json(), "thawed cgroup still reported frozen");
    drop(cleanup);
}

/// A tree of test cgroups under the cgroup2 mount, removed (deepest
/// first, after its processes are killed) when dropped.
struct CgroupTree {
    mount: std::path::PathBuf,
    root: String,
    dirs: Vec<String>,
    workloads: Vec<Workload>,
}

impl CgroupTree {
    fn new(mount: std::path::PathBuf) -> CgroupTree {
        let root = format!("/bpftop-layouts-{}", std::process::id());
        std::fs::create_dir(mount.join(&root[1..])).unwrap();
        CgroupTree {
            mount,
            dirs: vec![root.clone()],
            root,
            workloads: Vec::new(),
        }
    }

    /// Creates `relative` (and its parents) below the tree's root; returns
    /// its cgroup path.
    fn make(&mut self, relative: &str) -> String {
        let mut path = self.root.clone();
        for part in relative.split('/') {
            path = format!("{path}/{part}");
            let dir = self.mount.join(&path[1..]);
            if !dir.exists() {
                std::fs::create_dir(&dir).unwrap();
                self.dirs.push(path.clone());
            }
        }
        path
    }

    /// Starts a workload inside cgroup `path`.
    fn spawn(&mut self, path: &str, args: &[&str]) -> u32 {
        let w = Workload::simple(args);
        let pid = w.pid();
        std::fs::write(
            self.mount.join(&path[1..]).join("cgroup.procs"),
            pid.to_string(),
        )
        .unwrap();
        self.workloads.push(w);
        pid
    }
}

impl Drop for CgroupTree {
    fn drop(&mut self) {
        for dir in &self.dirs {
            let _ = std::fs::write(self.mount.join(&dir[1..]).join("cgroup.freeze"), "0");
        }
        self.workloads.clear();
        for dir in self.dirs.iter().rev() {
            let path = self.mount.join(&dir[1..]);
            for _ in 0..50 {
                if std::fs::remove_dir(&path).is_ok() || !path.exists() {
                    break;
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Processes in cgroups shaped like systemd services and each container
/// runtime's scopes show the right unit and container in batch JSON; a
/// cgroup frozen through the action layer stops its processes' CPU, and
/// runs them again when thawed.
fn units_containers_and_freezing() {
    use bpftop::actions::freeze;
    let Some(mount) = bpftop::collect::cgroups::find_cgroup2_mount(std::path::Path::new("/proc"))
    else {
        crate::common::skip("no cgroup2 mount");
        return;
    };
    let hex = "0123456789abcdef".repeat(4);
    let uid = "0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0";
    let mut tree = CgroupTree::new(mount.clone());
    let layouts = [
        ("system.slice/foo.service", Some("foo.service"), None),
        (&*format!("system.slice/docker-{hex}.scope"), Some(&*format!("docker-{hex}.scope")), Some("docker")),
        (&*format!("machine.slice/libpod-{hex}.scope"), Some(&*format!("libpod-{hex}.scope")), Some("podman")),
        (
            &*format!("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid}.slice/cri-containerd-{hex}.scope"),
            Some(&*format!("cri-containerd-{hex}.scope")),
            Some("containerd"),
        ),
        ("lxc.payload.web", None, Some("lxc")),
    ]
    .map(|(rel, unit, runtime)| (rel.to_owned(), unit.map(str::to_owned), runtime));
    let mut pids = Vec::new();
    for (relative, _, _) in &layouts {
        let path = tree.make(relative);
        pids.push(tree.spawn(&path, &["sleep"]));
    }
    let out = run_ok(bpftop().args(["--batch", "-n", "1", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_pid = |pid: u32| {
        v["processes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["pid"] == pid)
            .cloned()
            .unwrap_or_else(|| panic!("pid {pid} listed"))
    };
    for ((relative, unit, runtime), pid) in layouts.iter().zip(&pids) {
        let p = by_pid(*pid);
        assert_eq!(p["cgroup"], format!("{}/{relative}", tree.root).as_str());
        assert_eq!(p["unit"].as_str(), unit.as_deref(), "{relative}: unit");
        assert_eq!(
            p["container"]["runtime"].as_str(),
            *runtime,
            "{relative}: runtime"
        );
    }
    let kube = by_pid(pids[3]);
    assert_eq!(kube["container"]["id"], hex.as_str());
    assert_eq!(
        kube["container"]["pod"]["uid"],
        uid.replace('_', "-").as_str()
    );
    assert_eq!(kube["container"]["pod"]["qos"], "burstable");
    assert_eq!(by_pid(pids[4])["container"]["id"], "web");
    assert_eq!(by_pid(pids[0])["slice"], "system.slice");

    // Freezing stops CPU; thawing resumes it.
    let service = format!("{}/system.slice/foo.service", tree.root);
    let spinner = tree.spawn(&service, &["spin", "20000"]);
    thread::sleep(Duration::from_millis(200));
    let guards = freeze::Guards::current(std::path::Path::new("/proc"));
    freeze::freeze(&cgroupfs(&mount), &service, &guards).unwrap();
    let events = mount.join(&service[1..]).join("cgroup.events");
    assert!(std::fs::read_to_string(&events)
        .unwrap()
        .contains("frozen 1"));
    let frozen_at = truth::read(spinner).unwrap().cpu_seconds;
    thread::sleep(Duration::from_millis(600));
    let still = truth::read(spinner).unwrap().cpu_seconds;
    assert_eq!(frozen_at, still, "a frozen process used CPU");
    assert_eq!(by_pid_frozen(spinner), Some(true));
    freeze::thaw(&cgroupfs(&mount), &service).unwrap();
    thread::sleep(Duration::from_millis(600));
    let running = truth::read(spinner).unwrap().cpu_seconds;
    assert!(
        running > still + 0.3,
        "thawed spinner did not run: {still} -> {running}"
    );
    assert_eq!(by_pid_frozen(spinner), Some(false));
}

/// The "frozen" key of `pid` in a fresh batch refresh.
fn by_pid_frozen(pid: u32) -> Option<bool> {
    let out = run_ok(bpftop().args(["--batch", "-n", "1", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v["processes"]
        .as_array()?
        .iter()
        .find(|p| p["pid"] == pid)?["frozen"]
        .as_bool()
}

type Test = (&'static str, Box<dyn Fn()>);

/// The real uid /proc gives a process, if it still exists.
fn proc_real_uid(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let uids = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    uids.split_whitespace().next()?.parse().ok()
}

/// Batch mode honours -p, -u and -s as the interface does, and refuses
/// with exit 2 what it cannot honour.
fn batch_honours_pid_user_and_sort() {
    let me = std::process::id();
    let parent = std::os::unix::process::parent_id();
    let json = |args: &[&str]| -> Vec<serde_json::Value> {
        let out = run_ok(
            bpftop()
                .args(["--batch", "-n", "1", "--format", "json"])
                .args(args),
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["processes"].as_array().unwrap().clone()
    };
    let pid_of = |p: &serde_json::Value| p["pid"].as_u64().unwrap() as u32;

    let list = format!("{me},{parent},999999");
    let mut listed: Vec<u32> = json(&["-p", &list]).iter().map(pid_of).collect();
    listed.sort_unstable();
    let mut expected = vec![me, parent];
    expected.sort_unstable();
    assert_eq!(listed, expected, "-p {list}");

    // -u 0 -s PID: root's processes, as /proc has them, in pid order.
    let before = proc_tgids();
    let rows = json(&["-u", "0", "-s", "PID"]);
    let after = proc_tgids();
    let pids: Vec<u32> = rows.iter().map(pid_of).collect();
    assert!(pids.windows(2).all(|w| w[0] < w[1]), "not in pid order");
    for p in &rows {
        assert_eq!(p["uid"], 0, "{p}");
    }
    let shown: std::collections::BTreeSet<u32> = pids.iter().copied().collect();
    let missing: Vec<u32> = before
        .intersection(&after)
        .copied()
        .filter(|&pid| !shown.contains(&pid) && proc_real_uid(pid) == Some(0))
        .collect();
    // Every root process alive before and after the refresh is listed.
    assert!(missing.is_empty(), "root's processes missing: {missing:?}");
    println!("  -u 0: {} processes, as /proc has them", rows.len());

    for (args, what) in [
        (&["-u", "no-such-user-here"][..], "unknown user"),
        (
            &["-s", "NO_SUCH_COLUMN"][..],
            "invalid value 'NO_SUCH_COLUMN'",
        ),
    ] {
        let out = bpftop()
            .args(["--batch", "-n", "1"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?} printed a refresh");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(what),
            "{args:?}"
        );
    }
}

/// The running kernel's (major, minor) version.
fn kernel_version() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release.trim().split(['.', '-']);
    let mut next = || parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (next(), next())
}

/// What `bpftop --check` says on its line starting with `label`.
fn check_line(label: &str) -> String {
    let out = run_ok(bpftop().arg("--check"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            l.trim_start()
                .strip_prefix(label)
                .map(|r| r.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("--check has no {label} line"))
}

/// `auto` takes the open-coded walk where the kernel has it (6.7), and
/// exact RSS where it can sum the per-CPU counters (the verifier allows
/// it on every kernel CI runs): a walk or an RSS mode that stopped loading
/// would otherwise pass every other test through the fallback.
fn auto_takes_the_best_walk_and_exact_rss() {
    let walk = check_line("task walk");
    if kernel_version() >= (6, 7) {
        assert!(walk.starts_with("open-coded"), "auto took: {walk}");
    } else {
        assert!(walk.starts_with("iter/task"), "auto took: {walk}");
    }
    let rss = check_line("RSS");
    assert!(rss.starts_with("exact"), "RSS is {rss}");
}

/// statm's resident pages of every process, read now.
fn proc_statm_resident() -> std::collections::BTreeMap<u32, u64> {
    proc_tgids()
        .into_iter()
        .filter_map(|pid| {
            let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
            Some((pid, statm.split_whitespace().nth(1)?.parse().ok()?))
        })
        .collect()
}

/// With exact RSS, every process whose statm held still across the sample
/// has exactly statm's resident size, not a value within the per-CPU
/// counters' batch error.
fn rss_is_exact_for_idle_processes(walk: WalkChoice) {
    // A few idle processes with some memory of their own.
    let _hold = [
        Workload::simple(&["hold", "16", "4"]),
        Workload::simple(&["hold", "48", "8"]),
    ];
    thread::sleep(Duration::from_millis(300));
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    let mut s = sampler(BackendChoice::Bpf, walk);
    let before = proc_statm_resident();
    let sample = s.sample().unwrap();
    let after = proc_statm_resident();
    let (mut compared, mut wrong) = (0, Vec::new());
    for p in sample.processes.iter().filter(|p| !p.kernel_thread) {
        let (Some(b), Some(a)) = (before.get(&p.pid), after.get(&p.pid)) else {
            continue;
        };
        if a != b || *a == 0 {
            continue;
        }
        compared += 1;
        if p.rss_bytes != a * page {
            wrong.push(format!("{}: {} != statm {}", p.pid, p.rss_bytes, a * page));
        }
    }
    println!("  {compared} processes compared ({walk:?})");
    assert!(
        compared >= 5,
        "too few idle processes to compare: {compared}"
    );
    assert!(wrong.is_empty(), "RSS not exact ({walk:?}): {wrong:#?}");
}

/// A process that execs between two refreshes shows its new comm and
/// command line at the second, with no negative CPU% (its counters are
/// the same task's, the exec resets nothing); both walks.
fn exec_between_refreshes_shows_the_new_program(backend: BackendChoice, walk: WalkChoice) {
    use std::io::Write;
    let mut child = Command::new("sh")
        .args(["-c", "read line; exec sleep 600"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut s = sampler(backend, walk);
    let users = |uid: u32| uid.to_string();
    let first = s.sample().unwrap();
    let before = find(&first, pid).clone();
    let prev = Model::next(first, None, None, &users);
    child.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
    child.stdin.as_mut().unwrap().flush().unwrap();
    // Until the exec has happened (comm in /proc is sleep's).
    for _ in 0..200 {
        if truth::read(pid).is_some_and(|t| t.comm == b"sleep") {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let second = s.sample().unwrap();
    let after = find(&second, pid).clone();
    let model = Model::next(second, Some(&prev), None, &users);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(before.comm.as_bytes(), b"sh");
    assert_eq!(
        before.cmdline.first().map(|a| a.as_slice()),
        Some(&b"sh"[..])
    );
    assert_eq!(after.comm.as_bytes(), b"sleep", "{backend:?} {walk:?}");
    let argv: Vec<&[u8]> = after.cmdline.iter().map(|a| a.as_slice()).collect();
    assert_eq!(argv, [&b"sleep"[..], &b"600"[..]], "{backend:?} {walk:?}");
    assert_eq!(after.start_time_ns, before.start_time_ns, "the same task");
    for p in &model.processes {
        assert!(
            p.cpu_percent >= 0.0,
            "{}: CPU% {}",
            p.sample.pid,
            p.cpu_percent
        );
    }
}

/// The first refresh has every command line at once, from the argv walk
/// (deferred, as the interface's first frame asks: nothing is read from
/// /proc then): byte for byte what /proc/PID/cmdline says, for all but the
/// few the walk leaves to /proc (longer than it copies), which the next
/// refresh reads.
fn first_refresh_has_the_command_lines(walk: WalkChoice) {
    let odd: Vec<OsString> = vec![
        "sleep".into(),
        OsString::from_vec(b"\xff\xfe odd \x1b[2J".to_vec()),
        "".into(),
        "last arg".into(),
    ];
    let short = Workload::spawn(&odd);
    let mut long_args: Vec<OsString> = vec!["sleep".into()];
    long_args.extend((0..8u8).map(|i| OsString::from_vec(vec![b'a' + i; 700])));
    let long = Workload::spawn(&long_args);
    let procs_before: Vec<(u32, Vec<Vec<u8>>)> = all_proc_argv();
    let mut s = sampler(BackendChoice::Bpf, walk);
    s.defer_cmdlines(true);
    let first = s.sample().unwrap();
    let after: std::collections::HashMap<u32, Vec<Vec<u8>>> = all_proc_argv().into_iter().collect();
    s.defer_cmdlines(false);
    let second = s.sample().unwrap();

    assert_eq!(
        *find(&first, short.pid()).cmdline,
        proc_argv(short.pid()).unwrap()[..]
    );
    assert_eq!(
        find(&first, short.pid()).cmdline[2..],
        odd.iter().map(|a| a.clone().into_vec()).collect::<Vec<_>>()[..]
    );
    assert!(
        find(&first, long.pid()).cmdline.is_empty(),
        "too long for the walk: left to /proc"
    );
    assert_eq!(
        *find(&second, long.pid()).cmdline,
        proc_argv(long.pid()).unwrap()[..]
    );
    // Every process whose command line /proc showed the same before and
    // after the refresh: the walk's is the same, or left to /proc. Those
    // longer than the walk copies (a CI runner's own can be) are /proc's
    // by design, so only the others count towards "nearly all walked".
    let (mut compared, mut walked) = (0usize, 0usize);
    let (mut wrong, mut missed) = (Vec::new(), Vec::new());
    for (pid, argv) in procs_before {
        let stable = after.get(&pid) == Some(&argv);
        let Some(p) = first.processes.iter().find(|p| p.pid == pid) else {
            continue;
        };
        if !stable || argv.is_empty() || p.kernel_thread {
            continue;
        }
        if !p.cmdline.is_empty() && *p.cmdline != argv[..] {
            wrong.push((pid, p.cmdline.clone(), argv));
            continue;
        }
        let proc_len: usize = argv.iter().map(|a| a.len() + 1).sum();
        if proc_len > ARGV_WALK_MAX {
            continue;
        }
        compared += 1;
        if p.cmdline.is_empty() {
            missed.push((pid, proc_len, p.comm));
        } else {
            walked += 1;
        }
    }
    assert!(wrong.is_empty(), "{walk:?}: {wrong:?}");
    assert!(compared > 0, "{walk:?}: no process to compare");
    // All but one in ten (rounded up): a process can be mid-exec.
    assert!(
        compared - walked <= compared.div_ceil(10),
        "{walk:?}: only {walked} of {compared} command lines in the first refresh; \
         missed (pid, bytes, comm): {missed:?}"
    );
}

/// The longest command line (bytes /proc/PID/cmdline shows) the argv walk
/// copies: BPFTOP_ARGV_MAX in src/bpf/intf.h.
const ARGV_WALK_MAX: usize = 4096;

/// /proc/PID/cmdline of every process, split by the test itself, bytes
/// as they are.
fn all_proc_argv() -> Vec<(u32, Vec<Vec<u8>>)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter_map(|pid| Some((pid, proc_argv(pid)?)))
        .collect()
}

fn proc_argv(pid: u32) -> Option<Vec<Vec<u8>>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let raw = raw.strip_suffix(b"\0").unwrap_or(&raw);
    if raw.is_empty() {
        return Some(Vec::new());
    }
    Some(raw.split(|&b| b == 0).map(<[u8]>::to_vec).collect())
}

/// /proc/PID/cmdline split into arguments by the test itself (each
/// argument ends with a NUL; lossy UTF-8, as the JSON shows it).
fn proc_cmdline(pid: u32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let raw = raw.strip_suffix(b"\0").unwrap_or(&raw);
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Processes that rewrite their argv in place (as setproctitle does, no
/// exec) show their new title in `--batch` within 10 s of the rewrite (the
/// bound docs/numbers.md states, at a steady refresh rate; the longest
/// interval between two refreshes is allowed on top for a loaded machine),
/// as /proc/PID/cmdline has it. Several processes, so that their places in
/// the sweep that re-reads titles are spread over it.
fn batch_shows_titles_rewritten_in_place(backend: BackendChoice, walk: WalkChoice) {
    const BOUND_S: f64 = 10.0;
    let walk_arg = match walk {
        WalkChoice::OpenCoded => "open-coded",
        WalkChoice::Iter => "iter",
        WalkChoice::Auto => "auto",
    };
    let backend_arg = match backend {
        BackendChoice::Bpf => "bpf",
        BackendChoice::Procfs => "procfs",
        BackendChoice::Auto => "auto",
    };
    let titles: Vec<String> = (0..12)
        .map(|i| format!("retitled-{backend_arg}-{walk_arg}-{i}: in place"))
        .collect();
    let workloads: Vec<Workload> = titles
        .iter()
        .map(|t| Workload::simple(&["retitle", t]))
        .collect();
    let pids: Vec<u32> = workloads.iter().map(Workload::pid).collect();
    let originals: Vec<Vec<String>> = pids.iter().map(|&p| proc_cmdline(p)).collect();
    let list: Vec<String> = pids.iter().map(u32::to_string).collect();
    let mut child = bpftop()
        .args(["--batch", "--backend", backend_arg, "--bpf-walk", walk_arg])
        .args(["--format", "json", "-d", "1000", "-p", &list.join(",")])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Each refresh: its time and each process's command line.
    let mut next = || -> (f64, Vec<Vec<String>>) {
        let line = lines.next().expect("a refresh").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let time = v["time"].as_f64().unwrap();
        let procs = v["processes"].as_array().unwrap();
        let cmdlines = pids
            .iter()
            .map(|&pid| {
                let p = procs
                    .iter()
                    .find(|p| p["pid"] == pid)
                    .unwrap_or_else(|| panic!("{pid} missing"));
                p["cmdline"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect()
            })
            .collect();
        (time, cmdlines)
    };
    let (mut last, first) = next();
    assert_eq!(
        first, originals,
        "before the rewrite ({backend:?} {walk:?})"
    );
    // Two refreshes in: the sweep is under way.
    last = last.max(next().0);
    let changed_at = unix_now();
    for &pid in &pids {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid as i32, libc::SIGUSR1) };
    }
    let truths: Vec<Vec<String>> = pids
        .iter()
        .zip(&titles)
        .map(|(&pid, title)| {
            let start = std::time::Instant::now();
            loop {
                let now = proc_cmdline(pid);
                if now.first() == Some(title) {
                    return now;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "{pid} kept {now:?}"
                );
                thread::sleep(Duration::from_millis(10));
            }
        })
        .collect();
    let mut shown_after: Vec<Option<f64>> = vec![None; pids.len()];
    let mut longest_gap: f64 = 0.0;
    while shown_after.iter().any(Option::is_none) {
        let (time, cmdlines) = next();
        longest_gap = longest_gap.max(time - last);
        last = time;
        for (i, cmdline) in cmdlines.iter().enumerate() {
            if *cmdline == truths[i] {
                shown_after[i].get_or_insert(time - changed_at);
            } else {
                assert_eq!(
                    shown_after[i], None,
                    "{} went back ({backend:?} {walk:?})",
                    pids[i]
                );
                assert_eq!(*cmdline, originals[i], "{} ({backend:?} {walk:?})", pids[i]);
            }
        }
        assert!(
            time - changed_at <= 3.0 * BOUND_S,
            "not shown {:.1} s after the rewrite ({backend:?} {walk:?}): {shown_after:?}",
            time - changed_at
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(workloads);
    let shown: Vec<f64> = shown_after.into_iter().flatten().collect();
    let latest = shown.iter().copied().fold(0.0, f64::max);
    println!(
        "  shown after {} s (longest refresh interval {longest_gap:.2} s)",
        shown
            .iter()
            .map(|s| format!("{s:.1}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(
        latest <= BOUND_S + longest_gap,
        "a title showed {latest:.1} s after its rewrite ({backend:?} {walk:?})"
    );
}

/// The tgids /proc lists now.
fn proc_tgids() -> std::collections::BTreeSet<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Every process /proc shows, and nothing else (no PID 0): the tgids of
/// one snapshot equal /proc's listing taken just before and after it, up
/// to processes that came or went between the two listings.
fn tgid_set_matches_proc(choice: BackendChoice, walk: WalkChoice) {
    let mut s = sampler(choice, walk);
    // Several tries: a busy machine may start or end processes while a
    // listing is taken, which the before/after bracket absorbs only when
    // the process did not both appear and vanish.
    let mut last = String::new();
    for _ in 0..5 {
        let before = proc_tgids();
        let sample = s.sample().unwrap();
        let after = proc_tgids();
        let seen: std::collections::BTreeSet<u32> =
            sample.processes.iter().map(|p| p.pid).collect();
        let stable: std::collections::BTreeSet<u32> =
            before.intersection(&after).copied().collect();
        let anywhere: std::collections::BTreeSet<u32> = before.union(&after).copied().collect();
        let missing: Vec<u32> = stable.difference(&seen).copied().collect();
        let extra: Vec<u32> = seen.difference(&anywhere).copied().collect();
        assert!(!seen.contains(&0), "PID 0 listed by {choice:?} ({walk:?})");
        assert!(
            seen.contains(&1),
            "PID 1 missing from {choice:?} ({walk:?})"
        );
        if missing.is_empty() && extra.is_empty() {
            println!(
                "  {} processes, the same as /proc ({choice:?}, {walk:?})",
                seen.len()
            );
            return;
        }
        last = format!("missing {missing:?}, not in /proc {extra:?}");
    }
    panic!("{choice:?} ({walk:?}): {last}");
}

/// htop's Tasks meter from /proc itself: processes that are not kernel
/// threads, their threads other than each main thread, kernel threads.
fn proc_task_counts() -> (u64, u64, u64) {
    const PF_KTHREAD: u64 = 0x0020_0000;
    let (mut processes, mut other_threads, mut kernel) = (0, 0, 0);
    for pid in proc_tgids() {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Field 9 (flags), counted from the state after the comm's ')'.
        let Some(flags) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(6)?.parse::<u64>().ok())
        else {
            continue;
        };
        if flags & PF_KTHREAD != 0 {
            kernel += 1;
            continue;
        }
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        processes += 1;
        other_threads += (tasks.count() as u64).saturating_sub(1);
    }
    (processes, other_threads, kernel)
}

/// The Tasks meter counts as htop does: "N, M thr, K kthr" where thr are
/// the threads besides each process's main thread, against /proc counted
/// just before and after one refresh, with a process of several threads
/// running (tried again while the machine starts or ends tasks meanwhile).
fn tasks_meter_counts_as_htop(choice: BackendChoice, walk: WalkChoice) {
    let _threads = Workload::simple(&["sleep_threads", "4"]);
    let mut s = sampler(choice, walk);
    let mut last = String::new();
    for _ in 0..20 {
        let before = proc_task_counts();
        let sample = s.sample().unwrap();
        let after = proc_task_counts();
        if before != after {
            last = format!("/proc changed during the refresh: {before:?} -> {after:?}");
            continue;
        }
        let model = Model::new(&sample, None, None, &|_| String::new());
        let shown = (
            model.system.tasks,
            model.system.threads,
            model.system.kernel_threads,
        );
        if shown == before {
            println!(
                "  Tasks: {}, {} thr, {} kthr; {} running, as /proc counts ({choice:?}, {walk:?})",
                shown.0, shown.1, shown.2, model.system.running
            );
            assert!(shown.1 >= 4, "the workload's four threads are not counted");
            assert!(model.system.running <= model.system.cpus as u64);
            return;
        }
        last = format!("meter (processes, thr, kthr) {shown:?} != /proc {before:?}");
    }
    panic!("{choice:?} ({walk:?}): {last}");
}

/// /proc/PID/comm of every process, read now.
fn proc_comms() -> std::collections::BTreeMap<u32, Vec<u8>> {
    proc_tgids()
        .into_iter()
        .filter_map(|pid| {
            let mut comm = std::fs::read(format!("/proc/{pid}/comm")).ok()?;
            comm.pop(); // the newline
            Some((pid, comm))
        })
        .collect()
}

/// A workqueue worker's name split into its base (`kworker/0:1H`) and the
/// description of its latest work (`+events`, `-kblockd`), which changes
/// as it runs other work; other names have no description.
fn worker_parts(name: &[u8]) -> (&[u8], &[u8]) {
    if !name.starts_with(b"kworker/") || name.starts_with(b"kworker/R-") {
        return (name, b"");
    }
    let at = name
        .iter()
        .position(|&b| b == b'+' || b == b'-')
        .unwrap_or(name.len());
    name.split_at(at)
}

/// Kernel threads carry the name /proc shows (`kworker/0:0-events`,
/// `kworker/R-kvfree_rcu_reclaim`), not the 15-byte comm. Only names /proc
/// showed the same before and after the sample are compared; a worker may
/// still have run other work in between and back, so a worker's
/// description may differ for a few, never for most.
fn kernel_thread_names_match_proc(choice: BackendChoice, walk: WalkChoice) {
    let mut s = sampler(choice, walk);
    let before = proc_comms();
    let sample = s.sample().unwrap();
    let after = proc_comms();
    let (mut compared, mut long, mut described, mut moved) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for p in sample.processes.iter().filter(|p| p.kernel_thread) {
        let (Some(b), Some(a)) = (before.get(&p.pid), after.get(&p.pid)) else {
            continue;
        };
        if a != b {
            continue;
        }
        compared += 1;
        long += usize::from(a.len() > 15);
        let (base, description) = worker_parts(a);
        described += usize::from(!description.is_empty());
        if p.comm.as_bytes() == a.as_slice() {
            continue;
        }
        if !description.is_empty() && worker_parts(&p.comm).0 == base {
            moved += 1;
            continue;
        }
        wrong.push(format!(
            "{}: {:?} != /proc {:?}",
            p.pid,
            String::from_utf8_lossy(&p.comm),
            String::from_utf8_lossy(a)
        ));
    }
    println!(
        "  {compared} kernel threads compared, {long} with names longer than comm, \
         {described} workers with a description ({moved} changed meanwhile)"
    );
    assert!(compared > 0, "no kernel thread compared");
    assert!(wrong.is_empty(), "{choice:?} ({walk:?}): {wrong:#?}");
    assert!(
        moved <= (described / 2).max(1),
        "{moved} of {described} worker descriptions differ from /proc"
    );
}

fn main() {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if args.get(1).map(String::as_str) == Some("workload") {
        workload::run(&args[2..]);
    }
    let filter = args.iter().skip(1).find(|a| !a.starts_with('-')).cloned();

    let mut tests: Vec<Test> = vec![
        (
            "procfs: known processes match /proc",
            Box::new(|| known_processes_match_proc(BackendChoice::Procfs, WalkChoice::Auto)),
        ),
        (
            "procfs: spinner CPU%",
            Box::new(|| spinner_cpu_percent(BackendChoice::Procfs)),
        ),
        (
            "procfs: churn",
            Box::new(|| churn_does_not_break_refreshes(BackendChoice::Procfs, WalkChoice::Auto)),
        ),
        (
            "procfs: run-queue waits",
            Box::new(|| waits::all(BackendChoice::Procfs, WalkChoice::Auto)),
        ),
        (
            "procfs: an exec between refreshes",
            Box::new(|| {
                exec_between_refreshes_shows_the_new_program(
                    BackendChoice::Procfs,
                    WalkChoice::Auto,
                )
            }),
        ),
        (
            "procfs: titles rewritten in place, in batch",
            Box::new(|| {
                batch_shows_titles_rewritten_in_place(BackendChoice::Procfs, WalkChoice::Auto)
            }),
        ),
        (
            "procfs: every process /proc lists, no more",
            Box::new(|| tgid_set_matches_proc(BackendChoice::Procfs, WalkChoice::Auto)),
        ),
        (
            "procfs: the Tasks meter counts as htop does",
            Box::new(|| tasks_meter_counts_as_htop(BackendChoice::Procfs, WalkChoice::Auto)),
        ),
        (
            "procfs: kernel thread names as /proc shows them",
            Box::new(|| kernel_thread_names_match_proc(BackendChoice::Procfs, WalkChoice::Auto)),
        ),
        ("batch: JSON contract", Box::new(batch_json_contract)),
        (
            "batch: -p, -u and -s as in the interface",
            Box::new(batch_honours_pid_user_and_sort),
        ),
        ("fallback: no BTF", Box::new(fallback_without_btf)),
        (
            "procfs: memory parts and swap match /proc/PID/status",
            Box::new(|| memory::memory_parts_match_status(BackendChoice::Procfs, WalkChoice::Auto)),
        ),
        (
            "batch: --pss matches smaps_rollup",
            Box::new(memory::batch_pss_matches_smaps_rollup),
        ),
    ];
    if is_root() {
        tests.extend([
            (
                "exits: 1000 children, codes, names and CPU as getrusage",
                Box::new(exits::thousand_children_each_reported_once) as Box<dyn Fn()>,
            ),
            (
                "exits: a signal as wait(2) reports it",
                Box::new(exits::killed_process_reports_its_signal),
            ),
            (
                "exits: reported once, when the last thread exits",
                Box::new(exits::leader_exit_is_not_the_process_exit),
            ),
            (
                "exits: an OOM kill is marked",
                Box::new(exits::oom_kill_is_marked),
            ),
            (
                "exits: a loop of short ls runs adds up",
                Box::new(exits::ls_loop_cpu_adds_up),
            ),
            (
                "bpf: auto takes the open-coded walk (6.7+) and exact RSS",
                Box::new(auto_takes_the_best_walk_and_exact_rss),
            ),
            (
                "bpf open-coded: known processes match /proc",
                Box::new(|| known_processes_match_proc(BackendChoice::Bpf, WalkChoice::OpenCoded)),
            ),
            (
                "bpf iter/task: known processes match /proc",
                Box::new(|| known_processes_match_proc(BackendChoice::Bpf, WalkChoice::Iter)),
            ),
            (
                "bpf open-coded: every process /proc lists, no more",
                Box::new(|| tgid_set_matches_proc(BackendChoice::Bpf, WalkChoice::OpenCoded)),
            ),
            (
                "bpf iter/task: every process /proc lists, no more",
                Box::new(|| tgid_set_matches_proc(BackendChoice::Bpf, WalkChoice::Iter)),
            ),
            (
                "bpf open-coded: the Tasks meter counts as htop does",
                Box::new(|| tasks_meter_counts_as_htop(BackendChoice::Bpf, WalkChoice::OpenCoded)),
            ),
            (
                "bpf iter/task: the Tasks meter counts as htop does",
                Box::new(|| tasks_meter_counts_as_htop(BackendChoice::Bpf, WalkChoice::Iter)),
            ),
            (
                "bpf open-coded: kernel thread names as /proc shows them",
                Box::new(|| {
                    kernel_thread_names_match_proc(BackendChoice::Bpf, WalkChoice::OpenCoded)
                }),
            ),
            (
                "bpf iter/task: kernel thread names as /proc shows them",
                Box::new(|| kernel_thread_names_match_proc(BackendChoice::Bpf, WalkChoice::Iter)),
            ),
            (
                "bpf open-coded: RSS exactly statm's",
                Box::new(|| rss_is_exact_for_idle_processes(WalkChoice::OpenCoded)),
            ),
            (
                "bpf iter/task: RSS exactly statm's",
                Box::new(|| rss_is_exact_for_idle_processes(WalkChoice::Iter)),
            ),
            (
                "bpf open-coded: memory parts and swap match /proc/PID/status",
                Box::new(|| {
                    memory::memory_parts_match_status(BackendChoice::Bpf, WalkChoice::OpenCoded)
                }),
            ),
            (
                "bpf iter/task: memory parts and swap match /proc/PID/status",
                Box::new(|| {
                    memory::memory_parts_match_status(BackendChoice::Bpf, WalkChoice::Iter)
                }),
            ),
            (
                "bpf open-coded: the first refresh has every command line",
                Box::new(|| first_refresh_has_the_command_lines(WalkChoice::OpenCoded)),
            ),
            (
                "bpf iter/task: the first refresh has every command line",
                Box::new(|| first_refresh_has_the_command_lines(WalkChoice::Iter)),
            ),
            (
                "bpf open-coded: an exec between refreshes",
                Box::new(|| {
                    exec_between_refreshes_shows_the_new_program(
                        BackendChoice::Bpf,
                        WalkChoice::OpenCoded,
                    )
                }),
            ),
            (
                "bpf iter/task: an exec between refreshes",
                Box::new(|| {
                    exec_between_refreshes_shows_the_new_program(
                        BackendChoice::Bpf,
                        WalkChoice::Iter,
                    )
                }),
            ),
            (
                "bpf open-coded: titles rewritten in place, in batch",
                Box::new(|| {
                    batch_shows_titles_rewritten_in_place(BackendChoice::Bpf, WalkChoice::OpenCoded)
                }),
            ),
            (
                "bpf iter/task: titles rewritten in place, in batch",
                Box::new(|| {
                    batch_shows_titles_rewritten_in_place(BackendChoice::Bpf, WalkChoice::Iter)
                }),
            ),
            (
                "interface: PSS and USS of the selected process",
                Box::new(memory::interface_shows_pss_and_uss_of_the_selected_process),
            ),
            (
                "bpf: spinner CPU%",
                Box::new(|| spinner_cpu_percent(BackendChoice::Bpf)),
            ),
            (
                "bpf: churn",
                Box::new(|| churn_does_not_break_refreshes(BackendChoice::Bpf, WalkChoice::Auto)),
            ),
            (
                "bpf iter/task: churn",
                Box::new(|| churn_does_not_break_refreshes(BackendChoice::Bpf, WalkChoice::Iter)),
            ),
            (
                "bpf: the records map grows with the task count",
                Box::new(records_map_grows_with_tasks),
            ),
            (
                "bpf: syscalls per refresh independent of process count",
                Box::new(syscalls_do_not_grow_with_processes),
            ),
            (
                "bpf open-coded: run-queue waits and stalls",
                Box::new(|| waits::all(BackendChoice::Bpf, WalkChoice::OpenCoded)),
            ),
            (
                "bpf iter/task: run-queue waits and stalls",
                Box::new(|| waits::all(BackendChoice::Bpf, WalkChoice::Iter)),
            ),
            (
                "fallback: unprivileged user",
                Box::new(fallback_without_privileges),
            ),
            (
                "freeze: frozen state follows the kernel",
                Box::new(frozen_state_follows_the_kernel),
            ),
            (
                "cgroups: units, containers and freezing",
                Box::new(units_containers_and_freezing),
            ),
            (
                "units: a CPU quota throttles a unit",
                Box::new(unit_limits::cpu_quota_throttles_a_unit),
            ),
            (
                "units: a memory limit shows as pressure",
                Box::new(unit_limits::memory_limit_shows_pressure),
            ),
            (
                "gpu: DRM files are found",
                Box::new(gpu::drm_files_are_found),
            ),
            (
                "network: counters match known payloads",
                Box::new(network::counters_match_known_payloads),
            ),
            (
                "network: all families count AF_UNIX",
                Box::new(network::all_families_count_unix_sockets),
            ),
            (
                "network: counters go when the process exits",
                Box::new(network::counters_go_when_the_process_exits),
            ),
            (
                "network: exit records carry the counters",
                Box::new(network::exit_records_carry_the_counters),
            ),
            (
                "network: every hook kind counts or says why",
                Box::new(network::every_hook_kind_counts_or_says_why),
            ),
        ]);
    } else {
        common::skip("not root: the bpf backend tests need root (CI runs as root)");
    }

    let mut failed = Vec::new();
    let mut ran = 0;
    for (name, test) in &tests {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        ran += 1;
        println!("test {name} ...");
        match panic::catch_unwind(AssertUnwindSafe(test)) {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(*name);
            }
        }
    }
    println!(
        "\noracle: {} passed, {} failed",
        ran - failed.len(),
        failed.len()
    );
    if !failed.is_empty() {
        for name in &failed {
            println!("  FAILED: {name}");
        }
        std::process::exit(1);
    }
}
