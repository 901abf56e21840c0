/* SPDX-License-Identifier: MIT */
/*
 * The exit path (core/io_dispatch.c) against a fake backend, no guest: a VM
 * assembled by hand from the real P2M, IOREQ servers and in-VMM device map,
 * a fake backend that records code_changed (K8), and a thread standing in
 * for the device models that answers the request slots and records what it
 * received. Covers I8's order (claimed type, then ranges, then in-VMM
 * devices, then I9), C5 (a disabled owner's page is RAM), C6 (forwarded as
 * COPY, page untouched), M2 (ram_ro drops writes), C7 (a write crossing
 * into a claimed page arrives in two parts), I7 (posted in place from
 * guest mode) and K3 (a wait for a model happens out of guest mode).
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/io_dispatch.h"
#include "core/vm.h"

#define RAM_SIZE (16ULL << 20)
#define CLAIMED_PFN 0x100ULL /* a RAM page of type ioreq_server 4 */
#define CLAIMED_GPA (CLAIMED_PFN << GUEST_PAGE_SHIFT)
#define RO_GPA (0x200ULL << GUEST_PAGE_SHIFT)
#define DEV_GPA 0xE0000000ULL /* no RAM: mmio_dm */
#define LOW_GPA 0xA0000ULL    /* VGA window: mmio_dm below 1 MiB, postable */
#define READ_ANSWER 0x1122334455667788ULL

static struct vm vm;
static const int owner_a, owner_b; /* two "connections" */
static uint16_t srv_a, srv_b;

/* ---- the fake backend ---------------------------------------------- */

static struct {
	unsigned n;
	struct vcpu *self;
	uint64_t gpa, len;
} changed;

static int fake_map(struct vm *v, uint64_t gpa, uint64_t size, uint64_t off, enum mem_access a)
{
	return 0;
}

static int fake_unmap(struct vm *v, uint64_t gpa)
{
	return 0;
}

static void fake_mapping_count(struct vm *v, unsigned *used, unsigned *limit)
{
	*used = 0;
	*limit = 1000;
}

static int fake_code_changed(struct vm *v, struct vcpu *self, uint64_t gpa, uint64_t len)
{
	changed.n++;
	changed.self = self;
	changed.gpa = gpa;
	changed.len = len;
	return 0;
}

static const struct cpu_backend_ops fake_ops = {
	.name = "fake",
	.map = fake_map,
	.unmap = fake_unmap,
	.mapping_count = fake_mapping_count,
	.code_changed = fake_code_changed,
};

static int target_map(void *ctx, uint64_t gpa, uint64_t size, uint64_t off, enum mem_access a)
{
	return 0;
}

static int target_unmap(void *ctx, uint64_t gpa)
{
	return 0;
}

static void no_pause(void *ctx)
{
}

/* ---- the in-VMM device --------------------------------------------- */

static struct {
	unsigned n;
	uint64_t addr, data;
	bool is_write;
} dev;

static enum io_result fake_dev(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	dev.n++;
	dev.addr = a->addr;
	dev.is_write = a->is_write;
	dev.data = a->data;
	if (!a->is_write)
		a->data = 0xde;
	return IO_DONE;
}

/* ---- the device models: one thread answering every server's slot 0 ---- */

#define MAX_SEEN 8
static struct seen {
	uint16_t server;
	uint8_t type, dir;
	uint32_t size;
	uint64_t addr, data;
	bool vcpu_in_guest; /* K3: was the vCPU out of guest mode while it waited? */
} seen[MAX_SEEN];
static unsigned nr_seen;
static atomic_bool models_stop;
static pthread_t models;

