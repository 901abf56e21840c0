/* SPDX-License-Identifier: MIT */
/*
 * The compressed kernel inside a bzImage (DESIGN L1), decompressed on the
 * host so the guest need not run the kernel's own decompressor (slow on the
 * software CPU: BENCHMARKS.md, "Linux boot"). The payload is the bzImage's
 * [payload_offset, + payload_length) of the protected-mode code
 * (boot.rst); its format is told by its magic number, never trusted from
 * the kernel's build options; its last four bytes are the decompressed size
 * (little endian), as arch/x86/boot/compressed/mkpiggy.c reads them.
 *
 * Formats with a Debian library are decompressed when ioreqvm was built with
 * it (meson finds each one; scripts/setup.sh installs them): xz (liblzma),
 * gzip (zlib), zstd (libzstd), lz4 in the kernel's "legacy" framing
 * (liblz4). bzip2, lzma and lzo are recognised but left to the guest.
 * Pure functions over the image; the only side effect is the allocation
 * the caller frees. Thread compatible.
 */
#ifndef IOREQVM_KERNEL_PAYLOAD_H
#define IOREQVM_KERNEL_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/bzimage.h"

enum kpayload_format {
	KPAYLOAD_UNKNOWN = 0,
	KPAYLOAD_GZIP,
	KPAYLOAD_XZ,
	KPAYLOAD_ZSTD,
	KPAYLOAD_LZ4,
	KPAYLOAD_BZIP2,
	KPAYLOAD_LZMA,
	KPAYLOAD_LZO,
};

/* Largest decompressed kernel accepted (a Debian 6.1 vmlinux is 63 MiB). */
#define KPAYLOAD_MAX_OUT (1ULL << 30)

/* The format of the @size bytes at @p, by magic number. */
enum kpayload_format kpayload_detect(const uint8_t *p, size_t size);

/* "xz", "gzip", ...; "unknown" for KPAYLOAD_UNKNOWN. */
const char *kpayload_name(enum kpayload_format f);

/* True if this build can decompress @f. */
bool kpayload_supported(enum kpayload_format f);

/*
 * Decompress the payload of the bzImage @img (@size bytes, @bz from
 * bzimage_parse of it) into a new buffer of at most @max_out bytes (0:
 * KPAYLOAD_MAX_OUT). 0 with *@out (free() it) and *@out_size, or a negative
 * errno with one message in @err (may be NULL):
 *   -ENOTSUP  a format this build does not decompress (or none known); the
 *             guest's own decompressor may still handle it;
 *   -ENOEXEC  a payload shorter than its size field, a size of 0 or above
 *             @max_out, a corrupt stream, or one that ends before or after
 *             the size its trailer states;
 *   -ENOMEM   out of host memory.
 * *@fmt (may be NULL) gets the format found, also on failure.
 */
int kpayload_decompress(const uint8_t *img, size_t size, const struct bzimage_info *bz,
			uint64_t max_out, uint8_t **out, size_t *out_size,
			enum kpayload_format *fmt, char *err, size_t errlen);

#endif
