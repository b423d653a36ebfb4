//! The inspection panels of the selected process (e: environment, l: open
//! files, s: system call trace): lines of text over the whole screen,
//! scrolled and searched. What fills them is read outside the state (the
//! event loop asks the collector side, or runs strace); the lines arrive
//! here made safe to print.

use crate::collect::sample::ProcessKey;
use crate::present::sanitize::printable;

/// What a panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inspect {
    Environment,
    OpenFiles,
    Trace,
}

/// At most this many trace lines are kept; older ones are dropped.
pub const TRACE_LINES_KEPT: usize = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub what: Inspect,
    pub key: ProcessKey,
    /// The process as the list showed it ("PID command").
    pub process: String,
    /// Column titles above the lines (open files), if any.
    pub header: Option<String>,
    pub lines: Vec<String>,
    /// Why there is nothing (or no more) to show, said in the panel.
    pub message: Option<String>,
    /// The message is a failure (drawn as an error).
    pub failed: bool,
    /// Index of the first line shown.
    pub scroll: usize,
    /// Keep the newest line in view (a live trace, until the user scrolls
    /// up; End resumes).
    pub follow_end: bool,
    /// The search being typed (Some while typing) and the last one kept.
    pub typing: Option<String>,
    pub search: String,
    /// The line the search found, drawn selected.
    pub found: Option<usize>,
}

impl Panel {
    pub fn new(what: Inspect, key: ProcessKey, process: String) -> Panel {
        Panel {
            what,
            key,
            process,
            header: None,
            lines: Vec::new(),
            message: None,
            failed: false,
            scroll: 0,
            follow_end: what == Inspect::Trace,
            typing: None,
            search: String::new(),
            found: None,
        }
    }

    /// The title of the panel.
    pub fn title(&self) -> String {
        let what = match self.what {
            Inspect::Environment => "Environment of",
            Inspect::OpenFiles => "Open files of",
            Inspect::Trace => "System calls of",
        };
        format!("{what} {}", self.process)
    }

    /// The panel says why it shows nothing (more).
    pub fn fail(&mut self, message: impl Into<String>) {
        self.message = Some(printable(message.into().as_bytes()));
        self.failed = true;
    }

    /// Replaces the lines (a refreshed list), keeping the scroll position
    /// and the search.
    pub fn set_lines(&mut self, lines: impl IntoIterator<Item = Vec<u8>>) {
        self.lines = lines.into_iter().map(|l| printable(&l)).collect();
        self.scroll = self.scroll.min(self.lines.len().saturating_sub(1));
        if let Some(found) = self.found {
            self.found = (found < self.lines.len()).then_some(found);
        }
    }

    /// Appends lines (a trace), dropping the oldest beyond
    /// [`TRACE_LINES_KEPT`].
    pub fn push_lines(&mut self, lines: impl IntoIterator<Item = Vec<u8>>) {
        self.lines.extend(lines.into_iter().map(|l| printable(&l)));
        let excess = self.lines.len().saturating_sub(TRACE_LINES_KEPT);
        if excess > 0 {
            self.lines.drain(..excess);
            self.scroll = self.scroll.saturating_sub(excess);
            self.found = self.found.and_then(|f| f.checked_sub(excess));
        }
    }

    /// Moves the view by `delta` lines; moving up stops following the end,
    /// reaching the end resumes it.
    pub fn scroll_by(&mut self, delta: isize, page: usize) {
        let last_page = self.lines.len().saturating_sub(page.max(1));
        let from = if self.follow_end {
            last_page
        } else {
            self.scroll
        };
        self.scroll = from.saturating_add_signed(delta).min(last_page);
        self.follow_end = self.what == Inspect::Trace && self.scroll >= last_page;
    }

    /// A search character typed (or the text edited): jump to the first
    /// match from the current position.
    pub fn search_typed(&mut self, text: String) {
        self.found = None;
        let from = self.scroll;
        self.find(&text, from);
        self.typing = Some(text);
    }

    /// Enter: keep the search; Esc: drop it.
    pub fn end_search(&mut self, keep: bool) {
        if let Some(text) = self.typing.take() {
            if keep {
                self.search = text;
            } else {
                self.found = None;
            }
        }
    }

    /// n: the next line matching the kept search, wrapping around.
    pub fn search_next(&mut self) {
        let text = self.search.clone();
        let from = self.found.map_or(self.scroll, |f| f + 1);
        self.find(&text, from);
    }

    /// Selects the first line from `from` (wrapping) that contains `text`,
    /// case-insensitively, and scrolls to it.
    fn find(&mut self, text: &str, from: usize) {
        if text.is_empty() || self.lines.is_empty() {
            return;
        }
        let needle = text.to_lowercase();
        let n = self.lines.len();
        let hit = (0..n)
            .map(|i| (from + i) % n)
            .find(|&i| self.lines[i].to_lowercase().contains(&needle));
        if let Some(i) = hit {
            self.found = Some(i);
            self.scroll = i;
            self.follow_end = false;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn panel(lines: &[&str]) -> Panel {
        let key = ProcessKey {
            pid: 7,
            start_time_ns: 1,
        };
        let mut p = Panel::new(Inspect::Environment, key, "7 sleep".into());
        p.set_lines(lines.iter().map(|l| l.as_bytes().to_vec()));
        p
    }

    #[test]
    fn search_finds_wraps_and_goes_on_with_n() {
        let mut p = panel(&["HOME=/root", "PATH=/bin", "TERM=xterm", "PWD=/"]);
        p.scroll = 2;
        p.search_typed("p".into());
        assert_eq!(p.found, Some(3), "from the view down first");
        p.search_typed("pa".into());
        assert_eq!(p.found, Some(1), "wraps to the top");
        p.end_search(true);
        p.search_next();
        assert_eq!(p.found, Some(1), "the only match again");
        p.search_typed("nothing".into());
        assert_eq!(p.found, None);
        p.end_search(false);
        assert_eq!(p.search, "pa");
    }

    #[test]
    fn unsafe_text_is_neutralised_and_a_trace_keeps_its_newest_lines() {
        let mut p = panel(&["A=\x1b]0;owned\x07"]);
        assert_eq!(p.lines, vec!["A=?]0;owned?".to_owned()]);
        p.what = Inspect::Trace;
        p.push_lines((0..TRACE_LINES_KEPT + 5).map(|i| i.to_string().into_bytes()));
        assert_eq!(p.lines.len(), TRACE_LINES_KEPT);
        assert_eq!(p.lines.last().unwrap(), &(TRACE_LINES_KEPT + 4).to_string());
    }

    #[test]
    fn scrolling_up_stops_following_the_end_and_the_end_resumes_it() {
        let mut p = panel(&["a", "b", "c", "d", "e"]);
        p.what = Inspect::Trace;
        p.follow_end = true;
        p.scroll_by(-1, 2);
        assert_eq!((p.scroll, p.follow_end), (2, false));
        p.scroll_by(isize::MAX / 2, 2);
        assert_eq!((p.scroll, p.follow_end), (3, true));
    }
}
