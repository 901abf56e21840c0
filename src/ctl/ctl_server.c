/* SPDX-License-Identifier: MIT */
/*
 * Control socket: the control thread's poll loop over the listening socket,
 * the connections and a wake eventfd; the worker thread that runs the ops
 * changing the VM and tears connections down; the hand-offs between them.
 * Credentials are checked on accept (same uid or root). Received fds are
 * refused and go to the reaper. A connection that closes, misbehaves at the
 * socket level or leaves too many replies unread is dropped, and with it
 * its IOREQ servers and claims.
 */
#include "ctl/ctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/vm.h"
#include "ctl/ctl_ops.h"
#include "ctl/ctl_outq.h"
#include "ctl/fd_reaper.h"

/* The most fds one message can carry (Linux's SCM_MAX_FD): all are received. */
#define CTL_RECV_MAX_FDS 253

struct ctl_conn {
	int fd;
	struct ctl_caller caller;
	/* Control thread only. */
	struct ctl_outq out;
	bool busy;          /* its request is with the worker */
	bool doomed;        /* to be dropped (once the worker gives it back) */
	char why[96];       /* why it is dropped, for the log */
	/* Hand-off to the worker and back (links under cs->lock). */
	struct ctl_conn *next_job, *next_done;
	bool teardown; /* the job is the connection's end, not a request */
	const struct ctl_op_desc *op;
	struct ioreqvm_ctl_req hdr;
	uint8_t payload[IOREQVM_CTL_MAX_PAYLOAD];
	struct ctl_reply rep;
};

void ctl_default_path(char *buf, size_t len)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	if (!dir || !*dir)
		dir = geteuid() == 0 ? "/run" : "/tmp";
	snprintf(buf, len, "%s/ioreqvm-%d.sock", dir, (int)getpid());
}

static void wake(struct ctl_server *cs)
{
	uint64_t one = 1;
	ssize_t w = write(cs->wake_fd, &one, sizeof(one));
	(void)w;
}

/* Queue a job for the worker; caller holds cs->lock. */
static void push_job(struct ctl_server *cs, struct ctl_conn *c)
{
	c->next_job = NULL;
	*cs->jobs_tail = c;
	cs->jobs_tail = &c->next_job;
	pthread_cond_signal(&cs->work_cond);
}

/*
 * The end of a connection, on the worker (or at stop): the peer sees the
 * hang-up first (shutdown never blocks), then its servers and claims go
 * (I5, C4), then the socket goes to the reaper (its unread messages may
 * hold fds whose close lingers).
 */
static void conn_teardown(struct ctl_server *cs, struct ctl_conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	ioreq_servers_drop_owner(&cs->vm->servers, c);
	fd_reaper_close(cs->reaper, c->fd);
	ctl_outq_clear(&c->out);
	free(c);
}

static void *worker_thread(void *arg)
{
	struct ctl_server *cs = arg;
	pthread_mutex_lock(&cs->lock);
	for (;;) {
		while (!cs->jobs && !cs->worker_stop)
			pthread_cond_wait(&cs->work_cond, &cs->lock);
		struct ctl_conn *c = cs->jobs;
		if (!c)
			break; /* stopping, nothing left */
		cs->jobs = c->next_job;
		if (!cs->jobs)
			cs->jobs_tail = &cs->jobs;
		pthread_mutex_unlock(&cs->lock);
		if (c->teardown) {
			conn_teardown(cs, c);
			pthread_mutex_lock(&cs->lock);
			continue;
		}
		ctl_run_op(cs->vm, &c->caller, c->op, c->payload, &c->rep);
		log_debug("ctl: pid %d %s -> %d%s%s", (int)c->caller.pid, c->op->name, c->rep.result,
			  c->rep.msg[0] ? ": " : "", c->rep.msg);
		pthread_mutex_lock(&cs->lock);
		c->next_done = cs->done;
		cs->done = c;
		wake(cs);
	}
	pthread_mutex_unlock(&cs->lock);
	return NULL;
}

