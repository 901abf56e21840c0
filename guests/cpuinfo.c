/* SPDX-License-Identifier: MIT */
/*
 * cpuinfo: what the vCPU says about itself, the same on every backend
 * (DESIGN K12). Mode "cpuid": leaf 1 reports the xAPIC and this CPU's APIC
 * ID (as the LAPIC's ID register does); the x2APIC and TSC-deadline bits
 * are printed for the test to check per backend (tcg emulates neither).
 * Mode "msr": the APIC base MSR reads base 0xFEE00000, enabled, BSP, and
 * keeps that over a write of itself.
 * Mode "msr_gp": RDMSR and WRMSR of an MSR no CPU has (0x0badc0de) and of
 * the x2APIC ID MSR in xAPIC mode raise #GP(0) at the instruction with
 * EDX:EAX unchanged; RDMSR of EFER at CPL3 raises #GP(0).
 * Mode "pat_mtrr": PAT, MTRRdefType, the first variable MTRR pair and the
 * first fixed MTRR read back what was written (then restored); MTRRcap
 * offers them. Mode "pat_invalid": a PAT entry of type 2 raises #GP(0) and
 * changes nothing.
 * Mode "tsc": the TSC MSR reads between two RDTSCs; the TSC advances with
 * time: over 10 ms of the 8254 PIT's count (1.193182 MHz) it moves by a
 * rate between 100 MHz and 20 GHz.
 * Modes "xsave", "smep", "smap", "umip", "rdtscp", "tsc_deadline", "x2apic":
 * if CPUID offers the feature the guest uses it (XSETBV/XSAVE/XRSTOR; a
 * CPL0 fetch from a user page #PF 0x11 under CR4.SMEP; a CPL0 read of a user
 * page #PF 0x1 under CR4.SMAP unless STAC; SGDT at CPL3 #GP under CR4.UMIP;
 * RDTSCP's ECX is TSC_AUX; a TSC-deadline interrupt after its deadline; the
 * x2APIC ID MSR in x2APIC mode), and if not, its CR4 bit raises #GP, its
 * instruction #UD and its MSRs #GP, as on a CPU without it.
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

/* ---- faults caught: #UD, #GP, #PF resume at f_resume, or return from a call ---- */

static volatile uint64_t f_count, f_vector, f_err, f_rip, f_cr2, f_resume;
static volatile bool f_pop_return;

static void on_fault(struct guest_frame *f)
{
	f_count++;
	f_vector = f->vector;
	f_err = f->error_code;
	f_rip = f->rip;
	f_cr2 = guest_read_cr2();
	if (f_pop_return) {
		f->rip = *(uint64_t *)f->rsp;
		f->rsp += 8;
	} else {
		f->rip = f_resume;
	}
}

static void catch_faults(bool on)
{
	guest_set_handler(6, on ? on_fault : 0);
	guest_set_handler(13, on ? on_fault : 0);
	guest_set_handler(14, on ? on_fault : 0);
}

/* "leaq 1f: the instruction's address to *at; leaq 2f: where a fault resumes". */
#define MARK "leaq 2f(%%rip), %%r8\n\tmovq %%r8, %[res]\n\tleaq 1f(%%rip), %%r8\n\tmovq %%r8, %[at]\n1:\t"

static bool try_rdmsr(uint32_t msr, uint64_t *v, uint64_t *at)
{
	uint32_t lo = 0x11111111, hi = 0x22222222;
	uint64_t n = f_count;
	__asm__ volatile(MARK "rdmsr\n2:"
			 : "+a"(lo), "+d"(hi), [res] "=m"(f_resume), [at] "=m"(*at)
			 : "c"(msr)
			 : "r8", "memory");
	*v = (uint64_t)hi << 32 | lo;
	return f_count != n;
}

static bool try_wrmsr(uint32_t msr, uint64_t v, uint64_t *at)
{
	uint64_t n = f_count;
	__asm__ volatile(MARK "wrmsr\n2:"
			 : [res] "=m"(f_resume), [at] "=m"(*at)
			 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "r8", "memory");
	return f_count != n;
}

static uint64_t read_cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static bool try_write_cr4(uint64_t v, uint64_t *at)
{
	uint64_t n = f_count;
	__asm__ volatile(MARK "mov %%rax, %%cr4\n2:"
			 : [res] "=m"(f_resume), [at] "=m"(*at)
			 : "a"(v)
			 : "r8", "memory");
	return f_count != n;
}

