/* SPDX-License-Identifier: MIT */
/*
 * vmlinux ELF reader (see vmlinux_elf.h): the ELF header, the program
 * headers and each PT_LOAD checked against the file, with a message naming
 * the field and value for every refusal.
 */
#include "loader/vmlinux_elf.h"
#include "util/err_fmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define VE_EHDR_SIZE 64
#define VE_PHDR_SIZE 56
#define VE_ET_EXEC 2
#define VE_EM_X86_64 62
#define VE_PT_LOAD 1
#define VE_4G 0x100000000ULL

#define ve_fail(err, errlen, rc, fmt, ...) \
	err_fmt(err, errlen, rc, "kernel: vmlinux: " fmt, ##__VA_ARGS__)

static uint64_t rd(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The segment holding physical @pa in its file bytes, or -1. */
static int seg_of_paddr(const struct vmlinux_info *vi, uint64_t pa)
{
	for (unsigned i = 0; i < vi->nr_seg; i++)
		if (pa >= vi->seg[i].paddr && pa - vi->seg[i].paddr < vi->seg[i].filesz)
			return (int)i;
	return -1;
}

int vmlinux_parse(const void *elf, size_t size, struct vmlinux_info *out, char *err,
		  size_t errlen)
{
	const uint8_t *p = elf;
	if (!p || size < VE_EHDR_SIZE || memcmp(p, "\177ELF", 4))
		return ve_fail(err, errlen, -ENOEXEC, "not an ELF file (%zu bytes)", size);
	if (p[4] != 2 || p[5] != 1 || p[6] != 1)
		return ve_fail(err, errlen, -ENOEXEC,
			       "not ELF64 little-endian version 1 (class %u, data %u, version %u)",
			       p[4], p[5], p[6]);
	uint16_t type = (uint16_t)rd(p + 16, 2), machine = (uint16_t)rd(p + 18, 2);
	if (type != VE_ET_EXEC || machine != VE_EM_X86_64)
		return ve_fail(err, errlen, -ENOEXEC,
			       "not an x86-64 executable (e_type %u, e_machine %u)", type, machine);
	uint64_t entry = rd(p + 24, 8), phoff = rd(p + 32, 8);
	uint16_t phentsize = (uint16_t)rd(p + 54, 2), phnum = (uint16_t)rd(p + 56, 2);
	if (phentsize != VE_PHDR_SIZE || phnum == 0 || phnum > VMLINUX_MAX_PHNUM)
		return ve_fail(err, errlen, -ENOEXEC,
			       "program headers: %u of %u bytes (1 to %u of %u expected)", phnum,
			       phentsize, VMLINUX_MAX_PHNUM, VE_PHDR_SIZE);
	if (phoff > size || (uint64_t)phnum * VE_PHDR_SIZE > size - phoff)
		return ve_fail(err, errlen, -ENOEXEC,
			       "program headers at 0x%llx (%u) lie outside the file (%zu bytes)",
			       (unsigned long long)phoff, phnum, size);

	struct vmlinux_info vi;
	memset(&vi, 0, sizeof(vi));
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = p + phoff + (uint64_t)i * VE_PHDR_SIZE;
		if (rd(ph, 4) != VE_PT_LOAD)
			continue;
		struct vmlinux_seg s = {
			.offset = rd(ph + 8, 8), .paddr = rd(ph + 24, 8),
			.filesz = rd(ph + 32, 8), .memsz = rd(ph + 40, 8),
		};
		if (s.memsz == 0)
			continue;
		if (s.filesz > s.memsz)
			return ve_fail(err, errlen, -ENOEXEC,
				       "segment %u: p_filesz 0x%llx exceeds p_memsz 0x%llx", i,
				       (unsigned long long)s.filesz, (unsigned long long)s.memsz);
		if (s.offset > size || s.filesz > size - s.offset)
			return ve_fail(err, errlen, -ENOEXEC,
				       "segment %u: file bytes [0x%llx, +0x%llx) lie outside the file "
				       "(%zu bytes)", i, (unsigned long long)s.offset,
				       (unsigned long long)s.filesz, size);
		if (s.paddr >= VE_4G || s.memsz > VE_4G - s.paddr)
			return ve_fail(err, errlen, -ENOEXEC,
				       "segment %u: [0x%llx, +0x%llx) extends above 4 GiB", i,
				       (unsigned long long)s.paddr, (unsigned long long)s.memsz);
		if (vi.nr_seg == VMLINUX_MAX_SEGS)
			return ve_fail(err, errlen, -ENOEXEC, "more than %u loadable segments",
				       VMLINUX_MAX_SEGS);
		/* Insert in paddr order, refusing overlaps. */
		unsigned at = vi.nr_seg;
		while (at > 0 && vi.seg[at - 1].paddr > s.paddr)
			at--;
		bool overlap = (at > 0 && vi.seg[at - 1].paddr + vi.seg[at - 1].memsz > s.paddr) ||
			       (at < vi.nr_seg && s.paddr + s.memsz > vi.seg[at].paddr);
		if (overlap)
			return ve_fail(err, errlen, -ENOEXEC,
				       "segment %u: [0x%llx, +0x%llx) overlaps another segment", i,
				       (unsigned long long)s.paddr, (unsigned long long)s.memsz);
		memmove(&vi.seg[at + 1], &vi.seg[at], (vi.nr_seg - at) * sizeof(vi.seg[0]));
		vi.seg[at] = s;
		vi.nr_seg++;
	}
	if (!vi.nr_seg)
		return ve_fail(err, errlen, -ENOEXEC, "no loadable segment");
	vi.min_paddr = vi.seg[0].paddr;
	vi.end_paddr = vi.seg[vi.nr_seg - 1].paddr + vi.seg[vi.nr_seg - 1].memsz;

	/* x86-64 vmlinux's e_entry is physical (phys_startup_64); accept a virtual one too. */
	uint64_t pe = entry;
	if (seg_of_paddr(&vi, pe) < 0) {
		pe = UINT64_MAX;
		for (unsigned i = 0; i < phnum && pe == UINT64_MAX; i++) {
			const uint8_t *ph = p + phoff + (uint64_t)i * VE_PHDR_SIZE;
			uint64_t va = rd(ph + 16, 8), pa = rd(ph + 24, 8), fs = rd(ph + 32, 8);
			if (rd(ph, 4) == VE_PT_LOAD && entry >= va && entry - va < fs)
				pe = pa + (entry - va);
		}
		if (pe == UINT64_MAX || seg_of_paddr(&vi, pe) < 0)
			return ve_fail(err, errlen, -ENOEXEC,
				       "entry point 0x%llx lies in no segment's file bytes",
				       (unsigned long long)entry);
	}
	vi.entry = pe;
	*out = vi;
	return 0;
}
