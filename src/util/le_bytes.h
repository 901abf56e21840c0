/* SPDX-License-Identifier: MIT */
/*
 * Little-endian stores into byte buffers and the firmware tables' 8-bit
 * checksum: what the tables ioreqvm writes for its guests (boot_params,
 * the MP table, ACPI, SMBIOS) are built with.
 */
#ifndef IOREQVM_UTIL_LE_BYTES_H
#define IOREQVM_UTIL_LE_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The byte that makes @len bytes at @p sum to zero (MP, ACPI, SMBIOS). */
static inline uint8_t table_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

#endif
