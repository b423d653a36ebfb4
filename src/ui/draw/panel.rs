//! Drawing an inspection panel (e, l, s) over the whole screen: the
//! title, column titles if any, the lines from the scroll position (the
//! newest ones while a trace follows its end), the line a search found
//! drawn selected, and at the bottom the panel's message, the search being
//! typed, or its keys.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::ui::state::panel::{Inspect, Panel};
use crate::ui::text::fit;
use crate::ui::theme::Theme;

/// The index of the first line shown, with `rows` lines of room.
pub fn first_shown(panel: &Panel, rows: usize) -> usize {
    let last_page = panel.lines.len().saturating_sub(rows);
    if panel.follow_end {
        last_page
    } else {
        panel.scroll.min(last_page)
    }
}

pub fn render(panel: &Panel, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.width < 3 || area.height < 3 {
        return;
    }
    Clear.render(area, buf);
    let inner_width = area.width.saturating_sub(2) as usize;
    let mut rows = area.height.saturating_sub(2) as usize;
    let mut text: Vec<Line> = Vec::new();
    if let Some(header) = &panel.header {
        text.push(Line::styled(
            fit(header, inner_width, false),
            theme.table_header,
        ));
        rows = rows.saturating_sub(1);
    }
    let message = panel.message.as_ref().map(|m| {
        let style = if panel.failed {
            theme.error
        } else {
            theme.status
        };
        Line::styled(fit(m, inner_width, false), style)
    });
    if message.is_some() {
        rows = rows.saturating_sub(1);
    }
    let first = first_shown(panel, rows);
    text.extend(
        panel
            .lines
            .iter()
            .enumerate()
            .skip(first)
            .take(rows)
            .map(|(i, l)| {
                let style = if Some(i) == panel.found {
                    theme.selected
                } else {
                    Style::default()
                };
                Line::styled(fit(l, inner_width, false), style)
            }),
    );
    if let Some(message) = message {
        text.push(message);
    }
    let bottom = match &panel.typing {
        Some(t) => format!(" Search: {t}▏ Enter: keep, Esc: cancel "),
        None => {
            let shown = panel.lines.len().min(rows);
            let range = if panel.lines.is_empty() {
                "no lines".to_owned()
            } else {
                format!("{}–{} of {}", first + 1, first + shown, panel.lines.len())
            };
            let end = if panel.what == Inspect::Trace {
                " End: follow,"
            } else {
                ""
            };
            format!(" {range} — ↑↓ PgUp PgDn,{end} /: search, n: next, Esc: close ")
        }
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(
            fit(&format!(" {} ", panel.title()), inner_width, false)
                .trim_end()
                .to_owned(),
            theme.dialog_title,
        ))
        .title_bottom(Line::styled(
            fit(&bottom, inner_width, false).trim_end().to_owned(),
            theme.dialog_title,
        ))
        .style(theme.dialog);
    Paragraph::new(text).block(block).render(area, buf);
}
