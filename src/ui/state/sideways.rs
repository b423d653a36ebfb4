//! Scrolling the table sideways (← →) when its columns are wider than the
//! screen, as htop does: how wide the table is, and how far it scrolls.

use crate::ui::columns::{CellContext, Column};
use crate::ui::rows::tree_prefix;
use crate::ui::state::view::ViewState;
use crate::ui::text;

impl ViewState {
    /// ← (-1) and → (1): scrolls the table a step sideways, no further
    /// than its right edge.
    pub fn scroll_sideways(&mut self, direction: i32) {
        let columns = self.shown_columns().into_owned();
        let (laid_out, _) = sideways_view(self, &columns, self.page_width);
        let most = laid_out.saturating_sub(self.page_width);
        let at = self.sideways.min(most);
        self.sideways = if direction < 0 {
            at.saturating_sub(SIDEWAYS_STEP)
        } else {
            at.saturating_add(SIDEWAYS_STEP).min(most)
        };
    }
}

/// How far ← and → scroll the table, as htop does.
pub const SIDEWAYS_STEP: u16 = 5;

/// The table's own width: the fixed columns, and each flexible one as wide
/// as its widest cell on screen (with the tree drawing before Command), at
/// least 8.
pub fn natural_width(view: &ViewState, columns: &[Column]) -> u16 {
    let fixed: usize = columns
        .iter()
        .filter(|c| c.width() > 0)
        .map(|c| usize::from(c.width()) + 1)
        .sum();
    let Some(model) = view.model.as_deref() else {
        return to_u16(fixed);
    };
    let ctx = CellContext {
        unit_display: view.unit_display(),
        ..CellContext::for_model(model)
    };
    let end = view
        .scroll()
        .saturating_add(view.page_rows)
        .min(view.rows.len());
    let rows = view.rows.get(view.scroll()..end).unwrap_or_default();
    let flexible: usize = columns
        .iter()
        .filter(|c| c.width() == 0)
        .map(|&c| {
            let widest = rows
                .iter()
                .filter_map(|row| {
                    let p = model.processes.get(row.process)?;
                    let cell = text::width(&c.text(p, row.thread, &ctx).text);
                    let prefix = if c == Column::Command && view.tree {
                        text::width(&tree_prefix(row))
                    } else {
                        0
                    };
                    Some(cell + prefix)
                })
                .max()
                .unwrap_or(0);
            widest.max(text::width(c.title()) + 1).max(8) + 1
        })
        .sum();
    to_u16(fixed + flexible)
}

/// The table as drawn `width` columns wide: the width its columns are laid
/// out in (its natural width, when wider), and how many columns of it are
/// scrolled off the left edge.
pub fn sideways_view(view: &ViewState, columns: &[Column], width: u16) -> (u16, u16) {
    let natural = natural_width(view, columns);
    let laid_out = natural.max(width);
    let offset = view.sideways().min(laid_out - width);
    (laid_out, offset)
}

fn to_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}
