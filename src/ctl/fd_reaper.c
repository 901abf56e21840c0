/* SPDX-License-Identifier: MIT */
/*
 * The fd reaper: a growable ring of fds under a mutex, drained by one
 * thread that closes them one at a time without the lock held. Stopping
 * waits with a deadline; a thread stuck in close() past it owns the reaper
 * from then on and frees it when that close returns.
 */
#include "ctl/fd_reaper.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct fd_reaper {
	pthread_mutex_t lock;
	pthread_cond_t more, idle;
	int *ring;
	size_t cap, head, n; /* queued: ring[head .. head + n) mod cap */
	size_t closing;      /* 1 while the thread is inside close() */
	size_t bound;
	bool stop, orphaned, exited;
	pthread_t thread;
};

static void reaper_free(struct fd_reaper *r)
{
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->more);
	pthread_cond_destroy(&r->idle);
	free(r->ring);
	free(r);
}

static void *reaper_thread(void *arg)
{
	struct fd_reaper *r = arg;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->n && !r->stop)
			pthread_cond_wait(&r->more, &r->lock);
		if (!r->n)
			break;
		int fd = r->ring[r->head];
		r->head = (r->head + 1) % r->cap;
		r->n--;
		r->closing = 1;
		pthread_mutex_unlock(&r->lock);
		close(fd);
		pthread_mutex_lock(&r->lock);
		r->closing = 0;
		if (!r->n)
			pthread_cond_broadcast(&r->idle);
	}
	r->exited = true;
	pthread_cond_broadcast(&r->idle);
	bool orphaned = r->orphaned;
	pthread_mutex_unlock(&r->lock);
	if (orphaned)
		reaper_free(r);
	return NULL;
}

struct fd_reaper *fd_reaper_start(size_t bound)
{
	struct fd_reaper *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->bound = bound;
	r->cap = 64;
	r->ring = malloc(r->cap * sizeof(int));
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->more, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->idle, &ca);
	pthread_condattr_destroy(&ca);
	int rc = r->ring ? pthread_create(&r->thread, NULL, reaper_thread, r) : ENOMEM;
	if (rc) {
		reaper_free(r);
		errno = rc;
		return NULL;
	}
	return r;
}

void fd_reaper_close(struct fd_reaper *r, int fd)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&r->lock);
	if (r->n == r->cap) {
		size_t cap = r->cap * 2;
		int *ring = malloc(cap * sizeof(int));
		if (!ring) {
			/* Out of memory: closing here is the only way not to leak. */
			pthread_mutex_unlock(&r->lock);
			close(fd);
			return;
		}
		for (size_t i = 0; i < r->n; i++)
			ring[i] = r->ring[(r->head + i) % r->cap];
		free(r->ring);
		r->ring = ring;
		r->cap = cap;
		r->head = 0;
	}
	r->ring[(r->head + r->n) % r->cap] = fd;
	r->n++;
	pthread_cond_signal(&r->more);
	pthread_mutex_unlock(&r->lock);
}

size_t fd_reaper_pending(struct fd_reaper *r)
{
	pthread_mutex_lock(&r->lock);
	size_t n = r->n + r->closing;
	pthread_mutex_unlock(&r->lock);
	return n;
}

bool fd_reaper_full(struct fd_reaper *r)
{
	return fd_reaper_pending(r) >= r->bound;
}

void fd_reaper_stop(struct fd_reaper *r, int timeout_ms)
{
	if (!r)
		return;
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->more);
	while (!r->exited)
		if (pthread_cond_timedwait(&r->idle, &r->lock, &dl) == ETIMEDOUT)
			break;
	bool exited = r->exited;
	if (!exited)
		r->orphaned = true; /* the thread frees it */
	pthread_mutex_unlock(&r->lock);
	if (exited) {
		pthread_join(r->thread, NULL);
		reaper_free(r);
	} else {
		pthread_detach(r->thread);
	}
}
