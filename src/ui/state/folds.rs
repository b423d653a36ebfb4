//! The tree view and its folds: whose children the tree hides. Folding
//! acts only in the tree view and on what the user selected.

use crate::ui::rows;
use crate::ui::state::view::ViewState;

impl ViewState {
    /// t F5: the tree view on or off.
    pub fn toggle_tree(&mut self) {
        self.tree = !self.tree;
        self.rebuild();
    }

    /// - + zc zo: folds or unfolds the selected process.
    pub fn fold_selected(&mut self, folded: bool) {
        if !self.tree {
            return;
        }
        if let Some(key) = self.selected_key() {
            if folded {
                self.folded.insert(key);
            } else {
                self.folded.remove(&key);
            }
            self.rebuild();
        }
    }

    /// za: folds the selected process when unfolded, and the other way.
    pub fn toggle_fold_selected(&mut self) {
        if let Some(key) = self.selected_key() {
            let folded = self.folded.contains(&key);
            self.fold_selected(!folded);
        }
    }

    /// zC zO: folds or unfolds the selected process and all below it.
    pub fn fold_subtree(&mut self, folded: bool) {
        let (Some(key), Some(model)) = (self.selected_key(), self.model.clone()) else {
            return;
        };
        if !self.tree {
            return;
        }
        for k in rows::descendants(&model, key) {
            if folded {
                self.folded.insert(k);
            } else {
                self.folded.remove(&k);
            }
        }
        self.rebuild();
    }

    /// zM: folds every process.
    pub fn fold_all(&mut self) {
        if !self.tree {
            return;
        }
        if let Some(model) = self.model.clone() {
            self.folded = model.processes.iter().map(|p| p.sample.key()).collect();
            self.rebuild();
        }
    }

    /// zR: unfolds every process.
    pub fn unfold_all(&mut self) {
        if !self.tree {
            return;
        }
        self.folded.clear();
        self.rebuild();
    }
}
