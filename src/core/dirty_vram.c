/* SPDX-License-Identifier: MIT */
/*
 * Dirty tracking for track_dirty_vram (dirty_vram.h): the range, the
 * frames noted outside the backend's log, and the calls that start, read
 * and stop the backend's log.
 */
#include "core/dirty_vram.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/vm.h"

void dirty_vram_note(struct dirty_vram *d, uint64_t gpa, uint64_t len)
{
	uint64_t nr = atomic_load(&d->nr);
	if (!nr || !len)
		return;
	uint64_t first = atomic_load(&d->first);
	uint64_t a = gpa >> GUEST_PAGE_SHIFT, b = (gpa + len - 1) >> GUEST_PAGE_SHIFT;
	if (b < first || a >= first + nr)
		return;
	if (a < first)
		a = first;
	if (b >= first + nr)
		b = first + nr - 1;
	for (uint64_t f = a; f <= b; f++)
		atomic_fetch_or(&d->noted[(f - first) / 64], 1ULL << ((f - first) % 64));
}

static void clear_noted(struct dirty_vram *d)
{
	for (size_t i = 0; i < DIRTY_VRAM_WORDS; i++)
		atomic_store(&d->noted[i], 0);
}

/* Backend call with the vCPUs out of guest code (K3). */
static int backend_log(struct vm *vm, uint64_t first, uint64_t nr)
{
	vm_pause_vcpus(vm);
	int rc = vm->ops->dirty_log(vm, first, nr);
	vm_resume_vcpus(vm);
	return rc;
}

static int track_locked(struct vm *vm, uint64_t first, uint64_t nr, uint64_t *bitmap,
			char *err, size_t errlen)
{
	struct dirty_vram *d = &vm->dirty;
	uint64_t words = (nr + 63) / 64;
	uint64_t cur_first = atomic_load(&d->first), cur_nr = atomic_load(&d->nr);
	if (!nr) {
		if (!cur_nr)
			return 0;
		atomic_store(&d->nr, 0);
		int rc = backend_log(vm, 0, 0);
		clear_noted(d);
		if (rc)
			snprintf(err, errlen, "stopping the backend's dirty log: %s", strerror(-rc));
		return rc;
	}
	if (!vm->ops->dirty_log) {
		snprintf(err, errlen, "the %s backend cannot log dirty frames", vm->ops->name);
		return -EOPNOTSUPP;
	}
	if (first != cur_first || nr != cur_nr) {
		/* A new range: nothing is known of the time before, every frame is dirty (Xen). */
		atomic_store(&d->nr, 0);
		clear_noted(d);
		int rc = backend_log(vm, first, nr);
		if (rc) {
			backend_log(vm, 0, 0);
			snprintf(err, errlen, "starting the backend's dirty log: %s", strerror(-rc));
			return rc;
		}
		atomic_store(&d->first, first);
		atomic_store(&d->nr, nr);
		memset(bitmap, 0xff, words * 8);
		if (nr % 64)
			bitmap[words - 1] = (1ULL << (nr % 64)) - 1;
		return 0;
	}
	memset(bitmap, 0, words * 8);
	if (vm->ops->dirty_collect) {
		int rc = vm->ops->dirty_collect(vm, bitmap);
		if (rc) {
			snprintf(err, errlen, "reading the backend's dirty log: %s", strerror(-rc));
			return rc;
		}
	}
	for (uint64_t i = 0; i < words; i++)
		bitmap[i] |= atomic_exchange(&d->noted[i], 0);
	return 0;
}

int dirty_vram_track(struct vm *vm, uint64_t first, uint64_t nr, uint64_t *bitmap, char *err,
		     size_t errlen)
{
	if (nr > IOREQVM_DIRTY_MAX_PAGES) {
		snprintf(err, errlen, "%" PRIu64 " frames: at most %u are tracked", nr,
			 (unsigned)IOREQVM_DIRTY_MAX_PAGES);
		return -EINVAL;
	}
	if (nr && (first + nr < first || first + nr > vm->p2m.nr_pages)) {
		snprintf(err, errlen, "pfn range 0x%" PRIx64 "+0x%" PRIx64
			 " is outside guest-physical space", first, nr);
		return -EINVAL;
	}
	/* The P2M's writer lock: no mapping (memslot) changes while the log does. */
	pthread_mutex_lock(&vm->p2m.lock);
	int rc = track_locked(vm, first, nr, bitmap, err, errlen);
	pthread_mutex_unlock(&vm->p2m.lock);
	return rc;
}
