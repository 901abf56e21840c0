/* SPDX-License-Identifier: MIT */
/*
 * The xenstore wire protocol as ioreqvm speaks it (DESIGN X1): the message
 * header, the message types, the payload and path bounds and the error
 * names of Xen's <xen/io/xs_wire.h>, with the same values (checked against
 * Debian's libxen-dev by tests/unit/test_abi_xen.c). A message is this
 * header followed by len payload bytes, over a byte stream. The VMM's
 * xenstore service (src/xenstore/) and ioreqctl's client use it; device
 * models use Xen's own libxenstore.
 */
#ifndef IOREQVM_XS_WIRE_H
#define IOREQVM_XS_WIRE_H

#include <errno.h>
#include <stdint.h>

struct ioreqvm_xs_msg {
	uint32_t type;   /* IOREQVM_XS_* */
	uint32_t req_id; /* echoed in the answer */
	uint32_t tx_id;  /* transaction, 0 for none */
	uint32_t len;    /* payload bytes after this header */
};

enum ioreqvm_xs_type {
	IOREQVM_XS_CONTROL = 0,
	IOREQVM_XS_DIRECTORY = 1,
	IOREQVM_XS_READ = 2,
	IOREQVM_XS_GET_PERMS = 3,
	IOREQVM_XS_WATCH = 4,
	IOREQVM_XS_UNWATCH = 5,
	IOREQVM_XS_TRANSACTION_START = 6,
	IOREQVM_XS_TRANSACTION_END = 7,
	IOREQVM_XS_INTRODUCE = 8,
	IOREQVM_XS_RELEASE = 9,
	IOREQVM_XS_GET_DOMAIN_PATH = 10,
	IOREQVM_XS_WRITE = 11,
	IOREQVM_XS_MKDIR = 12,
	IOREQVM_XS_RM = 13,
	IOREQVM_XS_SET_PERMS = 14,
	IOREQVM_XS_WATCH_EVENT = 15,
	IOREQVM_XS_ERROR = 16,
	IOREQVM_XS_IS_DOMAIN_INTRODUCED = 17,
	IOREQVM_XS_RESUME = 18,
	IOREQVM_XS_SET_TARGET = 19,
	/* 20 was XS_RESTRICT, removed from Xen */
	IOREQVM_XS_RESET_WATCHES = 21,
	IOREQVM_XS_DIRECTORY_PART = 22,
	IOREQVM_XS_TYPE_COUNT = 23,
};

/* Payload bytes of one message, either way: past it xenstored drops the connection. */
#define IOREQVM_XS_PAYLOAD_MAX 4096
/* Longest absolute path, and longest relative one a client may send. */
#define IOREQVM_XS_ABS_PATH_MAX 3072
#define IOREQVM_XS_REL_PATH_MAX 2048

/*
 * Errors travel as the errno's name (an XS_ERROR payload "EINVAL\0"); these
 * are the names Xen's clients know (xsd_errors[]), in Xen's order. A client
 * reads any other name as EINVAL.
 */
struct ioreqvm_xs_error {
	int err;
	const char *name;
};
#define IOREQVM_XS_ERRORS                                                           \
	{ EINVAL, "EINVAL" }, { EACCES, "EACCES" }, { EEXIST, "EEXIST" },           \
	{ EISDIR, "EISDIR" }, { ENOENT, "ENOENT" }, { ENOMEM, "ENOMEM" },           \
	{ ENOSPC, "ENOSPC" }, { EIO, "EIO" }, { ENOTEMPTY, "ENOTEMPTY" },           \
	{ ENOSYS, "ENOSYS" }, { EROFS, "EROFS" }, { EBUSY, "EBUSY" },               \
	{ EAGAIN, "EAGAIN" }, { EISCONN, "EISCONN" }, { E2BIG, "E2BIG" },           \
	{ EPERM, "EPERM" }
#define IOREQVM_XS_NR_ERRORS 16

#endif
