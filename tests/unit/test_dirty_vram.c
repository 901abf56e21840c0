/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the VMM side of Xen's track_dirty_vram (DESIGN X1: the
 * call does what Xen's does; core/dirty_vram.c, the backends' dirty_log,
 * the control op TRACK_DIRTY_VRAM), on a real VM whose vCPUs never run:
 * tcg always, kvm where /dev/kvm opens. What is checked is what a model
 * reads back: the bitmap (every frame on the first call for a range, as
 * Xen's hap_track_dirty_vram; then exactly the frames written since), and
 * the RAM the writes reached. Writes come through the exit path
 * (io_dispatch, as a trapped guest store served into RAM) and through
 * MODIFIED_MEMORY; the guest's own stores under KVM's dirty log and tcg's
 * write protection are the guest tests' (xen_dm_model_track_dirty_vram_*).
 * On tcg the engine regions over the range are read-only while it is
 * tracked (so every store traps), and read-write again after.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/dirty_vram.h"
#include "core/io_dispatch.h"
#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"
#include "ctl/ctl_ops.h"

#define FIRST 0x800u /* 8 MiB */
#define NR 100u      /* not a multiple of 64: the last word's high bits stay 0 */

static struct vm vm;
static char err[160];

static int make_vm(const char *accel)
{
	struct vm_config cfg = { .memory = 64 << 20, .nr_vcpus = 1, .accel = accel,
				 .console_fd = 2, .max_servers = 4 };
	memset(&vm, 0, sizeof(vm));
	return vm_create(&vm, &cfg, err, sizeof(err));
}

static int setup_tcg(void **state)
{
	if (make_vm("tcg")) {
		print_error("tcg VM: %s\n", err);
		return -1;
	}
	return 0;
}

static int setup_kvm(void **state)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0; /* the kvm tests skip themselves */
	close(fd);
	if (make_vm("kvm")) {
		print_error("kvm VM: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	if (vm.ops)
		vm_destroy(&vm);
	memset(&vm, 0, sizeof(vm));
	return 0;
}

/* A guest store of @v (4 bytes) at @gpa as the exit path serves it. */
static void exit_path_store(uint64_t gpa, uint32_t v)
{
	struct io_access a = { .space = IO_SPACE_MMIO, .addr = gpa, .size = 4, .is_write = true,
			       .data = v };
	assert_int_equal(io_dispatch(&vm.vcpus[0], &a, IO_FROM_EXIT), IO_DONE);
}

static uint32_t ram32(uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, guest_ram_ptr(&vm.ram, gpa, 4), 4);
	return v;
}

static uint64_t bits[DIRTY_VRAM_WORDS];

static int track(uint64_t first, uint64_t nr)
{
	memset(bits, 0xa5, sizeof(bits));
	return dirty_vram_track(&vm, first, nr, bits, err, sizeof(err));
}

static void expect_words(uint64_t w0, uint64_t w1)
{
	assert_int_equal(bits[0], w0);
	assert_int_equal(bits[1], w1);
}

#define PAGE(i) (((uint64_t)FIRST + (i)) * GUEST_PAGE_SIZE)

/* The sequence a model sees, whatever the backend. */
static void tracked_sequence(void)
{
	assert_int_equal(track(FIRST, NR), 0);
	expect_words(~0ULL, (1ULL << (NR - 64)) - 1); /* first call: every frame, none past nr */
	assert_int_equal(track(FIRST, NR), 0);
	expect_words(0, 0);

	exit_path_store(PAGE(0) + 8, 0x11111111);
	exit_path_store(PAGE(65) + 4092, 0x22222222);
	exit_path_store(PAGE(NR) + 16, 0x33333333); /* the frame after the range */
	exit_path_store(PAGE(99) - 2, 0x44444444);  /* crosses 98 | 99 (cut at the page, C7) */
	assert_int_equal(track(FIRST, NR), 0);
	expect_words(1ULL << 0, (1ULL << (65 - 64)) | (1ULL << (98 - 64)) | (1ULL << (99 - 64)));
	assert_int_equal(ram32(PAGE(0) + 8), 0x11111111);
	assert_int_equal(ram32(PAGE(65) + 4092), 0x22222222);
	assert_int_equal(ram32(PAGE(NR) + 16), 0x33333333);
	assert_int_equal(ram32(PAGE(99) - 2), 0x44444444);
	assert_int_equal(track(FIRST, NR), 0);
	expect_words(0, 0);

	/* A model's MODIFIED_MEMORY, through the control op (Xen marks those frames too). */
	static struct ctl_reply rep;
	struct ctl_caller caller = { .conn = &caller, .pid = 1 };
	struct ioreqvm_op_modified_memory mm = { .first_pfn = FIRST + 62, .nr = 3 };
	const struct ctl_op_desc *d = NULL;
	static uint8_t buf[sizeof(struct ioreqvm_ctl_req) + sizeof(mm)];
	struct ioreqvm_ctl_req h = { .magic = IOREQVM_CTL_MAGIC, .version = IOREQVM_CTL_VERSION,
				     .op = IOREQVM_OP_MODIFIED_MEMORY, .len = sizeof(mm) };
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &mm, sizeof(mm));
	const void *payload;
	memset(&rep, 0, sizeof(rep));
	d = ctl_check_request(buf, sizeof(buf), false, 0, &payload, &rep);
	assert_non_null(d);
	ctl_run_op(&vm, &caller, d, payload, &rep);
	assert_int_equal(rep.result, 0);
	assert_int_equal(track(FIRST, NR), 0);
	expect_words(3ULL << 62, 1);

	/* A mapping over the range split and joined (set_mem_type next to it): nothing lost. */
	exit_path_store(PAGE(7), 7);
	assert_int_equal(p2m_set_mem_type(&vm.p2m, IOREQVM_MEM_RAM_RO, FIRST + NR + 3, 1,
					  P2M_OWNER_VMM, err, sizeof(err)), 0);
	assert_int_equal(p2m_set_mem_type(&vm.p2m, IOREQVM_MEM_RAM_RW, FIRST + NR + 3, 1,
					  P2M_OWNER_VMM, err, sizeof(err)), 0);
	assert_int_equal(track(FIRST, NR), 0);
	expect_words(1ULL << 7, 0);

	/* Another range: every frame again, the old range's notes gone. */
	exit_path_store(PAGE(1), 1);
	assert_int_equal(track(FIRST + 64, 10), 0);
	expect_words((1ULL << 10) - 1, 0xa5a5a5a5a5a5a5a5ULL); /* one word written, no more */
	exit_path_store(PAGE(64 + 9), 9);
	exit_path_store(PAGE(64 + 10), 10); /* just past it */
	assert_int_equal(track(FIRST + 64, 10), 0);
	expect_words(1ULL << 9, 0xa5a5a5a5a5a5a5a5ULL);

	/* Stopped: stores are not noted; started again: every frame once more. */
	assert_int_equal(track(0, 0), 0);
	exit_path_store(PAGE(64 + 2), 2);
	assert_int_equal(track(FIRST + 64, 10), 0);
	expect_words((1ULL << 10) - 1, 0xa5a5a5a5a5a5a5a5ULL);
	assert_int_equal(track(FIRST + 64, 10), 0);
	expect_words(0, 0xa5a5a5a5a5a5a5a5ULL);
	assert_int_equal(track(0, 0), 0);
	assert_int_equal(track(0, 0), 0); /* stopping when stopped: nothing to do */
}

