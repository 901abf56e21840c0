/* SPDX-License-Identifier: MIT */
/*
 * 16550A register semantics. Interrupt sources, highest priority first:
 * received data, THR empty. The THR-empty interrupt is acknowledged by
 * reading IIR while it is the reported source, or by writing THR.
 */
#include "uart16550_regs.h"

#include <string.h>

static uint8_t iir_source(const struct uart16550_regs *u)
{
	if ((u->ier & UART_IER_RDI) && u->rx_count)
		return UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thri_pending)
		return UART_IIR_THRI;
	return UART_IIR_NO_INT;
}

static void update_irq(struct uart16550_regs *u)
{
	bool level = iir_source(u) != UART_IIR_NO_INT;
	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->irq)
			u->irq(u->opaque, level);
	}
}

void uart16550_regs_init(struct uart16550_regs *u, void (*tx)(void *, uint8_t),
			 void (*irq)(void *, bool), void *opaque)
{
	memset(u, 0, sizeof(*u));
	u->tx = tx;
	u->irq = irq;
	u->opaque = opaque;
	u->dll = 12; /* 9600 baud, the PC default */
	u->lcr = 0x03;
}

uint8_t uart16550_regs_read(struct uart16550_regs *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v = 0;
	switch (reg & 7) {
	case UART_RBR_THR:
		if (dlab)
			return u->dll;
		if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
			u->rx_count--;
			update_irq(u);
		}
		return v;
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		v = iir_source(u);
		if (v == UART_IIR_THRI) {
			u->thri_pending = false;
			update_irq(u);
		}
		return v | ((u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT | (u->rx_count ? UART_LSR_DR : 0);
	case UART_MSR:
		/* No modem: DCD, DSR and CTS asserted so polling drivers proceed. */
		return 0xb0;
	default:
		return u->scr;
	}
}

void uart16550_regs_write(struct uart16550_regs *u, unsigned reg, uint8_t val)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	switch (reg & 7) {
	case UART_RBR_THR:
		if (dlab) {
			u->dll = val;
			return;
		}
		if (u->mcr & UART_MCR_LOOP)
			uart16550_regs_receive(u, val);
		else if (u->tx)
			u->tx(u->opaque, val);
		/* Sent at once: THR is empty again and says so. */
		u->thri_pending = true;
		update_irq(u);
		return;
	case UART_IER:
		if (dlab) {
			u->dlm = val;
			return;
		}
		/* Enabling the THR-empty interrupt while THR is empty raises it. */
		if ((val & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
			u->thri_pending = true;
		u->ier = val & 0x0f;
		update_irq(u);
		return;
	case UART_IIR_FCR:
		u->fcr = val & 0xc9;
		if (val & UART_FCR_CLEAR_RX) {
			u->rx_head = u->rx_count = 0;
			update_irq(u);
		}
		return;
	case UART_LCR:
		u->lcr = val;
		return;
	case UART_MCR:
		u->mcr = val & 0x1f;
		return;
	case UART_LSR:
	case UART_MSR:
		return; /* read-only */
	default:
		u->scr = val;
		return;
	}
}

bool uart16550_regs_receive(struct uart16550_regs *u, uint8_t byte)
{
	if (u->rx_count == UART_FIFO_SIZE)
		return false;
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
	update_irq(u);
	return true;
}
