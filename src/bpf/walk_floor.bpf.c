// SPDX-License-Identifier: GPL-2.0
/*
 * Walks that do nothing: walking the same tasks with them measures the
 * floor a task walk costs (the kernel's iteration alone), the yardstick
 * bpftop's own walk is benchmarked against. One per way bpftop walks
 * (see task_iter.bpf.c).
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

SEC("iter/task")
int visit_task(struct bpf_iter__task *ctx)
{
	return 0;
}

/* Weak, so that an object whose open-coded walk is not loaded still loads
 * on kernels before 6.7; there, calls to the missing kfuncs fail the
 * verifier, and userspace falls back to the iter/task walk. */
extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task,
			     unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __weak __ksym;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __weak __ksym;
extern void bpf_rcu_read_lock(void) __weak __ksym;
extern void bpf_rcu_read_unlock(void) __weak __ksym;

SEC("syscall")
int visit_all_tasks(void *ctx)
{
	struct bpf_iter_task it;

	/* Resolved at load time, no run-time cost: it makes the object carry
	 * task_struct's definition, without which libbpf finds our kfunc
	 * prototypes incompatible with the kernel's and leaves them unbound. */
	if (!bpf_core_type_exists(struct task_struct))
		return 1;
	bpf_rcu_read_lock();
	bpf_iter_task_new(&it, NULL, BPF_TASK_ITER_ALL_THREADS);
	while (bpf_iter_task_next(&it))
		;
	bpf_iter_task_destroy(&it);
	bpf_rcu_read_unlock();
	return 0;
}