static void *models_main(void *arg)
{
	while (!atomic_load(&models_stop)) {
		for (unsigned i = 0; i < IOREQ_MAX_SERVERS; i++) {
			pthread_mutex_lock(&vm.servers.lock);
			struct ioreq_server *s = vm.servers.table[i];
			if (s)
				atomic_fetch_add(&s->refs, 1);
			pthread_mutex_unlock(&vm.servers.lock);
			if (!s)
				continue;
			struct ioreqvm_ioreq *r = &s->slots[0];
			if (ioreqvm_ioreq_state(r) == IOREQVM_STATE_IOREQ_READY) {
				if (nr_seen < MAX_SEEN)
					seen[nr_seen] = (struct seen){
						.server = s->id, .type = r->type, .dir = r->dir,
						.size = r->size, .addr = r->addr, .data = r->data,
						.vcpu_in_guest = atomic_load(&vm.vcpus[0].in_guest) };
				nr_seen++;
				if (r->dir == IOREQVM_IOREQ_READ)
					r->data = READ_ANSWER;
				ioreqvm_ioreq_set_state(r, IOREQVM_STATE_IORESP_READY);
				syscall(SYS_futex, (uint8_t *)r + IOREQVM_IOREQ_STATE_WORD, FUTEX_WAKE,
					1, NULL, NULL, 0);
			}
			ioreq_server_put(s);
		}
		sched_yield();
	}
	return NULL;
}

/* ---- setup ----------------------------------------------------------- */

static int setup(void **state)
{
	char err[256];
	memset(&vm, 0, sizeof(vm));
	vm.ops = &fake_ops;
	pthread_mutex_init(&vm.hold_lock, NULL);
	pthread_cond_init(&vm.hold_cond, NULL);
	pthread_cond_init(&vm.left_cond, NULL);
	if (guest_ram_create(&vm.ram, RAM_SIZE))
		return -1;
	struct map_target target = { .map = target_map, .unmap = target_unmap, .limit = 1000 };
	struct p2m_pauser pauser = { .pause = no_pause, .resume = no_pause };
	if (p2m_init(&vm.p2m, &vm.ram, &target, &pauser))
		return -1;
	if (ioreq_servers_init(&vm.servers, &vm.p2m, 8, 1))
		return -1;
	vm.nr_vcpus = 1;
	static struct vcpu v;
	v.vm = &vm;
	vm.vcpus = &v;
	/* An in-VMM device everywhere a server may also be: it must come after them. */
	if (iomap_add(&vm.iomap[IO_SPACE_MMIO], CLAIMED_GPA, GUEST_PAGE_SIZE, fake_dev, NULL, "d") ||
	    iomap_add(&vm.iomap[IO_SPACE_MMIO], DEV_GPA, GUEST_PAGE_SIZE, fake_dev, NULL, "d") ||
	    iomap_add(&vm.iomap[IO_SPACE_PIO], 0x510, 4, fake_dev, NULL, "d"))
		return -1;
	/* A: owns type ioreq_server 4 for writes; B: ranges over the same places. */
	if (ioreq_server_create(&vm.servers, &owner_a, 1, false, &srv_a, err, sizeof(err)) ||
	    ioreq_server_create(&vm.servers, &owner_b, 2, true, &srv_b, err, sizeof(err)) ||
	    ioreq_server_claim(&vm.servers, &owner_a, srv_a, IOREQVM_MEM_IOREQ_SERVER,
			       IOREQVM_MEM_ACCESS_WRITE, err, sizeof(err)) ||
	    p2m_set_mem_type(&vm.p2m, IOREQVM_MEM_IOREQ_SERVER, CLAIMED_PFN, 1, P2M_OWNER_VMM, err,
			     sizeof(err)) ||
	    p2m_set_mem_type(&vm.p2m, IOREQVM_MEM_RAM_RO, RO_GPA >> GUEST_PAGE_SHIFT, 1,
			     P2M_OWNER_VMM, err, sizeof(err)) ||
	    ioreq_server_map_range(&vm.servers, &owner_b, srv_b, IOREQVM_IO_RANGE_MEMORY,
				   CLAIMED_GPA, CLAIMED_GPA + GUEST_PAGE_SIZE - 1, 0, err, sizeof(err)) ||
	    ioreq_server_map_range(&vm.servers, &owner_b, srv_b, IOREQVM_IO_RANGE_MEMORY, DEV_GPA,
				   DEV_GPA + GUEST_PAGE_SIZE - 1, 0, err, sizeof(err)) ||
	    ioreq_server_map_range(&vm.servers, &owner_b, srv_b, IOREQVM_IO_RANGE_MEMORY, LOW_GPA,
				   LOW_GPA + GUEST_PAGE_SIZE - 1, IOREQVM_IO_RANGE_BUFFERED, err,
				   sizeof(err)) ||
	    ioreq_server_map_range(&vm.servers, &owner_b, srv_b, IOREQVM_IO_RANGE_PORT, 0x510,
				   0x513, 0, err, sizeof(err)) ||
	    ioreq_server_set_state(&vm.servers, &owner_a, srv_a, true, err, sizeof(err)) ||
	    ioreq_server_set_state(&vm.servers, &owner_b, srv_b, true, err, sizeof(err))) {
		print_error("setup: %s\n", err);
		return -1;
	}
	return pthread_create(&models, NULL, models_main, NULL);
}

