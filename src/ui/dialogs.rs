//! Overlays: help, signal menu, sort chooser, user chooser and setup. Each
//! has its state here, its keys and its drawing.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use super::columns::{container_text, unit_name, CellContext, Column};
use super::header::Meter;
use super::keys::HELP;
use super::rows::Group;
use super::text::fit;
use super::theme::Theme;
use super::view::{Effect, ViewState};
use crate::actions::signal::SIGNALS;
use crate::collect::sample::ProcessKey;

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

/// Refresh delays the setup screen steps through, ms.
const DELAY_STEP_MS: u64 = 100;
const DELAY_MIN_MS: u64 = 100;
const DELAY_MAX_MS: u64 = 60_000;

const OPTIONS: &[&str] = &[
    "Refresh delay",
    "Colour theme",
    "Show aggregated CPU/MEM of folded trees",
    "Mouse",
    "Show kernel threads",
    "Show threads",
];

impl Dialog {
    pub fn setup() -> Dialog {
        Dialog::Setup(Setup {
            section: Section::Columns,
            selected: 0,
        })
    }
}

/// Columns the sort chooser offers: the visible ones first, in screen
/// order, then the hidden ones (a sort set by `T` or `-s` may be on a
/// hidden column, and must show as current).
pub fn sort_columns(view: &ViewState) -> Vec<Column> {
    let mut columns = view.shown_columns().into_owned();
    let hidden: Vec<Column> = Column::ALL
        .iter()
        .filter(|c| !columns.contains(c))
        .copied()
        .collect();
    columns.extend(hidden);
    columns
}

pub fn sort_chooser(view: &ViewState) -> Dialog {
    let selected = sort_columns(view)
        .iter()
        .position(|c| *c == view.sort.column)
        .unwrap_or(0);
    Dialog::Sort { selected }
}

pub fn user_chooser(view: &ViewState) -> Dialog {
    let mut users: Vec<(u32, String)> = view
        .model
        .as_deref()
        .map(|m| {
            m.processes
                .iter()
                .filter(|p| !p.sample.kernel_thread)
                .map(|p| (p.sample.uid, p.user.to_string()))
                .collect()
        })
        .unwrap_or_default();
    users.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    users.dedup();
    let mut list = vec![None];
    list.extend(users.into_iter().map(Some));
    let selected = view
        .user_filter
        .as_ref()
        .and_then(|(uid, _)| {
            list.iter()
                .position(|u| u.as_ref().map(|u| u.0) == Some(*uid))
        })
        .unwrap_or(0);
    Dialog::User {
        selected,
        users: list,
    }
}

pub fn signal_menu(targets: Vec<ProcessKey>) -> Dialog {
    let selected = SIGNALS
        .iter()
        .position(|(n, _)| *n == libc::SIGTERM)
        .unwrap_or(0);
    Dialog::Signal(SignalMenu {
        selected,
        targets,
        typed: String::new(),
    })
}

/// The visible columns of a row as plain text (what `yy` yanks).
pub fn row_text(view: &ViewState, row: usize) -> Option<String> {
    let model = view.model.as_deref()?;
    let r = view.rows.get(row)?;
    let p = model.processes.get(r.process)?;
    let ctx = CellContext {
        unit_display: view.unit_display,
        ..CellContext::for_model(model)
    };
    let cells: Vec<String> = view
        .shown_columns()
        .iter()
        .map(|c| c.text(p, r.thread, &ctx).text.trim().to_owned())
        .collect();
    Some(cells.join(" "))
}

fn step(selected: usize, len: usize, delta: isize) -> usize {
    if len == 0 {
        return 0;
    }
    selected
        .saturating_add_signed(delta)
        .min(len.saturating_sub(1))
}

/// Keys while a dialog is open.
pub fn handle_key(view: &mut ViewState, key: KeyEvent) -> Effect {
    let Some(dialog) = view.dialog.take() else {
        return Effect::None;
    };
    let (kept, effect) = match dialog {
        Dialog::Help { scroll } => help_key(scroll, key),
        Dialog::Signal(menu) => signal_key(menu, key),
        Dialog::Sort { selected } => sort_key(view, selected, key),
        Dialog::User { selected, users } => user_key(view, selected, users, key),
        Dialog::Setup(setup) => setup_key(view, setup, key),
        Dialog::Freeze(dialog) => freeze_key(dialog, key),
        Dialog::Group { selected, groups } => group_key(view, selected, groups, key),
    };
    view.dialog = kept;
    effect
}

