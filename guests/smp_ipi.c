/* SPDX-License-Identifier: MIT */
/*
 * smp_ipi: IPIs between 2..8 CPUs (the tests use 4) through the xAPIC's ICR
 * at 0xFEE00300/310 (MMIO only: no x2APIC, no APIC base MSR), every vector
 * delivered once, to the right CPU (issue 11: local APICs per vCPU).
 * Handlers count deliveries per CPU per vector (and EOI); the BSP checks
 * every count of every CPU exactly at the end.
 *  1. At CPL3 with IF=1, all CPUs at once, each CPU s sends: a fixed IPI to
 *     each other CPU t by physical destination (vector 0x40 + 8s + t); one
 *     by logical destination, flat model (DFR 0xFFFFFFFF, LDR bit 24 + i),
 *     to CPUs s+1 and s+2 mod n (0x80 + s); and by shorthand to self
 *     (0x88 + s), all including self (0x90 + s), all but self (0x98 + s).
 *     One IPI per (CPU, vector), so none can merge with another in the IRR.
 *  2. At CPL0 with IF=0: NMIs (vector 2 through the IDT, IST1): CPU s to
 *     CPU s+1 mod n by physical destination; then CPU 0 to all but self.
 *  3. TPR: CPU 1 sets TPR 0xB0; CPU 0 sends it 0xB5 (masked: class 0xB)
 *     then 0xC5: 0xC5 is taken, 0xB5 waits in the IRR until CPU 1 lowers
 *     TPR to 0, then is taken.
 * At the end no CPU has a bit left in its ISR or IRR. (On kvm_pvm the ISR
 * reads 0 even inside a handler and a missing EOI blocks nothing, so there
 * only the counts can tell; a local APIC model that keeps the ISR blocks
 * the lower classes until each EOI.)
 * Prints "ipi: cpu <i>: <n> fixed interrupts (want <m>), <k> NMIs (want <j>)"
 * and "ipi: <n> cpus, <f> failures".
 */
#include "guest.h"

#define LAPIC 0xFEE00000ULL
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xB0
#define LAPIC_LDR 0xD0
#define LAPIC_DFR 0xE0
#define LAPIC_SVR 0xF0
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LVT_MASKED (1u << 16)
#define LAPIC_ISR 0x100
#define LAPIC_IRR 0x200
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_BUSY (1u << 12)
#define ICR_FIXED 0x000u
#define ICR_NMI 0x400u
#define ICR_LOGICAL (1u << 11)
#define ICR_ASSERT (1u << 14)
#define SH_SELF (1u << 18)
#define SH_ALL (2u << 18)
#define SH_ALL_BUT_SELF (3u << 18)

#define MAX_CPUS 8 /* the flat logical model addresses 8 CPUs */
#define V_PHYS(s, t) (0x40u + 8u * (s) + (t))
#define V_LOGICAL(s) (0x80u + (s))
#define V_SELF(s) (0x88u + (s))
#define V_ALL(s) (0x90u + (s))
#define V_ALL_BUT(s) (0x98u + (s))
#define V_MASKED 0xB5u
#define V_ABOVE_TPR 0xC5u
#define TPR_BLOCK 0xB0u
#define V_SPURIOUS 0xFFu
#define TIMEOUT 10000000000ull /* TSC ticks: a few seconds */

static volatile uint32_t counts[MAX_CPUS][256]; /* [cpu][vector], by its handler only */
static volatile uint32_t fixed_total[MAX_CPUS], nmis[MAX_CPUS];
static volatile uint8_t order[MAX_CPUS][64];
static volatile uint32_t norder[MAX_CPUS];
static uint32_t apic_id[MAX_CPUS];
static volatile uint64_t ncpus, arrived[16];
static volatile uint64_t tpr_ready, tpr_sent, irr_masked, masked_before_tpr;

static uint32_t lapic_read(unsigned r) { return guest_read32(LAPIC + r); }
static void lapic_write(unsigned r, uint32_t v) { guest_write32(LAPIC + r, v); }

static void on_fixed(struct guest_frame *f)
{
	unsigned c = guest_cpu_index(), v = (unsigned)f->vector;

	counts[c][v]++;
	fixed_total[c]++;
	if (norder[c] < 64)
		order[c][norder[c]++] = (uint8_t)v;
	lapic_write(LAPIC_EOI, 0);
}

static void on_spurious(struct guest_frame *f) /* no EOI for a spurious vector */
{
	counts[guest_cpu_index()][f->vector]++;
}

static void on_nmi(struct guest_frame *f)
{
	(void)f;
	nmis[guest_cpu_index()]++;
}

static bool icr_idle(void)
{
	uint64_t t0 = guest_rdtsc();
	while (lapic_read(LAPIC_ICR_LO) & ICR_BUSY)
		if (guest_rdtsc() - t0 > TIMEOUT)
			return false;
	return true;
}

/* One IPI; also used at CPL3 (the LAPIC page is user-accessible). */
static void send(uint32_t dest, uint32_t lo)
{
	icr_idle();
	lapic_write(LAPIC_ICR_HI, dest << 24);
	lapic_write(LAPIC_ICR_LO, lo | ICR_ASSERT);
	icr_idle();
}

