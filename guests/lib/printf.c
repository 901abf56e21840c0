/* SPDX-License-Identifier: MIT */
/*
 * A small printf: %d %i %u %x %X %c %s %p %% with l/ll/z, width, '0', '-'
 * and '#'. One formatter writes to a buffer (snprintf) or to the serial
 * port; serial output holds a lock that the same CPU may re-enter.
 */
#include "guest.h"

struct out {
	char *buf;
	size_t cap, len;
	bool serial;
};

static void emit(struct out *o, char c)
{
	if (o->serial)
		guest_putc(c);
	else if (o->len + 1 < o->cap)
		o->buf[o->len] = c;
	o->len++;
}

static void emit_pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		emit(o, c);
}

static void format(struct out *o, const char *f, va_list ap)
{
	char tmp[24];

	for (; *f; f++) {
		if (*f != '%') {
			emit(o, *f);
			continue;
		}
		bool left = false, zero = false, alt = false;
		int width = 0, lng = 0;
		for (;; f++) {
			if (f[1] == '-')
				left = true;
			else if (f[1] == '0')
				zero = true;
			else if (f[1] == '#')
				alt = true;
			else
				break;
		}
		while (f[1] >= '0' && f[1] <= '9')
			width = width * 10 + (*++f - '0');
		while (f[1] == 'l' || f[1] == 'z')
			lng += (*++f == 'z') ? 2 : 1;
		char conv = *++f;
		const char *s = tmp, *prefix = "";
		int n = 0;
		uint64_t v = 0;
		unsigned base = 10;
		bool neg = false;

		switch (conv) {
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			n = 1;
			break;
		case 's':
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			n = (int)strlen(s);
			break;
		case 'd': case 'i': {
			int64_t x = lng ? va_arg(ap, long) : va_arg(ap, int);
			neg = x < 0;
			v = neg ? -(uint64_t)x : (uint64_t)x;
			goto number;
		}
		case 'p':
			v = (uintptr_t)va_arg(ap, void *);
			base = 16;
			alt = true;
			goto number;
		case 'x': case 'X': case 'u':
			v = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			base = conv == 'u' ? 10 : 16;
		number: {
			const char *digits = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
			char *p = tmp + sizeof(tmp);
			do {
				*--p = digits[v % base];
				v /= base;
			} while (v);
			s = p;
			n = (int)(tmp + sizeof(tmp) - p);
			prefix = neg ? "-" : (alt && base == 16) ? "0x" : "";
			break;
		}
		case '\0':
			return;
		default: /* %% and unknown: print the character */
			tmp[0] = conv;
			n = 1;
			break;
		}
		int pad = width - n - (int)strlen(prefix);
		if (!left && !zero)
			emit_pad(o, ' ', pad);
		for (const char *q = prefix; *q; q++)
			emit(o, *q);
		if (!left && zero)
			emit_pad(o, '0', pad);
		for (int k = 0; k < n; k++)
			emit(o, s[k]);
		if (left)
			emit_pad(o, ' ', pad);
	}
}

static volatile uint32_t out_owner; /* 0 free, else CPU index + 1 */

int guest_vprintf(const char *fmt, va_list ap)
{
	struct out o = { 0, 0, 0, true };
	uint32_t me = guest_cpu_index() + 1, free_v = 0;
	bool nested = out_owner == me;

	if (!nested)
		while (!__atomic_compare_exchange_n(&out_owner, &free_v, me, false,
						    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			free_v = 0;
			guest_pause();
		}
	format(&o, fmt, ap);
	if (!nested)
		__atomic_store_n(&out_owner, 0, __ATOMIC_RELEASE);
	return (int)o.len;
}

int guest_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = guest_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int guest_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	struct out o = { buf, n, 0, false };
	va_list ap;

	va_start(ap, fmt);
	format(&o, fmt, ap);
	va_end(ap);
	if (n)
		buf[o.len < n ? o.len : n - 1] = '\0';
	return (int)o.len;
}
