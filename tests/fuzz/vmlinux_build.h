/* SPDX-License-Identifier: MIT */
/*
 * Builds small synthetic vmlinux ELFs in memory (an ELF64 x86-64 ET_EXEC
 * header, PT_LOAD program headers as arch/x86/kernel/vmlinux.lds.S lays
 * them out: virtual 0xffffffff8xxxxxxx, physical from LOAD_PHYSICAL_ADDR,
 * and segment bytes of a recognisable pattern) for the loader's unit tests
 * and the fuzz target's seeds, and puts a compressed one into a bzImage's
 * payload. Header-only test helper; nothing here is linked into the VMM.
 */
#ifndef IOREQVM_TESTS_VMLINUX_BUILD_H
#define IOREQVM_TESTS_VMLINUX_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VMB_MAX_SEGS 8
#define VMB_KERNEL_MAP 0xffffffff80000000ULL

struct vmb_seg {
	uint64_t paddr, vaddr, filesz, memsz;
	uint32_t type; /* 1 = PT_LOAD */
};

struct vmb_opts {
	unsigned nr_seg;
	struct vmb_seg seg[VMB_MAX_SEGS];
	uint64_t entry;     /* e_entry as written */
	uint16_t machine;   /* 62 */
	uint16_t type;      /* 2 = ET_EXEC */
	uint16_t phentsize; /* 56 */
	size_t trailer;     /* bytes after the last segment (relocations) */
};

/* Two segments at 16 MiB as a kernel's text and data (with bss), entry at the start. */
static inline struct vmb_opts vmb_defaults(void)
{
	struct vmb_opts o = { .nr_seg = 2, .entry = 0x1000000, .machine = 62, .type = 2,
			      .phentsize = 56 };
	o.seg[0] = (struct vmb_seg){ .paddr = 0x1000000, .vaddr = VMB_KERNEL_MAP + 0x1000000,
				     .filesz = 0x3000, .memsz = 0x3000, .type = 1 };
	o.seg[1] = (struct vmb_seg){ .paddr = 0x1200000, .vaddr = VMB_KERNEL_MAP + 0x1200000,
				     .filesz = 0x1000, .memsz = 0x5000, .type = 1 };
	return o;
}

/* Byte @i of segment @s's file bytes. */
static inline uint8_t vmb_byte(unsigned s, size_t i)
{
	return (uint8_t)(i * 13 + s * 71 + 1);
}

static inline void vmb_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Offset of segment @s's bytes in the file: after the headers, 4 KiB aligned. */
static inline size_t vmb_seg_offset(const struct vmb_opts *o, unsigned s)
{
	size_t off = 0x1000;
	for (unsigned i = 0; i < s; i++)
		off += (o->seg[i].filesz + 0xfff) & ~(size_t)0xfff;
	return off;
}

static inline size_t vmb_size(const struct vmb_opts *o)
{
	return vmb_seg_offset(o, o->nr_seg) + o->trailer;
}

/* Write the ELF into @buf (@cap bytes); its size, or 0 if it does not fit. */
static inline size_t vmb_image(uint8_t *buf, size_t cap, const struct vmb_opts *o)
{
	size_t size = vmb_size(o);
	if (size > cap || o->nr_seg > VMB_MAX_SEGS || 64 + o->nr_seg * 56 > 0x1000)
		return 0;
	memset(buf, 0, size);
	memcpy(buf, "\177ELF", 4);
	buf[4] = 2; /* ELFCLASS64 */
	buf[5] = 1; /* little endian */
	buf[6] = 1; /* version */
	vmb_le(buf + 16, o->type, 2);
	vmb_le(buf + 18, o->machine, 2);
	vmb_le(buf + 20, 1, 4);
	vmb_le(buf + 24, o->entry, 8);
	vmb_le(buf + 32, 64, 8); /* e_phoff */
	vmb_le(buf + 52, 64, 2); /* e_ehsize */
	vmb_le(buf + 54, o->phentsize, 2);
	vmb_le(buf + 56, o->nr_seg, 2);
	for (unsigned s = 0; s < o->nr_seg; s++) {
		uint8_t *ph = buf + 64 + s * 56;
		size_t off = vmb_seg_offset(o, s);
		vmb_le(ph, o->seg[s].type, 4);
		vmb_le(ph + 4, 7, 4); /* RWX */
		vmb_le(ph + 8, off, 8);
		vmb_le(ph + 16, o->seg[s].vaddr, 8);
		vmb_le(ph + 24, o->seg[s].paddr, 8);
		vmb_le(ph + 32, o->seg[s].filesz, 8);
		vmb_le(ph + 40, o->seg[s].memsz, 8);
		vmb_le(ph + 48, 0x200000, 8);
		for (size_t i = 0; i < o->seg[s].filesz; i++)
			buf[off + i] = vmb_byte(s, i);
	}
	memset(buf + size - o->trailer, 0xA5, o->trailer);
	return size;
}

#endif
