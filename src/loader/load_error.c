/* SPDX-License-Identifier: MIT */
/* The loaders' error formatter (load_error.h). */
#include "loader/load_error.h"

#include <stdarg.h>
#include <stdio.h>

int load_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}
