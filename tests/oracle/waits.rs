//! Run-queue waits and stalls against the kernel's own accounting, read by
//! the test from /proc: schedstat (run_delay, pcount) per thread and
//! /proc/PID/stat field 42 (delayacct_blkio_ticks).

use std::fs;
use std::os::unix::fs::OpenOptionsExt;
use std::thread;
use std::time::{Duration, Instant};

use bpftop::collect::sample::ProcessSample;
use bpftop::collect::sampler::Sampler;
use bpftop::collect::{BackendChoice, CollectOptions, WalkChoice};
use bpftop::model::Model;

use super::{common, find, Workload};
use crate::workload::{idle, ready};

const MAX_LIFETIME: Duration = Duration::from_secs(300);

/// (run_delay ns, pcount) of one thread, from its schedstat.
fn schedstat(pid: u32, tid: u32) -> Option<(u64, u64)> {
    let text = fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat")).ok()?;
    let f: Vec<u64> = text
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    Some((f[1], f[2]))
}

fn tids(pid: u32) -> Vec<u32> {
    let mut t: Vec<u32> = fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().parse().unwrap())
        .collect();
    t.sort_unstable();
    t
}

fn pin_to(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t with one bit set, for the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        assert_eq!(
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set),
            0,
            "sched_setaffinity: {}",
            std::io::Error::last_os_error()
        );
    }
}