fn is_close(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Esc | KeyCode::Char('q') | KeyCode::F(10))
}

fn vertical(key: &KeyEvent) -> Option<isize> {
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => Some(-1),
        KeyCode::Down | KeyCode::Char('j') => Some(1),
        KeyCode::PageUp => Some(-10),
        KeyCode::PageDown => Some(10),
        KeyCode::Home => Some(isize::MIN / 2),
        KeyCode::End => Some(isize::MAX / 2),
        _ => None,
    }
}

fn help_key(scroll: usize, key: KeyEvent) -> (Option<Dialog>, Effect) {
    if is_close(&key) || matches!(key.code, KeyCode::F(1) | KeyCode::Char('?')) {
        return (None, Effect::None);
    }
    let scroll = match vertical(&key) {
        Some(d) => step(scroll, HELP.len(), d),
        None => scroll,
    };
    (Some(Dialog::Help { scroll }), Effect::None)
}

fn signal_key(mut menu: SignalMenu, key: KeyEvent) -> (Option<Dialog>, Effect) {
    if is_close(&key) {
        return (None, Effect::None);
    }
    match key.code {
        KeyCode::Enter => {
            let signal = SIGNALS.get(menu.selected).map(|(n, _)| *n);
            return match signal {
                Some(signal) => (
                    None,
                    Effect::Signal {
                        targets: menu.targets,
                        signal,
                    },
                ),
                None => (None, Effect::None),
            };
        }
        KeyCode::Char(d) if d.is_ascii_digit() => {
            menu.typed.push(d);
            let number: i32 = menu.typed.parse().unwrap_or(0);
            match SIGNALS.iter().position(|(n, _)| *n == number) {
                Some(i) => menu.selected = i,
                None => {
                    // Start over with this digit.
                    menu.typed = d.to_string();
                    let number: i32 = menu.typed.parse().unwrap_or(0);
                    if let Some(i) = SIGNALS.iter().position(|(n, _)| *n == number) {
                        menu.selected = i;
                    }
                }
            }
            if menu.typed.len() >= 2 {
                menu.typed.clear();
            }
        }
        _ => {
            if let Some(d) = vertical(&key) {
                menu.selected = step(menu.selected, SIGNALS.len(), d);
                menu.typed.clear();
            }
        }
    }
    (Some(Dialog::Signal(menu)), Effect::None)
}

/// The units and containers of the current processes, to show only one.
pub fn group_chooser(view: &ViewState) -> Dialog {
    let mut units = std::collections::BTreeSet::new();
    let mut containers = std::collections::BTreeSet::new();
    for p in view.model.iter().flat_map(|m| m.processes.iter()) {
        if let Some(unit) = unit_name(p) {
            units.insert(unit);
        }
        if let Some(container) = container_text(p) {
            containers.insert(container);
        }
    }
    let mut groups = vec![None];
    groups.extend(containers.into_iter().map(|c| Some(Group::Container(c))));
    groups.extend(units.into_iter().map(|u| Some(Group::Unit(u))));
    let selected = groups
        .iter()
        .position(|g| g.as_ref() == view.group_filter.as_ref())
        .unwrap_or(0);
    Dialog::Group { selected, groups }
}

fn group_key(
    view: &mut ViewState,
    selected: usize,
    groups: Vec<Option<Group>>,
    key: KeyEvent,
) -> (Option<Dialog>, Effect) {
    chooser_key(
        view,
        selected,
        groups,
        key,
        |view, group| view.group_filter = group,
        |selected, groups| Dialog::Group { selected, groups },
    )
}

/// Keys of a one-choice list (None entries stand for "all"): Enter applies
/// the choice and rebuilds the rows, Esc closes, movement moves.
fn chooser_key<T: Clone>(
    view: &mut ViewState,
    selected: usize,
    items: Vec<Option<T>>,
    key: KeyEvent,
    apply: impl FnOnce(&mut ViewState, Option<T>),
    reopen: impl FnOnce(usize, Vec<Option<T>>) -> Dialog,
) -> (Option<Dialog>, Effect) {
    if is_close(&key) {
        return (None, Effect::None);
    }
    if key.code == KeyCode::Enter {
        apply(view, items.get(selected).cloned().flatten());
        view.rebuild();
        return (None, Effect::None);
    }
    let selected = match vertical(&key) {
        Some(d) => step(selected, items.len(), d),
        None => selected,
    };
    (Some(reopen(selected, items)), Effect::None)
}

