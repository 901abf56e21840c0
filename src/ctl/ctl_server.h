/* SPDX-License-Identifier: MIT */
/*
 * The control socket (DESIGN section 4): an AF_UNIX SOCK_SEQPACKET socket,
 * mode 0600, peer credentials checked, served by one thread. Connections
 * are also added for device models ioreqvm starts (socketpairs). When a
 * connection closes, everything it owned goes (I5).
 */
#ifndef IOREQVM_CTL_SERVER_H
#define IOREQVM_CTL_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vm;
struct ctl_conn;

#define CTL_MAX_CONNS 64

struct ctl_server {
	struct vm *vm;
	int listen_fd;
	int wake_fd; /* eventfd: stop the thread */
	char path[108];
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled when a connection becomes ready or closes */
	struct ctl_conn *conns[CTL_MAX_CONNS];
};

/* Default socket path for this process (under $XDG_RUNTIME_DIR, /run or /tmp). */
void ctl_default_path(char *buf, size_t len);

/* Bind @path (0600), start the thread. 0 or -errno with a message. */
int ctl_server_start(struct ctl_server *cs, struct vm *vm, const char *path, char *err,
		     size_t errlen);
/* Serve an already connected socket (ours to close); @pid is the peer. Returns a handle. */
struct ctl_conn *ctl_server_adopt(struct ctl_server *cs, int fd, pid_t pid);
/*
 * Wait until @conn sent DM_READY (0), closed (-EPIPE) or @timeout_ms passed
 * (-ETIMEDOUT).
 */
int ctl_server_wait_ready(struct ctl_server *cs, struct ctl_conn *conn, int timeout_ms);
/* Stop the thread, close every connection (their servers die), unlink the socket. */
void ctl_server_stop(struct ctl_server *cs);

#endif
