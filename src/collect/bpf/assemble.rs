//! Record assembly: a walk's records, grouped by process, into the sample's
//! processes and thread counts, with /proc's semantics. Pure: what needs a
//! file or a map (argv, cgroup path, interface name) and what outlives a
//! refresh (the last counters) is handed in by the caller.

use std::sync::Arc;

use rustc_hash::FxHashSet;

use super::monotonic::{never_backwards, Counters};
use super::record::{add_waits, dead_waits, shown_name, ProcessAccum};
use super::skel::task_iter::types::task_record;
use crate::collect::sample::{Argv, IoCounters, MemoryParts, NetCounters, ProcessSample, Sample};
use crate::collect::state::state_letter;

/// The parts of a process's sample that come from outside the records.
pub struct Resolved {
    pub cmdline: Argv,
    pub cgroup: Option<Arc<str>>,
    pub net: Option<NetCounters>,
}

/// The counters to report for a process: its live threads' sums plus the
/// exited threads' totals the leader carries, never below `previous` (what
/// was reported for it last refresh).
pub fn counters(
    previous: Option<&Counters>,
    accum: &ProcessAccum,
    leader: &task_record,
) -> Counters {
    never_backwards(
        previous,
        accum.sum_exec_runtime + leader.dead_sum_exec_runtime,
        accum.utime + leader.dead_utime,
        accum.stime + leader.dead_stime,
        Counters {
            utime_ns: 0,
            stime_ns: 0,
            minflt: accum.min_flt + leader.dead_min_flt,
            majflt: accum.maj_flt + leader.dead_maj_flt,
            io: IoCounters {
                rchar: accum.io.rchar + leader.dead_rchar,
                wchar: accum.io.wchar + leader.dead_wchar,
                read_bytes: accum.io.read_bytes + leader.dead_read_bytes,
                write_bytes: accum.io.write_bytes + leader.dead_write_bytes,
            },
            waits: add_waits(accum.waits, dead_waits(leader, accum.waits)),
        },
    )
}

/// (resident, shared, virtual) bytes of the leader's address space; zero
/// without one.
fn memory(leader: &task_record, page: u64) -> (u64, u64, u64) {
    let Some(p) = counter_pages(leader) else {
        return (0, 0, 0);
    };
    // Saturating: an address space torn down mid-walk may read as
    // garbage, which must not overflow.
    (
        p.file
            .saturating_add(p.anon)
            .saturating_add(p.shmem)
            .saturating_mul(page),
        p.file.saturating_add(p.shmem).saturating_mul(page),
        leader.total_vm.saturating_mul(page),
    )
}

/// The leader's memory counters in pages, each clamped at zero as /proc
/// clamps them (get_mm_counter()); None without an address space.
struct CounterPages {
    file: u64,
    anon: u64,
    shmem: u64,
    swap: u64,
}

fn counter_pages(leader: &task_record) -> Option<CounterPages> {
    if !ProcessAccum::has_mm(leader) {
        return None;
    }
    let pages = |v: i64| v.max(0) as u64;
    Some(CounterPages {
        file: pages(leader.rss_file),
        anon: pages(leader.rss_anon),
        shmem: pages(leader.rss_shmem),
        swap: pages(leader.swap_ents),
    })
}

/// RssAnon, RssFile, RssShmem and VmSwap of /proc/PID/status, in bytes.
fn memory_parts(leader: &task_record, page: u64) -> MemoryParts {
    let Some(p) = counter_pages(leader) else {
        return MemoryParts::default();
    };
    MemoryParts {
        anon_bytes: p.anon.saturating_mul(page),
        file_bytes: p.file.saturating_mul(page),
        shmem_bytes: p.shmem.saturating_mul(page),
        swap_bytes: p.swap.saturating_mul(page),
    }
}