fn spin_until(deadline: Instant) {
    let mut x = 0u64;
    while Instant::now() < deadline {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

/// The workloads of this file: `pinned CPU` spins on one CPU;
/// `waits_exit` runs a thread beside the main one on CPU 0 until it has
/// waited, lets it exit and prints its last run_delay; `direct_read FILE`
/// reads FILE with O_DIRECT, then idles.
pub fn workload(kind: &str, args: &[String]) -> Option<std::convert::Infallible> {
    match kind {
        "pinned" => {
            pin_to(args[0].parse().unwrap());
            ready("");
            spin_until(Instant::now() + MAX_LIFETIME);
            std::process::exit(0)
        }
        "waits_exit" => {
            pin_to(0);
            let pid = std::process::id();
            let child = thread::spawn(move || {
                pin_to(0);
                // SAFETY: gettid has no arguments.
                let tid = unsafe { libc::gettid() } as u32;
                // Spins beside the main thread until it has waited 100 ms.
                let give_up = Instant::now() + Duration::from_secs(60);
                while Instant::now() < give_up && schedstat(pid, tid).unwrap().0 < 100_000_000 {
                    spin_until(Instant::now() + Duration::from_millis(10));
                }
                schedstat(pid, tid).unwrap().0
            });
            while !child.is_finished() {
                spin_until(Instant::now() + Duration::from_millis(10));
            }
            let dead = child.join().unwrap();
            // Wait until the kernel has let the thread go.
            while tids(pid).len() > 1 {
                thread::sleep(Duration::from_millis(10));
            }
            ready(&dead.to_string());
            idle()
        }
        "direct_read" => {
            let mut file = fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECT)
                .open(&args[0])
                .unwrap();
            let layout = std::alloc::Layout::from_size_align(1 << 20, 4096).unwrap();
            // SAFETY: a non-zero size; freed never (the process idles, then dies).
            let buf = unsafe { std::slice::from_raw_parts_mut(std::alloc::alloc(layout), 1 << 20) };
            for _ in 0..4 {
                use std::io::{Read, Seek};
                file.rewind().unwrap();
                while file.read(buf).unwrap() > 0 {}
            }
            ready("");
            idle()
        }
        _ => None,
    }
}

fn sampler(choice: BackendChoice, walk: WalkChoice) -> Sampler {
    let options = CollectOptions {
        walk,
        threads: true,
        ..CollectOptions::default()
    };
    Sampler::open(choice, &options, "/etc/passwd".into())
        .unwrap_or_else(|e| panic!("opening {choice:?} ({walk:?} walk): {e:#}"))
}

pub fn all(choice: BackendChoice, walk: WalkChoice) {
    if fs::metadata("/proc/self/schedstat").is_err() {
        common::skip("this kernel keeps no run-queue statistics (CONFIG_SCHED_INFO)");
        return;
    }
    run_delay_matches_schedstat(choice, walk);
    pinned_pairs_wait_half_the_time(choice, walk);
    if choice == BackendChoice::Bpf {
        exited_threads_keep_their_waits(walk);
        blkio_delay_matches_stat(walk);
    }
}

fn run_of(p: &ProcessSample) -> (u64, u64) {
    let r = p.waits.run.expect("run-queue waits measured");
    (r.delay_ns, r.count)
}

/// Each thread's run_delay and pcount lie between /proc's values read just
/// before and just after the walk (the bracket is the walk's skew), and the
/// process's are the threads' sum.
fn run_delay_matches_schedstat(choice: BackendChoice, walk: WalkChoice) {
    let spin = Workload::simple(&["spin", "600000"]);
    let pid = spin.pid();
    let mut s = sampler(choice, walk);
    for round in 0..2 {
        let threads = tids(pid);
        let before: Vec<_> = threads
            .iter()
            .map(|&t| schedstat(pid, t).unwrap())
            .collect();
        let sample = s.sample().unwrap();
        let after: Vec<_> = threads
            .iter()
            .map(|&t| schedstat(pid, t).unwrap())
            .collect();
        let p = find(&sample, pid);
        let mut skew = 0;
        for (i, &tid) in threads.iter().enumerate() {
            let t = p
                .thread_list
                .iter()
                .find(|t| t.tid == tid)
                .unwrap_or_else(|| panic!("thread {tid} missing"));
            let (delay, count) = (t.waits.run.unwrap().delay_ns, t.waits.run.unwrap().count);
            assert!(
                (before[i].0..=after[i].0).contains(&delay),
                "{choice:?} {walk:?}: thread {tid} run_delay {delay} outside /proc's {:?}",
                (before[i].0, after[i].0)
            );
            assert!(
                (before[i].1..=after[i].1).contains(&count),
                "{choice:?} {walk:?}: thread {tid} pcount {count} outside /proc's {:?}",
                (before[i].1, after[i].1)
            );
            skew += after[i].0 - before[i].0;
        }
        let sum = |v: &[(u64, u64)]| v.iter().map(|x| x.0).sum::<u64>();
        let (delay, _) = run_of(p);
        assert!(
            (sum(&before)..=sum(&after)).contains(&delay),
            "{choice:?} {walk:?}: process run_delay {delay} outside {:?}",
            (sum(&before), sum(&after))
        );
        println!(
            "    {choice:?} {walk:?} round {round}: {} threads, run_delay {:.3} s, /proc moved {:.1} ms across the walk",
            threads.len(),
            delay as f64 / 1e9,
            skew as f64 / 1e6
        );
    }
}

/// Two busy loops pinned to one CPU wait about half the time each; one
/// alone on another CPU hardly waits. Compared with /proc's own rate over
/// the same interval; the ≈ 50 % and ≈ 0 % checks apply only where /proc
/// shows them (other load on a shared machine moves both).
fn pinned_pairs_wait_half_the_time(choice: BackendChoice, walk: WalkChoice) {
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    let a = Workload::simple(&["pinned", "0"]);
    let b = Workload::simple(&["pinned", "0"]);
    let alone = (cpus > 1).then(|| Workload::simple(&["pinned", &(cpus - 1).to_string()]));
    let mut pids = vec![a.pid(), b.pid()];
    pids.extend(alone.as_ref().map(Workload::pid));
    let mut s = sampler(choice, walk);
    thread::sleep(Duration::from_millis(300));
    let truth =
        |pids: &[u32]| -> Vec<u64> { pids.iter().map(|&p| schedstat(p, p).unwrap().0).collect() };
    let t0 = truth(&pids);
    let at0 = Instant::now();
    let first = s.sample().unwrap();
    thread::sleep(Duration::from_secs(2));
    let second = s.sample().unwrap();
    let t1 = truth(&pids);
    let dt = at0.elapsed().as_secs_f64();
    let model = Model::new(&second, Some(&first), None, &|_| String::new());
    for (i, &pid) in pids.iter().enumerate() {
        let v = model
            .processes
            .iter()
            .find(|p| p.sample.pid == pid)
            .unwrap();
        let wait = v.waits.wait_percent.expect("WAIT% measured");
        let proc_rate = (t1[i] - t0[i]) as f64 / 1e9 / dt * 100.0;
        let expected = if i < 2 { 50.0 } else { 0.0 };
        println!(
            "    {choice:?} {walk:?}: pid {pid} WAIT% {wait:.1}, /proc {proc_rate:.1}% (expected ≈ {expected}%)"
        );
        assert!(
            (wait - proc_rate).abs() <= 10.0,
            "{choice:?} {walk:?}: WAIT% {wait:.1} vs /proc's {proc_rate:.1}"
        );
        if (proc_rate - expected).abs() <= 10.0 {
            assert!(
                (wait - expected).abs() <= 10.0,
                "{choice:?} {walk:?}: WAIT% {wait:.1}, expected {expected} ± 10"
            );
        } else {
            println!("    the machine is busy: /proc shows {proc_rate:.1}% for pid {pid}");
        }
    }
    drop(alone);
}

/// A thread that waited and exited still counts in its process's total
/// (the kernel's taskstats total of exited threads).
fn exited_threads_keep_their_waits(walk: WalkChoice) {
    let w = Workload::simple(&["waits_exit"]);
    let dead: u64 = w.note.parse().unwrap();
    let pid = w.pid();
    let mut s = sampler(BackendChoice::Bpf, walk);
    let before = schedstat(pid, pid).unwrap().0;
    let sample = s.sample().unwrap();
    let after = schedstat(pid, pid).unwrap().0;
    let (delay, _) = run_of(find(&sample, pid));
    // The thread may wait a little more between its last reading and its
    // exit: up to 200 ms on a loaded machine.
    let slack = 200_000_000;
    println!(
        "    {walk:?}: exited thread waited {:.1} ms, process {:.1} ms, leader {:.1} ms",
        dead as f64 / 1e6,
        delay as f64 / 1e6,
        before as f64 / 1e6
    );
    assert!(
        (before + dead..=after + dead + slack).contains(&delay),
        "{walk:?}: process run_delay {delay} outside [{}, {}]",
        before + dead,
        after + dead + slack
    );
}

/// Sets kernel.task_delayacct for as long as it lives, then restores it.
struct DelayAcct(String);

impl DelayAcct {
    const PATH: &'static str = "/proc/sys/kernel/task_delayacct";

    fn set(on: bool) -> Option<DelayAcct> {
        let old = fs::read_to_string(Self::PATH).ok()?;
        fs::write(Self::PATH, if on { "1" } else { "0" }).ok()?;
        Some(DelayAcct(old.trim().to_owned()))
    }
}

impl Drop for DelayAcct {
    fn drop(&mut self) {
        let _ = fs::write(Self::PATH, &self.0);
    }
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf takes a constant.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK) as u64 }
}

