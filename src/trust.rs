//! What bpftop trusts from whoever runs it. With file capabilities an
//! ordinary user runs bpftop with rights that user does not have, so the
//! test-only roots (`--proc-root`, `--sys-root`, `--passwd`) would let them
//! read root-only files as command lines or aim a freeze at any file: they
//! are refused then, as is the benchmarks' `BPFTOP_REFRESH_COUNT` file, and
//! the real /proc and /sys must be what they claim.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::cli::{Cli, DEFAULT_PASSWD, DEFAULT_PROC_ROOT, DEFAULT_SYS_ROOT};

/// `statfs` magic numbers (linux/magic.h).
const PROC_SUPER_MAGIC: i64 = 0x9fa0;
const SYSFS_MAGIC: i64 = 0x6265_6572;

/// Whether this process holds capabilities its real user does not: any
/// permitted capability while the real user is not root. (Running setuid
/// or setgid is refused before this is asked.)
pub fn holds_more_than_its_user(real_uid: u32, permitted_caps: usize) -> bool {
    real_uid != 0 && permitted_caps > 0
}

/// The test-only options `cli` sets to something other than the default.
pub fn test_roots_in_use(cli: &Cli) -> Vec<&'static str> {
    let mut used = Vec::new();
    if cli.proc_root != Path::new(DEFAULT_PROC_ROOT) {
        used.push("--proc-root");
    }
    if cli.sys_root != Path::new(DEFAULT_SYS_ROOT) {
        used.push("--sys-root");
    }
    if cli.passwd != Path::new(DEFAULT_PASSWD) {
        used.push("--passwd");
    }
    used
}

/// The file system type of `path` (`statfs` f_type).
fn fs_magic(path: &Path) -> std::io::Result<i64> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: statfs is plain data; all-zero is a valid value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is NUL-terminated and st is a valid out-pointer.
    if unsafe { libc::statfs(c_path.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st.f_type as i64)
}

/// Err(message) where the process holds more than its user and the
/// command line moves a test root.
pub fn refuse_test_roots(cli: &Cli) -> Result<(), String> {
    // SAFETY: getuid has no preconditions.
    let real_uid = unsafe { libc::getuid() };
    let mut used = test_roots_in_use(cli);
    if std::env::var_os(crate::monitor::refresh_count::ENV).is_some() {
        used.push(crate::monitor::refresh_count::ENV);
    }
    if !used.is_empty() && holds_more_than_its_user(real_uid, crate::privileges::held().len()) {
        return Err(format!(
            "{} {} for tests and benchmarks only and refused while bpftop holds capabilities (file capabilities) that uid {real_uid} does not have",
            used.join(", "),
            if used.len() == 1 { "is" } else { "are" }
        ));
    }
    Ok(())
}

/// Err(message) where the default /proc or /sys is not the kernel's file
/// system (what bpftop reads there is trusted as the kernel's word).
pub fn check_kernel_roots(cli: &Cli) -> Result<(), String> {
    for (root, default, magic, what) in [
        (&cli.proc_root, DEFAULT_PROC_ROOT, PROC_SUPER_MAGIC, "proc"),
        (&cli.sys_root, DEFAULT_SYS_ROOT, SYSFS_MAGIC, "sysfs"),
    ] {
        if root != Path::new(default) {
            continue;
        }
        match fs_magic(root) {
            Ok(found) if found == magic => {}
            Ok(found) => {
                return Err(format!(
                    "{default} is not a {what} file system (type {found:#x})"
                ))
            }
            Err(e) => return Err(format!("{default}: {e}")),
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn only_capabilities_beyond_the_user_count() {
        assert!(holds_more_than_its_user(1000, 2), "file capabilities");
        assert!(!holds_more_than_its_user(1000, 0), "an ordinary user");
        assert!(!holds_more_than_its_user(0, 41), "root chose its own flags");
    }

    #[test]
    fn moved_roots_are_named() {
        let cli = Cli::parse_from(["bpftop"]);
        assert!(test_roots_in_use(&cli).is_empty());
        let cli = Cli::parse_from(["bpftop", "--proc-root", "/tmp/p", "--passwd", "/tmp/x"]);
        assert_eq!(test_roots_in_use(&cli), ["--proc-root", "--passwd"]);
    }

    #[test]
    fn the_real_roots_pass_and_a_fake_one_is_not_procfs() {
        assert_eq!(fs_magic(Path::new("/proc")).unwrap(), PROC_SUPER_MAGIC);
        assert_eq!(fs_magic(Path::new("/sys")).unwrap(), SYSFS_MAGIC);
        assert_ne!(fs_magic(Path::new("/")).unwrap(), PROC_SUPER_MAGIC);
        let cli = Cli::parse_from(["bpftop"]);
        assert_eq!(check_kernel_roots(&cli), Ok(()));
        assert_eq!(refuse_test_roots(&cli), Ok(()));
    }
}
