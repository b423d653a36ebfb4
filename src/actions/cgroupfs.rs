//! Every file bpftop writes in the cgroup tree, and every cgroup it creates
//! or removes, is reached through [`CgroupFs`]: a directory handle of the
//! cgroup2 mount, checked to be cgroup2 by its filesystem magic, below which
//! paths are resolved without following symbolic links and without leaving
//! the mount (`openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_XDEV`; on kernels before 5.6, one `openat(O_NOFOLLOW)` per
//! component, each checked to be on the mount's device).
//!
//! bpftop may hold `cap_dac_override`: a path it was tricked into (a fake
//! mount point, a symlinked `cgroup.freeze`) would otherwise let it write
//! files it must not. Files are opened for writing without `O_CREAT` or
//! `O_TRUNC`: cgroup files always exist, and nothing is ever created or
//! truncated.
//!
//! Cgroup paths are given as bpftop shows them ("/a/b", with names that are
//! not UTF-8 escaped as `cgroups::encode_path` writes them) and decoded here,
//! component by component.

use std::ffi::{CStr, CString, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::collect::cgroups::decode_path;

/// `f_type` of a cgroup2 filesystem (linux/magic.h).
pub const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
/// `f_type` of a cgroup v1 hierarchy (linux/magic.h).
pub const CGROUP_SUPER_MAGIC: i64 = 0x0027_e0eb;

/// How paths below the mount are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolve {
    /// One `openat2` call (Linux 5.6).
    Openat2,
    /// One `openat(O_NOFOLLOW)` per component, where openat2 is missing.
    Walk,
}

/// A verified handle of the cgroup2 mount; see the module documentation.
#[derive(Debug)]
pub struct CgroupFs {
    root: OwnedFd,
    /// The mount's device: nothing reached may be on another.
    dev: u64,
    resolve: Resolve,
    /// For messages only; never used to open anything.
    mount: PathBuf,
}

/// The last OS error, for a call that just failed.
fn last_error() -> io::Error {
    io::Error::last_os_error()
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(last_error())
    } else {
        Ok(ret)
    }
}

fn cstring(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a path"))
}

/// `fstatfs(fd).f_type`.
fn fs_type(fd: &OwnedFd) -> io::Result<i64> {
    // SAFETY: an all-zero statfs is a valid value to be overwritten.
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open, buf is a valid statfs to write to.
    check(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut buf) })?;
    #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
    Ok(buf.f_type as i64)
}

/// `fstat(fd)` as (device, file type bits).
fn dev_and_type(fd: &OwnedFd) -> io::Result<(u64, u32)> {
    // SAFETY: an all-zero stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open, st is a valid stat to write to.
    check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    #[allow(clippy::useless_conversion)]
    Ok((u64::from(st.st_dev), st.st_mode & libc::S_IFMT))
}

/// `openat2(dir, path, flags, resolve)`.
fn openat2(dir: &OwnedFd, path: &CStr, flags: libc::c_int, resolve: u64) -> io::Result<OwnedFd> {
    // SAFETY: open_how is plain data; all-zero is its "nothing asked" value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = u64::try_from(flags).unwrap_or_default();
    how.resolve = resolve;
    // SAFETY: dir is open, path is NUL-terminated, how is a valid open_how
    // of the size passed.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if ret < 0 {
        return Err(last_error());
    }
    let fd = libc::c_int::try_from(ret)
        .map_err(|_| io::Error::other("openat2 returned an impossible descriptor"))?;
    // SAFETY: the kernel just gave us this descriptor; we own it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `openat(dir, name, flags)`.
fn openat(dir: &OwnedFd, name: &CStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: dir is open, name is NUL-terminated.
    let fd = check(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) })?;
    // SAFETY: the kernel just gave us this descriptor; we own it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

const RESOLVE: u64 = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_XDEV;
const DIR_FLAGS: libc::c_int = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;

/// The components of cgroup path `cgroup` ("/a/b"), decoded to bytes; an
/// error unless every one is a plain name.
fn components(cgroup: &str) -> io::Result<Vec<Vec<u8>>> {
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a cgroup path: {cgroup:?}"),
        )
    };
    if !cgroup.starts_with('/') {
        return Err(bad());
    }
    cgroup
        .split('/')
        .filter(|c| !c.is_empty())
        .map(|c| {
            let name = decode_path(c);
            let plain =
                name != b"." && name != b".." && !name.contains(&0) && !name.contains(&b'/');
            if plain {
                Ok(name)
            } else {
                Err(bad())
            }
        })
        .collect()
}

