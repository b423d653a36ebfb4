//! `--format text`: a `top -b`-like summary and process table per refresh.

use std::fmt::Write;

use crate::model::{Model, ProcessView};
use crate::present::sanitize::printable;

/// htop-style human size of a byte count: K below 100 MiB, then M, G, T.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["K", "M", "G", "T"];
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 100_000.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value >= 100.0 {
        format!("{:.0}{}", value, UNITS[unit])
    } else {
        format!("{:.1}{}", value, UNITS[unit])
    }
}

/// TIME+ as top and htop print it: minutes:seconds.hundredths, or hours
/// once it passes 100 minutes.
pub fn time_plus(ns: u64) -> String {
    let hundredths = ns / 10_000_000;
    let (minutes, rest) = (hundredths / 6000, hundredths % 6000);
    if minutes >= 100 {
        format!("{}h{:02}:{:02}", minutes / 60, minutes % 60, rest / 100)
    } else {
        format!("{}:{:02}.{:02}", minutes, rest / 100, rest % 100)
    }
}

fn uptime(seconds: f64) -> String {
    let s = seconds as u64;
    let (days, hours, minutes) = (s / 86400, s / 3600 % 24, s / 60 % 60);
    match days {
        0 => format!("{hours:02}:{minutes:02}"),
        1 => format!("1 day, {hours:02}:{minutes:02}"),
        d => format!("{d} days, {hours:02}:{minutes:02}"),
    }
}

/// The command as htop shows it: argv joined by spaces, or `[comm]` for
/// kernel threads and processes without a command line.
pub fn command(p: &ProcessView) -> String {
    let s = &p.sample;
    if s.cmdline.is_empty() {
        return format!("[{}]", printable(&s.comm));
    }
    let args: Vec<String> = s.cmdline.iter().map(|a| printable(a)).collect();
    args.join(" ")
}

/// top's order: by CPU%, busiest first, then by PID.
pub fn top_order(a: &ProcessView, b: &ProcessView) -> std::cmp::Ordering {
    b.cpu_percent
        .total_cmp(&a.cpu_percent)
        .then(a.sample.pid.cmp(&b.sample.pid))
}

/// One refresh as text, ending in a newline, with the processes `rows` in
/// that order.
pub fn render(model: &Model, rows: &[&ProcessView]) -> String {
    let s = &model.system;
    let mut out = String::new();
    let backend = match &model.fallback_reason {
        None => model.backend.name().to_owned(),
        Some(reason) => format!(
            "{} ({})",
            model.backend.name(),
            printable(reason.as_bytes())
        ),
    };
    let _ = writeln!(
        out,
        "bpftop - up {}, load average: {:.2}, {:.2}, {:.2}, backend: {}",
        uptime(s.uptime_seconds),
        s.load[0],
        s.load[1],
        s.load[2],
        backend
    );
    let _ = writeln!(
        out,
        "Tasks: {} total, {} threads, {} kthreads, {} running",
        s.tasks, s.threads, s.kernel_threads, s.running
    );
    let _ = writeln!(out, "CPU: {:5.1}% of {} CPUs", s.cpu_percent, s.cpus);
    let _ = writeln!(
        out,
        "Mem: {} total, {} used, {} buffers, {} cache, {} available",
        human_bytes(s.mem_total_bytes),
        human_bytes(s.mem_used_bytes),
        human_bytes(s.mem_buffers_bytes),
        human_bytes(s.mem_cache_bytes),
        human_bytes(s.mem_available_bytes)
    );
    let _ = write!(
        out,
        "Swp: {} total, {} used",
        human_bytes(s.swap_total_bytes),
        human_bytes(s.swap_used_bytes)
    );
    if let Some(z) = &s.zram {
        let _ = write!(
            out,
            ", zram {} stored in {}",
            human_bytes(z.orig_bytes),
            human_bytes(z.used_bytes)
        );
    }
    out.push_str("\n\n");
    let _ = writeln!(
        out,
        "{:>7} {:<9} {:>3} {:>3} {:>6} {:>6} {:>6} S {:>5} {:>5} {:>9}  Command",
        "PID", "USER", "PRI", "NI", "VIRT", "RES", "SHR", "CPU%", "MEM%", "TIME+"
    );
    for p in rows {
        let s = &p.sample;
        let user: String = printable(p.user.as_bytes()).chars().take(9).collect();
        let _ = writeln!(
            out,
            "{:>7} {:<9} {:>3} {:>3} {:>6} {:>6} {:>6} {} {:>5.1} {:>5.1} {:>9}  {}",
            s.pid,
            user,
            s.priority,
            s.nice,
            human_bytes(s.virt_bytes),
            human_bytes(s.rss_bytes),
            human_bytes(s.shared_bytes),
            s.state,
            p.cpu_percent,
            p.mem_percent,
            time_plus(s.cpu_time_ns()),
            command(p)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_htop() {
        assert_eq!(human_bytes(0), "0K");
        assert_eq!(human_bytes(4096), "4K");
        assert_eq!(human_bytes(99_999 * 1024), "99999K");
        assert_eq!(human_bytes(100_000 * 1024), "97.7M");
        assert_eq!(human_bytes(3 << 30), "3072M");
        assert_eq!(human_bytes(200 << 30), "200G");
    }

    #[test]
    fn time_plus_reads_like_top() {
        assert_eq!(time_plus(0), "0:00.00");
        assert_eq!(time_plus(61_230_000_000), "1:01.23");
        assert_eq!(
            time_plus(2 * 3600 * 1_000_000_000 + 5 * 60 * 1_000_000_000),
            "2h05:00"
        );
    }
}