static int teardown(void **state)
{
	atomic_store(&models_stop, true);
	pthread_join(models, NULL);
	ioreq_servers_destroy(&vm.servers);
	p2m_destroy(&vm.p2m);
	guest_ram_destroy(&vm.ram);
	for (unsigned i = 0; i < IO_SPACE_COUNT; i++)
		iomap_free(&vm.iomap[i]);
	return 0;
}

static void reset_records(void)
{
	memset(&changed, 0, sizeof(changed));
	memset(&dev, 0, sizeof(dev));
	memset(seen, 0, sizeof(seen));
	nr_seen = 0;
}

static enum io_result do_access(uint64_t gpa, uint8_t size, bool is_write, uint64_t *data,
				enum io_from from)
{
	struct io_access a = { .space = IO_SPACE_MMIO, .addr = gpa, .size = size,
			       .is_write = is_write, .data = is_write ? *data : 0 };
	if (from == IO_FROM_GUEST)
		assert_true(vm_vcpu_enter_guest(&vm.vcpus[0]));
	enum io_result r = io_dispatch(&vm.vcpus[0], &a, from);
	if (from == IO_FROM_GUEST) {
		assert_true(atomic_load(&vm.vcpus[0].in_guest)); /* put back in guest mode */
		vm_vcpu_leave_guest(&vm.vcpus[0]);
	}
	if (!is_write)
		*data = a.data;
	return r;
}

static uint32_t ram32(uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, guest_ram_ptr(&vm.ram, gpa, 4), 4);
	return v;
}

static void set_ram32(uint64_t gpa, uint32_t v)
{
	memcpy(guest_ram_ptr(&vm.ram, gpa, 4), &v, 4);
}

/* ---- tests ------------------------------------------------------------ */

