/* SPDX-License-Identifier: MIT */
/*
 * The xenstore protocol (see xs_proto.h): framing of a client's byte
 * stream, the checks every message passes (payload strings NUL-terminated,
 * the number of arguments, paths, domids, permissions), one handler per
 * message type, and transactions. Watches and events are in xs_watch.c.
 * A handler either answers itself or returns a negative errno that goes
 * back as XS_ERROR; nothing changes on an error.
 */
#include "xenstore/xs_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDR sizeof(struct ioreqvm_xs_msg)

static const struct ioreqvm_xs_error errors[IOREQVM_XS_NR_ERRORS] = { IOREQVM_XS_ERRORS };

const char *xs_error_name(int err)
{
	for (unsigned i = 0; i < IOREQVM_XS_NR_ERRORS; i++)
		if (errors[i].err == err)
			return errors[i].name;
	return "EINVAL";
}

void xs_reply(struct xs_client *c, const struct ioreqvm_xs_msg *req, uint32_t type,
	      const void *payload, uint32_t len)
{
	struct ioreqvm_xs_msg h = { .type = type, .req_id = req->req_id, .tx_id = req->tx_id,
				    .len = len };
	c->svc->send(c->opaque, &h, payload);
}

static void reply_ok(struct xs_client *c, const struct ioreqvm_xs_msg *req)
{
	xs_reply(c, req, req->type, "OK", 3);
}

static void reply_string(struct xs_client *c, const struct ioreqvm_xs_msg *req, const char *s)
{
	xs_reply(c, req, req->type, s, (uint32_t)strlen(s) + 1);
}

/*
 * The NUL-terminated strings of a payload: their number (the first @max
 * in @v), or -1 if the payload does not end with a NUL.
 */
static int split(const char *p, uint32_t len, const char **v, int max)
{
	int n = 0;
	uint32_t i = 0;
	while (i < len) {
		const char *nul = memchr(p + i, 0, len - i);
		if (!nul)
			return -1;
		if (n < max)
			v[n] = p + i;
		n++;
		i = (uint32_t)(nul - p) + 1;
	}
	return n;
}

int xs_canonical(const char *in, char *out, bool special, bool *relative)
{
	size_t len = strlen(in);
	*relative = false;
	if (special && in[0] == '@') {
		/* "@name": its characters as a path's, without the '/'. */
		if (len < 2 || len > IOREQVM_XS_ABS_PATH_MAX || strchr(in, '/'))
			return -EINVAL;
		out[0] = '/';
		memcpy(out + 1, in + 1, len);
		int rc = xs_path_valid(out);
		memcpy(out, in, len + 1);
		return rc;
	}
	if (in[0] == '/') {
		if (len > IOREQVM_XS_ABS_PATH_MAX)
			return -EINVAL;
		memcpy(out, in, len + 1);
	} else {
		if (!len || len > IOREQVM_XS_REL_PATH_MAX)
			return -EINVAL;
		snprintf(out, IOREQVM_XS_ABS_PATH_MAX + 1, "%s/%s", XS_CLIENT_HOME, in);
		*relative = true;
	}
	return xs_path_valid(out);
}

/* A decimal domid, 0-65535. */
static int parse_domid(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint32_t)(*s - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*out = v;
	return 0;
}

/* One request being handled. */
struct req {
	struct xs_client *c;
	const struct ioreqvm_xs_msg *h;
	const char *p;         /* h->len payload bytes */
	struct xs_tx *tx;      /* named by tx_id, for the types that take one */
	struct xs_tree *tree;  /* the transaction's, else the store */
	char path[IOREQVM_XS_ABS_PATH_MAX + 1];
};

/* The payload is exactly one path: into r->path. 0 or -EINVAL. */
static int one_path(struct req *r)
{
	const char *v[1];
	bool rel;
	if (split(r->p, r->h->len, v, 1) != 1)
		return -EINVAL;
	return xs_canonical(v[0], r->path, false, &rel);
}

/* Room in the transaction for the event of a change to come. */
static int change_room(struct req *r, const char *path, bool recursive)
{
	return r->tx && !xs_tx_room(r->tx, path, recursive) ? -ENOSPC : 0;
}

/* A change made: its watches fire now, or at the transaction's commit. */
static void changed(struct req *r, const char *path, bool recursive)
{
	if (r->tx)
		xs_tx_note(r->tx, path, recursive); /* room was checked before the change */
	else
		xs_fire(r->c->svc, path, recursive);
}

