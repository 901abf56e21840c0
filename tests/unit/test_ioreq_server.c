/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the IOREQ-server layer (DESIGN C1-C5, I1, I3-I5, I8) with
 * no guest and no vCPU: a struct vm holding only what the control ops use,
 * a real P2M over a mock backend and a real ioreq_servers table. Every
 * server op and claim goes in as a control message (ctl_check_request +
 * ctl_run_op, as from a device model's socket); results are read back
 * through ioreq_select, ioreq_server_get and the P2M, the vCPU side's view.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/vm.h"
#include "ctl/ctl_ops.h"
#include "ioreq/ioreq_send.h"
#include "ioreq/ioreq_server.h"
#include "p2m/p2m.h"

#define PORT IOREQVM_IO_RANGE_PORT
#define MEM IOREQVM_IO_RANGE_MEMORY
#define PCI IOREQVM_IO_RANGE_PCI
#define RD IOREQVM_MEM_ACCESS_READ
#define WR IOREQVM_MEM_ACCESS_WRITE
#define T4 IOREQVM_MEM_IOREQ_SERVER
#define T5 IOREQVM_MEM_IOREQ_SERVER1

/* The backend's mappings: only what the P2M needs (map, unmap by gpa). */
#define MAXMAP 1024
struct mock {
	uint64_t gpa[MAXMAP];
	bool used[MAXMAP];
};

static int mock_map(void *ctx, uint64_t gpa, uint64_t size, uint64_t off, enum mem_access acc)
{
	struct mock *k = ctx;
	for (unsigned i = 0; i < MAXMAP; i++) {
		if (!k->used[i]) {
			k->used[i] = true;
			k->gpa[i] = gpa;
			return 0;
		}
	}
	return -ENOSPC;
}

static int mock_unmap(void *ctx, uint64_t gpa)
{
	struct mock *k = ctx;
	for (unsigned i = 0; i < MAXMAP; i++) {
		if (k->used[i] && k->gpa[i] == gpa) {
			k->used[i] = false;
			return 0;
		}
	}
	fail_msg("unmap of 0x%llx: no such mapping", (unsigned long long)gpa);
	return -ENOENT;
}

static void no_pause(void *ctx)
{
}

/* No CPU: nothing of the backend is called but a waiting vCPU's vcpu_block (none here). */
static const struct cpu_backend_ops no_cpu = { .name = "none" };

struct fx {
	struct vm vm;
	struct mock mock;
	char conn_a, conn_b; /* their addresses are the two connections */
	struct ctl_caller a, b;
	struct ctl_reply rep;
};

static struct fx *make_vcpus(unsigned max_servers, unsigned map_limit, unsigned nr_vcpus)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->a = (struct ctl_caller){ .conn = &f->conn_a, .pid = 100 };
	f->b = (struct ctl_caller){ .conn = &f->conn_b, .pid = 200 };
	f->vm.ops = &no_cpu;
	f->vm.nr_vcpus = nr_vcpus;
	assert_int_equal(guest_ram_layout(&f->vm.ram, 64 << 20), 0);
	struct map_target t = { .ctx = &f->mock, .map = mock_map, .unmap = mock_unmap,
				.limit = map_limit };
	struct p2m_pauser pz = { .pause = no_pause, .resume = no_pause };
	assert_int_equal(p2m_init(&f->vm.p2m, &f->vm.ram, &t, &pz), 0);
	assert_int_equal(ioreq_servers_init(&f->vm.servers, &f->vm.p2m, max_servers, nr_vcpus), 0);
	return f;
}

static struct fx *make(unsigned max_servers, unsigned map_limit)
{
	return make_vcpus(max_servers, map_limit, 1);
}

static void destroy(struct fx *f)
{
	ioreq_servers_destroy(&f->vm.servers);
	p2m_destroy(&f->vm.p2m);
	free(f);
}

/* One control message from @c, checked and run as the control thread does. */
static int run(struct fx *f, struct ctl_caller *c, uint16_t op, const void *payload, uint32_t len)
{
	uint8_t buf[sizeof(struct ioreqvm_ctl_req) + IOREQVM_CTL_MAX_PAYLOAD];
	struct ioreqvm_ctl_req h = { .magic = IOREQVM_CTL_MAGIC, .version = IOREQVM_CTL_VERSION,
				     .op = op, .seq = 1, .len = len };
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), payload, len);
	const void *pl = NULL;
	memset(&f->rep, 0, sizeof(f->rep));
	const struct ctl_op_desc *d = ctl_check_request(buf, sizeof(h) + len, false, 0, &pl, &f->rep);
	assert_non_null(d);
	ctl_run_op(&f->vm, c, d, pl, &f->rep);
	if (f->rep.result)
		assert_true(f->rep.msg[0] != 0); /* every refusal says why */
	return f->rep.result;
}

static int create(struct fx *f, struct ctl_caller *c, bool buf, uint16_t *id)
{
	struct ioreqvm_op_create r = { .handle_bufioreq = buf };
	int rc = run(f, c, IOREQVM_OP_CREATE_IOREQ_SERVER, &r, sizeof(r));
	if (!rc)
		*id = ((struct ioreqvm_op_server_id *)f->rep.payload)->id;
	return rc;
}

static uint16_t new_server(struct fx *f, struct ctl_caller *c)
{
	uint16_t id = 0;
	assert_int_equal(create(f, c, false, &id), 0);
	return id;
}

static int destroy_server(struct fx *f, struct ctl_caller *c, uint16_t id)
{
	struct ioreqvm_op_server_id r = { .id = id };
	return run(f, c, IOREQVM_OP_DESTROY_IOREQ_SERVER, &r, sizeof(r));
}

static int map(struct fx *f, struct ctl_caller *c, uint16_t id, uint32_t kind, uint64_t start,
	       uint64_t end, uint16_t flags)
{
	struct ioreqvm_op_range r = { .id = id, .flags = flags, .type = kind, .start = start,
				      .end = end };
	return run(f, c, IOREQVM_OP_MAP_IO_RANGE, &r, sizeof(r));
}

static int unmap(struct fx *f, struct ctl_caller *c, uint16_t id, uint32_t kind, uint64_t start,
		 uint64_t end)
{
	struct ioreqvm_op_range r = { .id = id, .type = kind, .start = start, .end = end };
	return run(f, c, IOREQVM_OP_UNMAP_IO_RANGE, &r, sizeof(r));
}

static int set_state(struct fx *f, struct ctl_caller *c, uint16_t id, bool enabled)
{
	struct ioreqvm_op_set_state r = { .id = id, .enabled = enabled };
	return run(f, c, IOREQVM_OP_SET_IOREQ_SERVER_STATE, &r, sizeof(r));
}

/* map_mem_type_to_ioreq_server: the op a device model's claim arrives as. */
static int claim(struct fx *f, struct ctl_caller *c, uint16_t id, uint16_t type, uint32_t flags)
{
	struct ioreqvm_op_map_mem_type r = { .id = id, .type = type, .flags = flags };
	return run(f, c, IOREQVM_OP_MAP_MEM_TYPE_TO_IOREQ_SERVER, &r, sizeof(r));
}

static int set_mem_type(struct fx *f, struct ctl_caller *c, uint16_t type, uint64_t pfn,
			uint32_t nr)
{
	struct ioreqvm_op_set_mem_type r = { .nr = nr, .mem_type = type, .first_pfn = pfn };
	return run(f, c, IOREQVM_OP_SET_MEM_TYPE, &r, sizeof(r));
}

static uint16_t mem_type(struct fx *f, uint64_t pfn)
{
	struct ioreqvm_op_get_mem_type r = { .pfn = pfn };
	assert_int_equal(run(f, &f->a, IOREQVM_OP_GET_MEM_TYPE, &r, sizeof(r)), 0);
	return ((struct ioreqvm_op_mem_type *)f->rep.payload)->mem_type;
}

