/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the Multiboot loader: the input is the kernel image
 * (odd sizes also get a 100-byte initrd). Beyond "no crash, no bad read" it
 * checks what a successful load promises: entry registers, and an info
 * structure whose pointers stay inside guest RAM below 4 GiB.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/multiboot.h"
#include "mem/guest_ram.h"

#define FUZZ_RAM_SIZE (16ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct guest_ram ram;
static const uint8_t initrd[100] = { 1, 2, 3 };

static void check_string(uint32_t gpa)
{
	const char *s = guest_ram_ptr(&ram, gpa, 1);
	if (!s || !memchr(s, '\0', FUZZ_RAM_SIZE - gpa))
		abort();
}

static void check_info(const struct boot_entry *e, int with_initrd)
{
	if (e->eax != MULTIBOOT_BOOTLOADER_MAGIC || e->ebx != MULTIBOOT_INFO_ADDR)
		abort();
	struct multiboot_info mbi;
	memcpy(&mbi, guest_ram_ptr(&ram, e->ebx, sizeof(mbi)), sizeof(mbi));
	if (mbi.mods_count != (with_initrd ? 1U : 0U) || mbi.mods_addr % 4096)
		abort();
	check_string(mbi.cmdline);
	check_string(mbi.boot_loader_name);
	if (with_initrd) {
		struct multiboot_mod mod;
		const void *p = guest_ram_ptr(&ram, mbi.mods_addr, sizeof(mod));
		if (!p)
			abort();
		memcpy(&mod, p, sizeof(mod));
		check_string(mod.cmdline);
		const void *m = guest_ram_ptr(&ram, mod.mod_start, sizeof(initrd));
		if (mod.mod_start % 4096 || mod.mod_end - mod.mod_start != sizeof(initrd) || !m ||
		    memcmp(m, initrd, sizeof(initrd)))
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
	struct boot_params bp = {
		.kernel = img, .kernel_size = size, .kernel_name = "fuzz.elf", .cmdline = "a=b",
		.initrd = with_initrd ? initrd : NULL, .initrd_size = with_initrd ? sizeof(initrd) : 0,
		.initrd_name = "initrd",
	};
	struct boot_entry e;
	char err[256] = "";
	int rc = multiboot_load(&ram, &bp, &e, err, sizeof(err));
	if (rc == 0)
		check_info(&e, with_initrd);
	else if (err[0] == '\0' || (rc != -ENOEXEC && rc != -ENOMEM && rc != -E2BIG))
		abort();
	free(img);
	return 0;
}
