/* SPDX-License-Identifier: MIT */
/* Handing one guest access to an IOREQ server and waiting for its answer (I6, I7). */
#ifndef IOREQVM_IOREQ_SEND_H
#define IOREQVM_IOREQ_SEND_H

#include "core/iomap.h"
#include "ioreq/ioreq_server.h"

/*
 * Send @a to @s as an ioreq of @type at @addr (already encoded for the
 * type), posted through the buffered ring when @range_flags allow it (I7),
 * else synchronously through the vCPU's slot. Reads get the server's data;
 * if the server dies meanwhile, the default (I9). Returns IO_DONE, or
 * IO_STOP if the VM stopped while waiting.
 */
enum io_result ioreq_send(struct ioreq_server *s, struct vcpu *vcpu, uint8_t type,
			  uint64_t addr, struct io_access *a, uint32_t range_flags);

#endif
