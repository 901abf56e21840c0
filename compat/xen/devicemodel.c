/* SPDX-License-Identifier: MIT */
/*
 * libxendevicemodel.so.1 for ioreqvm (DESIGN X1): Xen's <xendevicemodel.h>
 * over libioreq, on the process's one connection (ioreqvm_xen.h: where it
 * comes from, the domid, thread safety). Symbol versions as Debian 12's
 * (libxendevicemodel.map). Errors as Xen's library: -1 and errno, which is
 * libioreq's negative errno turned positive; ESRCH for a domid other than
 * the VM's, EPERM for one the handle was not restricted to.
 *
 * Implemented: open, close, nr_vcpus, create/destroy_ioreq_server,
 * get_ioreq_server_info (gfns NULL; see below; bufioreq_port is the ring's
 * fixed event-channel port, X2, for libxenevtchn), set_ioreq_server_state,
 * map/unmap_io_range_to/from_ioreq_server, map/unmap_pcidev_to/from_ioreq_server,
 * set_isa_irq_level, set_pci_intx_level, inject_msi, set_mem_type,
 * map_mem_type_to_ioreq_server (flags 0 releases the claim), modified_memory,
 * modified_memory_bulk, restrict, shutdown (below), track_dirty_vram.
 *
 * track_dirty_vram, over the VMM's TRACK_DIRTY_VRAM (ctl_proto.h): as Xen's,
 * every frame dirty on the first call for a range, then exactly the frames
 * the guest wrote since the call before (KVM's dirty log on kvm, write
 * protection on tcg) and those a model reported with modified_memory; nr 0
 * stops. A model's own writes through its mappings are not seen unless it
 * reports them (as in Xen). At most IOREQVM_DIRTY_MAX_PAGES frames (128
 * MiB; Xen allows 1 GiB): EINVAL past that. The bitmap is written for its
 * (nr + 7) / 8 bytes only, the size Xen's library hands the hypervisor.
 *
 * shutdown(reason), over the VMM's REMOTE_SHUTDOWN: Xen's SHUTDOWN_poweroff
 * ends the VM as an ACPI power-off (ioreqvm exits 0), SHUTDOWN_reboot as a
 * guest's reset request (10: ioreqvm does not restart guests). Xen's other
 * reasons of <xen/sched.h> fail with EOPNOTSUPP and the VM runs on:
 * suspend and soft_reset need a toolstack that saves or rebuilds the
 * domain, crash and watchdog mean what a toolstack's on_crash/on_watchdog
 * setting says, and ioreqvm has neither; a reason past SHUTDOWN_MAX:
 * EINVAL (Xen's hypervisor would take any number).
 *
 * -1 and ENOSYS, never pretending to work:
 *  - get_ioreq_server_info with ioreq_gfn/bufioreq_gfn non-NULL (Xen's
 *    legacy pages in the guest's physmap: ioreqvm never puts the slots in
 *    guest memory; models map them with xenforeignmemory_map_resource);
 *  - set_irq_level: an Arm GSI op (x86 Xen refuses it too);
 *  - set_pci_link_route: ioreqvm routes PCI INTx itself, no PCI link devices;
 *  - inject_event: no op injects an exception or interrupt into a vCPU;
 *  - relocate_memory: no op moves guest frames;
 *  - pin_memory_cacheattr: ioreqvm keeps no per-range cache attributes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <xendevicemodel.h>
#include <xen/sched.h>

#include "ioreqvm_xen.h"

struct xendevicemodel_handle {
	domid_t restricted; /* DOMID_INVALID until xendevicemodel_restrict */
};

/* Take the connection for an op on @domid: 0 with the lock held, or -errno. */
static int dm_begin(xendevicemodel_handle *dmod, domid_t domid, struct libioreq **x)
{
	if (!dmod)
		return -EBADF;
	int rc = ioreqvm_xen_lock(x);
	if (rc)
		return rc;
	if (dmod->restricted != DOMID_INVALID && domid != dmod->restricted)
		rc = -EPERM;
	else if (domid != ioreqvm_xen_domid())
		rc = -ESRCH;
	if (rc) {
		ioreqvm_xen_set_error(rc == -EPERM ? "the handle is restricted to another domain"
						   : "no such domain: this VM answers to another domid");
		ioreqvm_xen_unlock();
	}
	return rc;
}

/* Leave the connection: note libioreq's reason for a failure, then unlock. */
static int dm_end(struct libioreq *x, int rc)
{
	if (rc < 0)
		ioreqvm_xen_set_error(libioreq_error(x));
	ioreqvm_xen_unlock();
	return rc;
}

