/* SPDX-License-Identifier: MIT */
/*
 * P2M rules with a real guest on a real backend (argv: BACKEND IMAGE, the
 * p2m guest): M2 ram_ro writes dropped and reads see the old value; M3
 * hole pages read all ones; K3 1000 ram_rw <-> ram_ro flips under a vCPU
 * hammering the page with no access lost or doubled, and 1000 flips among
 * ram_rw, ram_ro and NONE (a READ|WRITE claim: RO, RW, NONE, RW, ...) likewise; P4 zero exits for a
 * guest writing 32 MiB of ram_rw; S4 refusals leave the running guest alone.
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

#define PFN(gpa) ((gpa) >> 12)
#define GUEST_PASS 1 /* status of guest_exit(GUEST_EXIT_PASS) */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct harness *boot(const char *mode)
{
	static struct harness h;
	char cmdline[64];
	snprintf(cmdline, sizeof(cmdline), "%s", mode);
	assert_int_equal(harness_create(&h, backend, image, cmdline, 1, 256 << 20), 0);
	return &h;
}

static struct p2m_abi_mailbox *mailbox(struct harness *h)
{
	return harness_ram(h, P2M_ABI_MAILBOX, sizeof(struct p2m_abi_mailbox));
}

static void set_type(struct harness *h, uint32_t type, uint64_t gpa, uint64_t pages)
{
	char err[256];
	int rc = p2m_set_mem_type(&h->vm.p2m, type, PFN(gpa), pages, P2M_OWNER_VMM, err,
				  sizeof(err));
	if (rc)
		fail_msg("set_mem_type(%u, 0x%llx, %llu): %s", type, (unsigned long long)PFN(gpa),
			 (unsigned long long)pages, err);
}

static void test_p2m_guest_m2_ram_ro_drops_writes_m3_hole_reads_ones(void **state)
{
	struct harness *h = boot("ro");
	uint64_t *page = harness_ram(h, P2M_ABI_PAGE, 8);
	*page = P2M_ABI_RO_OLD;
	set_type(h, IOREQVM_MEM_RAM_RO, P2M_ABI_PAGE, 1);
	assert_int_equal(harness_start(h), 0);
	assert_int_equal(harness_wait(h, 60000), GUEST_PASS);
	struct p2m_abi_mailbox *mb = mailbox(h);
	assert_int_equal(mb->words[0], P2M_ABI_RO_OLD); /* read before the write */
	assert_int_equal(mb->words[1], P2M_ABI_RO_OLD); /* read after: write dropped */
	assert_int_equal(mb->words[2], ~0ULL);           /* mmio_dm hole: all ones */
	assert_int_equal(*page, P2M_ABI_RO_OLD);         /* memory unchanged */
	assert_int_equal(h->vm.ro_writes_dropped, 1);    /* exactly one write trapped */
	assert_true(h->vm.unbacked_reads[IO_SPACE_MMIO] >= 2);
	harness_destroy(h);
}

