//! Keys (htop's and vim's) → named [`Action`]s through the key table
//! ([`HELP`](crate::ui::state::keymap::HELP), which the help screen
//! shows), and the keys that edit a search or the filter.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::ui::input::actions::apply;
use crate::ui::input::dialogs as dialog_keys;
use crate::ui::state::keymap::{bindings, Action, Key};
use crate::ui::state::layout::{column_at, Layout};
use crate::ui::state::sideways::sideways_view;
use crate::ui::state::view::{Effect, Input, ViewState};

/// Handles one key press.
pub fn handle_key(view: &mut ViewState, key: KeyEvent) -> Effect {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Effect::Quit;
    }
    if view.dialog.is_some() {
        return dialog_keys::handle_key(view, key);
    }
    match view.input.clone() {
        Input::Search(text) => return search_key(view, key, text),
        Input::Filter(text) => return filter_key(view, key, text),
        Input::None => {}
    }
    if let Some(first) = view.pending.take() {
        return two_key(view, first, key);
    }
    normal_key(view, key)
}

fn normal_key(view: &mut ViewState, key: KeyEvent) -> Effect {
    view.status = None;
    match normal_action(key, view.visual_anchor.is_some()) {
        Some(action) => apply(view, action),
        None => Effect::None,
    }
}

/// The action of a key on the process list, from the key table;
/// `visual`: visual mode is on. Ctrl, Shift and visual-mode bindings win
/// over the plain ones; a first key of a two-key command waits for the
/// second.
fn normal_action(key: KeyEvent, visual: bool) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    let specific = |k: Key| match (k, key.code) {
        (Key::Ctrl(c), KeyCode::Char(d)) => ctrl && c == d,
        (Key::Visual(c), KeyCode::Char(d)) => visual && c == d,
        (Key::ShiftF(n), KeyCode::F(m)) => shift && n == m,
        _ => false,
    };
    let plain = |k: Key| match (k, key.code) {
        (Key::Char(c), KeyCode::Char(d)) => c == d,
        (Key::F(n), KeyCode::F(m)) => n == m,
        (Key::Up, KeyCode::Up)
        | (Key::Down, KeyCode::Down)
        | (Key::PageUp, KeyCode::PageUp)
        | (Key::PageDown, KeyCode::PageDown)
        | (Key::Home, KeyCode::Home)
        | (Key::End, KeyCode::End)
        | (Key::Left, KeyCode::Left)
        | (Key::Right, KeyCode::Right)
        | (Key::Esc, KeyCode::Esc)
        | (Key::Tab, KeyCode::Tab)
        | (Key::BackTab, KeyCode::BackTab) => true,
        _ => false,
    };
    let found = bindings()
        .find(|(k, _)| specific(*k))
        .or_else(|| bindings().find(|(k, _)| plain(*k)));
    if let Some((_, action)) = found {
        return Some(action);
    }
    match key.code {
        KeyCode::Char(c)
            if bindings().any(|(k, _)| matches!(k, Key::Then(first, _) if first == c)) =>
        {
            Some(Action::Prefix(c))
        }
        _ => None,
    }
}

fn two_key(view: &mut ViewState, first: char, key: KeyEvent) -> Effect {
    match two_key_action(first, key) {
        Some(action) => apply(view, action),
        None => Effect::None,
    }
}

/// The action of the second key of a two-key command, from the key table.
fn two_key_action(first: char, key: KeyEvent) -> Option<Action> {
    let KeyCode::Char(second) = key.code else {
        return None;
    };
    bindings()
        .find(|(k, _)| *k == Key::Then(first, second))
        .map(|(_, action)| action)
}

