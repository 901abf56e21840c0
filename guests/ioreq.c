/* SPDX-License-Identifier: MIT */
/*
 * ioreq: the guest side of the IOREQ-server tests, run against testdm.
 * The command line's second word picks the mode; each checks what it reads
 * and prints one line per check, exiting PASS only if all hold.
 *  pio      ports 0x510-0x51f: 1/2/4-byte writes read back, unwritten
 *           ports read testdm_pattern (tag 0)
 *  mmio     0xE0000000 page: 1/2/4/8-byte writes read back, patterns
 *  pci      00:03.0 through 0xcf8/0xcfc: dword/word/byte config round
 *           trips, patterns; 00:04.0 (no server) reads all ones
 *  buffered 500 posted writes each to port 0x520 and to 0xA0000 (buffered
 *           ranges), then the checksum read back synchronously (I7)
 *  two      two servers: 0x510 (tag 1) and 0x540 (tag 2) answer their own
 *  disabled the server of port 0x530 is disabled: all ones (I4)
 *  smp      every CPU does 2000 round trips on its own port at once
 *  smp_sleeps  smp, then how many requests a vCPU slept for (testdm's
 *           control port 0x5e0): at most one per request
 *  smp_buffered  every CPU posts 10000 writes to its own port of one
 *           buffered range at once, then reads its checksum back (I7)
 *  kill     the model dies during the third request: all ones, then the
 *           port is unbacked; the guest goes on (I5)
 *  slow     2 vCPUs: vCPU 1 reads port 0x510 from a model that sleeps
 *           before answering it; vCPU 0 counts CPL3 loop iterations
 *           between the model's marks "received" and "answering" (K13)
 */
#include "guest.h"
#include "../dm/testdm/testdm_pattern.h"

static uint64_t mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static void out_n(uint16_t port, unsigned size, uint32_t v)
{
	if (size == 1) guest_outb(port, (uint8_t)v);
	else if (size == 2) guest_outw(port, (uint16_t)v);
	else guest_outl(port, v);
}

static uint32_t in_n(uint16_t port, unsigned size)
{
	return size == 1 ? guest_inb(port) : size == 2 ? guest_inw(port) : guest_inl(port);
}

static void mode_pio(void)
{
	for (unsigned size = 1; size <= 4; size *= 2) {
		uint16_t port = (uint16_t)(0x510 + size * 2);
		uint32_t v = (uint32_t)(0xC0FFEE00u + size * 0x11);
		out_n(port, size, v);
		uint32_t r = in_n(port, size);
		guest_check(r == (v & mask(size)), size == 1 ? "pio write/read 1" : size == 2 ? "pio write/read 2" : "pio write/read 4", r, v & mask(size));
	}
	uint32_t p = guest_inl(0x51c);
	guest_check(p == (uint32_t)testdm_pattern(0x51c, 0), "pio unwritten 4", p, (uint32_t)testdm_pattern(0x51c, 0));
	uint8_t pb = guest_inb(0x51f);
	guest_check(pb == (uint8_t)testdm_pattern(0x51f, 0), "pio unwritten 1", pb, (uint8_t)testdm_pattern(0x51f, 0));
}

static void mode_mmio(void)
{
	uintptr_t base = 0xE0000000u;
	guest_write8(base + 1, 0x5a);
	guest_check(guest_read8(base + 1) == 0x5a, "mmio write/read 1", guest_read8(base + 1), 0x5a);
	guest_write16(base + 0x10, 0xbeef);
	guest_check(guest_read16(base + 0x10) == 0xbeef, "mmio write/read 2", guest_read16(base + 0x10), 0xbeef);
	guest_write32(base + 0x20, 0xdeadbeefu);
	guest_check(guest_read32(base + 0x20) == 0xdeadbeefu, "mmio write/read 4", guest_read32(base + 0x20), 0xdeadbeefu);
	guest_write64(base + 0x40, 0x0123456789abcdefULL);
	uint64_t r = guest_read64(base + 0x40);
	guest_check(r == 0x0123456789abcdefULL, "mmio write/read 8", r, 0x0123456789abcdefULL);
	uint64_t p = guest_read64(base + 0x100);
	guest_check(p == testdm_pattern(base + 0x100, 0), "mmio unwritten 8", p, testdm_pattern(base + 0x100, 0));
	uint32_t p4 = guest_read32(base + 0xffc);
	guest_check(p4 == (uint32_t)testdm_pattern(base + 0xffc, 0), "mmio unwritten 4", p4, (uint32_t)testdm_pattern(base + 0xffc, 0));
}

