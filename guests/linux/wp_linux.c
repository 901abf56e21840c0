/* SPDX-License-Identifier: MIT */
/*
 * wp-linux: the seed's feature under a real kernel (DESIGN L5). A Linux
 * user program for the test initramfs, built static on the host. It takes
 * a page-aligned buffer of WP_PAGES pages plus one more, touches and
 * mlocks it, finds each page's guest-physical frame in /proc/self/pagemap
 * (root: the frame numbers are shown), announces the first WP_PAGES frames
 * one by one to wp-monitor's port (0x5f0: the frame, 0x5f4: count 1; a
 * read of 0x5f4 says 1 if taken), then writes two 8-byte values into each
 * announced page and one into the last page, never announced, reading each
 * back: "applied" (the value landed) or "blocked" (the page still holds the
 * old one). With more than one CPU online it announces and writes to the
 * first two pages from the last CPU and to the other two from CPU 0, so
 * that claims made while one vCPU runs must hold on another. It then
 * releases the frames (count 0), checks that a write to a released page
 * lands, and exits: its frames go back to Linux as ordinary RAM. Ports from CPL3 through iopl(3), as root. Each line it prints starts
 * with "wp-linux: " and says what it saw; the test compares them with what
 * wp-monitor reports. Exit 0 when every step could be done (whatever the
 * policy), 1 when one could not (no pagemap frame, no port access, an
 * announcement or release refused, an unwatched write lost).
 */
#define _GNU_SOURCE /* sched_setaffinity, sched_getcpu, CPU_SET */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#define WP_PAGES 4
#define PAGE 4096u
#define ANNOUNCE_PFN 0x5f0
#define ANNOUNCE_COUNT 0x5f4

/*
 * Print one line and wait until the console has sent it (tcdrain: Linux's
 * serial driver sends in the background, interrupt by interrupt). Then a
 * line wp-monitor prints for the next write, on the same host terminal,
 * comes after this one, never inside it.
 */
__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	tcdrain(STDOUT_FILENO);
}

/* The value a page holds at @off before the program writes to it. */
static uint64_t old_value(unsigned page, unsigned off)
{
	return 0xa0a0000000000000ULL | (uint64_t)page << 32 | off;
}

/* The value the program writes at @off of @page, for its write @n. */
static uint64_t new_value(unsigned page, unsigned off, unsigned n)
{
	return 0x5ca1ab1e00000000ULL | (uint64_t)n << 24 | (uint64_t)page << 16 | off;
}

static int frame_of(int pagemap, const void *va, uint64_t *pfn)
{
	uint64_t e;
	off_t at = (off_t)((uintptr_t)va / PAGE * sizeof(e));
	if (pread(pagemap, &e, sizeof(e), at) != (ssize_t)sizeof(e))
		return -1;
	/* bit 63: present; bits 0-54: the frame (0 without CAP_SYS_ADMIN) */
	*pfn = e & ((1ULL << 55) - 1);
	return (e >> 63) && *pfn ? 0 : -1;
}

/* Tell the monitor about one frame (count 1) or release it (count 0). */
static int announce(uint64_t pfn, uint32_t count)
{
	outl((uint32_t)pfn, ANNOUNCE_PFN);
	outl(count, ANNOUNCE_COUNT);
	return inl(ANNOUNCE_COUNT) == 1 ? 0 : -1;
}

/* Move to @cpu and say so; -1 if Linux would not run us there. */
static int run_on(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) || sched_getcpu() != cpu) {
		say("wp-linux: cannot run on cpu %d\n", cpu);
		return -1;
	}
	say("wp-linux: on cpu %d\n", cpu);
	return 0;
}

