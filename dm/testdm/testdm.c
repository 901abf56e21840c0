/* SPDX-License-Identifier: MIT */
/*
 * testdm: the device model the tests use. It serves the ranges it is told
 * to, remembers every value written (per kind and address) and answers a
 * read with the last value written there, or with testdm_pattern() of the
 * address if nothing was. Writes to the "sum" port or MMIO address fold, in
 * arrival order, into one checksum that a read of either returns (and
 * --sum-each gives each port of a range a checksum of its own). A
 * "control port" lets the guest drive the model's DM ops (claim a memory
 * type, set the type of its pages, write-through on/off, destroy itself):
 * a 4-byte write (cmd << 24 | arg) runs one, a read returns its result. Every request can be logged,
 * delayed, or be the last one (the model then kills itself with SIGKILL
 * without answering, to test I5/robustness).
 *
 * For the SMP tests (issue 11, DESIGN K13): the delay can be limited to one
 * port, and marks in guest RAM (--mark, testdm_pattern.h) show the guest
 * when the model started and ended it; the control port can run a "cycle"
 * of claims and type changes inside one pending request, or start a thread
 * that flips the --pages among ram_rw, a WRITE claim and a READ|WRITE claim
 * while the guest keeps writing; forwarded 8-byte writes to the first
 * words of --pages are counted per word (count, an in-order checksum,
 * values not above the previous one) for the guest to query, and
 * --read-through answers forwarded reads of RAM from guest memory.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libioreq.h"
#include "testdm_pattern.h"

#define MAX_RANGES 16
#define STORE_SIZE 4096
#define SUM_EACH_MAX 16 /* ports of --sum-each */

struct range {
	uint32_t kind;
	uint64_t start, end;
};

struct store_entry {
	uint32_t kind;
	uint64_t addr;
	uint64_t value;
	bool used;
};

static struct {
	struct range ranges[MAX_RANGES];
	unsigned nr_ranges;
	bool buffered, disabled;
	unsigned sleep_ms;
	bool sleep_port_set;    /* --sleep-port: only requests to this port sleep */
	uint16_t sleep_port;
	uint64_t mark_gpa;      /* --mark: 0 none */
	volatile uint64_t *marks;
	bool read_through;      /* --read-through */
	uint64_t die_after; /* 0: never */
	uint64_t seen;
	FILE *log;
	uint64_t tag;
	uint64_t sum_port; /* 0: none */
	uint64_t sum_mmio; /* 0: none */
	uint64_t sum, sum_count;
	uint16_t sum_each_lo, sum_each_n; /* --sum-each: a checksum per port */
	uint64_t sum_each[SUM_EACH_MAX];
	struct store_entry store[STORE_SIZE];
	uint64_t ctl_port;      /* 0: none */
	int32_t ctl_result;
	uint64_t pages_gpa, pages_n; /* --pages */
	bool write_through;
	uint64_t flag_gpa;      /* --flag-after-type: set to 1 once set_mem_type returned */
	bool poll_loop;         /* --poll: serve with libioreq_server_fd + poll + dispatch */
	struct libioreq *x;
	uint16_t id;
	struct libioreq_guest_memory *mem;
	struct libioreq_server *srv;
	/* The connection is used from one thread at a time: the handler's
	 * control ops and the flip thread take this lock around their calls. */
	pthread_mutex_t conn_lock;
	/* Forwarded 8-byte writes to word i of --pages (main thread only, but
	 * fwd_total, which the flip thread watches). */
	struct {
		uint64_t count, fold, last, not_above;
	} slot[TESTDM_SLOTS];
	uint64_t fwd_total; /* atomic */
	/* The flip thread (CTL_FLIP). */
	bool flip_started;
	uint16_t flip_type;
	uint32_t flip_n;
	uint64_t flips, flip_stalls; /* atomic */
	int32_t flip_error;          /* atomic: first failed op's -errno */
} t = { .conn_lock = PTHREAD_MUTEX_INITIALIZER };

