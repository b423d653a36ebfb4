// SPDX-License-Identifier: GPL-2.0
/*
 * One walk over every task (thread) of the system per refresh. Each task
 * becomes one fixed-size struct task_record, stored in the mmapable
 * `records` array, which userspace reads in place and aggregates into
 * processes.
 *
 * Two ways to walk, one record format:
 * - walk_tasks (kernel >= 6.7): one run of a syscall program, started with
 *   BPF_PROG_RUN, follows the kernel's task lists with the open-coded task
 *   iterator. Nothing per task but our own loads: no pid lookup, no
 *   reference taken, no seq_file. One syscall per walk.
 * - dump_task (iter/task, kernel >= 5.8): the task iterator calls us once
 *   per task, finding each by pid; the seq_file carries only the final
 *   count, so a walk costs userspace one read() to run it and one to see
 *   its end.
 * Threads of a process are contiguous in walk_tasks' order and in tid order
 * in dump_task's; userspace groups records by tgid either way.
 *
 * Fields are read with direct loads through the BTF-typed task pointer
 * (CO-RE-relocated, no helper call per field), which more than halves the
 * cost of a walk compared with bpf_probe_read_kernel for each field.
 *
 * Only the thread-group leader reads the process-wide data (cred, signal,
 * mm, parent, cgroup): those are shared by all threads, and skipping them for
 * the others saves cache misses on every non-leader thread.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "task_kfuncs.h"
#include "intf.h"
#include "net_maps.h"

char LICENSE[] SEC("license") = "GPL";

#define MAX_CPUS 8192

/* Set by userspace before load. */
const volatile __u32 nr_cpu_ids = 1;
/* Sum the per-CPU parts of the RSS counters (>= 6.2) for exact values. */
const volatile bool precise_rss = true;
/* The network programs are attached and share net_by_tgid with us. */
const volatile bool read_net = false;

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

/* Each CPU's per-CPU offset, found once per walk (at its first task). */
__u64 cpu_offsets[MAX_CPUS];
bool cpu_offsets_valid;

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

/* The names of kernel threads that comm cannot hold, indexed by
 * task_record.name_slot - 1; sized like `records` by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kthread_name);
} kthread_names SEC(".maps");

/* The record size as the C compiler laid it out; the loader checks that the
 * Rust view has the same size before trusting any record. */
const volatile __u32 record_size = sizeof(struct task_record);

/* Never read: they make the compiler emit intf.h's flag enums into the
 * object's BTF, from which Rust gets their values. */
const volatile enum bpftop_record_flag record_flag_values = BPFTOP_REC_LEADER;
const volatile enum bpftop_task_flag task_flag_values = PF_KTHREAD;

static __always_inline __u32 task_state_word(struct task_struct *task)
{
	if (bpf_core_field_exists(task->__state))
		return task->__state;
	return (__u32)((struct task_struct___pre514 *)task)->state;
}

static __always_inline __u32 task_cpu_number(struct task_struct *task)
{
	if (bpf_core_field_exists(task->thread_info.cpu))
		return task->thread_info.cpu;
	return ((struct task_struct___pre516 *)task)->cpu;
}

static __always_inline void find_cpu_offsets(void)
{
	cpu_offsets_valid = false;
	for (__u32 cpu = 0; cpu < MAX_CPUS; cpu++) {
		long off;

		if (cpu >= nr_cpu_ids)
			break;
		off = percpu_offset(cpu);
		if (off == -1)
			return;
		cpu_offsets[cpu] = off;
	}
	cpu_offsets_valid = true;
}

