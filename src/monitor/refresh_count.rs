//! A refresh counter that benchmarks read from outside: with
//! `BPFTOP_REFRESH_COUNT=FILE`, every refresh rewrites FILE's one line,
//! "COUNT UNIX_TIME", in place through a shared mapping, so counting costs
//! no system call and leaves the syscalls a benchmark measures as they
//! are. A benchmark reads the line at both ends of its window: the counts
//! give the refreshes, the times of the last refreshes their rate.
//!
//! The file is created when missing (mode 0644) and never followed through
//! a symbolic link; under file capabilities the variable is refused
//! ([`crate::trust`]), as the test roots are.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable naming the file.
pub const ENV: &str = "BPFTOP_REFRESH_COUNT";

/// "COUNT UNIX_TIME\n", fixed width so a rewrite covers the last one.
const LINE: usize = 20 + 1 + 20 + 1;

/// The mapped file; unmapped when dropped.
pub struct RefreshCount {
    map: *mut u8,
    count: u64,
}

// SAFETY: the mapping is owned by this value alone and only written
// through `&mut self`.
unsafe impl Send for RefreshCount {}

impl RefreshCount {
    /// The counter `BPFTOP_REFRESH_COUNT` asks for; None when unset.
    pub fn from_env() -> anyhow::Result<Option<RefreshCount>> {
        match std::env::var_os(ENV) {
            None => Ok(None),
            Some(path) => RefreshCount::open(Path::new(&path))
                .map(Some)
                .map_err(|e| anyhow::anyhow!("{ENV}={}: {e}", Path::new(&path).display())),
        }
    }

    /// Maps `path`, which then reads count 0.
    pub fn open(path: &Path) -> std::io::Result<RefreshCount> {
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        // SAFETY: c_path is NUL-terminated; the flags ask for no special
        // memory.
        let fd = unsafe {
            libc::open(
                c_path.as_ptr(),
                libc::O_RDWR | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0o644 as libc::c_uint,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd is open for writing; the mapping covers the size just
        // set and outlives the descriptor, which is closed either way.
        let map = unsafe {
            let map = if libc::ftruncate(fd, LINE as libc::off_t) == 0 {
                libc::mmap(
                    std::ptr::null_mut(),
                    LINE,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    fd,
                    0,
                )
            } else {
                libc::MAP_FAILED
            };
            let error = std::io::Error::last_os_error();
            libc::close(fd);
            if map == libc::MAP_FAILED {
                return Err(error);
            }
            map.cast::<u8>()
        };
        let mut counter = RefreshCount { map, count: 0 };
        counter.write(0.0);
        Ok(counter)
    }

    /// One more refresh, done now.
    pub fn tick(&mut self) {
        self.count += 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.write(now);
    }

    fn write(&mut self, time: f64) {
        let line = format!("{:>20} {:>20.6}\n", self.count, time);
        debug_assert_eq!(line.len(), LINE);
        let bytes = &line.as_bytes()[..LINE.min(line.len())];
        // SAFETY: the mapping is LINE bytes long and writable.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.map, bytes.len()) };
    }
}

impl Drop for RefreshCount {
    fn drop(&mut self) {
        // SAFETY: map was returned by mmap with this length.
        unsafe { libc::munmap(self.map.cast(), LINE) };
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn read(path: &Path) -> (u64, f64) {
        let text = std::fs::read_to_string(path).unwrap();
        let mut fields = text.split_whitespace();
        let count = fields.next().unwrap().parse().unwrap();
        let time = fields.next().unwrap().parse().unwrap();
        (count, time)
    }

    #[test]
    fn each_tick_is_seen_by_a_reader_of_the_file() {
        let dir = crate::test_support::TempDir::new("refresh-count");
        let path = dir.path().join("count");
        std::fs::write(&path, "older and longer content than one line\n".repeat(4)).unwrap();
        let mut counter = RefreshCount::open(&path).unwrap();
        assert_eq!(read(&path), (0, 0.0));
        let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        counter.tick();
        counter.tick();
        let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let (count, time) = read(&path);
        assert_eq!(count, 2);
        assert!(time >= before.as_secs_f64() - 1e-6 && time <= after.as_secs_f64() + 1e-6);
        assert_eq!(
            std::fs::read(&path).unwrap().len(),
            LINE,
            "the old content is cut"
        );
    }

    #[test]
    fn a_symbolic_link_is_not_followed() {
        let dir = crate::test_support::TempDir::new("refresh-count-link");
        let target = dir.path().join("target");
        std::fs::write(&target, "kept").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(RefreshCount::open(&link).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept");
    }
}