static uint64_t rdmsr_plain(uint32_t msr)
{
	uint64_t v, at;
	try_rdmsr(msr, &v, &at);
	return v;
}

static void wrmsr_plain(uint32_t msr, uint64_t v)
{
	uint64_t at;
	try_wrmsr(msr, v, &at);
}

/* One fault of @vector with error code @err at @at since @n, or none. */
static void expect_fault(const char *what, uint64_t n, unsigned vector, uint64_t err, uint64_t at)
{
	char buf[120];
	guest_snprintf(buf, sizeof(buf), "%s: one fault", what);
	guest_check(f_count == n + 1, buf, f_count - n, 1);
	guest_snprintf(buf, sizeof(buf), "%s: vector %u, error code %#llx", what, vector,
		       (unsigned long long)err);
	guest_check(f_vector == vector && f_err == err, buf, f_vector << 32 | f_err,
		    (uint64_t)vector << 32 | err);
	guest_snprintf(buf, sizeof(buf), "%s: RIP is the instruction", what);
	guest_check(f_rip == at, buf, f_rip, at);
}

static void expect_none(const char *what, uint64_t n)
{
	char buf[120];
	guest_snprintf(buf, sizeof(buf), "%s: no fault", what);
	guest_check(f_count == n, buf, f_count - n, 0);
}

/* ---- msr_gp ---- */

#define MSR_EFER 0xC0000080u
#define MSR_NONE 0x0badc0deu
#define MSR_X2APIC_ID 0x802u

static long user_rdmsr(void *arg)
{
	uint64_t v;
	try_rdmsr(MSR_EFER, &v, arg);
	return 0;
}

static void mode_msr_gp(void)
{
	uint64_t v, at, n;
	catch_faults(true);
	n = f_count;
	try_rdmsr(MSR_NONE, &v, &at);
	expect_fault("RDMSR 0x0badc0de", n, 13, 0, at);
	guest_check(v == 0x2222222211111111ULL, "RDMSR 0x0badc0de: EDX:EAX unchanged", v,
		    0x2222222211111111ULL);
	n = f_count;
	try_wrmsr(MSR_NONE, 0, &at);
	expect_fault("WRMSR 0x0badc0de", n, 13, 0, at);
	n = f_count;
	try_rdmsr(MSR_X2APIC_ID, &v, &at);
	expect_fault("RDMSR 0x802 (x2APIC ID) in xAPIC mode", n, 13, 0, at);
	n = f_count;
	guest_run_user(user_rdmsr, &at);
	expect_fault("RDMSR EFER at CPL3", n, 13, 0, at);
	n = f_count;
	try_rdmsr(MSR_EFER, &v, &at);
	expect_none("RDMSR EFER at CPL0", n);
	catch_faults(false);
}

/* ---- pat_mtrr ---- */

#define MSR_MTRRCAP 0xFEu
#define MSR_MTRR_BASE0 0x200u
#define MSR_MTRR_MASK0 0x201u
#define MSR_MTRR_FIX64K 0x250u
#define MSR_PAT 0x277u
#define MSR_MTRR_DEF 0x2FFu

/* Writes @v to @msr, reads it back, restores the old value. */
static void write_read(const char *what, uint32_t msr, uint64_t v)
{
	char buf[120];
	uint64_t old = rdmsr_plain(msr), at, n = f_count;
	try_wrmsr(msr, v, &at);
	guest_snprintf(buf, sizeof(buf), "%s: written", what);
	expect_none(buf, n);
	uint64_t back = rdmsr_plain(msr);
	guest_snprintf(buf, sizeof(buf), "%s: reads back what was written", what);
	guest_check(back == v, buf, back, v);
	wrmsr_plain(msr, old);
	guest_snprintf(buf, sizeof(buf), "%s: restored", what);
	guest_check(rdmsr_plain(msr) == old, buf, rdmsr_plain(msr), old);
}

static void mode_pat_invalid(void)
{
	catch_faults(true);
	uint64_t pat = rdmsr_plain(MSR_PAT), at, n = f_count;
	try_wrmsr(MSR_PAT, (pat & ~0xffULL) | 2, &at);
	expect_fault("PAT entry of type 2", n, 13, 0, at);
	guest_check(rdmsr_plain(MSR_PAT) == pat, "PAT unchanged by the refused write",
		    rdmsr_plain(MSR_PAT), pat);
	catch_faults(false);
}

