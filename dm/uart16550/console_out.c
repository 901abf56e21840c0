/* SPDX-License-Identifier: MIT */
/* The console's output side (see console_out.h): direct writes, or a buffer and its writer thread. */
#include "console_out.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG "ioreqvm-uart16550"

/* Write all of it; false if the output is broken. */
static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* A non-blocking fd (a terminal shared with a program that set it so). */
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			poll(&pf, 1, -1);
			continue;
		}
		fprintf(stderr, PROG ": writing guest output: %s; dropping the rest\n",
			w < 0 ? strerror(errno) : "nothing written");
		return false;
	}
	return true;
}

static void deadline_in(struct timespec *ts, long ns)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += ns;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool passed(const struct timespec *ts)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec || (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

static void *writer(void *arg)
{
	struct console_out *o = arg;
	struct timespec partial_until; /* a partial line goes out at this time */
	bool partial = false;
	pthread_mutex_lock(&o->lock);
	for (;;) {
		while (!o->count && !o->closing && !o->drop) {
			o->writer_waits = true;
			pthread_cond_wait(&o->data, &o->lock);
			o->writer_waits = false;
		}
		if (!o->count || o->drop)
			break; /* closing with all written, or told to drop the rest */
		/* Whole lines; a partial line waits a little for its end. */
		size_t n = o->lines;
		if (!n && !o->closing && o->count < CONSOLE_OUT_BUF) {
			if (!partial) {
				deadline_in(&partial_until, CONSOLE_OUT_LINE_WAIT_NS);
				partial = true;
			}
			if (!passed(&partial_until)) {
				o->writer_waits = true;
				pthread_cond_timedwait(&o->data, &o->lock, &partial_until);
				o->writer_waits = false;
				continue;
			}
		}
		if (!n)
			n = o->count;
		partial = false;
		size_t first = CONSOLE_OUT_BUF - o->head;
		if (n > first)
			n = first; /* up to the buffer's end; the rest next round */
		const uint8_t *p = o->buf + o->head;
		pthread_mutex_unlock(&o->lock);
		/* Only this thread consumes: [head, head + n) stays put meanwhile. */
		if (!o->failed)
			o->failed = !write_all(o->fd, p, n);
		pthread_mutex_lock(&o->lock);
		o->head = (o->head + n) % CONSOLE_OUT_BUF;
		o->count -= n;
		o->lines = o->lines > n ? o->lines - n : 0;
		pthread_cond_broadcast(&o->room);
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

int console_out_start(struct console_out *o, int fd, bool buffered, volatile bool *abandon)
{
	memset(o, 0, sizeof(*o));
	o->fd = fd;
	o->abandon = abandon;
	pthread_mutex_init(&o->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->data, &ca);
	pthread_cond_init(&o->room, &ca);
	pthread_condattr_destroy(&ca);
	if (fd < 0 || !buffered)
		return 0;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* signals are the serving thread's */
	int rc = pthread_create(&o->thread, NULL, writer, o);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	o->started = true;
	return 0;
}

/* Wait on @cond for at most 100 ms, so *abandon is looked at. */
static void wait_a_little(struct console_out *o, pthread_cond_t *cond)
{
	struct timespec ts;
	deadline_in(&ts, 100 * 1000 * 1000);
	pthread_cond_timedwait(cond, &o->lock, &ts);
}

void console_out_byte(struct console_out *o, uint8_t byte)
{
	if (!o->started) {
		/* Direct: out before the guest's write completes (unless broken). */
		if (o->fd >= 0 && !o->failed)
			o->failed = !write_all(o->fd, &byte, 1);
		return;
	}
	pthread_mutex_lock(&o->lock);
	while (o->count == CONSOLE_OUT_BUF && !*o->abandon)
		wait_a_little(o, &o->room);
	if (o->count < CONSOLE_OUT_BUF) {
		bool was_empty = !o->count;
		o->buf[(o->head + o->count) % CONSOLE_OUT_BUF] = byte;
		o->count++;
		if (byte == '\n')
			o->lines = o->count;
		/* The writer waits for a first byte, or for a partial line's end. */
		if (o->writer_waits && (was_empty || byte == '\n' || o->count == CONSOLE_OUT_BUF))
			pthread_cond_signal(&o->data);
	}
	pthread_mutex_unlock(&o->lock);
}

void console_out_close(struct console_out *o)
{
	if (!o->started)
		return;
	pthread_mutex_lock(&o->lock);
	while (o->count && !*o->abandon)
		wait_a_little(o, &o->room);
	o->closing = true;
	o->drop = *o->abandon; /* stopped by a signal: what is left goes */
	pthread_cond_signal(&o->data);
	pthread_mutex_unlock(&o->lock);
	if (!o->drop) {
		pthread_join(o->thread, NULL);
	} else {
		/* The writer may sit in a write() that never returns (a pipe nobody
		 * reads): give it a moment, then leave it to the process's exit. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec++;
		if (pthread_timedjoin_np(o->thread, NULL, &ts))
			pthread_detach(o->thread);
	}
	o->started = false;
}
