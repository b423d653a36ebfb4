//! The status line above the key bar: what is being typed, the last
//! message, or what the view hides or marks. It takes a row only when it
//! has something to say; the rest of the time the table has that row.

use crate::ui::header::Meter;
use crate::ui::state::view::{Input, ViewState};

/// How the line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// A prompt or a message.
    Normal,
    Error,
    /// The summary of filters and marks.
    Quiet,
}

/// The status line's text and tone; None when there is nothing to say.
pub fn status_line(view: &ViewState) -> Option<(String, Tone)> {
    match &view.input {
        Input::Search(t) => Some((format!("Search: {t}▏"), Tone::Normal)),
        Input::Filter(t) => Some((format!("Filter: {t}▏"), Tone::Normal)),
        Input::None => match &view.status {
            Some(s) if s.error => Some((s.text.clone(), Tone::Error)),
            Some(s) => Some((s.text.clone(), Tone::Normal)),
            None => summary(view).map(|text| (text, Tone::Quiet)),
        },
    }
}

/// What the view currently hides or marks; None when nothing.
fn summary(view: &ViewState) -> Option<String> {
    let mut parts = Vec::new();
    if view.visual_anchor.is_some() {
        parts.push("-- VISUAL --".to_owned());
    }
    if !view.filter_text().is_empty() {
        parts.push(format!("filter: {}", view.filter_text()));
    }
    if let Some((_, name)) = view.user_filter() {
        parts.push(format!("user: {name}"));
    }
    if let Some(group) = view.group_filter() {
        parts.push(group.label());
    }
    if !view.tagged.is_empty() {
        parts.push(format!("{} tagged", view.tagged.len()));
    }
    if view.following() {
        parts.push("following".to_owned());
    }
    if view.show_threads {
        parts.push("threads".to_owned());
    }
    // The header's backend meter names the backend (and why it fell back);
    // without that meter, this line does.
    if !view.meters.contains(&Meter::Backend) {
        parts.push(view.backend_label.clone());
    }
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join("  "))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::testing::demo_model;
    use crate::ui::test_support::view_of;

    fn view() -> ViewState {
        let mut v = view_of(demo_model());
        v.backend_label = "eBPF".to_owned();
        v.status = None;
        v
    }

    #[test]
    fn nothing_to_say_takes_no_row() {
        let v = view();
        assert!(v.meters.contains(&Meter::Backend));
        assert_eq!(status_line(&v), None);
    }

    #[test]
    fn a_filter_message_or_prompt_is_said() {
        let mut v = view();
        v.set_filter("java".into());
        let (text, tone) = status_line(&v).unwrap();
        assert_eq!((text.as_str(), tone), ("filter: java", Tone::Quiet));

        v.set_status("network columns hidden", false);
        assert_eq!(
            status_line(&v),
            Some(("network columns hidden".to_owned(), Tone::Normal))
        );
        v.input = Input::Search("ja".into());
        assert_eq!(status_line(&v).unwrap().0, "Search: ja▏");
    }

    #[test]
    fn without_the_backend_meter_the_line_names_the_backend() {
        let mut v = view();
        v.meters.retain(|m| *m != Meter::Backend);
        v.backend_label = "procfs: no BTF".to_owned();
        assert_eq!(
            status_line(&v),
            Some(("procfs: no BTF".to_owned(), Tone::Quiet))
        );
    }
}
