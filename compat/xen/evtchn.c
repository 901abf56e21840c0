/* SPDX-License-Identifier: MIT */
/*
 * libxenevtchn.so.1 for ioreqvm (DESIGN X1, X2): Xen's <xenevtchn.h> with
 * Linux's /dev/xen/evtchn semantics, for the event channels of the IOREQ
 * servers this process made (ioreqvm_xen.h: the connection, the domid,
 * thread safety; evtchn_priv.h and evtchn_events.c: how ports fire).
 * Symbol versions as Debian 12's (libxenevtchn.map). Errors as Xen's
 * library on Linux: -1 (NULL for the opens) with errno.
 *
 * Remote ports are the fixed ones of ioreq_abi.h: a server's vCPU ports
 * (in each slot's vp_eport) and its ring's (xendevicemodel's
 * get_ioreq_server_info bufioreq_port). Local ports are the process's,
 * the lowest free one from 1 up, at most EVTCHN_MAX_PORTS - 1 (4095) bound
 * at once: ENOSPC past that.
 *  - open: flags other than XENEVTCHN_NO_CLOEXEC: EINVAL; no VM to connect
 *    to: its errno (ENOENT without IOREQVM_FD / IOREQVM_SOCKET).
 *  - fd: an fd for select/poll, readable while fired ports wait for
 *    pending(). The first call in the process tells ioreqvm the model is
 *    ready (a VM waiting for its models starts then).
 *  - fdopen: the fd of a handle of this process (xenevtchn_fd): one more
 *    handle on the same ports and queue; the fd is closed with the last
 *    handle. Any other fd: EBADF (ports live in the process: they do not
 *    survive exec, so a re-executed daemon cannot take them over).
 *    Flags: EINVAL, as Xen's library rejects any.
 *  - bind_interdomain(domid, remote): ESRCH another domid (X5), EACCES a
 *    handle restricted to another; EINVAL a port that is no port of a live
 *    server of ours, a vCPU the VM lacks, the ring port of a server without
 *    a ring, or a port bound already (Xen's state checks). A request already
 *    waiting, or posts already in the ring, fire the new port at once.
 *  - bind_unbound_port(domid): a port nobody binds to (ioreqvm guests have
 *    no event channels): it never fires; notify on it does nothing, as Xen
 *    drops a notification on an unbound channel. ESRCH another domid,
 *    EACCES once restricted.
 *  - bind_virq(virq): EINVAL virq >= NR_VIRQS, EEXIST bound already in this
 *    process, EACCES once restricted. VIRQ_DOM_EXC fires when the VM goes
 *    away (the connection to ioreqvm closes: the domain died), the one
 *    domain event ioreqvm has; other VIRQs never fire (no timer, console or
 *    physical IRQs reach a model). notify on a VIRQ port: EINVAL, as Xen.
 *  - unbind: EINVAL port out of range, ENOTCONN not bound by this file.
 *  - notify: ENOTCONN not bound by this file. On a vCPU's port: the model
 *    answered the request in the slot (IORESP_READY): wake the vCPU if it
 *    sleeps (a vCPU not notified still sees the answer, within 50 ms).
 *    On the ring's port: nothing to do.
 *  - pending: the oldest fired port; blocks while none (EAGAIN instead if
 *    the fd was made O_NONBLOCK; EINTR if a signal came).
 *  - unmask: lets a fired port fire again (at once if it was notified
 *    meanwhile); ports not bound by this file are ignored, as Linux does.
 *  - restrict(domid): EINVAL domid 0 or >= DOMID_FIRST_RESERVED, EACCES
 *    restricted already; then only interdomain binds to that domain.
 * Several handles with ports of one server work: each file gets only its
 * ports' events. Every function of the library is implemented; none
 * returns ENOSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "evtchn_priv.h"

struct xenevtchn_handle {
	struct evtchn_file *f;
};

static struct evtchn_file *files; /* under evtchn_lock */

static int fail(int err)
{
	errno = err;
	return -1;
}

static void *fail_null(int err)
{
	errno = err;
	return NULL;
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
	if (flags & ~XENEVTCHN_NO_CLOEXEC)
		return fail_null(EINVAL);
	int rc = ioreqvm_xen_connect();
	if (rc)
		return fail_null(-rc);
	xenevtchn_handle *h = calloc(1, sizeof(*h));
	struct evtchn_file *f = calloc(1, sizeof(*f));
	/* Blocking, as the device: O_NONBLOCK is the model's to set. */
	int fd = eventfd(0, (flags & XENEVTCHN_NO_CLOEXEC) ? 0 : EFD_CLOEXEC);
	if (!h || !f || fd < 0) {
		int e = fd < 0 ? errno : ENOMEM;
		if (fd >= 0)
			close(fd);
		free(h);
		free(f);
		return fail_null(e);
	}
	f->fd = fd;
	f->refs = 1;
	f->restricted = EVTCHN_UNRESTRICTED;
	h->f = f;
	pthread_mutex_lock(&evtchn_lock);
	f->next = files;
	files = f;
	pthread_mutex_unlock(&evtchn_lock);
	return h;
}

