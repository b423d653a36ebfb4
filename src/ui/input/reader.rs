//! Reads the terminal on a thread of its own and hands the event loop
//! decoded events ([`decode`](super::decode)).
//!
//! Reading as the bytes come, not when the loop is free again, is what
//! lets the Esc timeout measure the bytes' arrival: an ESC that nothing
//! followed within [`ESC_TIMEOUT`] is the Esc key, even when the loop was
//! busy drawing while the next key came. SIGWINCH becomes
//! [`Event::Resize`], so a resized terminal is redrawn at once. A
//! [`Door`] it polls as well lets other threads and termination signals
//! wake the loop (a wake-up is `Ok(None)` from [`Input::next`]).

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossterm::event::Event;

use super::decode::Decoder;
use super::doorbell::{Door, Doorbell};

/// How long an ESC waits for the rest of a sequence (ncurses' ESCDELAY,
/// as htop sets it, is 25 ms).
pub const ESC_TIMEOUT: Duration = Duration::from_millis(30);

/// The terminal is gone (end of input, or a read error).
#[derive(Debug, PartialEq, Eq)]
pub struct Closed;

/// What the reader thread hands the loop.
enum Arrival {
    Event(Event),
    /// The door was rung.
    Wake,
}

/// Signals that end the program: they ring the door, so that the loop
/// sees the termination flag they raise without waiting for a timer.
const ENDING_SIGNALS: [i32; 3] = [
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGINT,
];

/// The reader thread and what it decoded.
pub struct Input {
    events: Receiver<Arrival>,
    /// Dropped to stop the thread (its peer then reads end of file).
    stop: Option<UnixStream>,
    thread: Option<JoinHandle<()>>,
    signals: Vec<signal_hook::SigId>,
}

impl Input {
    /// Reads the controlling terminal: stdin when it is one, else
    /// /dev/tty (as the terminal library does for raw mode); SIGWINCH
    /// reports the new size; `bell` and the termination signals wake the
    /// loop.
    pub fn open(bell: &Doorbell, door: Door) -> io::Result<Input> {
        // SAFETY: isatty only inspects the descriptor.
        let tty: OwnedFd = if unsafe { libc::isatty(libc::STDIN_FILENO) } == 1 {
            // SAFETY: stdin is open for the life of the process; the borrow
            // is cloned at once.
            unsafe { BorrowedFd::borrow_raw(libc::STDIN_FILENO) }.try_clone_to_owned()?
        } else {
            File::open("/dev/tty")?.into()
        };
        let (winch_rx, winch_tx) = UnixStream::pair()?;
        winch_rx.set_nonblocking(true)?;
        let winch =
            signal_hook::low_level::pipe::register(signal_hook::consts::SIGWINCH, winch_tx)?;
        let mut input = Input::spawn(tty, ESC_TIMEOUT, Some(winch_rx), Some(door))?;
        input.signals.push(winch);
        input.signals.extend(bell.ring_on(&ENDING_SIGNALS)?);
        Ok(input)
    }

    /// Reads `tty` on a new thread; `winch` is readable when the size
    /// changed, `door` when the loop should wake.
    pub fn spawn(
        tty: OwnedFd,
        esc_timeout: Duration,
        winch: Option<UnixStream>,
        door: Option<Door>,
    ) -> io::Result<Input> {
        let (tx, events) = mpsc::channel();
        let (stop, stopped) = UnixStream::pair()?;
        let thread = std::thread::Builder::new()
            .name("input".into())
            .spawn(move || read_loop(tty, winch, door, stopped, esc_timeout, tx))?;
        Ok(Input {
            events,
            stop: Some(stop),
            thread: Some(thread),
            signals: Vec::new(),
        })
    }