/* percpu_counter_sum(): the shared count plus every CPU's pending delta. */
static __always_inline void read_rss_post62(struct mm_struct *mm, struct task_record *rec)
{
	struct mm_struct___post62 *m = (void *)mm;
	__s64 file = m->rss_stat[0].count;
	__s64 anon = m->rss_stat[1].count;
	__s64 swap = m->rss_stat[2].count;
	__s64 shmem = m->rss_stat[3].count;

	if (precise_rss && cpu_offsets_valid) {
		/* Read as plain numbers: on kernels whose BTF tags them __percpu
		 * the verifier would refuse arithmetic on the typed pointers. */
		unsigned long pf = (unsigned long)BPF_CORE_READ(m, rss_stat[0].counters);
		unsigned long pa = (unsigned long)BPF_CORE_READ(m, rss_stat[1].counters);
		unsigned long pw = (unsigned long)BPF_CORE_READ(m, rss_stat[2].counters);
		unsigned long ps = (unsigned long)BPF_CORE_READ(m, rss_stat[3].counters);
		/* Since 6.7 an mm's counters share one per-CPU allocation, an
		 * s32 each in counter order (file, anon, swap, shmem): then one
		 * read per CPU fetches all four, a quarter of the helper calls. */
		bool packed = pa == pf + sizeof(__s32) && pw == pf + 2 * sizeof(__s32) &&
			      ps == pf + 3 * sizeof(__s32);

		for (__u32 cpu = 0; cpu < MAX_CPUS; cpu++) {
			unsigned long off;
			__s32 v;

			if (cpu >= nr_cpu_ids)
				break;
			off = cpu_offsets[cpu];
			if (packed) {
				__s32 all[4] = {};

				bpf_probe_read_kernel(all, sizeof(all), (void *)(pf + off));
				file += all[0];
				anon += all[1];
				swap += all[2];
				shmem += all[3];
				continue;
			}
			v = 0;
			bpf_probe_read_kernel(&v, sizeof(v), (void *)(pf + off));
			file += v;
			v = 0;
			bpf_probe_read_kernel(&v, sizeof(v), (void *)(pa + off));
			anon += v;
			v = 0;
			bpf_probe_read_kernel(&v, sizeof(v), (void *)(pw + off));
			swap += v;
			v = 0;
			bpf_probe_read_kernel(&v, sizeof(v), (void *)(ps + off));
			shmem += v;
		}
		rec->record_flags |= BPFTOP_REC_PRECISE_RSS;
	}
	rec->rss_file = file;
	rec->rss_anon = anon;
	rec->rss_shmem = shmem;
	rec->swap_ents = swap;
}

static __always_inline void read_rss_pre62(struct mm_struct *mm, struct task_record *rec)
{
	struct mm_struct___pre62 *m = (void *)mm;

	/* Probe reads, not direct loads: before 6.2 the verifier cannot walk
	 * into an array of atomic_long_t (a typedef of a struct) and rejects
	 * the direct load with "Type 'atomic_long_t' is not a struct". */
	rec->rss_file = BPF_CORE_READ(m, rss_stat.count[0].counter);
	rec->rss_anon = BPF_CORE_READ(m, rss_stat.count[1].counter);
	rec->rss_shmem = BPF_CORE_READ(m, rss_stat.count[3].counter);
	rec->swap_ents = BPF_CORE_READ(m, rss_stat.count[2].counter);
	/* Before 6.2 the count is exact up to the per-thread split-RSS cache,
	 * which /proc ignores as well. */
	rec->record_flags |= BPFTOP_REC_PRECISE_RSS;
}

static __always_inline void read_net_counters(struct task_struct *task, struct task_record *rec)
{
	__u32 tgid = task->tgid;
	struct net_counters *c;

	if (!net_maybe_counted(tgid))
		return;
	c = bpf_map_lookup_elem(&net_by_tgid, &tgid);

	/* An entry of an earlier process with this tgid is not ours. */
	if (!c || c->start_boottime != task->start_boottime)
		return;
	rec->net_rx_bytes = c->rx_bytes;
	rec->net_tx_bytes = c->tx_bytes;
	rec->net_iface = c->iface;
}

/* Run-queue waits and stall totals of one thread, where the kernel keeps
 * them: sched_info needs CONFIG_SCHED_INFO, delays CONFIG_TASK_DELAY_ACCT
 * (allocated for every task, but only filled while task_delayacct is 1). */
static __always_inline void read_waits(struct task_struct *task, struct task_record *rec,
				       bool read_delays)
{
	struct task_delay_info *d;

	if (bpf_core_field_exists(task->sched_info)) {
		rec->run_delay = task->sched_info.run_delay;
		rec->run_count = task->sched_info.pcount;
		rec->record_flags |= BPFTOP_REC_SCHED_INFO;
	}
	if (!read_delays || !bpf_core_field_exists(task->delays))
		return;
	d = task->delays;
	if (!d)
		return;
	rec->blkio_delay = d->blkio_delay;
	rec->swapin_delay = d->swapin_delay;
	rec->reclaim_delay = d->freepages_delay;
	if (bpf_core_field_exists(d->thrashing_delay))
		rec->thrashing_delay = d->thrashing_delay;
	if (bpf_core_field_exists(d->compact_delay))
		rec->compact_delay = d->compact_delay;
	rec->record_flags |= BPFTOP_REC_DELAYS;
}

/* The exited threads' totals (taskstats' tgid aggregate), if any. */
static __always_inline void read_dead_waits(struct signal_struct *sig, struct task_record *rec)
{
	struct taskstats *st;

	if (!bpf_core_field_exists(sig->stats))
		return;
	st = sig->stats;
	if (!st)
		return;
	rec->dead_run_delay = st->cpu_delay_total;
	rec->dead_run_count = st->cpu_count;
	rec->dead_blkio_delay = st->blkio_delay_total;
	rec->dead_swapin_delay = st->swapin_delay_total;
	rec->dead_reclaim_delay = st->freepages_delay_total;
	if (bpf_core_field_exists(st->thrashing_delay_total))
		rec->dead_thrashing_delay = st->thrashing_delay_total;
	if (bpf_core_field_exists(st->compact_delay_total))
		rec->dead_compact_delay = st->compact_delay_total;
}

