//! The waiting columns' values: run-queue waits (sched_info) and stalls
//! (delay accounting). Each cell is "-", dimmed, where the value is not
//! measured (no sched_info in the kernel; delay accounting off or
//! missing); such processes sort first.

use std::cmp::Ordering;

use super::net::compare_rates;
use super::{percent_cell, Cell};
use crate::model::{ProcessView, StallPercents};

/// WAIT% of the process, or of its thread `thread` on a thread row.
pub(super) fn wait_percent(p: &ProcessView, thread: Option<usize>) -> Option<f64> {
    match thread {
        Some(i) if i < p.thread_wait_percent.len() => p.thread_wait_percent[i],
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
