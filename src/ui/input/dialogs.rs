//! Keys while a dialog is open: each dialog's keys change the view or
//! close the dialog, and may return an [`Effect`] for the event loop.

use crossterm::event::{KeyCode, KeyEvent};

use crate::actions::signal::SIGNALS;
use crate::ui::columns::Column;
use crate::ui::header::Meter;
use crate::ui::input::tuning;
use crate::ui::rows::Group;
use crate::ui::state::dialog::{
    CommandLine, Dialog, FreezeDialog, Section, Setup, SignalMenu, OPTIONS,
};
use crate::ui::state::dialogs::{setup_columns, setup_meters, sort_columns};
use crate::ui::state::keymap::HELP;
use crate::ui::state::view::{Effect, ViewState};

use super::lists::{is_close, step, vertical};

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
        Dialog::Panel(panel) => super::panel::panel_key(panel, key, view.page_rows),
        Dialog::Command(command) => command_key(view, command, key),
        Dialog::Units(table) => super::units::units_key(view, table, key),
        Dialog::Exited(table) => super::exited::exited_key(view, table, key),
        Dialog::Affinity(dialog) => tuning::affinity_key(view, dialog, key),
        Dialog::IoPriority(dialog) => tuning::io_priority_key(dialog, key),
    };
    view.dialog = kept;
    effect
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

/// w's dialog: scrolls through the lines that do not fit; Esc, q, w close.
fn command_key(
    view: &ViewState,
    mut command: CommandLine,
    key: KeyEvent,
) -> (Option<Dialog>, Effect) {
    if is_close(&key) || key.code == KeyCode::Char('w') {
        return (None, Effect::None);
    }
    if let Some(d) = vertical(&key) {
        let lines = command.lines(view.page_width).len();
        // The box shows about a page of the table's rows.
        let most = lines.saturating_sub(view.page_rows.max(1));
        command.scroll = step(command.scroll, most + 1, d);
    }
    (Some(Dialog::Command(command)), Effect::None)
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
        |view, group| view.set_group_filter(group),
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
            view.choose_sort(column);
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
        |view, user| view.set_user_filter(user),
        |selected, users| Dialog::User { selected, users },
    )
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

