/* SPDX-License-Identifier: MIT */
/*
 * p2m: the guest side of the P2M tests. The command line picks a mode:
 *  ro     - PAGE was made ram_ro by the host with P2M_ABI_RO_OLD in it:
 *           reads see it, a write is dropped (M2); a hole page reads all
 *           ones (M3).
 *  hammer - at CPL3, write 1, 2, 3, ... to PAGE and read each back until
 *           the host says stop, while the host flips PAGE between ram_rw
 *           and ram_ro (K3). A read must return either the value just
 *           written (it landed) or the last value that landed (dropped).
 *           With more CPUs in the MP table, every AP keeps writing its own
 *           page of the bulk region meanwhile (so flips pause and remap
 *           running vCPUs, K3/K7) and counts its writes in words[index].
 *  bulk   - at CPL3, write the whole bulk region twice and read it back
 *           (P4: the host counts exits, which must be zero).
 * Results go to the mailbox; the exit value says whether the guest's own
 * checks held.
 */
#include "guest.h"
#include "p2m_abi.h"

#define MB ((struct p2m_abi_mailbox *)P2M_ABI_MAILBOX)

static int mode_ro(void)
{
	volatile uint64_t *page = (volatile uint64_t *)P2M_ABI_PAGE;
	uint64_t before = *page;
	*page = P2M_ABI_RO_NEW;
	uint64_t after = *page;
	uint64_t hole = *(volatile uint64_t *)P2M_ABI_HOLE;
	uint32_t hole32 = *(volatile uint32_t *)(P2M_ABI_HOLE + 4);
	MB->words[0] = before;
	MB->words[1] = after;
	MB->words[2] = hole;
	guest_printf("p2m ro: before %#llx after %#llx hole %#llx/%#x\n",
		     (unsigned long long)before, (unsigned long long)after,
		     (unsigned long long)hole, hole32);
	if (before != P2M_ABI_RO_OLD || after != P2M_ABI_RO_OLD)
		return GUEST_EXIT_FAIL + 1;
	if (hole != ~0ULL || hole32 != 0xffffffffu)
		return GUEST_EXIT_FAIL + 2;
	return GUEST_EXIT_PASS;
}

static long hammer_user(void *arg)
{
	(void)arg;
	volatile uint64_t *page = (volatile uint64_t *)P2M_ABI_PAGE;
	uint64_t last_landed = *page, landed = 0, bad = 0, i;
	MB->phase = 1;
	for (i = 1; !MB->stop; i++) {
		*page = i;
		uint64_t r = *page;
		if (r == i) {
			landed++;
			last_landed = i;
		} else if (r != last_landed) {
			if (!bad++)
				MB->first_bad = r;
		}
	}
	MB->iterations = i - 1;
	MB->landed = landed;
	MB->bad_reads = bad;
	return 0;
}

static long busy_user(void *arg)
{
	unsigned index = (unsigned)(uintptr_t)arg;
	volatile uint64_t *p = (volatile uint64_t *)(P2M_ABI_BULK + 4096ULL * index);
	uint64_t n = 0;
	while (!MB->stop)
		*p = ++n;
	MB->words[index] = n;
	return 0;
}

static void busy_ap(unsigned index)
{
	if (index < 8)
		guest_run_user(busy_user, (void *)(uintptr_t)index);
}

static long bulk_user(void *arg)
{
	(void)arg;
	volatile uint64_t *p = (volatile uint64_t *)P2M_ABI_BULK;
	uint64_t n = P2M_ABI_BULK_SIZE / 8, bad = 0;
	for (int pass = 0; pass < 2; pass++)
		for (uint64_t i = 0; i < n; i++)
			p[i] = i * 0x9E3779B97F4A7C15ULL + (uint64_t)pass;
	for (uint64_t i = 0; i < n; i++)
		bad += p[i] != i * 0x9E3779B97F4A7C15ULL + 1;
	MB->bad_reads = bad;
	return 0;
}

int guest_main(void)
{
	if (guest_cmdline_is("ro"))
		return mode_ro();
	if (guest_cmdline_is("hammer")) {
		struct guest_mp_cpu cpus[GUEST_MAX_CPUS];
		if (guest_mp_cpus(cpus, GUEST_MAX_CPUS) > 1)
			guest_smp_start(busy_ap);
		guest_run_user(hammer_user, 0);
		guest_printf("p2m hammer: %llu writes, %llu landed, %llu bad reads\n",
			     (unsigned long long)MB->iterations, (unsigned long long)MB->landed,
			     (unsigned long long)MB->bad_reads);
		return MB->bad_reads ? GUEST_EXIT_FAIL + 3 : GUEST_EXIT_PASS;
	}
	if (guest_cmdline_is("bulk")) {
		guest_run_user(bulk_user, 0);
		guest_printf("p2m bulk: %llu bad words\n", (unsigned long long)MB->bad_reads);
		return MB->bad_reads ? GUEST_EXIT_FAIL + 4 : GUEST_EXIT_PASS;
	}
	guest_printf("p2m: command line needs a mode: ro, hammer or bulk\n");
	return GUEST_EXIT_FAIL;
}
