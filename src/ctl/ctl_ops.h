/* SPDX-License-Identifier: MIT */
/*
 * The control operations: a table of ops with their exact payload sizes
 * (checked before dispatch, STYLE 8), the framing check of a received
 * message, and one handler per op. Pure of sockets, so the decoder can be
 * unit-tested and fuzzed on bytes alone.
 */
#ifndef IOREQVM_CTL_OPS_H
#define IOREQVM_CTL_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ioreqvm/ctl_proto.h"

struct vm;

/* Who is asking: the connection is the owner of the servers it creates. */
struct ctl_caller {
	const void *conn;
	pid_t pid;
	bool ready; /* set by DM_READY */
};

struct ctl_reply {
	int32_t result;
	char msg[128];
	uint32_t len;
	uint8_t payload[IOREQVM_CTL_MAX_PAYLOAD];
	int fds[IOREQVM_CTL_MAX_FDS]; /* borrowed: not closed after sending */
	unsigned nr_fds;
};

typedef int (*ctl_op_fn)(struct vm *vm, struct ctl_caller *caller, const void *req,
			 struct ctl_reply *rep);

struct ctl_op_desc {
	uint16_t op;
	const char *name;
	uint32_t req_size;
	ctl_op_fn fn;
	/*
	 * Never waits: reads state, or raises an interrupt, under short locks
	 * only; the control thread runs it at once. Every other op (servers,
	 * ranges, types, claims) runs on the worker, in order.
	 */
	bool quick;
};

/*
 * Check a received message: header, version, op, payload size, no fds.
 * Returns the op (payload at *payload) or NULL with rep->result and
 * rep->msg set. @len is what the socket delivered, @truncated if it was
 * longer than the buffer.
 */
const struct ctl_op_desc *ctl_check_request(const void *buf, size_t len, bool truncated,
					    unsigned nr_fds, const void **payload,
					    struct ctl_reply *rep);

/* Run a checked op. */
void ctl_run_op(struct vm *vm, struct ctl_caller *caller, const struct ctl_op_desc *d,
		const void *payload, struct ctl_reply *rep);

#endif
