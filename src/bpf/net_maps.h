/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The per-process network counters map, declared by both the network
 * programs (which own it) and the task iterator (which reads it for each
 * thread-group leader). The loader hands the network object's map to the
 * iterator object (bpf_map__reuse_fd), so both programs see one table.
 */
#ifndef BPFTOP_NET_MAPS_H
#define BPFTOP_NET_MAPS_H

#include "intf.h"

/* Entries are allocated on first use (BPF_F_NO_PREALLOC): only processes
 * that touch a socket cost memory. The loader sizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct net_counters);
} net_by_tgid SEC(".maps");

/* One byte per tgid (eight to an element), set to 1 before the process's
 * first counters entry is made and cleared after the entry is deleted: a
 * 0 means no entry, so the exit and the walk skip the hash lookup for the
 * many processes that never touch a socket (a miss costs a cold bucket).
 * Bytes, not bits: a plain byte store leaves its neighbours alone, where
 * setting a bit would need an atomic or (BPF ISA v3). The loader sizes it
 * to pid_max; a tgid beyond (pid_max raised later) has no byte and is
 * always looked up. */
struct net_seen_bytes {
	__u8 seen[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct net_seen_bytes);
} net_seen SEC(".maps");

/* The byte of `tgid`, or NULL where the map has none. */
static __always_inline __u8 *net_seen_byte(__u32 tgid)
{
	__u32 slot = tgid / 8;
	struct net_seen_bytes *b = bpf_map_lookup_elem(&net_seen, &slot);

	return b ? &b->seen[tgid & 7] : (__u8 *)0;
}

/* Whether net_by_tgid may hold an entry for `tgid`. */
static __always_inline bool net_maybe_counted(__u32 tgid)
{
	__u8 *seen = net_seen_byte(tgid);

	return !seen || *seen;
}

/* Deletes the counters of `tgid`, which has exited. */
static __always_inline void net_forget(__u32 tgid)
{
	__u8 *seen = net_seen_byte(tgid);

	if (seen && !*seen)
		return;
	bpf_map_delete_elem(&net_by_tgid, &tgid);
	if (seen)
		*seen = 0;
}

#endif /* BPFTOP_NET_MAPS_H */