/// The sample of process `pid` from its accumulation and its leader's
/// record; `names` holds the walk's kthread_names entries.
pub fn process_sample(
    pid: u32,
    accum: ProcessAccum,
    leader: &task_record,
    names: &[u8],
    page: u64,
    counters: Counters,
    resolved: Resolved,
) -> ProcessSample {
    let (rss, shared, virt) = memory(leader, page);
    ProcessSample {
        pid,
        ppid: leader.ppid,
        uid: leader.uid,
        euid: leader.euid,
        state: state_letter(leader.state, leader.exit_state),
        comm: shown_name(leader, names),
        cmdline: resolved.cmdline,
        nice: leader.static_prio - 120,
        priority: leader.prio - 100,
        threads: leader.nr_threads,
        processor: leader.processor,
        tty_nr: encode_tty(leader.tty_major, leader.tty_minor),
        start_time_ns: leader.start_boottime,
        utime_ns: counters.utime_ns,
        stime_ns: counters.stime_ns,
        rss_bytes: rss,
        shared_bytes: shared,
        virt_bytes: virt,
        memory: memory_parts(leader, page),
        rollup: None,
        minflt: counters.minflt,
        majflt: counters.majflt,
        // /proc/PID/status counts the leader's own switches only.
        nvcsw: leader.nvcsw,
        nivcsw: leader.nivcsw,
        io: Some(counters.io),
        net: resolved.net,
        io_priority: None,
        cgroup: resolved.cgroup,
        kernel_thread: ProcessAccum::is_kernel_thread(leader),
        thread_list: accum.threads,
        waits: counters.waits,
    }
}

