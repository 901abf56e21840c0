/* SPDX-License-Identifier: MIT */
/*
 * K4 on a real backend (argv: BACKEND IMAGE, the p2m guest): scattered
 * one-page ram_ro changes fill the backend's mapping limit while a guest
 * keeps running; one more change fails with ENOSPC and changes nothing
 * (type, mappings), and the guest still runs and finishes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../guests/p2m_abi.h"
#include "harness.h"

static const char *backend, *image;

static void test_p2m_limit_enospc_changes_nothing_guest_runs(void **state)
{
	struct harness h;
	/* 512 MiB: room for 16 K isolated pages two apart above the guest. */
	assert_int_equal(harness_create(&h, backend, image, "hammer", 1, 512 << 20), 0);
	struct p2m_abi_mailbox *mb = harness_ram(&h, P2M_ABI_MAILBOX, sizeof(*mb));
	assert_int_equal(harness_start(&h), 0);
	for (int i = 0; i < 30000 && !mb->phase; i++)
		usleep(1000);
	assert_int_equal(mb->phase, 1);

	struct p2m *p = &h.vm.p2m;
	struct p2m_stats st;
	p2m_get_stats(p, &st);
	unsigned limit = st.mappings_limit;
	fprintf(stderr, "%s: mapping limit %u, %u in use\n", backend, limit, st.mappings_used);
	char err[256];
	uint64_t pfn = 0x2000; /* 32 MiB */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		p2m_get_stats(p, &st);
		if (st.mappings_used + 2 > limit)
			break;
		assert_int_equal(p2m_set_mem_type(p, IOREQVM_MEM_RAM_RO, pfn, 1, err, sizeof(err)), 0);
		pfn += 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "%s: %llu isolated ram_ro pages, %u mappings, %.1f ms\n", backend,
		(unsigned long long)(pfn - 0x2000) / 2, st.mappings_used,
		(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	uint64_t maps = st.nr_map_calls, unmaps = st.nr_unmap_calls;
	int rc = p2m_set_mem_type(p, IOREQVM_MEM_RAM_RO, pfn, 1, err, sizeof(err));
	assert_int_equal(rc, -ENOSPC);
	fprintf(stderr, "refused as expected: %s\n", err);
	uint32_t t;
	assert_int_equal(p2m_get_mem_type(p, pfn, &t), 0);
	assert_int_equal(t, IOREQVM_MEM_RAM_RW);
	p2m_get_stats(p, &st);
	assert_int_equal(st.nr_map_calls, maps);
	assert_int_equal(st.nr_unmap_calls, unmaps);
	/* The guest is alive: its write counter still moves (a backend may
	 * first bring its engine up to date with the changes, K3). */
	volatile uint64_t *page = harness_ram(&h, P2M_ABI_PAGE, 8);
	uint64_t it = *page;
	for (int i = 0; i < 500 && *page == it; i++)
		usleep(10000);
	assert_true(*page != it);
	mb->stop = 1;
	assert_int_equal(harness_wait(&h, 60000), 1);
	harness_destroy(&h);
}

int main(int argc, char **argv)
{
	harness_args(argc, argv, &backend, &image);
	fprintf(stderr, "backend: %s\n", backend);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_p2m_limit_enospc_changes_nothing_guest_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
