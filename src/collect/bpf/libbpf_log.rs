//! libbpf prints diagnostics to stderr by default, which would corrupt a
//! full-screen terminal. We capture them instead and attach them to the
//! error when loading fails.

use std::sync::Mutex;

use libbpf_rs::PrintLevel;

static LOG: Mutex<String> = Mutex::new(String::new());
/// Keep the tail only: a verifier log can be megabytes.
const MAX_LOG: usize = 8192;

fn record(level: PrintLevel, msg: String) {
    if level == PrintLevel::Debug {
        return;
    }
    if let Ok(mut log) = LOG.lock() {
        log.push_str(&msg);
        if log.len() > MAX_LOG {
            let cut = log.len() - MAX_LOG;
            let cut = (cut..log.len())
                .find(|&i| log.is_char_boundary(i))
                .unwrap_or(0);
            log.drain(..cut);
        }
    }
}

/// Routes libbpf's messages into the buffer while alive.
pub struct Capture;

impl Capture {
    pub fn start() -> Self {
        take();
        libbpf_rs::set_print(Some((PrintLevel::Info, record)));
        Capture
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        libbpf_rs::set_print(None);
    }
}

/// Takes what was captured so far.
pub fn take() -> String {
    LOG.lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default()
}

/// The last non-empty line libbpf logged since the capture began (the line
/// that usually says what failed), emptying the log.
pub fn take_last_line() -> String {
    take()
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// `what` failed with `e`, followed by libbpf's last log line (which says
/// why) when it printed one.
pub fn failure(what: &str, e: libbpf_rs::Error) -> String {
    let last = take_last_line();
    if last.is_empty() {
        format!("{what}: {e}")
    } else {
        format!("{what}: {e} ({last})")
    }
}
