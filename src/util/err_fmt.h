/* SPDX-License-Identifier: MIT */
/*
 * One error formatter for code that explains a refusal in the caller's
 * buffer (char *err, size_t errlen) and returns a negative errno: the
 * loaders' "kernel: bzImage: file is truncated: ...", the ACPI tables'.
 * Callers wrap it in a macro that adds their own prefix.
 */
#ifndef IOREQVM_UTIL_ERR_FMT_H
#define IOREQVM_UTIL_ERR_FMT_H

#include <stddef.h>

/* Formats into err[errlen] (if err and errlen) and returns rc. */
__attribute__((format(printf, 4, 5)))
int err_fmt(char *err, size_t errlen, int rc, const char *fmt, ...);

#endif
