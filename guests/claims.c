/* SPDX-License-Identifier: MIT */
/*
 * claims: the guest side of the claims conformance suite (DESIGN C1-C7,
 * M5, M6), run against testdm models it drives through their control ports.
 * The second word of the command line picks the mode; results are printed
 * one check a line, and tests/func/test_claims.c checks the rest (memory,
 * the models' logs, exit counts).
 */
#include "guest.h"
#include "claims_abi.h"
#include "../dm/testdm/testdm_pattern.h"

/*
 * The watched pages as the guest reaches them: CLAIMS_PAGE itself, or with
 * a third command-line word "high", its higher-half alias
 * 0xffffffff80000000 + CLAIMS_PAGE, the 2 MiB around it (pages and
 * mailbox) then mapped there only (the models see guest-physical
 * addresses either way; PHYS() is what they see).
 */
#define HIGH_HALF 0xffffffff80000000ULL
static uint64_t va_off;
#define P (CLAIMS_PAGE + va_off)
#define PHYS(va) ((va) - va_off)
#define MB ((volatile uint64_t *)(CLAIMS_MAILBOX + va_off))

static int32_t ctl(uint16_t port, uint32_t cmd)
{
	guest_outl(port, cmd);
	return (int32_t)guest_inl(port);
}

/* M5, C5, C6, C4 and the write-through helper, in one sequence. */
static void mode_write(void)
{
	guest_write64(P, CLAIMS_BEFORE);
	guest_check(guest_read64(P) == CLAIMS_BEFORE, "M5 before any claim a write lands", guest_read64(P), CLAIMS_BEFORE);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_CLAIM(4, 2)) == 0, "C3 claim type 4 for WRITE", 0, 0);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_SET_TYPE(4)) == 0, "S2 set type 4 while claimed", 0, 0);
	guest_write64(P, 0xAAAAAAAAAAAAAAAAULL);
	guest_write32(P + 8, 0xBBBBBBBBu);
	guest_write16(P + 12, 0xCCCC);
	guest_write8(P + 14, 0xDD);
	uint64_t r = 0;
	for (int i = 0; i < 1000; i++) /* P4: reads of a WRITE-claimed page do not exit */
		r |= guest_read64(P) ^ CLAIMS_BEFORE;
	guest_check(r == 0, "C6 forwarded writes never reach memory", guest_read64(P), CLAIMS_BEFORE);
	guest_check(guest_read64(P + 8) == 0, "C6 memory after the claimed writes", guest_read64(P + 8), 0);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_WRITE_THROUGH(1)) == 0, "write-through on", 0, 0);
	guest_write64(P + 16, 0xEEEEEEEEEEEEEEEEULL);
	guest_check(guest_read64(P + 16) == 0xEEEEEEEEEEEEEEEEULL, "C6 the model writes it through",
	      guest_read64(P + 16), 0xEEEEEEEEEEEEEEEEULL);
	/* The model logs the VM's exit count: the 5 writes only, no read (P4). */
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_STATS) == 0, "counters logged", 0, 0);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_CLAIM(4, 0)) == 0, "C4 release", 0, 0);
	guest_write64(P + 24, 0xF0F0F0F0F0F0F0F0ULL);
	guest_check(guest_read64(P + 24) == 0xF0F0F0F0F0F0F0F0ULL, "C4 after release writes land",
	      guest_read64(P + 24), 0xF0F0F0F0F0F0F0F0ULL);
}

