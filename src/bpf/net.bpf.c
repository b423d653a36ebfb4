// SPDX-License-Identifier: GPL-2.0
/*
 * Per-process network bytes, counted where a socket send or receive
 * returns, and attributed to the calling thread's process (tgid).
 *
 * Three ways to hook the same point; the loader picks the first the kernel
 * offers and loads only those programs:
 *  1. tp_btf/sock_send_length and sock_recv_length (>= 6.3): every socket
 *     family passes through them, so the family filter is ours to apply;
 *  2. fexit on inet_{send,recv}msg and inet6_{send,recv}msg;
 *  3. kprobe + kretprobe on the same functions.
 * 2 and 3 only ever see AF_INET/AF_INET6 sockets.
 *
 * Counters live in net_by_tgid (net_maps.h) and are only ever changed with
 * atomic adds, because threads of one process send on many CPUs at once.
 * The entry goes when the whole process exits, not when one thread does.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "intf.h"
#include "net_maps.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define MSG_PEEK 2

/* Count every socket family (AF_UNIX, netlink, ...), not only IP. */
const volatile bool all_families = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct iface_name);
} iface_names SEC(".maps");

/* The counters of the calling process, created on first use. */
static __always_inline struct net_counters *current_counters(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct net_counters *c, fresh = {};
	__u8 *seen;

	/* Direct loads through the BTF-typed task: no helper call per field. */
	fresh.start_boottime = task->group_leader->start_boottime;
	c = bpf_map_lookup_elem(&net_by_tgid, &tgid);
	if (c && c->start_boottime == fresh.start_boottime)
		return c;
	/* Marked before the entry exists, so that an entry never goes
	 * unmarked (net_maps.h). */
	seen = net_seen_byte(tgid);
	if (seen)
		*seen = 1;
	/* Absent, or left by an earlier process with this tgid (its exit was
	 * not seen): start from zero. When it fails, NOEXIST has kept a racing
	 * thread's entry, or the table is full and the lookup below finds
	 * nothing: the process goes uncounted. */
	bpf_map_update_elem(&net_by_tgid, &tgid, &fresh, c ? BPF_EXIST : BPF_NOEXIST);
	return bpf_map_lookup_elem(&net_by_tgid, &tgid);
}

static __always_inline bool counted_family(struct sock *sk)
{
	unsigned short family = BPF_CORE_READ(sk, __sk_common.skc_family);

	return all_families || family == AF_INET || family == AF_INET6;
}

/* Records the interface of the socket's cached route in `c`, naming it the
 * first time it is seen. A send through the same device as the last one
 * (the common case) costs two reads. */
static __always_inline void note_routed_iface(struct sock *sk, struct net_counters *c)
{
	struct net_device *dev = BPF_CORE_READ(sk, sk_dst_cache, dev);
	struct iface_name name = {};
	__u64 key;
	int ifindex;

	if (!dev || c->iface_dev == (__u64)dev)
		return;
	ifindex = BPF_CORE_READ(dev, ifindex);
	key = BPFTOP_IFACE_KEY(BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum), ifindex);
	if (!bpf_map_lookup_elem(&iface_names, &key)) {
		bpf_probe_read_kernel_str(name.name, sizeof(name.name), dev->name);
		bpf_map_update_elem(&iface_names, &key, &name, BPF_NOEXIST);
	}
	/* Each an aligned 8-byte store, never torn. Two threads of one
	 * process first sending through two devices at the same instant may
	 * leave the pair mismatched; IFACE then names the other device until
	 * the process sends through a third one. A label, never a count. */
	c->iface = key;
	c->iface_dev = (__u64)dev;
}

static __always_inline void count_send(struct sock *sk, int ret)
{
	struct net_counters *c;

	if (ret <= 0 || !sk || !counted_family(sk))
		return;
	c = current_counters();
	if (!c)
		return;
	__sync_fetch_and_add(&c->tx_bytes, ret);
	note_routed_iface(sk, c);
}

static __always_inline void count_recv(struct sock *sk, int ret, int flags)
{
	struct net_counters *c;

	/* A peek leaves the data queued; the read that takes it counts it. */
	if (ret <= 0 || (flags & MSG_PEEK) || !sk || !counted_family(sk))
		return;
	c = current_counters();
	if (c)
		__sync_fetch_and_add(&c->rx_bytes, ret);
}

