/* SPDX-License-Identifier: MIT */
/*
 * Guest memory types and claim flags, as on the wire and in libioreq.
 * Values 0-4 are Xen's hvmmem_type_t (<xen/hvm/hvm_op.h>, current interface
 * version); 5-11 are ioreqvm's additional independent ioreq_server types
 * (DESIGN M6). Access flags are Xen's XEN_DMOP_IOREQ_MEM_ACCESS_*. Stable ABI.
 */
#ifndef IOREQVM_MEMTYPE_H
#define IOREQVM_MEMTYPE_H

enum ioreqvm_mem_type {
	IOREQVM_MEM_RAM_RW = 0,        /* HVMMEM_ram_rw: ordinary RAM */
	IOREQVM_MEM_RAM_RO = 1,        /* HVMMEM_ram_ro: writes discarded */
	IOREQVM_MEM_MMIO_DM = 2,       /* HVMMEM_mmio_dm: no RAM, device model */
	IOREQVM_MEM_UNUSED = 3,        /* HVMMEM_unused: never settable */
	IOREQVM_MEM_IOREQ_SERVER = 4,  /* HVMMEM_ioreq_server: Xen's one type */
	/* ioreqvm's ioreq_server1 .. ioreq_server7, each claimable apart */
	IOREQVM_MEM_IOREQ_SERVER1 = 5,
	IOREQVM_MEM_IOREQ_SERVER2 = 6,
	IOREQVM_MEM_IOREQ_SERVER3 = 7,
	IOREQVM_MEM_IOREQ_SERVER4 = 8,
	IOREQVM_MEM_IOREQ_SERVER5 = 9,
	IOREQVM_MEM_IOREQ_SERVER6 = 10,
	IOREQVM_MEM_IOREQ_SERVER7 = 11,
	IOREQVM_MEM_NR_TYPES = 12,
};

#define IOREQVM_MEM_NR_IOREQ_TYPES 8 /* types 4 .. 11 */

/* Claim flags of map_mem_type_to_ioreq_server; 0 releases. */
#define IOREQVM_MEM_ACCESS_READ (1u << 0)
#define IOREQVM_MEM_ACCESS_WRITE (1u << 1)

static inline int ioreqvm_mem_type_is_ioreq(unsigned t)
{
	return t >= IOREQVM_MEM_IOREQ_SERVER && t <= IOREQVM_MEM_IOREQ_SERVER7;
}

#endif
