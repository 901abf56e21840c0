/* SPDX-License-Identifier: MIT */
/*
 * A stand-in device model for check_dm_boundary.sh, compiled by that script
 * only (never by ninja). With REACH_INTO_VMM defined it includes a VMM
 * header, as no device model may: with the device models' include set that
 * must not compile. Without it, the same file must compile.
 */
#include <stdbool.h>
#include <stdint.h>

#include <libioreq.h>
#ifdef REACH_INTO_VMM
#include "core/vm.h"
#endif

void scratch_dm_handle(void *opaque, unsigned vcpu, struct ioreqvm_ioreq *req);

/* A libioreq_handler_fn that answers every read with all ones. */
void scratch_dm_handle(void *opaque, unsigned vcpu, struct ioreqvm_ioreq *req)
{
	if (req->dir == IOREQVM_IOREQ_READ)
		req->data = ~0ULL;
}

libioreq_handler_fn scratch_dm_handler = scratch_dm_handle;