/// Opens the freeze (or, when all are frozen, thaw) confirmation for the
/// cgroups of `targets`.
pub fn freeze_dialog(view: &ViewState, targets: &[ProcessKey]) -> Result<Dialog, String> {
    let model = view.model.as_deref().ok_or("no processes yet")?;
    let by_key: std::collections::HashMap<ProcessKey, &crate::model::ProcessView> = model
        .processes
        .iter()
        .map(|p| (p.sample.key(), p))
        .collect();
    let mut cgroups: Vec<String> = Vec::new();
    let mut all_frozen = true;
    for key in targets {
        let Some(p) = by_key.get(key) else { continue };
        if p.sample.kernel_thread {
            return Err("kernel threads cannot be frozen".to_owned());
        }
        let Some(path) = p.sample.cgroup.as_deref().map(str::to_owned) else {
            return Err(format!("PID {}: cgroup v2 path unknown", p.sample.pid));
        };
        all_frozen &= super::columns::is_frozen(p);
        if !cgroups.contains(&path) {
            cgroups.push(path);
        }
    }
    if cgroups.is_empty() {
        return Err("no process selected".to_owned());
    }
    let members: Vec<&crate::model::ProcessView> = model
        .processes
        .iter()
        .filter(|p| {
            p.sample
                .cgroup
                .as_deref()
                .is_some_and(|c| cgroups.iter().any(|g| g == c))
        })
        .collect();
    let processes = members
        .iter()
        .map(|p| {
            format!(
                "{:>7} {}",
                p.sample.pid,
                super::columns::command_text(p, None)
            )
        })
        .collect();
    let single = match (targets, cgroups.as_slice()) {
        // Offered only where it can work: not for the root cgroup, nor
        // for a process isolated already.
        ([key], [cgroup])
            if members.len() > 1 && !all_frozen && crate::actions::freeze::can_isolate(cgroup) =>
        {
            Some((*key, cgroup.clone()))
        }
        _ => None,
    };
    Ok(Dialog::Freeze(FreezeDialog {
        thaw: all_frozen,
        cgroups,
        processes,
        single,
        scroll: 0,
    }))
}

fn freeze_key(mut dialog: FreezeDialog, key: KeyEvent) -> (Option<Dialog>, Effect) {
    if is_close(&key) {
        return (None, Effect::None);
    }
    match key.code {
        KeyCode::Enter if dialog.thaw => (
            None,
            Effect::Thaw {
                cgroups: dialog.cgroups,
            },
        ),
        KeyCode::Enter => (
            None,
            Effect::Freeze {
                cgroups: dialog.cgroups,
                isolate: None,
            },
        ),
        KeyCode::Char('i') if dialog.single.is_some() => (
            None,
            Effect::Freeze {
                cgroups: Vec::new(),
                isolate: dialog.single,
            },
        ),
        _ => {
            if let Some(d) = vertical(&key) {
                dialog.scroll = step(dialog.scroll, dialog.processes.len(), d);
            }
            (Some(Dialog::Freeze(dialog)), Effect::None)
        }
    }
}

fn sort_key(view: &mut ViewState, selected: usize, key: KeyEvent) -> (Option<Dialog>, Effect) {
    if is_close(&key) || key.code == KeyCode::F(6) {
        return (None, Effect::None);
    }
    if key.code == KeyCode::Enter {
        if let Some(&column) = sort_columns(view).get(selected) {
            if view.sort.column != column {
                view.sort.column = column;
                view.sort.descending = column.default_descending();
            }
            view.rebuild();
        }
        return (None, Effect::None);
    }
    let selected = match vertical(&key) {
        Some(d) => step(selected, Column::ALL.len(), d),
        None => selected,
    };
    (Some(Dialog::Sort { selected }), Effect::None)
}

