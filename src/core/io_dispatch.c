/* SPDX-License-Identifier: MIT */
/*
 * The exit path's decision for one trapped guest access (DESIGN M2, M7, C5,
 * C6, I7, I8, I9), whichever backend trapped it. MMIO is cut at page edges
 * (C7) and each part resolved against the P2M once, never a cached view: a
 * RAM-typed page is served from guest memory (a vCPU can trap on a page
 * whose mapping is being replaced), a write to ram_ro is dropped, a claimed
 * page goes to its owner for the kinds it claimed, and a page of no RAM type
 * (and every port) goes to an enabled IOREQ server's range, an in-VMM device,
 * else the default: reads all ones, writes dropped, both counted, the first
 * ones shown with -v.
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

/*
 * K3: what may wait (a device model's answer, an in-VMM device) runs with
 * the vCPU out of guest mode, so a change of mappings never waits for it.
 * A backend that serves from inside guest mode is taken out here and put
 * back after; if the VM stopped meanwhile, the access ends the run.
 */
static void wait_begin(struct vcpu *vcpu, enum io_from from)
{
	if (from == IO_FROM_GUEST)
		vm_vcpu_leave_guest(vcpu);
}

static enum io_result wait_end(struct vcpu *vcpu, enum io_from from, enum io_result r)
{
	if (from == IO_FROM_GUEST && !vm_vcpu_enter_guest(vcpu))
		return IO_STOP;
	return r;
}

/* K8: guest RAM [gpa, gpa + len) changed behind the vCPUs' translated code. */
static void code_changed(struct vcpu *vcpu, uint64_t gpa, uint64_t len)
{
	struct vm *vm = vcpu->vm;
	if (vm->ops->code_changed)
		vm->ops->code_changed(vm, vcpu, gpa, len);
}

/* I8 for a port, or a page of no RAM type: an enabled server's range, an in-VMM device, I9. */
static enum io_result io_devices(struct vcpu *vcpu, struct io_access *a, enum io_from from)
{
	bool pio = a->space == IO_SPACE_PIO;
	bool posted = false;
	struct ioreq_server *s = ioreq_route(&vcpu->vm->servers,
					     pio ? IOREQVM_IO_RANGE_PORT : IOREQVM_IO_RANGE_MEMORY,
					     pio ? IOREQVM_IOREQ_TYPE_PIO : IOREQVM_IOREQ_TYPE_COPY,
					     a, &posted);
	if (posted)
		return IO_DONE; /* I7: in place, even from guest mode */
	enum io_result r;
	wait_begin(vcpu, from);
	if (s) {
		r = ioreq_send(s, vcpu, pio ? IOREQVM_IOREQ_TYPE_PIO : IOREQVM_IOREQ_TYPE_COPY,
			       a->addr, a);
		ioreq_server_put(s);
	} else {
		const struct iomap_entry *e = iomap_find(&vcpu->vm->iomap[a->space], a->addr, a->size);
		r = e ? e->fn(e->opaque, vcpu, a) : io_unbacked(vcpu, a);
	}
	return wait_end(vcpu, from, r);
}

/* A RAM-typed page, or a claimed one for an access its claim does not take: memory. */
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
		atomic_fetch_add(&vm->ro_writes_dropped, 1); /* M2 */
	} else {
		memcpy(p, &a->data, a->size);
		code_changed(vcpu, a->addr, a->size);
		dirty_vram_note(&vm->dirty, a->addr, a->size); /* the backend's log never saw it */
	}
	return IO_DONE;
}

/*
 * C6: an access of a kind the owner claimed goes to it as IOREQ_TYPE_COPY,
 * never posted, and the VMM does not touch the page itself; the owner may
 * have written RAM when it completes a write (K8). Owner gone meanwhile:
 * ram_rw (M5, C5).
 */
static enum io_result io_claimed(struct vcpu *vcpu, struct io_access *a, uint32_t type,
				 uint16_t owner, enum io_from from)
{
	struct ioreq_server *s = ioreq_server_get(&vcpu->vm->servers, owner);
	if (!s)
		return io_ram(vcpu, a, type);
	wait_begin(vcpu, from);
	enum io_result r = ioreq_send(s, vcpu, IOREQVM_IOREQ_TYPE_COPY, a->addr, a);
	ioreq_server_put(s);
	r = wait_end(vcpu, from, r);
	if (a->is_write)
		code_changed(vcpu, a->addr, a->size);
	return r;
}

/* The part of an MMIO access inside one page: one P2M lookup decides (I8). */
static enum io_result io_page(struct vcpu *vcpu, struct io_access *a, enum io_from from)
{
	struct vm *vm = vcpu->vm;
	uint32_t type = p2m_lookup(&vm->p2m, a->addr);
	vcpu_count(&vcpu->nr_mmio_exits);
	if (type == IOREQVM_MEM_MMIO_DM)
		return io_devices(vcpu, a, from);
	if (ioreqvm_mem_type_is_ioreq(type)) {
		struct p2m_claim c = p2m_claim_peek(&vm->p2m, type);
		uint32_t kind = a->is_write ? IOREQVM_MEM_ACCESS_WRITE : IOREQVM_MEM_ACCESS_READ;
		if ((c.flags & kind) && c.enabled)
			return io_claimed(vcpu, a, type, (uint16_t)c.server, from);
	}
	return io_ram(vcpu, a, type);
}

enum io_result io_dispatch(struct vcpu *vcpu, struct io_access *a, enum io_from from)
{
	if (a->space == IO_SPACE_PIO)
		return io_devices(vcpu, a, from);
	uint64_t room = GUEST_PAGE_SIZE - (a->addr & (GUEST_PAGE_SIZE - 1));
	if (a->size <= room)
		return io_page(vcpu, a, from);
	/* C7: each page's part on its own, as KVM cuts an MMIO exit. */
	struct io_access lo = *a, hi = *a;
	lo.size = (uint8_t)room;
	lo.data = a->data & ((1ULL << (8 * room)) - 1);
	hi.addr = a->addr + room;
	hi.size = (uint8_t)(a->size - room);
	hi.data = a->data >> (8 * room);
	if (io_page(vcpu, &lo, from) == IO_STOP || io_page(vcpu, &hi, from) == IO_STOP)
		return IO_STOP;
	if (!a->is_write) {
		uint64_t lo_mask = (1ULL << (8 * room)) - 1;
		a->data = (lo.data & lo_mask) | (hi.data << (8 * room));
	}
	return IO_DONE;
}
