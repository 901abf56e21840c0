/* SPDX-License-Identifier: MIT */
/*
 * Builds small Multiboot kernel images in memory (ELF32, ELF64, flat a.out
 * kludge) for the loader's unit tests, the fuzz target's seeds and the seed
 * generator. Header-only test helper; nothing here is linked into the VMM.
 */
#ifndef IOREQVM_TESTS_MB_BUILD_H
#define IOREQVM_TESTS_MB_BUILD_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MBB_MAGIC 0x1BADB002U
#define MBB_KLUDGE (1U << 16)
/* In ELF images the Multiboot header sits here, segment data from 0x1000. */
#define MBB_ELF_HDR_OFF 0x800U
#define MBB_ELF_DATA_OFF 0x1000U
#define MBB_MAX_SEGS 8

struct mbb_seg {
	uint64_t paddr, vaddr; /* vaddr 0 = same as paddr */
	uint64_t filesz, memsz;
	uint32_t flags;        /* PF_*; 0 = PF_R|PF_X */
	uint8_t fill;          /* file bytes are fill, fill+1, ... */
};

static inline void mbb_put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Multiboot header (magic, flags, checksum) at @p. */
static inline void mbb_header(uint8_t *p, uint32_t flags)
{
	mbb_put32(p, MBB_MAGIC);
	mbb_put32(p + 4, flags);
	mbb_put32(p + 8, (uint32_t)(0U - MBB_MAGIC - flags));
}

/* The a.out kludge fields after a header at @p. */
static inline void mbb_kludge(uint8_t *p, uint32_t header_addr, uint32_t load_addr,
			      uint32_t load_end_addr, uint32_t bss_end_addr, uint32_t entry)
{
	mbb_put32(p + 12, header_addr);
	mbb_put32(p + 16, load_addr);
	mbb_put32(p + 20, load_end_addr);
	mbb_put32(p + 24, bss_end_addr);
	mbb_put32(p + 28, entry);
}

/* File offset of segment @i's data in an image built by mbb_elf(). */
static inline uint64_t mbb_elf_seg_off(const struct mbb_seg *segs, unsigned i)
{
	uint64_t off = MBB_ELF_DATA_OFF;
	for (unsigned k = 0; k < i; k++)
		off += (segs[k].filesz + 15) & ~15ULL;
	return off;
}

/*
 * ELF32 (cls 32) or ELF64 (cls 64) image with one PT_LOAD per segment and a
 * Multiboot header with @mb_flags at MBB_ELF_HDR_OFF. Returns the size, or
 * 0 if @cap is too small. Byte k of segment i's file data is fill+k.
 */
static inline size_t mbb_elf(uint8_t *buf, size_t cap, int cls, const struct mbb_seg *segs,
			     unsigned n, uint64_t entry, uint32_t mb_flags)
{
	size_t size = mbb_elf_seg_off(segs, n);
	if (size > cap || n > MBB_MAX_SEGS)
		return 0;
	memset(buf, 0, size);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *d = buf + mbb_elf_seg_off(segs, i);
		for (uint64_t k = 0; k < segs[i].filesz; k++)
			d[k] = (uint8_t)(segs[i].fill + k);
	}
	mbb_header(buf + MBB_ELF_HDR_OFF, mb_flags);
	if (cls == 32) {
		Elf32_Ehdr eh = {
			.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS32, ELFDATA2LSB,
				     EV_CURRENT },
			.e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
			.e_entry = (uint32_t)entry, .e_phoff = sizeof(Elf32_Ehdr),
			.e_ehsize = sizeof(Elf32_Ehdr), .e_phentsize = sizeof(Elf32_Phdr),
			.e_phnum = (uint16_t)n,
		};
		memcpy(buf, &eh, sizeof(eh));
		for (unsigned i = 0; i < n; i++) {
			Elf32_Phdr ph = {
				.p_type = PT_LOAD,
				.p_offset = (uint32_t)mbb_elf_seg_off(segs, i),
				.p_vaddr = (uint32_t)(segs[i].vaddr ? segs[i].vaddr : segs[i].paddr),
				.p_paddr = (uint32_t)segs[i].paddr,
				.p_filesz = (uint32_t)segs[i].filesz,
				.p_memsz = (uint32_t)segs[i].memsz,
				.p_flags = segs[i].flags ? segs[i].flags : PF_R | PF_X,
				.p_align = 0x1000,
			};
			memcpy(buf + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
		}
	} else {
		Elf64_Ehdr eh = {
			.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
				     EV_CURRENT },
			.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			.e_entry = entry, .e_phoff = sizeof(Elf64_Ehdr),
			.e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
			.e_phnum = (uint16_t)n,
		};
		memcpy(buf, &eh, sizeof(eh));
		for (unsigned i = 0; i < n; i++) {
			Elf64_Phdr ph = {
				.p_type = PT_LOAD,
				.p_offset = mbb_elf_seg_off(segs, i),
				.p_vaddr = segs[i].vaddr ? segs[i].vaddr : segs[i].paddr,
				.p_paddr = segs[i].paddr,
				.p_filesz = segs[i].filesz,
				.p_memsz = segs[i].memsz,
				.p_flags = segs[i].flags ? segs[i].flags : PF_R | PF_X,
				.p_align = 0x1000,
			};
			memcpy(buf + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
		}
	}
	return size;
}

/*
 * Flat a.out-kludge image: @hdr_off bytes of fill, the 32-byte header, then
 * code up to @text_len bytes in total, loaded at @load_addr with @bss_len
 * bytes of bss and the entry @entry_off bytes into the image. Byte k of the
 * file is (uint8_t)(k * 7 + 1) outside the header.
 */
static inline size_t mbb_aout(uint8_t *buf, size_t cap, uint32_t hdr_off, uint32_t load_addr,
			      uint32_t text_len, uint32_t bss_len, uint32_t entry_off)
{
	if (text_len > cap || hdr_off + 32 > text_len)
		return 0;
	for (uint32_t k = 0; k < text_len; k++)
		buf[k] = (uint8_t)(k * 7 + 1);
	mbb_header(buf + hdr_off, MBB_KLUDGE | 0x3);
	mbb_kludge(buf + hdr_off, load_addr + hdr_off, load_addr, load_addr + text_len,
		   load_addr + text_len + bss_len, load_addr + entry_off);
	return text_len;
}

#endif
