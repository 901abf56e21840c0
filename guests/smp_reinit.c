/* SPDX-License-Identifier: MIT */
/*
 * smp_reinit: APs started by INIT/SIPI run the kit's trampoline from real
 * mode (CS 0x0800 for SIPI vector 0x08) and reach long mode themselves; then
 * the BSP sends INIT + SIPI again to APs that already ran, and each starts
 * over from the trampoline (issue 11; DESIGN K9: on tcg the INIT of a vCPU
 * that already ran needs a fresh engine). Every AP first parks in a CPL3
 * loop that counts; its restart must stop that loop for good, bring the AP
 * up in long mode at CPL0 with IF=0 on the same stack top, with the same
 * APIC ID and its local APIC reset by the INIT (TPR, LDR, SVR as after
 * reset). AP 1 is restarted a third time, this time from HLT with IF=0.
 * Needs at least 2 CPUs; prints "reinit: <n> cpus, <m> restarts".
 */
#include "guest.h"

#define LAPIC 0xFEE00000ULL
#define LAPIC_TPR 0x80
#define LAPIC_LDR 0xD0
#define LAPIC_SVR 0xF0
#define MSR_EFER 0xC0000080u
#define EFER_LMA (1u << 10)
#define CR0_PE 1ULL
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define RFLAGS_IF 0x200ULL
#define KCS 0x08
#define RUNS 3

struct start_info { /* what an AP saw right after one start */
	uint64_t cr0, cr4, cr3, efer, rflags, rsp;
	uint32_t apic_id, tpr, ldr, svr;
	uint16_t cs, real_cs;
	unsigned starts;
};

static struct start_info info[GUEST_MAX_CPUS][RUNS + 1];
static volatile uint64_t checkins[GUEST_MAX_CPUS]; /* runs of ap_main so far */
static volatile uint64_t spins[GUEST_MAX_CPUS];    /* the CPL3 loop's count */

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static uint32_t lapic_read(unsigned r) { return guest_read32(LAPIC + r); }
static void lapic_write(unsigned r, uint32_t v) { guest_write32(LAPIC + r, v); }

