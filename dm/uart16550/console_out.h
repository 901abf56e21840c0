/* SPDX-License-Identifier: MIT */
/*
 * Output of the UART model's console: what the guest transmits, in one of
 * two ways.
 *  - Direct (the default): each byte is written before the call returns,
 *    so before the guest's write to THR completes: the guest's output and
 *    the lines other processes write to the same stdout (a device model's
 *    log) keep the order the guest caused them in. One system call a byte.
 *  - Buffered (for posted writes, where the guest does not wait anyway):
 *    bytes go to a bounded buffer that a writer thread empties in as large
 *    writes as have piled up, one system call per batch. It writes whole
 *    lines: a line not ended yet waits up to CONSOLE_OUT_LINE_WAIT_NS for
 *    its newline (a prompt without one goes out then). Other processes'
 *    lines may then come before guest output that was sent earlier.
 * Either way nothing is dropped: a slow output holds the guest back (a
 * full buffer makes appending wait). Only an output that fails (a closed
 * pipe, a full disk) loses bytes, reported once.
 */
#ifndef IOREQVM_CONSOLE_OUT_H
#define IOREQVM_CONSOLE_OUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_OUT_BUF (64 * 1024)
#define CONSOLE_OUT_LINE_WAIT_NS (100 * 1000 * 1000L)

struct console_out {
	int fd;                /* -1: output discarded */
	volatile bool *abandon; /* set (e.g. by a signal): stop waiting for room */
	pthread_t thread;
	bool started;          /* buffered: the writer runs */
	pthread_mutex_t lock;
	pthread_cond_t data, room;
	uint8_t buf[CONSOLE_OUT_BUF];
	size_t head, count;    /* under lock */
	size_t lines;          /* under lock: bytes from head to the last newline's end */
	bool writer_waits;     /* under lock: the writer sleeps for data */
	bool closing;          /* under lock */
	bool drop;             /* under lock: stop without writing the rest */
	bool failed;           /* the writer's (direct: the caller's): output broken */
};

/* Output to @fd (-1: discard everything), @buffered or direct. 0 or -errno. */
int console_out_start(struct console_out *o, int fd, bool buffered, volatile bool *abandon);
/* Write one byte, or append it (waits while the buffer is full, unless *abandon). */
void console_out_byte(struct console_out *o, uint8_t byte);
/*
 * Write out what is buffered, then stop the writer. With *abandon set (a
 * signal) the rest is dropped and a writer stuck in write() is left to the
 * process's exit: @o must then outlive the call (static storage).
 */
void console_out_close(struct console_out *o);

#endif
