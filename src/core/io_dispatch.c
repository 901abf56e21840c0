/* SPDX-License-Identifier: MIT */
/*
 * Dispatch of one guest access: in-VMM device by range, else the default
 * (I9). Unbacked accesses are counted per space and, with -v, the first
 * ones are shown so a user sees what the guest probed.
 */
#include "core/io_dispatch.h"

#include <inttypes.h>

#include "core/log.h"
#include "core/vm.h"

#define UNBACKED_SHOWN_MAX 32

static const char *const space_name[IO_SPACE_COUNT] = {
	[IO_SPACE_PIO] = "port",
	[IO_SPACE_MMIO] = "mmio",
};

static enum io_result io_default(struct vcpu *vcpu, struct io_access *a)
{
	struct vm *vm = vcpu->vm;
	uint64_t n;
	if (a->is_write) {
		n = atomic_fetch_add(&vm->unbacked_writes[a->space], 1);
	} else {
		n = atomic_fetch_add(&vm->unbacked_reads[a->space], 1);
		a->data = ~0ULL;
	}
	if (n < UNBACKED_SHOWN_MAX)
		log_info("vCPU %u: unbacked %s %s 0x%" PRIx64 " size %u%s", vcpu->id,
			 space_name[a->space], a->is_write ? "write to" : "read of", a->addr,
			 a->size, n + 1 == UNBACKED_SHOWN_MAX ? " (further ones counted, not shown)" : "");
	return IO_DONE;
}

enum io_result io_dispatch(struct vcpu *vcpu, struct io_access *a)
{
	const struct iomap_entry *e = iomap_find(&vcpu->vm->iomap[a->space], a->addr, a->size);
	if (e)
		return e->fn(e->opaque, vcpu, a);
	return io_default(vcpu, a);
}
