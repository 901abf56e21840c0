/* SPDX-License-Identifier: MIT */
/*
 * tcg platform devices (K5) but the local APICs (tcg_lapic.c): the I/O APIC
 * (24 pins, edge and level with remote IRR, physical and logical
 * destinations over the APIC bus), the 8259 pair (edge, cascade on IRQ2,
 * EOI, OCW3 reads; it reaches vCPU 0 through LINT0 in ExtINT mode or with
 * its APIC off) and 8254 channel 0 driving IRQ0 (modes 0, 2 and 3); MSIs;
 * the timer thread; which vCPU takes what interrupt next.
 */
#include "cpu/tcg/tcg_platform.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/vm.h"

#define LVT_LINT0 3
#define LVT_MASKED (1u << 16)
#define SVR_ENABLE (1u << 8)
#define PIT_HZ 1193182ULL
#define NS 1000000000ULL

uint64_t tcg_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* ---- 8259 pair ----------------------------------------------------------- */

static int pic_pending(const struct tcg_pic *c)
{
	uint8_t req = c->irr & ~c->imr;
	if (!req)
		return -1;
	for (int i = 0; i < 8; i++) {
		if (c->isr & (1u << i))
			return -1; /* a higher-priority IRQ is in service */
		if (req & (1u << i))
			return i;
	}
	return -1;
}

static void pic_update(struct tcg_platform *p)
{
	/* Slave output is master IRQ2. */
	struct tcg_pic *m = &p->pic[0], *s = &p->pic[1];
	if (pic_pending(s) >= 0)
		m->irr |= 1u << 2;
	else if (!(m->isr & (1u << 2)))
		m->irr &= ~(1u << 2);
	struct tcg_lapic *l = &p->lapic[0];
	if (pic_pending(m) >= 0 && l->notify)
		l->notify(l->notify_ctx, TCG_NOTIFY_IRQ);
}

static void pic_set_line(struct tcg_platform *p, unsigned irq, bool level)
{
	struct tcg_pic *c = &p->pic[irq / 8];
	uint8_t bit = (uint8_t)(1u << (irq % 8));
	if (level && !(c->lines & bit))
		c->irr |= bit; /* edge triggered */
	if (level)
		c->lines |= bit;
	else
		c->lines &= ~bit;
	pic_update(p);
}

/* INTA: the vector the pair answers with, or -1. */
static int pic_ack(struct tcg_platform *p)
{
	struct tcg_pic *m = &p->pic[0], *s = &p->pic[1];
	int irq = pic_pending(m);
	if (irq < 0)
		return -1;
	m->irr &= (uint8_t)~(1u << irq);
	if (!m->auto_eoi)
		m->isr |= (uint8_t)(1u << irq);
	if (irq != 2)
		return m->base + irq;
	int sirq = pic_pending(s);
	if (sirq < 0)
		return m->base + 7; /* spurious */
	s->irr &= (uint8_t)~(1u << sirq);
	if (!s->auto_eoi)
		s->isr |= (uint8_t)(1u << sirq);
	pic_update(p);
	return s->base + sirq;
}

