/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the Multiboot loader (src/loader/multiboot.c): images built
 * in memory (tests/fuzz/mb_build.h), loaded into a real memfd guest RAM, and
 * everything that lands there checked; malformed images must fail with the
 * right errno and a message naming the problem, and never crash.
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

#include "../fuzz/mb_build.h"
#include "loader/mptable.h"
#include "loader/multiboot.h"
#include "mem/guest_ram.h"

#define RAM_SIZE (32ULL << 20)
#define IMG_CAP (64U << 10)
#define KNAME "kernel.elf"

struct fx {
	struct guest_ram ram;
	uint8_t img[IMG_CAP];
	size_t size;
	struct boot_entry entry;
	char err[256];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f || guest_ram_create(&f->ram, RAM_SIZE) != 0)
		return -1;
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

/* The standard kernel: text+bss at 1 MiB, data at 1 MiB + 16 KiB. */
static const struct mbb_seg std_segs[] = {
	{ .paddr = 0x100000, .filesz = 0x300, .memsz = 0x2000, .fill = 0x11 },
	{ .paddr = 0x104000, .filesz = 0x80, .memsz = 0x80, .flags = PF_R | PF_W, .fill = 0x55 },
};
#define STD_ENTRY 0x100010ULL
#define STD_INFO 0x105000U /* page after the kernel's last byte 0x10407f */

static void build_std(struct fx *f, int cls)
{
	f->size = mbb_elf(f->img, sizeof(f->img), cls, std_segs, 2, STD_ENTRY, 0x3);
	assert_true(f->size > 0);
}

static int load_full(struct fx *f, const char *kname, const char *cmdline, const void *initrd,
		     size_t initrd_size, const char *iname)
{
	struct boot_params bp = {
		.kernel = f->img, .kernel_size = f->size, .kernel_name = kname,
		.cmdline = cmdline, .initrd = initrd, .initrd_size = initrd_size,
		.initrd_name = iname,
	};
	memset(f->err, 0, sizeof(f->err));
	return multiboot_load(&f->ram, &bp, &f->entry, f->err, sizeof(f->err));
}

static int load(struct fx *f)
{
	return load_full(f, KNAME, "console=ttyS0", NULL, 0, NULL);
}

static void expect_fail(struct fx *f, int rc, const char *substr)
{
	int got = load(f);
	if (got != rc || !strstr(f->err, substr))
		print_error("expected %d with \"%s\", got %d: \"%s\"\n", rc, substr, got, f->err);
	assert_int_equal(got, rc);
	assert_non_null(strstr(f->err, substr));
}

static uint8_t *gp(struct fx *f, uint64_t gpa, uint64_t len)
{
	uint8_t *p = guest_ram_ptr(&f->ram, gpa, len);
	assert_non_null(p);
	return p;
}

static struct multiboot_info get_mbi(struct fx *f)
{
	struct multiboot_info mbi;
	memcpy(&mbi, gp(f, f->entry.ebx, sizeof(mbi)), sizeof(mbi));
	return mbi;
}

static const char *gstr(struct fx *f, uint32_t gpa)
{
	const char *s = (const char *)gp(f, gpa, 1);
	assert_non_null(memchr(s, '\0', 4096));
	return s;
}

/* Program header @i of the ELF32/64 image in @f, for patching. */
static uint8_t *phdr(struct fx *f, unsigned i)
{
	if (f->img[EI_CLASS] == ELFCLASS32)
		return f->img + sizeof(Elf32_Ehdr) + i * sizeof(Elf32_Phdr);
	return f->img + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr);
}

#define PATCH(ptr, type, field, value)                                              \
	do {                                                                        \
		type tmp_;                                                          \
		memcpy(&tmp_, (ptr), sizeof(tmp_));                                 \
		tmp_.field = (value);                                               \
		memcpy((ptr), &tmp_, sizeof(tmp_));                                 \
	} while (0)

/* ---- loading ---- */

static void test_multiboot_loads_elf32_segments_and_zeroes_bss(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	memset(gp(f, 0x100000, 0x6000), 0xAA, 0x6000);
	assert_int_equal(load(f), 0);
	const uint8_t *text = gp(f, 0x100000, 0x2000);
	for (unsigned k = 0; k < 0x300; k++)
		assert_int_equal(text[k], (uint8_t)(0x11 + k));
	for (unsigned k = 0x300; k < 0x2000; k++)
		assert_int_equal(text[k], 0);
	assert_int_equal(*gp(f, 0x102000, 1), 0xAA); /* gap between segments untouched */
	const uint8_t *data = gp(f, 0x104000, 0x80);
	for (unsigned k = 0; k < 0x80; k++)
		assert_int_equal(data[k], (uint8_t)(0x55 + k));
	assert_int_equal(f->entry.eip, STD_ENTRY);
	assert_int_equal(f->entry.eax, MULTIBOOT_BOOTLOADER_MAGIC);
	assert_int_equal(f->entry.ebx, MULTIBOOT_INFO_ADDR);
}

