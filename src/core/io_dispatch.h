/* SPDX-License-Identifier: MIT */
/*
 * Where a trapped guest access goes (DESIGN M7, I8, I9): the P2M for MMIO,
 * then an enabled IOREQ server whose range holds the whole access, then an
 * in-VMM device, else the default (reads all ones, writes dropped, counted).
 */
#ifndef IOREQVM_IO_DISPATCH_H
#define IOREQVM_IO_DISPATCH_H

#include <stdbool.h>

#include "core/iomap.h"

struct vcpu;

enum io_result io_dispatch(struct vcpu *vcpu, struct io_access *access);
/*
 * The part of io_dispatch that never waits: a write that an IOREQ server's
 * buffered range takes (I7), posted. true: done; false: nothing done, call
 * io_dispatch. A backend that serves accesses inside guest mode (tcg) calls
 * it before it leaves guest mode for io_dispatch, and so spares a posted
 * write the two barriers of leaving and entering.
 */
bool io_dispatch_post(struct vcpu *vcpu, struct io_access *access);

/* The default (I9): reads all ones, writes dropped, both counted. */
enum io_result io_unbacked(struct vcpu *vcpu, struct io_access *access);

#endif