enum {
	CTL_CLAIM = 1,         /* arg: type | flags << 8 */
	CTL_SET_TYPE = 2,      /* arg: type, on the --pages */
	CTL_WRITE_THROUGH = 3, /* arg: 0 or 1 */
	CTL_DESTROY = 4,       /* destroy this model's server */
	CTL_STATS = 5,         /* log the VM's counters (vm_info) */
	CTL_CYCLE = 6,         /* arg: type | wait_ms << 8: the cycle, in this request */
	CTL_FLIP = 7,          /* arg: n | type << 16: start the flip thread */
	CTL_QUERY = 8,         /* arg: index | what << 8: read a counter (enum query) */
	CTL_PATCH = 9,         /* arg: byte | offset << 8: poke the first --pages page */
	CTL_SLEEPS = 10,       /* requests a vCPU slept for, of this server (LIST_SERVERS) */
};

enum query {
	Q_SLOT_COUNT = 0,      /* forwarded 8-byte writes to word index of --pages */
	Q_SLOT_FOLD_LO = 1,    /* testdm_fold of their values, in arrival order */
	Q_SLOT_FOLD_HI = 2,
	Q_SLOT_NOT_ABOVE = 3,  /* writes whose value was not above the previous one's */
	Q_FLIPS = 4,           /* changes the flip made */
	Q_FLIP_STALLS = 5,     /* states no guest write reached within 2 s */
	Q_FLIP_ERROR = 6,      /* first failed op of the flip (-errno), 0 if none */
};

