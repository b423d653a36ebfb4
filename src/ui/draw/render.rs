//! Drawing: a pure function of the view state. Only the visible rows are
//! formatted, so a frame costs the same with 300 or 30 000 processes.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::Frame;

use crate::ui::columns::{CellContext, Column, Emphasis};
use crate::ui::draw::dialogs;
use crate::ui::header::render_header;
use crate::ui::rows::tree_prefix;
use crate::ui::state::layout::{column_spans, header_view};
pub use crate::ui::state::layout::{layout, Layout};
use crate::ui::state::screens::SCREEN_NAMES;
use crate::ui::state::sideways::sideways_view;
use crate::ui::state::statusline::{status_line, Tone};
use crate::ui::state::view::{Input, ViewState};
use crate::ui::text::{fit, skip_columns};
use crate::ui::theme::Theme;

fn emphasis_style(theme: &Theme, emphasis: Emphasis) -> Style {
    match emphasis {
        Emphasis::Normal => theme.text,
        Emphasis::Dim => theme.dim,
        Emphasis::Highlight => theme.highlight,
        Emphasis::KernelThread => theme.kernel_thread,
        Emphasis::Thread => theme.thread,
    }
}

/// Draws `text`, `w` columns wide at column `x` of a table line scrolled
/// `offset` columns sideways: only the part inside `area`.
#[allow(clippy::too_many_arguments)]
fn put(
    buf: &mut Buffer,
    area: Rect,
    y: u16,
    x: u16,
    w: u16,
    offset: u16,
    text: &str,
    style: Style,
) {
    let (start, end) = (
        i32::from(x) - i32::from(offset),
        i32::from(x) + i32::from(w) - i32::from(offset),
    );
    let right = i32::from(area.width);
    if end <= 0 || start >= right || w == 0 {
        return;
    }
    let skipped = (-start).max(0) as usize;
    let shown = skip_columns(text, skipped);
    let from = start.max(0);
    let n = (end.min(right) - from) as usize;
    buf.set_stringn(area.x + from as u16, y, shown, n, style);
}

fn render_table_header(view: &ViewState, area: Rect, buf: &mut Buffer) {
    let theme = view.theme();
    buf.set_style(area, theme.table_header);
    let columns = view.shown_columns();
    let (laid_out, offset) = sideways_view(view, &columns, area.width);
    for (column, x, w) in column_spans(&columns, laid_out) {
        let sorted = column == view.sort.column;
        let mut title = column.title().to_owned();
        if sorted {
            title.push(if view.sort.descending { '▽' } else { '△' });
        }
        let style = if sorted {
            theme.sorted_header
        } else {
            theme.table_header
        };
        let text = fit(&title, w as usize, column.align_right());
        put(buf, area, area.y, x, w, offset, &text, style);
    }
}

/// The screen tabs, as htop's: "[Main] [I/O]", the one on show stressed.
fn render_tabs(view: &ViewState, area: Rect, buf: &mut Buffer) {
    let theme = view.theme();
    let end = area.x + area.width;
    let mut x = area.x + 1;
    for (i, name) in SCREEN_NAMES.iter().enumerate() {
        let text = format!("[{name}]");
        let style = if i == view.screen() {
            theme.sorted_header
        } else {
            theme.dim
        };
        if x >= end {
            return;
        }
        let n = crate::ui::text::width(&text).min((end - x) as usize);
        buf.set_stringn(x, area.y, &text, n, style);
        x = x.saturating_add(n as u16 + 1);
    }
}

fn render_rows(view: &ViewState, area: Rect, buf: &mut Buffer) {
    let Some(model) = view.model.as_deref() else {
        return;
    };
    let theme = view.theme();
    let ctx = CellContext {
        unit_display: view.unit_display(),
        program_path: view.program_path(),
        ..CellContext::for_model(model)
    };
    let columns = view.shown_columns();
    let (laid_out, offset) = sideways_view(view, &columns, area.width);
    let spans = column_spans(&columns, laid_out);
    let visual = view.visual_range();
    for (line, index) in (view.scroll()..view.rows.len())
        .take(area.height as usize)
        .enumerate()
    {
        let (Some(row), y) = (view.rows.get(index), area.y + line as u16) else {
            break;
        };
        let Some(p) = model.processes.get(row.process) else {
            continue;
        };
        let tagged = view.tagged.contains(&p.sample.key());
        let in_visual = visual.is_some_and(|(a, b)| index >= a && index <= b);
        let row_style = if index == view.cursor {
            Some(theme.selected)
        } else if in_visual {
            Some(theme.visual)
        } else if tagged {
            Some(theme.tagged)
        } else if crate::ui::columns::is_frozen(p) {
            Some(theme.frozen)
        } else {
            None
        };
        let row_area = Rect::new(area.x, y, area.width, 1);
        if let Some(style) = row_style {
            buf.set_style(row_area, style);
        }
        for (column, x, w) in &spans {
            let mut cell = column.text(p, row.thread, &ctx);
            if let (Some(aggregate), true) = (&row.aggregate, view.aggregate_folded()) {
                match *column {
                    Column::CpuPercent => cell.text = format!("{:.1}", aggregate.cpu_percent),
                    Column::MemPercent => cell.text = format!("{:.1}", aggregate.mem_percent),
                    _ => {}
                }
            }
            let mut style = emphasis_style(theme, cell.emphasis);
            if let Some(row_style) = row_style {
                style = style.patch(row_style);
            }
            let text = if *column == Column::Command && view.tree {
                let prefix = tree_prefix(row);
                let prefix_w = crate::ui::text::width(&prefix).min(usize::from(*w)) as u16;
                let prefix = fit(&prefix, usize::from(prefix_w), false);
                let guide_style = row_style.unwrap_or(theme.tree_guide);
                put(buf, area, y, *x, prefix_w, offset, &prefix, guide_style);
                let rest = w.saturating_sub(prefix_w);
                let text = fit(&cell.text, rest as usize, false);
                put(buf, area, y, x + prefix_w, rest, offset, &text, style);
                continue;
            } else {
                fit(&cell.text, *w as usize, column.align_right())
            };
            put(buf, area, y, *x, *w, offset, &text, style);
        }
    }
}

