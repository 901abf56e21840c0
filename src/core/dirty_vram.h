/* SPDX-License-Identifier: MIT */
/*
 * Dirty tracking of one range of guest frames, for Xen's track_dirty_vram
 * (the control op TRACK_DIRTY_VRAM, ctl_proto.h has its semantics). Owns
 * the VM's tracked range and the frames noted written outside the
 * backend's log (a trapped write the exit path served into RAM, frames a
 * model reported with MODIFIED_MEMORY); asks the backend to log the
 * guest's own stores (cpu_backend_ops.dirty_log / dirty_collect: KVM's
 * dirty log on kvm, write protection on tcg) with the vCPUs out of guest
 * code (K3), under the P2M's writer lock so that no mapping changes
 * meanwhile.
 */
#ifndef IOREQVM_DIRTY_VRAM_H
#define IOREQVM_DIRTY_VRAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ioreqvm/ctl_proto.h"

struct vm;

#define DIRTY_VRAM_WORDS (IOREQVM_DIRTY_MAX_PAGES / 64)

struct dirty_vram {
	/* The tracked range (nr 0: none); written under the P2M's lock, read by any thread. */
	_Atomic uint64_t first, nr;
	/* Bit i: frame first + i written outside the backend's log since the last report. */
	_Atomic uint64_t noted[DIRTY_VRAM_WORDS];
};

/*
 * Guest RAM [gpa, gpa + len) was written by the exit path for the guest,
 * or a model says it wrote it: noted if it is in the tracked range. Any
 * thread, never waits. A note racing with a change of range may mark a
 * frame of the new range that was not written (reported dirty once more:
 * never a write missed).
 */
void dirty_vram_note(struct dirty_vram *d, uint64_t gpa, uint64_t len);

/*
 * track_dirty_vram(first, nr): see ctl_proto.h. @bitmap gets
 * ceil(nr / 64) words (bits past nr zero). 0, -EINVAL (nr past
 * IOREQVM_DIRTY_MAX_PAGES, range outside guest-physical space),
 * -EOPNOTSUPP (the backend cannot log), or the backend's -errno (then
 * nothing is tracked); message in err.
 */
int dirty_vram_track(struct vm *vm, uint64_t first, uint64_t nr, uint64_t *bitmap, char *err,
		     size_t errlen);

#endif
