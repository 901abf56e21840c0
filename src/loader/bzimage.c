/* SPDX-License-Identifier: MIT */
/*
 * bzImage setup header reader (see bzimage.h): every check on the image
 * that does not need guest RAM, each failure with a message that names
 * the field and its value.
 */
#include "loader/bzimage.h"
#include "util/err_fmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BZ_1M 0x100000ULL
#define BZ_4G 0x100000000ULL
#define BZ_MIN_ALIGN 0x1000U
#define BZ_MAX_ALIGN 0x40000000U

#define bz_fail(err, errlen, rc, fmt, ...) \
	err_fmt(err, errlen, rc, "kernel: bzImage: " fmt, ##__VA_ARGS__)

static uint16_t rd16(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] | p[off + 1] << 8);
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	return (uint32_t)rd16(p, off) | (uint32_t)rd16(p, off + 2) << 16;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
	return (uint64_t)rd32(p, off) | (uint64_t)rd32(p, off + 4) << 32;
}

bool bzimage_detect(const void *img, size_t size)
{
	const uint8_t *p = img;
	return p && size >= BZ_HEADER + 4 && rd16(p, BZ_BOOT_FLAG) == BZ_BOOT_FLAG_MAGIC &&
	       rd32(p, BZ_HEADER) == BZ_HEADER_MAGIC;
}

int bzimage_parse(const void *img, size_t size, struct bzimage_info *out, char *err,
		  size_t errlen)
{
	const uint8_t *p = img;
	if (!bzimage_detect(img, size))
		return bz_fail(err, errlen, -ENOEXEC,
			       "no setup header (0xAA55 at 0x1fe and \"HdrS\" at 0x202)");
	if (size < BZ_VERSION + 2)
		return bz_fail(err, errlen, -ENOEXEC,
			       "file is truncated: %zu bytes, it ends inside the setup header", size);
	uint16_t version = rd16(p, BZ_VERSION);
	if (version < BZ_MIN_VERSION)
		return bz_fail(err, errlen, -ENOEXEC,
			       "boot protocol %u.%02u is too old: 2.06 or later is needed",
			       version >> 8, version & 0xff);
	if (version < BZ_XLOADFLAGS_VERSION)
		return bz_fail(err, errlen, -ENOEXEC,
			       "boot protocol %u.%02u has no 64-bit entry point (2.12 or later with "
			       "XLF_KERNEL_64 is needed)", version >> 8, version & 0xff);
	uint32_t header_end = BZ_HEADER + p[BZ_JUMP + 1];
	if (header_end < BZ_INIT_SIZE + 4)
		return bz_fail(err, errlen, -ENOEXEC,
			       "setup header ends at 0x%x, before the init_size field (0x%x) of "
			       "boot protocol %u.%02u", header_end, BZ_INIT_SIZE, version >> 8,
			       version & 0xff);
	if (header_end > BZ_HEADER_AREA_END)
		return bz_fail(err, errlen, -ENOEXEC,
			       "setup header ends at 0x%x, past boot_params' header area (0x%x)",
			       header_end, BZ_HEADER_AREA_END);
	if (size < header_end)
		return bz_fail(err, errlen, -ENOEXEC,
			       "file is truncated: %zu bytes, the setup header ends at 0x%x", size,
			       header_end);
	uint16_t xlf = rd16(p, BZ_XLOADFLAGS);
	if (!(xlf & BZ_XLF_KERNEL_64))
		return bz_fail(err, errlen, -ENOEXEC,
			       "no 64-bit entry point (xloadflags 0x%04x lacks XLF_KERNEL_64)", xlf);
	if (!(p[BZ_LOADFLAGS] & BZ_LOADED_HIGH))
		return bz_fail(err, errlen, -ENOEXEC,
			       "loadflags 0x%02x lack LOADED_HIGH: a zImage, not a bzImage",
			       p[BZ_LOADFLAGS]);

	uint32_t sects = p[BZ_SETUP_SECTS] ? p[BZ_SETUP_SECTS] : 4;
	uint32_t setup_size = (sects + 1) * BZ_SECTOR;
	uint64_t pm_size = (uint64_t)rd32(p, BZ_SYSSIZE) * 16;
	if (size < setup_size)
		return bz_fail(err, errlen, -ENOEXEC,
			       "file is truncated: %zu bytes, the setup code (%u sectors) ends at "
			       "0x%x", size, sects, setup_size);
	if (pm_size == 0)
		return bz_fail(err, errlen, -ENOEXEC, "no protected-mode code (syssize 0)");
	if (pm_size > size - setup_size)
		return bz_fail(err, errlen, -ENOEXEC,
			       "file is truncated: %zu bytes, its protected-mode code (syssize "
			       "0x%llx bytes from 0x%x) ends at 0x%llx", size,
			       (unsigned long long)pm_size, setup_size,
			       (unsigned long long)(setup_size + pm_size));
	uint32_t payload_off = rd32(p, BZ_PAYLOAD_OFFSET), payload_len = rd32(p, BZ_PAYLOAD_LENGTH);
	if ((uint64_t)payload_off + payload_len > pm_size)
		return bz_fail(err, errlen, -ENOEXEC,
			       "payload [0x%x, 0x%llx) lies outside the protected-mode code (0x%llx "
			       "bytes)", payload_off, (unsigned long long)payload_off + payload_len,
			       (unsigned long long)pm_size);

	bool reloc = p[BZ_RELOCATABLE] != 0;
	uint32_t align = rd32(p, BZ_KERNEL_ALIGNMENT);
	if (reloc && (align < BZ_MIN_ALIGN || align > BZ_MAX_ALIGN || (align & (align - 1))))
		return bz_fail(err, errlen, -ENOEXEC,
			       "kernel_alignment 0x%x is not a power of two from 4 KiB to 1 GiB", align);
	uint64_t load = rd64(p, BZ_PREF_ADDRESS);
	if (reloc) {
		if (load < BZ_1M)
			load = BZ_1M;
		load = (load + align - 1) & ~(uint64_t)(align - 1);
	} else if (load < BZ_1M) {
		return bz_fail(err, errlen, -ENOEXEC,
			       "pref_address 0x%llx is below 1 MiB and the kernel is not relocatable",
			       (unsigned long long)load);
	}
	uint64_t mem = rd32(p, BZ_INIT_SIZE);
	if (mem < pm_size)
		mem = pm_size;
	if (load >= BZ_4G || mem > BZ_4G - load)
		return bz_fail(err, errlen, -ENOEXEC,
			       "kernel at 0x%llx needing 0x%llx bytes (init_size) extends above 4 GiB",
			       (unsigned long long)load, (unsigned long long)mem);

	*out = (struct bzimage_info){
		.version = version,
		.setup_size = setup_size,
		.header_end = header_end,
		.pm_size = pm_size,
		.payload_offset = payload_off,
		.payload_length = payload_len,
		.pref_address = rd64(p, BZ_PREF_ADDRESS),
		.load_addr = load,
		.mem_size = mem,
		.kernel_alignment = align,
		.relocatable = reloc,
		.initrd_addr_max = rd32(p, BZ_INITRD_ADDR_MAX),
		.cmdline_size = rd32(p, BZ_CMDLINE_SIZE),
	};
	return 0;
}