fn render_status(view: &ViewState, area: Rect, buf: &mut Buffer) {
    let Some((text, tone)) = status_line(view) else {
        return;
    };
    let theme = view.theme();
    let style = match tone {
        Tone::Normal => theme.status,
        Tone::Error => theme.error,
        Tone::Quiet => theme.dim,
    };
    let text = fit(
        &crate::ui::text::display_safe(text.as_bytes()),
        area.width as usize,
        false,
    );
    buf.set_stringn(area.x, area.y, text, area.width as usize, style);
}

const FUNCTION_KEYS: &[(&str, &str)] = &[
    ("F1", "Help"),
    ("F2", "Setup"),
    ("F3", "Search"),
    ("F4", "Filter"),
    ("F5", "Tree"),
    ("F6", "SortBy"),
    ("F7", "Nice-"),
    ("F8", "Nice+"),
    ("F9", "Kill"),
    ("F10", "Quit"),
];

/// The key bar while a search is typed, as htop shows it.
const SEARCH_KEYS: &[(&str, &str)] = &[
    ("F3", "Next"),
    ("S-F3", "Prev"),
    ("Enter", "Done"),
    ("Esc", "Done"),
];
/// The key bar's label for `key`: F5 says what it switches to, as htop's
/// does ("List" while the tree is shown).
fn key_label(view: &ViewState, key: &str, label: &'static str) -> &'static str {
    match key {
        "F5" if view.tree => "List",
        _ => label,
    }
}

fn render_keys(view: &ViewState, area: Rect, buf: &mut Buffer) {
    let theme = view.theme();
    let end = area.x + area.width;
    let mut x = area.x;
    let keys = match view.input {
        Input::Search(_) => SEARCH_KEYS,
        _ => FUNCTION_KEYS,
    };
    for &(key, label) in keys {
        let label = key_label(view, key, label);
        for (text, style) in [
            (key.to_string(), theme.key),
            (format!("{label:<6}"), theme.key_label),
        ] {
            if x >= end {
                return;
            }
            let n = crate::ui::text::width(&text).min((end - x) as usize);
            buf.set_stringn(x, area.y, &text, n, style);
            x += n as u16;
        }
    }
}

/// While updates are paused (Z), the key bar ends with the word, as htop's
/// does; it wins over the last function keys on a narrow screen.
fn render_paused(view: &ViewState, area: Rect, buf: &mut Buffer) {
    const PAUSED: &str = " PAUSED ";
    let w = (PAUSED.len() as u16).min(area.width);
    let x = area.x + area.width - w;
    buf.set_stringn(x, area.y, PAUSED, w as usize, view.theme().error);
}

/// Draws the whole screen.
pub fn render(view: &ViewState, frame: &mut Frame) {
    let area = frame.area();
    let buf = frame.buffer_mut();
    draw(view, area, buf);
}

/// Draws into a buffer (what tests call).
pub fn draw(view: &ViewState, area: Rect, buf: &mut Buffer) {
    let parts = layout(area, view);
    if let Some(model) = view.model.as_deref() {
        render_header(&header_view(view, model), parts.header, buf);
    }
    if parts.tabs.height > 0 {
        render_tabs(view, parts.tabs, buf);
    }
    if parts.table_header.height > 0 {
        render_table_header(view, parts.table_header, buf);
    }
    render_rows(view, parts.table, buf);
    if parts.status.height > 0 {
        render_status(view, parts.status, buf);
    }
    if parts.keys.height > 0 {
        render_keys(view, parts.keys, buf);
        if view.paused() {
            render_paused(view, parts.keys, buf);
        }
    }
    if let Some(dialog) = &view.dialog {
        dialogs::render(dialog, view, area, buf);
    }
}
