/* SPDX-License-Identifier: MIT */
/*
 * pt_demo: the README demo's guest. It keeps a small page-table-like
 * structure (a root table and four leaf tables of 512 eight-byte entries,
 * at 32 MiB), announces it to a write monitor through port 0x5f0 (first
 * page frame, then the page count at 0x5f4; reading 0x5f4 says whether a
 * monitor took it), then maps, protects, unmaps and installs entries,
 * printing after each update what it reads back: applied or blocked.
 */
#include "guest.h"

#define PT_BASE 0x2000000ULL
#define PT_PAGES 5
#define ROOT ((volatile uint64_t *)PT_BASE)
#define LEAF(i) ((volatile uint64_t *)(PT_BASE + 0x1000 * (1 + (i))))
#define P_PRESENT 1ULL
#define P_RW 2ULL
#define ANNOUNCE 0x5f0

static unsigned applied, blocked, unchanged;

static void update(const char *what, volatile uint64_t *entry, uint64_t value)
{
	uint64_t before = *entry;
	*entry = value;
	uint64_t now = *entry;
	const char *verdict = before == value ? "no change" : now == value ? "applied" : "blocked";
	applied += before != value && now == value;
	blocked += now != value;
	unchanged += before == value;
	guest_printf("pt_demo: %-28s %#018llx -> %#018llx: reads %#018llx (%s)\n", what,
		     (unsigned long long)before, (unsigned long long)value,
		     (unsigned long long)now, verdict);
}

int guest_main(void)
{
	/* Build the structure: root entries point at the leaves. */
	for (unsigned i = 0; i < 4; i++)
		ROOT[i] = (PT_BASE + 0x1000 * (1 + i)) | P_PRESENT | P_RW;
	LEAF(0)[0] = 0x100000 | P_PRESENT | P_RW;

	guest_outl(ANNOUNCE, (uint32_t)(PT_BASE >> 12));
	guest_outl(ANNOUNCE + 4, PT_PAGES);
	uint32_t status = guest_inl(ANNOUNCE + 4);
	guest_printf("pt_demo: table at %#llx, %u pages, announced: %s\n",
		     (unsigned long long)PT_BASE, PT_PAGES,
		     status == 1 ? "a monitor watches it" : "nobody listens");

	update("map leaf0[5] rw", &LEAF(0)[5], 0x12345000 | P_PRESENT | P_RW);
	update("map leaf1[7] ro", &LEAF(1)[7], 0xabcde000 | P_PRESENT);
	update("write-protect leaf0[5]", &LEAF(0)[5], 0x12345000 | P_PRESENT);
	update("unmap leaf1[7]", &LEAF(1)[7], 0);
	update("install leaf table root[4]", &ROOT[4], (PT_BASE + 0x5000) | P_PRESENT | P_RW);
	guest_printf("pt_demo: 5 updates, %u applied, %u blocked, %u no change\n", applied, blocked,
		     unchanged);
	return GUEST_EXIT_PASS;
}
