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
};

struct kvm_vcpu {
	int fd;
	struct kvm_run *run;
	/* String I/O (rep ins/outs) comes as one exit: handed out one element at a time. */
	unsigned pio_index, pio_count;
	/* The last exit was a read whose data the exit path filled in. */
	bool pending_read;
};

int kvm_cpuid_prepare(struct kvm_vm *kvm, char *err, size_t errlen);
int kvm_cpuid_set(struct kvm_vm *kvm, int vcpu_fd, unsigned apic_id);

#endif
