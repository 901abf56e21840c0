/* SPDX-License-Identifier: MIT */
/*
 * paging: guest code, data, stacks and devices reached through virtual
 * addresses that are not the physical ones (on tcg since libunicorn 2.1
 * walks the guest's page tables; kvm always did). The mode (second
 * command-line word) picks:
 * - kernel: a higher-half kernel. 0xffffffff80000000 + x maps physical x
 *   (the first GiB); the IDT and GDT are loaded at their higher-half
 *   addresses, the stack moves there, and the test body runs there: its
 *   data through the alias, a divide error and page faults (not present, read-only,
 *   user access to a supervisor page from CPL3) delivered with the right
 *   frame, CR2 and error code, LAPIC timer interrupts taken there.
 * - alias: one physical page at two virtual addresses, and a store that
 *   crosses from it into a page mapped elsewhere.
 * - invlpg: a PTE changed, then INVLPG or a CR3 reload: the new mapping
 *   is used; a PTE made not present faults.
 * - mmio: the local APIC, the I/O APIC and an unbacked hole through
 *   virtual addresses of their own: each access reaches the right
 *   guest-physical register (compared with the identity-mapped address).
 * - claim: a page mapped only at a virtual address of its own (its
 *   identity 2 MiB page removed, as a Linux process's frame is mapped)
 *   is announced to wp-monitor (port 0x5f0, policy deny) and released,
 *   twice: a store through that address is dropped while claimed and
 *   lands after; CR2 is what the guest put there, and a #PF after the
 *   mapping changes is delivered as a #PF (tcg: libunicorn's unmap walked
 *   the page's physical address through the guest's tables, DESIGN L5).
 */
#include "guest.h"

#define HH 0xffffffff80000000ULL
#define LOW_VA 0x8000000000ULL /* PML4 slot 1: 4 KiB pages of the tests */
#define LAPIC 0xFEE00000ULL
#define IOAPIC 0xFEC00000ULL
#define UNBACKED 0xE0000000ULL
#define KCS 0x08
#define UCS 0x2b

