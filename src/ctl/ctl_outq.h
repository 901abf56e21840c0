/* SPDX-License-Identifier: MIT */
/*
 * A control connection's replies on their way out. The socket is
 * non-blocking: a reply goes straight out when nothing waits before it,
 * else it is queued, with its own copies of the fds it carries (the
 * originals may close meanwhile), and sent when the socket can take it.
 * The queue is bounded: a peer that stops reading is told so by its
 * connection being dropped (DESIGN R1), never by the VMM waiting on it.
 */
#ifndef IOREQVM_CTL_OUTQ_H
#define IOREQVM_CTL_OUTQ_H

#include "ctl/ctl_ops.h"

struct ctl_out;

struct ctl_outq {
	struct ctl_out *head, **tail;
	unsigned n;
};

void ctl_outq_init(struct ctl_outq *q);
/*
 * Send the reply to request @h (NULL: an unsolicited one, seq 0) on @fd,
 * or queue it behind others. 0 (sent or queued), -ENOBUFS (the queue holds
 * @max already: nothing queued), -ENOMEM, or the socket's -errno.
 */
int ctl_outq_reply(struct ctl_outq *q, int fd, const struct ioreqvm_ctl_req *h,
		   const struct ctl_reply *rep, unsigned max);
/* Send what the socket takes now. 0 (the rest stays queued) or -errno. */
int ctl_outq_flush(struct ctl_outq *q, int fd);
/* Forget every queued reply, closing its fd copies. */
void ctl_outq_clear(struct ctl_outq *q);

#endif
