/* SPDX-License-Identifier: MIT */
/*
 * smp: reads the CPU count N from the MP table, starts every AP; each CPU
 * (the BSP too) prints "cpu <index> apic <id>" under a spinlock and checks
 * in; the BSP waits for N check-ins and prints "smp: N cpus online".
 */
#include "guest.h"

static guest_spinlock_t lock = GUEST_SPINLOCK_INIT;
static volatile uint64_t checked_in;

static void check_in(unsigned index)
{
	guest_spin_lock(&lock);
	guest_printf("cpu %u apic %u\n", index, guest_lapic_id());
	guest_spin_unlock(&lock);
	guest_atomic_inc(&checked_in);
}

static void ap_main(unsigned index)
{
	check_in(index);
}

int guest_main(void)
{
	struct guest_mp_cpu cpus[GUEST_MAX_CPUS];
	int n = guest_mp_cpus(cpus, GUEST_MAX_CPUS);

	if (n < 1) {
		guest_printf("smp: no MP table\n");
		return GUEST_EXIT_FAIL;
	}
	guest_printf("smp: MP table lists %d cpus\n", n);
	check_in(0);
	int online = guest_smp_start(ap_main);
	if (online != n) {
		guest_printf("smp: only %d of %d cpus started\n", online, n);
		return GUEST_EXIT_FAIL + 1;
	}
	uint64_t t0 = guest_rdtsc();
	while (guest_atomic_load(&checked_in) < (uint64_t)n) {
		if (guest_rdtsc() - t0 > 20000000000ull) {
			guest_printf("smp: only %lu of %d cpus checked in\n",
				     (unsigned long)guest_atomic_load(&checked_in), n);
			return GUEST_EXIT_FAIL + 2;
		}
		guest_pause();
	}
	for (int i = 1; i < n; i++)
		if (guest_cpu_apic_id((unsigned)i) == guest_cpu_apic_id(0)) {
			guest_printf("smp: cpu %d has the BSP's apic id\n", i);
			return GUEST_EXIT_FAIL + 3;
		}
	guest_printf("smp: %d cpus online\n", n);
	return GUEST_EXIT_PASS;
}
