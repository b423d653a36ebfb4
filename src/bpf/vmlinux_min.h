/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel types bpftop's BPF programs read, declared with
 * preserve_access_index so that every field access is a CO-RE relocation:
 * libbpf resolves each field by name against the running kernel's BTF, so no
 * offset here is ever used as-is. Only the fields we read are declared; their
 * C types match the kernel's so loads have the right width.
 *
 * Layouts that changed across kernel versions are declared as "flavors"
 * (struct foo___suffix); libbpf strips the suffix when matching, and the
 * program picks the flavor that exists with bpf_core_field_exists() /
 * bpf_core_type_exists().
 */
#ifndef BPFTOP_VMLINUX_MIN_H
#define BPFTOP_VMLINUX_MIN_H
/* Tells libbpf's bpf_tracing.h to use the kernel's pt_regs field names. */
#define __VMLINUX_H__

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
enum { false = 0, true = 1 };
typedef int pid_t;
typedef unsigned int uid_t;

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
};

enum {
	BPF_F_NO_PREALLOC = (1U << 0),
	BPF_F_MMAPABLE = (1U << 10),
};

/* bpf_ringbuf_submit() flags and bpf_ringbuf_query() items. */
enum {
	BPF_RB_NO_WAKEUP = (1ULL << 0),
	BPF_RB_FORCE_WAKEUP = (1ULL << 1),
};

enum {
	BPF_RB_AVAIL_DATA = 0,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

typedef struct {
	uid_t val;
} kuid_t;

typedef struct {
	long counter;
} atomic_long_t;

typedef struct {
	int counter;
} atomic_t;

struct cred {
	kuid_t uid;
	kuid_t euid;
};

struct task_io_accounting {
	__u64 rchar;
	__u64 wchar;
	__u64 read_bytes;
	__u64 write_bytes;
};

struct tty_driver {
	int major;
	int minor_start;
};

struct tty_struct {
	struct tty_driver *driver;
	int index;
};

struct signal_struct {
	atomic_t live; /* threads not yet past do_exit()'s group-exit check */
	int nr_threads;
	struct tty_struct *tty;
	__u64 utime;
	__u64 stime;
	unsigned long min_flt;
	unsigned long maj_flt;
	unsigned long long sum_sched_runtime;
	struct task_io_accounting ioac;
	struct taskstats *stats;
	unsigned int flags;   /* SIGNAL_* */
	int group_exit_code;
	unsigned long maxrss; /* pages */
	/* Set by the OOM killer when it chooses the process (mark_oom_victim),
	 * kept for the signal struct's life. */
	struct mm_struct *oom_mm;
};

/* >= 6.2: one percpu_counter per RSS kind. */
struct percpu_counter {
	__s64 count;
	__s32 *counters; /* __percpu */
};

struct mm_struct___post62 {
	struct percpu_counter rss_stat[4];
};

/* < 6.2: a plain atomic per RSS kind. */
struct mm_rss_stat {
	atomic_long_t count[4];
};

struct mm_struct___pre62 {
	struct mm_rss_stat rss_stat;
};

struct mm_struct {
	unsigned long total_vm;
	unsigned long arg_start;
	unsigned long arg_end;
	unsigned long env_start;
	unsigned long env_end;
};

struct kernfs_node {
	__u64 id;
};

struct cgroup {
	struct kernfs_node *kn;
};

struct css_set {
	struct cgroup *dfl_cgrp;
};

struct sched_entity {
	__u64 sum_exec_runtime;
};

/* >= 5.16 on x86: the CPU number lives in thread_info. */
struct thread_info {
	__u32 cpu;
};

/* Run-queue accounting (CONFIG_SCHED_INFO). */
struct sched_info {
	unsigned long pcount;         /* times switched in to run */
	unsigned long long run_delay; /* ns spent runnable, waiting for a CPU */
};

/* Delay accounting (CONFIG_TASK_DELAY_ACCT): totals in ns, growing only
 * while kernel.task_delayacct is 1. */
struct task_delay_info {
	__u64 blkio_delay;
	__u64 swapin_delay;
	__u64 freepages_delay; /* direct memory reclaim */
	__u64 thrashing_delay;
	__u64 compact_delay;
};

/* The taskstats totals of a process's exited threads (CONFIG_TASKSTATS);
 * allocated when the first thread exits while others live. */
struct taskstats {
	__u64 cpu_count;
	__u64 cpu_delay_total;
	__u64 blkio_delay_total;
	__u64 swapin_delay_total;
	__u64 freepages_delay_total;
	__u64 thrashing_delay_total;
	__u64 compact_delay_total;
};

struct task_struct {
	struct thread_info thread_info;
	unsigned int __state;
	unsigned int flags;
	int prio;
	int static_prio;
	struct sched_entity se;
	struct mm_struct *mm;
	int exit_state;
	int exit_code;
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	__u64 utime;
	__u64 stime;
	unsigned long nvcsw;
	unsigned long nivcsw;
	__u64 start_boottime;
	unsigned long min_flt;
	unsigned long maj_flt;
	const struct cred *real_cred;
	char comm[16];
	struct signal_struct *signal;
	__u64 self_exec_id;
	struct task_io_accounting ioac;
	struct css_set *cgroups;
	void *worker_private;
	struct sched_info sched_info;
	struct task_delay_info *delays;
};

/* < 5.17: a kernel thread's struct kthread hid in set_child_tid. */
struct task_struct___pre517 {
	int *set_child_tid;
};

/* Kernel threads (kernel/kthread.c); full_name since 5.18. */
struct kthread {
	void *data;
	char *full_name;
};

/* Workqueue workers (kernel/workqueue_internal.h): the description of the
 * work they run, which /proc appends to their name. */
struct work_struct;
struct worker_pool;

struct worker {
	struct work_struct *current_work;
	struct worker_pool *pool;
	char desc[32];
};

/* < 5.14: the state word was a long named "state". */
struct task_struct___pre514 {
	long state;
};

/* < 5.16: the CPU number was a field of task_struct. */
struct task_struct___pre516 {
	unsigned int cpu;
};

struct seq_file;

/* Sockets, for the network counters. */
struct ns_common {
	unsigned int inum;
};

struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct sock_common {
	unsigned short skc_family;
	possible_net_t skc_net;
};

struct net_device {
	int ifindex;
	char name[16];
};

struct dst_entry {
	struct net_device *dev;
};

struct sock {
	struct sock_common __sk_common;
	struct dst_entry *sk_dst_cache;
};

struct socket {
	struct sock *sk;
};

struct msghdr;

/* Kprobe contexts: the registers at the probed call (stable uapi layouts). */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};
#elif defined(__TARGET_ARCH_arm64)
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};

struct pt_regs {
	struct user_pt_regs user_regs;
};
#endif

struct bpf_array {
	union {
		char value[0];
		void *ptrs[0];
		void *pptrs[0]; /* __percpu */
	};
};

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};

struct inode {
	unsigned short i_mode;
	__u32 i_rdev; /* kernel dev_t: major << 20 | minor */
};

struct file {
	struct inode *f_inode;
};

struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	__u32 fd;
	struct file *file;
};

#pragma clang attribute pop

/* State of the open-coded task iterator (kernel >= 6.7), opaque to BPF;
 * the verifier matches it by name and size. */
struct bpf_iter_task {
	__u64 __opaque[3];
} __attribute__((aligned(8)));

enum bpf_iter_task_type {
	BPF_TASK_ITER_ALL_PROCS,
	BPF_TASK_ITER_ALL_THREADS,
	BPF_TASK_ITER_PROC_THREADS,
};

#endif /* BPFTOP_VMLINUX_MIN_H */
