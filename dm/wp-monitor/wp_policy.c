/* SPDX-License-Identifier: MIT */
/*
 * wp-monitor's decisions and its VM plumbing. An intercepted write is
 * printed with the value the page holds (old) and the value written (new),
 * then written through (allow, log) or dropped (deny): the VMM never writes
 * a claimed page itself (DESIGN C6), so what lands is the monitor's choice.
 */
#include "wp_policy.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static const char *const names[] = { [WP_ALLOW] = "allow", [WP_DENY] = "deny", [WP_LOG] = "log" };

void wp_state_init(struct wp_state *s, FILE *out)
{
	memset(s, 0, sizeof(*s));
	s->out = out;
	s->type = IOREQVM_MEM_IOREQ_SERVER;
	s->default_policy = WP_ALLOW;
}

int wp_policy_parse(const char *name, enum wp_policy *p)
{
	for (unsigned i = 0; i < 3; i++) {
		if (!strcmp(name, names[i])) {
			*p = (enum wp_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *wp_policy_name(enum wp_policy p)
{
	return p <= WP_LOG ? names[p] : "?";
}

int wp_add_range(struct wp_state *s, uint64_t start, uint64_t end, enum wp_policy p, bool apply)
{
	if (s->nr_ranges == WP_MAX_RANGES)
		return -ENOSPC;
	for (unsigned i = 0; i < s->nr_ranges; i++)
		if (start < s->ranges[i].end && s->ranges[i].start < end)
			return -EEXIST;
	if (apply) {
		uint64_t pages = (end - start) >> 12;
		if (pages > UINT32_MAX)
			return -EINVAL;
		int rc = libioreq_set_mem_type(s->x, s->type, start >> 12, (uint32_t)pages);
		if (rc)
			return rc;
	}
	s->ranges[s->nr_ranges++] = (struct wp_range){ .start = start, .end = end, .policy = p };
	s->pages += (end - start) >> 12;
	return 0;
}

int wp_remove_range(struct wp_state *s, uint64_t start, bool apply)
{
	unsigned i = 0;
	while (i < s->nr_ranges && (s->ranges[i].start != start || !s->ranges[i].announced))
		i++;
	if (i == s->nr_ranges)
		return -ENOENT;
	uint64_t pages = (s->ranges[i].end - start) >> 12;
	if (apply) {
		int rc = libioreq_set_mem_type(s->x, IOREQVM_MEM_RAM_RW, start >> 12, (uint32_t)pages);
		if (rc)
			return rc;
	}
	s->ranges[i] = s->ranges[--s->nr_ranges];
	s->pages -= pages;
	return 0;
}

static const struct wp_range *range_of(const struct wp_state *s, uint64_t gpa)
{
	for (unsigned i = 0; i < s->nr_ranges; i++)
		if (gpa >= s->ranges[i].start && gpa < s->ranges[i].end)
			return &s->ranges[i];
	return NULL;
}

static void announce(struct wp_state *s, struct ioreqvm_ioreq *r)
{
	unsigned off = (unsigned)(r->addr - WP_ANNOUNCE_PORT);
	if (r->dir == IOREQVM_IOREQ_READ) {
		r->data = off == 4 ? s->announce_status : (uint32_t)s->announce_pfn;
		return;
	}
	if (off == 0 && r->size == 4) {
		s->announce_pfn = (uint32_t)r->data;
		return;
	}
	if (off != 4 || r->size != 4)
		return;
	uint64_t start = s->announce_pfn << 12, end = start + ((uint64_t)(uint32_t)r->data << 12);
	if (!r->data) { /* count 0: the guest gives the range back */
		int rc = wp_remove_range(s, start, true);
		s->announce_status = rc == 0;
		fprintf(stderr, "wp-monitor: guest released the range at 0x%" PRIx64 ": %s\n", start,
			rc ? (rc == -ENOENT ? "not announced" : s->x ? libioreq_error(s->x) : strerror(-rc))
			   : "no longer watched");
		return;
	}
	int rc = wp_add_range(s, start, end, s->default_policy, true);
	if (rc == 0)
		s->ranges[s->nr_ranges - 1].announced = true;
	s->announce_status = rc == 0;
	fprintf(stderr, "wp-monitor: guest announced [0x%" PRIx64 ", 0x%" PRIx64 "): %s%s\n",
		start, end, rc ? "refused: " : "watching, policy ",
		rc ? (s->x ? libioreq_error(s->x) : strerror(-rc)) : wp_policy_name(s->default_policy));
}

void wp_handle(void *opaque, unsigned vcpu, struct ioreqvm_ioreq *r)
{
	struct wp_state *s = opaque;
	if (r->type == IOREQVM_IOREQ_TYPE_PIO) {
		announce(s, r);
		return;
	}
	if (r->type != IOREQVM_IOREQ_TYPE_COPY || r->dir != IOREQVM_IOREQ_WRITE) {
		/* A WRITE claim forwards no reads; answer from memory if one comes. */
		void *p = s->mem ? libioreq_guest_ptr(s->mem, r->addr, r->size) : NULL;
		r->data = 0;
		if (p)
			memcpy(&r->data, p, r->size);
		return;
	}
	const struct wp_range *rg = range_of(s, r->addr);
	enum wp_policy pol = rg ? rg->policy : s->default_policy;
	uint64_t old = 0, mask = r->size >= 8 ? ~0ULL : (1ULL << (8 * r->size)) - 1;
	void *p = s->mem ? libioreq_guest_ptr(s->mem, r->addr, r->size) : NULL;
	if (p)
		memcpy(&old, p, r->size);
	s->writes++;
	if (pol == WP_DENY)
		s->denied++;
	else if (pol == WP_LOG)
		s->logged++;
	else
		s->allowed++;
	if (pol != WP_DENY && p)
		libioreq_write_through(s->mem, r);
	if (!s->quiet) {
		fprintf(s->out, "wp-monitor: vcpu %u write gpa 0x%" PRIx64 " size %u old 0x%" PRIx64
			" new 0x%" PRIx64 " -> %s\n", vcpu, r->addr, r->size, old & mask,
			r->data & mask, pol == WP_DENY ? "DENIED" : pol == WP_LOG ? "logged" : "allowed");
		fflush(s->out);
	}
}

int wp_attach(struct wp_state *s, const char *socket)
{
	int rc = libioreq_connect(socket, &s->x);
	if (rc) {
		s->x = NULL;
		return rc;
	}
	if ((rc = libioreq_map_guest_memory(s->x, &s->mem)) ||
	    (rc = libioreq_create_ioreq_server(s->x, false, &s->id)))
		return rc;
	if (s->announced &&
	    (rc = libioreq_map_io_range_to_ioreq_server(s->x, s->id, IOREQVM_IO_RANGE_PORT,
							WP_ANNOUNCE_PORT, WP_ANNOUNCE_PORT + 7, 0)))
		return rc;
	if ((rc = libioreq_server_open(s->x, s->id, wp_handle, s, &s->srv)) ||
	    (rc = libioreq_set_ioreq_server_state(s->x, s->id, true)) ||
	    (rc = libioreq_map_mem_type_to_ioreq_server(s->x, s->id, s->type,
							IOREQVM_MEM_ACCESS_WRITE)))
		return rc;
	s->claimed = true;
	for (unsigned i = 0; i < s->nr_ranges; i++) {
		const struct wp_range *r = &s->ranges[i];
		rc = libioreq_set_mem_type(s->x, s->type, r->start >> 12,
					   (uint32_t)((r->end - r->start) >> 12));
		if (rc)
			return rc;
	}
	fprintf(stderr, "wp-monitor: server %u claims type %u for WRITE; %" PRIu64 " pages watched%s\n",
		s->id, s->type, s->pages, s->announced ? ", waiting for the guest's announcement" : "");
	/* Tell ioreqvm we are ready (needed when it started us; harmless otherwise). */
	libioreq_dm_ready(s->x);
	return 0;
}

void wp_detach(struct wp_state *s)
{
	if (s->x && s->claimed) /* C4: the pages become ram_rw again */
		libioreq_map_mem_type_to_ioreq_server(s->x, s->id, s->type, 0);
	libioreq_server_close(s->srv);
	libioreq_unmap_guest_memory(s->mem);
	libioreq_close(s->x);
	s->x = NULL;
}
