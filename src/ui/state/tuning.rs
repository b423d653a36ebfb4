//! The scheduling dialogs' data (htop's `a` and `i`): which CPUs the
//! targets may run on, and their I/O priority. They open (`dialogs`) with
//! the first target's current setting, which the event loop reads and
//! hands over.

use crate::collect::sample::ioprio::{IoClass, IoPriority, IO_LEVELS};
use crate::collect::sample::ProcessKey;

/// A checklist of the machine's CPUs.
#[derive(Debug, Clone, PartialEq)]
pub struct AffinityDialog {
    /// Captured when the dialog opened: the processes the user saw.
    pub targets: Vec<ProcessKey>,
    /// Each CPU and whether it is checked.
    pub cpus: Vec<(usize, bool)>,
    pub selected: usize,
}

impl AffinityDialog {
    /// The checked CPUs, ascending.
    pub fn chosen(&self) -> Vec<usize> {
        self.cpus
            .iter()
            .filter(|(_, on)| *on)
            .map(|(cpu, _)| *cpu)
            .collect()
    }
}

/// A list of every class and level, as htop's.
#[derive(Debug, Clone, PartialEq)]
pub struct IoPriorityDialog {
    pub targets: Vec<ProcessKey>,
    pub selected: usize,
}

/// The I/O priority dialog's choices, in order: none, realtime 0–7,
/// best-effort 0–7, idle.
pub fn io_choices() -> Vec<IoPriority> {
    let levels = |class| (0..IO_LEVELS).map(move |level| IoPriority { class, level });
    std::iter::once(IoPriority::NONE)
        .chain(levels(IoClass::Realtime))
        .chain(levels(IoClass::BestEffort))
        .chain(std::iter::once(IoPriority {
            class: IoClass::Idle,
            level: 0,
        }))
        .collect()
}

/// How the dialog names a choice.
pub fn io_choice_label(p: IoPriority) -> String {
    let rank = |level: u8| match level {
        0 => " (High)",
        l if l == IO_LEVELS - 1 => " (Low)",
        _ => "",
    };
    match p.class {
        IoClass::None => "None (based on nice)".to_owned(),
        IoClass::Realtime => format!("Realtime {}{}", p.level, rank(p.level)),
        IoClass::BestEffort => format!("Best-effort {}{}", p.level, rank(p.level)),
        IoClass::Idle => "Idle".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_and_level_is_offered_once() {
        let choices = io_choices();
        assert_eq!(choices.len(), 1 + 8 + 8 + 1);
        for (i, c) in choices.iter().enumerate() {
            assert!(!choices[i + 1..].contains(c));
        }
        assert_eq!(io_choice_label(choices[1]), "Realtime 0 (High)");
        assert_eq!(io_choice_label(choices[16]), "Best-effort 7 (Low)");
        assert_eq!(io_choice_label(choices[17]), "Idle");
    }
}
