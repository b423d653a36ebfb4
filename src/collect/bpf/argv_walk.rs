//! Every process's command line in one walk: the sleepable `iter.s/task`
//! program of src/bpf/argv_iter.bpf.c, run when many processes need theirs
//! at once (the first refresh), instead of three syscalls and a /proc
//! lookup per process. Processes it flags are read from /proc as before.

use std::io::Read;

use anyhow::Context;

use super::skel::{argv_iter as argv_skel, attach_iterator};
use crate::collect::procfs::split_cmdline;
use crate::collect::sample::Argv;

/// sizeof(struct argv_record) (intf.h): pid, len, start_boottime, exec_id,
/// flags, pad. The loader compares it with the size the BPF object was
/// compiled with.
const RECORD_SIZE: usize = 32;

/// argv_record.flags: the bytes are not what /proc shows; read it there.
const FROM_PROC: u32 = argv_skel::types::bpftop_argv_flag::BPFTOP_ARGV_FROM_PROC.0;

/// The attached iterator; each read is one walk over all tasks.
pub struct ArgvWalk {
    link: libbpf_rs::Link,
}

impl ArgvWalk {
    /// Loads and attaches the program, or says why it cannot (kernels
    /// before 5.18 have neither sleepable task iterators nor
    /// bpf_copy_from_user_task).
    pub fn open() -> anyhow::Result<ArgvWalk> {
        let link = attach_iterator!(
            argv_skel::ArgvIterSkelBuilder,
            argv_record_size,
            RECORD_SIZE,
            read_argvs,
            "loading the command-line walk"
        );
        Ok(ArgvWalk { link })
    }

    /// The command lines of the processes alive now, appended to `bytes`
    /// as the program writes them (records, each followed by its argv).
    /// The caller's buffer: it may be filled on another thread, while its
    /// memory stays with the caller's allocator arena.
    pub fn read_into(&self, bytes: &mut Vec<u8>) -> anyhow::Result<()> {
        let mut iter = libbpf_rs::Iter::new(&self.link).context("opening the command-line walk")?;
        iter.read_to_end(bytes)
            .context("reading the command-line walk")?;
        Ok(())
    }

    /// [`ArgvWalk::read_into`] a new table.
    pub fn read(&self) -> anyhow::Result<ArgvTable> {
        let mut bytes = Vec::new();
        self.read_into(&mut bytes)?;
        Ok(ArgvTable::new(bytes))
    }
}

/// One walk's output, kept as the program wrote it (about 60 bytes a
/// process) with an index by pid: each argv is split into arguments only
/// when its process asks for it, so the table adds little to memory.
#[derive(Debug, Default)]
pub struct ArgvTable {
    bytes: Vec<u8>,
    /// (pid, offset of its record in `bytes`), in pid order.
    index: Vec<(u32, usize)>,
}

/// A record's fields (struct argv_record), or None past the end.
struct Header {
    pid: u32,
    len: usize,
    start_boottime: u64,
    exec_id: u64,
    flags: u32,
}

fn header(bytes: &[u8], at: usize) -> Option<Header> {
    let head = bytes.get(at..at.checked_add(RECORD_SIZE)?)?;
    let u32_at = |i: usize| {
        head.get(i..i + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_ne_bytes)
    };
    let u64_at = |i: usize| {
        head.get(i..i + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_ne_bytes)
    };
    // Field order of struct argv_record.
    Some(Header {
        pid: u32_at(0),
        len: u32_at(4) as usize,
        start_boottime: u64_at(8),
        exec_id: u64_at(16),
        flags: u32_at(24),
    })
}

impl ArgvTable {
    /// Indexes the walk's output; a record flagged for /proc is left out,
    /// and a cut-off tail is ignored.
    pub fn new(bytes: Vec<u8>) -> ArgvTable {
        let mut index = Vec::new();
        let mut at = 0;
        while let Some(h) = header(&bytes, at) {
            let end = at + RECORD_SIZE + h.len;
            if end > bytes.len() {
                break;
            }
            if h.flags & FROM_PROC == 0 {
                index.push((h.pid, at));
            }
            at = end;
        }
        // The walk goes in pid order; sorted in case a kernel does not.
        if !index.is_sorted_by_key(|&(pid, _)| pid) {
            index.sort_unstable_by_key(|&(pid, _)| pid);
        }
        ArgvTable { bytes, index }
    }

