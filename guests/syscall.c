/* SPDX-License-Identifier: MIT */
/*
 * syscall: SYSCALL/SYSRET as a 64-bit kernel uses them (DESIGN K10; issue
 * 17), the same on every backend. STAR = user base 0x18 (SYSRET: CS 0x2b,
 * SS 0x23) and kernel CS 0x08 (SYSCALL: CS 0x08, SS 0x10), SFMASK = TF, DF,
 * IF, AC, NT.
 * Mode "loop": a CPL3 loop makes 1000 syscalls with CF, DF and AC set; the
 * CPL0 entry (LSTAR) records CS, SS, RFLAGS, RCX, R11, RSP and RAX and
 * returns 3 * RAX + 1 with SYSRETQ. Each must show: CS 0x08, SS 0x10,
 * RCX = the instruction after the syscall, R11 = RFLAGS at the syscall,
 * RFLAGS = that less SFMASK, RSP unchanged (SYSCALL switches no stack), and
 * back at CPL3 the result, RFLAGS as before (SYSRETQ loads R11) and CPL3.
 * Mode "cpl0": one SYSCALL at CPL0 (to an entry that returns with jmp *%rcx
 * after loading R11 into RFLAGS): the same registers.
 * Modes "ud3", "ud0": with EFER.SCE clear, SYSCALL at CPL3 (at CPL0)
 * raises #UD; "sysret_ud": so does SYSRETQ at CPL0; "sysret_gp": SYSRETQ
 * at CPL3 raises #GP(0). Each fault's RIP is the instruction, and no
 * syscall reaches LSTAR.
 */
#include "guest.h"

