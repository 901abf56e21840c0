/* SPDX-License-Identifier: MIT */
/*
 * Linux loader, 64-bit boot protocol (DESIGN L1; Linux's
 * Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"), as kvmtool and
 * Firecracker do it: the protected-mode kernel of a bzImage at its load
 * address (entered at its 64-bit entry, where the kernel's own decompressor
 * runs), or, when the caller decompressed the payload on the host
 * (kernel_payload.h), the resulting vmlinux's PT_LOAD segments at their
 * physical addresses moved by the load address (vmlinux_elf.h; entered at
 * startup_64, as Firecracker and Cloud Hypervisor boot a vmlinux), the
 * initrd high in low RAM, the command line, boot_params (the
 * "zero page") with the e820 map and the ACPI RSDP, identity page tables
 * and a GDT with __BOOT_CS/__BOOT_DS. Entering it (long mode, paging on
 * with these tables, CS 0x10, DS/ES/SS 0x18, RSI = boot_params, interrupts
 * off) is the CPU backend's job; this says with which registers.
 *
 * Layout in guest RAM (all below the EBDA, none reserved in the e820 map:
 * the kernel copies what it keeps before it reuses low memory):
 *   0x1000  PML4, 0x2000 PDPT, 0x3000-0x6fff four page directories: virtual
 *           = physical for [0, 4 GiB) in 2 MiB pages
 *   0x7000  boot_params
 *   0x8000  GDT: null, null, 0x10 64-bit code, 0x18 data (flat)
 *   0x20000 command line (the stack grows down from here: RSP = 0x20000)
 *   kernel  at bzimage_info.load_addr (pref_address), needing mem_size bytes;
 *           a vmlinux segment linked for physical P goes to
 *           load_addr + P - pref_address (the decompressor's rule: misc.c
 *           puts it at output + p_paddr - LOAD_PHYSICAL_ADDR), and the
 *           kernel needs the larger of init_size and its image's span
 *   initrd  page aligned, as high as it goes below the end of low RAM and
 *           the kernel's initrd_addr_max, above the kernel
 * Thread compatible (no global state). Not an ABI: callers are in the VMM.
 */
#ifndef IOREQVM_LINUX_BOOT_H
#define IOREQVM_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "loader/bzimage.h"
#include "mem/guest_ram.h"
#include "platform/e820.h"

#define LINUX_PML4 0x1000ULL
#define LINUX_PDPT 0x2000ULL
#define LINUX_PD 0x3000ULL
#define LINUX_PD_COUNT 4
#define LINUX_ZERO_PAGE 0x7000ULL
#define LINUX_ZERO_PAGE_SIZE 0x1000U
#define LINUX_GDT 0x8000ULL
#define LINUX_GDT_LIMIT (4 * 8 - 1)
#define LINUX_STACK_TOP 0x20000ULL
#define LINUX_CMDLINE 0x20000ULL
#define LINUX_CMDLINE_MAX 0x10000ULL /* with its NUL */
#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18
#define LINUX_GDT_CODE64 0x00AF9B000000FFFFULL /* present, DPL0, exec/read, L, G */
#define LINUX_GDT_DATA 0x00CF93000000FFFFULL   /* present, DPL0, read/write, D/B, G */
#define LINUX_TYPE_OF_LOADER 0xFF              /* "undefined" boot loader */

/* boot_params fields outside the setup header (arch/x86/include/uapi/asm/bootparam.h). */
#define BP_ACPI_RSDP_ADDR 0x070 /* u64 */
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE 0x0C4
#define BP_EXT_CMD_LINE_PTR 0x0C8
#define BP_E820_ENTRIES 0x1E8 /* u8 */
#define BP_SENTINEL 0x1EF
#define BP_E820_TABLE 0x2D0   /* 20-byte entries: u64 addr, u64 size, u32 type */
#define BP_E820_ENTRY_SIZE 20
#define BP_E820_MAX 128

struct linux_boot_args {
	const void *kernel;
	size_t kernel_size;
	const char *cmdline;  /* NULL = "" */
	const void *initrd;   /* NULL or size 0 = none */
	size_t initrd_size;
	uint64_t acpi_rsdp;   /* written to boot_params.acpi_rsdp_addr; 0 = none */
	/*
	 * The bzImage's payload decompressed on the host (an ELF vmlinux), or
	 * NULL: the guest runs the kernel's own decompressor.
	 */
	const void *vmlinux;
	size_t vmlinux_size;
};

/* The 64-bit entry state, and where things went. */
struct linux_entry {
	uint64_t rip, rsi, rsp, cr3, gdt_base; /* rip: the bzImage's 64-bit entry or startup_64 */
	uint16_t gdt_limit;
	uint64_t kernel_addr, kernel_mem; /* [addr, addr + mem) is the kernel's */
	uint64_t initrd_addr, initrd_size; /* 0, 0: none */
};

/* What boot_params says besides the copied setup header. */
struct linux_zero_page_args {
	const uint8_t *image;             /* the bzImage: its setup header is copied */
	const struct bzimage_info *bz;    /* from bzimage_parse of that image */
	uint64_t cmdline_addr;
	uint64_t initrd_addr, initrd_size;
	uint64_t acpi_rsdp;
	const struct e820_entry *e820;
	unsigned nr_e820;                 /* at most BP_E820_MAX */
};

/*
 * Build boot_params in @zp: all zero, the setup header copied from the
 * image ([0x1F1, header_end), as the 64-bit protocol says), then
 * type_of_loader 0xFF, code32_start = the load address, cmd_line_ptr,
 * ramdisk_image/size, setup_data 0, hardware_subarch 0 (PC), the e820
 * table and acpi_rsdp_addr. Never fails: @a must come from a checked load.
 */
void linux_zero_page(uint8_t zp[LINUX_ZERO_PAGE_SIZE], const struct linux_zero_page_args *a);

/*
 * Check @a->kernel (bzimage_parse), place everything, and only then write
 * it into @ram. Returns 0 and fills @out, or a negative errno with one
 * message in @err (may be NULL; guest RAM unchanged):
 *   -EINVAL  bad parameters, or guest RAM with no low region past 1 MiB;
 *   -ENOEXEC the image is malformed or unsupported (bzimage.h), or the
 *            vmlinux is (vmlinux_elf.h), or a vmlinux segment lies below
 *            the header's pref_address;
 *   -E2BIG   the command line is longer than the kernel's cmdline_size
 *            (or than LINUX_CMDLINE_MAX - 1);
 *   -ENOMEM  the kernel's [load_addr, + mem_size) (mem_size grown to the
 *            vmlinux's span when there is one) is not guest RAM below
 *            4 GiB, or the initrd does not fit between the kernel's end and
 *            the lower of low RAM's end and initrd_addr_max + 1.
 */
int linux_load(struct guest_ram *ram, const struct linux_boot_args *a, struct linux_entry *out,
	       char *err, size_t errlen);

#endif
