//! The key table: every binding, the action it names and the help
//! screen's line for it. The keys are matched against it and the help
//! screen lists it, so the two cannot drift apart.

use crate::ui::columns::Column;

/// What the user can ask for from the process list, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    HalfPageUp,
    HalfPageDown,
    First,
    Last,
    Redraw,
    /// The first key of a two-key command (g, z, y).
    Prefix(char),
    Search,
    SearchNext,
    SearchPrevious,
    Filter,
    NetworkView,
    GpuView,
    UnitsView,
    ExitedView,
    SortChooser,
    SortPrevious,
    SortNext,
    SortBy(Column),
    InvertSort,
    Tree,
    /// Fold (true) or unfold the selected process.
    Fold(bool),
    ToggleFold,
    FoldSubtree(bool),
    FoldAll,
    UnfoldAll,
    Tag,
    TagChildren,
    UntagAll,
    Visual,
    LeaveVisual,
    SignalMenu,
    Freeze,
    Renice(i32),
    Affinity,
    IoPriority,
    /// Yank the row or range (y), the pid (p), the command line (c) or the
    /// user (u).
    Yank(char),
    Threads,
    KernelThreads,
    UserChooser,
    GroupChooser,
    UnitDisplay,
    /// The next (1) or previous (-1) screen.
    Screen(i8),
    Follow,
    /// Show the selected process's environment (e), open files (l), or
    /// trace its system calls (s).
    Environment,
    OpenFiles,
    Trace,
    Pause,
    /// Another refresh of a recording (bpftop replay).
    Travel(Travel),
    ToggleHeader,
    ProgramPath,
    /// Scroll the table sideways: left (-1) or right (1).
    Sideways(i32),
    /// The selected process's whole command line (w).
    CommandLine,
    Setup,
    Help,
    Quit,
}

/// Where to go in a recording from the refresh shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Travel {
    /// This many refreshes later (negative: earlier).
    Refreshes(i32),
    /// The refresh this many seconds later (negative: earlier).
    Seconds(i32),
    /// Back to the live refreshes.
    Live,
}

/// A key as the table names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character, whatever the modifiers (but see `Ctrl` and `Visual`).
    Char(char),
    /// A character with Ctrl held; wins over `Char`.
    Ctrl(char),
    /// A character in visual mode; wins over `Char`.
    Visual(char),
    /// A function key.
    F(u8),
    /// A function key with Shift held; wins over `F`.
    ShiftF(u8),
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Left,
    Right,
    Esc,
    Tab,
    BackTab,
    /// A two-key command: the first key, then the second.
    Then(char, char),
}

/// One line of the help screen and the keys it describes.
#[derive(Debug)]
pub struct Binding {
    /// How the help screen names the keys.
    pub keys: &'static str,
    /// What they do; empty for a section title.
    pub what: &'static str,
    pub bound: &'static [(Key, Action)],
}

const fn section(title: &'static str) -> Binding {
    Binding {
        keys: title,
        what: "",
        bound: &[],
    }
}

use Action::*;

