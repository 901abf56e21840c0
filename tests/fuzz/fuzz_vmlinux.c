/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the vmlinux path of the Linux loader (DESIGN L1:
 * src/loader/vmlinux_elf.c and linux_load with a vmlinux): the input is
 * the decompressed kernel, an ELF nobody vouches for; a fixed synthetic
 * bzImage carries the header. Beyond "no crash, no bad read" it checks
 * what a successful load promises: every segment's file bytes at load
 * address + p_paddr - pref_address, zeroes up to its memory size, RIP
 * inside the file bytes of a segment, the kernel's memory inside RAM.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bz_build.h"
#include "loader/linux_boot.h"
#include "loader/vmlinux_elf.h"
#include "mem/guest_ram.h"

#define FUZZ_RAM_SIZE (64ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct guest_ram ram;
static uint8_t carrier[0x2000];
static size_t carrier_size;
static struct bzimage_info bz;

static void check(const uint8_t *elf, size_t size, const struct linux_entry *e)
{
	struct vmlinux_info vi;
	if (vmlinux_parse(elf, size, &vi, NULL, 0) != 0 || vi.min_paddr < bz.pref_address)
		abort();
	uint64_t delta = bz.load_addr - bz.pref_address;
	bool entry_ok = false;
	for (unsigned i = 0; i < vi.nr_seg; i++) {
		const struct vmlinux_seg *s = &vi.seg[i];
		const uint8_t *p = guest_ram_ptr(&ram, s->paddr + delta, s->memsz);
		if (!p || memcmp(p, elf + s->offset, s->filesz))
			abort();
		for (uint64_t j = s->filesz; j < s->memsz; j++)
			if (p[j])
				abort();
		if (e->rip >= s->paddr + delta && e->rip < s->paddr + delta + s->filesz)
			entry_ok = true;
	}
	if (!entry_ok || e->kernel_addr != bz.load_addr ||
	    e->kernel_mem < vi.end_paddr - bz.pref_address ||
	    !guest_ram_ptr(&ram, e->kernel_addr, e->kernel_mem))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ram.host) {
		struct bzb_opts o = bzb_defaults();
		carrier_size = bzb_image(carrier, sizeof(carrier), &o);
		if (guest_ram_create(&ram, FUZZ_RAM_SIZE) != 0 || !carrier_size ||
		    bzimage_parse(carrier, carrier_size, &bz, NULL, 0) != 0)
			abort();
	}
	/* An exact-size copy so ASan catches any read past the ELF. */
	uint8_t *elf = malloc(size ? size : 1);
	if (!elf)
		abort();
	memcpy(elf, data, size);
	struct linux_boot_args a = {
		.kernel = carrier, .kernel_size = carrier_size, .cmdline = "console=ttyS0",
		.acpi_rsdp = 0xE0000, .vmlinux = elf, .vmlinux_size = size,
	};
	struct linux_entry e;
	char err[256] = "";
	int rc = linux_load(&ram, &a, &e, err, sizeof(err));
	if (rc == 0)
		check(elf, size, &e);
	else if (err[0] == '\0' || (rc != -ENOEXEC && rc != -ENOMEM))
		abort();
	free(elf);
	return 0;
}
