/* SPDX-License-Identifier: MIT */
/*
 * libxenevtchn for ioreqvm: how ports fire (see evtchn_priv.h). What Xen
 * and Linux's evtchn driver do, reproduced from the IOREQ servers' shared
 * memory:
 *  - a vCPU's port fires when ioreqvm puts a new request in its slot (as
 *    Xen notifies it in ioreq_send); the ring's port when posted writes
 *    arrive (Xen notifies it for each, ioreq_send_buffered);
 *  - firing masks the port and queues it (the driver's ring); a port
 *    notified while masked fires once more when unmasked (Xen's pending
 *    bit); a port is queued at most once;
 *  - the file's eventfd is readable exactly while its queue holds ports.
 * A helper thread (one per process, started at the first bound server
 * port or VIRQ_DOM_EXC, signals blocked, alive until exit) waits on the
 * event fds ioreqvm writes (evtchn_server_attach set that up) and looks;
 * pending() looks too before it waits, so a model calling it right after
 * a request is not held up by the helper's wake-up. The helper also
 * watches the connection to ioreqvm: when it closes, the domain is gone,
 * and VIRQ_DOM_EXC fires (Xen raises it when a domain dies), so a model
 * bound to it can leave.
 */
#include "evtchn_priv.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

pthread_mutex_t evtchn_lock = PTHREAD_MUTEX_INITIALIZER;
struct binding *evtchn_ports[EVTCHN_MAX_PORTS];

static struct evtchn_server *servers; /* with bindings */
static int wait_set = -1;             /* epoll: the servers' event fds, the connection */
static bool helper_started;
#define WAIT_SERVER 0    /* epoll data: a server's event fd */
#define WAIT_CONNECTION 1 /* the connection to ioreqvm: hung up when the VM is gone */

static void queue_push(struct evtchn_file *f, evtchn_port_t port)
{
	if (f->queue_len == EVTCHN_MAX_PORTS)
		return; /* not reached: a port is queued at most once, and ports are fewer */
	f->queue[(f->queue_head + f->queue_len) % EVTCHN_MAX_PORTS] = port;
	if (f->queue_len++ == 0) {
		uint64_t one = 1;
		ssize_t w = write(f->fd, &one, sizeof(one));
		(void)w; /* an eventfd write of 1 fails only at 2^64 - 2 */
	}
}

/* The queue went empty: make the fd unreadable (never blocking, whatever the model did to it). */
static void fd_quiet(struct evtchn_file *f)
{
	struct pollfd p = { .fd = f->fd, .events = POLLIN };
	uint64_t v;
	if (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
		ssize_t r = read(f->fd, &v, sizeof(v));
		(void)r;
	}
}

bool evtchn_queue_pop(struct evtchn_file *f, evtchn_port_t *port)
{
	if (!f->queue_len)
		return false;
	*port = f->queue[f->queue_head];
	f->queue_head = (f->queue_head + 1) % EVTCHN_MAX_PORTS;
	if (--f->queue_len == 0)
		fd_quiet(f);
	return true;
}

void evtchn_queue_drop(struct evtchn_file *f, evtchn_port_t port)
{
	unsigned kept = 0;
	for (unsigned i = 0; i < f->queue_len; i++) {
		evtchn_port_t p = f->queue[(f->queue_head + i) % EVTCHN_MAX_PORTS];
		if (p != port)
			f->queue[(f->queue_head + kept++) % EVTCHN_MAX_PORTS] = p;
	}
	bool was = f->queue_len != 0;
	f->queue_len = kept;
	if (was && !kept)
		fd_quiet(f);
}

void evtchn_raise(struct binding *b)
{
	if (b->masked) {
		b->pending = true;
		return;
	}
	b->masked = true;
	queue_push(b->f, b->local);
}

/* vCPU @v's slot holds a request this binding has not fired for: fire. */
static void look_vcpu(struct binding *b, bool at_bind)
{
	struct ioreqvm_xen_server *s = b->es->srv;
	bool ready = ioreqvm_ioreq_state(&s->slots[b->index]) == IOREQVM_STATE_IOREQ_READY;
	/* Written before the READY store ioreqvm released, so current for it. */
	uint32_t seq = __atomic_load_n(&s->notify->vcpu[b->index].req_seq, __ATOMIC_RELAXED);
	if (ready && (at_bind || seq != b->seen)) {
		b->seen = seq;
		evtchn_raise(b);
	} else if (at_bind) {
		b->seen = seq;
	}
}