static uint64_t pci_addr(unsigned dev, unsigned reg)
{
	return ((uint64_t)(dev << 3) << 32) | reg;
}

static void mode_pci(void)
{
	guest_outl(0xcf8, 0x80000000u | (3u << 11) | 0x10);
	guest_outl(0xcfc, 0xfebc0000u);
	uint32_t r = guest_inl(0xcfc);
	guest_check(r == 0xfebc0000u, "pci config dword", r, 0xfebc0000u);
	guest_outl(0xcf8, 0x80000000u | (3u << 11) | 0x04);
	guest_outw(0xcfe, 0x1234);
	uint16_t w = guest_inw(0xcfe);
	guest_check(w == 0x1234, "pci config word at +2", w, 0x1234);
	guest_outb(0xcfd, 0x56);
	uint8_t b = guest_inb(0xcfd);
	guest_check(b == 0x56, "pci config byte at +1", b, 0x56);
	guest_outl(0xcf8, 0x80000000u | (3u << 11) | 0x00);
	uint32_t id = guest_inl(0xcfc);
	uint32_t want = (uint32_t)testdm_pattern(pci_addr(3, 0), 0);
	guest_check(id == want, "pci config unwritten", id, want);
	guest_outl(0xcf8, 0x80000000u | (4u << 11) | 0x00);
	uint32_t none = guest_inl(0xcfc);
	guest_check(none == 0xffffffffu, "pci no device", none, 0xffffffffu);
	uint32_t latch = guest_inl(0xcf8);
	guest_check(latch == (0x80000000u | (4u << 11)), "pci latch reads back", latch, 0x80000000u | (4u << 11));
}

static void mode_buffered(void)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < 500; i++) {
		uint32_t v = i * 2654435761u;
		unsigned size = 1u << (i % 3);
		out_n(0x520, size, v);
		sum = testdm_fold(sum, v & mask(size));
		uint64_t m = (uint64_t)v << 32 | (i ^ 0x5555);
		unsigned msize = 1u << (i % 4);
		if (msize == 8)
			guest_write64(0xA0000, m);
		else if (msize == 4)
			guest_write32(0xA0000, (uint32_t)m);
		else if (msize == 2)
			guest_write16(0xA0000, (uint16_t)m);
		else
			guest_write8(0xA0000, (uint8_t)m);
		sum = testdm_fold(sum, m & mask(msize));
	}
	/* A synchronous read comes after every posted write before it. */
	uint32_t got = guest_inl(0x520);
	guest_check(got == (uint32_t)sum, "buffered writes complete and in order", got, (uint32_t)sum);
}

static void mode_two(void)
{
	uint32_t a = guest_inl(0x510), b = guest_inl(0x540);
	guest_check(a == (uint32_t)testdm_pattern(0x510, 1), "server 1 answers its range", a, (uint32_t)testdm_pattern(0x510, 1));
	guest_check(b == (uint32_t)testdm_pattern(0x540, 2), "server 2 answers its range", b, (uint32_t)testdm_pattern(0x540, 2));
}

static void mode_disabled(void)
{
	guest_outl(0x530, 0x1234);
	uint32_t r = guest_inl(0x530);
	guest_check(r == 0xffffffffu, "disabled server gets nothing", r, 0xffffffffu);
}

static volatile uint64_t smp_bad, smp_done;

static void smp_work(unsigned cpu)
{
	uint16_t port = (uint16_t)(0x510 + 4 * cpu);
	uint64_t bad = 0;
	for (uint32_t i = 0; i < 2000; i++) {
		uint32_t v = (cpu << 24) | i;
		guest_outl(port, v);
		bad += guest_inl(port) != v;
	}
	guest_atomic_add(&smp_bad, bad);
	guest_atomic_inc(&smp_done);
}

/*
 * Run @work on every CPU at once (the APs started, the BSP itself) and wait
 * until @done counts them all: the number of CPUs, or 0 if fewer than 2.
 */