/* READ|WRITE and READ-only claims (beyond Xen). */
static void mode_read(void)
{
	guest_write64(P, CLAIMS_BEFORE);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_CLAIM(5, 3)) == 0, "claim ioreq_server1 READ|WRITE", 0, 0);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_SET_TYPE(5)) == 0, "set type 5", 0, 0);
	uint64_t a = guest_read64(P);
	guest_check(a == testdm_pattern(PHYS(P), 0), "READ claim: the model's data, not memory", a, testdm_pattern(PHYS(P), 0));
	uint32_t b = guest_read32(P + 0x100);
	guest_check(b == (uint32_t)testdm_pattern(PHYS(P + 0x100), 0), "READ claim 4 bytes", b, (uint32_t)testdm_pattern(PHYS(P + 0x100), 0));
	guest_write64(P + 8, 0x1234567887654321ULL);
	guest_check(guest_read64(P + 8) == 0x1234567887654321ULL, "write then read both forwarded",
	      guest_read64(P + 8), 0x1234567887654321ULL);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_CLAIM(5, 1)) == 0, "owner re-claims READ only", 0, 0);
	guest_write64(P + 0x200, 0x5A5A5A5A5A5A5A5AULL); /* goes to memory now */
	uint64_t c = guest_read64(P + 0x200);            /* but the read is the model's */
	guest_check(c == testdm_pattern(PHYS(P + 0x200), 0), "READ-only claim: writes to memory, reads forwarded",
	      c, testdm_pattern(PHYS(P + 0x200), 0));
}

/* C1, C2, C3 between two models. */
static void mode_busy(void)
{
	uint16_t a = CLAIMS_CTL_PORT, b = CLAIMS_CTL_PORT + 4;
	guest_check(ctl(a, CLAIMS_CLAIM(4, 2)) == 0, "C3 A claims type 4", 0, 0);
	int32_t r = ctl(b, CLAIMS_CLAIM(4, 2));
	guest_check(r == -16, "C3 second claimant gets EBUSY", (uint64_t)(int64_t)r, (uint64_t)-16);
	r = ctl(b, CLAIMS_CLAIM(4, 0));
	guest_check(r == -22, "C3 releasing a type you do not own: EINVAL", (uint64_t)(int64_t)r, (uint64_t)-22);
	r = ctl(b, CLAIMS_CLAIM(2, 2));
	guest_check(r == -22, "C1 only ioreq_server types: EINVAL", (uint64_t)(int64_t)r, (uint64_t)-22);
	r = ctl(b, CLAIMS_CLAIM(6, 4));
	guest_check(r == -22, "C2 flags outside READ|WRITE: EINVAL", (uint64_t)(int64_t)r, (uint64_t)-22);
	guest_check(ctl(a, CLAIMS_SET_TYPE(4)) == 0, "A sets type 4", 0, 0);
	guest_write64(P, 0x4141414141414141ULL); /* to A, which keeps working */
	guest_check(guest_read64(P) == 0, "C3 the first claimant keeps working", guest_read64(P), 0);
}

/* M6: eight types, eight models, each gets only its own page. */
static void mode_types(void)
{
	for (unsigned i = 0; i < 8; i++) {
		uint16_t port = (uint16_t)(0x5c0 + 4 * i);
		guest_check(ctl(port, CLAIMS_CLAIM(4 + i, 2)) == 0, "M6 claim", i, 0);
		guest_check(ctl(port, CLAIMS_SET_TYPE(4 + i)) == 0, "M6 set type", i, 0);
	}
	for (unsigned i = 0; i < 8; i++)
		guest_write64(P + 4096 * i, 0x100 + i);
	for (unsigned i = 0; i < 8; i++)
		guest_check(guest_read64(P + 4096 * i) == 0, "M6 each write went to a model", i, 0);
}

/* The model dies mid-stream: the guest runs on, later writes land (C4, I5). */
static void mode_kill(void)
{
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_CLAIM(4, 2)) == 0, "claim", 0, 0);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_SET_TYPE(4)) == 0, "set type", 0, 0);
	for (uint64_t i = 1; i <= 100; i++)
		guest_write64(P, i);
	guest_check(guest_read64(P) == 100, "after the model died the last write landed", guest_read64(P), 100);
}

/* C7: a locked RMW is a read and a separate write; a page-crossing write is two fragments. */
/*
 * K8: code in CLAIMS_PAGE (plain RAM) returns a number; the model rewrites
 * the number through its own mapping of guest memory and says so with
 * modified_memory; the next call must return the new number (on tcg the
 * engine must drop the code it translated from the old bytes).
 */
