//! X: the processes that exited in the last refreshes, as rows: who they
//! were, how long they lived, the CPU they used, how they ended (code, or
//! signal, or the OOM killer), their peak memory and their unit, with a
//! count of the same program's failures under the same parent (a crash
//! loop). The rows come from the view's exit history each time they are
//! shown; only the selection and the sort are kept.

use std::cmp::Ordering;

use crate::collect::sample::{ExitCapture, ExitStatus};
use crate::model::exit_history::{ExitHistory, KeptExit};
use crate::present::format::{column_size, time_plus};
use crate::ui::text::display_safe;

/// The table's columns, in screen order (Command last: it takes the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitColumn {
    Pid,
    Ppid,
    User,
    Lifetime,
    Cpu,
    Exit,
    PeakRss,
    Failures,
    Ended,
    Unit,
    Command,
}

/// (column, title, width); the last one's width is a minimum.
pub const COLUMNS: &[(ExitColumn, &str, usize)] = &[
    (ExitColumn::Pid, "PID", 7),
    (ExitColumn::Ppid, "PPID", 7),
    (ExitColumn::User, "USER", 9),
    (ExitColumn::Lifetime, "LIFE", 8),
    (ExitColumn::Cpu, "TIME+", 9),
    (ExitColumn::Exit, "EXIT", 12),
    (ExitColumn::PeakRss, "PEAK", 6),
    (ExitColumn::Failures, "FAILS", 5),
    (ExitColumn::Ended, "ENDED", 6),
    (ExitColumn::Unit, "UNIT", 18),
    (ExitColumn::Command, "Command", 7),
];

/// Columns left-aligned (the rest are numbers, right-aligned).
pub fn left_aligned(column: ExitColumn) -> bool {
    matches!(
        column,
        ExitColumn::User | ExitColumn::Exit | ExitColumn::Unit | ExitColumn::Command
    )
}

/// The open table: which row is selected and how the rows are sorted.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitedTable {
    pub selected: usize,
    pub sort: ExitColumn,
    pub descending: bool,
}

impl Default for ExitedTable {
    /// The newest exit first.
    fn default() -> Self {
        ExitedTable {
            selected: 0,
            sort: ExitColumn::Ended,
            descending: false,
        }
    }
}

/// Whether a first sort on `column` puts the largest first: usage and
/// counts do, names and "ago" do not.
fn descending_first(column: ExitColumn) -> bool {
    !matches!(
        column,
        ExitColumn::User | ExitColumn::Unit | ExitColumn::Command | ExitColumn::Ended
    )
}

impl ExitedTable {
    /// Sorts by `column` in its natural direction; again inverts.
    pub fn sort_by(&mut self, column: ExitColumn) {
        if self.sort == column {
            self.descending = !self.descending;
        } else {
            self.sort = column;
            self.descending = descending_first(column);
        }
    }

    /// The next (`step` 1) or previous (-1) column as the sort.
    pub fn cycle_sort(&mut self, step: isize) {
        let at = COLUMNS
            .iter()
            .position(|(c, _, _)| *c == self.sort)
            .unwrap_or(0);
        let next = (at as isize + step).rem_euclid(COLUMNS.len() as isize) as usize;
        if let Some((column, _, _)) = COLUMNS.get(next) {
            self.sort = *column;
            self.descending = descending_first(*column);
        }
    }
}

/// How bad an ending is, for sorting: clean exits first, then codes by
/// value, then signals by number, the OOM killer's last.
fn severity(e: &KeptExit) -> u32 {
    let p = &e.exit.process;
    if p.oom_killed {
        return 1 << 16;
    }
    match p.status {
        ExitStatus::Code(c) => u32::from(c),
        ExitStatus::Signal { signal, .. } => 256 + u32::from(signal),
    }
}

fn unit_label(e: &KeptExit) -> Option<&str> {
    let info = &e.exit.cgroup.as_ref()?.info;
    info.container_label
        .as_deref()
        .or(info.unit_label.as_deref())
}

fn compare(a: &KeptExit, b: &KeptExit, column: ExitColumn) -> Ordering {
    let (p, q) = (&a.exit.process, &b.exit.process);
    match column {
        ExitColumn::Pid => p.pid.cmp(&q.pid),
        ExitColumn::Ppid => p.ppid.cmp(&q.ppid),
        ExitColumn::User => a.exit.user.cmp(&b.exit.user),
        ExitColumn::Lifetime => a.lifetime_ns().cmp(&b.lifetime_ns()),
        ExitColumn::Cpu => p.cpu_time_ns().cmp(&q.cpu_time_ns()),
        ExitColumn::Exit => severity(a).cmp(&severity(b)),
        ExitColumn::PeakRss => p.peak_rss_bytes.cmp(&q.peak_rss_bytes),
        ExitColumn::Failures => a.failures.cmp(&b.failures),
        // Ascending "ago": the newest first.
        ExitColumn::Ended => q.exit_time_ns.cmp(&p.exit_time_ns),
        ExitColumn::Unit => unit_label(a).cmp(&unit_label(b)),
        ExitColumn::Command => command(a).cmp(&command(b)),
    }
}

/// The kept exits up to refresh `until` (see [`ExitHistory::exits`]) in
/// the table's order.
pub fn sorted<'h>(
    history: &'h ExitHistory,
    until: Option<u64>,
    table: &ExitedTable,
) -> Vec<&'h KeptExit> {
    let mut rows: Vec<&KeptExit> = history.exits(until).collect();
    rows.sort_by(|a, b| {
        let o = compare(a, b, table.sort)
            .then_with(|| {
                b.exit
                    .process
                    .exit_time_ns
                    .cmp(&a.exit.process.exit_time_ns)
            })
            .then_with(|| a.exit.process.pid.cmp(&b.exit.process.pid));
        if table.descending {
            o.reverse()
        } else {
            o
        }
    });
    rows
}