static int on_every_cpu(void (*work)(unsigned), volatile uint64_t *done)
{
	int n = guest_smp_start(work);
	if (n < 2) {
		guest_check(false, "this mode needs 2 or more CPUs", (uint64_t)n, 2);
		return 0;
	}
	work(0);
	while (guest_atomic_load(done) < (uint64_t)n)
		guest_pause();
	return n;
}

/*
 * Every CPU does its 2000 round trips at once, then testdm's control port
 * (0x5e0, command 10) reads the server's count of requests a vCPU slept for
 * (LIST_SERVERS, shown by ioreqctl servers): there, and at most one per
 * request. How many depends on how busy the cores are (a vCPU sleeps when
 * the model has no core), so only the bound is checked.
 */
#define SLEEPS_CTL_PORT 0x5e0

static void mode_smp_sleeps(void)
{
	int n = on_every_cpu(smp_work, &smp_done);
	if (!n)
		return;
	guest_check(smp_bad == 0, "concurrent round trips from every vCPU", smp_bad, 0);
	guest_outl(SLEEPS_CTL_PORT, 10u << 24);
	int32_t sleeps = (int32_t)guest_inl(SLEEPS_CTL_PORT);
	uint64_t requests = (uint64_t)n * 2000 * 2;
	guest_printf("ioreq: %d cpus, %u requests, a vCPU slept for %d\n", n, (unsigned)requests,
		     sleeps);
	guest_check(sleeps >= 0 && (uint64_t)sleeps <= requests,
		    "sleeps counted, at most one per request", (uint64_t)sleeps, requests);
}

static void mode_smp(void)
{
	int n = on_every_cpu(smp_work, &smp_done);
	if (!n)
		return;
	guest_check(smp_bad == 0, "concurrent round trips from every vCPU", smp_bad, 0);
	guest_printf("ioreq: %d cpus did 2000 round trips each\n", n);
}

/*
 * I7 under concurrency: every vCPU posts SMP_POSTS writes (1, 2 and 4 bytes)
 * to its own port of one buffered range at once, then reads that port back
 * synchronously: testdm --sum-each folds each port's writes in arrival
 * order, so the read equals the vCPU's own fold only if every posted write
 * arrived exactly once and in order, whoever else shared the ring.
 */
#define SMP_POSTS 10000
static volatile uint64_t post_bad, post_done;

static void post_work(unsigned cpu)
{
	uint16_t port = (uint16_t)(0x520 + cpu);
	uint64_t sum = 0;
	for (uint32_t i = 0; i < SMP_POSTS; i++) {
		uint32_t v = (cpu << 28) ^ (i * 2654435761u);
		unsigned size = 1u << (i % 3);
		out_n(port, size, v);
		sum = testdm_fold(sum, v & mask(size));
	}
	uint32_t got = guest_inl(port);
	if (got != (uint32_t)sum) {
		guest_printf("ioreq: vCPU %u: port 0x%x checksum 0x%x, want 0x%x\n", cpu, port, got,
			     (uint32_t)sum);
		guest_atomic_inc(&post_bad);
	}
	guest_atomic_inc(&post_done);
}

static void mode_smp_buffered(void)
{
	int n = on_every_cpu(post_work, &post_done);
	if (!n)
		return;
	guest_check(post_bad == 0, "posted writes of every vCPU arrive once and in order", post_bad, 0);
	guest_printf("ioreq: %d cpus posted %u writes each\n", n, SMP_POSTS);
}

static void mode_kill(void)
{
	guest_outl(0x510, 1);
	guest_outl(0x510, 2);
	uint32_t r = guest_inl(0x510); /* the model dies while we wait */
	guest_check(r == 0xffffffffu, "read from a killed model gets all ones", r, 0xffffffffu);
	uint32_t again = guest_inl(0x510);
	guest_check(again == 0xffffffffu, "its range is released", again, 0xffffffffu);
	static volatile uint64_t ram = 0;
	ram = 42;
	guest_check(ram == 42, "guest still runs", ram, 42);
}

