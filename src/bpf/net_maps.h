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

#endif /* BPFTOP_NET_MAPS_H */