static void test_multiboot_loads_elf64_below_4g(void **state)
{
	struct fx *f = *state;
	struct mbb_seg s[] = { { .paddr = 0x200000, .filesz = 0x100, .memsz = 0x1000, .fill = 3 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 64, s, 1, 0x200040, 0);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->entry.eip, 0x200040);
	assert_memory_equal(gp(f, 0x200000, 0x100), f->img + MBB_ELF_DATA_OFF, 0x100);
	assert_int_equal(*gp(f, 0x200100, 1), 0);
	assert_int_equal(get_mbi(f).mods_addr, 0x201000);
}

static void test_multiboot_translates_entry_from_vaddr_to_paddr(void **state)
{
	struct fx *f = *state;
	/* Higher-half ELF64: linked at -2 GiB, loaded at 2 MiB; QEMU's rule. */
	struct mbb_seg s[] = { { .paddr = 0x200000, .vaddr = 0xFFFFFFFF80200000ULL,
				 .filesz = 0x100, .memsz = 0x100, .fill = 3 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 64, s, 1, 0xFFFFFFFF80200020ULL, 0);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->entry.eip, 0x200020);
}

static void test_multiboot_keeps_entry_outside_executable_segments(void **state)
{
	struct fx *f = *state;
	/* vaddr != paddr but the segment is not executable: no translation. */
	struct mbb_seg s[] = { { .paddr = 0x200000, .vaddr = 0x40200000, .filesz = 0x100,
				 .memsz = 0x100, .flags = PF_R | PF_W } };
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 1, 0x40200020, 0);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->entry.eip, 0x40200020);
}

static void test_multiboot_loads_aout_kludge_image(void **state)
{
	struct fx *f = *state;
	f->size = mbb_aout(f->img, sizeof(f->img), 0x40, 0x100000, 0x1000, 0x3000, 0x80);
	assert_true(f->size > 0);
	memset(gp(f, 0x100000, 0x4000), 0xAA, 0x4000);
	assert_int_equal(load(f), 0);
	assert_memory_equal(gp(f, 0x100000, 0x1000), f->img, 0x1000);
	const uint8_t *bss = gp(f, 0x101000, 0x3000);
	for (unsigned k = 0; k < 0x3000; k++)
		assert_int_equal(bss[k], 0);
	assert_int_equal(f->entry.eip, 0x100080);
	assert_int_equal(get_mbi(f).mods_addr, 0x104000);
}

static void test_multiboot_aout_kludge_loads_to_eof_without_load_end(void **state)
{
	struct fx *f = *state;
	f->size = mbb_aout(f->img, sizeof(f->img), 0x20, 0x300000, 0x1234, 0, 0x40);
	mbb_kludge(f->img + 0x20, 0x300020, 0x300000, 0, 0, 0x300040);
	assert_int_equal(load(f), 0);
	assert_memory_equal(gp(f, 0x300000, 0x1234), f->img, 0x1234);
	assert_int_equal(get_mbi(f).mods_addr, 0x302000);
}

static void test_multiboot_aout_kludge_overrides_elf64_headers(void **state)
{
	struct fx *f = *state;
	/* An ELF64 whose program headers say 2 MiB; the kludge says: the whole
	 * file at 3 MiB. The kludge wins, as in QEMU (which needs it for ELF64). */
	struct mbb_seg s[] = { { .paddr = 0x200000, .filesz = 0x100, .memsz = 0x100 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 64, s, 1, 0x200000, MBB_KLUDGE);
	mbb_kludge(f->img + MBB_ELF_HDR_OFF, 0x300000 + MBB_ELF_HDR_OFF, 0x300000, 0, 0x310000,
		   0x301000);
	assert_int_equal(load(f), 0);
	assert_memory_equal(gp(f, 0x300000, f->size), f->img, f->size);
	assert_int_equal(*gp(f, 0x200000, 1), 0);
	assert_int_equal(f->entry.eip, 0x301000);
	assert_int_equal(get_mbi(f).mods_addr, 0x310000);
}

static void test_multiboot_places_info_after_highest_segment(void **state)
{
	struct fx *f = *state;
	struct mbb_seg s[] = {
		{ .paddr = 0x400000, .filesz = 0x10, .memsz = 0x1801 },
		{ .paddr = 0x100000, .filesz = 0x10, .memsz = 0x10 },
	};
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 2, 0x100000, 0);
	assert_int_equal(load(f), 0);
	assert_int_equal(get_mbi(f).mods_addr, 0x402000);
}

/* ---- Multiboot information ---- */