/* The id of the server a vCPU would pick for the access (I8), 0 if none. */
static uint16_t selected(struct fx *f, uint32_t kind, uint64_t addr, uint64_t len,
			 uint32_t *flags)
{
	uint32_t fl = 0xdead;
	struct ioreq_server *s = ioreq_select(&f->vm.servers, kind, addr, len, &fl);
	if (!s)
		return 0;
	uint16_t id = s->id;
	assert_false(atomic_load(&s->dead));
	ioreq_server_put(s);
	if (flags)
		*flags = fl;
	return id;
}

static uint16_t sel(struct fx *f, uint32_t kind, uint64_t addr, uint64_t len)
{
	return selected(f, kind, addr, len, NULL);
}

static uint32_t nr_ranges(struct fx *f, uint16_t id)
{
	struct ioreqvm_op_range_list l;
	assert_int_equal(ioreq_server_ranges(&f->vm.servers, id, &l), 0);
	return l.total;
}

/* ---- claims ------------------------------------------------------------ */

/* C1: only the ioreq_server types 4..11 can be claimed; anything else -EINVAL. */
static void test_c1_only_ioreq_server_types_can_be_claimed(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t id = new_server(f, &f->a);
	static const uint16_t bad[] = { IOREQVM_MEM_RAM_RW, IOREQVM_MEM_RAM_RO, IOREQVM_MEM_MMIO_DM,
					IOREQVM_MEM_UNUSED, IOREQVM_MEM_NR_TYPES, 100, 0xffff };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(claim(f, &f->a, id, bad[i], WR), -EINVAL);
		assert_non_null(strstr(f->rep.msg, "C1"));
	}
	/* Nothing was claimed by the refusals. */
	for (uint32_t t = T4; t <= IOREQVM_MEM_IOREQ_SERVER7; t++)
		assert_int_equal(p2m_get_claim(&f->vm.p2m, t).flags, 0);
	/* Every ioreq_server type can (M6: each one apart). */
	for (uint32_t t = T4; t <= IOREQVM_MEM_IOREQ_SERVER7; t++) {
		assert_int_equal(claim(f, &f->a, id, (uint16_t)t, WR), 0);
		struct p2m_claim c = p2m_get_claim(&f->vm.p2m, t);
		assert_int_equal(c.server, id);
		assert_int_equal(c.flags, WR);
	}
	destroy(f);
}

/* C2: flags outside READ|WRITE -EINVAL; READ, WRITE and both are accepted. */
static void test_c2_claim_flags_outside_read_write_refused(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t id = new_server(f, &f->a);
	static const uint32_t bad[] = { 4, 8, RD | 4, WR | 0x100, 0x80000000u, 0xffffffffu };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(claim(f, &f->a, id, T4, bad[i]), -EINVAL);
		assert_non_null(strstr(f->rep.msg, "C2"));
		assert_int_equal(p2m_get_claim(&f->vm.p2m, T4).flags, 0);
	}
	static const uint32_t good[] = { RD, WR, RD | WR };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(claim(f, &f->a, id, T4, good[i]), 0);
		assert_int_equal(p2m_get_claim(&f->vm.p2m, T4).flags, good[i]);
	}
	/* A refused flag change leaves the claim as it was. */
	assert_int_equal(claim(f, &f->a, id, T4, 4), -EINVAL);
	assert_int_equal(p2m_get_claim(&f->vm.p2m, T4).flags, RD | WR);
	destroy(f);
}

/*
 * C3: a type claimed by one server is -EBUSY to another (of the same or
 * another connection); its owner changes flags by claiming again and
 * releases with 0; releasing a type you do not own -EINVAL; an unknown
 * server -ENOENT, another connection's server -EPERM.
 */
static void test_c3_claimed_type_is_busy_to_another_server(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t a = new_server(f, &f->a), a2 = new_server(f, &f->a), b = new_server(f, &f->b);
	assert_int_equal(claim(f, &f->a, a, T4, WR), 0);

	assert_int_equal(claim(f, &f->b, b, T4, WR), -EBUSY);
	assert_int_equal(claim(f, &f->b, b, T4, RD), -EBUSY);
	assert_int_equal(claim(f, &f->a, a2, T4, RD | WR), -EBUSY); /* same connection too */
	assert_int_equal(claim(f, &f->b, b, T4, 0), -EINVAL);       /* not its claim */
	assert_int_equal(claim(f, &f->a, a2, T4, 0), -EINVAL);
	struct p2m_claim c = p2m_get_claim(&f->vm.p2m, T4);
	assert_int_equal(c.server, a);
	assert_int_equal(c.flags, WR);

	/* Not a's to use from b's connection, and no such server. */
	assert_int_equal(claim(f, &f->b, a, T4, RD), -EPERM);
	assert_int_equal(claim(f, &f->b, a, T4, 0), -EPERM);
	assert_int_equal(claim(f, &f->a, 0x7777, T5, WR), -ENOENT);
	assert_int_equal(p2m_get_claim(&f->vm.p2m, T5).flags, 0);

	/* Another type is still free for b (M6). */
	assert_int_equal(claim(f, &f->b, b, T5, RD), 0);

	/* The owner changes its flags, then releases; then b may claim it. */
	assert_int_equal(claim(f, &f->a, a, T4, RD), 0);
	assert_int_equal(p2m_get_claim(&f->vm.p2m, T4).flags, RD);
	assert_int_equal(claim(f, &f->a, a, T4, 0), 0);
	assert_int_equal(p2m_get_claim(&f->vm.p2m, T4).flags, 0);
	assert_int_equal(claim(f, &f->a, a, T4, 0), -EINVAL); /* nothing left to release */
	assert_int_equal(claim(f, &f->b, b, T4, WR), 0);
	c = p2m_get_claim(&f->vm.p2m, T4);
	assert_int_equal(c.server, b);
	assert_int_equal(c.flags, WR);
	destroy(f);
}

/* C4: a release turns every page still of the type into ram_rw before it returns. */
static void test_c4_release_turns_the_types_pages_ram_rw(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t a = new_server(f, &f->a);
	assert_int_equal(set_mem_type(f, &f->a, T4, 0x1000, 4), -EINVAL); /* S2: unclaimed */
	assert_int_equal(claim(f, &f->a, a, T4, WR), 0);
	assert_int_equal(set_mem_type(f, &f->a, T4, 0x1000, 4), 0);
	assert_int_equal(set_mem_type(f, &f->a, T4, 0x2000, 1), 0);
	assert_int_equal(mem_type(f, 0x1003), T4);
	assert_int_equal(p2m_count_type(&f->vm.p2m, T4), 5);
	assert_int_equal(claim(f, &f->a, a, T4, 0), 0);
	assert_int_equal(mem_type(f, 0x1000), IOREQVM_MEM_RAM_RW);
	assert_int_equal(mem_type(f, 0x1003), IOREQVM_MEM_RAM_RW);
	assert_int_equal(mem_type(f, 0x2000), IOREQVM_MEM_RAM_RW);
	assert_int_equal(p2m_count_type(&f->vm.p2m, T4), 0);
	destroy(f);
}