static void mode_code(void)
{
	static const uint8_t ret_n[] = { 0xb8, 1, 0, 0, 0, 0xc3 }; /* mov eax, 1; ret */
	volatile uint8_t *page = (volatile uint8_t *)P;
	for (unsigned i = 0; i < sizeof(ret_n); i++)
		page[i] = ret_n[i];
	uint32_t (*fn)(void) = (uint32_t (*)(void))(uintptr_t)P;
	uint32_t first = 0;
	for (int i = 0; i < 1000; i++) /* translated and run many times */
		first = fn();
	guest_check(first == 1, "the code runs as written", first, 1);
	for (uint32_t n = 2; n <= 5; n++) {
		guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_PATCH(1, n)) == 0, "the model patched the code",
			    0, 0);
		uint32_t got = fn();
		guest_check(got == n, "K8 the patched code runs, not the old translation", got, n);
	}
}

static void mode_c7(void)
{
	guest_write64(P, 5);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_CLAIM(4, 2)) == 0, "claim", 0, 0);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_SET_TYPE(4)) == 0, "set type", 0, 0);
	uint64_t v = 1;
	__asm__ volatile("lock xaddq %0, %1" : "+r"(v), "+m"(*(volatile uint64_t *)P) : : "memory");
	guest_check(v == 5, "C7 lock xadd read memory", v, 5);
	guest_check(guest_read64(P) == 5, "C7 its write went to the model, memory unchanged", guest_read64(P), 5);
	guest_write64(P + 4092, 0x2222222211111111ULL); /* crosses into the second page */
}

/*
 * Instructions that do more than store, on a WRITE-claimed page: each reads
 * memory, the model gets its one write, memory and the other effects are
 * the CPU's (flags, registers, RSI/RDI).
 */
static void mode_rmw(void)
{
	volatile uint64_t *m = (volatile uint64_t *)P;
	uint64_t src = 0x99;
	guest_write64(P, 5);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_CLAIM(4, 2)) == 0, "claim", 0, 0);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_SET_TYPE(4)) == 0, "set type", 0, 0);
	uint8_t zf, cf;
	__asm__ volatile("addq %3, %0; setz %1; setc %2"
			 : "+m"(*m), "=r"(zf), "=r"(cf) : "r"(-5ULL) : "memory", "cc");
	guest_check(zf == 1 && cf == 1, "add [m], r: flags from memory's 5", zf + 2u * cf, 3);
	uint64_t v = 7;
	__asm__ volatile("xchgq %0, %1" : "+r"(v), "+m"(*m) : : "memory");
	guest_check(v == 5, "xchg [m], r: the old value", v, 5);
	__asm__ volatile("lock incq %0" : "+m"(*m) : : "memory");
	uint64_t *si = &src, *di = (uint64_t *)(P + 8);
	__asm__ volatile("movsq" : "+S"(si), "+D"(di) : : "memory");
	guest_check(si == &src + 1 && di == (uint64_t *)(P + 16), "movsq advanced RSI and RDI",
		    (uint64_t)(uintptr_t)di, P + 16);
	guest_check(guest_read64(P) == 5 && guest_read64(P + 8) == 0, "memory unchanged",
		    guest_read64(P), 5);
}

/*
 * Flags computed before a trapped store, in the same straight-line code,
 * survive it: cmp; store to the claimed page; jcc (and setcc after a
 * locked RMW). The engine stops at the store (K11), so the flags must be
 * the ones the compare left, as a CPU keeps them.
 */
static void mode_flags(void)
{
	guest_write64(P, 0);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_CLAIM(4, 2)) == 0, "claim", 0, 0);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_SET_TYPE(4)) == 0, "set type", 0, 0);
	unsigned wrong = 0;
	for (uint64_t i = 0; i < 64; i++) {
		uint64_t taken;
		__asm__ volatile("cmpq $5, %1\n"
				 "movq %1, (%2)\n"
				 "movl $0, %k0\n"
				 "jne 1f\n"
				 "movl $1, %k0\n"
				 "1:\n"
				 : "=&r"(taken) : "r"(i), "r"(P) : "memory", "cc");
		wrong += taken != (i == 5);
		uint8_t below;
		__asm__ volatile("cmpq $9, %1\n"
				 "lock incq (%2)\n"
				 "setb %0\n"
				 : "=r"(below) : "r"(i), "r"(P + 8) : "memory", "cc");
		(void)below; /* lock inc writes the flags itself: only the store path is checked */
	}
	guest_check(wrong == 0, "jcc after a trapped store sees the compare's flags", wrong, 0);
}