static void test_multiboot_info_fields_match_qemu(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	assert_int_equal(load(f), 0);
	struct multiboot_info mbi = get_mbi(f);
	assert_int_equal(mbi.flags, MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_BOOTDEV |
					    MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MODS |
					    MULTIBOOT_INFO_MMAP | MULTIBOOT_INFO_LOADER_NAME);
	assert_int_equal(mbi.flags, 0x24F);
	assert_int_equal(mbi.mem_lower, 639);
	assert_int_equal(mbi.mem_upper, (RAM_SIZE - 0x100000) / 1024);
	assert_int_equal(mbi.boot_device, 0x8000FFFF);
	assert_int_equal(mbi.mods_count, 0);
	assert_int_equal(mbi.mods_addr, STD_INFO);
	assert_int_equal(mbi.mmap_addr, MULTIBOOT_MMAP_ADDR);
	assert_int_equal(mbi.mmap_length, 3 * 24);
	assert_int_equal(mbi.cmdline, STD_INFO);
	assert_string_equal(gstr(f, mbi.cmdline), KNAME " console=ttyS0");
	assert_int_equal(mbi.boot_loader_name, STD_INFO + sizeof(KNAME " console=ttyS0"));
	assert_string_equal(gstr(f, mbi.boot_loader_name), "ioreqvm");
	assert_int_equal(mbi.syms[0] | mbi.drives_length | mbi.drives_addr | mbi.config_table |
				 mbi.apm_table | mbi.vbe_control_info | mbi.vbe_mode_info,
			 0);
}

static void check_mmap_entry(struct fx *f, unsigned i, uint64_t addr, uint64_t len, uint32_t type)
{
	struct multiboot_mmap_entry e;
	memcpy(&e, gp(f, MULTIBOOT_MMAP_ADDR + i * sizeof(e), sizeof(e)), sizeof(e));
	assert_int_equal(e.size, 20);
	assert_int_equal(e.addr, addr);
	assert_int_equal(e.len, len);
	assert_int_equal(e.type, type);
}

static void test_multiboot_mmap_reports_low_ram_and_reserved_hole(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	assert_int_equal(load(f), 0);
	check_mmap_entry(f, 0, 0, 0x9FC00, MULTIBOOT_MMAP_RAM);
	check_mmap_entry(f, 1, 0x9FC00, 0x100000 - 0x9FC00, MULTIBOOT_MMAP_RESERVED);
	check_mmap_entry(f, 2, 0x100000, RAM_SIZE - 0x100000, MULTIBOOT_MMAP_RAM);
}

static void test_multiboot_mmap_reports_ram_above_4g(void **state)
{
	struct fx *f = *state;
	guest_ram_destroy(&f->ram);
	assert_int_equal(guest_ram_create(&f->ram, 6ULL << 30), 0);
	build_std(f, 32);
	assert_int_equal(load(f), 0);
	struct multiboot_info mbi = get_mbi(f);
	assert_int_equal(mbi.mmap_length, 4 * 24);
	assert_int_equal(mbi.mem_upper, (GUEST_PCI_HOLE_START - 0x100000) / 1024);
	check_mmap_entry(f, 2, 0x100000, GUEST_PCI_HOLE_START - 0x100000, MULTIBOOT_MMAP_RAM);
	check_mmap_entry(f, 3, 1ULL << 32, 3ULL << 30, MULTIBOOT_MMAP_RAM);
}

static void test_multiboot_cmdline_is_kernel_name_space_args(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	assert_int_equal(load_full(f, "/boot/k", NULL, NULL, 0, NULL), 0);
	assert_string_equal(gstr(f, get_mbi(f).cmdline), "/boot/k ");
	assert_int_equal(load_full(f, NULL, "a=1 b", NULL, 0, NULL), 0);
	assert_string_equal(gstr(f, get_mbi(f).cmdline), " a=1 b");
}

static void test_multiboot_initrd_is_module_0_after_info(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	uint8_t initrd[5000];
	for (unsigned k = 0; k < sizeof(initrd); k++)
		initrd[k] = (uint8_t)(k ^ 0x5A);
	const char *iname = "initrd.img arg=2";
	assert_int_equal(load_full(f, KNAME, "x", initrd, sizeof(initrd), iname), 0);
	struct multiboot_info mbi = get_mbi(f);
	assert_int_equal(mbi.mods_count, 1);
	assert_int_equal(mbi.mods_addr, STD_INFO);
	struct multiboot_mod mod;
	memcpy(&mod, gp(f, mbi.mods_addr, sizeof(mod)), sizeof(mod));
	/* QEMU order: module list, module cmdline, kernel cmdline, loader name. */
	assert_int_equal(mod.cmdline, STD_INFO + sizeof(mod));
	assert_string_equal(gstr(f, mod.cmdline), iname);
	assert_int_equal(mbi.cmdline, mod.cmdline + strlen(iname) + 1);
	assert_string_equal(gstr(f, mbi.cmdline), KNAME " x");
	assert_string_equal(gstr(f, mbi.boot_loader_name), "ioreqvm");
	assert_int_equal(mod.mod_start, STD_INFO + 0x1000);
	assert_int_equal(mod.mod_start % 4096, 0);
	assert_int_equal(mod.mod_end, mod.mod_start + sizeof(initrd));
	assert_int_equal(mod.reserved, 0);
	assert_memory_equal(gp(f, mod.mod_start, sizeof(initrd)), initrd, sizeof(initrd));
}

static void test_multiboot_empty_initrd_is_empty_module(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	static const uint8_t none[1];
	assert_int_equal(load_full(f, KNAME, "", none, 0, NULL), 0);
	struct multiboot_mod mod;
	memcpy(&mod, gp(f, get_mbi(f).mods_addr, sizeof(mod)), sizeof(mod));
	assert_int_equal(mod.mod_start, mod.mod_end);
	assert_string_equal(gstr(f, mod.cmdline), "");
}

