/* SPDX-License-Identifier: MIT */
/*
 * The xenstore protocol (DESIGN X1; <xen/io/xs_wire.h> and Xen's
 * docs/misc/xenstore.txt) on byte streams: framing and validation of every
 * message, the operations on the store (xs_tree.h), watches and their
 * events, transactions. Pure of sockets and threads: the server feeds a
 * client's bytes in with xs_client_input() and sends whatever the service
 * hands its send function; the fuzz target does the same.
 *
 * Every client is a socket peer of the VM's own user, so every client is
 * the device-model domain, dom0: relative paths are relative to
 * /local/domain/0, as xenstored takes a socket client's, and permissions
 * are stored and answered (GET_PERMS, SET_PERMS, checked for syntax) but
 * never refuse anything, as dom0 is privileged in xenstored too.
 *
 * Messages: a header whose len is above IOREQVM_XS_PAYLOAD_MAX ends the
 * connection (xs_client_input returns -EPROTO), as with xenstored; any
 * other malformed message (strings not NUL-terminated, a bad path, a
 * missing argument, an unknown type) is answered XS_ERROR with the errno's
 * name, and nothing changes. Answers:
 *  - READ, WRITE, MKDIR, RM, DIRECTORY, DIRECTORY_PART, GET_PERMS,
 *    SET_PERMS: as xenstored, inside a transaction when tx_id names one of
 *    the client's (else ENOENT); DIRECTORY past the payload bound: E2BIG
 *    (libxenstore then pages with DIRECTORY_PART);
 *  - WATCH (path or "@name", token): OK, then the first event at once;
 *    the same path and token twice: EEXIST; UNWATCH of none: ENOENT;
 *    RESET_WATCHES: the client's watches and transactions go;
 *  - TRANSACTION_START: a copy of the store; TRANSACTION_END "T" commits it
 *    whole, or answers EAGAIN (and drops it) if the store changed since it
 *    started (xenstore.txt's rule: any intervening write); "F" drops it;
 *    events of a transaction fire at its commit;
 *  - GET_DOMAIN_PATH: /local/domain/<domid>; IS_DOMAIN_INTRODUCED: T for
 *    dom0 and the VM's domid, F for others;
 *  - CONTROL: "help" (the list), "check" (the tree's accounting),
 *    "memreport" and "print <text>" (to the log); other commands: EINVAL;
 *  - INTRODUCE, RELEASE, RESUME, SET_TARGET: ENOSYS (no domain talks to
 *    this store through shared memory);
 *  - unknown types, XS_ERROR and XS_WATCH_EVENT from a client: EINVAL.
 *
 * Limits (DESIGN R4): the tree's (xs_tree.h); XS_MAX_WATCHES watches per
 * client (E2BIG past them, as xenstored), a watch token of at most 1022
 * bytes (E2BIG: its events, with the longest path, must fit a message);
 * XS_MAX_CLIENT_TX open
 * transactions per client and XS_MAX_TX in all (ENOSPC), each a copy of
 * the tree; XS_MAX_TX_EVENTS distinct changed paths per transaction (a
 * change past them: ENOSPC). Output is bounded by the server (xs_server.h).
 */
#ifndef IOREQVM_XS_PROTO_H
#define IOREQVM_XS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ioreqvm/xs_wire.h"
#include "xenstore/xs_tree.h"

#define XS_MAX_WATCHES 128
#define XS_MAX_CLIENT_TX 10
#define XS_MAX_TX 16
#define XS_MAX_TX_EVENTS 1024
/* A socket client's home, for relative paths. */
#define XS_CLIENT_HOME "/local/domain/0"

/* Queue one message for the client @opaque; the payload is h->len bytes. */
typedef void (*xs_send_fn)(void *opaque, const struct ioreqvm_xs_msg *h, const void *payload);
typedef void (*xs_log_fn)(const char *msg);

struct xs_watch;
struct xs_tx;
struct xs_client;

struct xs_service {
	struct xs_tree tree;
	struct xs_client *clients;
	uint32_t domid;  /* the VM's (IS_DOMAIN_INTRODUCED) */
	uint32_t next_tx;
	unsigned nr_tx;  /* open transactions, every client's */
	xs_send_fn send;
	xs_log_fn log;   /* may be NULL */
	uint64_t nr_requests, nr_errors, nr_events;
};

struct xs_client {
	struct xs_service *svc;
	void *opaque;
	struct xs_client *next;
	struct xs_watch *watches;
	unsigned nr_watches;
	struct xs_tx *txs;
	unsigned nr_tx;
	uint32_t in_len; /* bytes of the message being received */
	uint8_t in[sizeof(struct ioreqvm_xs_msg) + IOREQVM_XS_PAYLOAD_MAX];
};

/* An empty store (the root alone). 0 or -ENOMEM. */
int xs_service_init(struct xs_service *s, uint32_t domid, xs_send_fn send, xs_log_fn log);
/* Frees the store and every client. */
void xs_service_destroy(struct xs_service *s);

/* A new client whose messages go to send(@opaque, ...); NULL on -ENOMEM. */
struct xs_client *xs_client_add(struct xs_service *s, void *opaque);
/* The client goes with its watches and transactions. */
void xs_client_remove(struct xs_client *c);
/*
 * @len bytes from the client: every whole message is handled (and
 * answered) in order, a partial one kept for the next call. 0, or -EPROTO
 * if a header announced more than IOREQVM_XS_PAYLOAD_MAX bytes: the
 * caller ends the connection.
 */
int xs_client_input(struct xs_client *c, const void *data, size_t len);

/*
 * Seeding, before clients (or between their messages): write @path
 * (absolute) = @value (@len bytes), firing watches; set its permissions
 * (NUL-separated strings, @plen bytes). 0 or -errno as WRITE / SET_PERMS.
 */
int xs_service_write(struct xs_service *s, const char *path, const void *value, size_t len);
int xs_service_set_perms(struct xs_service *s, const char *path, const char *perms, size_t plen);

/* The name travelling for @err (an errno), EINVAL's for one the wire does not know. */
const char *xs_error_name(int err);

#endif