static void test_dirty_vram_tcg_bitmaps_as_xen(void **state)
{
	tracked_sequence();
}

static void test_dirty_vram_kvm_bitmaps_as_xen(void **state)
{
	if (!vm.ops)
		skip(); /* no /dev/kvm here */
	tracked_sequence();
}

static void test_dirty_vram_refusals(void **state)
{
	assert_int_equal(track(FIRST, IOREQVM_DIRTY_MAX_PAGES + 1), -EINVAL);
	assert_non_null(strstr(err, "at most"));
	assert_int_equal(track(vm.p2m.nr_pages - 1, 2), -EINVAL);
	assert_non_null(strstr(err, "outside guest-physical space"));
	assert_int_equal(track(UINT64_MAX, 2), -EINVAL); /* wraps */
	assert_int_equal(track(vm.p2m.nr_pages - IOREQVM_DIRTY_MAX_PAGES,
			       IOREQVM_DIRTY_MAX_PAGES), 0); /* the largest, at the top */
	assert_int_equal(bits[DIRTY_VRAM_WORDS - 1], ~0ULL);
	assert_int_equal(track(0, 0), 0);
	/* The control op: its reply is ceil(nr / 64) words; pad must be 0. */
	static struct ctl_reply rep;
	struct ctl_caller caller = { .conn = &caller, .pid = 1 };
	struct ioreqvm_op_track_dirty_vram t = { .nr = 65, .first_pfn = FIRST };
	static uint8_t buf[sizeof(struct ioreqvm_ctl_req) + sizeof(t)];
	struct ioreqvm_ctl_req h = { .magic = IOREQVM_CTL_MAGIC, .version = IOREQVM_CTL_VERSION,
				     .op = IOREQVM_OP_TRACK_DIRTY_VRAM, .len = sizeof(t) };
	for (int pass = 0; pass < 2; pass++) {
		t.pad = (uint32_t)pass;
		memcpy(buf, &h, sizeof(h));
		memcpy(buf + sizeof(h), &t, sizeof(t));
		const void *payload;
		memset(&rep, 0, sizeof(rep));
		const struct ctl_op_desc *d = ctl_check_request(buf, sizeof(buf), false, 0, &payload,
								&rep);
		assert_non_null(d);
		ctl_run_op(&vm, &caller, d, payload, &rep);
		if (!pass) {
			assert_int_equal(rep.result, 0);
			assert_int_equal(rep.len, 16);
			uint64_t w[2];
			memcpy(w, rep.payload, sizeof(w));
			assert_int_equal(w[0], ~0ULL);
			assert_int_equal(w[1], 1);
		} else {
			assert_int_equal(rep.result, -EINVAL);
			assert_non_null(strstr(rep.msg, "padding"));
		}
	}
	assert_int_equal(track(0, 0), 0);
}

