/* SPDX-License-Identifier: MIT */
/* Handing one guest access to an IOREQ server and waiting for its answer (I6, I7). */
#ifndef IOREQVM_IOREQ_SEND_H
#define IOREQVM_IOREQ_SEND_H

#include "core/iomap.h"
#include "ioreq/ioreq_server.h"

/*
 * A backend whose vCPUs take turns (tcg, K7) gets the turn passed on
 * (vcpu_block) only after the vCPU waited this long for the answer: about
 * two wake-ups here (the model's and ours, DESIGN section 7). Passing it at
 * once cost a wake-up of the next vCPU, by which time the model had
 * stopped spinning, so that vCPU's request woke the model and passed the
 * turn again: 2 vCPUs writing to one model fell into ~35 us per write (4
 * futex calls each) in half the runs, against 0.4 us.
 */
#define IOREQ_TURN_HOLD_NS 200000L

/*
 * Send @a to @s as an ioreq of @type at @addr (already encoded for the
 * type), posted through the buffered ring when @range_flags allow it (I7),
 * else synchronously through the vCPU's slot. Reads get the server's data;
 * if the server dies meanwhile, the default (I9). Returns IO_DONE, or
 * IO_STOP if the VM stopped while waiting.
 */
enum io_result ioreq_send(struct ioreq_server *s, struct vcpu *vcpu, uint8_t type,
			  uint64_t addr, struct io_access *a, uint32_t range_flags);

/* I7's limits that need no lookup: a write of at most 8 bytes, below 1 MiB (the slot's 20 bits). */
static inline bool ioreq_may_post(const struct io_access *a)
{
	return a->is_write && a->size <= 8 && a->addr < (1u << 20);
}

/*
 * I7 without waiting: post the write @a as @type (PIO or COPY: the address
 * is the access's) if the enabled server whose @kind range holds it takes it buffered and its
 * ring has room. Never sleeps and takes no reference, so a backend can call
 * it without leaving guest mode; false: nothing done, use ioreq_send.
 */
bool ioreq_post(struct ioreq_servers *ss, uint32_t kind, uint8_t type,
		const struct io_access *a);

#endif
