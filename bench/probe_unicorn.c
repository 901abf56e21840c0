/* SPDX-License-Identifier: MIT */
/*
 * Probes of the libunicorn this tree is built against, for the DESIGN K
 * rules the tcg backend's workarounds rest on (raw libunicorn, no ioreqvm
 * code). Each prints one line: what was measured and the figure.
 *   K3  uc_emu_stop from a UC_HOOK_BLOCK hook, from an OUT hook and (K13)
 *       from an MMIO write callback, resuming at the RIP it stopped at:
 *       are stores before the stop done again
 *   K4  regions one engine holds before libunicorn gives up (in a child:
 *       it aborts the process at 4095), and what a region change costs:
 *       one-page RAM and MMIO map + unmap with R RAM regions in place
 *   K7  two engines on two threads doing LOCK INC on one shared page: lost
 *       increments (engines running at once are not atomic to each other)
 *   K8  code changed by the host after it was translated: does the engine
 *       run the stale code, and does uc_ctl_remove_cache (by the address
 *       the code runs at, identity-mapped here) drop it
 *   K9  a UC_MODE_64 engine given EFER = 0 and CR0 = PE (or 0, or paging
 *       on then off) by register writes: which width its code then
 *       decodes as (64, 32 or 16 bit)
 *   K10 int 0x30, a divide error and ud2 under a valid IDT: does the
 *       engine deliver through it, with and without a UC_HOOK_INTR hook
 *   K11 the pieces an MMIO region's callbacks see for 8- and 16-byte
 *       accesses and one crossing from RAM; RIP in the write-protection
 *       hook and after its stop, with and without a UC_HOOK_MEM_WRITE hook
 *   K12 RDMSR of the APIC base and of an unknown MSR, WRMSR of the APIC
 *       base, and whether RDMSR can be hooked as an instruction
 *   uc_emu_start: the cost of one stop from the block hook and restart
 * Usage: probe_unicorn
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <unicorn/unicorn.h>

#define PAGE 4096ULL

/* K4: map one-page regions with a gap between them until a map fails or the process dies. */
static void probe_regions(void)
{
	int fd[2];
	if (pipe(fd))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		uc_engine *uc;
		close(fd[0]);
		if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
			_exit(2);
		for (uint32_t n = 0; n < 100000; n++) {
			if (uc_mem_map(uc, (uint64_t)n * 2 * PAGE, PAGE, UC_PROT_ALL))
				_exit(0);
			if (write(fd[1], &n, sizeof(n)) != sizeof(n))
				_exit(3);
		}
		_exit(0);
	}
	close(fd[1]);
	uint32_t n, last = 0;
	while (read(fd[0], &n, sizeof(n)) == sizeof(n))
		last = n + 1;
	close(fd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	printf("K4: %u regions mapped, then %s\n", last,
	       WIFSIGNALED(st) ? "the process was killed by a signal (abort)"
			       : "uc_mem_map refused (no abort)");
}

/* K7: LOCK INC [0x2000] in a loop, ECX times; code at 0x1000, data shared. */
static const uint8_t lock_loop[] = {
	0xf0, 0xff, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00, /* lock incl 0x2000 */
	0xff, 0xc9,                                     /* dec ecx */
	0x75, 0xf4,                                     /* jnz -12 */
	0xf4,                                           /* hlt */
};
#define ITERS 2000000u

struct runner {
	uint8_t *code, *data;
	pthread_barrier_t *start; /* both engines made before either runs */
};

static void *run_lock_loop(void *arg)
{
	struct runner *r = arg;
	uc_engine *uc;
	bool ok = !uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
	pthread_barrier_wait(r->start);
	if (!ok)
		return NULL;
	uc_mem_map_ptr(uc, 0x1000, PAGE, UC_PROT_ALL, r->code);
	uc_mem_map_ptr(uc, 0x2000, PAGE, UC_PROT_ALL, r->data);
	uint64_t ecx = ITERS;
	uc_reg_write(uc, UC_X86_REG_RCX, &ecx);
	uc_emu_start(uc, 0x1000, 0x1000 + sizeof(lock_loop) - 1, 0, 0);
	uc_close(uc);
	return NULL;
}

