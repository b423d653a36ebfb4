//! Wakes the event loop from other threads and from signals, so that it
//! can sleep until something happens instead of polling on a timer.
//!
//! A [`Doorbell`] writes a byte to a socket whose other end, the
//! [`Door`], the input reader polls beside the terminal; the reader then
//! hands the loop a wake-up. Termination signals ring it too (through
//! signal-hook's self-pipe), so the loop sees the termination flag at once.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

/// The side that rings; cheap to clone and to send to other threads.
#[derive(Clone)]
pub struct Doorbell(Arc<UnixStream>);

/// The side the input reader polls.
pub struct Door(UnixStream);

/// A connected doorbell and door.
pub fn doorbell() -> io::Result<(Doorbell, Door)> {
    let (ring, door) = UnixStream::pair()?;
    // Never block a ringer: a full socket already means "wake up".
    ring.set_nonblocking(true)?;
    door.set_nonblocking(true)?;
    Ok((Doorbell(Arc::new(ring)), Door(door)))
}

impl Doorbell {
    pub fn ring(&self) {
        // A full buffer or a closed door: the loop is awake or gone.
        let _ = (&*self.0).write(&[1]);
    }

    /// Rings on each of `signals` as well; the ids unregister them.
    pub fn ring_on(&self, signals: &[i32]) -> io::Result<Vec<signal_hook::SigId>> {
        signals
            .iter()
            .map(|&signal| signal_hook::low_level::pipe::register(signal, self.0.try_clone()?))
            .collect()
    }
}

impl Door {
    /// Empties the door after it was found readable.
    pub fn drain(&mut self) {
        let mut bytes = [0u8; 64];
        while matches!(self.0.read(&mut bytes), Ok(n) if n > 0) {}
    }
}

impl AsRawFd for Door {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn readable(door: &Door) -> bool {
        let mut fd = libc::pollfd {
            fd: door.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd; no wait.
        unsafe { libc::poll(&mut fd, 1, 0) == 1 }
    }

    #[test]
    fn a_ring_makes_the_door_readable_until_drained() {
        let (bell, mut door) = doorbell().unwrap();
        assert!(!readable(&door));
        let other = bell.clone();
        std::thread::spawn(move || other.ring()).join().unwrap();
        assert!(readable(&door));
        door.drain();
        assert!(!readable(&door));
    }

    #[test]
    fn ringing_never_blocks_however_often() {
        let (bell, mut door) = doorbell().unwrap();
        // Far more than a socket buffer holds.
        for _ in 0..1_000_000 {
            bell.ring();
        }
        assert!(readable(&door));
        door.drain();
        assert!(!readable(&door));
    }

    #[test]
    fn a_signal_rings() {
        let (bell, mut door) = doorbell().unwrap();
        let ids = bell.ring_on(&[signal_hook::consts::SIGUSR2]).unwrap();
        // SAFETY: raising a signal whose handler was just registered.
        unsafe { libc::raise(signal_hook::consts::SIGUSR2) };
        assert!(readable(&door));
        door.drain();
        for id in ids {
            signal_hook::low_level::unregister(id);
        }
    }
}
