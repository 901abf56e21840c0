/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of host-side kernel decompression (DESIGN L1:
 * src/loader/kernel_payload.c, vmlinux_elf.c, and linux_load with a
 * vmlinux): synthetic vmlinux ELFs (tests/fuzz/vmlinux_build.h) compressed
 * here with the same libraries (xz, gzip, zstd, lz4 in the kernel's legacy
 * framing, each with the kernel's 4-byte size trailer) and put into a
 * synthetic bzImage's payload (tests/fuzz/bz_build.h); what comes out is
 * compared byte for byte, and what linux_load writes into a real memfd
 * guest RAM is read back: each segment at load address + p_paddr -
 * pref_address, its bss zeroed, RIP at startup_64. Every malformed
 * payload or ELF fails with its errno and a message naming the problem.
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

#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "../fuzz/bz_build.h"
#include "../fuzz/vmlinux_build.h"
#include "loader/bzimage.h"
#include "loader/kernel_payload.h"
#include "loader/linux_boot.h"
#include "loader/vmlinux_elf.h"
#include "mem/guest_ram.h"

#define RAM_SIZE (64ULL << 20)
#define CAP (256U << 10)

struct fx {
	struct guest_ram ram;
	uint8_t elf[CAP];
	size_t elf_size;
	uint8_t z[CAP]; /* the compressed stream and its trailer */
	size_t z_size;
	uint8_t img[2 * CAP];
	size_t img_size;
	struct bzimage_info bz;
	uint8_t *out;
	size_t out_size;
	struct linux_entry entry;
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
	free(f->out);
	guest_ram_destroy(&f->ram);
	free(f);
	return 0;
}

static void assert_err(struct fx *f, int rc, int want, const char *needle)
{
	assert_int_equal(rc, want);
	if (!strstr(f->err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", f->err, needle);
}

static void build_elf(struct fx *f, const struct vmb_opts *o)
{
	f->elf_size = vmb_image(f->elf, sizeof(f->elf), o);
	assert_true(f->elf_size > 0);
}

/* The kernel's size_append: the decompressed size, 4 bytes little endian. */
static void append_size(struct fx *f, uint32_t size)
{
	bzb_le(f->z + f->z_size, size, 4);
	f->z_size += 4;
}

static void compress_xz(struct fx *f)
{
	size_t pos = 0;
	assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, f->elf, f->elf_size,
						 f->z, &pos, sizeof(f->z) - 4),
			 LZMA_OK);
	f->z_size = pos;
	append_size(f, (uint32_t)f->elf_size);
}

/* gzip's own trailer (CRC32, ISIZE) is the size the kernel reads. */
static void compress_gzip(struct fx *f)
{
	z_stream s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	s.next_in = f->elf;
	s.avail_in = (uInt)f->elf_size;
	s.next_out = f->z;
	s.avail_out = sizeof(f->z);
	assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
	f->z_size = sizeof(f->z) - s.avail_out;
	deflateEnd(&s);
}

static void compress_zstd(struct fx *f)
{
	size_t n = ZSTD_compress(f->z, sizeof(f->z) - 4, f->elf, f->elf_size, 19);
	assert_false(ZSTD_isError(n));
	f->z_size = n;
	append_size(f, (uint32_t)f->elf_size);
}

/* "lz4 -l": the legacy magic, then (u32 size, block) per 8 MiB of input. */
static void compress_lz4(struct fx *f)
{
	bzb_le(f->z, 0x184C2102, 4);
	int n = LZ4_compress_default((const char *)f->elf, (char *)f->z + 8, (int)f->elf_size,
				     (int)sizeof(f->z) - 12);
	assert_true(n > 0);
	bzb_le(f->z + 4, (uint32_t)n, 4);
	f->z_size = 8 + (size_t)n;
	append_size(f, (uint32_t)f->elf_size);
}

/* A bzImage whose payload (at payload_offset 0x100 of the code) is f->z. */
static void build_bzimage(struct fx *f)
{
	struct bzb_opts o = bzb_defaults();
	o.payload_offset = 0x100;
	o.payload_length = (uint32_t)f->z_size;
	o.pm_size = (uint32_t)((0x100 + f->z_size + 0x200 + 15) & ~(size_t)15);
	f->img_size = bzb_image(f->img, sizeof(f->img), &o);
	assert_true(f->img_size > 0);
	memcpy(f->img + (o.setup_sects + 1) * 512 + 0x100, f->z, f->z_size);
	assert_int_equal(bzimage_parse(f->img, f->img_size, &f->bz, NULL, 0), 0);
}

static int decompress(struct fx *f, enum kpayload_format *fmt)
{
	free(f->out);
	f->out = NULL;
	memset(f->err, 0, sizeof(f->err));
	return kpayload_decompress(f->img, f->img_size, &f->bz, 0, &f->out, &f->out_size, fmt,
				   f->err, sizeof(f->err));
}

static void assert_round_trip(struct fx *f, enum kpayload_format want)
{
	build_bzimage(f);
	enum kpayload_format fmt = KPAYLOAD_UNKNOWN;
	assert_int_equal(decompress(f, &fmt), 0);
	assert_int_equal(fmt, want);
	assert_int_equal(f->out_size, f->elf_size);
	assert_memory_equal(f->out, f->elf, f->elf_size);
}

static void test_detect_by_magic_only(void **state)
{
	(void)state;
	static const struct {
		const char *magic;
		size_t len;
		enum kpayload_format f;
		const char *name;
	} tab[] = {
		{ "\xFD" "7zXZ\0", 6, KPAYLOAD_XZ, "xz" },
		{ "\x1F\x8B\x08", 3, KPAYLOAD_GZIP, "gzip" },
		{ "\x28\xB5\x2F\xFD", 4, KPAYLOAD_ZSTD, "zstd" },
		{ "\x02\x21\x4C\x18", 4, KPAYLOAD_LZ4, "lz4" },
		{ "BZh", 3, KPAYLOAD_BZIP2, "bzip2" },
		{ "\x89LZO", 4, KPAYLOAD_LZO, "lzo" },
		{ "\x5D\0\0", 3, KPAYLOAD_LZMA, "lzma" },
		{ "\x7F" "ELF", 4, KPAYLOAD_UNKNOWN, "unknown" },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		assert_int_equal(kpayload_detect((const uint8_t *)tab[i].magic, tab[i].len), tab[i].f);
		assert_string_equal(kpayload_name(tab[i].f), tab[i].name);
		/* One byte short is not enough (no magic is a prefix of another). */
		assert_int_equal(kpayload_detect((const uint8_t *)tab[i].magic, tab[i].len - 1),
				 KPAYLOAD_UNKNOWN);
	}
	assert_int_equal(kpayload_detect(NULL, 0), KPAYLOAD_UNKNOWN);
	assert_true(kpayload_supported(KPAYLOAD_XZ));
	assert_true(kpayload_supported(KPAYLOAD_GZIP));
	assert_true(kpayload_supported(KPAYLOAD_ZSTD));
	assert_true(kpayload_supported(KPAYLOAD_LZ4));
	assert_false(kpayload_supported(KPAYLOAD_BZIP2));
	assert_false(kpayload_supported(KPAYLOAD_UNKNOWN));
}

static void test_xz_round_trip(void **state)
{
	struct fx *f = *state;
	struct vmb_opts o = vmb_defaults();
	build_elf(f, &o);
	compress_xz(f);
	assert_round_trip(f, KPAYLOAD_XZ);
}

static void test_gzip_round_trip(void **state)
{
	struct fx *f = *state;
	struct vmb_opts o = vmb_defaults();
	build_elf(f, &o);
	compress_gzip(f);
	assert_round_trip(f, KPAYLOAD_GZIP);
}

static void test_zstd_round_trip(void **state)
{
	struct fx *f = *state;
	struct vmb_opts o = vmb_defaults();
	build_elf(f, &o);
	compress_zstd(f);
	assert_round_trip(f, KPAYLOAD_ZSTD);
}

static void test_lz4_round_trip(void **state)
{
	struct fx *f = *state;
	struct vmb_opts o = vmb_defaults();
	build_elf(f, &o);
	compress_lz4(f);
	assert_round_trip(f, KPAYLOAD_LZ4);
}

/* The trailer must state exactly what the stream decodes to. */
static void test_trailer_size_must_match(void **state)
{
	struct fx *f = *state;
	struct vmb_opts o = vmb_defaults();
	build_elf(f, &o);
	void (*comp[])(struct fx *) = { compress_xz, compress_zstd, compress_lz4 };
	for (size_t i = 0; i < 3; i++) {
		comp[i](f);
		bzb_le(f->z + f->z_size - 4, f->elf_size + 1, 4);
		build_bzimage(f);
		assert_err(f, decompress(f, NULL), -ENOEXEC, "bytes");
		assert_null(f->out);
		comp[i](f);
		bzb_le(f->z + f->z_size - 4, f->elf_size - 1, 4);
		build_bzimage(f);
		assert_err(f, decompress(f, NULL), -ENOEXEC, "");
		assert_null(f->out);
	}
	compress_gzip(f);
	bzb_le(f->z + f->z_size - 4, f->elf_size - 1, 4);
	build_bzimage(f);
	assert_err(f, decompress(f, NULL), -ENOEXEC, "gzip");
	compress_xz(f);
	bzb_le(f->z + f->z_size - 4, 0, 4);
	build_bzimage(f);
	assert_err(f, decompress(f, NULL), -ENOEXEC, "trailer says the kernel is 0 bytes");
	bzb_le(f->z + f->z_size - 4, 0x7fffffff, 4);
	build_bzimage(f);
	assert_err(f, decompress(f, NULL), -ENOEXEC, "more than");
}

static void test_corrupt_and_truncated_streams(void **state)
{
	struct fx *f = *state;
	struct vmb_opts o = vmb_defaults();
	build_elf(f, &o);
	void (*comp[])(struct fx *) = { compress_xz, compress_gzip, compress_zstd, compress_lz4 };
	for (size_t i = 0; i < 4; i++) {
		comp[i](f);
		f->z[f->z_size / 2] ^= 0x55; /* mid-stream */
		f->z[f->z_size / 2 + 1] ^= 0xAA;
		build_bzimage(f);
		int rc = decompress(f, NULL);
		if (i < 2) {
			/* xz and gzip carry a CRC32 of the data. */
			assert_err(f, rc, -ENOEXEC, "kernel: bzImage payload: ");
		} else if (rc == 0) {
			/* zstd and lz4 as the kernel writes them carry none: other bytes, same size. */
			assert_int_equal(f->out_size, f->elf_size);
			assert_true(memcmp(f->out, f->elf, f->elf_size) != 0);
		} else {
			assert_err(f, rc, -ENOEXEC, "kernel: bzImage payload: ");
		}
		comp[i](f);
		/* Cut in the middle, the size trailer kept. */
		uint8_t trailer[4];
		memcpy(trailer, f->z + f->z_size - 4, 4);
		f->z_size /= 2;
		memcpy(f->z + f->z_size, trailer, 4);
		f->z_size += 4;
		build_bzimage(f);
		assert_err(f, decompress(f, NULL), -ENOEXEC, "kernel: bzImage payload: ");
		assert_null(f->out);
	}
}

static void test_unknown_formats_are_not_supported(void **state)
{
	struct fx *f = *state;
	memcpy(f->z, "BZh91AY&SY", 10);
	f->z_size = 64;
	build_bzimage(f);
	enum kpayload_format fmt;
	assert_err(f, decompress(f, &fmt), -ENOTSUP, "bzip2 is not decompressed on the host");
	assert_int_equal(fmt, KPAYLOAD_BZIP2);
	memcpy(f->z, "\x7F" "ELF", 4);
	build_bzimage(f);
	assert_err(f, decompress(f, &fmt), -ENOTSUP, "format not recognised (it starts 7f 45 4c 46)");
	assert_int_equal(fmt, KPAYLOAD_UNKNOWN);
}

static int parse_elf(struct fx *f, struct vmlinux_info *vi)
{
	memset(f->err, 0, sizeof(f->err));
	return vmlinux_parse(f->elf, f->elf_size, vi, f->err, sizeof(f->err));
}

static void test_vmlinux_parse_reads_segments(void **state)
{
	struct fx *f = *state;
	struct vmb_opts o = vmb_defaults();
	/* Out of order in the file, a zero-size one and a PT_NOTE: sorted, skipped. */
	o.nr_seg = 4;
	o.seg[2] = o.seg[0];
	o.seg[0] = (struct vmb_seg){ .paddr = 0x1400000, .vaddr = 0, .filesz = 0x800,
				     .memsz = 0x800, .type = 1 }; /* percpu: vaddr 0 */
	o.seg[3] = (struct vmb_seg){ .paddr = 0x1001000, .vaddr = VMB_KERNEL_MAP + 0x1001000,
				     .filesz = 0x10, .memsz = 0x10, .type = 4 };
	o.trailer = 100; /* relocations after the ELF */
	build_elf(f, &o);
	struct vmlinux_info vi;
	assert_int_equal(parse_elf(f, &vi), 0);
	assert_int_equal(vi.nr_seg, 3);
	assert_int_equal(vi.seg[0].paddr, 0x1000000);
	assert_int_equal(vi.seg[1].paddr, 0x1200000);
	assert_int_equal(vi.seg[1].filesz, 0x1000);
	assert_int_equal(vi.seg[1].memsz, 0x5000);
	assert_int_equal(vi.seg[2].paddr, 0x1400000);
	assert_int_equal(vi.seg[2].offset, vmb_seg_offset(&o, 0));
	assert_int_equal(vi.min_paddr, 0x1000000);
	assert_int_equal(vi.end_paddr, 0x1400800);
	assert_int_equal(vi.entry, 0x1000000);
	/* A virtual entry point is translated through its segment. */
	o.entry = VMB_KERNEL_MAP + 0x1000010;
	build_elf(f, &o);
	assert_int_equal(parse_elf(f, &vi), 0);
	assert_int_equal(vi.entry, 0x1000010);
}

static void test_vmlinux_parse_refuses_bad_elves(void **state)
{
	struct fx *f = *state;
	struct vmlinux_info vi;
	struct vmb_opts o;
#define REFUSE(edit, needle)                                            \
	do {                                                            \
		o = vmb_defaults();                                     \
		edit;                                                   \
		build_elf(f, &o);                                       \
		assert_err(f, parse_elf(f, &vi), -ENOEXEC, needle);     \
	} while (0)
	REFUSE(o.machine = 3, "not an x86-64 executable (e_type 2, e_machine 3)");
	REFUSE(o.type = 3, "not an x86-64 executable (e_type 3");
	REFUSE(o.phentsize = 32, "program headers: 2 of 32 bytes");
	REFUSE(o.seg[1].filesz = 0x6000, "p_filesz 0x6000 exceeds p_memsz 0x5000");
	REFUSE(o.seg[1].paddr = 0xfffff000, "extends above 4 GiB");
	REFUSE(o.seg[1].paddr = 0x1002000, "overlaps another segment");
	REFUSE((o.seg[0].type = 4, o.seg[1].type = 6), "no loadable segment");
	REFUSE(o.entry = 0x1003000, "entry point 0x1003000 lies in no segment's file bytes");
	REFUSE(o.entry = 0x1201000, "entry point 0x1201000"); /* in bss: no code */
	/* Fields pointing past the file. */
	o = vmb_defaults();
	build_elf(f, &o);
	bzb_le(f->elf + 64 + 56 + 8, f->elf_size - 0x10, 8); /* segment 1's p_offset */
	assert_err(f, parse_elf(f, &vi), -ENOEXEC, "lie outside the file");
	build_elf(f, &o);
	bzb_le(f->elf + 32, f->elf_size - 56, 8); /* e_phoff: two headers do not fit */
	assert_err(f, parse_elf(f, &vi), -ENOEXEC, "program headers at");
	build_elf(f, &o);
	f->elf[4] = 1; /* ELFCLASS32 */
	assert_err(f, parse_elf(f, &vi), -ENOEXEC, "not ELF64 little-endian");
	f->elf_size = 63;
	assert_err(f, parse_elf(f, &vi), -ENOEXEC, "not an ELF file (63 bytes)");
#undef REFUSE
}

static int load_vmlinux(struct fx *f)
{
	struct linux_boot_args a = {
		.kernel = f->img, .kernel_size = f->img_size, .cmdline = "console=ttyS0",
		.acpi_rsdp = 0xE0000, .vmlinux = f->elf, .vmlinux_size = f->elf_size,
	};
	memset(f->err, 0, sizeof(f->err));
	return linux_load(&f->ram, &a, &f->entry, f->err, sizeof(f->err));
}

/* A plain bzImage (pattern code, no payload) to carry the header; the ELF is separate. */
static void build_carrier(struct fx *f, uint64_t pref, uint32_t init_size)
{
	struct bzb_opts o = bzb_defaults();
	o.pref_address = pref;
	o.init_size = init_size;
	f->img_size = bzb_image(f->img, sizeof(f->img), &o);
	assert_true(f->img_size > 0);
}

static void test_load_vmlinux_segments_at_their_physical_addresses(void **state)
{
	struct fx *f = *state;
	struct vmb_opts o = vmb_defaults();
	o.entry = VMB_KERNEL_MAP + 0x1000040;
	build_elf(f, &o);
	build_carrier(f, 0x1000000, 0x100000);
	/* Stale bytes where the bss and the rest of init_size go: cleared. */
	memset(guest_ram_ptr(&f->ram, 0x1000000, 0x400000), 0xEE, 0x400000);
	assert_int_equal(load_vmlinux(f), 0);
	const uint8_t *k = guest_ram_ptr(&f->ram, 0x1000000, 0x300000);
	for (size_t i = 0; i < 0x3000; i++)
		if (k[i] != vmb_byte(0, i))
			fail_msg("text byte 0x%zx is 0x%02x", i, k[i]);
	for (size_t i = 0x3000; i < 0x200000; i++)
		if (k[i])
			fail_msg("byte 0x%zx between the segments is 0x%02x", i, k[i]);
	for (size_t i = 0; i < 0x1000; i++)
		if (k[0x200000 + i] != vmb_byte(1, i))
			fail_msg("data byte 0x%zx is 0x%02x", i, k[0x200000 + i]);
	for (size_t i = 0x1000; i < 0x5000; i++)
		if (k[0x200000 + i])
			fail_msg("bss byte 0x%zx is 0x%02x", i, k[0x200000 + i]);
	/* startup_64, same boot_params and page tables as the bzImage entry. */
	assert_int_equal(f->entry.rip, 0x1000040);
	assert_int_equal(f->entry.rsi, LINUX_ZERO_PAGE);
	assert_int_equal(f->entry.cr3, LINUX_PML4);
	assert_int_equal(f->entry.kernel_addr, 0x1000000);
	/* The image spans 0x205000 bytes, more than init_size 0x100000. */
	assert_int_equal(f->entry.kernel_mem, 0x205000);
	const uint8_t *zp = guest_ram_ptr(&f->ram, LINUX_ZERO_PAGE, LINUX_ZERO_PAGE_SIZE);
	assert_memory_equal(zp + BZ_HEADER, "HdrS", 4);
	/* init_size larger than the span: it is what the kernel gets. */
	build_carrier(f, 0x1000000, 0x800000);
	assert_int_equal(load_vmlinux(f), 0);
	assert_int_equal(f->entry.kernel_mem, 0x800000);
}

/* Relocated as the decompressor would: load address + p_paddr - pref_address. */
static void test_load_vmlinux_moved_with_the_load_address(void **state)
{
	struct fx *f = *state;
	struct vmb_opts o = vmb_defaults();
	build_elf(f, &o);
	/* pref_address 0x1100000 aligned up to kernel_alignment 2 MiB: loaded at 0x1200000. */
	for (unsigned s = 0; s < 2; s++)
		o.seg[s].paddr += 0x100000;
	o.entry += 0x100000;
	build_elf(f, &o);
	build_carrier(f, 0x1100000, 0x1000);
	assert_int_equal(load_vmlinux(f), 0);
	assert_int_equal(f->entry.kernel_addr, 0x1200000);
	assert_int_equal(f->entry.rip, 0x1200000);
	const uint8_t *k = guest_ram_ptr(&f->ram, 0x1200000, 0x300000);
	assert_int_equal(k[0], vmb_byte(0, 0));
	assert_int_equal(k[0x200000], vmb_byte(1, 0));
}

static void test_load_vmlinux_refusals_leave_ram_alone(void **state)
{
	struct fx *f = *state;
	struct vmb_opts o = vmb_defaults();
	build_elf(f, &o);
	uint8_t *k = guest_ram_ptr(&f->ram, 0x1000000, 0x1000);
	memset(k, 0xEE, 0x1000);
	/* A segment below pref_address. */
	build_carrier(f, 0x1200000, 0x1000);
	assert_err(f, load_vmlinux(f), -ENOEXEC,
		   "kernel: vmlinux: segment at 0x1000000 lies below the bzImage's pref_address "
		   "0x1200000");
	/* A bad ELF. */
	build_carrier(f, 0x1000000, 0x1000);
	f->elf[18] = 3;
	assert_err(f, load_vmlinux(f), -ENOEXEC, "kernel: vmlinux: not an x86-64 executable");
	/* An image spanning past RAM (64 MiB here). */
	o.seg[1].memsz = 0x4000000;
	build_elf(f, &o);
	assert_err(f, load_vmlinux(f), -ENOMEM, "(its load address and init_size or its "
		   "vmlinux's span), but RAM below 4 GiB ends at 0x4000000; give --memory 82M");
	for (size_t i = 0; i < 0x1000; i++)
		if (k[i] != 0xEE)
			fail_msg("guest RAM byte 0x%zx changed by a refused load", i);
}

/* End to end as boot.c does it: decompress the payload, load what came out. */
static void test_decompressed_payload_loads(void **state)
{
	struct fx *f = *state;
	struct vmb_opts o = vmb_defaults();
	build_elf(f, &o);
	compress_xz(f);
	build_bzimage(f);
	assert_int_equal(decompress(f, NULL), 0);
	struct linux_boot_args a = {
		.kernel = f->img, .kernel_size = f->img_size, .acpi_rsdp = 0xE0000,
		.vmlinux = f->out, .vmlinux_size = f->out_size,
	};
	assert_int_equal(linux_load(&f->ram, &a, &f->entry, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->entry.rip, 0x1000000);
	const uint8_t *k = guest_ram_ptr(&f->ram, 0x1200000, 0x1000);
	for (size_t i = 0; i < 0x1000; i++)
		if (k[i] != vmb_byte(1, i))
			fail_msg("data byte 0x%zx is 0x%02x", i, k[i]);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect_by_magic_only),
		T(test_xz_round_trip),
		T(test_gzip_round_trip),
		T(test_zstd_round_trip),
		T(test_lz4_round_trip),
		T(test_trailer_size_must_match),
		T(test_corrupt_and_truncated_streams),
		T(test_unknown_formats_are_not_supported),
		T(test_vmlinux_parse_reads_segments),
		T(test_vmlinux_parse_refuses_bad_elves),
		T(test_load_vmlinux_segments_at_their_physical_addresses),
		T(test_load_vmlinux_moved_with_the_load_address),
		T(test_load_vmlinux_refusals_leave_ram_alone),
		T(test_decompressed_payload_loads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