static void probe_atomics(void)
{
	uint8_t *code = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *data = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memcpy(code, lock_loop, sizeof(lock_loop));
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, 2);
	struct runner r = { code, data, &start };
	pthread_t a, b;
	pthread_create(&a, NULL, run_lock_loop, &r);
	pthread_create(&b, NULL, run_lock_loop, &r);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_barrier_destroy(&start);
	uint32_t got;
	memcpy(&got, data, 4);
	printf("K7: two engines at once, %u LOCK INCs each: counter %u, %u lost\n", ITERS, got,
	       2 * ITERS - got);
}

/*
 * K8: mov eax, imm32; jmp 0x1800, with "until" 0x1800: the block that
 * holds the immediate is not the one libunicorn drops at "until" (it
 * retranslates the block at until - 1 on every start). Run, patch the
 * immediate from the host, run again; then drop the code and run again.
 */
static void probe_stale_code(void)
{
	uint8_t code[] = { 0xb8, 0x11, 0x00, 0x00, 0x00, 0xe9, 0xf6, 0x07, 0x00, 0x00 };
	uint8_t *mem = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(mem, code, sizeof(code));
	mem[0x800] = 0xf4; /* hlt, never reached */
	uc_engine *uc;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
		return;
	uc_mem_map_ptr(uc, 0x1000, PAGE, UC_PROT_ALL, mem);
	uint64_t rax[3];
	uc_emu_start(uc, 0x1000, 0x1800, 0, 0);
	uc_reg_read(uc, UC_X86_REG_RAX, &rax[0]);
	mem[1] = 0x22; /* the host changes the code */
	uc_emu_start(uc, 0x1000, 0x1800, 0, 0);
	uc_reg_read(uc, UC_X86_REG_RAX, &rax[1]);
	uc_ctl_remove_cache(uc, 0x1000, 0x100a);
	uc_emu_start(uc, 0x1000, 0x1800, 0, 0);
	uc_reg_read(uc, UC_X86_REG_RAX, &rax[2]);
	uc_close(uc);
	printf("K8: eax 0x%llx, after a host write 0x%llx (%s), after remove_cache 0x%llx (%s)\n",
	       (unsigned long long)rax[0], (unsigned long long)rax[1],
	       rax[1] == 0x11 ? "stale" : "new", (unsigned long long)rax[2],
	       rax[2] == 0x22 ? "new" : "still stale");
}

/* An engine with 64 KiB of RAM at 0 (host buffer *mem), code at 0x1000, data at 0x2000. */
static uc_engine *small_engine(uint8_t **mem, const uint8_t *code, size_t len)
{
	uc_engine *uc;
	*mem = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*mem == MAP_FAILED || uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
		return NULL;
	memcpy(*mem + 0x1000, code, len);
	if (uc_mem_map_ptr(uc, 0, 16 * PAGE, UC_PROT_ALL, *mem)) {
		uc_close(uc);
		return NULL;
	}
	return uc;
}

static void close_engine(uc_engine *uc, uint8_t *mem)
{
	uc_close(uc);
	munmap(mem, 16 * PAGE);
}

static uint64_t reg(uc_engine *uc, int r)
{
	uint64_t v = 0;
	uc_reg_read(uc, r, &v);
	return v;
}

static void set_reg(uc_engine *uc, int r, uint64_t v)
{
	uc_reg_write(uc, r, &v);
}

/* CPU time of this thread (the engines run on it): steady on a busy machine. */
static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* K3/K13: how often a hook asks for a stop, and how often it was called. */
struct stopper {
	unsigned every, calls;
};

static void stop_in_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	struct stopper *s = opaque;
	if (++s->calls % s->every == 0)
		uc_emu_stop(uc);
}

static void stop_in_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *opaque)
{
	struct stopper *s = opaque;
	if (++s->calls % s->every == 0)
		uc_emu_stop(uc);
}

static uint64_t mmio_read0(uc_engine *uc, uint64_t off, unsigned size, void *opaque)
{
	return 0;
}

static void stop_in_mmio(uc_engine *uc, uint64_t off, unsigned size, uint64_t value, void *opaque)
{
	struct stopper *s = opaque;
	if (++s->calls % s->every == 0)
		uc_emu_stop(uc);
}

