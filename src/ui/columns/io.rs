//! The I/O screen's columns beyond the two storage rates: both rates
//! together, the byte totals, and the I/O priority. Counters the kernel
//! did not let us read show "N/A" and sort first, as the rates do.

use super::{rate_cell, size_cell, Cell, Emphasis};
use crate::collect::sample::ioprio::IoClass;
use crate::collect::sample::IoCounters;
use crate::model::ProcessView;

/// Bytes read and written per second (htop's IO_RATE).
pub(super) fn rate(p: &ProcessView) -> f64 {
    p.io_read_rate + p.io_write_rate
}

pub(super) fn total_rate_cell(p: &ProcessView) -> Cell {
    rate_cell(p, rate(p))
}

/// A byte total of the process's I/O counters, or "N/A".
pub(super) fn total_cell(p: &ProcessView, pick: fn(&IoCounters) -> u64) -> Cell {
    match &p.sample.io {
        Some(io) => size_cell(pick(io)),
        None => Cell::new("N/A".to_owned(), Emphasis::Dim),
    }
}

/// The total as a sort key: unreadable counters first.
pub(super) fn total_key(p: &ProcessView, pick: fn(&IoCounters) -> u64) -> u64 {
    p.sample
        .io
        .as_ref()
        .map_or(0, |io| pick(io).saturating_add(1))
}

/// htop's short form (R0–R7, B0–B7, id); "-" until the process has been
/// on screen for a refresh (its priority is read only there). Realtime
/// stands out, idle recedes.
pub(super) fn priority_cell(p: &ProcessView) -> Cell {
    let Some(io) = p.sample.io_priority else {
        return Cell::absent();
    };
    let emphasis = match io.class {
        IoClass::Realtime => Emphasis::Highlight,
        IoClass::Idle => Emphasis::Dim,
        IoClass::None | IoClass::BestEffort => Emphasis::Normal,
    };
    Cell::new(io.short(p.sample.nice), emphasis)
}

/// From the most urgent: realtime 0–7, best-effort 0–7 (a process with no
/// class at the level its nice value gives it), idle. A priority not read
/// yet counts as no class, so the order barely moves when it is read.
pub(super) fn priority_key(p: &ProcessView) -> u64 {
    let from_nice = (p.sample.nice.clamp(-20, 19) + 20) / 5;
    match p.sample.io_priority {
        Some(io) => match io.class {
            IoClass::Realtime => u64::from(io.level),
            IoClass::BestEffort => 8 + u64::from(io.level),
            IoClass::None => 8 + from_nice as u64,
            IoClass::Idle => 16,
        },
        None => 8 + from_nice as u64,
    }
}