/* One 8-byte store and the load after it; prints what the page holds. */
static int write_and_read(const char *what, volatile uint64_t *p, uint64_t gpa, uint64_t v)
{
	uint64_t before = *p;
	*p = v;
	uint64_t now = *p;
	int landed = now == v;
	say("wp-linux: write %s gpa 0x%" PRIx64 " old 0x%016" PRIx64 " new 0x%016" PRIx64
	       " reads 0x%016" PRIx64 " (%s)\n", what, gpa, before, v, now,
	       landed ? "applied" : now == before ? "blocked" : "changed");
	return landed;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const size_t len = (WP_PAGES + 1) * PAGE;
	uint8_t *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		say("wp-linux: mmap: %s\n", strerror(errno));
		return 1;
	}
	/* Touch every word (the frames exist from here on), then pin them. */
	for (unsigned pg = 0; pg <= WP_PAGES; pg++)
		for (unsigned off = 0; off < PAGE; off += 8)
			*(volatile uint64_t *)(buf + pg * PAGE + off) = old_value(pg, off);
	if (mlock(buf, len)) {
		say("wp-linux: mlock: %s\n", strerror(errno));
		return 1;
	}
	int pagemap = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap < 0) {
		say("wp-linux: /proc/self/pagemap: %s\n", strerror(errno));
		return 1;
	}
	uint64_t pfn[WP_PAGES + 1];
	for (unsigned pg = 0; pg <= WP_PAGES; pg++) {
		if (frame_of(pagemap, buf + pg * PAGE, &pfn[pg])) {
			say("wp-linux: page %u: no frame in /proc/self/pagemap (not root?)\n", pg);
			return 1;
		}
		say("wp-linux: page %u va %p gpa 0x%" PRIx64 "%s\n", pg, (void *)(buf + pg * PAGE),
		       pfn[pg] * PAGE, pg == WP_PAGES ? " (not announced)" : "");
	}
	close(pagemap);
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	int last = ncpus > 1 ? (int)ncpus - 1 : 0;
	if (run_on(last))
		return 1;
	if (iopl(3)) {
		say("wp-linux: iopl(3): %s\n", strerror(errno));
		return 1;
	}
	unsigned taken = 0;
	for (unsigned pg = 0; pg < WP_PAGES; pg++) {
		int rc = announce(pfn[pg], 1);
		taken += rc == 0;
		say("wp-linux: announced page %u frame 0x%" PRIx64 ": %s\n", pg, pfn[pg],
		       rc ? "nobody took it" : "watched");
	}
	/* Two stores into each announced page, at its first and last word. */
	static const unsigned offs[2] = { 0x0, PAGE - 8 };
	unsigned applied = 0, blocked = 0, n = 0;
	for (unsigned pg = 0; pg < WP_PAGES; pg++) {
		if (pg == WP_PAGES / 2 && last && run_on(0))
			return 1;
		for (unsigned i = 0; i < 2; i++, n++) {
			volatile uint64_t *p = (volatile uint64_t *)(buf + pg * PAGE + offs[i]);
			int landed = write_and_read("watched", p, pfn[pg] * PAGE + offs[i],
						    new_value(pg, offs[i], n));
			applied += landed;
			blocked += !landed && *p == old_value(pg, offs[i]);
		}
	}
	const unsigned uoff = 0x100;
	int unwatched = write_and_read("unwatched", (volatile uint64_t *)(buf + WP_PAGES * PAGE + uoff),
				       pfn[WP_PAGES] * PAGE + uoff, new_value(WP_PAGES, uoff, n));
	say("wp-linux: %u writes to watched pages: %u applied, %u blocked; "
	       "the unwatched page's write %s\n", n, applied, blocked,
	       unwatched ? "applied" : "lost");
	/* Give the frames back before Linux may reuse them. */
	unsigned released = 0;
	for (unsigned pg = 0; pg < WP_PAGES; pg++)
		released += announce(pfn[pg], 0) == 0;
	say("wp-linux: released %u of %u pages\n", released, WP_PAGES);
	const unsigned roff = 0x800;
	int after = write_and_read("released", (volatile uint64_t *)(buf + roff), pfn[0] * PAGE + roff,
				   new_value(0, roff, n + 1));
	munlock(buf, len);
	munmap(buf, len);
	return taken == WP_PAGES && unwatched && released == WP_PAGES && after ? 0 : 1;
}