static void test_p2m_guest_k3_flips_lose_and_double_nothing(void **state)
{
	struct harness *h = boot("hammer");
	struct p2m_abi_mailbox *mb = mailbox(h);
	assert_int_equal(harness_start(h), 0);
	for (int i = 0; i < 30000 && !mb->phase; i++)
		usleep(1000);
	assert_int_equal(mb->phase, 1);
	struct p2m_stats before, after;
	p2m_get_stats(&h->vm.p2m, &before);
	volatile uint64_t *page = harness_ram(h, P2M_ABI_PAGE, 8);
	unsigned stalled = 0;
	for (int i = 0; i < 1000; i++) {
		/* Hold each state until the guest has written under it. */
		uint64_t d = h->vm.ro_writes_dropped;
		set_type(h, IOREQVM_MEM_RAM_RO, P2M_ABI_PAGE, 1);
		for (uint64_t t0 = now_ms(); h->vm.ro_writes_dropped == d && now_ms() - t0 < 2000;)
			__builtin_ia32_pause();
		stalled += h->vm.ro_writes_dropped == d;
		uint64_t v = *page;
		set_type(h, IOREQVM_MEM_RAM_RW, P2M_ABI_PAGE, 1);
		for (uint64_t t0 = now_ms(); *page == v && now_ms() - t0 < 2000;)
			__builtin_ia32_pause();
		stalled += *page == v;
	}
	p2m_get_stats(&h->vm.p2m, &after);
	mb->stop = 1;
	assert_int_equal(harness_wait(h, 60000), GUEST_PASS);
	uint64_t dropped = h->vm.ro_writes_dropped;
	fprintf(stderr, "k3: %llu writes: %llu landed, %llu dropped while ram_ro; "
		"%llu map + %llu unmap calls for 2000 changes\n",
		(unsigned long long)mb->iterations, (unsigned long long)mb->landed,
		(unsigned long long)dropped,
		(unsigned long long)(after.nr_map_calls - before.nr_map_calls),
		(unsigned long long)(after.nr_unmap_calls - before.nr_unmap_calls));
	assert_int_equal(mb->bad_reads, 0);
	/* Both states were really exercised, not flipped past the guest. */
	assert_true(dropped >= 990);
	assert_true(mb->landed >= 990);
	fprintf(stderr, "k3: %u of 2000 states saw no guest write in time\n", stalled);
	/* Every write happened exactly once: in memory, or trapped and dropped. */
	assert_int_equal(mb->landed + dropped, mb->iterations);
	assert_true(mb->iterations > 0);
	/* Each flip of one page inside one run: 1 unmap + 3 maps, and back 3 + 1. */
	assert_int_equal(after.nr_map_calls - before.nr_map_calls, 4000);
	assert_int_equal(after.nr_unmap_calls - before.nr_unmap_calls, 4000);
	harness_destroy(h);
}

/* Trapped writes to the hammered page, seen at the exit path (ram_access_hook). */
struct trapped {
	uint32_t none_type;
	_Atomic uint64_t none_writes, ro_writes, out_of_order;
	uint64_t last; /* value of the last trapped write: they must increase */
};

static void count_trapped(void *ctx, struct vcpu *vcpu, const struct io_access *a, uint32_t type)
{
	struct trapped *t = ctx;
	(void)vcpu;
	if (!a->is_write || a->addr != P2M_ABI_PAGE)
		return;
	if (a->data <= t->last)
		t->out_of_order++; /* a write seen twice, or one run again */
	t->last = a->data;
	if (type == t->none_type)
		t->none_writes++;
	else if (type == IOREQVM_MEM_RAM_RO)
		t->ro_writes++;
}

static void wait_change(volatile _Atomic uint64_t *counter, uint64_t from, unsigned *stalled)
{
	for (uint64_t t0 = now_ms(); *counter == from && now_ms() - t0 < 2000;)
		__builtin_ia32_pause();
	*stalled += *counter == from;
}

static void test_p2m_guest_k3_rw_ro_none_flips_every_write_once(void **state)
{
	struct harness *h = boot("hammer");
	struct p2m_abi_mailbox *mb = mailbox(h);
	struct trapped t = { .none_type = IOREQVM_MEM_IOREQ_SERVER1 };
	char err[256];
	/* NONE: a READ|WRITE claim whose owner does not exist, so the exit path
	 * serves the accesses from memory (C5) after the hook counted them. */
	struct p2m_claim claim = { .server = 999, .flags = IOREQVM_MEM_ACCESS_READ |
					       IOREQVM_MEM_ACCESS_WRITE, .enabled = true };
	assert_int_equal(p2m_set_claim(&h->vm.p2m, t.none_type, &claim, err, sizeof(err)), 0);
	h->vm.ram_access_hook_ctx = &t;
	h->vm.ram_access_hook = count_trapped;
	assert_int_equal(harness_start(h), 0);
	for (int i = 0; i < 30000 && !mb->phase; i++)
		usleep(1000);
	assert_int_equal(mb->phase, 1);
	volatile uint64_t *page = harness_ram(h, P2M_ABI_PAGE, 8);
	unsigned stalled = 0, flips = 0;
	for (int i = 0; flips < 1000; i++) {
		/* Each state held until the guest has written under it; RW between
		 * the others (S1: only ram_rw pages become an ioreq_server type). */
		switch (i % 4 == 2 ? 1 : i % 2 ? 2 : 0) {
		case 0: {
			uint64_t n = t.ro_writes;
			set_type(h, IOREQVM_MEM_RAM_RO, P2M_ABI_PAGE, 1);
			wait_change(&t.ro_writes, n, &stalled);
			break;
		}
		case 1: {
			uint64_t n = t.none_writes;
			set_type(h, t.none_type, P2M_ABI_PAGE, 1);
			wait_change(&t.none_writes, n, &stalled);
			break;
		}
		case 2: {
			uint64_t v = *page;
			set_type(h, IOREQVM_MEM_RAM_RW, P2M_ABI_PAGE, 1);
			for (uint64_t t0 = now_ms(); *page == v && now_ms() - t0 < 2000;)
				__builtin_ia32_pause();
			stalled += *page == v;
			break;
		}
		}
		flips++;
	}
	mb->stop = 1;
	assert_int_equal(harness_wait(h, 60000), GUEST_PASS);
	fprintf(stderr, "k3 rw/ro/none: %llu writes: %llu landed (%llu of them through the exit "
		"path as NONE), %llu dropped as ram_ro; %u of 1000 states saw no write in time\n",
		(unsigned long long)mb->iterations, (unsigned long long)mb->landed,
		(unsigned long long)t.none_writes, (unsigned long long)t.ro_writes, stalled);
	assert_int_equal(mb->bad_reads, 0);
	assert_int_equal(t.out_of_order, 0);
	assert_true(t.ro_writes >= 200 && t.none_writes >= 200);
	assert_int_equal(t.ro_writes, h->vm.ro_writes_dropped);
	/* Every write exactly once: in memory (RW or NONE) or trapped and dropped. */
	assert_int_equal(mb->landed + h->vm.ro_writes_dropped, mb->iterations);
	harness_destroy(h);
}

