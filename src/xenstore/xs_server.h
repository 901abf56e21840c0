/* SPDX-License-Identifier: MIT */
/*
 * The VM's xenstore service on a UNIX socket (DESIGN X1, R5): the socket
 * Xen's libxenstore reaches through $XENSTORED_PATH, speaking the protocol
 * of xs_proto.h over SOCK_STREAM. The socket is mode 0600 in a directory of
 * its own, mode 0700, made with mkdtemp next to the control socket
 * (<dir>/ioreqvm-<pid>-xenstore-XXXXXX/socket); a peer whose uid is not
 * ioreqvm's (or root) is refused, as on the control socket.
 *
 * One thread owns the store and every connection: it polls the listening
 * socket, the connections and a wake eventfd, feeds what a peer sends to
 * the protocol and writes the answers and events out without ever
 * blocking on a peer (DESIGN R1). Limits (R4): XS_MAX_CONNS connections (a
 * peer past them is closed at once, logged); a connection whose unread
 * output passes XS_MAX_QUEUED_BYTES, or that announces a message longer
 * than IOREQVM_XS_PAYLOAD_MAX, is dropped with a logged reason, its watches
 * and transactions with it.
 *
 * Seed the store (xs_server_seed, xs_seed.h) between init and start; after
 * start only the thread touches it.
 */
#ifndef IOREQVM_XS_SERVER_H
#define IOREQVM_XS_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenstore/xs_proto.h"

#define XS_MAX_CONNS 32
#define XS_MAX_QUEUED_BYTES (1u << 20)

struct xs_conn;

struct xs_server {
	struct xs_service svc;
	bool svc_ready;
	int listen_fd;
	int wake_fd;
	char dir[96];   /* the 0700 directory, "" if none */
	char path[108]; /* its socket: XENSTORED_PATH */
	pthread_t thread;
	bool running;
	struct xs_conn *conns[XS_MAX_CONNS];
};

/* An empty store answering for @domid; no socket yet. 0 or -ENOMEM. */
int xs_server_init(struct xs_server *s, uint32_t domid);
/*
 * The directory and socket in @parent_dir, and the thread. 0 or -errno
 * with a message in @err; -ENAMETOOLONG (nothing made) if the socket's
 * path would not fit a sockaddr_un.
 */
int xs_server_start(struct xs_server *s, const char *parent_dir, char *err, size_t errlen);
/* Stop the thread, drop every connection, remove socket and directory, free the store. */
void xs_server_stop(struct xs_server *s);

#endif