static int op_read(struct req *r)
{
	int rc = one_path(r);
	if (rc)
		return rc;
	const struct xs_node *n = xs_tree_lookup(r->tree, r->path);
	if (!n)
		return -ENOENT;
	xs_reply(r->c, r->h, r->h->type, n->value, n->vlen);
	return 0;
}

static int op_write(struct req *r)
{
	const char *nul = memchr(r->p, 0, r->h->len);
	bool rel;
	if (!nul)
		return -EINVAL;
	int rc = xs_canonical(r->p, r->path, false, &rel);
	if (!rc)
		rc = change_room(r, r->path, false);
	if (rc)
		return rc;
	size_t off = (size_t)(nul - r->p) + 1;
	rc = xs_tree_write(r->tree, r->path, r->p + off, r->h->len - off);
	if (rc)
		return rc;
	changed(r, r->path, false);
	reply_ok(r->c, r->h);
	return 0;
}

static int op_mkdir(struct req *r)
{
	int rc = one_path(r);
	if (!rc)
		rc = change_room(r, r->path, false);
	if (rc)
		return rc;
	bool existed = xs_tree_lookup(r->tree, r->path) != NULL;
	rc = xs_tree_mkdir(r->tree, r->path);
	if (rc)
		return rc;
	if (!existed)
		changed(r, r->path, false);
	reply_ok(r->c, r->h);
	return 0;
}

static int op_rm(struct req *r)
{
	int rc = one_path(r);
	if (!rc)
		rc = change_room(r, r->path, true);
	if (rc)
		return rc;
	bool removed;
	rc = xs_tree_rm(r->tree, r->path, &removed);
	if (rc)
		return rc;
	if (removed)
		changed(r, r->path, true);
	reply_ok(r->c, r->h);
	return 0;
}

static int op_directory(struct req *r)
{
	char buf[IOREQVM_XS_PAYLOAD_MAX];
	int rc = one_path(r);
	if (rc)
		return rc;
	const struct xs_node *n = xs_tree_lookup(r->tree, r->path);
	if (!n)
		return -ENOENT;
	size_t len = xs_node_children(n, buf, sizeof(buf));
	if (len > sizeof(buf))
		return -E2BIG; /* libxenstore asks again with DIRECTORY_PART */
	xs_reply(r->c, r->h, r->h->type, buf, (uint32_t)len);
	return 0;
}

/*
 * DIRECTORY_PART <path>|<offset>|: "<gen>|" and the list of children (each
 * name NUL-terminated, then one more NUL) from byte <offset>, as much as
 * fits; the client reads on until its pieces end with two NULs.
 */
static int op_directory_part(struct req *r)
{
	char buf[IOREQVM_XS_PAYLOAD_MAX];
	const char *v[2];
	bool rel;
	if (split(r->p, r->h->len, v, 2) != 2)
		return -EINVAL;
	int rc = xs_canonical(v[0], r->path, false, &rel);
	if (rc)
		return rc;
	uint32_t off = 0;
	size_t dl = strlen(v[1]);
	if (!dl || dl > 9 || strspn(v[1], "0123456789") != dl)
		return -EINVAL;
	off = (uint32_t)strtoul(v[1], NULL, 10);
	const struct xs_node *n = xs_tree_lookup(r->tree, r->path);
	if (!n)
		return -ENOENT;
	size_t len = xs_node_children(n, NULL, 0) + 1; /* the list and its final NUL */
	if (off > len - 1)
		return -EINVAL;
	char *all = calloc(1, len);
	if (!all)
		return -ENOMEM;
	xs_node_children(n, all, len);
	int gl = snprintf(buf, sizeof(buf), "%" PRIu64, n->gen) + 1;
	size_t take = len - off < sizeof(buf) - (size_t)gl ? len - off : sizeof(buf) - (size_t)gl;
	memcpy(buf + gl, all + off, take);
	free(all);
	xs_reply(r->c, r->h, r->h->type, buf, (uint32_t)(gl + take));
	return 0;
}

static int op_get_perms(struct req *r)
{
	int rc = one_path(r);
	if (rc)
		return rc;
	const struct xs_node *n = xs_tree_lookup(r->tree, r->path);
	if (!n)
		return -ENOENT;
	xs_reply(r->c, r->h, r->h->type, n->perms, n->plen);
	return 0;
}

static int op_set_perms(struct req *r)
{
	const char *v[1];
	bool rel;
	if (split(r->p, r->h->len, v, 1) < 2)
		return -EINVAL;
	int rc = xs_canonical(v[0], r->path, false, &rel);
	if (rc)
		return rc;
	size_t off = strlen(v[0]) + 1;
	const char *perms = r->p + off;
	size_t plen = r->h->len - off;
	rc = xs_perms_valid(perms, plen);
	if (!rc)
		rc = change_room(r, r->path, false);
	if (!rc)
		rc = xs_tree_set_perms(r->tree, r->path, perms, plen);
	if (rc)
		return rc;
	changed(r, r->path, false);
	reply_ok(r->c, r->h);
	return 0;
}