fn user_key(
    view: &mut ViewState,
    selected: usize,
    users: Vec<Option<(u32, String)>>,
    key: KeyEvent,
) -> (Option<Dialog>, Effect) {
    chooser_key(
        view,
        selected,
        users,
        key,
        |view, user| view.user_filter = user,
        |selected, users| Dialog::User { selected, users },
    )
}

/// Setup list entries: enabled columns in order, then the others.
pub fn setup_columns(view: &ViewState) -> Vec<(Column, bool)> {
    let mut items: Vec<(Column, bool)> = view.columns.iter().map(|c| (*c, true)).collect();
    items.extend(
        Column::ALL
            .iter()
            .filter(|c| !view.columns.contains(c))
            .map(|c| (*c, false)),
    );
    items
}

pub fn setup_meters(view: &ViewState) -> Vec<(Meter, bool)> {
    let mut items: Vec<(Meter, bool)> = view.meters.iter().map(|m| (*m, true)).collect();
    items.extend(
        Meter::ALL
            .iter()
            .filter(|m| !view.meters.contains(m))
            .map(|m| (*m, false)),
    );
    items
}

fn section_len(section: Section) -> usize {
    match section {
        Section::Columns => Column::ALL.len(),
        Section::Meters => Meter::ALL.len(),
        Section::Options => OPTIONS.len(),
    }
}

/// Toggles membership of `item` in `list` (never emptying it) or moves it.
fn toggle_in<T: PartialEq + Copy>(list: &mut Vec<T>, item: T) {
    if let Some(i) = list.iter().position(|x| *x == item) {
        if list.len() > 1 {
            list.remove(i);
        }
    } else {
        list.push(item);
    }
}

/// Moves enabled item `index` by `delta` places; returns its new index.
fn move_in<T>(list: &mut [T], index: usize, delta: isize) -> usize {
    let target = index.saturating_add_signed(delta);
    if index < list.len() && target < list.len() {
        list.swap(index, target);
        target
    } else {
        index
    }
}

fn setup_key(view: &mut ViewState, mut setup: Setup, key: KeyEvent) -> (Option<Dialog>, Effect) {
    if is_close(&key) || key.code == KeyCode::F(2) {
        return (None, Effect::SaveConfig);
    }
    match key.code {
        KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => {
            setup.section = match setup.section {
                Section::Columns => Section::Meters,
                Section::Meters => Section::Options,
                Section::Options => Section::Columns,
            };
            setup.selected = 0;
        }
        KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => {
            setup.section = match setup.section {
                Section::Columns => Section::Options,
                Section::Meters => Section::Columns,
                Section::Options => Section::Meters,
            };
            setup.selected = 0;
        }
        KeyCode::Char(' ') | KeyCode::Enter => setup_toggle(view, &setup),
        KeyCode::Char('J') => setup.selected = setup_move(view, &setup, 1),
        KeyCode::Char('K') => setup.selected = setup_move(view, &setup, -1),
        KeyCode::Char('+') | KeyCode::Char('=') => setup_adjust(view, &setup, 1),
        KeyCode::Char('-') => setup_adjust(view, &setup, -1),
        _ => {
            if let Some(d) = vertical(&key) {
                setup.selected = step(setup.selected, section_len(setup.section), d);
            }
        }
    }
    (Some(Dialog::Setup(setup)), Effect::None)
}

fn setup_toggle(view: &mut ViewState, setup: &Setup) {
    match setup.section {
        Section::Columns => {
            if let Some((column, _)) = setup_columns(view).get(setup.selected).copied() {
                toggle_in(&mut view.columns, column);
                view.rebuild();
            }
        }
        Section::Meters => {
            if let Some((meter, _)) = setup_meters(view).get(setup.selected).copied() {
                toggle_in(&mut view.meters, meter);
            }
        }
        Section::Options => match setup.selected {
            0 => setup_adjust(view, setup, 1),
            1 => {
                let names = Theme::NAMES;
                let at = names
                    .iter()
                    .position(|n| *n == view.theme.name)
                    .unwrap_or(0);
                let next = names
                    .get((at + 1) % names.len())
                    .copied()
                    .unwrap_or("default");
                if let Some(theme) = Theme::by_name(next) {
                    view.theme = theme;
                }
            }
            2 => {
                view.aggregate_folded = !view.aggregate_folded;
            }
            3 => view.mouse = !view.mouse,
            4 => {
                view.show_kernel_threads = !view.show_kernel_threads;
                view.rebuild();
            }
            5 => {
                view.show_threads = !view.show_threads;
                view.rebuild();
            }
            _ => {}
        },
    }
}