/* Is @a the same open file as @b (the same number, or dup'd)? */
static bool same_file(int a, int b)
{
	if (a == b)
		return true;
	pid_t me = getpid();
	return syscall(SYS_kcmp, me, me, KCMP_FILE, a, b) == 0;
}

xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd, unsigned open_flags)
{
	if (open_flags)
		return fail_null(EINVAL);
	xenevtchn_handle *h = calloc(1, sizeof(*h));
	if (!h)
		return fail_null(ENOMEM);
	pthread_mutex_lock(&evtchn_lock);
	struct evtchn_file *f = files;
	while (f && !same_file(fd, f->fd))
		f = f->next;
	if (f)
		f->refs++;
	pthread_mutex_unlock(&evtchn_lock);
	if (!f) {
		free(h);
		return fail_null(EBADF);
	}
	h->f = f;
	return h;
}

static void unbind_locked(struct binding *b)
{
	evtchn_ports[b->local] = NULL;
	evtchn_queue_drop(b->f, b->local);
	if (b->es) {
		b->es->port[b->kind == BIND_VCPU ? b->index : IOREQVM_EVTCHN_BUF_INDEX] = NULL;
		if (--b->es->bindings == 0)
			evtchn_server_detach(b->es);
	}
	free(b);
}

/* Drop a reference to @f; the last one unbinds its ports and closes its fd. */
static void file_put_locked(struct evtchn_file *f)
{
	if (--f->refs)
		return;
	for (unsigned p = 1; p < EVTCHN_MAX_PORTS; p++)
		if (evtchn_ports[p] && evtchn_ports[p]->f == f)
			unbind_locked(evtchn_ports[p]);
	for (struct evtchn_file **pp = &files; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	close(f->fd);
	free(f);
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	if (!xce)
		return 0;
	pthread_mutex_lock(&evtchn_lock);
	file_put_locked(xce->f);
	pthread_mutex_unlock(&evtchn_lock);
	free(xce);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	/* A Xen model asks for it once set up, to wait for requests: it is ready. */
	static bool ready;
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE) && ioreqvm_xen_ready() == 0)
		__atomic_store_n(&ready, true, __ATOMIC_RELEASE);
	return xce->f->fd;
}

int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid)
{
	int e = 0;
	pthread_mutex_lock(&evtchn_lock);
	if (xce->f->restricted != EVTCHN_UNRESTRICTED)
		e = EACCES;
	else if (domid == 0 || domid >= DOMID_FIRST_RESERVED)
		e = EINVAL;
	else
		xce->f->restricted = domid;
	pthread_mutex_unlock(&evtchn_lock);
	return e ? fail(e) : 0;
}

/* The lowest free local port, or 0 if all are bound. */
static evtchn_port_t free_port_locked(void)
{
	for (evtchn_port_t p = 1; p < EVTCHN_MAX_PORTS; p++)
		if (!evtchn_ports[p])
			return p;
	return 0;
}

/* Bind a new local port of @kind for @f (and @es's port @index); the port or -errno. */
static int bind_locked(struct evtchn_file *f, enum binding_kind kind, struct evtchn_server *es,
		       unsigned index)
{
	evtchn_port_t local = free_port_locked();
	if (!local)
		return -ENOSPC;
	struct binding *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	*b = (struct binding){ .local = local, .f = f, .kind = kind, .es = es, .index = index };
	evtchn_ports[local] = b;
	if (es) {
		es->port[kind == BIND_VCPU ? index : IOREQVM_EVTCHN_BUF_INDEX] = b;
		es->bindings++;
		evtchn_look(b);
	}
	return (int)local;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
						     evtchn_port_t remote_port)
{
	struct evtchn_file *f = xce->f;
	pthread_mutex_lock(&evtchn_lock);
	bool refused = f->restricted != EVTCHN_UNRESTRICTED && f->restricted != domid;
	pthread_mutex_unlock(&evtchn_lock);
	if (refused)
		return fail(EACCES);
	if (domid != ioreqvm_xen_domid())
		return fail(ESRCH);
	uint32_t id = IOREQVM_EVTCHN_SERVER(remote_port), index = IOREQVM_EVTCHN_INDEX(remote_port);
	if (!id || id > 0xfffe)
		return fail(EINVAL);
	/* Whether the server is ours asks ioreqvm: before our lock, not under it. */
	struct ioreqvm_xen_server *srv;
	int rc = ioreqvm_xen_server_get((uint16_t)id, &srv);
	if (rc)
		return fail(rc == -ENOENT || rc == -EPERM ? EINVAL : -rc);
	bool is_ring = index == IOREQVM_EVTCHN_BUF_INDEX;
	if (is_ring ? !srv->bufioreq : index >= srv->nr_vcpus) {
		ioreqvm_xen_server_put(srv);
		return fail(EINVAL);
	}
	pthread_mutex_lock(&evtchn_lock);
	struct evtchn_server *es = NULL;
	if (f->restricted != EVTCHN_UNRESTRICTED && f->restricted != domid)
		rc = -EACCES; /* restricted meanwhile */
	else
		rc = evtchn_server_attach(srv, &es);
	if (!rc && es->port[index])
		rc = -EINVAL; /* bound already: not an unbound port any more */
	if (!rc)
		rc = bind_locked(f, is_ring ? BIND_BUFFERED : BIND_VCPU, es, index);
	if (rc < 0 && es && !es->bindings)
		evtchn_server_detach(es);
	pthread_mutex_unlock(&evtchn_lock);
	ioreqvm_xen_server_put(srv);
	return rc < 0 ? fail(-rc) : rc;
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid)
{
	int rc;
	pthread_mutex_lock(&evtchn_lock);
	if (xce->f->restricted != EVTCHN_UNRESTRICTED)
		rc = -EACCES;
	else if (domid != ioreqvm_xen_domid())
		rc = -ESRCH;
	else
		rc = bind_locked(xce->f, BIND_UNBOUND, NULL, 0);
	pthread_mutex_unlock(&evtchn_lock);
	return rc < 0 ? fail(-rc) : rc;
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	int rc = 0;
	pthread_mutex_lock(&evtchn_lock);
	if (xce->f->restricted != EVTCHN_UNRESTRICTED)
		rc = -EACCES;
	else if (virq >= NR_VIRQS)
		rc = -EINVAL;
	for (unsigned p = 1; !rc && p < EVTCHN_MAX_PORTS; p++)
		if (evtchn_ports[p] && evtchn_ports[p]->kind == BIND_VIRQ &&
		    evtchn_ports[p]->index == virq)
			rc = -EEXIST;
	/* ioreqvm's one exceptional domain event: the VM going away. */
	if (!rc && virq == VIRQ_DOM_EXC)
		rc = evtchn_helper_start();
	if (!rc)
		rc = bind_locked(xce->f, BIND_VIRQ, NULL, virq);
	pthread_mutex_unlock(&evtchn_lock);
	return rc < 0 ? fail(-rc) : rc;
}

