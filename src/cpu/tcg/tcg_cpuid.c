/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: CPUID (K12), hooked as an instruction, reports only what
 * this backend provides (an xAPIC, no x2APIC, no TSC deadline). The APIC
 * base MSR is tcg_msr.c's.
 */
#include <errno.h>
#include <pthread.h>

#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"


/* libunicorn's own leaf 1 (family, model, features), read once per process. */
static uint32_t leaf1[4];
static pthread_once_t leaf1_once = PTHREAD_ONCE_INIT;

static void read_leaf1(void)
{
	static const uint8_t code[] = { 0x0f, 0xa2 }; /* cpuid */
	uc_engine *uc;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
		return;
	uint64_t one = 1, zero = 0, v[4] = { 0 };
	if (!uc_mem_map(uc, 0x1000, 0x1000, UC_PROT_ALL) &&
	    !uc_mem_write(uc, 0x1000, code, sizeof(code)) &&
	    !uc_reg_write(uc, UC_X86_REG_RAX, &one) && !uc_reg_write(uc, UC_X86_REG_RCX, &zero) &&
	    !uc_emu_start(uc, 0x1000, 0x1000 + sizeof(code), 0, 0)) {
		static const int regs[4] = { UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX,
					     UC_X86_REG_RDX };
		for (int i = 0; i < 4; i++) {
			uc_reg_read(uc, regs[i], &v[i]);
			leaf1[i] = (uint32_t)v[i];
		}
	}
	uc_close(uc);
}

int tcg_cpuid_init(void)
{
	pthread_once(&leaf1_once, read_leaf1);
	return leaf1[0] ? 0 : -ENOTSUP;
}

/*
 * Leaf 1 is ours: libunicorn's family and features, with this vCPU's APIC
 * ID, the xAPIC the platform emulates (libunicorn does not set the bit),
 * RDMSR/WRMSR, TSC and PAE, which the engine runs, and no x2APIC or TSC
 * deadline (K12); the hypervisor bit as on kvm. Other leaves are
 * libunicorn's.
 */
int tcg_hook_cpuid(uc_engine *uc, void *opaque)
{
	struct tcg_vcpu *c = opaque;
	if ((uint32_t)tcg_reg(c, UC_X86_REG_RAX) != 1)
		return 0;
	uint32_t ebx = (leaf1[1] & 0x0000ffffu) | (uint32_t)c->vcpu->id << 24;
	uint32_t ecx = (leaf1[2] & ~(X86_CPUID_1_ECX_X2APIC | X86_CPUID_1_ECX_TSC_DEADLINE)) |
		       X86_CPUID_1_ECX_HYPERVISOR;
	uint32_t edx = leaf1[3] | X86_CPUID_1_EDX_TSC | X86_CPUID_1_EDX_MSR | X86_CPUID_1_EDX_PAE |
		       X86_CPUID_1_EDX_APIC;
	tcg_set_reg(c, UC_X86_REG_RAX, leaf1[0]);
	tcg_set_reg(c, UC_X86_REG_RBX, ebx);
	tcg_set_reg(c, UC_X86_REG_RCX, ecx);
	tcg_set_reg(c, UC_X86_REG_RDX, edx);
	return 1;
}
