/* SPDX-License-Identifier: MIT */
/*
 * mb32: a 32-bit-only Multiboot guest with its own entry (the kit is 64-bit).
 * It checks that the loader left it in true 32-bit protected mode (EAX magic,
 * CR0.PE=1, PG=0, EFER.LMA=0) and stops there. The command line's last word
 * adds: "page" legacy PAE paging (2 MiB pages), still not long mode; "long"
 * long mode entered from there (PAE, EFER.LME, PG, a far jump to a 64-bit
 * segment), EFER.LMA checked; "sent" SYSENTER in protected mode raises #UD
 * if CPUID.1:EDX.SEP is clear (tcg offers no SEP, tcg_cpuid.c), else #GP(0)
 * (SYSENTER_CS is 0), at the SYSENTER (DESIGN K10, K12). Prints over COM1;
 * exits through port 0xf4 (0: pass, n: check n failed).
 */
	.set MB_MAGIC, 0x1BADB002
	.set MB_FLAGS, 0x3

	.section .text, "ax"
	.code32
	.balign 4
mb_header:
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.globl _start
_start:
	cli
	movl $stack_top, %esp
	movl %ebx, mb_info
	movl $1, %ecx
	cmpl $0x2BADB002, %eax
	jne fail
	lgdtl gdt_ptr
	ljmp $0x08, $1f  /* our own flat 32-bit code segment */
1:	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl $msg_hello, %esi
	call puts

	movl $2, %ecx    /* CR0: PE set, PG clear */
	movl %cr0, %eax
	andl $0x80000001, %eax
	cmpl $1, %eax
	jne fail
	movl $3, %ecx    /* EFER.LMA and LME clear */
	call efer
	testl $0x500, %eax
	jnz fail
	/* A far return to our own code segment. */
	movl $4, %ecx
	pushl $0x08
	pushl $2f
	lretl
2:	movl $msg_pm, %esi
	call puts
	/* One directory of 2 MiB identity pages (the first GiB), for legacy PAE
	 * paging and for long mode. */
	movl $pd, %edi
	xorl %eax, %eax
	movl $512, %ecx
3:	movl %eax, %edx
	orl $0x87, %edx  /* P, RW, US, PS */
	movl %edx, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 3b

	movl $0x746e6573, %eax /* "sent": SYSENTER */
	call last_word_is
	testl %eax, %eax
	jnz sysenter_check

	movl $0x65676170, %eax /* "page": legacy PAE paging first */
	call last_word_is
	testl %eax, %eax
	jz no_paging
	/* Legacy PAE paging: PDPT[0] -> the directory. */
	movl $pd + 0x1, pdpt32 /* a PAE PDPTE has only P */
	movl %cr4, %eax
	orl $0x20, %eax  /* PAE */
	movl %eax, %cr4
	movl $pdpt32, %eax
	movl %eax, %cr3
	movl %cr0, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
	movl $5, %ecx    /* paging on, still not long mode */
	call efer
	testl $0x400, %eax
	jnz fail
	movl $0x5a5a1234, probe
	cmpl $0x5a5a1234, probe
	jne fail
	movl $msg_paging, %esi
	call puts
	jmp pass

no_paging:
	movl $0x676e6f6c, %eax /* "long" */
	call last_word_is
	testl %eax, %eax
	jz pass

	/* Enter long mode from protected mode, as the kit does. */
	movl $pdpt + 0x7, pml4
	movl $pd + 0x7, pdpt
	movl %cr4, %eax
	orl $0x20, %eax  /* PAE */
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
	ljmp $0x18, $5f
	.code64
5:	movl $0xC0000080, %ecx
	rdmsr
	movl $6, %ecx
	testl $0x400, %eax
	jz fail64
	movq $0x1122334455667788, %rax /* a 64-bit register: only in long mode */
	shrq $32, %rax
	movl $7, %ecx
	cmpl $0x11223344, %eax
	jne fail64
	movl $msg_long, %esi
	call puts
	xorl %eax, %eax
	outb %al, $0xf4
6:	hlt
	jmp 6b
fail64:
	movl %ecx, %eax
	outb %al, $0xf4
	jmp 6b
	.code32

/* SYSENTER: #UD without SEP, else #GP(0) (SYSENTER_CS 0); EIP at it. */
sysenter_check:
	movl $1, %eax
	cpuid
	movl $6, want_vector
	movl $msg_sysenter_ud, %esi
	testl $0x800, %edx /* SEP */
	jz 1f
	movl $13, want_vector
	movl $msg_sysenter_gp, %esi
