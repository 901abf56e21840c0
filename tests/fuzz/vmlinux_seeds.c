/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of fuzz_vmlinux into the directory given as its
 * argument: synthetic vmlinux ELFs (vmlinux_build.h) the loader accepts, in
 * the shapes real kernels have. The committed tests/fuzz/corpus/vmlinux/
 * was made with it.
 */
#include <stdio.h>

#include "vmlinux_build.h"
#include "seed_file.h"

static uint8_t buf[0x10000];

static int put(const char *dir, const char *name, const struct vmb_opts *o)
{
	return seed_file(dir, name, buf, vmb_image(buf, sizeof(buf), o));
}

int main(int argc, char **argv)
{
	const char *d = seed_dir(argc, argv);
	if (!d)
		return 2;
	int rc = 0;
	struct vmb_opts o = vmb_defaults();
	rc |= put(d, "text_data_bss", &o);
	/* As Debian's 6.1: text, data, percpu at virtual 0, init+bss; a note; relocations. */
	o.nr_seg = 5;
	o.seg[2] = (struct vmb_seg){ .paddr = 0x1400000, .vaddr = 0, .filesz = 0x800,
				     .memsz = 0x800, .type = 1 };
	o.seg[3] = (struct vmb_seg){ .paddr = 0x1401000, .vaddr = VMB_KERNEL_MAP + 0x1401000,
				     .filesz = 0x1000, .memsz = 0x3000, .type = 1 };
	o.seg[4] = (struct vmb_seg){ .paddr = 0x1000100, .vaddr = VMB_KERNEL_MAP + 0x1000100,
				     .filesz = 0x20, .memsz = 0x20, .type = 4 };
	o.trailer = 0x40;
	rc |= put(d, "percpu_note_relocs", &o);
	o = vmb_defaults();
	o.entry = VMB_KERNEL_MAP + 0x1000200;
	rc |= put(d, "virtual_entry", &o);
	return rc;
}