/* The kind of the engine region holding guest-physical @gpa. */
static int region_kind(uint64_t gpa)
{
	struct tcg_region *r;
	unsigned n;
	uint64_t gen;
	tcg_vm_desired_regions(vm.be, &r, &n, &gen);
	assert_non_null(r);
	int kind = -1;
	for (unsigned i = 0; i < n; i++)
		if (gpa >= r[i].start && gpa < r[i].end)
			kind = (int)r[i].kind;
	free(r);
	return kind;
}

static void test_dirty_vram_tcg_range_write_protected_while_tracked(void **state)
{
	assert_int_equal(region_kind(PAGE(0)), TCG_REGION_RW);
	assert_int_equal(track(FIRST, NR), 0);
	assert_int_equal(region_kind(PAGE(0) - 1), TCG_REGION_RW);
	assert_int_equal(region_kind(PAGE(0)), TCG_REGION_RO);
	assert_int_equal(region_kind(PAGE(NR - 1)), TCG_REGION_RO);
	assert_int_equal(region_kind(PAGE(NR)), TCG_REGION_RW);
	/* ram_ro stays RO, and the split around it keeps the range RO. */
	assert_int_equal(p2m_set_mem_type(&vm.p2m, IOREQVM_MEM_RAM_RO, FIRST + 5, 1, P2M_OWNER_VMM,
					  err, sizeof(err)), 0);
	assert_int_equal(region_kind(PAGE(4)), TCG_REGION_RO);
	assert_int_equal(region_kind(PAGE(5)), TCG_REGION_RO);
	assert_int_equal(region_kind(PAGE(6)), TCG_REGION_RO);
	assert_int_equal(p2m_set_mem_type(&vm.p2m, IOREQVM_MEM_RAM_RW, FIRST + 5, 1, P2M_OWNER_VMM,
					  err, sizeof(err)), 0);
	assert_int_equal(track(0, 0), 0);
	assert_int_equal(region_kind(PAGE(0)), TCG_REGION_RW);
	assert_int_equal(region_kind(PAGE(NR - 1)), TCG_REGION_RW);
}

int main(void)
{
	const struct CMUnitTest tcg[] = {
		cmocka_unit_test(test_dirty_vram_tcg_bitmaps_as_xen),
		cmocka_unit_test(test_dirty_vram_refusals),
		cmocka_unit_test(test_dirty_vram_tcg_range_write_protected_while_tracked),
	};
	const struct CMUnitTest kvm[] = {
		cmocka_unit_test(test_dirty_vram_kvm_bitmaps_as_xen),
	};
	int failed = cmocka_run_group_tests_name("tcg", tcg, setup_tcg, teardown);
	failed += cmocka_run_group_tests_name("kvm", kvm, setup_kvm, teardown);
	return failed;
}
