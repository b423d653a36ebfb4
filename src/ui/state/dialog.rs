//! The dialogs' data: what each overlay (help, signal menu, sort, user and
//! group choosers, freeze, setup, inspection panels, command line;
//! affinity and I/O priority in `tuning`) holds while it is open. How each
//! opens from the view is in `dialogs`, its keys in `input::dialogs`, its
//! drawing in `draw::dialogs`.

use crate::collect::sample::ProcessKey;
use crate::ui::rows::Group;
use crate::ui::state::panel::Panel;
use crate::ui::state::tuning::{AffinityDialog, IoPriorityDialog};
use crate::ui::text::wrap_words;

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    Help {
        scroll: usize,
    },
    Signal(SignalMenu),
    Sort {
        selected: usize,
    },
    User {
        selected: usize,
        /// None stands for "all users".
        users: Vec<Option<(u32, String)>>,
    },
    Setup(Setup),
    Freeze(FreezeDialog),
    Group {
        selected: usize,
        /// None stands for "everything".
        groups: Vec<Option<Group>>,
    },
    Affinity(AffinityDialog),
    IoPriority(IoPriorityDialog),
    /// The selected process's environment, open files or trace.
    Panel(Panel),
    Command(CommandLine),
    /// gu: units and containers as rows.
    Units(super::unitview::UnitsTable),
    /// X: the processes that exited in the last refreshes.
    Exited(super::exitview::ExitedTable),
}

/// The whole command line of one process (w), wrapped to the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandLine {
    pub pid: u32,
    /// The command line's words (split at spaces), each made safe to
    /// show; lines break between them, and inside one wider than a line.
    pub words: Vec<String>,
    /// First line shown.
    pub scroll: usize,
}

impl CommandLine {
    /// The lines shown on a screen `screen_width` wide (the box leaves a
    /// margin of two columns each side).
    pub fn lines(&self, screen_width: u16) -> Vec<String> {
        wrap_words(&self.words, usize::from(screen_width.saturating_sub(4)))
    }
}

/// Confirmation of a freeze or thaw, listing every process it stops.
#[derive(Debug, Clone, PartialEq)]
pub struct FreezeDialog {
    pub thaw: bool,
    pub cgroups: Vec<String>,
    /// "PID command" of every process in those cgroups.
    pub processes: Vec<String>,
    /// The one selected process and its cgroup, when it shares the cgroup
    /// with others (offered: move it into a cgroup of its own).
    pub single: Option<(ProcessKey, String)>,
    pub scroll: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignalMenu {
    pub selected: usize,
    /// Captured when the menu opened: the processes the user saw.
    pub targets: Vec<ProcessKey>,
    /// Digits typed so far, to jump to a signal by number.
    pub typed: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Columns,
    Meters,
    Options,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    pub section: Section,
    pub selected: usize,
}

/// The setup screen's options, in order.
pub const OPTIONS: &[&str] = &[
    "Refresh delay",
    "Colour theme",
    "Show aggregated CPU/MEM of folded trees",
    "Mouse",
    "Show kernel threads",
    "Show threads",
    "CPU and memory meters to cgroup limits",
];

impl Dialog {
    pub fn setup() -> Dialog {
        Dialog::Setup(Setup {
            section: Section::Columns,
            selected: 0,
        })
    }
}
