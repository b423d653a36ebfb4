//! Keys of the scheduling dialogs: the CPU checklist (Space toggles, `a`
//! checks all, Enter sets) and the I/O priority list (Enter sets).

use crossterm::event::{KeyCode, KeyEvent};

use crate::ui::state::dialog::Dialog;
use crate::ui::state::tuning::{io_choices, AffinityDialog, IoPriorityDialog};
use crate::ui::state::view::{Effect, ViewState};

fn is_close(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Esc | KeyCode::Char('q') | KeyCode::F(10))
}

fn moved(selected: usize, len: usize, key: &KeyEvent) -> usize {
    let delta: isize = match key.code {
        KeyCode::Up | KeyCode::Char('k') => -1,
        KeyCode::Down | KeyCode::Char('j') => 1,
        KeyCode::PageUp => -10,
        KeyCode::PageDown => 10,
        KeyCode::Home => isize::MIN / 2,
        KeyCode::End => isize::MAX / 2,
        _ => 0,
    };
    selected
        .saturating_add_signed(delta)
        .min(len.saturating_sub(1))
}

pub fn affinity_key(
    view: &mut ViewState,
    mut dialog: AffinityDialog,
    key: KeyEvent,
) -> (Option<Dialog>, Effect) {
    if is_close(&key) {
        return (None, Effect::None);
    }
    match key.code {
        KeyCode::Enter => {
            let cpus = dialog.chosen();
            if cpus.is_empty() {
                view.set_status("choose at least one CPU (Space checks one)", true);
                return (Some(Dialog::Affinity(dialog)), Effect::None);
            }
            return (
                None,
                Effect::SetAffinity {
                    targets: dialog.targets,
                    cpus,
                },
            );
        }
        KeyCode::Char(' ') => {
            if let Some((_, on)) = dialog.cpus.get_mut(dialog.selected) {
                *on = !*on;
            }
            view.status = None;
        }
        KeyCode::Char('a') => {
            for (_, on) in &mut dialog.cpus {
                *on = true;
            }
            view.status = None;
        }
        _ => dialog.selected = moved(dialog.selected, dialog.cpus.len(), &key),
    }
    (Some(Dialog::Affinity(dialog)), Effect::None)
}

pub fn io_priority_key(mut dialog: IoPriorityDialog, key: KeyEvent) -> (Option<Dialog>, Effect) {
    if is_close(&key) {
        return (None, Effect::None);
    }
    let choices = io_choices();
    if key.code == KeyCode::Enter {
        return match choices.get(dialog.selected) {
            Some(&priority) => (
                None,
                Effect::SetIoPriority {
                    targets: dialog.targets,
                    priority,
                },
            ),
            None => (None, Effect::None),
        };
    }
    dialog.selected = moved(dialog.selected, choices.len(), &key);
    (Some(Dialog::IoPriority(dialog)), Effect::None)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::collect::sample::ioprio::{IoClass, IoPriority};
    use crate::model::testing::demo_model;
    use crate::ui::state::dialogs::{affinity_dialog, io_priority_dialog};
    use crate::ui::test_support::view_of;

    /// A key to the open dialog, as `input::dialogs` hands it over.
    fn press(view: &mut ViewState, code: KeyCode) -> Effect {
        let key = KeyEvent::from(code);
        let (kept, effect) = match view.dialog.take() {
            Some(Dialog::Affinity(d)) => affinity_key(view, d, key),
            Some(Dialog::IoPriority(d)) => io_priority_key(d, key),
            other => (other, Effect::None),
        };
        view.dialog = kept;
        effect
    }

    #[test]
    fn unchecking_every_cpu_is_refused_and_enter_sets_the_rest() {
        let mut v = view_of(demo_model());
        let targets = v.targets();
        v.dialog = Some(affinity_dialog(&v, targets.clone(), &[0, 1]));
        press(&mut v, KeyCode::Char(' '));
        press(&mut v, KeyCode::Down);
        press(&mut v, KeyCode::Char(' '));
        assert_eq!(press(&mut v, KeyCode::Enter), Effect::None);
        assert!(v.status.as_ref().unwrap().error);
        assert!(v.dialog.is_some(), "stays open to choose again");
        press(&mut v, KeyCode::Char(' '));
        assert_eq!(
            press(&mut v, KeyCode::Enter),
            Effect::SetAffinity {
                targets,
                cpus: vec![1]
            }
        );
        assert_eq!(v.dialog, None);
    }

    #[test]
    fn esc_cancels_and_enter_sets_the_chosen_priority() {
        let mut v = view_of(demo_model());
        let targets = v.targets();
        v.dialog = Some(io_priority_dialog(targets.clone(), None));
        press(&mut v, KeyCode::Esc);
        assert_eq!(v.dialog, None);
        v.dialog = Some(io_priority_dialog(targets.clone(), None));
        press(&mut v, KeyCode::End);
        assert_eq!(
            press(&mut v, KeyCode::Enter),
            Effect::SetIoPriority {
                targets,
                priority: IoPriority {
                    class: IoClass::Idle,
                    level: 0
                }
            }
        );
    }
}
