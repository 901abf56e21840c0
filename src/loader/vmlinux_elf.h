/* SPDX-License-Identifier: MIT */
/*
 * The decompressed kernel of a bzImage (DESIGN L1): an ELF64 x86-64
 * executable, "vmlinux" (arch/x86/boot/compressed/Makefile: vmlinux.bin,
 * stripped, possibly followed by relocation data). Reading its program
 * headers into the segments to load at their physical addresses and the
 * physical entry point (startup_64), as the kernel's own decompressor
 * (misc.c parse_elf) and Firecracker's and Cloud Hypervisor's vmlinux
 * loaders do. Untrusted input: every field is checked against the buffer.
 * Pure functions; thread compatible.
 */
#ifndef IOREQVM_VMLINUX_ELF_H
#define IOREQVM_VMLINUX_ELF_H

#include <stddef.h>
#include <stdint.h>

#define VMLINUX_MAX_SEGS 16 /* Debian's 6.1 kernel has 4 PT_LOAD */
#define VMLINUX_MAX_PHNUM 64

struct vmlinux_seg {
	uint64_t paddr;   /* physical address it is linked for */
	uint64_t offset;  /* in the ELF file */
	uint64_t filesz;  /* bytes from the file, then memsz - filesz zeroes */
	uint64_t memsz;
};

struct vmlinux_info {
	struct vmlinux_seg seg[VMLINUX_MAX_SEGS]; /* ascending paddr, disjoint */
	unsigned nr_seg;
	uint64_t min_paddr; /* lowest segment start */
	uint64_t end_paddr; /* highest segment end */
	uint64_t entry;     /* physical, inside a segment's file bytes */
};

/*
 * Read the @size-byte ELF at @elf. 0 with @out filled, or -ENOEXEC with one
 * message in @err ("kernel: vmlinux: ...", may be NULL) for: not ELF64
 * little-endian x86-64 ET_EXEC; program headers that are not 56 bytes,
 * none, more than VMLINUX_MAX_PHNUM, or outside the file; a PT_LOAD whose
 * file bytes lie outside the file or exceed its memory size, that extends
 * above 4 GiB, or overlaps another; no PT_LOAD or more than
 * VMLINUX_MAX_SEGS; an entry point (physical, or virtual inside a
 * segment) outside every segment's file bytes.
 */
int vmlinux_parse(const void *elf, size_t size, struct vmlinux_info *out, char *err,
		  size_t errlen);

#endif