/* The ring's write pointer moved since this binding last looked (posted writes came): fire. */
static void look_ring(struct binding *b, bool at_bind)
{
	struct ioreqvm_buffered_iopage *ring = b->es->srv->buf;
	uint32_t wp = __atomic_load_n(&ring->write_pointer, __ATOMIC_ACQUIRE);
	uint32_t rp = __atomic_load_n(&ring->read_pointer, __ATOMIC_RELAXED);
	bool fire = at_bind ? wp != rp : wp != b->seen;
	b->seen = wp;
	if (fire)
		evtchn_raise(b);
}

void evtchn_look(struct binding *b)
{
	if (b->kind == BIND_VCPU)
		look_vcpu(b, true);
	else if (b->kind == BIND_BUFFERED)
		look_ring(b, true);
}

void evtchn_service(void)
{
	for (struct evtchn_server *es = servers; es; es = es->next) {
		struct ioreqvm_xen_server *s = es->srv;
		uint64_t rung;
		/* Consume ioreqvm's wake-ups before looking: one written after the look brings us back. */
		ssize_t r = read(s->evt_fd, &rung, sizeof(rung));
		(void)r; /* EAGAIN: none came */
		for (unsigned v = 0; v < s->nr_vcpus; v++)
			if (es->port[v])
				look_vcpu(es->port[v], false);
		if (es->port[IOREQVM_EVTCHN_BUF_INDEX])
			look_ring(es->port[IOREQVM_EVTCHN_BUF_INDEX], false);
	}
}

/* The connection closed: the domain is gone. Once; under evtchn_lock. */
static void domain_gone(int conn_fd)
{
	epoll_ctl(wait_set, EPOLL_CTL_DEL, conn_fd, NULL);
	for (unsigned p = 1; p < EVTCHN_MAX_PORTS; p++) {
		struct binding *b = evtchn_ports[p];
		if (b && b->kind == BIND_VIRQ && b->index == VIRQ_DOM_EXC)
			evtchn_raise(b);
	}
}

static void *helper_main(void *arg)
{
	int conn_fd = (int)(intptr_t)arg;
	for (;;) {
		struct epoll_event ev[8];
		int n = epoll_wait(wait_set, ev, 8, -1);
		if (n < 0 && errno != EINTR)
			continue; /* not reached: the set lives as long as the process */
		pthread_mutex_lock(&evtchn_lock);
		for (int i = 0; i < n; i++)
			if (ev[i].data.u32 == WAIT_CONNECTION)
				domain_gone(conn_fd);
		evtchn_service();
		pthread_mutex_unlock(&evtchn_lock);
	}
	return NULL;
}

int evtchn_helper_start(void)
{
	if (helper_started)
		return 0;
	struct libioreq *x;
	int rc = ioreqvm_xen_lock(&x);
	if (rc)
		return rc;
	int conn_fd = libioreq_connection_fd(x);
	ioreqvm_xen_unlock();
	if (wait_set < 0) {
		wait_set = epoll_create1(EPOLL_CLOEXEC);
		if (wait_set < 0)
			return -errno;
		/* Hang-up only: the connection's replies are its callers' to read. */
		struct epoll_event ev = { .events = EPOLLRDHUP, .data.u32 = WAIT_CONNECTION };
		if (epoll_ctl(wait_set, EPOLL_CTL_ADD, conn_fd, &ev) < 0) {
			rc = -errno;
			close(wait_set);
			wait_set = -1;
			return rc;
		}
	}
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, &attr, helper_main, (void *)(intptr_t)conn_fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc)
		return -rc;
	helper_started = true;
	return 0;
}

int evtchn_server_attach(struct ioreqvm_xen_server *srv, struct evtchn_server **out)
{
	for (struct evtchn_server *es = servers; es; es = es->next) {
		if (es->srv == srv) {
			*out = es;
			return 0;
		}
	}
	int rc = evtchn_helper_start();
	if (rc)
		return rc;
	struct evtchn_server *es = calloc(1, sizeof(*es));
	if (!es)
		return -ENOMEM;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = WAIT_SERVER };
	if (epoll_ctl(wait_set, EPOLL_CTL_ADD, srv->evt_fd, &ev) < 0) {
		rc = -errno;
		free(es);
		return rc;
	}
	ioreqvm_xen_server_hold(srv); /* ours: the caller's goes when it returns */
	es->srv = srv;
	es->next = servers;
	servers = es;
	*out = es;
	return 0;
}

void evtchn_server_detach(struct evtchn_server *es)
{
	for (struct evtchn_server **p = &servers; *p; p = &(*p)->next) {
		if (*p == es) {
			*p = es->next;
			break;
		}
	}
	epoll_ctl(wait_set, EPOLL_CTL_DEL, es->srv->evt_fd, NULL);
	ioreqvm_xen_server_put(es->srv);
	free(es);
}
