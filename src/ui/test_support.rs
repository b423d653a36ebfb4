//! Helpers shared by the interface's unit tests.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use super::columns::Column;
use super::rows::SortSpec;
use super::theme::Theme;
use crate::model::{Model, ProcessView};
use crate::ui::state::view::ViewState;

/// Ascending pid: a sort that makes row order obvious in assertions.
pub const BY_PID: SortSpec = SortSpec {
    column: Column::Pid,
    descending: false,
};

/// A monochrome view showing `model`.
pub fn view_of(model: Model) -> ViewState {
    let mut view = ViewState::new(Theme::mono());
    view.set_model(Arc::new(model));
    view
}

/// The pids of the view's rows, top to bottom.
pub fn pids(view: &ViewState) -> Vec<u32> {
    (0..view.rows.len())
        .map(|r| view.row_process(r).unwrap().sample.pid)
        .collect()
}

/// The pids of `m`'s processes sorted by `column`.
pub fn order(m: &Model, column: Column, descending: bool) -> Vec<u32> {
    let mut ps: Vec<&ProcessView> = m.processes.iter().collect();
    let sort = SortSpec { column, descending };
    ps.sort_by(|a, b| sort.compare(a, b));
    ps.iter().map(|p| p.sample.pid).collect()
}
