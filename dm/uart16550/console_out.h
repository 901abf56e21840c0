/* SPDX-License-Identifier: MIT */
/*
 * Output of the UART model's console: what the guest transmits. The
 * serving thread appends bytes to a bounded buffer and a writer thread
 * empties it into the output fd in as large writes as have piled up, so a
 * guest printing fast costs one system call per batch, not per byte. When
 * the output is slower than the guest, the buffer fills and appending
 * waits: the guest is held back, nothing is dropped. Only an output that
 * fails (a closed pipe, a full disk) loses bytes, reported once.
 */
#ifndef IOREQVM_CONSOLE_OUT_H
#define IOREQVM_CONSOLE_OUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_OUT_BUF (64 * 1024)

struct console_out {
	int fd;                /* -1: output discarded */
	volatile bool *abandon; /* set (e.g. by a signal): stop waiting for room */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t data, room;
	uint8_t buf[CONSOLE_OUT_BUF];
	size_t head, count;    /* under lock */
	bool writer_waits;     /* under lock: the writer sleeps for data */
	bool closing;          /* under lock */
	bool drop;             /* under lock: stop without writing the rest */
	bool failed;           /* the writer's: output broken, the rest dropped */
};

/* Start the writer on @fd (-1: discard everything). 0 or -errno. */
int console_out_start(struct console_out *o, int fd, volatile bool *abandon);
/* Append one byte; waits while the buffer is full (unless *abandon). */
void console_out_byte(struct console_out *o, uint8_t byte);
/*
 * Write out what is buffered, then stop the writer. With *abandon set (a
 * signal) the rest is dropped and a writer stuck in write() is left to the
 * process's exit: @o must then outlive the call (static storage).
 */
void console_out_close(struct console_out *o);

#endif
