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
#include "task_kfuncs.h"

char LICENSE[] SEC("license") = "GPL";

SEC("iter/task")
int visit_task(struct bpf_iter__task *ctx)
{
	return 0;
}

SEC("syscall")
int visit_all_tasks(void *ctx)
{
	struct bpf_iter_task it;

	/* Resolved at load time, no run-time cost: it makes the object carry
	 * task_struct's definition (see task_kfuncs.h). */
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
