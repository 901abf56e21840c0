/* SPDX-License-Identifier: MIT */
/*
 * Control socket thread: poll on the listening socket, the connections and
 * a wake eventfd; one request in, one reply out, per message. Credentials
 * are checked on accept (same uid or root). Received file descriptors are
 * closed and refused. A connection that closes or misbehaves at the socket
 * level is dropped, and with it its IOREQ servers.
 */
#include "ctl/ctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

struct ctl_conn {
	int fd;
	struct ctl_caller caller;
	bool closed;
};

void ctl_default_path(char *buf, size_t len)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	if (!dir || !*dir)
		dir = geteuid() == 0 ? "/run" : "/tmp";
	snprintf(buf, len, "%s/ioreqvm-%d.sock", dir, (int)getpid());
}

static void conn_free(struct ctl_server *cs, struct ctl_conn *c)
{
	/* Closed first: a model woken by its servers' destruction sees the hang-up. */
	close(c->fd);
	ioreq_servers_drop_owner(&cs->vm->servers, c);
	free(c);
}

static struct ctl_conn *conn_add(struct ctl_server *cs, int fd, pid_t pid)
{
	struct ctl_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->caller.conn = c;
	c->caller.pid = pid;
	pthread_mutex_lock(&cs->lock);
	for (unsigned i = 0; i < CTL_MAX_CONNS; i++) {
		if (!cs->conns[i]) {
			cs->conns[i] = c;
			pthread_mutex_unlock(&cs->lock);
			uint64_t one = 1;
			ssize_t w = write(cs->wake_fd, &one, sizeof(one)); /* re-poll */
			(void)w;
			return c;
		}
	}
	pthread_mutex_unlock(&cs->lock);
	free(c);
	return NULL;
}

static void send_reply(int fd, const struct ioreqvm_ctl_req *h, const struct ctl_reply *rep)
{
	struct ioreqvm_ctl_rep rh = {
		.magic = IOREQVM_CTL_MAGIC, .version = IOREQVM_CTL_VERSION,
		.op = h ? h->op : 0, .seq = h ? h->seq : 0,
		.len = rep->len, .result = rep->result, .nr_fds = rep->nr_fds,
	};
	snprintf(rh.msg, sizeof(rh.msg), "%s", rep->msg);
	struct iovec iov[2] = {
		{ .iov_base = &rh, .iov_len = sizeof(rh) },
		{ .iov_base = (void *)rep->payload, .iov_len = rep->len },
	};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * IOREQVM_CTL_MAX_FDS)];
	} cbuf;
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	if (rep->nr_fds) {
		m.msg_control = cbuf.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * rep->nr_fds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * rep->nr_fds);
		memcpy(CMSG_DATA(cm), rep->fds, sizeof(int) * rep->nr_fds);
	}
	ssize_t n;
	do {
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
}

