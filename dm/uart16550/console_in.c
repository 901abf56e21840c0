/* SPDX-License-Identifier: MIT */
/*
 * The console's input side (see console_in.h): the escape state machine,
 * the source's opening, the reader thread and the ring between it and the
 * thread that serves the UART.
 */
#include "console_in.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "console_tty.h"

#define PROG "ioreqvm-uart16550"

enum console_key console_escape_feed(struct console_escape *e, uint8_t byte)
{
	if (!e->pending) {
		if (byte != CONSOLE_ESCAPE)
			return CONSOLE_KEY_BYTE;
		e->pending = true;
		return CONSOLE_KEY_NONE;
	}
	e->pending = false;
	switch (byte) {
	case CONSOLE_ESCAPE:
		return CONSOLE_KEY_BYTE;
	case 'x':
	case 'X':
		return CONSOLE_KEY_QUIT;
	case 'h':
	case 'H':
	case '?':
		return CONSOLE_KEY_HELP;
	default:
		return CONSOLE_KEY_NONE; /* as QEMU: an unknown command is dropped */
	}
}

int console_in_open(struct console_in *in, const char *path, char *err, size_t errlen)
{
	memset(in, 0, sizeof(*in));
	in->fd = -1;
	in->stop_efd = -1;
	pthread_mutex_init(&in->lock, NULL);
	pthread_cond_init(&in->space, NULL);
	atomic_init(&in->available, 0);
	atomic_init(&in->quit, false);
	atomic_init(&in->ended, path == NULL);
	if (!path)
		return 0;
	if (!strcmp(path, "-")) {
		in->fd = STDIN_FILENO;
	} else {
		in->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (in->fd < 0) {
			int e = errno;
			snprintf(err, errlen, "--input %s: %s", path, strerror(e));
			return -e;
		}
		in->own_fd = true;
	}
	if (isatty(in->fd)) {
		if (!console_tty_ours(in->fd)) {
			/* A background job, or a terminal inherited without being ours:
			 * reading it would stop us (SIGTTIN) or steal someone's keys. */
			fprintf(stderr, PROG ": input %s is a terminal this process does not control "
				"(a background job?): no console input\n", path);
			atomic_store(&in->ended, true);
			return 0;
		}
		int rc = console_tty_raw(in->fd);
		if (rc) {
			snprintf(err, errlen, "raw mode on the terminal: %s", strerror(-rc));
			return rc;
		}
		in->terminal = true;
	}
	in->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (in->stop_efd < 0) {
		int e = errno;
		snprintf(err, errlen, "eventfd: %s", strerror(e));
		console_tty_restore();
		return -e;
	}
	return 0;
}

static void help(void)
{
	static const char text[] =
		"\nioreqvm console: Ctrl-A x quit, Ctrl-A Ctrl-A send Ctrl-A, Ctrl-A h this help\n";
	ssize_t w = write(STDERR_FILENO, text, sizeof(text) - 1);
	(void)w;
}

/* Append bytes the reader made room for (only the reader adds). */
static void push(struct console_in *in, const uint8_t *b, size_t n)
{
	if (!n)
		return;
	pthread_mutex_lock(&in->lock);
	bool was_empty = !in->count;
	for (size_t i = 0; i < n; i++)
		in->ring[(in->head + in->count + i) % CONSOLE_IN_RING] = b[i];
	in->count += (unsigned)n;
	atomic_store(&in->available, in->count);
	pthread_mutex_unlock(&in->lock);
	/*
	 * Only an empty ring needs the serving thread woken: bytes already
	 * waiting wait for the guest (a full FIFO, the interrupt off), and the
	 * guest's next access to the UART takes the new ones with them.
	 */
	if (was_empty)
		in->wake(in->wake_opaque);
}

/* Wait for room in the ring; false if stopping. */
static size_t wait_room(struct console_in *in)
{
	pthread_mutex_lock(&in->lock);
	/* Full: read again once half is free, not for every byte taken. */
	if (in->count == CONSOLE_IN_RING) {
		in->reader_waits = true;
		while (in->count > CONSOLE_IN_RING / 2 && !in->stopping)
			pthread_cond_wait(&in->space, &in->lock);
		in->reader_waits = false;
	}
	size_t room = in->stopping ? 0 : CONSOLE_IN_RING - in->count;
	pthread_mutex_unlock(&in->lock);
	return room;
}

static void *reader(void *arg)
{
	struct console_in *in = arg;
	uint8_t buf[512], out[512];
	for (;;) {
		size_t room = wait_room(in);
		if (!room)
			break;
		struct pollfd p[2] = {
			{ .fd = in->fd, .events = POLLIN },
			{ .fd = in->stop_efd, .events = POLLIN },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		ssize_t n = read(in->fd, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0) {
			if (n < 0)
				fprintf(stderr, PROG ": reading console input: %s; no more input\n",
					strerror(errno));
			break; /* EOF: input ends, the VM goes on */
		}
		if (!in->terminal) {
			push(in, buf, (size_t)n);
			continue;
		}
		size_t k = 0;
		bool quit = false;
		for (ssize_t i = 0; i < n && !quit; i++) {
			switch (console_escape_feed(&in->esc, buf[i])) {
			case CONSOLE_KEY_BYTE:
				out[k++] = buf[i];
				break;
			case CONSOLE_KEY_HELP:
				help();
				break;
			case CONSOLE_KEY_QUIT:
				quit = true;
				break;
			case CONSOLE_KEY_NONE:
				break;
			}
		}
		push(in, out, k);
		if (quit) {
			atomic_store(&in->quit, true);
			in->wake(in->wake_opaque);
			break; /* nothing after Ctrl-A x reaches the guest */
		}
	}
	atomic_store(&in->ended, true);
	return NULL;
}

int console_in_start(struct console_in *in, void (*wake)(void *), void *opaque)
{
	in->wake = wake;
	in->wake_opaque = opaque;
	if (atomic_load(&in->ended))
		return 0;
	/* Stop signals go to the serving thread, never to this one. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&in->thread, NULL, reader, in);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	in->started = true;
	return 0;
}

size_t console_in_take(struct console_in *in, uint8_t *buf, size_t max)
{
	if (!max || !atomic_load_explicit(&in->available, memory_order_acquire))
		return 0;
	pthread_mutex_lock(&in->lock);
	size_t n = in->count < max ? in->count : max;
	for (size_t i = 0; i < n; i++)
		buf[i] = in->ring[(in->head + i) % CONSOLE_IN_RING];
	in->head = (unsigned)((in->head + n) % CONSOLE_IN_RING);
	in->count -= (unsigned)n;
	atomic_store(&in->available, in->count);
	if (in->reader_waits && in->count <= CONSOLE_IN_RING / 2)
		pthread_cond_signal(&in->space);
	pthread_mutex_unlock(&in->lock);
	return n;
}

void console_in_close(struct console_in *in)
{
	if (in->started) {
		pthread_mutex_lock(&in->lock);
		in->stopping = true;
		pthread_cond_signal(&in->space);
		pthread_mutex_unlock(&in->lock);
		uint64_t one = 1;
		ssize_t w = write(in->stop_efd, &one, sizeof(one));
		(void)w;
		pthread_join(in->thread, NULL);
		in->started = false;
	}
	if (in->terminal)
		console_tty_restore();
	in->terminal = false;
	if (in->own_fd && in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	if (in->stop_efd >= 0)
		close(in->stop_efd);
	in->stop_efd = -1;
}
