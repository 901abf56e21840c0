/* SPDX-License-Identifier: MIT */
/* The VM-wide operations of the KVM backend, joined into its ops table in kvm_vcpu.c. */
#ifndef IOREQVM_KVM_VM_H
#define IOREQVM_KVM_VM_H

#include <stddef.h>

#include "cpu/backend.h"

int kvm_probe(const char *device, char *err, size_t errlen);
int kvm_vm_create(struct vm *vm, char *err, size_t errlen);
void kvm_vm_destroy(struct vm *vm);
int kvm_map(struct vm *vm, uint64_t gpa, uint64_t size, uint64_t host_offset,
	    enum mem_access access);
int kvm_unmap(struct vm *vm, uint64_t gpa);
void kvm_mapping_count(struct vm *vm, unsigned *used, unsigned *limit);
int kvm_irq_line(struct vm *vm, unsigned gsi, bool level);
int kvm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data);
int kvm_dirty_log(struct vm *vm, uint64_t first, uint64_t nr);
int kvm_dirty_collect(struct vm *vm, uint64_t *bits);

#endif
