/* SPDX-License-Identifier: MIT */
/*
 * Dispatch of one trapped guest access (DESIGN M7, I8, I9). MMIO accesses
 * are resolved against the P2M first, never a cached view: RAM-typed pages
 * are served from guest memory (a vCPU can trap on a page whose mapping is
 * being replaced), writes to ram_ro are dropped; the rest goes to an in-VMM
 * server (I8) or in-VMM device by range, else to the default: reads all
 * ones, writes dropped, both counted, the first ones shown with -v.
 */
#include "core/io_dispatch.h"

#include <inttypes.h>
#include <string.h>

#include "core/log.h"
#include "core/vm.h"
#include "ioreq/ioreq_send.h"

#define UNBACKED_SHOWN_MAX 32

static const char *const space_name[IO_SPACE_COUNT] = {
	[IO_SPACE_PIO] = "port",
	[IO_SPACE_MMIO] = "mmio",
};

enum io_result io_unbacked(struct vcpu *vcpu, struct io_access *a)
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

/* I8 after the P2M: an enabled server's range, then in-VMM devices, then I9. */
static enum io_result io_devices(struct vcpu *vcpu, struct io_access *a)
{
	uint32_t kind = a->space == IO_SPACE_PIO ? IOREQVM_IO_RANGE_PORT : IOREQVM_IO_RANGE_MEMORY;
	uint32_t flags = 0;
	struct ioreq_server *s = ioreq_select(&vcpu->vm->servers, kind, a->addr, a->size, &flags);
	if (s) {
		uint8_t type = a->space == IO_SPACE_PIO ? IOREQVM_IOREQ_TYPE_PIO
							: IOREQVM_IOREQ_TYPE_COPY;
		enum io_result r = ioreq_send(s, vcpu, type, a->addr, a, flags);
		ioreq_server_put(s);
		return r;
	}
	const struct iomap_entry *e = iomap_find(&vcpu->vm->iomap[a->space], a->addr, a->size);
	if (e)
		return e->fn(e->opaque, vcpu, a);
	return io_unbacked(vcpu, a);
}

/* An access to a RAM-typed page that no claim takes: memory, as the type says. */
static enum io_result io_ram(struct vcpu *vcpu, struct io_access *a, uint32_t type)
{
	struct vm *vm = vcpu->vm;
	uint8_t *p = guest_ram_ptr(&vm->ram, a->addr, a->size);
	if (!p)
		return io_unbacked(vcpu, a);
	if (vm->ram_access_hook)
		vm->ram_access_hook(vm->ram_access_hook_ctx, vcpu, a, type);
	if (!a->is_write) {
		a->data = 0;
		memcpy(&a->data, p, a->size);
	} else if (type == IOREQVM_MEM_RAM_RO) {
		atomic_fetch_add(&vm->ro_writes_dropped, 1);
	} else {
		memcpy(p, &a->data, a->size);
	}
	return IO_DONE;
}

/*
 * I8's first step: a page of a claimed ioreq_server type goes to the owner
 * for the access kinds it claimed (C6: as IOREQ_TYPE_COPY, never posted,
 * and the VMM does not write the page itself). Any other access, or an
 * owner gone or disabled, behaves as ram_rw (M5, C5).
 */
static enum io_result io_claimed(struct vcpu *vcpu, struct io_access *a, uint32_t type)
{
	struct vm *vm = vcpu->vm;
	struct p2m_claim c = p2m_claim_peek(&vm->p2m, type);
	uint32_t kind = a->is_write ? IOREQVM_MEM_ACCESS_WRITE : IOREQVM_MEM_ACCESS_READ;
	if ((c.flags & kind) && c.enabled) {
		struct ioreq_server *s = ioreq_server_get(&vm->servers, (uint16_t)c.server);
		if (s) {
			enum io_result r = ioreq_send(s, vcpu, IOREQVM_IOREQ_TYPE_COPY, a->addr, a, 0);
			ioreq_server_put(s);
			return r;
		}
	}
	return io_ram(vcpu, a, type);
}

static enum io_result io_mmio(struct vcpu *vcpu, struct io_access *a)
{
	struct vm *vm = vcpu->vm;
	uint32_t type = p2m_lookup(&vm->p2m, a->addr);
	vcpu_count(&vcpu->nr_mmio_exits);
	switch (p2m_type_access(&vm->p2m, type)) {
	case MEM_ACCESS_RW:
		return io_ram(vcpu, a, type);
	case MEM_ACCESS_RO:
		if (!a->is_write || type == IOREQVM_MEM_RAM_RO)
			return io_ram(vcpu, a, type);
		break;
	case MEM_ACCESS_NONE:
		break;
	}
	if (type != IOREQVM_MEM_MMIO_DM)
		return io_claimed(vcpu, a, type);
	return io_devices(vcpu, a);
}

/* KVM and tcg hand over accesses inside one page; split any other. */
static enum io_result io_mmio_split(struct vcpu *vcpu, struct io_access *a)
{
	uint64_t room = GUEST_PAGE_SIZE - (a->addr & (GUEST_PAGE_SIZE - 1));
	if (a->size <= room)
		return io_mmio(vcpu, a);
	struct io_access lo = *a, hi = *a;
	lo.size = (uint8_t)room;
	hi.addr = a->addr + room;
	hi.size = (uint8_t)(a->size - room);
	hi.data = a->data >> (8 * room);
	if (io_mmio(vcpu, &lo) == IO_STOP || io_mmio(vcpu, &hi) == IO_STOP)
		return IO_STOP;
	if (!a->is_write) {
		uint64_t lo_mask = (1ULL << (8 * room)) - 1;
		a->data = (lo.data & lo_mask) | (hi.data << (8 * room));
	}
	return IO_DONE;
}

bool io_dispatch_post(struct vcpu *vcpu, struct io_access *a)
{
	struct vm *vm = vcpu->vm;
	if (!ioreq_may_post(a))
		return false;
	if (a->space == IO_SPACE_PIO)
		return ioreq_post(&vm->servers, IOREQVM_IO_RANGE_PORT, IOREQVM_IOREQ_TYPE_PIO, a);
	/* As io_mmio: only a page of no RAM or claimable type goes to a range. */
	uint64_t room = GUEST_PAGE_SIZE - (a->addr & (GUEST_PAGE_SIZE - 1));
	if (a->size > room || p2m_lookup(&vm->p2m, a->addr) != IOREQVM_MEM_MMIO_DM)
		return false;
	if (!ioreq_post(&vm->servers, IOREQVM_IO_RANGE_MEMORY, IOREQVM_IOREQ_TYPE_COPY, a))
		return false;
	vcpu_count(&vcpu->nr_mmio_exits);
	return true;
}

enum io_result io_dispatch(struct vcpu *vcpu, struct io_access *a)
{
	if (a->space == IO_SPACE_MMIO)
		return io_mmio_split(vcpu, a);
	return io_devices(vcpu, a);
}