/* Bounded wait for *p >= want, at CPL0 or CPL3; false on timeout. */
static bool wait_at_least(volatile uint32_t *p, uint32_t want)
{
	uint64_t t0 = guest_rdtsc();
	while (*p < want) {
		if (guest_rdtsc() - t0 > TIMEOUT)
			return *p >= want;
		guest_pause();
	}
	return true;
}

static long settle(void *p) /* IF=1 for a while: late or extra IPIs land now */
{
	(void)p;
	uint64_t t0 = guest_rdtsc();
	while (guest_rdtsc() - t0 < 20000000)
		guest_pause();
	return 0;
}

/* All CPUs meet (at CPL0); a CPU missing for seconds ends the test. */
static void barrier(unsigned k)
{
	uint64_t t0 = guest_rdtsc();

	guest_atomic_inc(&arrived[k]);
	while (guest_atomic_load(&arrived[k]) < ncpus) {
		if (guest_rdtsc() - t0 > 2 * TIMEOUT) {
			guest_printf("ipi: cpu %u: barrier %u: only %llu of %llu cpus\n",
				     guest_cpu_index(), k, (unsigned long long)arrived[k],
				     (unsigned long long)ncpus);
			guest_exit(GUEST_EXIT_FAIL + 1);
		}
		guest_pause();
	}
}

static bool in_logical_set(unsigned s, unsigned t, unsigned n)
{
	return t == (s + 1) % n || t == (s + 2) % n;
}

/* Phase 1's count of @vector at CPU @t (0 for every vector it never gets). */
static uint32_t phase1_want(unsigned t, unsigned v, unsigned n)
{
	uint32_t w = 0;
	for (unsigned s = 0; s < n; s++) {
		w += s != t && v == V_PHYS(s, t);
		w += in_logical_set(s, t, n) && v == V_LOGICAL(s);
		w += s == t && v == V_SELF(s);
		w += v == V_ALL(s);
		w += s != t && v == V_ALL_BUT(s);
	}
	return w;
}

static uint32_t want_count(unsigned t, unsigned v, unsigned n)
{
	return phase1_want(t, v, n) + (t == 1 && (v == V_MASKED || v == V_ABOVE_TPR));
}

static uint32_t phase1_total(unsigned t, unsigned n)
{
	uint32_t w = 0;
	for (unsigned v = 0; v < 256; v++)
		w += phase1_want(t, v, n);
	return w;
}

static volatile uint64_t timeouts[MAX_CPUS];
static volatile uint32_t isr_left[MAX_CPUS], irr_left[MAX_CPUS];

/* Phase 1, at CPL3 with IF=1: send everything, wait for our own share. */
static long phase1(void *p)
{
	unsigned s = (unsigned)(uintptr_t)p, n = (unsigned)ncpus;
	uint32_t mask = 0;

	for (unsigned t = 0; t < n; t++)
		if (t != s)
			send(apic_id[t], ICR_FIXED | V_PHYS(s, t));
	for (unsigned t = 0; t < n; t++)
		if (in_logical_set(s, t, n))
			mask |= 1u << t;
	send(mask, ICR_FIXED | ICR_LOGICAL | V_LOGICAL(s));
	send(0, ICR_FIXED | SH_SELF | V_SELF(s));
	send(0, ICR_FIXED | SH_ALL | V_ALL(s));
	send(0, ICR_FIXED | SH_ALL_BUT_SELF | V_ALL_BUT(s));
	if (!wait_at_least(&fixed_total[s], phase1_total(s, n)))
		timeouts[s]++;
	return 0;
}

/* Phase 3, CPU 1's side at CPL3 with IF=1: 0xC5 comes, 0xB5 must not. */
static long tpr_wait_above(void *p)
{
	(void)p;
	if (!wait_at_least(&counts[1][V_ABOVE_TPR], 1))
		timeouts[1]++;
	settle(0);
	return 0;
}

static long tpr_wait_masked(void *p)
{
	(void)p;
	if (!wait_at_least(&counts[1][V_MASKED], 1))
		timeouts[1]++;
	return 0;
}

