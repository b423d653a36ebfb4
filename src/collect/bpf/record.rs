//! Decoding of the task iterator's records and their aggregation into
//! processes with /proc's semantics.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use super::skel::task_iter::types::{
    bpftop_record_flag, bpftop_task_flag, task_record, walk_state,
};
use crate::collect::sample::{Comm, IoCounters, RunQueue, Stalls, ThreadSample, Waits};
use crate::collect::state::state_letter;

/// Size of one record; the BPF side writes exactly `sizeof(struct task_record)`.
pub const RECORD_SIZE: usize = std::mem::size_of::<task_record>();

// The Rust struct is generated from intf.h through the object's BTF, and
// the loader compares its size with the C sizeof the object carries
// (`record_size`). Records must also tile a buffer without padding.
const _: () = assert!(RECORD_SIZE % std::mem::align_of::<task_record>() == 0);

// Bits of task_record.record_flags and task_flags, with the values intf.h's
// enums give them (generated from the object's BTF, never copied by hand).
pub(super) const REC_LEADER: u32 = bpftop_record_flag::BPFTOP_REC_LEADER.0;
pub(super) const REC_HAS_MM: u32 = bpftop_record_flag::BPFTOP_REC_HAS_MM.0;
pub const REC_PRECISE_RSS: u32 = bpftop_record_flag::BPFTOP_REC_PRECISE_RSS.0;
pub(super) const REC_SCHED_INFO: u32 = bpftop_record_flag::BPFTOP_REC_SCHED_INFO.0;
pub(super) const REC_DELAYS: u32 = bpftop_record_flag::BPFTOP_REC_DELAYS.0;
pub(super) const PF_KTHREAD: u32 = bpftop_task_flag::PF_KTHREAD.0;

/// The records in `bytes`, borrowed in place when `bytes` is suitably
/// aligned (the mapped records map is page-aligned), copied otherwise. A
/// trailing partial record, which the kernel never produces, is left out.
pub fn records(bytes: &[u8]) -> Cow<'_, [task_record]> {
    let whole = &bytes[..bytes.len() - bytes.len() % RECORD_SIZE];
    // SAFETY: task_record is plain old data (integers and a byte array),
    // valid for any bit pattern; align_to only yields correctly aligned,
    // in-bounds elements.
    let (head, body, _) = unsafe { whole.align_to::<task_record>() };
    if head.is_empty() {
        return Cow::Borrowed(body);
    }
    Cow::Owned(
        whole
            .chunks_exact(RECORD_SIZE)
            // SAFETY: each chunk holds RECORD_SIZE bytes of plain old data;
            // read_unaligned copes with any alignment.
            .map(|c| unsafe { std::ptr::read_unaligned(c.as_ptr().cast::<task_record>()) })
            .collect(),
    )
}

/// Reads the walk state from its map's bytes (zero when too short).
pub fn decode_walk_state(bytes: &[u8]) -> walk_state {
    if bytes.len() < std::mem::size_of::<walk_state>() {
        return walk_state::default();
    }
    // SAFETY: walk_state is two u64s, valid for any bits; length checked.
    unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<walk_state>()) }
}

/// The name in a NUL-padded comm.
pub fn comm_bytes(comm: &[i8; 16]) -> Comm {
    let bytes = comm.map(|c| c as u8);
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    Comm::new(&bytes[..len])
}

/// Size of one kthread_names entry (intf.h's BPFTOP_NAME_LEN).
pub const NAME_SIZE: usize = 64;

/// The name /proc shows for the task of `record`: its kthread_names entry
/// (in `names`, the entries written by the walk) when it has one, else
/// its comm.
pub fn shown_name(record: &task_record, names: &[u8]) -> Comm {
    let entry = (record.name_slot as usize)
        .checked_sub(1)
        .and_then(|slot| names.get(slot * NAME_SIZE..(slot + 1) * NAME_SIZE));
    match entry {
        Some(entry) => {
            let len = entry.iter().position(|&b| b == 0).unwrap_or(entry.len());
            Comm::new(&entry[..len])
        }
        None => comm_bytes(&record.comm),
    }
}

/// One process being assembled from its thread records.
#[derive(Debug, Default)]
pub struct ProcessAccum {
    /// Index of the leader's record; None until seen (a process whose
    /// leader record is missing is in the middle of exiting and is dropped).
    pub leader: Option<usize>,
    pub sum_exec_runtime: u64,
    pub utime: u64,
    pub stime: u64,
    pub min_flt: u64,
    pub maj_flt: u64,
    pub io: IoCounters,
    pub running_threads: u64,
    pub thread_count: u64,
    pub threads: Vec<ThreadSample>,
    /// The live threads' run-queue waits and stalls, summed.
    pub waits: Waits,
}

