/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the xenstore service's message parser and protocol
 * (src/xenstore/: framing, every message type, the store, watches,
 * transactions), DESIGN X1 and R1. The input is a sequence of chunks: one
 * byte choosing one of three clients (bit 7: drop that client first, as
 * when its socket closes), a 2-byte length, then that many bytes fed to the
 * client as one read. A fresh store with the default keys per input.
 * Checked on every output and after every input: each message fits the
 * payload bound and has a known type, an error names an errno of the
 * wire's table, events carry req_id and tx_id 0, and the tree's
 * accounting (nodes, bytes; the limits rest on it)
 * matches a recount. A client whose header passes the bound is dropped
 * (-EPROTO), as the server does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstore/xs_proto.h"
#include "xenstore/xs_seed.h"

#define CLIENTS 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_out(void *opaque, const struct ioreqvm_xs_msg *h, const void *payload)
{
	if (h->len > IOREQVM_XS_PAYLOAD_MAX || h->type >= IOREQVM_XS_TYPE_COUNT)
		abort();
	if (h->type == IOREQVM_XS_WATCH_EVENT && (h->req_id || h->tx_id))
		abort();
	if (h->type == IOREQVM_XS_ERROR) {
		const char *p = payload;
		if (!h->len || p[h->len - 1])
			abort();
		static const struct ioreqvm_xs_error names[] = { IOREQVM_XS_ERRORS };
		bool known = false;
		for (unsigned i = 0; i < IOREQVM_XS_NR_ERRORS; i++)
			known |= !strcmp(names[i].name, p);
		if (!known)
			abort();
	}
	if (h->len) /* touch every byte: ASan checks the payload is all there */
		(void)!memchr(payload, 0x5a, h->len);
}

static void recount(const struct xs_node *n, uint32_t *nodes, uint64_t *bytes)
{
	(*nodes)++;
	*bytes += XS_NODE_OVERHEAD + strlen(n->name) + 1 + n->vlen + n->plen;
	for (uint32_t i = 0; i < n->nr_kids; i++) {
		if (n->kids[i]->parent != n)
			abort();
		recount(n->kids[i], nodes, bytes);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t uuid[16] = { 1, 2, 3, 4, 5, 6, 0x47, 8, 0x89, 10, 11, 12, 13, 14, 15 };
	struct xs_service s;
	if (xs_service_init(&s, 1, check_out, NULL))
		abort();
	struct xs_seed_vm vm = { .domid = 1, .name = "fuzz", .uuid = uuid, .nr_vcpus = 2,
				 .ram_kib = 1024 };
	if (xs_seed_defaults(&s, &vm))
		abort();
	struct xs_client *c[CLIENTS];
	for (unsigned i = 0; i < CLIENTS; i++)
		c[i] = xs_client_add(&s, NULL);
	while (size >= 3) {
		unsigned who = data[0] % CLIENTS;
		bool drop = data[0] & 0x80;
		size_t len = (size_t)data[1] | (size_t)data[2] << 8;
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (drop) {
			xs_client_remove(c[who]);
			c[who] = xs_client_add(&s, NULL);
		}
		if (xs_client_input(c[who], data, len) == -EPROTO) {
			xs_client_remove(c[who]);
			c[who] = xs_client_add(&s, NULL);
		}
		data += len;
		size -= len;
	}
	uint32_t nodes = 0;
	uint64_t bytes = 0;
	recount(s.tree.root, &nodes, &bytes);
	if (nodes != s.tree.nodes || bytes != s.tree.bytes || nodes > XS_MAX_NODES ||
	    bytes > XS_MAX_TREE_BYTES || s.nr_tx > XS_MAX_TX)
		abort();
	xs_service_destroy(&s);
	return 0;
}