/*
 * K13 (issue 11): a slow device model stalls only the vCPU that waits for
 * it. testdm --sleep-ms 1000 --sleep-port 0x510 --mark IOREQ_MARKS: the
 * model writes mark [0] when it gets the request and [1] just before it
 * answers. vCPU 0 loops at CPL3 (native on kvm_pvm) from the first mark to
 * the second; every iteration it makes there happened while vCPU 1's read
 * was held by the model, which vCPU 0 also sees (vCPU 1 never done).
 */
#define IOREQ_MARKS 0x900000ULL
#define SLOW_PORT 0x510
#define SLOW_MIN_ITERATIONS 1000 /* "made progress": ~10^8 expected in 1 s */
#define SLOW_GUARD_TICKS 60000000000ULL /* TSC ticks (~20 s): a guard against hangs only */

static volatile uint64_t slow_ready, slow_done, slow_read, slow_iters, slow_done_seen;

static void slow_ap(unsigned cpu)
{
	if (cpu != 1)
		return;
	while (!guest_atomic_load(&slow_ready))
		guest_pause();
	slow_read = guest_inl(SLOW_PORT); /* the model holds this one */
	guest_atomic_store(&slow_done, 1);
}

static long slow_user(void *arg)
{
	(void)arg;
	volatile uint64_t *m = (volatile uint64_t *)IOREQ_MARKS;
	uint64_t n = 0, seen = 0, t0 = guest_rdtsc();
	guest_atomic_store(&slow_ready, 1);
	while (!m[TESTDM_MARK_SLEEPS_BEGUN] && ((++n & 1023) || guest_rdtsc() - t0 < SLOW_GUARD_TICKS))
		;
	for (n = 0; (n & 1023) || guest_rdtsc() - t0 < SLOW_GUARD_TICKS; n++) {
		/* vCPU 1's flag first: seen set means it was done before the
		 * model had answered (x86 keeps the two loads in order). */
		uint64_t done = slow_done;
		if (m[TESTDM_MARK_SLEEPS_ANSWERED])
			break;
		seen |= done;
	}
	slow_iters = n;
	slow_done_seen = seen;
	return 0;
}

static void mode_slow(void)
{
	volatile uint64_t *m = (volatile uint64_t *)IOREQ_MARKS;
	if (guest_smp_start(slow_ap) < 2) {
		guest_check(false, "slow needs 2 vCPUs", 0, 2);
		return;
	}
	guest_run_user(slow_user, 0);
	for (uint64_t t0 = guest_rdtsc(); !guest_atomic_load(&slow_done) &&
					   guest_rdtsc() - t0 < SLOW_GUARD_TICKS;)
		guest_pause();
	guest_printf("ioreq: slow: vCPU 0 made %llu loop iterations while the model held vCPU 1's "
		     "request\n", (unsigned long long)slow_iters);
	guest_check(m[TESTDM_MARK_SLEEPS_BEGUN] == 1 && m[TESTDM_MARK_SLEEPS_ANSWERED] == 1,
		    "the model delayed exactly one request", m[TESTDM_MARK_SLEEPS_BEGUN],
		    1);
	guest_check(slow_iters >= SLOW_MIN_ITERATIONS, "K13 vCPU 0 kept running while vCPU 1 waited",
		    slow_iters, SLOW_MIN_ITERATIONS);
	guest_check(slow_done_seen == 0, "vCPU 1 waited until the model answered", slow_done_seen, 0);
	guest_check(slow_done == 1, "vCPU 1's request completed", slow_done, 1);
	guest_check(slow_read == (uint32_t)testdm_pattern(SLOW_PORT, 0), "with the model's answer",
		    slow_read, (uint32_t)testdm_pattern(SLOW_PORT, 0));
}

int guest_main(void)
{
	static const struct guest_mode modes[] = {
		{ "pio", mode_pio },
		{ "mmio", mode_mmio },
		{ "pci", mode_pci },
		{ "buffered", mode_buffered },
		{ "two", mode_two },
		{ "disabled", mode_disabled },
		{ "smp", mode_smp },
		{ "smp_buffered", mode_smp_buffered },
		{ "smp_sleeps", mode_smp_sleeps },
		{ "kill", mode_kill },
		{ "slow", mode_slow },
		{ 0, 0 },
	};
	return guest_run_mode("ioreq", modes);
}
