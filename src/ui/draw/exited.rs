//! Drawing the exited processes table (X) over the whole screen: the
//! column titles with the sort marked, one line per exit with the selected
//! one highlighted and kept in view, OOM kills and crash loops in their
//! own styles (and named in the EXIT and FAILS cells), and in one line
//! why nothing can be listed when exits are not captured.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::ui::state::exitview::{
    cell, left_aligned, off_reason, sorted, ExitColumn, ExitedTable, COLUMNS,
};
use crate::ui::state::view::ViewState;
use crate::ui::text::fit;

/// One line of the table: numbers right-aligned, text left, Command last.
fn line(texts: impl Iterator<Item = (ExitColumn, String, usize)>, width: usize) -> String {
    let mut out = String::new();
    for (column, text, w) in texts {
        if column == ExitColumn::Command {
            let used = crate::ui::text::width(&out);
            out.push_str(&fit(&text, width.saturating_sub(used), false));
        } else {
            out.push_str(&fit(&text, w, !left_aligned(column)));
            out.push(' ');
        }
    }
    out
}

pub fn render(table: &ExitedTable, view: &ViewState, area: Rect, buf: &mut Buffer) {
    if area.width < 3 || area.height < 4 {
        return;
    }
    let theme = view.theme();
    Clear.render(area, buf);
    let width = area.width.saturating_sub(2) as usize;
    let mut rows = area.height.saturating_sub(3) as usize;
    let history = view.exit_history();
    let exits = sorted(history, view.exits_until(), table);
    let now = view.model.as_deref().map_or(0, |m| m.boottime_ns());
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
    let note = match off_reason(history) {
        Some(reason) => Some((reason, theme.error)),
        None if exits.is_empty() => Some((
            format!("No process exited in the last {} refreshes", history.keep()),
            theme.dim,
        )),
        None => None,
    };
    if let Some((note, style)) = note {
        text.push(Line::styled(fit(&note, width, false), style));
        rows = rows.saturating_sub(1);
    }
    let selected = table.selected.min(exits.len().saturating_sub(1));
    let first = if selected >= rows {
        selected + 1 - rows
    } else {
        0
    };
    text.extend(
        exits
            .iter()
            .enumerate()
            .skip(first)
            .take(rows)
            .map(|(i, e)| {
                let style = if i == selected {
                    theme.selected
                } else if e.exit.process.oom_killed {
                    theme.error
                } else if e.looping() {
                    theme.highlight
                } else {
                    Style::default()
                };
                let row = line(
                    COLUMNS.iter().map(|&(c, _, w)| (c, cell(e, c, now), w)),
                    width,
                );
                Line::styled(fit(&row, width, false), style)
            }),
    );
    let mut title = format!(
        " Exited: {} in the last {} refreshes ",
        exits.len(),
        history.keep()
    );
    if history.trimmed() > 0 {
        title.push_str(&format!("({} older not kept) ", history.trimmed()));
    }
    if history.dropped_total() > 0 {
        title.push_str(&format!(
            "· {} lost: kernel buffer full ",
            history.dropped_total()
        ));
    }
    let bottom = " P M L E C < > I: sort, Esc: close ";
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