/* Control thread: mark @c for dropping, with the reason to log. */
static void __attribute__((format(printf, 2, 3))) doom(struct ctl_conn *c, const char *fmt, ...)
{
	if (c->doomed)
		return;
	c->doomed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/* Control thread: hand a doomed, idle connection to the worker's teardown. */
static void drop(struct ctl_server *cs, struct ctl_conn *c)
{
	/* A plain hang-up is news only with -v; a peer dropped for misbehaving always is. */
	if (strcmp(c->why, "disconnected"))
		log_err("ctl: device model (pid %d) %s", (int)c->caller.pid, c->why);
	else
		log_info("ctl: device model (pid %d) %s", (int)c->caller.pid, c->why);
	pthread_mutex_lock(&cs->lock);
	for (unsigned j = 0; j < CTL_MAX_CONNS; j++)
		if (cs->conns[j] == c)
			cs->conns[j] = NULL;
	pthread_cond_broadcast(&cs->cond); /* ctl_server_wait_ready sees it gone */
	c->teardown = true;
	push_job(cs, c);
	pthread_mutex_unlock(&cs->lock);
}

static void reply(struct ctl_conn *c, const struct ioreqvm_ctl_req *h, const struct ctl_reply *rep)
{
	int rc = ctl_outq_reply(&c->out, c->fd, h, rep, CTL_MAX_QUEUED_REPLIES);
	if (rc == -ENOBUFS)
		doom(c, "left %d replies unread (the limit): connection dropped",
		     CTL_MAX_QUEUED_REPLIES);
	else if (rc)
		doom(c, "could not be answered (%s): connection dropped", strerror(-rc));
}

static struct ctl_conn *conn_add(struct ctl_server *cs, int fd, pid_t pid)
{
	struct ctl_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		free(c);
		return NULL;
	}
	c->fd = fd;
	c->caller.conn = c;
	c->caller.pid = pid;
	ctl_outq_init(&c->out);
	pthread_mutex_lock(&cs->lock);
	for (unsigned i = 0; i < CTL_MAX_CONNS; i++) {
		if (!cs->conns[i]) {
			cs->conns[i] = c;
			pthread_mutex_unlock(&cs->lock);
			wake(cs); /* re-poll */
			return c;
		}
	}
	pthread_mutex_unlock(&cs->lock);
	free(c);
	return NULL;
}

/*
 * Read one message from @c and answer it or hand it to the worker. @hup:
 * poll saw the peer hang up (then a 0-byte read is the end, not an empty
 * message). Returns false if the connection is at its end.
 */
static bool serve_one(struct ctl_server *cs, struct ctl_conn *c, bool hup)
{
	static _Thread_local uint8_t buf[sizeof(struct ioreqvm_ctl_req) + IOREQVM_CTL_MAX_PAYLOAD + 1];
	static _Thread_local union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * CTL_RECV_MAX_FDS)];
	} cbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
			    .msg_controllen = sizeof(cbuf.buf) };
	ssize_t n = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	unsigned nr_fds = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) { /* a slow close must not stall us */
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			fd_reaper_close(cs->reaper, fd);
		}
		nr_fds += (unsigned)k;
	}
	if (n == 0 && !nr_fds && hup)
		return false; /* EOF */
	if (nr_fds && fd_reaper_full(cs->reaper))
		doom(c, "sent file descriptors while %zu closes were pending: connection dropped",
		     fd_reaper_pending(cs->reaper));
	bool truncated = (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || (size_t)n == sizeof(buf);
	struct ctl_reply *rep = &c->rep;
	rep->result = 0;
	rep->msg[0] = 0;
	rep->len = rep->nr_fds = 0;
	const void *payload;
	const struct ctl_op_desc *d;
	if (n == 0 && !nr_fds) {
		rep->result = -EINVAL;
		snprintf(rep->msg, sizeof(rep->msg), "empty message (0 bytes): every message starts "
			 "with a %zu-byte header", sizeof(struct ioreqvm_ctl_req));
		d = NULL;
	} else {
		d = ctl_check_request(buf, (size_t)n, truncated, nr_fds, &payload, rep);
	}
	const struct ioreqvm_ctl_req *hp = NULL;
	memset(&c->hdr, 0, sizeof(c->hdr));
	if ((size_t)n >= sizeof(c->hdr)) {
		memcpy(&c->hdr, buf, sizeof(c->hdr));
		hp = &c->hdr;
	}
	if (!d) {
		log_info("ctl: pid %d: refused message: %s", (int)c->caller.pid, rep->msg);
	} else if (!d->quick) {
		c->op = d;
		memcpy(c->payload, payload, d->req_size);
		c->busy = true;
		c->teardown = false;
		pthread_mutex_lock(&cs->lock);
		push_job(cs, c);
		pthread_mutex_unlock(&cs->lock);
		return true;
	} else if (d->op == IOREQVM_OP_DM_READY) {
		pthread_mutex_lock(&cs->lock);
		ctl_run_op(cs->vm, &c->caller, d, payload, rep);
		pthread_cond_broadcast(&cs->cond);
		pthread_mutex_unlock(&cs->lock);
	} else {
		ctl_run_op(cs->vm, &c->caller, d, payload, rep);
		log_debug("ctl: pid %d %s -> %d%s%s", (int)c->caller.pid, d->name, rep->result,
			  rep->msg[0] ? ": " : "", rep->msg);
	}
	reply(c, hp, rep);
	return true;
}

