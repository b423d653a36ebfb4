//! Display options: what the H, K, o and F keys and the setup screen's
//! options switch.

use crate::ui::state::view::ViewState;
use crate::ui::theme::Theme;

/// Refresh delays the setup screen steps through, ms.
pub const DELAY_STEP_MS: u64 = 100;
pub const DELAY_MIN_MS: u64 = 100;
pub const DELAY_MAX_MS: u64 = 60_000;

impl ViewState {
    /// H: thread rows on or off (the caller tells the collector).
    pub fn toggle_threads(&mut self) {
        self.show_threads = !self.show_threads;
        self.rebuild();
    }

    /// K: kernel threads on or off.
    pub fn toggle_kernel_threads(&mut self) {
        self.show_kernel_threads = !self.show_kernel_threads;
        self.rebuild();
    }

    /// o: what the UNIT column shows next, said in the status line.
    pub fn cycle_unit_display(&mut self) {
        self.unit_display = self.unit_display.next();
        let text = self.unit_display.describe();
        self.set_status(text, false);
    }

    /// F: following the selected process on or off.
    pub fn toggle_follow(&mut self) {
        self.follow = !self.follow;
        let text = match (self.follow, self.selected()) {
            (true, Some(p)) => format!("following PID {}", p.sample.pid),
            _ => "not following".to_owned(),
        };
        self.set_status(text, false);
    }

    /// The next colour theme, in [`Theme::NAMES`] order.
    pub fn next_theme(&mut self) {
        let names = Theme::NAMES;
        let at = names
            .iter()
            .position(|n| *n == self.theme.name)
            .unwrap_or(0);
        let next = names
            .get((at + 1) % names.len())
            .copied()
            .unwrap_or("default");
        if let Some(theme) = Theme::by_name(next) {
            self.theme = theme;
        }
    }

    /// Folded trees' CPU and memory summed into their top process (shown
    /// and sorted by), or not.
    pub fn toggle_aggregate_folded(&mut self) {
        self.aggregate_folded = !self.aggregate_folded;
        self.rebuild();
    }

    pub fn toggle_mouse(&mut self) {
        self.mouse = !self.mouse;
    }

    /// One step longer (`direction` 1) or shorter (-1) refresh delay,
    /// within its bounds.
    pub fn step_delay(&mut self, direction: i64) {
        let delay = self.delay_ms as i64 + direction * DELAY_STEP_MS as i64;
        self.delay_ms = (delay.max(0) as u64).clamp(DELAY_MIN_MS, DELAY_MAX_MS);
    }
}
