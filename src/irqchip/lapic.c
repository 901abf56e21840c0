/* SPDX-License-Identifier: MIT */
/*
 * The local xAPICs, one per vCPU (K5, issue 11): registers, IRR/ISR/TMR
 * with EOI and TPR, the LVT timer (one-shot and periodic, 1 ns per bus tick
 * before the divider), and the APIC bus: IPIs from the ICR (fixed, lowest
 * priority, NMI, INIT, SIPI; physical and logical flat or cluster
 * destinations; self, all, all-but-self), which the I/O APIC and MSIs use
 * too. INIT and SIPI are recorded for the vCPU's backend to take
 * (irqchip_take_startup, K9). Everything here runs under the irqchip's
 * lock; waking a vCPU goes through its notify hook.
 */
#include <string.h>

#include "irqchip/irqchip_priv.h"

#define DELIVER_FIXED 0
#define DELIVER_LOWEST 1
#define DELIVER_NMI 4
#define DELIVER_INIT 5
#define DELIVER_SIPI 6

int lapic_highest(const uint32_t *v)
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

void lapic_reset(struct lapic *l, unsigned id)
{
	void (*notify)(void *, unsigned) = l->notify;
	void *ctx = l->notify_ctx;
	memset(l, 0, sizeof(*l));
	l->id = id << 24;
	l->svr = 0xff;
	l->dfr = 0xffffffffu;
	for (int i = 0; i < 6; i++)
		l->lvt[i] = LVT_MASKED;
	l->sipi_vector = -1;
	l->notify = notify;
	l->notify_ctx = ctx;
}

static void notify(struct lapic *l, unsigned what)
{
	if (l->notify)
		l->notify(l->notify_ctx, what);
}

static void lapic_accept(struct lapic *l, unsigned vector, bool level)
{
	if (vector < 16)
		return; /* illegal vector: a real APIC sets ESR and drops it */
	l->irr[vector / 32] |= 1u << (vector % 32);
	if (level)
		l->tmr[vector / 32] |= 1u << (vector % 32);
	else
		l->tmr[vector / 32] &= ~(1u << (vector % 32));
	notify(l, IRQCHIP_NOTIFY_IRQ);
}

static uint64_t timer_period(const struct lapic *l)
{
	unsigned d = (l->tdcr & 3) | ((l->tdcr >> 1) & 4);
	unsigned shift = d == 7 ? 0 : d + 1;
	return (uint64_t)l->tmict << shift; /* 1 ns per bus tick */
}

void lapic_timer_fire(struct lapic *l, uint64_t now)
{
	if (!l->timer_deadline || now < l->timer_deadline)
		return;
	if (!(l->lvt[LVT_TIMER] & LVT_MASKED) && (l->svr & SVR_ENABLE))
		lapic_accept(l, l->lvt[LVT_TIMER] & 0xff, false);
	uint64_t period = timer_period(l);
	if (l->lvt[LVT_TIMER] & LVT_PERIODIC && period) {
		/* Skip periods missed while nobody looked: one interrupt per wake. */
		uint64_t late = (now - l->timer_deadline) / period;
		l->timer_start = l->timer_deadline + late * period;
		l->timer_deadline = l->timer_start + period;
	} else {
		l->timer_deadline = 0;
	}
}

static void lapic_eoi(struct irqchip *p, struct lapic *l)
{
	int v = lapic_highest(l->isr);
	if (v < 0)
		return;
	l->isr[v / 32] &= ~(1u << (v % 32));
	if (l->tmr[v / 32] & (1u << (v % 32)))
		ioapic_eoi(p, (unsigned)v);
	if (lapic_highest(l->irr) >= 0)
		notify(l, IRQCHIP_NOTIFY_IRQ);
}

/* Does @l answer to @dest? Logical: flat (DFR model 0xF) or cluster (0x0). */
static bool lapic_matches(const struct lapic *l, uint8_t dest, bool logical)
{
	if (!logical)
		return dest == 0xff || dest == l->id >> 24;
	uint8_t ldr = (uint8_t)(l->ldr >> 24);
	if ((l->dfr >> 28) == 0xf)
		return (dest & ldr) != 0;
	if (dest == 0xff)
		return true;
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
}

static void deliver_one(struct lapic *l, unsigned mode, unsigned vector, bool level)
{
	switch (mode) {
	case DELIVER_FIXED:
	case DELIVER_LOWEST:
		lapic_accept(l, vector, level);
		return;
	case DELIVER_NMI:
		l->nmi_pending = true;
		notify(l, IRQCHIP_NOTIFY_EVENT);
		return;
	case DELIVER_INIT: {
		/* INIT resets the local APIC but its ID (SDM 10.4.7.3); the vCPU waits for SIPI. */
		uint32_t id = l->id;
		lapic_reset(l, 0);
		l->id = id;
		l->init_pending = true;
		notify(l, IRQCHIP_NOTIFY_EVENT);
		return;
	}
	case DELIVER_SIPI:
		l->sipi_vector = (int)(vector & 0xff);
		notify(l, IRQCHIP_NOTIFY_EVENT);
		return;
	default:
		return; /* SMI, ExtINT by IPI: not modelled */
	}
}