/* WATCH and UNWATCH: <path>|<token>|, maybe one reserved string after. */
static int watch_args(struct req *r, const char **token, bool *relative)
{
	const char *v[3];
	int n = split(r->p, r->h->len, v, 3);
	if (n != 2 && n != 3)
		return -EINVAL;
	*token = v[1];
	return xs_canonical(v[0], r->path, true, relative);
}

static int op_watch(struct req *r)
{
	const char *token;
	bool rel;
	int rc = watch_args(r, &token, &rel);
	if (!rc)
		rc = xs_watch_add(r->c, r->path, token, rel);
	if (rc)
		return rc;
	reply_ok(r->c, r->h);
	/* The first event, at once (xenstore.txt): the path as the client gave it. */
	xs_watch_fire_first(r->c, r->p, token);
	return 0;
}

static int op_unwatch(struct req *r)
{
	const char *token;
	bool rel;
	int rc = watch_args(r, &token, &rel);
	if (!rc)
		rc = xs_watch_remove(r->c, r->path, token);
	if (rc)
		return rc;
	reply_ok(r->c, r->h);
	return 0;
}

static void tx_free(struct xs_service *s, struct xs_tx *tx)
{
	xs_tree_free(&tx->tree);
	xs_tx_free_changes(tx);
	free(tx);
	s->nr_tx--;
}

/* Unlink @tx from its client's list. */
static void tx_unlink(struct xs_client *c, struct xs_tx *tx)
{
	for (struct xs_tx **p = &c->txs; *p; p = &(*p)->next) {
		if (*p == tx) {
			*p = tx->next;
			c->nr_tx--;
			return;
		}
	}
}

static bool tx_id_used(const struct xs_service *s, uint32_t id)
{
	for (const struct xs_client *c = s->clients; c; c = c->next)
		for (const struct xs_tx *t = c->txs; t; t = t->next)
			if (t->id == id)
				return true;
	return false;
}

static int op_tx_start(struct req *r)
{
	struct xs_service *s = r->c->svc;
	if (r->h->tx_id)
		return -EBUSY; /* xenstored: no transaction inside a transaction */
	if (r->c->nr_tx >= XS_MAX_CLIENT_TX || s->nr_tx >= XS_MAX_TX)
		return -ENOSPC;
	struct xs_tx *tx = calloc(1, sizeof(*tx));
	if (!tx || xs_tree_copy(&tx->tree, &s->tree)) {
		free(tx);
		return -ENOMEM;
	}
	tx->base_gen = s->tree.gen;
	do {
		tx->id = s->next_tx++;
	} while (!tx->id || tx_id_used(s, tx->id));
	tx->next = r->c->txs;
	r->c->txs = tx;
	r->c->nr_tx++;
	s->nr_tx++;
	char id[16];
	snprintf(id, sizeof(id), "%" PRIu32, tx->id);
	reply_string(r->c, r->h, id);
	return 0;
}

static int op_tx_end(struct req *r)
{
	struct xs_service *s = r->c->svc;
	const char *v[1];
	if (split(r->p, r->h->len, v, 1) != 1 || (strcmp(v[0], "T") && strcmp(v[0], "F")))
		return -EINVAL;
	struct xs_tx *tx = r->tx;
	if (!tx)
		return -ENOENT;
	tx_unlink(r->c, tx);
	if (v[0][0] == 'F') {
		tx_free(s, tx);
		reply_ok(r->c, r->h);
		return 0;
	}
	if (tx->base_gen != s->tree.gen) {
		tx_free(s, tx); /* another change came first: the client starts again */
		return -EAGAIN;
	}
	if (tx->tree.gen != tx->base_gen) {
		struct xs_tree old = s->tree;
		s->tree = tx->tree;
		memset(&tx->tree, 0, sizeof(tx->tree));
		xs_tree_free(&old);
		for (const struct xs_change *ch = tx->changes; ch; ch = ch->next)
			xs_fire(s, ch->path, ch->recursive);
	}
	tx_free(s, tx);
	reply_ok(r->c, r->h);
	return 0;
}

