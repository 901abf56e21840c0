/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the P2M with a mock backend: every S rule (allowed and
 * refused transitions, edges of guest-physical space, overflow, all or
 * nothing), the mapping compiler (minimal unmap/map sequences, merge/split,
 * the limit, a list of ranges as one plan), O(runs) cost, one plan per
 * claim change (P3), the release budget (C4, K4), statistics without the
 * writer lock, and R5 on claimed pages. The mock checks that mappings never
 * overlap and records every call.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "p2m/p2m.h"

#define MAXMAP 4096

struct mock {
	struct { uint64_t gpa, size, off; enum mem_access acc; bool used; } m[MAXMAP];
	unsigned maps, unmaps, pauses, resumes, live;
	bool paused;
	struct p2m *p2m;       /* for on_pause */
	void (*on_pause)(struct mock *k);
};

static int mock_map(void *ctx, uint64_t gpa, uint64_t size, uint64_t off, enum mem_access acc)
{
	struct mock *k = ctx;
	assert_true(k->paused || k->pauses == 0); /* K3: only while paused (or before start) */
	assert_int_not_equal(acc, MEM_ACCESS_NONE);
	for (unsigned i = 0; i < MAXMAP; i++)
		if (k->m[i].used)
			assert_true(gpa + size <= k->m[i].gpa || k->m[i].gpa + k->m[i].size <= gpa);
	for (unsigned i = 0; i < MAXMAP; i++) {
		if (!k->m[i].used) {
			k->m[i].used = true;
			k->m[i].gpa = gpa;
			k->m[i].size = size;
			k->m[i].off = off;
			k->m[i].acc = acc;
			k->maps++;
			k->live++;
			return 0;
		}
	}
	return -ENOSPC;
}

static int mock_unmap(void *ctx, uint64_t gpa)
{
	struct mock *k = ctx;
	for (unsigned i = 0; i < MAXMAP; i++) {
		if (k->m[i].used && k->m[i].gpa == gpa) {
			k->m[i].used = false;
			k->unmaps++;
			k->live--;
			return 0;
		}
	}
	fail_msg("unmap of 0x%llx: no such mapping", (unsigned long long)gpa);
	return -ENOENT;
}

static void mock_pause(void *ctx)
{
	struct mock *k = ctx;
	k->pauses++;
	k->paused = true;
	if (k->on_pause)
		k->on_pause(k);
}

static void mock_resume(void *ctx)
{
	struct mock *k = ctx;
	k->resumes++;
	k->paused = false;
}

/* Access of the mock's mapping covering @gpa, NONE if unmapped. */
static enum mem_access mock_access(struct mock *k, uint64_t gpa)
{
	for (unsigned i = 0; i < MAXMAP; i++)
		if (k->m[i].used && gpa >= k->m[i].gpa && gpa < k->m[i].gpa + k->m[i].size)
			return k->m[i].acc;
	return MEM_ACCESS_NONE;
}

struct fixture {
	struct guest_ram ram;
	struct mock mock;
	struct p2m p2m;
	char err[256];
};

static struct fixture *make(uint64_t ram_size, unsigned limit)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_int_equal(guest_ram_layout(&f->ram, ram_size), 0);
	struct map_target t = { .ctx = &f->mock, .map = mock_map, .unmap = mock_unmap,
				.limit = limit };
	struct p2m_pauser pz = { .ctx = &f->mock, .pause = mock_pause, .resume = mock_resume };
	assert_int_equal(p2m_init(&f->p2m, &f->ram, &t, &pz), 0);
	f->mock.p2m = &f->p2m;
	return f;
}

static void destroy(struct fixture *f)
{
	p2m_destroy(&f->p2m);
	free(f);
}

static uint32_t type_of(struct fixture *f, uint64_t pfn)
{
	uint32_t t = 99;
	assert_int_equal(p2m_get_mem_type(&f->p2m, pfn, &t), 0);
	return t;
}

static void claim(struct fixture *f, uint32_t type, uint32_t flags)
{
	struct p2m_claim c = { .server = 1, .flags = flags, .enabled = true };
	assert_int_equal(p2m_set_claim(&f->p2m, type, &c, f->err, sizeof(f->err)), 0);
}

#define SET(f, t, a, n) \
	p2m_set_mem_type(&(f)->p2m, (t), (a), (n), P2M_OWNER_VMM, (f)->err, sizeof((f)->err))

static void test_p2m_initial_types_ram_and_hole(void **state)
{
	struct fixture *f = make(64 << 20, 100); /* 64 MiB: 16384 pages */
	assert_int_equal(type_of(f, 0), IOREQVM_MEM_RAM_RW);
	assert_int_equal(type_of(f, 16383), IOREQVM_MEM_RAM_RW);
	assert_int_equal(type_of(f, 16384), IOREQVM_MEM_MMIO_DM);
	assert_int_equal(type_of(f, 0xfffff), IOREQVM_MEM_MMIO_DM);
	uint32_t t;
	assert_int_equal(p2m_get_mem_type(&f->p2m, 0x100000, &t), -EINVAL); /* past 4 GiB */
	/* The VGA window is a hole, as on a PC: RAM is two mappings around it. */
	assert_int_equal(type_of(f, 0x9f), IOREQVM_MEM_RAM_RW);
	assert_int_equal(type_of(f, 0xa0), IOREQVM_MEM_MMIO_DM);
	assert_int_equal(type_of(f, 0xbf), IOREQVM_MEM_MMIO_DM);
	assert_int_equal(type_of(f, 0xc0), IOREQVM_MEM_RAM_RW);
	assert_int_equal(mock_access(&f->mock, 0xa0000), MEM_ACCESS_NONE);
	assert_int_equal(f->mock.live, 2);
	assert_int_equal(mock_access(&f->mock, 0), MEM_ACCESS_RW);
	destroy(f);
}

static void test_p2m_s5_get_answers_current_type(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 100, 10), 0);
	assert_int_equal(type_of(f, 99), IOREQVM_MEM_RAM_RW);
	assert_int_equal(type_of(f, 100), IOREQVM_MEM_RAM_RO);
	assert_int_equal(type_of(f, 109), IOREQVM_MEM_RAM_RO);
	assert_int_equal(type_of(f, 110), IOREQVM_MEM_RAM_RW);
	destroy(f);
}

static void test_p2m_m4_unused_always_refused(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	assert_int_equal(SET(f, IOREQVM_MEM_UNUSED, 0, 1), -EINVAL);
	assert_non_null(strstr(f->err, "M4"));
	assert_int_equal(SET(f, IOREQVM_MEM_UNUSED, 16384, 1), -EINVAL);
	destroy(f);
}

static void test_p2m_s4_rejects_bad_ranges_and_types(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	uint64_t end = f->p2m.nr_pages;
	assert_int_equal(SET(f, 12, 0, 1), -EINVAL);
	assert_int_equal(SET(f, 0xffffffffu, 0, 1), -EINVAL);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 0, 0), -EINVAL);
	assert_non_null(strstr(f->err, "nr is 0"));
	assert_int_equal(SET(f, IOREQVM_MEM_MMIO_DM, end, 1), -EINVAL);
	assert_int_equal(SET(f, IOREQVM_MEM_MMIO_DM, end - 1, 2), -EINVAL);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 1, UINT64_MAX), -EINVAL); /* overflow */
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, UINT64_MAX, 2), -EINVAL);
	assert_non_null(strstr(f->err, "outside"));
	/* The very edges are fine. */
	assert_int_equal(SET(f, IOREQVM_MEM_MMIO_DM, end - 1, 1), 0);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 0, 1), 0);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 16383, 1), 0);
	destroy(f);
}

