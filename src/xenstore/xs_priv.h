/* SPDX-License-Identifier: MIT */
/*
 * Private to src/xenstore/: a client's watches and transactions, and what
 * the protocol's files share (xs_proto.c: messages, store operations and
 * transactions; xs_watch.c: watches and their events).
 */
#ifndef IOREQVM_XS_PRIV_H
#define IOREQVM_XS_PRIV_H

#include "xenstore/xs_proto.h"

struct xs_watch {
	struct xs_watch *next;
	char *path;    /* absolute, or "@name" */
	char *token;
	bool relative; /* given relative: its events are relative too */
};

/* A change a transaction made, to fire at its commit. */
struct xs_change {
	struct xs_change *next;
	char *path;
	bool recursive; /* a removal: watches below it fire too */
};

struct xs_tx {
	struct xs_tx *next;
	uint32_t id;
	uint64_t base_gen; /* the store's gen when it started */
	struct xs_tree tree;
	struct xs_change *changes;
	unsigned nr_changes;
};

/* The answer to request @req: @type with @len payload bytes. */
void xs_reply(struct xs_client *c, const struct ioreqvm_xs_msg *req, uint32_t type,
	      const void *payload, uint32_t len);

/*
 * @path (absolute) changed in the store (@recursive: it was removed with
 * what was under it): every client's matching watch gets its event.
 */
void xs_fire(struct xs_service *s, const char *path, bool recursive);
/*
 * A change inside @tx, fired at its commit (once per path). 0, or -ENOSPC
 * past XS_MAX_TX_EVENTS (checked before the change: xs_tx_room).
 */
int xs_tx_note(struct xs_tx *tx, const char *path, bool recursive);
bool xs_tx_room(const struct xs_tx *tx, const char *path, bool recursive);
void xs_tx_free_changes(struct xs_tx *tx);

/* WATCH, UNWATCH and RESET_WATCHES' part for watches: 0 or -errno. */
int xs_watch_add(struct xs_client *c, const char *abs, const char *token, bool relative);
int xs_watch_remove(struct xs_client *c, const char *abs, const char *token);
void xs_watch_remove_all(struct xs_client *c);
/* The first event of a new watch, to @c alone. */
void xs_watch_fire_first(struct xs_client *c, const char *given, const char *token);

/*
 * The absolute form of a path a client sent (@in, NUL-terminated) into
 * @out (IOREQVM_XS_ABS_PATH_MAX + 1 bytes): relative paths are below
 * XS_CLIENT_HOME. @special: "@name" accepted as is. 0 or -EINVAL.
 */
int xs_canonical(const char *in, char *out, bool special, bool *relative);

#endif
