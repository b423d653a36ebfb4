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

/// Set by SIGUSR1.
static SIGNALLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_sigusr1(_: libc::c_int) {
    SIGNALLED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Waits for SIGUSR1, however early it comes (blocked until the wait).
fn wait_for_sigusr1() {
    // SAFETY: signal mask calls on sigsets we own; the handler only stores
    // to an atomic.
    unsafe {
        let mut usr1: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut usr1);
        libc::sigaddset(&mut usr1, libc::SIGUSR1);
        libc::sigprocmask(libc::SIG_BLOCK, &usr1, std::ptr::null_mut());
        let handler: extern "C" fn(libc::c_int) = on_sigusr1;
        libc::signal(libc::SIGUSR1, handler as libc::sighandler_t);
        ready("");
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        while !SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) {
            libc::sigsuspend(&none);
        }
    }
}

/// Overwrites this process's argv memory in place with `title` (as
/// setproctitle does: no exec, the kernel's argv area keeps its bounds),
/// NUL-filling the rest of the area.
fn set_title_in_place(title: &[u8]) {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the comm's closing parenthesis start at field 3;
    // arg_start and arg_end are fields 48 and 49.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..]
        .split_whitespace()
        .collect();
    let field = |n: usize| -> usize { fields[n - 3].parse().expect("a number") };
    let (start, end) = (field(48), field(49));
    assert!(title.len() < end - start, "the argv area is too small");
    // SAFETY: [arg_start, arg_end) is this process's own argv area on its
    // stack, writable, and nothing reads argv any more (the arguments were
    // copied at start-up).
    unsafe {
        let area = std::slice::from_raw_parts_mut(start as *mut u8, end - start);
        area.fill(0);
        area[..title.len()].copy_from_slice(title);
    }
}

pub fn run(args: &[String]) -> ! {
    die_with_parent();
    let kind = args.first().map(String::as_str).unwrap_or("");
    if let Some(never) = super::net_workload::run(kind, &args[1..]) {
        match never {}
    }
    if let Some(never) = super::waits::workload(kind, &args[1..]) {
        match never {}
    }
    if let Some(never) = super::exit_workload::run(kind, &args[1..]) {
        match never {}
    }
    match kind {
        // Threads (four unless given) spinning for the given number of
        // milliseconds.
        "spin" => {
            let ms: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3000);
            let count: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(4);
            let deadline = Instant::now() + Duration::from_millis(ms);
            let threads: Vec<_> = (0..count)
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
        // Writes and reads back a file of the given size (MiB) over and
        // over: page cache a memory limit must keep reclaiming.
        "pagecache" => {
            let path = args.get(1).cloned().unwrap_or_default();
            let mib: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(64);
            let chunk = vec![0x5au8; MIB];
            ready("");
            loop {
                use std::io::Read;
                if let Ok(mut f) = std::fs::File::create(&path) {
                    for _ in 0..mib {
                        let _ = f.write_all(&chunk);
                    }
                }
                if let Ok(mut f) = std::fs::File::open(&path) {
                    let mut buf = vec![0u8; MIB];
                    while f.read(&mut buf).is_ok_and(|n| n > 0) {}
                }
            }
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
        // Shared anonymous memory (MiB) also mapped by a child, whose
        // pages count half in each one's PSS and not in their USS, and
        // private anonymous memory of the parent's (touched after the fork,
        // so not shared copy-on-write with the child). Prints the child's
        // pid.
        "shared_pair" => {
            let private: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(40);
            let shared: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(24);
            let common = map_touched(shared * MIB, true);
            // SAFETY: fork in a single-threaded process; the child only
            // maps the shared pages (fork does not copy the page table
            // entries of shared mappings: it touches each page) and sleeps.
            let child = unsafe { libc::fork() };
            assert!(child >= 0, "fork failed");
            if child == 0 {
                die_with_parent();
                let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
                for off in (0..shared * MIB).step_by(page) {
                    // SAFETY: inside the shared mapping.
                    unsafe { *(common as *mut u8).add(off) = 2 };
                }
                idle()
            }
            touch_mapping(private * MIB, false);
            ready(&child.to_string());
            idle()
        }
        // Rewrites its argv in place to the title args[1] on SIGUSR1 (the
        // argv area holds it: it is one of the arguments).
        "retitle" => {
            let title = args.get(1).expect("a title");
            wait_for_sigusr1();
            set_title_in_place(title.as_bytes());
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
