//! The children's columns: how many of a process's children it started,
//! exec'd and saw exit per second, and the CPU the exited ones used that no
//! row showed. All need the exit capture; without it (or on the first
//! refresh) they show "-".

use super::{percent_cell, Cell, CellContext};
use crate::model::ProcessView;

/// `count` events of the interval per second, whole numbers from 10 on.
pub(super) fn rate_cell(count: u32, ctx: &CellContext) -> Cell {
    let Some(dt) = ctx.exits_interval_s.filter(|&dt| dt > 0.0) else {
        return Cell::absent();
    };
    let rate = f64::from(count) / dt;
    let mut cell = percent_cell(rate);
    if rate >= 10.0 {
        cell.text = format!("{rate:.0}");
    }
    cell
}

/// The exited children's CPU beyond their rows, % of one CPU.
pub(super) fn cpu_cell(p: &ProcessView, ctx: &CellContext) -> Cell {
    if ctx.exits_interval_s.is_none() {
        return Cell::absent();
    }
    percent_cell(p.exited_children_cpu_percent)
}