/*
 * Code on a WRITE-claimed (RO) page keeps running while its writes trap: the
 * snippet, copied to P, bumps a RAM counter and then writes to P + 0x800 in
 * the same straight-line code; the counter must move exactly once a call.
 */
extern char ro_snippet[], ro_snippet_end[];
__asm__(".text\n.globl ro_snippet, ro_snippet_end\n"
	"ro_snippet:\n  incq (%rdi)\n  movq %rsi, (%rdx)\n  leaq 1(%rsi), %rax\n  ret\n"
	"ro_snippet_end:\n");
#define ROCODE_CALLS 200

static void mode_rocode(void)
{
	memcpy((void *)P, ro_snippet, (size_t)(ro_snippet_end - ro_snippet));
	guest_write64(P + 0x800, 0);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_CLAIM(4, 2)) == 0, "claim WRITE", 0, 0);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_SET_TYPE(4)) == 0, "set type", 0, 0);
	long (*fn)(volatile uint64_t *, uint64_t, uint64_t) = (void *)P;
	volatile uint64_t *counter = &MB[4];
	uint64_t bad_ret = 0;
	*counter = 0;
	for (uint64_t i = 1; i <= ROCODE_CALLS; i++)
		bad_ret += fn(counter, 0x1000 + i, P + 0x800) != (long)(0x1000 + i + 1);
	guest_check(bad_ret == 0, "code on the RO page ran on after each trapped write", bad_ret, 0);
	guest_check(*counter == ROCODE_CALLS, "the RAM store before the trapped write ran once a call",
		    *counter, ROCODE_CALLS);
	guest_check(guest_read64(P + 0x800) == 0, "the trapped writes did not reach memory",
		    guest_read64(P + 0x800), 0);
}

/*
 * Accesses of 1, 2, 4 and 8 bytes to a READ|WRITE-claimed (NONE) page, one
 * request each; an 8-byte access from the RAM page before it crossing into
 * it: the model sees the 4 bytes in its page, RAM keeps the rest (C7).
 */
static void mode_sizes(void)
{
	uintptr_t q = P + 0x1000;
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_CLAIM(5, 3)) == 0, "claim READ|WRITE", 0, 0);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_SET_TYPE(5)) == 0, "set type", 0, 0);
	guest_write8(q + 0x10, 0x11);
	guest_write16(q + 0x20, 0x2222);
	guest_write32(q + 0x40, 0x33333333u);
	guest_write64(q + 0x80, 0x4444444455555555ULL);
	/* Each read once: a read is a request to the model. */
	uint64_t r1 = guest_read8(q + 0x10), r2 = guest_read16(q + 0x20);
	uint64_t r4 = guest_read32(q + 0x40), r8 = guest_read64(q + 0x80);
	guest_check(r1 == 0x11, "1-byte read", r1, 0x11);
	guest_check(r2 == 0x2222, "2-byte read", r2, 0x2222);
	guest_check(r4 == 0x33333333u, "4-byte read", r4, 0x33333333u);
	guest_check(r8 == 0x4444444455555555ULL, "8-byte read", r8, 0x4444444455555555ULL);
	guest_write64(q - 4, 0x6666666677777777ULL);
	uint64_t ram = guest_read32(q - 4), cross = guest_read64(q - 4);
	guest_check(ram == 0x77777777u, "crossing write: RAM got its part", ram, 0x77777777u);
	guest_check(cross == 0x6666666677777777ULL, "crossing read: RAM and model parts", cross,
		    0x6666666677777777ULL);
}

