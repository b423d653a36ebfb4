//! Tags and visual mode: which processes an action (signal, freeze, yank)
//! hits besides the selected one.

use crate::ui::rows;
use crate::ui::state::view::ViewState;

impl ViewState {
    /// Space: tags the visual range and leaves visual mode, or toggles the
    /// selected process's tag and moves down.
    pub fn tag_and_move(&mut self) {
        if let Some((first, last)) = self.visual_range() {
            let keys = self.keys_of_rows(first, last);
            let n = keys.len();
            self.tagged.extend(keys);
            self.visual_anchor = None;
            self.set_status(format!("tagged {n} processes"), false);
            return;
        }
        if let Some(key) = self.selected_key() {
            if !self.tagged.remove(&key) {
                self.tagged.insert(key);
            }
            self.move_cursor(1);
        }
    }

    /// c: tags the selected process and all below it.
    pub fn tag_with_children(&mut self) {
        let (Some(key), Some(model)) = (self.selected_key(), self.model.clone()) else {
            return;
        };
        let keys = rows::descendants(&model, key);
        let n = keys.len();
        self.tagged.extend(keys);
        self.set_status(format!("tagged {n} processes"), false);
    }

    /// U: untags everything.
    pub fn untag_all(&mut self) {
        self.tagged.clear();
        self.set_status("untagged all", false);
    }

    /// V: starts visual mode at the cursor, or leaves it.
    pub fn toggle_visual(&mut self) {
        self.visual_anchor = match self.visual_anchor {
            Some(_) => None,
            None => Some(self.cursor),
        };
        self.visual_anchor_key = self
            .visual_anchor
            .and_then(|row| self.row_process(row).map(|p| p.sample.key()));
    }

    /// Esc, or after acting on the range: leaves visual mode.
    pub fn leave_visual(&mut self) {
        self.visual_anchor = None;
    }
}
