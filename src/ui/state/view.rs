//! The view state: everything the screen shows besides the model itself —
//! cursor, scroll, sort, tree and folds, filter, search, tags, visual range,
//! the open dialog. Changing it is pure; what must happen outside (signals,
//! clipboard, config file, collector settings) is returned as an [`Effect`].

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use crate::collect::sample::ioprio::IoPriority;
use crate::collect::sample::ProcessKey;
use crate::collect::Extras;
use crate::model::exit_history::ExitHistory;
use crate::model::{Model, ProcessView};
use crate::ui::columns::{Column, UnitDisplay};
use crate::ui::header::Meter;
use crate::ui::rows::{self, Filter, Group, Row, RowOptions, SortSpec};
use crate::ui::state::dialog::Dialog;
use crate::ui::state::overlay::Overlay;
use crate::ui::state::panel::Panel;
use crate::ui::state::screen_settings::ScreenSettings;
use crate::ui::theme::Theme;

/// Refreshes whose exits the exited screen keeps unless configured: a
/// minute at the default delay of 1.5 s.
pub const DEFAULT_EXIT_REFRESHES: usize = 40;

/// What the event loop must do after a key or mouse event.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    None,
    Quit,
    /// Redraw from scratch (Ctrl-L).
    Clear,
    Signal {
        targets: Vec<ProcessKey>,
        signal: i32,
    },
    Renice {
        targets: Vec<ProcessKey>,
        delta: i32,
    },
    /// Freeze these cgroups (paths under the cgroup2 mount), or move one
    /// process into a cgroup of its own and freeze only that.
    Freeze {
        cgroups: Vec<String>,
        isolate: Option<(ProcessKey, String)>,
    },
    Thaw {
        cgroups: Vec<String>,
    },
    Yank(String),
    /// Read the first target's CPU affinity and open the checklist (`a`).
    OpenAffinity {
        targets: Vec<ProcessKey>,
    },
    SetAffinity {
        targets: Vec<ProcessKey>,
        cpus: Vec<usize>,
    },
    /// Read the first target's I/O priority and open the list (`i`).
    OpenIoPriority {
        targets: Vec<ProcessKey>,
    },
    SetIoPriority {
        targets: Vec<ProcessKey>,
        priority: IoPriority,
    },
    /// Save the settings to the config file.
    SaveConfig,
    /// The collector must (not) collect thread rows.
    CollectThreads(bool),
    /// Fill this panel (read the environment or open files, or start
    /// tracing) and open it.
    Inspect(Panel),
    /// Updates paused (true) or resumed: the collector may rest meanwhile.
    Paused(bool),
    /// Show another refresh of the recording.
    Travel(super::keymap::Travel),
}

/// A one-line message in the status bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// What the bottom line is being used for.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    None,
    Search(String),
    Filter(String),
}