/// Toggles a column as [`toggle_in`] does, but a column turned on goes
/// before Command while Command is last (it takes the rest of the line, so
/// nothing after it would show), as htop adds its columns.
fn toggle_column(columns: &mut Vec<Column>, column: Column) {
    let command_last = columns.last() == Some(&Column::Command);
    if command_last && column != Column::Command && !columns.contains(&column) {
        columns.insert(columns.len() - 1, column);
    } else {
        toggle_in(columns, column);
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
                toggle_column(&mut view.columns, column);
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
            1 => view.next_theme(),
            2 => view.toggle_aggregate_folded(),
            3 => view.toggle_mouse(),
            4 => view.toggle_kernel_threads(),
            5 => view.toggle_threads(),
            6 => view.set_meters_to_limits(!view.meters_to_limits()),
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
        view.step_delay(direction);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::testing::demo_model;
    use crate::ui::state::dialogs::{signal_menu, user_chooser};
    use crate::ui::state::options::{DELAY_MAX_MS, DELAY_MIN_MS, DELAY_STEP_MS};
    use crate::ui::test_support::view_of;

    fn press(view: &mut ViewState, code: KeyCode) -> Effect {
        handle_key(view, KeyEvent::from(code))
    }

    fn setup_at(section: Section, selected: usize) -> Option<Dialog> {
        Some(Dialog::Setup(Setup { section, selected }))
    }

    #[test]
    fn help_scrolls_within_its_lines_and_closes() {
        let mut v = view_of(demo_model());
        v.dialog = Some(Dialog::Help { scroll: 0 });
        press(&mut v, KeyCode::Up);
        assert_eq!(v.dialog, Some(Dialog::Help { scroll: 0 }));
        press(&mut v, KeyCode::End);
        assert_eq!(
            v.dialog,
            Some(Dialog::Help {
                scroll: HELP.len() - 1
            })
        );
        press(&mut v, KeyCode::Char('?'));
        assert_eq!(v.dialog, None);
    }

    #[test]
    fn typed_signal_numbers_select_and_enter_sends_to_the_captured_targets() {
        let mut v = view_of(demo_model());
        let targets = v.targets();
        assert!(!targets.is_empty());
        v.dialog = Some(signal_menu(targets.clone()));
        press(&mut v, KeyCode::Char('1'));
        press(&mut v, KeyCode::Char('5'));
        let effect = press(&mut v, KeyCode::Enter);
        assert_eq!(
            effect,
            Effect::Signal {
                targets,
                signal: libc::SIGTERM
            }
        );
        assert_eq!(v.dialog, None);
    }

    #[test]
    fn a_chooser_applies_only_on_enter() {
        let mut v = view_of(demo_model());
        v.dialog = Some(user_chooser(&v));
        press(&mut v, KeyCode::Down);
        press(&mut v, KeyCode::Esc);
        assert_eq!(
            (v.dialog.is_none(), v.user_filter().is_none()),
            (true, true)
        );
        v.dialog = Some(user_chooser(&v));
        press(&mut v, KeyCode::Down);
        press(&mut v, KeyCode::Enter);
        let uid = v.user_filter().map(|(uid, _)| *uid).unwrap();
        assert!(!v.rows.is_empty());
        assert!(v.rows.iter().all(|r| {
            let p = &v.model.as_deref().unwrap().processes[r.process];
            p.sample.uid == uid
        }));
    }

    #[test]
    fn setup_never_removes_the_last_column_and_saves_on_close() {
        let mut v = view_of(demo_model());
        v.columns = vec![Column::Pid];
        v.dialog = setup_at(Section::Columns, 0);
        press(&mut v, KeyCode::Char(' '));
        assert_eq!(v.columns, [Column::Pid]);
        press(&mut v, KeyCode::Down);
        press(&mut v, KeyCode::Char(' '));
        assert_eq!(v.columns.len(), 2, "the next column is added");
        assert_eq!(press(&mut v, KeyCode::Esc), Effect::SaveConfig);
        assert_eq!(v.dialog, None);
    }

    /// A column turned on shows: it goes before Command, which takes the
    /// rest of the line, while Command is last; after the user moves
    /// Command, new columns go at the end.
    #[test]
    fn a_column_turned_on_goes_before_command() {
        let mut v = view_of(demo_model());
        let start = Column::from_id("START").unwrap();
        let nlwp = Column::from_id("NLWP").unwrap();
        let at = |v: &ViewState, c| setup_columns(v).iter().position(|(x, _)| *x == c).unwrap();
        v.dialog = setup_at(Section::Columns, at(&v, start));
        press(&mut v, KeyCode::Char(' '));
        let n = v.columns.len();
        assert_eq!(v.columns[n - 2..], [start, Column::Command]);
        // Command moved up one place: no longer last.
        v.dialog = setup_at(Section::Columns, n - 1);
        press(&mut v, KeyCode::Char('K'));
        assert_eq!(v.columns[n - 2..], [Column::Command, start]);
        v.dialog = setup_at(Section::Columns, at(&v, nlwp));
        press(&mut v, KeyCode::Char(' '));
        assert_eq!(v.columns.last(), Some(&nlwp));
    }

    #[test]
    fn the_refresh_delay_stays_within_its_bounds() {
        let mut v = view_of(demo_model());
        v.delay_ms = DELAY_MIN_MS;
        v.dialog = setup_at(Section::Options, 0);
        press(&mut v, KeyCode::Char('-'));
        assert_eq!(v.delay_ms, DELAY_MIN_MS);
        press(&mut v, KeyCode::Char('+'));
        assert_eq!(v.delay_ms, DELAY_MIN_MS + DELAY_STEP_MS);
        v.delay_ms = DELAY_MAX_MS;
        press(&mut v, KeyCode::Char('+'));
        assert_eq!(v.delay_ms, DELAY_MAX_MS);
    }
}
