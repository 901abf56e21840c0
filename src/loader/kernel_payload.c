/* SPDX-License-Identifier: MIT */
/*
 * Host-side decompression of a bzImage's payload (see kernel_payload.h):
 * magic numbers, and one bounded single-shot decoder per library. Every
 * decoder writes into a buffer of exactly the size the payload's trailer
 * states and must fill it exactly; bytes after the end of the compressed
 * stream (the size trailer itself, padding) are ignored.
 */
#include "loader/kernel_payload.h"
#include "util/err_fmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef IOREQVM_HAVE_LZMA
#include <lzma.h>
#endif
#ifdef IOREQVM_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef IOREQVM_HAVE_ZSTD
#include <zstd.h>
#endif
#ifdef IOREQVM_HAVE_LZ4
#include <lz4.h>
#endif

/* An xz header may ask for a dictionary up to 1.5 GiB: the kernel's use 32 MiB at most. */
#define KP_XZ_MEMLIMIT (256ULL << 20)
/* zstd: the kernel's "zstd -22 --ultra" uses a 2^27 window; single-shot needs none. */
/* lz4 legacy framing (lib/decompress_unlz4.c): blocks of at most 8 MiB. */
#define KP_LZ4_LEGACY_MAGIC 0x184C2102U
#define KP_LZ4_BLOCK_MAX (8U << 20)

#define kp_fail(err, errlen, rc, fmt, ...) \
	err_fmt(err, errlen, rc, "kernel: bzImage payload: " fmt, ##__VA_ARGS__)

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum kpayload_format kpayload_detect(const uint8_t *p, size_t size)
{
	static const struct {
		enum kpayload_format f;
		uint8_t len;
		uint8_t magic[6];
	} tab[] = {
		{ KPAYLOAD_XZ, 6, { 0xFD, '7', 'z', 'X', 'Z', 0x00 } },
		{ KPAYLOAD_GZIP, 3, { 0x1F, 0x8B, 0x08 } },
		{ KPAYLOAD_ZSTD, 4, { 0x28, 0xB5, 0x2F, 0xFD } },
		{ KPAYLOAD_LZ4, 4, { 0x02, 0x21, 0x4C, 0x18 } },
		{ KPAYLOAD_BZIP2, 3, { 'B', 'Z', 'h' } },
		{ KPAYLOAD_LZO, 4, { 0x89, 'L', 'Z', 'O' } },
		/* lzma "alone": properties byte 0x5D, then a 32-bit dictionary size. */
		{ KPAYLOAD_LZMA, 3, { 0x5D, 0x00, 0x00 } },
	};
	if (!p)
		return KPAYLOAD_UNKNOWN;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (size >= tab[i].len && !memcmp(p, tab[i].magic, tab[i].len))
			return tab[i].f;
	return KPAYLOAD_UNKNOWN;
}

const char *kpayload_name(enum kpayload_format f)
{
	switch (f) {
	case KPAYLOAD_GZIP: return "gzip";
	case KPAYLOAD_XZ: return "xz";
	case KPAYLOAD_ZSTD: return "zstd";
	case KPAYLOAD_LZ4: return "lz4";
	case KPAYLOAD_BZIP2: return "bzip2";
	case KPAYLOAD_LZMA: return "lzma";
	case KPAYLOAD_LZO: return "lzo";
	case KPAYLOAD_UNKNOWN: break;
	}
	return "unknown";
}

bool kpayload_supported(enum kpayload_format f)
{
	switch (f) {
#ifdef IOREQVM_HAVE_LZMA
	case KPAYLOAD_XZ: return true;
#endif
#ifdef IOREQVM_HAVE_ZLIB
	case KPAYLOAD_GZIP: return true;
#endif
#ifdef IOREQVM_HAVE_ZSTD
	case KPAYLOAD_ZSTD: return true;
#endif
#ifdef IOREQVM_HAVE_LZ4
	case KPAYLOAD_LZ4: return true;
#endif
	default: return false;
	}
}

/* Each decoder: @in/@in_len the compressed stream (trailer included), @out exactly @want bytes. */
typedef int (*kp_decoder)(const uint8_t *in, size_t in_len, uint8_t *out, size_t want,
			  char *err, size_t errlen);

#ifdef IOREQVM_HAVE_LZMA
static int kp_xz(const uint8_t *in, size_t in_len, uint8_t *out, size_t want, char *err,
		 size_t errlen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	/* Not LZMA_CONCATENATED: decoding stops at the end of the first stream. */
	lzma_ret r = lzma_stream_decoder(&s, KP_XZ_MEMLIMIT, 0);
	if (r != LZMA_OK)
		return kp_fail(err, errlen, r == LZMA_MEM_ERROR ? -ENOMEM : -ENOEXEC,
			       "xz: decoder setup failed (%d)", (int)r);
	s.next_in = in;
	s.avail_in = in_len;
	s.next_out = out;
	s.avail_out = want;
	r = lzma_code(&s, LZMA_FINISH);
	size_t got = want - s.avail_out;
	/* Output full but stream not ended: is there more than @want? */
	if (r == LZMA_OK || r == LZMA_BUF_ERROR) {
		uint8_t extra;
		s.next_out = &extra;
		s.avail_out = 1;
		r = lzma_code(&s, LZMA_FINISH);
		if (s.avail_out == 0)
			got = want + 1;
	}
	lzma_end(&s);
	if (r != LZMA_STREAM_END || got != want) {
		if (r == LZMA_MEM_ERROR)
			return kp_fail(err, errlen, -ENOMEM, "xz: out of memory");
		if (r == LZMA_MEMLIMIT_ERROR)
			return kp_fail(err, errlen, -ENOEXEC,
				       "xz: the stream needs more than %llu MiB to decode",
				       KP_XZ_MEMLIMIT >> 20);
		if (r == LZMA_STREAM_END || got > want)
			return kp_fail(err, errlen, -ENOEXEC,
				       "xz: stream decodes to %s%zu bytes, the trailer says %zu",
				       got > want ? "more than " : "", got > want ? want : got, want);
		return kp_fail(err, errlen, -ENOEXEC,
			       "xz: corrupt or truncated stream (liblzma %d after %zu bytes)", (int)r,
			       got);
	}
	return 0;
}
#endif

#ifdef IOREQVM_HAVE_ZLIB
static int kp_gzip(const uint8_t *in, size_t in_len, uint8_t *out, size_t want, char *err,
		   size_t errlen)
{
	z_stream s;
	memset(&s, 0, sizeof(s));
	if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) /* gzip wrapper only */
		return kp_fail(err, errlen, -ENOMEM, "gzip: decoder setup failed");
	/* Both fit zlib's 32-bit counters: the payload length is a u32, @want <= 1 GiB. */
	s.next_in = (Bytef *)(uintptr_t)in;
	s.avail_in = (uInt)in_len;
	s.next_out = out;
	s.avail_out = (uInt)want;
	int r = inflate(&s, Z_FINISH);
	size_t got = want - s.avail_out;
	inflateEnd(&s);
	if (r == Z_MEM_ERROR)
		return kp_fail(err, errlen, -ENOMEM, "gzip: out of memory");
	if (r != Z_STREAM_END && got == want)
		return kp_fail(err, errlen, -ENOEXEC,
			       "gzip: stream decodes to more than the trailer's %zu bytes", want);
	if (r != Z_STREAM_END || got != want)
		return kp_fail(err, errlen, -ENOEXEC,
			       "gzip: %s (zlib %d after %zu of %zu bytes)",
			       r == Z_STREAM_END ? "stream decodes to fewer bytes than its trailer says"
						 : "corrupt or truncated stream",
			       r, got, want);
	return 0;
}
#endif

