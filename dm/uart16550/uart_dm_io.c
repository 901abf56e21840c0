/* SPDX-License-Identifier: MIT */
/*
 * Request glue of the UART device model: validates each IOREQ (it comes
 * through memory shared with the VMM, so it is untrusted) and applies it to
 * the register model in lib/uart16550/uart16550_regs.c byte by byte, as the
 * in-VMM src/dev/uart16550.c does, and keeps the receive side's gate
 * (uart_dm_rx_confirmed). Output and interrupts are the caller's.
 */
#include "uart_dm_io.h"

void uart_dm_init(struct uart_dm *d, uint16_t base, void (*tx)(void *, uint8_t),
		  void (*irq)(void *, bool), void *opaque)
{
	*d = (struct uart_dm){ .base = base };
	uart16550_regs_init(&d->regs, tx, irq, opaque);
}

static void apply_access(struct uart_dm *d, struct ioreqvm_ioreq *req, unsigned reg,
			  bool is_read);

static bool valid_size(uint32_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

void uart_dm_access(struct uart_dm *d, struct ioreqvm_ioreq *req)
{
	bool is_read = req->dir == IOREQVM_IOREQ_READ;
	d->nr_requests++;
	if (req->type != IOREQVM_IOREQ_TYPE_PIO || req->data_is_ptr || !valid_size(req->size) ||
	    req->addr < d->base || req->addr - d->base >= UART_NR_REGS) {
		d->nr_ignored++;
		if (is_read)
			req->data = ~0ULL;
		return;
	}
	unsigned reg = (unsigned)(req->addr - d->base);
	bool rx_was_on = d->regs.ier & UART_IER_RDI;
	bool touches_ier = reg <= UART_IER && reg + req->size > UART_IER;
	apply_access(d, req, reg, is_read);
	bool rx_on = d->regs.ier & UART_IER_RDI;
	if (rx_on && !rx_was_on) {
		d->rx_epoch++;
		d->rx_confirmed = false;
	} else if (!rx_on) {
		d->rx_confirmed = false;
	} else if (!touches_ier) {
		d->rx_confirmed = true;
	}
}

static void apply_access(struct uart_dm *d, struct ioreqvm_ioreq *req, unsigned reg, bool is_read)
{
	if (!is_read) {
		/* A wider access covers consecutive registers, low byte first. */
		for (unsigned i = 0; i < req->size && reg + i < UART_NR_REGS; i++)
			uart16550_regs_write(&d->regs, reg + i, (uint8_t)(req->data >> (8 * i)));
		return;
	}
	uint64_t v = ~0ULL;
	for (unsigned i = 0; i < req->size && reg + i < UART_NR_REGS; i++) {
		v &= ~(0xffULL << (8 * i));
		v |= (uint64_t)uart16550_regs_read(&d->regs, reg + i) << (8 * i);
	}
	req->data = v;
}
