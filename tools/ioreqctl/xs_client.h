/* SPDX-License-Identifier: MIT */
/*
 * ioreqctl's xenstore client: one connection to a VM's xenstore socket
 * (the path XEN_INFO gives), one request and its answer at a time, in the
 * wire format of ioreqvm/xs_wire.h. Watch events are never asked for, so
 * none arrive. Errors: 0 or a negative errno (the name the store answered
 * with, or the socket's).
 */
#ifndef IOREQCTL_XS_CLIENT_H
#define IOREQCTL_XS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* A connected socket, or -errno. */
int xsc_open(const char *path);
/*
 * Send @type with @len payload bytes; the answer's payload (NUL added
 * after it) into a malloc'ed *out, its length in *out_len. 0 or -errno.
 */
int xsc_call(int fd, uint32_t type, const void *payload, size_t len, char **out,
	     uint32_t *out_len);

#endif
