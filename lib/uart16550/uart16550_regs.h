/* SPDX-License-Identifier: MIT */
/*
 * Register model of a 16550A UART: THR/RBR, IER, IIR/FCR, LCR, MCR, LSR,
 * MSR, SCR and the divisor latch. Transmission is instant (THR is always
 * empty again); received bytes wait in a 16-byte FIFO. The caller serialises
 * access and owns the I/O. Shared by the VMM's built-in COM1
 * (src/dev/uart16550.c) and the UART device model (dm/uart16550/), it
 * includes neither side's headers and is unit-tested alone.
 */
#ifndef IOREQVM_UART16550_REGS_H
#define IOREQVM_UART16550_REGS_H

#include <stdbool.h>
#include <stdint.h>

enum {
	UART_RBR_THR = 0, /* DLAB=1: DLL */
	UART_IER = 1,     /* DLAB=1: DLM */
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
	UART_NR_REGS = 8,
};

#define UART_IER_RDI 0x01  /* received data available */
#define UART_IER_THRI 0x02 /* transmitter holding register empty */
#define UART_IIR_NO_INT 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_FIFO 0xc0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_LCR_DLAB 0x80
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MCR_LOOP 0x10
#define UART_FIFO_SIZE 16

struct uart16550_regs {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending; /* THR-empty interrupt raised and not yet acknowledged */
	uint8_t rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	void (*tx)(void *opaque, uint8_t byte);
	void (*irq)(void *opaque, bool level);
	void *opaque;
	bool irq_level;
};

void uart16550_regs_init(struct uart16550_regs *u, void (*tx)(void *, uint8_t),
			 void (*irq)(void *, bool), void *opaque);
uint8_t uart16550_regs_read(struct uart16550_regs *u, unsigned reg);
void uart16550_regs_write(struct uart16550_regs *u, unsigned reg, uint8_t val);
/* Queue a received byte; false if the FIFO is full (byte dropped, as hardware overruns). */
bool uart16550_regs_receive(struct uart16550_regs *u, uint8_t byte);

#endif
