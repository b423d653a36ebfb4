//! Workloads of the exit tests: children that burn known CPU and exit with
//! known codes, a process whose main thread exits first, an allocator.

use std::thread;
use std::time::Duration;

/// CPU this thread has used, ns (its own clock, not the process's).
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec for the calling thread's CPU clock.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// CPU of the waited-for children, ns (getrusage(RUSAGE_CHILDREN)).
fn children_cpu_ns() -> u64 {
    // SAFETY: getrusage fills a zeroed rusage.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru);
        ru
    };
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    ns(ru.ru_utime) + ns(ru.ru_stime)
}

/// The name child `i` gives itself.
pub fn burner_name(i: usize) -> String {
    format!("burn{i}")
}

/// Workloads of this file; None for another kind.
pub fn run(kind: &str, args: &[String]) -> Option<std::convert::Infallible> {
    match kind {
        // N children, two at a time, each naming itself burner_name(i),
        // burning `ms` of its own CPU time and exiting with i % 256. Prints
        // the children's CPU by getrusage once all are reaped.
        "burners" => {
            let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(1000);
            let ms: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
            let before = children_cpu_ns();
            let mut running = 0;
            for i in 0..n {
                if running == 2 {
                    // SAFETY: reaping any child of ours.
                    unsafe { libc::wait(std::ptr::null_mut()) };
                    running -= 1;
                }
                // SAFETY: the child only calls async-signal-safe functions
                // (prctl, clock_gettime, _exit) before it exits.
                let pid = unsafe { libc::fork() };
                if pid == 0 {
                    let name = std::ffi::CString::new(burner_name(i)).unwrap_or_default();
                    // SAFETY: setting our own name; burning; exiting.
                    unsafe {
                        libc::prctl(libc::PR_SET_NAME, name.as_ptr());
                        let until = thread_cpu_ns() + ms * 1_000_000;
                        let mut x = 0u64;
                        while thread_cpu_ns() < until {
                            x = std::hint::black_box(x.wrapping_add(1));
                        }
                        libc::_exit((i % 256) as i32);
                    }
                }
                running += 1;
            }
            while running > 0 {
                // SAFETY: reaping our children.
                unsafe { libc::wait(std::ptr::null_mut()) };
                running -= 1;
            }
            super::workload::ready(&(children_cpu_ns() - before).to_string());
            super::workload::idle()
        }
        // The main thread leaves; another thread exits the process with
        // code 5 once the file named by the argument exists.
        "leader_exits" => {
            let flag = args.first().cloned().unwrap_or_default();
            thread::spawn(move || {
                while !std::path::Path::new(&flag).exists() {
                    thread::sleep(Duration::from_millis(20));
                }
                // SAFETY: ending the process from this thread.
                unsafe { libc::exit(5) };
            });
            super::workload::ready("");
            // SAFETY: the main thread ends (the exit system call ends only
            // the calling thread, with no unwinding); the other keeps the
            // process.
            unsafe { libc::syscall(libc::SYS_exit, 0) };
            unreachable!("the main thread outlived its exit");
        }
        // Touches memory a MiB at a time until killed.
        "allocate" => {
            super::workload::ready("");
            let mut kept = Vec::new();
            loop {
                let mut chunk = vec![0u8; 1 << 20];
                for b in chunk.iter_mut().step_by(4096) {
                    *b = 1;
                }
                kept.push(std::hint::black_box(chunk));
            }
        }
        _ => None,
    }
}