/// new_encode_dev(MKDEV(major, minor)), the form /proc/PID/stat's tty_nr has.
fn encode_tty(major: u32, minor: u32) -> u32 {
    if major == 0 && minor == 0 {
        return 0;
    }
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

/// Processes already built whose space in the grouping is given back at a
/// time (none on a machine with fewer).
const RELEASE_STEP: usize = (1 << 20) / std::mem::size_of::<(u32, ProcessAccum)>();

/// Moves the grouped `processes` into `sample` in pid order, each built by
/// `build` from its accumulation and its leader's record, and counts the
/// sample's threads; the cgroup ids of the processes kept go into
/// `live_cgroups`. A process without a leader record (exiting mid-walk) is
/// left out, though its running threads still count.
pub fn processes(
    processes: &mut Vec<(u32, ProcessAccum)>,
    records: &[task_record],
    sample: &mut Sample,
    live_cgroups: &mut FxHashSet<u64>,
    mut build: impl FnMut(u32, ProcessAccum, &task_record) -> ProcessSample,
) {
    let mut last_cgroup = None;
    // In pid order, as the memo's merge needs and the sample promises,
    // taken from the end of `processes`, whose space is given back as the
    // sample grows (at 30 000 processes the two are 7 and 14 MB). The
    // walk's order is nearly ascending already (creation order, or tid
    // order), which the stable sort's run detection makes cheap.
    processes.sort_by_key(|(pid, _)| std::cmp::Reverse(*pid));
    while let Some((pid, accum)) = processes.pop() {
        if processes.capacity() - processes.len() >= RELEASE_STEP {
            processes.shrink_to_fit();
        }
        sample.running_threads += accum.running_threads;
        let threads = accum.thread_count;
        let Some(leader) = accum.leader.map(|i| &records[i]) else {
            continue;
        };
        // Neighbours mostly share a cgroup: skip the repeats.
        if last_cgroup != Some(leader.cgroup_id) {
            live_cgroups.insert(leader.cgroup_id);
            last_cgroup = Some(leader.cgroup_id);
        }
        let p = build(pid, accum, leader);
        if p.kernel_thread {
            sample.kernel_threads += 1;
        } else {
            sample.user_threads += threads;
        }
        sample.processes.push(p);
    }
}

#[allow(clippy::unwrap_used)]
#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::bpf::record::{Aggregator, NAME_SIZE, PF_KTHREAD, REC_HAS_MM, REC_LEADER};
    use crate::collect::sample::BackendKind;

    /// A sleeping thread of a user process; the leader when `tid == tgid`.
    fn thread(tid: u32, tgid: u32) -> task_record {
        task_record {
            tid,
            tgid,
            state: 0x1,
            record_flags: if tid == tgid {
                REC_LEADER | REC_HAS_MM
            } else {
                0
            },
            ..Default::default()
        }
    }

    fn resolved() -> Resolved {
        Resolved {
            cmdline: Argv::from(vec![b"prog".to_vec()]),
            cgroup: None,
            net: None,
        }
    }

    fn empty_sample() -> Sample {
        Sample {
            backend: BackendKind::Bpf,
            boottime_ns: 0,
            unix_time: 0.0,
            system: Default::default(),
            processes: Vec::new(),
            user_threads: 0,
            kernel_threads: 0,
            running_threads: 0,
            cgroups: Default::default(),
            network: Default::default(),
            gpu: Default::default(),
            gpu_status: Default::default(),
            exits: Default::default(),
        }
    }

    /// Groups `records` and assembles them as a refresh does, with no
    /// previous counters.
    fn assemble(records: &[task_record]) -> (Sample, FxHashSet<u64>) {
        let mut agg = Aggregator::new(false);
        agg.group(records);
        let mut sample = empty_sample();
        let mut live = FxHashSet::default();
        processes(
            &mut agg.processes,
            records,
            &mut sample,
            &mut live,
            |pid, accum, leader| {
                let counters = counters(None, &accum, leader);
                process_sample(pid, accum, leader, &[], 4096, counters, resolved())
            },
        );
        (sample, live)
    }

    #[test]
    fn leader_fields_become_proc_values() {
        let mut leader = thread(42, 42);
        leader.ppid = 1;
        leader.uid = 1000;
        leader.euid = 0;
        leader.static_prio = 125;
        leader.prio = 120;
        leader.nr_threads = 3;
        leader.tty_major = 136;
        leader.tty_minor = 3;
        leader.start_boottime = 99;
        leader.nvcsw = 5;
        leader.rss_file = 2;
        leader.rss_anon = 3;
        leader.rss_shmem = 1;
        leader.swap_ents = 7;
        leader.total_vm = 10;
        leader.comm[..4].copy_from_slice(&[b'b' as i8, b'a' as i8, b's' as i8, b'h' as i8]);
        let (sample, _) = assemble(&[leader]);
        let p = &sample.processes[0];
        assert_eq!((p.pid, p.ppid, p.uid, p.euid), (42, 1, 1000, 0));
        assert_eq!((p.nice, p.priority), (5, 20));
        assert_eq!(p.threads, 3);
        assert_eq!(p.tty_nr, 0x8803, "pts/3");
        assert_eq!(p.start_time_ns, 99);
        assert_eq!(p.nvcsw, 5);
        assert_eq!(p.comm, b"bash".to_vec());
        assert_eq!(p.rss_bytes, 6 * 4096);
        assert_eq!(p.shared_bytes, 3 * 4096);
        assert_eq!(p.virt_bytes, 10 * 4096);
        assert_eq!(
            p.memory,
            MemoryParts {
                anon_bytes: 3 * 4096,
                file_bytes: 2 * 4096,
                shmem_bytes: 4096,
                swap_bytes: 7 * 4096,
            }
        );
        assert!(!p.kernel_thread);
        assert_eq!(&*p.cmdline, &[b"prog".to_vec()]);
    }

    #[test]
    fn memory_counters_are_clamped_and_need_an_address_space() {
        let mut leader = thread(7, 7);
        leader.rss_file = -5;
        leader.rss_anon = 4;
        leader.rss_shmem = -1;
        leader.swap_ents = -2;
        assert_eq!(memory(&leader, 4096).0, 4 * 4096);
        assert_eq!(memory(&leader, 4096).1, 0);
        assert_eq!(
            memory_parts(&leader, 4096),
            MemoryParts {
                anon_bytes: 4 * 4096,
                ..MemoryParts::default()
            }
        );
        leader.rss_anon = i64::MAX;
        leader.total_vm = u64::MAX;
        assert_eq!(memory(&leader, 4096), (u64::MAX, 0, u64::MAX));
        leader.swap_ents = i64::MAX;
        assert_eq!(memory_parts(&leader, 4096).swap_bytes, u64::MAX);
        leader.record_flags &= !REC_HAS_MM;
        assert_eq!(memory(&leader, 4096), (0, 0, 0));
        assert_eq!(memory_parts(&leader, 4096), MemoryParts::default());
    }

    #[test]
    fn exited_threads_totals_are_added_and_never_go_back() {
        let mut leader = thread(10, 10);
        leader.sum_exec_runtime = 100;
        leader.utime = 1;
        leader.dead_sum_exec_runtime = 50;
        leader.dead_utime = 1;
        leader.min_flt = 2;
        leader.dead_min_flt = 3;
        leader.rchar = 4;
        leader.dead_rchar = 6;
        let mut agg = Aggregator::new(false);
        agg.group(&[leader]);
        let accum = &agg.processes[0].1;
        let now = counters(None, accum, &leader);
        assert_eq!(now.utime_ns + now.stime_ns, 150);
        assert_eq!(now.minflt, 5);
        assert_eq!(now.io.rchar, 10);
        let higher = Counters {
            utime_ns: 200,
            minflt: 9,
            ..now
        };
        let again = counters(Some(&higher), accum, &leader);
        assert_eq!(again.utime_ns, 200);
        assert_eq!(again.minflt, 9);
    }

    #[test]
    fn processes_come_in_pid_order_with_their_thread_counts() {
        let mut kthread = thread(2, 2);
        kthread.task_flags = PF_KTHREAD;
        kthread.record_flags = REC_LEADER;
        kthread.cgroup_id = 1;
        let mut leader = thread(300, 300);
        leader.cgroup_id = 9;
        let mut worker = thread(301, 300);
        worker.state = 0; // running
                          // A process whose leader record is missing (exiting mid-walk).
        let mut orphan = thread(401, 400);
        orphan.state = 0;
        let (sample, live) = assemble(&[leader, orphan, worker, kthread]);
        let pids: Vec<u32> = sample.processes.iter().map(|p| p.pid).collect();
        assert_eq!(pids, vec![2, 300]);
        assert!(sample.processes[0].kernel_thread);
        assert_eq!(sample.processes[0].rss_bytes, 0, "no address space");
        assert_eq!(sample.kernel_threads, 1);
        assert_eq!(sample.user_threads, 2);
        assert_eq!(sample.running_threads, 2, "the orphan's thread runs too");
        assert_eq!(live, FxHashSet::from_iter([1, 9]));
    }

    #[test]
    fn a_kernel_threads_long_name_comes_from_its_slot() {
        let mut kthread = thread(3, 3);
        kthread.task_flags = PF_KTHREAD;
        kthread.name_slot = 2;
        let mut names = vec![0u8; 2 * NAME_SIZE];
        names[NAME_SIZE..NAME_SIZE + 9].copy_from_slice(b"kworker/x");
        let mut agg = Aggregator::new(false);
        agg.group(&[kthread]);
        let (pid, accum) = agg.processes.pop().unwrap();
        let counters = counters(None, &accum, &kthread);
        let p = process_sample(pid, accum, &kthread, &names, 4096, counters, resolved());
        assert_eq!(p.comm, b"kworker/x".to_vec());
        assert!(p.kernel_thread);
    }

    #[test]
    fn tty_numbers_are_encoded_as_proc_does() {
        assert_eq!(encode_tty(0, 0), 0);
        assert_eq!(encode_tty(4, 1), 0x401);
        assert_eq!(encode_tty(136, 300), 0x2c | (136 << 8) | (0x100 << 12));
    }
}