static void run(unsigned c)
{
	unsigned n = (unsigned)ncpus;

	lapic_write(LAPIC_SVR, 0x100 | V_SPURIOUS);
	/* no interrupts but IPIs: LINT0/1 off (QEMU's BIOS leaves the PIT on ExtINT) */
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
	lapic_write(LAPIC_DFR, 0xFFFFFFFFu); /* flat model */
	lapic_write(LAPIC_LDR, 1u << (24 + c));
	lapic_write(LAPIC_TPR, 0);
	barrier(0);

	/* 1: fixed IPIs, every CPU at once, at CPL3 */
	guest_run_user_irq(phase1, (void *)(uintptr_t)c);
	barrier(1);
	guest_run_user_irq(settle, 0);
	barrier(2);

	/* 2: NMIs, at CPL0 with IF=0 */
	send(apic_id[(c + 1) % n], ICR_NMI);
	if (!wait_at_least(&nmis[c], 1))
		timeouts[c]++;
	barrier(3);
	if (c == 0)
		send(0, ICR_NMI | SH_ALL_BUT_SELF);
	else if (!wait_at_least(&nmis[c], 2))
		timeouts[c]++;
	barrier(4);
	settle(0);
	barrier(5);

	/* 3: TPR, CPU 0 to CPU 1 */
	if (c == 1) {
		lapic_write(LAPIC_TPR, TPR_BLOCK);
		guest_atomic_store(&tpr_ready, 1);
		while (!guest_atomic_load(&tpr_sent))
			guest_pause();
		guest_run_user_irq(tpr_wait_above, 0);
		masked_before_tpr = counts[1][V_MASKED];
		irr_masked = lapic_read(LAPIC_IRR + 0x10 * (V_MASKED / 32)) >> (V_MASKED % 32) & 1;
		lapic_write(LAPIC_TPR, 0);
		guest_run_user_irq(tpr_wait_masked, 0);
	} else if (c == 0) {
		while (!guest_atomic_load(&tpr_ready))
			guest_pause();
		send(apic_id[1], ICR_FIXED | V_MASKED);
		send(apic_id[1], ICR_FIXED | V_ABOVE_TPR);
		guest_atomic_store(&tpr_sent, 1);
	}
	barrier(6);
	guest_run_user_irq(settle, 0);
	for (unsigned r = 0; r < 8; r++) { /* every EOI took, nothing left pending */
		isr_left[c] |= lapic_read(LAPIC_ISR + 0x10 * r);
		irr_left[c] |= lapic_read(LAPIC_IRR + 0x10 * r);
	}
	barrier(7);
}

static void ap_main(unsigned c)
{
	while (!guest_atomic_load(&ncpus))
		guest_pause();
	if (c < ncpus)
		run(c);
}

static unsigned failures;

static void check(bool ok, const char *what, unsigned cpu, uint64_t got, uint64_t want)
{
	failures += !ok;
	if (!ok)
		guest_printf("ipi: cpu %u: %s FAILED (got %llu, want %llu)\n", cpu, what,
			     (unsigned long long)got, (unsigned long long)want);
}

int guest_main(void)
{
	for (unsigned v = 32; v < 255; v++)
		guest_set_handler(v, on_fixed);
	guest_set_handler(V_SPURIOUS, on_spurious);
	guest_set_handler(2, on_nmi);
	int started = guest_smp_start(ap_main);
	if (started < 2) {
		guest_printf("ipi: needs 2 cpus, has %d\n", started);
		return GUEST_EXIT_FAIL;
	}
	unsigned n = started > MAX_CPUS ? MAX_CPUS : (unsigned)started;
	for (unsigned c = 0; c < n; c++)
		apic_id[c] = guest_cpu_apic_id(c);
	guest_atomic_store(&ncpus, n);
	run(0);

	for (unsigned t = 0; t < n; t++) {
		uint32_t want_total = 0;
		for (unsigned v = 0; v < 256; v++) {
			uint32_t w = want_count(t, v, n);
			want_total += w;
			if (counts[t][v] != w)
				guest_printf("ipi: cpu %u: vector %#x delivered %u times, want %u\n", t, v,
					     counts[t][v], w);
			failures += counts[t][v] != w;
		}
		unsigned want_nmis = t == 0 ? 1 : 2;
		guest_printf("ipi: cpu %u: %u fixed interrupts (want %u), %u NMIs (want %u)\n", t,
			     fixed_total[t], want_total, nmis[t], want_nmis);
		check(fixed_total[t] == want_total, "fixed interrupts", t, fixed_total[t], want_total);
		check(nmis[t] == want_nmis, "NMIs", t, nmis[t], want_nmis);
		check(timeouts[t] == 0, "waits that timed out", t, timeouts[t], 0);
		check(isr_left[t] == 0, "ISR bits left at the end (OR of ISR0-7)", t, isr_left[t], 0);
		check(irr_left[t] == 0, "IRR bits left at the end (OR of IRR0-7)", t, irr_left[t], 0);
	}
	check(masked_before_tpr == 0, "vector 0xb5 held back while TPR was 0xb0", 1,
	      masked_before_tpr, 0);
	check(irr_masked == 1, "vector 0xb5 pending in the IRR meanwhile", 1, irr_masked, 1);
	/* 0xC5, sent after 0xB5, was taken first; 0xB5 right after TPR 0 */
	unsigned i_above = 64, i_masked = 64;
	for (unsigned i = 0; i < norder[1] && i < 64; i++) {
		if (order[1][i] == V_ABOVE_TPR)
			i_above = i;
		if (order[1][i] == V_MASKED)
			i_masked = i;
	}
	check(i_above < i_masked && i_masked < 64, "0xc5 taken before 0xb5, which was sent first", 1, i_above,
	      i_masked);
	guest_printf("ipi: %u cpus, %u failures\n", n, failures);
	return failures ? GUEST_EXIT_FAIL + 2 : GUEST_EXIT_PASS;
}
