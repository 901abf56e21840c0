/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the Linux loader (DESIGN L1: src/loader/bzimage.c,
 * linux_boot.c) and the e820 map (platform/e820.c): synthetic bzImages
 * (tests/fuzz/bz_build.h) loaded into a real memfd guest RAM, and what
 * lands there read back: the protected-mode code at its load address,
 * boot_params field by field (offsets cross-checked against Linux's own
 * <asm/bootparam.h>), the command line, the initrd, page tables that map
 * virtual = physical, the GDT, the entry registers. Every bad image or
 * placement fails with its errno and a message naming the problem, and
 * leaves guest RAM untouched.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <asm/bootparam.h>

#include "../fuzz/bz_build.h"
#include "loader/bzimage.h"
#include "loader/linux_boot.h"
#include "mem/guest_ram.h"
#include "platform/e820.h"

#define RAM_SIZE (64ULL << 20)
#define IMG_CAP (64U << 10)
#define RSDP 0xE0000ULL

struct fx {
	struct guest_ram ram;
	uint8_t img[IMG_CAP];
	size_t size;
	struct bzb_opts o;
	struct linux_entry entry;
	char err[256];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f || guest_ram_create(&f->ram, RAM_SIZE) != 0)
		return -1;
	f->o = bzb_defaults();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	guest_ram_destroy(&f->ram);
	free(f);
	return 0;
}

static void build(struct fx *f)
{
	f->size = bzb_image(f->img, sizeof(f->img), &f->o);
	assert_true(f->size > 0);
}

static int load_with(struct fx *f, const char *cmdline, const void *initrd, size_t initrd_size)
{
	struct linux_boot_args a = {
		.kernel = f->img, .kernel_size = f->size, .cmdline = cmdline,
		.initrd = initrd, .initrd_size = initrd_size, .acpi_rsdp = RSDP,
	};
	memset(f->err, 0, sizeof(f->err));
	return linux_load(&f->ram, &a, &f->entry, f->err, sizeof(f->err));
}

static int parse(struct fx *f, struct bzimage_info *bz)
{
	memset(f->err, 0, sizeof(f->err));
	return bzimage_parse(f->img, f->size, bz, f->err, sizeof(f->err));
}

static const uint8_t *gp(struct fx *f, uint64_t gpa, uint64_t len)
{
	const uint8_t *p = guest_ram_ptr(&f->ram, gpa, len);
	assert_non_null(p);
	return p;
}