#ifdef IOREQVM_HAVE_ZSTD
static int kp_zstd(const uint8_t *in, size_t in_len, uint8_t *out, size_t want, char *err,
		   size_t errlen)
{
	size_t frame = ZSTD_findFrameCompressedSize(in, in_len);
	if (ZSTD_isError(frame))
		return kp_fail(err, errlen, -ENOEXEC, "zstd: corrupt or truncated frame (%s)",
			       ZSTD_getErrorName(frame));
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	if (!dc)
		return kp_fail(err, errlen, -ENOMEM, "zstd: out of memory");
	size_t got = ZSTD_decompressDCtx(dc, out, want, in, frame);
	ZSTD_freeDCtx(dc);
	if (ZSTD_isError(got))
		return kp_fail(err, errlen, -ENOEXEC, "zstd: corrupt frame or larger than %zu bytes "
			       "(%s)", want, ZSTD_getErrorName(got));
	if (got != want)
		return kp_fail(err, errlen, -ENOEXEC,
			       "zstd: frame decodes to %zu bytes, the trailer says %zu", got, want);
	return 0;
}
#endif

#ifdef IOREQVM_HAVE_LZ4
/* The kernel's lz4 is "lz4 -l": magic, then (u32 size, block) until the stream ends. */
static int kp_lz4(const uint8_t *in, size_t in_len, uint8_t *out, size_t want, char *err,
		  size_t errlen)
{
	/* The stream is followed by the 4-byte size trailer (mkpiggy). */
	size_t end = in_len - 4, pos = 0, got = 0;
	while (pos < end) {
		if (end - pos < 4)
			return kp_fail(err, errlen, -ENOEXEC, "lz4: truncated block header at %zu",
				       pos);
		uint32_t cs = le32(in + pos);
		pos += 4;
		if (cs == KP_LZ4_LEGACY_MAGIC)
			continue;
		if (cs == 0 || cs > end - pos || cs > (uint32_t)LZ4_compressBound(KP_LZ4_BLOCK_MAX))
			return kp_fail(err, errlen, -ENOEXEC,
				       "lz4: block of %u bytes at %zu does not fit the stream", cs,
				       pos - 4);
		size_t room = want - got < KP_LZ4_BLOCK_MAX ? want - got : KP_LZ4_BLOCK_MAX;
		int n = room ? LZ4_decompress_safe((const char *)in + pos, (char *)out + got, (int)cs,
						   (int)room)
			     : -1;
		if (n < 0)
			return kp_fail(err, errlen, -ENOEXEC,
				       "lz4: corrupt block at %zu, or it decodes past %zu bytes", pos - 4,
				       want);
		got += (size_t)n;
		pos += cs;
	}
	if (got != want)
		return kp_fail(err, errlen, -ENOEXEC,
			       "lz4: stream decodes to %zu bytes, the trailer says %zu", got, want);
	return 0;
}
#endif

