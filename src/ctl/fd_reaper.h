/* SPDX-License-Identifier: MIT */
/*
 * Closing file descriptors a peer had a hand in, off the control thread.
 * The last close of some files blocks for as long as their creator chose:
 * a TCP socket with SO_LINGER and unsent data (seconds), a FUSE file, or a
 * control connection whose unread messages still carry such fds. Every fd
 * a peer sent us, and every connection socket, is closed here, by a thread
 * of its own, so a slow close never stalls the control plane (DESIGN R1).
 * Queued fds are counted: the control thread stops taking new ones (new
 * connections) while the count is at its bound.
 */
#ifndef IOREQVM_FD_REAPER_H
#define IOREQVM_FD_REAPER_H

#include <stdbool.h>
#include <stddef.h>

struct fd_reaper;

/* Start the closing thread. NULL (errno set) if it cannot start. */
struct fd_reaper *fd_reaper_start(size_t bound);
/* Hand @fd over to be closed; never blocks. A negative fd is ignored. */
void fd_reaper_close(struct fd_reaper *r, int fd);
/* Fds handed over and not yet closed. */
size_t fd_reaper_pending(struct fd_reaper *r);
/* At or past its bound (the caller should stop taking in fds). */
bool fd_reaper_full(struct fd_reaper *r);
/*
 * Close what is queued and stop, waiting at most @timeout_ms. A thread
 * still stuck in a close then is left to finish on its own (it frees the
 * reaper itself); process exit does not linger on sockets.
 */
void fd_reaper_stop(struct fd_reaper *r, int timeout_ms);

#endif
