/* SPDX-License-Identifier: MIT */
/*
 * cpl3: runs a 50-million-step 64-bit LCG at CPL3 (where kvm_pvm runs
 * natively) and checks the result at CPL0 against the LCG's closed-form
 * jump-ahead (O(log n) steps); also checks that the loop ran with CS.RPL 3.
 */
#include "guest.h"

#define LCG_A 6364136223846793005ull
#define LCG_C 1442695040888963407ull

struct job {
	uint64_t seed, steps; /* in */
	uint64_t result;      /* out */
	uint16_t cs;          /* out: CS seen inside the loop */
};

static long user_loop(void *p)
{
	struct job *j = p;
	uint64_t x = j->seed;

	j->cs = guest_read_cs();
	for (uint64_t i = 0; i < j->steps; i++) {
		x = x * LCG_A + LCG_C;
		__asm__("" : "+r"(x)); /* keep it a real loop */
	}
	j->result = x;
	return (long)(x >> 1);
}

int guest_main(void)
{
	static struct job job;
	volatile uint64_t steps = 50000000; /* not a compile-time constant */
	uint16_t cs0 = guest_read_cs();

	job.seed = 0x123456789abcdefull;
	job.steps = steps;
	uint64_t expect = guest_lcg_jump(job.seed, job.steps, LCG_A, LCG_C);
	long ret = guest_run_user(user_loop, &job);

	guest_printf("cpl3: cs at CPL0 %#x, in loop %#x\n", cs0, job.cs);
	if ((cs0 & 3) != 0 || (job.cs & 3) != 3) {
		guest_printf("cpl3: loop did not run at CPL3\n");
		return GUEST_EXIT_FAIL;
	}
	if (job.result != expect || ret != (long)(expect >> 1)) {
		guest_printf("cpl3: result %#llx, expected %#llx (ret %#lx)\n",
			     (unsigned long long)job.result, (unsigned long long)expect,
			     (unsigned long)ret);
		return GUEST_EXIT_FAIL + 1;
	}
	if ((guest_read_cs() & 3) != 0) {
		guest_printf("cpl3: not back at CPL0\n");
		return GUEST_EXIT_FAIL + 2;
	}
	guest_printf("cpl3: result %#llx ok\n", (unsigned long long)job.result);
	return GUEST_EXIT_PASS;
}
