/* SPDX-License-Identifier: MIT */
/*
 * What the p2m guest and its host-side test (tests/func/test_p2m_guest.c)
 * agree on: fixed guest-physical addresses and the mailbox layout. Both
 * sides include this file; the guest accesses it identity-mapped.
 */
#ifndef P2M_ABI_H
#define P2M_ABI_H

#include <stdint.h>

#define P2M_ABI_MAILBOX 0x600000ULL  /* ram_rw page: host <-> guest words */
#define P2M_ABI_PAGE 0x601000ULL     /* the page whose type the host changes */
#define P2M_ABI_HOLE 0xE0000000ULL   /* a page in the PCI hole: mmio_dm */
#define P2M_ABI_BULK 0x1000000ULL    /* 16 MiB: start of the bulk region */
#define P2M_ABI_BULK_SIZE (32ULL << 20)
#define P2M_ABI_RO_OLD 0x1111111111111111ULL /* what the host put in PAGE */
#define P2M_ABI_RO_NEW 0x2222222222222222ULL

struct p2m_abi_mailbox {
	volatile uint64_t phase;      /* guest: 1 once its loop runs */
	volatile uint64_t stop;       /* host: 1 to end the loop */
	volatile uint64_t iterations; /* guest: writes done */
	volatile uint64_t landed;     /* guest: writes it read back */
	volatile uint64_t bad_reads;  /* guest: reads no write produced */
	volatile uint64_t first_bad;  /* guest: value of the first such read */
	volatile uint64_t words[8];   /* mode-specific results */
};

#endif