static void set_mark(unsigned i, uint64_t v)
{
	if (t.marks)
		__atomic_store_n(&t.marks[i], v, __ATOMIC_SEQ_CST);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int claim(uint16_t type, uint32_t flags)
{
	return libioreq_map_mem_type_to_ioreq_server(t.x, t.id, type, flags);
}

static int set_pages_type(uint16_t type)
{
	return libioreq_set_mem_type(t.x, type, t.pages_gpa >> 12, (uint32_t)t.pages_n);
}

/*
 * CTL_CYCLE (K13): claims and type changes made while the request that
 * asked for them waits for its answer. After the pages became claimed,
 * wait up to wait_ms for a request from another vCPU (with --poll, until
 * the server's fd shows one arrived; else a plain sleep): that vCPU then
 * waits for this model, which is busy here, through every later step.
 * Each step done is published in TESTDM_MARK_CYCLE_STEP. Returns a
 * negative errno if a step failed, else the number of steps made while
 * another request was known to wait (with --poll: the fd rang after the
 * cycle began, and this single-threaded model serves nothing before it
 * returns); without --poll 0.
 */
static int32_t run_cycle(uint16_t type, unsigned wait_ms)
{
	const uint32_t W = IOREQVM_MEM_ACCESS_WRITE, RW = IOREQVM_MEM_ACCESS_READ | W;
	int32_t with_pending = 0;
	bool pending = false;
	set_mark(TESTDM_MARK_CYCLE_STEP, 0);
	if (t.poll_loop) { /* forget earlier rings: one from now on is a new request */
		uint64_t v;
		struct pollfd p = { .fd = libioreq_server_fd(t.srv), .events = POLLIN };
		if (poll(&p, 1, 0) > 0 && read(p.fd, &v, sizeof(v)) < 0)
			return -errno;
	}
	for (unsigned step = 1; step <= TESTDM_CYCLE_STEPS; step++) {
		int rc;
		switch (step) {
		case 1: rc = claim(type, W); break;
		case 2: rc = set_pages_type(type); break;                /* ram_rw -> RO */
		case 3: rc = claim(type, RW); break;                     /* RO -> NONE */
		case 4: rc = set_pages_type(IOREQVM_MEM_RAM_RW); break;  /* NONE -> RW */
		case 5: rc = set_pages_type(type); break;                /* RW -> NONE */
		case 6: rc = claim(type, 0); break;                      /* release (C4): RW */
		case 7: rc = claim(type, W); break;
		default: rc = set_pages_type(type); break;               /* RW -> RO */
		}
		if (t.log) {
			fprintf(t.log, "cycle step %u rc %d\n", step, rc);
			fflush(t.log);
		}
		if (rc)
			return rc;
		set_mark(TESTDM_MARK_CYCLE_STEP, step);
		with_pending += pending;
		if (step == 2 && wait_ms) {
			if (t.poll_loop) {
				struct pollfd p = { .fd = libioreq_server_fd(t.srv), .events = POLLIN };
				pending = poll(&p, 1, (int)wait_ms) > 0;
			} else {
				struct timespec ts = { wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L };
				nanosleep(&ts, NULL);
			}
		}
	}
	if (t.log) {
		fprintf(t.log, "cycle: %d steps with another request waiting\n", with_pending);
		fflush(t.log);
	}
	return with_pending;
}

/* Has a guest write reached the state just made? (see flip_main) */
static bool flip_written(bool claimed, uint64_t fwd, const uint64_t *snap, const volatile uint64_t *mem)
{
	if (claimed)
		return __atomic_load_n(&t.fwd_total, __ATOMIC_ACQUIRE) != fwd;
	for (unsigned i = 0; i < TESTDM_SLOTS; i++)
		if (mem[i] != snap[i])
			return true;
	return false;
}

/*
 * CTL_FLIP: t.flip_n changes of the --pages among ram_rw (RW), the type
 * under a WRITE claim (W) and under a READ|WRITE claim (RWC), all six
 * transitions in turn: RW->W set_mem_type, W->RWC claim, RWC->RW
 * set_mem_type, RW->RWC set_mem_type, RWC->W claim, W->RW release (C4; then
 * the WRITE claim is taken again, which leaves ram_rw pages alone). Each
 * state is held until a guest write reached it (a forwarded write under a
 * claim, a change of the first page's words in memory under RW), at most
 * 2 s (a "stall"). Runs beside the serving thread, which must answer the
 * forwarded accesses meanwhile.
 */
static void *flip_main(void *arg)
{
	(void)arg;
	const uint32_t W = IOREQVM_MEM_ACCESS_WRITE, RW = IOREQVM_MEM_ACCESS_READ | W;
	const uint16_t type = t.flip_type;
	const volatile uint64_t *mem = libioreq_guest_ptr(t.mem, t.pages_gpa, 8 * TESTDM_SLOTS);
	int rc;
	pthread_mutex_lock(&t.conn_lock);
	rc = claim(type, W);
	pthread_mutex_unlock(&t.conn_lock);
	for (uint32_t k = 0; !rc && k < t.flip_n; k++) {
		bool claimed = true;
		pthread_mutex_lock(&t.conn_lock);
		switch (k % 6) {
		case 0: rc = set_pages_type(type); break;                                  /* RW -> W */
		case 1: rc = claim(type, RW); break;                                       /* W -> RWC */
		case 2: rc = set_pages_type(IOREQVM_MEM_RAM_RW); claimed = false; break;   /* RWC -> RW */
		case 3: rc = set_pages_type(type); break;                                  /* RW -> RWC */
		case 4: rc = claim(type, W); break;                                        /* RWC -> W */
		default:                                                                   /* W -> RW */
			rc = claim(type, 0);
			if (!rc)
				rc = claim(type, W);
			claimed = false;
			break;
		}
		pthread_mutex_unlock(&t.conn_lock);
		if (rc)
			break;
		uint64_t fwd = __atomic_load_n(&t.fwd_total, __ATOMIC_ACQUIRE), snap[TESTDM_SLOTS];
		for (unsigned i = 0; i < TESTDM_SLOTS; i++)
			snap[i] = mem[i];
		uint64_t t0 = now_ms();
		bool written;
		while (!(written = flip_written(claimed, fwd, snap, mem)) && now_ms() - t0 < 2000) {
			struct timespec ts = { 0, 20000 };
			nanosleep(&ts, NULL);
		}
		if (!written) {
			static const char *const to[6] = { "W", "RWC", "RW", "RWC", "W", "RW" };
			__atomic_fetch_add(&t.flip_stalls, 1, __ATOMIC_RELAXED);
			if (t.log) {
				fprintf(t.log, "flip: change %u (to %s) reached by no guest write in 2 s\n",
					k + 1, to[k % 6]);
				fflush(t.log);
			}
		}
		__atomic_store_n(&t.flips, k + 1, __ATOMIC_RELEASE);
		set_mark(TESTDM_MARK_FLIPS, k + 1);
	}
	if (rc)
		__atomic_store_n(&t.flip_error, rc, __ATOMIC_RELEASE);
	if (t.log) {
		fprintf(t.log, "flip: %" PRIu64 " changes, %" PRIu64 " stalls, rc %d\n",
			__atomic_load_n(&t.flips, __ATOMIC_ACQUIRE),
			__atomic_load_n(&t.flip_stalls, __ATOMIC_ACQUIRE), rc);
		fflush(t.log);
	}
	set_mark(TESTDM_MARK_FLIP_DONE, 1);
	return NULL;
}

static int32_t start_flip(uint32_t arg)
{
	uint32_t n = arg & 0xffff;
	uint16_t type = (uint16_t)((arg >> 16) & 0xff);
	if (!n || !ioreqvm_mem_type_is_ioreq(type) || !t.pages_n || !t.mem ||
	    !libioreq_guest_ptr(t.mem, t.pages_gpa, 8 * TESTDM_SLOTS))
		return -EINVAL;
	if (t.flip_started)
		return -EBUSY;
	t.flip_type = type;
	t.flip_n = n;
	pthread_t th;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&th, &a, flip_main, NULL);
	pthread_attr_destroy(&a);
	if (rc)
		return -rc;
	t.flip_started = true;
	return 0;
}