/* C5 with two vCPUs: once the pages are claimed, no later write reaches memory. */
static void race_ap(unsigned cpu)
{
	if (cpu != 1)
		return;
	uint64_t v = 0, after = 0;
	while (!MB[2]) {
		bool claimed = MB[0] != 0; /* read before the write it orders */
		guest_write64(P, ++v);
		if (claimed && !after)
			MB[1] = after = v; /* the BSP waits for it */
	}
	MB[1] = after;
	MB[3] = v;
	MB[2] = 2;
}

static void mode_race(void)
{
	if (guest_smp_start(race_ap) < 2) {
		guest_check(false, "race needs 2 vCPUs", 0, 2);
		return;
	}
	for (volatile int i = 0; i < 20000; i++)
		guest_pause();
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_CLAIM(4, 2)) == 0, "claim while the AP writes", 0, 0);
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_SET_TYPE(4)) == 0, "set type while the AP writes", 0, 0);
	/*
	 * Until the AP wrote under the claim (bounded): on tcg only one vCPU
	 * executes at a time (K7), and a fixed spin here could end before the
	 * AP's next turn.
	 */
	uint64_t t0 = guest_rdtsc();
	while (!MB[1] && guest_rdtsc() - t0 < 20000000000ull)
		guest_pause();
	/* A few more writes under the claim (each a round trip to the model on tcg). */
	for (volatile int i = 0; i < 2000; i++)
		guest_pause();
	MB[2] = 1;
	while (MB[2] != 2)
		guest_pause();
	guest_printf("claims: race: %llu writes, first after the claim %llu, memory %llu\n",
		     (unsigned long long)MB[3], (unsigned long long)MB[1],
		     (unsigned long long)guest_read64(P));
	guest_check(MB[1] != 0, "C5 the AP wrote after the claim", MB[1], 1);
	guest_check(guest_read64(P) < MB[1], "C5 no write after the claim reached memory", guest_read64(P), MB[1]);
}

/*
 * Issue 11 (DESIGN K13, K3, C4-C6): vCPUs writing 1, 2, 3, ... to their own
 * 8-byte word of P (vCPU i: P + 8 i) at CPL3 while the model changes P's
 * type and claim. The model never writes a forwarded write through and
 * answers a forwarded read from memory (testdm --read-through), so memory
 * holds v exactly when the write of v landed there, and reading the word
 * back after each write tells where it went: landed (counted here) or not
 * (its value folded here, in order). The model counts and folds what it
 * received per word; every write lands exactly once when, per vCPU,
 * landed + received == issued, the two folds match (no value missing,
 * doubled or reordered at the model) and no received value was not above
 * the one before.
 */
#define MARK ((volatile uint64_t *)(CLAIMS_MARKS + va_off))

struct writer {
	volatile uint64_t ready, stop, done, issued;
	uint64_t landed, fold, bad_reads;
} __attribute__((aligned(64)));
static struct writer wr[2];

static long writer_user(void *arg)
{
	struct writer *w = arg;
	volatile uint64_t *word = (volatile uint64_t *)(P + 8 * (uint64_t)(w - wr));
	uint64_t v = 0, last = *word, landed = 0, fold = 0, bad = 0;
	w->ready = 1;
	while (!w->stop && !MARK[TESTDM_MARK_FLIP_DONE]) {
		*word = ++v;
		uint64_t r = *word;
		if (r == v) {
			landed++;
			last = v;
		} else {
			bad += r != last; /* memory holds only this vCPU's landed writes */
			fold = testdm_fold(fold, v);
		}
		w->issued = v;
	}
	w->landed = landed;
	w->fold = fold;
	w->bad_reads = bad;
	return 0;
}

static void writer_ap(unsigned cpu)
{
	if (cpu != 1)
		return;
	guest_run_user(writer_user, &wr[1]);
	guest_atomic_store(&wr[1].done, 1);
}

static uint32_t query(uint32_t what, uint32_t index)
{
	return (uint32_t)ctl(CLAIMS_CTL_PORT, CLAIMS_QUERY(what, index));
}