/// How it ended: the code, or the signal's name (with "core" when it
/// dumped one), or "OOM KILL" when the OOM killer chose it.
pub fn ending(e: &KeptExit) -> String {
    let p = &e.exit.process;
    if p.oom_killed {
        return "OOM KILL".to_owned();
    }
    match p.status {
        ExitStatus::Code(c) => c.to_string(),
        ExitStatus::Signal {
            signal,
            core_dumped,
        } => {
            let name = crate::actions::signal::signal_name(i32::from(signal))
                .map_or_else(|| format!("SIG{signal}"), |n| format!("SIG{n}"));
            if core_dumped {
                format!("{name} core")
            } else {
                name
            }
        }
    }
}

/// The command line at its last exec, or [comm] when none was seen.
pub fn command(e: &KeptExit) -> String {
    let p = &e.exit.process;
    if p.cmdline.is_empty() {
        return format!("[{}]", display_safe(&p.comm));
    }
    let words: Vec<String> = p.cmdline.iter().map(|a| display_safe(a)).collect();
    words.join(" ")
}

/// Seconds as "42s", "12m", "3h": how long ago, or how long it lived when
/// over a minute.
fn short_duration(ns: u64) -> String {
    let s = ns / 1_000_000_000;
    match s {
        0..=99 => format!("{s}s"),
        100..=5999 => format!("{}m", s / 60),
        _ => format!("{}h", s / 3600),
    }
}

/// Lifetime: milliseconds under a second (with a decimal under 10 ms),
/// seconds with a decimal up to 100 s, then minutes or hours.
fn lifetime(ns: u64) -> String {
    match ns {
        0..=9_999_999 => format!("{:.1}ms", ns as f64 / 1e6),
        10_000_000..=999_999_999 => format!("{}ms", ns / 1_000_000),
        1_000_000_000..=99_999_999_999 => format!("{:.1}s", ns as f64 / 1e9),
        _ => short_duration(ns),
    }
}

/// A cell's text; `now_ns` is the newest refresh's time (CLOCK_BOOTTIME).
pub fn cell(e: &KeptExit, column: ExitColumn, now_ns: u64) -> String {
    let p = &e.exit.process;
    match column {
        ExitColumn::Pid => p.pid.to_string(),
        ExitColumn::Ppid => p.ppid.to_string(),
        ExitColumn::User => e.exit.user.to_string(),
        ExitColumn::Lifetime => lifetime(e.lifetime_ns()),
        ExitColumn::Cpu => time_plus(p.cpu_time_ns()),
        ExitColumn::Exit => ending(e),
        ExitColumn::PeakRss => column_size(p.peak_rss_bytes),
        ExitColumn::Failures => match e.failures {
            0 => "-".to_owned(),
            n => n.to_string(),
        },
        ExitColumn::Ended => short_duration(now_ns.saturating_sub(p.exit_time_ns)),
        ExitColumn::Unit => unit_label(e).map_or_else(|| "-".to_owned(), str::to_owned),
        ExitColumn::Command => command(e),
    }
}

/// Why the table is empty for good, in one line: exits are not captured
/// (the reason the collector gave).
pub fn off_reason(history: &ExitHistory) -> Option<String> {
    match history.capture() {
        ExitCapture::On { .. } => None,
        ExitCapture::Off { reason } => Some(format!("Exits are not captured: {reason}")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::exit_history::tests::exited;
    use crate::model::exit_history::ExitHistory;
    use crate::model::ExitsView;

    fn kept(status: ExitStatus, oom: bool) -> KeptExit {
        let mut exit = exited(5, 1, "job", status);
        exit.process.oom_killed = oom;
        let mut h = ExitHistory::new(1);
        h.push(&ExitsView {
            processes: vec![exit],
            ..Default::default()
        });
        let first = h.exits(None).next().cloned();
        first.unwrap()
    }

    #[test]
    fn endings_name_codes_signals_and_the_oom_killer() {
        assert_eq!(ending(&kept(ExitStatus::Code(3), false)), "3");
        let segv = ExitStatus::Signal {
            signal: 11,
            core_dumped: true,
        };
        assert_eq!(ending(&kept(segv, false)), "SIGSEGV core");
        let kill = ExitStatus::Signal {
            signal: 9,
            core_dumped: false,
        };
        assert_eq!(ending(&kept(kill, true)), "OOM KILL");
        assert!(severity(&kept(kill, true)) > severity(&kept(segv, false)));
        assert!(severity(&kept(segv, false)) > severity(&kept(ExitStatus::Code(255), false)));
        let e = kept(ExitStatus::Code(0), false);
        assert_eq!(command(&e), "[job]");
        assert_eq!(cell(&e, ExitColumn::Lifetime, 0), "2.5s");
        assert_eq!(lifetime(450_000), "0.5ms");
        assert_eq!(lifetime(12_300_000), "12ms");
        assert_eq!(lifetime(150_000_000_000), "2m");
        assert_eq!(cell(&e, ExitColumn::Ended, 63_600_000_000), "60s");
        assert_eq!(cell(&e, ExitColumn::Failures, 0), "-");
    }

    #[test]
    fn sorting_twice_inverts_and_cycling_sets_the_natural_direction() {
        let mut t = ExitedTable::default();
        t.sort_by(ExitColumn::Cpu);
        assert!(t.descending);
        t.sort_by(ExitColumn::Cpu);
        assert!(!t.descending);
        t.sort = ExitColumn::Failures;
        t.cycle_sort(1);
        assert_eq!((t.sort, t.descending), (ExitColumn::Ended, false));
    }
}
