// SPDX-License-Identifier: GPL-2.0
/*
 * One walk over every task (thread) of the system per refresh. Each task
 * becomes one fixed-size struct task_record, stored in the mmapable
 * `records` array; the seq_file only carries the final count, so a walk
 * costs userspace one read() to run it and one to see its end, however
 * many tasks there are. Userspace aggregates threads into processes.
 *
 * Only the thread-group leader reads the process-wide data (cred, signal,
 * mm, parent, cgroup): those are shared by all threads, and skipping them for
 * the others saves cache misses on every non-leader thread.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "intf.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD 0x00200000
#define MAX_CPUS 8192

/* Set by userspace before load. */
const volatile __u32 nr_cpu_ids = 1;
/* Sum the per-CPU parts of the RSS counters (>= 6.2) for exact values. */
const volatile bool precise_rss = true;

/*
 * Per-CPU offsets without kallsyms: a per-CPU array map's value for CPU c
 * lives at pptrs[0] + __per_cpu_offset[c], and the map gives us both that
 * absolute address (bpf_map_lookup_percpu_elem) and pptrs[0] (read from
 * the map itself). Kernels without KALLSYMS_ALL expose no per-CPU symbol.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} percpu_anchor SEC(".maps");

/* A pointer's numeric value; the verifier allows reading it into a scalar
 * (CAP_PERFMON) but not arithmetic on map pointers themselves. */
static __always_inline unsigned long address_of(const void *p)
{
	unsigned long a = 0;

	bpf_probe_read_kernel(&a, sizeof(a), &p);
	return a;
}

/* Offset of CPU `cpu`'s per-CPU area, or -1 when it cannot be found. */
static __always_inline long percpu_offset(__u32 cpu)
{
	struct bpf_array *array = (void *)address_of(&percpu_anchor);
	unsigned long base = 0;
	__u32 key = 0;
	void *copy;

	copy = bpf_map_lookup_percpu_elem(&percpu_anchor, &key, cpu);
	if (!copy)
		return -1;
	if (bpf_probe_read_kernel(&base, sizeof(base),
				  (void *)array + bpf_core_field_offset(struct bpf_array, pptrs)))
		return -1;
	return (long)(address_of(copy) - base);
}

/* Sized by the loader (a multiple of the current task count). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct task_record);
} records SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_state);
} walk SEC(".maps");

/* The record size as the C compiler laid it out; the loader checks that the
 * Rust view has the same size before trusting any record. */
const volatile __u32 record_size = sizeof(struct task_record);

static __always_inline __u32 task_state_word(struct task_struct *task)
{
	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state);
	struct task_struct___pre514 *old = (void *)task;
	return (__u32)BPF_CORE_READ(old, state);
}

static __always_inline __u32 task_cpu_number(struct task_struct *task)
{
	if (bpf_core_field_exists(task->thread_info.cpu))
		return BPF_CORE_READ(task, thread_info.cpu);
	struct task_struct___pre516 *old = (void *)task;
	return BPF_CORE_READ(old, cpu);
}

/* percpu_counter_sum(): the shared count plus every CPU's pending delta. */
static __always_inline void read_rss_post62(struct mm_struct *mm, struct task_record *rec)
{
	struct mm_struct___post62 *m = (void *)mm;
	__s64 file = BPF_CORE_READ(m, rss_stat[0].count);
	__s64 anon = BPF_CORE_READ(m, rss_stat[1].count);
	__s64 shmem = BPF_CORE_READ(m, rss_stat[3].count);
	if (precise_rss) {
		unsigned long pf = (unsigned long)BPF_CORE_READ(m, rss_stat[0].counters);
		unsigned long pa = (unsigned long)BPF_CORE_READ(m, rss_stat[1].counters);
		unsigned long ps = (unsigned long)BPF_CORE_READ(m, rss_stat[3].counters);

		for (__u32 cpu = 0; cpu < MAX_CPUS; cpu++) {
			long off;
			__s32 v;

			if (cpu >= nr_cpu_ids)
				break;
			off = percpu_offset(cpu);
			if (off == -1)
				break;
			v = 0;
			bpf_probe_read_kernel(&v, sizeof(v), (void *)(pf + off));
			file += v;
			v = 0;
			bpf_probe_read_kernel(&v, sizeof(v), (void *)(pa + off));
			anon += v;
			v = 0;
			bpf_probe_read_kernel(&v, sizeof(v), (void *)(ps + off));
			shmem += v;
		}
		rec->record_flags |= BPFTOP_REC_PRECISE_RSS;
	}
	rec->rss_file = file;
	rec->rss_anon = anon;
	rec->rss_shmem = shmem;
}

