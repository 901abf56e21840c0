/* SPDX-License-Identifier: MIT */
/*
 * Internal to the Multiboot loader: the load plan that the image parsers
 * (ELF in multiboot_elf.c, a.out kludge in multiboot.c) fill in and that
 * multiboot.c checks against guest RAM and then applies.
 */
#ifndef IOREQVM_MULTIBOOT_PRIV_H
#define IOREQVM_MULTIBOOT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err_fmt.h"
#include "loader/multiboot.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the loader reads little-endian x86 images with host loads"
#endif

struct mb_segment {
	uint64_t gpa;    /* first guest-physical byte */
	uint64_t memsz;  /* bytes in guest memory, > 0 */
	uint64_t filesz; /* bytes copied from the file, <= memsz */
	uint64_t offset; /* file offset; offset + filesz <= file size */
	unsigned phdr;   /* program header index, for messages */
};

struct mb_plan {
	struct mb_segment seg[MULTIBOOT_MAX_SEGMENTS];
	unsigned nr_segs;
	uint64_t entry;
	bool kludge; /* one segment from the a.out kludge fields */
};

/*
 * Parse an x86 ELF32/ELF64 image into @plan: segment file ranges checked
 * against @size, segments below 4 GiB, entry below 4 GiB. RAM is not
 * consulted. Returns 0 or -ENOEXEC with a message.
 */
int mb_elf_parse(const uint8_t *img, size_t size, struct mb_plan *plan, char *err,
		 size_t errlen);

/* Multiboot refusals carry no prefix of their own (the messages name it). */
#define mb_fail err_fmt

#define MB_4G 0x100000000ULL

#endif