static bool peer_allowed(int fd, pid_t *pid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	*pid = cr.pid;
	return cr.uid == 0 || cr.uid == geteuid();
}

/* Tell a refused peer why, without waiting on it, and let it go. */
static void refuse(struct ctl_server *cs, int fd, int result, const char *msg)
{
	struct ctl_outq q;
	struct ctl_reply rep = { .result = result };
	snprintf(rep.msg, sizeof(rep.msg), "%s", msg);
	ctl_outq_init(&q);
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0)
		ctl_outq_reply(&q, fd, NULL, &rep, 1);
	ctl_outq_clear(&q); /* sent now or never: a new socket has room for one */
	shutdown(fd, SHUT_RDWR);
	fd_reaper_close(cs->reaper, fd);
}

static void accept_one(struct ctl_server *cs)
{
	int fd = accept4(cs->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	pid_t pid = 0;
	char msg[128];
	if (!peer_allowed(fd, &pid)) {
		snprintf(msg, sizeof(msg), "connection refused: the VM belongs to uid %d",
			 (int)geteuid());
		refuse(cs, fd, -EACCES, msg);
		log_info("ctl: refused a connection from pid %d (other user)", (int)pid);
		return;
	}
	if (!conn_add(cs, fd, pid)) {
		snprintf(msg, sizeof(msg), "too many control connections: the limit is %d",
			 CTL_MAX_CONNS);
		refuse(cs, fd, -EMFILE, msg);
		log_info("ctl: refused a connection from pid %d (%d connections, the limit)", (int)pid,
			 CTL_MAX_CONNS);
		return;
	}
	log_info("ctl: device model connected (pid %d)", (int)pid);
}

/* Replies the worker finished go out (or the connection goes). */
static void collect_done(struct ctl_server *cs)
{
	pthread_mutex_lock(&cs->lock);
	struct ctl_conn *d = cs->done;
	cs->done = NULL;
	pthread_mutex_unlock(&cs->lock);
	while (d) {
		struct ctl_conn *c = d;
		d = d->next_done;
		c->busy = false;
		if (!c->doomed)
			reply(c, &c->hdr, &c->rep);
	}
}

static void *ctl_thread(void *arg)
{
	struct ctl_server *cs = arg;
	bool reaper_full_logged = false;
	for (;;) {
		struct pollfd p[CTL_MAX_CONNS + 2];
		struct ctl_conn *who[CTL_MAX_CONNS + 2];
		unsigned n = 0, first;
		p[n++] = (struct pollfd){ .fd = cs->wake_fd, .events = POLLIN };
		/* Past the reaper's bound, new peers wait in the backlog. */
		bool full = fd_reaper_full(cs->reaper);
		if (full && !reaper_full_logged)
			log_info("ctl: %zu file descriptors wait to be closed: not accepting connections "
				 "until they are", fd_reaper_pending(cs->reaper));
		reaper_full_logged = full;
		if (cs->listen_fd >= 0)
			p[n++] = (struct pollfd){ .fd = full ? -1 : cs->listen_fd, .events = POLLIN };
		first = n;
		pthread_mutex_lock(&cs->lock);
		for (unsigned i = 0; i < CTL_MAX_CONNS; i++) {
			struct ctl_conn *c = cs->conns[i];
			if (!c)
				continue;
			who[n] = c;
			short ev = (short)((c->busy ? 0 : POLLIN | POLLRDHUP) | (c->out.n ? POLLOUT : 0));
			/* A doomed connection waiting for its worker job has nothing to poll. */
			p[n++] = (struct pollfd){ .fd = c->doomed ? -1 : c->fd, .events = ev };
		}
		pthread_mutex_unlock(&cs->lock);
		if (poll(p, n, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			uint64_t v;
			ssize_t r = read(cs->wake_fd, &v, sizeof(v));
			(void)r;
			if (!__atomic_load_n(&cs->running, __ATOMIC_ACQUIRE))
				break;
		}
		collect_done(cs);
		if (first == 2 && (p[1].revents & POLLIN))
			accept_one(cs);
		for (unsigned i = first; i < n; i++) {
			struct ctl_conn *c = who[i];
			short re = p[i].revents;
			if (re & POLLOUT) {
				int rc = ctl_outq_flush(&c->out, c->fd);
				if (rc)
					doom(c, "could not be answered (%s): connection dropped",
					     strerror(-rc));
			}
			bool hup = (re & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
			if ((re & POLLIN) && !c->busy && !c->doomed) {
				if (!serve_one(cs, c, hup))
					doom(c, "disconnected");
				continue; /* serve what is left first; the hang-up comes again */
			}
			if (hup && !(re & POLLIN))
				doom(c, "disconnected");
		}
		/* Everything doomed and not with the worker goes now. */
		for (unsigned i = first; i < n; i++)
			if (who[i]->doomed && !who[i]->busy)
				drop(cs, who[i]);
		/* A doomed busy one goes when the worker gives it back (wake_fd). */
	}
	return NULL;
}

int ctl_server_start(struct ctl_server *cs, struct vm *vm, const char *path, char *err,
		     size_t errlen)
{
	memset(cs, 0, sizeof(*cs));
	cs->vm = vm;
	cs->listen_fd = -1;
	cs->jobs_tail = &cs->jobs;
	pthread_mutex_init(&cs->lock, NULL);
	pthread_cond_init(&cs->cond, NULL);
	pthread_cond_init(&cs->work_cond, NULL);
	cs->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (cs->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -errno;
	}
	cs->reaper = fd_reaper_start(CTL_REAPER_BOUND);
	if (!cs->reaper) {
		snprintf(err, errlen, "fd reaper thread: %s", strerror(errno));
		return -errno;
	}
	if (path) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (strlen(path) >= sizeof(sa.sun_path)) {
			snprintf(err, errlen, "control socket path too long: %s", path);
			return -ENAMETOOLONG;
		}
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		snprintf(cs->path, sizeof(cs->path), "%s", path);
		cs->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (cs->listen_fd < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			return -errno;
		}
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
			/* A stale socket of a dead VM: connect fails with ECONNREFUSED. */
			int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
			bool live = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;
			if (probe >= 0)
				close(probe);
			if (live) {
				snprintf(err, errlen, "control socket %s is in use by another VM", path);
				return -EADDRINUSE;
			}
			unlink(path);
		}
		mode_t old = umask(0177); /* the socket is born 0600 */
		int rc = bind(cs->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
		umask(old);
		if (rc < 0 || listen(cs->listen_fd, 16) < 0) {
			rc = -errno;
			snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
			cs->path[0] = 0;
			return rc;
		}
	}
	int rc = pthread_create(&cs->worker, NULL, worker_thread, cs);
	if (rc) {
		snprintf(err, errlen, "control worker thread: %s", strerror(rc));
		return -rc;
	}
	cs->worker_started = true;
	cs->running = true;
	rc = pthread_create(&cs->thread, NULL, ctl_thread, cs);
	if (rc) {
		cs->running = false;
		snprintf(err, errlen, "control thread: %s", strerror(rc));
		return -rc;
	}
	return 0;
}

struct ctl_conn *ctl_server_adopt(struct ctl_server *cs, int fd, pid_t pid)
{
	return conn_add(cs, fd, pid);
}

int ctl_server_wait_ready(struct ctl_server *cs, struct ctl_conn *conn, int timeout_ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	int rc = -ETIMEDOUT;
	pthread_mutex_lock(&cs->lock);
	for (;;) {
		bool present = false;
		for (unsigned i = 0; i < CTL_MAX_CONNS; i++)
			present |= cs->conns[i] == conn;
		if (!present) {
			rc = -EPIPE;
			break;
		}
		if (conn->caller.ready) {
			rc = 0;
			break;
		}
		if (pthread_cond_timedwait(&cs->cond, &cs->lock, &dl) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&cs->lock);
	return rc;
}

/*
 * Bounded whatever peers do: the control thread never blocks on one, the
 * worker finishes the op in hand (a type change: bounded by its size), and
 * the reaper gets a deadline.
 */
void ctl_server_stop(struct ctl_server *cs)
{
	if (cs->running) {
		__atomic_store_n(&cs->running, false, __ATOMIC_RELEASE);
		wake(cs);
		pthread_join(cs->thread, NULL);
	}
	if (cs->worker_started) {
		pthread_mutex_lock(&cs->lock);
		cs->worker_stop = true;
		pthread_cond_signal(&cs->work_cond);
		pthread_mutex_unlock(&cs->lock);
		pthread_join(cs->worker, NULL); /* queued teardowns run first */
		cs->worker_started = false;
	}
	for (unsigned i = 0; i < CTL_MAX_CONNS; i++) {
		if (cs->conns[i])
			conn_teardown(cs, cs->conns[i]);
		cs->conns[i] = NULL;
	}
	if (cs->listen_fd >= 0)
		close(cs->listen_fd);
	if (cs->path[0])
		unlink(cs->path);
	if (cs->wake_fd >= 0)
		close(cs->wake_fd);
	fd_reaper_stop(cs->reaper, 500);
	cs->reaper = NULL;
	cs->listen_fd = cs->wake_fd = -1;
	cs->path[0] = 0;
	pthread_mutex_destroy(&cs->lock);
	pthread_cond_destroy(&cs->cond);
	pthread_cond_destroy(&cs->work_cond);
}
