//! Keys in the exited processes table (X): move, sort as in the process
//! list (P and T by CPU time, M by peak memory, I inverts, < > step
//! through the columns), L by lifetime, E by how it ended, C by repeated
//! failures; Esc, q or X again closes.

use crossterm::event::{KeyCode, KeyEvent};

use super::lists::{is_close, step, vertical};
use crate::ui::state::dialog::Dialog;
use crate::ui::state::exitview::{sorted, ExitColumn, ExitedTable};
use crate::ui::state::view::{Effect, ViewState};

pub fn exited_key(
    view: &mut ViewState,
    mut table: ExitedTable,
    key: KeyEvent,
) -> (Option<Dialog>, Effect) {
    if is_close(&key) || key.code == KeyCode::Char('X') {
        return (None, Effect::None);
    }
    match key.code {
        KeyCode::Char('P') | KeyCode::Char('T') => table.sort_by(ExitColumn::Cpu),
        KeyCode::Char('M') => table.sort_by(ExitColumn::PeakRss),
        KeyCode::Char('L') => table.sort_by(ExitColumn::Lifetime),
        KeyCode::Char('E') => table.sort_by(ExitColumn::Exit),
        KeyCode::Char('C') => table.sort_by(ExitColumn::Failures),
        KeyCode::Char('I') => table.descending = !table.descending,
        KeyCode::Char('>') | KeyCode::Char('.') => table.cycle_sort(1),
        KeyCode::Char('<') | KeyCode::Char(',') => table.cycle_sort(-1),
        _ => {
            if let Some(d) = vertical(&key) {
                let count = sorted(view.exit_history(), view.exits_until(), &table).len();
                table.selected = step(table.selected, count, d);
            }
        }
    }
    (Some(Dialog::Exited(table)), Effect::None)
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyModifiers;

    use super::*;

    fn k(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn sort_keys_sort_and_x_closes() {
        let mut view = ViewState::new(crate::ui::theme::Theme::mono());
        let (kept, _) = exited_key(&mut view, ExitedTable::default(), k('E'));
        let Some(Dialog::Exited(table)) = kept else {
            panic!("closed on E");
        };
        assert_eq!((table.sort, table.descending), (ExitColumn::Exit, true));
        let (kept, _) = exited_key(&mut view, table, k('I'));
        let Some(Dialog::Exited(table)) = kept else {
            panic!("closed on I");
        };
        assert!(!table.descending);
        let (kept, _) = exited_key(&mut view, table, k('X'));
        assert!(kept.is_none());
    }
}
