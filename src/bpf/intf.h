/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contract between bpftop's BPF programs and its Rust code: the single
 * definition of the record the task iterator emits. Rust gets its view of
 * this struct generated from the compiled object's BTF by the skeleton
 * builder (see build.rs), and src/collect/bpf/record.rs asserts its size, so
 * the two sides cannot drift apart silently.
 */
#ifndef BPFTOP_INTF_H
#define BPFTOP_INTF_H

#define BPFTOP_COMM_LEN 16
/* /proc/PID/comm of a kernel thread: at most 63 bytes and a NUL. */
#define BPFTOP_NAME_LEN 64

/* Bits of task_record.record_flags. Enums rather than macros: their values
 * reach Rust through the object's BTF (the skeleton's `types`), so neither
 * side copies them by hand. task_iter.bpf.c names both enums in variables
 * so that the compiler emits them. */
enum bpftop_record_flag {
	BPFTOP_REC_LEADER = 0x1,      /* tid == tgid: the process-wide fields are valid */
	BPFTOP_REC_HAS_MM = 0x2,      /* the process has an address space (not a kernel thread) */
	BPFTOP_REC_PRECISE_RSS = 0x4, /* rss_* and swap_ents include the per-CPU
				       * deltas (exact, as /proc on >= 6.16) */
	BPFTOP_REC_SCHED_INFO = 0x8,  /* run_delay and run_count are valid
				       * (the kernel has CONFIG_SCHED_INFO) */
	BPFTOP_REC_DELAYS = 0x10,     /* the *_delay stall totals are valid
				       * (CONFIG_TASK_DELAY_ACCT, task->delays set) */
};

/* The kernel's PF_* bits of task_record.task_flags that bpftop reads
 * (include/linux/sched.h). */
enum bpftop_task_flag {
	PF_WQ_WORKER = 0x00000020, /* a workqueue worker */
	PF_KTHREAD = 0x00200000,   /* a kernel thread */
};

/* One record per task (thread), in iteration order, written straight into
 * an mmapable array map so that userspace reads a whole walk without
 * copying it through read() (which would cost a syscall per 8 pages). All times are in ns,
 * memory in pages, ids as the initial namespaces see them. */
struct task_record {
	__u32 tid;
	__u32 tgid;
	__u32 record_flags;
	__u32 task_flags; /* PF_* */
	__u32 state;      /* raw task state word (__state, or state before 5.14) */
	__u32 exit_state;
	__s32 prio;
	__s32 static_prio;
	__u32 processor;
	/* Kernel threads whose name /proc shows is longer than comm (a full
	 * name, a workqueue worker's +/- description): 1 + its index in the
	 * kthread_names array. 0: comm is the name. */
	__u32 name_slot;
	__u64 start_boottime;
	__u64 sum_exec_runtime;
	__u64 utime;
	__u64 stime;
	__u64 min_flt;
	__u64 maj_flt;
	__u64 nvcsw;
	__u64 nivcsw;
	__u64 rchar;
	__u64 wchar;
	__u64 read_bytes;
	__u64 write_bytes;
	/* Run-queue waits (sched_info), under BPFTOP_REC_SCHED_INFO: time
	 * runnable but not running, and how often the task was switched in. */
	__u64 run_delay;
	__u64 run_count;
	/* Stalls (task_delay_info), under BPFTOP_REC_DELAYS; they grow only
	 * while kernel.task_delayacct is 1. */
	__u64 blkio_delay;
	__u64 swapin_delay;
	__u64 reclaim_delay;
	__u64 thrashing_delay;
	__u64 compact_delay;
	char comm[BPFTOP_COMM_LEN];

