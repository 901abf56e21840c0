/* SPDX-License-Identifier: MIT */
/*
 * smp_atomics: every CPU (2 or 4, from the MP table) adds 1 to one shared
 * counter 1,000,000 times, all at once, at CPL3 (CPL0 is slow on kvm_pvm):
 * mode "spinlock" does a plain load and store under the kit's xchg
 * spinlock, mode "xadd" a `lock xadd`. The total must be exact (issue 11;
 * DESIGN K7: on tcg only one vCPU may execute at a time, or locked
 * instructions and xchg are not atomic). Prints "atomics: <mode> <n> cpus
 * total <t> expected <e>" and, per CPU, how often another CPU's increments
 * came between two of its own (how much the loops interleaved).
 */
#include "guest.h"

#define ADDS 1000000u

static guest_spinlock_t lock = GUEST_SPINLOCK_INIT;
static volatile uint64_t counter; /* under the lock in mode spinlock */
static volatile uint64_t xcounter; /* lock xadd */
static volatile uint64_t ready, go, done;
static bool use_xadd;

struct job {
	uint64_t adds;        /* done by this CPU */
	uint64_t interleaved; /* times the counter moved between two of its own adds */
	uint64_t bad_order;   /* xadd: old value not above the previous one */
	uint16_t cs;
} __attribute__((aligned(64)));
static struct job jobs[GUEST_MAX_CPUS];

static long spin_loop(void *p)
{
	struct job *j = p;
	uint64_t last = ~0ull;

	j->cs = guest_read_cs();
	for (unsigned i = 0; i < ADDS; i++) {
		guest_spin_lock(&lock);
		uint64_t v = counter; /* not atomic: only the lock makes it exact */
		counter = v + 1;
		guest_spin_unlock(&lock);
		j->interleaved += last != ~0ull && v != last + 1;
		last = v;
	}
	j->adds = ADDS;
	return 0;
}

static long xadd_loop(void *p)
{
	struct job *j = p;
	uint64_t last = ~0ull;

	j->cs = guest_read_cs();
	for (unsigned i = 0; i < ADDS; i++) {
		uint64_t v = 1;
		__asm__ volatile("lock xaddq %0, %1" : "+r"(v), "+m"(xcounter) : : "memory", "cc");
		if (last != ~0ull) {
			j->interleaved += v != last + 1;
			j->bad_order += v <= last;
		}
		last = v;
	}
	j->adds = ADDS;
	return 0;
}

/* Every CPU: wait until all are ready, count at CPL3, check out. */
static void run(unsigned cpu)
{
	guest_atomic_inc(&ready);
	while (!guest_atomic_load(&go))
		guest_pause();
	guest_run_user(use_xadd ? xadd_loop : spin_loop, &jobs[cpu]);
	guest_atomic_inc(&done);
}

static void ap_main(unsigned cpu)
{
	run(cpu);
}

static void count(const char *mode)
{
	int n = guest_smp_start(ap_main);

	if (n < 2) {
		guest_check(false, "at least 2 cpus", (uint64_t)n, 2);
		return;
	}
	uint64_t t0 = guest_rdtsc();
	while (guest_atomic_load(&ready) < (uint64_t)n - 1) {
		if (guest_rdtsc() - t0 > 20000000000ull) {
			guest_check(false, "every AP ready", guest_atomic_load(&ready), (uint64_t)n - 1);
			return;
		}
		guest_pause();
	}
	guest_atomic_store(&go, 1);
	run(0);
	while (guest_atomic_load(&done) < (uint64_t)n)
		guest_pause();
	uint64_t t1 = guest_rdtsc();

	uint64_t total = use_xadd ? xcounter : counter, expected = (uint64_t)n * ADDS, adds = 0;
	bool cpl3 = true;
	for (int i = 0; i < n; i++) {
		guest_printf("atomics: cpu %d did %llu adds, interleaved %llu times\n", i,
			     (unsigned long long)jobs[i].adds, (unsigned long long)jobs[i].interleaved);
		adds += jobs[i].adds;
		cpl3 &= (jobs[i].cs & 3) == 3;
		if (use_xadd)
			guest_check(jobs[i].bad_order == 0, "xadd old values rise on each cpu",
				    jobs[i].bad_order, 0);
	}
	guest_printf("atomics: %llu M TSC ticks\n", (unsigned long long)((t1 - t0) >> 20));
	guest_printf("atomics: %s %d cpus total %llu expected %llu\n", mode, n,
		     (unsigned long long)total, (unsigned long long)expected);
	guest_check(cpl3, "every loop ran at CPL3", cpl3, 1);
	guest_check(adds == expected, "every cpu finished its adds", adds, expected);
	guest_check(total == expected, "the total is exact", total, expected);
	if (!use_xadd)
		guest_check(lock.locked == 0, "the lock is free", lock.locked, 0);
}

static void mode_spinlock(void)
{
	count("spinlock");
}

static void mode_xadd(void)
{
	use_xadd = true;
	count("xadd");
}

int guest_main(void)
{
	static const struct guest_mode modes[] = {
		{ "spinlock", mode_spinlock },
		{ "xadd", mode_xadd },
		{ 0, 0 },
	};
	return guest_run_mode("atomics", modes);
}
