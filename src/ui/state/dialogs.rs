//! Opening a dialog: what each one shows, read from the view when it
//! opens, and the lists the setup screen edits.

use crate::actions::signal::SIGNALS;
use crate::collect::sample::ioprio::IoPriority;
use crate::collect::sample::ProcessKey;
use crate::ui::columns::{container_text, unit_name, CellContext, Column};
use crate::ui::header::Meter;
use crate::ui::rows::Group;
use crate::ui::state::dialog::{CommandLine, Dialog, FreezeDialog, SignalMenu};
use crate::ui::state::tuning::{io_choices, AffinityDialog, IoPriorityDialog};
use crate::ui::state::view::ViewState;
use crate::ui::text::display_safe;

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

/// w: the selected process's whole command line (a kernel thread's or an
/// empty one: its name in brackets, as the table shows it); None when no
/// process is selected.
pub fn command_line(view: &ViewState) -> Option<Dialog> {
    let p = &view.selected()?.sample;
    let words = if p.kernel_thread || p.cmdline.is_empty() {
        vec![format!("[{}]", display_safe(&p.comm))]
    } else {
        // Arguments with spaces in them (process titles) wrap there too.
        p.cmdline
            .iter()
            .flat_map(|a| a.split(|b| *b == b' '))
            .map(display_safe)
            .collect()
    };
    Some(Dialog::Command(CommandLine {
        pid: p.pid,
        words,
        scroll: 0,
    }))
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

/// gu: the units and containers table; Err (a message) when no process is
/// in a unit or container, or nothing has been collected yet.
pub fn units_view(view: &ViewState) -> Result<Dialog, String> {
    match view.model.as_deref() {
        None => Err("no processes yet".to_owned()),
        Some(m) if m.units.is_empty() => {
            Err("no systemd unit or container here: no process's cgroup names one".to_owned())
        }
        Some(_) => Ok(Dialog::Units(Default::default())),
    }
}

/// X: the processes that exited in the last refreshes. It opens even
/// while exits are not captured, to say why.
pub fn exited_view() -> Dialog {
    Dialog::Exited(Default::default())
}

/// The units and containers of the current processes, to show only one;
/// Err (a message) when there is none to choose and no choice to undo, as
/// on a machine without systemd or containers.
pub fn group_chooser(view: &ViewState) -> Result<Dialog, String> {
    let mut units = std::collections::BTreeSet::new();
    let mut containers = std::collections::BTreeSet::new();
    let mut cgroup_known = false;
    for p in view.model.iter().flat_map(|m| m.processes.iter()) {
        cgroup_known |= p.sample.cgroup.is_some();
        if let Some(unit) = unit_name(p) {
            units.insert(unit);
        }
        if let Some(container) = container_text(p) {
            containers.insert(container);
        }
    }
    if units.is_empty() && containers.is_empty() && view.group_filter.is_none() {
        return Err(if view.model.is_none() {
            "no processes yet".to_owned()
        } else if cgroup_known {
            "no systemd unit or container here: no process's cgroup names one".to_owned()
        } else {
            "no units or containers: the processes' cgroups are unknown".to_owned()
        });
    }
    let mut groups = vec![None];
    groups.extend(containers.into_iter().map(|c| Some(Group::Container(c))));
    groups.extend(units.into_iter().map(|u| Some(Group::Unit(u))));
    let selected = groups
        .iter()
        .position(|g| g.as_ref() == view.group_filter.as_ref())
        .unwrap_or(0);
    Ok(Dialog::Group { selected, groups })
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
        all_frozen &= crate::ui::columns::is_frozen(p);
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
                crate::ui::columns::command_text(p, None)
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

/// The CPUs the checklist offers: those the header shows, and any other
/// the process may run on now.
fn machine_cpus(view: &ViewState, current: &[usize]) -> Vec<usize> {
    let mut cpus: Vec<usize> = view
        .model
        .as_deref()
        .map(|m| {
            m.system
                .per_cpu_split
                .iter()
                .map(|(id, _)| *id as usize)
                .collect()
        })
        .unwrap_or_default();
    cpus.extend_from_slice(current);
    cpus.sort_unstable();
    cpus.dedup();
    cpus
}

/// The affinity checklist for `targets`, checked as `current` (the first
/// target's CPUs).
pub fn affinity_dialog(view: &ViewState, targets: Vec<ProcessKey>, current: &[usize]) -> Dialog {
    let cpus = machine_cpus(view, current)
        .into_iter()
        .map(|cpu| (cpu, current.contains(&cpu)))
        .collect();
    Dialog::Affinity(AffinityDialog {
        targets,
        cpus,
        selected: 0,
    })
}

/// The I/O priority list for `targets`, on `current` (the first target's).
pub fn io_priority_dialog(targets: Vec<ProcessKey>, current: Option<IoPriority>) -> Dialog {
    let selected = current
        .and_then(|c| io_choices().iter().position(|p| *p == c))
        .unwrap_or(0);
    Dialog::IoPriority(IoPriorityDialog { targets, selected })
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

#[cfg(test)]
mod tuning_tests {
    use super::*;
    use crate::collect::sample::ioprio::IoClass;

    #[test]
    fn the_dialog_opens_on_the_current_choice() {
        let be5 = IoPriority {
            class: IoClass::BestEffort,
            level: 5,
        };
        match io_priority_dialog(Vec::new(), Some(be5)) {
            Dialog::IoPriority(d) => assert_eq!(io_choices()[d.selected], be5),
            other => panic!("{other:?}"),
        }
    }
}
