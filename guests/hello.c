/* SPDX-License-Identifier: MIT */
/*
 * hello: the smallest guest. Prints a fixed greeting, the Multiboot
 * command line and mem_upper, then a summary of the memory map and the
 * modules (one line each), and exits GUEST_EXIT_PASS.
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

	unsigned entries = 0;
	uint64_t avail = 0;
	for (const struct guest_mb_mmap *e = guest_mmap_next(0); e; e = guest_mmap_next(e)) {
		entries++;
		if (e->type == 1)
			avail += e->len;
	}
	guest_printf("mmap: %u entries, %llu KiB available\n", entries,
		     (unsigned long long)(avail >> 10));
	guest_printf("modules: %u\n", guest_module_count());
	for (unsigned i = 0; i < guest_module_count(); i++) {
		const struct guest_mb_module *m = guest_module(i);
		guest_printf("module %u: %#x-%#x %s\n", i, m->mod_start, m->mod_end,
			     m->string ? (const char *)(uintptr_t)m->string : "");
	}
	return GUEST_EXIT_PASS;
}
