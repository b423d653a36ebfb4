//! The DRM file finder: an `iter/task_file` program that reports every open
//! file of a DRM device (see src/bpf/drm_fds.bpf.c).

use std::io::Read;

use anyhow::Context;

use super::skel::{attach_iterator, drm_fds as drm_fds_skel};
use crate::collect::gpu::discovery::{DrmFd, DrmFdScan};

/// sizeof(struct drm_fd_record): four u32s (tgid, fd, minor, pad). The
/// loader compares it with the size the BPF object was compiled with.
const RECORD_SIZE: usize = 16;

/// The attached iterator; each scan is one walk over all file tables.
pub struct BpfDrmScan {
    link: libbpf_rs::Link,
}

impl BpfDrmScan {
    pub fn open() -> anyhow::Result<BpfDrmScan> {
        let link = attach_iterator!(
            drm_fds_skel::DrmFdsSkelBuilder,
            drm_record_size,
            RECORD_SIZE,
            find_drm_fds,
            "loading the DRM file finder"
        );
        Ok(BpfDrmScan { link })
    }
}

impl DrmFdScan for BpfDrmScan {
    fn scan(&mut self) -> anyhow::Result<Vec<DrmFd>> {
        let mut iter = libbpf_rs::Iter::new(&self.link).context("opening the DRM file finder")?;
        let mut bytes = Vec::new();
        iter.read_to_end(&mut bytes)
            .context("reading the DRM file finder")?;
        Ok(bytes.chunks_exact(RECORD_SIZE).map(decode).collect())
    }
}

fn decode(chunk: &[u8]) -> DrmFd {
    let word = |i: usize| {
        chunk
            .get(i * 4..i * 4 + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_ne_bytes)
    };
    // Field order of struct drm_fd_record (intf.h): tgid, fd, minor, pad.
    DrmFd {
        pid: word(0),
        fd: word(1),
        minor: word(2),
    }
}
