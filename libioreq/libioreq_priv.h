/* SPDX-License-Identifier: MIT */
/* libioreq internals shared by its files. */
#ifndef LIBIOREQ_PRIV_H
#define LIBIOREQ_PRIV_H

#include <fcntl.h>

#include "libioreq.h"

struct libioreq {
	int fd;
	uint32_t seq;
	char error[256];
};

/* Record the explanation of a failure on @x and return @rc. */
int client_fail(struct libioreq *x, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* One request/reply; @rep_len must match the reply exactly; fds received go to @fds. */
int client_call(struct libioreq *x, uint16_t op, const void *req, uint32_t req_len,
		  void *rep, uint32_t rep_len, int *fds, unsigned max_fds);

/*
 * The synchronous request this thread is answering (serve.c sets it around
 * the handler): ISA line changes made meanwhile travel with the answer
 * (IOREQVM_NOTIFY_F_ISA_IRQ_WITH_ANSWER). word is NULL outside a handler
 * or where ioreqvm does not take them.
 */
struct answering {
	struct libioreq *x;
	uint32_t *word; /* the vCPU's isa_irq_lines */
};
extern __thread struct answering libioreq_answering;

/*
 * Carries ISA IRQ @irq's @level with the answer being made; 0 if it did,
 * or 1 if it must go on the control socket (after, in order, what the
 * answer carried so far: those are sent first and taken off it).
 */
int answer_isa_irq(struct libioreq *x, uint8_t irq, uint8_t level);

#endif
