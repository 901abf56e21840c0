/* SPDX-License-Identifier: MIT */
/* Diagnostics: formats one whole line and writes it with a single write(2). */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

int log_verbosity;

void log_msg(int level, const char *fmt, ...)
{
	if (level > log_verbosity)
		return;
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "ioreqvm: ");
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, buf, len);
	(void)w;
}
