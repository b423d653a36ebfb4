// SPDX-License-Identifier: GPL-2.0
/*
 * Finds the open files of DRM devices (GPUs) in one walk over every
 * process's file table, so that userspace reads fdinfo of those fds only
 * instead of listing /proc/PID/fd of every process. Threads sharing their
 * leader's file table are skipped by the kernel. The walk touches every
 * open file of the system, so userspace runs it far less often than the
 * task walk.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include "intf.h"

char LICENSE[] SEC("license") = "GPL";

#define S_IFMT 00170000
#define S_IFCHR 0020000
#define DRM_MAJOR 226
#define MINORBITS 20

/* The record layout as the C compiler sees it, checked by the loader. */
const volatile __u32 drm_record_size = sizeof(struct drm_fd_record);

SEC("iter/task_file")
int find_drm_fds(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct task_struct *task = ctx->task;
	struct drm_fd_record rec = {};
	struct inode *inode;
	__u32 rdev;

	if (!file || !task)
		return 0;
	inode = file->f_inode;
	if (!inode || (inode->i_mode & S_IFMT) != S_IFCHR)
		return 0;
	rdev = inode->i_rdev;
	if ((rdev >> MINORBITS) != DRM_MAJOR)
		return 0;
	rec.tgid = task->tgid;
	rec.fd = ctx->fd;
	rec.minor = rdev & ((1U << MINORBITS) - 1);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}