/* Records the state this start left; @rsp is ap_main's stack pointer. */
static __attribute__((noinline)) void record(unsigned cpu, unsigned run, uint64_t rsp)
{
	struct start_info *s = &info[cpu][run];

	__asm__ volatile("mov %%cr0, %0" : "=r"(s->cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(s->cr4));
	__asm__ volatile("mov %%cr3, %0" : "=r"(s->cr3));
	__asm__ volatile("pushfq; popq %0" : "=r"(s->rflags));
	s->efer = rdmsr(MSR_EFER);
	s->rsp = rsp;
	s->cs = guest_read_cs();
	s->apic_id = guest_lapic_id();
	s->tpr = lapic_read(LAPIC_TPR);
	s->ldr = lapic_read(LAPIC_LDR);
	s->svr = lapic_read(LAPIC_SVR);
	s->starts = guest_ap_starts(cpu, &s->real_cs);
}

static long count_forever(void *p)
{
	volatile uint64_t *n = p;
	for (;;)
		(*n)++;
	return 0;
}

/* Every start of every AP comes here, on the same fresh stack. */
static void ap_main(unsigned cpu)
{
	uint64_t rsp;
	__asm__ volatile("movq %%rsp, %0" : "=r"(rsp));
	unsigned run = (unsigned)checkins[cpu] + 1;

	if (run <= RUNS)
		record(cpu, run, rsp);
	guest_atomic_store(&checkins[cpu], run);
	if (run == 1) {
		/* State an INIT must reset: TPR, LDR, SVR (APIC enabled). */
		lapic_write(LAPIC_SVR, 0x1FF);
		lapic_write(LAPIC_TPR, 0x20);
		lapic_write(LAPIC_LDR, 1u << (24 + cpu));
		guest_run_user(count_forever, (void *)&spins[cpu]); /* never returns */
	}
	/* later runs return: the kit halts the AP (cli; hlt) */
}

/* Waits (bounded) until f(cpu) holds; false on timeout. */
static bool wait_for(bool (*f)(unsigned), unsigned cpu)
{
	uint64_t t0 = guest_rdtsc();
	while (!f(cpu)) {
		if (guest_rdtsc() - t0 > 20000000000ull)
			return f(cpu);
		guest_pause();
	}
	return true;
}

static unsigned want_run;
static bool checked_in(unsigned cpu) { return guest_atomic_load(&checkins[cpu]) >= want_run; }
static bool spinning(unsigned cpu) { return guest_atomic_load(&spins[cpu]) > 1000; }

static void delay_ticks(uint64_t ticks)
{
	uint64_t t0 = guest_rdtsc();
	while (guest_rdtsc() - t0 < ticks)
		guest_pause();
}

static uint64_t failures;
static uint16_t sipi_cs = 0x0800; /* the real-mode CS of the SIPI vector used */
static char sipi_what[80];

static void check(bool ok, const char *what, unsigned cpu, unsigned run, uint64_t got, uint64_t want)
{
	failures += !ok;
	if (!ok)
		guest_printf("reinit: cpu %u start %u: %s FAILED (got %#llx, want %#llx)\n", cpu, run,
			     what, (unsigned long long)got, (unsigned long long)want);
}

/* The checks every start must pass, and those of a start after an INIT. */
static void check_start(unsigned cpu, unsigned run, uint64_t bsp_cr3)
{
	const struct start_info *s = &info[cpu][run];

	guest_printf("reinit: cpu %u start %u: real-mode cs %#x, cs %#x, efer %#llx, cr0 %#llx, "
		     "cr4 %#llx, rsp %#llx, apic %u, tpr %#x ldr %#x svr %#x\n",
		     cpu, run, s->real_cs, s->cs, (unsigned long long)s->efer,
		     (unsigned long long)s->cr0, (unsigned long long)s->cr4,
		     (unsigned long long)s->rsp, s->apic_id, s->tpr, s->ldr, s->svr);
	check(s->starts == run, "trampoline runs", cpu, run, s->starts, run);
	check(s->real_cs == sipi_cs, sipi_what, cpu, run, s->real_cs, sipi_cs);
	check(s->cs == KCS, "64-bit kernel CS", cpu, run, s->cs, KCS);
	check(s->efer & EFER_LMA, "EFER.LMA (long mode active)", cpu, run, s->efer, EFER_LMA);
	check((s->cr0 & (CR0_PE | CR0_PG)) == (CR0_PE | CR0_PG), "CR0.PE and CR0.PG", cpu, run,
	      s->cr0, CR0_PE | CR0_PG);
	check(s->cr4 & CR4_PAE, "CR4.PAE", cpu, run, s->cr4, CR4_PAE);
	check(s->cr3 == bsp_cr3, "the kit's page tables", cpu, run, s->cr3, bsp_cr3);
	check(!(s->rflags & RFLAGS_IF), "IF clear", cpu, run, s->rflags, 0);
	check(s->apic_id == guest_cpu_apic_id(cpu), "its APIC ID", cpu, run, s->apic_id,
	      guest_cpu_apic_id(cpu));
	check(s->rsp == info[cpu][1].rsp, "the same fresh stack top as its first start", cpu, run,
	      s->rsp, info[cpu][1].rsp);
	/* INIT resets the local APIC but for its ID (SDM 10.4.7.3); also before the first start */
	check(s->tpr == 0, "TPR 0 after INIT", cpu, run, s->tpr, 0);
	check(s->ldr == 0, "LDR 0 after INIT", cpu, run, s->ldr, 0);
	check((s->svr & 0x1FF) == 0xFF, "SVR 0xFF (APIC software-disabled) after INIT", cpu, run,
	      s->svr & 0x1FF, 0xFF);
}

int guest_main(void)
{
	uint64_t bsp_cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(bsp_cr3));
	if (guest_cmdline_is("vector0")) {
		sipi_cs = 0;
		guest_smp_set_sipi_vector(0);
	}
	guest_snprintf(sipi_what, sizeof(sipi_what),
		       "trampoline ran in real mode at SIPI vector 0x%02x (CS 0x%04x)", sipi_cs >> 8,
		       sipi_cs);
	int n = guest_smp_start(ap_main);
	unsigned restarts = 0;

	if (n < 2) {
		guest_printf("reinit: needs 2 cpus, has %d\n", n);
		return GUEST_EXIT_FAIL;
	}
	/* First starts: every AP checks in and counts in its CPL3 loop. */
	want_run = 1;
	for (unsigned c = 1; c < (unsigned)n; c++) {
		if (!wait_for(checked_in, c) || !wait_for(spinning, c)) {
			guest_printf("reinit: cpu %u: no first check-in or CPL3 loop\n", c);
			return GUEST_EXIT_FAIL + 1;
		}
	}
	/* Each AP again, from its CPL3 loop: INIT + SIPI to a running vCPU. */
	want_run = 2;
	for (unsigned c = 1; c < (unsigned)n; c++) {
		if (guest_smp_restart(c, ap_main) != 0 || !wait_for(checked_in, c)) {
			guest_printf("reinit: cpu %u did not check in after its restart\n", c);
			return GUEST_EXIT_FAIL + 2;
		}
		restarts++;
	}
	/* The CPL3 loops are gone: their counts no longer move. */
	uint64_t before[GUEST_MAX_CPUS];
	for (unsigned c = 1; c < (unsigned)n; c++)
		before[c] = guest_atomic_load(&spins[c]);
	delay_ticks(50000000);
	for (unsigned c = 1; c < (unsigned)n; c++)
		check(guest_atomic_load(&spins[c]) == before[c], "its CPL3 loop stopped at the INIT", c,
		      2, guest_atomic_load(&spins[c]), before[c]);
	/* AP 1 once more, from HLT with IF=0. */
	want_run = 3;
	if (guest_smp_restart(1, ap_main) != 0 || !wait_for(checked_in, 1)) {
		guest_printf("reinit: cpu 1 did not check in after its second restart\n");
		return GUEST_EXIT_FAIL + 3;
	}
	restarts++;
	/* Printed only now that the APs are halted: on tcg each byte to the
	 * UART model waits a round of the other vCPUs' turns (K7, K13). */
	for (unsigned c = 1; c < (unsigned)n; c++)
		for (unsigned run = 1; run <= (c == 1 ? 3u : 2u); run++)
			check_start(c, run, bsp_cr3);
	for (unsigned c = 1; c < (unsigned)n; c++)
		check(checkins[c] == (c == 1 ? 3u : 2u), "check-ins", c, 0, checkins[c], c == 1 ? 3 : 2);
	check(guest_smp_restart(0, ap_main) == -1, "the BSP cannot be restarted", 0, 0, 0, 0);
	check(guest_smp_restart((unsigned)n, ap_main) == -1, "no CPU past the last", (unsigned)n, 0, 0,
	      0);
	guest_printf("reinit: %d cpus, %u restarts, %llu failures\n", n, restarts,
		     (unsigned long long)failures);
	return failures ? GUEST_EXIT_FAIL + 4 : GUEST_EXIT_PASS;
}
