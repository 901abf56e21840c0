/* SPDX-License-Identifier: MIT */
/*
 * The UART device model's request glue: turns one IOREQ (a port access of
 * 1-8 bytes) into register accesses on the 16550 model, low byte first.
 * Free of libioreq and sockets so it is unit-tested alone; the interrupt
 * line and the transmitted bytes leave through the callbacks given here.
 */
#ifndef IOREQVM_UART_DM_IO_H
#define IOREQVM_UART_DM_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "ioreqvm/ioreq_abi.h"
#include "uart16550_regs.h"

struct uart_dm {
	struct uart16550_regs regs;
	uint16_t base; /* first port: 8 registers from here */
	uint64_t nr_requests, nr_ignored; /* requests served; of them, outside the UART */
	/*
	 * The receive side's gate (DESIGN L3): rx_epoch counts the times the
	 * guest turned its receive interrupt (IER bit 0) on; rx_confirmed says
	 * it has since accessed a register other than IER/DLM.
	 */
	uint64_t rx_epoch;
	bool rx_confirmed;
};

void uart_dm_init(struct uart_dm *d, uint16_t base, void (*tx)(void *, uint8_t),
		  void (*irq)(void *, bool), void *opaque);
/*
 * Serve one request (a libioreq_handler_fn body). A PIO access inside
 * [base, base + 8) of size 1, 2, 4 or 8 covers that many consecutive
 * registers; bytes past the last register read as all ones and are dropped
 * on write. Anything else (other types, sizes, addresses) reads all ones.
 */
void uart_dm_access(struct uart_dm *d, struct ioreqvm_ioreq *req);
/*
 * The guest listens for received data: its receive interrupt is on and it
 * touched another register since turning it on. A driver probing IER
 * (Linux's 8250 writes 0x0f, reads it back, restores it, then clears the
 * FIFO) is not listening, and input given then would be thrown away. The
 * caller may also open the gate after a while with the interrupt on (a
 * guest that turns it on and waits for the interrupt touches nothing).
 */
static inline bool uart_dm_rx_confirmed(const struct uart_dm *d)
{
	return (d->regs.ier & UART_IER_RDI) && d->rx_confirmed;
}

#endif