static int32_t query(uint32_t arg)
{
	unsigned i = arg & 0xff, what = (arg >> 8) & 0xff;
	if (what <= Q_SLOT_NOT_ABOVE && i >= TESTDM_SLOTS)
		return -EINVAL;
	switch (what) {
	case Q_SLOT_COUNT: return (int32_t)(uint32_t)t.slot[i].count;
	case Q_SLOT_FOLD_LO: return (int32_t)(uint32_t)t.slot[i].fold;
	case Q_SLOT_FOLD_HI: return (int32_t)(uint32_t)(t.slot[i].fold >> 32);
	case Q_SLOT_NOT_ABOVE: return (int32_t)(uint32_t)t.slot[i].not_above;
	case Q_FLIPS: return (int32_t)__atomic_load_n(&t.flips, __ATOMIC_ACQUIRE);
	case Q_FLIP_STALLS: return (int32_t)__atomic_load_n(&t.flip_stalls, __ATOMIC_ACQUIRE);
	case Q_FLIP_ERROR: return __atomic_load_n(&t.flip_error, __ATOMIC_ACQUIRE);
	default: return -EINVAL;
	}
}

static int32_t run_ctl_locked(uint32_t v)
{
	uint32_t arg = v & 0xffffff;
	switch (v >> 24) {
	case CTL_CLAIM:
		return libioreq_map_mem_type_to_ioreq_server(t.x, t.id, arg & 0xff, (arg >> 8) & 0xff);
	case CTL_SET_TYPE: {
		int rc = libioreq_set_mem_type(t.x, arg & 0xff, t.pages_gpa >> 12, (uint32_t)t.pages_n);
		if (!rc && t.flag_gpa && t.mem) {
			volatile uint64_t *f = libioreq_guest_ptr(t.mem, t.flag_gpa, 8);
			if (f)
				*f = 1; /* strictly after the pages became claimed (C5 test) */
		}
		return rc;
	}
	case CTL_WRITE_THROUGH:
		t.write_through = arg & 1;
		return 0;
	case CTL_DESTROY:
		return libioreq_destroy_ioreq_server(t.x, t.id);
	case CTL_STATS: {
		struct ioreqvm_op_vm_info info;
		int rc = libioreq_vm_info(t.x, &info);
		if (!rc && t.log) {
			fprintf(t.log, "stats mmio_exits %" PRIu64 " ro_writes_dropped %" PRIu64 "\n",
				info.mmio_exits, info.ro_writes_dropped);
			fflush(t.log);
		}
		return rc;
	}
	case CTL_CYCLE:
		if (!ioreqvm_mem_type_is_ioreq(arg & 0xff) || !t.pages_n)
			return -EINVAL;
		return run_cycle(arg & 0xff, (arg >> 8) & 0xffff);
	case CTL_FLIP:
		return start_flip(arg);
	case CTL_QUERY:
		return query(arg);
	case CTL_PATCH: {
		/*
		 * K8: write one byte of guest memory through our own mapping (as a
		 * model that patches guest code would), then tell ioreqvm with
		 * modified_memory so no vCPU runs code translated from the old bytes.
		 */
		uint64_t off = (arg >> 8) & 0xfff;
		volatile uint8_t *b = t.mem && t.pages_n ? libioreq_guest_ptr(t.mem, t.pages_gpa + off, 1)
							 : NULL;
		if (!b)
			return -EINVAL;
		*b = (uint8_t)arg;
		return libioreq_modified_memory(t.x, t.pages_gpa >> 12, 1);
	}
	case CTL_SLEEPS: {
		static struct ioreqvm_op_server_list l;
		int rc = libioreq_list_servers(t.x, &l);
		if (rc)
			return rc;
		for (uint32_t i = 0; i < l.nr && i < IOREQVM_MAX_SERVERS_LISTED; i++)
			if (l.server[i].id == t.id)
				return l.server[i].sleeps > INT32_MAX ? INT32_MAX : (int32_t)l.server[i].sleeps;
		return -ENOENT;
	}
	default:
		return -EINVAL;
	}
}