/* C5 (with I4): a claim arms its pages only while the owner is enabled. */
static void test_c5_claim_traps_only_while_owner_enabled(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t a = new_server(f, &f->a); /* created disabled */
	assert_int_equal(claim(f, &f->a, a, T4, WR), 0);
	assert_false(p2m_get_claim(&f->vm.p2m, T4).enabled);
	assert_int_equal(p2m_type_access(&f->vm.p2m, T4), MEM_ACCESS_RW);
	assert_int_equal(set_state(f, &f->a, a, true), 0);
	assert_true(p2m_get_claim(&f->vm.p2m, T4).enabled);
	assert_int_equal(p2m_type_access(&f->vm.p2m, T4), MEM_ACCESS_RO);
	assert_int_equal(claim(f, &f->a, a, T4, RD), 0);
	assert_int_equal(p2m_type_access(&f->vm.p2m, T4), MEM_ACCESS_NONE);
	assert_int_equal(set_state(f, &f->a, a, false), 0);
	assert_int_equal(p2m_type_access(&f->vm.p2m, T4), MEM_ACCESS_RW);
	/* Claimed while enabled: armed at once. */
	assert_int_equal(set_state(f, &f->a, a, true), 0);
	assert_int_equal(claim(f, &f->a, a, T5, WR), 0);
	assert_true(p2m_get_claim(&f->vm.p2m, T5).enabled);
	assert_int_equal(p2m_type_access(&f->vm.p2m, T5), MEM_ACCESS_RO);
	destroy(f);
}

/* ---- servers ----------------------------------------------------------- */

