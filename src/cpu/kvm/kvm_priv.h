/* SPDX-License-Identifier: MIT */
/* State shared by the KVM backend's files; nothing outside src/cpu/kvm sees it. */
#ifndef IOREQVM_KVM_PRIV_H
#define IOREQVM_KVM_PRIV_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/backend.h"

#define KVM_DEFAULT_DEVICE "/dev/kvm"

struct kvm_slot {
	bool used;
	uint64_t gpa, size;
	void *host;
	uint32_t flags; /* KVM_MEM_READONLY, KVM_MEM_LOG_DIRTY_PAGES */
};

/* gpa -> slot id, open addressing; sized twice the slot limit. */
struct kvm_slot_index {
	uint64_t *keys; /* gpa + 1; 0 = empty, UINT64_MAX = deleted */
	uint32_t *ids;
	uint32_t cap;   /* power of two */
	uint32_t nr_deleted;
};

struct kvm_vm {
	int kvm_fd, vm_fd;
	int run_size;
	struct kvm_cpuid2 *cpuid; /* supported CPUID, filtered once */
	bool arch_caps_ok;        /* the host takes MSR_IA32_ARCH_CAPABILITIES */
	unsigned nr_slots_max, nr_slots_used;
	struct kvm_slot *slots;
	uint32_t *free_ids; /* stack of unused slot ids */
	unsigned nr_free;
	struct kvm_slot_index index;
	/* track_dirty_vram (kvm_dirty.c): the logged frames, and what deleted slots had logged. */
	uint64_t dirty_first, dirty_nr;
	uint64_t *dirty_saved;
};

struct kvm_vcpu {
	int fd;
	struct kvm_run *run;
	/* String I/O (rep ins/outs) comes as one exit: handed out one element at a time. */
	unsigned pio_index, pio_count;
	/* The last exit was a read whose data the exit path filled in. */
	bool pending_read;
};

/* kvm_dirty.c: the flag a new slot over [gpa, gpa + size) gets; a slot's log kept before it goes. */
uint32_t kvm_dirty_slot_flag(const struct kvm_vm *k, uint64_t gpa, uint64_t size);
int kvm_dirty_save_slot(struct kvm_vm *k, unsigned id);
int kvm_set_slot(struct kvm_vm *k, unsigned id, uint64_t gpa, uint64_t size, void *host,
		 uint32_t flags);

int kvm_cpuid_prepare(struct kvm_vm *kvm, char *err, size_t errlen);
int kvm_cpuid_set(struct kvm_vm *kvm, int vcpu_fd, unsigned apic_id);

#endif
