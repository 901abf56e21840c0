/* SPDX-License-Identifier: MIT */
/*
 * K7 (issue 11): how to run several tcg vCPUs when only one may execute at
 * a time. Raw libunicorn 2.0.1 + pthreads, no ioreqvm code. Every engine is
 * a UC_MODE_64 engine with the same host buffer mapped at the same guest
 * address (a code page and a data page); each runs `lock incq [rdi]` on one
 * shared counter N times and then `hlt`. A UC_HOOK_BLOCK callback checks a
 * per-engine atomic flag word and answers a stop request with uc_emu_stop
 * from inside the hook (K3: never from another thread, never a timeout); a
 * stopped engine resumes with uc_emu_start at its current RIP.
 *
 *   A  one driver thread round-robins the engines; a ticker thread sets the
 *      running engine's stop flag every slice (only while >1 is runnable).
 *   B  a thread per engine and a FIFO token (mutex + per-thread condition
 *      variable, a queue of waiters): only the holder runs its engine; the
 *      head waiter, once the holder had the token for a slice, sets the
 *      holder's stop flag; the holder stops at its next block, passes the
 *      token to the head and queues again at the back.
 *   B+spin  the same, but the head waiter spins (up to 200 us) for the token
 *      after setting the flag instead of sleeping, and then needs no wake-up.
 *
 * Handoff cost = from the stopping block hook of one engine to the first
 * block hook of the next one (the stop, the return from uc_emu_start, the
 * scheme's own work, the next uc_emu_start). Also: the cost of the flag
 * check itself (no block hook vs the hook), and two probes for K13 (a vCPU
 * waiting inside an MMIO callback while others run).
 *
 * Usage: bench_tcg_sched [RUNS [INCREMENTS]] -> Markdown tables on stdout.
 * Defaults: 3 runs per row (medians shown), 3000000 increments per run in
 * total (split among the engines).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unicorn/unicorn.h>
#include <x86intrin.h>

#define MAXE 4
#define BASE 0x100000ull	  /* code page */
#define DATA (BASE + 0x1000)	  /* data page: the shared counter */
#define MMIO (BASE + 0x2000)	  /* probe engine only */
#define LOOP BASE		  /* lock incq [rdi]; dec rcx; jnz; hlt */
#define LOOP_END (LOOP + 10)	  /* RIP after the hlt */
#define ALU (BASE + 0x200)	  /* add rax, rcx; dec rcx; jnz; hlt */
#define ALU_END (ALU + 9)
#define PROBE (BASE + 0x400)	  /* mov rax, [rsi]; jmp LOOP */
#define UNTIL (BASE + 0xf00)	  /* never reached */
#define SPIN_NS 200000

#define F_STOP 1u
#define F_STAMP 2u

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, uc_err e)
{
	fprintf(stderr, "bench_tcg_sched: %s: %s\n", what, uc_strerror(e));
	exit(1);
}

static uint8_t *ram; /* 2 pages, mapped into every engine at BASE */
#define COUNTER ((_Atomic uint64_t *)(ram + 0x1000))

struct eng {
	uc_engine *uc;
	_Atomic unsigned flags;
	int id;
	uint64_t rip;
	bool done;
	/* scheme B */
	pthread_cond_t cv;
	atomic_bool granted;
	bool spinning;
	pthread_t th;
} __attribute__((aligned(64)));

static struct eng eng[MAXE];

/* Handoff accounting: only one engine runs at a time, so these are written
 * by one thread at a time (scheme B: ordered by the token's mutex). */
static _Atomic uint64_t last_stop_ns;
static _Atomic int last_stop_eng = -1;
static _Atomic uint64_t gap_sum, gap_n, nstops;

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct eng *e = user;
	unsigned f = atomic_load_explicit(&e->flags, memory_order_relaxed);
	if (__builtin_expect(!f, 1))
		return;
	f = atomic_fetch_and(&e->flags, 0u); /* take what is pending */
	if (f & F_STAMP) {
		int prev = atomic_load_explicit(&last_stop_eng, memory_order_relaxed);
		if (prev >= 0 && prev != e->id) {
			atomic_fetch_add_explicit(&gap_sum, now_ns() - last_stop_ns,
						  memory_order_relaxed);
			atomic_fetch_add_explicit(&gap_n, 1, memory_order_relaxed);
		}
		atomic_store_explicit(&last_stop_eng, -1, memory_order_relaxed);
	}
	if (f & F_STOP) {
		atomic_store_explicit(&last_stop_ns, now_ns(), memory_order_relaxed);
		atomic_store_explicit(&last_stop_eng, e->id, memory_order_relaxed);
		atomic_fetch_add_explicit(&nstops, 1, memory_order_relaxed);
		uc_emu_stop(uc);
	}
}

