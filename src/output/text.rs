//! `--format text`: a `top -b`-like summary and process table per refresh.

use std::fmt::Write;

use crate::model::{Model, ProcessView};
use crate::present::format::{human_bytes, uptime, HumanBytes, TimePlus};
use crate::present::sanitize::{printable, printable_str};

/// Appends the command as htop shows it: argv joined by spaces, or
/// `[comm]` for kernel threads and processes without a command line.
fn push_command(out: &mut String, p: &ProcessView) {
    let s = &p.sample;
    if s.cmdline.is_empty() {
        out.push('[');
        push_printable(out, &s.comm);
        out.push(']');
        return;
    }
    for (i, arg) in s.cmdline.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        push_printable(out, arg);
    }
}

/// Appends `bytes` as [`printable_str`] shows them, copying them once.
fn push_printable(out: &mut String, bytes: &[u8]) {
    out.push_str(&printable_str(&String::from_utf8_lossy(bytes)));
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
    // Rows are about 100 bytes: one allocation, no regrowth copying the
    // table so far (30 000 rows are 3 MB).
    let mut out = String::with_capacity(1024 + rows.len() * 128);
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
        let _ = write!(
            out,
            "{:>7} {:<9.9} {:>3} {:>3} {:>6} {:>6} {:>6} {} {:>5.1} {:>5.1} {:>9}  ",
            s.pid,
            printable_str(&p.user),
            s.priority,
            s.nice,
            HumanBytes(s.virt_bytes),
            HumanBytes(s.rss_bytes),
            HumanBytes(s.shared_bytes),
            s.state,
            under_a_twentieth(p.cpu_percent),
            under_a_twentieth(p.mem_percent),
            TimePlus(s.cpu_time_ns()),
        );
        push_command(&mut out, p);
        out.push('\n');
    }
    out
}

/// `x`, or 0 where it prints as "0.0" with one decimal anyway (0 <= x <
/// 0.05): the standard formatter takes its slow exact path (bignums) for
/// such small numbers, which most processes' MEM% are.
fn under_a_twentieth(x: f64) -> f64 {
    if (0.0..0.05).contains(&x) {
        0.0
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::under_a_twentieth;

    /// One decimal of the stand-in is what std prints for the number itself.
    #[test]
    fn small_numbers_print_as_themselves() {
        let below = f64::from_bits(0.05f64.to_bits() - 1);
        let mut xs = vec![
            0.0, 1e-300, 1e-9, 0.0003, 0.0449, 0.0499, below, 0.05, 0.0500001,
        ];
        xs.extend((0..2000).map(|i| f64::from(i) * 0.000_037));
        xs.extend([0.15, 0.25, 0.95, 99.95, -0.01]);
        for x in xs {
            assert_eq!(
                format!("{:>5.1}", under_a_twentieth(x)),
                format!("{x:>5.1}"),
                "{x:e}"
            );
        }
    }
}
