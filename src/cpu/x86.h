/* SPDX-License-Identifier: MIT */
/*
 * x86 architectural constants the CPU backends share (Intel SDM vol. 3):
 * control-register and EFER bits, MSR numbers, RFLAGS bits, exception
 * vectors, CPUID feature bits. Values only.
 */
#ifndef IOREQVM_CPU_X86_H
#define IOREQVM_CPU_X86_H

#define X86_CR0_PE (1ULL << 0)
#define X86_CR0_ET (1ULL << 4)
#define X86_CR0_PG (1ULL << 31)

#define X86_CR4_PSE (1ULL << 4)
#define X86_CR4_PAE (1ULL << 5)

#define X86_EFER_LME (1ULL << 8)
#define X86_EFER_LMA (1ULL << 10)

#define X86_MSR_APIC_BASE 0x1b
#define X86_MSR_ARCH_CAPABILITIES 0x10a
#define X86_MSR_EFER 0xC0000080

#define X86_APIC_BASE_BSP (1ULL << 8)
#define X86_APIC_BASE_ENABLE (1ULL << 11)
#define X86_APIC_BASE_DEFAULT 0xFEE00000ULL

#define X86_RFLAGS_TF (1ULL << 8)
#define X86_RFLAGS_IF (1ULL << 9)
#define X86_RFLAGS_NT (1ULL << 14)
#define X86_RFLAGS_RF (1ULL << 16)

#define X86_EXC_UD 6
#define X86_EXC_DF 8
#define X86_EXC_GP 13

#define X86_CPUID_1_ECX_X2APIC (1u << 21)
#define X86_CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define X86_CPUID_1_ECX_HYPERVISOR (1u << 31)
#define X86_CPUID_1_EDX_TSC (1u << 4)
#define X86_CPUID_1_EDX_MSR (1u << 5)
#define X86_CPUID_1_EDX_PAE (1u << 6)
#define X86_CPUID_1_EDX_APIC (1u << 9)
#define X86_CPUID_7_EDX_ARCH_CAPABILITIES (1u << 29)

#endif
