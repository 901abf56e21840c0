/* SPDX-License-Identifier: MIT */
/* Putting a guest into a created VM: kernel (Multiboot or bzImage) and initrd files, MP and ACPI tables, BSP entry state. */
#ifndef IOREQVM_BOOT_H
#define IOREQVM_BOOT_H

#include <stddef.h>

struct vm;

/* Who decompresses a bzImage's kernel (--kernel-decompress). */
enum boot_decompress {
	BOOT_DECOMPRESS_HOST = 0, /* ioreqvm, where it knows the format; else the guest */
	BOOT_DECOMPRESS_GUEST,    /* the kernel's own decompressor, in the guest */
};

struct boot_files {
	const char *kernel;  /* path */
	const char *initrd;  /* path or NULL */
	const char *cmdline; /* or NULL */
	enum boot_decompress decompress;
};

/* What boot_guest did that the user may want to know (main prints it). */
struct boot_report {
	char note[512];   /* "" or one line: how the kernel was loaded */
	int note_level;   /* LOG_ERR (always shown: a slower path than asked) or LOG_INFO */
};

/*
 * Load everything and set vCPU 0's entry state. 0 or -errno, message in
 * err. @rep (may be NULL) gets a note on how a bzImage was loaded.
 */
int boot_guest(struct vm *vm, const struct boot_files *files, struct boot_report *rep,
	       char *err, size_t errlen);

#endif
