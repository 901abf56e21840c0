/* SPDX-License-Identifier: MIT */
/*
 * xenstore watches (see xs_proto.h): registering and removing them, and
 * their events. A change of path P fires every watch W whose path P is a
 * child of (P equal to W, or below it); a removal also fires the watches
 * below P, with their own path as the event's (docs/misc/xenstore.txt:
 * "<epath> is a child of <wpath>, regardless"). An event of a watch given
 * relative is relative too. Events are the unsolicited message
 * XS_WATCH_EVENT "<epath>\0<token>\0", req_id and tx_id 0.
 */
#include "xenstore/xs_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Whether @child is @parent or below it (a path is its own child). */
static bool is_child(const char *child, const char *parent)
{
	size_t pl = strlen(parent);
	if (pl == 1 && parent[0] == '/')
		return child[0] == '/';
	return !strncmp(child, parent, pl) && (child[pl] == 0 || child[pl] == '/');
}

static void send_event(struct xs_client *c, const char *epath, const char *token)
{
	size_t pl = strlen(epath) + 1, tl = strlen(token) + 1;
	char buf[IOREQVM_XS_PAYLOAD_MAX];
	if (pl + tl > sizeof(buf))
		return; /* cannot happen: both were checked against the bound when the watch was set */
	memcpy(buf, epath, pl);
	memcpy(buf + pl, token, tl);
	struct ioreqvm_xs_msg h = { .type = IOREQVM_XS_WATCH_EVENT, .len = (uint32_t)(pl + tl) };
	c->svc->nr_events++;
	c->svc->send(c->opaque, &h, buf);
}

/* @abs as @w's client sees it: relative to its home if the watch was given relative. */
static const char *as_seen(const struct xs_watch *w, const char *abs)
{
	size_t hl = strlen(XS_CLIENT_HOME);
	if (w->relative && !strncmp(abs, XS_CLIENT_HOME, hl) && abs[hl] == '/')
		return abs + hl + 1;
	return abs;
}

void xs_fire(struct xs_service *s, const char *path, bool recursive)
{
	for (struct xs_client *c = s->clients; c; c = c->next) {
		for (struct xs_watch *w = c->watches; w; w = w->next) {
			if (is_child(path, w->path))
				send_event(c, as_seen(w, path), w->token);
			else if (recursive && is_child(w->path, path))
				send_event(c, as_seen(w, w->path), w->token);
		}
	}
}

void xs_watch_fire_first(struct xs_client *c, const char *given, const char *token)
{
	send_event(c, given, token);
}

static struct xs_watch **find(struct xs_client *c, const char *abs, const char *token)
{
	for (struct xs_watch **p = &c->watches; *p; p = &(*p)->next)
		if (!strcmp((*p)->path, abs) && !strcmp((*p)->token, token))
			return p;
	return NULL;
}

int xs_watch_add(struct xs_client *c, const char *abs, const char *token, bool relative)
{
	if (find(c, abs, token))
		return -EEXIST;
	if (c->nr_watches >= XS_MAX_WATCHES)
		return -E2BIG;
	/* Its events must fit a message, with the longest path a change can have. */
	if (IOREQVM_XS_ABS_PATH_MAX + 1 + strlen(token) + 1 > IOREQVM_XS_PAYLOAD_MAX)
		return -E2BIG;
	struct xs_watch *w = calloc(1, sizeof(*w));
	char *p = strdup(abs), *t = strdup(token);
	if (!w || !p || !t) {
		free(w);
		free(p);
		free(t);
		return -ENOMEM;
	}
	w->path = p;
	w->token = t;
	w->relative = relative;
	/* Appended: events of one change arrive in the order watches were set. */
	struct xs_watch **tail = &c->watches;
	while (*tail)
		tail = &(*tail)->next;
	*tail = w;
	c->nr_watches++;
	return 0;
}

static void watch_free(struct xs_watch *w)
{
	free(w->path);
	free(w->token);
	free(w);
}

int xs_watch_remove(struct xs_client *c, const char *abs, const char *token)
{
	struct xs_watch **p = find(c, abs, token);
	if (!p)
		return -ENOENT;
	struct xs_watch *w = *p;
	*p = w->next;
	watch_free(w);
	c->nr_watches--;
	return 0;
}

void xs_watch_remove_all(struct xs_client *c)
{
	while (c->watches) {
		struct xs_watch *w = c->watches;
		c->watches = w->next;
		watch_free(w);
	}
	c->nr_watches = 0;
}

static struct xs_change *find_change(const struct xs_tx *tx, const char *path, bool recursive)
{
	for (struct xs_change *ch = tx->changes; ch; ch = ch->next)
		if (ch->recursive == recursive && !strcmp(ch->path, path))
			return ch;
	return NULL;
}

bool xs_tx_room(const struct xs_tx *tx, const char *path, bool recursive)
{
	return tx->nr_changes < XS_MAX_TX_EVENTS || find_change(tx, path, recursive);
}

int xs_tx_note(struct xs_tx *tx, const char *path, bool recursive)
{
	if (find_change(tx, path, recursive))
		return 0;
	if (tx->nr_changes >= XS_MAX_TX_EVENTS)
		return -ENOSPC;
	struct xs_change *ch = calloc(1, sizeof(*ch));
	char *p = strdup(path);
	if (!ch || !p) {
		free(ch);
		free(p);
		return -ENOMEM;
	}
	ch->path = p;
	ch->recursive = recursive;
	/* In order: fired as they happened. */
	struct xs_change **tail = &tx->changes;
	while (*tail)
		tail = &(*tail)->next;
	*tail = ch;
	tx->nr_changes++;
	return 0;
}

void xs_tx_free_changes(struct xs_tx *tx)
{
	while (tx->changes) {
		struct xs_change *ch = tx->changes;
		tx->changes = ch->next;
		free(ch->path);
		free(ch);
	}
	tx->nr_changes = 0;
}