static bool id_in(const uint16_t *ids, unsigned n, uint16_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* I1: distinct nonzero ids up to the configured limit, then -ENOSPC; a slot freed is usable. */
static void test_i1_create_distinct_ids_up_to_limit_then_enospc(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t ids[IOREQ_DEFAULT_MAX_SERVERS], id = 0;
	for (unsigned i = 0; i < IOREQ_DEFAULT_MAX_SERVERS; i++) {
		/* Both connections count against the VM's limit, with and without a ring. */
		assert_int_equal(create(f, i & 1 ? &f->b : &f->a, i & 2, &id), 0);
		assert_int_not_equal(id, 0);
		assert_false(id_in(ids, i, id));
		ids[i] = id;
	}
	assert_int_equal(create(f, &f->a, false, &id), -ENOSPC);
	assert_non_null(strstr(f->rep.msg, "limit"));
	assert_int_equal(create(f, &f->b, true, &id), -ENOSPC);
	struct ioreqvm_op_server_list l;
	ioreq_servers_list(&f->vm.servers, &l);
	assert_int_equal(l.nr, IOREQ_DEFAULT_MAX_SERVERS);

	assert_int_equal(destroy_server(f, &f->b, ids[3]), 0);
	assert_int_equal(create(f, &f->a, false, &id), 0);
	assert_false(id_in(ids, IOREQ_DEFAULT_MAX_SERVERS, id) && id != ids[3]);
	assert_int_equal(create(f, &f->a, false, &id), -ENOSPC);
	destroy(f);

	/* Another configured limit, and the bounds of the configuration itself. */
	f = make(3, 64);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(create(f, &f->a, false, &id), 0);
	assert_int_equal(create(f, &f->a, false, &id), -ENOSPC);
	destroy(f);
	f = make(IOREQ_MAX_SERVERS, 64);
	for (unsigned i = 0; i < IOREQ_MAX_SERVERS; i++)
		assert_int_equal(create(f, &f->a, false, &id), 0);
	assert_int_equal(create(f, &f->a, false, &id), -ENOSPC);
	destroy(f);
	struct ioreq_servers ss;
	assert_int_equal(ioreq_servers_init(&ss, NULL, 0, 1), -EINVAL);
	assert_int_equal(ioreq_servers_init(&ss, NULL, IOREQ_MAX_SERVERS + 1, 1), -EINVAL);
}

/*
 * I1: an id is never handed out while a server holds it, also once the
 * round-robin counter wraps past 0xfffe (claims and lookups name servers
 * by id), and never 0 or 0xffff.
 */
static void test_i1_ids_not_reused_while_live_across_wrap(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	enum { LIVE = IOREQ_DEFAULT_MAX_SERVERS - 1 };
	uint16_t live[LIVE];
	for (unsigned i = 0; i < LIVE; i++)
		live[i] = new_server(f, &f->a);
	assert_int_equal(claim(f, &f->a, live[0], T4, WR), 0);
	unsigned wraps = 0;
	uint16_t prev = live[LIVE - 1];
	for (unsigned n = 0; n < 0x10000 + 16; n++) {
		uint16_t id = 0;
		assert_int_equal(ioreq_server_create(&f->vm.servers, &f->conn_b, 200, false, &id,
						     f->rep.msg, sizeof(f->rep.msg)), 0);
		assert_true(id != 0 && id != 0xffff);
		assert_false(id_in(live, LIVE, id));
		wraps += id < prev;
		prev = id;
		assert_int_equal(ioreq_server_destroy(&f->vm.servers, &f->conn_b, id, f->rep.msg,
						      sizeof(f->rep.msg)), 0);
	}
	assert_int_equal(wraps, 1);
	/* The live servers kept their identity: live[0] still owns its claim. */
	assert_int_equal(p2m_get_claim(&f->vm.p2m, T4).server, live[0]);
	assert_int_equal(claim(f, &f->a, live[0], T4, 0), 0);
	destroy(f);
}

/* I3: range bounds per kind (PORT 0..0xffff, PCI an SBDF), start <= end, known kinds and flags. */
static void test_i3_range_bounds_per_kind(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t a = new_server(f, &f->a), r = 0;
	assert_int_equal(create(f, &f->a, true, &r), 0);
	assert_int_equal(map(f, &f->a, a, PORT, 0, 0, 0), 0);
	assert_int_equal(map(f, &f->a, a, PORT, 0xffff, 0xffff, 0), 0);
	assert_int_equal(map(f, &f->a, a, PORT, 0x1000, 0x1000f, 0), -EINVAL);
	assert_int_equal(map(f, &f->a, a, PORT, 0x10000, 0x10000, 0), -EINVAL);
	assert_int_equal(map(f, &f->a, a, PORT, 0x10, 0xf, 0), -EINVAL);
	assert_int_equal(map(f, &f->a, a, 3, 0x10, 0x1f, 0), -EINVAL);
	assert_int_equal(map(f, &f->a, a, PCI, IOREQVM_PCI_SBDF(0, 0, 3, 0),
			     IOREQVM_PCI_SBDF(0xffff, 0xff, 31, 7), 0), 0);
	assert_int_equal(map(f, &f->a, a, PCI, 0, 0x100000000ULL, 0), -EINVAL);
	assert_int_equal(map(f, &f->a, a, MEM, 0xfffffffffffff000ULL, UINT64_MAX, 0), 0);
	assert_int_equal(map(f, &f->a, a, MEM, 0x2000, 0x1fff, 0), -EINVAL);
	/* Flags: BUFFERED only, only with a ring, never for PCI. */
	assert_int_equal(map(f, &f->a, a, PORT, 0x100, 0x1ff, 2), -EINVAL);
	assert_int_equal(map(f, &f->a, a, PORT, 0x100, 0x1ff, IOREQVM_IO_RANGE_BUFFERED), -EINVAL);
	assert_int_equal(map(f, &f->a, r, PCI, 0, 0, IOREQVM_IO_RANGE_BUFFERED), -EINVAL);
	assert_int_equal(map(f, &f->a, r, PORT, 0x100, 0x1ff, IOREQVM_IO_RANGE_BUFFERED), 0);
	/* Unknown server, another connection's. */
	assert_int_equal(map(f, &f->a, 0x7777, PORT, 0x200, 0x2ff, 0), -ENOENT);
	assert_int_equal(map(f, &f->b, a, PORT, 0x200, 0x2ff, 0), -EPERM);
	assert_int_equal(unmap(f, &f->b, a, PORT, 0, 0), -EPERM);
	/* Only the accepted ones are there. */
	assert_int_equal(nr_ranges(f, a), 4);
	assert_int_equal(nr_ranges(f, r), 1);
	destroy(f);
}

/* I3: a range overlapping one of the same kind of the same server: -EEXIST, nothing changed. */
static void test_i3_overlap_inside_one_server_eexist(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t a = new_server(f, &f->a);
	static const uint32_t kinds[] = { PORT, MEM, PCI };
	for (size_t k = 0; k < 3; k++) {
		uint32_t kind = kinds[k];
		assert_int_equal(map(f, &f->a, a, kind, 0x100, 0x1ff, 0), 0);
		assert_int_equal(map(f, &f->a, a, kind, 0x100, 0x1ff, 0), -EEXIST); /* the same */
		assert_int_equal(map(f, &f->a, a, kind, 0x1ff, 0x2ff, 0), -EEXIST); /* last byte */
		assert_int_equal(map(f, &f->a, a, kind, 0x0, 0x100, 0), -EEXIST);   /* first byte */
		assert_int_equal(map(f, &f->a, a, kind, 0x120, 0x130, 0), -EEXIST); /* inside */
		assert_int_equal(map(f, &f->a, a, kind, 0x0, 0xfff, 0), -EEXIST);   /* around */
		assert_non_null(strstr(f->rep.msg, "overlaps"));
		/* Neighbours touching it are not overlaps. */
		assert_int_equal(map(f, &f->a, a, kind, 0x200, 0x2ff, 0), 0);
		assert_int_equal(map(f, &f->a, a, kind, 0x0, 0xff, 0), 0);
		/* A refused one between two mapped ones, overlapping both. */
		assert_int_equal(map(f, &f->a, a, kind, 0xf0, 0x20f, 0), -EEXIST);
	}
	assert_int_equal(nr_ranges(f, a), 9);
	/* The kinds are separate spaces: port 0x150 is not memory 0x150. */
	assert_int_equal(unmap(f, &f->a, a, MEM, 0x100, 0x1ff), 0);
	assert_int_equal(set_state(f, &f->a, a, true), 0);
	assert_int_equal(sel(f, PORT, 0x150, 1), a);
	assert_int_equal(sel(f, MEM, 0x150, 1), 0);
	assert_int_equal(sel(f, PCI, 0x150, 1), a);
	destroy(f);
}

/*
 * I3 across servers: DESIGN asks EEXIST only for an overlap inside one
 * server; two servers may map overlapping ranges (as Xen allows), and I8
 * then picks one enabled server whose range holds the access. Which one is
 * not specified: assert only that it is one of them and that disabling it
 * passes the access to the other.
 */
static void test_i3_overlap_across_servers_accepted(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t a = new_server(f, &f->a), b = new_server(f, &f->b);
	assert_int_equal(map(f, &f->a, a, PORT, 0x100, 0x1ff, 0), 0);
	assert_int_equal(map(f, &f->b, b, PORT, 0x180, 0x27f, 0), 0);
	assert_int_equal(set_state(f, &f->a, a, true), 0);
	assert_int_equal(set_state(f, &f->b, b, true), 0);
	assert_int_equal(sel(f, PORT, 0x100, 4), a);
	assert_int_equal(sel(f, PORT, 0x200, 4), b);
	uint16_t first = sel(f, PORT, 0x1c0, 4);
	assert_true(first == a || first == b);
	uint16_t other = first == a ? b : a;
	assert_int_equal(set_state(f, first == a ? &f->a : &f->b, first, false), 0);
	assert_int_equal(sel(f, PORT, 0x1c0, 4), other);
	destroy(f);
}

/* I3: unmap takes exactly the bounds mapped; anything else -ENOENT and nothing changes. */
static void test_i3_unmap_of_range_not_mapped_enoent(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t a = new_server(f, &f->a), b = new_server(f, &f->b);
	assert_int_equal(set_state(f, &f->a, a, true), 0);
	assert_int_equal(unmap(f, &f->a, a, PORT, 0x100, 0x1ff), -ENOENT); /* nothing mapped */
	assert_int_equal(map(f, &f->a, a, PORT, 0x100, 0x1ff, 0), 0);
	assert_int_equal(map(f, &f->b, b, PORT, 0x300, 0x3ff, 0), 0);
	assert_int_equal(unmap(f, &f->a, a, PORT, 0x100, 0x17f), -ENOENT); /* a part */
	assert_int_equal(unmap(f, &f->a, a, PORT, 0x100, 0x2ff), -ENOENT); /* more */
	assert_int_equal(unmap(f, &f->a, a, MEM, 0x100, 0x1ff), -ENOENT);  /* other kind */
	assert_int_equal(unmap(f, &f->a, a, PORT, 0x300, 0x3ff), -ENOENT); /* b's range */
	assert_int_equal(nr_ranges(f, a), 1);
	assert_int_equal(nr_ranges(f, b), 1);
	assert_int_equal(sel(f, PORT, 0x140, 1), a);
	assert_int_equal(unmap(f, &f->a, a, PORT, 0x100, 0x1ff), 0);
	assert_int_equal(sel(f, PORT, 0x140, 1), 0);
	assert_int_equal(unmap(f, &f->a, a, PORT, 0x100, 0x1ff), -ENOENT); /* twice */
	assert_int_equal(unmap(f, &f->a, 0x7777, PORT, 0x100, 0x1ff), -ENOENT); /* no server */
	assert_int_equal(nr_ranges(f, b), 1);
	destroy(f);
}

/* I3, R4: IOREQ_MAX_RANGES per server and kind, -ENOSPC past it, nothing changed. */
static void test_i3_range_limit_per_server_and_kind_enospc(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t a = new_server(f, &f->a), b = new_server(f, &f->a);
	assert_int_equal(set_state(f, &f->a, a, true), 0);
	for (uint64_t i = 0; i < IOREQ_MAX_RANGES; i++) /* every other port, so none merge */
		assert_int_equal(map(f, &f->a, a, PORT, 2 * i, 2 * i, 0), 0);
	assert_int_equal(map(f, &f->a, a, PORT, 0x1000, 0x1000, 0), -ENOSPC);
	assert_non_null(strstr(f->rep.msg, "limit"));
	assert_int_equal(sel(f, PORT, 0x1000, 1), 0);
	assert_int_equal(nr_ranges(f, a), IOREQ_MAX_RANGES);
	/* An overlap past the limit is still an overlap. */
	assert_int_equal(map(f, &f->a, a, PORT, 0, 0, 0), -EEXIST);
	/* Per kind and per server. */
	assert_int_equal(map(f, &f->a, a, MEM, 0x1000, 0x1fff, 0), 0);
	assert_int_equal(map(f, &f->a, b, PORT, 0x1000, 0x1000, 0), 0);
	/* Room again after an unmap. */
	assert_int_equal(unmap(f, &f->a, a, PORT, 6, 6), 0);
	assert_int_equal(map(f, &f->a, a, PORT, 0x1000, 0x1000, 0), 0);
	assert_int_equal(sel(f, PORT, 0x1000, 1), a);
	assert_int_equal(sel(f, PORT, 2 * (IOREQ_MAX_RANGES - 1), 1), a);
	assert_int_equal(map(f, &f->a, a, PORT, 0x1002, 0x1002, 0), -ENOSPC);
	destroy(f);
}

/* I4: a created server is disabled; disabled it is never selected, enabled it is. */
static void test_i4_disabled_server_is_not_selected(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t a = new_server(f, &f->a);
	assert_int_equal(map(f, &f->a, a, PORT, 0x3f8, 0x3ff, 0), 0);
	assert_int_equal(map(f, &f->a, a, MEM, 0xfe000000, 0xfe000fff, 0), 0);
	assert_int_equal(map(f, &f->a, a, PCI, IOREQVM_PCI_SBDF(0, 0, 4, 0),
			     IOREQVM_PCI_SBDF(0, 0, 4, 7), 0), 0);
	assert_int_equal(sel(f, PORT, 0x3f8, 1), 0);
	assert_int_equal(sel(f, MEM, 0xfe000000, 4), 0);
	assert_int_equal(sel(f, PCI, IOREQVM_PCI_SBDF(0, 0, 4, 0), 1), 0);
	assert_null(ioreq_server_get(&f->vm.servers, a)); /* claimed pages' path, I8 */

	assert_int_equal(set_state(f, &f->a, a, true), 0);
	assert_int_equal(sel(f, PORT, 0x3f8, 1), a);
	assert_int_equal(sel(f, MEM, 0xfe000000, 4), a);
	assert_int_equal(sel(f, PCI, IOREQVM_PCI_SBDF(0, 0, 4, 0), 1), a);
	struct ioreq_server *s = ioreq_server_get(&f->vm.servers, a);
	assert_non_null(s);
	assert_int_equal(s->id, a);
	ioreq_server_put(s);

	/* Another connection cannot switch it, and ranges mapped while enabled count at once. */
	assert_int_equal(set_state(f, &f->b, a, false), -EPERM);
	assert_int_equal(map(f, &f->a, a, PORT, 0x2f8, 0x2ff, 0), 0);
	assert_int_equal(sel(f, PORT, 0x2f8, 1), a);

	assert_int_equal(set_state(f, &f->a, a, false), 0);
	assert_int_equal(sel(f, PORT, 0x3f8, 1), 0);
	assert_int_equal(sel(f, PORT, 0x2f8, 1), 0);
	assert_int_equal(sel(f, MEM, 0xfe000000, 4), 0);
	assert_null(ioreq_server_get(&f->vm.servers, a));
	assert_int_equal(set_state(f, &f->a, a, false), 0); /* again: no change */
	assert_int_equal(sel(f, PORT, 0x3f8, 1), 0);
	destroy(f);
}

/*
 * I4 with C5 and K4: enabling a server whose claimed pages would break the
 * release budget fails with -ENOSPC and changes nothing (libioreq.h,
 * p2m.h: an enable is all or nothing): the server stays disabled for its
 * ranges too, and none of its claims is armed.
 */
static void test_i4_enable_refused_for_mappings_changes_nothing(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 16);
	uint16_t a = new_server(f, &f->a);
	assert_int_equal(map(f, &f->a, a, PORT, 0x3f8, 0x3ff, 0), 0);
	assert_int_equal(claim(f, &f->a, a, T4, WR), 0);
	assert_int_equal(claim(f, &f->a, a, T5, WR), 0);
	/* Disabled, the claimed pages are RW and need no mapping of their own. */
	assert_int_equal(set_mem_type(f, &f->a, T4, 0x1000, 1), 0);
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(set_mem_type(f, &f->a, T5, 0x2000 + 16 * i, 1), 0);
	struct p2m_stats before, after;
	p2m_get_stats(&f->vm.p2m, &before);

	assert_int_equal(set_state(f, &f->a, a, true), -ENOSPC);
	assert_non_null(strstr(f->rep.msg, "stays disabled"));
	assert_int_equal(sel(f, PORT, 0x3f8, 1), 0);
	assert_null(ioreq_server_get(&f->vm.servers, a));
	struct ioreqvm_op_server_list l;
	ioreq_servers_list(&f->vm.servers, &l);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.server[0].enabled, 0);
	assert_false(p2m_get_claim(&f->vm.p2m, T4).enabled);
	assert_false(p2m_get_claim(&f->vm.p2m, T5).enabled);
	assert_int_equal(p2m_type_access(&f->vm.p2m, T4), MEM_ACCESS_RW);
	assert_int_equal(p2m_type_access(&f->vm.p2m, T5), MEM_ACCESS_RW);
	p2m_get_stats(&f->vm.p2m, &after);
	assert_int_equal(after.mappings_used, before.mappings_used);
	assert_int_equal(after.nr_armed_runs, 0);

	/* With fewer claimed runs it fits. */
	assert_int_equal(set_mem_type(f, &f->a, IOREQVM_MEM_RAM_RW, 0x2000, 0x40), 0);
	assert_int_equal(set_state(f, &f->a, a, true), 0);
	assert_int_equal(sel(f, PORT, 0x3f8, 1), a);
	assert_int_equal(p2m_type_access(&f->vm.p2m, T4), MEM_ACCESS_RO);
	destroy(f);
}

