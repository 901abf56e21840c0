/* SPDX-License-Identifier: MIT */
/*
 * The I/O APIC (K5): 24 pins, edge and level triggered (level with remote
 * IRR, cleared by the local APICs' EOI or the EOI register), physical and
 * logical destinations over the APIC bus (lapic.c); ExtINT pins hand over
 * to the 8259 pair (pic.c). Which GSI drives which pin is irqchip.c's.
 */
#include "irqchip/irqchip_priv.h"

static void ioapic_service(struct irqchip *p, unsigned pin)
{
	struct ioapic *io = &p->ioapic;
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
	lapic_bus_send(p, NULL, 0, (uint8_t)(r >> 56), (r >> 11) & 1, mode, r & 0xff, level_mode);
}

void ioapic_set_line(struct irqchip *p, unsigned pin, bool level)
{
	struct ioapic *io = &p->ioapic;
	bool was = (io->level >> pin) & 1;
	if (level)
		io->level |= 1u << pin;
	else
		io->level &= ~(1u << pin);
	bool level_mode = (io->redir[pin] >> 15) & 1;
	if (level && (level_mode || !was))
		ioapic_service(p, pin);
}

void ioapic_eoi(struct irqchip *p, unsigned vector)
{
	struct ioapic *io = &p->ioapic;
	for (unsigned pin = 0; pin < IRQCHIP_IOAPIC_PINS; pin++) {
		if ((io->redir[pin] & 0xff) != vector || !(io->redir[pin] & (1u << 14)))
			continue;
		io->redir[pin] &= ~(1ULL << 14);
		ioapic_service(p, pin);
	}
}

uint32_t ioapic_read(struct ioapic *io, unsigned off)
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
	if (r >= 0x10 && r < 0x10 + 2 * IRQCHIP_IOAPIC_PINS) {
		uint64_t e = io->redir[(r - 0x10) / 2];
		return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0;
}

void ioapic_write(struct irqchip *p, unsigned off, uint32_t v)
{
	struct ioapic *io = &p->ioapic;
	if (off == 0) {
		io->sel = v;
		return;
	}
	if (off == 0x40) {
		ioapic_eoi(p, v & 0xff);
		return;
	}
	if (off != 0x10)
		return;
	unsigned r = io->sel & 0xff;
	if (r == 0) {
		io->id = v & 0x0f000000u;
	} else if (r >= 0x10 && r < 0x10 + 2 * IRQCHIP_IOAPIC_PINS) {
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