/// The bindings, in the order the help screen lists them.
pub const HELP: &[Binding] = &[
    section("Movement"),
    Binding {
        keys: "Up Down / k j",
        what: "move the selection",
        bound: &[(Key::Up, Up), (Key::Down, Down), (Key::Char('k'), Up), (Key::Char('j'), Down)],
    },
    Binding {
        keys: "PgUp PgDn",
        what: "move a page",
        bound: &[(Key::PageUp, PageUp), (Key::PageDown, PageDown)],
    },
    Binding {
        keys: "Ctrl-U Ctrl-D",
        what: "move half a page",
        bound: &[(Key::Ctrl('u'), HalfPageUp), (Key::Ctrl('d'), HalfPageDown)],
    },
    Binding {
        keys: "Home End / gg G",
        what: "first / last process",
        bound: &[(Key::Home, First), (Key::End, Last), (Key::Then('g', 'g'), First), (Key::Char('G'), Last)],
    },
    Binding {
        keys: "Left Right",
        what: "scroll the table sideways when it is wider than the screen",
        bound: &[(Key::Left, Sideways(-1)), (Key::Right, Sideways(1))],
    },
    Binding {
        keys: "mouse",
        what: "wheel scrolls, click selects, click a column title to sort",
        bound: &[],
    },
    section("Search and filter"),
    Binding {
        keys: "/ F3",
        what: "search as you type; F3 / Shift-F3 next / previous; Enter or Esc ends",
        bound: &[(Key::Char('/'), Search), (Key::F(3), Search)],
    },
    Binding {
        keys: "n Shift-F3",
        what: "next / previous match",
        bound: &[(Key::Char('n'), SearchNext), (Key::ShiftF(3), SearchPrevious), (Key::F(15), SearchPrevious)],
    },
    Binding {
        keys: "\\ F4",
        what: "filter: hide rows not matching (command, user, pid, cgroup); !text negates",
        bound: &[(Key::Char('\\'), Filter), (Key::F(4), Filter)],
    },
    section("Sorting"),
    Binding {
        keys: "F6",
        what: "choose the sort column",
        bound: &[(Key::F(6), SortChooser)],
    },
    Binding {
        keys: "< >",
        what: "sort by the previous / next visible column",
        bound: &[(Key::Char('<'), SortPrevious), (Key::Char('>'), SortNext)],
    },
    Binding {
        keys: "P M T",
        what: "sort by CPU%, MEM%, TIME+",
        bound: &[(Key::Char('P'), SortBy(Column::CpuPercent)), (Key::Char('M'), SortBy(Column::MemPercent)), (Key::Char('T'), SortBy(Column::Time))],
    },
    Binding {
        keys: "I",
        what: "invert the sort order",
        bound: &[(Key::Char('I'), InvertSort)],
    },
    section("Tree"),
    Binding {
        keys: "t F5",
        what: "tree view on / off",
        bound: &[(Key::Char('t'), Tree), (Key::F(5), Tree)],
    },
    Binding {
        keys: "+ - / zo zc za",
        what: "unfold / fold / toggle the selected process",
        bound: &[(Key::Char('+'), Fold(false)), (Key::Char('='), Fold(false)), (Key::Char('-'), Fold(true)), (Key::Then('z', 'o'), Fold(false)), (Key::Then('z', 'c'), Fold(true)), (Key::Then('z', 'a'), ToggleFold)],
    },
    Binding {
        keys: "zO zC",
        what: "unfold / fold the selected process and all below it",
        bound: &[(Key::Then('z', 'O'), FoldSubtree(false)), (Key::Then('z', 'C'), FoldSubtree(true))],
    },
    Binding {
        keys: "zR zM",
        what: "unfold / fold everything",
        bound: &[(Key::Then('z', 'R'), UnfoldAll), (Key::Then('z', 'M'), FoldAll)],
    },
    section("Selection"),
    Binding {
        keys: "Space",
        what: "tag the process and move down",
        bound: &[(Key::Char(' '), Tag)],
    },
    Binding {
        keys: "c",
        what: "tag the process and its children",
        bound: &[(Key::Char('c'), TagChildren)],
    },
    Binding {
        keys: "U",
        what: "untag all",
        bound: &[(Key::Char('U'), UntagAll)],
    },
    Binding {
        keys: "V",
        what: "visual mode: movement extends the range; Space tags it, x kills it, y yanks it, Esc leaves",
        bound: &[(Key::Char('V'), Visual), (Key::Esc, LeaveVisual), (Key::Visual('y'), Yank('y'))],
    },
    section("Actions"),
    Binding {
        keys: "x F9",
        what: "send a signal to the tagged processes, the range or the selected one",
        bound: &[(Key::Char('x'), SignalMenu), (Key::F(9), SignalMenu)],
    },
    Binding {
        keys: "f",
        what: "freeze the cgroup(s) of the selection (thaw when frozen), after confirming",
        bound: &[(Key::Char('f'), Freeze)],
    },
    Binding {
        keys: "] F8 / [ F7",
        what: "lower / raise priority (nice +1 / −1)",
        bound: &[(Key::Char(']'), Renice(1)), (Key::F(8), Renice(1)), (Key::Char('['), Renice(-1)), (Key::F(7), Renice(-1))],
    },
    Binding {
        keys: "a",
        what: "CPU affinity: choose the CPUs the process's threads may run on",
        bound: &[(Key::Char('a'), Affinity)],
    },
    Binding {
        keys: "i",
        what: "I/O priority: choose the class (realtime, best-effort, idle or none) and level of its threads",
        bound: &[(Key::Char('i'), IoPriority)],
    },
    Binding {
        keys: "yy yp yc yu",
        what: "yank row / pid / command line / user (OSC 52 clipboard)",
        bound: &[(Key::Then('y', 'y'), Yank('y')), (Key::Then('y', 'p'), Yank('p')), (Key::Then('y', 'c'), Yank('c')), (Key::Then('y', 'u'), Yank('u'))],
    },
    section("Inspect the selected process"),
    Binding {
        keys: "e",
        what: "its environment (/ searches, n next)",
        bound: &[(Key::Char('e'), Environment)],
    },
    Binding {
        keys: "l",
        what: "its open files: fd, type, path or socket endpoints (refreshed while open)",
        bound: &[(Key::Char('l'), OpenFiles)],
    },
    Binding {
        keys: "s",
        what: "trace its system calls with strace, live; closing stops strace",
        bound: &[(Key::Char('s'), Trace)],
    },
    section("View"),
    Binding {
        keys: "H",
        what: "show threads",
        bound: &[(Key::Char('H'), Threads)],
    },
    Binding {
        keys: "K",
        what: "show kernel threads",
        bound: &[(Key::Char('K'), KernelThreads)],
    },
    Binding {
        keys: "u",
        what: "show only one user's processes",
        bound: &[(Key::Char('u'), UserChooser)],
    },
    Binding {
        keys: "O",
        what: "show only one unit's or container's processes",
        bound: &[(Key::Char('O'), GroupChooser)],
    },
    Binding {
        keys: "o",
        what: "UNIT column: services only / services and scopes / cgroup path",
        bound: &[(Key::Char('o'), UnitDisplay)],
    },
    Binding {
        keys: "N",
        what: "network columns: rates by NET/s, then totals since bpftop started by NET_TOT, then off",
        bound: &[(Key::Char('N'), NetworkView)],
    },
    Binding {
        keys: "gG",
        what: "GPU columns (GPU%, GMEM, and GPU with several GPUs) by GPU%; again: off",
        bound: &[(Key::Then('g', 'G'), GpuView)],
    },
    Binding {
        keys: "gu",
        what: "units and containers: CPU, memory, pressure, limits, throttling",
        bound: &[(Key::Then('g', 'u'), UnitsView)],
    },
    Binding {
        keys: "X",
        what: "processes that exited lately: code or signal, OOM kills, lifetime, CPU, repeated failures",
        bound: &[(Key::Char('X'), ExitedView)],
    },
    Binding {
        keys: "w",
        what: "the selected process's whole command line, wrapped",
        bound: &[(Key::Char('w'), CommandLine)],
    },
    Binding {
        keys: "Tab Shift-Tab",
        what: "next / previous screen: Main, I/O (each keeps its own columns and sort)",
        bound: &[(Key::Tab, Screen(1)), (Key::BackTab, Screen(-1))],
    },
    Binding {
        keys: "F",
        what: "follow the selected process as the list reorders (moving stops it)",
        bound: &[(Key::Char('F'), Follow)],
    },
    Binding {
        keys: "Z",
        what: "pause updates (the list stays as it is, keys still work); again: resume",
        bound: &[(Key::Char('Z'), Pause)],
    },
    Binding {
        keys: ", .",
        what: "rewind: the refresh before / after the one shown (a recording, or rewind_minutes)",
        bound: &[
            (Key::Char(','), Travel(self::Travel::Refreshes(-1))),
            (Key::Char('.'), Travel(self::Travel::Refreshes(1))),
        ],
    },
    Binding {
        keys: "{ }",
        what: "rewind: a minute back / forward",
        bound: &[
            (Key::Char('{'), Travel(self::Travel::Seconds(-60))),
            (Key::Char('}'), Travel(self::Travel::Seconds(60))),
        ],
    },
    Binding {
        keys: "L",
        what: "back to the live refreshes after rewinding",
        bound: &[(Key::Char('L'), Travel(self::Travel::Live))],
    },
    Binding {
        keys: "#",
        what: "hide / show the meters",
        bound: &[(Key::Char('#'), ToggleHeader)],
    },
    Binding {
        keys: "p",
        what: "show / hide the program's path in Command",
        bound: &[(Key::Char('p'), ProgramPath)],
    },
    Binding {
        keys: "F2 S",
        what: "setup: columns, meters, refresh rate, theme (saved to the config file)",
        bound: &[(Key::F(2), Setup), (Key::Char('S'), Setup)],
    },
    Binding {
        keys: "Ctrl-L",
        what: "redraw the screen",
        bound: &[(Key::Ctrl('l'), Redraw)],
    },
    Binding {
        keys: "? F1",
        what: "this help",
        bound: &[(Key::Char('?'), Help), (Key::F(1), Help)],
    },
    Binding {
        keys: "q F10 Ctrl-C",
        what: "quit",
        bound: &[(Key::Char('q'), Quit), (Key::F(10), Quit)],
    },
];

/// Every key the table binds, with its action.
pub fn bindings() -> impl Iterator<Item = (Key, Action)> {
    HELP.iter().flat_map(|b| b.bound.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_is_bound_once() {
        let keys: Vec<Key> = bindings().map(|(k, _)| k).collect();
        for (i, k) in keys.iter().enumerate() {
            assert!(!keys[i + 1..].contains(k), "{k:?} bound twice");
        }
    }

    #[test]
    fn only_described_lines_bind_and_section_titles_bind_nothing() {
        for b in HELP {
            if b.what.is_empty() {
                assert!(b.bound.is_empty(), "{}", b.keys);
            } else {
                assert!(!b.bound.is_empty() || b.keys == "mouse", "{}", b.keys);
            }
        }
    }
}
