/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 loader (DESIGN K5): puts a kernel image (ELF32, ELF64 or an
 * a.out-kludge image), an optional module and the Multiboot information into
 * guest RAM the way QEMU's -kernel does, and says how to enter it. Setting up
 * the vCPU (flat 32-bit protected mode, paging off) is the CPU backend's job.
 *
 * Layout in guest RAM, as QEMU (hw/i386/multiboot.c + multiboot.bin) does:
 *   0x9000  memory map (MULTIBOOT_MMAP_ADDR), 0x9500 the info structure
 *           (MULTIBOOT_INFO_ADDR); kernels may not load into [0x9000, 0xA000).
 *   kernel  at its ELF p_paddr / a.out load_addr.
 *   after the kernel's highest byte, page aligned: the module list, the
 *           module cmdline, the kernel cmdline and the boot loader name;
 *   then, page aligned again, module 0 (the initrd).
 *
 * All functions are thread compatible (no global state); they write only the
 * guest RAM they are given. Not an ABI: callers are inside the VMM.
 */
#ifndef IOREQVM_MULTIBOOT_H
#define IOREQVM_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "mem/guest_ram.h"

#define MULTIBOOT_HEADER_MAGIC 0x1BADB002U
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002U
/* QEMU accepts the magic at 4-byte aligned offsets below 8192 - 48. */
#define MULTIBOOT_SEARCH_END (8192U - 48U)

/* Header flags. Bits 0-15 are "required": unknown ones make us refuse. */
#define MULTIBOOT_HDR_PAGE_ALIGN (1U << 0)  /* modules page aligned: always */
#define MULTIBOOT_HDR_MEMORY_INFO (1U << 1) /* mem_* and mmap: always given */
#define MULTIBOOT_HDR_VIDEO_MODE (1U << 2)  /* ignored, as QEMU does */
#define MULTIBOOT_HDR_AOUT_KLUDGE (1U << 16)
#define MULTIBOOT_HDR_REQUIRED_MASK 0xFFFFU

/* Info flags we set: exactly QEMU's set. */
#define MULTIBOOT_INFO_MEMORY (1U << 0)
#define MULTIBOOT_INFO_BOOTDEV (1U << 1)
#define MULTIBOOT_INFO_CMDLINE (1U << 2)
#define MULTIBOOT_INFO_MODS (1U << 3)
#define MULTIBOOT_INFO_MMAP (1U << 6)
#define MULTIBOOT_INFO_LOADER_NAME (1U << 9)

#define MULTIBOOT_MMAP_ADDR 0x9000U
#define MULTIBOOT_INFO_ADDR 0x9500U
#define MULTIBOOT_INFO_AREA_START 0x9000ULL
#define MULTIBOOT_INFO_AREA_END 0xA000ULL
#define MULTIBOOT_BOOT_DEVICE 0x8000FFFFU /* as QEMU: first disk, no partition */
#define MULTIBOOT_MEM_LOWER_KB 639U
#define MULTIBOOT_LOADER_NAME "ioreqvm"
#define MULTIBOOT_MAX_SEGMENTS 64

#define MULTIBOOT_MMAP_RAM 1
#define MULTIBOOT_MMAP_RESERVED 2

/* The information structure (Multiboot 0.6.96 section 3.3), 88 bytes. */
struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB below 640 KiB: 639 */
	uint32_t mem_upper; /* KiB of RAM contiguous from 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info;
	uint32_t vbe_mode_info;
	uint16_t vbe_mode;
	uint16_t vbe_interface_seg;
	uint16_t vbe_interface_off;
	uint16_t vbe_interface_len;
};

struct multiboot_mod {
	uint32_t mod_start;
	uint32_t mod_end; /* one past the last byte */
	uint32_t cmdline;
	uint32_t reserved;
};

/* A memory map entry; `size` (20) excludes itself. */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));

_Static_assert(sizeof(struct multiboot_info) == 88, "Multiboot info is 88 bytes");
_Static_assert(sizeof(struct multiboot_mod) == 16, "Multiboot module is 16 bytes");
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "Multiboot mmap entry is 24 bytes");

struct boot_params {
	const void *kernel;      /* the whole image file */
	size_t kernel_size;
	const char *kernel_name; /* file name; NULL = "" */
	const char *cmdline;     /* NULL = "" */
	const void *initrd;      /* NULL = no module */
	size_t initrd_size;
	const char *initrd_name; /* module cmdline (QEMU: the -initrd argument); NULL = "" */
};

/*
 * 32-bit protected-mode entry: EIP = eip, EAX = 0x2BADB002, EBX = address of
 * the info structure; CS/DS/ES/FS/GS/SS flat 4 GiB, CR0.PE=1, PG=0, A20 on,
 * IF=0 (Multiboot spec section 3.2). The backend sets that up.
 */
struct boot_entry {
	uint32_t eip;
	uint32_t eax;
	uint32_t ebx;
};

/*
 * Load @bp->kernel into @ram and write the Multiboot information.
 *
 * The header is the first valid one (magic, checksum) at a 4-byte aligned
 * offset below MULTIBOOT_SEARCH_END. If header flag bit 16 is set the a.out
 * kludge fields decide what is loaded (also for ELF files, as QEMU); else
 * the file must be an x86 ELF32 (EM_386) or ELF64 (EM_X86_64, beyond QEMU)
 * executable whose PT_LOAD segments are loaded at p_paddr (p_filesz copied,
 * the rest of p_memsz zeroed). The entry is e_entry, turned into a physical
 * address when it lies in an executable segment whose p_vaddr != p_paddr
 * (as QEMU's ELF loader); it must be below 4 GiB.
 *
 * Every byte of the image and every size is untrusted. Segments must lie in
 * guest RAM below 4 GiB and may not overlap each other, page 0, the info
 * area [0x9000, 0xA000), the EBDA, the legacy hole [0xA0000, 0x100000) or
 * the MP table (MPTABLE_START). Everything is checked before anything is
 * written: on error guest RAM is unchanged.
 *
 * The kernel cmdline is "<kernel_name> <cmdline>" (QEMU's form, including the
 * space when cmdline is empty); module 0 is @bp->initrd with @bp->initrd_name
 * as its cmdline; the boot loader name is "ioreqvm".
 *
 * Returns 0 and fills @out, or a negative errno with one message in @err
 * (may be NULL; truncated to @errlen):
 *   -EINVAL  bad parameters (NULL ram/bp/out, NULL buffer with a size);
 *   -ENOEXEC malformed or unsupported image (no header, bad checksum,
 *            unknown required flags, bad ELF, segment in a reserved area or
 *            above 4 GiB, inconsistent a.out kludge fields, entry >= 4 GiB);
 *   -ENOMEM  the kernel, module or info does not fit in guest RAM;
 *   -E2BIG   the module or the strings are too big for Multiboot's 32-bit
 *            fields.
 */
int multiboot_load(struct guest_ram *ram, const struct boot_params *bp, struct boot_entry *out,
		   char *err, size_t errlen);

#endif