static __always_inline void read_rss_pre62(struct mm_struct *mm, struct task_record *rec)
{
	struct mm_struct___pre62 *m = (void *)mm;

	rec->rss_file = BPF_CORE_READ(m, rss_stat.count[0].counter);
	rec->rss_anon = BPF_CORE_READ(m, rss_stat.count[1].counter);
	rec->rss_shmem = BPF_CORE_READ(m, rss_stat.count[3].counter);
	/* Before 6.2 the count is exact up to the per-thread split-RSS cache,
	 * which /proc ignores as well. */
	rec->record_flags |= BPFTOP_REC_PRECISE_RSS;
}

static __always_inline void read_process(struct task_struct *task, struct task_record *rec)
{
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	struct tty_struct *tty;
	struct mm_struct *mm;

	rec->record_flags |= BPFTOP_REC_LEADER;
	rec->ppid = BPF_CORE_READ(task, real_parent, tgid);
	rec->uid = BPF_CORE_READ(task, real_cred, uid.val);
	rec->euid = BPF_CORE_READ(task, real_cred, euid.val);
	rec->exec_id = BPF_CORE_READ(task, self_exec_id);
	rec->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);

	rec->nr_threads = BPF_CORE_READ(sig, nr_threads);
	tty = BPF_CORE_READ(sig, tty);
	if (tty) {
		rec->tty_major = BPF_CORE_READ(tty, driver, major);
		rec->tty_minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
	}
	rec->dead_sum_exec_runtime = BPF_CORE_READ(sig, sum_sched_runtime);
	rec->dead_utime = BPF_CORE_READ(sig, utime);
	rec->dead_stime = BPF_CORE_READ(sig, stime);
	rec->dead_min_flt = BPF_CORE_READ(sig, min_flt);
	rec->dead_maj_flt = BPF_CORE_READ(sig, maj_flt);
	rec->dead_nvcsw = BPF_CORE_READ(sig, nvcsw);
	rec->dead_nivcsw = BPF_CORE_READ(sig, nivcsw);
	rec->dead_rchar = BPF_CORE_READ(sig, ioac.rchar);
	rec->dead_wchar = BPF_CORE_READ(sig, ioac.wchar);
	rec->dead_read_bytes = BPF_CORE_READ(sig, ioac.read_bytes);
	rec->dead_write_bytes = BPF_CORE_READ(sig, ioac.write_bytes);

	mm = BPF_CORE_READ(task, mm);
	if (!mm || (rec->task_flags & PF_KTHREAD))
		return;
	rec->record_flags |= BPFTOP_REC_HAS_MM;
	rec->total_vm = BPF_CORE_READ(mm, total_vm);
	if (bpf_core_type_exists(struct mm_rss_stat))
		read_rss_pre62(mm, rec);
	else
		read_rss_post62(mm, rec);
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct task_record *rec;
	struct walk_state *state;
	__u32 zero = 0, index;

	state = bpf_map_lookup_elem(&walk, &zero);
	if (!state)
		return 0;
	if (!task) {
		/* End of the walk: the only output of the seq_file. */
		bpf_seq_write(ctx->meta->seq, &state->count, sizeof(state->count));
		return 0;
	}
	index = state->count;
	rec = bpf_map_lookup_elem(&records, &index);
	if (!rec) {
		state->dropped++;
		return 0;
	}
	state->count = index + 1;
	__builtin_memset(rec, 0, sizeof(*rec));

	rec->tid = BPF_CORE_READ(task, pid);
	rec->tgid = BPF_CORE_READ(task, tgid);
	rec->task_flags = BPF_CORE_READ(task, flags);
	rec->state = task_state_word(task);
	rec->exit_state = BPF_CORE_READ(task, exit_state);
	rec->prio = BPF_CORE_READ(task, prio);
	rec->static_prio = BPF_CORE_READ(task, static_prio);
	rec->processor = task_cpu_number(task);
	rec->start_boottime = BPF_CORE_READ(task, start_boottime);
	rec->sum_exec_runtime = BPF_CORE_READ(task, se.sum_exec_runtime);
	rec->utime = BPF_CORE_READ(task, utime);
	rec->stime = BPF_CORE_READ(task, stime);
	rec->min_flt = BPF_CORE_READ(task, min_flt);
	rec->maj_flt = BPF_CORE_READ(task, maj_flt);
	rec->nvcsw = BPF_CORE_READ(task, nvcsw);
	rec->nivcsw = BPF_CORE_READ(task, nivcsw);
	rec->rchar = BPF_CORE_READ(task, ioac.rchar);
	rec->wchar = BPF_CORE_READ(task, ioac.wchar);
	rec->read_bytes = BPF_CORE_READ(task, ioac.read_bytes);
	rec->write_bytes = BPF_CORE_READ(task, ioac.write_bytes);
	BPF_CORE_READ_STR_INTO(&rec->comm, task, comm);

	if (rec->tid == rec->tgid)
		read_process(task, rec);
	return 0;
}
