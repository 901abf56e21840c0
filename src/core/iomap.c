/* SPDX-License-Identifier: MIT */
/* Ordered range map: insertion keeps entries sorted and refuses overlaps. */
#include "core/iomap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Index of the first entry whose last >= addr. */
static size_t lower_bound(const struct iomap *map, uint64_t addr)
{
	size_t lo = 0, hi = map->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (map->entries[mid].last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int iomap_add(struct iomap *map, uint64_t start, uint64_t len, io_handler_fn fn,
	      void *opaque, const char *name)
{
	if (len == 0 || start + (len - 1) < start || !fn)
		return -EINVAL;
	uint64_t last = start + (len - 1);
	size_t i = lower_bound(map, start);
	if (i < map->nr && map->entries[i].start <= last)
		return -EEXIST;
	if (map->nr == map->cap) {
		size_t cap = map->cap ? map->cap * 2 : 8;
		struct iomap_entry *e = realloc(map->entries, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		map->entries = e;
		map->cap = cap;
	}
	memmove(&map->entries[i + 1], &map->entries[i], (map->nr - i) * sizeof(*map->entries));
	map->entries[i] = (struct iomap_entry){
		.start = start, .last = last, .fn = fn, .opaque = opaque, .name = name };
	map->nr++;
	return 0;
}

const struct iomap_entry *iomap_find(const struct iomap *map, uint64_t addr, uint64_t len)
{
	if (len == 0 || addr + (len - 1) < addr)
		return NULL;
	size_t i = lower_bound(map, addr);
	if (i == map->nr)
		return NULL;
	const struct iomap_entry *e = &map->entries[i];
	if (e->start <= addr && addr + (len - 1) <= e->last)
		return e;
	return NULL;
}

void iomap_free(struct iomap *map)
{
	free(map->entries);
	memset(map, 0, sizeof(*map));
}
