/* SPDX-License-Identifier: MIT */
/*
 * bench_io: N guest writes to one port or MMIO address, for the round-trip
 * and throughput benchmarks (bench/run.sh times whole runs with N and with
 * 0 writes). Command line: "[smp] pio PORT N" or "[smp] mmio ADDR N"
 * (numbers in C syntax); with "smp" every CPU of the MP table does the N
 * writes at once (CPU i to PORT/ADDR + 4 i).
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

static bool mmio;
static uint64_t where, n;
static volatile uint64_t done;

static void writes(unsigned cpu)
{
	uint64_t at = where + 4 * cpu;
	if (mmio)
		for (uint64_t i = 0; i < n; i++)
			guest_write32((uintptr_t)at, (uint32_t)i);
	else
		for (uint64_t i = 0; i < n; i++)
			guest_outl((uint16_t)at, (uint32_t)i);
	guest_atomic_inc(&done);
}

int guest_main(void)
{
	const char *s = guest_cmdline_arg();
	bool smp = s[0] == 's' && s[1] == 'm' && s[2] == 'p';
	if (smp)
		s += 4;
	mmio = s[0] == 'm';
	if (s[0] != 'm' && s[0] != 'p') {
		guest_printf("bench_io: command line must be 'pio PORT N' or 'mmio ADDR N'\n");
		return GUEST_EXIT_FAIL;
	}
	s += mmio ? 4 : 3;
	where = parse(&s);
	n = parse(&s);
	int cpus = smp ? guest_smp_start(writes) : 1;
	if (cpus < 1)
		cpus = 1;
	writes(0);
	while (guest_atomic_load(&done) < (uint64_t)cpus)
		guest_pause();
	guest_printf("bench_io: %d cpus x %llu writes done\n", cpus, (unsigned long long)n);
	return GUEST_EXIT_PASS;
}