/* @port's binding if @f bound it; NULL otherwise. Under evtchn_lock. */
static struct binding *find_locked(struct evtchn_file *f, evtchn_port_t port)
{
	struct binding *b = port < EVTCHN_MAX_PORTS ? evtchn_ports[port] : NULL;
	return b && b->f == f ? b : NULL;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	if (port >= EVTCHN_MAX_PORTS)
		return fail(EINVAL);
	pthread_mutex_lock(&evtchn_lock);
	struct binding *b = find_locked(xce->f, port);
	if (b)
		unbind_locked(b);
	pthread_mutex_unlock(&evtchn_lock);
	return b ? 0 : fail(ENOTCONN);
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	int e = 0;
	pthread_mutex_lock(&evtchn_lock);
	struct binding *b = find_locked(xce->f, port);
	if (!b) {
		e = ENOTCONN;
	} else if (b->kind == BIND_VIRQ) {
		e = EINVAL;
	} else if (b->kind == BIND_VCPU) {
		/*
		 * The model's answer is in the slot (its IORESP_READY store came
		 * first): wake the vCPU if it sleeps on the slot's state word.
		 */
		struct ioreqvm_xen_server *s = b->es->srv;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&s->notify->vcpu[b->index].vcpu_sleeping, __ATOMIC_RELAXED))
			syscall(SYS_futex, (uint8_t *)&s->slots[b->index] + IOREQVM_IOREQ_STATE_WORD,
				FUTEX_WAKE, 1, NULL, NULL, 0);
	}
	pthread_mutex_unlock(&evtchn_lock);
	return e ? fail(e) : 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	struct evtchn_file *f = xce->f;
	evtchn_port_t port;
	int e = 0;
	pthread_mutex_lock(&evtchn_lock);
	f->refs++; /* a close meanwhile leaves the file to us */
	for (;;) {
		if (evtchn_queue_pop(f, &port))
			break;
		evtchn_service(); /* rather than wait for the helper's wake-up */
		if (evtchn_queue_pop(f, &port))
			break;
		int fl = fcntl(f->fd, F_GETFL);
		if (fl >= 0 && (fl & O_NONBLOCK)) {
			e = EAGAIN; /* as a read of the device opened O_NONBLOCK */
			break;
		}
		pthread_mutex_unlock(&evtchn_lock);
		struct pollfd p = { .fd = f->fd, .events = POLLIN };
		int n = poll(&p, 1, -1);
		e = n < 0 ? errno : 0;
		pthread_mutex_lock(&evtchn_lock);
		if (e)
			break; /* EINTR: a signal, as the device's read gives one */
	}
	file_put_locked(f);
	pthread_mutex_unlock(&evtchn_lock);
	return e ? fail(e) : (xenevtchn_port_or_error_t)port;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	pthread_mutex_lock(&evtchn_lock);
	struct binding *b = find_locked(xce->f, port);
	if (b && b->masked) {
		b->masked = false;
		if (b->pending) {
			b->pending = false;
			evtchn_raise(b);
		}
	}
	pthread_mutex_unlock(&evtchn_lock);
	return 0;
}
