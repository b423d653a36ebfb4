//! Terminal setup and, whatever happens, its restoration: on return, on
//! panic, and on SIGTERM/SIGHUP/SIGINT (checked by the event loop).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};

/// Raw mode and the alternate screen while alive.
pub struct TerminalGuard;

impl TerminalGuard {
    pub fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode()?;
        let guard = TerminalGuard;
        let mut out = io::stdout();
        execute!(out, EnterAlternateScreen, Hide)?;
        if mouse {
            execute!(out, EnableMouseCapture)?;
        }
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back as we found it. Safe to call more than once.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(out, DisableMouseCapture, LeaveAlternateScreen, Show);
    let _ = disable_raw_mode();
    let _ = out.flush();
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// A flag raised by SIGTERM, SIGHUP or SIGINT, or when the terminal goes
/// away, so the event loop can leave cleanly (and restore the terminal)
/// instead of dying mid-frame.
///
/// A watchdog thread makes sure we do leave: if the loop has not returned
/// shortly after the flag went up (a frame stuck writing to a hung-up
/// terminal), the watchdog restores the terminal and exits.
pub fn termination_flag() -> io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
    ] {
        signal_hook::flag::register(signal, Arc::clone(&flag))?;
    }
    let watched = Arc::clone(&flag);
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || watchdog(&watched))?;
    Ok(flag)
}

const WATCH_INTERVAL: Duration = Duration::from_millis(500);
/// How long the event loop gets to leave by itself.
const GRACE: Duration = Duration::from_millis(500);

fn watchdog(flag: &AtomicBool) {
    loop {
        std::thread::sleep(WATCH_INTERVAL);
        // SAFETY: isatty only inspects the descriptor. stdout is where we
        // draw (stdin may be redirected; the input reader then reads /dev/tty).
        let tty_alive = unsafe { libc::isatty(libc::STDOUT_FILENO) } == 1;
        if !tty_alive {
            flag.store(true, Ordering::Relaxed);
        }
        if flag.load(Ordering::Relaxed) {
            std::thread::sleep(GRACE);
            // The event loop did not leave by itself: clean up as it would.
            super::freezer::undo_on_exit();
            restore();
            std::process::exit(0);
        }
    }
}
