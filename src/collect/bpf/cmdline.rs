//! Command lines for the eBPF backend, read from /proc/PID/cmdline when a
//! process is new or has exec'd since the last refresh (its self_exec_id
//! changed; the previous argv is kept in memo.rs), and again when its title
//! may have been rewritten in place (collect/titles.rs says when). Reading it from
//! /proc keeps the kernel's own rules (argv area, setproctitle-style
//! rewrites); the cost is one read per new process, and none per refresh
//! for a process that does not run.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use crate::collect::procfs::split_cmdline;
use crate::collect::sample::Argv;

/// What the first read asks for: most command lines fit.
const FIRST_READ: usize = 4096;

/// argv of process `pid`, or None when it cannot be read (a process that
/// exits right now: shown without one, and read again next time).
pub fn read_argv(proc_root: &Path, pid: u32) -> Option<Argv> {
    let file = File::open(proc_root.join(format!("{pid}/cmdline"))).ok()?;
    let raw = read_whole(file)?;
    Some(split_cmdline(&raw).into())
}

/// The whole file in as few reads as it takes: open, one read, close for
/// a command line that fits the first read (no size query, and no read
/// only to see the end: /proc/PID/cmdline fills a read as far as the
/// argv goes, so a read that returns less than asked is the end).
fn read_whole(mut file: impl Read) -> Option<Vec<u8>> {
    let mut raw = vec![0u8; FIRST_READ];
    let mut len = 0;
    loop {
        match file.read(&mut raw[len..]) {
            Ok(n) => len += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
        if len < raw.len() {
            raw.truncate(len);
            return Some(raw);
        }
        raw.resize(raw.len() * 2, 0);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_lines_of_any_length_whole() {
        for size in [
            0,
            1,
            FIRST_READ - 1,
            FIRST_READ,
            FIRST_READ + 1,
            5 * FIRST_READ + 7,
        ] {
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let read = read_whole(&data[..]);
            assert_eq!(read.as_deref(), Some(&data[..]), "{size} bytes");
        }
    }

    #[test]
    fn own_command_line() {
        let own = read_argv(Path::new("/proc"), std::process::id()).unwrap();
        let expected: Vec<Vec<u8>> = std::env::args_os()
            .map(|a| std::os::unix::ffi::OsStrExt::as_bytes(a.as_os_str()).to_vec())
            .collect();
        assert_eq!(*own, expected[..]);
    }
}