	/* Process-wide: valid only with BPFTOP_REC_LEADER. */
	__u32 ppid;
	__u32 uid;
	__u32 euid;
	__u32 nr_threads;
	__u32 tty_major;  /* 0: no controlling terminal */
	__u32 tty_minor;
	__u64 exec_id;    /* self_exec_id: changes on every execve */
	__u64 cgroup_id;  /* cgroup v2 kernfs id == inode of the cgroup directory */
	/* Totals of threads that already exited (signal_struct). */
	__u64 dead_sum_exec_runtime;
	__u64 dead_utime;
	__u64 dead_stime;
	__u64 dead_min_flt;
	__u64 dead_maj_flt;
	__u64 dead_rchar;
	__u64 dead_wchar;
	__u64 dead_read_bytes;
	__u64 dead_write_bytes;
	/* The same for run_delay .. compact_delay, from the taskstats totals
	 * the kernel keeps of exited threads (signal->stats, CONFIG_TASKSTATS);
	 * zero while no thread has exited beside a live one. */
	__u64 dead_run_delay;
	__u64 dead_run_count;
	__u64 dead_blkio_delay;
	__u64 dead_swapin_delay;
	__u64 dead_reclaim_delay;
	__u64 dead_thrashing_delay;
	__u64 dead_compact_delay;
	/* Address space, valid with BPFTOP_REC_HAS_MM. */
	__u64 total_vm;
	__s64 rss_file;
	__s64 rss_anon;
	__s64 rss_shmem;
	/* Pages swapped out (MM_SWAPENTS), /proc/PID/status's VmSwap; read
	 * like the rss_* counters, exact under the same flag. */
	__s64 swap_ents;
	/* Network bytes since bpftop attached its counters (struct
	 * net_counters); zero when the process has done no socket I/O. */
	__u64 net_rx_bytes;
	__u64 net_tx_bytes;
	__u64 net_iface; /* BPFTOP_IFACE_KEY of the last routed send; 0: none */
};

/* Progress of one walk, in a one-entry mmapable array map. Userspace zeroes
 * it before each walk; records land in the `records` map at [0, count). */
struct walk_state {
	__u64 count;   /* records written */
	__u64 dropped; /* tasks not recorded because `records` was full */
	__u64 names;   /* kthread_names entries written */
	/* Set by userspace before each walk: follow task->delays (only while
	 * kernel.task_delayacct counts stalls). */
	__u64 read_delays;
};

/* A kernel thread's name as /proc shows it. */
struct kthread_name {
	char name[BPFTOP_NAME_LEN];
};

/* Per-process network counters, in a hash map keyed by tgid that the
 * network programs (net.bpf.c) update and the task iterator reads. */
struct net_counters {
	/* The group leader's start_boottime: tells a process from an earlier
	 * one with the same tgid. */
	__u64 start_boottime;
	__u64 rx_bytes; /* updated with atomic adds only */
	__u64 tx_bytes;
	__u64 iface;    /* BPFTOP_IFACE_KEY of the last send with a cached route */
	__u64 iface_dev; /* the struct net_device behind `iface`, to skip naming
			  * it again while sends keep using it */
};

/* An interface as (network namespace inode, ifindex), in one u64 so that it
 * is written and read whole. */
#define BPFTOP_IFACE_KEY(netns_inum, ifindex) (((__u64)(netns_inum) << 32) | (__u32)(ifindex))

/* Interface names, keyed by BPFTOP_IFACE_KEY, filled by the network
 * programs the first time a key is seen. */
struct iface_name {
	char name[16];
};

/* One open file of a DRM device (character major 226), from the task_file
 * iterator: the fds whose /proc/PID/fdinfo may carry GPU usage stats. */
struct drm_fd_record {
	__u32 tgid;
	__u32 fd;
	__u32 minor;
	__u32 pad;
};

/* Bytes of argv sent per exec (NUL-separated, cut at this length). */
#define BPFTOP_ARGV_LEN 256

/* Bits of exit_record.flags. */
enum bpftop_exit_flag {
	BPFTOP_EXIT_OOM_KILLED = 0x1, /* the OOM killer chose this process */
	BPFTOP_EXIT_NET = 0x4,        /* net_* hold its socket byte counters */
};

