//! Capabilities after loading, with the real binary (as root): batch mode
//! must keep working once bpftop has dropped CAP_BPF, CAP_PERFMON and
//! CAP_SYS_ADMIN, and /proc/PID/status of the running process must show the
//! reduced sets. The test's own TCP traffic, sent only after the drop, must
//! be counted to the byte, so the network counters (map lookups through fds)
//! keep working without the capabilities.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bpftop");

const CAP_DAC_READ_SEARCH: u32 = 2;
const CAP_KILL: u32 = 5;
const CAP_SYS_PTRACE: u32 = 19;
const CAP_SYS_ADMIN: u32 = 21;
const CAP_SYS_NICE: u32 = 23;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

fn status_mask(status: &str, field: &str) -> u64 {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_else(|| panic!("no {field} in status"));
    u64::from_str_radix(hex.trim(), 16).unwrap()
}

fn has(mask: u64, cap: u32) -> bool {
    mask & (1 << cap) != 0
}

/// Whether the kernel still gates every bpf() command (before 6.5, with
/// unprivileged BPF disabled): then bpftop keeps CAP_BPF on purpose.
fn bpf_gate_closed() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release.trim().split(['.', '-']);
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let disabled = std::fs::read_to_string("/proc/sys/kernel/unprivileged_bpf_disabled")
        .map(|s| s.trim() != "0")
        .unwrap_or(true);
    (major, minor) < (6, 5) && disabled
}

/// Keeps a localhost TCP connection busy until stopped; yields the number of
/// bytes this process sent.
fn traffic(stop: Arc<AtomicBool>) -> thread::JoinHandle<u64> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let reader = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        while conn.read(&mut buf).map(|n| n > 0).unwrap_or(false) {}
    });
    thread::spawn(move || {
        let mut conn = TcpStream::connect(addr).unwrap();
        let mut sent = 0;
        while !stop.load(Ordering::Relaxed) {
            conn.write_all(&[b'x'; 4096]).unwrap();
            sent += 4096;
            thread::sleep(Duration::from_millis(20));
        }
        drop(conn);
        reader.join().unwrap();
        sent
    })
}

#[test]
fn batch_mode_runs_with_reduced_capabilities() {
    if !common::is_root() {
        common::skip("needs root (the capabilities to load BPF programs)");
        return;
    }
    // Only this process is printed (it is the one whose traffic is
    // counted): at tens of thousands of processes, fifty full refreshes of
    // JSON would take minutes to parse in a debug build.
    let me = std::process::id();
    let mut child = Command::new(BIN)
        .args(["--batch", "--backend", "bpf", "-n", "50", "-d", "100"])
        .args(["--format", "json", "-p", &me.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // The first line is printed after loading, and the sets are dropped
    // before the first refresh.
    let first = lines.next().expect("no output").unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let eff = status_mask(&status, "CapEff:");
    let prm = status_mask(&status, "CapPrm:");
    println!("running bpftop: CapEff={eff:016x} CapPrm={prm:016x}");
    assert_eq!(status_mask(&status, "CapInh:"), 0);
    assert_eq!(status_mask(&status, "NoNewPrivs:"), 1);
    assert!(eff & !prm == 0);
    let gate = bpf_gate_closed();
    for (cap, name) in [
        (CAP_BPF, "CAP_BPF"),
        (CAP_PERFMON, "CAP_PERFMON"),
        (CAP_SYS_ADMIN, "CAP_SYS_ADMIN"),
    ] {
        if gate && cap == CAP_BPF {
            continue;
        }
        assert!(!has(eff, cap), "{name} still effective: {eff:016x}");
    }
    // Growing the records map loads the programs again: CAP_BPF and
    // CAP_PERFMON stay permitted (not effective); CAP_SYS_ADMIN goes.
    assert!(has(prm, CAP_BPF) && has(prm, CAP_PERFMON), "{prm:016x}");
    assert!(!has(prm, CAP_SYS_ADMIN), "{prm:016x}");
    assert!(has(eff, CAP_DAC_READ_SEARCH), "container metadata needs it");
    assert!(has(eff, CAP_SYS_PTRACE), "DRM fdinfo of others needs it");
    // Batch mode acts on no process.
    assert!(!has(prm, CAP_KILL) && !has(prm, CAP_SYS_NICE));
    println!("(bits 2 dac_read_search, 19 sys_ptrace, 38 perfmon, 39 bpf)");

    let mut last = serde_json::from_str::<serde_json::Value>(&first).unwrap();
    // The traffic starts now that the capabilities are gone and stops at the
    // tenth refresh, so the forty after it see its final total.
    let stop = Arc::new(AtomicBool::new(false));
    let mut traffic = Some(traffic(stop.clone()));
    let mut sent = None;
    let mut count = 1;
    let deadline = Instant::now() + Duration::from_secs(600);
    for line in lines {
        let line = line.unwrap();
        last = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("line {count} is not JSON ({e}): {line}"));
        count += 1;
        if count == 10 {
            stop.store(true, Ordering::Relaxed);
            sent = traffic.take().map(|t| t.join().unwrap());
        }
        assert!(Instant::now() < deadline, "too slow");
    }
    let exit = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(exit.success(), "bpftop failed: {stderr}");
    assert!(
        common::unexpected_stderr(&stderr).is_empty(),
        "stderr: {stderr}"
    );
    assert_eq!(count, 50);
    assert_eq!(last["backend"], "bpf");
    let mine = last["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == me)
        .expect("the test process is listed");
    let sent = sent.expect("the traffic ran");
    assert!(sent > 0);
    assert_eq!(
        mine["net_tx_bytes"].as_u64(),
        Some(sent),
        "bytes sent after the drop, counted: {mine}"
    );
}
