//! What runs a walk over all tasks, for either kind of walk program: the
//! collector's and the benchmarks' empty floor use the same mechanics.

use std::io::Read;
use std::mem::size_of;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use anyhow::{anyhow, Context};
use libbpf_rs::{OpenProgramMut, ProgramMut};

/// How a walk over all tasks is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkKind {
    /// One run of a syscall program (open-coded task iterator, kernel
    /// >= 6.7).
    OpenCoded,
    /// Reading an `iter/task` iterator (kernel >= 5.8).
    TaskIterator,
}

impl WalkKind {
    pub fn describe(self) -> &'static str {
        match self {
            WalkKind::OpenCoded => "open-coded task iterator (one BPF_PROG_RUN per walk)",
            WalkKind::TaskIterator => "iter/task (one iterator read per walk)",
        }
    }

    /// Before loading an object with one program of each kind: loads only
    /// this kind's (the other may not load on this kernel).
    pub fn enable(self, open_coded: &mut OpenProgramMut, iterator: &mut OpenProgramMut) {
        open_coded.set_autoload(self == WalkKind::OpenCoded);
        iterator.set_autoload(self == WalkKind::TaskIterator);
    }
}

/// The loaded program (kept by its fd), or the link of the attached one.
pub enum Walker {
    Program(OwnedFd),
    Iterator(libbpf_rs::Link),
}

impl Walker {
    /// The walker of `kind`, from the loaded object's programs.
    pub fn new(
        kind: WalkKind,
        open_coded: &ProgramMut,
        iterator: &ProgramMut,
    ) -> anyhow::Result<Walker> {
        Ok(match kind {
            WalkKind::OpenCoded => Walker::Program(
                open_coded
                    .as_fd()
                    .try_clone_to_owned()
                    .context("keeping the walk program")?,
            ),
            WalkKind::TaskIterator => Walker::Iterator(
                iterator
                    .attach()
                    .map_err(|e| anyhow!("attaching the task iterator: {e}"))?,
            ),
        })
    }

    /// Walks every task once.
    pub fn walk(&self) -> anyhow::Result<()> {
        match self {
            Walker::Program(fd) => match run_program(fd.as_fd())? {
                0 => Ok(()),
                status => Err(anyhow!("the walk program failed (returned {status})")),
            },
            Walker::Iterator(link) => {
                let mut iter = libbpf_rs::Iter::new(link).context("opening the task iterator")?;
                let mut end = [0u8; 64];
                loop {
                    match iter.read(&mut end) {
                        Ok(0) => return Ok(()),
                        Ok(_) => continue,
                        // More than a million tasks without output: the
                        // kernel asks us to read again, and the walk goes on.
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                        Err(e) => return Err(e).context("reading the task iterator"),
                    }
                }
            }
        }
    }
}

/// Runs a syscall program once (BPF_PROG_RUN) and returns its return value.
fn run_program(program: BorrowedFd) -> anyhow::Result<u32> {
    // SAFETY: a zeroed bpf_test_run_opts with `sz` set is the "no input, no
    // output" request; libbpf reads only the first `sz` bytes.
    let mut opts: libbpf_sys::bpf_test_run_opts = unsafe { std::mem::zeroed() };
    opts.sz = size_of::<libbpf_sys::bpf_test_run_opts>() as _;
    // SAFETY: the fd is a loaded program's and `opts` is valid for the call.
    let rc = unsafe { libbpf_sys::bpf_prog_test_run_opts(program.as_raw_fd(), &mut opts) };
    if rc != 0 {
        return Err(std::io::Error::from_raw_os_error(-rc)).context("running the walk program");
    }
    Ok(opts.retval)
}