pub struct ViewState {
    pub model: Option<Arc<Model>>,
    pub rows: Vec<Row>,
    /// Index of the selected row.
    pub cursor: usize,
    /// Index of the first visible row.
    pub(in crate::ui::state) scroll: usize,
    /// The selected process, remembered for following it across refreshes.
    pub(in crate::ui::state) cursor_key: Option<ProcessKey>,
    /// Number of table rows on screen (set from the layout).
    pub page_rows: usize,
    /// Width of the table on screen (set from the layout).
    pub page_width: u16,
    /// Columns of the table scrolled off the left edge (← →).
    pub(in crate::ui::state) sideways: u16,
    /// The configured columns (what the setup screen edits and saves);
    /// the table shows [`ViewState::shown_columns`].
    pub columns: Vec<Column>,
    pub sort: SortSpec,
    /// Every screen's columns and sort (Tab); the entry of the screen on
    /// show is stale, its live settings being `columns` and `sort`.
    pub(in crate::ui::state) screens: Vec<ScreenSettings>,
    /// The screen on show, an index into `screens::SCREEN_NAMES`.
    pub(in crate::ui::state) screen: usize,
    /// The temporary views (N, gG): extra columns and a sort, not saved.
    pub(in crate::ui::state) overlay: Overlay,
    pub tree: bool,
    /// Processes whose children the tree hides (see `folds`).
    pub(in crate::ui::state) folded: HashSet<ProcessKey>,
    pub filter: Option<Filter>,
    pub(in crate::ui::state) filter_text: String,
    pub(in crate::ui::state) search_text: String,
    pub tagged: HashSet<ProcessKey>,
    /// Row where visual mode started; Some while visual mode is on.
    pub visual_anchor: Option<usize>,
    /// The process on that row: the range follows it when the list
    /// reorders, so an action on the range hits what the user selected.
    pub(in crate::ui::state) visual_anchor_key: Option<ProcessKey>,
    /// Row the cursor was on when a search started (typing searches from
    /// there).
    pub(in crate::ui::state) search_origin: usize,
    pub show_kernel_threads: bool,
    pub show_threads: bool,
    pub(in crate::ui::state) aggregate_folded: bool,
    pub(in crate::ui::state) user_filter: Option<(u32, String)>,
    pub(in crate::ui::state) pid_filter: Option<HashSet<u32>>,
    /// Only one unit's or container's processes (O).
    pub(in crate::ui::state) group_filter: Option<Group>,
    /// What the UNIT column shows (o cycles).
    pub(in crate::ui::state) unit_display: UnitDisplay,
    /// htop's F: the selection stays on its process while the list
    /// reorders, and says so when the process exits. Otherwise, as in
    /// htop, the selection keeps its place in the list at each refresh.
    /// Moving the selection ends following.
    pub(in crate::ui::state) follow: bool,
    /// Z: new models are held back; the list on screen stays as it was.
    pub(in crate::ui::state) paused: bool,
    /// The newest model that arrived while paused, shown on resuming.
    pub(in crate::ui::state) held: Option<Arc<Model>>,
    /// #: the meters above the table are hidden.
    pub(in crate::ui::state) header_hidden: bool,
    /// p: the Command column shows argv[0] with its directory.
    pub(in crate::ui::state) program_path: bool,
    /// A search found the selected process: it stays selected (quietly)
    /// until the user moves, as htop keeps a search result.
    pub(in crate::ui::state) hold_found: bool,
    /// A search was typed before the first model came: it runs on it.
    pub(in crate::ui::state) search_waits: bool,
    pub status: Option<Status>,
    pub input: Input,
    pub dialog: Option<Dialog>,
    /// First key of a two-key command (g, z, y).
    pub pending: Option<char>,
    pub(in crate::ui::state) theme: Theme,
    pub meters: Vec<Meter>,
    pub mouse: bool,
    pub delay_ms: u64,
    /// Minutes of refreshes kept for rewinding (0: none).
    pub rewind_minutes: u32,
    /// `eBPF` or `procfs: <reason>`.
    pub backend_label: String,
    /// The CPU and memory meters measure against bpftop's own cgroup
    /// limits (see `options`).
    pub(in crate::ui::state) meters_to_limits: bool,
    /// The system figures scaled to those limits, made when a model
    /// arrives or the option changes; None when off or unlimited.
    pub(in crate::ui::state) limited_system: Option<crate::model::SystemView>,
    /// The exits of the last refreshes (X), kept also while paused.
    pub(in crate::ui::state) exit_history: ExitHistory,
    /// The history's refresh of the model on screen.
    pub(in crate::ui::state) exits_shown: u64,
}

impl ViewState {
    pub fn new(theme: Theme) -> ViewState {
        ViewState {
            model: None,
            rows: Vec::new(),
            cursor: 0,
            scroll: 0,
            cursor_key: None,
            page_rows: 20,
            page_width: 80,
            sideways: 0,
            columns: Column::DEFAULT.to_vec(),
            sort: SortSpec {
                column: Column::CpuPercent,
                descending: true,
            },
            screens: vec![ScreenSettings::main_default(), ScreenSettings::io_default()],
            screen: 0,
            overlay: Overlay::default(),
            tree: false,
            folded: HashSet::new(),
            filter: None,
            filter_text: String::new(),
            search_text: String::new(),
            tagged: HashSet::new(),
            visual_anchor: None,
            visual_anchor_key: None,
            search_origin: 0,
            show_kernel_threads: false,
            show_threads: false,
            aggregate_folded: true,
            user_filter: None,
            pid_filter: None,
            group_filter: None,
            unit_display: UnitDisplay::Unit,
            follow: false,
            paused: false,
            held: None,
            header_hidden: false,
            program_path: true,
            hold_found: false,
            search_waits: false,
            status: None,
            input: Input::None,
            dialog: None,
            pending: None,
            theme,
            meters: Meter::DEFAULT.to_vec(),
            mouse: true,
            delay_ms: 1500,
            rewind_minutes: crate::config::REWIND_MINUTES_DEFAULT,
            backend_label: String::new(),
            meters_to_limits: false,
            limited_system: None,
            exit_history: ExitHistory::new(DEFAULT_EXIT_REFRESHES),
            exits_shown: 0,
        }
    }

    /// Index of the first visible row.
    pub fn scroll(&self) -> usize {
        self.scroll
    }

    /// Columns of the table scrolled off the left edge, as asked (the
    /// drawing shows no more than the table's width allows).
    pub fn sideways(&self) -> u16 {
        self.sideways
    }

    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    /// What the UNIT column shows.
    pub fn unit_display(&self) -> UnitDisplay {
        self.unit_display
    }

