//! The test's own reading of /proc: the independent truth the backends are
//! compared with. Deliberately separate from bpftop's parsers.

use std::fs;

pub struct Truth {
    pub state: char,
    pub ppid: u32,
    pub comm: Vec<u8>,
    pub nice: i32,
    pub threads: u32,
    /// utime + stime, seconds.
    pub cpu_seconds: f64,
    pub utime_seconds: f64,
    pub uid: u32,
    pub euid: u32,
    /// Voluntary and involuntary context switches (status).
    pub ctxt: (u64, u64),
    pub rss_bytes: u64,
    pub shared_bytes: u64,
    pub cmdline: Vec<Vec<u8>>,
    pub priority: i32,
    pub tty_nr: u32,
    /// Start time, clock ticks since boot.
    pub start_ticks: u64,
    pub minflt: u64,
    pub majflt: u64,
    pub virt_bytes: u64,
    /// rchar, wchar, read_bytes, write_bytes from /proc/PID/io.
    pub io: [u64; 4],
}

pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }) as f64
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_PAGESIZE) }) as u64
}

pub fn read(pid: u32) -> Option<Truth> {
    let stat = fs::read(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let comm = stat[open + 1..close].to_vec();
    let rest = String::from_utf8_lossy(&stat[close + 2..]).into_owned();
    let f: Vec<&str> = rest.split(' ').collect();
    // f[0] is field 3 (state).
    let field = |n: usize| f.get(n - 3).copied().unwrap_or("");
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let status_field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name));
    let mut uids = status_field("Uid:")?.split_whitespace();
    let uid = uids.next()?.parse().ok()?;
    let euid = uids.next()?.parse().ok()?;
    let ctxt = (
        status_field("voluntary_ctxt_switches:")?
            .trim()
            .parse()
            .ok()?,
        status_field("nonvoluntary_ctxt_switches:")?
            .trim()
            .parse()
            .ok()?,
    );
    let statm = fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let statm: Vec<u64> = statm
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let mut cmdline: Vec<Vec<u8>> = raw.split(|&b| b == 0).map(<[u8]>::to_vec).collect();
    if raw.last() == Some(&0) {
        cmdline.pop();
    }
    if raw.is_empty() {
        cmdline.clear();
    }
    let io_text = fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let io_field = |name: &str| -> Option<u64> {
        io_text
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))?
            .trim()
            .parse()
            .ok()
    };
    let io = [
        io_field("rchar")?,
        io_field("wchar")?,
        io_field("read_bytes")?,
        io_field("write_bytes")?,
    ];
    let ticks: u64 = field(14).parse::<u64>().ok()? + field(15).parse::<u64>().ok()?;
    Some(Truth {
        state: field(3).chars().next()?,
        ppid: field(4).parse().ok()?,
        comm,
        nice: field(19).parse().ok()?,
        threads: field(20).parse().ok()?,
        cpu_seconds: ticks as f64 / ticks_per_second(),
        utime_seconds: field(14).parse::<f64>().ok()? / ticks_per_second(),
        uid,
        euid,
        ctxt,
        rss_bytes: statm.get(1)? * page_size(),
        shared_bytes: statm.get(2)? * page_size(),
        cmdline,
        priority: field(18).parse().ok()?,
        tty_nr: field(7).parse::<i64>().ok()? as u32,
        start_ticks: field(22).parse().ok()?,
        minflt: field(10).parse().ok()?,
        majflt: field(12).parse().ok()?,
        virt_bytes: field(23).parse().ok()?,
        io,
    })
}
