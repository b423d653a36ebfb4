//! Search (/, n, Shift-F3) and filters (\\, u, O): what is typed, where a
//! search started and what the last one looked for. The bottom line being
//! typed into is [`Input`], which the keys drive.

use crate::ui::rows::{self, Filter, Group};
use crate::ui::state::view::{Input, ViewState};

impl ViewState {
    /// / F3: starts typing a search from the selected row.
    pub fn start_search(&mut self) {
        self.search_origin = self.cursor;
        self.input = Input::Search(String::new());
    }

    /// The search text is now `text`: jumps to its first match at or after
    /// the row the search started on.
    pub fn search_typed(&mut self, text: String) {
        if !text.is_empty() {
            // find_match looks from the row after `from`.
            let len = self.rows.len().max(1);
            let before_origin = (self.search_origin + len - 1) % len;
            self.jump_to_match(&text, before_origin, true);
        }
        self.input = Input::Search(text);
    }

    /// F3 and Shift-F3 while typing: the next or previous match of the
    /// text typed so far.
    pub fn search_step(&mut self, forward: bool) {
        let Input::Search(text) = &self.input else {
            return;
        };
        if text.is_empty() {
            return;
        }
        let needle = text.clone();
        self.jump_to_match(&needle, self.cursor, forward);
    }

    /// Enter: ends the search, keeping `text` for n and Shift-F3.
    pub fn keep_search(&mut self, text: String) {
        if !text.is_empty() {
            self.search_text = text;
        }
        self.input = Input::None;
    }

    /// Esc: ends the search where it got to, as htop does (the found row
    /// stays selected); n and Shift-F3 go on from there.
    pub fn cancel_search(&mut self) {
        if let Input::Search(text) = std::mem::replace(&mut self.input, Input::None) {
            self.keep_search(text);
        }
    }

    /// n, Shift-F3: the next or previous match of the last search.
    pub fn search_again(&mut self, forward: bool) {
        if self.search_text.is_empty() {
            self.set_status("no previous search (/ to search)", true);
            return;
        }
        let needle = self.search_text.clone();
        self.jump_to_match(&needle, self.cursor, forward);
    }

    /// The first model came after a search was typed (a slow first
    /// refresh: keys typed at once are not lost): the search runs on it,
    /// from the top, as it would have.
    pub(in crate::ui::state) fn search_on_arrival(&mut self) {
        let needle = match &self.input {
            Input::Search(text) if !text.is_empty() => text.clone(),
            _ => self.search_text.clone(),
        };
        if !needle.is_empty() {
            let len = self.rows.len().max(1);
            let before_origin = (self.search_origin + len - 1) % len;
            self.jump_to_match(&needle, before_origin, true);
        }
    }

    /// Selects the next (or previous) row after `from` matching `needle`;
    /// the found process stays selected until the user moves. Before the
    /// first model, waits for it.
    fn jump_to_match(&mut self, needle: &str, from: usize, forward: bool) {
        let Some(model) = self.model.clone() else {
            self.search_waits = true;
            return;
        };
        match rows::find_match(&self.rows, &model, needle, from, forward) {
            Some(row) => {
                self.set_cursor(row);
                self.hold_found = true;
            }
            None => self.set_status(format!("no match for \"{needle}\""), true),
        }
    }

    /// \\ F4: starts editing the filter from its current text.
    pub fn start_filter(&mut self) {
        self.input = Input::Filter(self.filter_text.clone());
    }

    /// Filters the rows by `text` (empty: no filter).
    pub fn set_filter(&mut self, text: String) {
        self.filter = Filter::parse(&text);
        self.filter_text = text;
        self.rebuild();
    }

    /// The filter as typed; empty when there is none.
    pub fn filter_text(&self) -> &str {
        &self.filter_text
    }

    /// u: only this user's processes (uid, name); None: everyone's. The
    /// rows follow at the next rebuild.
    pub fn set_user_filter(&mut self, user: Option<(u32, String)>) {
        self.user_filter = user;
    }

    pub fn user_filter(&self) -> Option<&(u32, String)> {
        self.user_filter.as_ref()
    }

    /// O: only this unit's or container's processes; None: all. The rows
    /// follow at the next rebuild.
    pub fn set_group_filter(&mut self, group: Option<Group>) {
        self.group_filter = group;
    }

    pub fn group_filter(&self) -> Option<&Group> {
        self.group_filter.as_ref()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use crate::model::testing::demo_model;
    use crate::ui::state::view::ViewState;
    use crate::ui::theme::Theme;

    /// A search typed and ended before the first model finds its process
    /// when the model comes (keys typed at once are not lost).
    #[test]
    fn a_search_typed_before_the_first_model_runs_on_it() {
        let model = demo_model();
        let last = model.processes.iter().max_by_key(|p| p.sample.pid).unwrap();
        let name = String::from_utf8_lossy(&last.sample.comm).into_owned();
        let mut view = ViewState::new(Theme::mono());
        view.start_search();
        view.search_typed(name.clone());
        view.keep_search(name.clone());
        view.set_model(Arc::new(model));
        let found = view.selected().map(|p| p.sample.comm.to_vec());
        assert_eq!(found, Some(name.clone().into_bytes()));
        // Once: the next model does not search again.
        assert!(!view.search_waits);
    }
}
