//! The C allocator's settings for a process that rebuilds tens of
//! megabytes of process tables every refresh, from several threads.
//!
//! glibc's defaults suit short programs: a freed large block raises the
//! threshold above which blocks are mapped on their own, so the next
//! refresh's tables come from the heap, where freed space is kept rather
//! than returned; and each thread that allocates gets an arena of its own,
//! each keeping its own free space. A fixed threshold makes every large
//! table a mapping of its own, given back when it is dropped, and two
//! arenas keep the rest together.

/// Blocks at least this large are mapped on their own and unmapped when
/// freed: the per-process tables from a few thousand processes on (a
/// model at 30 000 processes is 15 MB). Below it, a refresh costs no
/// mapping syscalls, as on an ordinary machine.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 4 << 20;

/// Free space kept at the top of the heap rather than given back: a
/// refresh's tables below the mapping threshold are freed and allocated
/// again every refresh, which would otherwise cost a brk pair each time.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 2 * MMAP_THRESHOLD;

/// Arenas for all threads together.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: libc::c_int = 2;

/// Applies the settings; call before any thread starts. Elsewhere than
/// glibc, nothing to do.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's parameters; called
    // before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}
