//! Exit capture against independent truth: codes and CPU the workloads
//! chose and the kernel's own rusage, signals wait(2) reports, and the
//! memory controller's OOM count.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bpftop::collect::bpf::exits::{decode, ExitCapture};
use bpftop::collect::sample::{ExitStatus, ExitedProcess};

use super::common;

/// Generous: other work shares these CPUs.
const PATIENCE: Duration = Duration::from_secs(240);

fn capture() -> Option<ExitCapture> {
    match ExitCapture::start(None) {
        Ok(c) => Some(c),
        Err(e) => {
            common::skip(&format!("the exit hook does not load here: {e}"));
            None
        }
    }
}

/// Records drained from `cap`, kept when `keep` says so.
struct Drained<'a> {
    cap: &'a mut ExitCapture,
    kept: Vec<ExitedProcess>,
}

impl Drained<'_> {
    fn drain(&mut self, keep: &dyn Fn(&ExitedProcess) -> bool) {
        let page = 4096; // peak RSS is not compared here
        let arrived = self.cap.drain();
        for r in &arrived.exits {
            let p = decode(r, arrived.argv_of(r), page, false);
            if keep(&p) {
                self.kept.push(p);
            }
        }
        // Final CPU of processes whose record came in an earlier drain.
        for late in &arrived.late {
            let kept = self
                .kept
                .iter_mut()
                .find(|p| p.pid == late.pid && p.start_time_ns == late.start_boottime);
            if let Some(p) = kept {
                p.utime_ns += late.final_ns.saturating_sub(late.recorded_ns);
            }
        }
    }
}

