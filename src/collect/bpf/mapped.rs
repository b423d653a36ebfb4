//! A BPF array map created with BPF_F_MMAPABLE, mapped into our address
//! space: the kernel's array memory itself, read (and reset) without
//! syscalls.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::ptr::NonNull;

use anyhow::anyhow;

pub struct MappedArray {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; access is
// serialised by &self/&mut self.
unsafe impl Send for MappedArray {}

impl MappedArray {
    /// Maps `value_size * entries` bytes of the array map behind `fd`.
    pub fn map(fd: impl AsFd, value_size: usize, entries: usize) -> anyhow::Result<Self> {
        let page = crate::collect::clock::page_size() as usize;
        let bytes = value_size
            .checked_mul(entries)
            .ok_or_else(|| anyhow!("map of {entries} entries is too large"))?;
        let len = bytes.div_ceil(page).max(1) * page;
        // SAFETY: a fresh shared mapping of a BPF map fd, which the kernel
        // sizes to at least the array's data; no other Rust object aliases it.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_fd().as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(anyhow!(
                "mapping a BPF array: {}",
                std::io::Error::last_os_error()
            ));
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| anyhow!("mmap returned NULL"))?;
        Ok(MappedArray { ptr, len })
    }

    /// The first `len` bytes (clamped to the mapping).
    pub fn bytes(&self, len: usize) -> &[u8] {
        // SAFETY: ptr..ptr+self.len is mapped for our lifetime. The kernel
        // writes it only during a walk, which runs inside our own read(),
        // never while this borrow is alive.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), len.min(self.len)) }
    }

    pub fn bytes_mut(&mut self, len: usize) -> &mut [u8] {
        // SAFETY: as in bytes(), and &mut self makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), len.min(self.len)) }
    }
}

/// An mmapable array map that is mapped only while it is read: mapped, its
/// pages count in our resident memory (17 MB of records at 30 000 tasks),
/// and they need not while the refresh goes on without them.
pub struct MappableArray {
    fd: OwnedFd,
    value_size: usize,
    entries: usize,
}

impl MappableArray {
    /// The array map behind `fd` (kept open: the map lives as long as this
    /// value), of `entries` values of `value_size` bytes.
    pub fn new(fd: impl AsFd, value_size: usize, entries: usize) -> anyhow::Result<Self> {
        let fd = fd
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| anyhow!("keeping a BPF array open: {e}"))?;
        Ok(MappableArray {
            fd,
            value_size,
            entries,
        })
    }

    /// Maps the first `count` values (at most the array's); unmapped when
    /// the mapping is dropped.
    pub fn map_first(&self, count: usize) -> anyhow::Result<MappedArray> {
        MappedArray::map(&self.fd, self.value_size, count.clamp(1, self.entries))
    }
}

impl Drop for MappedArray {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what map() mapped.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}