/*
 * Run a loop of RCX iterations whose HLT is at @hlt from 0x1000, resuming at
 * RIP after every stop, at most @max_runs times. No "until" (0, as the tcg
 * backend runs: libunicorn drops the code at until - 1 on every start); the
 * HLT ends a run with RIP past it. Returns the runs made; *left is RCX at
 * the end (0: the loop finished).
 */
static unsigned run_resuming(uc_engine *uc, uint64_t hlt, unsigned max_runs, uint64_t *left)
{
	uint64_t rip = 0x1000;
	unsigned runs = 0;
	while (rip != hlt + 1 && runs < max_runs) {
		runs++;
		if (uc_emu_start(uc, rip, 0, 0, 0))
			break;
		rip = reg(uc, UC_X86_REG_RIP);
	}
	*left = reg(uc, UC_X86_REG_RCX);
	return runs;
}

/* K3 and K13: a stop from the block hook, an OUT hook, an MMIO write callback. */
static void probe_stops(void)
{
	enum { N = 10000 };
	/* inc qword [0x2000]; dec rcx; jnz; hlt (one block an iteration) */
	static const uint8_t block_loop[] = { 0x48, 0xff, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00,
					      0x48, 0xff, 0xc9, 0x75, 0xf3, 0xf4 };
	/* inc qword [0x2000]; out 0x80, al; inc qword [0x2008]; dec rcx; jnz; hlt */
	static const uint8_t out_loop[] = { 0x48, 0xff, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00,
					    0xe6, 0x80,
					    0x48, 0xff, 0x04, 0x25, 0x08, 0x20, 0x00, 0x00,
					    0x48, 0xff, 0xc9, 0x75, 0xe9, 0xf4 };
	/* inc qword [0x2000]; mov [0x10000], eax; inc qword [0x2008]; dec rcx; jnz; hlt */
	static const uint8_t mmio_loop[] = { 0x48, 0xff, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00,
					     0x89, 0x04, 0x25, 0x00, 0x00, 0x01, 0x00,
					     0x48, 0xff, 0x04, 0x25, 0x08, 0x20, 0x00, 0x00,
					     0x48, 0xff, 0xc9, 0x75, 0xe4, 0xf4 };
	static const struct {
		const char *what;
		const uint8_t *code;
		size_t len;
		unsigned every;
	} cases[] = {
		{ "block hook, every 7th block", block_loop, sizeof(block_loop), 7 },
		{ "OUT hook, every OUT", out_loop, sizeof(out_loop), 1 },
		{ "OUT hook, every 7th OUT", out_loop, sizeof(out_loop), 7 },
		{ "MMIO write callback (K13), every write", mmio_loop, sizeof(mmio_loop), 1 },
		{ "MMIO write callback (K13), every 7th write", mmio_loop, sizeof(mmio_loop), 7 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *mem;
		uc_engine *uc = small_engine(&mem, cases[i].code, cases[i].len);
		if (!uc)
			return;
		struct stopper st = { .every = cases[i].every };
		uc_hook h;
		if (cases[i].code == block_loop)
			uc_hook_add(uc, &h, UC_HOOK_BLOCK, stop_in_block, &st, 1, 0);
		else if (cases[i].code == out_loop)
			uc_hook_add(uc, &h, UC_HOOK_INSN, stop_in_out, &st, 1, 0, UC_X86_INS_OUT);
		else
			uc_mmio_map(uc, 0x10000, PAGE, mmio_read0, NULL, stop_in_mmio, &st);
		set_reg(uc, UC_X86_REG_RCX, N);
		uint64_t left;
		unsigned runs = run_resuming(uc, 0x1000 + cases[i].len - 1, 20 * N, &left);
		uint64_t before, after;
		memcpy(&before, mem + 0x2000, 8);
		memcpy(&after, mem + 0x2008, 8);
		uint64_t done = N - left;
		printf("K3: stop from the %s, %u iterations: %llu done in %u runs, store before "
		       "the stop %llu times (%s)", cases[i].what, N, (unsigned long long)done, runs,
		       (unsigned long long)before, before == done ? "exact" : "repeated");
		if (cases[i].code != block_loop)
			printf(", store after it %llu, hook called %u times", (unsigned long long)after,
			       st.calls);
		printf("%s\n", left ? " - the loop never finished (restarts forever)" : "");
		close_engine(uc, mem);
	}
}

/* The cost of one stop from the block hook and uc_emu_start again at RIP. */
static void probe_restart_cost(void)
{
	static const uint8_t block_loop[] = { 0x48, 0xff, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00,
					      0x48, 0xff, 0xc9, 0x75, 0xf3, 0xf4 };
	enum { N = 200000 };
	double t[2];
	unsigned runs = 0;
	for (int stops = 0; stops < 2; stops++) {
		uint8_t *mem;
		uc_engine *uc = small_engine(&mem, block_loop, sizeof(block_loop));
		if (!uc)
			return;
		/* Every 2nd call: the hook runs again for the block it stopped before. */
		struct stopper st = { .every = stops ? 2 : 1u << 31 };
		uc_hook h;
		uc_hook_add(uc, &h, UC_HOOK_BLOCK, stop_in_block, &st, 1, 0);
		set_reg(uc, UC_X86_REG_RCX, N);
		uint64_t left;
		double a = cpu_ns();
		runs = run_resuming(uc, 0x1000 + sizeof(block_loop) - 1, 4 * N, &left);
		t[stops] = cpu_ns() - a;
		close_engine(uc, mem);
	}
	printf("restart: one stop from the block hook and uc_emu_start again: %.2f us CPU "
	       "(%u loop iterations: %.1f ms in %u runs, %.1f ms in one)\n",
	       (t[1] - t[0]) / runs / 1e3, N, t[1] / 1e6, runs, t[0] / 1e6);
}

/*
 * K9: "xor eax, eax; mov eax, 0x11223344; inc eax (REX in 64-bit code); nop;
 * hlt" decodes as 0x11223344 in 64-bit code, 0x11223345 in 32-bit and
 * 0x3345 in 16-bit code (mov ax, 0x3344; and dl, [bx+di]; inc ax). Register
 * writes, in order: CR0 = PE (or 0), or first CR4 = PAE and CR0 = PG|PE
 * (paging on, as the stub does) then CR0 = PE (or 0); then EFER = 0 and
 * CR4 = 0. The last case then writes CS = 0x100 and starts at IP 0: the
 * code (at 0x1000) runs only if the CS base follows the selector.
 */
static void probe_modes(void)
{
	static const uint8_t code[] = { 0x31, 0xc0, 0xb8, 0x44, 0x33, 0x22, 0x11, 0x40, 0x90, 0xf4 };
	static const struct {
		const char *what;
		uint64_t cr4_first, cr0_first, cr0, cs;
	} cases[] = {
		{ "CR0 <- PE", 0, 0, 0x11, 0 },
		{ "CR0 <- 0", 0, 0, 0x10, 0 },
		{ "CR4 <- PAE, CR0 <- PG|PE, CR0 <- PE", 0x20, 0x80000011, 0x11, 0 },
		{ "CR4 <- PAE, CR0 <- PG|PE, CR0 <- 0, CS <- 0x100, IP 0", 0x20, 0x80000011, 0x10,
		  0x100 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *mem;
		uc_engine *uc = small_engine(&mem, code, sizeof(code));
		if (!uc)
			return;
		uc_err e1 = UC_ERR_OK;
		if (cases[i].cr0_first) {
			set_reg(uc, UC_X86_REG_CR4, cases[i].cr4_first);
			e1 = uc_reg_write(uc, UC_X86_REG_CR0, &cases[i].cr0_first);
		}
		uint64_t cr0 = cases[i].cr0, cr4 = 0;
		uc_err e2 = uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
		uc_x86_msr efer = { .rid = 0xc0000080, .value = 0 };
		uc_err e3 = uc_reg_write(uc, UC_X86_REG_MSR, &efer);
		uc_err e4 = uc_reg_write(uc, UC_X86_REG_CR4, &cr4);
		uc_reg_read(uc, UC_X86_REG_MSR, &efer);
		if (cases[i].cs)
			set_reg(uc, UC_X86_REG_CS, cases[i].cs);
		uc_err e = uc_emu_start(uc, cases[i].cs ? 0 : 0x1000, 0, 0, 10);
		uint64_t eax = reg(uc, UC_X86_REG_RAX) & 0xffffffff;
		const char *mode = eax == 0x11223344 ? "64-bit"
				   : eax == 0x11223345 ? "32-bit"
				   : eax == 0x3345     ? "16-bit"
						       : "? (not the code at 0x1000)";
		printf("K9: UC_MODE_64 engine, %s, EFER <- 0, CR4 <- 0 (%s): EFER reads %#llx, CR0 "
		       "%#llx; code runs as %s (eax %#llx, %s)\n", cases[i].what,
		       e1 || e2 || e3 || e4 ? "a write refused" : "all accepted",
		       (unsigned long long)efer.value, (unsigned long long)reg(uc, UC_X86_REG_CR0), mode,
		       (unsigned long long)eax, uc_strerror(e));
		close_engine(uc, mem);
	}
}

static void note_intr(uc_engine *uc, uint32_t intno, void *opaque)
{
	*(int *)opaque = (int)intno;
	uc_emu_stop(uc);
}

/* K10: a 64-bit IDT whose gates 0, 6 and 0x30 lead to a handler that marks [0x2000]. */
static void probe_idt(void)
{
	static const struct {
		const char *what;
		uint8_t code[8];
		size_t len;
	} cases[] = {
		{ "int 0x30", { 0xcd, 0x30, 0xf4 }, 3 },
		{ "divide error", { 0x31, 0xc9, 0xf7, 0xf1, 0xf4 }, 5 },
		{ "ud2", { 0x0f, 0x0b, 0xf4 }, 3 },
	};
	for (size_t i = 0; i < 3; i++) {
		for (int hooked = 0; hooked < 2; hooked++) {
			uint8_t *mem;
			uc_engine *uc = small_engine(&mem, cases[i].code, cases[i].len);
			if (!uc)
				return;
			/* mov byte [0x2000], 1; hlt */
			static const uint8_t handler[] = { 0xc6, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00,
							   0x01, 0xf4 };
			memcpy(mem + 0x1800, handler, sizeof(handler));
			uint64_t gdt[2] = { 0, 0x00af9a000000ffffULL }; /* 0x08: 64-bit code */
			memcpy(mem + 0x3000, gdt, sizeof(gdt));
			const unsigned vectors[] = { 0, 6, 0x30 };
			for (int v = 0; v < 3; v++) {
				uint8_t *g = mem + 0x4000 + 16 * vectors[v];
				g[0] = 0x00, g[1] = 0x18;    /* offset 0x1800 */
				g[2] = 0x08, g[3] = 0x00;    /* selector */
				g[4] = 0, g[5] = 0x8e;       /* present, DPL0, interrupt gate */
			}
			uc_x86_mmr gdtr = { .base = 0x3000, .limit = 15 };
			uc_x86_mmr idtr = { .base = 0x4000, .limit = 0xfff };
			uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
			uc_reg_write(uc, UC_X86_REG_IDTR, &idtr);
			set_reg(uc, UC_X86_REG_CS, 0x08);
			set_reg(uc, UC_X86_REG_RSP, 0x8000);
			int seen = -1;
			uc_hook h;
			if (hooked)
				uc_hook_add(uc, &h, UC_HOOK_INTR, note_intr, &seen, 1, 0);
			uc_err e = uc_emu_start(uc, 0x1000, 0, 0, 20);
			printf("K10: %s under a valid IDT, %s: %s, handler %s, RIP %#llx",
			       cases[i].what, hooked ? "UC_HOOK_INTR hook" : "no hook", uc_strerror(e),
			       mem[0x2000] ? "ran" : "not run",
			       (unsigned long long)reg(uc, UC_X86_REG_RIP));
			if (hooked)
				printf(", hook saw %d", seen);
			printf("\n");
			close_engine(uc, mem);
		}
	}
}

/* K11: MMIO pieces. */
struct pieces {
	unsigned n;
	char text[64];
};

static void piece(struct pieces *p, const char *rw, unsigned size)
{
	size_t l = strlen(p->text);
	if (l + 8 < sizeof(p->text))
		snprintf(p->text + l, sizeof(p->text) - l, "%s%s%u", p->n ? "+" : "", rw, size);
	p->n++;
}

static uint64_t piece_read(uc_engine *uc, uint64_t off, unsigned size, void *opaque)
{
	piece(opaque, "r", size);
	return 0;
}

static void piece_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t value, void *opaque)
{
	piece(opaque, "w", size);
}

static bool wprot_rip(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
		      void *opaque)
{
	*(uint64_t *)opaque = reg(uc, UC_X86_REG_RIP);
	return false;
}

static void nothing(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
		    void *opaque)
{
}

static void probe_trapped(void)
{
	static const struct {
		const char *what;
		uint8_t code[12];
		size_t len;
	} cases[] = {
		{ "8-byte write", { 0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x01, 0x00, 0xf4 }, 9 },
		{ "8-byte read", { 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x01, 0x00, 0xf4 }, 9 },
		{ "16-byte SSE write", { 0xf3, 0x0f, 0x7f, 0x04, 0x25, 0x00, 0x00, 0x01, 0x00, 0xf4 },
		  10 },
		{ "8-byte write from RAM into it", { 0x48, 0x89, 0x04, 0x25, 0xfc, 0xff, 0x00, 0x00,
						      0xf4 }, 9 },
	};
	printf("K11: MMIO callback pieces:");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *mem;
		uc_engine *uc = small_engine(&mem, cases[i].code, cases[i].len);
		if (!uc)
			return;
		struct pieces p = { 0 };
		uc_mmio_map(uc, 0x10000, PAGE, piece_read, &p, piece_write, &p);
		uc_err e = uc_emu_start(uc, 0x1000, 0x1000 + cases[i].len - 1, 0, 0);
		printf("%s %s %s%s", i ? ";" : "", cases[i].what, p.text, e ? uc_strerror(e) : "");
		close_engine(uc, mem);
	}
	printf("\n");
	/* mov qword [0x2000], 1; mov qword [0x5000], 2 (RO page); hlt */
	static const uint8_t code[] = { 0x48, 0xc7, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00, 1, 0, 0, 0,
					0x48, 0xc7, 0x04, 0x25, 0x00, 0x50, 0x00, 0x00, 2, 0, 0, 0,
					0xf4 };
	for (int hooked = 0; hooked < 2; hooked++) {
		uint8_t *mem = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uc_engine *uc;
		if (mem == MAP_FAILED || uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
			return;
		memcpy(mem + 0x1000, code, sizeof(code));
		uc_mem_map_ptr(uc, 0, 5 * PAGE, UC_PROT_ALL, mem);
		uc_mem_map_ptr(uc, 5 * PAGE, PAGE, UC_PROT_READ | UC_PROT_EXEC, mem + 5 * PAGE);
		uint64_t in_hook = 0;
		uc_hook h;
		uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE_PROT, wprot_rip, &in_hook, 1, 0);
		if (hooked) /* on a byte never written, as the tcg backend does */
			uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE, nothing, NULL, 0xfffff000, 0xfffff000);
		uc_err e = uc_emu_start(uc, 0x1000, 0x1000 + sizeof(code) - 1, 0, 0);
		printf("K11: write to a RO page (insn at 0x100c, block at 0x1000), %s: RIP in the "
		       "protection hook %#llx, after the stop %#llx (%s), the store before it %s\n",
		       hooked ? "with a UC_HOOK_MEM_WRITE hook elsewhere" : "no UC_HOOK_MEM_WRITE hook",
		       (unsigned long long)in_hook, (unsigned long long)reg(uc, UC_X86_REG_RIP),
		       uc_strerror(e), mem[0x2000] == 1 ? "done" : "not done");
		uc_close(uc);
		munmap(mem, 16 * PAGE);
	}
}

