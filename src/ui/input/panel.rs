//! Keys in an inspection panel (e, l, s): scrolling, searching with `/`
//! and `n`, closing with Esc or q (which stops a trace).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::ui::state::dialog::Dialog;
use crate::ui::state::panel::Panel;
use crate::ui::state::view::Effect;

/// Keys while a panel is open; `page`: lines in a page.
pub fn panel_key(mut panel: Panel, key: KeyEvent, page: usize) -> (Option<Dialog>, Effect) {
    if let Some(mut text) = panel.typing.clone() {
        match key.code {
            KeyCode::Esc => panel.end_search(false),
            KeyCode::Enter => panel.end_search(true),
            KeyCode::Backspace => {
                text.pop();
                panel.search_typed(text);
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                text.push(c);
                panel.search_typed(text);
            }
            _ => {}
        }
        return (Some(Dialog::Panel(panel)), Effect::None);
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let half = (page / 2).max(1) as isize;
    let page = page.max(1);
    let delta = match key.code {
        KeyCode::Esc | KeyCode::Char('q') | KeyCode::F(10) => return (None, Effect::None),
        KeyCode::Char('/') | KeyCode::F(3) => {
            panel.search_typed(String::new());
            None
        }
        KeyCode::Char('n') => {
            panel.search_next();
            None
        }
        KeyCode::Char('u') if ctrl => Some(-half),
        KeyCode::Char('d') if ctrl => Some(half),
        KeyCode::Up | KeyCode::Char('k') => Some(-1),
        KeyCode::Down | KeyCode::Char('j') => Some(1),
        KeyCode::PageUp => Some(-(page as isize)),
        KeyCode::PageDown | KeyCode::Char(' ') => Some(page as isize),
        KeyCode::Home | KeyCode::Char('g') => Some(isize::MIN / 2),
        KeyCode::End | KeyCode::Char('G') => Some(isize::MAX / 2),
        _ => None,
    };
    if let Some(delta) = delta {
        panel.scroll_by(delta, page);
    }
    (Some(Dialog::Panel(panel)), Effect::None)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::collect::sample::ProcessKey;
    use crate::ui::state::panel::Inspect;

    fn press(panel: Panel, code: KeyCode) -> Option<Panel> {
        match panel_key(panel, KeyEvent::from(code), 10) {
            (Some(Dialog::Panel(p)), _) => Some(p),
            _ => None,
        }
    }

    #[test]
    fn slash_types_a_search_that_q_does_not_end_and_esc_closes_after() {
        let key = ProcessKey {
            pid: 1,
            start_time_ns: 0,
        };
        let mut p = Panel::new(Inspect::Environment, key, "1 init".into());
        p.set_lines([b"A=1".to_vec(), b"QUIET=1".to_vec()]);
        let p = press(p, KeyCode::Char('/')).unwrap();
        let p = press(p, KeyCode::Char('q')).unwrap();
        assert_eq!(p.found, Some(1), "q is typed, not a close");
        let p = press(p, KeyCode::Enter).unwrap();
        assert_eq!(p.search, "q");
        assert!(press(p, KeyCode::Esc).is_none());
    }
}
