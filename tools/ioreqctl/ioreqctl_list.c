/* SPDX-License-Identifier: MIT */
/*
 * Stopgap: LIST_SERVERS and LIST_RANGES exist in the protocol and the VMM
 * but include/libioreq.h has no calls for them yet. These two wrappers use
 * libioreq's own request/reply call (libioreq/libioreq_priv.h); once
 * libioreq exports libioreq_list_servers/_ranges, delete this file.
 */
#include "ioreqctl_list.h"

#include "libioreq_priv.h"

int ioreqctl_list_servers(struct libioreq *x, struct ioreqvm_op_server_list *out)
{
	return libioreq_call(x, IOREQVM_OP_LIST_SERVERS, NULL, 0, out, sizeof(*out), NULL, 0);
}

int ioreqctl_list_ranges(struct libioreq *x, uint16_t id, struct ioreqvm_op_range_list *out)
{
	struct ioreqvm_op_server_id req = { .id = id };
	return libioreq_call(x, IOREQVM_OP_LIST_RANGES, &req, sizeof(req), out, sizeof(*out), NULL,
			     0);
}
