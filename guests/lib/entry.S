/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 header and 32-bit entry: saves EAX/EBX, loads the kit's GDT,
 * enables PAE + long mode on static, pre-built page tables (identity map of
 * 4 GiB, 2 MiB pages; no table-filling loops: CPL0 may be emulated) and
 * jumps to 64-bit code, which sets the BSP stack and calls kit_start().
 */
#include "kit.h"

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* bit 0 page-align modules, bit 1 memory info */

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	movl %eax, kit_mb_magic
	movl %ebx, kit_mb_info
	lgdtl kit_gdt_ptr
	movl %cr4, %eax
	orl $0x20, %eax /* PAE */
	movl %eax, %cr4
	movl $kit_pml4, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx /* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax /* PG, WP, PE */
	movl %eax, %cr0
	ljmp $SEL_KCODE64, $1f
	.code64
1:	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq $(kit_kstack + KSTACK_SIZE), %rsp
	call kit_start
2:	cli
	hlt
	jmp 2b

/* Page tables: PML4 -> one PDPT -> four PDs of 512 2 MiB pages.
 * P|RW|US = 0x7; PS = 0x80; the 4th GiB also PWT|PCD = 0x18. */
	.section .data.pagetables, "aw"
	.balign 4096
	.globl kit_pml4
kit_pml4:
	.quad kit_pdpt + 0x7
	.fill 511, 8, 0
kit_pdpt:
	.quad kit_pd + 0x0000 + 0x7
	.quad kit_pd + 0x1000 + 0x7
	.quad kit_pd + 0x2000 + 0x7
	.quad kit_pd + 0x3000 + 0x7
	.fill 508, 8, 0
kit_pd:
	.set pg, 0
	.rept 1536
	.quad (pg << 21) | 0x87
	.set pg, pg + 1
	.endr
	.rept 512
	.quad (pg << 21) | 0x9f
	.set pg, pg + 1
	.endr

/* GDT: static descriptors; TSS slots are filled by kit_cpu_init(). */
	.section .data, "aw"
	.balign 16
	.globl kit_gdt
kit_gdt:
	.quad 0                  /* 0x00 null */
	.quad 0x00AF9A000000FFFF /* 0x08 kernel code, 64-bit */
	.quad 0x00CF92000000FFFF /* 0x10 kernel data */
	.quad 0x00CF9A000000FFFF /* 0x18 code, 32-bit (entry, trampoline) */
	.quad 0x00CFF2000000FFFF /* 0x20 user data, DPL3 */
	.quad 0x00AFFA000000FFFF /* 0x28 user code, 64-bit, DPL3 */
	.quad 0, 0               /* 0x30, 0x38 spare */
	.fill 2 * KIT_MAX_CPUS, 8, 0 /* 0x40.. TSS descriptors */
kit_gdt_end:
	.balign 8
	.word 0, 0, 0
	.globl kit_gdt_ptr
kit_gdt_ptr:
	.word kit_gdt_end - kit_gdt - 1
	.quad kit_gdt

	.bss
	.balign 4
	.globl kit_mb_magic, kit_mb_info
kit_mb_magic: .long 0
kit_mb_info: .long 0
