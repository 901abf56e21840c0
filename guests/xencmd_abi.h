/* SPDX-License-Identifier: MIT */
/*
 * What the xencmd guest and the Xen device model of tests/xen/xen_dm_model.c
 * agree on: a 64 KiB command buffer in guest RAM (16 pages, 64 KiB aligned
 * or anywhere: the model maps each page by frame number) whose frame the
 * guest writes to XENCMD_PORT (32 bits). The model maps the 16 frames with
 * xenforeignmemory_map for that request, works on the buffer in place and
 * releases the mapping; a read of the port gives that command's status.
 */
#ifndef XENCMD_ABI_H
#define XENCMD_ABI_H

#include <stdint.h>

#define XENCMD_PORT 0x550 /* the model maps its 4 bytes, 0x550-0x553 */
/*
 * More ports of the model (xen_dm_model --populate-port, --go-port,
 * --hang-port), 4 bytes each:
 *  - POPULATE: a 32-bit write of a frame number populates XENCMD_PAGES
 *    frames there (xc_domain_populate_physmap_exact); a read gives its status
 *    (0 or the errno);
 *  - DECREASE: the same with xc_domain_decrease_reservation_exact;
 *  - GO: a read is answered (1) once the host has written "1" to the
 *    xenstore key /local/domain/<domid>/ioreqvm-test/go (the model watches
 *    it), so the guest waits for the host's checks;
 *  - HANG: a read the model never answers (the test kills it meanwhile).
 */
#define XENCMD_POPULATE_PORT 0x554
#define XENCMD_DECREASE_PORT 0x558
#define XENCMD_GO_PORT 0x55c
#define XENCMD_HANG_PORT 0x560
/*
 * And (xen_dm_model --shutdown-port, --dirty-port, --irq-port, --claim-port):
 *  - SHUTDOWN: a 32-bit write of a Xen SHUTDOWN_* reason makes the model
 *    call xendevicemodel_shutdown with it; a read gives that call's status
 *    (0 or the errno; after a 0 the VM is ending and the read may not come
 *    back);
 *  - DIRTY: a 32-bit write of N calls xendevicemodel_track_dirty_vram over
 *    N frames from XENCMD_DIRTY_PFN (N <= 32; 0 stops tracking); a write of
 *    XENCMD_DIRTY_MODIFIED | k calls xendevicemodel_modified_memory on frame
 *    XENCMD_DIRTY_PFN + k; a write of XENCMD_DIRTY_SPLIT makes frame
 *    XENCMD_DIRTY_PFN + 40 (outside the range, in the same RAM) ram_ro and
 *    ram_rw again, so the mapping holding the range is split and joined
 *    (set_mem_type); a read of DIRTY gives the last bitmap (bit i:
 *    frame XENCMD_DIRTY_PFN + i), of DIRTY + 4 the last call's status;
 *  - IRQ: a 32-bit write of L sets ISA IRQ XENCMD_IRQ to level L
 *    (xendevicemodel_set_isa_irq_level); a read gives its status;
 *  - CLAIM: the model claims writes to HVMMEM_ioreq_server pages at start
 *    and gives frame XENCMD_CLAIM_PFN that type: a guest write there comes
 *    to the model, which stores the value plus XENCMD_CLAIM_ADD in the
 *    page itself (xenforeignmemory_map); a read of CLAIM gives how many
 *    writes it had; a 32-bit write of 0 releases the claim
 *    (map_mem_type_to_ioreq_server with flags 0), 1 claims again.
 */
#define XENCMD_SHUTDOWN_PORT 0x564
#define XENCMD_DIRTY_PORT 0x568 /* and 0x56c */
#define XENCMD_IRQ_PORT 0x570
#define XENCMD_CLAIM_PORT 0x574
#define XENCMD_DIRTY_PFN 0xC00u /* 12 MiB: RAM the guest's image and stacks never reach */
#define XENCMD_DIRTY_MODIFIED 0x80000000u
#define XENCMD_DIRTY_SPLIT 0x40000000u
#define XENCMD_IRQ 5
#define XENCMD_CLAIM_PFN 0xC40u /* 12.25 MiB */
#define XENCMD_CLAIM_ADD 0x1111
#define XENCMD_PAGES 16
#define XENCMD_BUF_SIZE (XENCMD_PAGES * 4096)
#define XENCMD_MAGIC 0x444d4358u /* "XCMD" */

/* At the start of the buffer; words to work on follow it. */
struct xencmd_header {
	uint32_t magic;    /* guest: XENCMD_MAGIC */
	uint32_t nr_words; /* guest: words to work on, at most XENCMD_MAX_WORDS */
	uint64_t seed;     /* guest */
	uint64_t done;     /* model: words worked on */
	uint64_t sum;      /* model: testdm_fold of the words as the guest left them, in order */
	uint64_t pad[4];
};
#define XENCMD_MAX_WORDS ((XENCMD_BUF_SIZE - sizeof(struct xencmd_header)) / 8)

/* Status, read back from XENCMD_PORT: 0, or the errno that stopped the command. */
#define XENCMD_OK 0
#define XENCMD_NOT_RAM 22   /* EINVAL: xenforeignmemory_map's error for a frame that is not RAM */
#define XENCMD_BAD_MAGIC 74 /* EBADMSG: no XENCMD_MAGIC, or too many words */
#define XENCMD_EXISTS 17    /* EEXIST: populating frames that have RAM */
#define XENCMD_NONE 0x4e4f4e45u /* "NONE": no command yet (all ones would be nobody's port) */

/* What the model makes of word @i. */
static inline uint64_t xencmd_work(uint64_t word, uint64_t i, uint64_t seed)
{
	return (word ^ seed) * 0x9E3779B97F4A7C15ULL + i;
}

#endif
