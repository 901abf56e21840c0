/* SPDX-License-Identifier: MIT */
/* Handing one guest access to an IOREQ server: posted (I7), or waiting for its answer (I6). */
#ifndef IOREQVM_IOREQ_SEND_H
#define IOREQVM_IOREQ_SEND_H

#include "core/iomap.h"
#include "ioreq/ioreq_server.h"

/*
 * I8's range step and I7 in one lookup, for an access of range @kind sent
 * as @type (PIO or COPY: the address is the access's): the enabled server
 * whose range holds the whole access. A write its range takes buffered
 * goes into the ring if it has room (*posted set, NULL returned: done,
 * nothing waited for and no reference taken, so a backend may call this
 * inside guest mode). Otherwise the server with a reference for
 * ioreq_send and ioreq_server_put, or NULL if no range holds it.
 */
struct ioreq_server *ioreq_route(struct ioreq_servers *ss, uint32_t kind, uint8_t type,
				 const struct io_access *a, bool *posted);

/*
 * Send @a to @s as a synchronous ioreq of @type at @addr (already encoded
 * for the type) through the vCPU's slot (I6) and wait for the answer,
 * telling the backend while it sleeps (vcpu_block, K13). Reads get the
 * server's data; if the server dies meanwhile, the default (I9). The
 * default too, at once and counted as defaulted, if the slot's vp_eport is
 * not the vCPU's event-channel port (X2: the model changed it; Xen refuses
 * to send then). Returns IO_DONE, or IO_STOP if the VM stopped while waiting.
 */
enum io_result ioreq_send(struct ioreq_server *s, struct vcpu *vcpu, uint8_t type,
			  uint64_t addr, struct io_access *a);

#endif