static uint8_t pic_read(struct tcg_pic *c, unsigned reg)
{
	if (reg == 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static void pic_write(struct tcg_platform *p, struct tcg_pic *c, unsigned reg, uint8_t v)
{
	if (reg == 0 && (v & 0x10)) { /* ICW1: ICW2, ICW3 (cascade), ICW4 follow */
		c->icw_step = 2;
		c->need_icw4 = v & 1;
		c->imr = c->isr = c->irr = 0;
		c->auto_eoi = false;
		c->read_isr = 0;
		return;
	}
	if (reg == 1 && c->icw_step) {
		if (c->icw_step == 2) {
			c->base = v & 0xf8;
			c->icw_step = 3;
		} else if (c->icw_step == 3) {
			c->icw_step = c->need_icw4 ? 4 : 0;
		} else {
			c->auto_eoi = (v & 2) != 0;
			c->icw_step = 0;
		}
		return;
	}
	if (reg == 1) {
		c->imr = v;
		pic_update(p);
		return;
	}
	if ((v & 0x18) == 0x08) { /* OCW3 */
		if (v & 2)
			c->read_isr = v & 1;
		return;
	}
	if ((v & 0x18) == 0) { /* OCW2 */
		unsigned cmd = v >> 5;
		if (cmd == 1) { /* non-specific EOI */
			for (int i = 0; i < 8; i++)
				if (c->isr & (1u << i)) {
					c->isr &= (uint8_t)~(1u << i);
					break;
				}
		} else if (cmd == 3) { /* specific EOI */
			c->isr &= (uint8_t)~(1u << (v & 7));
		}
		pic_update(p);
	}
}

/* ---- I/O APIC ------------------------------------------------------------ */

static void ioapic_service(struct tcg_platform *p, unsigned pin)
{
	struct tcg_ioapic *io = &p->ioapic;
	uint64_t r = io->redir[pin];
	bool level_mode = (r >> 15) & 1;
	if (r & (1u << 16))
		return;
	if (level_mode) {
		if (!(io->level & (1u << pin)) || (r & (1u << 14)))
			return;
		io->redir[pin] |= 1u << 14; /* remote IRR */
	}
	unsigned mode = (r >> 8) & 7;
	if (mode == 7) { /* ExtINT: ask the 8259 */
		pic_update(p);
		return;
	}
	tcg_apic_send(p, NULL, 0, (uint8_t)(r >> 56), (r >> 11) & 1, mode, r & 0xff, level_mode);
}

static void ioapic_set_line(struct tcg_platform *p, unsigned pin, bool level)
{
	struct tcg_ioapic *io = &p->ioapic;
	bool was = (io->level >> pin) & 1;
	if (level)
		io->level |= 1u << pin;
	else
		io->level &= ~(1u << pin);
	bool level_mode = (io->redir[pin] >> 15) & 1;
	if (level && (level_mode || !was))
		ioapic_service(p, pin);
}

void tcg_ioapic_eoi(struct tcg_platform *p, unsigned vector)
{
	struct tcg_ioapic *io = &p->ioapic;
	for (unsigned pin = 0; pin < TCG_IOAPIC_PINS; pin++) {
		if ((io->redir[pin] & 0xff) != vector || !(io->redir[pin] & (1u << 14)))
			continue;
		io->redir[pin] &= ~(1ULL << 14);
		ioapic_service(p, pin);
	}
}

static uint32_t ioapic_read(struct tcg_ioapic *io, unsigned off)
{
	if (off == 0)
		return io->sel;
	if (off != 0x10)
		return 0;
	unsigned r = io->sel & 0xff;
	if (r == 0)
		return io->id;
	if (r == 1)
		return 0x00170011; /* 24 pins, version 0x11 */
	if (r == 2)
		return io->id;
	if (r >= 0x10 && r < 0x10 + 2 * TCG_IOAPIC_PINS) {
		uint64_t e = io->redir[(r - 0x10) / 2];
		return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0;
}

static void ioapic_write(struct tcg_platform *p, unsigned off, uint32_t v)
{
	struct tcg_ioapic *io = &p->ioapic;
	if (off == 0) {
		io->sel = v;
		return;
	}
	if (off == 0x40) {
		tcg_ioapic_eoi(p, v & 0xff);
		return;
	}
	if (off != 0x10)
		return;
	unsigned r = io->sel & 0xff;
	if (r == 0) {
		io->id = v & 0x0f000000u;
	} else if (r >= 0x10 && r < 0x10 + 2 * TCG_IOAPIC_PINS) {
		unsigned pin = (r - 0x10) / 2;
		uint64_t e = io->redir[pin];
		if (r & 1)
			e = (e & 0xffffffffULL) | (uint64_t)v << 32;
		else
			e = (e & ~0xffffffffULL) | (v & ~(1u << 14) & ~(1u << 12)) |
			    (e & (1u << 14));
		io->redir[pin] = e;
		ioapic_service(p, pin);
	}
}

/* ---- 8254 PIT (channel 0 drives IRQ0; channel 2 only for port 0x61) ----- */

static uint64_t pit_ticks(uint64_t ns)
{
	return (ns * PIT_HZ) / NS;
}

static uint16_t pit_count(struct tcg_pit_channel *ch, uint64_t now)
{
	if (!ch->running)
		return ch->reload;
	uint64_t period = ch->reload ? ch->reload : 65536;
	uint64_t t = pit_ticks(now - ch->start);
	if (ch->mode == 0 || ch->mode == 1)
		return t >= period ? 0 : (uint16_t)(period - t);
	return (uint16_t)(period - t % period);
}

static void pit_arm(struct tcg_platform *p, uint64_t now)
{
	struct tcg_pit_channel *ch = &p->pit[0];
	uint64_t period = ch->reload ? ch->reload : 65536;
	ch->start = now;
	ch->running = true;
	p->pit_next = now + period * NS / PIT_HZ;
	pthread_cond_signal(&p->cond);
}

static void pit_fire(struct tcg_platform *p, uint64_t now)
{
	struct tcg_pit_channel *ch = &p->pit[0];
	if (!p->pit_next || now < p->pit_next)
		return;
	pic_set_line(p, 0, true);
	pic_set_line(p, 0, false);
	ioapic_set_line(p, 2, true); /* ISA IRQ0 is I/O APIC pin 2 (MP table) */
	ioapic_set_line(p, 2, false);
	uint64_t period_ns = (ch->reload ? ch->reload : 65536) * NS / PIT_HZ;
	if ((ch->mode == 2 || ch->mode == 3) && period_ns) {
		uint64_t late = (now - p->pit_next) / period_ns;
		p->pit_next += (late + 1) * period_ns;
	} else {
		p->pit_next = 0;
	}
}

static uint8_t pit_read(struct tcg_platform *p, unsigned n)
{
	struct tcg_pit_channel *ch = &p->pit[n];
	uint16_t v = ch->latched ? ch->latch : pit_count(ch, tcg_now_ns());
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

static void pit_write(struct tcg_platform *p, unsigned port, uint8_t v)
{
	uint64_t now = tcg_now_ns();
	if (port == 0x43) {
		unsigned n = v >> 6;
		if (n == 3)
			return; /* read-back: not needed by our guests */
		struct tcg_pit_channel *ch = &p->pit[n];
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
	struct tcg_pit_channel *ch = &p->pit[n];
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

/* ---- glue ---------------------------------------------------------------- */

static void poll_locked(struct tcg_platform *p)
{
	uint64_t now = tcg_now_ns();
	for (unsigned i = 0; i < p->nr_lapics; i++)
		tcg_lapic_timer_fire(&p->lapic[i], now);
	pit_fire(p, now);
}

static uint64_t deadline_locked(struct tcg_platform *p)
{
	uint64_t d = UINT64_MAX;
	for (unsigned i = 0; i < p->nr_lapics; i++)
		if (p->lapic[i].timer_deadline && p->lapic[i].timer_deadline < d)
			d = p->lapic[i].timer_deadline;
	if (p->pit_next && p->pit_next < d)
		d = p->pit_next;
	return d;
}

static void *timer_thread(void *arg)
{
	struct tcg_platform *p = arg;
	pthread_mutex_lock(&p->lock);
	while (!p->quit) {
		uint64_t d = deadline_locked(p);
		if (d == UINT64_MAX) {
			pthread_cond_wait(&p->cond, &p->lock);
		} else if (tcg_now_ns() < d) {
			struct timespec ts = { .tv_sec = (time_t)(d / NS), .tv_nsec = (long)(d % NS) };
			pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		}
		poll_locked(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int tcg_platform_init(struct tcg_platform *p, struct vm *vm)
{
	memset(p, 0, sizeof(*p));
	p->vm = vm;
	p->nr_lapics = vm->cfg.nr_vcpus < TCG_MAX_LAPICS ? vm->cfg.nr_vcpus : TCG_MAX_LAPICS;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	for (unsigned i = 0; i < TCG_MAX_LAPICS; i++)
		tcg_lapic_reset(&p->lapic[i], i);
	for (unsigned i = 0; i < TCG_IOAPIC_PINS; i++)
		p->ioapic.redir[i] = 1u << 16;
	p->pic[0].imr = p->pic[1].imr = 0xff;
	for (int i = 0; i < 3; i++)
		p->pit[i].access = 3;
	int rc = pthread_create(&p->thread, NULL, timer_thread, p);
	if (rc)
		return -rc;
	p->thread_started = true;
	return 0;
}

void tcg_platform_destroy(struct tcg_platform *p)
{
	if (p->thread_started) {
		pthread_mutex_lock(&p->lock);
		p->quit = true;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
		p->thread_started = false;
	}
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

void tcg_platform_attach(struct tcg_platform *p, unsigned id,
			 void (*notify)(void *ctx, unsigned what), void *ctx)
{
	if (id >= p->nr_lapics)
		return;
	pthread_mutex_lock(&p->lock);
	p->lapic[id].notify = notify;
	p->lapic[id].notify_ctx = ctx;
	pthread_mutex_unlock(&p->lock);
}

bool tcg_platform_pio(struct tcg_platform *p, struct io_access *a)
{
	unsigned port = (unsigned)a->addr;
	bool pic = port == 0x20 || port == 0x21 || port == 0xa0 || port == 0xa1;
	bool pit = port >= 0x40 && port <= 0x43;
	bool elcr = port == 0x4d0 || port == 0x4d1;
	if (!pic && !pit && !elcr && port != 0x61)
		return false;
	pthread_mutex_lock(&p->lock);
	uint8_t v = (uint8_t)a->data;
	if (pic) {
		struct tcg_pic *c = &p->pic[port >= 0xa0];
		if (a->is_write)
			pic_write(p, c, port & 1, v);
		else
			a->data = pic_read(c, port & 1);
	} else if (pit) {
		if (a->is_write)
			pit_write(p, port, v);
		else
			a->data = port == 0x43 ? 0xff : pit_read(p, port - 0x40);
	} else if (elcr) {
		if (a->is_write)
			p->pic[port & 1].elcr = v;
		else
			a->data = p->pic[port & 1].elcr;
	} else {
		if (a->is_write) {
			p->port61 = v & 0x0f;
			p->pit[2].gate = v & 1;
		} else {
			/* bit 5: channel 2 output, toggling; bit 4: refresh, toggling */
			uint64_t t = pit_ticks(tcg_now_ns());
			uint8_t out2 = p->pit[2].running && pit_count(&p->pit[2], tcg_now_ns()) <
						       (p->pit[2].reload ? p->pit[2].reload : 65536) / 2;
			a->data = p->port61 | (uint8_t)((t & 16) ? 0x10 : 0) | (uint8_t)(out2 << 5);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return true;
}

bool tcg_platform_mmio(struct tcg_platform *p, unsigned id, struct io_access *a)
{
	bool lapic = a->addr >= TCG_LAPIC_BASE && a->addr < TCG_LAPIC_BASE + 0x1000;
	bool ioapic = a->addr >= TCG_IOAPIC_BASE && a->addr < TCG_IOAPIC_BASE + 0x100;
	if ((!lapic && !ioapic) || id >= p->nr_lapics)
		return false;
	struct tcg_lapic *l = &p->lapic[id]; /* each vCPU sees its own at 0xFEE00000 */
	pthread_mutex_lock(&p->lock);
	unsigned off = (unsigned)(a->addr & (lapic ? 0xff0 : 0xf0));
	unsigned shift = 8 * (unsigned)(a->addr & 3);
	if (a->is_write) {
		uint32_t v = (uint32_t)(a->data << shift);
		if (lapic)
			tcg_lapic_write(p, l, off, v);
		else
			ioapic_write(p, off, v);
	} else {
		uint32_t v = lapic ? tcg_lapic_read(p, l, off) : ioapic_read(&p->ioapic, off);
		a->data = a->size >= 8 ? v : (v >> shift) & ((1ULL << (8 * a->size)) - 1);
	}
	pthread_mutex_unlock(&p->lock);
	return true;
}

int tcg_platform_irq_line(struct tcg_platform *p, unsigned gsi, bool level)
{
	if (gsi >= TCG_IOAPIC_PINS)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	if (gsi < 16 && gsi != 2)
		pic_set_line(p, gsi, level);
	/* ISA IRQ0 is pin 2; the other ISA IRQs are their own pins (MP table). */
	ioapic_set_line(p, gsi == 0 ? 2 : gsi, level);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int tcg_platform_msi(struct tcg_platform *p, uint64_t addr, uint32_t data)
{
	unsigned mode = (data >> 8) & 7;
	if (mode != 0 && mode != 1 && mode != 4)
		return -EOPNOTSUPP; /* fixed, lowest priority, NMI; SMI, INIT, ExtINT not modelled */
	pthread_mutex_lock(&p->lock);
	/* Destination ID in address bits 19:12, destination mode in bit 2. */
	tcg_apic_send(p, NULL, 0, (uint8_t)(addr >> 12), (addr >> 2) & 1, mode, data & 0xff,
		      (data >> 15) & 1);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int tcg_platform_next_irq(struct tcg_platform *p, unsigned id, bool intr_ok)
{
	if (id >= p->nr_lapics)
		return -1;
	struct tcg_lapic *l = &p->lapic[id];
	pthread_mutex_lock(&p->lock);
	int vector = -1;
	int irr = tcg_lapic_highest(l->irr), isr = tcg_lapic_highest(l->isr);
	bool enabled = (l->svr & SVR_ENABLE) != 0;
	if (l->nmi_pending) {
		l->nmi_pending = false;
		vector = 2;
	} else if (!intr_ok) {
		vector = -1;
	} else if (irr >= 0 && enabled && (isr < 0 || (irr & 0xf0) > (isr & 0xf0)) &&
		   (irr & 0xf0) > (int)(l->tpr & 0xf0)) {
		l->irr[irr / 32] &= ~(1u << (irr % 32));
		l->isr[irr / 32] |= 1u << (irr % 32);
		vector = irr;
	} else if (id == 0 && (!enabled || ((l->lvt[LVT_LINT0] >> 8) & 7) == 7) &&
		   !(enabled && (l->lvt[LVT_LINT0] & LVT_MASKED))) {
		/* The 8259 reaches the CPU through LINT0 (virtual wire) or directly. */
		vector = pic_ack(p);
	}
	pthread_mutex_unlock(&p->lock);
	return vector;
}

unsigned tcg_platform_take_startup(struct tcg_platform *p, unsigned id, uint8_t *sipi_vector)
{
	if (id >= p->nr_lapics)
		return 0;
	struct tcg_lapic *l = &p->lapic[id];
	unsigned what = 0;
	pthread_mutex_lock(&p->lock);
	if (l->init_pending)
		what |= TCG_STARTUP_INIT;
	if (l->sipi_vector >= 0) {
		what |= TCG_STARTUP_SIPI;
		*sipi_vector = (uint8_t)l->sipi_vector;
	}
	l->init_pending = false;
	l->sipi_vector = -1;
	pthread_mutex_unlock(&p->lock);
	return what;
}

void tcg_platform_poll(struct tcg_platform *p)
{
	pthread_mutex_lock(&p->lock);
	poll_locked(p);
	pthread_mutex_unlock(&p->lock);
}

uint64_t tcg_platform_deadline(struct tcg_platform *p)
{
	pthread_mutex_lock(&p->lock);
	uint64_t d = deadline_locked(p);
	pthread_mutex_unlock(&p->lock);
	return d;
}
