/* SPDX-License-Identifier: MIT */
/*
 * AP start-up: a real-mode trampoline that guest_smp_start() copies to the
 * page of the SIPI vector (TRAMP_BASE, 0x8000, vector 0x08, unless
 * guest_smp_set_sipi_vector() chose another; vector 0 puts it at linear 0).
 * It goes real -> protected -> long mode on the kit's GDT and page tables,
 * then takes the stack the BSP left in kit_ap_stack and calls
 * kit_ap_start(). It stores the CS it started with (real mode: the SIPI
 * vector << 8) in its copy of kit_tramp_cs. Its real-mode code addresses
 * itself through CS = DS, so only the far jump to protected mode names a
 * linear address: kit_tramp_pm_ptr, which the copy gets patched to
 * copy + (kit_tramp_pm - kit_tramp_start).
 */
#include "kit.h"

	.section .text, "ax"
	.code16
	.globl kit_tramp_start, kit_tramp_end, kit_tramp_cs, kit_tramp_pm, kit_tramp_pm_ptr
kit_tramp_start:
	cli
	movw %cs, %ax
	movw %ax, %ds
	movw %ax, kit_tramp_cs - kit_tramp_start /* real-mode CS, for guest_ap_starts() */
	lgdtl tramp_gdt_ptr - kit_tramp_start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	.byte 0x66, 0xea	/* ljmpl $SEL_CODE32, $(copy of kit_tramp_pm) */
kit_tramp_pm_ptr:
	.long 0
	.word SEL_CODE32
	.code32
kit_tramp_pm:
	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $kit_pml4, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010000, %eax
	movl %eax, %cr0
	ljmp $SEL_KCODE64, $ap_long
	.balign 4
tramp_gdt_ptr:
	.word GDT_ENTRIES * 8 - 1
	.long kit_gdt
kit_tramp_cs:
	.word 0
kit_tramp_end:

	.code64
ap_long:
	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq kit_ap_stack, %rsp
	call kit_ap_start
1:	cli
	hlt
	jmp 1b