static void mode_pat_mtrr(void)
{
	uint32_t r[4];
	cpuid(1, r);
	guest_check((r[3] >> 16) & 1, "CPUID.1:EDX.PAT", (r[3] >> 16) & 1, 1);
	guest_check((r[3] >> 12) & 1, "CPUID.1:EDX.MTRR", (r[3] >> 12) & 1, 1);
	catch_faults(true);
	uint64_t cap = rdmsr_plain(MSR_MTRRCAP);
	guest_printf("cpuinfo: MTRRcap %#llx\n", (unsigned long long)cap);
	guest_check((cap & 0xff) >= 1, "MTRRcap: variable MTRRs", cap & 0xff, 8);
	guest_check((cap >> 8) & 1, "MTRRcap: fixed MTRRs", (cap >> 8) & 1, 1);
	write_read("PAT", MSR_PAT, 0x0506040100070406ULL);
	uint64_t def = rdmsr_plain(MSR_MTRR_DEF);
	write_read("MTRRdefType", MSR_MTRR_DEF, (def & ~0xffULL) | 6);
	/* Not valid (mask bit 11 clear): no memory type changes. */
	write_read("MTRRphysBase0", MSR_MTRR_BASE0, 0x80000006ULL);
	write_read("MTRRphysMask0", MSR_MTRR_MASK0, 0xfc0000000ULL);
	write_read("MTRRfix64K_00000", MSR_MTRR_FIX64K, 0x0606060606060606ULL);
	catch_faults(false);
}

/* ---- tsc ---- */

#define MSR_TSC 0x10u
#define PIT_HZ 1193182u

static uint16_t pit_count(void)
{
	guest_outb(0x43, 0x00); /* latch channel 0 */
	uint8_t lo = guest_inb(0x40);
	return (uint16_t)(lo | guest_inb(0x40) << 8);
}

static void mode_tsc(void)
{
	uint64_t t0 = guest_rdtsc();
	uint64_t m = rdmsr(MSR_TSC);
	uint64_t t1 = guest_rdtsc();
	guest_check(t0 <= m && m <= t1, "TSC MSR reads between two RDTSCs", m, t0);
	/* Channel 0, mode 2, reload 65536: counts down at 1.193182 MHz. */
	guest_outb(0x43, 0x34);
	guest_outb(0x40, 0);
	guest_outb(0x40, 0);
	uint16_t prev = pit_count();
	uint64_t elapsed = 0, want = PIT_HZ / 100; /* 10 ms */
	t0 = guest_rdtsc();
	for (uint64_t i = 0; elapsed < want && i < 100000000ULL; i++) {
		uint16_t now = pit_count();
		elapsed += (uint16_t)(prev - now);
		prev = now;
	}
	t1 = guest_rdtsc();
	uint64_t mhz = elapsed ? (t1 - t0) * PIT_HZ / elapsed / 1000000 : 0;
	guest_printf("cpuinfo: TSC advanced %llu in %llu PIT ticks (~%llu MHz)\n",
		     (unsigned long long)(t1 - t0), (unsigned long long)elapsed,
		     (unsigned long long)mhz);
	guest_check(elapsed >= want, "the PIT counted 10 ms", elapsed, want);
	guest_check(mhz >= 100 && mhz <= 20000, "TSC rate 100 MHz .. 20 GHz of PIT time", mhz, 1000);
}

/* ---- features ---- */

#define CR4_UMIP (1ULL << 11)
#define CR4_OSXSAVE (1ULL << 18)
#define CR4_SMEP (1ULL << 20)
#define CR4_SMAP (1ULL << 21)
#define USER_PAGE 0xC00000ULL /* a 2 MiB page of its own, user-accessible */
#define MSR_TSC_AUX 0xC0000103u
#define MSR_TSC_DEADLINE 0x6E0u
#define LAPIC 0xFEE00000ULL
#define DEADLINE_VECTOR 0xEF