static void test_p2m_s1_ioreq_only_from_and_to_ram_rw(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	claim(f, IOREQVM_MEM_IOREQ_SERVER, IOREQVM_MEM_ACCESS_WRITE);
	assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER, 10, 5), 0);
	/* from ioreq_server: only to ram_rw */
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 10, 1), -EINVAL);
	assert_non_null(strstr(f->err, "S1"));
	assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER, 10, 1), -EINVAL);
	/* to ioreq_server: only from ram_rw */
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 20, 1), 0);
	assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER, 20, 1), -EINVAL);
	assert_non_null(strstr(f->err, "S1"));
	assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER, 16384, 1), -EINVAL); /* hole */
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RW, 10, 5), 0);
	assert_int_equal(type_of(f, 12), IOREQVM_MEM_RAM_RW);
	destroy(f);
}

static void test_p2m_s2_ioreq_type_needs_a_claim(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	for (uint32_t t = IOREQVM_MEM_IOREQ_SERVER; t <= IOREQVM_MEM_IOREQ_SERVER7; t++) {
		assert_int_equal(SET(f, t, 30, 1), -EINVAL);
		assert_non_null(strstr(f->err, "S2"));
		claim(f, t, IOREQVM_MEM_ACCESS_WRITE);
		assert_int_equal(SET(f, t, 30 + t, 1), 0);
		assert_int_equal(type_of(f, 30 + t), t);
	}
	destroy(f);
}

static void test_p2m_s3_ram_types_and_holes(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 5, 3), 0);   /* rw -> ro */
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 5, 3), 0);   /* ro -> ro */
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RW, 5, 3), 0);   /* ro -> rw */
	assert_int_equal(SET(f, IOREQVM_MEM_MMIO_DM, 5, 1), -EINVAL); /* RAM -> mmio_dm */
	assert_non_null(strstr(f->err, "S3"));
	assert_int_equal(SET(f, IOREQVM_MEM_MMIO_DM, 16384, 100), 0); /* hole -> mmio_dm */
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RW, 16384, 1), -EINVAL); /* hole -> RAM */
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 16380, 8), -EINVAL); /* straddles */
	assert_int_equal(type_of(f, 16380), IOREQVM_MEM_RAM_RW);
	destroy(f);
}

static void test_p2m_s4_all_or_nothing_on_refused_page_in_middle(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	claim(f, IOREQVM_MEM_IOREQ_SERVER, IOREQVM_MEM_ACCESS_WRITE);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 0x200 + 500, 1), 0);
	unsigned maps = f->mock.maps, unmaps = f->mock.unmaps;
	assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER, 0x200, 1000), -EINVAL);
	assert_non_null(strstr(f->err, "0x3f4")); /* names the refused page */
	for (uint64_t pfn = 0x200; pfn < 0x200 + 1000; pfn++)
		assert_int_equal(type_of(f, pfn),
				 pfn == 0x200 + 500 ? IOREQVM_MEM_RAM_RO : IOREQVM_MEM_RAM_RW);
	assert_int_equal(f->mock.maps, maps);
	assert_int_equal(f->mock.unmaps, unmaps);
	destroy(f);
}

static void test_p2m_compiler_split_is_one_unmap_three_maps(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	unsigned maps = f->mock.maps, unmaps = f->mock.unmaps;
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 100, 10), 0);
	assert_int_equal(f->mock.unmaps - unmaps, 1);
	assert_int_equal(f->mock.maps - maps, 3);
	assert_int_equal(f->mock.live, 4); /* 3 below the VGA window, 1 above */
	assert_int_equal(mock_access(&f->mock, 99 << 12), MEM_ACCESS_RW);
	assert_int_equal(mock_access(&f->mock, 100 << 12), MEM_ACCESS_RO);
	assert_int_equal(mock_access(&f->mock, 110 << 12), MEM_ACCESS_RW);
	/* Back: the three merge into one again. */
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RW, 100, 10), 0);
	assert_int_equal(f->mock.live, 2);
	destroy(f);
}

static void test_p2m_compiler_grows_a_neighbour_minimally(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 100, 10), 0);
	unsigned maps = f->mock.maps, unmaps = f->mock.unmaps;
	/* Extending the RO run by 10 pages: both neighbours' mappings change. */
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 110, 10), 0);
	assert_int_equal(f->mock.unmaps - unmaps, 2);
	assert_int_equal(f->mock.maps - maps, 2);
	assert_int_equal(f->mock.live, 4);
	/* Nothing changes: no calls, no pause. */
	maps = f->mock.maps, unmaps = f->mock.unmaps;
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 100, 20), 0);
	assert_int_equal(f->mock.maps, maps);
	assert_int_equal(f->mock.unmaps, unmaps);
	destroy(f);
}

static void test_p2m_compiler_unclaimed_and_claimed_access(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	claim(f, IOREQVM_MEM_IOREQ_SERVER, IOREQVM_MEM_ACCESS_WRITE);
	claim(f, IOREQVM_MEM_IOREQ_SERVER1, IOREQVM_MEM_ACCESS_READ | IOREQVM_MEM_ACCESS_WRITE);
	assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER, 10, 1), 0);
	assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER1, 20, 1), 0);
	assert_int_equal(mock_access(&f->mock, 10 << 12), MEM_ACCESS_RO);   /* WRITE claim */
	assert_int_equal(mock_access(&f->mock, 20 << 12), MEM_ACCESS_NONE); /* READ claim */
	assert_int_equal(p2m_type_access(&f->p2m, IOREQVM_MEM_IOREQ_SERVER2), MEM_ACCESS_RW);
	struct p2m_claim off = { .server = 1, .flags = IOREQVM_MEM_ACCESS_WRITE, .enabled = false };
	assert_int_equal(p2m_set_claim(&f->p2m, IOREQVM_MEM_IOREQ_SERVER2, &off, f->err,
				       sizeof(f->err)), 0);
	assert_int_equal(p2m_type_access(&f->p2m, IOREQVM_MEM_IOREQ_SERVER2), MEM_ACCESS_RW);
	/* C5: the owner disabled, its claimed pages are plain RAM to the guest. */
	assert_int_equal(p2m_set_server_enabled(&f->p2m, 1, false), 0);
	assert_int_equal(mock_access(&f->mock, 10 << 12), MEM_ACCESS_RW);
	assert_int_equal(mock_access(&f->mock, 20 << 12), MEM_ACCESS_RW);
	assert_int_equal(p2m_set_server_enabled(&f->p2m, 1, true), 0);
	assert_int_equal(mock_access(&f->mock, 10 << 12), MEM_ACCESS_RO);
	assert_int_equal(mock_access(&f->mock, 20 << 12), MEM_ACCESS_NONE);
	destroy(f);
}

