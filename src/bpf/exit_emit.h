/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The body of exits.bpf.c's record writer, included once per way of
 * reading the kernel: with R() a direct load (BTF-typed pointers of
 * tp_btf programs: no helper call per field) or a CO-RE probe read (raw
 * tracepoints). The includer defines R, READ_COMM, EMIT, ADD_THREAD and
 * KEEP_ARGV.
 */
/* The group's per-thread counters, summed: the exiting thread's, those of
 * threads already released (signal_struct), and the leader's when it exited
 * earlier (a zombie leader is released only with the whole group). */
static __always_inline void ADD_THREAD(struct task_struct *t, struct exit_record *rec)
{
	rec->sum_exec_runtime += R(t, se.sum_exec_runtime);
	rec->utime += R(t, utime);
	rec->stime += R(t, stime);
	rec->min_flt += R(t, min_flt);
	rec->maj_flt += R(t, maj_flt);
	/* Field by field: the kernel's struct has more fields between ours. */
	rec->rchar += R(t, ioac.rchar);
	rec->wchar += R(t, ioac.wchar);
	rec->read_bytes += R(t, ioac.read_bytes);
	rec->write_bytes += R(t, ioac.write_bytes);
}

static __always_inline void EMIT(struct task_struct *task, __u32 tgid)
{
	struct task_struct *leader = R(task, group_leader);
	struct signal_struct *sig = R(task, signal);
	__u64 start = R(leader, start_boottime);
	struct exit_record *rec;
	struct task_struct *parent;
	const struct cred *cred;
	struct css_set *css;
	struct cgroup *cgrp;
	struct kernfs_node *kn;

	rec = bpf_ringbuf_reserve(&exits, sizeof(*rec), 0);
	if (!rec) {
		struct exit_stats *st = stats();

		if (st)
			__sync_fetch_and_add(&st->dropped, 1);
		goto forget;
	}
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->pid = tgid;
	parent = R(task, real_parent);
	rec->ppid = R(parent, tgid);
	cred = R(leader, real_cred);
	rec->uid = R(cred, uid.val);
	rec->start_boottime = start;
	rec->exit_boottime = bpf_ktime_get_boot_ns();
	css = R(task, cgroups);
	cgrp = R(css, dfl_cgrp);
	kn = R(cgrp, kn);
	rec->cgroup_id = R(kn, id);
	READ_COMM(rec->comm, leader);
	if (R(sig, oom_mm))
		rec->flags |= BPFTOP_EXIT_OOM_KILLED;
	/* What wait(2) will report: the group's code when the whole group
	 * was told to exit, else the leader's own. */
	if (R(sig, flags) & SIGNAL_GROUP_EXIT)
		rec->wait_status = R(sig, group_exit_code);
	else
		rec->wait_status = R(leader, exit_code);

	rec->sum_exec_runtime = R(sig, sum_sched_runtime);
	rec->utime = R(sig, utime);
	rec->stime = R(sig, stime);
	rec->min_flt = R(sig, min_flt);
	rec->maj_flt = R(sig, maj_flt);
	rec->maxrss_pages = R(sig, maxrss);
	rec->rchar = R(sig, ioac.rchar);
	rec->wchar = R(sig, ioac.wchar);
	rec->read_bytes = R(sig, ioac.read_bytes);
	rec->write_bytes = R(sig, ioac.write_bytes);
	ADD_THREAD(task, rec);
	if (leader != task)
		ADD_THREAD(leader, rec);

	if (read_net && net_maybe_counted(tgid)) {
		struct net_counters *net = bpf_map_lookup_elem(&net_by_tgid, &tgid);

		if (net && net->start_boottime == start) {
			rec->net_rx_bytes = net->rx_bytes;
			rec->net_tx_bytes = net->tx_bytes;
			rec->flags |= BPFTOP_EXIT_NET;
		}
		net_forget(tgid);
	}
	bpf_ringbuf_submit(rec, submit_flags());
	return;
forget:
	if (read_net)
		net_forget(tgid);
}

/* An exec: who (and under which parent and cgroup), and the argv of the new
 * program, which its stack holds at arg_start. */
static __always_inline void KEEP_ARGV(struct task_struct *task)
{
	struct mm_struct *mm = R(task, mm);
	unsigned long from = R(mm, arg_start);
	unsigned long to = R(mm, arg_end);
	struct task_struct *parent = R(task, real_parent);
	struct css_set *css = R(task, cgroups);
	struct cgroup *cgrp = R(css, dfl_cgrp);
	struct kernfs_node *kn = R(cgrp, kn);
	struct exec_argv *v;
	__u64 len;

	/* Where the ring is full, the process's exit (written later) will
	 * most likely be dropped as well and counted then. */
	v = bpf_ringbuf_reserve(&exits, sizeof(*v), 0);
	if (!v)
		return;
	v->pid = R(task, tgid);
	v->ppid = R(parent, tgid);
	v->pad = 0;
	v->cgroup_id = R(kn, id);
	/* The task that execs leads its group from here on (de_thread()). */
	v->start_boottime = R(task, start_boottime);
	v->len = 0;
	if (to > from) {
		len = to - from;
		if (len > BPFTOP_ARGV_LEN)
			len = BPFTOP_ARGV_LEN;
		if (bpf_probe_read_user(v->argv, len, (void *)from) == 0)
			v->len = len;
	}
	bpf_ringbuf_submit(v, submit_flags());
}
