// SPDX-License-Identifier: GPL-2.0
/*
 * counter.bpf.c - the demo object bundled into the mmbpf CLI.
 *
 * Counts system calls per syscall number into an mmapable array, so that
 * user space can read the counters straight from shared memory.
 *
 * Needs Linux 5.10+ (BPF_F_MMAPABLE arrays: 5.5, global data: 5.2,
 * tracepoint programs: 4.7).  Helpers: get_current_pid_tgid.
 */
#include "mmbpf_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* counts[syscall number & 1023]: one u64 counter per syscall number. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
	__uint(map_flags, BPF_F_MMAPABLE);
} counts SEC(".maps");

/* .rodata config, set before load: only count this process (0 = every process). */
const volatile __u32 target_tgid = 0;

/* .bss: number of system calls counted, all syscall numbers together. */
__u64 total = 0;

/* Layout of /sys/kernel/tracing/events/raw_syscalls/sys_enter/format. */
struct sys_enter_ctx {
	__u64 common;      /* common_type, common_flags, common_preempt_count, common_pid */
	long id;           /* offset 8: syscall number */
	unsigned long args[6];
};

SEC("tracepoint/raw_syscalls/sys_enter")
int count_syscalls(struct sys_enter_ctx *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 key;
	__u64 *slot;

	if (target_tgid != 0 && target_tgid != tgid)
		return 0;

	key = (__u32)ctx->id & 1023;
	slot = bpf_map_lookup_elem(&counts, &key);
	if (!slot)
		return 0;
	__sync_fetch_and_add(slot, 1);
	__sync_fetch_and_add(&total, 1);
	return 0;
}
