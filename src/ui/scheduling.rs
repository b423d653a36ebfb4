//! Carrying out the scheduling effects (`a`, `i`): reading the first
//! target's setting to open its dialog, and applying the choice to every
//! target, with one status line for the result.

use std::path::Path;

use crate::actions::{affinity, ioprio};
use crate::collect::sample::ioprio::IoPriority;
use crate::collect::sample::ProcessKey;
use crate::ui::state::dialogs::{affinity_dialog, io_priority_dialog};
use crate::ui::state::tuning::io_choice_label;
use crate::ui::state::view::{Status, ViewState};

/// Opens the CPU checklist on the first target's affinity, or says why not.
pub fn open_affinity(view: &mut ViewState, targets: Vec<ProcessKey>) {
    let Some(first) = targets.first() else {
        return;
    };
    match affinity::affinity(first.pid) {
        Ok(current) => view.dialog = Some(affinity_dialog(view, targets, &current)),
        Err(e) => view.set_status(e.to_string(), true),
    }
}

/// Opens the I/O priority list on the first target's priority.
pub fn open_io_priority(view: &mut ViewState, proc_root: &Path, targets: Vec<ProcessKey>) {
    let Some(first) = targets.first() else {
        return;
    };
    let current = ioprio::io_priority(first.pid);
    if current.is_none() && !proc_root.join(first.pid.to_string()).exists() {
        view.set_status(
            format!("get I/O priority {}: no such process", first.pid),
            true,
        );
        return;
    }
    view.dialog = Some(io_priority_dialog(targets, current));
}

/// The status after acting on `targets`: the first error, or `done`.
fn outcome<E: ToString>(
    targets: &[ProcessKey],
    mut act: impl FnMut(ProcessKey) -> Result<(), E>,
    done: String,
) -> Status {
    let errors: Vec<String> = targets
        .iter()
        .filter_map(|key| act(*key).err())
        .map(|e| e.to_string())
        .collect();
    match errors.first() {
        None => Status {
            text: done,
            error: false,
        },
        Some(first) if targets.len() == 1 => Status {
            text: first.clone(),
            error: true,
        },
        Some(first) => Status {
            text: format!("{} of {} failed: {first}", errors.len(), targets.len()),
            error: true,
        },
    }
}

/// "0-3,6" for CPUs 0, 1, 2, 3 and 6 (the kernel's list format).
fn cpu_list(cpus: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let start = cpus[i];
        let mut end = start;
        while i + 1 < cpus.len() && cpus[i + 1] == end + 1 {
            i += 1;
            end = cpus[i];
        }
        parts.push(if end == start {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

pub fn set_affinity(proc_root: &Path, targets: &[ProcessKey], cpus: &[usize]) -> Status {
    outcome(
        targets,
        |key| affinity::set_affinity(proc_root, key, cpus),
        format!(
            "{} process(es) may run on CPU {}",
            targets.len(),
            cpu_list(cpus)
        ),
    )
}

pub fn set_io_priority(proc_root: &Path, targets: &[ProcessKey], priority: IoPriority) -> Status {
    outcome(
        targets,
        |key| ioprio::set_io_priority(proc_root, key, priority),
        format!(
            "I/O priority of {} process(es): {}",
            targets.len(),
            io_choice_label(priority)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_read_as_the_kernel_writes_them() {
        assert_eq!(cpu_list(&[0]), "0");
        assert_eq!(cpu_list(&[0, 1, 2, 3, 6]), "0-3,6");
        assert_eq!(cpu_list(&[1, 3, 4]), "1,3-4");
    }
}
