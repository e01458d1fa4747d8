// SPDX-License-Identifier: GPL-2.0
/*
 * syscall.bpf.c - a BPF_PROG_TYPE_SYSCALL program, run with BPF_PROG_TEST_RUN.
 *
 * Kept alone in its own object because it needs Linux 5.14+ (program type
 * "syscall"); every other object in bpf-obj/ loads on 5.10.
 *
 * The context is a caller-provided struct syscall_args (ctx_in, 24 bytes).
 * The kernel copies the context back into ctx_in after the run, so the
 * fields the program writes are visible to the caller.
 */
#include "mmbpf_bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct syscall_args {
	__u64 add;       /* in:  added to sum */
	__u32 tag;       /* in:  stored in last_tag */
	__u32 runs_out;  /* out: runs after this run */
	__u64 sum_out;   /* out: sum after this run */
};

/* .bss */
__u64 sum = 0;       /* sum of every args->add */
__u64 runs = 0;      /* number of runs */
__u32 last_tag = 0;  /* args->tag of the last run */

SEC("syscall")
int add_ctx(struct syscall_args *args)
{
	sum += args->add;
	runs += 1;
	last_tag = args->tag;
	args->sum_out = sum;
	args->runs_out = (__u32)runs;
	return (int)runs;   /* test_run retval */
}
