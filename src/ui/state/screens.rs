//! htop's screens (Tab): Main and I/O, each with its own columns and sort.
//! The active screen's live in `ViewState::columns` and `sort`, where
//! everything else reads and edits them; the others wait here.

use crate::ui::state::overlay::Overlay;
pub use crate::ui::state::screen_settings::{ScreenSettings, IO_SCREEN, MAIN_SCREEN, SCREEN_NAMES};
use crate::ui::state::view::ViewState;

impl ViewState {
    /// The index of the screen on show.
    pub fn screen(&self) -> usize {
        self.screen
    }

    /// The columns and sort of screen `index` (the live ones for the
    /// screen on show, without the temporary views').
    pub fn screen_settings(&self, index: usize) -> Option<ScreenSettings> {
        if index == self.screen {
            return Some(ScreenSettings {
                columns: self.columns.clone(),
                sort: self.saved_sort(),
            });
        }
        self.screens.get(index).cloned()
    }

    /// Replaces the columns and sort of screen `index` (from the config).
    pub fn set_screen_settings(&mut self, index: usize, settings: ScreenSettings) {
        if index == self.screen {
            self.columns = settings.columns;
            self.sort = settings.sort;
        } else if let Some(slot) = self.screens.get_mut(index) {
            *slot = settings;
        }
    }

    /// Tab (`step` 1) and Shift-Tab (-1): the next or previous screen. The
    /// temporary views (N, gG) end with the screen they were laid over.
    pub fn switch_screen(&mut self, step: isize) {
        let count = SCREEN_NAMES.len();
        let Some(leaving) = self.screen_settings(self.screen) else {
            return;
        };
        if let Some(slot) = self.screens.get_mut(self.screen) {
            *slot = leaving;
        }
        self.overlay = Overlay::default();
        self.screen = (self.screen as isize + step).rem_euclid(count as isize) as usize;
        if let Some(next) = self.screens.get(self.screen).cloned() {
            self.columns = next.columns;
            self.sort = next.sort;
        }
        self.rebuild();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::testing::demo_model;
    use crate::ui::columns::Column;
    use crate::ui::test_support::view_of;

    #[test]
    fn each_screen_keeps_its_own_columns_and_sort() {
        let mut v = view_of(demo_model());
        let main = v.screen_settings(0).unwrap();
        v.switch_screen(1);
        assert_eq!(v.screen(), IO_SCREEN);
        assert_eq!(v.columns, ScreenSettings::io_default().columns);
        assert_eq!(v.sort.column, Column::IoRate);
        v.sort_or_invert(Column::Pid);
        v.switch_screen(1);
        assert_eq!(v.screen(), 0);
        assert_eq!(v.screen_settings(0).unwrap(), main);
        assert_eq!(
            v.screen_settings(IO_SCREEN).unwrap().sort.column,
            Column::Pid
        );
        v.switch_screen(-1);
        assert_eq!(v.sort.column, Column::Pid, "the I/O screen's own sort");
    }
}
