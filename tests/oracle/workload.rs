//! Known processes the oracle tests measure. The test binary re-executes
//! itself as `<exe> workload <kind> [args...]`; every workload prints
//! "ready" once it is in its final state, and dies with its parent.

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

const MIB: usize = 1 << 20;
/// Safety net: no workload outlives a stuck test by more than this.
const MAX_LIFETIME: Duration = Duration::from_secs(300);

fn die_with_parent() {
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
}

/// CPU time this thread has used, ns.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec for the calling thread's CPU clock.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

pub fn ready(extra: &str) {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "ready {extra}");
    let _ = out.flush();
}

pub fn idle() -> ! {
    let start = Instant::now();
    // Long sleeps: a process caught awake would be R, not the S the tests
    // compare against.
    while start.elapsed() < MAX_LIFETIME {
        thread::sleep(Duration::from_secs(5));
    }
    std::process::exit(0)
}

/// Maps and touches `bytes` of memory; shared mappings count as shmem.
fn touch_mapping(bytes: usize, shared: bool) {
    map_touched(bytes, shared);
}

/// `touch_mapping`, returning the mapping.
fn map_touched(bytes: usize, shared: bool) -> *mut libc::c_void {
    let flags = libc::MAP_ANONYMOUS
        | if shared {
            libc::MAP_SHARED
        } else {
            libc::MAP_PRIVATE
        };
    // SAFETY: an anonymous mapping of a fixed size; we only write inside it.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            flags,
            -1,
            0,
        );
        assert_ne!(p, libc::MAP_FAILED, "mmap failed");
        let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
        for off in (0..bytes).step_by(page) {
            *(p as *mut u8).add(off) = 1;
        }
        p
    }
}

pub fn run(args: &[String]) -> ! {
    die_with_parent();
    let kind = args.first().map(String::as_str).unwrap_or("");
    if let Some(never) = super::net_workload::run(kind, &args[1..]) {
        match never {}
    }
    match kind {
        // Four threads spinning for the given number of milliseconds.
        "spin" => {
            let ms: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3000);
            let deadline = Instant::now() + Duration::from_millis(ms);
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    thread::spawn(move || {
                        let mut x = 0u64;
                        while Instant::now() < deadline {
                            x = std::hint::black_box(x.wrapping_add(1));
                        }
                    })
                })
                .collect();
            ready("");
            for t in threads {
                let _ = t.join();
            }
            std::process::exit(0)
        }
        // Anonymous and shared memory of known sizes (MiB).
        "hold" => {
            let anon: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(64);
            let shm: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
            touch_mapping(anon * MIB, false);
            touch_mapping(shm * MIB, true);
            ready("");
            idle()
        }
        // Anonymous memory (MiB), the first part of it pushed out to swap
        // with MADV_PAGEOUT (Linux 5.4+; needs active swap), and shared
        // memory.
        "swapped" => {
            let anon: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(48);
            let out: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(32);
            let shm: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(16);
            let p = map_touched(anon * MIB, false);
            touch_mapping(shm * MIB, true);
            // SAFETY: advice on a range of our own mapping.
            let rc = unsafe { libc::madvise(p, out.min(anon) * MIB, libc::MADV_PAGEOUT) };
            assert_eq!(
                rc,
                0,
                "madvise(MADV_PAGEOUT): {}",
                std::io::Error::last_os_error()
            );
            ready("");
            idle()
        }
        "nice" => {
            // SAFETY: setpriority on ourselves.
            unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 7) };
            ready("");
            idle()
        }
        // Sleeps; the test stops it, or inspects its argv.
        "sleep" => {
            ready("");
            idle()
        }
        // Sleeps with N more threads, idle too.
        "sleep_threads" => {
            let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4);
            for _ in 0..n {
                thread::spawn(|| idle());
            }
            ready("");
            idle()
        }
        // A child that exits and is never reaped.
        "zombie" => {
            // SAFETY: the child only calls _exit.
            let child = unsafe { libc::fork() };
            if child == 0 {
                // SAFETY: async-signal-safe exit of the forked child.
                unsafe { libc::_exit(0) };
            }
            thread::sleep(Duration::from_millis(200));
            ready(&child.to_string());
            idle()
        }
        // Renames itself (comm) to hostile bytes given as hex.
        "comm" => {
            let hex = args.get(1).map(String::as_str).unwrap_or("");
            let name: Vec<u8> = (0..hex.len() / 2)
                .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
                .collect();
            std::fs::write("/proc/self/comm", &name).expect("writing /proc/self/comm");
            ready("");
            idle()
        }
        // Four threads that each burn CPU and exit: their time now lives
        // only in the exited-threads totals.
        "threads_exit" => {
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    thread::spawn(|| {
                        let mut x = 0u64;
                        while thread_cpu_ns() < 150_000_000 {
                            x = std::hint::black_box(x.wrapping_add(1));
                        }
                    })
                })
                .collect();
            for t in threads {
                let _ = t.join();
            }
            ready("");
            idle()
        }
        // A new session whose controlling terminal is a fresh pty.
        "tty" => {
            // SAFETY: plain libc calls on fds we own; failures end the workload.
            unsafe {
                libc::setsid();
                let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
                assert!(master >= 0, "posix_openpt failed");
                assert_eq!(libc::grantpt(master), 0);
                assert_eq!(libc::unlockpt(master), 0);
                let name = libc::ptsname(master);
                assert!(!name.is_null());
                let slave = libc::open(name, libc::O_RDWR);
                assert!(slave >= 0, "opening the pty slave failed");
                assert_eq!(libc::ioctl(slave, libc::TIOCSCTTY, 0), 0);
            }
            ready("");
            idle()
        }
        // Holds a DRM-like device node (char 226:200, made with mknod in the
        // given directory) open with O_PATH, which needs no driver behind
        // it, plus /dev/null (char 1:3), which is no GPU.
        "drm_fd" => {
            let dir = args.get(1).expect("a directory for the device node");
            let node = std::ffi::CString::new(format!("{dir}/card-test")).expect("node path");
            // SAFETY: plain libc calls on a path we own; results checked.
            let fd = unsafe {
                let dev = libc::makedev(226, 200);
                assert_eq!(
                    libc::mknod(node.as_ptr(), libc::S_IFCHR | 0o600, dev),
                    0,
                    "mknod"
                );
                libc::open(node.as_ptr(), libc::O_PATH | libc::O_CLOEXEC)
            };
            assert!(fd >= 0, "opening the device node with O_PATH failed");
            let null = std::fs::File::open("/dev/null").expect("opening /dev/null");
            std::mem::forget(null);
            ready(&fd.to_string());
            idle()
        }
        // N idle children in a process group of their own.
        "idle" => {
            let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100);
            // SAFETY: plain process-group and fork calls; children only pause.
            unsafe {
                libc::setpgid(0, 0);
                for _ in 0..n {
                    if libc::fork() == 0 {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                        loop {
                            libc::pause();
                        }
                    }
                }
            }
            ready("");
            idle()
        }
        other => {
            eprintln!("unknown workload {other:?}");
            std::process::exit(2)
        }
    }
}