#define MSR_EFER 0xC0000080u
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_SFMASK 0xC0000084u
#define EFER_SCE 1ULL
#define RF_CF 0x1ULL
#define RF_TF 0x100ULL
#define RF_IF 0x200ULL
#define RF_DF 0x400ULL
#define RF_NT 0x4000ULL
#define RF_AC 0x40000ULL
#define SFMASK (RF_TF | RF_IF | RF_DF | RF_AC | RF_NT)
#define LOOPS 1000

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* What the LSTAR entry saw (written at CPL0, read at CPL3: the kit's pages are user pages). */
volatile uint64_t seen_rcx, seen_r11, seen_rflags, seen_rsp, seen_rax, seen_count;
volatile uint16_t seen_cs, seen_ss;
void sc_entry(void);
void sc_entry_cpl0(void);

__asm__(".text\n"
	/* LSTAR for CPL3 callers: record, return 3 * RAX + 1 with SYSRETQ. */
	"sc_entry:\n\t"
	"pushfq\n\t"
	"popq seen_rflags(%rip)\n\t"
	"movq %rcx, seen_rcx(%rip)\n\t"
	"movq %r11, seen_r11(%rip)\n\t"
	"movq %rsp, seen_rsp(%rip)\n\t"
	"movq %rax, seen_rax(%rip)\n\t"
	"movw %cs, seen_cs(%rip)\n\t"
	"movw %ss, seen_ss(%rip)\n\t"
	"incq seen_count(%rip)\n\t"
	"leaq 1(%rax,%rax,2), %rax\n\t"
	"sysretq\n"
	/* LSTAR for a CPL0 caller: the same, back with R11 -> RFLAGS, jmp *%rcx. */
	"sc_entry_cpl0:\n\t"
	"pushfq\n\t"
	"popq seen_rflags(%rip)\n\t"
	"movq %rcx, seen_rcx(%rip)\n\t"
	"movq %r11, seen_r11(%rip)\n\t"
	"movq %rsp, seen_rsp(%rip)\n\t"
	"movq %rax, seen_rax(%rip)\n\t"
	"movw %cs, seen_cs(%rip)\n\t"
	"movw %ss, seen_ss(%rip)\n\t"
	"incq seen_count(%rip)\n\t"
	"leaq 1(%rax,%rax,2), %rax\n\t"
	"pushq %r11\n\t"
	"popfq\n\t"
	"jmp *%rcx\n");

/* One syscall with CF, DF and AC set; what the caller saw around it. */
struct call {
	uint64_t rax, before, after, ret_at, rsp;
	uint16_t cs;
};

static inline __attribute__((always_inline)) void do_syscall(struct call *k)
{
	uint64_t rax = k->rax, before, after, ret_at, rsp;
	uint16_t cs;
	__asm__ volatile("pushfq\n\t"
			 "orq $0x40401, (%%rsp)\n\t" /* AC | DF | CF */
			 "popfq\n\t"
			 "pushfq\n\t"
			 "popq %[before]\n\t"
			 "leaq 1f(%%rip), %[ret]\n\t"
			 "movq %%rsp, %[rsp]\n\t"
			 "syscall\n"
			 "1:\tpushfq\n\t"
			 "popq %[after]\n\t"
			 "movw %%cs, %[cs]\n\t"
			 "pushfq\n\t"
			 "andq $~0x40401, (%%rsp)\n\t"
			 "popfq"
			 : "+a"(rax), [before] "=&r"(before), [after] "=&r"(after),
			   [ret] "=&r"(ret_at), [rsp] "=&r"(rsp), [cs] "=&r"(cs)
			 :
			 : "rcx", "r11", "memory", "cc");
	k->rax = rax;
	k->before = before;
	k->after = after;
	k->ret_at = ret_at;
	k->rsp = rsp;
	k->cs = cs;
}

/* The checks of one call; the number of the first that failed, 0 if none. */
static unsigned check_call(const struct call *k, uint64_t n, uint16_t want_cpl)
{
	if (k->rax != 3 * n + 1) return 1;
	if (seen_rax != n) return 2;
	if (seen_rcx != k->ret_at) return 3;
	if (seen_r11 != k->before) return 4;
	if (seen_rflags != ((k->before & ~SFMASK) | 2)) return 5;
	if (seen_cs != 0x08) return 6;
	if (seen_ss != 0x10) return 7;
	if (seen_rsp != k->rsp) return 8;
	if (k->after != k->before) return 9;
	if ((k->cs & 3) != want_cpl) return 10;
	if ((k->before & (RF_CF | RF_DF | RF_AC)) != (RF_CF | RF_DF | RF_AC)) return 11;
	return 0;
}

static const char *const check_names[] = {
	"", "result 3 * RAX + 1", "RAX at the entry", "RCX = next instruction",
	"R11 = RFLAGS", "RFLAGS = RFLAGS less SFMASK", "CS 0x08", "SS 0x10",
	"RSP unchanged", "RFLAGS back from R11", "CPL after return", "CF, DF, AC were set",
};

struct loop_result {
	uint64_t failures, first_fail, first_check;
	struct call first_bad;
	uint64_t seen[6];
	uint16_t seen_sel[2];
};

static long user_loop(void *arg)
{
	struct loop_result *r = arg;
	for (uint64_t i = 0; i < LOOPS; i++) {
		struct call k = { .rax = i };
		do_syscall(&k);
		unsigned bad = check_call(&k, i, 3);
		if (bad && !r->failures++) {
			r->first_fail = i;
			r->first_check = bad;
			r->first_bad = k;
			r->seen[0] = seen_rcx, r->seen[1] = seen_r11, r->seen[2] = seen_rflags;
			r->seen[3] = seen_rsp, r->seen[4] = seen_rax, r->seen[5] = seen_count;
			r->seen_sel[0] = seen_cs, r->seen_sel[1] = seen_ss;
		}
	}
	return 0;
}

static void setup(void (*entry)(void))
{
	wrmsr(MSR_STAR, 0x0018ULL << 48 | 0x0008ULL << 32);
	wrmsr(MSR_LSTAR, (uintptr_t)entry);
	wrmsr(MSR_SFMASK, SFMASK);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

static void report(const struct loop_result *r)
{
	const struct call *k = &r->first_bad;
	guest_printf("syscall: first failure at call %llu: %s; rax %#llx before %#llx after %#llx "
		     "ret_at %#llx rsp %#llx cs %#x; entry saw rcx %#llx r11 %#llx rflags %#llx "
		     "rsp %#llx rax %#llx count %llu cs %#x ss %#x\n",
		     (unsigned long long)r->first_fail, check_names[r->first_check],
		     (unsigned long long)k->rax, (unsigned long long)k->before,
		     (unsigned long long)k->after, (unsigned long long)k->ret_at,
		     (unsigned long long)k->rsp, k->cs, (unsigned long long)r->seen[0],
		     (unsigned long long)r->seen[1], (unsigned long long)r->seen[2],
		     (unsigned long long)r->seen[3], (unsigned long long)r->seen[4],
		     (unsigned long long)r->seen[5], r->seen_sel[0], r->seen_sel[1]);
}

static void mode_loop(void)
{
	static struct loop_result r;
	setup(sc_entry);
	guest_run_user(user_loop, &r);
	if (r.failures)
		report(&r);
	guest_printf("syscall: %d calls from CPL3, entry count %llu, %llu wrong\n", LOOPS,
		     (unsigned long long)seen_count, (unsigned long long)r.failures);
	guest_check(seen_count == LOOPS, "every syscall reached LSTAR once", seen_count, LOOPS);
	guest_check(r.failures == 0, "CS, SS, RCX, R11, RFLAGS, RSP at LSTAR and back at CPL3",
		    r.failures, 0);
}

static void mode_cpl0(void)
{
	static struct loop_result r;
	setup(sc_entry_cpl0);
	struct call k = { .rax = 41 };
	do_syscall(&k);
	unsigned bad = check_call(&k, 41, 0);
	if (bad) {
		r.failures = 1, r.first_fail = 0, r.first_check = bad, r.first_bad = k;
		r.seen[0] = seen_rcx, r.seen[1] = seen_r11, r.seen[2] = seen_rflags;
		r.seen[3] = seen_rsp, r.seen[4] = seen_rax, r.seen[5] = seen_count;
		r.seen_sel[0] = seen_cs, r.seen_sel[1] = seen_ss;
		report(&r);
	}
	guest_check(seen_count == 1, "the syscall reached LSTAR once", seen_count, 1);
	guest_check(bad == 0, "CS, SS, RCX, R11, RFLAGS, RSP at LSTAR from CPL0", bad, 0);
}

/* ---- mode ud: faults ---- */

static volatile uint64_t fault_vector, fault_rip, fault_err, fault_cs, faults;
static volatile uint64_t skip_to; /* where the handler resumes */

static void on_fault(struct guest_frame *f)
{
	faults++;
	fault_vector = f->vector;
	fault_rip = f->rip;
	fault_err = f->error_code;
	fault_cs = f->cs;
	f->rip = skip_to;
}

/* Runs the instruction at label 1 of @code-like asm: each helper sets skip_to. */
#define FAULTING(insn)                                                                         \
	__asm__ volatile("leaq 2f(%%rip), %%rax\n\t"                                           \
			 "movq %%rax, %[skip]\n\t"                                             \
			 "leaq 1f(%%rip), %%rax\n\t"                                           \
			 "movq %%rax, %[at]\n"                                                 \
			 "1:\t" insn "\n"                                                      \
			 "2:"                                                                  \
			 : [skip] "=m"(skip_to), [at] "=m"(*at)                                \
			 :                                                                     \
			 : "rax", "rcx", "r11", "memory", "cc")

static long user_syscall(void *arg)
{
	volatile uint64_t *at = arg;
	FAULTING("syscall");
	return 0;
}

static long user_sysret(void *arg)
{
	volatile uint64_t *at = arg;
	FAULTING("sysretq");
	return 0;
}

static void expect(const char *what, uint64_t before, unsigned vector, uint64_t at,
		   unsigned cpl)
{
	char buf[96];
	guest_snprintf(buf, sizeof(buf), "%s: one fault", what);
	guest_check(faults == before + 1, buf, faults - before, 1);
	guest_snprintf(buf, sizeof(buf), "%s: vector %u, error code 0", what, vector);
	guest_check(fault_vector == vector && fault_err == 0, buf, fault_vector << 32 | fault_err,
		    (uint64_t)vector << 32);
	guest_snprintf(buf, sizeof(buf), "%s: RIP is the instruction", what);
	guest_check(fault_rip == at, buf, fault_rip, at);
	guest_snprintf(buf, sizeof(buf), "%s: at CPL%u", what, cpl);
	guest_check((fault_cs & 3) == cpl, buf, fault_cs & 3, cpl);
}

static void fault_handlers(bool on)
{
	guest_set_handler(6, on ? on_fault : 0);
	guest_set_handler(13, on ? on_fault : 0);
}

static void mode_ud3(void)
{
	volatile uint64_t at = 0;
	fault_handlers(true);
	setup(sc_entry);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SCE);
	uint64_t n = faults;
	guest_run_user(user_syscall, (void *)&at);
	expect("SYSCALL at CPL3, EFER.SCE clear", n, 6, at, 3);
	guest_check(seen_count == 0, "no syscall reached LSTAR", seen_count, 0);
	fault_handlers(false);
}

static void mode_ud0(void)
{
	volatile uint64_t at = 0;
	fault_handlers(true);
	setup(sc_entry_cpl0);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SCE);
	uint64_t n = faults;
	user_syscall((void *)&at);
	expect("SYSCALL at CPL0, EFER.SCE clear", n, 6, at, 0);
	guest_check(seen_count == 0, "no syscall reached LSTAR", seen_count, 0);
	fault_handlers(false);
}

static void mode_sysret_ud(void)
{
	volatile uint64_t at = 0;
	fault_handlers(true);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SCE);
	uint64_t n = faults;
	user_sysret((void *)&at);
	expect("SYSRETQ at CPL0, EFER.SCE clear", n, 6, at, 0);
	fault_handlers(false);
}

static void mode_sysret_gp(void)
{
	volatile uint64_t at = 0;
	fault_handlers(true);
	setup(sc_entry);
	uint64_t n = faults;
	guest_run_user(user_sysret, (void *)&at);
	expect("SYSRETQ at CPL3", n, 13, at, 3);
	fault_handlers(false);
}

int guest_main(void)
{
	static const struct guest_mode modes[] = {
		{ "loop", mode_loop },
		{ "cpl0", mode_cpl0 },
		{ "ud3", mode_ud3 },
		{ "ud0", mode_ud0 },
		{ "sysret_ud", mode_sysret_ud },
		{ "sysret_gp", mode_sysret_gp },
		{ 0, 0 },
	};
	return guest_run_mode("syscall", modes);
}