/* ---- header flags ---- */

static void test_multiboot_ignores_video_mode_flag_as_qemu(void **state)
{
	struct fx *f = *state;
	f->size = mbb_elf(f->img, sizeof(f->img), 32, std_segs, 2, STD_ENTRY, 0x7);
	assert_int_equal(load(f), 0);
	assert_int_equal(get_mbi(f).flags & (1U << 11), 0); /* no VBE info claimed */
}

static void test_multiboot_accepts_unknown_optional_flags(void **state)
{
	struct fx *f = *state;
	f->size = mbb_elf(f->img, sizeof(f->img), 32, std_segs, 2, STD_ENTRY, 0x80000003);
	assert_int_equal(load(f), 0);
}

static void test_multiboot_rejects_unknown_required_flags(void **state)
{
	struct fx *f = *state;
	f->size = mbb_elf(f->img, sizeof(f->img), 32, std_segs, 2, STD_ENTRY, 0x8 | 0x3);
	expect_fail(f, -ENOEXEC, "unsupported features (bits 0x0008)");
}

/* ---- malformed images ---- */

static void test_multiboot_rejects_empty_file(void **state)
{
	struct fx *f = *state;
	f->size = 0;
	expect_fail(f, -ENOEXEC, "file is empty");
}

static void test_multiboot_rejects_missing_header(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	memset(f->img + MBB_ELF_HDR_OFF, 0, 12);
	expect_fail(f, -ENOEXEC, "no Multiboot header");
}

static void test_multiboot_rejects_bad_checksum(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	f->img[MBB_ELF_HDR_OFF + 8] ^= 1;
	expect_fail(f, -ENOEXEC, "offset 0x800 has a bad checksum");
}

