// SPDX-License-Identifier: GPL-2.0
/*
 * Processes that exit: one struct exit_record per thread group, written to
 * the `exits` ring buffer when its last thread exits, so that processes
 * living shorter than a refresh are seen too. Userspace drains the ring
 * once per refresh.
 *
 * The last thread is found three ways; the loader picks the first that
 * loads:
 *  1. tp_btf/sched_process_exit with its group_dead argument (kernels that
 *     pass it): exact;
 *  2. tp_btf/sched_process_exit, task only: the thread that finds
 *     signal->live at 0 (do_exit() decrements it before the tracepoint);
 *     two threads exiting at once may both find 0, so the `reported` map
 *     lets only the first report the process;
 *  3. raw_tp/sched_process_exit, the same with probe reads.
 *
 * Around the exit:
 *  - sched_process_exec sends the first BPFTOP_ARGV_LEN bytes of argv
 *    through the same ring (struct exec_argv), so a process gone before
 *    userspace could read /proc/PID/cmdline still has its command line;
 *    userspace pairs it with the exit record that follows;
 *  - the process the OOM killer chose is the one whose signal->oom_mm is
 *    set (mark_oom_victim() sets it for the signal struct's life): read at
 *    the exit, no hook or map of our own;
 *  - the network counters (net_maps.h) are read and deleted here, which is
 *    why the loader detaches the network object's own cleanup once this
 *    program runs.
 * Every map entry of a process is deleted at its exit, reported or not.
 *
 * Cost: this runs in every exiting process, so it touches as little shared
 * memory as it can. No counter is bumped per record (userspace counts what
 * it receives; only drops are counted), and records are submitted without
 * waking anyone while the ring is less than half full: userspace consumes
 * it at each refresh, and a reader that sleeps on it between refreshes is
 * woken only when a storm of exits fills it faster than that.
 *
 * After the exit: sched_process_free (tp_btf, or raw_tp with probe reads)
 * writes a small exit_final record with the group's final CPU time when
 * the leader's task_struct is freed. That happens only once the parent
 * reaped the process and the leader made its last switch (the task holds
 * an RCU reference for each, dropped by release_task() and by
 * finish_task_switch(); the free follows a grace period after both), so
 * the scheduler has accounted every nanosecond by then. The exit record
 * stays at sched_process_exit: a zombie nobody reaps is still reported.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "intf.h"
#include "net_maps.h"

char LICENSE[] SEC("license") = "GPL";

/* signal_struct.flags: the whole group is exiting (include/linux/sched/signal.h). */
#define SIGNAL_GROUP_EXIT 0x00000004

/* The network programs are attached and share net_by_tgid with us. */
const volatile bool read_net = false;
/* Bytes of records waiting in the ring above which a submit wakes the
 * reader (half the ring; set by the loader). */
const volatile __u64 wake_above = 1 << 20;

/* Never read: they make the compiler emit the flag enum and the ring's
 * items (which the ring buffer map cannot name) into the object's BTF,
 * from which the Rust side gets them. */
const volatile enum bpftop_exit_flag exit_flag_values = BPFTOP_EXIT_OOM_KILLED;
const volatile struct exit_record exit_record_layout;
const volatile struct exit_final exit_final_layout;
const volatile struct exec_argv exec_argv_layout;

/* Sized by the loader (a power of two, in bytes). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} exits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exit_stats);
} exit_stats SEC(".maps");

/* Processes already reported, where the tracepoint does not say which
 * thread is the last: tgid -> start_boottime. Old entries age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} reported SEC(".maps");

/* No wakeup unless the ring is filling up. */
static __always_inline __u64 submit_flags(void)
{
	return bpf_ringbuf_query(&exits, BPF_RB_AVAIL_DATA) > wake_above ? BPF_RB_FORCE_WAKEUP
									 : BPF_RB_NO_WAKEUP;
}

static __always_inline struct exit_stats *stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&exit_stats, &zero);
}