static uint64_t rd(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void assert_err(struct fx *f, int rc, int want, const char *needle)
{
	assert_int_equal(rc, want);
	if (!strstr(f->err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", f->err, needle);
}

/* The loader's offsets are Linux's: boot_params and setup_header as the kernel declares them. */
static void test_offsets_match_linux_bootparam_h(void **state)
{
	(void)state;
#define HDR(field) (offsetof(struct boot_params, hdr) + offsetof(struct setup_header, field))
	assert_int_equal(HDR(setup_sects), BZ_SETUP_SECTS);
	assert_int_equal(HDR(syssize), BZ_SYSSIZE);
	assert_int_equal(HDR(boot_flag), BZ_BOOT_FLAG);
	assert_int_equal(HDR(jump), BZ_JUMP);
	assert_int_equal(HDR(header), BZ_HEADER);
	assert_int_equal(HDR(version), BZ_VERSION);
	assert_int_equal(HDR(type_of_loader), BZ_TYPE_OF_LOADER);
	assert_int_equal(HDR(loadflags), BZ_LOADFLAGS);
	assert_int_equal(HDR(code32_start), BZ_CODE32_START);
	assert_int_equal(HDR(ramdisk_image), BZ_RAMDISK_IMAGE);
	assert_int_equal(HDR(ramdisk_size), BZ_RAMDISK_SIZE);
	assert_int_equal(HDR(cmd_line_ptr), BZ_CMD_LINE_PTR);
	assert_int_equal(HDR(initrd_addr_max), BZ_INITRD_ADDR_MAX);
	assert_int_equal(HDR(kernel_alignment), BZ_KERNEL_ALIGNMENT);
	assert_int_equal(HDR(relocatable_kernel), BZ_RELOCATABLE);
	assert_int_equal(HDR(xloadflags), BZ_XLOADFLAGS);
	assert_int_equal(HDR(cmdline_size), BZ_CMDLINE_SIZE);
	assert_int_equal(HDR(hardware_subarch), BZ_HARDWARE_SUBARCH);
	assert_int_equal(HDR(payload_offset), BZ_PAYLOAD_OFFSET);
	assert_int_equal(HDR(payload_length), BZ_PAYLOAD_LENGTH);
	assert_int_equal(HDR(setup_data), BZ_SETUP_DATA);
	assert_int_equal(HDR(pref_address), BZ_PREF_ADDRESS);
	assert_int_equal(HDR(init_size), BZ_INIT_SIZE);
	assert_int_equal(offsetof(struct boot_params, acpi_rsdp_addr), BP_ACPI_RSDP_ADDR);
	assert_int_equal(offsetof(struct boot_params, ext_ramdisk_image), BP_EXT_RAMDISK_IMAGE);
	assert_int_equal(offsetof(struct boot_params, ext_cmd_line_ptr), BP_EXT_CMD_LINE_PTR);
	assert_int_equal(offsetof(struct boot_params, e820_entries), BP_E820_ENTRIES);
	assert_int_equal(offsetof(struct boot_params, sentinel), BP_SENTINEL);
	assert_int_equal(offsetof(struct boot_params, e820_table), BP_E820_TABLE);
	assert_int_equal(sizeof(struct boot_e820_entry), BP_E820_ENTRY_SIZE);
	assert_int_equal(E820_MAX_ENTRIES_ZEROPAGE, BP_E820_MAX);
	assert_int_equal(offsetof(struct boot_params, edd_mbr_sig_buffer), BZ_HEADER_AREA_END);
	assert_int_equal(sizeof(struct boot_params), LINUX_ZERO_PAGE_SIZE);
	assert_int_equal(XLF_KERNEL_64, BZ_XLF_KERNEL_64);
	assert_int_equal(LOADED_HIGH, BZ_LOADED_HIGH);
#undef HDR
}

static void test_detect_needs_both_magics(void **state)
{
	struct fx *f = *state;
	build(f);
	assert_true(bzimage_detect(f->img, f->size));
	assert_true(bzimage_detect(f->img, BZ_HEADER + 4)); /* a truncated one is still one */
	assert_false(bzimage_detect(f->img, BZ_HEADER + 3));
	assert_false(bzimage_detect(NULL, 0));
	f->img[BZ_BOOT_FLAG] = 0;
	assert_false(bzimage_detect(f->img, f->size));
	build(f);
	f->img[BZ_HEADER] = 'h';
	assert_false(bzimage_detect(f->img, f->size));
	static const uint8_t elf[0x300] = { 0x7f, 'E', 'L', 'F' };
	assert_false(bzimage_detect(elf, sizeof(elf)));
}

static void test_parse_reads_the_header(void **state)
{
	struct fx *f = *state;
	f->o.trailer = 0x5c0; /* an appended signature, as Debian's signed kernels have */
	build(f);
	struct bzimage_info bz;
	assert_int_equal(parse(f, &bz), 0);
	assert_int_equal(bz.version, 0x020f);
	assert_int_equal(bz.setup_size, 1024);
	assert_int_equal(bz.header_end, 0x26c);
	assert_int_equal(bz.pm_size, 0x1000);
	assert_int_equal(bz.load_addr, 0x1000000);
	assert_int_equal(bz.mem_size, 0x40000);
	assert_true(bz.relocatable);
	assert_int_equal(bz.kernel_alignment, 0x200000);
	assert_int_equal(bz.initrd_addr_max, 0x7fffffff);
	assert_int_equal(bz.cmdline_size, 2047);
}

static void test_parse_setup_sects_zero_means_four(void **state)
{
	struct fx *f = *state;
	f->o.setup_sects = 0;
	build(f);
	struct bzimage_info bz;
	assert_int_equal(parse(f, &bz), 0);
	assert_int_equal(bz.setup_size, 5 * 512);
}

static void test_parse_relocatable_load_address_aligned(void **state)
{
	struct fx *f = *state;
	f->o.pref_address = 0x1100000;
	build(f);
	struct bzimage_info bz;
	assert_int_equal(parse(f, &bz), 0);
	assert_int_equal(bz.load_addr, 0x1200000);
	f->o.pref_address = 0; /* below 1 MiB: the first aligned address above it */
	build(f);
	assert_int_equal(parse(f, &bz), 0);
	assert_int_equal(bz.load_addr, 0x200000);
	f->o.relocatable = 0; /* not relocatable: exactly where it says */
	f->o.pref_address = 0x1100000;
	build(f);
	assert_int_equal(parse(f, &bz), 0);
	assert_int_equal(bz.load_addr, 0x1100000);
}

static void test_parse_init_size_below_code_size_uses_code_size(void **state)
{
	struct fx *f = *state;
	f->o.init_size = 0x100;
	build(f);
	struct bzimage_info bz;
	assert_int_equal(parse(f, &bz), 0);
	assert_int_equal(bz.mem_size, 0x1000);
}

static void test_parse_truncated_images(void **state)
{
	struct fx *f = *state;
	struct bzimage_info bz;
	build(f);
	size_t full = f->size;
	f->size = full - 1; /* one byte short of the code syssize promises */
	assert_err(f, parse(f, &bz), -ENOEXEC,
		   "kernel: bzImage: file is truncated: 5119 bytes, its protected-mode code "
		   "(syssize 0x1000 bytes from 0x400) ends at 0x1400");
	f->size = 1000; /* inside the setup code */
	assert_err(f, parse(f, &bz), -ENOEXEC,
		   "kernel: bzImage: file is truncated: 1000 bytes, the setup code (1 sectors) "
		   "ends at 0x400");
	f->size = 0x240; /* inside the setup header */
	assert_err(f, parse(f, &bz), -ENOEXEC,
		   "kernel: bzImage: file is truncated: 576 bytes, the setup header ends at 0x26c");
	f->size = 0x207; /* the version field cut in half */
	assert_err(f, parse(f, &bz), -ENOEXEC, "ends inside the setup header");
}

static void test_parse_rejects_old_protocols(void **state)
{
	struct fx *f = *state;
	struct bzimage_info bz;
	f->o.version = 0x0205;
	build(f);
	assert_err(f, parse(f, &bz), -ENOEXEC,
		   "kernel: bzImage: boot protocol 2.05 is too old: 2.06 or later is needed");
	f->o.version = 0x020b;
	build(f);
	assert_err(f, parse(f, &bz), -ENOEXEC,
		   "kernel: bzImage: boot protocol 2.11 has no 64-bit entry point");
}

static void test_parse_rejects_no_64bit_entry(void **state)
{
	struct fx *f = *state;
	struct bzimage_info bz;
	f->o.xloadflags = 0x0002;
	build(f);
	assert_err(f, parse(f, &bz), -ENOEXEC,
		   "kernel: bzImage: no 64-bit entry point (xloadflags 0x0002 lacks XLF_KERNEL_64)");
}

static void test_parse_rejects_zimage(void **state)
{
	struct fx *f = *state;
	struct bzimage_info bz;
	f->o.loadflags = 0;
	build(f);
	assert_err(f, parse(f, &bz), -ENOEXEC, "lack LOADED_HIGH: a zImage, not a bzImage");
}

static void test_parse_rejects_bad_header_end(void **state)
{
	struct fx *f = *state;
	struct bzimage_info bz;
	f->o.jump = 0x50; /* ends at 0x252: no pref_address/init_size */
	build(f);
	assert_err(f, parse(f, &bz), -ENOEXEC,
		   "setup header ends at 0x252, before the init_size field (0x260)");
	f->o.jump = 0xa0; /* ends at 0x2a2: into edd_mbr_sig_buffer */
	build(f);
	assert_err(f, parse(f, &bz), -ENOEXEC,
		   "setup header ends at 0x2a2, past boot_params' header area (0x290)");
}

static void test_parse_rejects_bad_fields(void **state)
{
	struct fx *f = *state;
	struct bzimage_info bz;
	f->o.pm_size = 0;
	build(f);
	assert_err(f, parse(f, &bz), -ENOEXEC, "no protected-mode code (syssize 0)");
	f->o = bzb_defaults();
	f->o.payload_offset = 0xc00;
	f->o.payload_length = 0x800;
	build(f);
	assert_err(f, parse(f, &bz), -ENOEXEC,
		   "payload [0xc00, 0x1400) lies outside the protected-mode code (0x1000 bytes)");
	f->o = bzb_defaults();
	f->o.kernel_alignment = 0x300000;
	build(f);
	assert_err(f, parse(f, &bz), -ENOEXEC,
		   "kernel_alignment 0x300000 is not a power of two from 4 KiB to 1 GiB");
	f->o = bzb_defaults();
	f->o.relocatable = 0;
	f->o.pref_address = 0x80000;
	build(f);
	assert_err(f, parse(f, &bz), -ENOEXEC,
		   "pref_address 0x80000 is below 1 MiB and the kernel is not relocatable");
	f->o = bzb_defaults();
	f->o.pref_address = 0xFFFE0000;
	f->o.relocatable = 0;
	build(f);
	assert_err(f, parse(f, &bz), -ENOEXEC,
		   "kernel at 0xfffe0000 needing 0x40000 bytes (init_size) extends above 4 GiB");
}

static void test_load_places_kernel_and_entry(void **state)
{
	struct fx *f = *state;
	build(f);
	/* Stale bytes where the kernel's bss goes: the loader clears them. */
	memset(guest_ram_ptr(&f->ram, 0x1000000, 0x40000), 0xEE, 0x40000);
	assert_int_equal(load_with(f, "console=ttyS0", NULL, 0), 0);
	assert_string_equal(f->err, "");
	const uint8_t *k = gp(f, 0x1000000, 0x40000);
	for (size_t i = 0; i < 0x1000; i++)
		if (k[i] != bzb_code_byte(i))
			fail_msg("kernel byte 0x%zx is 0x%02x", i, k[i]);
	for (size_t i = 0x1000; i < 0x40000; i++)
		if (k[i])
			fail_msg("kernel memory byte 0x%zx past the code is 0x%02x", i, k[i]);
	assert_int_equal(f->entry.rip, 0x1000200);
	assert_int_equal(f->entry.rsi, LINUX_ZERO_PAGE);
	assert_int_equal(f->entry.rsp, LINUX_STACK_TOP);
	assert_int_equal(f->entry.cr3, LINUX_PML4);
	assert_int_equal(f->entry.gdt_base, LINUX_GDT);
	assert_int_equal(f->entry.gdt_limit, 31);
	assert_int_equal(f->entry.kernel_addr, 0x1000000);
	assert_int_equal(f->entry.kernel_mem, 0x40000);
	assert_int_equal(f->entry.initrd_size, 0);
}

static void test_load_writes_boot_params(void **state)
{
	struct fx *f = *state;
	build(f);
	memset(guest_ram_ptr(&f->ram, LINUX_ZERO_PAGE, 4096), 0xEE, 4096); /* must be cleared */
	uint8_t initrd[5000];
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	assert_int_equal(load_with(f, "console=ttyS0 earlyprintk=serial", initrd, sizeof(initrd)),
			 0);
	const uint8_t *zp = gp(f, LINUX_ZERO_PAGE, LINUX_ZERO_PAGE_SIZE);
	/* The header is copied up to its end, and nothing past it. */
	assert_memory_equal(zp + BZ_HEADER, "HdrS", 4);
	assert_int_equal(rd(zp + BZ_BOOT_FLAG, 2), 0xAA55);
	assert_int_equal(rd(zp + BZ_VERSION, 2), 0x020f);
	assert_int_equal(rd(zp + BZ_XLOADFLAGS, 2), 0x0003);
	assert_int_equal(rd(zp + BZ_INIT_SIZE, 4), 0x40000);
	assert_int_equal(rd(zp + BZ_PREF_ADDRESS, 8), 0x1000000);
	for (unsigned off = 0x26c; off < LINUX_ZERO_PAGE_SIZE; off++)
		if (off < BP_E820_TABLE || off >= BP_E820_TABLE + 4 * BP_E820_ENTRY_SIZE)
			if (zp[off])
				fail_msg("boot_params byte 0x%x is 0x%02x", off, zp[off]);
	for (unsigned off = 0; off < 0x1f1; off++)
		if (zp[off] && off != BP_E820_ENTRIES && (off < BP_ACPI_RSDP_ADDR ||
							   off >= BP_ACPI_RSDP_ADDR + 8))
			fail_msg("boot_params byte 0x%x is 0x%02x", off, zp[off]);
	assert_int_equal(zp[BP_SENTINEL], 0);
	/* What the loader sets. */
	assert_int_equal(zp[BZ_TYPE_OF_LOADER], 0xff);
	assert_int_equal(rd(zp + BZ_CODE32_START, 4), 0x1000000);
	assert_int_equal(rd(zp + BZ_SETUP_DATA, 8), 0);
	assert_int_equal(rd(zp + BP_ACPI_RSDP_ADDR, 8), RSDP);
	uint64_t cl = rd(zp + BZ_CMD_LINE_PTR, 4);
	assert_int_equal(cl, LINUX_CMDLINE);
	assert_string_equal((const char *)gp(f, cl, 64), "console=ttyS0 earlyprintk=serial");
	uint64_t ri = rd(zp + BZ_RAMDISK_IMAGE, 4), rs = rd(zp + BZ_RAMDISK_SIZE, 4);
	assert_int_equal(rs, sizeof(initrd));
	assert_int_equal(ri % 4096, 0);
	assert_int_equal(ri, f->entry.initrd_addr);
	/* As high as it goes: the last page of RAM below 64 MiB holds its end. */
	assert_true(ri + rs <= RAM_SIZE && ri + rs > RAM_SIZE - 4096);
	assert_memory_equal(gp(f, ri, rs), initrd, sizeof(initrd));
	/* e820: the platform's map. */
	assert_int_equal(zp[BP_E820_ENTRIES], 3);
	static const uint64_t want[3][3] = {
		{ 0, 0x9FC00, 1 }, { 0x9FC00, 0x100000 - 0x9FC00, 2 },
		{ 0x100000, RAM_SIZE - 0x100000, 1 },
	};
	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *e = zp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;
		assert_int_equal(rd(e, 8), want[i][0]);
		assert_int_equal(rd(e + 8, 8), want[i][1]);
		assert_int_equal(rd(e + 16, 4), want[i][2]);
	}
}

/* Walk the loader's tables like the MMU: 4-level, 2 MiB pages. */
static uint64_t translate(struct fx *f, uint64_t va)
{
	uint64_t pml4e = rd(gp(f, f->entry.cr3 + 8 * ((va >> 39) & 511), 8), 8);
	assert_true(pml4e & 1);
	uint64_t pdpte = rd(gp(f, (pml4e & ~0xfffULL) + 8 * ((va >> 30) & 511), 8), 8);
	assert_true(pdpte & 1);
	assert_false(pdpte & 0x80);
	uint64_t pde = rd(gp(f, (pdpte & ~0xfffULL) + 8 * ((va >> 21) & 511), 8), 8);
	assert_true(pde & 1);
	assert_true(pde & 2);
	assert_true(pde & 0x80);
	return (pde & ~0x1fffffULL) + (va & 0x1fffff);
}

static void test_load_identity_maps_4g_and_writes_gdt(void **state)
{
	struct fx *f = *state;
	build(f);
	assert_int_equal(load_with(f, NULL, NULL, 0), 0);
	static const uint64_t va[] = { 0, LINUX_ZERO_PAGE, LINUX_CMDLINE, 0x1000200, 0x3fffff8,
				       0xC0000000, 0xFEC00000, 0xFFFFFFFF };
	for (size_t i = 0; i < sizeof(va) / sizeof(va[0]); i++)
		assert_int_equal(translate(f, va[i]), va[i]);
	const uint8_t *gdt = gp(f, LINUX_GDT, 32);
	assert_int_equal(rd(gdt, 8), 0);
	assert_int_equal(rd(gdt + 8, 8), 0);
	uint64_t cs = rd(gdt + LINUX_BOOT_CS, 8), ds = rd(gdt + LINUX_BOOT_DS, 8);
	assert_true(cs >> 47 & 1);          /* present */
	assert_int_equal(cs >> 43 & 1, 1);  /* code */
	assert_int_equal(cs >> 41 & 1, 1);  /* readable */
	assert_int_equal(cs >> 53 & 1, 1);  /* L: 64-bit */
	assert_int_equal(cs >> 54 & 1, 0);  /* D clear with L */
	assert_int_equal(cs >> 45 & 3, 0);  /* DPL 0 */
	assert_true(ds >> 47 & 1);
	assert_int_equal(ds >> 43 & 1, 0);  /* data */
	assert_int_equal(ds >> 41 & 1, 1);  /* writable */
	assert_int_equal(ds & 0xffff, 0xffff);        /* limit 0xfffff, 4 KiB units: 4 GiB */
	assert_int_equal(ds >> 48 & 0xf, 0xf);
	assert_int_equal(ds >> 55 & 1, 1);
	/* An empty command line is an empty string. */
	assert_int_equal(*gp(f, LINUX_CMDLINE, 1), 0);
}

static void test_load_initrd_below_initrd_addr_max(void **state)
{
	struct fx *f = *state;
	f->o.initrd_addr_max = 0x1FFFFFF; /* 32 MiB - 1, below RAM's end */
	build(f);
	uint8_t initrd[100] = { 9 };
	assert_int_equal(load_with(f, "", initrd, sizeof(initrd)), 0);
	assert_int_equal(f->entry.initrd_addr, 0x1FFF000);
	assert_int_equal(f->entry.initrd_size, 100);
}

static void assert_ram_untouched(struct fx *f)
{
	static const uint64_t spots[] = { 0x1000000, LINUX_ZERO_PAGE, LINUX_CMDLINE, LINUX_PML4,
					  LINUX_GDT, RAM_SIZE - 4096 };
	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++)
		assert_int_equal(*gp(f, spots[i], 1), 0xEE);
}

static void poison(struct fx *f)
{
	memset(f->ram.host, 0xEE, RAM_SIZE);
}

static void test_load_refuses_long_cmdline(void **state)
{
	struct fx *f = *state;
	f->o.cmdline_size = 16;
	build(f);
	poison(f);
	assert_int_equal(load_with(f, "0123456789abcdef", NULL, 0), 0); /* 16: fits */
	poison(f);
	assert_err(f, load_with(f, "0123456789abcdefg", NULL, 0), -E2BIG,
		   "kernel command line: 17 bytes, longer than the 16 the kernel takes "
		   "(cmdline_size)");
	assert_ram_untouched(f);
}

static void test_load_refuses_kernel_past_ram(void **state)
{
	struct fx *f = *state;
	f->o.init_size = 0x3800000; /* to 72 MiB; RAM is 64 MiB */
	build(f);
	poison(f);
	assert_err(f, load_with(f, "", NULL, 0), -ENOMEM,
		   "kernel: bzImage needs guest RAM [0x1000000, 0x4800000) (its load address and "
		   "init_size), but RAM below 4 GiB ends at 0x4000000; give --memory 72M or more");
	assert_ram_untouched(f);
}

static void test_load_refuses_initrd_too_big(void **state)
{
	struct fx *f = *state;
	build(f);
	poison(f);
	/* RAM 64 MiB, kernel ends at 0x1040000: 48 MiB + 1 page do not fit above it. */
	size_t n = (48U << 20) + 4096;
	uint8_t *initrd = calloc(1, n);
	assert_non_null(initrd);
	assert_err(f, load_with(f, "", initrd, n), -ENOMEM,
		   "initrd: 50335744 bytes do not fit in guest RAM between the kernel's end "
		   "0x1040000 and 0x4000000");
	assert_ram_untouched(f);
	/* initrd_addr_max lower than RAM's end decides too. */
	f->o.initrd_addr_max = 0x10FFFFF;
	build(f);
	assert_err(f, load_with(f, "", initrd, 0x100000), -ENOMEM,
		   "between the kernel's end 0x1040000 and 0x1100000");
	free(initrd);
	assert_ram_untouched(f);
}

static void test_load_refuses_bad_image_unchanged(void **state)
{
	struct fx *f = *state;
	f->o.version = 0x0204;
	build(f);
	poison(f);
	assert_err(f, load_with(f, "", NULL, 0), -ENOEXEC, "boot protocol 2.04 is too old");
	assert_ram_untouched(f);
	assert_err(f, linux_load(&f->ram, NULL, &f->entry, f->err, sizeof(f->err)), -EINVAL,
		   "linux: missing guest RAM, parameters or output");
}

static void test_e820_low_and_high_ram(void **state)
{
	(void)state;
	struct guest_ram ram;
	struct e820_entry e[PLATFORM_E820_MAX];
	assert_int_equal(guest_ram_layout(&ram, 5ULL << 30), 0);
	assert_int_equal(platform_e820(&ram, e), 4);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, 0x9FC00);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[1].addr, 0x9FC00);
	assert_int_equal(e[1].addr + e[1].size, 0x100000);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_int_equal(e[2].addr, 0x100000);
	assert_int_equal(e[2].addr + e[2].size, 0xC0000000);
	assert_int_equal(e[2].type, E820_RAM);
	assert_int_equal(e[3].addr, 0x100000000ULL);
	assert_int_equal(e[3].size, (5ULL << 30) - 0xC0000000);
	assert_int_equal(e[3].type, E820_RAM);
	assert_int_equal(guest_ram_layout(&ram, 2ULL << 20), 0);
	assert_int_equal(platform_e820(&ram, e), 3);
	assert_int_equal(e[2].size, 0x100000);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets_match_linux_bootparam_h),
		T(test_detect_needs_both_magics),
		T(test_parse_reads_the_header),
		T(test_parse_setup_sects_zero_means_four),
		T(test_parse_relocatable_load_address_aligned),
		T(test_parse_init_size_below_code_size_uses_code_size),
		T(test_parse_truncated_images),
		T(test_parse_rejects_old_protocols),
		T(test_parse_rejects_no_64bit_entry),
		T(test_parse_rejects_zimage),
		T(test_parse_rejects_bad_header_end),
		T(test_parse_rejects_bad_fields),
		T(test_load_places_kernel_and_entry),
		T(test_load_writes_boot_params),
		T(test_load_identity_maps_4g_and_writes_gdt),
		T(test_load_initrd_below_initrd_addr_max),
		T(test_load_refuses_long_cmdline),
		T(test_load_refuses_kernel_past_ram),
		T(test_load_refuses_initrd_too_big),
		T(test_load_refuses_bad_image_unchanged),
		cmocka_unit_test(test_e820_low_and_high_ram),
	};
	return cmocka_run_group_tests_name("linux_boot (DESIGN L1)", tests, NULL, NULL);
}
