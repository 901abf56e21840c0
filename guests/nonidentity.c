/* SPDX-License-Identifier: MIT */
/*
 * nonidentity: maps virtual 0x8000000000 (PML4 slot 1) to physical
 * 0x200000 with one 2 MiB page, writes through the virtual address and
 * checks the physical one. Status 1 on both backends (on tcg since
 * libunicorn 2.1 walks the guest's page tables; 2.0.1 did not, DESIGN K14).
 */
#include "guest.h"

#define VA 0x8000000000ULL
#define PA 0x200000ULL

extern uint64_t kit_pml4[512];
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

int guest_main(void)
{
	pd[0] = PA | 0x83; /* present, writable, 2 MiB */
	pdpt[0] = (uintptr_t)pd | 0x3;
	kit_pml4[1] = (uintptr_t)pdpt | 0x3;
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
	guest_printf("nonidentity: writing through virtual %#llx\n", VA);
	guest_write64(VA, 0x1122334455667788ULL);
	uint64_t got = guest_read64(PA);
	guest_printf("nonidentity: physical %#llx reads %#llx\n", PA, (unsigned long long)got);
	return got == 0x1122334455667788ULL ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL;
}
