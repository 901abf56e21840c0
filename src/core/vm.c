/* SPDX-License-Identifier: MIT */
/*
 * VM lifecycle: create (backend, RAM, mappings, devices, vCPUs), start,
 * stop (first request wins), join, destroy. Teardown runs in reverse and
 * tolerates a partly built VM, so every error path ends in vm_destroy().
 */
#include "core/vm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "cpu/vcpu_loop.h"
#include "dev/device.h"

static int map_guest_ram(struct vm *vm, char *err, size_t errlen)
{
	for (unsigned i = 0; i < vm->ram.nr_regions; i++) {
		const struct guest_ram_region *r = &vm->ram.region[i];
		int rc = vm->ops->map(vm, r->gpa, r->size, r->offset, MEM_ACCESS_RW);
		if (rc) {
			snprintf(err, errlen, "mapping guest RAM [0x%" PRIx64 ", 0x%" PRIx64
				 ") into %s: %s", r->gpa, r->gpa + r->size, vm->ops->name,
				 strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int create_devices(struct vm *vm, char *err, size_t errlen)
{
	size_t n = 0;
	while (builtin_devices[n])
		n++;
	vm->dev_state = calloc(n + 1, sizeof(*vm->dev_state));
	if (!vm->dev_state)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = builtin_devices[i]->create(vm, &vm->dev_state[i]);
		if (rc) {
			snprintf(err, errlen, "device %s: %s", builtin_devices[i]->name,
				 strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, char *err, size_t errlen)
{
	int rc;
	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->ram.memfd = -1;
	vm->stop_efd = -1;
	if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > VM_MAX_VCPUS) {
		snprintf(err, errlen, "--cpus must be 1..%d", VM_MAX_VCPUS);
		return -EINVAL;
	}
	vm->ops = cpu_backend_select(cfg->accel, cfg->accel_device, err, errlen);
	if (!vm->ops)
		return -ENODEV;
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0) {
		rc = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return rc;
	}
	rc = guest_ram_create(&vm->ram, cfg->memory);
	if (rc) {
		snprintf(err, errlen, "guest RAM of %" PRIu64 " bytes: %s", cfg->memory,
			 strerror(-rc));
		return rc;
	}
	rc = vm->ops->vm_create(vm, err, errlen);
	if (rc)
		return rc;
	rc = map_guest_ram(vm, err, errlen);
	if (rc)
		return rc;
	rc = create_devices(vm, err, errlen);
	if (rc)
		return rc;
	vm->vcpus = calloc(cfg->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned i = 0; i < cfg->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		v->vm = vm;
		v->id = i;
		rc = vm->ops->vcpu_create(v);
		if (rc) {
			snprintf(err, errlen, "vCPU %u: %s", i, strerror(-rc));
			return rc;
		}
		vm->nr_vcpus++;
	}
	return 0;
}

int vm_start(struct vm *vm, char *err, size_t errlen)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int rc = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (rc) {
			snprintf(err, errlen, "starting vCPU %u: %s", i, strerror(rc));
			return -rc;
		}
		v->thread_started = true;
	}
	return 0;
}

void vm_stop(struct vm *vm, int status)
{
	bool expected = false;
	if (!atomic_compare_exchange_strong(&vm->stopping, &expected, true))
		return;
	vm->exit_status = status;
	uint64_t one = 1;
	ssize_t w = write(vm->stop_efd, &one, sizeof(one));
	(void)w;
}

void vm_join(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].thread_started)
			vm->ops->vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (!v->thread_started)
			continue;
		pthread_join(v->thread, NULL);
		v->thread_started = false;
	}
}

void vm_destroy(struct vm *vm)
{
	if (vm->vcpus) {
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			vm->ops->vcpu_destroy(&vm->vcpus[i]);
		free(vm->vcpus);
		vm->vcpus = NULL;
	}
	if (vm->dev_state) {
		for (size_t i = 0; builtin_devices[i]; i++)
			if (vm->dev_state[i] && builtin_devices[i]->destroy)
				builtin_devices[i]->destroy(vm->dev_state[i]);
		free(vm->dev_state);
		vm->dev_state = NULL;
	}
	for (int s = 0; s < IO_SPACE_COUNT; s++)
		iomap_free(&vm->iomap[s]);
	if (vm->ops && vm->be)
		vm->ops->vm_destroy(vm);
	guest_ram_destroy(&vm->ram);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	vm->stop_efd = -1;
}

void vm_dump_vcpu(struct vcpu *vcpu)
{
	struct vcpu_regs r;
	if (vcpu->vm->ops->vcpu_get_regs(vcpu, &r)) {
		log_err("vCPU %u: registers unavailable", vcpu->id);
		return;
	}
	log_err("vCPU %u registers (%s, CPL%u):", vcpu->id,
		r.long_mode ? "long mode" : (r.cr0 & 1) ? "protected mode" : "real mode", r.cpl);
	log_err("  rip %016" PRIx64 " rflags %016" PRIx64 " cs %04x ss %04x ds %04x",
		r.rip, r.rflags, r.cs, r.ss, r.ds);
	log_err("  rax %016" PRIx64 " rbx %016" PRIx64 " rcx %016" PRIx64 " rdx %016" PRIx64,
		r.rax, r.rbx, r.rcx, r.rdx);
	log_err("  rsi %016" PRIx64 " rdi %016" PRIx64 " rsp %016" PRIx64 " rbp %016" PRIx64,
		r.rsi, r.rdi, r.rsp, r.rbp);
	log_err("  r8  %016" PRIx64 " r9  %016" PRIx64 " r10 %016" PRIx64 " r11 %016" PRIx64,
		r.r8, r.r9, r.r10, r.r11);
	log_err("  r12 %016" PRIx64 " r13 %016" PRIx64 " r14 %016" PRIx64 " r15 %016" PRIx64,
		r.r12, r.r13, r.r14, r.r15);
	log_err("  cr0 %016" PRIx64 " cr2 %016" PRIx64 " cr3 %016" PRIx64 " cr4 %016" PRIx64
		" efer %" PRIx64, r.cr0, r.cr2, r.cr3, r.cr4, r.efer);
}
