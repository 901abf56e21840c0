/* SPDX-License-Identifier: MIT */
/*
 * In-VMM I/O handlers of one space, kept in a rangeset (util/rangeset.h):
 * each range carries a pointer to its handler record, allocated when the
 * range is added.
 */
#include "core/iomap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int iomap_add(struct iomap *map, uint64_t start, uint64_t len, io_handler_fn fn,
	      void *opaque, const char *name)
{
	if (len == 0 || start + (len - 1) < start || !fn)
		return -EINVAL;
	struct iomap_entry *e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct iomap_entry){ .fn = fn, .opaque = opaque, .name = name };
	int rc = rangeset_add(&map->ranges, start, start + (len - 1), (struct rangeset_val){ .p = e });
	if (rc)
		free(e);
	return rc;
}

const struct iomap_entry *iomap_find(const struct iomap *map, uint64_t addr, uint64_t len)
{
	const struct rangeset_range *r = rangeset_find(&map->ranges, addr, len);
	return r ? r->val.p : NULL;
}

void iomap_free(struct iomap *map)
{
	rangeset_for_each(r, &map->ranges)
		free(r->val.p);
	rangeset_free(&map->ranges);
	memset(map, 0, sizeof(*map));
}