fn setup_move(view: &mut ViewState, setup: &Setup, delta: isize) -> usize {
    match setup.section {
        Section::Columns if setup.selected < view.columns.len() => {
            let at = move_in(&mut view.columns, setup.selected, delta);
            view.rebuild();
            at
        }
        Section::Meters if setup.selected < view.meters.len() => {
            move_in(&mut view.meters, setup.selected, delta)
        }
        _ => setup.selected,
    }
}

fn setup_adjust(view: &mut ViewState, setup: &Setup, direction: i64) {
    if setup.section == Section::Options && setup.selected == 0 {
        let delay = view.delay_ms as i64 + direction * DELAY_STEP_MS as i64;
        view.delay_ms = (delay.max(0) as u64).clamp(DELAY_MIN_MS, DELAY_MAX_MS);
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// The lines of a dialog, its title and which line is selected.
fn content(dialog: &Dialog, view: &ViewState) -> (String, Vec<String>, Option<usize>) {
    match dialog {
        Dialog::Help { .. } => {
            let lines = HELP
                .iter()
                .map(|(keys, what)| {
                    if what.is_empty() {
                        format!("{keys}:")
                    } else {
                        format!("  {} {what}", fit(keys, 18, false))
                    }
                })
                .collect();
            ("Help — Esc to close".to_owned(), lines, None)
        }
        Dialog::Signal(menu) => {
            let n = menu.targets.len();
            let title = if n == 1 {
                "Send signal to 1 process".to_owned()
            } else {
                format!("Send signal to {n} processes")
            };
            let lines = SIGNALS
                .iter()
                .map(|(number, name)| format!("{number:>2} {name}"))
                .collect();
            (title, lines, Some(menu.selected))
        }
        Dialog::Sort { selected } => {
            let lines = sort_columns(view)
                .iter()
                .map(|c| {
                    let mark = if *c == view.sort.column { "*" } else { " " };
                    format!("{mark} {}", c.title())
                })
                .collect();
            ("Sort by".to_owned(), lines, Some(*selected))
        }
        Dialog::User { selected, users } => {
            let lines = users
                .iter()
                .map(|u| match u {
                    None => "All users".to_owned(),
                    Some((uid, name)) => format!("{name} ({uid})"),
                })
                .collect();
            ("Show processes of".to_owned(), lines, Some(*selected))
        }
        Dialog::Setup(setup) => setup_content(setup, view),
        Dialog::Freeze(d) => freeze_content(d),
        Dialog::Group { selected, groups } => {
            let lines = groups
                .iter()
                .map(|g| match g {
                    None => "Everything".to_owned(),
                    Some(g) => g.label(),
                })
                .collect();
            ("Show only".to_owned(), lines, Some(*selected))
        }
    }
}

fn freeze_content(d: &FreezeDialog) -> (String, Vec<String>, Option<usize>) {
    let verb = if d.thaw { "Thaw" } else { "Freeze" };
    let title = format!(
        "{verb} {} cgroup(s): {} process(es) — Enter: {}, Esc: cancel",
        d.cgroups.len(),
        d.processes.len(),
        verb.to_lowercase()
    );
    let mut lines: Vec<String> = d.cgroups.iter().map(|c| format!("cgroup {c}")).collect();
    if !d.thaw {
        lines.push("The whole cgroup stops; processes forked in it are born frozen.".to_owned());
    }
    if let Some((key, _)) = &d.single {
        lines.push(format!(
            "It holds other processes too. i: move only PID {} into a cgroup of its own and freeze that.",
            key.pid
        ));
    }
    lines.push(String::new());
    lines.extend(d.processes.iter().skip(d.scroll).cloned());
    (title, lines, None)
}

fn setup_content(setup: &Setup, view: &ViewState) -> (String, Vec<String>, Option<usize>) {
    let tab = |s: Section, name: &str| {
        if s == setup.section {
            format!("[{name}]")
        } else {
            format!(" {name} ")
        }
    };
    let title = format!(
        "Setup {}{}{} — Tab: section, Space: toggle, J/K: move, +/-: adjust, Esc: save and close",
        tab(Section::Columns, "Columns"),
        tab(Section::Meters, "Meters"),
        tab(Section::Options, "Options")
    );
    let check = |on: bool| if on { "[x]" } else { "[ ]" };
    let lines = match setup.section {
        Section::Columns => setup_columns(view)
            .into_iter()
            .map(|(c, on)| format!("{} {:<14} {}", check(on), c.id(), c.description()))
            .collect(),
        Section::Meters => setup_meters(view)
            .into_iter()
            .map(|(m, on)| format!("{} {:<10} {}", check(on), m.id(), m.description()))
            .collect(),
        Section::Options => OPTIONS
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let value = match i {
                    0 => format!("{:.1} s", view.delay_ms as f64 / 1000.0),
                    1 => view.theme.name.to_owned(),
                    2 => on_off(view.aggregate_folded).to_owned(),
                    3 => on_off(view.mouse).to_owned(),
                    4 => on_off(view.show_kernel_threads).to_owned(),
                    _ => on_off(view.show_threads).to_owned(),
                };
                format!("{name:<42} {value}")
            })
            .collect(),
    };
    (title, lines, Some(setup.selected))
}

