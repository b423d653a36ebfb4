//! Keys (htop's and vim's) → view changes and effects. Every binding is
//! listed in [`HELP`](crate::ui::state::help::HELP), which the help screen shows.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::actions::yank;
use crate::ui::columns::Column;
use crate::ui::input::dialogs as dialog_keys;
use crate::ui::state::dialog::Dialog;
use crate::ui::state::dialogs;
use crate::ui::state::layout::{column_at, Layout};
use crate::ui::state::temporary;
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

fn half_page(view: &ViewState) -> isize {
    (view.page_rows / 2).max(1) as isize
}

fn page(view: &ViewState) -> isize {
    view.page_rows.max(1) as isize
}

fn normal_key(view: &mut ViewState, key: KeyEvent) -> Effect {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    view.status = None;
    match key.code {
        KeyCode::Char('u') if ctrl => view.move_cursor(-half_page(view)),
        KeyCode::Char('d') if ctrl => view.move_cursor(half_page(view)),
        KeyCode::Char('l') if ctrl => return Effect::Clear,
        KeyCode::Up | KeyCode::Char('k') => view.move_cursor(-1),
        KeyCode::Down | KeyCode::Char('j') => view.move_cursor(1),
        KeyCode::PageUp => view.move_cursor(-page(view)),
        KeyCode::PageDown => view.move_cursor(page(view)),
        KeyCode::Home => view.set_cursor(0),
        KeyCode::End | KeyCode::Char('G') => view.set_cursor(usize::MAX),
        // In visual mode y yanks the range at once (as in vim).
        KeyCode::Char('y') if view.visual_anchor.is_some() => return yank(view, 'y'),
        KeyCode::Char(c @ ('g' | 'z' | 'y')) => view.pending = Some(c),
        // Shift-F3 arrives as F3 with Shift, or as F15 (as curses names it).
        KeyCode::F(3) if shift => view.search_again(false),
        KeyCode::F(15) => view.search_again(false),
        KeyCode::Char('/') | KeyCode::F(3) => view.start_search(),
        KeyCode::Char('n') => view.search_again(true),
        KeyCode::Char('N') => temporary::cycle_network(view),
        KeyCode::Char('\\') | KeyCode::F(4) => view.start_filter(),
        KeyCode::F(6) => view.dialog = Some(dialogs::sort_chooser(view)),
        KeyCode::Char('<') => view.cycle_sort(-1),
        KeyCode::Char('>') => view.cycle_sort(1),
        KeyCode::Char('P') => view.sort_or_invert(Column::CpuPercent),
        KeyCode::Char('M') => view.sort_or_invert(Column::MemPercent),
        KeyCode::Char('T') => view.sort_or_invert(Column::Time),
        KeyCode::Char('I') => view.invert_sort(),
        KeyCode::Char('t') | KeyCode::F(5) => view.toggle_tree(),
        KeyCode::Char('+') | KeyCode::Char('=') => view.fold_selected(false),
        KeyCode::Char('-') => view.fold_selected(true),
        KeyCode::Char(' ') => view.tag_and_move(),
        KeyCode::Char('c') => view.tag_with_children(),
        KeyCode::Char('U') => view.untag_all(),
        KeyCode::Char('V') => view.toggle_visual(),
        KeyCode::Esc => view.leave_visual(),
        KeyCode::Char('x') | KeyCode::F(9) => open_signal_menu(view),
        KeyCode::Char('f') => {
            let targets = view.targets();
            match dialogs::freeze_dialog(view, &targets) {
                Ok(dialog) => view.dialog = Some(dialog),
                Err(message) => view.set_status(message, true),
            }
        }
        KeyCode::Char(']') | KeyCode::F(8) => return renice(view, 1),
        KeyCode::Char('[') | KeyCode::F(7) => return renice(view, -1),
        KeyCode::Char('H') => {
            view.toggle_threads();
            return Effect::CollectThreads(view.show_threads);
        }
        KeyCode::Char('K') => view.toggle_kernel_threads(),
        KeyCode::Char('u') => view.dialog = Some(dialogs::user_chooser(view)),
        KeyCode::Char('O') => view.dialog = Some(dialogs::group_chooser(view)),
        KeyCode::Char('o') => view.cycle_unit_display(),
        KeyCode::Char('F') => view.toggle_follow(),
        KeyCode::F(2) | KeyCode::Char('S') => view.dialog = Some(Dialog::setup()),
        KeyCode::F(1) | KeyCode::Char('?') => view.dialog = Some(Dialog::Help { scroll: 0 }),
        KeyCode::Char('q') | KeyCode::F(10) => return Effect::Quit,
        _ => {}
    }
    Effect::None
}

