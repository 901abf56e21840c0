/* SPDX-License-Identifier: MIT */
/*
 * smp_pagetables: two vCPUs with different page tables read one virtual
 * address at the same time, each through its own mapping of it (issue 11;
 * DESIGN K7: on tcg each vCPU needs its own engine and soft TLB, a shared
 * one would leak translations between address spaces). CPU 0 and CPU 1
 * each build their own tables (the kit's identity map, but the 2 MiB at
 * VA_X = 0x600000 in 4 KiB pages), load them into CR3, and loop at CPL3
 * reading VA_X's page 10,000 times or more, until they have seen each other
 * progress (or the other finish). Then each changes its own entry for VA_X,
 * reloads CR3 (TLB flush) and loops again (phase 2). Modes:
 *  - remap: VA_X goes to PA_A = 0x700000 for CPU 0 and to PA_B = 0x800000
 *    for CPU 1 (swapped in phase 2); every read must give the CPU's own
 *    page, never the other's nor physical 0x600000 (identity); at the end
 *    each writes a marker through VA_X, which must land in the page its
 *    mapping names. VA_X is guest RAM itself, as K14 asks, but tcg still
 *    fails this: libunicorn 2.0.1 translates every address to itself
 *    (unicorn issue 1953; fixed in 2.1).
 *  - perms: VA_X is identity-mapped for both, user-accessible for CPU 0
 *    and supervisor-only for CPU 1 (swapped in phase 2): every CPL3 read of
 *    the CPU with the user mapping gives the page, every one of the other
 *    takes a #PF (CR2 = the address, error code 5: present, user, read).
 *    This part of paging tcg does per vCPU (K14).
 * Prints "pagetables: cpu <i> phase <p>: <r> reads, <w> wrong, <f> faults
 * (want <all|none>) ..." and "pagetables: <mode>: <n> failures".
 */
#include "guest.h"

#define VA_X 0x600000ULL
#define PA_A 0x700000ULL
#define PA_B 0x800000ULL
#define MIN_READS 10000u
#define MIN_SEEN 20u /* times a CPU sees the other's count move before it may stop */
#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_U 0x4ULL
#define PTE_PUW (PTE_P | PTE_W | PTE_U)
#define QWORDS 512u
#define FAULTED 0xFA17FA17FA17FA17ULL /* what a faulting read returns */
#define PF_USER_READ 0x5ULL           /* #PF error code: present, user, read */

struct tables {
	uint64_t pml4[512], pdpt[512], pd[512], pt[512];
} __attribute__((aligned(4096)));
static struct tables tables[2];

struct job {
	uint64_t id;              /* in: the pattern expected at VA_X */
	bool want_fault;          /* in: every read takes a #PF */
	volatile uint64_t reads;  /* out, also watched by the other CPU */
	uint64_t wrong, first_wrong;
	uint64_t seen;            /* the other's count moved this often */
	volatile uint64_t faults, bad_faults; /* by the #PF handler */
	volatile uint64_t finished;
	uint16_t cs;
} __attribute__((aligned(64)));
static struct job jobs[3][2]; /* [phase][cpu], phases 1 and 2 */
static volatile unsigned phase;
static volatile uint64_t arrived[3], finished_cpus;
static uint64_t kit_cr3;
static bool perms_mode;

/* The CPL3 read, at a known address, so that the #PF handler can skip it. */
extern char user_read_insn[], user_read_after[];
__asm__(".text\n.globl user_read\nuser_read:\n"
	".globl user_read_insn\nuser_read_insn:\n  movq (%rdi), %rax\n"
	".globl user_read_after\nuser_read_after:\n  ret\n");
uint64_t user_read(const volatile uint64_t *p);

