// SPDX-License-Identifier: GPL-2.0
/*
 * multi.bpf.c - several programs of several types in one object, sharing one
 * mmapable array whose value is a 12-byte struct (array stride: 16 bytes).
 *
 *   stats[0]  socket_count  SEC("socket")                  packets/bytes, keeps packets
 *   stats[1]  on_getppid    SEC("tracepoint/syscalls/sys_enter_getppid")
 *   stats[2]  on_sys_enter  SEC("raw_tracepoint/sys_enter")
 *   stats[3]  socket_drop   SEC("socket")                  packets/bytes, drops packets
 *
 * socket_count and socket_drop share the section "socket": the loader has to
 * split a section into programs by its FUNC symbols.
 *
 * Needs Linux 5.10+ (BPF_F_MMAPABLE arrays: 5.5, raw tracepoints: 4.17,
 * global data: 5.2).  Helpers: map_lookup_elem, get_current_pid_tgid.
 */
#include "mmbpf_bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct triple {
	__u32 a;
	__u32 b;
	__u32 c;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct triple);
	__uint(map_flags, BPF_F_MMAPABLE);
} stats SEC(".maps");

/* .rodata config, set before load. */
const volatile __u32 target_tid = 0;   /* thread the tracepoints watch; 0 = every thread */
const volatile __s64 watch_nr = -1;    /* syscall number on_sys_enter counts; -1 = none */

static __always_inline struct triple *slot(__u32 idx)
{
	return bpf_map_lookup_elem(&stats, &idx);
}

static __always_inline int tid_matches(__u32 tid)
{
	return target_tid == 0 || target_tid == tid;
}

/* stats[0]: a = packets, b = sum of skb->len, c = last skb->len. Keeps the packet. */
SEC("socket")
int socket_count(struct __sk_buff *skb)
{
	struct triple *s = slot(0);
	__u32 len = skb->len;

	if (!s)
		return 0;
	__sync_fetch_and_add(&s->a, 1);
	__sync_fetch_and_add(&s->b, len);
	s->c = len;
	return len;
}

/* stats[3]: same counting as socket_count, but returns 0: every packet is dropped. */
SEC("socket")
int socket_drop(struct __sk_buff *skb)
{
	struct triple *s = slot(3);
	__u32 len = skb->len;

	if (!s)
		return 0;
	__sync_fetch_and_add(&s->a, 1);
	__sync_fetch_and_add(&s->b, len);
	s->c = len;
	return 0;
}

/* Layout of /sys/kernel/tracing/events/syscalls/sys_enter_getppid/format. */
struct syscalls_enter_ctx {
	__u64 common;
	int syscall_nr;    /* offset 8 */
};

/* stats[1]: a = getppid() calls by target_tid, b = __syscall_nr, c = thread id. */
SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(struct syscalls_enter_ctx *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct triple *s;

	if (!tid_matches(tid))
		return 0;
	s = slot(1);
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->a, 1);
	s->b = ctx->syscall_nr;
	s->c = tid;
	return 0;
}

/*
 * stats[2]: a = syscalls numbered watch_nr made by target_tid, b = that
 * syscall number, c = thread id.  Raw tracepoint sys_enter: args[0] is the
 * struct pt_regs pointer, args[1] the syscall number.
 */
SEC("raw_tracepoint/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__s64 id = (__s64)ctx->args[1];
	struct triple *s;

	if (id != watch_nr || !tid_matches(tid))
		return 0;
	s = slot(2);
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->a, 1);
	s->b = (__u32)id;
	s->c = tid;
	return 0;
}
