/* SPDX-License-Identifier: MIT */
/*
 * uart_rx: receives a line on COM1 by interrupt. COM1 is the UART device
 * model; its IRQ 4 is routed through the I/O APIC to this CPU's local APIC
 * (the 8259s masked), the receive interrupt enabled (IER bit 0, MCR OUT2),
 * and the handler drains the FIFO while LSR says data is ready. The line it
 * got is printed; the test feeds it with `ioreqvm-uart16550 --input FILE`.
 */
#include "guest.h"

#define COM1 0x3f8
#define IOAPIC 0xFEC00000u
#define LAPIC 0xFEE00000u
#define RX_VECTOR 0x29 /* the I/O APIC routes IRQ 4 here (the kit has gates 0-255) */
#define UART_IRQ 4

static volatile unsigned got, interrupts;
static char line[128];

static void on_rx(struct guest_frame *f)
{
	(void)f;
	interrupts++;
	while (guest_inb(COM1 + 5) & 1) { /* LSR.DR */
		char c = (char)guest_inb(COM1);
		if (got < sizeof(line) - 1)
			line[got++] = c;
	}
	guest_write32(LAPIC + 0xB0, 0); /* EOI */
}

static void ioapic_write(unsigned reg, uint32_t v)
{
	guest_write32(IOAPIC, reg);
	guest_write32(IOAPIC + 0x10, v);
}

static bool have_line(void)
{
	return got && line[got - 1] == '\n';
}

int guest_main(void)
{
	guest_outb(0x21, 0xff); /* both 8259s masked: the I/O APIC delivers */
	guest_outb(0xa1, 0xff);
	guest_set_handler(RX_VECTOR, on_rx);
	guest_write32(LAPIC + 0xF0, 0x1FF); /* SVR: APIC on */
	ioapic_write(0x11 + 2 * UART_IRQ, guest_lapic_id() << 24);
	ioapic_write(0x10 + 2 * UART_IRQ, RX_VECTOR); /* fixed, edge, high, unmasked */
	guest_outb(COM1 + 4, 0x0B); /* DTR, RTS, OUT2 */
	guest_outb(COM1 + 1, 0x01); /* IER: received data available */
	while (!have_line())
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	guest_outb(COM1 + 1, 0x00);
	line[got - 1] = 0;
	guest_printf("uart_rx: got \"%s\" in %u interrupts\n", line, interrupts);
	return interrupts ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL;
}
