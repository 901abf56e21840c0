/* SPDX-License-Identifier: MIT */
/* The error formatter (err_fmt.h). */
#include "util/err_fmt.h"

#include <stdarg.h>
#include <stdio.h>

int err_fmt(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}
