/* SPDX-License-Identifier: MIT */
/* The VM-wide operations of the tcg backend, joined into its ops table in tcg_vcpu.c. */
#ifndef IOREQVM_TCG_VM_H
#define IOREQVM_TCG_VM_H

#include <stddef.h>

#include "cpu/backend.h"

int tcg_probe(const char *device, char *err, size_t errlen);
int tcg_vm_create(struct vm *vm, char *err, size_t errlen);
void tcg_vm_destroy(struct vm *vm);
int tcg_map(struct vm *vm, uint64_t gpa, uint64_t size, uint64_t host_offset,
	    enum mem_access access);
int tcg_unmap(struct vm *vm, uint64_t gpa);
void tcg_mapping_count(struct vm *vm, unsigned *used, unsigned *limit);
int tcg_irq_line(struct vm *vm, unsigned gsi, bool level);
int tcg_signal_msi(struct vm *vm, uint64_t addr, uint32_t data);
int tcg_dirty_log(struct vm *vm, uint64_t first, uint64_t nr);
void tcg_describe(char *buf, size_t len);
int tcg_code_changed(struct vm *vm, struct vcpu *self, uint64_t gpa, uint64_t len);

#endif
