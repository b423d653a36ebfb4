//! Where each part of the screen goes, computed from the view alone, so
//! that drawing and mouse clicks agree on it.

use ratatui::layout::Rect;

use crate::model::Model;
use crate::ui::columns::Column;
use crate::ui::header::{header_height, HeaderView};
use crate::ui::state::statusline::status_line;
use crate::ui::state::view::ViewState;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub header: Rect,
    /// The screen tabs (Main, I/O); no height on small terminals.
    pub tabs: Rect,
    pub table_header: Rect,
    pub table: Rect,
    pub status: Rect,
    pub keys: Rect,
}

/// Splits the screen: header meters (at most half of it; none when hidden
/// with `#`), the screen tabs (where the table keeps at least
/// [`TABS_MIN_ROWS`] rows), column titles, the table, a status line when it
/// has something to say, and the function-key bar.
pub fn layout(area: Rect, view: &ViewState) -> Layout {
    let wanted_header = view
        .model
        .as_deref()
        .filter(|_| !view.header_hidden())
        .map(|m| header_height(&header_view(view, m), area.width))
        .unwrap_or(0);
    let header_h = wanted_header.min(area.height / 2);
    let mut y = area.y;
    let mut take = |h: u16| {
        let h = h.min(area.y + area.height - y);
        let r = Rect::new(area.x, y, area.width, h);
        y += h;
        r
    };
    let status_h = u16::from(status_line(view).is_some());
    let header = take(header_h);
    let below_header = area.height.saturating_sub(header_h);
    let tabs_h = u16::from(below_header >= TABS_MIN_ROWS + 4);
    let tabs = take(tabs_h);
    let table_header = take(1);
    let rest = below_header.saturating_sub(tabs_h + 1);
    let table = take(rest.saturating_sub(status_h + 1));
    let status = take(status_h);
    let keys = take(1);
    Layout {
        header,
        tabs,
        table_header,
        table,
        status,
        keys,
    }
}

/// The fewest table rows the screen tabs leave.
pub const TABS_MIN_ROWS: u16 = 3;

/// What the header draws, from the view and its model.
pub fn header_view<'a>(view: &'a ViewState, model: &'a Model) -> HeaderView<'a> {
    HeaderView {
        system: view.meter_system().unwrap_or(&model.system),
        backend: &view.backend_label,
        meters: &view.meters,
        gpus: &model.gpus,
        theme: &view.theme,
    }
}

/// Columns with their x offset and width for a table `width` wide. Fixed
/// columns keep their width; flexible ones (width 0) share what is left,
/// the last flexible one taking the remainder.
pub fn column_spans(columns: &[Column], width: u16) -> Vec<(Column, u16, u16)> {
    let fixed: u16 = columns
        .iter()
        .map(|c| c.width().saturating_add(1))
        .fold(0u16, u16::saturating_add);
    let flexible = columns.iter().filter(|c| c.width() == 0).count() as u16;
    let spare = width.saturating_sub(fixed);
    let mut spans = Vec::with_capacity(columns.len());
    let mut x = 0u16;
    let mut flex_seen = 0;
    for c in columns {
        if x >= width {
            break;
        }
        let w = if c.width() == 0 {
            flex_seen += 1;
            if flex_seen == flexible {
                width.saturating_sub(x)
            } else {
                (spare / flexible.max(1)).max(8)
            }
        } else {
            c.width()
        };
        let w = w.min(width - x);
        spans.push((*c, x, w));
        x = x.saturating_add(w).saturating_add(1);
    }
    spans
}

/// The column under screen column `x` of the table header.
pub fn column_at(columns: &[Column], width: u16, x: u16) -> Option<Column> {
    column_spans(columns, width)
        .into_iter()
        .find(|(_, start, w)| x >= *start && x < start + w + 1)
        .map(|(c, _, _)| c)
}
