/* SPDX-License-Identifier: MIT */
/*
 * CPUID for KVM vCPUs: what KVM_GET_SUPPORTED_CPUID offers, minus what this
 * host cannot honour, plus per-vCPU APIC ids. Built once per VM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cpu/kvm/kvm_priv.h"
#include "cpu/x86.h"


/*
 * Some hosts (kvm_pvm here) advertise ARCH_CAPABILITIES but refuse the MSR
 * when set on a vCPU: try it on a scratch VM and hide the bit if so.
 */
static bool host_takes_arch_capabilities(struct kvm_vm *kvm)
{
	/* struct kvm_msrs ends in a flexible array: room for one entry after it. */
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.hdr.entries[0].index = X86_MSR_ARCH_CAPABILITIES;

	if (ioctl(kvm->kvm_fd, KVM_GET_MSRS, &m) != 1)
		return false;
	/* A throwaway VM: a vCPU cannot be removed from the real one. */
	int vm = ioctl(kvm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm < 0)
		return false;
	bool ok = false;
	int fd = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (fd >= 0) {
		ok = ioctl(fd, KVM_SET_MSRS, &m) == 1;
		close(fd);
	}
	close(vm);
	return ok;
}

int kvm_cpuid_prepare(struct kvm_vm *kvm, char *err, size_t errlen)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(kvm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			kvm->cpuid = c;
			break;
		}
		int e = errno;
		free(c);
		if (e != E2BIG) {
			snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(e));
			return -e;
		}
	}
	if (!kvm->cpuid) {
		snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: too many entries");
		return -E2BIG;
	}
	kvm->arch_caps_ok = host_takes_arch_capabilities(kvm);
	for (unsigned i = 0; i < kvm->cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &kvm->cpuid->entries[i];
		if (e->function == 7 && e->index == 0 && !kvm->arch_caps_ok)
			e->edx &= ~X86_CPUID_7_EDX_ARCH_CAPABILITIES;
		if (e->function == 1)
			e->ecx |= X86_CPUID_1_ECX_HYPERVISOR;
	}
	return 0;
}

int kvm_cpuid_set(struct kvm_vm *kvm, int vcpu_fd, unsigned apic_id)
{
	size_t sz = sizeof(*kvm->cpuid) + kvm->cpuid->nent * sizeof(kvm->cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	if (!c)
		return -ENOMEM;
	memcpy(c, kvm->cpuid, sz);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffffu) | (apic_id << 24);
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = apic_id;
	}
	int rc = ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	free(c);
	return rc;
}
