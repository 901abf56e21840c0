/* SPDX-License-Identifier: MIT */
/*
 * Device models that ioreqvm starts itself: each gets one end of a
 * socketpair as $IOREQVM_FD (and the socket path as $IOREQVM_SOCKET), and
 * the VM starts only once every one has said DM_READY. At the end they are
 * told by the closed connection, waited for, and killed if they linger.
 */
#ifndef IOREQVM_DM_SPAWN_H
#define IOREQVM_DM_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct ctl_server;

#define DM_MAX 33 /* the UART, 16 --device-model, 16 --xen-device-model */

struct dm_child {
	pid_t pid;
};

/*
 * Start `sh -c "exec CMD"` and wait for its DM_READY. @extra_env: NULL, or
 * "NAME=value" strings (NULL-terminated) the child gets on top of ours
 * (replacing variables of the same names). 0 or -errno with a message.
 */
int dm_spawn(struct ctl_server *cs, const char *cmd, const char *socket_path,
	     const char *const *extra_env, struct dm_child *child, int ready_timeout_ms,
	     char *err, size_t errlen);
/* Wait up to @grace_ms for the child to exit, then SIGKILL it. */
void dm_reap(struct dm_child *child, int grace_ms);

#endif