fn search_key(view: &mut ViewState, key: KeyEvent, mut text: String) -> Effect {
    match key.code {
        KeyCode::Esc => view.cancel_search(),
        KeyCode::Enter => view.keep_search(text),
        // Shift-F3 arrives as F15 from some terminals.
        KeyCode::F(3) if key.modifiers.contains(KeyModifiers::SHIFT) => view.search_step(false),
        KeyCode::F(15) => view.search_step(false),
        KeyCode::F(3) => view.search_step(true),
        KeyCode::Backspace => {
            text.pop();
            view.search_typed(text);
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            text.push(c);
            view.search_typed(text);
        }
        _ => {}
    }
    Effect::None
}

fn filter_key(view: &mut ViewState, key: KeyEvent, mut text: String) -> Effect {
    match key.code {
        KeyCode::Esc => {
            view.input = Input::None;
            view.set_filter(String::new());
        }
        KeyCode::Enter => view.input = Input::None,
        KeyCode::Backspace => {
            text.pop();
            view.input = Input::Filter(text.clone());
            view.set_filter(text);
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            text.push(c);
            view.input = Input::Filter(text.clone());
            view.set_filter(text);
        }
        _ => {}
    }
    Effect::None
}

/// Handles a mouse event: wheel scrolls, a click selects a row, a click on
/// a column title sorts by it (again: reverses).
pub fn handle_mouse(
    view: &mut ViewState,
    event: crossterm::event::MouseEvent,
    layout: &Layout,
) -> Effect {
    use crossterm::event::{MouseButton, MouseEventKind};
    if !view.mouse || view.dialog.is_some() {
        return Effect::None;
    }
    let inside = |r: ratatui::layout::Rect| {
        event.column >= r.x
            && event.column < r.x + r.width
            && event.row >= r.y
            && event.row < r.y + r.height
    };
    match event.kind {
        MouseEventKind::ScrollUp => view.move_cursor(-3),
        MouseEventKind::ScrollDown => view.move_cursor(3),
        MouseEventKind::Down(MouseButton::Left) if inside(layout.table) => {
            let row = view.scroll() + (event.row - layout.table.y) as usize;
            if row < view.rows.len() {
                view.select_row(row);
            }
        }
        MouseEventKind::Down(MouseButton::Left) if inside(layout.table_header) => {
            let columns = view.shown_columns().into_owned();
            let (laid_out, offset) = sideways_view(view, &columns, layout.table_header.width);
            let x = event.column - layout.table_header.x + offset;
            if let Some(column) = column_at(&columns, laid_out, x) {
                view.sort_or_invert(column);
            }
        }
        _ => {}
    }
    Effect::None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn modifiers_and_modes_pick_the_action() {
        let plain = KeyModifiers::NONE;
        let u = KeyCode::Char('u');
        assert_eq!(
            normal_action(key(u, plain), false),
            Some(Action::UserChooser)
        );
        let ctrl_u = key(u, KeyModifiers::CONTROL);
        assert_eq!(normal_action(ctrl_u, false), Some(Action::HalfPageUp));
        let y = key(KeyCode::Char('y'), plain);
        assert_eq!(normal_action(y, false), Some(Action::Prefix('y')));
        assert_eq!(normal_action(y, true), Some(Action::Yank('y')));
        let shift_f3 = key(KeyCode::F(3), KeyModifiers::SHIFT);
        assert_eq!(normal_action(shift_f3, false), Some(Action::SearchPrevious));
        let f15 = key(KeyCode::F(15), plain);
        assert_eq!(normal_action(f15, false), Some(Action::SearchPrevious));
        assert_eq!(
            normal_action(key(KeyCode::F(3), plain), false),
            Some(Action::Search)
        );
    }

    #[test]
    fn second_keys_complete_only_their_own_commands() {
        let k = |c| key(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(two_key_action('g', k('G')), Some(Action::GpuView));
        assert_eq!(two_key_action('z', k('C')), Some(Action::FoldSubtree(true)));
        assert_eq!(two_key_action('y', k('p')), Some(Action::Yank('p')));
        assert_eq!(two_key_action('g', k('z')), None);
        assert_eq!(
            two_key_action('z', key(KeyCode::Esc, KeyModifiers::NONE)),
            None
        );
    }
}
