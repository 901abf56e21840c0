/* SPDX-License-Identifier: MIT */
/*
 * What the irqchip's device files (pic.c, ioapic.c, lapic.c, pit.c,
 * irqchip.c) share with each other and nobody else. Everything declared
 * here runs with the irqchip's lock held.
 */
#ifndef IOREQVM_IRQCHIP_PRIV_H
#define IOREQVM_IRQCHIP_PRIV_H

#include "irqchip/irqchip.h"

#define NS_PER_SEC 1000000000ULL

/* Local APIC registers' bits, for lapic.c and irqchip_next_irq. */
#define LVT_TIMER 0
#define LVT_LINT0 3
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define SVR_ENABLE (1u << 8)

/* ---- pic.c: the 8259 pair ---- */
/* Recompute the cascade (IRQ2) and wake vCPU 0 if the pair has an IRQ for it. */
void pic_update(struct irqchip *p);
void pic_set_line(struct irqchip *p, unsigned irq, bool level);
/* INTA: the vector the pair answers with, or -1. */
int pic_ack(struct irqchip *p);
uint8_t pic_read(struct pic8259 *c, unsigned reg);
void pic_write(struct irqchip *p, struct pic8259 *c, unsigned reg, uint8_t v);

/* ---- ioapic.c ---- */
void ioapic_set_line(struct irqchip *p, unsigned pin, bool level);
/* The I/O APIC's end of an EOI of a level-triggered @vector. */
void ioapic_eoi(struct irqchip *p, unsigned vector);
uint32_t ioapic_read(struct ioapic *io, unsigned off);
void ioapic_write(struct irqchip *p, unsigned off, uint32_t v);

/* ---- lapic.c: the local APICs and the APIC bus ---- */
void lapic_reset(struct lapic *l, unsigned id);
uint32_t lapic_read(struct irqchip *p, struct lapic *l, unsigned off);
void lapic_write(struct irqchip *p, struct lapic *l, unsigned off, uint32_t v);
void lapic_timer_fire(struct lapic *l, uint64_t now);
/* Highest set bit of a 256-bit APIC register, -1 if none. */
int lapic_highest(const uint32_t *v);
/*
 * Send an interrupt message as the APIC bus would: to @dest (an APIC id, or
 * a logical mask when @logical), or by @shorthand (1 self, 2 all, 3 all but
 * @src), with delivery @mode (0 fixed, 1 lowest priority, 4 NMI, 5 INIT,
 * 6 SIPI; others dropped). From the ICR, the I/O APIC and MSIs.
 */
void lapic_bus_send(struct irqchip *p, struct lapic *src, unsigned shorthand, uint8_t dest,
		    bool logical, unsigned mode, unsigned vector, bool level);

/* ---- pit.c: the 8254 and port 0x61 ---- */
/* Raise IRQ0 if channel 0 is due at @now, and set its next deadline. */
void pit_fire(struct irqchip *p, uint64_t now);
uint8_t pit_read(struct irqchip *p, unsigned n);
void pit_write(struct irqchip *p, unsigned port, uint8_t v);
uint8_t pit_port61_read(struct irqchip *p);
void pit_port61_write(struct irqchip *p, uint8_t v);

#endif
