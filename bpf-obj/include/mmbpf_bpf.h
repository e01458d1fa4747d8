/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * mmbpf_bpf.h - the minimal BPF-side header used by mmbpf's test objects.
 *
 * A small stand-in for libbpf's bpf_helpers.h: section/map macros, the few
 * helper prototypes our objects call, and bpf_printk.  Everything here is
 * available on Linux 5.10.  Constants (BPF_MAP_TYPE_*, BPF_F_*) come from the
 * kernel uapi header; build with -I/usr/include/x86_64-linux-gnu so that
 * <asm/types.h> resolves when compiling with -target bpf.
 */
#ifndef MMBPF_BPF_H
#define MMBPF_BPF_H

#include <linux/types.h>
#include <linux/bpf.h>

/* Put a function or variable into a named ELF section ("program type"). */
#define SEC(name) __attribute__((section(name), used))

/*
 * BTF-defined map attributes (libbpf convention, section ".maps"):
 *   __uint(name, N)   -> a pointer to an array of N ints; the loader reads N
 *                       from the BTF array's element count.
 *   __type(name, T)   -> a pointer to T; the loader reads sizeof(T) from BTF.
 *   __array(name, T)  -> an array of pointers to T (map-in-map values).
 */
#define __uint(name, val)  int (*name)[val]
#define __type(name, val)  typeof(val) *name
#define __array(name, val) typeof(val) *name[]

#undef __always_inline /* <linux/stddef.h> defines a weaker one */
#define __always_inline inline __attribute__((always_inline))
#define __noinline      __attribute__((noinline))

/*
 * Helper functions: a call through a constant "pointer" N compiles to
 * `call N`, which the kernel resolves to helper id N (enum bpf_func_id).
 */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key,
				   const void *value, __u64 flags) = (void *)2;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;
static __u32 (*bpf_get_smp_processor_id)(void) = (void *)8;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;
static __u64 (*bpf_get_current_uid_gid)(void) = (void *)15;
static long (*bpf_get_current_comm)(void *buf, __u32 size_of_buf) = (void *)16;

/* The ids above must match the uapi enum. */
_Static_assert(BPF_FUNC_map_lookup_elem == 1, "helper id");
_Static_assert(BPF_FUNC_map_update_elem == 2, "helper id");
_Static_assert(BPF_FUNC_ktime_get_ns == 5, "helper id");
_Static_assert(BPF_FUNC_trace_printk == 6, "helper id");
_Static_assert(BPF_FUNC_get_smp_processor_id == 8, "helper id");
_Static_assert(BPF_FUNC_get_current_pid_tgid == 14, "helper id");
_Static_assert(BPF_FUNC_get_current_uid_gid == 15, "helper id");
_Static_assert(BPF_FUNC_get_current_comm == 16, "helper id");

/*
 * bpf_printk(fmt, args...): at most 3 arguments (bpf_trace_printk's limit).
 * The format lives in a static const array, which clang places in a
 * read-only data section (.rodata or .rodata.str1.1) that the loader turns
 * into a global-data map.  Output: /sys/kernel/tracing/trace_pipe.
 */
#define bpf_printk(fmt, ...)						\
	({								\
		static const char ____fmt[] = fmt;			\
		bpf_trace_printk(____fmt, sizeof(____fmt), ##__VA_ARGS__); \
	})

/*
 * bpf_printk_lit("literal", args...): same, but the format is an anonymous
 * string literal, which clang places in the mergeable-string section
 * .rodata.str1.1 (reached through a relocation against that section's symbol).
 */
#define bpf_printk_lit(fmt, ...) \
	bpf_trace_printk(fmt, sizeof(fmt), ##__VA_ARGS__)

#endif /* MMBPF_BPF_H */
