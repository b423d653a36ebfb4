// SPDX-License-Identifier: GPL-2.0
/*
 * An iter/task program that does nothing: walking the same tasks with it
 * measures the floor a task walk costs (the kernel's iteration alone), the
 * yardstick bpftop's own walk is benchmarked against.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("iter/task")
int visit_task(struct bpf_iter__task *ctx)
{
	return 0;
}