/*
 * I5: destroy releases the server's ranges (nothing selects it) and its
 * claims (C4: the P2M shows the type unclaimed, its pages ram_rw, and
 * another server may claim it); its id is gone for every op.
 */
static void test_i5_destroy_releases_ranges_and_claims(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t a = new_server(f, &f->a), b = new_server(f, &f->b);
	assert_int_equal(map(f, &f->a, a, PORT, 0x3f8, 0x3ff, 0), 0);
	assert_int_equal(map(f, &f->a, a, MEM, 0xfe000000, 0xfe000fff, 0), 0);
	assert_int_equal(map(f, &f->a, a, PCI, 0x18, 0x1f, 0), 0);
	assert_int_equal(set_state(f, &f->a, a, true), 0);
	assert_int_equal(claim(f, &f->a, a, T4, WR), 0);
	assert_int_equal(claim(f, &f->a, a, T5, RD | WR), 0);
	assert_int_equal(set_mem_type(f, &f->a, T4, 0x1000, 8), 0);
	assert_int_equal(set_mem_type(f, &f->a, T5, 0x2000, 2), 0);
	assert_int_equal(claim(f, &f->b, b, T4, WR), -EBUSY);
	assert_int_equal(p2m_type_access(&f->vm.p2m, T4), MEM_ACCESS_RO);

	assert_int_equal(destroy_server(f, &f->b, a), -EPERM); /* not b's to destroy */
	assert_int_equal(sel(f, PORT, 0x3f8, 1), a);
	assert_int_equal(destroy_server(f, &f->a, a), 0);

	assert_int_equal(sel(f, PORT, 0x3f8, 1), 0);
	assert_int_equal(sel(f, MEM, 0xfe000000, 4), 0);
	assert_int_equal(sel(f, PCI, 0x18, 1), 0);
	assert_null(ioreq_server_get(&f->vm.servers, a));
	for (uint32_t t = T4; t <= T5; t++) {
		assert_int_equal(p2m_get_claim(&f->vm.p2m, t).flags, 0);
		assert_int_equal(p2m_type_access(&f->vm.p2m, t), MEM_ACCESS_RW);
		assert_int_equal(p2m_count_type(&f->vm.p2m, t), 0);
	}
	assert_int_equal(mem_type(f, 0x1000), IOREQVM_MEM_RAM_RW);
	assert_int_equal(mem_type(f, 0x2001), IOREQVM_MEM_RAM_RW);
	struct ioreqvm_op_server_list l;
	ioreq_servers_list(&f->vm.servers, &l);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.server[0].id, b);

	/* The claim is free for b now; a's id is unknown to every op. */
	assert_int_equal(claim(f, &f->b, b, T4, WR), 0);
	assert_int_equal(p2m_get_claim(&f->vm.p2m, T4).server, b);
	assert_int_equal(claim(f, &f->a, a, T5, WR), -ENOENT);
	assert_int_equal(map(f, &f->a, a, PORT, 0x3f8, 0x3ff, 0), -ENOENT);
	assert_int_equal(set_state(f, &f->a, a, true), -ENOENT);
	assert_int_equal(destroy_server(f, &f->a, a), -ENOENT);
	/* Its ranges are free for another server (no stale overlap). */
	assert_int_equal(map(f, &f->b, b, PORT, 0x3f8, 0x3ff, 0), 0);
	assert_int_equal(set_state(f, &f->b, b, true), 0);
	assert_int_equal(sel(f, PORT, 0x3f8, 1), b);
	destroy(f);
}

