/* SPDX-License-Identifier: MIT */
/*
 * cpubench: CPU-bound loops for comparing software CPUs (bench/run.sh, the
 * tcg 2.1 issue: ioreqvm's tcg against QEMU TCG, same image). The command
 * line is "<loop> <n>":
 * - int N: N steps of a 64-bit LCG (registers only);
 * - mem N: N read-modify-writes at pseudo-random 8-byte words of a 16 MiB
 *   buffer reached through 4 KiB pages of its own (4096 PTEs, paging on),
 *   so most accesses miss a software TLB;
 * both at CPL0, no device I/O inside the loop. Prints a checksum (the same
 * on every backend and on QEMU) and exits with status 1.
 */
#include "guest.h"

#define LCG_A 6364136223846793005ull
#define LCG_C 1442695040888963407ull
#define BUF_VA 0x8000000000ULL /* PML4 slot 1 */
#define BUF_PAGES 4096         /* 16 MiB */

static uint8_t buf[BUF_PAGES][4096] __attribute__((aligned(4096)));
static uint64_t pt[BUF_PAGES / 512][512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));

static uint64_t parse_n(const char *s)
{
	while (*s && *s != ' ')
		s++;
	uint64_t n = 0;
	while (*s == ' ')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		n = n * 10 + (uint64_t)(*s - '0');
	return n;
}

static uint64_t loop_int(uint64_t n)
{
	uint64_t x = 1;
	for (uint64_t i = 0; i < n; i++) {
		x = x * LCG_A + LCG_C;
		__asm__("" : "+r"(x));
	}
	return x;
}

static uint64_t loop_mem(uint64_t n)
{
	for (unsigned i = 0; i < BUF_PAGES; i++)
		pt[i / 512][i % 512] = (uintptr_t)buf[i] | 3;
	for (unsigned i = 0; i < BUF_PAGES / 512; i++)
		pd[i] = (uintptr_t)pt[i] | 3;
	pdpt[0] = (uintptr_t)pd | 3;
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	((uint64_t *)(cr3 & ~0xfffULL))[1] = (uintptr_t)pdpt | 3;
	__asm__ volatile("mov %0, %%cr3" ::"r"(cr3) : "memory");
	volatile uint64_t *w = (volatile uint64_t *)BUF_VA;
	uint64_t x = 1, sum = 0;
	for (uint64_t i = 0; i < n; i++) {
		x = x * LCG_A + LCG_C;
		uint64_t k = (x >> 20) & (BUF_PAGES * 512 - 1);
		uint64_t v = w[k] + x;
		w[k] = v;
		sum += v;
	}
	return sum;
}

int guest_main(void)
{
	const char *arg = guest_cmdline_arg();
	uint64_t n = parse_n(arg), sum;
	if (guest_cmdline_is("int"))
		sum = loop_int(n);
	else if (guest_cmdline_is("mem"))
		sum = loop_mem(n);
	else {
		guest_printf("cpubench: unknown loop: %s\n", arg);
		return GUEST_EXIT_FAIL;
	}
	guest_printf("cpubench: %llu steps, checksum %#llx\n", (unsigned long long)n,
		     (unsigned long long)sum);
	return GUEST_EXIT_PASS;
}
