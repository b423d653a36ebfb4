//! Reading a process's I/O priority: one ioprio_get(2) per process, made
//! only for the processes on screen (the walk does not read it).

use super::sample::ioprio::IoPriority;

/// ioprio_get/ioprio_set's `which` for a single thread.
pub const IOPRIO_WHO_PROCESS: libc::c_long = 1;

/// The I/O priority of the thread `tid` (a process's main thread stands
/// for the process); None when it is gone or cannot be read.
pub fn io_priority(tid: u32) -> Option<IoPriority> {
    let who = libc::pid_t::try_from(tid).ok().filter(|&t| t > 0)?;
    // SAFETY: ioprio_get takes two integers and touches no memory.
    let raw = unsafe {
        libc::syscall(
            libc::SYS_ioprio_get,
            IOPRIO_WHO_PROCESS,
            libc::c_long::from(who),
        )
    };
    IoPriority::from_raw(i32::try_from(raw).ok()?)
}
