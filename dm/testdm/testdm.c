/* SPDX-License-Identifier: MIT */
/*
 * testdm: the device model the tests use. It serves the ranges it is told
 * to, remembers every value written (per kind and address) and answers a
 * read with the last value written there, or with testdm_pattern() of the
 * address if nothing was. Writes to the "sum" port or MMIO address fold, in
 * arrival order, into one checksum that a read of either returns. A
 * "control port" lets the guest drive the model's DM ops (claim a memory
 * type, set the type of its pages, write-through on/off, destroy itself):
 * a 4-byte write (cmd << 24 | arg) runs one, a read returns its result. Every request can be logged,
 * delayed, or be the last one (the model then kills itself with SIGKILL
 * without answering, to test I5/robustness).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
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
	uint64_t die_after; /* 0: never */
	uint64_t seen;
	FILE *log;
	uint64_t tag;
	uint64_t sum_port; /* 0: none */
	uint64_t sum_mmio; /* 0: none */
	uint64_t sum, sum_count;
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
} t;

enum {
	CTL_CLAIM = 1,         /* arg: type | flags << 8 */
	CTL_SET_TYPE = 2,      /* arg: type, on the --pages */
	CTL_WRITE_THROUGH = 3, /* arg: 0 or 1 */
	CTL_DESTROY = 4,       /* destroy this model's server */
	CTL_STATS = 5,         /* log the VM's counters (vm_info) */
};

static int32_t run_ctl(uint32_t v)
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
	default:
		return -EINVAL;
	}
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
	if (t.sleep_ms) {
		struct timespec ts = { t.sleep_ms / 1000, (long)(t.sleep_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
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
	if (t.write_through && r->type == IOREQVM_IOREQ_TYPE_COPY && r->dir == IOREQVM_IOREQ_WRITE &&
	    t.mem && libioreq_guest_ptr(t.mem, r->addr, r->size))
		libioreq_write_through(t.mem, r); /* C6: the model decides */
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

static void usage(FILE *f)
{
	fprintf(f, "Usage: testdm [--socket PATH] [--port A:B] [--mmio A:B] [--pci A:B]\n"
		   "              [--buffered] [--disabled] [--sum-port P] [--sum-mmio A]\n"
		   "              [--tag N] [--ctl-port P] [--pages GPA:N] [--write-through]\n"
		   "              [--flag-after-type GPA] [--poll]\n"
		   "              [--sleep-ms N] [--die-after N] [--log FILE]\n"
		   "A device model for tests: echoes written values back on reads,\n"
		   "testdm_pattern(addr, tag) where nothing was written.\n");
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
		{ "ctl-port", required_argument, NULL, 'C' }, { "pages", required_argument, NULL, 'P' },
		{ "write-through", no_argument, NULL, 'W' },
		{ "poll", no_argument, NULL, 'o' },
		{ "flag-after-type", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 's': sock = optarg; break;
		case 'p': bad = parse_range(optarg, IOREQVM_IO_RANGE_PORT); break;
		case 'm': bad = parse_range(optarg, IOREQVM_IO_RANGE_MEMORY); break;
		case 'c': bad = parse_range(optarg, IOREQVM_IO_RANGE_PCI); break;
		case 'b': t.buffered = true; break;
		case 'd': t.disabled = true; break;
		case 'z': t.sleep_ms = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'k': t.die_after = strtoull(optarg, NULL, 0); break;
		case 't': t.tag = strtoull(optarg, NULL, 0); break;
		case 'u': t.sum_port = strtoull(optarg, NULL, 0); break;
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
			fprintf(stderr, "testdm: bad value for --%s: %s\n", argv[optind - 1] + 2, optarg);
			return 2;
		}
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
	if ((t.write_through || t.flag_gpa || t.ctl_port) && (rc = libioreq_map_guest_memory(x, &t.mem)))
		goto fail;
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