/* The per-word accounting of vCPU i against the model's; returns what the model received. */
static uint64_t check_writer(unsigned i)
{
	struct writer *w = &wr[i];
	uint64_t got = query(CLAIMS_Q_COUNT, i);
	uint64_t fold = query(CLAIMS_Q_FOLD_LO, i) | (uint64_t)query(CLAIMS_Q_FOLD_HI, i) << 32;
	guest_printf("claims: vCPU %u: %llu writes: %llu landed in memory, %llu received by the model\n",
		     i, (unsigned long long)w->issued, (unsigned long long)w->landed,
		     (unsigned long long)got);
	guest_check(w->landed + got == w->issued, "every write landed once: in memory or at the model",
		    w->landed + got, w->issued);
	guest_check(fold == w->fold, "the model got exactly the writes that did not land, in order",
		    fold, w->fold);
	guest_check(query(CLAIMS_Q_NOT_ABOVE, i) == 0, "no value reached the model twice or late",
		    query(CLAIMS_Q_NOT_ABOVE, i), 0);
	guest_check(w->bad_reads == 0, "reads saw only this vCPU's landed writes", w->bad_reads, 0);
	return got;
}

/* Start vCPU 1 writing its word (writer_ap) and wait until it runs; false if there is no AP. */
static bool start_writer_ap(const char *mode)
{
	if (guest_smp_start(writer_ap) < 2) {
		guest_printf("claims: %s needs 2 vCPUs\n", mode);
		guest_check(false, "2 vCPUs", 0, 2);
		return false;
	}
	while (!wr[1].ready)
		guest_pause();
	return true;
}

/*
 * K13: a model that claims and changes types before answering the request
 * that asked for it, while vCPU 1 writes to the page: its write waits at
 * the model, busy inside vCPU 0's request, through the claim changes, the
 * release and set_mem_type calls (each a K3 stop of every vCPU). Nothing
 * deadlocks; the request completes; the final WRITE claim holds after it.
 */
#define CYCLE_WAIT_MS 2000
#define CYCLE_MARKER 0xC1C1C1C1C1C1C1C1ULL
#define CYCLE_AFTER 100 /* vCPU 1's writes after the cycle */

static void mode_cycle(void)
{
	if (!start_writer_ap("cycle"))
		return;
	/* Steps done while another vCPU's request waited: 3..8 once vCPU 1's
	 * trapped write arrived during the wait after step 2. */
	int32_t r = ctl(CLAIMS_CTL_PORT, CLAIMS_CYCLE(4, CYCLE_WAIT_MS));
	guest_check(r == TESTDM_CYCLE_STEPS - 2, "K13 claims and set_mem_type with vCPU 1 waiting at the model",
		    (uint64_t)(int64_t)r, TESTDM_CYCLE_STEPS - 2);
	guest_check(MARK[TESTDM_MARK_CYCLE_STEP] == TESTDM_CYCLE_STEPS, "every step of the cycle done",
		    MARK[TESTDM_MARK_CYCLE_STEP], TESTDM_CYCLE_STEPS);
	/* The final state holds: type 4 under a WRITE claim. */
	guest_write64(P, CYCLE_MARKER);
	guest_check(guest_read64(P) == 0, "C5 a write after the cycle does not reach memory", guest_read64(P), 0);
	guest_check(query(CLAIMS_Q_COUNT, 0) == 1, "C6 it reached the model", query(CLAIMS_Q_COUNT, 0), 1);
	guest_check((query(CLAIMS_Q_FOLD_LO, 0) | (uint64_t)query(CLAIMS_Q_FOLD_HI, 0) << 32) ==
			    testdm_fold(0, CYCLE_MARKER), "with its value", query(CLAIMS_Q_FOLD_LO, 0),
		    (uint32_t)testdm_fold(0, CYCLE_MARKER));
	uint64_t from = wr[1].issued;
	while (wr[1].issued < from + CYCLE_AFTER)
		guest_pause();
	wr[1].stop = 1;
	while (!guest_atomic_load(&wr[1].done))
		guest_pause();
	uint64_t got = check_writer(1);
	guest_check(got >= CYCLE_AFTER, "vCPU 1's writes after the cycle went to the model", got, CYCLE_AFTER);
}

