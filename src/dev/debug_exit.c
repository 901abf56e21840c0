/* SPDX-License-Identifier: MIT */
/*
 * The exit port at 0xf4 with QEMU's isa-debug-exit convention: a write of V
 * (any size up to 4 bytes) ends the VM with status (V << 1) | 1. Reads
 * return all ones, as an unbacked port would.
 */
#include <errno.h>
#include <inttypes.h>

#include "core/exit_status.h"
#include "core/log.h"
#include "core/vm.h"
#include "dev/device.h"

#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_LEN 4

static enum io_result debug_exit_io(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	if (!a->is_write) {
		a->data = ~0ULL;
		return IO_DONE;
	}
	uint64_t v = a->data & (a->size >= 8 ? ~0ULL : ((1ULL << (a->size * 8)) - 1));
	log_info("vCPU %u: debug exit, value 0x%" PRIx64 " -> status %d", vcpu->id, v,
		 vm_exit_status_debug(v));
	vm_stop(vcpu->vm, vm_exit_status_debug(v));
	return IO_STOP;
}

static int debug_exit_create(struct vm *vm, void **state)
{
	*state = NULL;
	return iomap_add(&vm->iomap[IO_SPACE_PIO], DEBUG_EXIT_PORT, DEBUG_EXIT_LEN,
			 debug_exit_io, NULL, "debug-exit");
}

const struct device_desc debug_exit_device = {
	.name = "debug-exit",
	.create = debug_exit_create,
};