    /// Whether the selected process is followed (F).
    pub fn following(&self) -> bool {
        self.follow
    }

    /// Whether updates are paused (Z): the model on screen stays.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Whether the meters are hidden (#).
    pub fn header_hidden(&self) -> bool {
        self.header_hidden
    }

    /// Whether the Command column shows the program's path (p).
    pub fn program_path(&self) -> bool {
        self.program_path
    }

    /// Whether folded trees show their summed CPU and memory.
    pub fn aggregate_folded(&self) -> bool {
        self.aggregate_folded
    }

    /// The exits of the last refreshes.
    pub fn exit_history(&self) -> &ExitHistory {
        &self.exit_history
    }

    /// The newest refresh of the exit history the screen shows: the one
    /// on screen while paused, None (all of them) otherwise.
    pub fn exits_until(&self) -> Option<u64> {
        self.paused.then_some(self.exits_shown)
    }

    /// How many refreshes' exits the exited screen keeps (at least one);
    /// those kept so far are let go.
    pub fn set_exit_refreshes(&mut self, refreshes: usize) {
        self.exit_history = ExitHistory::new(refreshes);
        self.exits_shown = 0;
    }

    /// Takes a new model and rebuilds the rows.
    pub fn set_model(&mut self, model: Arc<Model>) {
        self.exits_shown = self.exit_history.refresh();
        self.model = Some(model);
        self.scale_meters();
        self.prune_tags();
        self.rebuild();
        if std::mem::take(&mut self.search_waits) {
            self.search_on_arrival();
        }
    }

    /// A new model from the collector: shown, or held back while updates
    /// are paused (Z). True when shown.
    pub fn receive_model(&mut self, model: Arc<Model>) -> bool {
        // Every refresh's exits are kept, shown or not: resuming shows only
        // the newest model, but the exits in between happened.
        self.exit_history.push(&model.exits);
        if self.paused {
            self.held = Some(model);
            return false;
        }
        self.set_model(model);
        true
    }

    /// Recomputes the rows after the model or a view setting changed. As
    /// in htop, the selection keeps its place in the list while the list
    /// reorders, unless it follows its process: F, a search result not
    /// yet moved from, or visual mode (whose range must stay on what the
    /// user chose).
    pub fn rebuild(&mut self) {
        let keep_process = self.follow || self.hold_found || self.visual_anchor.is_some();
        self.rebuild_rows(keep_process);
    }

    fn rebuild_rows(&mut self, keep_process: bool) {
        let Some(model) = self.model.clone() else {
            self.rows.clear();
            return;
        };
        let options = RowOptions {
            sort: self.sort,
            tree: self.tree,
            folded: &self.folded,
            filter: self.filter.as_ref(),
            show_kernel_threads: self.show_kernel_threads,
            show_threads: self.show_threads,
            user: self.user_filter.as_ref().map(|(uid, _)| *uid),
            pids: self.pid_filter.as_ref(),
            group: self.group_filter.as_ref(),
            aggregate_folded: self.aggregate_folded,
        };
        self.rows = rows::build_rows(&model, &options);
        let followed = if keep_process {
            self.cursor_key
                .and_then(|key| rows::position_of(&self.rows, &model, key))
        } else {
            None
        };
        if keep_process && followed.is_none() {
            if self.follow {
                self.follow = false;
                self.set_status("the followed process is gone", false);
            }
            self.hold_found = false;
        }
        let cursor = followed.unwrap_or(self.cursor);
        self.set_cursor(cursor);
        if let Some(anchor) = self.visual_anchor {
            let moved = self
                .visual_anchor_key
                .and_then(|key| rows::position_of(&self.rows, &model, key));
            self.visual_anchor = Some(
                moved
                    .unwrap_or(anchor)
                    .min(self.rows.len().saturating_sub(1)),
            );
        }
    }