/* Xen's convention: 0, or -1 and errno. */
static int xen_ret(int rc)
{
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

static int unsupported(void)
{
	ioreqvm_xen_set_error("not supported by ioreqvm (see libxendevicemodel's notes)");
	errno = ENOSYS;
	return -1;
}

xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger,
					   unsigned int open_flags)
{
	int rc = ioreqvm_xen_connect();
	if (rc) {
		errno = -rc;
		return NULL;
	}
	xendevicemodel_handle *dmod = calloc(1, sizeof(*dmod));
	if (!dmod)
		return NULL;
	dmod->restricted = DOMID_INVALID;
	return dmod;
}

int xendevicemodel_close(xendevicemodel_handle *dmod)
{
	free(dmod); /* the connection stays: the servers it made outlive the handle, as Xen's */
	return 0;
}

int xendevicemodel_restrict(xendevicemodel_handle *dmod, domid_t domid)
{
	if (!dmod)
		return xen_ret(-EBADF);
	/* As Linux's privcmd: once restricted, only to the same domain again. */
	if (dmod->restricted != DOMID_INVALID && dmod->restricted != domid)
		return xen_ret(-EINVAL);
	dmod->restricted = domid;
	return 0;
}

int xendevicemodel_nr_vcpus(xendevicemodel_handle *dmod, domid_t domid, unsigned int *vcpus)
{
	struct libioreq *x;
	struct ioreqvm_op_vm_info info;
	int rc = dm_begin(dmod, domid, &x);
	if (rc)
		return xen_ret(rc);
	rc = dm_end(x, libioreq_vm_info(x, &info));
	if (!rc)
		*vcpus = info.nr_vcpus;
	return xen_ret(rc);
}

int xendevicemodel_create_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
				       int handle_bufioreq, ioservid_t *id)
{
	struct libioreq *x;
	if (handle_bufioreq < HVM_IOREQSRV_BUFIOREQ_OFF || handle_bufioreq > HVM_IOREQSRV_BUFIOREQ_ATOMIC)
		return xen_ret(-EINVAL);
	int rc = dm_begin(dmod, domid, &x);
	if (rc)
		return xen_ret(rc);
	uint16_t sid;
	rc = dm_end(x, libioreq_create_ioreq_server(x, handle_bufioreq != HVM_IOREQSRV_BUFIOREQ_OFF, &sid));
	if (!rc)
		*id = sid;
	return xen_ret(rc);
}

int xendevicemodel_get_ioreq_server_info(xendevicemodel_handle *dmod, domid_t domid, ioservid_t id,
					 xen_pfn_t *ioreq_gfn, xen_pfn_t *bufioreq_gfn,
					 evtchn_port_t *bufioreq_port)
{
	struct libioreq *x;
	int rc = dm_begin(dmod, domid, &x);
	if (rc)
		return xen_ret(rc);
	bool bufioreq = false;
	rc = ioreqvm_xen_server_check(x, id, &bufioreq);
	ioreqvm_xen_unlock();
	if (rc)
		return xen_ret(rc);
	if (ioreq_gfn || bufioreq_gfn)
		return unsupported(); /* legacy gfn pages: see the notes at the top */
	/* X2: the ring's fixed event-channel port; without a ring, 0 as Xen says. */
	if (bufioreq_port)
		*bufioreq_port = bufioreq ? IOREQVM_BUF_EVTCHN(id) : 0;
	return 0;
}

int xendevicemodel_set_ioreq_server_state(xendevicemodel_handle *dmod, domid_t domid,
					  ioservid_t id, int enabled)
{
	struct libioreq *x;
	int rc = dm_begin(dmod, domid, &x);
	if (!rc)
		rc = dm_end(x, libioreq_set_ioreq_server_state(x, id, enabled != 0));
	return xen_ret(rc);
}

int xendevicemodel_destroy_ioreq_server(xendevicemodel_handle *dmod, domid_t domid, ioservid_t id)
{
	struct libioreq *x;
	int rc = dm_begin(dmod, domid, &x);
	if (!rc)
		rc = dm_end(x, libioreq_destroy_ioreq_server(x, id));
	if (!rc)
		ioreqvm_xen_server_forget(id); /* its shared memory, as the other libraries saw it */
	return xen_ret(rc);
}

