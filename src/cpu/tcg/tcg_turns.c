/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: the execution turn (K7). libunicorn 2.0.1 engines running at
 * once make LOCK-prefixed instructions, xchg and cmpxchg plain
 * load-op-stores, so one vCPU executes guest code at a time. Each vCPU keeps
 * its own engine and thread and they take turns in FIFO order: the holder
 * runs until it halts, waits for a device model (K13), leaves vcpu_run (a
 * kick, K3), or the vCPU at the head of the queue has waited a slice and
 * asks it to yield through the K3 block-hook flag; then the turn passes to
 * the head and the yielder queues at the back. A vCPU coming back from a
 * device model goes to the front and asks for the turn after
 * TCG_WAKE_SLICE_NS (wake-up preemption, as an OS scheduler does for a
 * task that slept): otherwise a vCPU printing to the UART model waited a
 * full round of slices per byte while the others spun (BENCHMARKS.md,
 * design measurements: wake-front).
 *
 * Why threads taking turns and not one host thread driving every engine
 * (handoffs between threads cost ~0.1-0.4 ms here, K7, which one thread
 * avoids): a vCPU waiting for a device model waits inside its engine's
 * MMIO or port callback (K13: stopping there re-runs stores), so a single
 * driver thread would be stuck in that callback and every other vCPU with
 * it. With a thread per vCPU the waiter just passes the turn on.
 * bench/bench_tcg_sched measures both schemes side by side.
 *
 * A VM with one vCPU never touches the lock: no cost on that path.
 */
#include <time.h>

#include "cpu/tcg/tcg_priv.h"

void tcg_turns_init(struct tcg_turns *t, unsigned nr_vcpus)
{
	pthread_mutex_init(&t->lock, NULL);
	t->single = nr_vcpus <= 1;
}

void tcg_turns_destroy(struct tcg_turns *t)
{
	pthread_mutex_destroy(&t->lock);
}

static void grant(struct tcg_turns *t, struct tcg_vcpu *c)
{
	t->holder = c;
	t->held_since = irqchip_now_ns();
	t->yield_asked = false;
	c->has_turn = true;
}

static void dequeue(struct tcg_turns *t, struct tcg_vcpu *c)
{
	unsigned n = 0;
	for (unsigned i = 0; i < t->len; i++) {
		struct tcg_vcpu *q = t->queue[(t->head + i) % IRQCHIP_MAX_LAPICS];
		if (q != c)
			t->queue[(t->head + n++) % IRQCHIP_MAX_LAPICS] = q;
	}
	t->len = n;
}

static struct tcg_vcpu *queue_head(struct tcg_turns *t)
{
	return t->len ? t->queue[t->head] : NULL;
}

bool tcg_turn_take(struct tcg_turns *t, struct tcg_vcpu *c, bool interruptible)
{
	if (t->single || c->has_turn)
		return true;
	pthread_mutex_lock(&t->lock);
	if (!t->holder && !t->len) {
		grant(t, c);
		pthread_mutex_unlock(&t->lock);
		return true;
	}
	/* From vcpu_block (a device model answered): to the front. */
	bool woken = !interruptible;
	if (woken) {
		t->head = (t->head + IRQCHIP_MAX_LAPICS - 1) % IRQCHIP_MAX_LAPICS;
		t->queue[t->head] = c;
		t->len++;
	} else {
		t->queue[(t->head + t->len++) % IRQCHIP_MAX_LAPICS] = c;
	}
	while (t->holder != c) {
		if (interruptible && atomic_load(&c->attn) & (TCG_ATTN_KICK | TCG_ATTN_STOP)) {
			dequeue(t, c);
			pthread_mutex_unlock(&t->lock);
			return false;
		}
		if (queue_head(t) != c || !t->holder || t->yield_asked) {
			pthread_cond_wait(&c->turn_cond, &t->lock);
			continue;
		}
		/* First in line: the holder has a slice, then is asked to yield. */
		uint64_t due = t->held_since + (woken ? TCG_WAKE_SLICE_NS : TCG_SLICE_NS);
		if (irqchip_now_ns() >= due) {
			t->yield_asked = true;
			tcg_vcpu_wake(t->holder, TCG_ATTN_YIELD);
			continue;
		}
		struct timespec ts = { .tv_sec = (time_t)(due / 1000000000ULL),
				       .tv_nsec = (long)(due % 1000000000ULL) };
		pthread_cond_timedwait(&c->turn_cond, &t->lock, &ts);
	}
	pthread_mutex_unlock(&t->lock);
	return true;
}

void tcg_turn_give(struct tcg_turns *t, struct tcg_vcpu *c)
{
	atomic_fetch_and(&c->attn, ~TCG_ATTN_YIELD);
	if (t->single || !c->has_turn)
		return;
	tcg_code_publish(c->t); /* K8: code this vCPU wrote, before another runs */
	pthread_mutex_lock(&t->lock);
	c->has_turn = false;
	t->holder = NULL;
	struct tcg_vcpu *next = queue_head(t);
	if (next) {
		t->head = (t->head + 1) % IRQCHIP_MAX_LAPICS;
		t->len--;
		grant(t, next);
		pthread_cond_signal(&next->turn_cond);
		struct tcg_vcpu *after = queue_head(t); /* starts timing the new slice */
		if (after)
			pthread_cond_signal(&after->turn_cond);
	}
	pthread_mutex_unlock(&t->lock);
}

void tcg_turn_interrupt(struct tcg_turns *t, struct tcg_vcpu *c)
{
	if (t->single)
		return;
	pthread_mutex_lock(&t->lock);
	pthread_cond_signal(&c->turn_cond);
	pthread_mutex_unlock(&t->lock);
}
