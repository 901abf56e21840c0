/* SPDX-License-Identifier: MIT */
/*
 * KVM backend, VM half: probing /dev/kvm, creating the VM with its in-kernel
 * irqchip and PIT, memslots (one per mapping, K2) and interrupt lines;
 * their dirty log is kvm_dirty.c's. The
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
	k->free_ids = calloc(k->nr_slots_max, sizeof(*k->free_ids));
	k->index.cap = 1;
	while (k->index.cap < 2 * k->nr_slots_max)
		k->index.cap <<= 1;
	k->index.keys = calloc(k->index.cap, sizeof(*k->index.keys));
	k->index.ids = calloc(k->index.cap, sizeof(*k->index.ids));
	if (!k->slots || !k->free_ids || !k->index.keys || !k->index.ids)
		return -ENOMEM;
	for (unsigned i = 0; i < k->nr_slots_max; i++)
		k->free_ids[i] = k->nr_slots_max - 1 - i; /* lowest id on top */
	k->nr_free = k->nr_slots_max;

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
	free(k->dirty_saved);
	free(k->slots);
	free(k->free_ids);
	free(k->index.keys);
	free(k->index.ids);
	free(k);
	vm->be = NULL;
}

int kvm_set_slot(struct kvm_vm *k, unsigned id, uint64_t gpa, uint64_t size, void *host,
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

static uint32_t index_hash(const struct kvm_slot_index *ix, uint64_t gpa)
{
	return (uint32_t)(((gpa >> 12) * 0x9E3779B97F4A7C15ULL) >> 32) & (ix->cap - 1);
}

/* Position of @gpa's entry, or of the first free place for it. */
static uint32_t index_find(const struct kvm_slot_index *ix, uint64_t gpa, bool *found)
{
	uint32_t h = index_hash(ix, gpa), first_free = UINT32_MAX;
	for (uint32_t i = 0; i < ix->cap; i++, h = (h + 1) & (ix->cap - 1)) {
		uint64_t key = ix->keys[h];
		if (key == gpa + 1) {
			*found = true;
			return h;
		}
		if (key == UINT64_MAX && first_free == UINT32_MAX)
			first_free = h;
		if (key == 0) {
			*found = false;
			return first_free != UINT32_MAX ? first_free : h;
		}
	}
	*found = false;
	return first_free;
}

/* Drop deletion markers once they would slow probes down. */
static void index_rebuild(struct kvm_vm *k)
{
	struct kvm_slot_index *ix = &k->index;
	memset(ix->keys, 0, ix->cap * sizeof(*ix->keys));
	ix->nr_deleted = 0;
	for (unsigned id = 0; id < k->nr_slots_max; id++) {
		if (!k->slots[id].used)
			continue;
		bool found;
		uint32_t pos = index_find(ix, k->slots[id].gpa, &found);
		ix->keys[pos] = k->slots[id].gpa + 1;
		ix->ids[pos] = id;
	}
}

/* One memslot per mapping; O(1) slot allocation and lookup by start address. */
int kvm_map(struct vm *vm, uint64_t gpa, uint64_t size, uint64_t host_offset,
	    enum mem_access access)
{
	struct kvm_vm *k = vm->be;
	if (access == MEM_ACCESS_NONE)
		return 0; /* no slot: every access exits as MMIO */
	if (!size || (gpa | size | host_offset) & (GUEST_PAGE_SIZE - 1) ||
	    host_offset + size > vm->ram.size || host_offset + size < host_offset)
		return -EINVAL;
	if (!k->nr_free)
		return -ENOSPC;
	bool found;
	uint32_t pos = index_find(&k->index, gpa, &found);
	if (found)
		return -EEXIST;
	unsigned id = k->free_ids[k->nr_free - 1];
	uint32_t flags = (access == MEM_ACCESS_RO ? KVM_MEM_READONLY : 0) |
			 kvm_dirty_slot_flag(k, gpa, size);
	int rc = kvm_set_slot(k, id, gpa, size, vm->ram.host + host_offset, flags);
	if (rc)
		return rc;
	k->nr_free--;
	k->index.keys[pos] = gpa + 1;
	k->index.ids[pos] = id;
	k->slots[id] = (struct kvm_slot){ .used = true, .gpa = gpa, .size = size,
					  .host = vm->ram.host + host_offset, .flags = flags };
	k->nr_slots_used++;
	return 0;
}

int kvm_unmap(struct vm *vm, uint64_t gpa)
{
	struct kvm_vm *k = vm->be;
	bool found;
	uint32_t pos = index_find(&k->index, gpa, &found);
	if (!found)
		return -ENOENT;
	unsigned id = k->index.ids[pos];
	int rc = kvm_dirty_save_slot(k, id); /* what it logged, before the slot goes */
	if (!rc)
		rc = kvm_set_slot(k, id, gpa, 0, NULL, 0);
	if (rc)
		return rc;
	k->index.keys[pos] = UINT64_MAX;
	k->slots[id].used = false;
	if (++k->index.nr_deleted > k->index.cap / 4)
		index_rebuild(k);
	k->free_ids[k->nr_free++] = id;
	k->nr_slots_used--;
	return 0;
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

int kvm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_vm *k = vm->be;
	struct kvm_msi msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
			       .data = data };
	int rc = ioctl(k->vm_fd, KVM_SIGNAL_MSI, &msi);
	return rc < 0 ? -errno : 0; /* 0: delivered or blocked by the guest's APIC state */
}