int xendevicemodel_map_io_range_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						ioservid_t id, int is_mmio, uint64_t start,
						uint64_t end)
{
	struct libioreq *x;
	uint32_t type = is_mmio ? IOREQVM_IO_RANGE_MEMORY : IOREQVM_IO_RANGE_PORT;
	int rc = dm_begin(dmod, domid, &x);
	if (!rc)
		rc = dm_end(x, libioreq_map_io_range_to_ioreq_server(x, id, type, start, end, 0));
	return xen_ret(rc);
}

int xendevicemodel_unmap_io_range_from_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						    ioservid_t id, int is_mmio, uint64_t start,
						    uint64_t end)
{
	struct libioreq *x;
	uint32_t type = is_mmio ? IOREQVM_IO_RANGE_MEMORY : IOREQVM_IO_RANGE_PORT;
	int rc = dm_begin(dmod, domid, &x);
	if (!rc)
		rc = dm_end(x, libioreq_unmap_io_range_from_ioreq_server(x, id, type, start, end));
	return xen_ret(rc);
}

/* Xen's library checks the device and function numbers the same way. */
static bool pcidev_valid(uint8_t device, uint8_t function)
{
	return device <= 0x1f && function <= 0x7;
}

int xendevicemodel_map_pcidev_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
					      ioservid_t id, uint16_t segment, uint8_t bus,
					      uint8_t device, uint8_t function)
{
	struct libioreq *x;
	if (!pcidev_valid(device, function))
		return xen_ret(-EINVAL);
	uint64_t sbdf = IOREQVM_PCI_SBDF(segment, bus, device, function);
	int rc = dm_begin(dmod, domid, &x);
	if (!rc)
		rc = dm_end(x, libioreq_map_io_range_to_ioreq_server(x, id, IOREQVM_IO_RANGE_PCI,
								     sbdf, sbdf, 0));
	return xen_ret(rc);
}

int xendevicemodel_unmap_pcidev_from_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						  ioservid_t id, uint16_t segment, uint8_t bus,
						  uint8_t device, uint8_t function)
{
	struct libioreq *x;
	if (!pcidev_valid(device, function))
		return xen_ret(-EINVAL);
	uint64_t sbdf = IOREQVM_PCI_SBDF(segment, bus, device, function);
	int rc = dm_begin(dmod, domid, &x);
	if (!rc)
		rc = dm_end(x, libioreq_unmap_io_range_from_ioreq_server(x, id, IOREQVM_IO_RANGE_PCI,
									 sbdf, sbdf));
	return xen_ret(rc);
}

int xendevicemodel_map_mem_type_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
						ioservid_t id, uint16_t type, uint32_t flags)
{
	struct libioreq *x;
	int rc = dm_begin(dmod, domid, &x);
	if (!rc)
		rc = dm_end(x, libioreq_map_mem_type_to_ioreq_server(x, id, type, flags));
	return xen_ret(rc);
}

int xendevicemodel_set_pci_intx_level(xendevicemodel_handle *dmod, domid_t domid,
				      uint16_t segment, uint8_t bus, uint8_t device, uint8_t intx,
				      unsigned int level)
{
	struct libioreq *x;
	int rc = dm_begin(dmod, domid, &x);
	/* Xen's op carries the level in a byte, as libioreq's. */
	if (!rc)
		rc = dm_end(x, libioreq_set_pci_intx_level(x, segment, bus, device, intx,
							   (uint8_t)level));
	return xen_ret(rc);
}

int xendevicemodel_set_isa_irq_level(xendevicemodel_handle *dmod, domid_t domid, uint8_t irq,
				     unsigned int level)
{
	struct libioreq *x;
	int rc = dm_begin(dmod, domid, &x);
	if (!rc)
		rc = dm_end(x, libioreq_set_isa_irq_level(x, irq, (uint8_t)level));
	return xen_ret(rc);
}

int xendevicemodel_inject_msi(xendevicemodel_handle *dmod, domid_t domid, uint64_t msi_addr,
			      uint32_t msi_data)
{
	struct libioreq *x;
	int rc = dm_begin(dmod, domid, &x);
	if (!rc)
		rc = dm_end(x, libioreq_inject_msi(x, msi_addr, msi_data));
	return xen_ret(rc);
}

