/* SPDX-License-Identifier: MIT */
/*
 * K4 on a running guest: the cost of one page flip RW -> NONE -> RW while
 * the p2m guest keeps writing, with about 50, 200, 500, 1000 and 2000 (those
 * under the backend's limit) and the backend's limit of mappings in place,
 * and the time it took to set up that many (scattered one-page ram_ro
 * changes). Two times per flip: set_mem_type's return (the VMM's side:
 * pause, P2M, backend calls, resume), and until the guest has written the
 * page again after it (the backend's side too: on tcg every engine applies
 * a change itself before it runs guest code again). NONE here is a page of a type
 * claimed for READ|WRITE by a server that does not exist: accesses go
 * through the exit path to memory. Then the same flip with ~50 mappings and
 * 1, 2 and 4 vCPUs, the APs writing too (every engine or vCPU is paused
 * and remapped, K3/K7).
 * Usage: bench_flip P2M-GUEST [BACKEND [cpus]] -> a Markdown table on
 * stdout (with "cpus", the one per vCPU count).
 */
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../guests/p2m_abi.h"
#include "core/boot.h"
#include "core/vm.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* One VM with about @target mappings; prints a table row. */
/* Rows of the second table: flips per vCPU count. */
static bool cpu_table;

static int row(const char *image, const char *backend, unsigned target, bool cap,
	       unsigned cpus)
{
	char err[512];
	struct vm vm;
	struct vm_config cfg = { .memory = 256 << 20, .nr_vcpus = cpus, .accel = backend,
				 .console_fd = 2, .builtin_uart = true };
	if (vm_create(&vm, &cfg, err, sizeof(err))) {
		fprintf(stderr, "bench_flip: %s\n", err);
		vm_destroy(&vm);
		return -1;
	}
	struct boot_files files = { .kernel = image, .cmdline = "hammer" };
	struct p2m *p = &vm.p2m;
	struct p2m_claim c = { .server = 999, .flags = 3, .enabled = true };
	if (boot_guest(&vm, &files, NULL, err, sizeof(err)) ||
	    p2m_set_claim(p, IOREQVM_MEM_IOREQ_SERVER, &c, err, sizeof(err)) ||
	    vm_start(&vm, err, sizeof(err))) {
		fprintf(stderr, "bench_flip: %s\n", err);
		return -1;
	}
	volatile struct p2m_abi_mailbox *mb = guest_ram_ptr(&vm.ram, P2M_ABI_MAILBOX, sizeof(*mb));
	for (int i = 0; i < 10000 && !mb->phase; i++)
		usleep(1000);
	struct p2m_stats st;
	p2m_get_stats(p, &st);
	/* Room for the flip: its NONE page splits a mapping, and keeps 2 for its release (C4). */
	unsigned goal = cap ? st.mappings_limit - 4 : target;
	if (goal > st.mappings_limit - 4) { /* not this backend's row */
		mb->stop = 1;
		vm_stop(&vm, 0);
		vm_join(&vm);
		vm_destroy(&vm);
		return 1;
	}
	uint64_t pfn = 0x2000; /* scattered ram_ro pages from 32 MiB */
	double t0 = now_ms();
	for (;;) {
		p2m_get_stats(p, &st);
		if (st.mappings_used + 2 > goal)
			break;
		if (p2m_set_mem_type(p, IOREQVM_MEM_RAM_RO, pfn, 1, P2M_OWNER_VMM, err,
				     sizeof(err)))
			break;
		pfn += 2;
	}
	double setup = now_ms() - t0;
	p2m_get_stats(p, &st);
	enum { FLIPS = 50 };
	double t[2 * FLIPS], ran[2 * FLIPS];
	uint64_t page = P2M_ABI_PAGE >> 12;
	volatile uint64_t *counter = guest_ram_ptr(&vm.ram, P2M_ABI_PAGE, 8);
	int done = 0;
	for (int i = 0; i < 2 * FLIPS; i++, done++) {
		double a = now_ms();
		if (p2m_set_mem_type(p, i & 1 ? IOREQVM_MEM_RAM_RW : IOREQVM_MEM_IOREQ_SERVER, page,
				     1, P2M_OWNER_VMM, err, sizeof(err))) {
			fprintf(stderr, "bench_flip: %s\n", err);
			break;
		}
		t[i] = now_ms() - a;
		/*
		 * The guest writes i, i + 1, ... there: a new value, it ran on.
		 * Yield while waiting: on a busy machine a plain spin kept the
		 * vCPU thread off the CPU until the next tick (4 ms steps).
		 */
		uint64_t v = *counter;
		while (*counter == v && now_ms() - a < 10000)
			sched_yield();
		ran[i] = now_ms() - a;
	}
	if (!done)
		return -1;
	qsort(t, (size_t)done, sizeof(t[0]), cmp_double);
	qsort(ran, (size_t)done, sizeof(ran[0]), cmp_double);
	if (cpu_table)
		printf("| %s | %u | %u | %.3f ms (%.3f-%.3f) | %.3f ms (%.3f-%.3f) |\n", backend,
		       cpus, st.mappings_used, t[done / 2], t[0], t[done - 1], ran[done / 2],
		       ran[0], ran[done - 1]);
	else
		printf("| %s | %u%s | %.1f ms | %.3f ms (%.3f-%.3f) | %.3f ms (%.3f-%.3f) |\n",
		       backend, st.mappings_used, cap ? " (the limit, less 4)" : "", setup,
		       t[done / 2], t[0], t[done - 1], ran[done / 2], ran[0], ran[done - 1]);
	mb->stop = 1;
	vm_stop(&vm, 0);
	vm_join(&vm);
	vm_destroy(&vm);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_flip P2M-GUEST [BACKEND [cpus]]\n");
		return 2;
	}
	const char *backend = argc > 2 ? argv[2] : "tcg";
	if (argc > 3 && !strcmp(argv[3], "cpus")) {
		printf("| backend | vCPUs running | mappings in place | one flip RW<->NONE, VMM side, median (min-max) | until the guest ran on |\n"
		       "|---|---|---|---|---|\n");
		cpu_table = true;
		for (unsigned cpus = 1; cpus <= 4; cpus *= 2)
			row(argv[1], backend, 50, false, cpus);
		return 0;
	}
	printf("| backend | mappings in place | setup time | one flip RW<->NONE, VMM side, median (min-max) | until the guest ran on |\n"
	       "|---|---|---|---|---|\n");
	static const unsigned targets[] = { 50, 200, 500, 1000, 2000 };
	for (unsigned i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		if (row(argv[1], backend, targets[i], false, 1) > 0)
			break;
	row(argv[1], backend, 0, true, 1);
	return 0;
}
