// SPDX-License-Identifier: GPL-2.0
/*
 * kprobe.bpf.c - a kprobe and a kretprobe on the same kernel function.
 *
 * Both count calls of __x64_sys_getpgid (the x86-64 syscall wrapper of
 * getpgid(2), present since 4.17) made by the thread in target_tid.  The
 * attach target comes from the section name; the loader opens a kprobe perf
 * event through the kprobe PMU (Linux 4.17+) and attaches with a BPF link
 * (5.15+) or PERF_EVENT_IOC_SET_BPF.
 *
 * Needs Linux 5.10+ for the whole object (global data 5.2, mmapable 5.5).
 */
#include "mmbpf_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* .rodata: the thread to count (0 = every thread). */
const volatile __u32 target_tid = 0;

/* .bss: entries and returns seen. */
__u64 entries = 0;
__u64 returns = 0;

static __always_inline int matches(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	return target_tid == 0 || target_tid == tid;
}

SEC("kprobe/__x64_sys_getpgid")
int on_getpgid_entry(void *ctx)
{
	if (matches())
		__sync_fetch_and_add(&entries, 1);
	return 0;
}

SEC("kretprobe/__x64_sys_getpgid")
int on_getpgid_return(void *ctx)
{
	if (matches())
		__sync_fetch_and_add(&returns, 1);
	return 0;
}