/// A centred rectangle of at most `width` × `height` inside `area`.
fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Draws the dialog over `area`.
pub fn render(dialog: &Dialog, view: &ViewState, area: Rect, buf: &mut Buffer) {
    let theme = &view.theme;
    let (title, lines, selected) = content(dialog, view);
    let longest = lines
        .iter()
        .map(|l| super::text::width(l))
        .max()
        .unwrap_or(0);
    let wanted_width = (longest.max(super::text::width(&title)) + 4).min(u16::MAX as usize) as u16;
    let wanted_height = (lines.len() + 2).min(u16::MAX as usize) as u16;
    let rect = centred(area, wanted_width, wanted_height);
    if rect.width < 3 || rect.height < 3 {
        return;
    }
    Clear.render(rect, buf);
    let inner_height = rect.height.saturating_sub(2) as usize;
    // Keep the selected line (or the help scroll position) in view.
    let first = match (dialog, selected) {
        (Dialog::Help { scroll }, _) => (*scroll).min(lines.len().saturating_sub(inner_height)),
        (_, Some(sel)) if sel >= inner_height => sel + 1 - inner_height,
        _ => 0,
    };
    let inner_width = rect.width.saturating_sub(2) as usize;
    let text: Vec<Line> = lines
        .iter()
        .enumerate()
        .skip(first)
        .take(inner_height)
        .map(|(i, l)| {
            let style = if Some(i) == selected {
                theme.selected
            } else {
                Style::default()
            };
            Line::styled(fit(l, inner_width, false), style)
        })
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(
            fit(&title, inner_width, false).trim_end().to_owned(),
            theme.dialog_title,
        ))
        .style(theme.dialog);
    Paragraph::new(text).block(block).render(rect, buf);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod freeze_offer_tests {
    use super::*;
    use crate::model::testing::demo_model;
    use crate::ui::test_support::view_of;

    /// The dialog for the first two user processes, both put in `cgroup`;
    /// whether it offers `i` (freezing the first alone).
    fn offers_alone(cgroup: &str) -> bool {
        let mut model = demo_model();
        let mut users = model
            .processes
            .iter_mut()
            .filter(|p| !p.sample.kernel_thread);
        for p in users.by_ref().take(2) {
            p.sample.cgroup = Some(cgroup.into());
            p.cgroup = None;
        }
        let first = model
            .processes
            .iter()
            .find(|p| p.sample.cgroup.as_deref() == Some(cgroup))
            .unwrap()
            .sample
            .key();
        let view = view_of(model);
        match freeze_dialog(&view, &[first]).unwrap() {
            Dialog::Freeze(d) => d.single.is_some(),
            _ => panic!("not the freeze dialog"),
        }
    }

    /// Reproduction: `i` was offered for a process in the root cgroup (and
    /// in a top-level one), then refused with "refusing to freeze /".
    #[test]
    fn freezing_alone_is_offered_only_where_it_can_work() {
        assert!(!offers_alone("/"));
        assert!(offers_alone("/top.scope"));
        assert!(offers_alone("/system.slice/a.service"));
        assert!(!offers_alone("/a.service/bpftop-freeze-7-by-1-2-3"));
    }
}