static void test_p2m_compiler_limit_enospc_changes_nothing(void **state)
{
	struct fixture *f = make(64 << 20, 8);
	/* Each isolated RO page adds two mappings: 2 + 2k <= 8 -> k = 3. */
	for (uint64_t i = 0; i < 3; i++)
		assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 100 + 10 * i, 1), 0);
	assert_int_equal(f->mock.live, 8);
	unsigned maps = f->mock.maps, unmaps = f->mock.unmaps, pauses = f->mock.pauses;
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 1000, 1), -ENOSPC);
	assert_non_null(strstr(f->err, "limit"));
	assert_int_equal(type_of(f, 1000), IOREQVM_MEM_RAM_RW);
	assert_int_equal(f->mock.maps, maps);
	assert_int_equal(f->mock.unmaps, unmaps);
	assert_int_equal(f->mock.pauses, pauses); /* the guest never stopped */
	/* A change that needs no new mapping still works at the limit. */
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 101, 1), 0);
	assert_int_equal(f->mock.live, 8);
	destroy(f);
}

static void test_p2m_c4_release_reverts_pages_to_ram_rw(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	claim(f, IOREQVM_MEM_IOREQ_SERVER, IOREQVM_MEM_ACCESS_WRITE);
	for (uint64_t i = 0; i < 10; i++)
		assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER, 0x400 + 4 * i, 2), 0);
	assert_int_equal(p2m_count_type(&f->p2m, IOREQVM_MEM_IOREQ_SERVER), 20);
	assert_int_equal(f->mock.live, 2 + 20);
	struct p2m_claim none = { 0 };
	assert_int_equal(p2m_set_claim(&f->p2m, IOREQVM_MEM_IOREQ_SERVER, &none, f->err,
				       sizeof(f->err)), 0);
	assert_int_equal(p2m_count_type(&f->p2m, IOREQVM_MEM_IOREQ_SERVER), 0);
	assert_int_equal(type_of(f, 0x400), IOREQVM_MEM_RAM_RW);
	assert_int_equal(f->mock.live, 2); /* merged back into one RAM mapping */
	assert_int_equal(p2m_get_claim(&f->p2m, IOREQVM_MEM_IOREQ_SERVER).flags, 0);
	/* Unclaimed now: S2 refuses new pages of the type. */
	assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER, 0x400, 1), -EINVAL);
	destroy(f);
}

static void test_p2m_claim_flags_change_remaps_pages(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	claim(f, IOREQVM_MEM_IOREQ_SERVER3, IOREQVM_MEM_ACCESS_WRITE);
	assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER3, 0x500, 3), 0);
	assert_int_equal(mock_access(&f->mock, 0x501000), MEM_ACCESS_RO);
	claim(f, IOREQVM_MEM_IOREQ_SERVER3, IOREQVM_MEM_ACCESS_READ | IOREQVM_MEM_ACCESS_WRITE);
	assert_int_equal(mock_access(&f->mock, 0x501000), MEM_ACCESS_NONE);
	claim(f, IOREQVM_MEM_IOREQ_SERVER3, IOREQVM_MEM_ACCESS_WRITE);
	assert_int_equal(mock_access(&f->mock, 0x501000), MEM_ACCESS_RO);
	p2m_release_server(&f->p2m, 1);
	assert_int_equal(type_of(f, 0x501), IOREQVM_MEM_RAM_RW);
	assert_int_equal(mock_access(&f->mock, 0x501000), MEM_ACCESS_RW);
	destroy(f);
}

static void test_p2m_claim_past_limit_enospc_changes_nothing(void **state)
{
	struct fixture *f = make(64 << 20, 12);
	/* Claimed but disabled: the pages are RW and merge with their neighbours. */
	struct p2m_claim c = { .server = 1, .flags = IOREQVM_MEM_ACCESS_WRITE, .enabled = false };
	assert_int_equal(p2m_set_claim(&f->p2m, IOREQVM_MEM_IOREQ_SERVER, &c, f->err,
				       sizeof(f->err)), 0);
	for (uint64_t i = 0; i < 6; i++)
		assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER, 0x400 + 4 * i, 1), 0);
	assert_int_equal(f->mock.live, 2);
	/* Enabling would need 2 + 12 mappings: refused, everything as before. */
	c.enabled = true;
	assert_int_equal(p2m_set_claim(&f->p2m, IOREQVM_MEM_IOREQ_SERVER, &c, f->err,
				       sizeof(f->err)), -ENOSPC);
	assert_int_equal(f->mock.live, 2);
	assert_int_equal(mock_access(&f->mock, 0x400000), MEM_ACCESS_RW);
	assert_false(p2m_get_claim(&f->p2m, IOREQVM_MEM_IOREQ_SERVER).enabled);
	destroy(f);
}

static void test_p2m_every_change_is_paused_and_resumed(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 1, 1), 0);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RW, 1, 1), 0);
	assert_int_equal(f->mock.pauses, 2);
	assert_int_equal(f->mock.resumes, 2);
	assert_false(f->mock.paused);
	destroy(f);
}

static void test_p2m_random_changes_keep_mappings_exact(void **state)
{
	struct fixture *f = make(64 << 20, MAXMAP);
	claim(f, IOREQVM_MEM_IOREQ_SERVER, IOREQVM_MEM_ACCESS_WRITE);
	claim(f, IOREQVM_MEM_IOREQ_SERVER1, IOREQVM_MEM_ACCESS_READ);
	uint64_t x = 12345;
	static const uint32_t types[] = { IOREQVM_MEM_RAM_RW, IOREQVM_MEM_RAM_RO,
					  IOREQVM_MEM_IOREQ_SERVER, IOREQVM_MEM_IOREQ_SERVER1 };
	for (int i = 0; i < 3000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		uint64_t a = (x >> 20) % 2048, n = 1 + (x >> 40) % 32;
		SET(f, types[(x >> 8) % 4], a, n); /* refusals are fine */
	}
	/* Mappings equal the access of every page, and are maximal. */
	unsigned runs = 0;
	enum mem_access prev = 99;
	for (uint64_t pfn = 0; pfn < 16384; pfn++) {
		enum mem_access want = p2m_type_access(&f->p2m, type_of(f, pfn));
		assert_int_equal(mock_access(&f->mock, pfn << 12), want);
		if (want != prev && want != MEM_ACCESS_NONE)
			runs++;
		prev = want;
	}
	assert_int_equal(f->mock.live, runs);
	destroy(f);
}

static void test_p2m_p3_one_run_vs_many_runs(void **state)
{
	/* 7 GiB of RAM (3 low, 4 above 4 GiB): 1 Mi pages as one run, then 1000 runs. */
	struct fixture *f = make(7ULL << 30, 32764);
	uint64_t base = 0x100000; /* pfn of 4 GiB */
	unsigned calls = f->mock.maps + f->mock.unmaps;
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, base, 1 << 20), 0);
	assert_true(f->mock.maps + f->mock.unmaps - calls <= 4);
	struct p2m_stats st;
	p2m_get_stats(&f->p2m, &st);
	assert_true(st.nr_runs <= 5);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RW, base, 1 << 20), 0);
	for (uint64_t i = 0; i < 1000; i++)
		assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, base + i * 1024, 512), 0);
	p2m_get_stats(&f->p2m, &st);
	assert_true(st.nr_runs >= 2000 && st.nr_runs <= 2004);
	assert_int_equal(st.bytes, st.nr_runs * sizeof(struct run_node));
	calls = f->mock.maps + f->mock.unmaps;
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RW, base, 1 << 20), 0);
	/* 2000 mappings replaced by one: unmaps 2001, maps 1 (+ neighbour merge). */
	assert_true(f->mock.maps + f->mock.unmaps - calls <= 2004);
	p2m_get_stats(&f->p2m, &st);
	assert_true(st.nr_runs <= 5);
	destroy(f);
}

