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

#endif