static __always_inline void read_process(struct task_struct *task, struct task_record *rec)
{
	struct signal_struct *sig = task->signal;
	struct tty_struct *tty;
	struct mm_struct *mm;

	rec->record_flags |= BPFTOP_REC_LEADER;
	rec->ppid = task->real_parent->tgid;
	rec->uid = task->real_cred->uid.val;
	rec->euid = task->real_cred->euid.val;
	rec->exec_id = task->self_exec_id;
	rec->cgroup_id = task->cgroups->dfl_cgrp->kn->id;

	rec->nr_threads = sig->nr_threads;
	tty = sig->tty;
	if (tty) {
		rec->tty_major = tty->driver->major;
		rec->tty_minor = tty->driver->minor_start + tty->index;
	}
	rec->dead_sum_exec_runtime = sig->sum_sched_runtime;
	rec->dead_utime = sig->utime;
	rec->dead_stime = sig->stime;
	rec->dead_min_flt = sig->min_flt;
	rec->dead_maj_flt = sig->maj_flt;
	rec->dead_rchar = sig->ioac.rchar;
	rec->dead_wchar = sig->ioac.wchar;
	rec->dead_read_bytes = sig->ioac.read_bytes;
	rec->dead_write_bytes = sig->ioac.write_bytes;
	read_dead_waits(sig, rec);
	if (read_net)
		read_net_counters(task, rec);

	mm = task->mm;
	if (!mm || (rec->task_flags & PF_KTHREAD))
		return;
	rec->record_flags |= BPFTOP_REC_HAS_MM;
	rec->total_vm = mm->total_vm;
	if (bpf_core_type_exists(struct mm_rss_stat))
		read_rss_pre62(mm, rec);
	else
		read_rss_post62(mm, rec);
}

/* A kernel thread's struct kthread (to_kthread()), or NULL. */
static __always_inline struct kthread *kthread_of(struct task_struct *task)
{
	if (bpf_core_field_exists(task->worker_private))
		return task->worker_private;
	return (void *)BPF_CORE_READ((struct task_struct___pre517 *)task, set_child_tid);
}

/* Whether comm starts with "kworker/R-": a rescuer named the way kernels
 * (>= 6.9) name them whose /proc name is the full one; older kernels name a
 * rescuer after its workqueue and show its comm. */
static __always_inline bool is_named_rescuer(const char *comm)
{
	const char prefix[] = "kworker/R-";

	for (int i = 0; i < sizeof(prefix) - 1; i++)
		if (comm[i] != prefix[i])
			return false;
	return true;
}

/*
 * The name /proc shows for a kernel thread (proc_task_name): its full name
 * when comm had to cut it (a workqueue worker's only where it is a
 * "kworker/R-" rescuer), and for a worker in a pool "+desc" while it runs a
 * work item, "-desc" after, where desc names the workqueue. Written to
 * kthread_names only when it differs from comm.
 */
static __always_inline void record_kthread_name(struct task_struct *task,
						struct task_record *rec,
						struct walk_state *state)
{
	struct kthread *kt = kthread_of(task);
	bool worker = rec->task_flags & PF_WQ_WORKER;
	struct kthread_name *out;
	char desc[32] = {};
	char *full = NULL;
	struct worker *w = NULL;
	__u32 slot;
	long len;

	if (!kt)
		return;
	if (bpf_core_field_exists(kt->full_name) && (!worker || is_named_rescuer(rec->comm)))
		full = BPF_CORE_READ(kt, full_name);
	if (worker) {
		w = BPF_CORE_READ(kt, data);
		/* A worker outside any pool (an idle rescuer) shows no desc. */
		if (w && BPF_CORE_READ(w, pool))
			BPF_CORE_READ_STR_INTO(&desc, w, desc);
	}
	if (!full && !desc[0])
		return;
	slot = state->names;
	out = bpf_map_lookup_elem(&kthread_names, &slot);
	if (!out)
		return;
	if (full)
		len = bpf_probe_read_kernel_str(out->name, sizeof(out->name), full);
	else
		len = bpf_probe_read_kernel_str(out->name, sizeof(rec->comm), rec->comm);
	if (len < 1)
		return;
	if (desc[0]) {
		/* Append at the NUL: '+' or '-', then as much of desc as fits
		 * before the last byte, which stays NUL. A byte loop: the
		 * verifier cannot bound a string read at a variable offset. */
		__u32 at = len - 1;

		if (at > BPFTOP_NAME_LEN - 2)
			goto done;
		barrier_var(at);
		out->name[at & (BPFTOP_NAME_LEN - 1)] = BPF_CORE_READ(w, current_work) ? '+' : '-';
		for (__u32 i = 0; i < sizeof(desc); i++) {
			__u32 to = at + 1 + i;

			if (to >= BPFTOP_NAME_LEN - 1)
				break;
			/* Hide the range from the compiler so that the mask
			 * stays and the verifier sees every store bounded. */
			barrier_var(to);
			out->name[to & (BPFTOP_NAME_LEN - 1)] = desc[i];
			if (!desc[i])
				break;
		}
		out->name[BPFTOP_NAME_LEN - 1] = 0;
	}
done:
	rec->name_slot = slot + 1;
	state->names = slot + 1;
}

