//! `--format text`: a `top -b`-like summary and process table per refresh.

use std::fmt::Write;

use crate::model::{Model, ProcessView};
use crate::present::format::{human_bytes, time_plus, uptime};
use crate::present::sanitize::printable;

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
        uptime(s.uptime_seconds, false),
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