/* I5 for a connection that goes away: every server of it, ranges and claims, nobody else's. */
static void test_i5_dropped_connection_releases_its_servers(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t a1 = new_server(f, &f->a), a2 = new_server(f, &f->a), b = new_server(f, &f->b);
	assert_int_equal(map(f, &f->a, a1, PORT, 0x100, 0x1ff, 0), 0);
	assert_int_equal(map(f, &f->a, a2, PORT, 0x200, 0x2ff, 0), 0);
	assert_int_equal(map(f, &f->b, b, PORT, 0x300, 0x3ff, 0), 0);
	for (unsigned i = 0; i < 3; i++) {
		uint16_t id = i == 0 ? a1 : i == 1 ? a2 : b;
		assert_int_equal(set_state(f, i < 2 ? &f->a : &f->b, id, true), 0);
	}
	assert_int_equal(claim(f, &f->a, a2, T4, WR), 0);
	assert_int_equal(claim(f, &f->b, b, T5, WR), 0);
	ioreq_servers_drop_owner(&f->vm.servers, &f->conn_a);
	assert_int_equal(sel(f, PORT, 0x100, 1), 0);
	assert_int_equal(sel(f, PORT, 0x200, 1), 0);
	assert_int_equal(sel(f, PORT, 0x300, 1), b);
	assert_int_equal(p2m_get_claim(&f->vm.p2m, T4).flags, 0);
	assert_int_equal(p2m_get_claim(&f->vm.p2m, T5).server, b);
	assert_int_equal(ioreq_servers_owned_types(&f->vm.servers, &f->conn_b), 1u << T5);
	assert_int_equal(ioreq_servers_owned_types(&f->vm.servers, &f->conn_a), 0);
	destroy(f);
}

struct waiter {
	struct ioreq_server *s;
	struct vm *vm;
	struct io_access a;
	enum io_result r;
	unsigned vcpu;
};

/* A stand-in for a vCPU thread waiting on the server: only ioreq_send, no guest. */
static void *wait_on_server(void *arg)
{
	struct waiter *w = arg;
	struct vcpu v = { .vm = w->vm, .id = w->vcpu };
	w->r = ioreq_send(w->s, &v, IOREQVM_IOREQ_TYPE_PIO, w->a.addr, &w->a);
	return NULL;
}

/*
 * I5: a reference held across destroy (a vCPU's, from ioreq_select or
 * ioreq_server_get) stays valid and shows the server dead; a request to it
 * then, or one waiting on it when it dies, gets the default answer (I9:
 * all ones, counted), and the vCPU goes on.
 */
static void test_i5_reference_held_across_destroy_sees_it_dead(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t a = new_server(f, &f->a);
	assert_int_equal(map(f, &f->a, a, PORT, 0x3f8, 0x3ff, 0), 0);
	assert_int_equal(set_state(f, &f->a, a, true), 0);
	uint32_t fl;
	struct ioreq_server *by_get = ioreq_server_get(&f->vm.servers, a);
	struct ioreq_server *by_sel = ioreq_select(&f->vm.servers, PORT, 0x3f8, 1, &fl);
	assert_non_null(by_get);
	assert_ptr_equal(by_get, by_sel);

	/* One request already waiting when the server goes. */
	struct waiter w = { .s = by_sel, .vm = &f->vm,
			    .a = { .space = IO_SPACE_PIO, .addr = 0x3f8, .size = 1 } };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, wait_on_server, &w), 0);
	while (ioreqvm_ioreq_state(&by_sel->slots[0]) != IOREQVM_STATE_IOREQ_READY)
		sched_yield();

	assert_int_equal(destroy_server(f, &f->a, a), 0);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	if (pthread_timedjoin_np(t, NULL, &until)) {
		atomic_store(&f->vm.stopping, true); /* let it go before failing */
		pthread_join(t, NULL);
		fail_msg("a request waiting on a destroyed server was not answered in 10 s");
	}
	assert_int_equal(w.r, IO_DONE);
	assert_int_equal(w.a.data, ~0ULL);

	assert_true(atomic_load(&by_get->dead));
	assert_int_equal(by_get->id, a);
	assert_null(ioreq_server_get(&f->vm.servers, a));
	assert_int_equal(sel(f, PORT, 0x3f8, 1), 0);

	/* A request sent on the held reference now: the default at once. */
	struct io_access rd = { .space = IO_SPACE_PIO, .addr = 0x3f8, .size = 2 };
	struct vcpu v = { .vm = &f->vm, .id = 0 };
	assert_int_equal(ioreq_send(by_get, &v, IOREQVM_IOREQ_TYPE_PIO, 0x3f8, &rd), IO_DONE);
	assert_int_equal(rd.data, ~0ULL);
	assert_int_equal(atomic_load(&by_get->nr_defaulted), 2);
	ioreq_server_put(by_sel);
	ioreq_server_put(by_get); /* the last reference: freed here (ASan checks) */
	destroy(f);
}

/*
 * I8 by range: the enabled server whose range of the access's kind holds
 * the whole access; an access straddling a range's edge (into another
 * server's range or into nothing) goes to nobody (the default).
 */
static void test_i8_selects_server_whose_range_holds_whole_access(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	uint16_t a = new_server(f, &f->a), b = 0, c = new_server(f, &f->b);
	assert_int_equal(create(f, &f->b, true, &b), 0);
	assert_int_equal(map(f, &f->a, a, PORT, 0x100, 0x10f, 0), 0);
	assert_int_equal(map(f, &f->b, b, PORT, 0x110, 0x11f, IOREQVM_IO_RANGE_BUFFERED), 0);
	assert_int_equal(map(f, &f->b, c, PORT, 0x200, 0x200, 0), 0);
	assert_int_equal(map(f, &f->a, a, MEM, 0xfe000000, 0xfe000fff, 0), 0);
	assert_int_equal(map(f, &f->b, b, MEM, 0xfe001000, 0xfe001fff, 0), 0);
	assert_int_equal(map(f, &f->b, c, MEM, 0xfffffffffffff000ULL, UINT64_MAX, 0), 0);
	assert_int_equal(set_state(f, &f->a, a, true), 0);
	assert_int_equal(set_state(f, &f->b, b, true), 0);
	assert_int_equal(set_state(f, &f->b, c, true), 0);

	uint32_t fl = 0;
	assert_int_equal(selected(f, PORT, 0x100, 1, &fl), a);
	assert_int_equal(fl, 0);
	assert_int_equal(sel(f, PORT, 0x10c, 4), a);  /* ends on the last port */
	assert_int_equal(sel(f, PORT, 0x10f, 1), a);
	assert_int_equal(sel(f, PORT, 0x10e, 2), a);
	assert_int_equal(sel(f, PORT, 0x10f, 2), 0);  /* a's last and b's first */
	assert_int_equal(sel(f, PORT, 0x10d, 4), 0);
	assert_int_equal(selected(f, PORT, 0x110, 4, &fl), b);
	assert_int_equal(fl, IOREQVM_IO_RANGE_BUFFERED);
	assert_int_equal(sel(f, PORT, 0x11c, 4), b);
	assert_int_equal(sel(f, PORT, 0x11e, 4), 0);  /* b's end into nothing */
	assert_int_equal(sel(f, PORT, 0xff, 2), 0);   /* nothing into a's start */
	assert_int_equal(sel(f, PORT, 0x200, 1), c);  /* a one-port range */
	assert_int_equal(sel(f, PORT, 0x200, 2), 0);
	assert_int_equal(sel(f, PORT, 0x1ff, 2), 0);
	assert_int_equal(sel(f, PORT, 0x300, 1), 0);

	assert_int_equal(sel(f, MEM, 0xfe000ff8, 8), a);
	assert_int_equal(sel(f, MEM, 0xfe000ffc, 8), 0); /* crosses a -> b */
	assert_int_equal(sel(f, MEM, 0xfe001000, 8), b);
	assert_int_equal(sel(f, MEM, 0xfe001ffe, 4), 0); /* b's end into nothing */
	assert_int_equal(sel(f, MEM, 0x100, 1), 0);      /* a port's number is no address */
	assert_int_equal(sel(f, PORT, 0xfe000000, 1), 0);
	/* At the top of the address space: the end is not wrapped around. */
	assert_int_equal(sel(f, MEM, 0xfffffffffffffff8ULL, 8), c);
	assert_int_equal(sel(f, MEM, UINT64_MAX, 1), c);
	assert_int_equal(sel(f, MEM, UINT64_MAX, 2), 0);
	assert_int_equal(sel(f, MEM, 0xfffffffffffffffcULL, 8), 0);

	/* Disabling one server takes only its ranges away. */
	assert_int_equal(set_state(f, &f->a, a, false), 0);
	assert_int_equal(sel(f, PORT, 0x100, 1), 0);
	assert_int_equal(sel(f, PORT, 0x110, 1), b);
	assert_int_equal(sel(f, MEM, 0xfe001000, 8), b);
	destroy(f);
}