/* 1. Tracepoints at the end of sock_sendmsg / sock_recvmsg. */
SEC("tp_btf/sock_send_length")
int BPF_PROG(tp_send, struct sock *sk, int ret, int flags)
{
	count_send(sk, ret);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(tp_recv, struct sock *sk, int ret, int flags)
{
	count_recv(sk, ret, flags);
	return 0;
}

/* 2. fexit: the arguments and the return value in one program. */
SEC("fexit/inet_sendmsg")
int BPF_PROG(fexit_inet_send, struct socket *sock, struct msghdr *msg, unsigned long size, int ret)
{
	count_send(BPF_CORE_READ(sock, sk), ret);
	return 0;
}

SEC("fexit/inet_recvmsg")
int BPF_PROG(fexit_inet_recv, struct socket *sock, struct msghdr *msg, unsigned long size,
	     int flags, int ret)
{
	count_recv(BPF_CORE_READ(sock, sk), ret, flags);
	return 0;
}

SEC("fexit/inet6_sendmsg")
int BPF_PROG(fexit_inet6_send, struct socket *sock, struct msghdr *msg, unsigned long size,
	     int ret)
{
	count_send(BPF_CORE_READ(sock, sk), ret);
	return 0;
}

SEC("fexit/inet6_recvmsg")
int BPF_PROG(fexit_inet6_recv, struct socket *sock, struct msghdr *msg, unsigned long size,
	     int flags, int ret)
{
	count_recv(BPF_CORE_READ(sock, sk), ret, flags);
	return 0;
}

/* 3. kprobes: the entry remembers the socket, the return counts. */
struct pending_call {
	struct sock *sk;
	int flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid of the calling thread */
	__type(value, struct pending_call);
} pending SEC(".maps");

static __always_inline int remember_call(struct socket *sock, int flags)
{
	struct pending_call call = { .sk = BPF_CORE_READ(sock, sk), .flags = flags };
	__u64 id = bpf_get_current_pid_tgid();

	bpf_map_update_elem(&pending, &id, &call, BPF_ANY);
	return 0;
}

static __always_inline int finish_call(int ret, bool send)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_call *call = bpf_map_lookup_elem(&pending, &id);

	if (!call)
		return 0;
	if (send)
		count_send(call->sk, ret);
	else
		count_recv(call->sk, ret, call->flags);
	bpf_map_delete_elem(&pending, &id);
	return 0;
}

SEC("kprobe/inet_sendmsg")
int BPF_KPROBE(kprobe_inet_send, struct socket *sock)
{
	return remember_call(sock, 0);
}

SEC("kretprobe/inet_sendmsg")
int BPF_KRETPROBE(kretprobe_inet_send, int ret)
{
	return finish_call(ret, true);
}

SEC("kprobe/inet_recvmsg")
int BPF_KPROBE(kprobe_inet_recv, struct socket *sock, struct msghdr *msg, unsigned long size,
	       int flags)
{
	return remember_call(sock, flags);
}

SEC("kretprobe/inet_recvmsg")
int BPF_KRETPROBE(kretprobe_inet_recv, int ret)
{
	return finish_call(ret, false);
}

SEC("kprobe/inet6_sendmsg")
int BPF_KPROBE(kprobe_inet6_send, struct socket *sock)
{
	return remember_call(sock, 0);
}

SEC("kretprobe/inet6_sendmsg")
int BPF_KRETPROBE(kretprobe_inet6_send, int ret)
{
	return finish_call(ret, true);
}

SEC("kprobe/inet6_recvmsg")
int BPF_KPROBE(kprobe_inet6_recv, struct socket *sock, struct msghdr *msg, unsigned long size,
	       int flags)
{
	return remember_call(sock, flags);
}

SEC("kretprobe/inet6_recvmsg")
int BPF_KRETPROBE(kretprobe_inet6_recv, int ret)
{
	return finish_call(ret, false);
}

/* The process is gone when its last thread passes the group-exit check
 * (signal->live reaches 0 before this tracepoint on every kernel). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(process_exit, struct task_struct *task)
{
	__u32 tgid;

	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	net_forget(tgid);
	return 0;
}