/* The mock's mappings equal the access of every RAM page (64 MiB) and are maximal. */
static void assert_mappings_exact(struct fixture *f)
{
	unsigned runs = 0;
	enum mem_access prev = 99;
	for (uint64_t pfn = 0; pfn < 16384; pfn++) {
		enum mem_access want = p2m_type_access(&f->p2m, type_of(f, pfn));
		assert_int_equal(mock_access(&f->mock, pfn << 12), want);
		if (want != prev && want != MEM_ACCESS_NONE)
			runs++;
		prev = want;
	}
	assert_int_equal(f->mock.live, runs);
}

static int count_runs(void *ctx, uint64_t a, uint64_t b, uint8_t v)
{
	uint64_t *runs = ctx;
	runs[v]++;
	return 0;
}

/*
 * DESIGN C4, K4: what the release budget promises, checked after each
 * change, with the runs counted afresh from the type map (the P2M counts
 * them incrementally).
 */
static void assert_budget_holds(struct fixture *f)
{
	struct p2m_stats st;
	p2m_get_stats(&f->p2m, &st);
	assert_int_equal(st.mappings_used, f->mock.live);
	uint64_t runs[IOREQVM_MEM_NR_TYPES] = { 0 }, ioreq = 0, armed = 0;
	runmap_foreach(runmap_root(&f->p2m.types), 0, f->p2m.nr_pages, count_runs, runs);
	for (uint32_t t = IOREQVM_MEM_IOREQ_SERVER; t <= IOREQVM_MEM_IOREQ_SERVER7; t++) {
		struct p2m_claim c = p2m_get_claim(&f->p2m, t);
		ioreq += runs[t];
		armed += c.flags && c.enabled ? runs[t] : 0;
	}
	assert_int_equal(st.nr_ioreq_runs, ioreq);
	assert_int_equal(st.nr_armed_runs, armed);
	assert_true(st.mappings_used + 2 * armed <= st.mappings_limit);
}

static void claim_as(struct fixture *f, uint32_t server, uint32_t type, uint32_t flags)
{
	struct p2m_claim c = { .server = server, .flags = flags, .enabled = true };
	assert_int_equal(p2m_set_claim(&f->p2m, type, &c, f->err, sizeof(f->err)), 0);
}

static void release(struct fixture *f, uint32_t type)
{
	struct p2m_claim none = { 0 };
	assert_int_equal(p2m_set_claim(&f->p2m, type, &none, f->err, sizeof(f->err)), 0);
}

/*
 * DESIGN C4, I5, K4 (issue 15, defect 3): claimed pages (READ|WRITE: no
 * mapping) alternating with ram_ro pages (one mapping each) need one more
 * mapping per claimed page once released. set_mem_type is refused, with
 * ENOSPC and nothing changed, while the release still fits; then the
 * release always succeeds, whichever way it comes: flags 0, the owner
 * destroyed, or the owner disabled and then released.
 */
static void test_p2m_c4_release_budget_refuses_before_release_could_fail(void **state)
{
	for (int how = 0; how < 3; how++) {
		struct fixture *f = make(64 << 20, 40);
		claim_as(f, 3, IOREQVM_MEM_IOREQ_SERVER, IOREQVM_MEM_ACCESS_READ |
			 IOREQVM_MEM_ACCESS_WRITE);
		uint64_t pfn = 0x400, k = 0;
		int rc;
		for (;; k++, pfn += 2) {
			rc = SET(f, IOREQVM_MEM_IOREQ_SERVER, pfn, 1);
			if (rc)
				break;
			assert_budget_holds(f);
			rc = SET(f, IOREQVM_MEM_RAM_RO, pfn + 1, 1);
			if (rc)
				break;
			assert_budget_holds(f);
		}
		assert_int_equal(rc, -ENOSPC);
		assert_non_null(strstr(f->err, "C4"));
		assert_non_null(strstr(f->err, "limit of 40"));
		/* Refused well before the mappings themselves ran out. */
		assert_true(f->mock.live < 40);
		assert_true(k >= 5);
		unsigned maps = f->mock.maps, unmaps = f->mock.unmaps;
		if (how == 0) {
			release(f, IOREQVM_MEM_IOREQ_SERVER);
		} else if (how == 1) {
			p2m_release_server(&f->p2m, 3);
		} else {
			assert_int_equal(p2m_set_server_enabled(&f->p2m, 3, false), 0);
			assert_mappings_exact(f);
			p2m_release_server(&f->p2m, 3);
		}
		assert_true(f->mock.maps > maps); /* releasing needed new mappings */
		(void)unmaps;
		assert_int_equal(p2m_count_type(&f->p2m, IOREQVM_MEM_IOREQ_SERVER), 0);
		assert_int_equal(p2m_get_claim(&f->p2m, IOREQVM_MEM_IOREQ_SERVER).flags, 0);
		for (uint64_t i = 0; i < k; i++)
			assert_int_equal(type_of(f, 0x400 + 2 * i), IOREQVM_MEM_RAM_RW);
		assert_mappings_exact(f);
		assert_true(f->mock.live <= 40);
		/* The type is free again for anyone. */
		claim_as(f, 4, IOREQVM_MEM_IOREQ_SERVER, IOREQVM_MEM_ACCESS_WRITE);
		destroy(f);
	}
}

/*
 * DESIGN C4, C5, K4: random types, claims, flag changes and enables under a
 * small limit; whatever was accepted, every disable and release afterwards,
 * in any order, succeeds and leaves the mappings exact.
 */
