// SPDX-License-Identifier: GPL-2.0
/*
 * The command lines of every process in one walk: for each thread-group
 * leader with an address space, a struct argv_record and its argv bytes,
 * written to the iterator's seq_file. Userspace runs it when many
 * processes need their command line at once (the first refresh), instead
 * of opening /proc/PID/cmdline for each.
 *
 * The argv area is read from the process's memory with
 * bpf_copy_from_user_task(), which may fault pages in and so needs a
 * sleepable iterator. What /proc/PID/cmdline shows is the area
 * [arg_start, arg_end) when its last byte is NUL; anything else (a title
 * written past the area's end by setproctitle(), an area longer than we
 * copy, a process still in its exec, a read that fails) is flagged for
 * userspace to read from /proc, which applies the kernel's own rules.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include "intf.h"

char LICENSE[] SEC("license") = "GPL";

/* The record layout as the C compiler sees it, checked by the loader. */
const volatile __u32 argv_record_size = sizeof(struct argv_record);
/* Never read: emits the flag enum into the object's BTF for Rust. */
const volatile enum bpftop_argv_flag argv_flag_values = BPFTOP_ARGV_FROM_PROC;

/* Room for one command line: larger than the BPF stack. */
struct argv_buf {
	char bytes[BPFTOP_ARGV_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct argv_buf);
} argv_scratch SEC(".maps");

SEC("iter.s/task")
int read_argvs(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct argv_record rec = {};
	struct argv_buf *buf;
	struct mm_struct *mm;
	unsigned long from, to;
	__u64 len;
	__u32 zero = 0;

	if (!task || task->pid != task->tgid || (task->flags & PF_KTHREAD))
		return 0;
	mm = task->mm;
	if (!mm)
		return 0;
	rec.pid = task->tgid;
	rec.start_boottime = task->start_boottime;
	rec.exec_id = task->self_exec_id;
	from = mm->arg_start;
	to = mm->arg_end;
	buf = bpf_map_lookup_elem(&argv_scratch, &zero);
	if (!buf || !mm->env_end || to <= from || to - from > BPFTOP_ARGV_MAX) {
		/* No buffer, mid-exec, or too long: /proc decides (an empty
		 * area is empty there too, but rare enough not to special-case). */
		rec.flags = BPFTOP_ARGV_FROM_PROC;
		bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
		return 0;
	}
	len = to - from;
	/* Bounded for the verifier; the check above already holds it. */
	if (len > BPFTOP_ARGV_MAX)
		len = BPFTOP_ARGV_MAX;
	if (bpf_copy_from_user_task(buf->bytes, len, (void *)from, task, 0) != 0 ||
	    buf->bytes[(len - 1) & (BPFTOP_ARGV_MAX - 1)] != 0) {
		rec.flags = BPFTOP_ARGV_FROM_PROC;
		bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
		return 0;
	}
	rec.len = len;
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	bpf_seq_write(ctx->meta->seq, buf->bytes, len);
	return 0;
}
