/* SPDX-License-Identifier: MIT */
/*
 * Where a trapped guest access goes (DESIGN I8/I9). Today: an in-VMM device
 * whose range holds the whole access, else the default (reads all ones,
 * writes dropped, both counted). IOREQ servers and the P2M slot in here,
 * ahead of the in-VMM devices, without changing any caller.
 */
#ifndef IOREQVM_IO_DISPATCH_H
#define IOREQVM_IO_DISPATCH_H

#include "core/iomap.h"

struct vcpu;

enum io_result io_dispatch(struct vcpu *vcpu, struct io_access *access);

#endif
