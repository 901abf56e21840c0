/* SPDX-License-Identifier: MIT */
/*
 * The loaders' one error formatter: every refusal of a kernel, initrd or
 * table layout is written into the caller's buffer as a single line
 * ("kernel: bzImage: file is truncated: ...") and returned as a negative
 * errno. Each loader wraps it in a macro that adds its own prefix.
 */
#ifndef IOREQVM_LOADER_LOAD_ERROR_H
#define IOREQVM_LOADER_LOAD_ERROR_H

#include <stddef.h>

/* Formats into err[errlen] (if err and errlen) and returns rc. */
__attribute__((format(printf, 4, 5)))
int load_fail(char *err, size_t errlen, int rc, const char *fmt, ...);

#endif
