/* SPDX-License-Identifier: MIT */
/*
 * The xenstore tree (see xs_tree.h): nodes, path checks, the limits'
 * accounting, and the changes WRITE, MKDIR, RM and SET_PERMS make. Every
 * change checks its limits before it touches the tree; recursion is bounded
 * by XS_MAX_DEPTH (paths cannot be deeper).
 */
#include "xenstore/xs_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t node_bytes(size_t name_len, size_t vlen, size_t plen)
{
	return XS_NODE_OVERHEAD + name_len + 1 + vlen + plen;
}

static void node_free(struct xs_node *n)
{
	for (uint32_t i = 0; i < n->nr_kids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n->value);
	free(n->perms);
	free(n);
}

/* A childless node named @name (@len bytes) with a copy of @perms. */
static struct xs_node *node_new(const char *name, size_t len, const char *perms, size_t plen)
{
	struct xs_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = malloc(len + 1);
	n->perms = malloc(plen);
	if (!n->name || !n->perms) {
		free(n->name);
		free(n->perms);
		free(n);
		return NULL;
	}
	memcpy(n->name, name, len);
	n->name[len] = 0;
	memcpy(n->perms, perms, plen);
	n->plen = (uint32_t)plen;
	return n;
}

static int add_kid(struct xs_node *parent, struct xs_node *kid)
{
	if (parent->nr_kids == parent->cap_kids) {
		uint32_t cap = parent->cap_kids ? parent->cap_kids * 2 : 4;
		struct xs_node **k = realloc(parent->kids, cap * sizeof(*k));
		if (!k)
			return -ENOMEM;
		parent->kids = k;
		parent->cap_kids = cap;
	}
	parent->kids[parent->nr_kids++] = kid;
	kid->parent = parent;
	return 0;
}

int xs_tree_init(struct xs_tree *t)
{
	memset(t, 0, sizeof(*t));
	t->root = node_new("", 0, "n0", 3);
	if (!t->root)
		return -ENOMEM;
	t->nodes = 1;
	t->bytes = node_bytes(0, 0, 3);
	return 0;
}

void xs_tree_free(struct xs_tree *t)
{
	if (t->root)
		node_free(t->root);
	memset(t, 0, sizeof(*t));
}

static struct xs_node *node_copy(const struct xs_node *src)
{
	struct xs_node *n = node_new(src->name, strlen(src->name), src->perms, src->plen);
	if (!n)
		return NULL;
	n->gen = src->gen;
	if (src->vlen) {
		n->value = malloc(src->vlen);
		if (!n->value)
			goto fail;
		memcpy(n->value, src->value, src->vlen);
		n->vlen = src->vlen;
	}
	if (src->nr_kids) {
		n->kids = calloc(src->nr_kids, sizeof(*n->kids));
		if (!n->kids)
			goto fail;
		n->cap_kids = src->nr_kids;
		for (uint32_t i = 0; i < src->nr_kids; i++) {
			struct xs_node *k = node_copy(src->kids[i]);
			if (!k)
				goto fail;
			k->parent = n;
			n->kids[n->nr_kids++] = k;
		}
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

int xs_tree_copy(struct xs_tree *dst, const struct xs_tree *src)
{
	memset(dst, 0, sizeof(*dst));
	struct xs_node *root = node_copy(src->root);
	if (!root)
		return -ENOMEM;
	*dst = *src;
	dst->root = root;
	return 0;
}

static bool path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '/' || c == '_' || c == '@';
}

int xs_path_valid(const char *path)
{
	if (path[0] != '/')
		return -EINVAL;
	if (!path[1])
		return 0; /* the root */
	size_t depth = 0, i;
	for (i = 0; path[i]; i++) {
		if (i >= IOREQVM_XS_ABS_PATH_MAX || !path_char(path[i]))
			return -EINVAL;
		if (path[i] == '/') {
			if (path[i + 1] == '/' || !path[i + 1] || ++depth > XS_MAX_DEPTH)
				return -EINVAL;
		}
	}
	return 0;
}

int xs_perms_valid(const char *perms, size_t len)
{
	size_t count = 0, i = 0;
	if (!len || perms[len - 1])
		return -EINVAL;
	while (i < len) {
		const char *s = perms + i;
		size_t l = strlen(s);
		if (l < 2 || l > 6 || !strchr("nrwb", s[0]))
			return -EINVAL;
		unsigned long dom = 0;
		for (size_t k = 1; k < l; k++) {
			if (s[k] < '0' || s[k] > '9')
				return -EINVAL;
			dom = dom * 10 + (unsigned long)(s[k] - '0');
		}
		if (dom > 65535)
			return -EINVAL;
		if (++count > XS_MAX_PERMS)
			return -E2BIG;
		i += l + 1;
	}
	return 0;
}

/* @n's child named @name (@len bytes), or NULL. */
static struct xs_node *kid(const struct xs_node *n, const char *name, size_t len)
{
	for (uint32_t i = 0; i < n->nr_kids; i++) {
		const char *k = n->kids[i]->name;
		if (!strncmp(k, name, len) && !k[len])
			return n->kids[i];
	}
	return NULL;
}

/*
 * Walk @path from the root as far as it exists: the deepest existing node,
 * and in *rest where the first missing component starts (NULL if all exist).
 */
static struct xs_node *walk(const struct xs_tree *t, const char *path, const char **rest)
{
	struct xs_node *n = t->root;
	const char *p = path + 1;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		struct xs_node *k = kid(n, p, len);
		if (!k) {
			*rest = p;
			return n;
		}
		n = k;
		p = slash ? slash + 1 : p + len;
	}
	*rest = NULL;
	return n;
}