static void on_pf(struct guest_frame *f)
{
	unsigned cpu = guest_cpu_index();
	if (cpu > 1 || f->rip != (uintptr_t)user_read_insn) {
		guest_printf("pagetables: unexpected #PF cpu %u rip %#llx cr2 %#llx err %#llx\n", cpu,
			     (unsigned long long)f->rip, (unsigned long long)guest_read_cr2(),
			     (unsigned long long)f->error_code);
		guest_exit(GUEST_EXIT_FAIL + 3);
	}
	struct job *j = &jobs[phase][cpu];
	j->faults++;
	j->bad_faults += guest_read_cr2() != f->rdi || f->error_code != PF_USER_READ;
	f->rax = FAULTED;
	f->rip = (uintptr_t)user_read_after;
}

static uint64_t pattern(uint64_t id, unsigned k)
{
	return (0xC0DE0000ULL + id) << 32 | k << 3;
}

static uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}

/* CPU @cpu's tables: the kit's 4 GiB identity map (its PDs for GiB 1-3),
 * the first GiB in a PD of its own whose 2 MiB at VA_X are 4 KiB pages;
 * VA_X's entry is @pte. */
static void build_tables(unsigned cpu, uint64_t pte)
{
	struct tables *t = &tables[cpu];
	const uint64_t *kpml4 = (const uint64_t *)(kit_cr3 & ~0xfffULL);
	const uint64_t *kpdpt = (const uint64_t *)(kpml4[0] & ~0xfffULL);
	const uint64_t *kpd = (const uint64_t *)(kpdpt[0] & ~0xfffULL);

	t->pml4[0] = (uintptr_t)t->pdpt | PTE_PUW;
	t->pdpt[0] = (uintptr_t)t->pd | PTE_PUW;
	for (unsigned i = 1; i < 4; i++)
		t->pdpt[i] = kpdpt[i];
	for (unsigned i = 0; i < 512; i++)
		t->pd[i] = kpd[i];
	t->pd[VA_X >> 21] = (uintptr_t)t->pt | PTE_PUW;
	for (unsigned i = 0; i < 512; i++)
		t->pt[i] = (VA_X + 4096ULL * i) | PTE_PUW;
	t->pt[0] = pte;
}

struct loop_args {
	struct job *mine, *other;
};

static long read_x(void *p)
{
	struct loop_args *a = p;
	struct job *j = a->mine;
	const volatile uint64_t *x = (const volatile uint64_t *)VA_X;
	uint64_t n = 0, last_other = a->other->reads;

	j->cs = guest_read_cs();
	for (;;) {
		unsigned k = (unsigned)n % QWORDS;
		uint64_t v = user_read(&x[k]);
		uint64_t want = j->want_fault ? FAULTED : pattern(j->id, k);
		if (v != want && !j->wrong++)
			j->first_wrong = v;
		j->reads = ++n;
		uint64_t o = a->other->reads;
		if (o != last_other) {
			j->seen++;
			last_other = o;
		}
		if (n >= MIN_READS && (j->seen >= MIN_SEEN || a->other->finished))
			break;
	}
	j->finished = 1;
	return 0;
}

static void barrier(unsigned k)
{
	guest_atomic_inc(&arrived[k]);
	while (guest_atomic_load(&arrived[k]) < 2)
		guest_pause();
}

/* VA_X's entry for @cpu in phase @ph, and what its reads must give. */
static uint64_t setup(unsigned ph, unsigned cpu)
{
	struct job *j = &jobs[ph][cpu];
	unsigned owner = ph == 1 ? cpu : !cpu; /* remap: whose page; perms: who may read */

	if (perms_mode) {
		j->id = 0;
		j->want_fault = owner != 0;
		return VA_X | PTE_P | PTE_W | (owner == 0 ? PTE_U : 0);
	}
	j->id = 1 + owner;
	return (owner ? PA_B : PA_A) | PTE_PUW;
}

