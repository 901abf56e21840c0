/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU state (TSS, IST and user stacks), the IDT, exception dispatch
 * with guest-installed handlers, and the C side of guest_run_user(). The
 * IDT is filled once by a short loop; each CPU then loads it and its TSS.
 */
#include "guest.h"
#include "kit.h"

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type; /* type: 0x8E interrupt gate DPL0, 0xEE DPL3 */
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

#define IDT_ENTRIES KIT_IDT_STUBS

static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
static struct kit_tss tss[KIT_MAX_CPUS] __attribute__((aligned(16)));
static guest_handler_t handlers[KIT_IDT_STUBS];
uint8_t kit_kstack[KIT_MAX_CPUS][KSTACK_SIZE] __attribute__((aligned(16)));
static uint8_t istack[KIT_MAX_CPUS][ISTACK_SIZE] __attribute__((aligned(16)));
static uint8_t ustack[KIT_MAX_CPUS][USTACK_SIZE] __attribute__((aligned(16)));

static void set_gate(unsigned v, uintptr_t fn, uint8_t ist, uint8_t type)
{
	idt[v].off_lo = (uint16_t)fn;
	idt[v].sel = SEL_KCODE64;
	idt[v].ist = ist;
	idt[v].type = type;
	idt[v].off_mid = (uint16_t)(fn >> 16);
	idt[v].off_hi = (uint32_t)(fn >> 32);
}

void kit_idt_build(void)
{
	for (unsigned v = 0; v < KIT_IDT_STUBS; v++)
		set_gate(v, (uintptr_t)kit_isr_stubs + v * KIT_STUB_SIZE,
			 (v == 2 || v == 8 || v == 18) ? 1 : 0, 0x8E);
	/* #BP: DPL3 so that int3 works at CPL3; it returns from guest_run_user */
	set_gate(USER_RETURN_VECTOR, (uintptr_t)kit_user_return, 0, 0xEE);
}

void kit_cpu_init(unsigned i)
{
	struct kit_tss *t = &tss[i];
	uint64_t base = (uintptr_t)t, limit = sizeof(*t) - 1;
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
		sizeof(idt) - 1, (uintptr_t)idt };
	uint16_t sel = (uint16_t)(SEL_TSS0 + 16 * i);

	t->rsp[0] = (uintptr_t)kit_kstack[i] + KSTACK_SIZE;
	t->ist[0] = (uintptr_t)istack[i] + ISTACK_SIZE;
	t->iomap_base = sizeof(*t); /* no I/O bitmap: CPL3 port I/O faults */
	kit_gdt[sel / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ULL << 40 |
			   ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	kit_gdt[sel / 8 + 1] = base >> 32;
	__asm__ volatile("ltr %0" ::"r"(sel));
	__asm__ volatile("lidt %0" ::"m"(idtr));
}

unsigned guest_cpu_index(void)
{
	uint16_t tr;

	__asm__ volatile("str %0" : "=r"(tr));
	return (unsigned)(tr - SEL_TSS0) / 16;
}

int guest_set_handler(unsigned vector, guest_handler_t fn)
{
	if (vector >= KIT_IDT_STUBS)
		return -1;
	__atomic_store_n(&handlers[vector], fn, __ATOMIC_SEQ_CST);
	return 0;
}

void kit_trap(struct guest_frame *f)
{
	guest_handler_t h = f->vector < KIT_IDT_STUBS ? handlers[f->vector] : 0;

	if (h) {
		h(f);
		return;
	}
	guest_printf("guest: exception %lu err %#lx rip %#lx cs %#lx cr2 %#lx rsp %#lx cpu %u\n",
		     f->vector, f->error_code, f->rip, f->cs, guest_read_cr2(), f->rsp,
		     guest_cpu_index());
	guest_exit(GUEST_EXIT_EXCEPTION);
}

static long run_user(long (*fn)(void *), void *arg, uint64_t rflags)
{
	unsigned i = guest_cpu_index();

	return kit_run_user(fn, arg, (char *)&tss[i] + __builtin_offsetof(struct kit_tss, rsp),
			    (uintptr_t)ustack[i] + USTACK_SIZE, rflags);
}

long guest_run_user(long (*fn)(void *), void *arg)
{
	return run_user(fn, arg, 0x2);
}

long guest_run_user_irq(long (*fn)(void *), void *arg)
{
	return run_user(fn, arg, 0x202);
}
