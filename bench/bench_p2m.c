/* SPDX-License-Identifier: MIT */
/*
 * P3 benchmark: cost of set_mem_type for 1, 1 Ki and 1 Mi pages as one run,
 * and of replacing 1 Mi pages laid out as 1000 and 10 Ki runs: wall time,
 * P2M memory, backend map/unmap calls. Two columns per case, measured in
 * the same run: "P2M work" with a backend that does nothing (the P2M and the
 * mapping compiler alone), and the real backend (KVM memslot ioctls).
 * Prints a Markdown table; bench/run.sh puts it into BENCHMARKS.md.
 * Usage: bench_p2m [BACKEND] (default kvm; "none" for the P2M column only)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/vm.h"
#include "p2m/p2m.h"

#define REPS 7
#define RAM (7ULL << 30)        /* 3 GiB low + 4 GiB (1 Mi pages) above 4 GiB */
#define BASE 0x100000ULL        /* pfn of 4 GiB */

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int null_map(void *c, uint64_t g, uint64_t s, uint64_t o, enum mem_access a)
{
	return 0;
}
static int null_unmap(void *c, uint64_t g)
{
	return 0;
}
static void nop(void *c)
{
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct result {
	double med, min, max; /* us */
	uint64_t calls;       /* map + unmap per change */
	uint64_t bytes;       /* P2M type map after the change */
	uint64_t runs;
};

/* Lay out @runs runs over 1 Mi pages (or one run), then time the change of all of them. */
static int measure(struct p2m *p, unsigned runs, uint64_t pages, struct result *r)
{
	char err[256];
	double t[REPS];
	for (int rep = 0; rep < REPS; rep++) {
		if (runs > 1) {
			uint64_t stride = pages / runs;
			for (unsigned i = 0; i < runs; i++)
				if (p2m_set_mem_type(p, IOREQVM_MEM_RAM_RO, BASE + i * stride, stride / 2,
						     P2M_OWNER_VMM, err, sizeof(err))) {
					fprintf(stderr, "layout: %s\n", err);
					return -1;
				}
		}
		struct p2m_stats a, b;
		p2m_get_stats(p, &a);
		uint32_t to = runs > 1 ? IOREQVM_MEM_RAM_RW : IOREQVM_MEM_RAM_RO;
		double t0 = now_us();
		int rc = p2m_set_mem_type(p, to, BASE, pages, P2M_OWNER_VMM, err, sizeof(err));
		t[rep] = now_us() - t0;
		p2m_get_stats(p, &b);
		if (rc) {
			fprintf(stderr, "change: %s\n", err);
			return -1;
		}
		r->calls = (b.nr_map_calls + b.nr_unmap_calls) - (a.nr_map_calls + a.nr_unmap_calls);
		r->bytes = a.bytes;
		r->runs = a.nr_runs;
		/* Back to all ram_rw for the next repetition. */
		if (runs == 1 && p2m_set_mem_type(p, IOREQVM_MEM_RAM_RW, BASE, pages, P2M_OWNER_VMM,
						  err, sizeof(err)))
			return -1;
	}
	qsort(t, REPS, sizeof(t[0]), cmp_double);
	r->med = t[REPS / 2];
	r->min = t[0];
	r->max = t[REPS - 1];
	return 0;
}

/*
 * Claims: with type 4 claimed for WRITE, give the pages the type (as 1 run,
 * or as @runs runs, one set_mem_type each), then release the claim (C4:
 * every page back to ram_rw in one call). Times the marking (all calls) and
 * the release, and counts the release's backend calls.
 */
static int measure_claim(struct p2m *p, unsigned runs, uint64_t pages, struct result *mark,
			 struct result *rel)
{
	enum { CLAIM_REPS = 3 };
	char err[256];
	double tm[CLAIM_REPS], tr[CLAIM_REPS];
	for (int rep = 0; rep < CLAIM_REPS; rep++) {
		struct p2m_claim c = { .server = 1, .flags = IOREQVM_MEM_ACCESS_WRITE, .enabled = true };
		if (p2m_set_claim(p, IOREQVM_MEM_IOREQ_SERVER, &c, err, sizeof(err)))
			return -1;
		uint64_t stride = pages / runs, len = runs > 1 ? stride / 2 : pages;
		double t0 = now_us();
		for (unsigned i = 0; i < runs; i++)
			if (p2m_set_mem_type(p, IOREQVM_MEM_IOREQ_SERVER, BASE + i * stride, len,
					     P2M_OWNER_VMM, err, sizeof(err))) {
				fprintf(stderr, "mark: %s\n", err);
				return -1;
			}
		tm[rep] = now_us() - t0;
		struct p2m_stats a, b;
		p2m_get_stats(p, &a);
		struct p2m_claim none = { 0 };
		t0 = now_us();
		if (p2m_set_claim(p, IOREQVM_MEM_IOREQ_SERVER, &none, err, sizeof(err)))
			return -1;
		tr[rep] = now_us() - t0;
		p2m_get_stats(p, &b);
		rel->calls = (b.nr_map_calls + b.nr_unmap_calls) - (a.nr_map_calls + a.nr_unmap_calls);
		rel->runs = a.nr_runs;
		rel->bytes = a.bytes;
	}
	qsort(tm, CLAIM_REPS, sizeof(tm[0]), cmp_double);
	qsort(tr, CLAIM_REPS, sizeof(tr[0]), cmp_double);
	*mark = (struct result){ .med = tm[1], .min = tm[0], .max = tm[2] };
	rel->med = tr[1];
	rel->min = tr[0];
	rel->max = tr[2];
	return 0;
}

static const struct { const char *name; unsigned runs; uint64_t pages; } claim_cases[] = {
	{ "1 page, 1 run", 1, 1 },
	{ "1 Ki pages, 1 run", 1, 1024 },
	{ "1 Mi pages, 1 run", 1, 1 << 20 },
	/* 5 Ki: 10 Ki scattered WRITE-claimed runs (2 slots each, and 2 kept to
	 * release each, C4) are past KVM's slot budget. */
	{ "1 Mi pages, 5 Ki runs", 5120, 1 << 20 },
};

static int claims_table(const char *backend, const struct guest_ram *layout)
{
	struct map_target none = { .map = null_map, .unmap = null_unmap, .limit = 32764 };
	struct p2m_pauser pz = { .pause = nop, .resume = nop };
	printf("\n| claimed type (WRITE) | P2M work: mark / release | %s: mark / release | "
	       "%s release calls |\n|---|---|---|---|\n", backend, backend);
	for (unsigned c = 0; c < 4; c++) {
		struct result m0, r0, m1 = { 0 }, r1 = { 0 };
		struct p2m p;
		if (p2m_init(&p, layout, &none, &pz) ||
		    measure_claim(&p, claim_cases[c].runs, claim_cases[c].pages, &m0, &r0))
			return -1;
		p2m_destroy(&p);
		bool real = strcmp(backend, "none") != 0;
		if (real) {
			struct vm vm;
			char err[256];
			struct vm_config cfg = { .memory = RAM, .nr_vcpus = 1, .accel = backend,
						 .console_fd = 1 };
			if (vm_create(&vm, &cfg, err, sizeof(err)) ||
			    measure_claim(&vm.p2m, claim_cases[c].runs, claim_cases[c].pages, &m1, &r1))
				real = false;
			vm_destroy(&vm);
		}
		printf("| %s | %.1f us / %.1f us |", claim_cases[c].name, m0.med, r0.med);
		if (real)
			printf(" %.1f us / %.1f us | %" PRIu64 " |\n", m1.med, r1.med, r1.calls);
		else
			printf(" - | - |\n");
	}
	return 0;
}

static const struct { const char *name; unsigned runs; uint64_t pages; } cases[] = {
	{ "1 page, 1 run", 1, 1 },
	{ "1 Ki pages, 1 run", 1, 1024 },
	{ "1 Mi pages, 1 run", 1, 1 << 20 },
	{ "1 Mi pages, 1000 runs -> 1 run", 1000, 1 << 20 },
	{ "1 Mi pages, 10 Ki runs -> 1 run", 10240, 1 << 20 },
};

int main(int argc, char **argv)
{
	const char *backend = argc > 1 ? argv[1] : "kvm";
	struct guest_ram layout;
	guest_ram_layout(&layout, RAM);

	/* Column 1: the P2M alone. */
	struct map_target none = { .map = null_map, .unmap = null_unmap, .limit = 32764 };
	struct p2m_pauser pz = { .pause = nop, .resume = nop };
	struct result alone[5], real[5];
	for (unsigned c = 0; c < 5; c++) {
		struct p2m p;
		if (p2m_init(&p, &layout, &none, &pz))
			return 1;
		if (measure(&p, cases[c].runs, cases[c].pages, &alone[c]))
			return 1;
		p2m_destroy(&p);
	}

	/* Column 2: the real backend, in a real (idle) VM. */
	bool have_real = strcmp(backend, "none") != 0;
	for (unsigned c = 0; have_real && c < 5; c++) {
		struct vm vm;
		char err[256];
		struct vm_config cfg = { .memory = RAM, .nr_vcpus = 1, .accel = backend,
					 .console_fd = 1 };
		if (vm_create(&vm, &cfg, err, sizeof(err))) {
			fprintf(stderr, "%s: %s: real-backend column skipped\n", backend, err);
			vm_destroy(&vm);
			have_real = false;
			break;
		}
		if (measure(&vm.p2m, cases[c].runs, cases[c].pages, &real[c]))
			return 1;
		vm_destroy(&vm);
	}

	printf("| change (set_mem_type) | runs before | P2M memory | P2M work: median (min-max) | "
	       "%s: median (min-max) | %s map+unmap calls |\n", have_real ? backend : "-",
	       have_real ? backend : "-");
	printf("|---|---|---|---|---|---|\n");
	for (unsigned c = 0; c < 5; c++) {
		printf("| %s | %" PRIu64 " | %" PRIu64 " B | %.1f us (%.1f-%.1f) |", cases[c].name,
		       alone[c].runs, alone[c].bytes, alone[c].med, alone[c].min, alone[c].max);
		if (have_real)
			printf(" %.1f us (%.1f-%.1f) | %" PRIu64 " |\n", real[c].med, real[c].min,
			       real[c].max, real[c].calls);
		else
			printf(" - | %" PRIu64 " (planned) |\n", alone[c].calls);
	}
	return claims_table(have_real ? backend : "none", &layout) ? 1 : 0;
}