/* One process (thread group) that exited, emitted by exits.bpf.c into a
 * ring buffer when its last thread exits. Totals cover every thread, live
 * and exited, as task_record's do for a live process. Times in ns. */
struct exit_record {
	__u32 pid;         /* tgid */
	__u32 ppid;
	__u32 uid;
	__u32 flags;       /* enum bpftop_exit_flag */
	__s32 wait_status; /* as wait(2) reports it: exit code << 8, or signal */
	__u32 pad;
	__u64 start_boottime;
	__u64 exit_boottime;
	__u64 sum_exec_runtime; /* CPU time of all threads */
	__u64 utime;       /* the kernel's own split, before cputime_adjust */
	__u64 stime;
	__u64 maxrss_pages; /* peak resident set (signal->maxrss) */
	__u64 min_flt;
	__u64 maj_flt;
	__u64 rchar;
	__u64 wchar;
	__u64 read_bytes;
	__u64 write_bytes;
	__u64 net_rx_bytes;
	__u64 net_tx_bytes;
	__u64 cgroup_id;
	char comm[BPFTOP_COMM_LEN];
};

/* The final CPU time of a process, written into the exit ring when its
 * leader's task_struct is freed: after the parent reaped it and after its
 * last switch, when the scheduler has accounted all of its run time. The
 * exit_record, written earlier at sched_process_exit, lacks the run time
 * since the exiting thread's last tick or switch and the rest of the exit;
 * userspace replaces the record's CPU with this one. Told apart from an
 * exit_record by its size. */
struct exit_final {
	__u32 pid;         /* tgid */
	__u32 pad;
	__u64 start_boottime;
	__u64 sum_exec_runtime; /* CPU time of all threads, final */
};

/* An exec and its argv, written into the exit ring by the exec hook (every
 * exec, for the exec rates; the argv where the new program has one). Userspace
 * keeps it per process until the process's exit_record (which comes later
 * in the same ring) or the next exec: the exit itself then copies no argv
 * and looks nothing up. Told apart from the other items by its size. */
struct exec_argv {
	__u32 pid;            /* tgid */
	__u32 len;            /* bytes of argv used; 0: none or unreadable */
	__u64 start_boottime; /* tells the process from an earlier one with its tgid */
	__u32 ppid;           /* its parent at the exec: the exec counts there */
	__u32 pad;
	__u64 cgroup_id;      /* its cgroup v2 at the exec, for the unit's count */
	char argv[BPFTOP_ARGV_LEN];
};

/* Longest command line argv_iter.bpf.c copies; a longer one is read from
 * /proc instead. */
#define BPFTOP_ARGV_MAX 4096

/* Bits of argv_record.flags. */
enum bpftop_argv_flag {
	/* The bytes after the record are not the command line /proc shows:
	 * longer than BPFTOP_ARGV_MAX, rewritten past its end by
	 * setproctitle(), unreadable, or the process is still in its exec. */
	BPFTOP_ARGV_FROM_PROC = 0x1,
};

/* One process's command line as /proc/PID/cmdline shows it, written by
 * argv_iter.bpf.c into its seq_file, followed by `len` bytes of argv. */
struct argv_record {
	__u32 pid;            /* tgid */
	__u32 len;            /* bytes of argv that follow the record */
	__u64 start_boottime; /* tells the process from an earlier one with its tgid */
	__u64 exec_id;        /* self_exec_id: the argv is this exec's */
	__u32 flags;          /* enum bpftop_argv_flag */
	__u32 pad;
};

/* Counters of the exit capture, in a one-entry mmapable array. */
struct exit_stats {
	__u64 dropped; /* exits lost because the ring buffer was full */
	__u64 finals_dropped; /* exit_final records lost the same way */
};

#endif /* BPFTOP_INTF_H */
