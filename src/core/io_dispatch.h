/* SPDX-License-Identifier: MIT */
/*
 * The exit path's one decision point (DESIGN M2, M7, C5, C6, I7, I8, I9):
 * every access a backend trapped comes here once, whole, and is cut at page
 * edges; each page's part is looked up in the P2M once, and that type says
 * where it goes: RAM (ram_ro drops writes), the owner of a claimed
 * ioreq_server type, or, for a page of no RAM type, an enabled IOREQ
 * server's range, an in-VMM device, else the default (reads all ones,
 * writes dropped, counted).
 */
#ifndef IOREQVM_IO_DISPATCH_H
#define IOREQVM_IO_DISPATCH_H

#include <stdbool.h>

#include "core/iomap.h"

struct vcpu;

/*
 * Where the backend hands the access over from (backend.h describes both):
 * IO_FROM_EXIT, its run returned it and the vCPU is out of guest mode
 * (kvm); IO_FROM_GUEST, a callback of its engine, inside guest mode (tcg,
 * K13). From guest mode, RAM and posted writes (I7) are served in place,
 * and the exit path leaves guest mode (K3) only around what may wait: a
 * request to a device model, an in-VMM device.
 */
enum io_from {
	IO_FROM_EXIT,
	IO_FROM_GUEST,
};

/*
 * Serve @a: reads get their data in a->data. Writes that reach RAM, or that
 * a device model completed on a claimed page, go through the backend's
 * code_changed (K8). IO_DONE, or IO_STOP if the VM stopped meanwhile.
 */
enum io_result io_dispatch(struct vcpu *vcpu, struct io_access *a, enum io_from from);

/* The default (I9): reads all ones, writes dropped, both counted. */
enum io_result io_unbacked(struct vcpu *vcpu, struct io_access *access);

#endif
