/* SPDX-License-Identifier: MIT */
/*
 * linux64: the setup header of a bzImage (Linux's boot protocol 2.15, as
 * arch/x86/boot/header.S lays it out: not relocatable, pref_address 16 MiB,
 * 64-bit entry only) and the 64-bit entry at load address + 0x200, which
 * records the state the loader left (segments, control registers, EFER,
 * RFLAGS, RSP, RSI, GDTR) before it touches anything, then calls
 * linux64_main(boot_params) on its own stack and exits with its value.
 */
	.section .setup, "a"
	.org	0x1f1
	.byte	1			/* setup_sects: setup is 2 sectors */
	.word	0			/* root_flags */
	.long	linux64_syssize		/* syssize, 16-byte units */
	.word	0			/* ram_size */
	.word	0xffff			/* vid_mode: normal */
	.word	0			/* root_dev */
	.word	0xaa55			/* boot_flag */
	.byte	0xeb, hdr_end - 1f	/* jump over the header */
1:	.ascii	"HdrS"
	.word	0x020f			/* version 2.15 */
	.long	0			/* realmode_swtch */
	.word	0			/* start_sys_seg */
	.word	0			/* kernel_version */
	.byte	0			/* type_of_loader */
	.byte	0x01			/* loadflags: LOADED_HIGH */
	.word	0			/* setup_move_size */
	.long	0x1000000		/* code32_start */
	.long	0, 0			/* ramdisk_image, ramdisk_size */
	.long	0			/* bootsect_kludge */
	.word	0			/* heap_end_ptr */
	.byte	0, 0			/* ext_loader_ver, ext_loader_type */
	.long	0			/* cmd_line_ptr */
	.long	0x7fffffff		/* initrd_addr_max */
	.long	0x200000		/* kernel_alignment */
	.byte	0			/* relocatable_kernel: no */
	.byte	21			/* min_alignment */
	.word	0x0001			/* xloadflags: XLF_KERNEL_64 */
	.long	255			/* cmdline_size */
	.long	0			/* hardware_subarch */
	.quad	0			/* hardware_subarch_data */
	.long	0, 0			/* payload_offset, payload_length */
	.quad	0			/* setup_data */
	.quad	0x1000000		/* pref_address */
	.long	linux64_init_size	/* init_size */
	.long	0			/* handover_offset */
	.long	0			/* kernel_info_offset */
hdr_end:
	.org	0x400

	.section .text.head, "ax"
	.code64
startup_32:			/* the 32-bit entry: never used here */
	ud2
	.org	0x200
	.globl	startup_64
startup_64:
	movq	%rsi, entry_rsi
	movq	%rsp, entry_rsp
	pushfq
	popq	entry_rflags
	movw	%cs, entry_seg + 0
	movw	%ds, entry_seg + 2
	movw	%es, entry_seg + 4
	movw	%ss, entry_seg + 6
	movq	%cr0, %rax
	movq	%rax, entry_cr0
	movq	%cr3, %rax
	movq	%rax, entry_cr3
	movq	%cr4, %rax
	movq	%rax, entry_cr4
	sgdt	entry_gdtr
	movl	$0xc0000080, %ecx
	rdmsr
	movl	%eax, entry_efer
	movl	%edx, entry_efer + 4
	movq	$linux64_stack_top, %rsp
	movq	entry_rsi, %rdi
	call	linux64_main
	movl	%eax, %edi
	call	guest_exit
1:	hlt
	jmp	1b

	.section .bss
	.balign	16
	.globl	entry_rsi, entry_rsp, entry_rflags, entry_seg, entry_cr0, entry_cr3
	.globl	entry_cr4, entry_gdtr, entry_efer
entry_rsi:	.quad 0
entry_rsp:	.quad 0
entry_rflags:	.quad 0
entry_seg:	.quad 0
entry_cr0:	.quad 0
entry_cr3:	.quad 0
entry_cr4:	.quad 0
entry_efer:	.quad 0
entry_gdtr:	.quad 0, 0
	.balign	16
	.space	16384
linux64_stack_top:
	.section .note.GNU-stack, "", @progbits
