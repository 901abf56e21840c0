/* SPDX-License-Identifier: MIT */
/*
 * P3, issue 15 (defect 5): the release of a claimed type spread over many
 * runs, while the p2m guest runs. Measures how long the vCPUs are held
 * (pause to resume), the P2M planning before the pause, the backend
 * map/unmap calls and the whole call, for the one-plan release and, in the
 * same run on the same layout, e7e7b56's path (a plan and an apply per run,
 * all inside the pause), replayed here from its code. Two layouts of N runs
 * of type 4 claimed READ|WRITE (no mapping), one page each: alternating with
 * ram_rw pages (the release merges everything into one mapping) and with
 * ram_ro pages (the release makes one new mapping per run). N is the most
 * the release budget allows (C4: mappings + 2 x claimed runs <= limit),
 * capped at 20000; backend "none" is the P2M alone (calls do nothing, limit
 * 65536, no guest: its "held" column is the P2M's own work inside the
 * pause). Medians of 3 releases on kvm, 9 elsewhere; the held time also
 * with its min-max. Prints a Markdown table.
 * Usage: bench_release P2M-GUEST [BACKEND...] (default: kvm tcg none)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <urcu/urcu-bp.h>

#include "../guests/p2m_abi.h"
#include "core/boot.h"
#include "core/vm.h"

#define MAX_REPS 9 /* 3 on kvm, where a layout takes seconds */
#define RAM (512ULL << 20)
#define MAX_RUNS 20000

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The pauser of the VM under test, wrapped to time the pause. */
static struct p2m_pauser inner;
static double t_pause, t_resume;

static void timed_pause(void *ctx)
{
	t_pause = now_us();
	if (inner.pause)
		inner.pause(ctx);
}

static void timed_resume(void *ctx)
{
	if (inner.resume)
		inner.resume(ctx);
	t_resume = now_us();
}

static int null_map(void *c, uint64_t g, uint64_t s, uint64_t o, enum mem_access a)
{
	return 0;
}
static int null_unmap(void *c, uint64_t g)
{
	return 0;
}

struct ranges {
	struct mapcomp_range *v;
	size_t n, cap;
	uint32_t type;
};

static int collect(void *ctx, uint64_t a, uint64_t b, uint8_t v)
{
	struct ranges *r = ctx;
	if (v != r->type)
		return 0;
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 1024;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		if (!r->v)
			return -1;
	}
	r->v[r->n++] = (struct mapcomp_range){ .a = a, .b = b, .access = MEM_ACCESS_RW };
	return 0;
}

/*
 * e7e7b56's release (p2m.c set_claim_locked + remap_runs): collect the runs,
 * pause, then for each run plan and apply its change alone, retype, resume.
 */
static int release_per_run(struct p2m *p, uint32_t type)
{
	struct ranges l = { .type = type };
	pthread_mutex_lock(&p->lock);
	int rc = runmap_foreach(runmap_root(&p->types), 0, p->nr_pages, collect, &l);
	p->pauser.pause(p->pauser.ctx);
	for (size_t i = 0; !rc && i < l.n; i++) {
		struct mapcomp_plan plan;
		rc = mapcomp_plan(&p->maps, l.v[i].a, l.v[i].b, MEM_ACCESS_RW, &plan);
		if (!rc)
			rc = mapcomp_apply(&p->maps, &plan);
		mapcomp_plan_free(&plan);
	}
	for (size_t i = 0; !rc && i < l.n; i++)
		rc = runmap_assign(&p->types, l.v[i].a, l.v[i].b, IOREQVM_MEM_RAM_RW) < 0;
	struct p2m_claim *c = &p->claims[type - IOREQVM_MEM_IOREQ_SERVER];
	__atomic_store_n(&c->flags, 0, __ATOMIC_RELEASE);
	p->ioreq_runs[type - IOREQVM_MEM_IOREQ_SERVER] = 0;
	p->pauser.resume(p->pauser.ctx);
	urcu_bp_synchronize_rcu();
	runmap_free_retired(&p->types);
	pthread_mutex_unlock(&p->lock);
	free(l.v);
	return rc;
}

struct sample {
	double plan, pause, total; /* us */
	uint64_t calls;
};

/* Claim type 4 READ|WRITE, lay out @n runs from @base with @between pages between. */
static int lay_out(struct p2m *p, uint64_t base, unsigned n, uint32_t between)
{
	char err[256];
	struct p2m_claim c = { .server = 999, .flags = 3, .enabled = true };
	if (p2m_set_claim(p, IOREQVM_MEM_IOREQ_SERVER, &c, err, sizeof(err)))
		goto fail;
	for (unsigned i = 0; i < n; i++) {
		if (p2m_set_mem_type(p, IOREQVM_MEM_IOREQ_SERVER, base + 2 * i, 1, P2M_OWNER_VMM, err,
				     sizeof(err)))
			goto fail;
		if (between != IOREQVM_MEM_RAM_RW &&
		    p2m_set_mem_type(p, between, base + 2 * i + 1, 1, P2M_OWNER_VMM, err, sizeof(err)))
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "bench_release: layout: %s\n", err);
	return -1;
}

