/* SPDX-License-Identifier: MIT */
/*
 * KVM backend, VM half: probing /dev/kvm, creating the VM with its in-kernel
 * irqchip and PIT, memslots (one per mapping, K2) and interrupt lines. The
 * vCPU half is kvm_vcpu.c; both fill kvm_backend_ops at the end of that file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/vm.h"
#include "cpu/kvm/kvm_priv.h"
#include "cpu/kvm/kvm_vm.h"

/* Below the PCI hole's device area, as other VMMs place them. */
#define KVM_TSS_ADDR 0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL

static int open_kvm(const char *device, char *err, size_t errlen)
{
	const char *path = device ? device : KVM_DEFAULT_DEVICE;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open %s: %s (no KVM here? try --accel tcg)", path,
			 strerror(e));
		return -e;
	}
	int api = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		snprintf(err, errlen, "%s: KVM API version %d, need %d", path, api, KVM_API_VERSION);
		close(fd);
		return -ENOTSUP;
	}
	return fd;
}

int kvm_probe(const char *device, char *err, size_t errlen)
{
	int fd = open_kvm(device, err, errlen);
	if (fd < 0)
		return fd;
	int vm = ioctl(fd, KVM_CREATE_VM, 0);
	int e = errno;
	close(fd);
	if (vm < 0) {
		snprintf(err, errlen, "%s: cannot create a VM: %s",
			 device ? device : KVM_DEFAULT_DEVICE, strerror(e));
		return -e;
	}
	close(vm);
	return 0;
}

static int vm_ioctl_checked(struct kvm_vm *k, unsigned long req, unsigned long arg,
			    const char *what, char *err, size_t errlen)
{
	if (ioctl(k->vm_fd, req, arg) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", what, strerror(e));
		return -e;
	}
	return 0;
}

int kvm_vm_create(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_vm *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->kvm_fd = k->vm_fd = -1;
	vm->be = k;

	k->kvm_fd = open_kvm(vm->cfg.accel_device, err, errlen);
	if (k->kvm_fd < 0)
		return k->kvm_fd;
	k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0) {
		int e = errno;
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(e));
		return -e;
	}
	k->run_size = ioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size <= 0) {
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE failed");
		return -EIO;
	}
	int slots = ioctl(k->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	k->nr_slots_max = slots > 0 ? (unsigned)slots : 32;
	k->slots = calloc(k->nr_slots_max, sizeof(*k->slots));
	if (!k->slots)
		return -ENOMEM;

	int rc;
	if ((rc = vm_ioctl_checked(k, KVM_SET_TSS_ADDR, KVM_TSS_ADDR, "KVM_SET_TSS_ADDR", err,
				   errlen)))
		return rc;
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	if ((rc = vm_ioctl_checked(k, KVM_SET_IDENTITY_MAP_ADDR, (unsigned long)&idmap,
				   "KVM_SET_IDENTITY_MAP_ADDR", err, errlen)))
		return rc;
	if ((rc = vm_ioctl_checked(k, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP", err, errlen)))
		return rc;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if ((rc = vm_ioctl_checked(k, KVM_CREATE_PIT2, (unsigned long)&pit, "KVM_CREATE_PIT2",
				   err, errlen)))
		return rc;
	return kvm_cpuid_prepare(k, err, errlen);
}

void kvm_vm_destroy(struct vm *vm)
{
	struct kvm_vm *k = vm->be;
	if (!k)
		return;
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->kvm_fd >= 0)
		close(k->kvm_fd);
	free(k->cpuid);
	free(k->slots);
	free(k);
	vm->be = NULL;
}

static int set_slot(struct kvm_vm *k, unsigned id, uint64_t gpa, uint64_t size, void *host,
		    uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = id,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};
	return ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

/*
 * Slot bookkeeping is a linear scan for now: a handful of slots until the
 * memslot compiler of the P2M takes over and indexes them.
 */
int kvm_map(struct vm *vm, uint64_t gpa, uint64_t size, uint64_t host_offset,
	    enum mem_access access)
{
	struct kvm_vm *k = vm->be;
	if (access == MEM_ACCESS_NONE)
		return 0; /* no slot: every access exits as MMIO */
	if (!size || (gpa | size | host_offset) & (GUEST_PAGE_SIZE - 1) ||
	    host_offset + size > vm->ram.size || host_offset + size < host_offset)
		return -EINVAL;
	if (k->nr_slots_used == k->nr_slots_max)
		return -ENOSPC;
	unsigned id = 0;
	while (k->slots[id].used)
		id++;
	int rc = set_slot(k, id, gpa, size, vm->ram.host + host_offset,
			  access == MEM_ACCESS_RO ? KVM_MEM_READONLY : 0);
	if (rc)
		return rc;
	k->slots[id] = (struct kvm_slot){ .used = true, .gpa = gpa, .size = size };
	k->nr_slots_used++;
	return 0;
}

int kvm_unmap(struct vm *vm, uint64_t gpa)
{
	struct kvm_vm *k = vm->be;
	for (unsigned id = 0; id < k->nr_slots_max; id++) {
		if (!k->slots[id].used || k->slots[id].gpa != gpa)
			continue;
		int rc = set_slot(k, id, gpa, 0, NULL, 0);
		if (rc)
			return rc;
		k->slots[id].used = false;
		k->nr_slots_used--;
		return 0;
	}
	return -ENOENT;
}

void kvm_mapping_count(struct vm *vm, unsigned *used, unsigned *limit)
{
	struct kvm_vm *k = vm->be;
	*used = k->nr_slots_used;
	*limit = k->nr_slots_max;
}

int kvm_irq_line(struct vm *vm, unsigned gsi, bool level)
{
	struct kvm_vm *k = vm->be;
	struct kvm_irq_level irq = { .irq = gsi, .level = level };
	return ioctl(k->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}
