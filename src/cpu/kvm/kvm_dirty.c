/* SPDX-License-Identifier: MIT */
/*
 * KVM backend: the dirty log of track_dirty_vram's range (backend.h's
 * dirty_log, dirty_collect). Every memslot overlapping the range carries
 * KVM_MEM_LOG_DIRTY_PAGES (set on a slot in place, given to a slot created
 * later); KVM_GET_DIRTY_LOG reads and clears a slot's whole log, of which
 * the frames in the range are kept. A slot is never split for this: a slot
 * reaching past the range logs its other frames too (KVM write-protects
 * them until their first store: a cost, not a change of what is reported).
 * A slot deleted while logging (a P2M change splits or replaces it) has its
 * log read first into dirty_saved, so no store is lost between two reports.
 * All of it runs under the P2M's writer lock, like map and unmap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/vm.h"
#include "cpu/kvm/kvm_priv.h"
#include "cpu/kvm/kvm_vm.h"

static bool overlaps(const struct kvm_vm *k, uint64_t gpa, uint64_t size)
{
	uint64_t a = gpa / GUEST_PAGE_SIZE, b = (gpa + size) / GUEST_PAGE_SIZE;
	return k->dirty_nr && a < k->dirty_first + k->dirty_nr && b > k->dirty_first;
}

uint32_t kvm_dirty_slot_flag(const struct kvm_vm *k, uint64_t gpa, uint64_t size)
{
	return overlaps(k, gpa, size) ? KVM_MEM_LOG_DIRTY_PAGES : 0;
}

/* Slot @id's log (read and cleared by KVM) ORed into @bits over the range. */
static int harvest(struct kvm_vm *k, unsigned id, uint64_t *bits)
{
	const struct kvm_slot *s = &k->slots[id];
	uint64_t pages = s->size / GUEST_PAGE_SIZE, words = (pages + 63) / 64;
	uint64_t *log = calloc(words, sizeof(*log));
	if (!log)
		return -ENOMEM;
	struct kvm_dirty_log d = { .slot = id, .dirty_bitmap = log };
	if (ioctl(k->vm_fd, KVM_GET_DIRTY_LOG, &d) < 0) {
		int e = errno;
		free(log);
		return -e;
	}
	uint64_t base = s->gpa / GUEST_PAGE_SIZE;
	for (uint64_t w = 0; w < words; w++) {
		for (uint64_t v = log[w]; v; v &= v - 1) {
			uint64_t f = base + w * 64 + (uint64_t)__builtin_ctzll(v);
			if (f >= k->dirty_first && f < k->dirty_first + k->dirty_nr) {
				uint64_t i = f - k->dirty_first;
				bits[i / 64] |= 1ULL << (i % 64);
			}
		}
	}
	free(log);
	return 0;
}

int kvm_dirty_save_slot(struct kvm_vm *k, unsigned id)
{
	if (!(k->slots[id].flags & KVM_MEM_LOG_DIRTY_PAGES) || !k->dirty_saved)
		return 0;
	return harvest(k, id, k->dirty_saved);
}

/* Every used slot overlapping the range gets (@on) or loses the log flag, in place. */
static int flag_slots(struct kvm_vm *k, bool on)
{
	for (unsigned id = 0; id < k->nr_slots_max; id++) {
		struct kvm_slot *s = &k->slots[id];
		if (!s->used)
			continue;
		uint32_t flags = s->flags & ~(uint32_t)KVM_MEM_LOG_DIRTY_PAGES;
		if (on && overlaps(k, s->gpa, s->size))
			flags |= KVM_MEM_LOG_DIRTY_PAGES;
		if (flags == s->flags)
			continue;
		int rc = kvm_set_slot(k, id, s->gpa, s->size, s->host, flags);
		if (rc)
			return rc;
		s->flags = flags;
	}
	return 0;
}

int kvm_dirty_log(struct vm *vm, uint64_t first, uint64_t nr)
{
	struct kvm_vm *k = vm->be;
	k->dirty_nr = 0;
	int rc = flag_slots(k, false); /* the old range's slots: a fresh log after */
	free(k->dirty_saved);
	k->dirty_saved = NULL;
	if (rc || !nr)
		return rc;
	k->dirty_saved = calloc((nr + 63) / 64, sizeof(uint64_t));
	if (!k->dirty_saved)
		return -ENOMEM;
	k->dirty_first = first;
	k->dirty_nr = nr;
	rc = flag_slots(k, true);
	if (rc) {
		k->dirty_nr = 0;
		flag_slots(k, false);
	}
	return rc;
}

int kvm_dirty_collect(struct vm *vm, uint64_t *bits)
{
	struct kvm_vm *k = vm->be;
	if (!k->dirty_nr)
		return 0;
	for (unsigned id = 0; id < k->nr_slots_max; id++) {
		if (!k->slots[id].used || !(k->slots[id].flags & KVM_MEM_LOG_DIRTY_PAGES))
			continue;
		int rc = harvest(k, id, bits);
		if (rc)
			return rc;
	}
	uint64_t words = (k->dirty_nr + 63) / 64;
	for (uint64_t w = 0; w < words; w++) {
		bits[w] |= k->dirty_saved[w];
		k->dirty_saved[w] = 0;
	}
	return 0;
}
