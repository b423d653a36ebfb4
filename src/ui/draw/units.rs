//! Drawing the units and containers table (gu) over the whole screen: the
//! column titles with the sort marked, one line per unit with the selected
//! one highlighted and kept in view, and at the bottom why some values are
//! unknown (a controller not on cgroup v2) or the table's keys.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::model::UnitView;
use crate::ui::state::unitview::{cell, note, sorted, UnitColumn, UnitsTable, COLUMNS};
use crate::ui::state::view::ViewState;
use crate::ui::text::fit;

/// One line of the table: right-aligned numbers, the name last.
fn line(texts: impl Iterator<Item = (UnitColumn, String, usize)>, width: usize) -> String {
    let mut out = String::new();
    for (column, text, w) in texts {
        if column == UnitColumn::Name {
            out.push_str(&fit(
                &text,
                width.saturating_sub(out.chars().count()),
                false,
            ));
        } else {
            out.push_str(&fit(&text, w, true));
            out.push(' ');
        }
    }
    out
}

fn row(u: &UnitView, width: usize) -> String {
    line(COLUMNS.iter().map(|&(c, _, w)| (c, cell(u, c), w)), width)
}

pub fn render(table: &UnitsTable, view: &ViewState, area: Rect, buf: &mut Buffer) {
    if area.width < 3 || area.height < 4 {
        return;
    }
    let theme = view.theme();
    Clear.render(area, buf);
    let width = area.width.saturating_sub(2) as usize;
    let mut rows = area.height.saturating_sub(3) as usize;
    let units = view
        .model
        .as_deref()
        .map(|m| sorted(m, table))
        .unwrap_or_default();
    let note = view.model.as_deref().and_then(note);
    if note.is_some() {
        rows = rows.saturating_sub(1);
    }
    let titles = line(
        COLUMNS.iter().map(|&(c, title, w)| {
            let mark = match (c == table.sort, table.descending) {
                (false, _) => "",
                (true, true) => "▼",
                (true, false) => "▲",
            };
            (c, format!("{title}{mark}"), w)
        }),
        width,
    );
    let mut text = vec![Line::styled(fit(&titles, width, false), theme.table_header)];
    let first = if table.selected >= rows {
        table.selected + 1 - rows
    } else {
        0
    };
    text.extend(
        units
            .iter()
            .enumerate()
            .skip(first)
            .take(rows)
            .map(|(i, u)| {
                let style = if i == table.selected {
                    theme.selected
                } else {
                    Style::default()
                };
                Line::styled(fit(&row(u, width), width, false), style)
            }),
    );
    if let Some(note) = note {
        while text.len() < rows + 1 {
            text.push(Line::raw(""));
        }
        text.push(Line::styled(fit(note, width, false), theme.status));
    }
    let title = format!(" Units and containers: {} ", units.len());
    let bottom = " Enter: its processes, P M < > I: sort, Esc: close ";
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(
            fit(&title, width, false).trim_end().to_owned(),
            theme.dialog_title,
        ))
        .title_bottom(Line::styled(
            fit(bottom, width, false).trim_end().to_owned(),
            theme.dialog_title,
        ))
        .style(theme.dialog);
    Paragraph::new(text).block(block).render(area, buf);
}