struct xs_node *xs_tree_lookup(const struct xs_tree *t, const char *path)
{
	const char *rest;
	struct xs_node *n = walk(t, path, &rest);
	return rest ? NULL : n;
}

/* Remove @n (not the root) and its subtree from @t. */
static void detach(struct xs_tree *t, struct xs_node *n)
{
	struct xs_node *parent = n->parent;
	for (uint32_t i = 0; i < parent->nr_kids; i++) {
		if (parent->kids[i] != n)
			continue;
		memmove(&parent->kids[i], &parent->kids[i + 1],
			(parent->nr_kids - i - 1) * sizeof(*parent->kids));
		parent->nr_kids--;
		break;
	}
	parent->gen = t->gen;
}

static void count_subtree(const struct xs_node *n, uint32_t *nodes, uint64_t *bytes)
{
	(*nodes)++;
	*bytes += node_bytes(strlen(n->name), n->vlen, n->plen);
	for (uint32_t i = 0; i < n->nr_kids; i++)
		count_subtree(n->kids[i], nodes, bytes);
}

/*
 * Make @path exist, with @extra more bytes to come on top (a new value):
 * checks the limits for the nodes to create and @extra first. The node, or
 * NULL with *err (-ENOSPC, -ENOMEM) and the tree as it was.
 */
static struct xs_node *create(struct xs_tree *t, const char *path, int64_t extra, int *err)
{
	const char *rest;
	struct xs_node *n = walk(t, path, &rest);
	uint32_t new_nodes = 0;
	uint64_t new_bytes = 0;
	for (const char *p = rest; p && *p;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		new_nodes++;
		new_bytes += node_bytes(len, 0, n->plen);
		p = slash ? slash + 1 : p + len;
	}
	if (t->nodes + new_nodes > XS_MAX_NODES ||
	    (int64_t)(t->bytes + new_bytes) + extra > (int64_t)XS_MAX_TREE_BYTES) {
		*err = -ENOSPC;
		return NULL;
	}
	if (!rest)
		return n;
	t->gen++;
	struct xs_node *first = NULL;
	for (const char *p = rest; *p;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		struct xs_node *k = node_new(p, len, n->perms, n->plen);
		if (!k || add_kid(n, k)) {
			if (k)
				node_free(k);
			if (first) { /* undo: the chain made so far goes */
				detach(t, first);
				node_free(first);
			}
			*err = -ENOMEM;
			return NULL;
		}
		if (!first)
			first = k;
		n->gen = t->gen;
		k->gen = t->gen;
		n = k;
		p = slash ? slash + 1 : p + len;
	}
	t->nodes += new_nodes;
	t->bytes += new_bytes;
	return n;
}

int xs_tree_write(struct xs_tree *t, const char *path, const void *value, size_t len)
{
	if (len > XS_MAX_VALUE)
		return -ENOSPC;
	uint8_t *v = NULL;
	if (len) {
		v = malloc(len);
		if (!v)
			return -ENOMEM;
		memcpy(v, value, len);
	}
	const struct xs_node *old = xs_tree_lookup(t, path);
	int err = 0;
	struct xs_node *n = create(t, path, (int64_t)len - (old ? (int64_t)old->vlen : 0), &err);
	if (!n) {
		free(v);
		return err;
	}
	t->bytes = t->bytes - n->vlen + len;
	free(n->value);
	n->value = v;
	n->vlen = (uint32_t)len;
	t->gen++;
	return 0;
}

int xs_tree_mkdir(struct xs_tree *t, const char *path)
{
	int err = 0;
	return create(t, path, 0, &err) ? 0 : err;
}

int xs_tree_rm(struct xs_tree *t, const char *path, bool *removed)
{
	*removed = false;
	if (!path[1])
		return -EINVAL; /* the root stays */
	const char *rest;
	struct xs_node *n = walk(t, path, &rest);
	if (rest) {
		/* Missing: fine if its parent exists (the missing part is one component). */
		return strchr(rest, '/') ? -ENOENT : 0;
	}
	uint32_t nodes = 0;
	uint64_t bytes = 0;
	count_subtree(n, &nodes, &bytes);
	t->gen++;
	detach(t, n);
	node_free(n);
	t->nodes -= nodes;
	t->bytes -= bytes;
	*removed = true;
	return 0;
}

int xs_tree_set_perms(struct xs_tree *t, const char *path, const char *perms, size_t len)
{
	struct xs_node *n = xs_tree_lookup(t, path);
	if (!n)
		return -ENOENT;
	if (t->bytes - n->plen + len > XS_MAX_TREE_BYTES)
		return -ENOSPC;
	char *p = malloc(len);
	if (!p)
		return -ENOMEM;
	memcpy(p, perms, len);
	t->bytes = t->bytes - n->plen + len;
	free(n->perms);
	n->perms = p;
	n->plen = (uint32_t)len;
	t->gen++;
	return 0;
}

size_t xs_node_children(const struct xs_node *n, char *buf, size_t cap)
{
	size_t total = 0;
	for (uint32_t i = 0; i < n->nr_kids; i++) {
		size_t l = strlen(n->kids[i]->name) + 1;
		if (total + l <= cap)
			memcpy(buf + total, n->kids[i]->name, l);
		total += l;
	}
	return total;
}
