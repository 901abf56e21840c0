/* SPDX-License-Identifier: MIT */
/*
 * traps: exceptions and interrupts taken through the guest's own IDT. The
 * mode (second command-line word) picks: de0/de3 a divide error at CPL0 or
 * CPL3; pf0/pf3 page faults (write to a read-only page; at CPL3 also a read
 * of a supervisor page) with CR2 and the error code checked; timer3 10,000
 * LAPIC timer interrupts while a CPL3 loop runs, its state checked after;
 * hlt `sti; hlt` woken by a one-shot LAPIC timer; pf3x a #PF on an
 * instruction fetch from CPL3 (a jump into a not-present page: the code at
 * RIP is not mapped, as for each first run of a page of a Linux process);
 * stijmp an interrupt pending while IF is clear, then `sti; jmp`: taken
 * after the jump (the STI shadow covers one instruction), not lost. Every
 * handler checks the frame (RIP, CS, SS, RSP, RFLAGS) the CPU pushed.
 */
#include "guest.h"

#define LAPIC 0xFEE00000ULL
#define LAPIC_EOI 0xB0
#define LAPIC_SVR 0xF0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TMICT 0x380
#define LAPIC_TDCR 0x3E0
#define TIMER_VECTOR 0x20
#define LVT_PERIODIC (1u << 17)
#define LVT_MASKED (1u << 16)

#define TEST_PAGE 0xA00000ULL /* a 2 MiB page of its own: its PDE is changed */
#define KCS 0x08
#define KSS 0x10
#define UCS 0x2b
#define USS 0x23
#define RFLAGS_IF 0x200ULL
#define RFLAGS_RF 0x10000ULL

/* The faulting instructions, at known addresses; each saves RSP first. */
extern char de_insn[], de_after[], pfw_insn[], pfw_after[], pfr_insn[], pfr_after[];
extern char hlt_after[], pfx_after[], stijmp_target[];
uint64_t trap_rsp; /* RSP at the faulting instruction */
__asm__(".text\n"
	".globl do_div0\n do_div0:\n"
	"  movq %rsp, trap_rsp(%rip)\n  xorl %edx, %edx\n  movl $7, %eax\n  xorl %ecx, %ecx\n"
	".globl de_insn\n de_insn:\n  divl %ecx\n"
	".globl de_after\n de_after:\n  movl $0x5a, %eax\n  ret\n"
	".globl do_pf_write\n do_pf_write:\n  movq %rsp, trap_rsp(%rip)\n"
	".globl pfw_insn\n pfw_insn:\n  movq $0x1234, (%rdi)\n"
	".globl pfw_after\n pfw_after:\n  movl $0x5b, %eax\n  ret\n"
	".globl do_pf_read\n do_pf_read:\n  movq %rsp, trap_rsp(%rip)\n"
	".globl pfr_insn\n pfr_insn:\n  movq (%rdi), %rax\n"
	".globl pfr_after\n pfr_after:\n  movl $0x5c, %eax\n  ret\n"
	".globl do_sti_hlt\n do_sti_hlt:\n  sti\n  hlt\n"
	".globl hlt_after\n hlt_after:\n  cli\n  ret\n"
	".globl do_pf_fetch\n do_pf_fetch:\n  movq %rsp, trap_rsp(%rip)\n  jmp *%rdi\n"
	".globl pfx_after\n pfx_after:\n  movl $0x5d, %eax\n  ret\n"
	/* rdi: spins allowed after the STI; returns how many were left. */
	".globl do_sti_jmp\n do_sti_jmp:\n  movq %rdi, %rax\n  sti\n  jmp stijmp_target\n"
	"  ud2\n"
	".globl stijmp_target\n stijmp_target:\n  cmpq $0, ticks(%rip)\n  jne 1f\n"
	"  decq %rax\n  jnz stijmp_target\n"
	"1:\n  cli\n  ret\n");
long do_div0(void *);
long do_pf_write(void *);
long do_pf_read(void *);
long do_pf_fetch(void *);
void do_sti_hlt(void);
long do_sti_jmp(long spins);

static struct guest_frame seen; /* the last frame a handler saw */
static volatile uint64_t seen_cr2, seen_count, handler_cs;

static void record(struct guest_frame *f, char *resume)
{
	seen = *f;
	seen_cr2 = guest_read_cr2();
	handler_cs = guest_read_cs();
	seen_count++;
	f->rip = (uintptr_t)resume;
}

static void on_de(struct guest_frame *f) { record(f, de_after); }

static void on_pf(struct guest_frame *f)
{
	if (f->rip == TEST_PAGE + 0x40) {
		record(f, pfx_after); /* the fetch: resume in mapped code */
		return;
	}
	record(f, f->rip == (uintptr_t)pfr_insn ? pfr_after : pfw_after);
}