static int32_t run_ctl(uint32_t v)
{
	pthread_mutex_lock(&t.conn_lock);
	int32_t rc = run_ctl_locked(v);
	pthread_mutex_unlock(&t.conn_lock);
	return rc;
}

/* Forwarded 8-byte writes to the first words of --pages, per word. */
static void count_slot_write(const struct ioreqvm_ioreq *r)
{
	if (!t.pages_n || r->size != 8 || r->addr < t.pages_gpa || (r->addr - t.pages_gpa) % 8 ||
	    r->addr - t.pages_gpa >= 8 * TESTDM_SLOTS)
		return;
	unsigned i = (unsigned)((r->addr - t.pages_gpa) / 8);
	t.slot[i].not_above += t.slot[i].count && r->data <= t.slot[i].last;
	t.slot[i].last = r->data;
	t.slot[i].fold = testdm_fold(t.slot[i].fold, r->data);
	t.slot[i].count++;
	__atomic_fetch_add(&t.fwd_total, 1, __ATOMIC_RELEASE);
}

static bool sleeps(const struct ioreqvm_ioreq *r)
{
	return t.sleep_ms && (!t.sleep_port_set || (r->type == IOREQVM_IOREQ_TYPE_PIO &&
						   r->addr == t.sleep_port));
}

static struct store_entry *slot_for(uint32_t kind, uint64_t addr, bool create)
{
	uint64_t h = (addr * 0x9E3779B97F4A7C15ULL + kind) % STORE_SIZE;
	for (unsigned i = 0; i < STORE_SIZE; i++, h = (h + 1) % STORE_SIZE) {
		struct store_entry *e = &t.store[h];
		if (e->used && e->kind == kind && e->addr == addr)
			return e;
		if (!e->used) {
			if (!create)
				return NULL;
			*e = (struct store_entry){ .kind = kind, .addr = addr, .used = true };
			return e;
		}
	}
	return NULL;
}

static uint32_t kind_of(const struct ioreqvm_ioreq *r)
{
	switch (r->type) {
	case IOREQVM_IOREQ_TYPE_PIO: return IOREQVM_IO_RANGE_PORT;
	case IOREQVM_IOREQ_TYPE_COPY: return IOREQVM_IO_RANGE_MEMORY;
	default: return IOREQVM_IO_RANGE_PCI;
	}
}

