/* SPDX-License-Identifier: MIT */
/*
 * libxenevtchn for ioreqvm, internals shared by evtchn.c (the API: handles
 * and ports) and evtchn_events.c (how events happen: what the Linux evtchn
 * driver and Xen do for a device model's ports).
 *
 * An "evtchn file" is one open of Linux's /dev/xen/evtchn: its ports, its
 * queue of fired ports (the driver's ring) and the fd a model waits on, an
 * eventfd kept readable exactly while the queue holds a port. Several
 * handles share one file through xenevtchn_fdopen(). Local ports are the
 * process's (as a domain's are), 1 .. EVTCHN_MAX_PORTS - 1.
 *
 * A binding is one bound local port. An IOREQ server's ports (its vCPUs'
 * and its ring's, ioreq_abi.h) fire from what ioreqvm puts in the server's
 * shared memory: a new request in vCPU v's slot (its req_seq changed while
 * the slot is READY), or the ring's write pointer moving. A helper thread
 * waits on the event fds ioreqvm writes for each request and posted write
 * of the servers with bound ports and looks at their slots and rings; so
 * a model's fd turns readable only when one of its unmasked ports has
 * fired, never for a masked port or another file's, as with Linux.
 * Everything here is under evtchn_lock.
 */
#ifndef EVTCHN_PRIV_H
#define EVTCHN_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <xenevtchn.h>

#include "ioreqvm_xen.h"

#define EVTCHN_MAX_PORTS 4096 /* local ports per process (Xen's 2-level limit on 64-bit) */

struct evtchn_file {
	int fd;             /* eventfd: readable while queue_len > 0 */
	unsigned refs;      /* handles on it, and pending() calls waiting on it */
	uint16_t restricted; /* EVTCHN_UNRESTRICTED until xenevtchn_restrict */
	unsigned queue_head, queue_len;
	evtchn_port_t queue[EVTCHN_MAX_PORTS]; /* each bound port at most once */
	struct evtchn_file *next;               /* the process's files */
};
#define EVTCHN_UNRESTRICTED 0xffff /* Linux's UNRESTRICTED_DOMID */

enum binding_kind { BIND_VCPU, BIND_BUFFERED, BIND_UNBOUND, BIND_VIRQ };

struct evtchn_server;

struct binding {
	evtchn_port_t local;
	struct evtchn_file *f;
	enum binding_kind kind;
	struct evtchn_server *es; /* BIND_VCPU, BIND_BUFFERED */
	unsigned index;           /* the vCPU; the VIRQ */
	bool masked;              /* fired, not unmasked yet (Linux: disabled) */
	bool pending;             /* notified while masked: fires at unmask */
	uint32_t seen;            /* req_seq of the request last fired; the ring's write pointer */
};

/* An IOREQ server with ports bound in this process. */
struct evtchn_server {
	struct ioreqvm_xen_server *srv; /* a reference */
	unsigned bindings;
	struct binding *port[IOREQVM_EVTCHN_BUF_INDEX + 1]; /* by port index */
	struct evtchn_server *next;
};

extern pthread_mutex_t evtchn_lock;
extern struct binding *evtchn_ports[EVTCHN_MAX_PORTS];

/*
 * The evtchn_server of @srv, made if needed (taking a reference of @srv of
 * its own, and its event fd into the helper thread's wait set, started
 * the first time). 0 or -errno.
 */
int evtchn_server_attach(struct ioreqvm_xen_server *srv, struct evtchn_server **out);
/*
 * The helper thread, started once per process (a 256 KiB stack, signals
 * blocked): it watches the bound servers' event fds and the connection.
 * 0 or -errno.
 */
int evtchn_helper_start(void);
/* @es lost its last binding: out of the wait set, its reference dropped. */
void evtchn_server_detach(struct evtchn_server *es);
/* A port just bound: fire it if its event is there already (a request waiting, posts in the ring). */
void evtchn_look(struct binding *b);
/* Look at every server with bound ports: fire the ports whose events came. */
void evtchn_service(void);
/* A notification for @b: fire it (queued, masked) or, masked, keep it pending. */
void evtchn_raise(struct binding *b);
/* Take the oldest fired port of @f; false if none. */
bool evtchn_queue_pop(struct evtchn_file *f, evtchn_port_t *port);
/* Forget @port in @f's queue (it is being unbound). */
void evtchn_queue_drop(struct evtchn_file *f, evtchn_port_t port);

#endif