static void on_rdmsr(uc_engine *uc, void *opaque)
{
}

/* K12: RDMSR/WRMSR. */
static void probe_msr(void)
{
	static const uint8_t code[] = {
		0xb9, 0x1b, 0x00, 0x00, 0x00,                   /* mov ecx, 0x1b */
		0x0f, 0x32,                                     /* rdmsr */
		0x89, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00,       /* mov [0x2000], eax */
		0x89, 0x14, 0x25, 0x04, 0x20, 0x00, 0x00,       /* mov [0x2004], edx */
		0xb8, 0x00, 0x09, 0xe0, 0xfe, 0x31, 0xd2,       /* mov eax, 0xfee00900; xor edx, edx */
		0x0f, 0x30, 0x0f, 0x32,                         /* wrmsr; rdmsr */
		0x89, 0x04, 0x25, 0x08, 0x20, 0x00, 0x00,       /* mov [0x2008], eax */
		0xb9, 0x78, 0x56, 0x34, 0x12,                   /* mov ecx, 0x12345678 */
		0xb8, 0xaa, 0xaa, 0xaa, 0xaa,                   /* mov eax, 0xaaaaaaaa */
		0x0f, 0x32,                                     /* rdmsr */
		0x89, 0x04, 0x25, 0x0c, 0x20, 0x00, 0x00,       /* mov [0x200c], eax */
		0xc6, 0x04, 0x25, 0x10, 0x20, 0x00, 0x00, 0x01, /* mov byte [0x2010], 1 */
		0xf4,
	};
	uint8_t *mem;
	uc_engine *uc = small_engine(&mem, code, sizeof(code));
	if (!uc)
		return;
	uc_hook h;
	uc_err hook_err = uc_hook_add(uc, &h, UC_HOOK_INSN, on_rdmsr, NULL, 1, 0, UC_X86_INS_RDMSR);
	int seen = -1;
	uc_hook_add(uc, &h, UC_HOOK_INTR, note_intr, &seen, 1, 0);
	memset(mem + 0x2000, 0x55, 16);
	uc_err e = uc_emu_start(uc, 0x1000, 0x1000 + sizeof(code) - 1, 0, 0);
	uint32_t v[4];
	memcpy(v, mem + 0x2000, sizeof(v));
	printf("K12: RDMSR 0x1b reads %#x:%08x; after WRMSR 0xfee00900 reads %#x; unknown MSR "
	       "0x12345678 reads %#x, %s (%s, exception %d); UC_HOOK_INSN on RDMSR: %s\n",
	       v[1], v[0], v[2], v[3], mem[0x2010] ? "no fault" : "stopped before the end",
	       uc_strerror(e), seen, uc_strerror(hook_err));
	close_engine(uc, mem);
}