/* Writes `task`'s record at the end of the walk so far. */
static __always_inline void record_task(struct task_struct *task, struct walk_state *state)
{
	struct task_record *rec;
	__u32 index = state->count;

	/* The idle task (swapper/0, where the open-coded walk starts) is no
	 * process: /proc never lists PID 0. */
	if (task->pid == 0)
		return;
	rec = bpf_map_lookup_elem(&records, &index);
	if (!rec) {
		state->dropped++;
		return;
	}
	state->count = index + 1;
	__builtin_memset(rec, 0, sizeof(*rec));

	rec->tid = task->pid;
	rec->tgid = task->tgid;
	rec->task_flags = task->flags;
	rec->state = task_state_word(task);
	rec->exit_state = task->exit_state;
	rec->prio = task->prio;
	rec->static_prio = task->static_prio;
	rec->processor = task_cpu_number(task);
	rec->start_boottime = task->start_boottime;
	rec->sum_exec_runtime = task->se.sum_exec_runtime;
	rec->utime = task->utime;
	rec->stime = task->stime;
	rec->min_flt = task->min_flt;
	rec->maj_flt = task->maj_flt;
	rec->nvcsw = task->nvcsw;
	rec->nivcsw = task->nivcsw;
	rec->rchar = task->ioac.rchar;
	rec->wchar = task->ioac.wchar;
	rec->read_bytes = task->ioac.read_bytes;
	rec->write_bytes = task->ioac.write_bytes;
	__builtin_memcpy(rec->comm, task->comm, sizeof(rec->comm));
	read_waits(task, rec, state->read_delays);

	if (rec->tid == rec->tgid) {
		read_process(task, rec);
		if (rec->task_flags & PF_KTHREAD)
			record_kthread_name(task, rec, state);
	}
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct walk_state *state;
	__u32 zero = 0;

	state = bpf_map_lookup_elem(&walk, &zero);
	if (!state)
		return 0;
	if (!task) {
		/* End of the walk: the only output of the seq_file. */
		bpf_seq_write(ctx->meta->seq, &state->count, sizeof(state->count));
		return 0;
	}
	if (state->count == 0 && precise_rss)
		find_cpu_offsets();
	record_task(task, state);
	return 0;
}

/* One task of the open-coded walk. Global, so the verifier checks it once,
 * on its own; inline, it checks the loop body once per pass over the loop
 * until the loop's states converge, a dozen passes and most of a second of
 * start-up. The iterator's tasks are RCU pointers, which only an untrusted
 * argument (arg:untrusted, recent kernels) takes; where the kernel refuses
 * the tag, walk_tasks_inline loads instead. */
__noinline int walk_one(struct task_struct *task __arg_untrusted)
{
	struct walk_state *state;
	__u32 zero = 0;

	state = bpf_map_lookup_elem(&walk, &zero);
	if (state)
		record_task(task, state);
	return 0;
}

/* The open-coded walk, its body global or inline (a constant). */
static __always_inline int walk_all(bool global_body)
{
	struct task_struct *task;
	struct bpf_iter_task it;
	struct walk_state *state;
	__u32 zero = 0;

	state = bpf_map_lookup_elem(&walk, &zero);
	if (!state)
		return 1; /* cannot happen: a one-entry array */
	state->count = 0;
	state->dropped = 0;
	state->names = 0;
	if (precise_rss)
		find_cpu_offsets();
	/* The task lists are RCU-protected: every task we reach stays valid
	 * until the unlock, exiting or not. */
	bpf_rcu_read_lock();
	bpf_iter_task_new(&it, NULL, BPF_TASK_ITER_ALL_THREADS);
	while ((task = bpf_iter_task_next(&it))) {
		if (global_body)
			walk_one(task);
		else
			record_task(task, state);
	}
	bpf_iter_task_destroy(&it);
	bpf_rcu_read_unlock();
	return 0;
}

/* Need the kfuncs of kernel 6.7: on older kernels neither loads, and
 * userspace falls back to dump_task. */
SEC("syscall")
int walk_tasks(void *ctx)
{
	return walk_all(true);
}

SEC("syscall")
int walk_tasks_inline(void *ctx)
{
	return walk_all(false);
}