/* The flag check plus a deadline read from the TSC (a scheme with no
 * ticker thread at all); only timed, never used to schedule. */
static uint64_t tsc_deadline = UINT64_MAX;
static void hook_block_tsc(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct eng *e = user;
	if (__builtin_expect(!atomic_load_explicit(&e->flags, memory_order_relaxed) &&
			     __rdtsc() < tsc_deadline, 1))
		return;
	uc_emu_stop(uc);
}

static uc_engine *engine_new(void (*hook)(uc_engine *, uint64_t, uint32_t, void *), void *user)
{
	uc_engine *uc;
	uc_hook h;
	uc_err e = uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
	if (e)
		die("uc_open", e);
	if ((e = uc_mem_map_ptr(uc, BASE, 0x2000, UC_PROT_ALL, ram)))
		die("uc_mem_map_ptr", e);
	if (hook && (e = uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)hook, user, 1, 0)))
		die("uc_hook_add", e);
	return uc;
}

static void set_loop(uc_engine *uc, uint64_t n)
{
	uint64_t rdi = DATA, rax = 0;
	uc_reg_write(uc, UC_X86_REG_RCX, &n);
	uc_reg_write(uc, UC_X86_REG_RDI, &rdi);
	uc_reg_write(uc, UC_X86_REG_RAX, &rax);
}

/* Runs an engine from its RIP until it stops or halts; true once halted. */
static bool run_slice(struct eng *e)
{
	uc_err err = uc_emu_start(e->uc, e->rip, UNTIL, 0, 0);
	if (err)
		die("uc_emu_start", err);
	uc_reg_read(e->uc, UC_X86_REG_RIP, &e->rip);
	if (e->rip >= LOOP_END - 1) { /* at or past the hlt: check it ran */
		uint64_t rcx;
		uc_reg_read(e->uc, UC_X86_REG_RCX, &rcx);
		if (e->rip == LOOP_END && rcx == 0)
			return true;
	}
	return false;
}

static void reset(int n, uint64_t per)
{
	atomic_store(COUNTER, 0);
	for (int i = 0; i < n; i++) {
		eng[i].rip = LOOP;
		eng[i].done = false;
		atomic_store(&eng[i].flags, 0);
		atomic_store(&eng[i].granted, false);
		eng[i].spinning = false;
		set_loop(eng[i].uc, per);
	}
	last_stop_eng = -1;
	gap_sum = gap_n = nstops = 0;
}

/* ---- scheme A: one driver thread, a ticker thread ---- */

static _Atomic int cur = -1, nrunnable;
static atomic_bool ticker_quit;
static uint64_t slice_ns;

static void *ticker(void *arg)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	while (!atomic_load(&ticker_quit)) {
		ts.tv_nsec += (long)slice_ns;
		while (ts.tv_nsec >= 1000000000L) {
			ts.tv_nsec -= 1000000000L;
			ts.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		int c = atomic_load(&cur);
		if (atomic_load(&nrunnable) > 1 && c >= 0)
			atomic_fetch_or(&eng[c].flags, F_STOP);
	}
	return NULL;
}

static void scheme_a(int n)
{
	pthread_t t;
	atomic_store(&nrunnable, n);
	atomic_store(&ticker_quit, false);
	pthread_create(&t, NULL, ticker, NULL);
	while (atomic_load(&nrunnable) > 0) {
		for (int i = 0; i < n; i++) {
			if (eng[i].done)
				continue;
			atomic_store(&cur, i);
			atomic_fetch_or(&eng[i].flags, F_STAMP);
			if (run_slice(&eng[i])) {
				eng[i].done = true;
				atomic_fetch_sub(&nrunnable, 1);
			}
		}
	}
	atomic_store(&cur, -1);
	atomic_store(&ticker_quit, true);
	pthread_join(t, NULL);
}

