// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * peer_libbpf.c - the plain C libbpf contender of the mmbpf peer benchmarks.
 *
 * Built by benches/run with: cc -O2 -o peer_libbpf peer_libbpf.c -lbpf
 * (Debian's libbpf-dev). Run by the Rust harness (benches/peers) once per case:
 *
 *     peer_libbpf OBJ CASE MAX_SAMPLES BUDGET_MS
 *
 * CASE is one of: read (case 1), bulk (case 2), write (case 3), load (case 4),
 * loadonly (case 4b: open + load + close, no attach).
 * Prints one JSON line per contender:
 *     {"case":"read","contender":"...","median":X,"unit":"ns/op","samples":N}
 * Samples are taken until MAX_SAMPLES or BUDGET_MS is used up (at least 3),
 * after one unmeasured warm-up sample. The random index sequence is the same
 * xorshift64 sequence as the Rust harness uses.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SMALL_ENTRIES 1024u
#define BIG_ENTRIES (1u << 20)
#define INDEX_TABLE 4096u
#define READ_ITERS 10000u
#define WRITE_ITERS 10000u

static uint32_t idx_table[INDEX_TABLE];

static void fill_indices(void)
{
	uint64_t x = 0x9E3779B97F4A7C15ull; /* same seed as the Rust harness */
	for (unsigned i = 0; i < INDEX_TABLE; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		idx_table[i] = (uint32_t)(x % SMALL_ENTRIES);
	}
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "peer_libbpf: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static void *obj_buf;
static size_t obj_len;

static void read_obj(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("open %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	obj_len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	obj_buf = malloc(obj_len);
	if (!obj_buf || fread(obj_buf, 1, obj_len, f) != obj_len)
		die("read %s", path);
	fclose(f);
}

/* Open + load the counter object (rodata target_tgid = our pid), counts resized. */
static struct bpf_object *open_load(uint32_t entries)
{
	struct bpf_object *obj = bpf_object__open_mem(obj_buf, obj_len, NULL);
	if (!obj)
		die("bpf_object__open_mem: %s", strerror(errno));
	struct bpf_map *counts = bpf_object__find_map_by_name(obj, "counts");
	struct bpf_map *rodata = bpf_object__find_map_by_name(obj, ".rodata");
	if (!counts || !rodata)
		die("counts/.rodata not found");
	if (bpf_map__set_max_entries(counts, entries))
		die("set_max_entries");
	size_t sz = 0;
	uint32_t *ro = (uint32_t *)bpf_map__initial_value(rodata, &sz);
	if (!ro || sz < 4)
		die("rodata initial value");
	ro[0] = (uint32_t)getpid();
	int err = bpf_object__load(obj);
	if (err)
		die("bpf_object__load: %d", err);
	return obj;
}

typedef double (*sample_fn)(void *ctx); /* returns the sample's value */

struct result {
	double med;
	int n;
};

static struct result measure(sample_fn f, void *ctx, int max_samples, double budget_ms)
{
	double *v = calloc((size_t)max_samples + 3, sizeof(double));
	int n = 0;
	double spent = 0;
	(void)f(ctx); /* warm-up */
	while (n < max_samples && (n < 3 || spent < budget_ms * 1e6)) {
		double t0 = now_ns();
		v[n++] = f(ctx);
		spent += now_ns() - t0;
	}
	struct result r = { median(v, n), n };
	free(v);
	return r;
}

static void emit(const char *c, const char *contender, struct result r, const char *unit)
{
	printf("{\"case\":\"%s\",\"contender\":\"%s\",\"median\":%.6g,\"unit\":\"%s\",\"samples\":%d}\n",
	       c, contender, r.med, unit, r.n);
	fflush(stdout);
}

/* ---- case 1: read one element ---- */
static int g_fd;
static unsigned g_pos;
static volatile uint64_t sink;

static double sample_lookup(void *ctx)
{
	(void)ctx;
	uint64_t acc = 0, v = 0;
	double t0 = now_ns();
	for (unsigned i = 0; i < READ_ITERS; i++) {
		uint32_t k = idx_table[g_pos++ & (INDEX_TABLE - 1)];
		if (bpf_map_lookup_elem(g_fd, &k, &v))
			die("bpf_map_lookup_elem: %s", strerror(errno));
		acc += v;
	}
	double dt = now_ns() - t0;
	sink = acc;
	return dt / READ_ITERS;
}

/* ---- case 3: write one element ---- */
static double sample_update(void *ctx)
{
	(void)ctx;
	double t0 = now_ns();
	for (unsigned i = 0; i < WRITE_ITERS; i++) {
		uint32_t k = idx_table[g_pos++ & (INDEX_TABLE - 1)];
		uint64_t v = i;
		if (bpf_map_update_elem(g_fd, &k, &v, BPF_ANY))
			die("bpf_map_update_elem: %s", strerror(errno));
	}
	double dt = now_ns() - t0;
	return dt / WRITE_ITERS;
}

/* ---- case 2: whole 1M-entry array with one batch lookup ---- */
static uint32_t *g_keys;
static uint64_t *g_vals;

static double sample_batch(void *ctx)
{
	(void)ctx;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t out_batch = 0;
	uint32_t done = 0;
	double t0 = now_ns();
	while (done < BIG_ENTRIES) {
		uint32_t count = BIG_ENTRIES - done;
		uint32_t in_batch = out_batch;
		int err = bpf_map_lookup_batch(g_fd, done ? &in_batch : NULL, &out_batch, g_keys + done,
					       g_vals + done, &count, &opts);
		done += count;
		if (err && errno == ENOENT)
			break;
		if (err)
			die("bpf_map_lookup_batch: %s", strerror(errno));
	}
	double dt = now_ns() - t0;
	if (done != BIG_ENTRIES)
		die("batch returned %u of %u", done, BIG_ENTRIES);
	sink = g_vals[done - 1];
	return (double)BIG_ENTRIES * 8.0 / dt; /* bytes per ns = GB/s */
}

/* ---- case 4: open + load + attach, then detach + close ---- */
static double sample_load(void *ctx)
{
	(void)ctx;
	double t0 = now_ns();
	struct bpf_object *obj = open_load(SMALL_ENTRIES);
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "count_syscalls");
	if (!prog)
		die("program count_syscalls not found");
	struct bpf_link *link = bpf_program__attach(prog);
	if (!link)
		die("bpf_program__attach: %s", strerror(errno));
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return (now_ns() - t0) / 1e6; /* ms */
}

/* ---- case 4b: open + load, then close (no attach) ---- */
static double sample_load_only(void *ctx)
{
	(void)ctx;
	double t0 = now_ns();
	struct bpf_object *obj = open_load(SMALL_ENTRIES);
	bpf_object__close(obj);
	return (now_ns() - t0) / 1e6; /* ms */
}

int main(int argc, char **argv)
{
	if (argc != 5)
		die("usage: %s OBJ read|bulk|write|load|loadonly MAX_SAMPLES BUDGET_MS", argv[0]);
	const char *c = argv[2];
	int max_samples = atoi(argv[3]);
	double budget = atof(argv[4]);
	if (max_samples < 3)
		max_samples = 3;
	libbpf_set_print(quiet_print);
	read_obj(argv[1]);
	fill_indices();

	if (!strcmp(c, "read") || !strcmp(c, "write")) {
		struct bpf_object *obj = open_load(SMALL_ENTRIES);
		g_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "counts"));
		if (!strcmp(c, "read"))
			emit(c, "C libbpf bpf_map_lookup_elem", measure(sample_lookup, NULL, max_samples, budget), "ns/op");
		else
			emit(c, "C libbpf bpf_map_update_elem", measure(sample_update, NULL, max_samples, budget), "ns/op");
		bpf_object__close(obj);
	} else if (!strcmp(c, "bulk")) {
		struct bpf_object *obj = open_load(BIG_ENTRIES);
		g_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "counts"));
		g_keys = calloc(BIG_ENTRIES, sizeof(uint32_t));
		g_vals = calloc(BIG_ENTRIES, sizeof(uint64_t));
		if (!g_keys || !g_vals)
			die("oom");
		memset(g_keys, 1, BIG_ENTRIES * sizeof(uint32_t)); /* fault the buffers in */
		memset(g_vals, 1, BIG_ENTRIES * sizeof(uint64_t));
		emit(c, "C libbpf bpf_map_lookup_batch", measure(sample_batch, NULL, max_samples, budget), "GB/s");
		bpf_object__close(obj);
	} else if (!strcmp(c, "load")) {
		emit(c, "C libbpf open+load+attach+close", measure(sample_load, NULL, max_samples, budget), "ms");
	} else if (!strcmp(c, "loadonly")) {
		emit(c, "C libbpf bpf_object__open_mem+load, close", measure(sample_load_only, NULL, max_samples, budget), "ms");
	} else {
		die("unknown case %s", c);
	}
	return 0;
}