static void cpuid2(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

/* Sets @bit in CR4 (or tries to): expected to #GP when the feature is not offered. */
static bool cr4_set(const char *name, uint64_t bit, bool offered)
{
	char buf[120];
	uint64_t cr4 = read_cr4(), at, n = f_count;
	try_write_cr4(cr4 | bit, &at);
	if (offered) {
		guest_snprintf(buf, sizeof(buf), "%s offered: setting its CR4 bit", name);
		expect_none(buf, n);
		return true;
	}
	guest_snprintf(buf, sizeof(buf), "%s not offered: setting its CR4 bit", name);
	expect_fault(buf, n, 13, 0, at);
	guest_snprintf(buf, sizeof(buf), "%s not offered: CR4 unchanged", name);
	guest_check(read_cr4() == cr4, buf, read_cr4(), cr4);
	return false;
}

static void cr4_clear(uint64_t bit)
{
	uint64_t at;
	try_write_cr4(read_cr4() & ~bit, &at);
}

/* The kit's page directory of the first GiB (identity tables, 2 MiB pages). */
static volatile uint64_t *kit_pd(void)
{
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	uint64_t pdpt = ((volatile uint64_t *)(cr3 & ~0xfffULL))[0] & ~0xfffULL;
	return (volatile uint64_t *)(((volatile uint64_t *)pdpt)[0] & ~0xfffULL);
}

static void flush_tlb(void)
{
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

/* The first 2 MiB (the kit: code, stacks, IDT, GDT, TSS) supervisor-only, or back. */
static void kit_supervisor_only(bool on)
{
	volatile uint64_t *pd = kit_pd();
	pd[0] = on ? pd[0] & ~4ULL : pd[0] | 4ULL;
	flush_tlb();
}

static void check_xsave(bool offered)
{
	uint64_t at, n;
	if (!cr4_set("XSAVE", CR4_OSXSAVE, offered)) {
		n = f_count;
		__asm__ volatile(MARK "xgetbv\n2:"
				 : [res] "=m"(f_resume), [at] "=m"(at)
				 : "c"(0)
				 : "r8", "rax", "rdx", "memory");
		expect_fault("XSAVE not offered: XGETBV", n, 6, 0, at);
		return;
	}
	uint32_t r[4], lo, hi;
	cpuid2(1, 0, r);
	guest_check((r[2] >> 27) & 1, "XSAVE: CPUID.1:ECX.OSXSAVE follows CR4", (r[2] >> 27) & 1, 1);
	cpuid2(0xd, 0, r);
	uint64_t xcr0 = 1 | (r[0] & 2); /* x87, and SSE if supported */
	n = f_count;
	__asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)xcr0), "d"(0) : "memory");
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	guest_check(((uint64_t)hi << 32 | lo) == xcr0, "XSAVE: XCR0 reads back XSETBV's value",
		    (uint64_t)hi << 32 | lo, xcr0);
	static uint8_t area[4096] __attribute__((aligned(64)));
	memset(area, 0xa5, sizeof(area));
	__asm__ volatile("xsave %0" : "+m"(area) : "a"((uint32_t)xcr0), "d"(0) : "memory");
	uint64_t bv;
	memcpy(&bv, area + 512, 8);
	guest_check((bv & ~xcr0) == 0, "XSAVE: XSTATE_BV within XCR0", bv, xcr0);
	__asm__ volatile("xrstor %0" : : "m"(area), "a"((uint32_t)xcr0), "d"(0) : "memory");
	expect_none("XSAVE: XSETBV, XGETBV, XSAVE, XRSTOR", n);
	guest_printf("cpuinfo: XSAVE: XCR0 %#llx, save area %u bytes, XSTATE_BV %#llx\n",
		     (unsigned long long)xcr0, r[1], (unsigned long long)bv);
	cr4_clear(CR4_OSXSAVE);
}

/* The kit's own pages are user pages: they go supervisor-only before SMEP or SMAP is on. */
static void check_smep(bool offered)
{
	if (!offered) {
		cr4_set("SMEP", CR4_SMEP, false);
		return;
	}
	kit_supervisor_only(true);
	*(volatile uint8_t *)USER_PAGE = 0xc3; /* ret */
	void (*user_code)(void) = (void (*)(void))USER_PAGE;
	cr4_set("SMEP", CR4_SMEP, true);
	uint64_t n = f_count;
	f_pop_return = true;
	user_code();
	cr4_clear(CR4_SMEP);
	expect_fault("SMEP: CPL0 fetch from a user page", n, 14, 0x11, USER_PAGE);
	guest_check(f_cr2 == USER_PAGE, "SMEP: CR2", f_cr2, USER_PAGE);
	n = f_count;
	user_code();
	expect_none("SMEP clear: CPL0 fetch from a user page", n);
	f_pop_return = false;
	kit_supervisor_only(false);
}