static uint64_t pdpt_hh[512] __attribute__((aligned(4096)));
static uint64_t pdpt_low[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint64_t pt_low[512] __attribute__((aligned(4096)));
static uint64_t pd_extra[512] __attribute__((aligned(4096)));
static uint64_t pt_extra[512] __attribute__((aligned(4096)));
/* Physical pages the tests map (4 KiB each). */
static uint8_t pages[4][4096] __attribute__((aligned(4096)));

static uint64_t *pml4(void)
{
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	return (uint64_t *)(cr3 & ~0xfffULL);
}

static void reload_cr3(void)
{
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
}

static void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

/* LOW_VA + 4 KiB * i maps @pa (flags: P|RW|US unless told). */
static void map_low(unsigned i, uint64_t pa, uint64_t flags)
{
	pt_low[i] = pa | flags;
	invlpg(LOW_VA + 4096ULL * i);
}

static void setup_low(void)
{
	pd_low[0] = (uintptr_t)pt_low | 7;
	pdpt_low[0] = (uintptr_t)pd_low | 7;
	pml4()[1] = (uintptr_t)pdpt_low | 7;
	reload_cr3();
}

/* ---- alias ---- */
static void mode_alias(void)
{
	setup_low();
	uint64_t a = LOW_VA, b = LOW_VA + 0x5000;
	map_low(0, (uintptr_t)pages[0], 7);
	map_low(5, (uintptr_t)pages[0], 7);
	map_low(1, (uintptr_t)pages[2], 7); /* the page after a: elsewhere */
	guest_write64(a + 0x100, 0x0123456789abcdefULL);
	guest_check(guest_read64(b + 0x100) == 0x0123456789abcdefULL, "a store through one alias "
		    "is read through the other", guest_read64(b + 0x100), 0x0123456789abcdefULL);
	guest_write32(b + 0x200, 0xfeedf00du);
	guest_check(guest_read32(a + 0x200) == 0xfeedf00du, "and the other way",
		    guest_read32(a + 0x200), 0xfeedf00du);
	uint64_t *phys = (uint64_t *)pages[0];
	guest_check(phys[0x100 / 8] == 0x0123456789abcdefULL, "the physical page holds it",
		    phys[0x100 / 8], 0x0123456789abcdefULL);
	/* 8 bytes from a + 0xffc: 4 in pages[0], 4 in pages[2] (not pages[1]). */
	guest_write64(a + 0xffc, 0x2222222211111111ULL);
	uint32_t lo = *(volatile uint32_t *)(pages[0] + 0xffc);
	uint32_t hi = *(volatile uint32_t *)pages[2];
	uint32_t wrong = *(volatile uint32_t *)pages[1];
	guest_check(lo == 0x11111111u && hi == 0x22222222u && wrong == 0,
		    "a store crossing into a page mapped elsewhere lands in both pages",
		    (uint64_t)hi << 32 | lo, 0x2222222211111111ULL);
	guest_check(guest_read64(a + 0xffc) == 0x2222222211111111ULL, "and reads back whole",
		    guest_read64(a + 0xffc), 0x2222222211111111ULL);
}

/* ---- invlpg ---- */
static volatile uint64_t pf_count, pf_cr2, pf_err;
extern char pf_after[];
__asm__(".text\n.globl probe_read\nprobe_read:\n"
	".globl pf_insn\npf_insn:\n  movq (%rdi), %rax\n"
	".globl pf_after\npf_after:\n  ret\n");
long probe_read(void *va);

static void on_pf(struct guest_frame *f)
{
	pf_count++;
	pf_cr2 = guest_read_cr2();
	pf_err = f->error_code;
	f->rax = 0xdead;
	f->rip = (uintptr_t)pf_after + (f->rip & HH); /* at the address it ran at */
}

static void mode_invlpg(void)
{
	setup_low();
	for (unsigned i = 0; i < 3; i++)
		*(volatile uint64_t *)pages[i] = 0x1000 + i;
	uint64_t v = LOW_VA + 0x3000;
	map_low(3, (uintptr_t)pages[0], 7);
	guest_check(guest_read64(v) == 0x1000, "mapped to page 0", guest_read64(v), 0x1000);
	pt_low[3] = (uintptr_t)pages[1] | 7;
	invlpg(v);
	guest_check(guest_read64(v) == 0x1001, "INVLPG: the new PTE (page 1) is used",
		    guest_read64(v), 0x1001);
	pt_low[3] = (uintptr_t)pages[2] | 7;
	reload_cr3();
	guest_check(guest_read64(v) == 0x1002, "CR3 reload: the new PTE (page 2) is used",
		    guest_read64(v), 0x1002);
	guest_set_handler(14, on_pf);
	pt_low[3] = 0;
	invlpg(v);
	pf_count = 0;
	uint64_t r = (uint64_t)probe_read((void *)(v + 8));
	guest_check(pf_count == 1 && r == 0xdead, "a PTE made not present faults", pf_count, 1);
	guest_check(pf_cr2 == v + 8, "CR2 is the virtual address", pf_cr2, v + 8);
	guest_check(pf_err == 0, "error code: read, supervisor, not present", pf_err, 0);
	guest_set_handler(14, 0);
}

/* ---- mmio ---- */
static void mode_mmio(void)
{
	setup_low();
	map_low(0, LAPIC, 0x1b);     /* P|RW|PWT|PCD, supervisor */
	map_low(1, IOAPIC, 0x1b);
	map_low(2, UNBACKED, 0x1b);
	uint64_t lapic = LOW_VA, ioapic = LOW_VA + 0x1000, hole = LOW_VA + 0x2000;
	uint32_t id = guest_read32(LAPIC + 0x20), ver = guest_read32(LAPIC + 0x30);
	guest_check(guest_read32(lapic + 0x20) == id, "LAPIC ID through another virtual address",
		    guest_read32(lapic + 0x20), id);
	guest_check(guest_read32(lapic + 0x30) == ver, "LAPIC version too", guest_read32(lapic + 0x30),
		    ver);
	guest_check(ver != 0 && ver != 0xffffffffu, "a LAPIC version register was read", ver, 0x14);
	/* TPR: written through the alias, read at its physical address. */
	guest_write32(lapic + 0x80, 0x20);
	guest_check(guest_read32(LAPIC + 0x80) == 0x20, "LAPIC TPR written through the alias",
		    guest_read32(LAPIC + 0x80), 0x20);
	guest_write32(LAPIC + 0x80, 0);
	/* I/O APIC: index through the alias, data at its physical address. */
	guest_write32(ioapic + 0x00, 1);
	uint32_t iover = guest_read32(IOAPIC + 0x10);
	guest_write32(IOAPIC + 0x00, 1);
	guest_check(guest_read32(ioapic + 0x10) == iover && (iover & 0xff) != 0xff,
		    "I/O APIC version through the alias", guest_read32(ioapic + 0x10), iover);
	guest_write32(ioapic + 0x00, 0);
	uint32_t ioid = guest_read32(IOAPIC + 0x10);
	guest_check(ioid != iover, "the index written through the alias selected register 0",
		    ioid, 0);
	/* Unbacked: 8-byte and 16-byte reads all ones, writes dropped (I9). */
	guest_write64(hole + 0x40, 0);
	guest_check(guest_read64(hole + 0x40) == ~0ULL, "unbacked hole: 8-byte read all ones",
		    guest_read64(hole + 0x40), ~0ULL);
	/* SSE on (CR4.OSFXSR, CR0.EM clear); the kit's C code never uses it. */
	uint64_t cr;
	__asm__ volatile("mov %%cr4, %0; or $0x200, %0; mov %0, %%cr4" : "=r"(cr));
	__asm__ volatile("mov %%cr0, %0; and $~4, %0; or $2, %0; mov %0, %%cr0" : "=r"(cr));
	uint64_t sse[2];
	__asm__ volatile("movdqu (%1), %%xmm0; movdqu %%xmm0, %0" : "=m"(sse) : "r"(hole + 0x80));
	guest_check(sse[0] == ~0ULL && sse[1] == ~0ULL, "unbacked hole: 16-byte read all ones",
		    sse[1], ~0ULL);
}

/* ---- kernel (higher half) ---- */
static struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr_hh, gdtr_hh;
static uint64_t idt_hh[2 * 256] __attribute__((aligned(16)));
static uint8_t stack_hh[16384] __attribute__((aligned(16)));
volatile uint64_t hh_data = 0x5151; /* global: the body takes its address rip-relative */
static volatile uint64_t trap_rip, trap_rsp, trap_count, timer_ticks;

/* #DE: the resume address is in RCX (set rip-relative before the divide). */
static void on_de(struct guest_frame *f)
{
	trap_rip = f->rip;
	trap_rsp = f->rsp;
	trap_count++;
	f->rip = f->rcx;
}

static void on_timer(struct guest_frame *f)
{
	(void)f;
	timer_ticks++;
	guest_write32(LAPIC + 0xB0, 0);
}

static __attribute__((noinline)) void hh_body(void)
{
	uint64_t rip, rsp;
	__asm__ volatile("lea 0(%%rip), %0; mov %%rsp, %1" : "=r"(rip), "=r"(rsp));
	guest_check(rip >= HH && rsp >= HH, "code and stack run in the higher half", rip, HH);
	/* &hh_data would be an absolute (low) address: take it from RIP. */
	volatile uint64_t *d;
	__asm__ volatile("lea hh_data(%%rip), %0" : "=r"(d));
	guest_check((uintptr_t)d >= HH && *d == 0x5151, "data through the higher-half address",
		    (uintptr_t)d, HH);
	*d = 0x6262;
	guest_check(*(volatile uint64_t *)((uintptr_t)d - HH) == 0x6262,
		    "a higher-half store lands at the physical address",
		    *(volatile uint64_t *)((uintptr_t)d - HH), 0x6262);
	/*
	 * An exception through the higher-half IDT and GDT, its frame on the
	 * higher-half stack: a divide error (not int3: kvm_pvm cannot emulate
	 * int3 at CPL0, measured).
	 */
	guest_set_handler(0, on_de);
	trap_count = 0;
	uint64_t here;
	__asm__ volatile("lea 1f(%%rip), %0; lea 2f(%%rip), %%rcx; xor %%edx, %%edx; mov $7, %%eax\n"
			 "1: divl %%esi\n2:" : "=&r"(here) : "S"(0) : "rax", "rcx", "rdx");
	guest_check(trap_count == 1 && trap_rip == here, "#DE: frame RIP in the higher half",
		    trap_rip, here);
	guest_check(trap_rsp >= HH, "#DE: frame RSP on the higher-half stack", trap_rsp, HH);
	guest_set_handler(0, 0);
	/* Page faults at higher-half addresses (on_pf_hh, set by hh_entry). */
	uint64_t none = HH + (1ULL << 30) + 0x1238; /* pdpt_hh[511]: not present */
	pf_count = 0;
	uint64_t r = (uint64_t)probe_read((void *)none);
	guest_check(pf_count == 1 && r == 0xdead, "#PF on a higher-half address not mapped",
		    pf_count, 1);
	guest_check(pf_cr2 == none && pf_err == 0, "CR2 and error code (read, not present)",
		    pf_cr2, none);
	pd_extra[0] = (uintptr_t)pt_extra | 7;
	pdpt_hh[511] = (uintptr_t)pd_extra | 7;
	pt_extra[1] = (uintptr_t)pages[3] | 5; /* read-only, user */
	pt_extra[2] = (uintptr_t)pages[3] | 3; /* supervisor only */
	reload_cr3();
	uint64_t ro = HH + (1ULL << 30) + 0x1000, sup = HH + (1ULL << 30) + 0x2000;
	*(volatile uint64_t *)pages[3] = 0x77;
	guest_check(guest_read64(ro) == 0x77, "a read-only higher-half page reads",
		    guest_read64(ro), 0x77);
	pf_count = 0;
	__asm__ volatile("1: movq $0x99, (%0)\n2:\n"
			 ".pushsection .data\n.balign 8\n.globl ro_fixup\nro_fixup: .quad 1b, 2b\n"
			 ".popsection\n" ::"r"(ro) : "memory");
	guest_check(pf_count == 1 && pf_err == 3, "#PF writing a read-only higher-half page: "
		    "error code present|write", pf_err, 3);
	guest_check(pf_cr2 == ro && *(volatile uint64_t *)pages[3] == 0x77,
		    "CR2, and nothing written", pf_cr2, ro);
	/* From CPL3, code at its higher-half address (the K10 privilege path). */
	pf_count = 0;
	/* The kit's CPL3 entry and return are at their low addresses (absolute call). */
	long (*volatile run_user)(long (*)(void *), void *) = guest_run_user;
	long u = run_user((long (*)(void *))((uintptr_t)probe_read | HH), (void *)sup);
	guest_check(pf_count == 1 && u == 0xdead, "#PF at CPL3 running higher-half code",
		    pf_count, 1);
	guest_check(pf_err == 5 && pf_cr2 == sup, "error code user|present, CR2", pf_err, 5);
	/* LAPIC timer interrupts while the higher-half code runs. */
	guest_set_handler(0x20, on_timer);
	guest_write32(LAPIC + 0xF0, 0x1ff);
	guest_write32(LAPIC + 0x3E0, 0xb);
	guest_write32(LAPIC + 0x320, 0x20 | (1u << 17));
	guest_write32(LAPIC + 0x380, 20000);
	__asm__ volatile("sti");
	while (timer_ticks < 100)
		guest_pause();
	__asm__ volatile("cli");
	guest_write32(LAPIC + 0x320, 1u << 16);
	guest_check(timer_ticks >= 100, "100 timer interrupts taken in the higher half",
		    timer_ticks, 100);
}

/* #PF fixups: the faulting instruction at a low or higher-half address. */
extern uint64_t ro_fixup[2];

static void on_pf_hh(struct guest_frame *f)
{
	uint64_t off = f->rip & HH;
	if (f->rip - off == ro_fixup[0]) {
		pf_count++;
		pf_cr2 = guest_read_cr2();
		pf_err = f->error_code;
		f->rip = ro_fixup[1] + off;
		return;
	}
	on_pf(f);
}

/* Run fn on @sp (then back). */
__asm__(".text\n.globl call_on_stack\ncall_on_stack:\n"
	"  push %rbp\n  mov %rsp, %rbp\n  mov %rsi, %rsp\n  call *%rdi\n"
	"  mov %rbp, %rsp\n  pop %rbp\n  ret\n");
void call_on_stack(void (*fn)(void), uint64_t sp);

static void hh_entry(void)
{
	/* Through the higher-half alias from here on: the #PF handler too. */
	guest_set_handler(14, on_pf_hh);
	hh_body();
}

static void mode_kernel(void)
{
	uint64_t *top = pml4();
	uint64_t *pdpt0 = (uint64_t *)(top[0] & ~0xfffULL);
	pdpt_hh[510] = pdpt0[0]; /* HH + x -> x, x < 1 GiB (2 MiB pages) */
	top[511] = (uintptr_t)pdpt_hh | 7;
	reload_cr3();
	/* The IDT copied with every handler at its higher-half address (vector 3 stays). */
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr, gdtr;
	__asm__ volatile("sidt %0; sgdt %1" : "=m"(idtr), "=m"(gdtr));
	memcpy(idt_hh, (void *)idtr.base, idtr.limit + 1);
	for (unsigned v = 0; v < 256; v++) {
		if (v == 3)
			continue;
		uint64_t *g = &idt_hh[2 * v];
		uint64_t off = (g[0] & 0xffff) | ((g[0] >> 32) & 0xffff0000ULL) | (g[1] << 32);
		off += HH;
		g[0] = (g[0] & 0x0000ffffffff0000ULL) | (off & 0xffff) | ((off & 0xffff0000ULL) << 32);
		g[1] = off >> 32;
	}
	idtr_hh.limit = idtr.limit;
	idtr_hh.base = (uintptr_t)idt_hh + HH;
	gdtr_hh.limit = gdtr.limit;
	gdtr_hh.base = gdtr.base + HH;
	__asm__ volatile("lidt %0; lgdt %1" ::"m"(idtr_hh), "m"(gdtr_hh));
	call_on_stack((void (*)(void))((uintptr_t)hh_entry + HH),
		      (uintptr_t)stack_hh + sizeof(stack_hh) + HH);
	__asm__ volatile("lidt %0; lgdt %1" ::"m"(idtr), "m"(gdtr));
	guest_set_handler(14, 0);
	guest_set_handler(0x20, 0);
}

/* ---- claim ---- */
#define CLAIM_PA 0x2000000ULL /* 32 MiB: mapped at LOW_VA alone in this mode */
#define ANNOUNCE 0x5f0
#define CR2_MARK 0xc2c2c000ULL
#define PTE_ADDR 0x000ffffffffff000ULL

/* wp-monitor's announce port: watch (count 1) or release (count 0) one page. */
static uint32_t announce(uint64_t pa, uint32_t count)
{
	guest_outl(ANNOUNCE, (uint32_t)(pa >> 12));
	guest_outl(ANNOUNCE + 4, count);
	return guest_inl(ANNOUNCE + 4);
}

static void mode_claim(void)
{
	setup_low();
	uint64_t *pdpt = (uint64_t *)(uintptr_t)(pml4()[0] & PTE_ADDR);
	uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[0] & PTE_ADDR);
	pd[CLAIM_PA >> 21] = 0;
	reload_cr3();
	map_low(0, CLAIM_PA, 7);
	guest_set_handler(14, on_pf);
	guest_write64(LOW_VA, 1);
	__asm__ volatile("mov %0, %%cr2" ::"r"(CR2_MARK));
	uint32_t st = announce(CLAIM_PA, 1);
	guest_check(st == 1, "wp-monitor watches the page", st, 1);
	guest_write64(LOW_VA, 2);
	guest_check(guest_read64(LOW_VA) == 1, "a store through its own virtual address is dropped",
		    guest_read64(LOW_VA), 1);
	unsigned taken = 0;
	taken += announce(CLAIM_PA, 0) == 1;
	taken += announce(CLAIM_PA, 1) == 1;
	taken += announce(CLAIM_PA, 0) == 1;
	guest_check(taken == 3, "released, watched and released again", taken, 3);
	uint64_t cr2 = guest_read_cr2();
	guest_check(cr2 == CR2_MARK, "CR2 as the guest left it", cr2, CR2_MARK);
	pf_count = 0;
	uint64_t r = (uint64_t)probe_read((void *)(LOW_VA + 0x7008));
	guest_check(pf_count == 1 && r == 0xdead, "a #PF after the mapping changes", pf_count, 1);
	guest_check(pf_cr2 == LOW_VA + 0x7008, "with its CR2", pf_cr2, LOW_VA + 0x7008);
	guest_write64(LOW_VA, 3);
	guest_check(guest_read64(LOW_VA) == 3, "released: a store lands", guest_read64(LOW_VA), 3);
	guest_set_handler(14, 0);
}

int guest_main(void)
{
	static const struct guest_mode modes[] = {
		{ "kernel", mode_kernel },
		{ "alias", mode_alias },
		{ "invlpg", mode_invlpg },
		{ "mmio", mode_mmio },
		{ "claim", mode_claim },
		{ 0, 0 },
	};
	return guest_run_mode("paging", modes);
}
