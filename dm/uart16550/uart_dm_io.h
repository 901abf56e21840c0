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

#endif