/* The frame of a fault at @insn from CPL @cpl, RSP as saved before it. */
static void check_frame(const char *what, char *insn, unsigned cpl, uint64_t rflags_if)
{
	guest_printf("traps: %s: frame rip %#lx cs %#lx ss %#lx rsp %#lx rflags %#lx err %#lx\n",
		     what, seen.rip, seen.cs, seen.ss, seen.rsp, seen.rflags, seen.error_code);
	guest_check(seen_count == 1, "handler ran once", seen_count, 1);
	guest_check(handler_cs == KCS, "handler at CPL0", handler_cs, KCS);
	guest_check(seen.rip == (uintptr_t)insn, "frame RIP is the faulting instruction", seen.rip,
		    (uintptr_t)insn);
	guest_check(seen.cs == (cpl ? UCS : KCS), "frame CS", seen.cs, cpl ? UCS : KCS);
	guest_check(seen.rsp == trap_rsp, "frame RSP", seen.rsp, trap_rsp);
	if (cpl)
		guest_check(seen.ss == USS, "frame SS", seen.ss, USS);
	else
		guest_check((seen.ss & ~3ULL) == KSS || seen.ss == 0, "frame SS (kernel data or null)",
			    seen.ss, KSS);
	guest_check((seen.rflags & (RFLAGS_RF | RFLAGS_IF | 2)) == (RFLAGS_RF | rflags_if | 2),
		    "frame RFLAGS (RF set for a fault)", seen.rflags, RFLAGS_RF | rflags_if | 2);
}

static void mode_de0(void)
{
	guest_set_handler(0, on_de);
	seen_count = 0;
	long r = do_div0(0);
	check_frame("#DE at CPL0", de_insn, 0, 0);
	guest_check(seen.vector == 0, "vector 0", seen.vector, 0);
	guest_check(r == 0x5a, "resumed after the divide", (uint64_t)r, 0x5a);
}

static void mode_de3(void)
{
	guest_set_handler(0, on_de);
	seen_count = 0;
	long r = guest_run_user(do_div0, 0);
	check_frame("#DE at CPL3", de_insn, 3, 0);
	guest_check(seen.vector == 0, "vector 0", seen.vector, 0);
	guest_check(r == 0x5a, "resumed at CPL3 after the divide", (uint64_t)r, 0x5a);
}

/* The PDE of TEST_PAGE (2 MiB page), found from CR3. */
static volatile uint64_t *test_pde(void)
{
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	uint64_t *pml4 = (uint64_t *)(cr3 & ~0xfffULL);
	uint64_t *pdpt = (uint64_t *)(pml4[0] & ~0xfffULL);
	uint64_t *pd = (uint64_t *)(pdpt[TEST_PAGE >> 30] & ~0xfffULL);
	return &pd[(TEST_PAGE >> 21) & 511];
}

static void set_pde_bits(uint64_t clear)
{
	volatile uint64_t *pde = test_pde();
	*pde = (TEST_PAGE | 0x87) & ~clear;
	__asm__ volatile("invlpg (%0)" ::"r"(TEST_PAGE) : "memory");
}

static void check_pf(const char *what, char *insn, unsigned cpl, uint64_t addr, uint64_t err)
{
	check_frame(what, insn, cpl, 0);
	guest_check(seen.vector == 14, "vector 14", seen.vector, 14);
	guest_check(seen_cr2 == addr, "CR2 is the address", seen_cr2, addr);
	guest_check(seen.error_code == err, "error code", seen.error_code, err);
}

static void mode_pf0(void)
{
	guest_set_handler(14, on_pf);
	guest_write64(TEST_PAGE + 0x18, 0x77);
	set_pde_bits(2); /* read-only; CR0.WP is set by the kit */
	seen_count = 0;
	long r = do_pf_write((void *)(TEST_PAGE + 0x18));
	check_pf("#PF write at CPL0", pfw_insn, 0, TEST_PAGE + 0x18, 0x3);
	guest_check(r == 0x5b, "resumed after the store", (uint64_t)r, 0x5b);
	set_pde_bits(0);
	guest_check(guest_read64(TEST_PAGE + 0x18) == 0x77, "the faulting store wrote nothing",
		    guest_read64(TEST_PAGE + 0x18), 0x77);
}