static void test_p2m_c4_random_state_every_release_and_disable_fits(void **state)
{
	uint64_t x = 0x5eed;
	for (int round = 0; round < 40; round++) {
		struct fixture *f = make(64 << 20, 24 + round % 9);
		static const uint32_t flag_set[] = { IOREQVM_MEM_ACCESS_WRITE, IOREQVM_MEM_ACCESS_READ,
						     IOREQVM_MEM_ACCESS_READ | IOREQVM_MEM_ACCESS_WRITE };
		for (uint32_t s = 0; s < 3; s++)
			claim_as(f, s + 1, IOREQVM_MEM_IOREQ_SERVER + s, flag_set[s]);
		for (int i = 0; i < 300; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			uint64_t a = 0x300 + (x >> 20) % 64, n = 1 + (x >> 40) % 3;
			unsigned what = (x >> 8) % 8;
			if (what < 5) {
				static const uint32_t types[] = {
					IOREQVM_MEM_RAM_RW, IOREQVM_MEM_RAM_RO, IOREQVM_MEM_IOREQ_SERVER,
					IOREQVM_MEM_IOREQ_SERVER1, IOREQVM_MEM_IOREQ_SERVER2 };
				SET(f, types[what], a, n); /* refusals are fine */
			} else if (what == 5) {
				uint32_t s = (x >> 50) % 3;
				struct p2m_claim c = p2m_get_claim(&f->p2m, IOREQVM_MEM_IOREQ_SERVER + s);
				c.flags = flag_set[(x >> 52) % 3];
				p2m_set_claim(&f->p2m, IOREQVM_MEM_IOREQ_SERVER + s, &c, f->err,
					      sizeof(f->err));
			} else {
				p2m_set_server_enabled(&f->p2m, 1 + (x >> 50) % 3, what == 6);
			}
			assert_budget_holds(f);
		}
		assert_mappings_exact(f);
		/* Tear down in a random order: disables and releases never fail. */
		bool gone[3] = { false, false, false };
		for (int left = 3; left;) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			uint32_t s = (x >> 33) % 3;
			if (gone[s])
				continue;
			if ((x >> 40) & 1) {
				assert_int_equal(p2m_set_server_enabled(&f->p2m, s + 1, false), 0);
			} else {
				p2m_release_server(&f->p2m, s + 1);
				gone[s] = true;
				left--;
				assert_int_equal(p2m_count_type(&f->p2m, IOREQVM_MEM_IOREQ_SERVER + s), 0);
			}
			assert_mappings_exact(f);
			assert_true(f->mock.live <= f->p2m.maps.target.limit);
		}
		destroy(f);
	}
}

/* (gpa, size, access) of every mapping, for comparing states. */
struct map_set {
	struct { uint64_t gpa, size; enum mem_access acc; } m[MAXMAP];
	unsigned n;
};

static void snapshot(struct mock *k, struct map_set *s)
{
	s->n = 0;
	for (unsigned i = 0; i < MAXMAP; i++) {
		if (!k->m[i].used)
			continue;
		s->m[s->n].gpa = k->m[i].gpa;
		s->m[s->n].size = k->m[i].size;
		s->m[s->n].acc = k->m[i].acc;
		s->n++;
	}
}

static bool in_set(const struct map_set *s, uint64_t gpa, uint64_t size, enum mem_access acc)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->m[i].gpa == gpa && s->m[i].size == size && s->m[i].acc == acc)
			return true;
	return false;
}

/* Mappings in one state and not the other: the fewest calls any change can make. */
static unsigned set_difference(const struct map_set *x, const struct map_set *y)
{
	unsigned d = 0;
	for (unsigned i = 0; i < x->n; i++)
		d += !in_set(y, x->m[i].gpa, x->m[i].size, x->m[i].acc);
	for (unsigned i = 0; i < y->n; i++)
		d += !in_set(x, y->m[i].gpa, y->m[i].size, y->m[i].acc);
	return d;
}

static void plan_and_apply(struct fixture *f, const struct mapcomp_range *r, size_t n)
{
	struct mapcomp_plan plan;
	f->mock.paused = true; /* the mock checks calls come while paused (K3) */
	assert_int_equal(mapcomp_plan_ranges(&f->p2m.maps, r, n, &plan), 0);
	assert_int_equal(mapcomp_apply(&f->p2m.maps, &plan), 0);
	mapcomp_plan_free(&plan);
	f->mock.paused = false;
}

/*
 * DESIGN P3: a list of ranges is one plan. Random lists (touching,
 * adjacent and far apart ranges, every access) over a random state: the
 * mappings end as when the ranges are applied one by one, and the plan's
 * calls are exactly the mappings that differ between before and after.
 */
static void test_mapcomp_list_of_ranges_is_one_minimal_plan(void **state)
{
	static struct map_set before, one, each;
	uint64_t x = 77;
	for (int round = 0; round < 200; round++) {
		struct fixture *f = make(64 << 20, MAXMAP), *g = make(64 << 20, MAXMAP);
		static const enum mem_access acc[] = { MEM_ACCESS_RW, MEM_ACCESS_RO,
							MEM_ACCESS_NONE };
		struct mapcomp_range r[24];
		for (int i = 0; i < 40; i++) { /* the same random start in both */
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			r[0].a = 0x100 + (x >> 20) % 256;
			r[0].b = r[0].a + 1 + (x >> 40) % 6;
			r[0].access = acc[(x >> 8) % 3];
			plan_and_apply(f, r, 1);
			plan_and_apply(g, r, 1);
		}
		size_t n = 0;
		uint64_t at = 0x100;
		while (n < 24) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			at += (x >> 20) % 4; /* 0: adjacent to the previous range */
			r[n] = (struct mapcomp_range){ .a = at, .b = at + 1 + (x >> 30) % 5,
						       .access = acc[(x >> 8) % 3] };
			if (r[n].b > 0x200)
				break;
			at = r[n++].b;
		}
		snapshot(&f->mock, &before);
		unsigned calls = f->mock.maps + f->mock.unmaps;
		plan_and_apply(f, r, n);
		calls = f->mock.maps + f->mock.unmaps - calls;
		for (size_t i = 0; i < n; i++)
			plan_and_apply(g, &r[i], 1);
		snapshot(&f->mock, &one);
		snapshot(&g->mock, &each);
		assert_int_equal(set_difference(&one, &each), 0);
		assert_int_equal(calls, set_difference(&before, &one));
		assert_int_equal(f->p2m.maps.used, f->mock.live);
		destroy(f);
		destroy(g);
	}
}

/*
 * DESIGN P3 (issue 15, defect 5): a release spanning many runs is one plan
 * applied in one pause: its backend calls are exactly the mappings that
 * differ between before and after (no mapping made and unmade on the way,
 * as one plan per run did), at most 4 per run changed, and the mappings
 * after are the maximal runs. Two claimed types alternate page by page:
 * releasing one makes a mapping per run, releasing the other merges all.
 */
static void test_p2m_p3_release_of_many_runs_is_one_minimal_plan(void **state)
{
	enum { RUNS = 500 };
	struct fixture *f = make(64 << 20, MAXMAP);
	uint32_t rw = IOREQVM_MEM_ACCESS_READ | IOREQVM_MEM_ACCESS_WRITE;
	claim_as(f, 1, IOREQVM_MEM_IOREQ_SERVER, rw);
	claim_as(f, 2, IOREQVM_MEM_IOREQ_SERVER1, rw);
	for (uint64_t i = 0; i < RUNS; i++) {
		assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER, 0x400 + 2 * i, 1), 0);
		assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER1, 0x401 + 2 * i, 1), 0);
	}
	static struct map_set before, after;
	for (int step = 0; step < 2; step++) {
		uint32_t type = step ? IOREQVM_MEM_IOREQ_SERVER : IOREQVM_MEM_IOREQ_SERVER1;
		snapshot(&f->mock, &before);
		unsigned calls = f->mock.maps + f->mock.unmaps, pauses = f->mock.pauses;
		release(f, type);
		calls = f->mock.maps + f->mock.unmaps - calls;
		snapshot(&f->mock, &after);
		assert_int_equal(f->mock.pauses - pauses, 1);
		assert_int_equal(calls, set_difference(&before, &after));
		assert_true(calls <= 4 * RUNS);
		assert_mappings_exact(f);
		/* step 0: a mapping per released run; step 1: all merged into one */
		assert_int_equal(f->mock.live, step ? 2 : 2 + RUNS);
		assert_true(calls >= RUNS);
	}
	destroy(f);
}