/* What the model saw in vCPU @v's slot when a request arrived. */
struct seen_req {
	uint32_t vp_eport, req_seq;
	uint64_t addr;
	uint32_t carry_lines; /* in: written to isa_irq_lines before the answer */
};

/*
 * Send one port read from vCPU @v of server @s (a vCPU thread) and answer it
 * as a device model does (data, IORESP_READY, futex wake): what the slot
 * held goes to *seen, the vCPU's result is returned.
 */
static uint64_t round_trip(struct fx *f, struct ioreq_server *s, unsigned v, uint16_t port,
			   uint64_t answer, struct seen_req *seen)
{
	struct waiter w = { .s = s, .vm = &f->vm, .vcpu = v,
			    .a = { .space = IO_SPACE_PIO, .addr = port, .size = 4 } };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, wait_on_server, &w), 0);
	struct ioreqvm_ioreq *slot = &s->slots[v];
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ioreqvm_ioreq_state(slot) != IOREQVM_STATE_IOREQ_READY) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 10) {
			atomic_store(&f->vm.stopping, true);
			pthread_join(t, NULL);
			fail_msg("no request in vCPU %u's slot after 10 s", v);
		}
		sched_yield();
	}
	seen->vp_eport = __atomic_load_n(&slot->vp_eport, __ATOMIC_RELAXED);
	seen->req_seq = __atomic_load_n(&s->notify->vcpu[v].req_seq, __ATOMIC_RELAXED);
	seen->addr = slot->addr;
	ioreqvm_ioreq_set_state(slot, IOREQVM_STATE_IOREQ_INPROCESS);
	if (seen->carry_lines)
		__atomic_store_n(&s->notify->vcpu[v].isa_irq_lines, seen->carry_lines,
				 __ATOMIC_RELAXED);
	slot->data = answer;
	ioreqvm_ioreq_set_state(slot, IOREQVM_STATE_IORESP_READY);
	syscall(SYS_futex, (uint8_t *)slot + IOREQVM_IOREQ_STATE_WORD, FUTEX_WAKE, 1, NULL, NULL, 0);
	pthread_join(t, NULL);
	assert_int_equal(w.r, IO_DONE);
	return w.a.data;
}

/* The lines a backend was asked to set, in order. */
static struct {
	unsigned n;
	unsigned gsi[32];
	bool level[32];
} lines_set;

static int record_irq_line(struct vm *vm, unsigned gsi, bool level)
{
	assert_true(lines_set.n < 32);
	lines_set.gsi[lines_set.n] = gsi;
	lines_set.level[lines_set.n++] = level;
	return 0;
}

static const struct cpu_backend_ops lines_cpu = { .name = "lines", .irq_line = record_irq_line };

/*
 * I10 (ISA lines), beyond Xen: ISA IRQ lines a model sets while it answers
 * a synchronous request (isa_irq_lines of the vCPU's notify entry, bit i
 * given, bit 16 + i its level) are set by the vCPU's thread once it reads
 * the answer, IRQ 0 first, and the word is taken (cleared), so the next
 * answer carries only its own; an answer with none sets nothing. The
 * server's page says ioreqvm takes them (vmm_features). Any value is a set
 * of line levels of IRQs 0-15: all 16 given at once set all 16.
 */
static void test_i10_isa_lines_taken_with_the_answer(void **state)
{
	struct fx *f = make(IOREQ_DEFAULT_MAX_SERVERS, 64);
	f->vm.ops = &lines_cpu;
	uint16_t a = new_server(f, &f->a);
	assert_int_equal(map(f, &f->a, a, PORT, 0x3f8, 0x3ff, 0), 0);
	assert_int_equal(set_state(f, &f->a, a, true), 0);
	struct ioreq_server *s = ioreq_server_get(&f->vm.servers, a);
	assert_non_null(s);
	assert_int_equal(s->notify->vmm_features & IOREQVM_NOTIFY_F_ISA_IRQ_WITH_ANSWER,
			 IOREQVM_NOTIFY_F_ISA_IRQ_WITH_ANSWER);

	memset(&lines_set, 0, sizeof(lines_set));
	struct seen_req r = { .carry_lines = (1u << 12) | (1u << 4) | (1u << (16 + 4)) };
	assert_int_equal(round_trip(f, s, 0, 0x3fd, 0x60, &r), 0x60);
	assert_int_equal(lines_set.n, 2);
	assert_int_equal(lines_set.gsi[0], 4);
	assert_true(lines_set.level[0]);
	assert_int_equal(lines_set.gsi[1], 12);
	assert_false(lines_set.level[1]);
	assert_int_equal(s->notify->vcpu[0].isa_irq_lines, 0);

	/* The next answer carries nothing: nothing set again. */
	struct seen_req none = { 0 };
	assert_int_equal(round_trip(f, s, 0, 0x3fd, 0x61, &none), 0x61);
	assert_int_equal(lines_set.n, 2);

	/* All sixteen at once, every other one high. */
	struct seen_req all = { .carry_lines = 0xffffu | (0x5555u << 16) };
	assert_int_equal(round_trip(f, s, 0, 0x3fd, 0x62, &all), 0x62);
	assert_int_equal(lines_set.n, 18);
	for (unsigned i = 0; i < 16; i++) {
		assert_int_equal(lines_set.gsi[2 + i], i);
		assert_int_equal(lines_set.level[2 + i], !(i & 1));
	}
	ioreq_server_put(s);
	destroy(f);
}

/*
 * X2: each server's vCPUs have fixed event-channel ports, distinct across
 * servers and from the buffered ring's; ioreqvm writes vCPU v's into slot
 * v's vp_eport at create, again at enable (over what the model wrote) and
 * with every request, and bumps the vCPU's req_seq per request. A slot
 * whose vp_eport the model changed gets no request: the vCPU has the
 * default answer at once (all ones, counted as defaulted, not as a request)
 * and the slot stays untouched, until a re-enable writes the port back.
 */