    /// The next event, waiting at most `timeout`; `None` when the time
    /// ran out or the door was rung; [`Closed`] once the terminal is gone
    /// and every event read before was taken.
    pub fn next(&self, timeout: Duration) -> Result<Option<Event>, Closed> {
        match self.events.recv_timeout(timeout) {
            Ok(Arrival::Event(event)) => Ok(Some(event)),
            Ok(Arrival::Wake) | Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(Closed),
        }
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        for id in self.signals.drain(..) {
            signal_hook::low_level::unregister(id);
        }
        // The thread leaves when its end of the pair reads end of file, so
        // nothing reads the terminal after the interface has left it.
        self.stop = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn poll_fd(fd: i32) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

fn read_loop(
    tty: OwnedFd,
    winch: Option<UnixStream>,
    mut door: Option<Door>,
    stopped: UnixStream,
    esc_timeout: Duration,
    events: Sender<Arrival>,
) {
    let mut tty = File::from(tty);
    let mut decoder = Decoder::default();
    let mut decoded = Vec::new();
    let mut buf = [0u8; 1024];
    // When an incomplete sequence stops waiting for the rest.
    let mut deadline: Option<Instant> = None;
    // -1: no descriptor (poll skips negative ones).
    let winch_fd = winch.as_ref().map_or(-1, AsRawFd::as_raw_fd);
    let door_fd = door.as_ref().map_or(-1, AsRawFd::as_raw_fd);
    loop {
        let timeout_ms = match deadline {
            None => -1,
            Some(at) => {
                let left = at.saturating_duration_since(Instant::now());
                // Rounded up: waking early would only poll again.
                i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
            }
        };
        let mut fds = [
            poll_fd(tty.as_raw_fd()),
            poll_fd(winch_fd),
            poll_fd(stopped.as_raw_fd()),
            poll_fd(door_fd),
        ];
        // SAFETY: fds is a valid array of pollfd of the length given.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if ready < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        if fds[2].revents != 0 {
            return;
        }
        if fds[3].revents != 0 {
            if let Some(d) = door.as_mut() {
                d.drain();
            }
            if events.send(Arrival::Wake).is_err() {
                return;
            }
        }
        if fds[1].revents != 0 {
            if let Some(mut w) = winch.as_ref() {
                let mut drain = [0u8; 64];
                while matches!(w.read(&mut drain), Ok(n) if n > 0) {}
            }
            if let Ok((columns, rows)) = crossterm::terminal::size() {
                decoded.push(Event::Resize(columns, rows));
            }
        }
        if fds[0].revents != 0 {
            match tty.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    decoder.feed(&buf[..n], &mut decoded);
                    deadline = decoder.waiting().then(|| Instant::now() + esc_timeout);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                    ) => {}
                Err(_) => return,
            }
        } else if deadline.is_some_and(|at| Instant::now() >= at) {
            decoder.flush(&mut decoded);
            deadline = None;
        }
        for event in decoded.drain(..) {
            if events.send(Arrival::Event(event)).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::ui::input::doorbell::doorbell;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use std::io::Write;

    /// Generous: the machine may be busy.
    const PATIENCE: Duration = Duration::from_secs(20);

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent::new(code, modifiers))
    }

    fn reader(esc_timeout: Duration) -> (Input, UnixStream) {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let input = Input::spawn(OwnedFd::from(theirs), esc_timeout, None, None).unwrap();
        (input, ours)
    }

    fn next(input: &Input) -> Event {
        input.next(PATIENCE).unwrap().expect("an event in time")
    }

    #[test]
    fn esc_alone_is_esc_and_the_next_key_is_itself() {
        let (input, mut tty) = reader(Duration::from_millis(30));
        tty.write_all(b"\x1b").unwrap();
        // The Esc comes without any further byte: the timeout decided.
        assert_eq!(next(&input), key(KeyCode::Esc, KeyModifiers::NONE));
        tty.write_all(b"j").unwrap();
        assert_eq!(next(&input), key(KeyCode::Char('j'), KeyModifiers::NONE));
        // Together, the same bytes are Alt-j.
        tty.write_all(b"\x1bj").unwrap();
        assert_eq!(next(&input), key(KeyCode::Char('j'), KeyModifiers::ALT));
    }

    #[test]
    fn a_sequence_split_across_writes_is_one_key() {
        // A timeout far longer than the gap between the writes, however
        // busy the machine.
        let (input, mut tty) = reader(PATIENCE);
        tty.write_all(b"\x1b").unwrap();
        tty.write_all(b"[1;2").unwrap();
        tty.write_all(b"R").unwrap();
        assert_eq!(next(&input), key(KeyCode::F(3), KeyModifiers::SHIFT));
        tty.write_all(b"q").unwrap();
        assert_eq!(next(&input), key(KeyCode::Char('q'), KeyModifiers::NONE));
    }

    #[test]
    fn a_ring_wakes_the_loop_before_its_timeout() {
        let (mut tty, theirs) = UnixStream::pair().unwrap();
        let (bell, door) = doorbell().unwrap();
        let input = Input::spawn(OwnedFd::from(theirs), ESC_TIMEOUT, None, Some(door)).unwrap();
        let started = Instant::now();
        bell.ring();
        assert_eq!(input.next(PATIENCE), Ok(None));
        assert!(started.elapsed() < PATIENCE, "the ring did not wake it");
        tty.write_all(b"q").unwrap();
        assert_eq!(next(&input), key(KeyCode::Char('q'), KeyModifiers::NONE));
    }

    #[test]
    fn the_end_of_the_terminal_closes_the_input() {
        let (input, tty) = reader(Duration::from_millis(30));
        drop(tty);
        let deadline = Instant::now() + PATIENCE;
        loop {
            match input.next(Duration::from_millis(100)) {
                Err(Closed) => break,
                Ok(_) => assert!(Instant::now() < deadline, "still open"),
            }
        }
    }
}
