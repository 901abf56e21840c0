/* SPDX-License-Identifier: MIT */
/*
 * C entry of the BSP (from entry.S, in long mode on CPU 0's stack): serial,
 * IDT, TSS, the Multiboot magic check, then guest_main() and guest_exit()
 * with its result.
 */
#include "guest.h"
#include "kit.h"

#define EXIT_PORT 0xf4

void guest_exit(unsigned value)
{
	guest_outb(EXIT_PORT, (uint8_t)value);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void kit_start(void)
{
	kit_serial_init();
	kit_idt_build();
	kit_cpu_init(0);
	if (kit_mb_magic != 0x2BADB002) {
		guest_printf("guest: bad multiboot magic %#x\n", kit_mb_magic);
		guest_exit(GUEST_EXIT_BAD_BOOT);
	}
	guest_exit((unsigned)guest_main());
}