static int op_reset_watches(struct req *r)
{
	xs_watch_remove_all(r->c);
	while (r->c->txs) {
		struct xs_tx *tx = r->c->txs;
		tx_unlink(r->c, tx);
		tx_free(r->c->svc, tx);
	}
	reply_ok(r->c, r->h);
	return 0;
}

/* <domid>| */
static int one_domid(struct req *r, uint32_t *domid)
{
	const char *v[1];
	if (split(r->p, r->h->len, v, 1) != 1)
		return -EINVAL;
	return parse_domid(v[0], domid);
}

static int op_get_domain_path(struct req *r)
{
	uint32_t d;
	int rc = one_domid(r, &d);
	if (rc)
		return rc;
	char path[32];
	snprintf(path, sizeof(path), "/local/domain/%" PRIu32, d);
	reply_string(r->c, r->h, path);
	return 0;
}

static int op_is_domain_introduced(struct req *r)
{
	uint32_t d;
	int rc = one_domid(r, &d);
	if (rc)
		return rc;
	reply_string(r->c, r->h, d == 0 || d == r->c->svc->domid ? "T" : "F");
	return 0;
}

/* Recount the tree: the accounting the limits rest on must match it. */
static void recount(const struct xs_node *n, uint32_t *nodes, uint64_t *bytes)
{
	(*nodes)++;
	*bytes += XS_NODE_OVERHEAD + strlen(n->name) + 1 + n->vlen + n->plen;
	for (uint32_t i = 0; i < n->nr_kids; i++)
		recount(n->kids[i], nodes, bytes);
}

static void say(struct xs_service *s, const char *msg)
{
	if (s->log)
		s->log(msg);
}

static int op_control(struct req *r)
{
	struct xs_service *s = r->c->svc;
	const char *v[2];
	int n = split(r->p, r->h->len, v, 2);
	if (n < 1)
		return -EINVAL;
	char msg[IOREQVM_XS_PAYLOAD_MAX + 64];
	if (!strcmp(v[0], "help")) {
		reply_string(r->c, r->h, "check\nhelp\nmemreport\nprint <text>\n");
	} else if (!strcmp(v[0], "check")) {
		uint32_t nodes = 0;
		uint64_t bytes = 0;
		recount(s->tree.root, &nodes, &bytes);
		if (nodes != s->tree.nodes || bytes != s->tree.bytes)
			return -EIO;
		reply_ok(r->c, r->h);
	} else if (!strcmp(v[0], "memreport")) {
		unsigned clients = 0;
		for (const struct xs_client *c = s->clients; c; c = c->next)
			clients++;
		snprintf(msg, sizeof(msg), "xenstore: %" PRIu32 " nodes, %" PRIu64 " bytes, %u "
			 "clients, %u transactions, %" PRIu64 " requests, %" PRIu64 " errors, %"
			 PRIu64 " events", s->tree.nodes, s->tree.bytes, clients, s->nr_tx,
			 s->nr_requests, s->nr_errors, s->nr_events);
		say(s, msg);
		reply_ok(r->c, r->h);
	} else if (!strcmp(v[0], "print") && n == 2) {
		snprintf(msg, sizeof(msg), "xenstore: %s", v[1]);
		say(s, msg);
		reply_ok(r->c, r->h);
	} else {
		return -EINVAL;
	}
	return 0;
}

static int op_enosys(struct req *r)
{
	return -ENOSYS;
}

static int op_einval(struct req *r)
{
	return -EINVAL;
}

static const struct {
	int (*fn)(struct req *r);
	bool tx; /* works in the transaction tx_id names */
} ops[IOREQVM_XS_TYPE_COUNT] = {
	[IOREQVM_XS_CONTROL] = { op_control, false },
	[IOREQVM_XS_DIRECTORY] = { op_directory, true },
	[IOREQVM_XS_READ] = { op_read, true },
	[IOREQVM_XS_GET_PERMS] = { op_get_perms, true },
	[IOREQVM_XS_WATCH] = { op_watch, false },
	[IOREQVM_XS_UNWATCH] = { op_unwatch, false },
	[IOREQVM_XS_TRANSACTION_START] = { op_tx_start, false },
	[IOREQVM_XS_TRANSACTION_END] = { op_tx_end, true },
	[IOREQVM_XS_INTRODUCE] = { op_enosys, false },
	[IOREQVM_XS_RELEASE] = { op_enosys, false },
	[IOREQVM_XS_GET_DOMAIN_PATH] = { op_get_domain_path, false },
	[IOREQVM_XS_WRITE] = { op_write, true },
	[IOREQVM_XS_MKDIR] = { op_mkdir, true },
	[IOREQVM_XS_RM] = { op_rm, true },
	[IOREQVM_XS_SET_PERMS] = { op_set_perms, true },
	[IOREQVM_XS_WATCH_EVENT] = { op_einval, false },
	[IOREQVM_XS_ERROR] = { op_einval, false },
	[IOREQVM_XS_IS_DOMAIN_INTRODUCED] = { op_is_domain_introduced, false },
	[IOREQVM_XS_RESUME] = { op_enosys, false },
	[IOREQVM_XS_SET_TARGET] = { op_enosys, false },
	[20] = { op_einval, false }, /* XS_RESTRICT, gone from Xen */
	[IOREQVM_XS_RESET_WATCHES] = { op_reset_watches, false },
	[IOREQVM_XS_DIRECTORY_PART] = { op_directory_part, true },
};