/// Spawns `<this test> workload <args>` (optionally in cgroup directory
/// `cgroup`) and keeps draining `cap` while waiting for its "ready" line;
/// returns the child and what it printed after "ready". The caller waits
/// for it; should the test panic first, the workload dies with it
/// (PR_SET_PDEATHSIG).
#[allow(clippy::zombie_processes)]
fn spawn_draining(
    d: &mut Drained<'_>,
    keep: &dyn Fn(&ExitedProcess) -> bool,
    args: &[&str],
    procs_file: Option<std::path::PathBuf>,
) -> (Child, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.arg("workload")
        .args(args.iter().map(OsString::from))
        .stdout(Stdio::piped());
    if let Some(file) = procs_file {
        // SAFETY: only a write of our own pid into a cgroup file between
        // fork and exec.
        unsafe {
            cmd.pre_exec(move || std::fs::write(&file, "0"));
        }
    }
    let mut child = cmd.spawn().unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    let start = Instant::now();
    loop {
        d.drain(keep);
        if let Ok(line) = rx.try_recv() {
            let Some(note) = line.trim_end().strip_prefix("ready") else {
                kill(&mut child);
                panic!("workload {args:?} did not start: {line:?}");
            };
            return (child, note.trim().to_owned());
        }
        if start.elapsed() > PATIENCE {
            kill(&mut child);
            panic!("workload {args:?} never got ready");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Drains until `done` holds for what was kept.
fn drain_until(
    d: &mut Drained<'_>,
    keep: &dyn Fn(&ExitedProcess) -> bool,
    what: &str,
    done: &dyn Fn(&[ExitedProcess]) -> bool,
) {
    let start = Instant::now();
    loop {
        d.drain(keep);
        if done(&d.kept) {
            return;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{what}: not seen in {PATIENCE:?} ({} kept)",
            d.kept.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn kill(child: &mut Child) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
}

/// 1000 children, each burning 20 ms of its own CPU and exiting with
/// i % 256: exactly 1000 records with those codes and names, and CPU close
/// to what getrusage(RUSAGE_CHILDREN) says the parent's children used.
///
/// The record is written at the sched_process_exit tracepoint, before the
/// kernel's work for the process after it (closing files, signalling the
/// parent, the final switch: about 0.2 ms per exit here, 1 % of a 20 ms
/// child); the final CPU, taken when the reaped process is freed, must
/// bring it within 1 % of getrusage, either way (the error is printed).
pub fn thousand_children_each_reported_once() {
    const N: usize = 1000;
    let Some(mut cap) = capture() else { return };
    let dropped_before = cap.dropped();
    let parent = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let p2 = parent.clone();
    // The children's parent is the workload, whose pid is known only once
    // it is spawned: keep every child of a "burners" parent until then.
    let keep = move |p: &ExitedProcess| {
        let want = p2.load(std::sync::atomic::Ordering::Relaxed);
        p.comm.starts_with(b"burn") && (want == 0 || p.ppid == want)
    };
    let mut d = Drained {
        cap: &mut cap,
        kept: Vec::new(),
    };
    let (mut child, note) = spawn_draining(&mut d, &keep, &["burners", &N.to_string(), "20"], None);
    parent.store(child.id(), std::sync::atomic::Ordering::Relaxed);
    let rusage_ns: u64 = note.parse().unwrap();
    let pid = child.id();
    drain_until(&mut d, &keep, "1000 exits", &|k| {
        k.iter().filter(|p| p.ppid == pid).count() >= N
    });
    // A little longer: a duplicate would arrive now.
    std::thread::sleep(Duration::from_millis(300));
    d.drain(&keep);
    kill(&mut child);
    let mine: Vec<&ExitedProcess> = d.kept.iter().filter(|p| p.ppid == pid).collect();
    let dropped_after = d.cap.dropped();
    assert_eq!(mine.len(), N, "one record per child");
    let mut seen = vec![false; N];
    for p in &mine {
        let name = String::from_utf8_lossy(&p.comm).into_owned();
        let i: usize = name.strip_prefix("burn").unwrap().parse().unwrap();
        assert!(!seen[i], "child {i} reported twice");
        seen[i] = true;
        assert_eq!(p.status, ExitStatus::Code((i % 256) as u8), "{name}'s code");
        assert!(
            p.exit_time_ns > p.start_time_ns,
            "{name}: exit before start"
        );
    }
    let total: u64 = mine.iter().map(|p| p.cpu_time_ns()).sum();
    let error = (total as f64 - rusage_ns as f64) / rusage_ns as f64;
    println!(
        "  {N} exits; CPU {:.3} s, getrusage {:.3} s ({:+.2} %); drops {}",
        total as f64 / 1e9,
        rusage_ns as f64 / 1e9,
        error * 100.0,
        dropped_after - dropped_before
    );
    assert!(
        error.abs() <= 0.01,
        "CPU of the exits {total} ns vs getrusage {rusage_ns} ns"
    );
}

/// A process killed by a signal is reported with the signal wait(2) gives.
pub fn killed_process_reports_its_signal() {
    let Some(mut cap) = capture() else { return };
    let mut child = Command::new("sleep").arg("600").spawn().unwrap();
    let pid = child.id();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid as i32, libc::SIGUSR1) };
    let status = child.wait().unwrap();
    let truth = status.signal().expect("killed by a signal") as u8;
    let keep = move |p: &ExitedProcess| p.pid == pid;
    let mut d = Drained {
        cap: &mut cap,
        kept: Vec::new(),
    };
    drain_until(&mut d, &keep, "the killed sleep", &|k| !k.is_empty());
    assert_eq!(d.kept.len(), 1);
    let p = &d.kept[0];
    assert_eq!(
        p.status,
        ExitStatus::Signal {
            signal: truth,
            core_dumped: false
        }
    );
    assert_eq!(&*p.comm, b"sleep");
    assert_eq!(p.cmdline.len(), 2, "argv at exec: {:?}", p.cmdline);
    assert_eq!(p.cmdline[1], b"600".to_vec());
}

/// The main thread exits while another runs: nothing is reported until the
/// last thread exits, then exactly one record with the code it chose.
pub fn leader_exit_is_not_the_process_exit() {
    let Some(mut cap) = capture() else { return };
    let flag = std::env::temp_dir().join(format!("bpftop-leader-{}", std::process::id()));
    let _ = std::fs::remove_file(&flag);
    let target = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(u32::MAX));
    let t2 = target.clone();
    let keep = move |p: &ExitedProcess| p.pid == t2.load(std::sync::atomic::Ordering::Relaxed);
    let mut d = Drained {
        cap: &mut cap,
        kept: Vec::new(),
    };
    let flag_arg = flag.to_string_lossy().into_owned();
    let (mut child, _) = spawn_draining(&mut d, &keep, &["leader_exits", &flag_arg], None);
    let pid = child.id();
    target.store(pid, std::sync::atomic::Ordering::Relaxed);
    // Wait until the leader is a zombie while the process lives on.
    let start = Instant::now();
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        if stat.rsplit_once(") ").map(|(_, r)| r.starts_with('Z')) == Some(true) {
            break;
        }
        assert!(start.elapsed() < PATIENCE, "the main thread never exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count();
    assert!(threads >= 2, "the other thread runs on ({threads} tasks)");
    std::thread::sleep(Duration::from_millis(200));
    d.drain(&keep);
    assert!(
        d.kept.is_empty(),
        "reported while a thread runs: {:?}",
        d.kept
    );
    std::fs::write(&flag, "").unwrap();
    let status = child.wait().unwrap();
    let _ = std::fs::remove_file(&flag);
    assert_eq!(status.code(), Some(5));
    drain_until(&mut d, &keep, "the process's exit", &|k| !k.is_empty());
    std::thread::sleep(Duration::from_millis(300));
    d.drain(&keep);
    assert_eq!(d.kept.len(), 1, "{:?}", d.kept);
    assert_eq!(d.kept[0].status, ExitStatus::Code(5));
}

/// The memory controller's directory and OOM-kill count reader: cgroup v2
/// where it has the memory controller, else v1's memory hierarchy.
struct MemoryCgroup {
    dir: std::path::PathBuf,
    v2: bool,
}

impl MemoryCgroup {
    fn create(limit: u64) -> Option<MemoryCgroup> {
        let name = format!("bpftop-oom-{}", std::process::id());
        let v2 = common_cgroup2_mount().filter(|m| {
            std::fs::read_to_string(m.join("cgroup.controllers"))
                .is_ok_and(|c| c.split_whitespace().any(|w| w == "memory"))
        });
        let (dir, v2) = match v2 {
            Some(m) => {
                let _ = std::fs::write(m.join("cgroup.subtree_control"), "+memory");
                (m.join(name), true)
            }
            None => {
                let v1 = v1_memory_mount()?;
                if !v1.join("memory.limit_in_bytes").exists() {
                    return None;
                }
                (v1.join(name), false)
            }
        };
        std::fs::create_dir(&dir).ok()?;
        let limit_file = if v2 {
            "memory.max"
        } else {
            "memory.limit_in_bytes"
        };
        std::fs::write(dir.join(limit_file), limit.to_string()).ok()?;
        if v2 {
            let _ = std::fs::write(dir.join("memory.swap.max"), "0");
        }
        Some(MemoryCgroup { dir, v2 })
    }

    fn oom_kills(&self) -> u64 {
        let file = if self.v2 {
            "memory.events"
        } else {
            "memory.oom_control"
        };
        let text = std::fs::read_to_string(self.dir.join(file)).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Where the cgroup v1 memory controller is mounted (a hybrid host).
fn v1_memory_mount() -> Option<std::path::PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut fields = right.split(' ');
        let is_memory =
            fields.next()? == "cgroup" && fields.nth(1)?.split(',').any(|o| o == "memory");
        is_memory.then(|| left.split(' ').nth(4).map(Into::into))?
    })
}

fn common_cgroup2_mount() -> Option<std::path::PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        (right.split(' ').next()? == "cgroup2").then(|| left.split(' ').nth(4).map(Into::into))?
    })
}

