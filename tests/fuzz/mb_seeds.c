/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of fuzz_multiboot into the directory given as its
 * argument: one valid image of each kind the loader accepts. The committed
 * tests/fuzz/corpus/multiboot/ was made with it.
 */
#include <stdio.h>

#include "mb_build.h"
#include "seed_file.h"

static uint8_t buf[0x4000];

static int put(const char *dir, const char *name, size_t size)
{
	return seed_file(dir, name, buf, size);
}

int main(int argc, char **argv)
{
	const char *d = seed_dir(argc, argv);
	if (!d)
		return 2;
	const struct mbb_seg two[] = {
		{ .paddr = 0x100000, .filesz = 0x300, .memsz = 0x2000, .fill = 0x11 },
		{ .paddr = 0x104000, .filesz = 0x80, .memsz = 0x80, .flags = PF_R | PF_W },
	};
	const struct mbb_seg high[] = {
		{ .paddr = 0x200000, .vaddr = 0xFFFFFFFF80200000ULL, .filesz = 0x100, .memsz = 0x1000 },
	};
	const struct mbb_seg four[] = {
		{ .paddr = 0x100000, .filesz = 0x40, .memsz = 0x1000 },
		{ .paddr = 0x300000, .filesz = 0x40, .memsz = 0x40 },
		{ .paddr = 0x10000, .filesz = 0x40, .memsz = 0x40 },
		{ .paddr = 0x101000, .filesz = 0, .memsz = 0x3000, .flags = PF_R | PF_W },
	};
	int rc = 0;
	rc |= put(d, "elf32", mbb_elf(buf, sizeof(buf), 32, two, 2, 0x100010, 0x3));
	rc |= put(d, "elf64", mbb_elf(buf, sizeof(buf), 64, two, 2, 0x100010, 0x3));
	rc |= put(d, "elf64_higher_half", mbb_elf(buf, sizeof(buf), 64, high, 1,
						  0xFFFFFFFF80200010ULL, 0x3));
	rc |= put(d, "elf32_four_segments", mbb_elf(buf, sizeof(buf), 32, four, 4, 0x100000, 0x7));
	size_t n = mbb_elf(buf, sizeof(buf), 64, two, 2, 0x100010, MBB_KLUDGE | 0x3);
	mbb_kludge(buf + MBB_ELF_HDR_OFF, 0x300000 + MBB_ELF_HDR_OFF, 0x300000, 0, 0x320000,
		   0x301000);
	rc |= put(d, "elf64_kludge", n);
	rc |= put(d, "aout", mbb_aout(buf, sizeof(buf), 0x40, 0x100000, 0x1000, 0x3000, 0x80));
	/* Odd size: the target adds an initrd. */
	rc |= put(d, "aout_initrd", mbb_aout(buf, sizeof(buf), 0x20, 0x100000, 0x201, 0, 0x40));
	return rc;
}
