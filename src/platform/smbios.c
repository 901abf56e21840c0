/* SPDX-License-Identifier: MIT */
/*
 * SMBIOS writer (DMTF DSP0134 3.x layouts): the 24-byte "_SM3_" entry
 * point, then type 0, 1 and 127 structures, each a formatted area followed
 * by its strings (NUL-terminated, the set ending in an extra NUL). Built in
 * a local buffer that stands for [PLAT_SMBIOS_START, + PLAT_SMBIOS_SIZE),
 * then copied into guest RAM. Fields at their byte offsets, little-endian.
 */
#include "platform/smbios.h"
#include "util/le_bytes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/err_fmt.h"

#define EP_LEN 24
#define TABLE_OFF 32 /* the structures start here, 16-byte aligned after the entry point */
#define TYPE0_LEN 24 /* BIOS information, SMBIOS 2.4+ */
#define TYPE1_LEN 27 /* system information, SMBIOS 2.4+ */
#define TYPE127_LEN 4
/* Type 0: "BIOS characteristics are not supported"; extension byte 2: a virtual machine. */
#define BIOS_CHAR_NOT_SUPPORTED (1ULL << 3)
#define BIOS_EXT2_VIRTUAL_MACHINE (1u << 4)
#define WAKEUP_POWER_SWITCH 6
#define VERSION_MAX 64

struct smbios_buf {
	uint8_t b[512];
	size_t len;
	bool overflow;
};

_Static_assert(sizeof(((struct smbios_buf *)0)->b) <= PLAT_SMBIOS_SIZE, "tables fit their area");

/* Room for @len bytes at the end; NULL (and overflow set) if they do not fit. */
static uint8_t *take(struct smbios_buf *s, size_t len)
{
	if (s->overflow || len > sizeof(s->b) - s->len) {
		s->overflow = true;
		return NULL;
	}
	uint8_t *p = s->b + s->len;
	s->len += len;
	return p;
}

/* A structure's formatted area: type, length, handle; the rest zero. */
static uint8_t *structure(struct smbios_buf *s, uint8_t type, uint8_t len, uint16_t handle)
{
	uint8_t *p = take(s, len);
	if (p) {
		p[0] = type;
		p[1] = len;
		put16(p + 2, handle);
	}
	return p;
}

/* The string set after a structure: @n strings, then the extra NUL (two NULs if none). */
static void strings(struct smbios_buf *s, unsigned n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (unsigned i = 0; i < n; i++) {
		const char *str = va_arg(ap, const char *);
		uint8_t *p = take(s, strlen(str) + 1);
		if (p)
			memcpy(p, str, strlen(str) + 1);
	}
	va_end(ap);
	take(s, n ? 1 : 2); /* already zero */
}

int smbios_write(struct guest_ram *ram, const char *version, char *err, size_t errlen)
{
	static struct smbios_buf zero;
	struct smbios_buf s = zero;
	if (!ram || !ram->host)
		return err_fmt(err, errlen, -EINVAL, "smbios: guest RAM is not mapped");
	if (!version || strlen(version) > VERSION_MAX)
		return err_fmt(err, errlen, -EINVAL, "smbios: a version of at most %d bytes",
			       VERSION_MAX);
	take(&s, TABLE_OFF);

	uint8_t *t0 = structure(&s, 0, TYPE0_LEN, 0);
	if (t0) {
		t0[4] = 1;                 /* vendor: string 1 */
		t0[5] = 2;                 /* BIOS version: string 2 */
		put16(t0 + 6, 0xE800);     /* starting address segment (no BIOS image) */
		t0[8] = 3;                 /* release date: string 3 */
		t0[9] = 0;                 /* ROM size: 64 KiB */
		put64(t0 + 10, BIOS_CHAR_NOT_SUPPORTED);
		t0[19] = BIOS_EXT2_VIRTUAL_MACHINE;
		t0[20] = t0[21] = 0xFF;    /* system BIOS release: none */
		t0[22] = t0[23] = 0xFF;    /* no embedded controller */
	}
	strings(&s, 3, SMBIOS_VENDOR, version, SMBIOS_BIOS_DATE);

	uint8_t *t1 = structure(&s, 1, TYPE1_LEN, 1);
	if (t1) {
		t1[4] = 1; /* manufacturer */
		t1[5] = 2; /* product name */
		t1[6] = 3; /* version */
		/* serial number, UUID (all zero: not present), SKU, family: none */
		t1[24] = WAKEUP_POWER_SWITCH;
	}
	strings(&s, 3, SMBIOS_VENDOR, SMBIOS_PRODUCT, version);

	structure(&s, 127, TYPE127_LEN, 2);
	strings(&s, 0);
	if (s.overflow)
		return err_fmt(err, errlen, -EINVAL, "smbios: the structures do not fit");

	uint8_t *ep = s.b;
	memcpy(ep, "_SM3_", 5);
	ep[6] = EP_LEN;
	ep[7] = 3;  /* SMBIOS 3.0.0 */
	ep[8] = 0;
	ep[9] = 0;
	ep[10] = 1; /* entry point revision: 3.0 */
	put32(ep + 12, (uint32_t)(s.len - TABLE_OFF)); /* structure table maximum size */
	put64(ep + 16, PLAT_SMBIOS_START + TABLE_OFF);
	ep[5] = table_checksum(ep, EP_LEN);

	uint8_t *dst = guest_ram_ptr(ram, PLAT_SMBIOS_START, s.len);
	if (!dst)
		return err_fmt(err, errlen, -ENOMEM, "smbios: [0x%llx, 0x%llx) is not guest RAM",
			       (unsigned long long)PLAT_SMBIOS_START,
			       (unsigned long long)(PLAT_SMBIOS_START + s.len));
	memcpy(dst, s.b, s.len);
	return 0;
}
