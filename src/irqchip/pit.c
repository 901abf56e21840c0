/* SPDX-License-Identifier: MIT */
/*
 * The 8254 PIT (K5): channel 0 drives IRQ0 (modes 0, 2 and 3, on the 8259
 * and I/O APIC pin 2), channel 2 only counts for port 0x61 (gate, output and
 * the toggling refresh bit). Counters are computed from CLOCK_MONOTONIC;
 * the timer thread (irqchip.c) calls pit_fire at pit_next.
 */
#include "irqchip/irqchip_priv.h"

#define PIT_HZ 1193182ULL

static uint64_t pit_ticks(uint64_t ns)
{
	return (ns * PIT_HZ) / NS_PER_SEC;
}

static uint16_t pit_count(struct pit_channel *ch, uint64_t now)
{
	if (!ch->running)
		return ch->reload;
	uint64_t period = ch->reload ? ch->reload : 65536;
	uint64_t t = pit_ticks(now - ch->start);
	if (ch->mode == 0 || ch->mode == 1)
		return t >= period ? 0 : (uint16_t)(period - t);
	return (uint16_t)(period - t % period);
}

/*
 * A channel's OUT pin (8254 data sheet): modes 0 and 1 low from the count's
 * write until it reaches 0, then high (Linux's pit_calibrate_tsc waits for
 * that edge on port 0x61 bit 5); mode 3 high for the first half of each
 * period, low for the second; modes 2, 4 and 5 high but for one clock.
 */
static uint8_t pit_out(struct pit_channel *ch, uint64_t now)
{
	if (!ch->running)
		return ch->mode != 0; /* mode 0 OUT goes low when the control word is written */
	uint64_t period = ch->reload ? ch->reload : 65536;
	uint64_t t = pit_ticks(now - ch->start);
	switch (ch->mode) {
	case 0:
	case 1: return t >= period;
	case 3: return t % period < (period + 1) / 2;
	default: return 1;
	}
}

static void pit_arm(struct irqchip *p, uint64_t now)
{
	struct pit_channel *ch = &p->pit[0];
	uint64_t period = ch->reload ? ch->reload : 65536;
	ch->start = now;
	ch->running = true;
	p->pit_next = now + period * NS_PER_SEC / PIT_HZ;
	pthread_cond_signal(&p->cond);
}

void pit_fire(struct irqchip *p, uint64_t now)
{
	struct pit_channel *ch = &p->pit[0];
	if (!p->pit_next || now < p->pit_next)
		return;
	pic_set_line(p, 0, true);
	pic_set_line(p, 0, false);
	ioapic_set_line(p, 2, true); /* ISA IRQ0 is I/O APIC pin 2 (MP table) */
	ioapic_set_line(p, 2, false);
	uint64_t period_ns = (ch->reload ? ch->reload : 65536) * NS_PER_SEC / PIT_HZ;
	if ((ch->mode == 2 || ch->mode == 3) && period_ns) {
		uint64_t late = (now - p->pit_next) / period_ns;
		p->pit_next += (late + 1) * period_ns;
	} else {
		p->pit_next = 0;
	}
}

uint8_t pit_read(struct irqchip *p, unsigned n)
{
	struct pit_channel *ch = &p->pit[n];
	uint16_t v = ch->latched ? ch->latch : pit_count(ch, irqchip_now_ns());
	uint8_t out;
	unsigned acc = ch->access;
	if (acc == 1) {
		out = (uint8_t)v;
		ch->latched = 0;
	} else if (acc == 2) {
		out = (uint8_t)(v >> 8);
		ch->latched = 0;
	} else {
		out = ch->rw_state ? (uint8_t)(v >> 8) : (uint8_t)v;
		ch->rw_state ^= 1;
		if (!ch->rw_state)
			ch->latched = 0;
	}
	return out;
}

void pit_write(struct irqchip *p, unsigned port, uint8_t v)
{
	uint64_t now = irqchip_now_ns();
	if (port == 0x43) {
		unsigned n = v >> 6;
		if (n == 3)
			return; /* read-back: not needed by our guests */
		struct pit_channel *ch = &p->pit[n];
		if (((v >> 4) & 3) == 0) { /* counter latch */
			ch->latch = pit_count(ch, now);
			ch->latched = 1;
			ch->rw_state = 0;
			return;
		}
		ch->access = (v >> 4) & 3;
		ch->mode = (v >> 1) & 7;
		if (ch->mode > 5)
			ch->mode -= 4;
		ch->rw_state = ch->wstate = 0;
		ch->running = false;
		if (n == 0)
			p->pit_next = 0;
		return;
	}
	unsigned n = port - 0x40;
	struct pit_channel *ch = &p->pit[n];
	bool done = true;
	if (ch->access == 1) {
		ch->reload = (ch->reload & 0xff00) | v;
	} else if (ch->access == 2) {
		ch->reload = (uint16_t)((ch->reload & 0xff) | v << 8);
	} else {
		if (!ch->wstate)
			ch->reload = (ch->reload & 0xff00) | v;
		else
			ch->reload = (uint16_t)((ch->reload & 0xff) | v << 8);
		ch->wstate ^= 1;
		done = !ch->wstate;
	}
	if (!done)
		return;
	if (n == 0)
		pit_arm(p, now);
	else {
		ch->start = now;
		ch->running = true;
	}
}

uint8_t pit_port61_read(struct irqchip *p)
{
	/* bit 5: channel 2's OUT; bit 4: refresh, toggling */
	uint64_t now = irqchip_now_ns(), t = pit_ticks(now);
	return (uint8_t)(p->port61 | ((t & 16) ? 0x10 : 0) | (pit_out(&p->pit[2], now) << 5));
}

void pit_port61_write(struct irqchip *p, uint8_t v)
{
	p->port61 = v & 0x0f;
	p->pit[2].gate = v & 1;
}
