/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the Linux loader (DESIGN L1): the input is the
 * bzImage (odd sizes also get a 100-byte initrd). Beyond "no crash, no bad
 * read" it checks what a successful load promises: the entry registers,
 * the code at the load address, boot_params with the header magic, our
 * loader type, the command line and initrd where its pointers say. A
 * header that parses also has its payload decompressed as
 * --kernel-decompress host does (kernel_payload.c: refused with -ENOTSUP
 * or -ENOEXEC and a message, or decompressed to the size its trailer
 * states), and what comes out loaded as a vmlinux (fuzz_vmlinux checks
 * that load in depth).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/bzimage.h"
#include "loader/kernel_payload.h"
#include "loader/linux_boot.h"
#include "mem/guest_ram.h"

#define FUZZ_RAM_SIZE (32ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct guest_ram ram;
static const uint8_t initrd[100] = { 1, 2, 3 };
static const char cmdline[] = "console=ttyS0";

static uint64_t rd(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void check(const uint8_t *img, size_t size, const struct linux_entry *e, int with_initrd)
{
	struct bzimage_info bz;
	if (bzimage_parse(img, size, &bz, NULL, 0) != 0)
		abort();
	if (e->rip != bz.load_addr + BZ_ENTRY64_OFFSET || e->rsi != LINUX_ZERO_PAGE ||
	    e->cr3 != LINUX_PML4 || e->kernel_addr != bz.load_addr)
		abort();
	const uint8_t *k = guest_ram_ptr(&ram, bz.load_addr, bz.mem_size);
	if (!k || memcmp(k, img + bz.setup_size, bz.pm_size))
		abort();
	const uint8_t *zp = guest_ram_ptr(&ram, LINUX_ZERO_PAGE, LINUX_ZERO_PAGE_SIZE);
	if (rd(zp + BZ_HEADER, 4) != BZ_HEADER_MAGIC || zp[BZ_TYPE_OF_LOADER] != 0xff ||
	    zp[BP_E820_ENTRIES] == 0 || zp[BP_SENTINEL] != 0)
		abort();
	const char *cl = guest_ram_ptr(&ram, rd(zp + BZ_CMD_LINE_PTR, 4), sizeof(cmdline));
	if (!cl || strcmp(cl, cmdline))
		abort();
	uint64_t ri = rd(zp + BZ_RAMDISK_IMAGE, 4), rs = rd(zp + BZ_RAMDISK_SIZE, 4);
	if (with_initrd) {
		const void *p = guest_ram_ptr(&ram, ri, sizeof(initrd));
		if (rs != sizeof(initrd) || ri % 4096 || !p || memcmp(p, initrd, sizeof(initrd)) ||
		    ri < bz.load_addr + bz.mem_size || ri + rs - 1 > bz.initrd_addr_max)
			abort();
	} else if (ri || rs) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ram.host && guest_ram_create(&ram, FUZZ_RAM_SIZE) != 0)
		abort();
	/* An exact-size copy so ASan catches any read past the image. */
	uint8_t *img = malloc(size ? size : 1);
	if (!img)
		abort();
	memcpy(img, data, size);
	int with_initrd = size & 1;
	struct linux_boot_args a = {
		.kernel = img, .kernel_size = size, .cmdline = cmdline,
		.initrd = with_initrd ? initrd : NULL, .initrd_size = with_initrd ? sizeof(initrd) : 0,
		.acpi_rsdp = 0xE0000,
	};
	struct linux_entry e;
	char err[256] = "";
	int rc = linux_load(&ram, &a, &e, err, sizeof(err));
	if (rc == 0)
		check(img, size, &e, with_initrd);
	else if (err[0] == '\0' || (rc != -ENOEXEC && rc != -ENOMEM && rc != -E2BIG))
		abort();
	struct bzimage_info bz;
	if (bzimage_parse(img, size, &bz, NULL, 0) == 0) {
		uint8_t *vmlinux = NULL;
		size_t vsize = 0;
		err[0] = '\0';
		/* At most 4 MiB out: a fuzzed trailer may ask for 1 GiB. */
		rc = kpayload_decompress(img, size, &bz, 4ULL << 20, &vmlinux, &vsize, NULL, err,
					 sizeof(err));
		if (rc == 0) {
			if (!vmlinux || !vsize || vsize > (4ULL << 20))
				abort();
			a.vmlinux = vmlinux;
			a.vmlinux_size = vsize;
			linux_load(&ram, &a, &e, err, sizeof(err));
		} else if (err[0] == '\0' || vmlinux ||
			   (rc != -ENOTSUP && rc != -ENOEXEC && rc != -ENOMEM)) {
			abort();
		}
		free(vmlinux);
	}
	free(img);
	return 0;
}