static void handle(void *opaque, unsigned vcpu, struct ioreqvm_ioreq *r)
{
	t.seen++;
	if (t.log) {
		fprintf(t.log, "vcpu %d type %u dir %s addr 0x%" PRIx64 " size %u data 0x%" PRIx64 "\n",
			vcpu == (unsigned)-1 ? -1 : (int)vcpu, r->type,
			r->dir == IOREQVM_IOREQ_READ ? "read" : "write", r->addr, r->size,
			r->dir == IOREQVM_IOREQ_READ ? 0 : r->data);
		fflush(t.log);
	}
	if (t.die_after && t.seen >= t.die_after)
		raise(SIGKILL); /* mid-request: the vCPU is waiting on us */
	if (sleeps(r)) {
		static uint64_t nr_sleeps;
		set_mark(TESTDM_MARK_SLEEPS_BEGUN, ++nr_sleeps);
		struct timespec ts = { t.sleep_ms / 1000, (long)(t.sleep_ms % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		set_mark(TESTDM_MARK_SLEEPS_ANSWERED, nr_sleeps);
	}
	uint64_t mask = r->size >= 8 ? ~0ULL : (1ULL << (8 * r->size)) - 1;
	uint32_t kind = kind_of(r);
	if (t.ctl_port && kind == IOREQVM_IO_RANGE_PORT && r->addr == t.ctl_port && r->size == 4) {
		if (r->dir == IOREQVM_IOREQ_WRITE)
			t.ctl_result = run_ctl((uint32_t)r->data);
		else
			r->data = (uint32_t)t.ctl_result;
		return;
	}
	if (r->type == IOREQVM_IOREQ_TYPE_COPY && r->dir == IOREQVM_IOREQ_WRITE)
		count_slot_write(r);
	if (t.read_through && r->type == IOREQVM_IOREQ_TYPE_COPY && r->dir == IOREQVM_IOREQ_READ &&
	    t.mem) {
		const void *p = libioreq_guest_ptr(t.mem, r->addr, r->size);
		if (p) { /* a forwarded read of RAM: what memory holds */
			r->data = 0;
			memcpy(&r->data, p, r->size);
			return;
		}
	}
	if (t.write_through && r->type == IOREQVM_IOREQ_TYPE_COPY && r->dir == IOREQVM_IOREQ_WRITE &&
	    t.mem && libioreq_guest_ptr(t.mem, r->addr, r->size))
		libioreq_write_through(t.mem, r); /* C6: the model decides */
	if (kind == IOREQVM_IO_RANGE_PORT && r->addr - t.sum_each_lo < t.sum_each_n) {
		uint64_t *sum = &t.sum_each[r->addr - t.sum_each_lo];
		if (r->dir == IOREQVM_IOREQ_WRITE)
			*sum = testdm_fold(*sum, r->data & mask);
		else
			r->data = *sum;
		return;
	}
	if ((t.sum_port && kind == IOREQVM_IO_RANGE_PORT && r->addr == t.sum_port) ||
	    (t.sum_mmio && kind == IOREQVM_IO_RANGE_MEMORY && r->addr == t.sum_mmio)) {
		if (r->dir == IOREQVM_IOREQ_WRITE) {
			t.sum = testdm_fold(t.sum, r->data & mask);
			t.sum_count++;
		} else {
			r->data = t.sum;
		}
		return;
	}
	if (r->dir == IOREQVM_IOREQ_WRITE) {
		struct store_entry *e = slot_for(kind, r->addr, true);
		if (e)
			e->value = r->data & mask;
		return;
	}
	struct store_entry *e = slot_for(kind, r->addr, false);
	r->data = (e ? e->value : testdm_pattern(r->addr, t.tag)) & mask;
}

static int parse_range(const char *s, uint32_t kind)
{
	char *end;
	if (t.nr_ranges == MAX_RANGES)
		return -1;
	uint64_t a = strtoull(s, &end, 0);
	if (*end != ':')
		return -1;
	uint64_t b = strtoull(end + 1, &end, 0);
	if (*end)
		return -1;
	t.ranges[t.nr_ranges++] = (struct range){ .kind = kind, .start = a, .end = b };
	return 0;
}

/* A whole number in [min, max] (decimal, 0x hex or 0 octal), nothing after it. */
static int parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-')
		return -1;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: testdm [--socket PATH] [--port A:B] [--mmio A:B] [--pci A:B]\n"
		   "              [--buffered] [--disabled] [--sum-port P] [--sum-mmio A]\n"
		   "              [--sum-each P:Q]\n"
		   "              [--tag N] [--ctl-port P] [--pages GPA:N] [--write-through]\n"
		   "              [--read-through] [--flag-after-type GPA] [--poll]\n"
		   "              [--sleep-ms N] [--sleep-port P] [--mark GPA]\n"
		   "              [--die-after N] [--log FILE]\n"
		   "A device model for tests: echoes written values back on reads,\n"
		   "testdm_pattern(addr, tag) where nothing was written.\n"
		   "  --sum-each P:Q    each port P..Q (at most 16) folds its own writes in\n"
		   "                    arrival order into a checksum a read of it returns\n"
		   "  --sleep-ms N      sleep N ms (0-600000) before answering each request\n"
		   "  --sleep-port P    ... only requests to port P (0-0xffff)\n"
		   "  --mark GPA        keep progress words at GPA (8-byte aligned RAM, not 0):\n"
		   "                    [0] delayed requests received, [1] delayed requests\n"
		   "                    answered, [2] cycle step done, [3] flip changes made,\n"
		   "                    [4] 1 once the flip finished (testdm_pattern.h)\n"
		   "  --read-through    answer forwarded reads of RAM (claimed pages) from memory\n"
		   "  --write-through   write forwarded writes of RAM through to memory (C6)\n"
		   "Control port (--ctl-port P): write cmd << 24 | arg (4 bytes), read the result:\n"
		   "  1 claim (type | flags << 8)     2 set type of --pages (type)\n"
		   "  3 write-through (0/1)           4 destroy the server\n"
		   "  5 log the VM's counters\n"
		   "  6 cycle (type | wait_ms << 8): claim W, set type, [wait up to wait_ms\n"
		   "    for another vCPU's request: with --poll until one arrives], claim R|W,\n"
		   "    set ram_rw, set type, release, claim W, set type; all while the\n"
		   "    request that asked waits for its answer. Result: -errno of a failed\n"
		   "    step, else how many steps ran with another request waiting (--poll)\n"
		   "  7 flip (n | type << 16): a thread makes n (1-65535) changes of --pages\n"
		   "    among ram_rw, type under a WRITE claim, type under a READ|WRITE claim,\n"
		   "    each held until a guest write reached it (at most 2 s)\n"
		   "  8 query (index | what << 8): forwarded 8-byte writes to word index (0-63)\n"
		   "    of --pages: what 0 count, 1/2 checksum low/high, 3 values not above the\n"
		   "    previous; flip: 4 changes made, 5 stalls, 6 first error (-errno)\n"
		   "  9 patch (byte | offset << 8): write the byte at offset (0-4095) of the\n"
		   "    first --pages page through guest memory, then modified_memory (K8)\n"
		   "  10 sleeps: how many of this server's requests a vCPU slept for\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' }, { "port", required_argument, NULL, 'p' },
		{ "mmio", required_argument, NULL, 'm' }, { "pci", required_argument, NULL, 'c' },
		{ "buffered", no_argument, NULL, 'b' }, { "disabled", no_argument, NULL, 'd' },
		{ "sleep-ms", required_argument, NULL, 'z' }, { "die-after", required_argument, NULL, 'k' },
		{ "log", required_argument, NULL, 'l' }, { "tag", required_argument, NULL, 't' },
		{ "sum-port", required_argument, NULL, 'u' }, { "sum-mmio", required_argument, NULL, 'U' },
		{ "sum-each", required_argument, NULL, 'E' },
		{ "ctl-port", required_argument, NULL, 'C' }, { "pages", required_argument, NULL, 'P' },
		{ "write-through", no_argument, NULL, 'W' },
		{ "poll", no_argument, NULL, 'o' },
		{ "flag-after-type", required_argument, NULL, 'F' },
		{ "sleep-port", required_argument, NULL, 'S' },
		{ "mark", required_argument, NULL, 'M' },
		{ "read-through", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	int c, li = 0;
	while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
		int bad = 0;
		uint64_t n;
		switch (c) {
		case 's': sock = optarg; break;
		case 'p': bad = parse_range(optarg, IOREQVM_IO_RANGE_PORT); break;
		case 'm': bad = parse_range(optarg, IOREQVM_IO_RANGE_MEMORY); break;
		case 'c': bad = parse_range(optarg, IOREQVM_IO_RANGE_PCI); break;
		case 'b': t.buffered = true; break;
		case 'd': t.disabled = true; break;
		case 'z':
			bad = parse_num(optarg, 0, 600000, &n);
			t.sleep_ms = (unsigned)n;
			break;
		case 'S':
			bad = parse_num(optarg, 0, 0xffff, &n);
			t.sleep_port = (uint16_t)n;
			t.sleep_port_set = true;
			break;
		case 'M':
			bad = parse_num(optarg, 8, UINT64_MAX - 8 * TESTDM_MARK_WORDS, &n) || (n & 7);
			t.mark_gpa = n;
			break;
		case 'R': t.read_through = true; break;
		case 'k': t.die_after = strtoull(optarg, NULL, 0); break;
		case 't': t.tag = strtoull(optarg, NULL, 0); break;
		case 'u': t.sum_port = strtoull(optarg, NULL, 0); break;
		case 'E': {
			char *end;
			errno = 0;
			unsigned long lo = strtoul(optarg, &end, 0), hi = lo;
			if (*end == ':')
				hi = strtoul(end + 1, &end, 0);
			bad = errno || *end || hi < lo || hi > 0xffff || hi - lo >= SUM_EACH_MAX;
			t.sum_each_lo = (uint16_t)lo;
			t.sum_each_n = bad ? 0 : (uint16_t)(hi - lo + 1);
			break;
		}
		case 'U': t.sum_mmio = strtoull(optarg, NULL, 0); break;
		case 'C': t.ctl_port = strtoull(optarg, NULL, 0); break;
		case 'W': t.write_through = true; break;
		case 'o': t.poll_loop = true; break;
		case 'F': t.flag_gpa = strtoull(optarg, NULL, 0); break;
		case 'P': {
			char *end;
			t.pages_gpa = strtoull(optarg, &end, 0);
			bad = *end != ':';
			if (!bad)
				t.pages_n = strtoull(end + 1, &end, 0);
			bad = bad || *end || (t.pages_gpa & 0xfff) || !t.pages_n;
			break;
		}
		case 'l':
			t.log = fopen(optarg, "a");
			bad = !t.log;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad) {
			fprintf(stderr, "testdm: bad value for --%s: '%s'\n", opts[li].name, optarg);
			return 2;
		}
	}
	if (t.sleep_port_set && !t.sleep_ms) {
		fprintf(stderr, "testdm: --sleep-port needs --sleep-ms\n");
		return 2;
	}
	struct libioreq *x;
	int rc = libioreq_connect(sock, &x);
	if (rc) {
		fprintf(stderr, "testdm: %s\n", libioreq_error(NULL));
		return 1;
	}
	uint16_t id;
	struct libioreq_server *srv;
	t.x = x;
	if (t.ctl_port && t.nr_ranges < MAX_RANGES)
		t.ranges[t.nr_ranges++] = (struct range){ .kind = IOREQVM_IO_RANGE_PORT,
							  .start = t.ctl_port, .end = t.ctl_port + 3 };
	if ((t.write_through || t.read_through || t.flag_gpa || t.ctl_port || t.mark_gpa) &&
	    (rc = libioreq_map_guest_memory(x, &t.mem)))
		goto fail;
	if (t.mark_gpa) {
		t.marks = libioreq_guest_ptr(t.mem, t.mark_gpa, 8 * TESTDM_MARK_WORDS);
		if (!t.marks) {
			fprintf(stderr, "testdm: --mark 0x%" PRIx64 ": not guest RAM\n", t.mark_gpa);
			libioreq_close(x);
			return 2;
		}
	}
	if ((rc = libioreq_create_ioreq_server(x, t.buffered, &id)))
		goto fail;
	t.id = id;
	for (unsigned i = 0; i < t.nr_ranges; i++) {
		uint32_t flags = t.buffered && t.ranges[i].kind != IOREQVM_IO_RANGE_PCI
					 ? IOREQVM_IO_RANGE_BUFFERED : 0;
		if ((rc = libioreq_map_io_range_to_ioreq_server(x, id, t.ranges[i].kind,
								t.ranges[i].start, t.ranges[i].end, flags)))
			goto fail;
	}
	if ((rc = libioreq_server_open(x, id, handle, NULL, &srv)))
		goto fail;
	t.srv = srv;
	if (!t.disabled && (rc = libioreq_set_ioreq_server_state(x, id, true)))
		goto fail;
	if ((rc = libioreq_dm_ready(x)))
		goto fail;
	volatile bool stop = false;
	if (t.poll_loop) {
		/* The event-loop API: poll the server's fd and the connection, then dispatch. */
		struct pollfd p[2] = { { .fd = libioreq_server_fd(srv), .events = POLLIN },
				       { .fd = libioreq_connection_fd(x), .events = POLLIN } };
		rc = 0;
		while (rc >= 0) {
			if (poll(p, 2, -1) < 0 && errno != EINTR)
				break;
			if (p[1].revents & (POLLHUP | POLLERR)) {
				rc = -EPIPE;
				break;
			}
			rc = libioreq_server_dispatch(srv);
		}
	} else {
		rc = libioreq_server_run(srv, &stop);
	}
	libioreq_server_close(srv);
	libioreq_unmap_guest_memory(t.mem);
	libioreq_close(x);
	if (t.log)
		fclose(t.log);
	return rc == -EPIPE ? 0 : (rc ? 1 : 0);
fail:
	fprintf(stderr, "testdm: %s\n", libioreq_error(x));
	libioreq_close(x);
	return 1;
}