static void test_x2_vp_eport_fixed_ports_and_refused_when_changed(void **state)
{
	struct fx *f = make_vcpus(IOREQ_DEFAULT_MAX_SERVERS, 64, 2);
	uint16_t a = new_server(f, &f->a), b = 0;
	assert_int_equal(create(f, &f->b, true, &b), 0);
	pthread_mutex_lock(&f->vm.servers.lock);
	struct ioreq_server *sa = NULL, *sb = NULL;
	for (unsigned i = 0; i < IOREQ_MAX_SERVERS; i++) {
		struct ioreq_server *s = f->vm.servers.table[i];
		if (s && s->id == a)
			sa = s;
		if (s && s->id == b)
			sb = s;
	}
	pthread_mutex_unlock(&f->vm.servers.lock);
	assert_non_null(sa);
	assert_non_null(sb);

	/* At create: every slot holds its vCPU's port; all ports differ. */
	uint32_t ports[6] = { sa->slots[0].vp_eport, sa->slots[1].vp_eport, sb->slots[0].vp_eport,
			      sb->slots[1].vp_eport, IOREQVM_BUF_EVTCHN(a), IOREQVM_BUF_EVTCHN(b) };
	for (unsigned v = 0; v < 2; v++) {
		assert_int_equal(sa->slots[v].vp_eport, IOREQVM_VCPU_EVTCHN(a, v));
		assert_int_equal(sb->slots[v].vp_eport, IOREQVM_VCPU_EVTCHN(b, v));
	}
	const uint16_t owner[6] = { a, a, b, b, a, b };
	for (unsigned i = 0; i < 6; i++) {
		assert_true(ports[i] != 0);
		assert_int_equal(IOREQVM_EVTCHN_SERVER(ports[i]), owner[i]);
		for (unsigned j = 0; j < i; j++)
			assert_true(ports[i] != ports[j]);
	}
	assert_int_equal(IOREQVM_EVTCHN_INDEX(IOREQVM_BUF_EVTCHN(a)), IOREQVM_EVTCHN_BUF_INDEX);

	/* At enable: what the model wrote there is replaced. */
	sa->slots[1].vp_eport = 0;
	sa->slots[0].vp_eport = 12345;
	assert_int_equal(map(f, &f->a, a, PORT, 0x3f8, 0x3ff, 0), 0);
	assert_int_equal(set_state(f, &f->a, a, true), 0);
	assert_int_equal(sa->slots[0].vp_eport, IOREQVM_VCPU_EVTCHN(a, 0));
	assert_int_equal(sa->slots[1].vp_eport, IOREQVM_VCPU_EVTCHN(a, 1));

	/* With every request: the port again, and a new req_seq each time. */
	struct seen_req r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	assert_int_equal(round_trip(f, sa, 1, 0x3f8, 0xabc, &r1), 0xabc);
	assert_int_equal(r1.vp_eport, IOREQVM_VCPU_EVTCHN(a, 1));
	assert_int_equal(r1.addr, 0x3f8);
	assert_true(r1.req_seq != 0);
	assert_int_equal(round_trip(f, sa, 1, 0x3f9, 0xdef, &r2), 0xdef);
	assert_true(r2.req_seq != 0 && r2.req_seq != r1.req_seq);
	assert_int_equal(round_trip(f, sa, 0, 0x3fa, 0x123, &r3), 0x123);
	assert_int_equal(r3.vp_eport, IOREQVM_VCPU_EVTCHN(a, 0));
	assert_true(r3.req_seq != 0);
	assert_int_equal(atomic_load(&sa->nr_requests), 3);
	assert_int_equal(atomic_load(&sa->nr_defaulted), 0);

	/* The model changes vCPU 0's port: that vCPU's requests are refused, vCPU 1's go. */
	sa->slots[0].vp_eport = IOREQVM_VCPU_EVTCHN(a, 1);
	sa->slots[0].addr = 0x5555;
	struct io_access rd = { .space = IO_SPACE_PIO, .addr = 0x3f8, .size = 4, .data = 7 };
	struct vcpu v0 = { .vm = &f->vm, .id = 0 };
	assert_int_equal(ioreq_send(sa, &v0, IOREQVM_IOREQ_TYPE_PIO, 0x3f8, &rd), IO_DONE);
	assert_int_equal(rd.data, 0xffffffffffffffffULL);
	struct io_access wr = { .space = IO_SPACE_PIO, .addr = 0x3f8, .size = 1, .data = 9,
				.is_write = true };
	assert_int_equal(ioreq_send(sa, &v0, IOREQVM_IOREQ_TYPE_PIO, 0x3f8, &wr), IO_DONE);
	assert_int_equal(ioreqvm_ioreq_state(&sa->slots[0]), IOREQVM_STATE_IOREQ_NONE);
	assert_int_equal(sa->slots[0].addr, 0x5555); /* not written: nothing was sent */
	assert_int_equal(sa->slots[0].vp_eport, IOREQVM_VCPU_EVTCHN(a, 1));
	assert_int_equal(atomic_load(&sa->nr_defaulted), 2);
	assert_int_equal(atomic_load(&sa->nr_requests), 3);
	assert_int_equal(round_trip(f, sa, 1, 0x3f8, 0x77, &r1), 0x77);

	/* Disabled and enabled again: the port is back and requests flow. */
	assert_int_equal(set_state(f, &f->a, a, false), 0);
	assert_int_equal(sa->slots[0].vp_eport, IOREQVM_VCPU_EVTCHN(a, 1));
	assert_int_equal(set_state(f, &f->a, a, true), 0);
	assert_int_equal(sa->slots[0].vp_eport, IOREQVM_VCPU_EVTCHN(a, 0));
	assert_int_equal(round_trip(f, sa, 0, 0x3fc, 0x99, &r3), 0x99);
	assert_int_equal(r3.vp_eport, IOREQVM_VCPU_EVTCHN(a, 0));
	assert_int_equal(atomic_load(&sa->nr_defaulted), 2);
	/* The other server's slots were never touched by any of this. */
	assert_int_equal(sb->slots[0].vp_eport, IOREQVM_VCPU_EVTCHN(b, 0));
	assert_int_equal(sb->notify->vcpu[0].req_seq, 0);
	destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c1_only_ioreq_server_types_can_be_claimed),
		cmocka_unit_test(test_c2_claim_flags_outside_read_write_refused),
		cmocka_unit_test(test_c3_claimed_type_is_busy_to_another_server),
		cmocka_unit_test(test_c4_release_turns_the_types_pages_ram_rw),
		cmocka_unit_test(test_c5_claim_traps_only_while_owner_enabled),
		cmocka_unit_test(test_i1_create_distinct_ids_up_to_limit_then_enospc),
		cmocka_unit_test(test_i1_ids_not_reused_while_live_across_wrap),
		cmocka_unit_test(test_i3_range_bounds_per_kind),
		cmocka_unit_test(test_i3_overlap_inside_one_server_eexist),
		cmocka_unit_test(test_i3_overlap_across_servers_accepted),
		cmocka_unit_test(test_i3_unmap_of_range_not_mapped_enoent),
		cmocka_unit_test(test_i3_range_limit_per_server_and_kind_enospc),
		cmocka_unit_test(test_i4_disabled_server_is_not_selected),
		cmocka_unit_test(test_i4_enable_refused_for_mappings_changes_nothing),
		cmocka_unit_test(test_i5_destroy_releases_ranges_and_claims),
		cmocka_unit_test(test_i5_dropped_connection_releases_its_servers),
		cmocka_unit_test(test_i5_reference_held_across_destroy_sees_it_dead),
		cmocka_unit_test(test_i8_selects_server_whose_range_holds_whole_access),
		cmocka_unit_test(test_i10_isa_lines_taken_with_the_answer),
		cmocka_unit_test(test_x2_vp_eport_fixed_ports_and_refused_when_changed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
