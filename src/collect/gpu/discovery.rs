//! Which processes hold DRM device files (character major 226): only their
//! fdinfo can carry GPU usage stats, so only those are read each refresh.
//! Finding them means looking at every open file of the system, which the
//! caller does at a lower rate than the refresh.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::PathBuf;

/// The DRM character device major number (include/uapi/drm/drm.h).
pub const DRM_MAJOR: u32 = 226;

/// One open DRM file of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DrmFd {
    pub pid: u32,
    pub fd: u32,
    /// Device minor: 0–63 card (primary) nodes, 128–191 render nodes.
    pub minor: u32,
}

/// A way to list every open DRM file.
pub trait DrmFdScan {
    fn scan(&mut self) -> anyhow::Result<Vec<DrmFd>>;
}

/// Without BPF: stat every /proc/PID/fd entry (following the link to the
/// file's inode, without opening it). One syscall per open file of the
/// system, which is why it runs rarely.
pub struct ProcfsDrmScan {
    proc_root: PathBuf,
}

impl ProcfsDrmScan {
    pub fn new(proc_root: PathBuf) -> Self {
        ProcfsDrmScan { proc_root }
    }
}

/// major() of a dev_t as glibc encodes it.
fn dev_major(rdev: u64) -> u32 {
    (((rdev >> 32) & 0xffff_f000) | ((rdev >> 8) & 0xfff)) as u32
}

/// minor() of a dev_t as glibc encodes it.
fn dev_minor(rdev: u64) -> u32 {
    (((rdev >> 12) & 0xffff_ff00) | (rdev & 0xff)) as u32
}

impl DrmFdScan for ProcfsDrmScan {
    fn scan(&mut self) -> anyhow::Result<Vec<DrmFd>> {
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.proc_root)?.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            // Processes exit and close files while we look: skip what vanished.
            let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
                continue;
            };
            for fd_entry in fds.flatten() {
                let Some(fd) = fd_entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                    continue;
                };
                let Ok(meta) = fs::metadata(fd_entry.path()) else {
                    continue;
                };
                if meta.file_type().is_char_device() && dev_major(meta.rdev()) == DRM_MAJOR {
                    found.push(DrmFd {
                        pid,
                        fd,
                        minor: dev_minor(meta.rdev()),
                    });
                }
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_numbers_split_like_glibc() {
        // makedev(226, 128) as glibc encodes it.
        let rdev = ((226u64 & 0xfff) << 8) | (128 & 0xff);
        assert_eq!((dev_major(rdev), dev_minor(rdev)), (226, 128));
        // A large minor spills into the high bits.
        let rdev = ((226u64 & 0xfff) << 8) | (0x1234 & 0xff) | ((0x1234u64 & !0xff) << 12);
        assert_eq!((dev_major(rdev), dev_minor(rdev)), (226, 0x1234));
    }
}