/// The run-queue waits and stalls of one thread's record.
pub fn thread_waits(r: &task_record) -> Waits {
    Waits {
        run: (r.record_flags & REC_SCHED_INFO != 0).then_some(RunQueue {
            delay_ns: r.run_delay,
            count: r.run_count,
        }),
        stalls: (r.record_flags & REC_DELAYS != 0).then_some(Stalls {
            blkio_ns: r.blkio_delay,
            swapin_ns: r.swapin_delay,
            reclaim_ns: r.reclaim_delay,
            thrashing_ns: r.thrashing_delay,
            compact_ns: r.compact_delay,
        }),
    }
}

/// The exited threads' totals that the leader's record carries, in the
/// parts the live threads have.
pub fn dead_waits(leader: &task_record, live: Waits) -> Waits {
    Waits {
        run: live.run.map(|_| RunQueue {
            delay_ns: leader.dead_run_delay,
            count: leader.dead_run_count,
        }),
        stalls: live.stalls.map(|_| Stalls {
            blkio_ns: leader.dead_blkio_delay,
            swapin_ns: leader.dead_swapin_delay,
            reclaim_ns: leader.dead_reclaim_delay,
            thrashing_ns: leader.dead_thrashing_delay,
            compact_ns: leader.dead_compact_delay,
        }),
    }
}

/// `a` + `b` part by part; a part missing from either is missing.
pub fn add_waits(a: Waits, b: Waits) -> Waits {
    Waits {
        run: a.run.zip(b.run).map(|(x, y)| x.plus(y)),
        stalls: a.stalls.zip(b.stalls).map(|(x, y)| x.plus(y)),
    }
}

impl ProcessAccum {
    /// Adds `r`, the record at `index`.
    fn add_thread(&mut self, index: usize, r: &task_record, keep_threads: bool) {
        self.sum_exec_runtime += r.sum_exec_runtime;
        self.utime += r.utime;
        self.stime += r.stime;
        self.min_flt += r.min_flt;
        self.maj_flt += r.maj_flt;
        self.io.rchar += r.rchar;
        self.io.wchar += r.wchar;
        self.io.read_bytes += r.read_bytes;
        self.io.write_bytes += r.write_bytes;
        let waits = thread_waits(r);
        self.waits = if self.thread_count == 0 {
            waits
        } else {
            add_waits(self.waits, waits)
        };
        self.thread_count += 1;
        let state = state_letter(r.state, r.exit_state);
        if state == 'R' {
            self.running_threads += 1;
        }
        if keep_threads {
            self.threads.push(ThreadSample {
                tid: r.tid,
                state,
                comm: comm_bytes(&r.comm),
                processor: r.processor,
                cpu_time_ns: r.sum_exec_runtime,
                waits,
            });
        }
        if r.record_flags & REC_LEADER != 0 {
            self.leader = Some(index);
        }
    }

    pub fn is_kernel_thread(leader: &task_record) -> bool {
        leader.task_flags & PF_KTHREAD != 0
    }

    pub fn has_mm(leader: &task_record) -> bool {
        leader.record_flags & REC_HAS_MM != 0
    }
}

/// A tgid index at least this large (tens of thousands of processes) is
/// given back after each grouping; a smaller one is kept, so that an
/// ordinary machine's refresh allocates nothing for it.
const KEEP_INDEX_BYTES: usize = 256 << 10;

/// Groups a walk's records by thread group, in order of first appearance.
/// Kept between refreshes, so that its buffers are allocated once.
#[derive(Debug, Default)]
pub struct Aggregator {
    /// (tgid, its accumulation).
    pub processes: Vec<(u32, ProcessAccum)>,
    /// tgid → index into `processes`.
    index: FxHashMap<u32, usize>,
    pub keep_threads: bool,
}

impl Aggregator {
    pub fn new(keep_threads: bool) -> Self {
        Aggregator {
            keep_threads,
            ..Default::default()
        }
    }

    /// Groups one walk's records (forgetting the previous walk's).
    pub fn group(&mut self, records: &[task_record]) {
        self.processes.clear();
        self.index.clear();
        // At most a process per record: no growth, no rehashing.
        self.processes.reserve(records.len());
        self.index.reserve(records.len());
        self.add_records(records);
        // Not needed again before the next walk; a large one is given
        // back (the grouped processes are, by `assemble::processes`).
        if self.index.capacity() * size_of::<(u32, usize)>() >= KEEP_INDEX_BYTES {
            self.index = FxHashMap::default();
        }
    }

    fn add_records(&mut self, records: &[task_record]) {
        // Where the previous record went: a process's threads usually come
        // one after another, and then need no lookup.
        let mut last: Option<(u32, usize)> = None;
        for (i, r) in records.iter().enumerate() {
            let at = match last {
                Some((tgid, at)) if tgid == r.tgid => at,
                _ => {
                    let next = self.processes.len();
                    let at = *self.index.entry(r.tgid).or_insert(next);
                    if at == next {
                        self.processes.push((r.tgid, ProcessAccum::default()));
                    }
                    at
                }
            };
            last = Some((r.tgid, at));
            self.processes[at].1.add_thread(i, r, self.keep_threads);
        }
    }
}

