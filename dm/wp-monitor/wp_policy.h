/* SPDX-License-Identifier: MIT */
/*
 * wp-monitor's state: watched ranges with their policies, counters, and the
 * request handler that applies a policy to one intercepted write. Kept
 * apart from main() so the decisions are testable without a VM.
 */
#ifndef WP_POLICY_H
#define WP_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "libioreq.h"

#define WP_MAX_RANGES 32
#define WP_ANNOUNCE_PORT 0x5f0 /* +0: first page frame, +4: page count (0: release) / status */

enum wp_policy { WP_ALLOW, WP_DENY, WP_LOG };

struct wp_range {
	uint64_t start, end; /* guest-physical, page aligned */
	enum wp_policy policy;
	bool announced; /* by the guest, which may release it (--watch: never) */
};

struct wp_state {
	FILE *out;
	uint16_t type;
	enum wp_policy default_policy;
	bool announced, quiet;
	struct wp_range ranges[WP_MAX_RANGES];
	unsigned nr_ranges;
	uint64_t announce_pfn;
	uint32_t announce_status;
	uint64_t writes, allowed, denied, logged, pages;
	struct libioreq *x;
	struct libioreq_server *srv;
	struct libioreq_guest_memory *mem;
	uint16_t id;
	bool claimed;
};

void wp_state_init(struct wp_state *s, FILE *out);
int wp_policy_parse(const char *name, enum wp_policy *p);
const char *wp_policy_name(enum wp_policy p);
/*
 * Watch [start, end): recorded, and when @apply, given the claimed type in
 * the VM now. 0, -ENOSPC (too many ranges), -EEXIST (overlap), or the VM's.
 */
int wp_add_range(struct wp_state *s, uint64_t start, uint64_t end, enum wp_policy p, bool apply);
/*
 * Stop watching the guest-announced range that starts at @start: given
 * ram_rw again in the VM when @apply, then forgotten. 0, -ENOENT (no
 * announced range starts there: --watch ranges stay), or the VM's.
 */
int wp_remove_range(struct wp_state *s, uint64_t start, bool apply);
/* The handler libioreq calls for each request (claimed writes, announce port). */
void wp_handle(void *opaque, unsigned vcpu, struct ioreqvm_ioreq *req);
/* Connect, map memory, create and enable a server, claim, mark the ranges. */
int wp_attach(struct wp_state *s, const char *socket);
/* Release the claim (pages back to ram_rw) and disconnect. */
void wp_detach(struct wp_state *s);

#endif
