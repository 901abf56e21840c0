/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: CPUID (K12), hooked as an instruction: it reports only what
 * this backend really provides, and says which CR4 and EFER bits a guest
 * may set (tcg_msr.c raises #GP for the others, as a CPU without the
 * feature does). The APIC base MSR is tcg_msr.c's.
 *
 * libunicorn 2.1.1's CPU is QEMU's "qemu64" (AuthenticAMD, family 6 model 6;
 * its leaves filtered to what TCG implements). What the guest sees, for the
 * bits guests test (measured on a bare 2.1.1 engine; "engine" says what its
 * own CPUID says and what its code does):
 *
 *   leaf.reg bit          engine                      tcg reports  proof: guest mode
 *   1.EDX  9 APIC         set, but no APIC in it      set: ours    cpuinfo cpuid, msr (K5)
 *   1.EDX 11 SEP          set; SYSENTER only reaches  clear        mb32 sent (#UD)
 *                         a hook (a NOP without one)  (#UD here)
 *   1.EDX 12 MTRR, 16 PAT set; MSRs kept              set          cpuinfo pat_mtrr
 *   1.EDX  4 TSC          set; RDTSC = host TSC       set          cpuinfo tsc
 *   1.ECX 21 x2APIC       clear                       clear        cpuinfo x2apic (its MSRs and
 *                                                                  APIC base EXTD #GP)
 *   1.ECX 24 TSC-deadline clear                       clear        cpuinfo tsc_deadline (MSR
 *                                                                  0x6e0 #GP)
 *   1.ECX 26 XSAVE        clear; XSAVE/XGETBV #UD,    clear        cpuinfo xsave (CR4.OSXSAVE
 *                         CR4.OSXSAVE kept (no #GP)                #GP, XGETBV #UD)
 *   1.ECX 27 OSXSAVE      CR4.OSXSAVE                 clear        (follows XSAVE)
 *   7.EBX  7 SMEP         clear; CR4.SMEP kept and    clear        cpuinfo smep (CR4.SMEP #GP)
 *                         honoured
 *   7.EBX 20 SMAP         clear; CR4.SMAP dropped     clear        cpuinfo smap (CR4.SMAP #GP)
 *   7.ECX  2 UMIP         clear; not implemented      clear        cpuinfo umip (CR4.UMIP #GP,
 *                                                                  SGDT at CPL3 works)
 *   8000_0001.EDX 11 SYSCALL  set; only a hook        set: ours    syscall loop, cpl0, ud3, ud0
 *                         (a NOP without one)                      (tcg_syscall.c)
 *   8000_0001.EDX 27 RDTSCP   clear; RDTSCP #UD       clear        cpuinfo rdtscp (#UD)
 *   8000_0001.ECX  2 SVM  set; never tried here       clear        -
 *   8000_0007.EDX  8 invariant TSC  clear; RDTSC =    the host's   linux_busybox_* (cpuinfo
 *                         host TSC                                 flags constant_tsc,
 *                                                                  nonstop_tsc; Linux no
 *                                                                  longer marks the TSC of
 *                                                                  an AuthenticAMD SMP guest
 *                                                                  "unsynchronized")
 *   8000_000A (SVM leaf)  SVM revision, ASIDs         zeros        -
 *
 * Other leaves and bits are libunicorn's own (SSE/SSE2/SSE3, CX16, NX, LM,
 * LAHF, PSE, PGE, PAE, ...: TCG runs them); leaf 1 gets this vCPU's APIC ID
 * and the hypervisor bit as on kvm.
 */
#include <cpuid.h>
#include <errno.h>
#include <pthread.h>

#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"

#define CPUID_1_EDX_SEP (1u << 11)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_1_ECX_PCID (1u << 17)
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_SMX (1u << 6)
#define CPUID_1_EDX_VME (1u << 1)
#define CPUID_1_EDX_DE (1u << 2)
#define CPUID_1_EDX_MCE (1u << 7)
#define CPUID_1_EDX_PGE (1u << 13)
#define CPUID_1_EDX_FXSR (1u << 24)
#define CPUID_1_EDX_SSE (1u << 25)
#define CPUID_E1_ECX_SVM (1u << 2)
#define CPUID_E1_EDX_SYSCALL (1u << 11)
#define CPUID_E1_EDX_NX (1u << 20)
#define CPUID_E1_EDX_LM (1u << 29)

#define CPUID_E7_EDX_INVARIANT_TSC (1u << 8)

/* libunicorn's own leaves 1, 7 and 0x80000001, read once per process. */
static uint32_t leaf1[4], leaf7[4], ext1[4];
/* The host's invariant-TSC bit: RDTSC on tcg is the host's TSC. */
static uint32_t host_e7_edx;
static pthread_once_t leaves_once = PTHREAD_ONCE_INIT;

static void read_leaf(uc_engine *uc, uint32_t leaf, uint32_t out[4])
{
	static const int regs[4] = { UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX,
				     UC_X86_REG_RDX };
	uint64_t a = leaf, zero = 0, v = 0;
	if (uc_reg_write(uc, UC_X86_REG_RAX, &a) || uc_reg_write(uc, UC_X86_REG_RCX, &zero) ||
	    uc_emu_start(uc, 0x1000, 0x1002, 0, 0))
		return;
	for (int i = 0; i < 4; i++) {
		uc_reg_read(uc, regs[i], &v);
		out[i] = (uint32_t)v;
	}
}

static void read_leaves(void)
{
	static const uint8_t code[] = { 0x0f, 0xa2 }; /* cpuid */
	uc_engine *uc;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
		return;
	if (!uc_mem_map(uc, 0x1000, 0x1000, UC_PROT_ALL) &&
	    !uc_mem_write(uc, 0x1000, code, sizeof(code))) {
		read_leaf(uc, 7, leaf7);
		read_leaf(uc, 0x80000001, ext1);
		read_leaf(uc, 1, leaf1); /* last: leaf1[0] says all went well */
	}
	uc_close(uc);
}

int tcg_cpuid_init(void)
{
	pthread_once(&leaves_once, read_leaves);
	unsigned a, b, cx, d;
	if (__get_cpuid(0x80000007, &a, &b, &cx, &d))
		host_e7_edx = d & CPUID_E7_EDX_INVARIANT_TSC;
	return leaf1[0] ? 0 : -ENOTSUP;
}

/* Leaf 1 ECX/EDX, leaf 7 EBX/ECX and leaf 0x80000001 ECX/EDX as reported. */
static uint32_t l1_ecx(void)
{
	return (leaf1[2] & ~(X86_CPUID_1_ECX_X2APIC | X86_CPUID_1_ECX_TSC_DEADLINE |
			     CPUID_1_ECX_XSAVE | CPUID_1_ECX_OSXSAVE)) |
	       X86_CPUID_1_ECX_HYPERVISOR;
}

static uint32_t l1_edx(void)
{
	return (leaf1[3] & ~CPUID_1_EDX_SEP) | X86_CPUID_1_EDX_TSC | X86_CPUID_1_EDX_MSR |
	       X86_CPUID_1_EDX_PAE | X86_CPUID_1_EDX_APIC;
}

static uint32_t e1_ecx(void)
{
	return ext1[2] & ~CPUID_E1_ECX_SVM;
}

static uint32_t e1_edx(void)
{
	return ext1[3];
}

uint64_t tcg_cpuid_cr4_allowed(void)
{
	uint32_t ecx = l1_ecx(), edx = l1_edx();
	/* TSD, PCE: always; the rest as their CPUID bits say (SDM 2.5, "CR4"). */
	uint64_t ok = (1u << 2) | (1u << 8);
	if (edx & CPUID_1_EDX_VME)
		ok |= (1u << 0) | (1u << 1); /* VME, PVI */
	if (edx & CPUID_1_EDX_DE)
		ok |= 1u << 3;
	if (edx & (1u << 3))
		ok |= 1u << 4; /* PSE */
	if (edx & X86_CPUID_1_EDX_PAE)
		ok |= 1u << 5;
	if (edx & CPUID_1_EDX_MCE)
		ok |= 1u << 6;
	if (edx & CPUID_1_EDX_PGE)
		ok |= 1u << 7;
	if (edx & CPUID_1_EDX_FXSR)
		ok |= 1u << 9; /* OSFXSR */
	if (edx & CPUID_1_EDX_SSE)
		ok |= 1u << 10; /* OSXMMEXCPT */
	if (ecx & CPUID_1_ECX_VMX)
		ok |= 1u << 13;
	if (ecx & CPUID_1_ECX_SMX)
		ok |= 1u << 14;
	if (ecx & CPUID_1_ECX_PCID)
		ok |= 1u << 17;
	if (ecx & CPUID_1_ECX_XSAVE)
		ok |= 1u << 18;
	/* leaf 7, as libunicorn reports it (qemu64: all clear) */
	if (leaf7[2] & (1u << 2))
		ok |= 1u << 11; /* UMIP */
	if (leaf7[2] & (1u << 16))
		ok |= 1u << 12; /* LA57 */
	if (leaf7[1] & (1u << 0))
		ok |= 1u << 16; /* FSGSBASE */
	if (leaf7[1] & (1u << 7))
		ok |= 1u << 20; /* SMEP */
	if (leaf7[1] & (1u << 20))
		ok |= 1u << 21; /* SMAP */
	if (leaf7[2] & (1u << 3))
		ok |= 1u << 22; /* PKE */
	return ok;
}

uint64_t tcg_cpuid_efer_allowed(void)
{
	uint32_t edx = e1_edx();
	uint64_t ok = 0;
	if (edx & CPUID_E1_EDX_SYSCALL)
		ok |= 1u << 0; /* SCE */
	if (edx & CPUID_E1_EDX_LM)
		ok |= (1u << 8) | X86_EFER_LMA; /* LME; LMA is read-only, written back as read */
	if (edx & CPUID_E1_EDX_NX)
		ok |= 1u << 11; /* NXE */
	return ok;
}

static void set4(struct tcg_vcpu *c, uint32_t a, uint32_t b, uint32_t cx, uint32_t d)
{
	tcg_set_reg(c, UC_X86_REG_RAX, a);
	tcg_set_reg(c, UC_X86_REG_RBX, b);
	tcg_set_reg(c, UC_X86_REG_RCX, cx);
	tcg_set_reg(c, UC_X86_REG_RDX, d);
}

/* Leaves 1, 0x80000001, 0x80000007 and 0x8000000A are ours (the table above); others libunicorn's. */
int tcg_hook_cpuid(uc_engine *uc, void *opaque)
{
	struct tcg_vcpu *c = opaque;
	(void)uc;
	switch ((uint32_t)tcg_reg(c, UC_X86_REG_RAX)) {
	case 1:
		set4(c, leaf1[0], (leaf1[1] & 0x0000ffffu) | (uint32_t)c->vcpu->id << 24, l1_ecx(),
		     l1_edx());
		return 1;
	case 0x80000001:
		set4(c, ext1[0], ext1[1], e1_ecx(), e1_edx());
		return 1;
	case 0x80000007:
		set4(c, 0, 0, 0, host_e7_edx);
		return 1;
	case 0x8000000a:
		set4(c, 0, 0, 0, 0);
		return 1;
	default:
		return 0;
	}
}