/// An allocator limited to 64 MiB: one record, marked OOM-killed with
/// SIGKILL, and the controller's oom_kill count up by one.
pub fn oom_kill_is_marked() {
    let Some(mut cap) = capture() else { return };
    let Some(cg) = MemoryCgroup::create(64 << 20) else {
        common::skip("no memory controller (cgroup v2 or v1) to limit a process with");
        return;
    };
    let before = cg.oom_kills();
    // Known by its parent and argv, not its pid: the kernel may kill it
    // (and its record arrive) before spawn_draining returns its pid.
    let me = std::process::id();
    let keep = move |p: &ExitedProcess| {
        p.ppid == me && p.cmdline.iter().any(|a| a.as_slice() == b"allocate")
    };
    let mut d = Drained {
        cap: &mut cap,
        kept: Vec::new(),
    };
    let procs = cg.dir.join("cgroup.procs");
    let (mut child, _) = spawn_draining(&mut d, &keep, &["allocate"], Some(procs));
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    drain_until(&mut d, &keep, "the OOM-killed allocator", &|k| {
        !k.is_empty()
    });
    std::thread::sleep(Duration::from_millis(300));
    d.drain(&keep);
    let after = cg.oom_kills();
    assert_eq!(d.kept.len(), 1, "{:?}", d.kept);
    let p = &d.kept[0];
    println!(
        "  oom_kill {before} -> {after} ({}), peak RSS {} MiB",
        if cg.v2 {
            "cgroup v2 memory.events"
        } else {
            "cgroup v1 memory.oom_control"
        },
        p.peak_rss_bytes >> 20
    );
    assert!(p.oom_killed, "not marked: {p:?}");
    assert_eq!(
        p.status,
        ExitStatus::Signal {
            signal: libc::SIGKILL as u8,
            core_dumped: false
        }
    );
    assert_eq!(after, before + 1, "the controller's oom_kill count");
}

