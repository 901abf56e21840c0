/* SPDX-License-Identifier: MIT */
/*
 * The irqchip's entry points (irqchip.h): init and teardown, the timer
 * thread, which device serves a port or MMIO access, IRQ lines (GSIs to the
 * 8259 pair and I/O APIC pins), MSIs, which interrupt a vCPU takes next and
 * its INIT/SIPI. The devices themselves are pic.c, ioapic.c, lapic.c, pit.c.
 */
#include "irqchip/irqchip.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/vm.h"
#include "irqchip/irqchip_priv.h"

uint64_t irqchip_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void poll_locked(struct irqchip *p)
{
	uint64_t now = irqchip_now_ns();
	for (unsigned i = 0; i < p->nr_lapics; i++)
		lapic_timer_fire(&p->lapic[i], now);
	pit_fire(p, now);
}

static uint64_t deadline_locked(struct irqchip *p)
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
	struct irqchip *p = arg;
	pthread_mutex_lock(&p->lock);
	while (!p->quit) {
		uint64_t d = deadline_locked(p);
		if (d == UINT64_MAX) {
			pthread_cond_wait(&p->cond, &p->lock);
		} else if (irqchip_now_ns() < d) {
			struct timespec ts = { .tv_sec = (time_t)(d / NS_PER_SEC),
					       .tv_nsec = (long)(d % NS_PER_SEC) };
			pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		}
		poll_locked(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int irqchip_init(struct irqchip *p, struct vm *vm)
{
	memset(p, 0, sizeof(*p));
	p->vm = vm;
	p->nr_lapics =
		vm->cfg.nr_vcpus < IRQCHIP_MAX_LAPICS ? vm->cfg.nr_vcpus : IRQCHIP_MAX_LAPICS;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	for (unsigned i = 0; i < IRQCHIP_MAX_LAPICS; i++)
		lapic_reset(&p->lapic[i], i);
	for (unsigned i = 0; i < IRQCHIP_IOAPIC_PINS; i++)
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

void irqchip_destroy(struct irqchip *p)
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

void irqchip_attach(struct irqchip *p, unsigned id,
		    void (*notify)(void *ctx, unsigned what), void *ctx)
{
	if (id >= p->nr_lapics)
		return;
	pthread_mutex_lock(&p->lock);
	p->lapic[id].notify = notify;
	p->lapic[id].notify_ctx = ctx;
	pthread_mutex_unlock(&p->lock);
}

bool irqchip_pio(struct irqchip *p, struct io_access *a)
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
		struct pic8259 *c = &p->pic[port >= 0xa0];
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
		if (a->is_write)
			pit_port61_write(p, v);
		else
			a->data = pit_port61_read(p);
	}
	pthread_mutex_unlock(&p->lock);
	return true;
}

bool irqchip_mmio(struct irqchip *p, unsigned id, struct io_access *a)
{
	bool lapic = a->addr >= IRQCHIP_LAPIC_BASE && a->addr < IRQCHIP_LAPIC_BASE + 0x1000;
	bool ioapic = a->addr >= IRQCHIP_IOAPIC_BASE && a->addr < IRQCHIP_IOAPIC_BASE + 0x100;
	if ((!lapic && !ioapic) || id >= p->nr_lapics)
		return false;
	struct lapic *l = &p->lapic[id]; /* each vCPU sees its own at 0xFEE00000 */
	pthread_mutex_lock(&p->lock);
	unsigned off = (unsigned)(a->addr & (lapic ? 0xff0 : 0xf0));
	unsigned shift = 8 * (unsigned)(a->addr & 3);
	if (a->is_write) {
		uint32_t v = (uint32_t)(a->data << shift);
		if (lapic)
			lapic_write(p, l, off, v);
		else
			ioapic_write(p, off, v);
	} else {
		uint32_t v = lapic ? lapic_read(p, l, off) : ioapic_read(&p->ioapic, off);
		a->data = a->size >= 8 ? v : (v >> shift) & ((1ULL << (8 * a->size)) - 1);
	}
	pthread_mutex_unlock(&p->lock);
	return true;
}

int irqchip_irq_line(struct irqchip *p, unsigned gsi, bool level)
{
	if (gsi >= IRQCHIP_IOAPIC_PINS)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	if (gsi < 16 && gsi != 2)
		pic_set_line(p, gsi, level);
	/* ISA IRQ0 is pin 2; the other ISA IRQs are their own pins (MP table). */
	ioapic_set_line(p, gsi == 0 ? 2 : gsi, level);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int irqchip_msi(struct irqchip *p, uint64_t addr, uint32_t data)
{
	unsigned mode = (data >> 8) & 7;
	if (mode != 0 && mode != 1 && mode != 4)
		return -EOPNOTSUPP; /* fixed, lowest priority, NMI; SMI, INIT, ExtINT not modelled */
	pthread_mutex_lock(&p->lock);
	/* Destination ID in address bits 19:12, destination mode in bit 2. */
	lapic_bus_send(p, NULL, 0, (uint8_t)(addr >> 12), (addr >> 2) & 1, mode, data & 0xff,
		       (data >> 15) & 1);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Would vCPU @id take a maskable interrupt now if it had IF set? (lock held) */
static bool maskable_ready(struct irqchip *p, unsigned id)
{
	struct lapic *l = &p->lapic[id];
	int irr = lapic_highest(l->irr), isr = lapic_highest(l->isr);
	bool enabled = (l->svr & SVR_ENABLE) != 0;
	if (irr >= 0 && enabled && (isr < 0 || (irr & 0xf0) > (isr & 0xf0)) &&
	    (irr & 0xf0) > (int)(l->tpr & 0xf0))
		return true;
	if (id != 0 || !(!enabled || ((l->lvt[LVT_LINT0] >> 8) & 7) == 7) ||
	    (enabled && (l->lvt[LVT_LINT0] & LVT_MASKED)))
		return false;
	const struct pic8259 *m = &p->pic[0];
	uint8_t req = m->irr & ~m->imr;
	for (int i = 0; i < 8 && req; i++) {
		if (m->isr & (1u << i))
			return false;
		if (req & (1u << i))
			return true;
	}
	return false;
}

bool irqchip_irq_ready(struct irqchip *p, unsigned id)
{
	if (id >= p->nr_lapics)
		return false;
	pthread_mutex_lock(&p->lock);
	bool ready = maskable_ready(p, id);
	pthread_mutex_unlock(&p->lock);
	return ready;
}

int irqchip_next_irq(struct irqchip *p, unsigned id, bool intr_ok)
{
	if (id >= p->nr_lapics)
		return -1;
	struct lapic *l = &p->lapic[id];
	pthread_mutex_lock(&p->lock);
	int vector = -1;
	int irr = lapic_highest(l->irr), isr = lapic_highest(l->isr);
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

unsigned irqchip_take_startup(struct irqchip *p, unsigned id, uint8_t *sipi_vector)
{
	if (id >= p->nr_lapics)
		return 0;
	struct lapic *l = &p->lapic[id];
	unsigned what = 0;
	pthread_mutex_lock(&p->lock);
	if (l->init_pending)
		what |= IRQCHIP_STARTUP_INIT;
	if (l->sipi_vector >= 0) {
		what |= IRQCHIP_STARTUP_SIPI;
		*sipi_vector = (uint8_t)l->sipi_vector;
	}
	l->init_pending = false;
	l->sipi_vector = -1;
	pthread_mutex_unlock(&p->lock);
	return what;
}

void irqchip_poll(struct irqchip *p)
{
	pthread_mutex_lock(&p->lock);
	poll_locked(p);
	pthread_mutex_unlock(&p->lock);
}

uint64_t irqchip_deadline(struct irqchip *p)
{
	pthread_mutex_lock(&p->lock);
	uint64_t d = deadline_locked(p);
	pthread_mutex_unlock(&p->lock);
	return d;
}
