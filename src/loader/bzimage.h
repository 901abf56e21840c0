/* SPDX-License-Identifier: MIT */
/*
 * The Linux x86 bzImage (DESIGN L1): recognising one by its setup header
 * and reading that header into what the loader needs to know (Linux's
 * Documentation/arch/x86/boot.rst). Only the 64-bit boot protocol is
 * supported: protocol 2.12 or later with XLF_KERNEL_64, a bzImage (loaded
 * high). Pure functions over the image bytes; nothing is written anywhere.
 *
 * The offsets below are the same in the image file and in boot_params (the
 * "zero page"): the setup header is copied to where it sits in the file.
 */
#ifndef IOREQVM_BZIMAGE_H
#define IOREQVM_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The setup header, at 0x1F1 in the image and in boot_params. */
#define BZ_SETUP_SECTS 0x1F1    /* u8: 512-byte sectors of setup code after the boot sector; 0 means 4 */
#define BZ_SYSSIZE 0x1F4        /* u32: protected-mode code, in 16-byte units */
#define BZ_BOOT_FLAG 0x1FE      /* u16: 0xAA55 */
#define BZ_JUMP 0x200           /* u8 0xEB, then u8: the header ends at 0x202 + this */
#define BZ_HEADER 0x202         /* "HdrS" */
#define BZ_VERSION 0x206        /* u16: protocol, major << 8 | minor */
#define BZ_TYPE_OF_LOADER 0x210 /* u8: 0xFF = undefined loader */
#define BZ_LOADFLAGS 0x211      /* u8 */
#define BZ_CODE32_START 0x214   /* u32: 32-bit entry = default load address */
#define BZ_RAMDISK_IMAGE 0x218  /* u32 */
#define BZ_RAMDISK_SIZE 0x21C   /* u32 */
#define BZ_CMD_LINE_PTR 0x228   /* u32 */
#define BZ_INITRD_ADDR_MAX 0x22C /* u32: highest address of the initrd's last byte */
#define BZ_KERNEL_ALIGNMENT 0x230 /* u32 */
#define BZ_RELOCATABLE 0x234    /* u8 */
#define BZ_XLOADFLAGS 0x236     /* u16 */
#define BZ_CMDLINE_SIZE 0x238   /* u32: longest command line, without its NUL */
#define BZ_HARDWARE_SUBARCH 0x23C /* u32 */
#define BZ_PAYLOAD_OFFSET 0x248 /* u32: from the start of the protected-mode code */
#define BZ_PAYLOAD_LENGTH 0x24C /* u32 */
#define BZ_SETUP_DATA 0x250     /* u64 */
#define BZ_PREF_ADDRESS 0x258   /* u64 */
#define BZ_INIT_SIZE 0x260      /* u32: RAM the kernel needs from its load address */
/* The header area of boot_params ends here (edd_mbr_sig_buffer follows). */
#define BZ_HEADER_AREA_END 0x290

#define BZ_BOOT_FLAG_MAGIC 0xAA55
#define BZ_HEADER_MAGIC 0x53726448U /* "HdrS" read as a little-endian u32 */
#define BZ_LOADED_HIGH 0x01         /* loadflags: a bzImage */
#define BZ_XLF_KERNEL_64 0x0001     /* xloadflags: 64-bit entry at load address + 0x200 */
#define BZ_ENTRY64_OFFSET 0x200
#define BZ_MIN_VERSION 0x0206       /* older protocols: no cmdline_size, ... */
#define BZ_XLOADFLAGS_VERSION 0x020C /* xloadflags exist from 2.12 */
#define BZ_SECTOR 512U

struct bzimage_info {
	uint16_t version;
	uint32_t setup_size;   /* file bytes before the protected-mode code */
	uint32_t header_end;   /* end of the setup header: 0x202 + byte at 0x201 */
	uint64_t pm_size;      /* protected-mode code to load: syssize * 16 bytes */
	uint32_t payload_offset; /* the compressed kernel: [offset, + length) of that code */
	uint32_t payload_length;
	uint64_t pref_address; /* as the header says (LOAD_PHYSICAL_ADDR of the vmlinux) */
	uint64_t load_addr;    /* where it is loaded: pref_address, aligned if relocatable */
	uint64_t mem_size;     /* RAM it needs from load_addr: max(init_size, pm_size) */
	uint32_t kernel_alignment;
	bool relocatable;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
};

/*
 * True if @img carries the setup header's two magic numbers (0xAA55 at
 * 0x1FE, "HdrS" at 0x202): the image is meant for the Linux boot protocol,
 * whatever else is wrong with it. Never looks past @size.
 */
bool bzimage_detect(const void *img, size_t size);

/*
 * Read and check the header of a bzImage of @size bytes. 0 with @out
 * filled, or -ENOEXEC with one message in @err ("kernel: bzImage: ...",
 * may be NULL) for: a file that ends inside the setup code, the header or
 * the protected-mode code (truncated); a header end past the boot_params
 * header area; protocol older than 2.06; no 64-bit entry (protocol < 2.12
 * or XLF_KERNEL_64 clear); not loaded high (a zImage); no protected-mode
 * code; a payload outside it; a kernel alignment that is not a power of two
 * from 4 KiB to 1 GiB; a load address below 1 MiB or a RAM need that
 * overflows 4 GiB. Extra bytes after the code (a signature) are allowed.
 */
int bzimage_parse(const void *img, size_t size, struct bzimage_info *out, char *err,
		  size_t errlen);

#endif
