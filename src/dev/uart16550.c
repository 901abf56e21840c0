/* SPDX-License-Identifier: MIT */
/*
 * The built-in COM1 UART: ports 0x3f8-0x3ff, IRQ 4, transmitting to the
 * VM's console fd. Glue only: register semantics live in
 * lib/uart16550/uart16550_regs.c. A mutex serialises vCPUs; the interrupt
 * line goes through the backend.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/vm.h"
#include "dev/device.h"
#include "uart16550_regs.h"

#define COM1_PORT 0x3f8
#define COM1_IRQ 4

struct uart16550 {
	struct vm *vm;
	pthread_mutex_t lock;
	struct uart16550_regs regs;
};

static void uart_tx(void *opaque, uint8_t byte)
{
	struct uart16550 *u = opaque;
	ssize_t w;
	do {
		w = write(u->vm->cfg.console_fd, &byte, 1);
	} while (w < 0 && errno == EINTR);
}

static void uart_irq(void *opaque, bool level)
{
	struct uart16550 *u = opaque;
	u->vm->ops->irq_line(u->vm, COM1_IRQ, level);
}

static enum io_result uart_io(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	struct uart16550 *u = opaque;
	unsigned reg = (unsigned)(a->addr - COM1_PORT);
	pthread_mutex_lock(&u->lock);
	if (a->is_write) {
		/* A wider access covers consecutive registers, low byte first. */
		for (unsigned i = 0; i < a->size && reg + i < UART_NR_REGS; i++)
			uart16550_regs_write(&u->regs, reg + i, (uint8_t)(a->data >> (8 * i)));
	} else {
		uint64_t v = ~0ULL;
		for (unsigned i = 0; i < a->size && reg + i < UART_NR_REGS; i++) {
			v &= ~(0xffULL << (8 * i));
			v |= (uint64_t)uart16550_regs_read(&u->regs, reg + i) << (8 * i);
		}
		a->data = v;
	}
	pthread_mutex_unlock(&u->lock);
	return IO_DONE;
}

static int uart_create(struct vm *vm, void **state)
{
	struct uart16550 *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->vm = vm;
	pthread_mutex_init(&u->lock, NULL);
	uart16550_regs_init(&u->regs, uart_tx, uart_irq, u);
	*state = u;
	return iomap_add(&vm->iomap[IO_SPACE_PIO], COM1_PORT, UART_NR_REGS, uart_io, u, "uart16550");
}

static void uart_destroy(void *state)
{
	struct uart16550 *u = state;
	pthread_mutex_destroy(&u->lock);
	free(u);
}

const struct device_desc uart16550_device = {
	.name = "uart16550",
	.create = uart_create,
	.destroy = uart_destroy,
};