static void check_smap(bool offered)
{
	if (!offered) {
		cr4_set("SMAP", CR4_SMAP, false);
		return;
	}
	kit_supervisor_only(true);
	cr4_set("SMAP", CR4_SMAP, true);
	uint64_t at, at2, n = f_count, n2, v = 0;
	__asm__ volatile(MARK "movq (%[p]), %[v]\n2:"
			 : [res] "=m"(f_resume), [at] "=m"(at), [v] "+r"(v)
			 : [p] "r"(USER_PAGE)
			 : "r8", "memory");
	n2 = f_count;
	__asm__ volatile("stac\n\t" MARK "movq (%[p]), %[v]\n2:\tclac"
			 : [res] "=m"(f_resume), [at] "=m"(at2), [v] "+r"(v)
			 : [p] "r"(USER_PAGE)
			 : "r8", "memory");
	cr4_clear(CR4_SMAP);
	kit_supervisor_only(false);
	expect_fault("SMAP: CPL0 read of a user page", n, 14, 0x1, at);
	guest_check(f_cr2 == USER_PAGE, "SMAP: CR2", f_cr2, USER_PAGE);
	expect_none("SMAP: the same read after STAC", n2);
}

static long user_sgdt(void *arg)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) g;
	__asm__ volatile(MARK "sgdt %[g]\n2:"
			 : [res] "=m"(f_resume), [at] "=m"(*(uint64_t *)arg), [g] "=m"(g)
			 :
			 : "r8", "memory");
	return 0;
}

static void check_umip(bool offered)
{
	bool on = cr4_set("UMIP", CR4_UMIP, offered);
	uint64_t at, n = f_count;
	guest_run_user(user_sgdt, &at);
	if (on) {
		cr4_clear(CR4_UMIP);
		expect_fault("UMIP: SGDT at CPL3", n, 13, 0, at);
	} else {
		expect_none("UMIP not offered: SGDT at CPL3", n);
	}
}

static void check_rdtscp(bool offered)
{
	uint64_t at, n = f_count;
	uint32_t lo = 0, hi = 0, aux = 0x77;
	if (offered)
		wrmsr_plain(MSR_TSC_AUX, 0x5a5a);
	uint64_t t0 = guest_rdtsc();
	__asm__ volatile(MARK "rdtscp\n2:"
			 : [res] "=m"(f_resume), [at] "=m"(at), "+a"(lo), "+d"(hi), "+c"(aux)
			 :
			 : "r8", "memory");
	uint64_t t1 = guest_rdtsc(), v = (uint64_t)hi << 32 | lo;
	if (!offered) {
		expect_fault("RDTSCP not offered: RDTSCP", n, 6, 0, at);
		return;
	}
	expect_none("RDTSCP offered: RDTSCP", n);
	guest_check(aux == 0x5a5a, "RDTSCP: ECX is TSC_AUX", aux, 0x5a5a);
	guest_check(t0 <= v && v <= t1, "RDTSCP: between two RDTSCs", v, t0);
}

static volatile uint64_t deadline_hits, deadline_tsc;

static void on_deadline(struct guest_frame *f)
{
	(void)f;
	deadline_tsc = guest_rdtsc();
	deadline_hits++;
	guest_write32(LAPIC + 0xB0, 0); /* EOI */
}