static kp_decoder kp_decoder_for(enum kpayload_format f)
{
	switch (f) {
#ifdef IOREQVM_HAVE_LZMA
	case KPAYLOAD_XZ: return kp_xz;
#endif
#ifdef IOREQVM_HAVE_ZLIB
	case KPAYLOAD_GZIP: return kp_gzip;
#endif
#ifdef IOREQVM_HAVE_ZSTD
	case KPAYLOAD_ZSTD: return kp_zstd;
#endif
#ifdef IOREQVM_HAVE_LZ4
	case KPAYLOAD_LZ4: return kp_lz4;
#endif
	default: return NULL;
	}
}

int kpayload_decompress(const uint8_t *img, size_t size, const struct bzimage_info *bz,
			uint64_t max_out, uint8_t **out, size_t *out_size,
			enum kpayload_format *fmt, char *err, size_t errlen)
{
	if (fmt)
		*fmt = KPAYLOAD_UNKNOWN;
	if (!img || !bz || !out || !out_size)
		return kp_fail(err, errlen, -EINVAL, "missing image or output");
	if (!max_out || max_out > KPAYLOAD_MAX_OUT)
		max_out = KPAYLOAD_MAX_OUT;
	/* bzimage_parse checked the payload lies inside the code, the code inside the file. */
	uint64_t off = (uint64_t)bz->setup_size + bz->payload_offset;
	if (off > size || bz->payload_length > size - off)
		return kp_fail(err, errlen, -ENOEXEC, "[0x%llx, +0x%x) lies outside the file",
			       (unsigned long long)off, bz->payload_length);
	const uint8_t *in = img + off;
	size_t in_len = bz->payload_length;
	enum kpayload_format f = kpayload_detect(in, in_len);
	if (fmt)
		*fmt = f;
	kp_decoder dec = kp_decoder_for(f);
	if (!dec && f == KPAYLOAD_UNKNOWN)
		return kp_fail(err, errlen, -ENOTSUP,
			       "format not recognised (it starts %02x %02x %02x %02x)",
			       in_len > 0 ? in[0] : 0, in_len > 1 ? in[1] : 0, in_len > 2 ? in[2] : 0,
			       in_len > 3 ? in[3] : 0);
	if (!dec)
		return kp_fail(err, errlen, -ENOTSUP, "%s is not decompressed on the host by this "
			       "build", kpayload_name(f));
	if (in_len < 8)
		return kp_fail(err, errlen, -ENOEXEC, "%s: %zu bytes, too short for a stream and "
			       "its size trailer", kpayload_name(f), in_len);
	uint32_t want = le32(in + in_len - 4);
	if (want == 0 || want > max_out)
		return kp_fail(err, errlen, -ENOEXEC,
			       "%s: trailer says the kernel is %u bytes (0, or more than %llu)",
			       kpayload_name(f), want, (unsigned long long)max_out);
	uint8_t *buf = malloc(want);
	if (!buf)
		return kp_fail(err, errlen, -ENOMEM, "out of memory for %u bytes", want);
	int rc = dec(in, in_len, buf, want, err, errlen);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*out_size = want;
	return 0;
}