static void run(unsigned cpu)
{
	struct loop_args a;

	build_tables(cpu, setup(1, cpu));
	write_cr3((uintptr_t)tables[cpu].pml4);
	a = (struct loop_args){ &jobs[1][cpu], &jobs[1][!cpu] };
	barrier(1);
	guest_run_user(read_x, &a);
	/* Phase 2: the other entry, after a TLB flush by CR3 reload. */
	barrier(2);
	phase = 2;
	tables[cpu].pt[0] = setup(2, cpu);
	write_cr3((uintptr_t)tables[cpu].pml4);
	a = (struct loop_args){ &jobs[2][cpu], &jobs[2][!cpu] };
	guest_run_user(read_x, &a);
	barrier(0); /* both done reading before either writes */
	if (!perms_mode)
		guest_write64(VA_X, 0xAB0000 + cpu);
	write_cr3(kit_cr3);
	guest_atomic_inc(&finished_cpus);
}

static void ap_main(unsigned cpu)
{
	if (cpu == 1)
		run(1);
}

static void test(void)
{
	kit_cr3 = read_cr3();
	phase = 1;
	guest_set_handler(14, on_pf);
	for (unsigned k = 0; k < QWORDS; k++) {
		guest_write64(VA_X + 8 * k, pattern(0, k));
		guest_write64(PA_A + 8 * k, pattern(1, k));
		guest_write64(PA_B + 8 * k, pattern(2, k));
	}
	int n = guest_smp_start(ap_main);
	if (n < 2) {
		guest_check(false, "2 cpus", (uint64_t)n, 2);
		return;
	}
	run(0);
	uint64_t t0 = guest_rdtsc();
	while (guest_atomic_load(&finished_cpus) < 2) {
		if (guest_rdtsc() - t0 > 20000000000ull) {
			guest_check(false, "cpu 1 finished", 0, 1);
			return;
		}
		guest_pause();
	}
	for (unsigned ph = 1; ph <= 2; ph++)
		for (unsigned c = 0; c < 2; c++) {
			struct job *j = &jobs[ph][c];
			guest_printf("pagetables: cpu %u phase %u: %llu reads, %llu wrong (first %#llx), "
				     "%llu faults (want %s), saw the other cpu move %llu times, cs %#x\n",
				     c, ph, (unsigned long long)j->reads, (unsigned long long)j->wrong,
				     (unsigned long long)j->first_wrong, (unsigned long long)j->faults,
				     j->want_fault ? "all" : "none", (unsigned long long)j->seen, j->cs);
			guest_check(j->reads >= MIN_READS, "at least 10000 reads", j->reads, MIN_READS);
			guest_check(j->wrong == 0, j->want_fault ? "every read faulted"
					: "every read gave the cpu's own page", j->wrong, 0);
			guest_check(j->faults == (j->want_fault ? j->reads : 0), "#PF count", j->faults,
				    j->want_fault ? j->reads : 0);
			guest_check(j->bad_faults == 0, "#PF CR2 and error code 5", j->bad_faults, 0);
			guest_check((j->cs & 3) == 3, "read at CPL3", j->cs & 3, 3);
		}
	if (perms_mode)
		return;
	/* Each marker went where its CPU's phase-2 mapping pointed. */
	uint64_t a0 = guest_read64(PA_A), b0 = guest_read64(PA_B), x0 = guest_read64(VA_X);
	guest_printf("pagetables: physical 0x700000 %#llx, 0x800000 %#llx, 0x600000 %#llx\n",
		     (unsigned long long)a0, (unsigned long long)b0, (unsigned long long)x0);
	guest_check(a0 == 0xAB0001, "cpu 1's write through VA_X landed in 0x700000", a0, 0xAB0001);
	guest_check(b0 == 0xAB0000, "cpu 0's write through VA_X landed in 0x800000", b0, 0xAB0000);
	guest_check(x0 == pattern(0, 0), "physical 0x600000 untouched", x0, pattern(0, 0));
}

static void mode_remap(void)
{
	test();
}

static void mode_perms(void)
{
	perms_mode = true;
	test();
}

int guest_main(void)
{
	static const struct guest_mode modes[] = {
		{ "remap", mode_remap },
		{ "perms", mode_perms },
		{ 0, 0 },
	};
	return guest_run_mode("pagetables", modes);
}