/* I8, C6: a claimed page goes to its owner before any range or device; the page is untouched. */
static void test_i8_claimed_type_comes_before_ranges_and_devices(void **state)
{
	for (int from = IO_FROM_EXIT; from <= IO_FROM_GUEST; from++) {
		reset_records();
		set_ram32(CLAIMED_GPA + 8, 0xaaaaaaaa);
		uint64_t d = 0x12345678;
		assert_int_equal(do_access(CLAIMED_GPA + 8, 4, true, &d, (enum io_from)from), IO_DONE);
		assert_int_equal(nr_seen, 1);
		assert_int_equal(seen[0].server, srv_a);
		assert_int_equal(seen[0].type, IOREQVM_IOREQ_TYPE_COPY);
		assert_int_equal(seen[0].dir, IOREQVM_IOREQ_WRITE);
		assert_int_equal(seen[0].addr, CLAIMED_GPA + 8);
		assert_int_equal(seen[0].size, 4);
		assert_int_equal(seen[0].data, 0x12345678);
		assert_int_equal(dev.n, 0);
		assert_int_equal(ram32(CLAIMED_GPA + 8), 0xaaaaaaaa); /* C6: the model decides */
		/* K8: the model may have written RAM: code from there is dropped. */
		assert_int_equal(changed.n, 1);
		assert_ptr_equal(changed.self, &vm.vcpus[0]);
		assert_int_equal(changed.gpa, CLAIMED_GPA + 8);
		assert_int_equal(changed.len, 4);
		/* K3: from guest mode, the wait for the model happens out of it. */
		assert_false(seen[0].vcpu_in_guest);
	}
	/* A read: the claim is WRITE only, so memory answers (not B, not the device). */
	reset_records();
	uint64_t d = 0;
	assert_int_equal(do_access(CLAIMED_GPA + 8, 4, false, &d, IO_FROM_EXIT), IO_DONE);
	assert_int_equal(d, 0xaaaaaaaa);
	assert_int_equal(nr_seen, 0);
	assert_int_equal(dev.n, 0);
}

/* C5, I4: while the owner is disabled, its pages are RAM: the write lands, K8 told. */
static void test_c5_disabled_owner_page_is_ram(void **state)
{
	char err[256];
	assert_int_equal(ioreq_server_set_state(&vm.servers, &owner_a, srv_a, false, err,
						sizeof(err)), 0);
	reset_records();
	uint64_t d = 0x0badf00d;
	assert_int_equal(do_access(CLAIMED_GPA + 16, 4, true, &d, IO_FROM_GUEST), IO_DONE);
	assert_int_equal(nr_seen, 0);
	assert_int_equal(dev.n, 0);
	assert_int_equal(ram32(CLAIMED_GPA + 16), 0x0badf00d);
	assert_int_equal(changed.n, 1);
	assert_int_equal(changed.gpa, CLAIMED_GPA + 16);
	assert_int_equal(ioreq_server_set_state(&vm.servers, &owner_a, srv_a, true, err,
						sizeof(err)), 0);
}

/* I8: on a page of no RAM type, an enabled server's range, then the in-VMM device, then I9. */
static void test_i8_range_then_device_then_default(void **state)
{
	char err[256];
	reset_records();
	uint64_t d = 0;
	assert_int_equal(do_access(DEV_GPA + 4, 4, false, &d, IO_FROM_EXIT), IO_DONE);
	assert_int_equal(nr_seen, 1);
	assert_int_equal(seen[0].server, srv_b);
	assert_int_equal(seen[0].type, IOREQVM_IOREQ_TYPE_COPY);
	assert_int_equal(seen[0].dir, IOREQVM_IOREQ_READ);
	assert_int_equal(d, READ_ANSWER & 0xffffffff);
	assert_int_equal(dev.n, 0);
	assert_int_equal(changed.n, 0); /* no RAM there */

	/* I4: B disabled receives nothing; the in-VMM device answers. */
	assert_int_equal(ioreq_server_set_state(&vm.servers, &owner_b, srv_b, false, err,
						sizeof(err)), 0);
	reset_records();
	assert_int_equal(do_access(DEV_GPA + 4, 4, false, &d, IO_FROM_GUEST), IO_DONE);
	assert_int_equal(nr_seen, 0);
	assert_int_equal(dev.n, 1);
	assert_int_equal(dev.addr, DEV_GPA + 4);
	assert_int_equal(d, 0xde);
	assert_int_equal(ioreq_server_set_state(&vm.servers, &owner_b, srv_b, true, err,
						sizeof(err)), 0);

	/* A range must hold the whole access: one straddling its end goes past it. */
	reset_records();
	uint64_t before = atomic_load(&vm.unbacked_reads[IO_SPACE_MMIO]);
	assert_int_equal(do_access(DEV_GPA + GUEST_PAGE_SIZE, 4, false, &d, IO_FROM_EXIT), IO_DONE);
	/* I9: nobody: all ones, counted. */
	assert_int_equal(d, 0xffffffffffffffffULL);
	assert_int_equal(atomic_load(&vm.unbacked_reads[IO_SPACE_MMIO]), before + 1);
	assert_int_equal(nr_seen, 0);
	assert_int_equal(dev.n, 0);
	uint64_t w = 5, wbefore = atomic_load(&vm.unbacked_writes[IO_SPACE_MMIO]);
	assert_int_equal(do_access(DEV_GPA + 2 * GUEST_PAGE_SIZE, 4, true, &w, IO_FROM_GUEST),
			 IO_DONE);
	assert_int_equal(atomic_load(&vm.unbacked_writes[IO_SPACE_MMIO]), wbefore + 1);
}