fn two_key(view: &mut ViewState, first: char, key: KeyEvent) -> Effect {
    let KeyCode::Char(second) = key.code else {
        return Effect::None;
    };
    match (first, second) {
        ('g', 'g') => view.set_cursor(0),
        ('g', 'G') => temporary::toggle_gpu(view),
        ('z', 'o') => view.fold_selected(false),
        ('z', 'c') => view.fold_selected(true),
        ('z', 'a') => view.toggle_fold_selected(),
        ('z', 'O') => view.fold_subtree(false),
        ('z', 'C') => view.fold_subtree(true),
        ('z', 'R') => view.unfold_all(),
        ('z', 'M') => view.fold_all(),
        ('y', c) => return yank(view, c),
        _ => {}
    }
    Effect::None
}

fn search_key(view: &mut ViewState, key: KeyEvent, mut text: String) -> Effect {
    match key.code {
        KeyCode::Esc => view.cancel_search(),
        KeyCode::Enter => view.keep_search(text),
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

fn open_signal_menu(view: &mut ViewState) {
    let targets = view.targets();
    if targets.is_empty() {
        view.set_status("no process selected", true);
        return;
    }
    view.dialog = Some(dialogs::signal_menu(targets));
}

fn renice(view: &mut ViewState, delta: i32) -> Effect {
    let targets = view.targets();
    if targets.is_empty() {
        return Effect::None;
    }
    Effect::Renice { targets, delta }
}

/// Text of the selected row, range, or one of its fields.
fn yank(view: &mut ViewState, what: char) -> Effect {
    let text = match what {
        'y' => match view.visual_range() {
            Some((first, last)) => (first..=last)
                .filter_map(|r| dialogs::row_text(view, r))
                .map(|line| yank::sanitize(&line))
                .collect::<Vec<_>>()
                .join("\n"),
            None => match dialogs::row_text(view, view.cursor) {
                Some(t) => yank::sanitize(&t),
                None => return Effect::None,
            },
        },
        'p' => match view.selected() {
            Some(p) => p.sample.pid.to_string(),
            None => return Effect::None,
        },
        'c' => match view.selected() {
            Some(p) => {
                let args: Vec<String> = p
                    .sample
                    .cmdline
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                let text = if args.is_empty() {
                    String::from_utf8_lossy(&p.sample.comm).into_owned()
                } else {
                    args.join(" ")
                };
                yank::sanitize(&text)
            }
            None => return Effect::None,
        },
        'u' => match view.selected() {
            Some(p) => yank::sanitize(&p.user),
            None => return Effect::None,
        },
        _ => return Effect::None,
    };
    view.leave_visual();
    Effect::Yank(text)
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
            let row = view.scroll + (event.row - layout.table.y) as usize;
            if row < view.rows.len() {
                view.set_cursor(row);
            }
        }
        MouseEventKind::Down(MouseButton::Left) if inside(layout.table_header) => {
            let x = event.column - layout.table_header.x;
            if let Some(column) = column_at(&view.shown_columns(), layout.table_header.width, x) {
                view.sort_or_invert(column);
            }
        }
        _ => {}
    }
    Effect::None
}