/* One message from @c. Returns false if the connection must go. */
static bool serve_one(struct ctl_server *cs, struct ctl_conn *c)
{
	static _Thread_local uint8_t buf[sizeof(struct ioreqvm_ctl_req) + IOREQVM_CTL_MAX_PAYLOAD + 1];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 16)];
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
		int fds[16];
		memcpy(fds, CMSG_DATA(cm), k * sizeof(int));
		for (size_t i = 0; i < k; i++)
			close(fds[i]);
		nr_fds += (unsigned)k;
	}
	if (n == 0 && !nr_fds)
		return false; /* EOF */
	bool truncated = (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || (size_t)n == sizeof(buf);
	struct ctl_reply *rep = calloc(1, sizeof(*rep));
	if (!rep)
		return false;
	const void *payload;
	const struct ctl_op_desc *d = ctl_check_request(buf, (size_t)n, truncated, nr_fds,
							&payload, rep);
	struct ioreqvm_ctl_req h;
	const struct ioreqvm_ctl_req *hp = NULL;
	if ((size_t)n >= sizeof(h)) {
		memcpy(&h, buf, sizeof(h));
		hp = &h;
	}
	if (d) {
		ctl_run_op(cs->vm, &c->caller, d, payload, rep);
		log_debug("ctl: pid %d %s -> %d%s%s", (int)c->caller.pid, d->name, rep->result,
			  rep->msg[0] ? ": " : "", rep->msg);
		if (d->op == IOREQVM_OP_DM_READY) {
			pthread_mutex_lock(&cs->lock);
			pthread_cond_broadcast(&cs->cond);
			pthread_mutex_unlock(&cs->lock);
		}
	} else {
		log_info("ctl: pid %d: refused message: %s", (int)c->caller.pid, rep->msg);
	}
	send_reply(c->fd, hp, rep);
	free(rep);
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

static void accept_one(struct ctl_server *cs)
{
	int fd = accept4(cs->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	pid_t pid = 0;
	if (!peer_allowed(fd, &pid)) {
		struct ctl_reply rep = { .result = -EACCES };
		snprintf(rep.msg, sizeof(rep.msg), "connection refused: the VM belongs to uid %d",
			 (int)geteuid());
		send_reply(fd, NULL, &rep);
		log_info("ctl: refused a connection from pid %d (other user)", (int)pid);
		close(fd);
		return;
	}
	if (!conn_add(cs, fd, pid)) {
		struct ctl_reply rep = { .result = -EMFILE };
		snprintf(rep.msg, sizeof(rep.msg), "too many control connections (%d)", CTL_MAX_CONNS);
		send_reply(fd, NULL, &rep);
		close(fd);
		return;
	}
	log_info("ctl: device model connected (pid %d)", (int)pid);
}

static void *ctl_thread(void *arg)
{
	struct ctl_server *cs = arg;
	for (;;) {
		struct pollfd p[CTL_MAX_CONNS + 2];
		struct ctl_conn *who[CTL_MAX_CONNS + 2];
		unsigned n = 0;
		p[n++] = (struct pollfd){ .fd = cs->wake_fd, .events = POLLIN };
		if (cs->listen_fd >= 0)
			p[n++] = (struct pollfd){ .fd = cs->listen_fd, .events = POLLIN };
		pthread_mutex_lock(&cs->lock);
		for (unsigned i = 0; i < CTL_MAX_CONNS; i++) {
			if (!cs->conns[i])
				continue;
			who[n] = cs->conns[i];
			p[n++] = (struct pollfd){ .fd = cs->conns[i]->fd, .events = POLLIN };
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
		unsigned first = 1;
		if (cs->listen_fd >= 0) {
			if (p[1].revents & POLLIN)
				accept_one(cs);
			first = 2;
		}
		for (unsigned i = first; i < n; i++) {
			if (!p[i].revents)
				continue;
			struct ctl_conn *c = who[i];
			bool keep = (p[i].revents & POLLIN) ? serve_one(cs, c) : false;
			if (keep && !(p[i].revents & (POLLHUP | POLLERR)))
				continue;
			if ((p[i].revents & POLLIN) && keep)
				continue; /* serve what is left first; HUP comes again */
			pthread_mutex_lock(&cs->lock);
			for (unsigned j = 0; j < CTL_MAX_CONNS; j++)
				if (cs->conns[j] == c)
					cs->conns[j] = NULL;
			c->closed = true;
			pthread_cond_broadcast(&cs->cond);
			pthread_mutex_unlock(&cs->lock);
			log_info("ctl: device model (pid %d) disconnected", (int)c->caller.pid);
			conn_free(cs, c);
		}
	}
	return NULL;
}

int ctl_server_start(struct ctl_server *cs, struct vm *vm, const char *path, char *err,
		     size_t errlen)
{
	memset(cs, 0, sizeof(*cs));
	cs->vm = vm;
	cs->listen_fd = -1;
	pthread_mutex_init(&cs->lock, NULL);
	pthread_cond_init(&cs->cond, NULL);
	cs->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (cs->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
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
		cs->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
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
	cs->running = true;
	int rc = pthread_create(&cs->thread, NULL, ctl_thread, cs);
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

void ctl_server_stop(struct ctl_server *cs)
{
	if (cs->running) {
		__atomic_store_n(&cs->running, false, __ATOMIC_RELEASE);
		uint64_t one = 1;
		ssize_t w = write(cs->wake_fd, &one, sizeof(one));
		(void)w;
		pthread_join(cs->thread, NULL);
	}
	for (unsigned i = 0; i < CTL_MAX_CONNS; i++) {
		if (cs->conns[i])
			conn_free(cs, cs->conns[i]);
		cs->conns[i] = NULL;
	}
	if (cs->listen_fd >= 0)
		close(cs->listen_fd);
	if (cs->path[0])
		unlink(cs->path);
	if (cs->wake_fd >= 0)
		close(cs->wake_fd);
	cs->listen_fd = cs->wake_fd = -1;
	cs->path[0] = 0;
	pthread_mutex_destroy(&cs->lock);
	pthread_cond_destroy(&cs->cond);
}
