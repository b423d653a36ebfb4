//! What each [`Action`] does to the view state.

use crate::actions::yank;
use crate::collect::sample::ProcessKey;
use crate::ui::state::dialog::Dialog;
use crate::ui::state::dialogs;
use crate::ui::state::keymap::Action;
use crate::ui::state::panel::{Inspect, Panel};
use crate::ui::state::temporary;
use crate::ui::state::view::{Effect, ViewState};

/// Carries out `action`; returns what the event loop must do.
pub fn apply(view: &mut ViewState, action: Action) -> Effect {
    match action {
        Action::Up => view.move_cursor(-1),
        Action::Down => view.move_cursor(1),
        Action::PageUp => view.move_cursor(-page(view)),
        Action::PageDown => view.move_cursor(page(view)),
        Action::HalfPageUp => view.move_cursor(-half_page(view)),
        Action::HalfPageDown => view.move_cursor(half_page(view)),
        Action::First => view.select_row(0),
        Action::Last => view.select_row(usize::MAX),
        Action::Redraw => return Effect::Clear,
        Action::Prefix(c) => view.pending = Some(c),
        Action::Search => view.start_search(),
        Action::SearchNext => view.search_again(true),
        Action::SearchPrevious => view.search_again(false),
        Action::Filter => view.start_filter(),
        Action::NetworkView => temporary::cycle_network(view),
        Action::GpuView => temporary::toggle_gpu(view),
        Action::UnitsView => match dialogs::units_view(view) {
            Ok(dialog) => view.dialog = Some(dialog),
            Err(message) => view.set_status(message, true),
        },
        Action::ExitedView => view.dialog = Some(dialogs::exited_view()),
        Action::SortChooser => view.dialog = Some(dialogs::sort_chooser(view)),
        Action::SortPrevious => view.cycle_sort(-1),
        Action::SortNext => view.cycle_sort(1),
        Action::SortBy(column) => view.sort_or_invert(column),
        Action::InvertSort => view.invert_sort(),
        Action::Tree => view.toggle_tree(),
        Action::Fold(folded) => view.fold_selected(folded),
        Action::ToggleFold => view.toggle_fold_selected(),
        Action::FoldSubtree(folded) => view.fold_subtree(folded),
        Action::FoldAll => view.fold_all(),
        Action::UnfoldAll => view.unfold_all(),
        Action::Tag => view.tag_and_move(),
        Action::TagChildren => view.tag_with_children(),
        Action::UntagAll => view.untag_all(),
        Action::Visual => view.toggle_visual(),
        Action::LeaveVisual => view.leave_visual(),
        Action::SignalMenu => open_signal_menu(view),
        Action::Freeze => {
            let targets = view.targets();
            match dialogs::freeze_dialog(view, &targets) {
                Ok(dialog) => view.dialog = Some(dialog),
                Err(message) => view.set_status(message, true),
            }
        }
        Action::Renice(delta) => return renice(view, delta),
        Action::Affinity => {
            return with_targets(view, |targets| Effect::OpenAffinity { targets });
        }
        Action::IoPriority => {
            return with_targets(view, |targets| Effect::OpenIoPriority { targets });
        }
        Action::Yank(what) => return yank(view, what),
        Action::Threads => {
            view.toggle_threads();
            return Effect::CollectThreads(view.show_threads);
        }
        Action::KernelThreads => view.toggle_kernel_threads(),
        Action::UserChooser => view.dialog = Some(dialogs::user_chooser(view)),
        Action::GroupChooser => match dialogs::group_chooser(view) {
            Ok(dialog) => view.dialog = Some(dialog),
            Err(message) => view.set_status(message, true),
        },
        Action::UnitDisplay => view.cycle_unit_display(),
        Action::Screen(step) => view.switch_screen(isize::from(step)),
        Action::Follow => view.toggle_follow(),
        Action::Environment => return inspect(view, Inspect::Environment),
        Action::OpenFiles => return inspect(view, Inspect::OpenFiles),
        Action::Trace => return inspect(view, Inspect::Trace),
        Action::Pause => {
            view.toggle_pause();
            return Effect::Paused(view.paused());
        }
        Action::ToggleHeader => view.toggle_header(),
        Action::ProgramPath => view.toggle_program_path(),
        Action::Sideways(direction) => view.scroll_sideways(direction),
        Action::CommandLine => match dialogs::command_line(view) {
            Some(dialog) => view.dialog = Some(dialog),
            None => view.set_status("no process selected", true),
        },
        Action::Setup => view.dialog = Some(Dialog::setup()),
        Action::Help => view.dialog = Some(Dialog::Help { scroll: 0 }),
        Action::Travel(to) => return Effect::Travel(to),
        Action::Quit => return Effect::Quit,
    }
    Effect::None
}

/// e, l, s: a panel on the selected process, filled by the event loop.
fn inspect(view: &mut ViewState, what: Inspect) -> Effect {
    let Some(p) = view.selected() else {
        view.set_status("no process selected", true);
        return Effect::None;
    };
    if p.sample.kernel_thread && what != Inspect::OpenFiles {
        let pid = p.sample.pid;
        view.set_status(format!("PID {pid} is a kernel thread: it has no environment and no system calls of its own"), true);
        return Effect::None;
    }
    let label = format!(
        "PID {} — {}",
        p.sample.pid,
        crate::ui::columns::command_text(p, None)
    );
    Effect::Inspect(Panel::new(what, p.sample.key(), label))
}

fn half_page(view: &ViewState) -> isize {
    (view.page_rows / 2).max(1) as isize
}

fn page(view: &ViewState) -> isize {
    view.page_rows.max(1) as isize
}

fn open_signal_menu(view: &mut ViewState) {
    let targets = view.targets();
    if targets.is_empty() {
        view.set_status("no process selected", true);
        return;
    }
    view.dialog = Some(dialogs::signal_menu(targets));
}

/// The effect for the targets, or a message when there are none.
fn with_targets(view: &mut ViewState, effect: impl FnOnce(Vec<ProcessKey>) -> Effect) -> Effect {
    let targets = view.targets();
    if targets.is_empty() {
        view.set_status("no process selected", true);
        return Effect::None;
    }
    effect(targets)
}

fn renice(view: &mut ViewState, delta: i32) -> Effect {
    let targets = view.targets();
    if targets.is_empty() {
        return Effect::None;
    }
    Effect::Renice { targets, delta }
}

/// Text of the selected row, range, or one of its fields.
fn yank(view: &mut ViewState, what: char) -> Effect {
    let text = match what {
        'y' => match view.visual_range() {
            Some((first, last)) => (first..=last)
                .filter_map(|r| dialogs::row_text(view, r))
                .map(|line| yank::sanitize(&line))
                .collect::<Vec<_>>()
                .join("\n"),
            None => match dialogs::row_text(view, view.cursor) {
                Some(t) => yank::sanitize(&t),
                None => return Effect::None,
            },
        },
        'p' => match view.selected() {
            Some(p) => p.sample.pid.to_string(),
            None => return Effect::None,
        },
        'c' => match view.selected() {
            Some(p) => {
                let args: Vec<String> = p
                    .sample
                    .cmdline
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                let text = if args.is_empty() {
                    String::from_utf8_lossy(&p.sample.comm).into_owned()
                } else {
                    args.join(" ")
                };
                yank::sanitize(&text)
            }
            None => return Effect::None,
        },
        'u' => match view.selected() {
            Some(p) => yank::sanitize(&p.user),
            None => return Effect::None,
        },
        _ => return Effect::None,
    };
    view.leave_visual();
    Effect::Yank(text)
}