static void test_p2m_guest_p4_ram_rw_writes_cause_no_exits(void **state)
{
	struct harness *h = boot("bulk");
	assert_int_equal(harness_start(h), 0);
	assert_int_equal(harness_wait(h, 120000), GUEST_PASS);
	assert_int_equal(vm_mmio_exits(&h->vm), 0);
	uint64_t *bulk = harness_ram(h, P2M_ABI_BULK, P2M_ABI_BULK_SIZE);
	for (uint64_t i = 0; i < P2M_ABI_BULK_SIZE / 8; i += 4099)
		assert_int_equal(bulk[i], i * 0x9E3779B97F4A7C15ULL + 1);
	harness_destroy(h);
}

static void test_p2m_guest_s4_refusals_leave_running_guest_alone(void **state)
{
	struct harness *h = boot("hammer");
	struct p2m_abi_mailbox *mb = mailbox(h);
	assert_int_equal(harness_start(h), 0);
	for (int i = 0; i < 30000 && !mb->phase; i++)
		usleep(1000);
	char err[256];
	struct p2m *p = &h->vm.p2m;
	assert_int_equal(p2m_set_mem_type(p, IOREQVM_MEM_MMIO_DM, PFN(P2M_ABI_PAGE), 1,
					  P2M_OWNER_VMM, err, sizeof(err)), -EINVAL);
	assert_int_equal(p2m_set_mem_type(p, IOREQVM_MEM_IOREQ_SERVER, PFN(P2M_ABI_PAGE), 1,
					  P2M_OWNER_VMM, err, sizeof(err)), -EINVAL);
	assert_int_equal(p2m_set_mem_type(p, IOREQVM_MEM_RAM_RO, PFN(P2M_ABI_PAGE), 0,
					  P2M_OWNER_VMM, err, sizeof(err)), -EINVAL);
	uint32_t t;
	assert_int_equal(p2m_get_mem_type(p, PFN(P2M_ABI_PAGE), &t), 0);
	assert_int_equal(t, IOREQVM_MEM_RAM_RW);
	mb->stop = 1;
	assert_int_equal(harness_wait(h, 60000), GUEST_PASS);
	assert_int_equal(mb->landed, mb->iterations); /* never trapped */
	assert_int_equal(h->vm.ro_writes_dropped, 0);
	harness_destroy(h);
}

int main(int argc, char **argv)
{
	harness_args(argc, argv, &backend, &image);
	fprintf(stderr, "backend: %s\n", backend);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_p2m_guest_m2_ram_ro_drops_writes_m3_hole_reads_ones),
		cmocka_unit_test(test_p2m_guest_k3_flips_lose_and_double_nothing),
		cmocka_unit_test(test_p2m_guest_k3_rw_ro_none_flips_every_write_once),
		cmocka_unit_test(test_p2m_guest_p4_ram_rw_writes_cause_no_exits),
		cmocka_unit_test(test_p2m_guest_s4_refusals_leave_running_guest_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
