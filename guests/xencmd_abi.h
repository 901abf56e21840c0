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