static void check_tsc_deadline(bool offered)
{
	uint64_t v, at, n = f_count;
	if (!offered) {
		try_rdmsr(MSR_TSC_DEADLINE, &v, &at);
		expect_fault("TSC-deadline not offered: RDMSR 0x6e0", n, 13, 0, at);
		return;
	}
	guest_set_handler(DEADLINE_VECTOR, on_deadline);
	guest_write32(LAPIC + 0xF0, 0x1FF);                               /* SVR: enabled */
	guest_write32(LAPIC + 0x320, DEADLINE_VECTOR | 2u << 17);         /* LVT timer: TSC-deadline */
	uint64_t deadline = guest_rdtsc() + 2000000;
	wrmsr_plain(MSR_TSC_DEADLINE, deadline);
	uint64_t t0 = guest_rdtsc();
	while (!deadline_hits && guest_rdtsc() - t0 < 20000000000ULL)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	guest_write32(LAPIC + 0x320, 1u << 16); /* masked */
	expect_none("TSC-deadline offered: arming it", n);
	guest_check(deadline_hits == 1, "TSC-deadline: one interrupt", deadline_hits, 1);
	guest_check(deadline_tsc >= deadline, "TSC-deadline: not before the deadline", deadline_tsc,
		    deadline);
	guest_set_handler(DEADLINE_VECTOR, 0);
}

static void check_x2apic(bool offered)
{
	uint64_t v, at, n = f_count;
	uint64_t base = rdmsr_plain(MSR_APIC_BASE);
	try_rdmsr(MSR_X2APIC_ID, &v, &at);
	expect_fault("x2APIC: ID MSR in xAPIC mode", n, 13, 0, at);
	n = f_count;
	try_wrmsr(MSR_APIC_BASE, base | 0xC00, &at);
	if (!offered) {
		expect_fault("x2APIC not offered: setting APIC base EXTD", n, 13, 0, at);
		guest_check(rdmsr_plain(MSR_APIC_BASE) == base, "x2APIC not offered: APIC base unchanged",
			    rdmsr_plain(MSR_APIC_BASE), base);
		return;
	}
	expect_none("x2APIC offered: setting APIC base EXTD", n);
	uint32_t r[4];
	cpuid2(1, 0, r);
	n = f_count;
	try_rdmsr(MSR_X2APIC_ID, &v, &at);
	expect_none("x2APIC: ID MSR in x2APIC mode", n);
	guest_check(v == r[1] >> 24, "x2APIC: ID MSR is CPUID.1:EBX's APIC ID", v, r[1] >> 24);
}

/* What CPUID offers of the features checked here. */
static struct offered {
	bool xsave, smep, smap, umip, rdtscp, deadline, x2apic;
} offered(void)
{
	uint32_t l1[4], l7[4], e1[4];
	cpuid2(1, 0, l1);
	cpuid2(7, 0, l7);
	cpuid2(0x80000001, 0, e1);
	struct offered o = {
		.xsave = (l1[2] >> 26) & 1, .smep = (l7[1] >> 7) & 1, .smap = (l7[1] >> 20) & 1,
		.umip = (l7[2] >> 2) & 1, .rdtscp = (e1[3] >> 27) & 1, .deadline = (l1[2] >> 24) & 1,
		.x2apic = (l1[2] >> 21) & 1,
	};
	guest_printf("cpuinfo: offered: XSAVE %u SMEP %u SMAP %u UMIP %u RDTSCP %u TSC-deadline %u "
		     "x2APIC %u\n", o.xsave, o.smep, o.smap, o.umip, o.rdtscp, o.deadline, o.x2apic);
	catch_faults(true);
	return o;
}

static void mode_xsave(void) { check_xsave(offered().xsave); }
static void mode_smep(void) { check_smep(offered().smep); }
static void mode_smap(void) { check_smap(offered().smap); }
static void mode_umip(void) { check_umip(offered().umip); }
static void mode_rdtscp(void) { check_rdtscp(offered().rdtscp); }
static void mode_tsc_deadline(void) { check_tsc_deadline(offered().deadline); }
static void mode_x2apic(void) { check_x2apic(offered().x2apic); }

int guest_main(void)
{
	static const struct guest_mode modes[] = {
		{ "cpuid", mode_cpuid },
		{ "msr", mode_msr },
		{ "msr_gp", mode_msr_gp },
		{ "pat_mtrr", mode_pat_mtrr },
		{ "pat_invalid", mode_pat_invalid },
		{ "tsc", mode_tsc },
		{ "xsave", mode_xsave },
		{ "smep", mode_smep },
		{ "smap", mode_smap },
		{ "umip", mode_umip },
		{ "rdtscp", mode_rdtscp },
		{ "tsc_deadline", mode_tsc_deadline },
		{ "x2apic", mode_x2apic },
		{ 0, 0 },
	};
	return guest_run_mode("cpuinfo", modes);
}