int xendevicemodel_set_mem_type(xendevicemodel_handle *dmod, domid_t domid,
				hvmmem_type_t mem_type, uint64_t first_pfn, uint32_t nr)
{
	struct libioreq *x;
	/* hvmmem_type_t values are ioreqvm's memory types (include/ioreqvm/memtype.h). */
	if ((unsigned)mem_type > UINT16_MAX)
		return xen_ret(-EINVAL);
	int rc = dm_begin(dmod, domid, &x);
	if (!rc)
		rc = dm_end(x, libioreq_set_mem_type(x, (uint16_t)mem_type, first_pfn, nr));
	return xen_ret(rc);
}

int xendevicemodel_modified_memory(xendevicemodel_handle *dmod, domid_t domid,
				   uint64_t first_pfn, uint32_t nr)
{
	struct libioreq *x;
	int rc = dm_begin(dmod, domid, &x);
	if (!rc)
		rc = dm_end(x, libioreq_modified_memory(x, first_pfn, nr));
	return xen_ret(rc);
}

int xendevicemodel_modified_memory_bulk(xendevicemodel_handle *dmod, domid_t domid,
					struct xen_dm_op_modified_memory_extent extents[],
					uint32_t nr)
{
	struct libioreq *x;
	if (nr && !extents)
		return xen_ret(-EFAULT);
	/* Xen refuses an extent with its pad field set before touching any. */
	for (uint32_t i = 0; i < nr; i++)
		if (extents[i].pad)
			return xen_ret(-EINVAL);
	int rc = dm_begin(dmod, domid, &x);
	if (rc)
		return xen_ret(rc);
	for (uint32_t i = 0; i < nr && !rc; i++)
		rc = libioreq_modified_memory(x, extents[i].first_pfn, extents[i].nr);
	return xen_ret(dm_end(x, rc));
}

int xendevicemodel_shutdown(xendevicemodel_handle *dmod, domid_t domid, unsigned int reason)
{
	struct libioreq *x;
	uint32_t how;
	switch (reason) {
	case SHUTDOWN_poweroff:
		how = IOREQVM_SHUTDOWN_POWEROFF;
		break;
	case SHUTDOWN_reboot:
		how = IOREQVM_SHUTDOWN_REBOOT;
		break;
	default:
		ioreqvm_xen_set_error(reason <= SHUTDOWN_MAX ? "ioreqvm powers off or resets the VM only"
							     : "no such shutdown reason");
		return xen_ret(reason <= SHUTDOWN_MAX ? -EOPNOTSUPP : -EINVAL);
	}
	int rc = dm_begin(dmod, domid, &x);
	if (!rc)
		rc = dm_end(x, libioreq_shutdown(x, how));
	return xen_ret(rc);
}

int xendevicemodel_track_dirty_vram(xendevicemodel_handle *dmod, domid_t domid,
				    uint64_t first_pfn, uint32_t nr, unsigned long *dirty_bitmap)
{
	struct libioreq *x;
	if (nr > IOREQVM_DIRTY_MAX_PAGES)
		return xen_ret(-EINVAL);
	if (nr && !dirty_bitmap)
		return xen_ret(-EFAULT);
	uint64_t *words = nr ? malloc((nr + 63) / 64 * 8) : NULL;
	if (nr && !words)
		return xen_ret(-ENOMEM);
	int rc = dm_begin(dmod, domid, &x);
	if (!rc)
		rc = dm_end(x, libioreq_track_dirty_vram(x, first_pfn, nr, words));
	if (!rc && nr)
		memcpy(dirty_bitmap, words, (nr + 7) / 8); /* little-endian: byte k is bits 8k..8k+7 */
	free(words);
	return xen_ret(rc);
}

/* ---- not supported: -1 and ENOSYS (the notes at the top say why) ------- */



int xendevicemodel_set_irq_level(xendevicemodel_handle *dmod, domid_t domid, unsigned int irq,
				 unsigned int level)
{
	return unsupported();
}

int xendevicemodel_set_pci_link_route(xendevicemodel_handle *dmod, domid_t domid, uint8_t link,
				      uint8_t irq)
{
	return unsupported();
}

int xendevicemodel_inject_event(xendevicemodel_handle *dmod, domid_t domid, int vcpu,
				uint8_t vector, uint8_t type, uint32_t error_code,
				uint8_t insn_len, uint64_t extra)
{
	return unsupported();
}

int xendevicemodel_relocate_memory(xendevicemodel_handle *dmod, domid_t domid, uint32_t size,
				   uint64_t src_gfn, uint64_t dst_gfn)
{
	return unsupported();
}

int xendevicemodel_pin_memory_cacheattr(xendevicemodel_handle *dmod, domid_t domid,
					uint64_t start, uint64_t end, uint32_t type)
{
	return unsupported();
}
