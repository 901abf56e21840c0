/* SPDX-License-Identifier: MIT */
/* Putting a guest into a created VM: kernel (Multiboot or bzImage) and initrd files, MP and ACPI tables, BSP entry state. */
#ifndef IOREQVM_BOOT_H
#define IOREQVM_BOOT_H

#include <stddef.h>

struct vm;

struct boot_files {
	const char *kernel;  /* path */
	const char *initrd;  /* path or NULL */
	const char *cmdline; /* or NULL */
};

/* Load everything and set vCPU 0's entry state. 0 or -errno, message in err. */
int boot_guest(struct vm *vm, const struct boot_files *files, char *err, size_t errlen);

#endif
