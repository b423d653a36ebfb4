//! Sort intents: by a column (P M T, a click on a title, the chooser), the
//! next visible column (< >) or the other way round (I).

use crate::ui::columns::Column;
use crate::ui::state::view::ViewState;

impl ViewState {
    /// P M T, a click on a column title: sorts by `column` in its usual
    /// direction, or the other way round when it already sorts.
    pub fn sort_or_invert(&mut self, column: Column) {
        if self.sort.column == column {
            self.sort.descending = !self.sort.descending;
        } else {
            self.sort.column = column;
            self.sort.descending = column.default_descending();
        }
        self.rebuild();
    }

    /// The sort chooser's Enter: sorts by `column`, keeping the direction
    /// when it already sorts.
    pub fn choose_sort(&mut self, column: Column) {
        if self.sort.column != column {
            self.sort.column = column;
            self.sort.descending = column.default_descending();
        }
        self.rebuild();
    }

    /// I: the other way round.
    pub fn invert_sort(&mut self) {
        self.sort.descending = !self.sort.descending;
        self.rebuild();
    }

    /// < >: sorts by the previous or next visible column.
    pub fn cycle_sort(&mut self, step: isize) {
        let columns = self.shown_columns().into_owned();
        if columns.is_empty() {
            return;
        }
        let at = columns
            .iter()
            .position(|c| *c == self.sort.column)
            .unwrap_or(0);
        let next = (at as isize + step).rem_euclid(columns.len() as isize) as usize;
        let column = columns[next];
        self.sort.column = column;
        self.sort.descending = column.default_descending();
        self.set_status(format!("sorted by {}", column.title()), false);
        self.rebuild();
    }
}