/// busy and total ticks of /proc/stat's "cpu" line, read by the test
/// itself: busy is everything but idle and iowait (guest time is inside
/// user and nice).
fn proc_stat_ticks() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/stat").unwrap();
    let line = text.lines().find(|l| l.starts_with("cpu ")).unwrap();
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    (busy, busy + v[3] + v[4])
}

/// One JSON line of bpftop's batch output with /proc/stat as the test
/// read it when the line arrived.
struct Refresh {
    json: serde_json::Value,
    busy_ticks: u64,
}

/// `times`' "0m1.234s" as seconds.
fn times_seconds(field: &str) -> f64 {
    let (m, s) = field.trim_end_matches('s').split_once('m').unwrap();
    m.parse::<f64>().unwrap() * 60.0 + s.parse::<f64>().unwrap()
}

/// A shell loop of short `ls` runs for 10 s (at least 400 a second where
/// the machine allows; what it reached is printed and must be 100 or
/// more), watched by `--batch --format json`: every run is reported once,
/// none is lost; bpftop's header total agrees within 5 % with /proc/stat's
/// busy time over the same refreshes, read by the test as each refresh
/// arrives (other work on the machine is on both sides); and the CPU
/// bpftop gives the shell's exited children is compared with what the
/// shell's own `times` says its children used (other work is on neither
/// side), within 5 % either way. The exit record alone would miss most of
/// an `ls` of 1 to 2 ms (written at sched_process_exit, it lacks the
/// thread's run time since its last tick or switch and the rest of the
/// exit); the final CPU, taken when the reaped process is freed, is what
/// must add up here.
pub fn ls_loop_cpu_adds_up() {
    const SECONDS: u64 = 10;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    // The loop waits for a line on its stdin before it starts, prints its
    // count and `times` when done, then waits again: it stays alive (its
    // row shows) until its last exits are reported.
    let script = format!(
        "read -r _; end=$(( ${{EPOCHREALTIME/./}} + {SECONDS}000000 )); n=0; \
         while (( ${{EPOCHREALTIME/./}} < end )); do ls / >/dev/null; n=$((n+1)); done; \
         echo $n; times; read -r _"
    );
    let mut shell = Command::new("bash")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let shell_pid = shell.id();
    let mut go = shell.stdin.take().unwrap();
    // Only the shell's row is printed (exits are listed whatever -p
    // selects): short lines, written soon after bpftop read /proc/stat.
    let mut bpftop = Command::new(env!("CARGO_BIN_EXE_bpftop"))
        .args(["--batch", "--format", "json", "-d", "1000", "-n", "100"])
        .args(["-p", &shell_pid.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = bpftop.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let (busy_ticks, _) = proc_stat_ticks();
            // The last line may be cut short when bpftop is stopped.
            let Ok(json) = serde_json::from_str(&line) else {
                break;
            };
            if tx.send(Refresh { json, busy_ticks }).is_err() {
                break;
            }
        }
    });
    let next = |what: &str| {
        rx.recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("no refresh from bpftop: {what}"))
    };
    let stop = |bpftop: &mut Child, shell: &mut Child| {
        kill(bpftop);
        kill(shell);
    };
    let first = next("the first");
    if first.json["exits"]["enabled"] != true {
        stop(&mut bpftop, &mut shell);
        common::skip(&format!(
            "exits are not captured here: {}",
            first.json["exits"]["reason"]
        ));
        return;
    }
    use std::io::Write;
    let started = Instant::now();
    go.write_all(b"go\n").unwrap();
    let mut shell_out = BufReader::new(shell.stdout.take().unwrap());
    let mut read_line = || {
        let mut l = String::new();
        shell_out.read_line(&mut l).unwrap();
        l
    };
    let runs: u64 = read_line().trim().parse().unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let _own = read_line();
    let children = read_line();
    let fields: Vec<&str> = children.split_whitespace().collect();
    let children_cpu = times_seconds(fields[0]) + times_seconds(fields[1]);
    // Refreshes until all the runs are reported, or one after the loop
    // reports none of them.
    let mut refreshes = vec![first];
    let mut seen = 0u64;
    loop {
        let r = next("after the loop");
        let mine = r.json["exited"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["ppid"] == shell_pid)
            .count() as u64;
        seen += mine;
        refreshes.push(r);
        if seen >= runs || (mine == 0 && seen > 0) {
            break;
        }
    }
    // One more: a duplicate would show now.
    refreshes.push(next("the last"));
    stop(&mut bpftop, &mut shell);

    let rate = runs as f64 / elapsed;
    let mut exits = 0u64;
    let mut exit_cpu = 0.0;
    let mut parent_cpu = 0.0;
    let mut header_busy = 0.0;
    let mut dropped = 0u64;
    // Each ls is a fork of the shell and one exec in the child.
    let (mut forked, mut execs) = (0u64, 0u64);
    for pair in refreshes.windows(2) {
        let (a, b) = (&pair[0].json, &pair[1].json);
        let seconds = |j: &serde_json::Value| j["system"]["uptime_seconds"].as_f64().unwrap();
        // bpftop's own interval: /proc/uptime, read with /proc/stat.
        let dt = seconds(b) - seconds(a);
        let cpus = b["system"]["cpus"].as_f64().unwrap();
        header_busy += b["system"]["cpu_percent"].as_f64().unwrap() / 100.0 * cpus * dt;
        dropped += b["exits"]["dropped"].as_u64().unwrap();
        for e in b["exited"].as_array().unwrap() {
            if e["ppid"] == shell_pid {
                exits += 1;
                exit_cpu += e["interval_cpu_seconds"].as_f64().unwrap();
            }
        }
        // Final CPU of exits listed in an earlier refresh.
        for e in b["exits"]["late"].as_array().unwrap() {
            if e["ppid"] == shell_pid {
                exit_cpu += e["interval_cpu_seconds"].as_f64().unwrap();
            }
        }
        // The row's share is a percentage of the model's interval (its
        // samples' clock), which under load differs from /proc/uptime's by
        // a few per cent: it is what all exits' seconds make of the exits'
        // share.
        let interval_cpu = |list: &serde_json::Value| -> f64 {
            list.as_array()
                .unwrap()
                .iter()
                .map(|e| e["interval_cpu_seconds"].as_f64().unwrap())
                .sum()
        };
        let all_exits_cpu = interval_cpu(&b["exited"]) + interval_cpu(&b["exits"]["late"]);
        let exits_share = b["exits"]["cpu_percent"].as_f64().unwrap() / 100.0;
        let model_dt = if exits_share > 0.0 {
            all_exits_cpu / exits_share
        } else {
            dt
        };
        let rows = b["processes"].as_array().unwrap();
        if let Some(sh) = rows.iter().find(|p| p["pid"] == shell_pid) {
            parent_cpu += sh["exited_children_cpu_percent"].as_f64().unwrap() / 100.0 * model_dt;
            forked += sh["children_forked"].as_u64().unwrap();
            execs += sh["children_execs"].as_u64().unwrap();
        }
    }
    let last = refreshes.last().unwrap().busy_ticks;
    let stat_busy = (last - refreshes[0].busy_ticks) as f64 / hz;
    let off = |x: f64, truth: f64| (x - truth) / truth * 100.0;
    println!(
        "  {runs} ls in {elapsed:.1} s ({rate:.0}/s); exits seen {exits}, dropped {dropped}; \
         children CPU: times {children_cpu:.3} s, bpftop's row {parent_cpu:.3} s ({:+.1} %), \
         its exits {exit_cpu:.3} s; busy: /proc/stat {stat_busy:.2} s, header {header_busy:.2} s \
         ({:+.1} %); the shell's row: {forked} forks, {execs} execs",
        off(parent_cpu, children_cpu),
        off(header_busy, stat_busy),
    );
    if rate < 400.0 {
        println!("  this machine reached {rate:.0} ls/s here, not 400");
    }
    assert!(rate >= 100.0, "only {rate:.0} ls/s: too few to measure");
    assert_eq!(dropped, 0, "exits lost");
    assert_eq!(exits, runs, "one report per ls");
    assert_eq!(forked, runs, "the shell's row: one fork per ls");
    assert_eq!(execs, runs, "the shell's row: one exec per ls");
    // The row's share and the exits' own figures are the same CPU.
    assert!(
        (exit_cpu - parent_cpu).abs() <= 0.01 * exit_cpu + 0.01,
        "the shell's row {parent_cpu:.3} s vs its children's exits {exit_cpu:.3} s"
    );
    assert!(
        parent_cpu > 0.0 && off(parent_cpu, children_cpu).abs() <= 5.0,
        "the shell's exited children: bpftop {parent_cpu:.3} s vs times {children_cpu:.3} s"
    );
    assert!(
        off(header_busy, stat_busy).abs() <= 5.0,
        "busy time: bpftop's header {header_busy:.2} s vs /proc/stat {stat_busy:.2} s"
    );
}
