/* SPDX-License-Identifier: MIT */
/*
 * Internal constants of the guest kit, shared by its .S and .c files:
 * GDT selectors, per-CPU stack sizes, fixed addresses. Not for guests;
 * guests include guest.h.
 */
#ifndef GUEST_KIT_H
#define GUEST_KIT_H

#define KIT_MAX_CPUS 16

/* GDT layout (selectors). 0x30/0x38 stay zero: spare slots for a VMM. */
#define SEL_KCODE64 0x08
#define SEL_KDATA 0x10
#define SEL_CODE32 0x18
#define SEL_UDATA 0x20 /* DPL3; used with RPL3: 0x23 */
#define SEL_UCODE64 0x28 /* DPL3; used with RPL3: 0x2b */
#define SEL_TSS0 0x40 /* CPU i's TSS: SEL_TSS0 + 16 * i */
#define GDT_ENTRIES (8 + 2 * KIT_MAX_CPUS)

/* Per-CPU stacks (bss), bytes. */
#define KSTACK_SIZE 8192
#define ISTACK_SIZE 4096
#define USTACK_SIZE 16384

/* AP real-mode trampoline: copied here, started with SIPI vector 0x08 (by default). */
#define TRAMP_BASE 0x8000

#define USER_RETURN_VECTOR 3 /* int3 (#BP): its gate is DPL3 */
#define KIT_IDT_STUBS 256 /* every vector has a stub and may get a handler */
#define KIT_STUB_SIZE 16 /* bytes per stub, see isr.S */

#ifndef __ASSEMBLER__
#include <stdint.h>

struct kit_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

extern uint64_t kit_gdt[GDT_ENTRIES];
extern uint32_t kit_mb_magic, kit_mb_info;
extern uint8_t kit_kstack[KIT_MAX_CPUS][KSTACK_SIZE];
extern char kit_isr_stubs[], kit_user_return[];
extern char kit_tramp_start[], kit_tramp_end[], kit_tramp_pm[];
extern uint16_t kit_tramp_cs[]; /* the trampoline's real-mode CS (in its copy) */
extern uint32_t kit_tramp_pm_ptr[]; /* its far jump's target (in its copy: patched) */
extern volatile uint64_t kit_ap_stack; /* rsp for the AP being started */

void kit_serial_init(void);
void kit_cpu_init(unsigned index); /* TSS, TR, IDT for this CPU */
void kit_idt_build(void);          /* once, on the BSP */
long kit_run_user(long (*fn)(void *), void *arg, void *rsp0_slot, uint64_t ustack,
		  uint64_t rflags);
void kit_start(void);        /* C entry of the BSP (entry.S) */
void kit_ap_start(void);     /* C entry of an AP (trampoline.S) */
struct guest_frame;
void kit_trap(struct guest_frame *f); /* from isr.S */
#endif

#endif
