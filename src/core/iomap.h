/* SPDX-License-Identifier: MIT */
/*
 * Range map of one I/O space (ports or guest-physical MMIO) to in-VMM
 * handlers: a rangeset (ordered, overlap-free, binary search). Built while
 * the VM is set up and read-only once vCPUs run; IOREQ-server ranges are kept
 * by the servers themselves, not here.
 */
#ifndef IOREQVM_IOMAP_H
#define IOREQVM_IOMAP_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/backend.h"
#include "util/rangeset.h"

enum io_result {
	IO_DONE = 0, /* access completed; the vCPU continues */
	IO_STOP = 1, /* the handler stopped the VM (vm_stop already called) */
};

typedef enum io_result (*io_handler_fn)(void *opaque, struct vcpu *vcpu,
					struct io_access *access);

/* A range's handler. */
struct iomap_entry {
	io_handler_fn fn;
	void *opaque;
	const char *name;
};

/* All zero is an empty map. */
struct iomap {
	struct rangeset ranges; /* val.p: its struct iomap_entry */
};

/* Add [start, start + len). 0, -EINVAL (len 0 or wraps), -EEXIST (overlap), -ENOMEM. */
int iomap_add(struct iomap *map, uint64_t start, uint64_t len, io_handler_fn fn,
	      void *opaque, const char *name);
/* The entry that contains the whole of [addr, addr + len), or NULL. */
const struct iomap_entry *iomap_find(const struct iomap *map, uint64_t addr, uint64_t len);
void iomap_free(struct iomap *map);

#endif
