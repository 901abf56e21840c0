/* SPDX-License-Identifier: MIT */
/*
 * bench_io: N guest writes to one port or MMIO address, for the round-trip
 * benchmarks (bench/run.sh times whole runs with N and with 0 writes).
 * Command line: "pio PORT N" or "mmio ADDR N" (numbers in C syntax).
 */
#include "guest.h"

static uint64_t parse(const char **s)
{
	while (**s == ' ')
		(*s)++;
	uint64_t v = 0, base = 10;
	if ((*s)[0] == '0' && ((*s)[1] == 'x' || (*s)[1] == 'X')) {
		base = 16;
		*s += 2;
	}
	for (;; (*s)++) {
		char c = **s;
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
			   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 99;
		if (d >= base)
			return v;
		v = v * base + d;
	}
}

int guest_main(void)
{
	const char *s = guest_cmdline();
	while (*s && *s != ' ')
		s++; /* the kernel's file name */
	while (*s == ' ')
		s++;
	bool mmio = s[0] == 'm';
	if (s[0] != 'm' && s[0] != 'p') {
		guest_printf("bench_io: command line must be 'pio PORT N' or 'mmio ADDR N'\n");
		return GUEST_EXIT_FAIL;
	}
	s += mmio ? 4 : 3;
	uint64_t where = parse(&s), n = parse(&s);
	if (mmio)
		for (uint64_t i = 0; i < n; i++)
			guest_write32((uintptr_t)where, (uint32_t)i);
	else
		for (uint64_t i = 0; i < n; i++)
			guest_outl((uint16_t)where, (uint32_t)i);
	guest_printf("bench_io: %llu writes done\n", (unsigned long long)n);
	return GUEST_EXIT_PASS;
}
