/* SPDX-License-Identifier: MIT */
/*
 * Input of the UART model's console: the bytes the guest receives. A
 * thread reads the source (a terminal, a pipe, a file) into a bounded
 * ring and stops reading while the ring is full, so the guest's receive
 * FIFO paces the source and nothing is dropped; EOF ends input and nothing
 * else. From a terminal (one this process controls, in the foreground) it
 * is taken raw, and Ctrl-A is an escape as in QEMU's -serial mon:stdio:
 * Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h (or ?) prints
 * the keys on stderr, Ctrl-A and any other key are dropped. Pipes and
 * files pass unchanged. The serving thread takes bytes with
 * console_in_take(); a callback tells it new bytes (or a quit) arrived.
 */
#ifndef IOREQVM_CONSOLE_IN_H
#define IOREQVM_CONSOLE_IN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */
#define CONSOLE_IN_RING 4096

/* The escape key's state machine, alone so it is unit-tested. */
struct console_escape {
	bool pending; /* Ctrl-A seen, its command not yet */
};

enum console_key {
	CONSOLE_KEY_NONE, /* swallowed (an escape, or an unknown command) */
	CONSOLE_KEY_BYTE, /* send the byte fed in to the guest */
	CONSOLE_KEY_QUIT, /* Ctrl-A x */
	CONSOLE_KEY_HELP, /* Ctrl-A h or ? */
};

enum console_key console_escape_feed(struct console_escape *e, uint8_t byte);

struct console_in {
	int fd;
	bool own_fd;    /* opened here: closed at stop */
	bool terminal;  /* raw mode and escapes */
	int stop_efd;
	pthread_t thread;
	bool started;
	void (*wake)(void *opaque);
	void *wake_opaque;
	pthread_mutex_t lock;
	pthread_cond_t space;
	uint8_t ring[CONSOLE_IN_RING];
	unsigned head, count;   /* under lock */
	atomic_uint available;  /* count, for a look without the lock */
	bool stopping;          /* under lock */
	bool reader_waits;      /* under lock: the reader waits for room */
	atomic_bool quit;       /* Ctrl-A x seen */
	atomic_bool ended;      /* EOF or a read error: no more input */
	struct console_escape esc;
};

/*
 * Open the source: "-" is stdin; NULL is none (the model has no input).
 * A terminal this process controls is made raw (console_tty.h); a terminal
 * it does not control gives no input, with a note on stderr. 0 or -errno
 * with a message.
 */
int console_in_open(struct console_in *in, const char *path, char *err, size_t errlen);
/* Start reading; @wake is called (from the reader thread) after new bytes or a quit. */
int console_in_start(struct console_in *in, void (*wake)(void *), void *opaque);
/* Take up to @max bytes, oldest first, without blocking. Returns how many. */
size_t console_in_take(struct console_in *in, uint8_t *buf, size_t max);
static inline bool console_in_quit_requested(struct console_in *in)
{
	return atomic_load(&in->quit);
}
/* Stop the reader, put the terminal back, close what was opened. Idempotent. */
void console_in_close(struct console_in *in);

#endif
