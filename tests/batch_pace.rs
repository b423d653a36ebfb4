//! Batch mode keeps the rate its delay asks for, or says once on stderr
//! that it cannot, with the rate it achieves.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bpftop");

/// The least time between two snapshots read here: `-d 10` asks for 100 a
/// second, this reader takes at most 25.
const READ_EVERY: Duration = Duration::from_millis(40);

/// Snapshots printed: two windows of ten intervals and a little more.
const SNAPSHOTS: usize = 24;

/// The rate in "… N snapshots a second instead of M", as (N, M).
fn rates_said(line: &str) -> Option<(f64, f64)> {
    let (head, asked) = line.split_once(" snapshots a second instead of ")?;
    let achieved = head.rsplit(' ').next()?.parse().ok()?;
    Some((achieved, asked.trim().parse().ok()?))
}

#[test]
fn a_rate_that_cannot_be_kept_is_said_once_with_the_rate_achieved() {
    // The snapshots go into a pipe of one page, which this test empties no
    // faster than one snapshot per READ_EVERY: however fast the build and
    // the machine, batch mode cannot print 100 a second, and a loaded
    // machine only makes it slower. Only this test's own process is
    // printed, so a snapshot is small whatever runs beside.
    let own = std::process::id().to_string();
    let count = SNAPSHOTS.to_string();
    let mut child = Command::new(BIN)
        .args(["--batch", "--format", "json", "-d", "10", "-n", &count])
        .args(["-p", &own])
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // SAFETY: fcntl on a pipe this process owns; it only resizes the pipe.
    let size = unsafe { libc::fcntl(stdout.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) };
    assert!(size >= 4096, "cannot shrink the pipe: {size}");
    assert!(
        size <= 4096,
        "the pipe holds {size} bytes, more than a page"
    );
    let mut stderr = child.stderr.take().unwrap();
    let errors = thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });

    let mut arrivals = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        assert!(line.starts_with("{\"time\":"), "not a snapshot: {line}");
        arrivals.push(Instant::now());
        thread::sleep(READ_EVERY);
    }
    let status = child.wait().unwrap();
    let stderr = errors.join().unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(arrivals.len(), SNAPSHOTS, "{stderr}");

    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("snapshots a second"))
        .collect();
    assert_eq!(said.len(), 1, "said once, not {}: {stderr}", said.len());
    assert!(said[0].contains("delay of 10 ms"), "{}", said[0]);
    let (achieved, asked) = rates_said(said[0]).expect(said[0]);
    assert_eq!(asked, 100.0, "{}", said[0]);
    // The rate said against the one seen here (the reader sets it).
    let first = arrivals[0];
    let last = arrivals[arrivals.len() - 1];
    let seen = (arrivals.len() - 1) as f64 / last.duration_since(first).as_secs_f64();
    assert!(seen < 30.0, "read {seen:.1} a second, faster than allowed");
    assert!(
        achieved > seen / 2.0 && achieved < seen * 2.0,
        "said {achieved:.1} a second, seen {seen:.1}: {}",
        said[0]
    );
}

#[test]
fn rates_are_read_from_the_message() {
    let line = "bpftop: a refresh takes longer than the delay of 10 ms: 23.4 snapshots a \
                second instead of 100.0";
    assert_eq!(rates_said(line), Some((23.4, 100.0)));
    assert_eq!(rates_said("bpftop: something else"), None);
}