static void handle(struct xs_client *c, const struct ioreqvm_xs_msg *h, const char *payload)
{
	struct req r = { .c = c, .h = h, .p = payload, .tree = &c->svc->tree };
	int rc = -EINVAL;
	c->svc->nr_requests++;
	if (h->type < IOREQVM_XS_TYPE_COUNT) {
		if (ops[h->type].tx && h->tx_id) {
			for (r.tx = c->txs; r.tx && r.tx->id != h->tx_id; r.tx = r.tx->next)
				;
			if (r.tx)
				r.tree = &r.tx->tree;
		}
		if (ops[h->type].tx && h->tx_id && !r.tx)
			rc = -ENOENT; /* no such transaction of this client */
		else if (h->type == IOREQVM_XS_TRANSACTION_END && !h->tx_id)
			rc = -EINVAL;
		else
			rc = ops[h->type].fn(&r);
	}
	if (rc) {
		const char *name = xs_error_name(-rc);
		c->svc->nr_errors++;
		xs_reply(c, h, IOREQVM_XS_ERROR, name, (uint32_t)strlen(name) + 1);
	}
}

int xs_client_input(struct xs_client *c, const void *data, size_t len)
{
	const uint8_t *d = data;
	struct ioreqvm_xs_msg h;
	while (len) {
		size_t want = HDR - c->in_len;
		if (c->in_len >= HDR) {
			memcpy(&h, c->in, HDR);
			if (h.len > IOREQVM_XS_PAYLOAD_MAX)
				return -EPROTO; /* still: the caller did not end it */
			want = HDR + h.len - c->in_len;
		}
		size_t n = want < len ? want : len;
		memcpy(c->in + c->in_len, d, n);
		c->in_len += (uint32_t)n;
		d += n;
		len -= n;
		if (c->in_len < HDR)
			break;
		memcpy(&h, c->in, HDR);
		if (h.len > IOREQVM_XS_PAYLOAD_MAX)
			return -EPROTO; /* xenstored ends such a connection at once */
		if (c->in_len == HDR + h.len) {
			c->in_len = 0;
			handle(c, &h, (const char *)c->in + HDR);
		}
	}
	return 0;
}

int xs_service_init(struct xs_service *s, uint32_t domid, xs_send_fn send, xs_log_fn log)
{
	memset(s, 0, sizeof(*s));
	s->domid = domid;
	s->next_tx = 1;
	s->send = send;
	s->log = log;
	return xs_tree_init(&s->tree);
}

void xs_service_destroy(struct xs_service *s)
{
	while (s->clients)
		xs_client_remove(s->clients);
	xs_tree_free(&s->tree);
}

struct xs_client *xs_client_add(struct xs_service *s, void *opaque)
{
	struct xs_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->svc = s;
	c->opaque = opaque;
	c->next = s->clients;
	s->clients = c;
	return c;
}

void xs_client_remove(struct xs_client *c)
{
	struct xs_service *s = c->svc;
	for (struct xs_client **p = &s->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	xs_watch_remove_all(c);
	while (c->txs) {
		struct xs_tx *tx = c->txs;
		tx_unlink(c, tx);
		tx_free(s, tx);
	}
	free(c);
}

int xs_service_write(struct xs_service *s, const char *path, const void *value, size_t len)
{
	int rc = xs_path_valid(path);
	if (!rc)
		rc = xs_tree_write(&s->tree, path, value, len);
	if (!rc)
		xs_fire(s, path, false);
	return rc;
}

int xs_service_set_perms(struct xs_service *s, const char *path, const char *perms, size_t plen)
{
	int rc = xs_path_valid(path);
	if (!rc)
		rc = xs_perms_valid(perms, plen);
	if (!rc)
		rc = xs_tree_set_perms(&s->tree, path, perms, plen);
	if (!rc)
		xs_fire(s, path, false);
	return rc;
}
