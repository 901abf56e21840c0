/* SPDX-License-Identifier: MIT */
/*
 * K4 on a real backend (argv: BACKEND IMAGE, the p2m guest): scattered
 * one-page ram_ro changes fill the backend's mapping limit while a guest
 * keeps running; one more change fails with ENOSPC and changes nothing
 * (type, mappings), and the guest still runs and finishes. Then C4 against
 * the limit, through the control socket as a device model would: claimed
 * pages alternating with ram_ro pages up to the refusal, and the claim's
 * release, its server's destruction or its connection's end still works.
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
#include "ctl/ctl_server.h"
#include "harness.h"
#include "libioreq.h"

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
		assert_int_equal(p2m_set_mem_type(p, IOREQVM_MEM_RAM_RO, pfn, 1, P2M_OWNER_VMM, err,
						  sizeof(err)), 0);
		pfn += 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "%s: %llu isolated ram_ro pages, %u mappings, %.1f ms\n", backend,
		(unsigned long long)(pfn - 0x2000) / 2, st.mappings_used,
		(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	uint64_t maps = st.nr_map_calls, unmaps = st.nr_unmap_calls;
	int rc = p2m_set_mem_type(p, IOREQVM_MEM_RAM_RO, pfn, 1, P2M_OWNER_VMM, err,
				  sizeof(err));
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

static uint16_t type_at(struct harness *h, uint64_t pfn)
{
	uint32_t t = 99;
	assert_int_equal(p2m_get_mem_type(&h->vm.p2m, pfn, &t), 0);
	return (uint16_t)t;
}

/* The guest's write counter still moves. */
static void assert_guest_runs(struct harness *h)
{
	volatile uint64_t *page = harness_ram(h, P2M_ABI_PAGE, 8);
	uint64_t it = *page;
	for (int i = 0; i < 500 && *page == it; i++)
		usleep(10000);
	assert_true(*page != it);
}

/*
 * DESIGN C4, I5, K4 (issue 15, defect 3). A model claims ioreq_server for
 * READ|WRITE (its pages get no mapping) and makes claimed pages alternate
 * with ram_ro pages (a mapping each) until set_mem_type is refused: then
 * releasing the claim needs a mapping per claimed page more, and must
 * still work, every way a claim ends: the release itself (flags 0), the
 * server destroyed, the model's connection gone. Afterwards every page is
 * ram_rw and another model claims the type.
 */
static void test_p2m_limit_c4_release_after_alternating_attack_always_works(void **state)
{
	struct harness h;
	assert_int_equal(harness_create(&h, backend, image, "hammer", 1, 512 << 20), 0);
	struct p2m_abi_mailbox *mb = harness_ram(&h, P2M_ABI_MAILBOX, sizeof(*mb));
	assert_int_equal(harness_start(&h), 0);
	for (int i = 0; i < 30000 && !mb->phase; i++)
		usleep(1000);
	assert_int_equal(mb->phase, 1);
	struct ctl_server cs;
	char path[108], err[256];
	snprintf(path, sizeof(path), "/tmp/ioreqvm-test-p2m-limit-%d.sock", (int)getpid());
	assert_int_equal(ctl_server_start(&cs, &h.vm, path, err, sizeof(err)), 0);
	const uint32_t rw = IOREQVM_MEM_ACCESS_READ | IOREQVM_MEM_ACCESS_WRITE;
	/* Room for the pages the budget allows (2 a claimed run, 1 a ram_ro
	 * page), at the end of RAM: each change then splits only the short
	 * mapping after them (a big KVM slot is slow to create). */
	struct p2m_stats st;
	p2m_get_stats(&h.vm.p2m, &st);
	const uint64_t base = ((512ULL << 20) >> 12) - 2 * (st.mappings_limit / 3 + 8);
	assert_true(base >= 0x4000); /* clear of the guest, below 64 MiB */
	struct libioreq *b;
	assert_int_equal(libioreq_connect(path, &b), 0);
	for (int how = 0; how < 3; how++) {
		struct libioreq *a;
		uint16_t id;
		assert_int_equal(libioreq_connect(path, &a), 0);
		assert_int_equal(libioreq_create_ioreq_server(a, false, &id), 0);
		assert_int_equal(libioreq_set_ioreq_server_state(a, id, true), 0);
		assert_int_equal(libioreq_map_mem_type_to_ioreq_server(a, id, IOREQVM_MEM_IOREQ_SERVER,
								       rw), 0);
		uint64_t k = 0;
		int rc;
		for (;; k++) {
			rc = libioreq_set_mem_type(a, IOREQVM_MEM_IOREQ_SERVER, base + 2 * k, 1);
			if (rc)
				break;
			rc = libioreq_set_mem_type(a, IOREQVM_MEM_RAM_RO, base + 2 * k + 1, 1);
			if (rc)
				break;
		}
		p2m_get_stats(&h.vm.p2m, &st);
		fprintf(stderr, "%s: %llu claimed pages, %u of %u mappings; refused: %s\n", backend,
			(unsigned long long)k, st.mappings_used, st.mappings_limit, libioreq_error(a));
		assert_int_equal(rc, -ENOSPC);
		assert_non_null(strstr(libioreq_error(a), "C4"));
		assert_true(k > 10);
		if (how == 0) {
			assert_int_equal(libioreq_map_mem_type_to_ioreq_server(
						 a, id, IOREQVM_MEM_IOREQ_SERVER, 0), 0);
			libioreq_close(a);
		} else if (how == 1) {
			assert_int_equal(libioreq_destroy_ioreq_server(a, id), 0);
			libioreq_close(a);
		} else {
			libioreq_close(a); /* as if the model exited or was killed */
			struct ioreqvm_op_server_list l;
			for (int i = 0; i < 3000; i++) {
				assert_int_equal(libioreq_list_servers(b, &l), 0);
				if (!l.nr)
					break;
				usleep(1000);
			}
			assert_int_equal(l.nr, 0);
		}
		/* C4: every page the type had is ram_rw. */
		assert_int_equal(p2m_count_type(&h.vm.p2m, IOREQVM_MEM_IOREQ_SERVER), 0);
		for (uint64_t i = 0; i <= k; i++)
			assert_int_equal(type_at(&h, base + 2 * i), IOREQVM_MEM_RAM_RW);
		assert_int_equal(type_at(&h, base + 1), IOREQVM_MEM_RAM_RO);
		p2m_get_stats(&h.vm.p2m, &st);
		assert_true(st.mappings_used <= st.mappings_limit);
		/* The type is free: another model's server claims it. */
		uint16_t id2;
		assert_int_equal(libioreq_create_ioreq_server(b, false, &id2), 0);
		assert_int_equal(libioreq_map_mem_type_to_ioreq_server(b, id2, IOREQVM_MEM_IOREQ_SERVER,
								       rw), 0);
		assert_int_equal(libioreq_destroy_ioreq_server(b, id2), 0);
		/* Back to plain RAM for the next round: one change. */
		assert_int_equal(libioreq_set_mem_type(b, IOREQVM_MEM_RAM_RW, base, 2 * k + 2), 0);
		assert_guest_runs(&h);
	}
	libioreq_close(b);
	ctl_server_stop(&cs);
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
		cmocka_unit_test(test_p2m_limit_c4_release_after_alternating_attack_always_works),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
