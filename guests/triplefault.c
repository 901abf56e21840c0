/* SPDX-License-Identifier: MIT */
/*
 * triplefault: loads an empty IDT and raises #UD. With no gate for #UD, for
 * the #GP that follows, nor for #DF, the CPU shuts down (a triple fault);
 * ioreqvm must report it with status 6 and the vCPU's registers.
 */
#include "guest.h"

int guest_main(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} empty = { 0, 0 };

	guest_printf("triplefault: empty IDT, then ud2\n");
	__asm__ volatile("lidt %0\n\tud2" : : "m"(empty));
	guest_printf("triplefault: survived\n");
	return GUEST_EXIT_FAIL;
}