static void stats_inside_change(struct mock *k)
{
	struct p2m_stats st;
	/* The writer holds the lock through the whole change. */
	assert_int_equal(pthread_mutex_trylock(&k->p2m->lock), EBUSY);
	p2m_get_stats(k->p2m, &st); /* must not wait for it */
	assert_int_equal(st.nr_set_calls, 0); /* the snapshot before the change */
	assert_int_equal(st.mappings_used, 2);
}

/* VM_INFO (issue 15): statistics answer while a change holds the writer lock. */
static void test_p2m_stats_answer_while_a_change_holds_the_lock(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	f->mock.on_pause = stats_inside_change;
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 100, 10), 0);
	f->mock.on_pause = NULL;
	struct p2m_stats st;
	p2m_get_stats(&f->p2m, &st);
	assert_int_equal(st.nr_set_calls, 1); /* updated at the end of the change */
	assert_int_equal(st.mappings_used, 4);
	assert_int_equal(st.nr_runs, f->p2m.types.nr_runs);
	destroy(f);
}

/*
 * DESIGN R5 (issue 15, defect 7): pages of a claimed type change type only
 * through the claim's owner, and only the owner sets pages to the type;
 * anyone else gets EPERM naming the owning server, and nothing changes.
 */
static void test_p2m_r5_claimed_pages_change_only_through_the_owner(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	claim_as(f, 3, IOREQVM_MEM_IOREQ_SERVER, IOREQVM_MEM_ACCESS_WRITE);
	claim_as(f, 5, IOREQVM_MEM_IOREQ_SERVER1, IOREQVM_MEM_ACCESS_WRITE);
	uint32_t owner = 1u << IOREQVM_MEM_IOREQ_SERVER, other = 1u << IOREQVM_MEM_IOREQ_SERVER1;
	char *e = f->err;
	size_t el = sizeof(f->err);
	assert_int_equal(p2m_set_mem_type(&f->p2m, IOREQVM_MEM_IOREQ_SERVER, 0x800, 1, owner, e, el),
			 0);
	unsigned maps = f->mock.maps, unmaps = f->mock.unmaps;
	/* Taking the page away: refused, for a stranger and for another claim's owner. */
	for (int who = 0; who < 2; who++) {
		uint32_t owned = who ? other : 0;
		assert_int_equal(p2m_set_mem_type(&f->p2m, IOREQVM_MEM_RAM_RW, 0x800, 1, owned, e, el),
				 -EPERM);
		assert_non_null(strstr(f->err, "pfn 0x800 is ioreq_server, claimed by server 3"));
		assert_non_null(strstr(f->err, "R5"));
		/* A range holding it: all or nothing. */
		assert_int_equal(p2m_set_mem_type(&f->p2m, IOREQVM_MEM_RAM_RW, 0x7f0, 0x20, owned, e,
						  el), -EPERM);
		/* Giving pages the type. */
		assert_int_equal(p2m_set_mem_type(&f->p2m, IOREQVM_MEM_IOREQ_SERVER, 0x900, 1, owned,
						  e, el), -EPERM);
		assert_non_null(strstr(f->err, "claimed by server 3"));
		assert_int_equal(type_of(f, 0x800), IOREQVM_MEM_IOREQ_SERVER);
		assert_int_equal(type_of(f, 0x900), IOREQVM_MEM_RAM_RW);
	}
	assert_int_equal(f->mock.maps, maps);
	assert_int_equal(f->mock.unmaps, unmaps);
	/* Pages of no claimed type are anyone's. */
	assert_int_equal(p2m_set_mem_type(&f->p2m, IOREQVM_MEM_RAM_RO, 0x7f0, 0x10, 0, e, el), 0);
	/* The owner does both. */
	assert_int_equal(p2m_set_mem_type(&f->p2m, IOREQVM_MEM_IOREQ_SERVER, 0x900, 1, owner, e, el),
			 0);
	assert_int_equal(p2m_set_mem_type(&f->p2m, IOREQVM_MEM_RAM_RW, 0x800, 1, owner, e, el), 0);
	assert_int_equal(type_of(f, 0x800), IOREQVM_MEM_RAM_RW);
	assert_int_equal(type_of(f, 0x900), IOREQVM_MEM_IOREQ_SERVER);
	destroy(f);
}

/* Memfd offset the mock's mapping gives @gpa, or -1 if unmapped. */
static int64_t mock_offset(struct mock *k, uint64_t gpa)
{
	for (unsigned i = 0; i < MAXMAP; i++)
		if (k->m[i].used && gpa >= k->m[i].gpa && gpa < k->m[i].gpa + k->m[i].size)
			return (int64_t)(k->m[i].off + (gpa - k->m[i].gpa));
	return -1;
}

static uint64_t ram_pages(struct fixture *f)
{
	struct p2m_stats st;
	p2m_get_stats(&f->p2m, &st);
	return st.ram_pages;
}

static uint64_t physmap_gen(struct fixture *f)
{
	struct p2m_stats st;
	p2m_get_stats(&f->p2m, &st);
	return st.physmap_gen;
}

#define POPULATE(f, r, n) p2m_populate(&(f)->p2m, (r), (n), (f)->err, sizeof((f)->err))
#define DECREASE(f, r, n) p2m_decrease(&(f)->p2m, (r), (n), (f)->err, sizeof((f)->err))

/* X4: frames of the PCI hole become ram_rw, mapped RW over the memfd at their own offset. */
static void test_p2m_x4_populate_pci_hole_frames(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	uint64_t before = ram_pages(f), gen = physmap_gen(f);
	assert_int_equal(before, 16384 - 32); /* 64 MiB less the VGA window */
	struct p2m_range r[2] = { { 0xD0000, 16 }, { 0xE0010, 1 } };
	assert_int_equal(POPULATE(f, r, 2), 0);
	assert_int_equal(type_of(f, 0xCFFFF), IOREQVM_MEM_MMIO_DM);
	assert_int_equal(type_of(f, 0xD0000), IOREQVM_MEM_RAM_RW);
	assert_int_equal(type_of(f, 0xD000F), IOREQVM_MEM_RAM_RW);
	assert_int_equal(type_of(f, 0xD0010), IOREQVM_MEM_MMIO_DM);
	assert_int_equal(type_of(f, 0xE0010), IOREQVM_MEM_RAM_RW);
	assert_int_equal(mock_access(&f->mock, 0xD0000000ULL), MEM_ACCESS_RW);
	assert_int_equal(mock_access(&f->mock, 0xD000F000ULL), MEM_ACCESS_RW);
	assert_int_equal(mock_access(&f->mock, 0xD0010000ULL), MEM_ACCESS_NONE);
	/* Below the I/O APIC the memfd offset is the address (guest_ram.h). */
	assert_int_equal(mock_offset(&f->mock, 0xD0003000ULL), 0xD0003000LL);
	assert_int_equal(mock_offset(&f->mock, 0xE0010000ULL), 0xE0010000LL);
	assert_int_equal(ram_pages(f), before + 17);
	assert_int_not_equal(physmap_gen(f), gen);
	assert_true(f->mock.resumes == f->mock.pauses && !f->mock.paused); /* K3 */
	destroy(f);
}