/* ---- scheme B: a thread per engine, a FIFO token ---- */

static struct {
	pthread_mutex_t m;
	int holder; /* engine id, -1 for none */
	uint64_t grant_ns, grant_gen, kicked_gen;
	int q[MAXE];
	unsigned qh, qn;
} tok = { .m = PTHREAD_MUTEX_INITIALIZER, .holder = -1 };
static bool spin_mode;

static void tok_acquire(struct eng *e)
{
	pthread_mutex_lock(&tok.m);
	if (tok.holder < 0 && tok.qn == 0) {
		tok.holder = e->id;
		tok.grant_ns = now_ns();
		tok.grant_gen++;
		pthread_mutex_unlock(&tok.m);
		return;
	}
	tok.q[(tok.qh + tok.qn++) % MAXE] = e->id;
	while (!atomic_load(&e->granted)) {
		bool head = tok.q[tok.qh] == e->id;
		if (!head || tok.kicked_gen == tok.grant_gen) {
			pthread_cond_wait(&e->cv, &tok.m);
			continue;
		}
		uint64_t dl = tok.grant_ns + slice_ns;
		if (now_ns() < dl) {
			struct timespec ts = { (time_t)(dl / 1000000000u), (long)(dl % 1000000000u) };
			pthread_cond_timedwait(&e->cv, &tok.m, &ts);
			continue;
		}
		/* The holder had its slice: stop it at its next block. */
		atomic_fetch_or(&eng[tok.holder].flags, F_STOP);
		tok.kicked_gen = tok.grant_gen;
		if (spin_mode) {
			e->spinning = true;
			pthread_mutex_unlock(&tok.m);
			uint64_t t0 = now_ns();
			while (!atomic_load_explicit(&e->granted, memory_order_acquire) &&
			       now_ns() - t0 < SPIN_NS)
				__builtin_ia32_pause();
			pthread_mutex_lock(&tok.m);
			e->spinning = false;
		}
	}
	atomic_store(&e->granted, false);
	pthread_mutex_unlock(&tok.m);
}

static void tok_release(void)
{
	struct eng *next = NULL, *head = NULL;
	pthread_mutex_lock(&tok.m);
	if (tok.qn) {
		next = &eng[tok.q[tok.qh]];
		tok.qh = (tok.qh + 1) % MAXE;
		tok.qn--;
		tok.holder = next->id;
		tok.grant_ns = now_ns();
		tok.grant_gen++;
		atomic_store_explicit(&next->granted, true, memory_order_release);
		if (tok.qn) /* the new head starts timing the new holder */
			head = &eng[tok.q[tok.qh]];
	} else {
		tok.holder = -1;
	}
	bool wake = next && !next->spinning;
	pthread_mutex_unlock(&tok.m);
	if (wake)
		pthread_cond_signal(&next->cv);
	if (head)
		pthread_cond_signal(&head->cv);
}

static void *vcpu_thread(void *arg)
{
	struct eng *e = arg;
	bool done;
	do {
		tok_acquire(e);
		atomic_fetch_or(&e->flags, F_STAMP);
		done = run_slice(e);
		tok_release();
	} while (!done);
	e->done = true;
	return NULL;
}

static void scheme_b(int n)
{
	tok.holder = -1;
	tok.qh = tok.qn = 0;
	tok.grant_gen = tok.kicked_gen = 0;
	for (int i = 0; i < n; i++)
		pthread_create(&eng[i].th, NULL, vcpu_thread, &eng[i]);
	for (int i = 0; i < n; i++)
		pthread_join(eng[i].th, NULL);
}

/* ---- one row ---- */

