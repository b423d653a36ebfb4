//! gu: systemd units and containers as rows, each with its processes' CPU
//! and memory and its own cgroup's pressure, limits, throttling and memory
//! events. The rows come from the model each time they are shown; only the
//! selection and the sort are kept.

use std::cmp::Ordering;

use crate::model::{Model, UnitView};
use crate::present::format::column_size;
use crate::ui::rows::Group;

/// The table's columns, in screen order (NAME last: it takes the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitColumn {
    Processes,
    Cpu,
    Memory,
    CpuPressure,
    MemoryPressure,
    IoPressure,
    Throttled,
    CpuMax,
    MemoryMax,
    MemoryHigh,
    OomKills,
    HighEvents,
    Exits,
    Forks,
    Execs,
    Name,
}

/// (column, title, width); the last one's width is a minimum.
pub const COLUMNS: &[(UnitColumn, &str, usize)] = &[
    (UnitColumn::Processes, "PROCS", 5),
    (UnitColumn::Cpu, "CPU%", 6),
    (UnitColumn::Memory, "MEM", 6),
    (UnitColumn::CpuPressure, "PSIcpu", 6),
    (UnitColumn::MemoryPressure, "PSImem", 6),
    (UnitColumn::IoPressure, "PSIio", 6),
    (UnitColumn::Throttled, "THR%", 5),
    (UnitColumn::CpuMax, "CPUMAX", 6),
    (UnitColumn::MemoryMax, "MEMMAX", 6),
    (UnitColumn::MemoryHigh, "MEMHI", 6),
    (UnitColumn::OomKills, "OOM", 4),
    (UnitColumn::HighEvents, "HIGH", 5),
    (UnitColumn::Exits, "EXIT/s", 6),
    (UnitColumn::Forks, "FORK/s", 6),
    (UnitColumn::Execs, "EXEC/s", 6),
    (UnitColumn::Name, "UNIT/CONTAINER", 14),
];

/// The open table: which row is selected and how the rows are sorted.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitsTable {
    pub selected: usize,
    pub sort: UnitColumn,
    pub descending: bool,
    /// `g` was typed: a following `u` closes the table.
    pub pending_g: bool,
}

impl Default for UnitsTable {
    fn default() -> Self {
        UnitsTable {
            selected: 0,
            sort: UnitColumn::Cpu,
            descending: true,
            pending_g: false,
        }
    }
}

impl UnitsTable {
    /// Sorts by `column`, largest first (the name A to Z); again inverts.
    pub fn sort_by(&mut self, column: UnitColumn) {
        if self.sort == column {
            self.descending = !self.descending;
        } else {
            self.sort = column;
            self.descending = column != UnitColumn::Name;
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
            self.descending = *column != UnitColumn::Name;
        }
    }
}

/// A column's value for sorting; None sorts below every number.
fn number(u: &UnitView, column: UnitColumn) -> Option<f64> {
    let s = &u.stats;
    match column {
        UnitColumn::Processes => Some(u.processes as f64),
        UnitColumn::Cpu => Some(u.cpu_percent),
        UnitColumn::Memory => Some(u.rss_bytes as f64),
        UnitColumn::CpuPressure => s.cpu_some_avg10,
        UnitColumn::MemoryPressure => s.memory_some_avg10,
        UnitColumn::IoPressure => s.io_some_avg10,
        UnitColumn::Throttled => u.throttled_percent,
        UnitColumn::CpuMax => s.cpu_max.and_then(|m| m.cpus()),
        UnitColumn::MemoryMax => s.memory_max.and_then(|l| l.bytes()).map(|b| b as f64),
        UnitColumn::MemoryHigh => s.memory_high.and_then(|l| l.bytes()).map(|b| b as f64),
        UnitColumn::OomKills => s.oom_kills.map(|n| n as f64),
        UnitColumn::HighEvents => s.high_events.map(|n| n as f64),
        UnitColumn::Exits => u.exits_per_second,
        UnitColumn::Forks => u.forks_per_second,
        UnitColumn::Execs => u.execs_per_second,
        UnitColumn::Name => None,
    }
}

fn compare(a: &UnitView, b: &UnitView, column: UnitColumn) -> Ordering {
    let by_value = if column == UnitColumn::Name {
        a.label.cmp(&b.label)
    } else {
        match (number(a, column), number(b, column)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (x, y) => x.is_some().cmp(&y.is_some()),
        }
    };
    by_value.then_with(|| a.label.cmp(&b.label))
}

