/* SPDX-License-Identifier: MIT */
/*
 * hello: the smallest guest. Prints a fixed greeting, the Multiboot
 * command line and mem_upper, then exits GUEST_EXIT_PASS.
 */
#include "guest.h"

int guest_main(void)
{
	uint32_t lower, upper;

	guest_printf("Hello from ioreqvm guest\n");
	guest_printf("cmdline: %s\n", guest_cmdline());
	if (!guest_mem_kib(&lower, &upper)) {
		guest_printf("hello: no memory info\n");
		return GUEST_EXIT_FAIL;
	}
	guest_printf("mem_upper: %u KiB\n", upper);
	return GUEST_EXIT_PASS;
}