struct res {
	double incs_s, hand_s, hand_us, slice_ms;
	bool exact;
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct res run_once(char scheme, int n, uint64_t total)
{
	uint64_t per = total / (uint64_t)n;
	reset(n, per);
	spin_mode = scheme == 'S';
	uint64_t t0 = now_ns();
	if (scheme == 'A')
		scheme_a(n);
	else
		scheme_b(n);
	double s = (double)(now_ns() - t0) / 1e9;
	struct res r = { 0 };
	r.incs_s = (double)(per * (uint64_t)n) / s;
	r.exact = atomic_load(COUNTER) == per * (uint64_t)n;
	r.hand_s = (double)gap_n / s;
	r.hand_us = gap_n ? (double)gap_sum / (double)gap_n / 1e3 : 0;
	r.slice_ms = gap_n ? s * 1e3 / (double)(gap_n + 1) : 0;
	return r;
}

static const char *scheme_name(char s)
{
	return s == 'A' ? "A: one driver thread" :
	       s == 'B' ? "B: thread per engine, FIFO token" : "B+spin: head waiter spins";
}

#define NSCHEMES 3
#define NCONFIGS 5
static const char schemes[NSCHEMES] = { 'A', 'B', 'S' };
static const struct {
	int n;
	unsigned slice_ms;
} configs[NCONFIGS] = { { 1, 1 }, { 2, 1 }, { 2, 4 }, { 4, 1 }, { 4, 4 } };

/* Runs every row @runs times, the schemes interleaved run by run (so that
 * they see the same background load), then prints the rows by scheme. */
static void table(int runs, uint64_t total)
{
	static struct res r[NSCHEMES][NCONFIGS][16];
	for (int c = 0; c < NCONFIGS; c++) {
		slice_ns = (uint64_t)configs[c].slice_ms * 1000000u;
		for (int i = 0; i < runs; i++)
			for (int s = 0; s < NSCHEMES; s++)
				r[s][c][i] = run_once(schemes[s], configs[c].n, total);
	}
	for (int s = 0; s < NSCHEMES; s++)
		for (int c = 0; c < NCONFIGS; c++) {
			double incs[16], hs[16], hu[16], sl[16];
			int exact = 0, n = configs[c].n;
			for (int i = 0; i < runs; i++) {
				incs[i] = r[s][c][i].incs_s;
				hs[i] = r[s][c][i].hand_s;
				hu[i] = r[s][c][i].hand_us;
				sl[i] = r[s][c][i].slice_ms;
				exact += r[s][c][i].exact;
			}
			char sls[16] = "-", hss[32] = "-", hus[48] = "-", sla[32] = "-";
			if (n > 1) {
				snprintf(sls, sizeof(sls), "%u ms", configs[c].slice_ms);
				snprintf(hss, sizeof(hss), "%.0f", median(hs, runs));
				double m = median(hu, runs); /* sorts hu */
				snprintf(hus, sizeof(hus), "%.2f us (%.2f-%.2f)", m, hu[0], hu[runs - 1]);
				snprintf(sla, sizeof(sla), "%.2f ms", median(sl, runs));
			}
			double m = median(incs, runs); /* sorts incs */
			printf("| %s | %d | %s | %.2f M/s (%.2f-%.2f) | %s (%d/%d) | %s | %s | %s |\n",
			       scheme_name(schemes[s]), n, sls, m / 1e6, incs[0] / 1e6,
			       incs[runs - 1] / 1e6, exact == runs ? "yes" : "NO", exact, runs, hss,
			       hus, sla);
		}
	fflush(stdout);
}

/* ---- the flag check's own cost ---- */

static double loop_ns(uc_engine *uc, uint64_t start, uint64_t end, uint64_t iters)
{
	set_loop(uc, iters);
	uint64_t t0 = now_ns();
	uc_err e = uc_emu_start(uc, start, UNTIL, 0, 0);
	double ns = (double)(now_ns() - t0) / (double)iters;
	uint64_t rip;
	uc_reg_read(uc, UC_X86_REG_RIP, &rip);
	if (e || rip != end)
		die("timing loop did not halt", e);
	return ns;
}

static void flag_cost(int runs)
{
	static struct eng dummy; /* flags stay 0 */
	uc_engine *plain = engine_new(NULL, NULL);
	uc_engine *flag = engine_new(hook_block, &dummy);
	uc_engine *tsc = engine_new(hook_block_tsc, &dummy);
	struct {
		const char *name;
		uint64_t start, end, iters;
	} loops[] = {
		{ "`lock incq [rdi]; dec rcx; jnz` (3 insns/block, a locked store)", LOOP, LOOP_END, 1000000 },
		{ "`add rax, rcx; dec rcx; jnz` (3 insns/block, registers only)", ALU, ALU_END, 10000000 },
	};
	printf("| loop | no block hook | flag check | cost per block | per insn | flag + rdtsc deadline | per block |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (size_t l = 0; l < sizeof(loops) / sizeof(loops[0]); l++) {
		double p = 1e9, f = 1e9, t = 1e9;
		for (int i = 0; i < runs; i++) { /* interleaved: the same noise */
			double x = loop_ns(plain, loops[l].start, loops[l].end, loops[l].iters);
			double y = loop_ns(flag, loops[l].start, loops[l].end, loops[l].iters);
			double z = loop_ns(tsc, loops[l].start, loops[l].end, loops[l].iters);
			p = x < p ? x : p;
			f = y < f ? y : f;
			t = z < t ? z : t;
		}
		printf("| %s | %.2f ns | %.2f ns | %.2f ns | %.2f ns | %.2f ns | %.2f ns |\n",
		       loops[l].name, p, f, f - p, (f - p) / 3, t, t - p);
	}
	uc_close(plain);
	uc_close(flag);
	uc_close(tsc);
}

/* ---- K13 probes: a vCPU waiting inside an MMIO callback ---- */

static uc_engine *probe_uc;
static int probe_calls;
static bool probe_nested;
static pthread_mutex_t probe_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t probe_cv = PTHREAD_COND_INITIALIZER;
static bool probe_other_done;

static void *probe_other(void *arg)
{
	/* Another thread runs vCPU 1 to completion, preempted by the ticker,
	 * while vCPU 0's thread waits inside its MMIO callback. */
	while (!run_slice(&eng[1]))
		;
	pthread_mutex_lock(&probe_m);
	probe_other_done = true;
	pthread_cond_signal(&probe_cv);
	pthread_mutex_unlock(&probe_m);
	return NULL;
}

static uint64_t probe_read(uc_engine *uc, uint64_t off, unsigned size, void *user)
{
	if (probe_calls++ == 0) {
		if (probe_nested) {
			/* The same thread runs vCPU 1 from inside vCPU 0's callback. */
			while (!run_slice(&eng[1]))
				;
		} else {
			pthread_t t;
			pthread_create(&t, NULL, probe_other, NULL);
			pthread_mutex_lock(&probe_m);
			while (!probe_other_done)
				pthread_cond_wait(&probe_cv, &probe_m);
			pthread_mutex_unlock(&probe_m);
			pthread_join(t, NULL);
		}
	}
	return off == 0 ? 0x1234 : 0;
}

static void probe(bool nested, uint64_t per)
{
	static struct eng pe; /* vCPU 0, the one that waits; id MAXE: not in eng[] */
	uc_err e;
	if (!probe_uc) {
		pe.id = MAXE;
		probe_uc = engine_new(hook_block, &pe);
		if ((e = uc_mmio_map(probe_uc, MMIO, 0x1000, probe_read, NULL, NULL, NULL)))
			die("uc_mmio_map", e);
	}
	pe.uc = probe_uc;
	reset(2, per); /* engine 1 is the other vCPU */
	set_loop(probe_uc, per);
	uint64_t rsi = MMIO;
	uc_reg_write(probe_uc, UC_X86_REG_RSI, &rsi);
	probe_calls = 0;
	probe_nested = nested;
	probe_other_done = false;
	/* the ticker preempts vCPU 1 every ms, so it is also stopped and resumed */
	pthread_t t;
	slice_ns = 1000000;
	atomic_store(&cur, 1);
	atomic_store(&nrunnable, 2);
	atomic_store(&ticker_quit, false);
	pthread_create(&t, NULL, ticker, NULL);
	pe.rip = PROBE;
	e = uc_emu_start(probe_uc, PROBE, UNTIL, 0, 0);
	atomic_store(&ticker_quit, true);
	pthread_join(t, NULL);
	atomic_store(&cur, -1);
	uint64_t rip, rax, rcx;
	uc_reg_read(probe_uc, UC_X86_REG_RIP, &rip);
	uc_reg_read(probe_uc, UC_X86_REG_RAX, &rax);
	uc_reg_read(probe_uc, UC_X86_REG_RCX, &rcx);
	bool ok = !e && rip == LOOP_END && rcx == 0 && rax == 0x1234 && eng[1].rip == LOOP_END &&
	     atomic_load(COUNTER) == 2 * per;
	printf("| %s | %s: %d MMIO callbacks, other engine stopped %" PRIu64
	       " times and resumed, counter %" PRIu64 " of %" PRIu64 ", waiting engine's RAX 0x%" PRIx64
	       " and RIP %s |\n",
	       nested ? "nested: vCPU 1's engine run to its end by uc_emu_start called inside vCPU 0's MMIO read callback (same thread)" :
			"vCPU 1's engine run to its end by another thread while vCPU 0's thread waits inside its MMIO read callback",
	       ok ? "works" : "FAILED", probe_calls, (uint64_t)nstops, (uint64_t)atomic_load(COUNTER),
	       2 * per, rax, rip == LOOP_END ? "past its hlt" : "wrong");
}

static const char *loadavg(void)
{
	static char buf[64] = "?";
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		double a, b, c;
		if (fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
			snprintf(buf, sizeof(buf), "%.2f %.2f %.2f", a, b, c);
		fclose(f);
	}
	return buf;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 3;
	uint64_t total = argc > 2 ? strtoull(argv[2], NULL, 0) : 3000000;
	if (runs < 1 || runs > 16 || total < 4) {
		fprintf(stderr, "usage: bench_tcg_sched [RUNS (1-16) [INCREMENTS]]\n");
		return 2;
	}
	ram = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return 1;
	static const uint8_t loop[] = { 0xf0, 0x48, 0xff, 0x07,	 /* lock incq [rdi] */
					0x48, 0xff, 0xc9,	 /* dec rcx */
					0x75, 0xf7,		 /* jnz LOOP */
					0xf4 };			 /* hlt */
	static const uint8_t alu[] = { 0x48, 0x01, 0xc8,	 /* add rax, rcx */
				       0x48, 0xff, 0xc9,	 /* dec rcx */
				       0x75, 0xf8,		 /* jnz ALU */
				       0xf4 };			 /* hlt */
	uint8_t probe_code[] = { 0x48, 0x8b, 0x06,		 /* mov rax, [rsi] */
				 0xe9, 0, 0, 0, 0 };		 /* jmp LOOP */
	int32_t rel = (int32_t)((int64_t)LOOP - (int64_t)(PROBE + sizeof(probe_code)));
	memcpy(probe_code + 4, &rel, 4);
	memcpy(ram + (LOOP - BASE), loop, sizeof(loop));
	memcpy(ram + (ALU - BASE), alu, sizeof(alu));
	memcpy(ram + (PROBE - BASE), probe_code, sizeof(probe_code));
	for (int i = 0; i < MAXE; i++) {
		eng[i].id = i;
		eng[i].uc = engine_new(hook_block, &eng[i]);
		pthread_cond_init(&eng[i].cv, NULL);
	}
	uint64_t t0 = now_ns();

	printf("Per scheme and vCPU count: %" PRIu64 " locked increments in all per run (split\n"
	       "evenly), median (min-max) of %d runs, the schemes interleaved run by run; exact =\n"
	       "the counter ended at the total in every run. A handoff = one engine stopped by its\n"
	       "block hook and another started; its cost = from that hook to the next engine's\n"
	       "first block hook (median, min-max, over runs of each run's mean). Slice achieved =\n"
	       "run time / (handoffs + 1). Load average at the start: %s.\n\n",
	       total, runs, loadavg());
	printf("| scheme | vCPUs | slice | locked increments/s | exact | handoffs/s | handoff cost | slice achieved |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	table(runs, total);

	printf("\nThe flag check (K3/K7) itself: one engine alone, ns per loop iteration (one\n"
	       "translated block), the least disturbed (minimum) of %d runs each: no hook, a\n"
	       "UC_HOOK_BLOCK hook that reads the flag (as above), one that also compares the TSC\n"
	       "with a deadline (slices without a ticker thread).\n\n",
	       runs + 4);
	flag_cost(runs + 4);

	printf("\nK13 probes (a vCPU that waits inside a libunicorn MMIO callback; %" PRIu64
	       "\nincrements by each engine):\n\n| probe | result |\n|---|---|\n",
	       total / 4);
	probe(true, total / 4);
	probe(false, total / 4);
	fprintf(stderr, "bench_tcg_sched: %.1f s\n", (double)(now_ns() - t0) / 1e9);
	for (int i = 0; i < MAXE; i++)
		uc_close(eng[i].uc);
	if (probe_uc)
		uc_close(probe_uc);
	return 0;
}
