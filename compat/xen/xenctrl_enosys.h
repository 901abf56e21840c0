/* SPDX-License-Identifier: MIT */
/*
 * The stubs of xenctrl_enosys.c: ENOSYS_INT(name) defines name() returning
 * -1, ENOSYS_PTR(name) one returning NULL, both with errno ENOSYS and the
 * reason kept for xc_get_last_error(). That file sees no Xen header: the
 * stubs take no parameters, which the x86-64 calling convention makes safe
 * for any caller whose arguments are scalars or pointers (every function
 * stubbed: gen_xenctrl_enosys.py refuses any other return type, and
 * libxenctrl's functions take no structs by value).
 */
#ifndef IOREQVM_XENCTRL_ENOSYS_H
#define IOREQVM_XENCTRL_ENOSYS_H

/* Set errno ENOSYS and the last error (naming @what); returns -1. xenctrl.c. */
long ioreqvm_xenctrl_enosys(const char *what);

#define ENOSYS_INT(name)                             \
	long name(void);                             \
	long name(void)                              \
	{                                            \
		return ioreqvm_xenctrl_enosys(#name); \
	}
#define ENOSYS_PTR(name)                      \
	void *name(void);                     \
	void *name(void)                      \
	{                                     \
		ioreqvm_xenctrl_enosys(#name); \
		return (void *)0;             \
	}

#endif
