//! Task state letters exactly as the kernel's fs/proc/array.c prints them.

// Bits of the task state word (include/linux/sched.h); stable since 4.14.
const TASK_UNINTERRUPTIBLE: u32 = 0x0002;
const TASK_NOLOAD: u32 = 0x0400;
const TASK_RTLOCK_WAIT: u32 = 0x1000;
const TASK_FROZEN: u32 = 0x8000;
const TASK_IDLE: u32 = TASK_UNINTERRUPTIBLE | TASK_NOLOAD;
/// RUNNING..PARKED: the states /proc reports.
const TASK_REPORT: u32 = 0x7f;
const TASK_REPORT_IDLE: u32 = TASK_REPORT + 1;

/// Index i of this string is the letter for fls(state) == i.
const STATE_LETTERS: &[u8; 9] = b"RSDTtXZPI";

/// The letter /proc/PID/stat shows for a task with this state word and
/// exit_state (__task_state_index() + task_index_to_char() of current
/// kernels, which test these bits with masks: an idle freezable kthread is
/// I, a frozen task D).
pub fn state_letter(state: u32, exit_state: u32) -> char {
    let mut report = (state | exit_state) & TASK_REPORT;
    if (state & TASK_IDLE) == TASK_IDLE {
        report = TASK_REPORT_IDLE;
    }
    if state & (TASK_RTLOCK_WAIT | TASK_FROZEN) != 0 {
        report = TASK_UNINTERRUPTIBLE;
    }
    // fls(): 1-based index of the highest set bit, 0 for none.
    let index = (u32::BITS - report.leading_zeros()) as usize;
    STATE_LETTERS.get(index).map(|&b| b as char).unwrap_or('?')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_follow_the_kernel() {
        assert_eq!(state_letter(0x0000, 0), 'R');
        assert_eq!(state_letter(0x0001, 0), 'S');
        assert_eq!(state_letter(0x0002, 0), 'D');
        assert_eq!(state_letter(0x0004, 0), 'T');
        assert_eq!(state_letter(0x0008, 0), 't');
        // ptrace-stopped tasks carry __TASK_TRACED together with other bits.
        assert_eq!(state_letter(0x0008 | 0x0100, 0), 't');
        assert_eq!(state_letter(0x0000, 0x0020), 'Z');
        assert_eq!(state_letter(0x0000, 0x0010), 'X');
        assert_eq!(state_letter(0x0040, 0), 'P');
        // An idle kworker is I, not D (the prototype's mistake).
        assert_eq!(state_letter(TASK_IDLE, 0), 'I');
        // A sleeping RT-mutex waiter is reported as D.
        assert_eq!(state_letter(TASK_RTLOCK_WAIT, 0), 'D');
        // A stopped task is T, not Z.
        assert_eq!(state_letter(0x0004 | 0x0100, 0), 'T');
        // Freezable sleep (TASK_FREEZABLE 0x2000) stays S.
        assert_eq!(state_letter(0x0001 | 0x2000, 0), 'S');
        // An idle freezable kthread (nfsd) is I, not D.
        assert_eq!(state_letter(TASK_IDLE | 0x2000, 0), 'I');
        // A frozen task (cgroup v1 freezer, suspend) is D, not R.
        assert_eq!(state_letter(TASK_FROZEN, 0), 'D');
    }
}
