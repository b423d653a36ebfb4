//! Keys in the units and containers table (gu): move, sort as in the
//! process list (P M I < >), Enter shows only the selected unit's
//! processes (as O does), Esc, q or gu again closes.

use crossterm::event::{KeyCode, KeyEvent};

use super::lists::{is_close, step, vertical};
use crate::ui::state::dialog::Dialog;
use crate::ui::state::unitview::{group_of, sorted, UnitColumn, UnitsTable};
use crate::ui::state::view::{Effect, ViewState};

pub fn units_key(
    view: &mut ViewState,
    mut table: UnitsTable,
    key: KeyEvent,
) -> (Option<Dialog>, Effect) {
    let pending_g = std::mem::take(&mut table.pending_g);
    if is_close(&key) || (pending_g && key.code == KeyCode::Char('u')) {
        return (None, Effect::None);
    }
    let count = view.model.as_deref().map_or(0, |m| m.units.len());
    match key.code {
        KeyCode::Enter => {
            let group = view
                .model
                .as_deref()
                .and_then(|m| sorted(m, &table).get(table.selected).map(|u| group_of(u)));
            if let Some(group) = group {
                view.set_group_filter(Some(group));
                view.rebuild();
                return (None, Effect::None);
            }
        }
        KeyCode::Char('g') => table.pending_g = true,
        KeyCode::Char('P') => table.sort_by(UnitColumn::Cpu),
        KeyCode::Char('M') => table.sort_by(UnitColumn::Memory),
        KeyCode::Char('I') => table.descending = !table.descending,
        KeyCode::Char('>') | KeyCode::Char('.') => table.cycle_sort(1),
        KeyCode::Char('<') | KeyCode::Char(',') => table.cycle_sort(-1),
        _ => {
            if let Some(d) = vertical(&key) {
                table.selected = step(table.selected, count, d);
            }
        }
    }
    table.selected = table.selected.min(count.saturating_sub(1));
    (Some(Dialog::Units(table)), Effect::None)
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyModifiers;

    use super::*;

    fn k(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn g_then_u_closes_and_sort_keys_sort() {
        let mut view = ViewState::new(crate::ui::theme::Theme::mono());
        let (kept, _) = units_key(&mut view, UnitsTable::default(), k('M'));
        let Some(Dialog::Units(table)) = kept else {
            panic!("closed on M");
        };
        assert_eq!(table.sort, UnitColumn::Memory);
        let (kept, _) = units_key(&mut view, table, k('g'));
        let Some(Dialog::Units(table)) = kept else {
            panic!("closed on g");
        };
        assert!(table.pending_g);
        let (kept, _) = units_key(&mut view, table, k('u'));
        assert!(kept.is_none());
    }
}
