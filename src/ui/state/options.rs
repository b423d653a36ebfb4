//! Display options: what the H, K, o, F, Z, # and p keys and the setup
//! screen's options switch.

use crate::ui::columns::Column;
use crate::ui::state::view::ViewState;
use crate::ui::theme::Theme;

/// Refresh delays the setup screen steps through, ms.
pub const DELAY_STEP_MS: u64 = 100;
pub const DELAY_MIN_MS: u64 = 100;
pub const DELAY_MAX_MS: u64 = 60_000;

impl ViewState {
    /// Setup: CPU and memory meters against bpftop's own cgroup limits.
    pub fn set_meters_to_limits(&mut self, on: bool) {
        self.meters_to_limits = on;
        self.scale_meters();
    }

    pub fn meters_to_limits(&self) -> bool {
        self.meters_to_limits
    }

    /// The system figures the meters show: scaled to the limits when the
    /// option is on and bpftop runs under limits, else the machine's.
    pub fn meter_system(&self) -> Option<&crate::model::SystemView> {
        self.limited_system
            .as_ref()
            .or_else(|| self.model.as_deref().map(|m| &m.system))
    }

    /// Remakes the scaled figures from the current model.
    pub(in crate::ui::state) fn scale_meters(&mut self) {
        self.limited_system = match (self.meters_to_limits, self.model.as_deref()) {
            (true, Some(m)) => m
                .system
                .own_limits
                .as_ref()
                .map(|l| crate::model::within_limits(&m.system, l)),
            _ => None,
        };
    }

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

    /// o: what the UNIT column shows next, said in the status line, which
    /// also says when the column is not on screen to show it.
    pub fn cycle_unit_display(&mut self) {
        self.unit_display = self.unit_display.next();
        let text = self.unit_display.describe();
        if self.shown_columns().contains(&Column::Unit) {
            self.set_status(text, false);
        } else {
            self.set_status(
                format!("{text}, but the UNIT column is hidden (F2 adds it)"),
                false,
            );
        }
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

    /// Z: updates paused or resumed. While paused new models are held
    /// back (see `receive_model`) and keys act on the list as it was;
    /// resuming shows the newest one at once.
    pub fn toggle_pause(&mut self) {
        self.paused = !self.paused;
        let text = if self.paused {
            "updates paused: Z resumes"
        } else {
            "updates resumed"
        };
        if let Some(model) = self.held.take().filter(|_| !self.paused) {
            self.set_model(model);
        }
        self.set_status(text, false);
    }

    /// #: the meters above the table hidden or shown.
    pub fn toggle_header(&mut self) {
        self.header_hidden = !self.header_hidden;
    }

    /// p: the Command column with or without the program's directory.
    pub fn toggle_program_path(&mut self) {
        self.program_path = !self.program_path;
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
