/* SPDX-License-Identifier: MIT */
/*
 * ELF32/ELF64 side of the Multiboot loader: validates an x86 ELF image from
 * an untrusted buffer and turns its PT_LOAD segments into a load plan. Guest
 * RAM, reserved areas and the Multiboot info are multiboot.c's business.
 */
#include "loader/multiboot_priv.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* The fields we use, widened to 64 bits whatever the ELF class. */
struct mb_ehdr {
	unsigned cls;
	uint16_t type, machine, phentsize, phnum;
	uint64_t entry, phoff;
};

struct mb_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static int mb_elf_ehdr(const uint8_t *img, size_t size, struct mb_ehdr *eh, char *err,
		       size_t errlen)
{
	if (size < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG) != 0)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: not an ELF file, and the Multiboot header has no "
			       "a.out kludge (flag bit 16)");
	eh->cls = img[EI_CLASS];
	if (eh->cls != ELFCLASS32 && eh->cls != ELFCLASS64)
		return mb_fail(err, errlen, -ENOEXEC, "kernel: ELF class %u is neither ELF32 nor ELF64",
			       eh->cls);
	if (img[EI_DATA] != ELFDATA2LSB)
		return mb_fail(err, errlen, -ENOEXEC, "kernel: ELF data encoding %u is not little-endian",
			       img[EI_DATA]);

	size_t need = eh->cls == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
	if (size < need)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: truncated ELF header: file has %zu bytes, ELF%u header needs %zu",
			       size, eh->cls == ELFCLASS32 ? 32U : 64U, need);
	if (eh->cls == ELFCLASS32) {
		Elf32_Ehdr e;
		memcpy(&e, img, sizeof(e));
		*eh = (struct mb_ehdr){ .cls = eh->cls, .type = e.e_type, .machine = e.e_machine,
					.phentsize = e.e_phentsize, .phnum = e.e_phnum,
					.entry = e.e_entry, .phoff = e.e_phoff };
	} else {
		Elf64_Ehdr e;
		memcpy(&e, img, sizeof(e));
		*eh = (struct mb_ehdr){ .cls = eh->cls, .type = e.e_type, .machine = e.e_machine,
					.phentsize = e.e_phentsize, .phnum = e.e_phnum,
					.entry = e.e_entry, .phoff = e.e_phoff };
	}

	uint16_t machine = eh->cls == ELFCLASS32 ? EM_386 : EM_X86_64;
	if (eh->machine != machine)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: ELF%u machine %u is not x86 (expected %u)",
			       eh->cls == ELFCLASS32 ? 32U : 64U, eh->machine, machine);
	if (eh->type != ET_EXEC && eh->type != ET_DYN)
		return mb_fail(err, errlen, -ENOEXEC, "kernel: ELF type %u is not an executable",
			       eh->type);
	size_t phsize = eh->cls == ELFCLASS32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
	if (eh->phentsize != phsize)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: ELF e_phentsize %u, expected %zu", eh->phentsize, phsize);
	if (eh->phnum == 0)
		return mb_fail(err, errlen, -ENOEXEC, "kernel: ELF file has no program headers");
	uint64_t table = (uint64_t)eh->phnum * eh->phentsize;
	if (eh->phoff > size || table > size - eh->phoff)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: program header table at offset 0x%llx (%u entries, 0x%llx bytes) "
			       "extends past end of file (size 0x%zx)",
			       (unsigned long long)eh->phoff, eh->phnum, (unsigned long long)table, size);
	return 0;
}

static void mb_elf_phdr(const uint8_t *img, const struct mb_ehdr *eh, unsigned i, struct mb_phdr *ph)
{
	const uint8_t *p = img + eh->phoff + (uint64_t)i * eh->phentsize;
	if (eh->cls == ELFCLASS32) {
		Elf32_Phdr e;
		memcpy(&e, p, sizeof(e));
		*ph = (struct mb_phdr){ .type = e.p_type, .flags = e.p_flags, .offset = e.p_offset,
					.vaddr = e.p_vaddr, .paddr = e.p_paddr,
					.filesz = e.p_filesz, .memsz = e.p_memsz };
	} else {
		Elf64_Phdr e;
		memcpy(&e, p, sizeof(e));
		*ph = (struct mb_phdr){ .type = e.p_type, .flags = e.p_flags, .offset = e.p_offset,
					.vaddr = e.p_vaddr, .paddr = e.p_paddr,
					.filesz = e.p_filesz, .memsz = e.p_memsz };
	}
}

static int mb_elf_segment(const struct mb_phdr *ph, unsigned i, size_t size, struct mb_plan *plan,
			  char *err, size_t errlen)
{
	if (ph->filesz > ph->memsz)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: program header %u: p_filesz 0x%llx exceeds p_memsz 0x%llx", i,
			       (unsigned long long)ph->filesz, (unsigned long long)ph->memsz);
	if (ph->filesz && (ph->offset > size || ph->filesz > size - ph->offset))
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: program header %u: file bytes at offset 0x%llx (size 0x%llx) "
			       "extend past end of file (size 0x%zx)",
			       i, (unsigned long long)ph->offset, (unsigned long long)ph->filesz, size);
	if (ph->memsz == 0)
		return 0;
	if (ph->paddr >= MB_4G || ph->memsz > MB_4G - ph->paddr)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: program header %u: segment at 0x%llx of size 0x%llx "
			       "extends above 4 GiB",
			       i, (unsigned long long)ph->paddr, (unsigned long long)ph->memsz);
	if (plan->nr_segs == MULTIBOOT_MAX_SEGMENTS)
		return mb_fail(err, errlen, -ENOEXEC, "kernel: more than %u PT_LOAD segments",
			       MULTIBOOT_MAX_SEGMENTS);
	plan->seg[plan->nr_segs++] = (struct mb_segment){
		.gpa = ph->paddr, .memsz = ph->memsz, .filesz = ph->filesz,
		.offset = ph->offset, .phdr = i };
	return 0;
}

int mb_elf_parse(const uint8_t *img, size_t size, struct mb_plan *plan, char *err, size_t errlen)
{
	struct mb_ehdr eh = { 0 };
	int rc = mb_elf_ehdr(img, size, &eh, err, errlen);
	if (rc)
		return rc;

	plan->nr_segs = 0;
	plan->kludge = false;
	plan->entry = eh.entry;
	bool entry_moved = false;
	for (unsigned i = 0; i < eh.phnum; i++) {
		struct mb_phdr ph;
		mb_elf_phdr(img, &eh, i, &ph);
		if (ph.type != PT_LOAD)
			continue;
		rc = mb_elf_segment(&ph, i, size, plan, err, errlen);
		if (rc)
			return rc;
		/*
		 * e_entry is virtual; like QEMU's load_elf, translate it when it
		 * lies in an executable segment linked elsewhere than loaded.
		 */
		if (!entry_moved && (ph.flags & PF_X) && ph.vaddr != ph.paddr &&
		    eh.entry >= ph.vaddr && eh.entry - ph.vaddr < ph.filesz) {
			plan->entry = eh.entry - ph.vaddr + ph.paddr;
			entry_moved = true;
		}
	}
	if (plan->nr_segs == 0)
		return mb_fail(err, errlen, -ENOEXEC, "kernel: ELF file has no loadable segment");
	if (plan->entry >= MB_4G)
		return mb_fail(err, errlen, -ENOEXEC,
			       "kernel: entry point 0x%llx is above 4 GiB (Multiboot enters in 32-bit mode)",
			       (unsigned long long)plan->entry);
	return 0;
}
