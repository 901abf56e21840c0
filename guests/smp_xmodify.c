/* SPDX-License-Identifier: MIT */
/*
 * smp_xmodify: code one CPU writes and another CPU has already run is the
 * new code on the other CPU (cross-modifying code, as Linux's text patching
 * on SMP does: jump labels, static calls, alternatives). The BSP rewrites
 * the immediate of `mov eax, imm32; ret` in a page of its own, 300 times;
 * after each rewrite the AP, told through a flag and serialized by CPUID
 * (what the SDM asks of the executing CPU), calls it and must get the new
 * value. Mode "direct" writes the page at its address; "alias" writes it
 * through a second virtual address of the same physical page, as Linux's
 * text_poke does. DESIGN K8 (on tcg each vCPU's engine caches its own
 * code). Prints "xmodify: <mode> <n> rounds, <f> stale".
 */
#include "guest.h"

#define ROUNDS 300
#define ALIAS_VA 0x8000000000ULL /* PML4 slot 1 */

static uint8_t code_page[4096] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));
static uint64_t pt[512] __attribute__((aligned(4096)));
static volatile uint64_t flag, ack, stale, ap_ready;
static volatile uint8_t *write_at; /* where the BSP writes the code */

static void serialize(void)
{
	uint32_t a = 0, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d)::"memory");
}

static void ap_main(unsigned cpu)
{
	if (cpu != 1)
		return;
	uint32_t (*fn)(void) = (uint32_t (*)(void))(uintptr_t)code_page;
	guest_atomic_store(&ap_ready, 1);
	for (uint64_t n = 1; n <= ROUNDS; n++) {
		while (guest_atomic_load(&flag) != n)
			guest_pause();
		serialize();
		uint32_t got = 0;
		for (int k = 0; k < 3; k++) /* run it more than once: a cached translation */
			got = fn();
		if (got != n)
			stale++;
		guest_atomic_store(&ack, n);
	}
}

static void patch(uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		write_at[1 + i] = (uint8_t)(v >> (8 * i));
}

int guest_main(void)
{
	bool alias = guest_cmdline_is("alias");
	if (!alias && !guest_cmdline_is("direct")) {
		guest_printf("xmodify: unknown mode: %s\n", guest_cmdline_arg());
		return GUEST_EXIT_FAIL;
	}
	write_at = code_page;
	if (alias) {
		uint64_t cr3;
		__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
		pt[0] = (uintptr_t)code_page | 3;
		pd[0] = (uintptr_t)pt | 3;
		pdpt[0] = (uintptr_t)pd | 3;
		((uint64_t *)(cr3 & ~0xfffULL))[1] = (uintptr_t)pdpt | 3;
		__asm__ volatile("mov %0, %%cr3" ::"r"(cr3) : "memory");
		write_at = (volatile uint8_t *)ALIAS_VA;
	}
	code_page[0] = 0xb8; /* mov eax, imm32 */
	patch(1);
	code_page[5] = 0xc3; /* ret */
	if (guest_smp_start(ap_main) < 2) {
		guest_printf("xmodify: needs 2 CPUs\n");
		return GUEST_EXIT_FAIL;
	}
	while (!guest_atomic_load(&ap_ready))
		guest_pause();
	for (uint64_t n = 1; n <= ROUNDS; n++) {
		if (n > 1)
			patch((uint32_t)n);
		guest_atomic_store(&flag, n);
		while (guest_atomic_load(&ack) != n)
			guest_pause();
	}
	guest_printf("xmodify: %s %u rounds, %llu stale\n", alias ? "alias" : "direct", ROUNDS,
		     (unsigned long long)stale);
	return stale ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
