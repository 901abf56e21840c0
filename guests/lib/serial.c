/* SPDX-License-Identifier: MIT */
/*
 * COM1 16550 output, polled: wait for LSR.THRE (bit 5) before each byte.
 * Init is five port writes (115200 8N1, interrupts off).
 */
#include "guest.h"
#include "kit.h"

#define COM1 0x3f8

void kit_serial_init(void)
{
	guest_outb(COM1 + 1, 0x00); /* IER: no interrupts */
	guest_outb(COM1 + 3, 0x80); /* LCR: DLAB */
	guest_outb(COM1 + 0, 0x01); /* divisor 1: 115200 */
	guest_outb(COM1 + 1, 0x00);
	guest_outb(COM1 + 3, 0x03); /* 8N1 */
}

void guest_putc(char c)
{
	while (!(guest_inb(COM1 + 5) & 0x20))
		guest_pause();
	guest_outb(COM1, (uint8_t)c);
}

void guest_puts(const char *s)
{
	while (*s)
		guest_putc(*s++);
}
