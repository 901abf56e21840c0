/* SPDX-License-Identifier: MIT */
/*
 * Builds small synthetic bzImages in memory (a setup header as Linux's
 * arch/x86/boot/header.S lays it out, then "protected-mode code" of a
 * recognisable byte pattern) for the Linux loader's unit tests, the fuzz
 * target's seeds and the seed generator. Header-only test helper; nothing
 * here is linked into the VMM.
 */
#ifndef IOREQVM_TESTS_BZ_BUILD_H
#define IOREQVM_TESTS_BZ_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct bzb_opts {
	uint16_t version;      /* 0x020f */
	uint8_t setup_sects;   /* 1: setup code is 2 sectors (1024 bytes) */
	uint32_t pm_size;      /* protected-mode bytes, multiple of 16: syssize = pm_size / 16 */
	uint8_t loadflags;     /* 0x01 LOADED_HIGH */
	uint16_t xloadflags;   /* 0x0003: KERNEL_64, CAN_BE_LOADED_ABOVE_4G */
	uint8_t relocatable;   /* 1 */
	uint32_t kernel_alignment; /* 0x200000 */
	uint64_t pref_address; /* 0x1000000 */
	uint32_t init_size;    /* 0x40000 */
	uint32_t initrd_addr_max; /* 0x7fffffff */
	uint32_t cmdline_size; /* 2047 */
	uint8_t jump;          /* byte at 0x201: header ends at 0x202 + jump; 0x6a */
	uint32_t payload_offset, payload_length;
	size_t trailer;        /* bytes after the code (a signature) */
};

static inline struct bzb_opts bzb_defaults(void)
{
	return (struct bzb_opts){
		.version = 0x020f, .setup_sects = 1, .pm_size = 0x1000, .loadflags = 0x01,
		.xloadflags = 0x0003, .relocatable = 1, .kernel_alignment = 0x200000,
		.pref_address = 0x1000000, .init_size = 0x40000, .initrd_addr_max = 0x7fffffff,
		.cmdline_size = 2047, .jump = 0x6a, .payload_offset = 0x100,
		.payload_length = 0x800,
	};
}

static inline void bzb_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Byte @i of the protected-mode code: a pattern the tests recognise. */
static inline uint8_t bzb_code_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/* Image size for @o (setup + code + trailer). */
static inline size_t bzb_size(const struct bzb_opts *o)
{
	size_t sects = o->setup_sects ? o->setup_sects : 4;
	return (sects + 1) * 512 + o->pm_size + o->trailer;
}

/*
 * Write the image into @buf (@cap bytes). Returns its size, or 0 if it does
 * not fit. The setup sectors past the header are 0xCC and so is every
 * header byte the protocol does not define here (the loader must not copy
 * bytes past the header's end).
 */
static inline size_t bzb_image(uint8_t *buf, size_t cap, const struct bzb_opts *o)
{
	size_t size = bzb_size(o);
	size_t setup = size - o->pm_size - o->trailer;
	if (size > cap)
		return 0;
	memset(buf, 0, size);
	memset(buf + 0x1F1, 0xCC, setup - 0x1F1);
	memset(buf + 0x1F1, 0, 0x26C - 0x1F1); /* the defined header, zero unless set below */
	buf[0x1F1] = o->setup_sects;
	bzb_le(buf + 0x1F4, o->pm_size / 16, 4);
	bzb_le(buf + 0x1FA, 0xFFFF, 2); /* vid_mode: normal */
	bzb_le(buf + 0x1FE, 0xAA55, 2);
	buf[0x200] = 0xEB;
	buf[0x201] = o->jump;
	memcpy(buf + 0x202, "HdrS", 4);
	bzb_le(buf + 0x206, o->version, 2);
	buf[0x211] = o->loadflags;
	bzb_le(buf + 0x214, 0x100000, 4); /* code32_start */
	bzb_le(buf + 0x22C, o->initrd_addr_max, 4);
	bzb_le(buf + 0x230, o->kernel_alignment, 4);
	buf[0x234] = o->relocatable;
	buf[0x235] = 21; /* min_alignment */
	bzb_le(buf + 0x236, o->xloadflags, 2);
	bzb_le(buf + 0x238, o->cmdline_size, 4);
	bzb_le(buf + 0x248, o->payload_offset, 4);
	bzb_le(buf + 0x24C, o->payload_length, 4);
	bzb_le(buf + 0x258, o->pref_address, 8);
	bzb_le(buf + 0x260, o->init_size, 4);
	for (size_t i = 0; i < o->pm_size; i++)
		buf[setup + i] = bzb_code_byte(i);
	memset(buf + setup + o->pm_size, 0x5A, o->trailer);
	return size;
}

#endif
