//! Keys shared by the list-like dialogs: closing, and moving a selection.

use crossterm::event::{KeyCode, KeyEvent};

/// `selected` moved by `delta` within a list of `len` items.
pub(in crate::ui::input) fn step(selected: usize, len: usize, delta: isize) -> usize {
    if len == 0 {
        return 0;
    }
    selected
        .saturating_add_signed(delta)
        .min(len.saturating_sub(1))
}

/// Esc, q and F10 close a dialog.
pub(in crate::ui::input) fn is_close(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Esc | KeyCode::Char('q') | KeyCode::F(10))
}

/// How far a movement key moves the selection.
pub(in crate::ui::input) fn vertical(key: &KeyEvent) -> Option<isize> {
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => Some(-1),
        KeyCode::Down | KeyCode::Char('j') => Some(1),
        KeyCode::PageUp => Some(-10),
        KeyCode::PageDown => Some(10),
        KeyCode::Home => Some(isize::MIN / 2),
        KeyCode::End => Some(isize::MAX / 2),
        _ => None,
    }
}