/// /proc/PID/stat field 42, delayacct_blkio_ticks.
fn blkio_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    // Field 3 is the first after the comm: field 42 is the 40th from here.
    after_comm.split(' ').nth(39).unwrap().parse().unwrap()
}

/// With delay accounting off, stalls are absent with a reason; on, the
/// block-I/O delay of an O_DIRECT reader is exactly /proc's
/// delayacct_blkio_ticks (the same counter, in clock ticks).
fn blkio_delay_matches_stat(walk: WalkChoice) {
    let Some(off) = DelayAcct::set(false) else {
        common::skip("kernel.task_delayacct cannot be set (no delay accounting, or not root)");
        return;
    };
    let mut s = sampler(BackendChoice::Bpf, walk);
    let first = s.sample().unwrap();
    let model = Model::new(&s.sample().unwrap(), Some(&first), None, &|_| String::new());
    assert!(
        model.stalls_off.is_some(),
        "no reason while delay accounting is off"
    );
    assert!(model.processes.iter().all(|p| p.waits.stalls.is_none()));
    drop(off);

    let _on = DelayAcct::set(true).unwrap();
    // On the root file system: tmpfs has no O_DIRECT.
    let path = format!("/var/tmp/bpftop-oracle-direct.{}", std::process::id());
    fs::write(&path, vec![0x5a_u8; 16 << 20]).unwrap();
    let reader = Workload::simple(&["direct_read", &path]);
    let _ = fs::remove_file(&path);
    let sample = s.sample().unwrap();
    let p = find(&sample, reader.pid());
    let stalls = p
        .waits
        .stalls
        .expect("stalls measured while delay accounting is on");
    let ticks = blkio_ticks(reader.pid());
    let per_tick = 1_000_000_000 / clock_ticks();
    println!(
        "    {walk:?}: O_DIRECT reader blkio delay {:.1} ms ({} ticks), /proc/PID/stat: {ticks} ticks",
        stalls.blkio_ns as f64 / 1e6,
        stalls.blkio_ns / per_tick
    );
    if stalls.blkio_ns == 0 && ticks == 0 {
        common::skip("the O_DIRECT reads never waited for the disk");
        return;
    }
    assert!(
        stalls.blkio_ns / per_tick == ticks
            || (stalls.blkio_ns + stalls.swapin_ns) / per_tick == ticks,
        "{walk:?}: blkio {} ns vs /proc's {ticks} ticks",
        stalls.blkio_ns
    );
}
