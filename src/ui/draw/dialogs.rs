//! Drawing the open dialog: its title and lines in a centred box, the
//! selected line highlighted and kept in view.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::actions::signal::SIGNALS;
use crate::ui::state::dialog::{Dialog, FreezeDialog, Section, Setup, OPTIONS};
use crate::ui::state::dialogs::{setup_columns, setup_meters, sort_columns};
use crate::ui::state::keymap::HELP;
use crate::ui::state::tuning::{io_choice_label, io_choices, AffinityDialog};
use crate::ui::state::view::ViewState;
use crate::ui::text::fit;

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// The lines of a dialog, its title and which line is selected.
fn content(dialog: &Dialog, view: &ViewState, area: Rect) -> (String, Vec<String>, Option<usize>) {
    match dialog {
        Dialog::Command(command) => (
            format!("Command line of PID {} — Esc to close", command.pid),
            command.lines(area.width),
            None,
        ),
        Dialog::Help { .. } => {
            let lines = HELP
                .iter()
                .map(|b| {
                    if b.what.is_empty() {
                        format!("{}:", b.keys)
                    } else {
                        format!("  {} {}", fit(b.keys, 18, false), b.what)
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
        // Drawn over the whole screen by `panel`, not in a box.
        Dialog::Panel(p) => (p.title(), Vec::new(), None),
        // Drawn over the whole screen by `units` and `exited`.
        Dialog::Units(_) | Dialog::Exited(_) => (String::new(), Vec::new(), None),
        Dialog::Affinity(d) => affinity_content(d),
        Dialog::IoPriority(d) => {
            let lines = io_choices().into_iter().map(io_choice_label).collect();
            (
                format!(
                    "I/O priority of {} — Enter: set, Esc: cancel",
                    processes(d.targets.len())
                ),
                lines,
                Some(d.selected),
            )
        }
    }
}

/// "1 process", or "3 processes".
fn processes(n: usize) -> String {
    if n == 1 {
        "1 process".to_owned()
    } else {
        format!("{n} processes")
    }
}

fn affinity_content(d: &AffinityDialog) -> (String, Vec<String>, Option<usize>) {
    let title = format!(
        "Use CPUs ({}) — Space: toggle, a: all, Enter: set, Esc: cancel",
        processes(d.targets.len())
    );
    let lines = d
        .cpus
        .iter()
        .map(|(cpu, on)| format!("{} CPU {cpu}", if *on { "[x]" } else { "[ ]" }))
        .collect();
    (title, lines, Some(d.selected))
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
            .enumerate()
            .map(|(i, (c, on))| {
                let line = format!("{} {:<14} {}", check(on), c.id(), c.description());
                match c.setup_note() {
                    Some(note) if i == setup.selected => format!("{line} — {note}"),
                    _ => line,
                }
            })
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
                    1 => view.theme().name.to_owned(),
                    2 => on_off(view.aggregate_folded()).to_owned(),
                    3 => on_off(view.mouse).to_owned(),
                    4 => on_off(view.show_kernel_threads).to_owned(),
                    5 => on_off(view.show_threads).to_owned(),
                    _ => limits_state(view),
                };
                format!("{name:<42} {value}")
            })
            .collect(),
    };
    (title, lines, Some(setup.selected))
}

/// The meters-to-limits option's value, and whether there is a limit.
fn limits_state(view: &ViewState) -> String {
    let limited = view
        .model
        .as_deref()
        .is_some_and(|m| m.system.own_limits.is_some());
    match (view.meters_to_limits(), limited) {
        (on, true) => on_off(on).to_owned(),
        (on, false) => format!("{} (no cpu.max or memory.max here)", on_off(on)),
    }
}

/// When a dialog's lines do not all fit (the help screen at 80×24), which
/// are shown and how to see the others, for the bottom border.
fn more_hint(first: usize, shown: usize, total: usize) -> Option<String> {
    if total <= shown || shown == 0 {
        return None;
    }
    let last = (first + shown).min(total);
    Some(format!(" {}–{last} of {total}: ↑↓ PgUp PgDn ", first + 1))
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
    let theme = view.theme();
    if let Dialog::Panel(panel) = dialog {
        return super::panel::render(panel, theme, area, buf);
    }
    if let Dialog::Units(table) = dialog {
        return super::units::render(table, view, area, buf);
    }
    if let Dialog::Exited(table) = dialog {
        return super::exited::render(table, view, area, buf);
    }
    let (title, lines, selected) = content(dialog, view, area);
    let longest = lines
        .iter()
        .map(|l| crate::ui::text::width(l))
        .max()
        .unwrap_or(0);
    let wanted_width =
        (longest.max(crate::ui::text::width(&title)) + 4).min(u16::MAX as usize) as u16;
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
        (Dialog::Command(command), _) => {
            command.scroll.min(lines.len().saturating_sub(inner_height))
        }
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
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(
            fit(&title, inner_width, false).trim_end().to_owned(),
            theme.dialog_title,
        ))
        .style(theme.dialog);
    if let Some(hint) = more_hint(first, inner_height, lines.len()) {
        block = block.title_bottom(Line::styled(
            fit(&hint, inner_width, false).trim_end().to_owned(),
            theme.dialog_title,
        ));
    }
    Paragraph::new(text).block(block).render(rect, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_dialog_says_how_to_see_the_rest() {
        assert_eq!(more_hint(0, 10, 10), None);
        assert_eq!(more_hint(0, 20, 10), None);
        assert_eq!(
            more_hint(0, 20, 50).as_deref(),
            Some(" 1–20 of 50: ↑↓ PgUp PgDn ")
        );
        assert_eq!(
            more_hint(30, 20, 50).as_deref(),
            Some(" 31–50 of 50: ↑↓ PgUp PgDn ")
        );
    }

    /// The selected stall column says how to turn delay accounting on;
    /// other lines keep their one-line description.
    #[test]
    fn a_selected_stall_column_says_how_to_count_stalls() {
        let view = crate::ui::test_support::view_of(crate::model::testing::demo_model());
        let columns = setup_columns(&view);
        let at = |id: &str| columns.iter().position(|(c, _)| c.id() == id);
        let Some(iowait) = at("IOWAIT_PERCENT") else {
            panic!("IOWAIT_PERCENT not in the setup screen");
        };
        let lines = |selected| {
            let setup = Setup {
                section: Section::Columns,
                selected,
            };
            setup_content(&setup, &view).1
        };
        let selected = lines(iowait);
        assert!(selected[iowait].contains("sysctl kernel.task_delayacct=1"));
        assert!(selected[iowait].contains("processes started before count from then on"));
        assert_eq!(
            selected
                .iter()
                .filter(|l| l.contains("task_delayacct"))
                .count(),
            1
        );
        let elsewhere = lines(0);
        assert!(!elsewhere.iter().any(|l| l.contains("task_delayacct")));
    }
}
