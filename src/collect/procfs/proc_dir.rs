//! Reading /proc files at the lowest cost in syscalls and allocations:
//! /proc is opened once and each file is opened relative to it
//! (`openat(proc, "PID/stat")`: no path allocated, two path components
//! fewer to walk), read into a reused buffer with one `read` where it fits,
//! and closed. Three syscalls per file, where `File::open` and
//! `read_to_end` take five (they add a `statx` and a final empty read).

use std::ffi::{CStr, OsStr};
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The smallest read: every per-process file this backend reads (stat,
/// status, io, schedstat, cgroup and most command lines) fits in it.
const FIRST_READ: usize = 8192;

/// A path relative to /proc, built on the stack: `PID/name` or
/// `PID/task/TID/name`.
pub struct RelPath {
    bytes: [u8; 96],
    len: usize,
}

impl RelPath {
    pub fn process(pid: u32, name: &str) -> RelPath {
        let mut path = RelPath {
            bytes: [0; 96],
            len: 0,
        };
        path.number(pid);
        path.push(b"/");
        path.push(name.as_bytes());
        path
    }

    pub fn thread(pid: u32, tid: u32, name: &str) -> RelPath {
        let mut path = RelPath::process(pid, "task/");
        path.number(tid);
        path.push(b"/");
        path.push(name.as_bytes());
        path
    }

    fn number(&mut self, mut n: u32) {
        let mut digits = [0u8; 10];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(&digits[at..]);
    }

    /// Names are short constants of this module's callers; one that would
    /// not fit (with the final NUL) is cut, and then fails to open.
    fn push(&mut self, bytes: &[u8]) {
        let room = self.bytes.len() - 1 - self.len;
        let take = bytes.len().min(room);
        self.bytes[self.len..self.len + take].copy_from_slice(&bytes[..take]);
        self.len += take;
    }

    fn as_cstr(&self) -> &CStr {
        // The buffer is zeroed and `push` always leaves its last byte 0.
        CStr::from_bytes_until_nul(&self.bytes).unwrap_or_default()
    }

    pub fn as_os_str(&self) -> &OsStr {
        OsStr::from_bytes(&self.bytes[..self.len])
    }
}

/// /proc (or a fixture tree standing in for it), open.
pub struct ProcDir {
    root: PathBuf,
    fd: OwnedFd,
}

impl ProcDir {
    pub fn open(root: &Path) -> io::Result<ProcDir> {
        let dir = fs::File::open(root)?;
        if !dir.metadata()?.is_dir() {
            return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
        }
        Ok(ProcDir {
            root: root.to_path_buf(),
            fd: dir.into(),
        })
    }

    /// Reads the whole file at `path` into `buf` (replacing its contents).
    ///
    /// A read shorter than the space offered is taken as the end of the
    /// file, which saves the empty read that would confirm it: the files
    /// read this way (a process's stat, status, io, schedstat, cgroup and
    /// cmdline) hand out all they have up to the size asked for in one
    /// read (unlike files produced record by record, such as cgroup.procs,
    /// which this is not for).
    pub fn read(&self, path: &RelPath, buf: &mut Vec<u8>) -> io::Result<()> {
        let file = self.open_at(path)?;
        read_file(&file, buf)
    }

    fn open_at(&self, path: &RelPath) -> io::Result<OwnedFd> {
        // SAFETY: the directory fd is open for self's lifetime and the path
        // is a NUL-terminated string that outlives the call.
        let fd = unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                path.as_cstr().as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOCTTY,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: openat returned a new fd that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// The numeric entries (PIDs, or TIDs under `PID/task`) of the
    /// directory `rel` ("" for /proc itself), in the order the kernel
    /// lists them (ascending for /proc).
    pub fn numbers(&self, rel: &OsStr, out: &mut Vec<u32>) -> io::Result<()> {
        out.clear();
        for entry in fs::read_dir(self.root.join(rel))? {
            let Ok(entry) = entry else { continue };
            if let Some(n) = numeric_name(entry.file_name().as_bytes()) {
                out.push(n);
            }
        }
        Ok(())
    }
}

fn read_file(fd: &OwnedFd, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    if buf.capacity() < FIRST_READ {
        buf.reserve(FIRST_READ);
    }
    loop {
        if buf.len() == buf.capacity() {
            buf.reserve(buf.capacity());
        }
        let spare = buf.spare_capacity_mut();
        // SAFETY: the kernel writes at most `spare.len()` bytes into the
        // vector's unused capacity, which it owns for the call.
        let n = unsafe { libc::read(fd.as_raw_fd(), spare.as_mut_ptr().cast(), spare.len()) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        let (n, offered) = (n as usize, spare.len());
        // SAFETY: the read initialised these n bytes.
        unsafe { buf.set_len(buf.len() + n) };
        if n == 0 || n < offered {
            return Ok(());
        }
    }
}

/// A directory entry's name as a number, if it is all digits (and fits).
pub fn numeric_name(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn paths_are_built_without_allocation() {
        assert_eq!(RelPath::process(0, "stat").as_os_str(), "0/stat");
        assert_eq!(
            RelPath::process(4_294_967_295, "io").as_os_str(),
            "4294967295/io"
        );
        assert_eq!(
            RelPath::thread(12, 345, "schedstat").as_os_str(),
            "12/task/345/schedstat"
        );
        let long = "x".repeat(200);
        let cut = RelPath::process(1, &long);
        assert_eq!(cut.as_os_str().len(), 95);
        assert_eq!(cut.as_cstr().to_bytes().len(), 95);
    }

    #[test]
    fn numeric_names_only() {
        assert_eq!(numeric_name(b"123"), Some(123));
        assert_eq!(numeric_name(b"self"), None);
        assert_eq!(numeric_name(b""), None);
        assert_eq!(numeric_name(b"12a"), None);
        assert_eq!(numeric_name(b"99999999999"), None);
    }

    #[test]
    fn reads_own_files_whole() {
        let proc_dir = ProcDir::open(Path::new("/proc")).unwrap();
        let me = std::process::id();
        let mut buf = Vec::new();
        proc_dir
            .read(&RelPath::process(me, "stat"), &mut buf)
            .unwrap();
        assert_eq!(
            buf,
            fs::read(format!("/proc/{me}/stat")).unwrap()[..buf.len()]
        );
        assert!(buf.ends_with(b"\n"));
        // status is longer than stat and still arrives whole.
        proc_dir
            .read(&RelPath::process(me, "status"), &mut buf)
            .unwrap();
        assert!(buf.starts_with(b"Name:") && buf.ends_with(b"\n"));
        let err = proc_dir
            .read(&RelPath::process(me, "nosuch"), &mut buf)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn files_larger_than_the_first_read_arrive_whole() {
        let dir = std::env::temp_dir().join(format!("bpftop-procdir-{}", std::process::id()));
        fs::create_dir_all(dir.join("7")).unwrap();
        let big: Vec<u8> = (0..3 * FIRST_READ + 17).map(|i| (i % 251) as u8).collect();
        fs::write(dir.join("7/cmdline"), &big).unwrap();
        let proc_dir = ProcDir::open(&dir).unwrap();
        let mut buf = Vec::new();
        proc_dir
            .read(&RelPath::process(7, "cmdline"), &mut buf)
            .unwrap();
        let mut pids = Vec::new();
        proc_dir.numbers(OsStr::new(""), &mut pids).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(buf, big);
        assert_eq!(pids, [7]);
    }
}