impl CgroupFs {
    /// Opens the cgroup2 mount at `mount` and checks that it is cgroup2.
    pub fn open(mount: &Path) -> io::Result<CgroupFs> {
        let fs = CgroupFs::open_any(mount)?;
        let magic = fs_type(&fs.root)?;
        if magic != CGROUP2_SUPER_MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} is not a cgroup2 mount (filesystem magic {magic:#x})",
                    mount.display()
                ),
            ));
        }
        Ok(fs)
    }

    /// Opens the cgroup v1 hierarchy at `mount` (the freezer's, on hybrid
    /// hosts) and checks that it is a cgroup v1 filesystem; below it, paths
    /// are resolved as strictly as below a cgroup2 mount.
    pub fn open_v1(mount: &Path) -> io::Result<CgroupFs> {
        let fs = CgroupFs::open_any(mount)?;
        let magic = fs_type(&fs.root)?;
        if magic != CGROUP_SUPER_MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} is not a cgroup v1 mount (filesystem magic {magic:#x})",
                    mount.display()
                ),
            ));
        }
        Ok(fs)
    }

    /// Opens `mount` without checking its filesystem: only for tests, whose
    /// fake mounts are plain directories.
    #[cfg(test)]
    pub(crate) fn open_unverified(mount: &Path) -> io::Result<CgroupFs> {
        CgroupFs::open_any(mount)
    }

    fn open_any(mount: &Path) -> io::Result<CgroupFs> {
        let path = cstring(mount.as_os_str().as_bytes())?;
        // SAFETY: path is NUL-terminated.
        let fd = check(unsafe { libc::open(path.as_ptr(), DIR_FLAGS) })
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", mount.display())))?;
        // SAFETY: the kernel just gave us this descriptor; we own it.
        let root = unsafe { OwnedFd::from_raw_fd(fd) };
        let (dev, _) = dev_and_type(&root)?;
        let resolve = match openat2(&root, c".", DIR_FLAGS, RESOLVE) {
            Ok(_) => Resolve::Openat2,
            // ENOSYS: kernel < 5.6; EPERM: a seccomp filter that does not
            // know the call. The walk is as strict, only slower.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => Resolve::Walk,
            Err(e) => return Err(e),
        };
        Ok(CgroupFs {
            root,
            dev,
            resolve,
            mount: mount.to_path_buf(),
        })
    }

    /// The same handle resolving by the component walk (for tests of the
    /// path kernels before 5.6 take).
    #[cfg(test)]
    fn walking(mut self) -> CgroupFs {
        self.resolve = Resolve::Walk;
        self
    }

    /// Where the mount is, for messages.
    pub fn mount(&self) -> &Path {
        &self.mount
    }

    /// Opens `names` (relative to the mount; empty: the mount itself).
    fn open_relative(&self, names: &[&[u8]], flags: libc::c_int) -> io::Result<OwnedFd> {
        let fd = match self.resolve {
            Resolve::Openat2 => {
                let joined = if names.is_empty() {
                    b".".to_vec()
                } else {
                    names.join(&b'/')
                };
                openat2(&self.root, &cstring(&joined)?, flags, RESOLVE)?
            }
            Resolve::Walk => {
                let mut dir: Option<OwnedFd> = None;
                let Some((last, parents)) = names.split_last() else {
                    return openat(&self.root, c".", flags);
                };
                for name in parents {
                    let at = dir.as_ref().unwrap_or(&self.root);
                    let next = self.step(at, &cstring(name)?)?;
                    dir = Some(next);
                }
                let at = dir.as_ref().unwrap_or(&self.root);
                let last = cstring(last)?;
                // The look first (a symlink is then ELOOP, not ENOTDIR),
                // then the open, which follows no symlink either.
                self.step(at, &last)?;
                openat(at, &last, flags | libc::O_NOFOLLOW)?
            }
        };
        self.same_device(&fd)?;
        Ok(fd)
    }

    /// One component of the walk: `name` in `at`, which must be neither a
    /// symlink nor on another device.
    fn step(&self, at: &OwnedFd, name: &CStr) -> io::Result<OwnedFd> {
        let fd = openat(at, name, libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC)?;
        if dev_and_type(&fd)?.1 == libc::S_IFLNK {
            return Err(io::Error::from_raw_os_error(libc::ELOOP));
        }
        self.same_device(&fd)?;
        Ok(fd)
    }

    fn same_device(&self, fd: &OwnedFd) -> io::Result<()> {
        if dev_and_type(fd)?.0 == self.dev {
            Ok(())
        } else {
            Err(io::Error::from_raw_os_error(libc::EXDEV))
        }
    }

    /// Opens `file` of cgroup `cgroup` ("/a/b", "cgroup.freeze").
    fn open_file(&self, cgroup: &str, file: &str, flags: libc::c_int) -> io::Result<File> {
        let mut names = components(cgroup)?;
        if file.is_empty() || file.contains('/') || file == "." || file == ".." {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a cgroup file: {file:?}"),
            ));
        }
        names.push(file.as_bytes().to_vec());
        let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        let fd = self
            .open_relative(&refs, flags | libc::O_CLOEXEC | libc::O_NOCTTY)
            .map_err(|e| self.explain(e, cgroup, Some(file)))?;
        if dev_and_type(&fd)?.1 != libc::S_IFREG {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("refusing {cgroup}/{file}: not a regular file"),
            ));
        }
        Ok(File::from(fd))
    }

    /// Opens directory `cgroup`.
    fn open_dir(&self, cgroup: &str) -> io::Result<OwnedFd> {
        let names = components(cgroup)?;
        let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        self.open_relative(&refs, DIR_FLAGS)
            .map_err(|e| self.explain(e, cgroup, None))
    }

    /// A clear message for what openat2 or the walk refused; other errors
    /// are passed on unchanged (their errno decides "permission denied").
    fn explain(&self, error: io::Error, cgroup: &str, file: Option<&str>) -> io::Error {
        let what = match file {
            Some(file) => format!("{cgroup}/{file}"),
            None => cgroup.to_owned(),
        };
        let why = match error.raw_os_error() {
            Some(libc::ELOOP) => "a symbolic link is in the way",
            Some(libc::EXDEV) => "it leads out of the cgroup mount",
            _ => return error,
        };
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing {what} under {}: {why}", self.mount.display()),
        )
    }

    /// Writes `value` to the existing file `file` of `cgroup`.
    pub fn write(&self, cgroup: &str, file: &str, value: &str) -> io::Result<()> {
        self.open_file(cgroup, file, libc::O_WRONLY)?
            .write_all(value.as_bytes())
    }

    /// The contents of `file` of `cgroup`.
    pub fn read(&self, cgroup: &str, file: &str) -> io::Result<String> {
        let mut text = String::new();
        self.open_file(cgroup, file, libc::O_RDONLY)?
            .read_to_string(&mut text)?;
        Ok(text)
    }

    /// `file` of `cgroup`, open for reading (to be re-read with pread).
    pub fn open_read(&self, cgroup: &str, file: &str) -> io::Result<File> {
        self.open_file(cgroup, file, libc::O_RDONLY)
    }

    /// Whether `cgroup` is a directory below the mount.
    pub fn exists(&self, cgroup: &str) -> bool {
        self.open_dir(cgroup).is_ok()
    }

    /// The parent's handle and the last name of `cgroup`; an error for "/".
    fn parent_and_name(&self, cgroup: &str) -> io::Result<(OwnedFd, CString)> {
        let names = components(cgroup)?;
        let Some((name, parents)) = names.split_last() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the root cgroup cannot be created or removed",
            ));
        };
        let refs: Vec<&[u8]> = parents.iter().map(Vec::as_slice).collect();
        let parent = self
            .open_relative(&refs, DIR_FLAGS)
            .map_err(|e| self.explain(e, cgroup, None))?;
        Ok((parent, cstring(name)?))
    }

    /// Creates cgroup `cgroup` (its parent must exist).
    pub fn mkdir(&self, cgroup: &str) -> io::Result<()> {
        let (parent, name) = self.parent_and_name(cgroup)?;
        // SAFETY: parent is open, name is NUL-terminated.
        check(unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), 0o755) }).map(drop)
    }

    /// Removes the empty cgroup `cgroup`.
    pub fn rmdir(&self, cgroup: &str) -> io::Result<()> {
        let (parent, name) = self.parent_and_name(cgroup)?;
        // SAFETY: parent is open, name is NUL-terminated.
        check(unsafe { libc::unlinkat(parent.as_raw_fd(), name.as_ptr(), libc::AT_REMOVEDIR) })
            .map(drop)
    }

    /// The names of the child cgroups of `cgroup` (subdirectories only).
    pub fn children(&self, cgroup: &str) -> io::Result<Vec<OsString>> {
        let dir = self.open_dir(cgroup)?;
        let raw = std::os::fd::IntoRawFd::into_raw_fd(dir);
        // SAFETY: raw is an open directory descriptor, handed over to the
        // stream (closedir closes it).
        let stream = unsafe { libc::fdopendir(raw) };
        if stream.is_null() {
            let error = last_error();
            // SAFETY: fdopendir failed, so raw is still ours to close.
            unsafe { libc::close(raw) };
            return Err(error);
        }
        let mut names = Vec::new();
        loop {
            // SAFETY: stream is an open directory stream.
            let entry = unsafe { libc::readdir(stream) };
            if entry.is_null() {
                break;
            }
            // SAFETY: readdir returned a valid entry, whose d_name is
            // NUL-terminated and lives until the next readdir.
            let (kind, name) =
                unsafe { ((*entry).d_type, CStr::from_ptr((*entry).d_name.as_ptr())) };
            let name = name.to_bytes();
            if kind == libc::DT_DIR && name != b"." && name != b".." {
                names.push(OsString::from_vec(name.to_vec()));
            }
        }
        // SAFETY: stream is open and not used again.
        unsafe { libc::closedir(stream) };
        Ok(names)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::collect::cgroups::find_cgroup2_mount;
    use std::fs;

    /// A scratch directory: a/b/cgroup.freeze, and a file outside.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("bpftop-cgfs-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("mount/a/b")).unwrap();
            fs::write(dir.join("mount/a/b/cgroup.freeze"), "0\n").unwrap();
            fs::write(dir.join("secret"), "root only\n").unwrap();
            Scratch(dir)
        }

        fn mount(&self) -> PathBuf {
            self.0.join("mount")
        }

        fn handles(&self) -> [CgroupFs; 2] {
            let fs = CgroupFs::open_unverified(&self.mount()).unwrap();
            let walk = CgroupFs::open_unverified(&self.mount()).unwrap().walking();
            [fs, walk]
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn plain_files_are_written_in_place_without_truncating() {
        let s = Scratch::new("plain");
        for fs in s.handles() {
            fs.write("/a/b", "cgroup.freeze", "1").unwrap();
            assert_eq!(fs.read("/a/b", "cgroup.freeze").unwrap(), "1\n");
            fs.write("/a/b", "cgroup.freeze", "0").unwrap();
        }
        // Never created.
        for fs in s.handles() {
            let err = fs.write("/a", "cgroup.freeze", "1").unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound);
            assert!(!s.mount().join("a/cgroup.freeze").exists());
        }
    }

    #[test]
    fn a_symlinked_file_is_refused_and_its_target_unchanged() {
        let s = Scratch::new("link-file");
        let link = s.mount().join("a/cgroup.freeze");
        std::os::unix::fs::symlink(s.0.join("secret"), &link).unwrap();
        for fs in s.handles() {
            let err = fs.write("/a", "cgroup.freeze", "0").unwrap_err();
            assert!(err.to_string().contains("symbolic link"), "{err}");
            assert!(fs.read("/a", "cgroup.freeze").is_err());
        }
        assert_eq!(
            fs::read_to_string(s.0.join("secret")).unwrap(),
            "root only\n"
        );
    }

    #[test]
    fn a_symlinked_directory_is_refused() {
        let s = Scratch::new("link-dir");
        fs::create_dir(s.0.join("elsewhere")).unwrap();
        fs::write(s.0.join("elsewhere/cgroup.freeze"), "0\n").unwrap();
        std::os::unix::fs::symlink(s.0.join("elsewhere"), s.mount().join("a/c")).unwrap();
        std::os::unix::fs::symlink("../..", s.mount().join("a/up")).unwrap();
        for fs in s.handles() {
            for cgroup in ["/a/c", "/a/up/secret"] {
                let err = fs.write(cgroup, "cgroup.freeze", "1").unwrap_err();
                assert!(err.to_string().contains("symbolic link"), "{cgroup}: {err}");
            }
            assert!(fs.mkdir("/a/c/new").is_err());
            assert!(fs.rmdir("/a/c").is_err());
        }
        assert_eq!(
            fs::read_to_string(s.0.join("elsewhere/cgroup.freeze")).unwrap(),
            "0\n"
        );
        assert!(s.0.join("elsewhere").is_dir());
    }

    #[test]
    fn paths_that_leave_the_mount_are_refused() {
        let s = Scratch::new("escape");
        for fs in s.handles() {
            for cgroup in ["/..", "/a/../..", "a/b", "/a/./b"] {
                let err = fs.write(cgroup, "cgroup.freeze", "1").unwrap_err();
                assert!(err.to_string().contains("not a cgroup path"), "{err}");
            }
            // An escaped '/' or '..' decodes to a name the walk refuses.
            assert!(fs.write("/a/b", "../../secret", "x").is_err());
        }
        assert_eq!(
            fs::read_to_string(s.0.join("secret")).unwrap(),
            "root only\n"
        );
    }

    #[test]
    fn only_a_cgroup_v1_mount_is_accepted_as_v1() {
        let s = Scratch::new("v1");
        let err = CgroupFs::open_v1(&s.mount()).unwrap_err();
        assert!(err.to_string().contains("not a cgroup v1 mount"), "{err}");
        if let Some(mount) = find_cgroup2_mount(Path::new("/proc")) {
            let err = CgroupFs::open_v1(&mount).unwrap_err();
            assert!(err.to_string().contains("not a cgroup v1 mount"), "{err}");
        }
        let Some(freezer) = crate::collect::frozen_v1::find_freezer_mount(Path::new("/proc"))
        else {
            return;
        };
        let fs = CgroupFs::open_v1(&freezer).unwrap();
        // The same protection as below cgroup2: no way out of the mount.
        let err = fs.read("/..", "tasks").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert!(fs.read("/", "cgroup.procs").is_ok());
    }

    #[test]
    fn only_a_cgroup2_mount_is_accepted() {
        let s = Scratch::new("magic");
        let err = CgroupFs::open(&s.mount()).unwrap_err();
        assert!(err.to_string().contains("not a cgroup2 mount"), "{err}");
        let err = CgroupFs::open(Path::new("/proc")).unwrap_err();
        assert!(err.to_string().contains("not a cgroup2 mount"), "{err}");
        if let Some(mount) = find_cgroup2_mount(Path::new("/proc")) {
            let fs = CgroupFs::open(&mount).unwrap();
            assert_eq!(fs.resolve, Resolve::Openat2); // Linux >= 5.6 here
            assert!(fs.read("/", "cgroup.procs").is_ok());
        }
    }

    #[test]
    fn directories_are_made_listed_and_removed_beneath_the_mount() {
        let s = Scratch::new("mkdir");
        for fs in s.handles() {
            fs.mkdir("/a/new").unwrap();
            assert!(fs.exists("/a/new"));
            let mut children = fs.children("/a").unwrap();
            children.sort();
            assert_eq!(children, [OsString::from("b"), OsString::from("new")]);
            fs.rmdir("/a/new").unwrap();
            assert!(!fs.exists("/a/new"));
            assert!(fs.mkdir("/").is_err());
        }
    }

    #[test]
    fn names_that_are_not_utf8_are_decoded() {
        let s = Scratch::new("bytes");
        let raw = s.mount().join(std::ffi::OsStr::from_bytes(b"a\xff\xfe"));
        fs::create_dir(&raw).unwrap();
        fs::write(raw.join("cgroup.freeze"), "0").unwrap();
        for fs in s.handles() {
            fs.write(r"/a\xff\xfe", "cgroup.freeze", "1").unwrap();
            assert_eq!(fs::read_to_string(raw.join("cgroup.freeze")).unwrap(), "1");
            fs.write(r"/a\xff\xfe", "cgroup.freeze", "0").unwrap();
        }
    }
}
