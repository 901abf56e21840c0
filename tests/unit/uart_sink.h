/* SPDX-License-Identifier: MIT */
/* A test double for the 16550 register model's outputs: transmitted bytes and the IRQ line. */
#ifndef UART_SINK_H
#define UART_SINK_H

#include <stdbool.h>
#include <stdint.h>

struct sink {
	char out[64];
	unsigned n;
	bool level;
	unsigned edges;
};

static inline void tx(void *opaque, uint8_t b)
{
	struct sink *s = opaque;
	if (s->n < sizeof(s->out))
		s->out[s->n++] = (char)b;
}

static inline void irq(void *opaque, bool level)
{
	struct sink *s = opaque;
	s->level = level;
	s->edges++;
}

#endif
