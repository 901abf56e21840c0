/* SPDX-License-Identifier: MIT */
/*
 * unbacked: accesses to ports and MMIO that no device backs must read all
 * ones (1, 2, 4 and 8 bytes) and writes must be dropped without effect.
 * Prints every result; exits GUEST_EXIT_PASS only if all read all ones,
 * else FAIL (ports wrong), FAIL + 1 (MMIO wrong: QEMU reads 0), FAIL + 2.
 */
#include "guest.h"

#define PORT 0x2e0         /* no device on ioreqvm or QEMU's pc machine */
#define MMIO 0xE0000000ul  /* PCI hole, no BAR there */

static int port_failures, mmio_failures;

static void check(const char *what, uint64_t got, uint64_t ones)
{
	bool ok = got == ones;

	guest_printf("unbacked: %-17s = %#llx %s\n", what, (unsigned long long)got,
		     ok ? "ok" : "FAIL");
	if (!ok)
		++*(what[0] == 'i' ? &port_failures : &mmio_failures);
}

int guest_main(void)
{
	for (int round = 0; round < 2; round++) {
		check("inb 0x2e0", guest_inb(PORT), 0xff);
		check("inw 0x2e0", guest_inw(PORT), 0xffff);
		check("inl 0x2e0", guest_inl(PORT), 0xffffffff);
		check("read8 0xe0000000", guest_read8(MMIO), 0xff);
		check("read16 0xe0000000", guest_read16(MMIO), 0xffff);
		check("read32 0xe0000000", guest_read32(MMIO), 0xffffffff);
		check("read64 0xe0000000", guest_read64(MMIO), ~0ull);
		if (round == 0) { /* writes are dropped: re-read after them */
			guest_outb(PORT, 0x12);
			guest_outw(PORT, 0x1234);
			guest_outl(PORT, 0x12345678);
			guest_write8(MMIO, 0x12);
			guest_write16(MMIO, 0x1234);
			guest_write32(MMIO, 0x12345678);
			guest_write64(MMIO, 0x123456789abcdef0ull);
			guest_printf("unbacked: wrote ports and MMIO, reading again\n");
		}
	}
	if (port_failures || mmio_failures) {
		guest_printf("unbacked: %d port and %d MMIO checks failed\n",
			     port_failures, mmio_failures);
		/* QEMU reads unassigned MMIO as 0: there only FAIL + 1 is expected */
		return !mmio_failures ? GUEST_EXIT_FAIL
		       : !port_failures ? GUEST_EXIT_FAIL + 1 : GUEST_EXIT_FAIL + 2;
	}
	guest_printf("unbacked: all reads all ones\n");
	return GUEST_EXIT_PASS;
}
