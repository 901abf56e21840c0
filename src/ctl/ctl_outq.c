/* SPDX-License-Identifier: MIT */
/*
 * Reply framing (header, payload, SCM_RIGHTS) and the per-connection queue
 * of replies the socket could not take yet. The fds in a queued reply are
 * the VMM's own (request-slot memfds, eventfds, guest RAM), duplicated
 * when queued, so closing them here is quick.
 */
#include "ctl/ctl_outq.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct ctl_out {
	struct ctl_out *next;
	size_t len;
	unsigned nr_fds;
	int fds[IOREQVM_CTL_MAX_FDS];
	uint8_t data[];
};

void ctl_outq_init(struct ctl_outq *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->n = 0;
}

/* One record: @len bytes of @data with @nr_fds fds. -errno, EAGAIN included. */
static int send_record(int fd, const void *data, size_t len, const int *fds, unsigned nr_fds)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * IOREQVM_CTL_MAX_FDS)];
	} cbuf;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nr_fds) {
		m.msg_control = cbuf.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nr_fds);
	}
	ssize_t n;
	do {
		n = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static void out_free(struct ctl_out *o)
{
	for (unsigned i = 0; i < o->nr_fds; i++)
		close(o->fds[i]);
	free(o);
}

int ctl_outq_reply(struct ctl_outq *q, int fd, const struct ioreqvm_ctl_req *h,
		   const struct ctl_reply *rep, unsigned max)
{
	struct ioreqvm_ctl_rep rh = {
		.magic = IOREQVM_CTL_MAGIC, .version = IOREQVM_CTL_VERSION,
		.op = h ? h->op : 0, .seq = h ? h->seq : 0,
		.len = rep->len, .result = rep->result, .nr_fds = rep->nr_fds,
	};
	snprintf(rh.msg, sizeof(rh.msg), "%s", rep->msg);
	size_t len = sizeof(rh) + rep->len;
	unsigned nr_fds = rep->nr_fds < IOREQVM_CTL_MAX_FDS ? rep->nr_fds : IOREQVM_CTL_MAX_FDS;
	if (q->n >= max)
		return -ENOBUFS;
	struct ctl_out *o = malloc(sizeof(*o) + len);
	if (!o)
		return -ENOMEM;
	memcpy(o->data, &rh, sizeof(rh));
	memcpy(o->data + sizeof(rh), rep->payload, rep->len);
	o->len = len;
	o->next = NULL;
	o->nr_fds = 0;
	if (!q->n) {
		int rc = send_record(fd, o->data, len, rep->fds, nr_fds);
		if (rc != -EAGAIN) {
			free(o);
			return rc;
		}
	}
	for (unsigned i = 0; i < nr_fds; i++) {
		int d = fcntl(rep->fds[i], F_DUPFD_CLOEXEC, 0);
		if (d < 0) {
			int rc = -errno;
			out_free(o);
			return rc;
		}
		o->fds[o->nr_fds++] = d;
	}
	*q->tail = o;
	q->tail = &o->next;
	q->n++;
	return 0;
}

int ctl_outq_flush(struct ctl_outq *q, int fd)
{
	while (q->head) {
		struct ctl_out *o = q->head;
		int rc = send_record(fd, o->data, o->len, o->fds, o->nr_fds);
		if (rc == -EAGAIN)
			return 0;
		if (rc)
			return rc;
		q->head = o->next;
		if (!q->head)
			q->tail = &q->head;
		q->n--;
		out_free(o);
	}
	return 0;
}

void ctl_outq_clear(struct ctl_outq *q)
{
	while (q->head) {
		struct ctl_out *o = q->head;
		q->head = o->next;
		out_free(o);
	}
	ctl_outq_init(q);
}