void lapic_bus_send(struct irqchip *p, struct lapic *src, unsigned shorthand, uint8_t dest,
		    bool logical, unsigned mode, unsigned vector, bool level)
{
	for (unsigned i = 0; i < p->nr_lapics; i++) {
		struct lapic *l = &p->lapic[i];
		bool to;
		switch (shorthand) {
		case 1: to = l == src; break;
		case 2: to = true; break;
		case 3: to = l != src; break;
		default: to = lapic_matches(l, dest, logical); break;
		}
		if (!to)
			continue;
		deliver_one(l, mode, vector, level);
		if (mode == DELIVER_LOWEST)
			return; /* one target: the first that matches (all have TPR 0 alike) */
	}
}

static void icr_send(struct irqchip *p, struct lapic *l, uint32_t lo)
{
	unsigned mode = (lo >> 8) & 7, shorthand = (lo >> 18) & 3;
	bool logical = (lo >> 11) & 1, assert = (lo >> 14) & 1, level_trig = (lo >> 15) & 1;
	if (mode == DELIVER_INIT && !assert && level_trig)
		return; /* INIT level de-assert: no effect on these CPUs */
	if (mode == DELIVER_LOWEST && shorthand == 1)
		return; /* lowest priority to self is invalid */
	lapic_bus_send(p, l, shorthand, (uint8_t)(l->icr_hi >> 24), logical, mode, lo & 0xff,
		       false);
}

uint32_t lapic_read(struct irqchip *p, struct lapic *l, unsigned off)
{
	switch (off) {
	case 0x20: return l->id;
	case 0x30: return 0x00050014; /* version 0x14, 6 LVT entries */
	case 0x80: return l->tpr;
	case 0xA0: {
		int isr = lapic_highest(l->isr);
		uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr & 0xf0;
		return (l->tpr & 0xf0) >= isrv ? l->tpr : isrv;
	}
	case 0xD0: return l->ldr;
	case 0xE0: return l->dfr;
	case 0xF0: return l->svr;
	case 0x280: return l->esr;
	case 0x300: return l->icr_lo & ~(1u << 12); /* delivered at once: never busy */
	case 0x310: return l->icr_hi;
	case 0x380: return l->tmict;
	case 0x390: {
		uint64_t now = irqchip_now_ns(), period = timer_period(l);
		if (!l->timer_deadline || !period || now >= l->timer_deadline)
			return 0;
		return (uint32_t)((uint64_t)l->tmict * (l->timer_deadline - now) / period);
	}
	case 0x3E0: return l->tdcr;
	default:
		break;
	}
	if (off >= 0x100 && off < 0x180)
		return l->isr[(off - 0x100) / 16];
	if (off >= 0x180 && off < 0x200)
		return l->tmr[(off - 0x180) / 16];
	if (off >= 0x200 && off < 0x280)
		return l->irr[(off - 0x200) / 16];
	if (off >= 0x320 && off < 0x380)
		return l->lvt[(off - 0x320) / 16];
	return 0;
}

void lapic_write(struct irqchip *p, struct lapic *l, unsigned off, uint32_t v)
{
	switch (off) {
	case 0x20: l->id = v & 0xff000000u; return;
	case 0x80: l->tpr = v & 0xff; return;
	case 0xB0: lapic_eoi(p, l); return;
	case 0xD0: l->ldr = v & 0xff000000u; return;
	case 0xE0: l->dfr = v | 0x0fffffffu; return;
	case 0xF0:
		l->svr = v & 0x3ff;
		if (!(v & SVR_ENABLE))
			for (int i = 0; i < 6; i++)
				l->lvt[i] |= LVT_MASKED;
		return;
	case 0x280: l->esr = 0; return;
	case 0x300:
		l->icr_lo = v;
		icr_send(p, l, v);
		return;
	case 0x310: l->icr_hi = v & 0xff000000u; return;
	case 0x380:
		l->tmict = v;
		l->timer_start = irqchip_now_ns();
		l->timer_deadline = v ? l->timer_start + timer_period(l) : 0;
		pthread_cond_signal(&p->cond);
		return;
	case 0x3E0: l->tdcr = v & 0xb; return;
	default:
		break;
	}
	if (off >= 0x320 && off < 0x380) {
		unsigned i = (off - 0x320) / 16;
		if (!(l->svr & SVR_ENABLE))
			v |= LVT_MASKED;
		l->lvt[i] = v;
		if (i == LVT_TIMER)
			pthread_cond_signal(&p->cond);
	}
}
