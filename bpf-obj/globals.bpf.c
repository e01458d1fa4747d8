// SPDX-License-Identifier: GPL-2.0
/*
 * globals.bpf.c - global data of every flavour, plus bpf-to-bpf calls.
 *
 * Exercises: .bss, .data, .rodata (const volatile config set before load),
 * static globals (reached through section-symbol relocations), a custom
 * ".data.custom" section, two bpf_printk format strings (one a static const
 * array in .rodata, one a string literal in .rodata.str1.1), calls to a static and to a global function in .text, and the
 * "user writes in_val through mmap, program copies it to out_val" pattern of
 * the kernel's tools/testing/selftests/bpf/progs/test_mmap.c.
 *
 * Trigger: getpid() from the thread whose id (gettid()) is target_tid.
 *
 * Needs Linux 5.10+ (mmapable global data: 5.5, global functions: 5.6,
 * syscalls tracepoints: CONFIG_FTRACE_SYSCALLS).  Helpers:
 * get_current_pid_tgid, trace_printk.
 */
#include "mmbpf_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* --- .rodata: config, set from user space before load ------------------ */
const volatile __u32 target_tid = 0;    /* thread to watch; 0 = every thread */
const volatile __u64 scale = 1;         /* out_mix = in_val * scale + custom_add */

/* --- .bss ------------------------------------------------------------------ */
__u64 in_val = 0;     /* written by user space through the mmap view */
__u64 out_val = 0;    /* = in_val (copied by the program) */
__u64 out_mix = 0;    /* = mix(in_val), a global function */
__u64 out_prev = 0;   /* = previous in_val (static .data static_prev, starts at 42) */
__u64 out_sum = 0;    /* = sum of every in_val seen (static .bss static_sum) */
__u64 hits = 0;       /* number of triggers */

/* --- .data ----------------------------------------------------------------- */
__u32 data_counter = 1000;   /* +1 per trigger; initial value may be overridden */

/* --- static globals: no usable symbol of their own in the relocations -------- */
static __u64 static_prev = 42;   /* .data */
static __u64 static_sum;         /* .bss  */

/* --- custom data section ------------------------------------------------ */
__u64 custom_add __attribute__((section(".data.custom"))) = 7;

/* Static subprogram: swaps in v, returns the previous value, keeps a sum. */
static __noinline __u64 swap_prev(__u64 v)
{
	__u64 old = static_prev;

	static_prev = v;
	static_sum += v;
	out_sum = static_sum;
	bpf_printk_lit("mmbpf globals: prev=%llu\n", old);
	return old;
}

/* Global subprogram in .text (verified on its own since Linux 5.6). */
__noinline __u64 mix(__u64 v)
{
	return v * scale + custom_add;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 v;

	if (target_tid != 0 && target_tid != tid)
		return 0;

	v = in_val;
	out_val = v;
	out_mix = mix(v);
	out_prev = swap_prev(v);
	data_counter += 1;
	__sync_fetch_and_add(&hits, 1);
	bpf_printk("mmbpf globals: in_val=%llu\n", v);
	return 0;
}