/// A walk's records for `processes` processes of `threads` threads each,
/// in the kernel's order (by thread id), as the records map would hold
/// them. For benchmarks of the decoding and grouping.
#[doc(hidden)]
pub fn synthetic_walk(processes: u32, threads: u32) -> Vec<u8> {
    let mut bytes = Vec::with_capacity((processes * threads) as usize * RECORD_SIZE);
    for p in 0..processes {
        let tgid = 1000 + p * threads;
        for t in 0..threads {
            let record = task_record {
                tid: tgid + t,
                tgid,
                record_flags: if t == 0 { REC_LEADER | REC_HAS_MM } else { 0 },
                state: 0x1,
                sum_exec_runtime: u64::from(p) * 1_000_000,
                utime: u64::from(p) * 3,
                stime: u64::from(p),
                nr_threads: threads,
                ..Default::default()
            };
            // SAFETY: task_record is plain old data of RECORD_SIZE bytes.
            let raw = unsafe {
                std::slice::from_raw_parts(
                    (&record as *const task_record).cast::<u8>(),
                    RECORD_SIZE,
                )
            };
            bytes.extend_from_slice(raw);
        }
    }
    bytes
}

#[allow(clippy::unwrap_used)]
#[cfg(test)]
mod tests {
    use super::*;

    fn record(tid: u32, tgid: u32) -> task_record {
        task_record {
            tid,
            tgid,
            record_flags: if tid == tgid {
                REC_LEADER | REC_HAS_MM
            } else {
                0
            },
            ..Default::default()
        }
    }

    fn bytes_of(records: &[task_record]) -> Vec<u8> {
        let mut out = Vec::new();
        for r in records {
            // SAFETY: task_record is plain old data of RECORD_SIZE bytes.
            let raw = unsafe {
                std::slice::from_raw_parts((r as *const task_record).cast::<u8>(), RECORD_SIZE)
            };
            out.extend_from_slice(raw);
        }
        out
    }

    #[test]
    fn threads_are_summed_into_their_process() {
        let mut leader = record(10, 10);
        leader.sum_exec_runtime = 100;
        leader.min_flt = 1;
        leader.rchar = 7;
        let mut t2 = record(11, 10);
        t2.sum_exec_runtime = 50;
        t2.min_flt = 2;
        t2.rchar = 3;
        t2.state = 0x1; // S
        let other = record(20, 20);
        // Thread 11 comes after another process's: it must still join 10.
        let buf = bytes_of(&[leader, other, t2]);
        let records = records(&buf);
        assert_eq!(records.len(), 3);
        let mut agg = Aggregator::new(true);
        agg.group(&records);
        let find = |pid| &agg.processes.iter().find(|(p, _)| *p == pid).unwrap().1;
        let p = find(10);
        assert_eq!(p.sum_exec_runtime, 150);
        assert_eq!(p.min_flt, 3);
        assert_eq!(p.io.rchar, 10);
        assert_eq!(p.thread_count, 2);
        assert_eq!(p.running_threads, 1);
        assert_eq!(p.threads.len(), 2);
        assert_eq!(p.leader, Some(0), "the leader's record index");
        assert_eq!(find(20).thread_count, 1);
        let order: Vec<u32> = agg.processes.iter().map(|(pid, _)| *pid).collect();
        assert_eq!(order, vec![10, 20], "in order of first appearance");
    }

    #[test]
    fn partial_records_are_left_unread() {
        let buf = bytes_of(&[record(1, 1), record(2, 2)]);
        assert_eq!(records(&buf[..RECORD_SIZE - 1]).len(), 0);
        assert_eq!(records(&buf[..2 * RECORD_SIZE - 1]).len(), 1);
    }

    #[test]
    fn misaligned_bytes_are_copied_not_misread() {
        let mut buf = vec![0u8];
        buf.extend(bytes_of(&[record(7, 7), record(8, 7)]));
        let records = records(&buf[1..]);
        assert_eq!(records.len(), 2);
        assert_eq!((records[1].tid, records[1].tgid), (8, 7));
    }

    #[test]
    fn comm_stops_at_nul_and_keeps_raw_bytes() {
        let mut comm = [0i8; 16];
        for (i, b) in b"a\x1b(b) \xff".iter().enumerate() {
            comm[i] = *b as i8;
        }
        assert_eq!(comm_bytes(&comm), b"a\x1b(b) \xff".to_vec());
        assert_eq!(
            comm_bytes(&[b'x' as i8; 16]).len(),
            16,
            "no NUL: all 16 bytes"
        );
    }
}
