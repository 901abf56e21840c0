/* SPDX-License-Identifier: MIT */
/*
 * The xenstore socket (see xs_server.h): the private directory and the
 * socket, accepting and checking peers, the thread's poll loop, and each
 * connection's output queue (one growing buffer, bounded).
 */
#include "xenstore/xs_server.h"

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
#include <unistd.h>

#include "core/log.h"

struct xs_conn {
	int fd;
	pid_t pid;
	struct xs_client *client;
	uint8_t *out;      /* answers and events not yet written */
	size_t out_len, out_off, out_cap;
	bool doomed;
	char why[96];
};

static void __attribute__((format(printf, 2, 3))) doom(struct xs_conn *c, const char *fmt, ...)
{
	if (c->doomed)
		return;
	c->doomed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/* The protocol's output for connection @opaque: queued, within the bound. */
static void conn_send(void *opaque, const struct ioreqvm_xs_msg *h, const void *payload)
{
	struct xs_conn *c = opaque;
	size_t n = sizeof(*h) + h->len;
	if (c->doomed)
		return;
	if (c->out_len - c->out_off + n > XS_MAX_QUEUED_BYTES) {
		doom(c, "left more than %u bytes of answers and events unread: dropped",
		     XS_MAX_QUEUED_BYTES);
		return;
	}
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + n > c->out_cap) {
		if (c->out_off) { /* compact first */
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		size_t cap = c->out_cap ? c->out_cap : 8192;
		while (c->out_len + n > cap)
			cap *= 2;
		if (cap != c->out_cap) {
			uint8_t *p = realloc(c->out, cap);
			if (!p) {
				doom(c, "could not be answered (out of memory): dropped");
				return;
			}
			c->out = p;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, h, sizeof(*h));
	if (h->len)
		memcpy(c->out + c->out_len + sizeof(*h), payload, h->len);
	c->out_len += n;
}

static void xs_log(const char *msg)
{
	log_info("%s", msg);
}

int xs_server_init(struct xs_server *s, uint32_t domid)
{
	memset(s, 0, sizeof(*s));
	s->listen_fd = s->wake_fd = -1;
	int rc = xs_service_init(&s->svc, domid, conn_send, xs_log);
	s->svc_ready = !rc;
	return rc;
}

static void conn_free(struct xs_server *s, unsigned i)
{
	struct xs_conn *c = s->conns[i];
	if (c->why[0] && strcmp(c->why, "disconnected"))
		log_err("xenstore: client (pid %d) %s", (int)c->pid, c->why);
	else
		log_info("xenstore: client (pid %d) disconnected", (int)c->pid);
	xs_client_remove(c->client);
	close(c->fd);
	free(c->out);
	free(c);
	s->conns[i] = NULL;
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

static void accept_one(struct xs_server *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	pid_t pid = 0;
	if (!peer_allowed(fd, &pid)) {
		log_info("xenstore: refused a connection from pid %d (other user)", (int)pid);
		close(fd);
		return;
	}
	unsigned i = 0;
	while (i < XS_MAX_CONNS && s->conns[i])
		i++;
	struct xs_conn *c = i < XS_MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
	struct xs_client *cl = c ? xs_client_add(&s->svc, c) : NULL;
	if (!cl) {
		log_err("xenstore: refused a connection from pid %d (%s)", (int)pid,
			i < XS_MAX_CONNS ? "out of memory" : "32 connections, the limit");
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	c->pid = pid;
	c->client = cl;
	s->conns[i] = c;
	log_info("xenstore: client connected (pid %d)", (int)pid);
}

static void conn_read(struct xs_conn *c)
{
	uint8_t buf[16384];
	ssize_t n = read(c->fd, buf, sizeof(buf));
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			doom(c, "disconnected");
		return;
	}
	if (n == 0) {
		doom(c, "disconnected");
		return;
	}
	if (xs_client_input(c->client, buf, (size_t)n) == -EPROTO)
		doom(c, "sent a message longer than %d bytes (the protocol's bound): dropped",
		     IOREQVM_XS_PAYLOAD_MAX);
}

static void conn_flush(struct xs_conn *c)
{
	while (!c->doomed && c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				doom(c, "disconnected");
			return;
		}
		c->out_off += (size_t)n;
	}
}

static void *xs_thread(void *arg)
{
	struct xs_server *s = arg;
	for (;;) {
		struct pollfd p[XS_MAX_CONNS + 2];
		unsigned who[XS_MAX_CONNS + 2];
		unsigned n = 0;
		p[n++] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
		for (unsigned i = 0; i < XS_MAX_CONNS; i++) {
			struct xs_conn *c = s->conns[i];
			if (!c)
				continue;
			who[n] = i;
			p[n++] = (struct pollfd){ .fd = c->fd, .events = (short)(POLLIN | POLLRDHUP |
				(c->out_off < c->out_len ? POLLOUT : 0)) };
		}
		if (poll(p, n, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			uint64_t v;
			ssize_t r = read(s->wake_fd, &v, sizeof(v));
			(void)r;
			if (!__atomic_load_n(&s->running, __ATOMIC_ACQUIRE))
				break;
		}
		if (p[1].revents & POLLIN)
			accept_one(s);
		for (unsigned k = 2; k < n; k++) {
			struct xs_conn *c = s->conns[who[k]];
			if (p[k].revents & POLLIN)
				conn_read(c);
			else if (p[k].revents & (POLLHUP | POLLERR | POLLRDHUP))
				doom(c, "disconnected");
		}
		/* Answers and events: written now as far as the sockets take them. */
		for (unsigned i = 0; i < XS_MAX_CONNS; i++)
			if (s->conns[i])
				conn_flush(s->conns[i]);
		for (unsigned i = 0; i < XS_MAX_CONNS; i++)
			if (s->conns[i] && s->conns[i]->doomed)
				conn_free(s, i);
	}
	return NULL;
}

int xs_server_start(struct xs_server *s, const char *parent_dir, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;
	if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s/ioreqvm-%d-xenstore-XXXXXX", parent_dir,
			     (int)getpid()) >= sizeof(s->dir) ||
	    (size_t)snprintf(s->path, sizeof(s->path), "%s/socket", s->dir) >= sizeof(sa.sun_path)) {
		s->dir[0] = s->path[0] = 0;
		snprintf(err, errlen, "xenstore: directory %s is too long for a socket path", parent_dir);
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(s->dir)) { /* mode 0700 */
		rc = -errno;
		snprintf(err, errlen, "xenstore: creating a directory in %s: %s", parent_dir,
			 strerror(errno));
		s->dir[0] = s->path[0] = 0;
		return rc;
	}
	snprintf(s->path, sizeof(s->path), "%s/socket", s->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->wake_fd < 0 || s->listen_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "xenstore: %s", strerror(errno));
		return rc;
	}
	mode_t old = umask(0177); /* the socket is born 0600 */
	rc = bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(s->listen_fd, 16) < 0) {
		rc = -errno;
		snprintf(err, errlen, "xenstore: socket %s: %s", s->path, strerror(errno));
		return rc;
	}
	s->running = true;
	rc = pthread_create(&s->thread, NULL, xs_thread, s);
	if (rc) {
		s->running = false;
		unlink(s->path);
		snprintf(err, errlen, "xenstore: thread: %s", strerror(rc));
		return -rc;
	}
	return 0;
}

void xs_server_stop(struct xs_server *s)
{
	if (s->running) {
		__atomic_store_n(&s->running, false, __ATOMIC_RELEASE);
		uint64_t one = 1;
		ssize_t w = write(s->wake_fd, &one, sizeof(one));
		(void)w;
		pthread_join(s->thread, NULL);
	}
	for (unsigned i = 0; i < XS_MAX_CONNS; i++)
		if (s->conns[i])
			conn_free(s, i);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	s->listen_fd = s->wake_fd = -1;
	if (s->dir[0]) {
		unlink(s->path);
		rmdir(s->dir);
	}
	s->dir[0] = s->path[0] = 0;
	if (s->svc_ready)
		xs_service_destroy(&s->svc);
	s->svc_ready = false;
}
