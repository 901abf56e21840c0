/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration mechanism #1: the address latch at 0xcf8 lives in the
 * VMM (as in Xen); data accesses at 0xcfc-0xcff go to the IOREQ server
 * whose PCI range holds the latched device, as IOREQ_TYPE_PCI_CONFIG with
 * Xen's encoding addr = (SBDF << 32) | register. No server: no device
 * there, so reads return all ones (I9) and writes are dropped, except at
 * 00:00.0, where the VMM's own host bridge answers (pci_host.c). A byte at
 * 0xcf9 is the reset control register (bit 2 asks for a reset: Linux writes
 * 0x02, then 0x06), platform/layout.h's PLAT_RESET_PORT.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/io_dispatch.h"
#include "core/vm.h"
#include "dev/device.h"
#include "dev/pci_host.h"
#include "ioreq/ioreq_send.h"
#include "platform/layout.h"

#define CF8_PORT 0xcf8
#define CFC_PORT 0xcfc
#define CF8_ENABLE 0x80000000u
#define RST_CNT_RESET (1u << 2)

struct pci_cf8 {
	_Atomic uint32_t latch;
};

static enum io_result cf8_io(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	struct pci_cf8 *p = opaque;
	if (a->addr == PLAT_RESET_PORT && a->size == 1) {
		if (!a->is_write) {
			a->data = 0;
		} else if (a->data & RST_CNT_RESET) {
			return vm_reset_requested(vcpu);
		}
		return IO_DONE;
	}
	if (a->size != 4 || a->addr != CF8_PORT) /* only dwords address the latch */
		return io_unbacked(vcpu, a);
	if (a->is_write)
		atomic_store(&p->latch, (uint32_t)a->data);
	else
		a->data = atomic_load(&p->latch);
	return IO_DONE;
}

static enum io_result cfc_io(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	struct pci_cf8 *p = opaque;
	uint32_t latch = atomic_load(&p->latch);
	unsigned off = (unsigned)(a->addr - CFC_PORT);
	if (!(latch & CF8_ENABLE) || off + a->size > 4)
		return io_unbacked(vcpu, a);
	uint32_t sbdf = (latch >> 8) & 0xffff; /* segment 0, bus, device, function */
	uint64_t reg = (latch & 0xfc) | off;
	uint32_t flags = 0;
	struct ioreq_server *s = ioreq_select(&vcpu->vm->servers, IOREQVM_IO_RANGE_PCI, sbdf, 1,
					      &flags);
	if (!s && sbdf == PCI_HOST_SBDF) {
		if (!a->is_write)
			a->data = pci_host_config_read((unsigned)reg, a->size);
		return IO_DONE; /* read-only */
	}
	if (!s)
		return io_unbacked(vcpu, a);
	enum io_result r = ioreq_send(s, vcpu, IOREQVM_IOREQ_TYPE_PCI_CONFIG,
				      ((uint64_t)sbdf << 32) | reg, a);
	ioreq_server_put(s);
	return r;
}

static int pci_cf8_create(struct vm *vm, void **state)
{
	struct pci_cf8 *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*state = p;
	int rc = iomap_add(&vm->iomap[IO_SPACE_PIO], CF8_PORT, 4, cf8_io, p, "pci-cf8");
	if (!rc)
		rc = iomap_add(&vm->iomap[IO_SPACE_PIO], CFC_PORT, 4, cfc_io, p, "pci-cfc");
	return rc;
}

const struct device_desc pci_cf8_device = {
	.name = "pci-cf8",
	.create = pci_cf8_create,
	.destroy = free,
};