static void mode_pf3(void)
{
	guest_set_handler(14, on_pf);
	guest_write64(TEST_PAGE + 0x28, 0x99);
	set_pde_bits(2); /* read-only */
	seen_count = 0;
	long r = guest_run_user(do_pf_write, (void *)(TEST_PAGE + 0x28));
	check_pf("#PF write at CPL3", pfw_insn, 3, TEST_PAGE + 0x28, 0x7);
	guest_check(r == 0x5b, "resumed at CPL3 after the store", (uint64_t)r, 0x5b);
	set_pde_bits(4); /* supervisor only */
	seen_count = 0;
	r = guest_run_user(do_pf_read, (void *)(TEST_PAGE + 0x30));
	check_pf("#PF read at CPL3", pfr_insn, 3, TEST_PAGE + 0x30, 0x5);
	guest_check(r == 0x5c, "resumed at CPL3 after the load", (uint64_t)r, 0x5c);
	set_pde_bits(0);
	guest_check(guest_read64(TEST_PAGE + 0x28) == 0x99, "the faulting store wrote nothing",
		    guest_read64(TEST_PAGE + 0x28), 0x99);
}

static void mode_pf3x(void)
{
	guest_set_handler(14, on_pf);
	set_pde_bits(1); /* not present */
	seen_count = 0;
	long r = guest_run_user(do_pf_fetch, (void *)(TEST_PAGE + 0x40));
	check_frame("#PF fetch at CPL3", (char *)(TEST_PAGE + 0x40), 3, 0);
	guest_check(seen.vector == 14, "vector 14", seen.vector, 14);
	guest_check(seen_cr2 == TEST_PAGE + 0x40, "CR2 is the jump target", seen_cr2,
		    TEST_PAGE + 0x40);
	/* Not present, user; bit 4 (instruction fetch) as NX/SMEP say: not checked. */
	guest_check((seen.error_code & 7) == 4, "error code: not present, user, read",
		    seen.error_code & 7, 4);
	guest_check(r == 0x5d, "resumed at CPL3 after the fetch", (uint64_t)r, 0x5d);
	set_pde_bits(0);
}

/* ---- LAPIC timer ---- */
volatile uint64_t ticks; /* read by do_sti_jmp */
static volatile uint64_t user_ticks, bad_frames;

static void lapic_write(unsigned r, uint32_t v) { guest_write32(LAPIC + r, v); }

#define TIMER_TICKS 10000
#define LAPIC_LVT_TIMER_MASKED (TIMER_VECTOR | LVT_MASKED)

static void on_timer(struct guest_frame *f)
{
	ticks++;
	if ((f->cs & 3) == 3) {
		/*
		 * The 10000th stops the timer here, at CPL0: the loop sees it a
		 * few instructions later, but a loaded host can take longer than
		 * a period per interrupt there (each a K10 gate on tcg, under
		 * ASan), and the periodic timer kept ticking (10072 seen).
		 */
		if (++user_ticks == TIMER_TICKS)
			lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_TIMER_MASKED);
		if (f->cs != UCS || f->ss != USS || !(f->rflags & RFLAGS_IF))
			bad_frames++;
	}
	lapic_write(LAPIC_EOI, 0);
}

static void timer_start(uint32_t count, bool periodic)
{
	guest_set_handler(TIMER_VECTOR, on_timer);
	lapic_write(LAPIC_SVR, 0x1FF);
	lapic_write(LAPIC_TDCR, 0xB); /* divide by 1 */
	lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR | (periodic ? LVT_PERIODIC : 0));
	lapic_write(LAPIC_TMICT, count);
}

static void timer_stop(void)
{
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_TIMER_MASKED);
	lapic_write(LAPIC_TMICT, 0);
}

#define LCG_A 6364136223846793005ull
#define LCG_C 1442695040888963407ull
#define LCG2_A 2862933555777941757ull
#define LCG2_C 3037000493ull

struct loop_state {
	uint64_t x, y, steps, rot; /* rot: a value kept live in a register */
	uint16_t cs;
};

static long timer_loop(void *p)
{
	struct loop_state *s = p;
	uint64_t x = s->x, y = s->y, n = 0, rot = 0x0123456789abcdefULL;
	s->cs = guest_read_cs();
	while (user_ticks < TIMER_TICKS) {
		x = x * LCG_A + LCG_C;
		y = y * LCG2_A + LCG2_C;
		rot = (rot << 1) | (rot >> 63);
		n++;
		__asm__("" : "+r"(x), "+r"(y), "+r"(rot), "+r"(n));
	}
	s->x = x;
	s->y = y;
	s->steps = n;
	s->rot = rot;
	return 0;
}