/* I8 for ports: the range first, the in-VMM device only without it. */
static void test_i8_ports_range_before_device(void **state)
{
	char err[256];
	reset_records();
	struct io_access a = { .space = IO_SPACE_PIO, .addr = 0x511, .size = 1, .is_write = true,
			       .data = 0x7f };
	assert_int_equal(io_dispatch(&vm.vcpus[0], &a, IO_FROM_EXIT), IO_DONE);
	assert_int_equal(nr_seen, 1);
	assert_int_equal(seen[0].server, srv_b);
	assert_int_equal(seen[0].type, IOREQVM_IOREQ_TYPE_PIO);
	assert_int_equal(seen[0].addr, 0x511);
	assert_int_equal(dev.n, 0);
	assert_int_equal(ioreq_server_unmap_range(&vm.servers, &owner_b, srv_b,
						  IOREQVM_IO_RANGE_PORT, 0x510, 0x513, err,
						  sizeof(err)), 0);
	reset_records();
	assert_int_equal(io_dispatch(&vm.vcpus[0], &a, IO_FROM_EXIT), IO_DONE);
	assert_int_equal(nr_seen, 0);
	assert_int_equal(dev.n, 1);
	assert_int_equal(dev.data, 0x7f);
	assert_int_equal(ioreq_server_map_range(&vm.servers, &owner_b, srv_b,
						IOREQVM_IO_RANGE_PORT, 0x510, 0x513, 0, err,
						sizeof(err)), 0);
}

/* M2: a write to ram_ro is dropped and counted; reads see memory; nothing to drop (K8). */
static void test_m2_ram_ro_write_dropped(void **state)
{
	reset_records();
	set_ram32(RO_GPA, 0x5a5a5a5a);
	uint64_t before = atomic_load(&vm.ro_writes_dropped);
	uint64_t d = 0x11111111;
	assert_int_equal(do_access(RO_GPA, 4, true, &d, IO_FROM_GUEST), IO_DONE);
	assert_int_equal(ram32(RO_GPA), 0x5a5a5a5a);
	assert_int_equal(atomic_load(&vm.ro_writes_dropped), before + 1);
	assert_int_equal(changed.n, 0);
	assert_int_equal(nr_seen, 0);
	assert_int_equal(do_access(RO_GPA, 4, false, &d, IO_FROM_EXIT), IO_DONE);
	assert_int_equal(d, 0x5a5a5a5a);
}

/* A trap on a ram_rw page (its mapping being replaced): memory, and K8 for the writer. */
static void test_ram_rw_trap_writes_memory(void **state)
{
	reset_records();
	uint64_t d = 0xcafef00d, gpa = 0x300ULL << GUEST_PAGE_SHIFT;
	assert_int_equal(do_access(gpa, 4, true, &d, IO_FROM_GUEST), IO_DONE);
	assert_int_equal(ram32(gpa), 0xcafef00d);
	assert_int_equal(changed.n, 1);
	assert_ptr_equal(changed.self, &vm.vcpus[0]);
	assert_int_equal(changed.gpa, gpa);
	assert_int_equal(changed.len, 4);
}