/*
 * K3, K13, C4-C6: 1000 changes of P made by the model (a thread beside the
 * one serving the forwarded accesses) among ram_rw, type 4 under a WRITE
 * claim and type 4 under a READ|WRITE claim, each held until a guest write
 * reached it, while vCPUs 0 and 1 write their words.
 */
#define FLIP_CHANGES 1000

static void mode_flip(void)
{
	if (!start_writer_ap("flip"))
		return;
	guest_check(ctl(CLAIMS_CTL_PORT, CLAIMS_FLIP(FLIP_CHANGES, 4)) == 0, "the model starts flipping", 0, 0);
	guest_run_user(writer_user, &wr[0]);
	while (!guest_atomic_load(&wr[1].done))
		guest_pause();
	uint32_t flips = query(CLAIMS_Q_FLIPS, 0), stalls = query(CLAIMS_Q_STALLS, 0);
	int32_t err = (int32_t)query(CLAIMS_Q_FLIP_ERROR, 0);
	guest_printf("claims: flip: %u changes, %u states no write reached within 2 s\n", flips, stalls);
	guest_check(err == 0, "every change succeeded", (uint64_t)(int64_t)err, 0);
	guest_check(flips == FLIP_CHANGES, "the model made all the changes", flips, FLIP_CHANGES);
	uint64_t got = check_writer(0) + check_writer(1);
	uint64_t landed = wr[0].landed + wr[1].landed;
	/* Each of the 667 claimed states waited for a forwarded write, each of
	 * the 333 ram_rw states for a landed one: both really happened. */
	guest_check(got >= 600, "writes reached the model under the claims", got, 600);
	guest_check(landed >= 300, "writes landed in memory as ram_rw", landed, 300);
}

/*
 * "high": the first GiB also at 0xffffffff80000000, and the 2 MiB page
 * holding the watched pages and the mailbox there only, so nothing reaches
 * them at their physical addresses (every CPU shares the tables).
 */
static uint64_t hh_pdpt[512] __attribute__((aligned(4096)));
static uint64_t hh_pd[512] __attribute__((aligned(4096)));

static void map_high_half(void)
{
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	uint64_t *pml4 = (uint64_t *)(cr3 & ~0xfffULL);
	uint64_t *pd = (uint64_t *)(((uint64_t *)(pml4[0] & ~0xfffULL))[0] & ~0xfffULL);
	memcpy(hh_pd, pd, sizeof(hh_pd));
	hh_pdpt[510] = (uintptr_t)hh_pd | 7;
	pml4[511] = (uintptr_t)hh_pdpt | 7;
	pd[CLAIMS_PAGE >> 21] = 0; /* CLAIMS_MAILBOX is in the same 2 MiB */
	__asm__ volatile("mov %0, %%cr3" ::"r"(cr3) : "memory");
	va_off = HIGH_HALF;
	guest_printf("claims: through the higher-half alias %#llx\n",
		     (unsigned long long)(HIGH_HALF + CLAIMS_PAGE));
}

static bool arg_word(const char *word)
{
	const char *s = guest_cmdline_arg();
	size_t n = strlen(word);
	for (s = *s ? s + 1 : s; *s; s++) /* past the mode's first letter */
		if (s[-1] == ' ' && !memcmp(s, word, n) && (!s[n] || s[n] == ' '))
			return true;
	return false;
}

int guest_main(void)
{
	if (arg_word("high"))
		map_high_half();
	static const struct guest_mode modes[] = {
		{ "write", mode_write },
		{ "read", mode_read },
		{ "busy", mode_busy },
		{ "types", mode_types },
		{ "kill", mode_kill },
		{ "c7", mode_c7 },
		{ "code", mode_code },
		{ "rmw", mode_rmw },
		{ "flags", mode_flags },
		{ "race", mode_race },
		{ "rocode", mode_rocode },
		{ "sizes", mode_sizes },
		{ "cycle", mode_cycle },
		{ "flip", mode_flip },
		{ 0, 0 },
	};
	return guest_run_mode("claims", modes);
}
