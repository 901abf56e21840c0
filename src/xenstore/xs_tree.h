/* SPDX-License-Identifier: MIT */
/*
 * The xenstore database (DESIGN X1): a tree of nodes addressed by canonical
 * absolute paths ("/", "/local/domain/1/name"), each with a value (bytes),
 * permissions (Xen's "<n|r|w|b><domid>" strings, the first naming the
 * owner) and children in creation order. One tree is the store; a
 * transaction works on a deep copy of it (docs/misc/xenstore.txt: "the whole
 * db is copied"). Pure data structure: no sockets, no threads, no watches.
 *
 * Paths (xs_path_valid): start with '/', characters A-Z a-z 0-9 - / _ @,
 * no empty component ("//", a trailing '/' except the root), at most
 * IOREQVM_XS_ABS_PATH_MAX bytes and XS_MAX_DEPTH components: else EINVAL.
 *
 * Limits of one tree (DESIGN R4), with the errno the protocol answers:
 *  - XS_MAX_NODES nodes, the root included: ENOSPC;
 *  - XS_MAX_TREE_BYTES of names, values and permissions, plus
 *    XS_NODE_OVERHEAD per node: ENOSPC;
 *  - a value of more than XS_MAX_VALUE bytes: ENOSPC (xenstored's answer
 *    past its node-size quota);
 *  - more than XS_MAX_PERMS permission strings on a node: E2BIG.
 * A change that would break one changes nothing.
 */
#ifndef IOREQVM_XS_TREE_H
#define IOREQVM_XS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ioreqvm/xs_wire.h"

#define XS_MAX_NODES 4096
#define XS_MAX_TREE_BYTES (1u << 20)
#define XS_MAX_VALUE 2048
#define XS_MAX_DEPTH 64
#define XS_MAX_PERMS 32
#define XS_NODE_OVERHEAD 64

struct xs_node {
	char *name;            /* the last component; "" for the root */
	struct xs_node *parent;
	struct xs_node **kids; /* in creation order */
	uint32_t nr_kids, cap_kids;
	uint8_t *value;        /* vlen bytes, not NUL-terminated (NULL if 0) */
	uint32_t vlen;
	char *perms;           /* plen bytes: NUL-terminated strings, owner first */
	uint32_t plen;
	uint64_t gen;          /* the tree's gen when its children last changed */
};

struct xs_tree {
	struct xs_node *root;
	uint32_t nodes;
	uint64_t bytes; /* accounted as the limits count them */
	uint64_t gen;   /* changes with every change to the tree */
};

/* A tree with the root alone, permissions "n0". 0 or -ENOMEM. */
int xs_tree_init(struct xs_tree *t);
void xs_tree_free(struct xs_tree *t);
/* @dst becomes a deep copy of @src (gen included). 0 or -ENOMEM (@dst empty). */
int xs_tree_copy(struct xs_tree *dst, const struct xs_tree *src);

/* 0 if @path is a canonical absolute path within the limits, else -EINVAL. */
int xs_path_valid(const char *path);
/*
 * 0 if @perms (@len bytes) is one or more NUL-terminated permission strings
 * ("n0", "r1", "w2", "b3": a letter and a decimal domid below 65536),
 * -EINVAL if malformed, -E2BIG past XS_MAX_PERMS.
 */
int xs_perms_valid(const char *perms, size_t len);

/* The node at @path (valid), or NULL. */
struct xs_node *xs_tree_lookup(const struct xs_tree *t, const char *path);

/*
 * WRITE: set @path's value, creating it and missing parents (with their
 * parent's permissions and an empty value). 0, -ENOSPC, -ENOMEM.
 */
int xs_tree_write(struct xs_tree *t, const char *path, const void *value, size_t len);
/* MKDIR: make sure @path exists (values already there stay). 0, -ENOSPC, -ENOMEM. */
int xs_tree_mkdir(struct xs_tree *t, const char *path);
/*
 * RM: remove @path and everything under it. 0 also if @path does not exist
 * but its parent does; -ENOENT if the parent does not exist either; -EINVAL
 * for the root. *removed: whether a node went.
 */
int xs_tree_rm(struct xs_tree *t, const char *path, bool *removed);
/* SET_PERMS on an existing node (@perms valid). 0, -ENOENT, -ENOSPC, -ENOMEM. */
int xs_tree_set_perms(struct xs_tree *t, const char *path, const char *perms, size_t len);

/*
 * The names of @n's children, each NUL-terminated, into @buf (up to @cap
 * bytes; the rest dropped); returns the bytes the whole list takes.
 */
size_t xs_node_children(const struct xs_node *n, char *buf, size_t cap);

#endif