/// The model's units in the table's order.
pub fn sorted<'m>(model: &'m Model, table: &UnitsTable) -> Vec<&'m UnitView> {
    let mut rows: Vec<&UnitView> = model.units.iter().collect();
    rows.sort_by(|a, b| {
        let o = compare(a, b, table.sort);
        if table.descending {
            o.reverse()
        } else {
            o
        }
    });
    rows
}

/// The selected unit as the process list's group filter (what O sets).
pub fn group_of(u: &UnitView) -> Group {
    if u.is_container {
        Group::Container(u.label.clone())
    } else {
        Group::Unit(u.label.clone())
    }
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

/// A cell's text; "-" where the cgroup does not say (or has no limit).
pub fn cell(u: &UnitView, column: UnitColumn) -> String {
    let s = &u.stats;
    let size = |l: Option<crate::collect::sample::Limit>| match l {
        None => "-".to_owned(),
        Some(crate::collect::sample::Limit::Unlimited) => "max".to_owned(),
        Some(crate::collect::sample::Limit::Bytes(b)) => column_size(b),
    };
    match column {
        UnitColumn::Processes => u.processes.to_string(),
        UnitColumn::Cpu => format!("{:.1}", u.cpu_percent),
        UnitColumn::Memory => column_size(u.rss_bytes),
        UnitColumn::CpuPressure => percent(s.cpu_some_avg10),
        UnitColumn::MemoryPressure => percent(s.memory_some_avg10),
        UnitColumn::IoPressure => percent(s.io_some_avg10),
        UnitColumn::Throttled => percent(u.throttled_percent),
        UnitColumn::CpuMax => match s.cpu_max {
            None => "-".to_owned(),
            Some(m) => m
                .cpus()
                .map_or_else(|| "max".to_owned(), |c| format!("{c:.2}")),
        },
        UnitColumn::MemoryMax => size(s.memory_max),
        UnitColumn::MemoryHigh => size(s.memory_high),
        UnitColumn::OomKills => s
            .oom_kills
            .map_or_else(|| "-".to_owned(), |n| n.to_string()),
        UnitColumn::HighEvents => s
            .high_events
            .map_or_else(|| "-".to_owned(), |n| n.to_string()),
        UnitColumn::Exits => percent(u.exits_per_second),
        UnitColumn::Forks => percent(u.forks_per_second),
        UnitColumn::Execs => percent(u.execs_per_second),
        UnitColumn::Name => u.label.clone(),
    }
}

/// Why some cells read "-" for every row, when a controller is missing on
/// cgroup v2 (the first unit's reason: they share the hierarchy).
pub fn note(model: &Model) -> Option<&str> {
    model
        .units
        .iter()
        .find_map(|u| u.stats.unavailable.as_deref())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::collect::sample::{CpuMax, Limit, UnitCgroupStats};

    pub(crate) fn unit(label: &str, cpu: f64, stats: UnitCgroupStats) -> UnitView {
        UnitView {
            path: Arc::from(format!("/system.slice/{label}")),
            label: label.to_owned(),
            is_container: false,
            unit_name: Some(label.to_owned()),
            cpu_percent: cpu,
            rss_bytes: 1 << 20,
            processes: 2,
            stats: Arc::new(stats),
            cgroup_cpu_percent: None,
            throttled_percent: None,
            throttles_per_second: None,
            first_pid: 1,
            exits_per_second: None,
            forks_per_second: None,
            execs_per_second: None,
        }
    }

    #[test]
    fn unknown_values_sort_below_numbers_and_cells_say_dash() {
        let mut model = crate::model::testing::model_of(Vec::new());
        let limited = UnitCgroupStats {
            cpu_max: Some(CpuMax {
                quota_usec: Some(20_000),
                period_usec: 100_000,
            }),
            memory_max: Some(Limit::Unlimited),
            ..Default::default()
        };
        model.units = vec![
            unit("a.service", 5.0, UnitCgroupStats::default()),
            unit("b.service", 1.0, limited),
        ];
        let mut table = UnitsTable::default();
        let names = |t: &UnitsTable| -> Vec<String> {
            sorted(&model, t).iter().map(|u| u.label.clone()).collect()
        };
        assert_eq!(names(&table), ["a.service", "b.service"]);
        table.sort_by(UnitColumn::CpuMax);
        assert_eq!(names(&table), ["b.service", "a.service"]);
        table.sort_by(UnitColumn::CpuMax);
        assert_eq!(names(&table), ["a.service", "b.service"]);
        let b = &model.units[1];
        assert_eq!(cell(b, UnitColumn::CpuMax), "0.20");
        assert_eq!(cell(b, UnitColumn::MemoryMax), "max");
        assert_eq!(cell(b, UnitColumn::MemoryHigh), "-");
        assert_eq!(group_of(b), Group::Unit("b.service".to_owned()));
    }
}