/* X4: a populated run next to the end of low RAM is one mapping with it. */
static void test_p2m_x4_populate_next_to_ram_is_one_mapping(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	unsigned live = f->mock.live;
	struct p2m_range r = { 0x4000, 256 }; /* 64 MiB: where low RAM ends */
	assert_int_equal(POPULATE(f, &r, 1), 0);
	assert_int_equal(f->mock.live, live); /* the RAM mapping grew: one unmap, one map */
	assert_int_equal(mock_offset(&f->mock, 0x4000000ULL + 0x5000), 0x4005000LL);
	assert_int_equal(mock_offset(&f->mock, 0x3FFF000ULL), 0x3FFF000LL);
	destroy(f);
}

/* X4, all or nothing: each refusal names its errno and changes nothing. */
static void test_p2m_x4_populate_refusals_change_nothing(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	struct p2m_range first = { 0xE0000, 1 };
	assert_int_equal(POPULATE(f, &first, 1), 0);
	uint64_t pages = ram_pages(f), gen = physmap_gen(f);
	unsigned maps = f->mock.maps, unmaps = f->mock.unmaps;
	/* The second range has RAM already: EEXIST, the first is not populated either. */
	struct p2m_range r[2] = { { 0xD0000, 4 }, { 0xE0000, 1 } };
	assert_int_equal(POPULATE(f, r, 2), -EEXIST);
	struct p2m_range boot_ram = { 0x100, 1 };
	assert_int_equal(POPULATE(f, &boot_ram, 1), -EEXIST);
	assert_int_equal(type_of(f, 0xD0000), IOREQVM_MEM_MMIO_DM);
	/* The I/O APIC and above, past guest-physical space, empty, wrapping. */
	struct p2m_range apic = { 0xFEC00, 1 }, top = { 0xFEBFF, 2 }, past = { 0x100000, 1 },
			 empty = { 0xD0000, 0 }, wrap = { 0xD0000, UINT64_MAX };
	assert_int_equal(POPULATE(f, &apic, 1), -EINVAL);
	assert_int_equal(POPULATE(f, &top, 1), -EINVAL);
	assert_int_equal(POPULATE(f, &past, 1), -EINVAL);
	assert_int_equal(POPULATE(f, &empty, 1), -EINVAL);
	assert_int_equal(POPULATE(f, &wrap, 1), -EINVAL);
	assert_int_equal(POPULATE(f, r, 0), -EINVAL);
	/* Unsorted or overlapping ranges. */
	struct p2m_range unsorted[2] = { { 0xD0010, 1 }, { 0xD0000, 1 } };
	struct p2m_range overlap[2] = { { 0xD0000, 4 }, { 0xD0003, 1 } };
	assert_int_equal(POPULATE(f, unsorted, 2), -EINVAL);
	assert_int_equal(POPULATE(f, overlap, 2), -EINVAL);
	/* R4: one frame past the limit (the boot RAM and P2M_POPULATE_MAX_PAGES more). */
	struct p2m_range big = { 0xC0000, P2M_POPULATE_MAX_PAGES };
	assert_int_equal(POPULATE(f, &big, 1), -ENOSPC);
	assert_int_equal(type_of(f, 0xC0000), IOREQVM_MEM_MMIO_DM);
	assert_int_equal(ram_pages(f), pages);
	assert_int_equal(physmap_gen(f), gen);
	assert_int_equal(f->mock.maps, maps);
	assert_int_equal(f->mock.unmaps, unmaps);
	/* Exactly the limit fits (one frame is populated already). */
	big.nr = P2M_POPULATE_MAX_PAGES - 1;
	assert_int_equal(POPULATE(f, &big, 1), 0);
	assert_int_equal(ram_pages(f), pages + P2M_POPULATE_MAX_PAGES - 1);
	struct p2m_range one = { 0xF0000, 1 };
	assert_int_equal(POPULATE(f, &one, 1), -ENOSPC);
	destroy(f);
}

/* X4, K4: a populate whose mappings pass the backend's limit is refused whole. */
static void test_p2m_x4_populate_past_mapping_limit(void **state)
{
	struct fixture *f = make(64 << 20, 6); /* 2 in use (RAM around the VGA window) */
	struct p2m_range r[5] = { { 0xD0000, 1 }, { 0xD0002, 1 }, { 0xD0004, 1 }, { 0xD0006, 1 },
				  { 0xD0008, 1 } };
	assert_int_equal(POPULATE(f, r, 5), -ENOSPC);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(type_of(f, r[i].first), IOREQVM_MEM_MMIO_DM);
	assert_int_equal(f->mock.live, 2);
	assert_int_equal(POPULATE(f, r, 4), 0);
	assert_int_equal(f->mock.live, 6);
	destroy(f);
}

/* X4: given-back frames become holes; holes and claimed types cannot be given back. */
static void test_p2m_x4_decrease_makes_holes(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	uint64_t pages = ram_pages(f);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 0x202, 1), 0);
	struct p2m_range r = { 0x200, 4 }; /* ram_rw and ram_ro frames */
	assert_int_equal(DECREASE(f, &r, 1), 0);
	for (uint64_t p = 0x200; p < 0x204; p++)
		assert_int_equal(type_of(f, p), IOREQVM_MEM_MMIO_DM);
	assert_int_equal(type_of(f, 0x1FF), IOREQVM_MEM_RAM_RW);
	assert_int_equal(type_of(f, 0x204), IOREQVM_MEM_RAM_RW);
	assert_int_equal(mock_access(&f->mock, 0x200000), MEM_ACCESS_NONE);
	assert_int_equal(mock_access(&f->mock, 0x1FF000), MEM_ACCESS_RW);
	assert_int_equal(mock_access(&f->mock, 0x204000), MEM_ACCESS_RW);
	assert_int_equal(ram_pages(f), pages - 4);
	/* A hole (one of these, or the VGA window) cannot be given back: EINVAL, whole. */
	struct p2m_range again[2] = { { 0x100, 1 }, { 0x201, 1 } };
	assert_int_equal(DECREASE(f, again, 2), -EINVAL);
	assert_int_equal(type_of(f, 0x100), IOREQVM_MEM_RAM_RW);
	struct p2m_range vga = { 0xA0, 1 };
	assert_int_equal(DECREASE(f, &vga, 1), -EINVAL);
	/* Nor a claimed type's frame. */
	claim(f, IOREQVM_MEM_IOREQ_SERVER, IOREQVM_MEM_ACCESS_WRITE);
	assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER, 0x300, 1), 0);
	struct p2m_range claimed = { 0x300, 1 };
	assert_int_equal(DECREASE(f, &claimed, 1), -EINVAL);
	assert_int_equal(type_of(f, 0x300), IOREQVM_MEM_IOREQ_SERVER);
	/* The holes take RAM again, fresh; the VGA window too. */
	assert_int_equal(POPULATE(f, &r, 1), 0);
	assert_int_equal(type_of(f, 0x202), IOREQVM_MEM_RAM_RW);
	assert_int_equal(mock_offset(&f->mock, 0x202000), 0x202000);
	assert_int_equal(POPULATE(f, &vga, 1), 0);
	assert_int_equal(ram_pages(f), pages + 1);
	destroy(f);
}

