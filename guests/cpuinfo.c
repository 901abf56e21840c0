/* SPDX-License-Identifier: MIT */
/*
 * cpuinfo: what the vCPU says about itself, the same on every backend
 * (DESIGN K12). Mode "cpuid": leaf 1 reports the xAPIC and this CPU's APIC
 * ID (as the LAPIC's ID register does); the x2APIC and TSC-deadline bits
 * are printed for the test to check per backend (tcg emulates neither).
 * Mode "msr": the APIC base MSR reads base 0xFEE00000, enabled, BSP, and
 * keeps that over a write of itself.
 */
#include "guest.h"

#define MSR_APIC_BASE 0x1b

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static void mode_cpuid(void)
{
	uint32_t r[4];
	cpuid(1, r);
	guest_printf("cpuinfo: CPUID.1:ECX x2APIC %u TSC-deadline %u\n", (r[2] >> 21) & 1,
		     (r[2] >> 24) & 1);
	guest_check(r[3] & (1u << 9), "CPUID.1:EDX APIC", (r[3] >> 9) & 1, 1);
	uint32_t lapic_id = *(volatile uint32_t *)0xFEE00020 >> 24;
	guest_check(r[1] >> 24 == lapic_id, "CPUID.1:EBX APIC ID is the LAPIC's ID", r[1] >> 24,
		    lapic_id);
}

static void mode_msr(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	guest_check((base & ~0xfffULL) == 0xFEE00000ULL, "APIC base MSR: base", base & ~0xfffULL,
		    0xFEE00000ULL);
	guest_check(base & (1u << 11), "APIC base MSR: enabled", (base >> 11) & 1, 1);
	guest_check(base & (1u << 8), "APIC base MSR: BSP", (base >> 8) & 1, 1);
	wrmsr(MSR_APIC_BASE, base);
	uint64_t again = rdmsr(MSR_APIC_BASE);
	guest_check(again == base, "APIC base MSR keeps a write of itself", again, base);
}

int guest_main(void)
{
	static const struct guest_mode modes[] = {
		{ "cpuid", mode_cpuid },
		{ "msr", mode_msr },
		{ 0, 0 },
	};
	return guest_run_mode("cpuinfo", modes);
}