/*
 * K4 costs: one-page RAM regions two pages apart, and at R of them in
 * place, 20 unmaps + maps of one of them and of a one-page MMIO region
 * (CPU time). An unmap comes first: once a RAM region was
 * freed, libunicorn 2.1 looks for room for a new one the slow way.
 */
static void probe_region_costs(void)
{
	uc_engine *uc;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
		return;
	static const unsigned at[] = { 250, 500, 1000, 2000 };
	uint8_t *mem = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t mmio_at = 0x100000000ULL;
	unsigned n = 0;
	printf("K4: one-page map + unmap with R RAM regions in place:");
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		for (; n < at[i]; n++)
			if (uc_mem_map_ptr(uc, (uint64_t)n * 2 * PAGE, PAGE, UC_PROT_ALL, mem))
				return;
		enum { K = 20 };
		double a = cpu_ns();
		for (int k = 0; k < K; k++) {
			uc_mem_unmap(uc, 0, PAGE);
			uc_mem_map_ptr(uc, 0, PAGE, UC_PROT_ALL, mem);
		}
		double b = cpu_ns();
		for (int k = 0; k < K; k++) {
			uc_mmio_map(uc, mmio_at, PAGE, mmio_read0, NULL, NULL, NULL);
			uc_mem_unmap(uc, mmio_at, PAGE);
		}
		double c = cpu_ns();
		printf("%s R=%u RAM %.0f us, MMIO %.0f us", i ? ";" : "", n, (b - a) / K / 1e3,
		       (c - b) / K / 1e3);
	}
	printf("\n");
	uc_close(uc);
	munmap(mem, PAGE);
}

int main(void)
{
	unsigned major, minor, v = uc_version(&major, &minor);
	printf("libunicorn %u.%u.%u\n", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff);
	fflush(stdout);
	probe_stops();
	probe_restart_cost();
	probe_regions();
	fflush(stdout);
	probe_region_costs();
	probe_atomics();
	probe_stale_code();
	probe_modes();
	probe_idt();
	probe_trapped();
	probe_msr();
	return 0;
}
