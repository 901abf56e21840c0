/* SPDX-License-Identifier: MIT */
/*
 * The 8259 pair (K5): edge-triggered lines, the slave cascaded on IRQ2,
 * ICW1-4, the mask, EOIs (non-specific and specific), OCW3 reads of IRR or
 * ISR, and INTA. The pair reaches vCPU 0 through LINT0 (irqchip_next_irq
 * decides when). ELCR is a plain register here, served by irqchip.c.
 */
#include "irqchip/irqchip_priv.h"

static int pic_pending(const struct pic8259 *c)
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

void pic_update(struct irqchip *p)
{
	/* Slave output is master IRQ2. */
	struct pic8259 *m = &p->pic[0], *s = &p->pic[1];
	if (pic_pending(s) >= 0)
		m->irr |= 1u << 2;
	else if (!(m->isr & (1u << 2)))
		m->irr &= ~(1u << 2);
	struct lapic *l = &p->lapic[0];
	if (pic_pending(m) >= 0 && l->notify)
		l->notify(l->notify_ctx, IRQCHIP_NOTIFY_IRQ);
}

void pic_set_line(struct irqchip *p, unsigned irq, bool level)
{
	struct pic8259 *c = &p->pic[irq / 8];
	uint8_t bit = (uint8_t)(1u << (irq % 8));
	if (level && !(c->lines & bit))
		c->irr |= bit; /* edge triggered */
	if (level)
		c->lines |= bit;
	else
		c->lines &= ~bit;
	pic_update(p);
}

int pic_ack(struct irqchip *p)
{
	struct pic8259 *m = &p->pic[0], *s = &p->pic[1];
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

uint8_t pic_read(struct pic8259 *c, unsigned reg)
{
	if (reg == 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

void pic_write(struct irqchip *p, struct pic8259 *c, unsigned reg, uint8_t v)
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