/* Whether this thread is the first to report process `tgid`. */
static __always_inline bool first_report(__u32 tgid, __u64 start)
{
	__u64 *seen = bpf_map_lookup_elem(&reported, &tgid);

	if (seen) {
		if (*seen == start)
			return false;
		*seen = start;
		return true;
	}
	/* NOEXIST: of two threads racing here, one inserts. */
	return bpf_map_update_elem(&reported, &tgid, &start, BPF_NOEXIST) == 0;
}

/* Direct loads, for tp_btf programs. */
#define R(p, f) ((p)->f)
#define READ_COMM(dst, t) __builtin_memcpy(dst, (t)->comm, sizeof(dst))
#define EMIT emit
#define ADD_THREAD add_thread
#define KEEP_ARGV keep_argv
#include "exit_emit.h"
#undef R
#undef READ_COMM
#undef EMIT
#undef ADD_THREAD
#undef KEEP_ARGV

/* Probe reads, for the raw tracepoint. */
#define R(p, f) BPF_CORE_READ(p, f)
#define READ_COMM(dst, t) bpf_core_read(dst, sizeof(dst), &(t)->comm)
#define EMIT emit_raw
#define ADD_THREAD add_thread_raw
#define KEEP_ARGV keep_argv_raw
#include "exit_emit.h"
#undef R
#undef READ_COMM
#undef EMIT
#undef ADD_THREAD
#undef KEEP_ARGV

/* 1. The kernel says whether this thread ends the group. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_group_dead, struct task_struct *task, bool group_dead)
{
	if (group_dead)
		emit(task, task->tgid);
	return 0;
}

/* 2. The thread that finds no live thread left. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_last_live, struct task_struct *task)
{
	__u32 tgid = task->tgid;

	if (task->signal->live.counter != 0)
		return 0;
	if (first_report(tgid, task->group_leader->start_boottime))
		emit(task, tgid);
	return 0;
}

/* 3. The same through a raw tracepoint (probe reads). */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(exit_raw, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);

	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	if (first_report(tgid, BPF_CORE_READ(task, group_leader, start_boottime)))
		emit_raw(task, tgid);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_btf)
{
	keep_argv(bpf_get_current_task_btf());
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(exec_raw)
{
	keep_argv_raw((struct task_struct *)bpf_get_current_task());
	return 0;
}

/* The group's CPU once its leader is freed: signal->sum_sched_runtime
 * holds every thread as release_task() added it, the leader included; the
 * leader's own counter is larger where it ran on after being released
 * (a process reaping itself, or reaped before its last switch). For a
 * single thread the larger is exact; with more threads, what the kernel
 * charged the parent (getrusage(RUSAGE_CHILDREN)). */
static __always_inline void emit_final(__u32 pid, __u64 start, __u64 group, __u64 own)
{
	struct exit_final *f = bpf_ringbuf_reserve(&exits, sizeof(*f), 0);

	if (!f) {
		struct exit_stats *st = stats();

		if (st)
			__sync_fetch_and_add(&st->finals_dropped, 1);
		return;
	}
	f->pid = pid;
	f->pad = 0;
	f->start_boottime = start;
	f->sum_exec_runtime = group > own ? group : own;
	bpf_ringbuf_submit(f, submit_flags());
}

/* Every task is freed here; only leaders (the last of a group to go)
 * are reported. */
SEC("tp_btf/sched_process_free")
int BPF_PROG(free_btf, struct task_struct *task)
{
	if (task->pid != task->tgid)
		return 0;
	emit_final(task->tgid, task->start_boottime, task->signal->sum_sched_runtime,
		   task->se.sum_exec_runtime);
	return 0;
}

SEC("raw_tp/sched_process_free")
int BPF_PROG(free_raw, struct task_struct *task)
{
	if (BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid))
		return 0;
	emit_final(BPF_CORE_READ(task, tgid), BPF_CORE_READ(task, start_boottime),
		   BPF_CORE_READ(task, signal, sum_sched_runtime),
		   BPF_CORE_READ(task, se.sum_exec_runtime));
	return 0;
}