static int release_once(struct p2m *p, bool old_path, struct sample *s)
{
	char err[256];
	uint64_t calls = p->maps.nr_map_calls + p->maps.nr_unmap_calls;
	t_pause = t_resume = 0;
	double t0 = now_us();
	int rc;
	if (old_path) {
		rc = release_per_run(p, IOREQVM_MEM_IOREQ_SERVER);
	} else {
		struct p2m_claim none = { 0 };
		rc = p2m_set_claim(p, IOREQVM_MEM_IOREQ_SERVER, &none, err, sizeof(err));
	}
	double t1 = now_us();
	if (rc || p2m_count_type(p, IOREQVM_MEM_IOREQ_SERVER)) {
		fprintf(stderr, "bench_release: release failed\n");
		return -1;
	}
	s->plan = t_pause - t0;
	s->pause = t_resume - t_pause;
	s->total = t1 - t0;
	s->calls = p->maps.nr_map_calls + p->maps.nr_unmap_calls - calls;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static const char *fmt_us(double us, char *buf, size_t len)
{
	if (us >= 1000)
		snprintf(buf, len, "%.1f ms", us / 1000);
	else
		snprintf(buf, len, "%.0f us", us);
	return buf;
}

/* One VM per layout and path: 3 (kvm) or 9 releases, each after a fresh layout. */
static int row(const char *image, const char *backend, uint32_t between, bool old_path)
{
	char err[512];
	struct vm vm;
	struct p2m p0;
	struct p2m *p;
	bool real = strcmp(backend, "none") != 0;
	struct guest_ram layout;
	volatile struct p2m_abi_mailbox *mb = NULL;
	if (real) {
		struct vm_config cfg = { .memory = RAM, .nr_vcpus = 1, .accel = backend,
					 .console_fd = 2, .builtin_uart = true };
		struct boot_files files = { .kernel = image, .cmdline = "hammer" };
		if (vm_create(&vm, &cfg, err, sizeof(err)) ||
		    boot_guest(&vm, &files, NULL, err, sizeof(err)) ||
		    vm_start(&vm, err, sizeof(err))) {
			fprintf(stderr, "bench_release: %s: %s\n", backend, err);
			vm_destroy(&vm);
			return -1;
		}
		mb = guest_ram_ptr(&vm.ram, P2M_ABI_MAILBOX, sizeof(*mb));
		for (int i = 0; i < 10000 && !mb->phase; i++)
			usleep(1000);
		p = &vm.p2m;
	} else {
		guest_ram_layout(&layout, RAM);
		struct map_target t = { .map = null_map, .unmap = null_unmap, .limit = 65536 };
		struct p2m_pauser pz = { 0 };
		if (p2m_init(&p0, &layout, &t, &pz))
			return -1;
		p = &p0;
	}
	inner = p->pauser;
	p->pauser.pause = timed_pause;
	p->pauser.resume = timed_resume;
	struct p2m_stats st;
	p2m_get_stats(p, &st);
	unsigned n = (st.mappings_limit - st.mappings_used - 8) / 3;
	if (n > MAX_RUNS)
		n = MAX_RUNS;
	/* At the end of RAM: each layout step then splits only a short mapping. */
	uint64_t base = (RAM >> 12) - 2 * (uint64_t)n - 16;
	int reps = strcmp(backend, "kvm") ? MAX_REPS : 3;
	double plan[MAX_REPS], pause[MAX_REPS], total[MAX_REPS];
	uint64_t calls = 0;
	int rc = 0;
	for (int r = 0; r < reps && !rc; r++) {
		struct sample s = { 0 };
		rc = lay_out(p, base, n, between) || release_once(p, old_path, &s);
		if (!rc && between != IOREQVM_MEM_RAM_RW)
			rc = p2m_set_mem_type(p, IOREQVM_MEM_RAM_RW, base, 2 * n, P2M_OWNER_VMM, err,
					      sizeof(err));
		plan[r] = s.plan;
		pause[r] = s.pause;
		total[r] = s.total;
		calls = s.calls;
	}
	p->pauser = inner;
	if (real) {
		mb->stop = 1;
		vm_stop(&vm, 0);
		vm_join(&vm);
		vm_destroy(&vm);
	} else {
		p2m_destroy(&p0);
	}
	if (rc)
		return -1;
	char a[32], b[32], b0[32], b1[32], c[32];
	double held = median(pause, reps);
	printf("| %s | %s | %u | %s | %s | %s (%s-%s) | %" PRIu64 " (%.2f a run) | %s |\n", backend,
	       between == IOREQVM_MEM_RAM_RW ? "with ram_rw: all merge" : "with ram_ro: a mapping each",
	       n, old_path ? "per run (e7e7b56)" : "one plan", fmt_us(median(plan, reps), a, sizeof(a)),
	       fmt_us(held, b, sizeof(b)), fmt_us(pause[0], b0, sizeof(b0)),
	       fmt_us(pause[reps - 1], b1, sizeof(b1)), calls, (double)calls / n,
	       fmt_us(median(total, reps), c, sizeof(c)));
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_release P2M-GUEST [BACKEND...]\n");
		return 2;
	}
	static const char *const defaults[] = { "kvm", "tcg", "none" };
	const char *const *backends = argc > 2 ? (const char *const *)argv + 2 : defaults;
	int nb = argc > 2 ? argc - 2 : 3;
	printf("| backend | claimed pages alternate | runs | release path | planning before "
	       "the pause | vCPUs held | map+unmap calls | whole call |\n"
	       "|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < nb; i++)
		for (int lay = 0; lay < 2; lay++)
			for (int old = 1; old >= 0; old--)
				row(argv[1], backends[i],
				    lay ? IOREQVM_MEM_RAM_RO : IOREQVM_MEM_RAM_RW, old);
	return 0;
}
