//! The last gate before the terminal: every cell of every frame (table,
//! header, dialogs, status line, whatever a future screen draws) passes
//! through [`SafeBackend`], so no call site can forget to sanitise a
//! process-, user- or cgroup-controlled string.
//!
//! ratatui lays text out before it reaches the backend, so a replacement
//! must occupy exactly the columns ratatui reserved for the cell; anything
//! else would shift the rest of the row.

use std::io;

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use unicode_width::UnicodeWidthStr;

use crate::present::sanitize::{find_unsafe, is_unsafe};

/// Wraps a backend; cells holding unsafe characters are drawn as their safe
/// characters, or as '?'s where dropping the unsafe ones would change the
/// cell's width.
pub struct SafeBackend<B> {
    inner: B,
}

impl<B> SafeBackend<B> {
    pub fn new(inner: B) -> SafeBackend<B> {
        SafeBackend { inner }
    }

    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// The wrapped backend, for escape sequences bpftop composes itself from
    /// safe parts (the OSC 52 yank, whose payload is base64); never for text.
    pub fn composed_sequences(&mut self) -> &mut B {
        &mut self.inner
    }
}

/// What to print instead of `symbol`, or None when it is safe as it is.
fn replacement(symbol: &str) -> Option<String> {
    // Nothing to replace: most cells.
    find_unsafe(symbol)?;
    // The columns the terminal must advance: ratatui moves on as if the
    // cell were this wide (and always at least one column).
    let columns = symbol.width().max(1);
    let kept: String = symbol.chars().filter(|&c| !is_unsafe(c)).collect();
    if kept.width() == columns {
        Some(kept)
    } else {
        Some("?".repeat(columns))
    }
}

impl<B: Backend> Backend for SafeBackend<B> {
    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let cells: Vec<(u16, u16, &Cell)> = content.collect();
        let replaced: Vec<Option<Cell>> = cells
            .iter()
            .map(|(_, _, cell)| {
                replacement(cell.symbol()).map(|symbol| {
                    let mut safe = (*cell).clone();
                    safe.set_symbol(&symbol);
                    safe
                })
            })
            .collect();
        self.inner.draw(
            cells
                .iter()
                .zip(&replaced)
                .map(|(&(x, y, cell), safe)| (x, y, safe.as_ref().unwrap_or(cell))),
        )
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::text::Line;
    use ratatui::widgets::{Block, Borders, Paragraph};
    use ratatui::Terminal;

    const HOSTILE: &str = "a\x1b]2;T\x07b\u{9b}2Jc\u{202e}d\u{1f468}\u{200d}\u{1f469}e";

    /// Draws `text` in a bordered paragraph and returns each row as the
    /// terminal would receive it, with the symbols concatenated.
    fn drawn(text: &str, width: u16) -> Vec<String> {
        let backend = SafeBackend::new(TestBackend::new(width, 3));
        let mut terminal = Terminal::new(backend).unwrap();
        terminal
            .draw(|frame| {
                let p =
                    Paragraph::new(Line::raw(text)).block(Block::default().borders(Borders::ALL));
                frame.render_widget(p, frame.area());
            })
            .unwrap();
        let buffer = terminal.backend().inner().buffer().clone();
        (0..buffer.area.height)
            .map(|y| {
                let mut row = String::new();
                let mut skip = 0;
                for x in 0..buffer.area.width {
                    let symbol = buffer[(x, y)].symbol();
                    if skip > 0 {
                        skip -= 1;
                        continue;
                    }
                    row.push_str(symbol);
                    skip = symbol.width().saturating_sub(1);
                }
                row
            })
            .collect()
    }

    #[test]
    fn no_unsafe_character_reaches_the_terminal() {
        for width in [4, 10, 20, 40] {
            for row in drawn(HOSTILE, width) {
                assert!(!row.chars().any(is_unsafe), "{row:?}");
                // Every row is exactly as wide as the terminal: nothing
                // after a replaced cell moved.
                assert_eq!(row.width(), usize::from(width), "{row:?}");
            }
        }
    }

    #[test]
    fn replacements_keep_the_reserved_width() {
        assert_eq!(replacement("x"), None);
        assert_eq!(replacement("\u{65e5}"), None);
        assert_eq!(replacement("e\u{202e}").as_deref(), Some("e"));
        assert_eq!(replacement("\x1b").as_deref(), Some("?"));
        // A ZWJ sequence is two columns to ratatui, more to most
        // terminals once split: two '?'.
        assert_eq!(
            replacement("\u{1f468}\u{200d}\u{1f469}").as_deref(),
            Some("??")
        );
    }

    #[test]
    fn the_right_border_stays_in_place() {
        let rows = drawn(HOSTILE, 30);
        assert!(
            rows[1].starts_with('\u{2502}') && rows[1].ends_with('\u{2502}'),
            "{:?}",
            rows[1]
        );
    }
}
