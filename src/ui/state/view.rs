//! The view state: everything the screen shows besides the model itself —
//! cursor, scroll, sort, tree and folds, filter, search, tags, visual range,
//! the open dialog. Changing it is pure; what must happen outside (signals,
//! clipboard, config file, collector settings) is returned as an [`Effect`].

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use crate::collect::sample::ioprio::IoPriority;
use crate::collect::sample::ProcessKey;
use crate::model::{Model, ProcessView};
use crate::ui::columns::{Column, UnitDisplay};
use crate::ui::header::Meter;
use crate::ui::rows::{self, Filter, Group, Row, RowOptions, SortSpec};
use crate::ui::state::dialog::Dialog;
use crate::ui::state::overlay::Overlay;
use crate::ui::state::screen_settings::ScreenSettings;
use crate::ui::theme::Theme;

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
    /// Row the cursor was on when a search started (Esc returns there).
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
    /// htop's F. The selection always stays on its process while the list
    /// reorders (so a key acts on what the user selected, and a search
    /// result stays selected); following also announces when the process
    /// exits instead of silently moving on to the next row.
    pub(in crate::ui::state) follow: bool,
    pub status: Option<Status>,
    pub input: Input,
    pub dialog: Option<Dialog>,
    /// First key of a two-key command (g, z, y).
    pub pending: Option<char>,
    pub(in crate::ui::state) theme: Theme,
    pub meters: Vec<Meter>,
    pub mouse: bool,
    pub delay_ms: u64,
    /// `eBPF` or `procfs: <reason>`.
    pub backend_label: String,
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
            status: None,
            input: Input::None,
            dialog: None,
            pending: None,
            theme,
            meters: Meter::DEFAULT.to_vec(),
            mouse: true,
            delay_ms: 1500,
            backend_label: String::new(),
        }
    }

    /// Index of the first visible row.
    pub fn scroll(&self) -> usize {
        self.scroll
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

    /// Whether folded trees show their summed CPU and memory.
    pub fn aggregate_folded(&self) -> bool {
        self.aggregate_folded
    }

    /// Takes a new model and rebuilds the rows.
    pub fn set_model(&mut self, model: Arc<Model>) {
        self.model = Some(model);
        self.prune_tags();
        self.rebuild();
    }

    /// Recomputes the rows after the model or a view setting changed,
    /// keeping the cursor on its process (or on its row once it is gone).
    pub fn rebuild(&mut self) {
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
        };
        self.rows = rows::build_rows(&model, &options);
        let followed = self
            .cursor_key
            .and_then(|key| rows::position_of(&self.rows, &model, key));
        if self.follow && followed.is_none() {
            self.follow = false;
            self.set_status("the followed process is gone", false);
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

    pub fn move_cursor(&mut self, delta: isize) {
        let target = self.cursor.saturating_add_signed(delta);
        self.set_cursor(target);
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
