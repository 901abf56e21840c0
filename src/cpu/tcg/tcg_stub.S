/* SPDX-License-Identifier: MIT */
/*
 * K9: the boot stub a fresh 64-bit Unicorn engine runs to reach the
 * Multiboot entry state (32-bit protected mode, paging off, flat CS 0x10
 * and data 0x18) the way a CPU leaves long mode: paging on with PAE on
 * identity tables, far return into a 32-bit segment, paging off (this
 * clears EFER.LMA), EFER.LME and CR4.PAE off, flat data segments. It is
 * copied to TCG_STUB_BASE in a region of its engine only and run until
 * tcg_stub_done; all addresses are RIP-relative or absolute below.
 * An AP's SIPI runs on past tcg_stub_done, as K9 says: a far jump into a
 * 16-bit segment (base TCG_STUB_BASE, so its offsets reach the stub),
 * CR0.PE off, data segments 0, and a far jump to vector<<8:0000, whose
 * selector tcg_engine_boot_stub patches at tcg_stub_real_cs; it runs until
 * that address.
 * The Linux 64-bit entry (L1) starts at tcg_stub_long instead and stays in
 * long mode: a GDT whose 0x10 is a 64-bit code segment (__BOOT_CS) and 0x18
 * flat data (__BOOT_DS), paging on with PAE on the stub's tables, a far
 * return into 0x10, data segments 0x18; it runs until tcg_stub_long_done.
 * The caller then points CR3 and GDTR at the guest's tables.
 */
#define STUB_BASE 0xFFFF0000

	.section .rodata.tcg_stub, "a"
	.globl tcg_stub_start, tcg_stub_done, tcg_stub_real_cs, tcg_stub_end
	.globl tcg_stub_long, tcg_stub_long_done
	.code64
tcg_stub_start:
	leaq	tcg_stub_start + 0xff0(%rip), %rsp	/* a stack for lretq */
	lgdt	gdtr(%rip)
	movl	$(STUB_BASE + 0x1000), %eax
	movq	%rax, %cr3
	movq	%cr4, %rax
	orl	$0x20, %eax		/* PAE */
	movq	%rax, %cr4
	movq	%cr0, %rax
	orl	$0x80000001, %eax	/* PG | PE: long mode with paging */
	movq	%rax, %cr0
	leaq	compat(%rip), %rax
	pushq	$0x10
	pushq	%rax
	lretq
	.code32
compat:
	movl	%cr0, %eax
	andl	$0x7fffffff, %eax	/* PG off: leaves long mode */
	movl	%eax, %cr0
	movl	$0xc0000080, %ecx	/* EFER.LME off */
	rdmsr
	andl	$0xfffffeff, %eax
	wrmsr
	movl	%cr4, %eax
	andl	$0xffffffdf, %eax	/* PAE off */
	movl	%eax, %cr4
	xorl	%eax, %eax
	movl	%eax, %cr3
	movl	$0x18, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %fs
	movl	%eax, %gs
	movl	%eax, %ss
tcg_stub_done:
	ljmp	$0x20, $(real16 - tcg_stub_start)
	.code16
real16:
	movl	%cr0, %eax
	andl	$0xfffffffe, %eax	/* PE off: real mode */
	movl	%eax, %cr0
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	.byte	0xea			/* ljmp ptr16:16 */
	.word	0
tcg_stub_real_cs:
	.word	0
	hlt

	.code64
tcg_stub_long:
	leaq	tcg_stub_start + 0xff0(%rip), %rsp
	lgdt	gdtr64(%rip)
	movl	$(STUB_BASE + 0x1000), %eax
	movq	%rax, %cr3
	movq	%cr4, %rax
	orl	$0x20, %eax		/* PAE */
	movq	%rax, %cr4
	movq	%cr0, %rax
	orl	$0x80000001, %eax	/* PG | PE */
	movq	%rax, %cr0
	leaq	long64(%rip), %rax
	pushq	$0x10
	pushq	%rax
	lretq
long64:
	movl	$0x18, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %fs
	movl	%eax, %gs
	movl	%eax, %ss
tcg_stub_long_done:
	hlt

	.balign 16
gdt:
	.quad	0
	.quad	0
	.quad	0x00CF9A000000FFFF	/* 0x10: code, 32-bit, flat */
	.quad	0x00CF92000000FFFF	/* 0x18: data, flat */
	.quad	0xFF009AFF0000FFFF	/* 0x20: code, 16-bit, base STUB_BASE, 64 KiB */
gdtr:
	.word	39
	.quad	STUB_BASE + (gdt - tcg_stub_start)
	.balign 16
gdt64:
	.quad	0
	.quad	0
	.quad	0x00AF9B000000FFFF	/* 0x10: code, 64-bit */
	.quad	0x00CF93000000FFFF	/* 0x18: data, flat */
gdtr64:
	.word	31
	.quad	STUB_BASE + (gdt64 - tcg_stub_start)

	.org	0x1000			/* PML4 -> PDPT */
	.quad	STUB_BASE + 0x2000 + 3
	.org	0x2000			/* PDPT[3] -> PD */
	.quad	0, 0, 0
	.quad	STUB_BASE + 0x3000 + 3
	.org	0x3000 + 511 * 8	/* PD[511]: 2 MiB at 0xFFE00000 */
	.quad	0xFFE00000 + 0x83
tcg_stub_end:
	.section .note.GNU-stack, "", @progbits