    /// The argv of process `pid` that started at `start_time_ns`, as of its
    /// exec `exec_id`; None where the walk did not read that one.
    pub fn get(&self, pid: u32, start_time_ns: u64, exec_id: u64) -> Option<Argv> {
        let i = self.index.binary_search_by_key(&pid, |&(p, _)| p).ok()?;
        let at = self.index.get(i)?.1;
        let h = header(&self.bytes, at)?;
        if h.start_boottime != start_time_ns || h.exec_id != exec_id {
            return None;
        }
        let argv = self.bytes.get(at + RECORD_SIZE..at + RECORD_SIZE + h.len)?;
        Some(split_cmdline(argv).into())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A record as argv_iter.bpf.c writes it, then its argv bytes.
    fn record(pid: u32, start: u64, exec_id: u64, flags: u32, argv: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&pid.to_ne_bytes());
        out.extend_from_slice(&u32::try_from(argv.len()).unwrap().to_ne_bytes());
        out.extend_from_slice(&start.to_ne_bytes());
        out.extend_from_slice(&exec_id.to_ne_bytes());
        out.extend_from_slice(&flags.to_ne_bytes());
        out.extend_from_slice(&0u32.to_ne_bytes());
        assert_eq!(out.len(), RECORD_SIZE);
        out.extend_from_slice(argv);
        out
    }

    fn args(argv: &Argv) -> Vec<&[u8]> {
        argv.iter().map(Vec::as_slice).collect()
    }

    #[test]
    fn records_are_split_into_their_processes_argv() {
        let mut bytes = record(7, 70, 1, 0, b"sleep\x00600\x00");
        bytes.extend(record(9, 90, 2, FROM_PROC, b""));
        bytes.extend(record(12, 120, 3, 0, b"a\xff b\x00\x00c\x00"));
        bytes.extend(record(15, 150, 4, 0, b""));
        let table = ArgvTable::new(bytes);
        assert_eq!(args(&table.get(7, 70, 1).unwrap()), [&b"sleep"[..], b"600"]);
        assert!(table.get(9, 90, 2).is_none(), "left to /proc");
        assert_eq!(
            args(&table.get(12, 120, 3).unwrap()),
            [&b"a\xff b"[..], b"", b"c"]
        );
        assert!(table.get(15, 150, 4).unwrap().is_empty());
        assert!(table.get(20, 0, 0).is_none(), "never walked");
    }

    #[test]
    fn another_process_or_exec_under_the_pid_gets_nothing() {
        let bytes = [
            record(7, 70, 1, 0, b"old\x00"),
            record(8, 80, 1, 0, b"x\x00"),
        ]
        .concat();
        let table = ArgvTable::new(bytes);
        assert!(table.get(7, 71, 1).is_none(), "pid reused");
        assert!(table.get(8, 80, 2).is_none(), "exec'd since");
    }

    #[test]
    fn a_cut_off_tail_is_ignored() {
        let whole = record(7, 70, 1, 0, b"sleep\x00600\x00");
        let mut bytes = whole.clone();
        bytes.extend_from_slice(&record(8, 80, 1, 0, b"cut\x00")[..RECORD_SIZE + 2]);
        let table = ArgvTable::new(bytes);
        assert!(table.get(7, 70, 1).is_some());
        assert!(table.get(8, 80, 1).is_none());
        assert!(ArgvTable::new(whole[..RECORD_SIZE - 1].to_vec())
            .index
            .is_empty());
    }

    #[test]
    fn records_out_of_pid_order_are_found() {
        let bytes = [
            record(30, 1, 1, 0, b"c\x00"),
            record(10, 1, 1, 0, b"a\x00"),
            record(20, 1, 1, 0, b"b\x00"),
        ]
        .concat();
        let table = ArgvTable::new(bytes);
        for (pid, name) in [(10, b"a"), (20, b"b"), (30, b"c")] {
            assert_eq!(args(&table.get(pid, 1, 1).unwrap()), [&name[..]]);
        }
    }
}