    /// The columns on screen: the configured ones, with the network and
    /// GPU views' extras.
    pub fn shown_columns(&self) -> Cow<'_, [Column]> {
        let gpus = self.model.as_deref().map_or(0, |m| m.gpus.len());
        match self.overlay.columns(&self.columns, gpus) {
            None => Cow::Borrowed(&self.columns),
            Some(columns) => Cow::Owned(columns),
        }
    }

    /// The optional per-process values the collector must read for the
    /// columns shown and the one sorted by.
    pub fn extras_wanted(&self) -> Extras {
        self.shown_columns()
            .iter()
            .chain([&self.sort.column])
            .fold(Extras::NONE, |wanted, c| wanted.union(c.extras()))
    }

    /// The sort the config file keeps: the network and GPU views' are
    /// temporary.
    pub fn saved_sort(&self) -> SortSpec {
        self.overlay.restore().unwrap_or(self.sort)
    }

    /// The pids of the process rows on screen (a thread row counts as
    /// its process), in screen order.
    pub fn pids_on_screen(&self) -> Vec<u32> {
        let Some(model) = &self.model else {
            return Vec::new();
        };
        let end = self
            .scroll
            .saturating_add(self.page_rows)
            .min(self.rows.len());
        self.rows
            .get(self.scroll..end)
            .unwrap_or_default()
            .iter()
            .filter_map(|row| model.processes.get(row.process))
            .map(|p| p.sample.pid)
            .collect()
    }

    /// Moves the cursor to `row` (clamped) and scrolls it into view.
    pub fn set_cursor(&mut self, row: usize) {
        let last = self.rows.len().saturating_sub(1);
        self.cursor = row.min(last);
        self.cursor_key = self.row_process(self.cursor).map(|p| p.sample.key());
        let page = self.page_rows.max(1);
        if self.cursor < self.scroll {
            self.scroll = self.cursor;
        } else if self.cursor >= self.scroll + page {
            self.scroll = self.cursor + 1 - page;
        }
        self.scroll = self.scroll.min(self.rows.len().saturating_sub(page));
    }

    /// The user moves the selection by `delta` rows: it no longer follows
    /// a process (F, a search result).
    pub fn move_cursor(&mut self, delta: isize) {
        let target = self.cursor.saturating_add_signed(delta);
        self.select_row(target);
    }

    /// The user selects row `row` (Home, End, a click): it no longer
    /// follows a process.
    pub fn select_row(&mut self, row: usize) {
        self.stop_following();
        self.set_cursor(row);
    }

    /// Ends F and the hold on a search result.
    pub(in crate::ui::state) fn stop_following(&mut self) {
        self.follow = false;
        self.hold_found = false;
    }

    /// The process shown on row `row`.
    pub fn row_process(&self, row: usize) -> Option<&ProcessView> {
        let model = self.model.as_deref()?;
        model.processes.get(self.rows.get(row)?.process)
    }

    /// The key of the selected process.
    pub(in crate::ui::state) fn selected_key(&self) -> Option<ProcessKey> {
        self.selected().map(|p| p.sample.key())
    }

    pub fn selected(&self) -> Option<&ProcessView> {
        self.row_process(self.cursor)
    }

    /// The rows of the visual range (inclusive), when visual mode is on.
    pub fn visual_range(&self) -> Option<(usize, usize)> {
        let anchor = self.visual_anchor?;
        Some((anchor.min(self.cursor), anchor.max(self.cursor)))
    }

    /// Processes of a row range, without duplicates (thread rows map to
    /// their process).
    pub fn keys_of_rows(&self, first: usize, last: usize) -> Vec<ProcessKey> {
        let mut seen = HashSet::new();
        (first..=last)
            .filter_map(|r| self.row_process(r).map(|p| p.sample.key()))
            .filter(|k| seen.insert(*k))
            .collect()
    }

    /// What an action applies to: the visual range, else the tagged
    /// processes, else the selected one (htop's rule).
    pub fn targets(&self) -> Vec<ProcessKey> {
        if let Some((first, last)) = self.visual_range() {
            return self.keys_of_rows(first, last);
        }
        if !self.tagged.is_empty() {
            let mut keys: Vec<ProcessKey> = self.tagged.iter().copied().collect();
            keys.sort();
            return keys;
        }
        self.selected()
            .map(|p| vec![p.sample.key()])
            .unwrap_or_default()
    }

    pub fn set_status(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(Status {
            text: text.into(),
            error,
        });
    }

    /// Drops tags of processes that no longer exist, so that an action
    /// never silently targets a vanished (or recycled) process.
    pub fn prune_tags(&mut self) {
        // Nothing tagged or folded (the usual case): nothing to look up.
        if self.tagged.is_empty() && self.folded.is_empty() {
            return;
        }
        let Some(model) = self.model.as_deref() else {
            return;
        };
        let procs = &model.processes;
        // The model keeps its processes in pid order: each tag is found by
        // binary search, with no set of every process's key.
        if procs.is_sorted_by_key(|p| p.sample.pid) {
            let live = |k: &ProcessKey| {
                let from = procs.partition_point(|p| p.sample.pid < k.pid);
                procs
                    .get(from..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|p| p.sample.pid == k.pid)
                    .any(|p| p.sample.key() == *k)
            };
            self.tagged.retain(live);
            self.folded.retain(live);
        } else {
            let live: rustc_hash::FxHashSet<ProcessKey> =
                procs.iter().map(|p| p.sample.key()).collect();
            self.tagged.retain(|k| live.contains(k));
            self.folded.retain(|k| live.contains(k));
        }
    }
}