/* C7: a write crossing from a RAM page into a claimed page: RAM gets its part, the owner the rest. */
static void test_c7_write_crossing_into_claimed_page(void **state)
{
	reset_records();
	set_ram32(CLAIMED_GPA, 0xbbbbbbbb);
	uint64_t d = 0x8877665544332211ULL;
	assert_int_equal(do_access(CLAIMED_GPA - 4, 8, true, &d, IO_FROM_GUEST), IO_DONE);
	assert_int_equal(ram32(CLAIMED_GPA - 4), 0x44332211);
	assert_int_equal(ram32(CLAIMED_GPA), 0xbbbbbbbb); /* C6 */
	assert_int_equal(nr_seen, 1);
	assert_int_equal(seen[0].server, srv_a);
	assert_int_equal(seen[0].addr, CLAIMED_GPA);
	assert_int_equal(seen[0].size, 4);
	assert_int_equal(seen[0].data, 0x88776655);
	assert_int_equal(changed.n, 2); /* each part: RAM written, model completed */

	/* A read crossing the other way: memory for both parts (READ not claimed). */
	reset_records();
	set_ram32(CLAIMED_GPA + GUEST_PAGE_SIZE - 4, 0x01020304);
	set_ram32(CLAIMED_GPA + GUEST_PAGE_SIZE, 0x05060708);
	assert_int_equal(do_access(CLAIMED_GPA + GUEST_PAGE_SIZE - 4, 8, false, &d, IO_FROM_EXIT),
			 IO_DONE);
	assert_int_equal(d, 0x0506070801020304ULL);
	assert_int_equal(nr_seen, 0);
}

/* I7: a buffered range takes writes into the ring, in place from guest mode; reads wait. */
static void test_i7_posted_in_place(void **state)
{
	struct ioreq_server *b = NULL;
	for (unsigned i = 0; i < IOREQ_MAX_SERVERS; i++)
		if (vm.servers.table[i] && vm.servers.table[i]->id == srv_b)
			b = vm.servers.table[i];
	assert_non_null(b);
	reset_records();
	uint32_t wp = b->buf->write_pointer;
	uint64_t d = 0x4242;
	assert_int_equal(do_access(LOW_GPA + 0x10, 2, true, &d, IO_FROM_GUEST), IO_DONE);
	assert_int_equal(b->buf->write_pointer, wp + 1);
	const struct ioreqvm_buf_ioreq *e = &b->buf->buf_ioreq[wp % IOREQVM_BUF_SLOTS];
	assert_int_equal(e->type, IOREQVM_IOREQ_TYPE_COPY);
	assert_int_equal(e->addr, LOW_GPA + 0x10);
	assert_int_equal(e->data, 0x4242);
	assert_int_equal(nr_seen, 0);
	b->buf->read_pointer = b->buf->write_pointer; /* consumed */
	/* Reads are never posted (I7). */
	assert_int_equal(do_access(LOW_GPA + 0x10, 2, false, &d, IO_FROM_GUEST), IO_DONE);
	assert_int_equal(nr_seen, 1);
	assert_int_equal(seen[0].server, srv_b);
	assert_int_equal(d, READ_ANSWER & 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_i8_claimed_type_comes_before_ranges_and_devices),
		cmocka_unit_test(test_c5_disabled_owner_page_is_ram),
		cmocka_unit_test(test_i8_range_then_device_then_default),
		cmocka_unit_test(test_i8_ports_range_before_device),
		cmocka_unit_test(test_m2_ram_ro_write_dropped),
		cmocka_unit_test(test_ram_rw_trap_writes_memory),
		cmocka_unit_test(test_c7_write_crossing_into_claimed_page),
		cmocka_unit_test(test_i7_posted_in_place),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
