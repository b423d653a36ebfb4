//! The waiting columns' values: run-queue waits (sched_info) and stalls
//! (delay accounting). Each cell is "-", dimmed, where the value is not
//! measured (no sched_info in the kernel; delay accounting off or
//! missing); such processes sort first.

use std::cmp::Ordering;

use super::net::compare_rates;
use super::{percent_cell, Cell};
use crate::model::{ProcessView, StallPercents};

/// What the setup screen says beside a stall column: how to turn delay
/// accounting on, and what it then counts.
pub const DELAY_ACCOUNTING_NOTE: &str = "needs delay accounting: sysctl kernel.task_delayacct=1 \
     (processes started before count from then on)";

/// Whether column `id` shows a stall (delay accounting).
pub(super) fn is_stall(id: &str) -> bool {
    matches!(
        id,
        "IOWAIT_PERCENT"
            | "SWAPWAIT_PERCENT"
            | "RECLAIM_PERCENT"
            | "THRASH_PERCENT"
            | "COMPACT_PERCENT"
    )
}

/// WAIT% of the process, or of its thread `thread` on a thread row.
pub(super) fn wait_percent(p: &ProcessView, thread: Option<usize>) -> Option<f64> {
    match thread {
        Some(i) if i < p.thread_rates.len() => p.thread_rates[i].wait_percent,
        _ => p.waits.wait_percent,
    }
}

pub(super) fn compare_wait(a: &ProcessView, b: &ProcessView) -> Ordering {
    compare_rates(wait_percent(a, None), wait_percent(b, None))
}

pub(super) fn compare_thread_wait(p: &ProcessView, a: usize, b: usize) -> Ordering {
    compare_rates(wait_percent(p, Some(a)), wait_percent(p, Some(b)))
}

pub(super) fn waits_per_second(p: &ProcessView) -> Option<f64> {
    p.waits.waits_per_second
}

pub(super) fn compare_waits_per_second(a: &ProcessView, b: &ProcessView) -> Ordering {
    compare_rates(waits_per_second(a), waits_per_second(b))
}

/// Whole waits per second (they are counts).
pub(super) fn waits_cell(rate: Option<f64>) -> Cell {
    rate.map_or_else(Cell::absent, |r| {
        let mut cell = percent_cell(r);
        cell.text = format!("{r:.0}");
        cell
    })
}

pub(super) fn share_cell(value: Option<f64>) -> Cell {
    value.map_or_else(Cell::absent, percent_cell)
}

/// One stall's share of the interval; None while stalls are not counted.
pub(super) fn stall(p: &ProcessView, part: fn(&StallPercents) -> f64) -> Option<f64> {
    p.waits.stalls.as_ref().map(part)
}

pub(super) fn compare_stall(
    a: &ProcessView,
    b: &ProcessView,
    part: fn(&StallPercents) -> f64,
) -> Ordering {
    compare_rates(stall(a, part), stall(b, part))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::collect::sample::{RunQueue, ThreadSample, Waits};
    use crate::model::testing::demo_model;
    use crate::model::{ThreadRates, WaitRates};
    use crate::ui::columns::{CellContext, Column, Emphasis};

    const COLUMNS: [&str; 7] = [
        "WAIT_PERCENT",
        "RUN_WAITS",
        "IOWAIT_PERCENT",
        "SWAPWAIT_PERCENT",
        "RECLAIM_PERCENT",
        "THRASH_PERCENT",
        "COMPACT_PERCENT",
    ];

    fn text(id: &str, p: &ProcessView, thread: Option<usize>) -> (String, Emphasis) {
        let ctx = CellContext::for_model(&demo_model());
        let cell = Column::from_id(id).unwrap().text(p, thread, &ctx);
        (cell.text, cell.emphasis)
    }

    fn waiting() -> ProcessView {
        let mut p = demo_model().processes[0].clone();
        p.waits = WaitRates {
            wait_percent: Some(50.04),
            waits_per_second: Some(120.4),
            stalls: Some(StallPercents {
                blkio: 12.5,
                swapin: 0.0,
                reclaim: 3.0,
                thrashing: 0.0,
                compact: 1.0,
            }),
        };
        let thread = ThreadSample {
            tid: p.sample.pid + 1,
            state: 'R',
            comm: b"w".into(),
            processor: 0,
            cpu_time_ns: 0,
            waits: Waits {
                run: Some(RunQueue::default()),
                stalls: None,
            },
        };
        p.sample.thread_list = vec![thread];
        p.thread_rates = vec![ThreadRates {
            cpu_percent: 0.0,
            wait_percent: Some(25.0),
        }];
        p
    }

    #[test]
    fn cells_show_shares_and_waits() {
        let p = waiting();
        let normal = |s: &str| (s.to_owned(), Emphasis::Normal);
        assert_eq!(text("WAIT_PERCENT", &p, None), normal("50.0"));
        assert_eq!(text("WAIT_PERCENT", &p, Some(0)), normal("25.0"));
        assert_eq!(text("RUN_WAITS", &p, None), normal("120"));
        assert_eq!(text("IOWAIT_PERCENT", &p, None), normal("12.5"));
        assert_eq!(text("RECLAIM_PERCENT", &p, None), normal("3.0"));
        assert_eq!(text("COMPACT_PERCENT", &p, None), normal("1.0"));
        assert_eq!(
            text("SWAPWAIT_PERCENT", &p, None),
            ("0.0".to_owned(), Emphasis::Dim)
        );
    }

    #[test]
    fn unmeasured_values_are_dimmed_dashes_and_sort_first() {
        let measured = waiting();
        let mut off = measured.clone();
        off.waits = WaitRates::default();
        off.thread_rates = vec![ThreadRates::default()];
        for id in COLUMNS {
            assert_eq!(
                text(id, &off, None),
                ("-".to_owned(), Emphasis::Dim),
                "{id}"
            );
            let c = Column::from_id(id).unwrap();
            assert_eq!(c.compare_value(&off, &measured), Ordering::Less, "{id}");
        }
        assert_eq!(
            text("WAIT_PERCENT", &off, Some(0)),
            ("-".to_owned(), Emphasis::Dim)
        );
    }

    #[test]
    fn only_stall_columns_carry_the_delay_accounting_note() {
        for id in COLUMNS {
            let note = Column::from_id(id).unwrap().setup_note();
            let stall = !matches!(id, "WAIT_PERCENT" | "RUN_WAITS");
            assert_eq!(note.is_some(), stall, "{id}");
        }
        assert!(DELAY_ACCOUNTING_NOTE.contains("sysctl kernel.task_delayacct=1"));
    }
}