/*
 * X4: RAM populated in the pool stays ram_rw (the VMM's own accesses reach
 * the boot RAM's regions only); boot RAM given back and populated again is
 * boot RAM as before.
 */
static void test_p2m_x4_pool_ram_stays_ram_rw(void **state)
{
	struct fixture *f = make(64 << 20, 100);
	struct p2m_range pool = { 0xD0000, 4 }, boot = { 0x300, 4 };
	assert_int_equal(POPULATE(f, &pool, 1), 0);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 0xD0001, 1), -EINVAL);
	assert_non_null(strstr(f->err, "populated in the PCI hole"));
	claim(f, IOREQVM_MEM_IOREQ_SERVER, IOREQVM_MEM_ACCESS_WRITE);
	assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER, 0xD0000, 4), -EINVAL);
	/* A range from the hole's holes into populated frames: refused whole. */
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 0xCFFFF, 2), -EINVAL);
	assert_int_equal(type_of(f, 0xD0000), IOREQVM_MEM_RAM_RW);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RW, 0xD0000, 4), 0);
	assert_int_equal(SET(f, IOREQVM_MEM_MMIO_DM, 0xD0010, 1), 0); /* holes stay holes */
	assert_int_equal(DECREASE(f, &boot, 1), 0);
	assert_int_equal(POPULATE(f, &boot, 1), 0);
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 0x301, 1), 0);
	assert_int_equal(SET(f, IOREQVM_MEM_IOREQ_SERVER, 0x302, 1), 0);
	destroy(f);
}

/* X3, X4: where the RAM frames are in the memfd, in pieces a caller can page through. */
static void test_p2m_x4_ram_runs(void **state)
{
	struct fixture *f = make(6ULL << 30, 100); /* 3 GiB low, 3 GiB at 4 GiB */
	struct p2m_ram_run runs[8];
	uint64_t next, gen;
	size_t n = p2m_ram_runs(&f->p2m, 0, runs, 8, &next, &gen);
	assert_int_equal(n, 3); /* below the VGA window, above it, above 4 GiB */
	assert_int_equal(runs[0].first, 0);
	assert_int_equal(runs[0].nr, 0xA0);
	assert_int_equal(runs[1].first, 0xC0);
	assert_int_equal(runs[1].nr, 0xC0000 - 0xC0);
	assert_int_equal(runs[1].offset, 0xC0000);
	assert_int_equal(runs[2].first, 0x100000);
	assert_int_equal(runs[2].nr, 0xC0000);
	assert_int_equal(runs[2].offset, GUEST_HOLE_RAM_END);
	assert_int_equal(next, f->p2m.nr_pages);
	/* A decrease splits a run; a ram_ro frame does not (same memory). */
	assert_int_equal(SET(f, IOREQVM_MEM_RAM_RO, 0x500, 1), 0);
	struct p2m_range hole = { 0x1000, 1 }, pop = { 0xC0000, 2 };
	assert_int_equal(DECREASE(f, &hole, 1), 0);
	assert_int_equal(POPULATE(f, &pop, 1), 0); /* next to low RAM: runs on with it */
	uint64_t gen2;
	n = p2m_ram_runs(&f->p2m, 0, runs, 8, &next, &gen2);
	assert_int_not_equal(gen2, gen);
	assert_int_equal(n, 4);
	assert_int_equal(runs[1].first, 0xC0);
	assert_int_equal(runs[1].nr, 0x1000 - 0xC0);
	assert_int_equal(runs[2].first, 0x1001);
	assert_int_equal(runs[2].nr, 0xC0002 - 0x1001);
	assert_int_equal(runs[2].offset, 0x1001000);
	/* Two at a time, from where the last ask stopped. */
	n = p2m_ram_runs(&f->p2m, 0, runs, 2, &next, &gen);
	assert_int_equal(n, 2);
	assert_int_equal(next, 0x1001);
	n = p2m_ram_runs(&f->p2m, next, runs, 2, &next, &gen);
	assert_int_equal(n, 2);
	assert_int_equal(runs[0].first, 0x1001);
	assert_int_equal(runs[1].first, 0x100000);
	assert_int_equal(next, f->p2m.nr_pages);
	n = p2m_ram_runs(&f->p2m, 0x100800, runs, 2, &next, &gen); /* from inside a run */
	assert_int_equal(n, 1);
	assert_int_equal(runs[0].first, 0x100800);
	assert_int_equal(runs[0].offset, GUEST_HOLE_RAM_END + 0x800000);
	destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_p2m_initial_types_ram_and_hole),
		cmocka_unit_test(test_p2m_s5_get_answers_current_type),
		cmocka_unit_test(test_p2m_m4_unused_always_refused),
		cmocka_unit_test(test_p2m_s4_rejects_bad_ranges_and_types),
		cmocka_unit_test(test_p2m_s1_ioreq_only_from_and_to_ram_rw),
		cmocka_unit_test(test_p2m_s2_ioreq_type_needs_a_claim),
		cmocka_unit_test(test_p2m_s3_ram_types_and_holes),
		cmocka_unit_test(test_p2m_s4_all_or_nothing_on_refused_page_in_middle),
		cmocka_unit_test(test_p2m_compiler_split_is_one_unmap_three_maps),
		cmocka_unit_test(test_p2m_compiler_grows_a_neighbour_minimally),
		cmocka_unit_test(test_p2m_compiler_unclaimed_and_claimed_access),
		cmocka_unit_test(test_p2m_compiler_limit_enospc_changes_nothing),
		cmocka_unit_test(test_p2m_c4_release_reverts_pages_to_ram_rw),
		cmocka_unit_test(test_p2m_claim_flags_change_remaps_pages),
		cmocka_unit_test(test_p2m_claim_past_limit_enospc_changes_nothing),
		cmocka_unit_test(test_p2m_every_change_is_paused_and_resumed),
		cmocka_unit_test(test_p2m_random_changes_keep_mappings_exact),
		cmocka_unit_test(test_p2m_p3_one_run_vs_many_runs),
		cmocka_unit_test(test_mapcomp_list_of_ranges_is_one_minimal_plan),
		cmocka_unit_test(test_p2m_stats_answer_while_a_change_holds_the_lock),
		cmocka_unit_test(test_p2m_p3_release_of_many_runs_is_one_minimal_plan),
		cmocka_unit_test(test_p2m_c4_release_budget_refuses_before_release_could_fail),
		cmocka_unit_test(test_p2m_c4_random_state_every_release_and_disable_fits),
		cmocka_unit_test(test_p2m_r5_claimed_pages_change_only_through_the_owner),
		cmocka_unit_test(test_p2m_x4_populate_pci_hole_frames),
		cmocka_unit_test(test_p2m_x4_populate_next_to_ram_is_one_mapping),
		cmocka_unit_test(test_p2m_x4_populate_refusals_change_nothing),
		cmocka_unit_test(test_p2m_x4_populate_past_mapping_limit),
		cmocka_unit_test(test_p2m_x4_decrease_makes_holes),
		cmocka_unit_test(test_p2m_x4_pool_ram_stays_ram_rw),
		cmocka_unit_test(test_p2m_x4_ram_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