1:	movl $ud_handler, %eax
	movl $idt + 6 * 8, %edi
	call set_gate
	movl $gp_handler, %eax
	movl $idt + 13 * 8, %edi
	call set_gate
	lidtl idt_ptr
13:	sysenter
	movl $8, %ecx
	cmpl $1, faults
	jne fail
	movl $9, %ecx
	movl want_vector, %eax
	cmpl %eax, got_vector
	jne fail
	movl $10, %ecx
	cmpl $13b, got_eip
	jne fail
	movl $11, %ecx
	cmpl $0, got_err
	jne fail
	call puts
	jmp pass

/* 32-bit interrupt gate at edi to eax (selector 0x08, DPL0). */
set_gate:
	movw %ax, (%edi)
	movw $0x08, 2(%edi)
	movw $0x8e00, 4(%edi)
	shrl $16, %eax
	movw %ax, 6(%edi)
	ret

/* #UD and #GP: record the vector, EIP and error code; resume past the 2-byte SYSENTER. */
ud_handler:
	pushl %eax
	movl $6, got_vector
	movl 4(%esp), %eax
	movl %eax, got_eip
	addl $2, 4(%esp)
	incl faults
	popl %eax
	iretl
gp_handler:
	pushl %eax
	movl $13, got_vector
	movl 4(%esp), %eax
	movl %eax, got_err
	movl 8(%esp), %eax
	movl %eax, got_eip
	addl $2, 8(%esp)
	incl faults
	popl %eax
	addl $4, %esp
	iretl

pass:
	xorl %eax, %eax
	outb %al, $0xf4
7:	hlt
	jmp 7b

fail:	/* ecx: the check that failed */
	pushl %ecx
	movl $msg_fail, %esi
	call puts
	popl %eax
	outb %al, $0xf4
	jmp 7b

/* eax = EFER (low half); clobbers ecx, edx. */
efer:
	pushl %ecx
	movl $0xC0000080, %ecx
	rdmsr
	popl %ecx
	ret

/* eax = 1 if the command line's last word is the 4 bytes in eax. */
last_word_is:
	movl %eax, %edx
	xorl %eax, %eax
	movl mb_info, %ebx
	testl $4, (%ebx)
	jz 9f
	movl 16(%ebx), %esi
	movl %esi, %edi
8:	cmpb $0, (%edi)
	je 10f
	incl %edi
	jmp 8b
10:	subl %esi, %edi
	cmpl $5, %edi
	jb 9f
	addl %edi, %esi
	cmpl %edx, -4(%esi)
	jne 9f
	cmpb $' ', -5(%esi)
	jne 9f
	movl $1, %eax
9:	ret

/* Print the NUL-terminated string at esi on COM1 (works in both modes). */
puts:
	movw $0x3f8, %dx
11:	lodsb
	testb %al, %al
	jz 12f
	outb %al, %dx
	jmp 11b
12:	ret

	.section .rodata, "a"
msg_hello:	.asciz "mb32: 32-bit entry\n"
msg_pm:		.asciz "mb32: protected mode, paging off, EFER.LMA 0\n"
msg_paging:	.asciz "mb32: PAE paging on, EFER.LMA 0\n"
msg_long:	.asciz "mb32: long mode entered from 32-bit, EFER.LMA 1\n"
msg_fail:	.asciz "mb32: check FAILED\n"
msg_sysenter_ud:	.asciz "mb32: SYSENTER raised #UD (CPUID SEP 0)\n"
msg_sysenter_gp:	.asciz "mb32: SYSENTER raised #GP(0) (CPUID SEP 1)\n"

	.section .data, "aw"
	.balign 8
gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF /* 0x08 code 32 */
	.quad 0x00CF92000000FFFF /* 0x10 data */
	.quad 0x00AF9A000000FFFF /* 0x18 code 64 */
gdt_end:
	.word 0
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
	.word 0
idt_ptr:
	.word 14 * 8 - 1
	.long idt

	.section .bss, "aw", @nobits
	.balign 4096
pml4:	.fill 512, 8, 0
pdpt:	.fill 512, 8, 0
pd:	.fill 512, 8, 0
pdpt32:	.fill 4, 8, 0
	.balign 16
stack:	.fill 4096, 1, 0
stack_top:
mb_info:	.long 0
probe:	.long 0
	.balign 8
idt:	.fill 14, 8, 0
want_vector:	.long 0
got_vector:	.long 0
got_eip:	.long 0
got_err:	.long 0
faults:	.long 0