static void mode_timer3(void)
{
	static struct loop_state s = { .x = 0x1111, .y = 0x2222 };
	timer_start(100000, true); /* 100 us at 1 ns per tick */
	guest_run_user_irq(timer_loop, &s);
	timer_stop();
	uint64_t rot = 0x0123456789abcdefULL, k = s.steps % 64;
	if (k)
		rot = (rot << k) | (rot >> (64 - k));
	guest_printf("traps: timer3: %llu ticks (%llu at CPL3), loop %llu steps\n",
		     (unsigned long long)ticks, (unsigned long long)user_ticks,
		     (unsigned long long)s.steps);
	guest_check((s.cs & 3) == 3, "loop ran at CPL3", s.cs & 3, 3);
	/*
	 * The handler masks the timer at the 10000th; one more may already
	 * have been pending then, and lands on the way out, still at CPL3.
	 */
	guest_check(user_ticks >= TIMER_TICKS && user_ticks <= TIMER_TICKS + 16,
		    "10000 interrupts taken at CPL3 (a few more on the way out)", user_ticks,
		    TIMER_TICKS);
	guest_check(bad_frames == 0, "every frame CS/SS/RFLAGS from CPL3", bad_frames, 0);
	guest_check(s.steps > 0, "the loop ran", s.steps, 1);
	guest_check(s.x == guest_lcg_jump(0x1111, s.steps, LCG_A, LCG_C), "loop state x intact", s.x,
		    guest_lcg_jump(0x1111, s.steps, LCG_A, LCG_C));
	guest_check(s.y == guest_lcg_jump(0x2222, s.steps, LCG2_A, LCG2_C), "loop state y intact", s.y,
		    guest_lcg_jump(0x2222, s.steps, LCG2_A, LCG2_C));
	guest_check(s.rot == rot, "loop state rot intact", s.rot, rot);
}

static volatile uint64_t hlt_rip_ok;

static void on_hlt_timer(struct guest_frame *f)
{
	on_timer(f);
	hlt_rip_ok += f->rip == (uintptr_t)hlt_after;
}

static void mode_hlt(void)
{
	unsigned n = 100;
	for (unsigned i = 0; i < n; i++) {
		uint64_t t = ticks;
		timer_start(200000, false); /* one-shot, 200 us */
		guest_set_handler(TIMER_VECTOR, on_hlt_timer);
		do_sti_hlt();
		if (ticks != t + 1) {
			guest_check(false, "one wake-up per sti; hlt", ticks - t, 1);
			return;
		}
	}
	timer_stop();
	guest_check(ticks == n, "sti; hlt woken by its timer each time", ticks, n);
	guest_check(hlt_rip_ok == n, "frame RIP past the HLT", hlt_rip_ok, n);
}

static volatile uint64_t stijmp_rip_ok, stijmp_rip;

static void on_stijmp_timer(struct guest_frame *f)
{
	on_timer(f);
	stijmp_rip = f->rip;
	stijmp_rip_ok += f->rip >= (uintptr_t)stijmp_target;
}

/*
 * An interrupt already in the local APIC's IRR while IF is clear; then
 * `sti; jmp`: it is taken once the jump has run, within a few iterations
 * of the loop at its target, never lost.
 */
static void mode_stijmp(void)
{
	unsigned n = 100;
	for (unsigned i = 0; i < n; i++) {
		ticks = 0;
		timer_start(1000, false); /* one-shot, 1 us: pending long before the STI */
		guest_set_handler(TIMER_VECTOR, on_stijmp_timer); /* after: timer_start sets one */
		for (volatile unsigned k = 0; k < 100000 &&
					      !(guest_read32(LAPIC + 0x200 + 0x10 * (TIMER_VECTOR / 32)) &
						(1u << (TIMER_VECTOR % 32)));
		     k++)
			;
		long left = do_sti_jmp(100000000);
		if (ticks != 1 || left < 100000000 - 1000) {
			guest_check(false, "interrupt taken within 1000 spins after sti; jmp",
				    100000000 - (uint64_t)left, 1000);
			return;
		}
	}
	timer_stop();
	guest_printf("traps: stijmp: last frame RIP %#lx, the jump's target %#lx\n",
		     (unsigned long)stijmp_rip, (unsigned long)(uintptr_t)stijmp_target);
	guest_check(stijmp_rip_ok == n, "frame RIP at or past the jump's target", stijmp_rip_ok, n);
}

int guest_main(void)
{
	static const struct guest_mode modes[] = {
		{ "de0", mode_de0 }, { "de3", mode_de3 }, { "pf0", mode_pf0 },
		{ "pf3", mode_pf3 }, { "timer3", mode_timer3 }, { "hlt", mode_hlt },
		{ "pf3x", mode_pf3x }, { "stijmp", mode_stijmp },
		{ 0, 0 },
	};
	return guest_run_mode("traps", modes);
}
