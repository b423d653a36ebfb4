//! The config directory, opened once without following a link, and every
//! file operation on the config relative to that handle.
//!
//! bpftop may run as root or with file capabilities while the config path
//! comes from the environment ($XDG_CONFIG_HOME, $HOME) of whoever started
//! it. So nothing here follows a symbolic link in the last two components
//! (`bpftop/config.toml`), opens anything but a regular file, blocks on a
//! FIFO, or reads an unbounded amount; writes go to a new file in the same
//! directory that is then renamed over the config.

use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A config larger than this is refused: settings take a few hundred bytes.
pub const MAX_CONFIG_BYTES: u64 = 64 * 1024;

/// An open directory handle.
pub struct ConfigDir {
    fd: OwnedFd,
}

fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// -1 from a libc call as the OS error.
fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Errors that mean "a link where a file or directory should be".
fn is_link_error(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::ENOTDIR))
}

fn refused(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, what)
}

impl ConfigDir {
    /// Opens the directory `dir`, creating it (mode 0700) when `create` and
    /// it is missing; its parents must exist unless `create`. A link or
    /// anything but a directory is refused. None: it does not exist.
    pub fn open(dir: &Path, create: bool) -> io::Result<Option<ConfigDir>> {
        if create {
            if let Some(parent) = dir.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let path = c_name(dir.as_os_str())?;
            // SAFETY: path is a valid NUL-terminated string.
            let rc = unsafe { libc::mkdir(path.as_ptr(), 0o700) };
            if rc == -1 && io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST) {
                return Err(io::Error::last_os_error());
            }
        }
        let path = c_name(dir.as_os_str())?;
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: path is a valid NUL-terminated string.
        let fd = unsafe { libc::open(path.as_ptr(), flags) };
        if fd == -1 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ENOENT) => Ok(None),
                _ if is_link_error(&e) => Err(refused(
                    "is a symbolic link or not a directory (links are not followed)".into(),
                )),
                _ => Err(e),
            };
        }
        // SAFETY: fd was just opened and is owned by nobody else.
        Ok(Some(ConfigDir {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        }))
    }

    fn metadata(&self) -> io::Result<std::fs::Metadata> {
        File::from(self.fd.try_clone()?).metadata()
    }

    /// Err unless the directory belongs to the effective user and others
    /// cannot write to it: root must not write into a directory another
    /// user controls (`sudo -E` keeps that user's $XDG_CONFIG_HOME).
    pub fn check_owner(&self) -> io::Result<()> {
        let meta = self.metadata()?;
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        if meta.uid() != euid {
            return Err(refused(format!(
                "the directory belongs to uid {}, not to uid {euid} that bpftop runs as",
                meta.uid()
            )));
        }
        if meta.mode() & 0o002 != 0 {
            return Err(refused("the directory is writable by every user".into()));
        }
        Ok(())
    }

    /// Opens `name` read-only without following a link and without
    /// blocking (a FIFO), and checks it is a regular file.
    fn open_regular(&self, name: &CStr) -> io::Result<Option<File>> {
        let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
        // SAFETY: the dir fd is open and name is NUL-terminated.
        let fd = unsafe { libc::openat(self.fd.as_raw_fd(), name.as_ptr(), flags) };
        if fd == -1 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ENOENT) => Ok(None),
                Some(libc::ELOOP) => Err(refused(
                    "is a symbolic link (links are not followed)".into(),
                )),
                _ => Err(e),
            };
        }
        // SAFETY: fd was just opened and is owned by nobody else.
        let file = unsafe { File::from_raw_fd(fd) };
        let meta = file.metadata()?;
        if !meta.file_type().is_file() {
            return Err(refused(format!(
                "is not a regular file (a {})",
                kind_of(&meta.file_type())
            )));
        }
        Ok(Some(file))
    }

    /// The contents of `name`; None when there is no such file.
    pub fn read(&self, name: &OsStr) -> io::Result<Option<Vec<u8>>> {
        let Some(file) = self.open_regular(&c_name(name)?)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_CONFIG_BYTES {
            return Err(refused(format!(
                "is larger than {} KiB",
                MAX_CONFIG_BYTES / 1024
            )));
        }
        Ok(Some(bytes))
    }

    /// Err when `name` exists and is not a regular file of the effective
    /// user (it would be moved aside or replaced).
    pub fn check_replaceable(&self, name: &OsStr) -> io::Result<()> {
        let Some(file) = self.open_regular(&c_name(name)?)? else {
            return Ok(());
        };
        let owner = file.metadata()?.uid();
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        if owner != euid {
            return Err(refused(format!(
                "belongs to uid {owner}, not to uid {euid} that bpftop runs as"
            )));
        }
        Ok(())
    }

    /// Whether anything (a link included) is called `name`.
    pub fn exists(&self, name: &OsStr) -> io::Result<bool> {
        let name = c_name(name)?;
        // SAFETY: stat is plain data; all-zero is a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: the dir fd is open, name is NUL-terminated, st is valid.
        let rc = unsafe {
            libc::fstatat(
                self.fd.as_raw_fd(),
                name.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        match check(rc) {
            Ok(_) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Renames `from` to `to`, failing if `to` exists.
    pub fn rename_new(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        let (from, to) = (c_name(from)?, c_name(to)?);
        let dir = self.fd.as_raw_fd();
        // SAFETY: the dir fd is open and both names are NUL-terminated.
        let rc = unsafe {
            libc::renameat2(dir, from.as_ptr(), dir, to.as_ptr(), libc::RENAME_NOREPLACE)
        };
        check(rc).map(drop)
    }

    /// Replaces `name` by a file holding `bytes`: a new file beside it,
    /// synced, then renamed over it, so a crash or a full disk never leaves
    /// a half-written config, and a link at `name` is replaced, not
    /// written through.
    pub fn write_atomically(&self, name: &OsStr, bytes: &[u8]) -> io::Result<()> {
        let mut tmp = OsStr::new(".").to_owned();
        tmp.push(name);
        tmp.push(format!(".tmp.{}", std::process::id()));
        let (tmp, target) = (c_name(&tmp)?, c_name(name)?);
        let dir = self.fd.as_raw_fd();
        // A stale temp file from a crashed run is ours to replace (unlinkat
        // removes a link itself, never its target).
        // SAFETY: the dir fd is open and tmp is NUL-terminated.
        unsafe { libc::unlinkat(dir, tmp.as_ptr(), 0) };
        let flags =
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: as above; the mode is passed as the variadic argument.
        let fd = check(unsafe { libc::openat(dir, tmp.as_ptr(), flags, 0o644 as libc::c_uint) })?;
        // SAFETY: fd was just opened and is owned by nobody else.
        let mut file = unsafe { File::from_raw_fd(fd) };
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            // SAFETY: the dir fd is open and both names are NUL-terminated.
            .and_then(|()| {
                check(unsafe { libc::renameat(dir, tmp.as_ptr(), dir, target.as_ptr()) })
            });
        if written.is_err() {
            // SAFETY: as above.
            unsafe { libc::unlinkat(dir, tmp.as_ptr(), 0) };
        }
        written.map(drop)
    }
}

fn kind_of(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() || t.is_block_device() {
        "device"
    } else {
        "special file"
    }
}
