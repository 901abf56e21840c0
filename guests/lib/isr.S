/* SPDX-License-Identifier: MIT */
/*
 * Interrupt entry: one 16-byte stub per vector 0..255 (pushes a 0 error code
 * where the CPU pushes none, then the vector) and a common path that saves
 * the GPRs as a struct guest_frame and calls kit_trap(). Also the CPL3 path
 * of guest_run_user(): kit_run_user() enters CPL3 with IRETQ; an `int3` at
 * a known address returns from it (on kvm_pvm `int n` at CPL3 raises #UD).
 */
#include "kit.h"

	.section .text, "ax"
	.code64
	.balign 16
	.globl kit_isr_stubs
kit_isr_stubs:
	.set vec, 0
	.rept KIT_IDT_STUBS
	.balign KIT_STUB_SIZE
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	movq %rsp, %rbx
	andq $-16, %rsp
	call kit_trap
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

/* long kit_run_user(fn, arg, uint64_t *rsp0, uint64_t ustack_top, uint64_t rflags) */
	.globl kit_run_user
kit_run_user:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq (%rdx)        /* old TSS.RSP0 */
	pushq %rdx
	subq $8, %rsp       /* RSP is now 16-byte aligned */
	movq %rsp, (%rdx)   /* int3 from CPL3 lands right below */
	pushq $(SEL_UDATA | 3)
	pushq %rcx
	pushq %r8           /* RFLAGS: 0x2, or 0x202 (IF=1); IOPL=0 */
	pushq $(SEL_UCODE64 | 3)
	leaq user_entry(%rip), %rax
	pushq %rax
	movq %rdi, %rax
	movq %rsi, %rdi
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	xorl %r15d, %r15d
	iretq

user_entry:             /* CPL3: rax = fn, rdi = arg */
	call *%rax
	int3
user_return_point:
	ud2

/* Vector 3 (#BP, DPL3 interrupt gate): the int3 above, from CPL3, returns
 * to kit_run_user()'s caller with rax = fn's result; any other #BP takes
 * the normal vector 3 path. */
	.globl kit_user_return
kit_user_return:
	cmpq $user_return_point, (%rsp) /* frame RIP */
	jne 1f
	testb $3, 8(%rsp)   /* frame CS: from CPL3 */
	jz 1f
	addq $40, %rsp      /* drop RIP, CS, RFLAGS, RSP, SS */
	movl $SEL_KDATA, %ecx
	movl %ecx, %ds
	movl %ecx, %es
	movl %ecx, %ss
	addq $8, %rsp
	popq %rdx
	popq (%rdx)         /* restore TSS.RSP0 */
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
1:	jmp kit_isr_stubs + 3 * KIT_STUB_SIZE