static void test_multiboot_rejects_header_past_8k(void **state)
{
	struct fx *f = *state;
	struct mbb_seg s[] = { { .paddr = 0x100000, .filesz = 0x3000, .memsz = 0x3000 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 1, 0x100000, 0);
	memset(f->img + MBB_ELF_HDR_OFF, 0, 12);
	mbb_header(f->img + 8192, 0);
	expect_fail(f, -ENOEXEC, "no Multiboot header");
}

static void test_multiboot_header_search_stops_where_qemu_does(void **state)
{
	struct fx *f = *state;
	struct mbb_seg s[] = { { .paddr = 0x100000, .filesz = 0x3000, .memsz = 0x3000 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 1, 0x100000, 0);
	memset(f->img + MBB_ELF_HDR_OFF, 0, 12);
	mbb_header(f->img + MULTIBOOT_SEARCH_END - 4, 0);
	assert_int_equal(load(f), 0);
	memset(f->img + MULTIBOOT_SEARCH_END - 4, 0, 12);
	mbb_header(f->img + MULTIBOOT_SEARCH_END, 0);
	expect_fail(f, -ENOEXEC, "no Multiboot header");
}

static void test_multiboot_rejects_header_cut_off_by_eof(void **state)
{
	struct fx *f = *state;
	/* Valid magic/checksum in the last 12 bytes, kludge fields missing. */
	f->size = 64;
	memset(f->img, 0, f->size);
	mbb_header(f->img + 52, MBB_KLUDGE);
	expect_fail(f, -ENOEXEC, "cut off");
}

static void test_multiboot_rejects_non_elf_without_kludge(void **state)
{
	struct fx *f = *state;
	f->size = 256;
	memset(f->img, 0x90, f->size);
	mbb_header(f->img + 16, 0x3);
	expect_fail(f, -ENOEXEC, "not an ELF file");
}

static void test_multiboot_rejects_truncated_elf_header(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	/* 40 bytes: the ELF ident, then a Multiboot header inside the ELF header. */
	f->size = 40;
	mbb_header(f->img + 16, 0x3);
	expect_fail(f, -ENOEXEC, "truncated ELF header");
	build_std(f, 64);
	f->size = 60;
	mbb_header(f->img + 16, 0x3);
	expect_fail(f, -ENOEXEC, "truncated ELF header");
}

static void test_multiboot_rejects_wrong_elf_machine(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	PATCH(f->img, Elf32_Ehdr, e_machine, EM_X86_64);
	expect_fail(f, -ENOEXEC, "is not x86");
	build_std(f, 64);
	PATCH(f->img, Elf64_Ehdr, e_machine, EM_386);
	expect_fail(f, -ENOEXEC, "is not x86");
}

static void test_multiboot_rejects_bad_elf_class_and_type(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	f->img[EI_CLASS] = 3;
	expect_fail(f, -ENOEXEC, "neither ELF32 nor ELF64");
	build_std(f, 32);
	f->img[EI_DATA] = ELFDATA2MSB;
	expect_fail(f, -ENOEXEC, "not little-endian");
	build_std(f, 32);
	PATCH(f->img, Elf32_Ehdr, e_type, ET_REL);
	expect_fail(f, -ENOEXEC, "not an executable");
	build_std(f, 32);
	PATCH(f->img, Elf32_Ehdr, e_phentsize, 20);
	expect_fail(f, -ENOEXEC, "e_phentsize 20");
	build_std(f, 32);
	PATCH(f->img, Elf32_Ehdr, e_phnum, 0);
	expect_fail(f, -ENOEXEC, "no program headers");
}

static void test_multiboot_rejects_phdr_table_past_eof(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	PATCH(f->img, Elf32_Ehdr, e_phoff, (uint32_t)f->size - 40);
	expect_fail(f, -ENOEXEC, "program header table");
	build_std(f, 64);
	PATCH(f->img, Elf64_Ehdr, e_phoff, UINT64_MAX - 8); /* phoff + size wraps */
	expect_fail(f, -ENOEXEC, "program header table");
	build_std(f, 64);
	PATCH(f->img, Elf64_Ehdr, e_phnum, 0xFFFF);
	expect_fail(f, -ENOEXEC, "extends past end of file");
}

static void test_multiboot_rejects_segment_past_eof(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	PATCH(phdr(f, 1), Elf32_Phdr, p_offset, (uint32_t)f->size - 0x10);
	expect_fail(f, -ENOEXEC, "program header 1: file bytes at offset");
	build_std(f, 64);
	PATCH(phdr(f, 0), Elf64_Phdr, p_offset, UINT64_MAX - 4); /* offset + filesz wraps */
	expect_fail(f, -ENOEXEC, "extend past end of file");
}

static void test_multiboot_accepts_bss_only_segment_with_offset_past_eof(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	PATCH(phdr(f, 1), Elf32_Phdr, p_filesz, 0);
	PATCH(phdr(f, 1), Elf32_Phdr, p_offset, 0x7FFFFFFF); /* never read: nothing to copy */
	memset(gp(f, 0x104000, 0x80), 0xAA, 0x80);
	assert_int_equal(load(f), 0);
	assert_int_equal(*gp(f, 0x104000, 1), 0);
	assert_int_equal(*gp(f, 0x10407F, 1), 0);
}

static void test_multiboot_rejects_filesz_above_memsz(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	PATCH(phdr(f, 1), Elf32_Phdr, p_memsz, 0x7F);
	expect_fail(f, -ENOEXEC, "program header 1: p_filesz 0x80 exceeds p_memsz 0x7f");
}

static void test_multiboot_rejects_segment_past_ram_end(void **state)
{
	struct fx *f = *state;
	struct mbb_seg s[] = { { .paddr = 0x100000, .filesz = 0x10, .memsz = 0x4F00000 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 1, 0x100000, 0);
	expect_fail(f, -ENOMEM,
		    "kernel: program header 0: segment [0x100000, 0x5000000) extends past guest "
		    "RAM end 0x2000000");
}

static void test_multiboot_rejects_segment_in_pci_hole(void **state)
{
	struct fx *f = *state;
	guest_ram_destroy(&f->ram);
	assert_int_equal(guest_ram_create(&f->ram, 6ULL << 30), 0);
	struct mbb_seg s[] = { { .paddr = 0xD0000000, .filesz = 0x10, .memsz = 0x1000 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 1, 0xD0000000, 0);
	expect_fail(f, -ENOMEM, "extends past guest RAM end 0xc0000000");
}

static void test_multiboot_rejects_segment_in_legacy_hole(void **state)
{
	struct fx *f = *state;
	struct mbb_seg s[] = { { .paddr = 0xB8000, .filesz = 0x10, .memsz = 0x1000 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 1, 0xB8000, 0);
	expect_fail(f, -ENOEXEC, "overlaps the legacy hole");
}

static void test_multiboot_rejects_segment_over_mptable(void **state)
{
	struct fx *f = *state;
	struct mbb_seg s[] = { { .paddr = MPTABLE_START - 0x10, .filesz = 0x10, .memsz = 0x20 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 1, 0x100000, 0);
	expect_fail(f, -ENOEXEC, "overlaps the MP table");
}

static void test_multiboot_rejects_segment_over_info_area_and_page_0(void **state)
{
	struct fx *f = *state;
	struct mbb_seg s[] = { { .paddr = 0x8000, .filesz = 0x10, .memsz = 0x1001 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 1, 0x8000, 0);
	expect_fail(f, -ENOEXEC, "overlaps the Multiboot info area");
	s[0].paddr = 0;
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 1, 0, 0);
	expect_fail(f, -ENOEXEC, "overlaps page 0");
	s[0].paddr = 0x9FB00;
	s[0].memsz = 0x200;
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 1, 0x9FB00, 0);
	expect_fail(f, -ENOEXEC, "overlaps the EBDA");
}

static void test_multiboot_loads_kernel_in_low_memory(void **state)
{
	struct fx *f = *state;
	/* Below 1 MiB but clear of reserved areas: allowed (QEMU allows it). */
	struct mbb_seg s[] = { { .paddr = 0x10000, .filesz = 0x10, .memsz = 0x1000 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 1, 0x10000, 0);
	assert_int_equal(load(f), 0);
	assert_int_equal(get_mbi(f).mods_addr, 0x11000);
}

static void test_multiboot_rejects_module_running_into_reserved_area(void **state)
{
	struct fx *f = *state;
	struct mbb_seg s[] = { { .paddr = 0x1000, .filesz = 0x10, .memsz = 0x6000 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 1, 0x1000, 0);
	static uint8_t initrd[0x3000];
	assert_int_equal(load_full(f, KNAME, "", initrd, sizeof(initrd), "m"), -ENOMEM);
	assert_non_null(strstr(f->err, "initrd: module [0x8000, 0xb000) overlaps the Multiboot info area"));
}

static void test_multiboot_rejects_overlapping_segments(void **state)
{
	struct fx *f = *state;
	struct mbb_seg s[] = {
		{ .paddr = 0x101000, .filesz = 0x10, .memsz = 0x1000 },
		{ .paddr = 0x100000, .filesz = 0x10, .memsz = 0x1001 },
	};
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 2, 0x100000, 0);
	expect_fail(f, -ENOEXEC, "program headers 1 and 0 overlap");
}

static void test_multiboot_rejects_segment_above_4g(void **state)
{
	struct fx *f = *state;
	struct mbb_seg s[] = { { .paddr = 0xFFFFF000, .filesz = 0x10, .memsz = 0x2000 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 1, 0x100000, 0);
	expect_fail(f, -ENOEXEC, "extends above 4 GiB");
	s[0].paddr = UINT64_MAX - 0xFFF; /* paddr + memsz wraps */
	f->size = mbb_elf(f->img, sizeof(f->img), 64, s, 1, 0x100000, 0);
	expect_fail(f, -ENOEXEC, "extends above 4 GiB");
	s[0].paddr = 1ULL << 32;
	f->size = mbb_elf(f->img, sizeof(f->img), 64, s, 1, 0x100000, 0);
	expect_fail(f, -ENOEXEC, "extends above 4 GiB");
}

static void test_multiboot_rejects_entry_above_4g(void **state)
{
	struct fx *f = *state;
	struct mbb_seg s[] = { { .paddr = 0x200000, .filesz = 0x10, .memsz = 0x10 } };
	f->size = mbb_elf(f->img, sizeof(f->img), 64, s, 1, 0x100000000ULL, 0);
	expect_fail(f, -ENOEXEC, "entry point 0x100000000 is above 4 GiB");
}

static void test_multiboot_rejects_elf_without_loadable_segment(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	PATCH(phdr(f, 0), Elf32_Phdr, p_type, PT_NOTE);
	PATCH(phdr(f, 1), Elf32_Phdr, p_memsz, 0);
	PATCH(phdr(f, 1), Elf32_Phdr, p_filesz, 0);
	expect_fail(f, -ENOEXEC, "no loadable segment");
}

/* ---- a.out kludge inconsistencies ---- */

static void build_aout(struct fx *f)
{
	f->size = mbb_aout(f->img, sizeof(f->img), 0x40, 0x100000, 0x1000, 0x1000, 0x80);
	assert_true(f->size > 0);
}

static void test_multiboot_rejects_kludge_load_end_below_load_addr(void **state)
{
	struct fx *f = *state;
	build_aout(f);
	mbb_kludge(f->img + 0x40, 0x100040, 0x100000, 0xFFFFF, 0, 0x100080);
	expect_fail(f, -ENOEXEC, "load_end_addr 0xfffff is below load_addr 0x100000");
}

static void test_multiboot_rejects_kludge_header_addr_below_load_addr(void **state)
{
	struct fx *f = *state;
	build_aout(f);
	mbb_kludge(f->img + 0x40, 0xFFFFF, 0x100000, 0x101000, 0, 0x100080);
	expect_fail(f, -ENOEXEC, "header_addr 0xfffff is below load_addr 0x100000");
}

static void test_multiboot_rejects_kludge_header_addr_not_matching_offset(void **state)
{
	struct fx *f = *state;
	build_aout(f);
	/* header_addr - load_addr = 0x41 > header offset 0x40: text before file start. */
	mbb_kludge(f->img + 0x40, 0x100041, 0x100000, 0x101000, 0, 0x100080);
	expect_fail(f, -ENOEXEC, "does not match the header's file offset 0x40");
}

static void test_multiboot_rejects_kludge_load_past_eof(void **state)
{
	struct fx *f = *state;
	build_aout(f);
	mbb_kludge(f->img + 0x40, 0x100040, 0x100000, 0x101001, 0, 0x100080);
	expect_fail(f, -ENOEXEC, "past end of file");
}

static void test_multiboot_rejects_kludge_bss_end_below_load_end(void **state)
{
	struct fx *f = *state;
	build_aout(f);
	mbb_kludge(f->img + 0x40, 0x100040, 0x100000, 0x101000, 0x100FFF, 0x100080);
	expect_fail(f, -ENOEXEC, "bss_end_addr 0x100fff is below the end of the loaded image");
}

static void test_multiboot_rejects_kludge_image_above_4g(void **state)
{
	struct fx *f = *state;
	build_aout(f);
	mbb_kludge(f->img + 0x40, 0xFFFFF840, 0xFFFFF800, 0, 0, 0xFFFFF800);
	expect_fail(f, -ENOEXEC, "extends above 4 GiB");
}

static void test_multiboot_rejects_kludge_empty_image(void **state)
{
	struct fx *f = *state;
	build_aout(f);
	mbb_kludge(f->img + 0x40, 0x100040, 0x100040, 0x100040, 0, 0x100040);
	expect_fail(f, -ENOEXEC, "image is empty");
}

static void test_multiboot_rejects_kludge_image_in_legacy_hole(void **state)
{
	struct fx *f = *state;
	build_aout(f);
	mbb_kludge(f->img + 0x40, 0xF0040, 0xF0000, 0, 0, 0xF0080);
	expect_fail(f, -ENOEXEC, "kernel: a.out kludge: image [0xf0000, 0xf1000) overlaps the MP table");
}

/* ---- modules and parameters ---- */

static void test_multiboot_rejects_module_past_ram_end(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	size_t big = 64U << 20;
	uint8_t *initrd = calloc(1, big);
	assert_non_null(initrd);
	assert_int_equal(load_full(f, KNAME, "", initrd, big, "big"), -ENOMEM);
	assert_non_null(strstr(f->err, "initrd: module [0x106000, 0x4106000) extends past guest RAM end"));
	free(initrd);
}

static void test_multiboot_rejects_module_over_32_bits(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	/* The size is refused before a single byte is read: a 1-byte buffer is safe. */
	static const uint8_t one[1];
	assert_int_equal(load_full(f, KNAME, "", one, (size_t)UINT32_MAX + 1, "x"), -E2BIG);
	assert_non_null(strstr(f->err, "32-bit module fields"));
}

static void test_multiboot_rejects_bad_params(void **state)
{
	struct fx *f = *state;
	build_std(f, 32);
	struct boot_params bp = { .kernel = f->img, .kernel_size = f->size };
	assert_int_equal(multiboot_load(NULL, &bp, &f->entry, f->err, sizeof(f->err)), -EINVAL);
	assert_int_equal(multiboot_load(&f->ram, NULL, &f->entry, f->err, sizeof(f->err)), -EINVAL);
	assert_int_equal(multiboot_load(&f->ram, &bp, NULL, NULL, 0), -EINVAL);
	bp.kernel = NULL;
	assert_int_equal(multiboot_load(&f->ram, &bp, &f->entry, f->err, sizeof(f->err)), -EINVAL);
	bp.kernel = f->img;
	bp.initrd_size = 1;
	assert_int_equal(multiboot_load(&f->ram, &bp, &f->entry, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "NULL kernel or initrd buffer"));
	struct guest_ram unmapped;
	assert_int_equal(guest_ram_layout(&unmapped, RAM_SIZE), 0);
	bp.initrd_size = 0;
	assert_int_equal(multiboot_load(&unmapped, &bp, &f->entry, NULL, 0), -EINVAL);
}

static void test_multiboot_leaves_ram_untouched_on_error(void **state)
{
	struct fx *f = *state;
	struct mbb_seg s[] = {
		{ .paddr = 0x100000, .filesz = 0x100, .memsz = 0x100, .fill = 9 },
		{ .paddr = 0xC0000, .filesz = 0x10, .memsz = 0x10 },
	};
	f->size = mbb_elf(f->img, sizeof(f->img), 32, s, 2, 0x100000, 0);
	expect_fail(f, -ENOEXEC, "program header 1: segment [0xc0000, 0xc0010) overlaps the legacy hole");
	const uint8_t *low = gp(f, 0, 0x200000);
	for (size_t k = 0; k < 0x200000; k++)
		if (low[k])
			fail_msg("guest byte 0x%zx written despite the error", k);
}

static void test_multiboot_error_fits_small_buffer(void **state)
{
	struct fx *f = *state;
	f->size = 0;
	char small[8];
	memset(small, 'x', sizeof(small));
	struct boot_params bp = { .kernel = f->img };
	assert_int_equal(multiboot_load(&f->ram, &bp, &f->entry, small, sizeof(small)), -ENOEXEC);
	assert_string_equal(small, "kernel:");
}

/* ---- robustness ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_multiboot_survives_random_corruption(void **state)
{
	struct fx *f = *state;
	uint8_t base[3][IMG_CAP];
	size_t base_size[3];
	base_size[0] = mbb_elf(base[0], IMG_CAP, 32, std_segs, 2, STD_ENTRY, 0x3);
	base_size[1] = mbb_elf(base[1], IMG_CAP, 64, std_segs, 2, STD_ENTRY, 0x3);
	base_size[2] = mbb_aout(base[2], IMG_CAP, 0x40, 0x100000, 0x1000, 0x1000, 0x80);
	static const uint8_t initrd[100];
	unsigned ok = 0;
	for (unsigned iter = 0; iter < 4000; iter++) {
		unsigned b = iter % 3;
		size_t size = base_size[b];
		uint8_t *img = malloc(size);
		assert_non_null(img);
		memcpy(img, base[b], size);
		unsigned flips = 1 + rnd() % 8;
		for (unsigned k = 0; k < flips; k++) {
			/* Mostly ELF header and phdrs, the Multiboot headers, else anywhere. */
			static const size_t zone[4][2] = {
				{ 0, 0xC0 }, { 0x40, 0x20 }, { MBB_ELF_HDR_OFF, 0x20 }, { 0, SIZE_MAX },
			};
			unsigned z = rnd() % 4;
			size_t at = (zone[z][0] + rnd() % zone[z][1]) % size;
			if (rnd() % 2)
				img[at] ^= (uint8_t)(1U << (rnd() % 8));
			else
				img[at] = (uint8_t)rnd();
		}
		if (rnd() % 4 == 0)
			size = rnd() % (size + 1);
		/* Exact-size heap copy so ASan sees any read past the end. */
		uint8_t *exact = malloc(size ? size : 1);
		assert_non_null(exact);
		memcpy(exact, img, size);
		struct boot_params bp = {
			.kernel = exact, .kernel_size = size, .kernel_name = "k",
			.initrd = iter % 2 ? initrd : NULL, .initrd_size = iter % 2 ? sizeof(initrd) : 0,
		};
		int rc = multiboot_load(&f->ram, &bp, &f->entry, f->err, sizeof(f->err));
		if (rc == 0) {
			ok++;
			assert_int_equal(f->entry.eax, MULTIBOOT_BOOTLOADER_MAGIC);
		} else {
			assert_true(rc == -ENOEXEC || rc == -ENOMEM || rc == -E2BIG);
			assert_true(strlen(f->err) > 0);
		}
		free(exact);
		free(img);
	}
	print_message("%u of 4000 corrupted images loaded\n", ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_multiboot_loads_elf32_segments_and_zeroes_bss),
		T(test_multiboot_loads_elf64_below_4g),
		T(test_multiboot_translates_entry_from_vaddr_to_paddr),
		T(test_multiboot_keeps_entry_outside_executable_segments),
		T(test_multiboot_loads_aout_kludge_image),
		T(test_multiboot_aout_kludge_loads_to_eof_without_load_end),
		T(test_multiboot_aout_kludge_overrides_elf64_headers),
		T(test_multiboot_places_info_after_highest_segment),
		T(test_multiboot_info_fields_match_qemu),
		T(test_multiboot_mmap_reports_low_ram_and_reserved_hole),
		T(test_multiboot_mmap_reports_ram_above_4g),
		T(test_multiboot_cmdline_is_kernel_name_space_args),
		T(test_multiboot_initrd_is_module_0_after_info),
		T(test_multiboot_empty_initrd_is_empty_module),
		T(test_multiboot_ignores_video_mode_flag_as_qemu),
		T(test_multiboot_accepts_unknown_optional_flags),
		T(test_multiboot_rejects_unknown_required_flags),
		T(test_multiboot_rejects_empty_file),
		T(test_multiboot_rejects_missing_header),
		T(test_multiboot_rejects_bad_checksum),
		T(test_multiboot_rejects_header_past_8k),
		T(test_multiboot_header_search_stops_where_qemu_does),
		T(test_multiboot_rejects_header_cut_off_by_eof),
		T(test_multiboot_rejects_non_elf_without_kludge),
		T(test_multiboot_rejects_truncated_elf_header),
		T(test_multiboot_rejects_wrong_elf_machine),
		T(test_multiboot_rejects_bad_elf_class_and_type),
		T(test_multiboot_rejects_phdr_table_past_eof),
		T(test_multiboot_rejects_segment_past_eof),
		T(test_multiboot_accepts_bss_only_segment_with_offset_past_eof),
		T(test_multiboot_rejects_filesz_above_memsz),
		T(test_multiboot_rejects_segment_past_ram_end),
		T(test_multiboot_rejects_segment_in_pci_hole),
		T(test_multiboot_rejects_segment_in_legacy_hole),
		T(test_multiboot_rejects_segment_over_mptable),
		T(test_multiboot_rejects_segment_over_info_area_and_page_0),
		T(test_multiboot_loads_kernel_in_low_memory),
		T(test_multiboot_rejects_module_running_into_reserved_area),
		T(test_multiboot_rejects_overlapping_segments),
		T(test_multiboot_rejects_segment_above_4g),
		T(test_multiboot_rejects_entry_above_4g),
		T(test_multiboot_rejects_elf_without_loadable_segment),
		T(test_multiboot_rejects_kludge_load_end_below_load_addr),
		T(test_multiboot_rejects_kludge_header_addr_below_load_addr),
		T(test_multiboot_rejects_kludge_header_addr_not_matching_offset),
		T(test_multiboot_rejects_kludge_load_past_eof),
		T(test_multiboot_rejects_kludge_bss_end_below_load_end),
		T(test_multiboot_rejects_kludge_image_above_4g),
		T(test_multiboot_rejects_kludge_empty_image),
		T(test_multiboot_rejects_kludge_image_in_legacy_hole),
		T(test_multiboot_rejects_module_past_ram_end),
		T(test_multiboot_rejects_module_over_32_bits),
		T(test_multiboot_rejects_bad_params),
		T(test_multiboot_leaves_ram_untouched_on_error),
		T(test_multiboot_error_fits_small_buffer),
		T(test_multiboot_survives_random_corruption),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
