/* SPDX-License-Identifier: MIT */
/*
 * Persistent treap of runs. assign() = split at the first touched run's
 * start, split at the end of the last touched run, drop the middle, join
 * the left part, at most three new runs and the right part. Nodes on the
 * split paths are copied ("owned") once; copies made in this operation are
 * mutated in place. A node pool sized from the two search depths is filled
 * before anything changes, so the operation cannot fail half way.
 */
#include "p2m/runmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct pool {
	struct run_node **nodes;
	size_t nr, used;
};

struct op {
	struct runmap *m;
	struct pool pool;
};

static uint32_t next_prio(struct runmap *m)
{
	/* xorshift64*: priorities only need to look random. */
	uint64_t x = m->seed;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	m->seed = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static struct run_node *pool_take(struct op *op)
{
	/* Sized from the search depths: running dry is a bug, not an input. */
	if (op->pool.used == op->pool.nr)
		abort();
	return op->pool.nodes[op->pool.used++];
}

static void retire(struct runmap *m, struct run_node *n)
{
	n->gc_next = m->retired;
	m->retired = n;
	m->nr_retired++;
}

/* A node this operation may modify: itself if fresh, else a fresh copy. */
static struct run_node *own(struct op *op, struct run_node *n)
{
	if (n->fresh)
		return n;
	struct run_node *c = pool_take(op);
	*c = *n;
	c->fresh = true;
	c->gc_next = NULL;
	retire(op->m, n);
	return c;
}

/* Runs starting below @key to *l, the others to *r. */
static void split(struct op *op, struct run_node *n, uint64_t key, struct run_node **l,
		  struct run_node **r)
{
	if (!n) {
		*l = *r = NULL;
		return;
	}
	struct run_node *c = own(op, n);
	if (c->start < key) {
		split(op, c->right, key, &c->right, r);
		*l = c;
	} else {
		split(op, c->left, key, l, &c->left);
		*r = c;
	}
}

/* Every run of @a lies before every run of @b. */
static struct run_node *join(struct op *op, struct run_node *a, struct run_node *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (a->prio > b->prio) {
		struct run_node *c = own(op, a);
		c->right = join(op, c->right, b);
		return c;
	}
	struct run_node *c = own(op, b);
	c->left = join(op, a, c->left);
	return c;
}

static unsigned search_depth(const struct run_node *n, uint64_t key)
{
	unsigned d = 0;
	while (n) {
		d++;
		n = n->start < key ? n->right : n->left; /* the path split() takes */
	}
	return d;
}

static void retire_tree(struct runmap *m, struct run_node *n, uint64_t *count)
{
	while (n) {
		retire_tree(m, n->left, count);
		struct run_node *right = n->right;
		(*count)++;
		retire(m, n);
		n = right;
	}
}

static void free_tree(struct run_node *n)
{
	while (n) {
		free_tree(n->left);
		struct run_node *right = n->right;
		free(n);
		n = right;
	}
}

int runmap_init(struct runmap *m, uint64_t size, uint8_t value)
{
	memset(m, 0, sizeof(*m));
	if (!size)
		return -EINVAL;
	struct run_node *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	/* Unpredictable priorities: no sequence of changes can force a deep tree. */
	if (getrandom(&m->seed, sizeof(m->seed), GRND_NONBLOCK) != sizeof(m->seed))
		m->seed = 0x9E3779B97F4A7C15ULL ^ (uintptr_t)m;
	m->seed |= 1;
	*n = (struct run_node){ .start = 0, .end = size, .value = value, .prio = next_prio(m) };
	m->root = n;
	m->size = size;
	m->nr_runs = 1;
	return 0;
}

void runmap_destroy(struct runmap *m)
{
	free_tree(m->root);
	m->root = NULL;
	runmap_free_retired(m);
}

static void clear_fresh(struct pool *p)
{
	for (size_t i = 0; i < p->used; i++)
		p->nodes[i]->fresh = false;
}

static void pool_release(struct pool *p)
{
	for (size_t i = p->used; i < p->nr; i++)
		free(p->nodes[i]);
	free(p->nodes);
}

int runmap_assign(struct runmap *m, uint64_t a, uint64_t b, uint8_t v)
{
	if (a >= b || b > m->size)
		return -EINVAL;
	struct run_node *root = m->root;
	const struct run_node *first = runmap_lookup(root, a);
	const struct run_node *last = runmap_lookup(root, b - 1);
	if (first == last && first->value == v)
		return 0;

	/* The new run [lo', hi') of v, its leftovers, and the neighbours it absorbs. */
	uint64_t lo = first->start, hi = last->end;
	uint64_t new_start = a, new_end = b;
	bool keep_left = false, keep_right = false;
	uint8_t left_value = first->value, right_value = last->value;
	if (first->start < a) {
		if (first->value == v)
			new_start = first->start;
		else
			keep_left = true;
	} else if (a > 0) {
		const struct run_node *prev = runmap_lookup(root, a - 1);
		if (prev->value == v)
			lo = new_start = prev->start;
	}
	if (last->end > b) {
		if (last->value == v)
			new_end = last->end;
		else
			keep_right = true;
	} else if (b < m->size) {
		const struct run_node *next = runmap_lookup(root, b);
		if (next->value == v)
			hi = new_end = next->end;
	}

	struct op op = { .m = m };
	size_t need = 2 * (search_depth(root, lo) + search_depth(root, hi)) + 8;
	op.pool.nodes = calloc(need, sizeof(*op.pool.nodes));
	if (!op.pool.nodes)
		return -ENOMEM;
	for (; op.pool.nr < need; op.pool.nr++) {
		op.pool.nodes[op.pool.nr] = calloc(1, sizeof(struct run_node));
		if (!op.pool.nodes[op.pool.nr]) {
			pool_release(&op.pool);
			return -ENOMEM;
		}
	}

	struct run_node *l, *mr, *mid, *r;
	split(&op, root, lo, &l, &mr);
	split(&op, mr, hi, &mid, &r);
	uint64_t removed = 0;
	retire_tree(m, mid, &removed);

	struct run_node *n[3];
	unsigned nn = 0;
	if (keep_left) {
		n[nn] = pool_take(&op);
		*n[nn++] = (struct run_node){ .start = lo, .end = a, .value = left_value,
					      .prio = next_prio(m), .fresh = true };
		new_start = a;
	}
	n[nn] = pool_take(&op);
	*n[nn++] = (struct run_node){ .start = new_start, .end = new_end, .value = v,
				      .prio = next_prio(m), .fresh = true };
	if (keep_right) {
		n[nn] = pool_take(&op);
		*n[nn++] = (struct run_node){ .start = b, .end = hi, .value = right_value,
					      .prio = next_prio(m), .fresh = true };
	}
	struct run_node *t = l;
	for (unsigned i = 0; i < nn; i++)
		t = join(&op, t, n[i]);
	t = join(&op, t, r);

	m->nr_runs = m->nr_runs - removed + nn;
	clear_fresh(&op.pool);
	pool_release(&op.pool);
	__atomic_store_n(&m->root, t, __ATOMIC_RELEASE);
	return 1;
}

void runmap_free_retired(struct runmap *m)
{
	struct run_node *n = m->retired;
	while (n) {
		struct run_node *next = n->gc_next;
		free(n);
		n = next;
	}
	m->retired = NULL;
	m->nr_retired = 0;
}

int runmap_foreach(const struct run_node *n, uint64_t a, uint64_t b, runmap_visit_fn fn,
		   void *ctx)
{
	while (n) {
		int rc;
		if (a < n->start && (rc = runmap_foreach(n->left, a, b, fn, ctx)))
			return rc;
		if (n->start < b && n->end > a) {
			uint64_t s = n->start > a ? n->start : a;
			uint64_t e = n->end < b ? n->end : b;
			if ((rc = fn(ctx, s, e, n->value)))
				return rc;
		}
		if (b <= n->end)
			return 0;
		n = n->right;
	}
	return 0;
}
