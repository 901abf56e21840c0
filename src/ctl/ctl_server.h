/* SPDX-License-Identifier: MIT */
/*
 * The control socket (DESIGN section 4): an AF_UNIX SOCK_SEQPACKET socket,
 * mode 0600, peer credentials checked. Connections are also added for
 * device models ioreqvm starts (socketpairs). When a connection closes,
 * everything it owned goes (I5).
 *
 * Threads (DESIGN R1: the control plane never waits on a peer):
 *  - the control thread polls the non-blocking sockets, reads requests,
 *    answers the quick ops itself (state reads, interrupts) and queues
 *    replies a slow reader has not taken (bounded: past
 *    CTL_MAX_QUEUED_REPLIES it drops him);
 *  - one worker runs every op that changes servers, ranges, types or
 *    claims, and every connection's teardown, in arrival order, so those
 *    ops are serialised and a long one (a type change over thousands of
 *    runs) leaves the control thread answering;
 *  - the fd reaper closes what peers handed us (fd_reaper.h).
 * A connection has at most one request in progress: the next is read once
 * the reply to the last exists.
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
/* Replies a connection may leave unread before it is dropped. */
#define CTL_MAX_QUEUED_REPLIES 32
/* Fds waiting for the reaper past which no new connection is accepted. */
#define CTL_REAPER_BOUND 4096

struct fd_reaper;

struct ctl_server {
	struct vm *vm;
	int listen_fd;
	int wake_fd; /* eventfd: re-poll (a connection added, an op done, stop) */
	char path[108];
	pthread_t thread, worker;
	bool running, worker_started, worker_stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;      /* a connection became ready or went */
	pthread_cond_t work_cond; /* the worker has a job */
	struct ctl_conn *conns[CTL_MAX_CONNS];
	struct ctl_conn *jobs, **jobs_tail; /* for the worker (under lock) */
	struct ctl_conn *done;              /* ops the worker finished (under lock) */
	struct fd_reaper *reaper;
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
