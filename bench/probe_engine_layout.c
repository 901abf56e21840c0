/* SPDX-License-Identifier: MIT */
/*
 * Issue 17 probe: could ONE libunicorn engine serve every tcg vCPU, each
 * vCPU's state swapped in with uc_context_restore and the soft TLB dropped
 * with uc_ctl_flush_tlb (UC_CTL_TLB_FLUSH), instead of one engine per vCPU
 * (DESIGN K3, K4, K7, K8, K13)? Raw libunicorn, no ioreqvm code; written for
 * 2.1.1 (the run-time version is printed). Each line printed is one
 * measurement; docs/unicorn-2.1-survey.md "Engine layout" holds the tables.
 *
 *   a  exactness of a swap: two contexts with different CR3 mapping one
 *      virtual data page, and one virtual code page, to different physical
 *      pages (with and without the TLB flush); 64-bit, 32-bit protected and real mode contexts running the
 *      same code bytes; a CPL3 and a CPL0 context (page faults counted per
 *      context); a context that halted, then another one
 *   b  code written by one context (through an alias mapping and directly)
 *      and then run by another: one engine vs two engines
 *   c  LOCK INC from two contexts sharing one engine, swapped every K blocks
 *   d  costs: save, restore, flush; a whole slice switch (one engine vs two
 *      engines on one thread); soft-TLB refill after a flush for loops over
 *      16-512 pages; one mapping flip on 1 engine vs 4
 *   e  a vCPU waiting inside an MMIO callback: uc_emu_stop there (K13
 *      re-measured), running another context nested in the callback, and
 *      the precise stop of an access to unmapped memory
 *
 *   v  (not by default; for valgrind) the MMIO region a callback is in is
 *      unmapped from inside that callback, as a mapping change applied by
 *      the one engine while a vCPU waits there would do
 *
 * Usage: probe_engine_layout [SECTIONS], e.g. "ab" (default: abcde).
 *
 * Guest-physical layout (one 16 MiB host buffer, mapped at 0 in each engine):
 *   0x1000 GDT, 0x2000 mode stubs, 0x3000-0x7fff test programs,
 *   0x10000 / 0x20000 page tables A / B (identity 0-32 MiB with 2 MiB pages,
 *   except 0x400000-0x5fffff in 4 KiB pages: 0x400000 -> 0x600000 (A) or
 *   0x601000 (B), 0x401000 -> 0x602000 supervisor-only, 0x402000 -> 0x5000
 *   (an alias of the code page at 0x5000), 0x403000 -> code at 0x603000 (A)
 *   or 0x604000 (B), the rest identity),
 *   0x160000 lock counter, 0x170000 counters, 0x800000 sweep pages,
 *   0x1000000 one MMIO page, 0x1001000 nothing mapped.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unicorn/unicorn.h>

#define PAGE 4096ULL
#define RAM_SIZE (16ULL << 20)
#define GDT_PA 0x1000ULL
#define TABLES_A 0x10000ULL
#define TABLES_B 0x20000ULL
#define VIRT 0x400000ULL	/* maps to TAG_A / TAG_B */
#define TAG_A 0x600000ULL
#define TAG_B 0x601000ULL
#define SUPER_PA 0x602000ULL	/* behind virtual 0x401000, U/S = 0 */
#define VCODE 0x403000ULL	/* code: maps to CODE_A / CODE_B */
#define VCODE_DONE 0x403009ULL
#define CODE_A 0x603000ULL
#define CODE_B 0x604000ULL
#define LOCK_PA 0x160000ULL
#define CNT_PA 0x170000ULL
#define SWEEP_PA 0x800000ULL
#define MMIO_PA 0x1000000ULL
#define SYNC_BYTE 0xfffULL	/* the READ|WRITE hook's range: never accessed */

/* Mode stubs (CPL0). 0x2000: 64-bit -> 32-bit protected mode (RBX = 0, ends
 * in HLT) or on to real mode (RBX != 0, ends in HLT); 0x2400: iretq to CPL3
 * at 0x4000. */
static const uint8_t stub64[] = {
	0x48, 0xc7, 0xc4, 0x00, 0x90, 0x00, 0x00, /* mov rsp, 0x9000 */
	0x6a, 0x18,                               /* push 0x18 (code32) */
	0x68, 0x00, 0x21, 0x00, 0x00,             /* push 0x2100 */
	0x48, 0xcb,                               /* retfq */
};
static const uint8_t stub32[] = {             /* at 0x2100, 32-bit code */
	0x0f, 0x20, 0xc0, 0x0f, 0xba, 0xf0, 0x1f, 0x0f, 0x22, 0xc0, /* cr0.PG = 0: leaves long mode */
	0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32,                   /* rdmsr EFER */
	0x0f, 0xba, 0xf0, 0x08, 0x0f, 0x30,                         /* btr eax, 8 (LME); wrmsr */
	0x0f, 0x20, 0xe0, 0x0f, 0xba, 0xf0, 0x05, 0x0f, 0x22, 0xe0, /* cr4.PAE = 0 */
	0x66, 0xb8, 0x10, 0x00,                                     /* mov ax, 0x10 (data) */
	0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0x8e, 0xe0, 0x8e, 0xe8, /* ds es ss fs gs */
	0x85, 0xdb, 0x75, 0x01, 0xf4,                               /* test ebx; jnz +1; hlt */
	0xea, 0x00, 0x22, 0x00, 0x00, 0x20, 0x00,                   /* ljmp 0x20:0x2200 */
};
static const uint8_t stub16[] = {             /* at 0x2200, 16-bit protected mode */
	0xb8, 0x28, 0x00,                                           /* mov ax, 0x28 (data16) */
	0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0x8e, 0xe0, 0x8e, 0xe8, /* ds es ss fs gs */
	0x0f, 0x20, 0xc0, 0x24, 0xfe, 0x0f, 0x22, 0xc0,             /* cr0.PE = 0 */
	0xea, 0x00, 0x23, 0x00, 0x00,                               /* ljmp 0:0x2300 */
};
static const uint8_t stub_real[] = {          /* at 0x2300, real mode */
	0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0x8e, 0xe0, 0x8e, 0xe8, /* segs = 0 */
	0xbc, 0x00, 0x90, 0xf4,                                     /* mov sp, 0x9000; hlt */
};
static const uint8_t stub_user[] = {          /* at 0x2400 */
	0x48, 0xc7, 0xc4, 0x00, 0x90, 0x00, 0x00, /* mov rsp, 0x9000 */
	0x6a, 0x3b, 0x68, 0x00, 0x88, 0x00, 0x00, /* push 0x3b (SS); push 0x8800 (RSP) */
	0x6a, 0x02, 0x6a, 0x33,                   /* push 2 (RFLAGS); push 0x33 (CS, 64-bit DPL3) */
	0x68, 0x00, 0x40, 0x00, 0x00, 0x48, 0xcf, /* push 0x4000; iretq */
};

/* Test programs. Each ends in "jmp ." at its DONE address: the block hook stops there. */
#define P_RW 0x3000ULL
#define P_RW_DONE 0x3018ULL
static const uint8_t prog_rw[] = {
	0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x40, 0x00, /* 1: mov rax, [0x400000] */
	0x48, 0x01, 0xc3,                               /* add rbx, rax */
	0x48, 0xff, 0x04, 0x25, 0x08, 0x00, 0x40, 0x00, /* inc qword [0x400008] */
	0x48, 0xff, 0xc9, 0x75, 0xe8,                   /* dec rcx; jnz 1b */
	0xeb, 0xfe,                                     /* jmp . */
};
/* 64-bit: dec r9d (REX.XB + dec ecx); jnz. 32-bit: inc ebx; dec ecx; jnz.
 * 16-bit: inc bx; dec cx; jnz. Same bytes, same address, three meanings. */
#define P_MODE 0x3100ULL
#define P_MODE_DONE 0x3105ULL
static const uint8_t prog_mode[] = { 0x43, 0xff, 0xc9, 0x75, 0xfb, 0xeb, 0xfe };
#define P_HLT 0x3200ULL
#define P_HLT_DONE 0x3201ULL
static const uint8_t prog_hlt[] = { 0xf4, 0xeb, 0xfe };
#define P_USER 0x4000ULL
#define P_USER_DONE 0x4018ULL
#define P_USER_SUPER_LOAD 0x400bULL /* 8 bytes long */
static const uint8_t prog_user[] = {
	0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x40, 0x00, /* 1: mov rax, [0x400000] */
	0x48, 0x01, 0xc3,                               /* add rbx, rax */
	0x48, 0x8b, 0x14, 0x25, 0x00, 0x10, 0x40, 0x00, /* mov rdx, [0x401000] (supervisor page) */
	0x48, 0xff, 0xc9, 0x75, 0xe8,                   /* dec rcx; jnz 1b */
	0xeb, 0xfe,                                     /* jmp . */
};
#define P_F 0x5000ULL
#define P_F_DONE 0x5005ULL
static const uint8_t prog_f[] = { 0xb8, 0x11, 0x00, 0x00, 0x00, 0xeb, 0xfe }; /* mov eax, 0x11 */
#define P_PATCH_ALIAS 0x6000ULL
#define P_PATCH_ALIAS_DONE 0x6008ULL
static const uint8_t prog_patch_alias[] = {
	0xc6, 0x04, 0x25, 0x01, 0x20, 0x40, 0x00, 0x22, /* mov byte [0x402001], 0x22 */
	0xeb, 0xfe,
};
#define P_PATCH_DIRECT 0x6020ULL
#define P_PATCH_DIRECT_DONE 0x6028ULL
static const uint8_t prog_patch_direct[] = {
	0xc6, 0x04, 0x25, 0x01, 0x50, 0x00, 0x00, 0x33, /* mov byte [0x5001], 0x33 */
	0xeb, 0xfe,
};
#define P_LOCK 0x7000ULL
#define P_LOCK_DONE 0x700dULL
static const uint8_t prog_lock[] = {
	0xf0, 0xff, 0x04, 0x25, 0x00, 0x00, 0x16, 0x00, /* 1: lock inc dword [0x160000] */
	0x48, 0xff, 0xc9, 0x75, 0xf3,                   /* dec rcx; jnz 1b */
	0xeb, 0xfe,
};
#define P_SWEEP 0x7100ULL
#define P_SWEEP_DONE 0x711dULL
static const uint8_t prog_sweep[] = {
	0x48, 0xc7, 0xc6, 0x00, 0x00, 0x80, 0x00, /* 1: mov rsi, 0x800000 */
	0x44, 0x89, 0xc2,                         /* mov edx, r8d (pages) */
	0x48, 0x03, 0x1e,                         /* 2: add rbx, [rsi] */
	0x48, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00, /* add rsi, 4096 */
	0xff, 0xca, 0x75, 0xf2,                   /* dec edx; jnz 2b */
	0x48, 0xff, 0xc9, 0x75, 0xe3,             /* dec rcx; jnz 1b */
	0xeb, 0xfe,
};
#define P_MMIO1 0x7200ULL
#define P_MMIO1_DONE 0x7217ULL
#define P_MMIO1_LOAD 0x7208ULL
static const uint8_t prog_mmio1[] = {
	0x48, 0xff, 0x04, 0x25, 0x00, 0x00, 0x17, 0x00, /* inc qword [0x170000] */
	0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x01,       /* mov eax, [0x1000000] (MMIO) */
	0x48, 0xff, 0x04, 0x25, 0x08, 0x00, 0x17, 0x00, /* inc qword [0x170008] */
	0xeb, 0xfe,
};
#define P_MMIOLOOP 0x7300ULL
#define P_MMIOLOOP_DONE 0x7317ULL
static const uint8_t prog_mmioloop[] = {
	0x48, 0xff, 0x04, 0x25, 0x10, 0x00, 0x17, 0x00, /* 1: inc qword [0x170010] */
	0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x01,       /* mov eax, [0x1000000] (MMIO) */
	0x48, 0x01, 0xc3,                               /* add rbx, rax */
	0x48, 0xff, 0xc9, 0x75, 0xe9,                   /* dec rcx; jnz 1b */
	0xeb, 0xfe,
};
#define P_UNM 0x7400ULL
#define P_UNM_DONE 0x742dULL
#define P_UNM_LOAD 0x7410ULL /* 7 bytes long */
static const uint8_t prog_unm[] = {
	0x48, 0xff, 0x04, 0x25, 0x20, 0x00, 0x17, 0x00, /* inc qword [0x170020] */
	0xb9, 0x05, 0x00, 0x00, 0x00, 0x83, 0xf9, 0x05, /* mov ecx, 5; cmp ecx, 5 (ZF = 1) */
	0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x01,       /* mov eax, [0x1001000] (nothing there) */
	0x74, 0x07,                                     /* jz 1f */
	0xbb, 0xad, 0x0b, 0x00, 0x00, 0xeb, 0x05,       /* mov ebx, 0xbad; jmp 2f */
	0xbb, 0x0d, 0x60, 0x00, 0x00,                   /* 1: mov ebx, 0x600d */
	0x48, 0xff, 0x04, 0x25, 0x28, 0x00, 0x17, 0x00, /* 2: inc qword [0x170028] */
	0xeb, 0xfe,
};
#define P_RO 0x7500ULL
#define P_RO_DONE 0x752dULL
#define P_RO_STORE 0x7510ULL /* 7 bytes long */
#define RO_PA 0x180000ULL
static const uint8_t prog_ro[] = {
	0x48, 0xff, 0x04, 0x25, 0x30, 0x00, 0x17, 0x00, /* inc qword [0x170030] */
	0xb9, 0x05, 0x00, 0x00, 0x00, 0x83, 0xf9, 0x05, /* mov ecx, 5; cmp ecx, 5 (ZF = 1) */
	0x89, 0x04, 0x25, 0x00, 0x00, 0x18, 0x00,       /* mov [0x180000], eax (read-only page) */
	0x74, 0x07,                                     /* jz 1f */
	0xbb, 0xad, 0x0b, 0x00, 0x00, 0xeb, 0x05,       /* mov ebx, 0xbad; jmp 2f */
	0xbb, 0x0d, 0x60, 0x00, 0x00,                   /* 1: mov ebx, 0x600d */
	0x48, 0xff, 0x04, 0x25, 0x38, 0x00, 0x17, 0x00, /* 2: inc qword [0x170038] */
	0xeb, 0xfe,
};

static uint8_t *ram;
/* Engines alive: setup_ram rewrites all of RAM from the host, which no
 * engine sees (K8), so it drops every engine's translated code. */
static uc_engine *live[8];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

static uint64_t rd64(uint64_t pa)
{
	uint64_t v;
	memcpy(&v, ram + pa, 8);
	return v;
}

static void wr64(uint64_t pa, uint64_t v)
{
	memcpy(ram + pa, &v, 8);
}

static void put(uint64_t pa, const void *p, size_t n)
{
	memcpy(ram + pa, p, n);
}

static void build_tables(uint64_t base, uint64_t tag, uint64_t code)
{
	uint64_t *pml4 = (uint64_t *)(ram + base), *pdpt = pml4 + 512, *pd = pdpt + 512,
		 *pt = pd + 512;
	pml4[0] = (base + 0x1000) | 7; /* present, writable, user */
	pdpt[0] = (base + 0x2000) | 7;
	for (uint64_t i = 0; i < 16; i++)
		pd[i] = (i << 21) | 0x87; /* 2 MiB pages */
	pd[2] = (base + 0x3000) | 7;
	for (uint64_t j = 0; j < 512; j++)
		pt[j] = (VIRT + j * PAGE) | 7;
	pt[0] = tag | 7;
	pt[1] = SUPER_PA | 3;	/* supervisor only */
	pt[2] = P_F | 7;	/* alias of the code page at 0x5000 */
	pt[3] = code | 7;
}

static void setup_ram(void)
{
	memset(ram, 0, RAM_SIZE);
	static const uint64_t gdt[] = {
		0,
		0x00af9a000000ffffULL, /* 0x08 code64 DPL0 */
		0x00cf92000000ffffULL, /* 0x10 data DPL0 */
		0x00cf9a000000ffffULL, /* 0x18 code32 DPL0 */
		0x00009a000000ffffULL, /* 0x20 code16 DPL0 */
		0x000092000000ffffULL, /* 0x28 data16 DPL0 */
		0x00affa000000ffffULL, /* 0x30 code64 DPL3 */
		0x00cff2000000ffffULL, /* 0x38 data DPL3 */
	};
	put(GDT_PA, gdt, sizeof(gdt));
	build_tables(TABLES_A, TAG_A, CODE_A);
	build_tables(TABLES_B, TAG_B, CODE_B);
	/* at virtual 0x403000: 1: add rbx, 0xa (A) or 0xb (B); dec rcx; jnz 1b; jmp . */
	static const uint8_t vcode[] = { 0x48, 0x83, 0xc3, 0x0a, 0x48, 0xff, 0xc9, 0x75, 0xf7, 0xeb, 0xfe };
	put(CODE_A, vcode, sizeof(vcode));
	put(CODE_B, vcode, sizeof(vcode));
	ram[CODE_B + 3] = 0x0b;
	put(0x2000, stub64, sizeof(stub64));
	put(0x2100, stub32, sizeof(stub32));
	put(0x2200, stub16, sizeof(stub16));
	put(0x2300, stub_real, sizeof(stub_real));
	put(0x2400, stub_user, sizeof(stub_user));
	put(P_RW, prog_rw, sizeof(prog_rw));
	put(P_MODE, prog_mode, sizeof(prog_mode));
	put(P_HLT, prog_hlt, sizeof(prog_hlt));
	put(P_USER, prog_user, sizeof(prog_user));
	put(P_F, prog_f, sizeof(prog_f));
	put(P_PATCH_ALIAS, prog_patch_alias, sizeof(prog_patch_alias));
	put(P_PATCH_DIRECT, prog_patch_direct, sizeof(prog_patch_direct));
	put(P_LOCK, prog_lock, sizeof(prog_lock));
	put(P_SWEEP, prog_sweep, sizeof(prog_sweep));
	put(P_MMIO1, prog_mmio1, sizeof(prog_mmio1));
	put(P_MMIOLOOP, prog_mmioloop, sizeof(prog_mmioloop));
	put(P_UNM, prog_unm, sizeof(prog_unm));
	put(P_RO, prog_ro, sizeof(prog_ro));
	wr64(TAG_A, 0xa);
	wr64(TAG_B, 0xb);
	wr64(SUPER_PA, 0x5);
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i])
			uc_ctl_flush_tb(live[i]);
}

/* ---- one vCPU context and the hooks that see it ---- */

struct vc {
	const char *name;
	uc_context *ctx;
	uint64_t done;	/* the block hook stops here and marks it finished */
	bool finished;
	uint64_t pf;	/* #PF reported while this context ran */
	uint64_t other_intr;
	uint64_t blocks;
};

static struct vc *cur;
static long budget = -1; /* blocks the current run may start; -1: unlimited */

enum mmio_mode { MMIO_PLAIN, MMIO_STOP_FIRST, MMIO_NEST, MMIO_NEST_REMAP };
static enum mmio_mode mmio_mode;
static uint64_t mmio_calls, mmio_rip_in_cb;
static struct vc *nest_waiter, *nest_other;
static long nest_k;
static uint64_t nest_runs;
static uc_err nest_err;

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
	if (addr == cur->done) {
		cur->finished = true;
		uc_emu_stop(uc);
		return;
	}
	if (budget == 0) {
		uc_emu_stop(uc); /* K3: this block does not run; RIP is its start */
		return;
	}
	if (budget > 0)
		budget--;
	cur->blocks++;
}

/*
 * libunicorn never runs do_interrupt, so env->old_exception stays 14 after a
 * #PF and the next #PF is raised as #DF (the tcg backend clears it the same
 * way, tcg_deliver.c). It lives in the context, 112 bytes after
 * env->error_code: found once by its values after the first fault (14,
 * error code 5 = present + user, exception_is_int 0).
 */
static uc_context *scratch;
static long old_exc_off = -1;

static void clear_old_exception(uc_engine *uc)
{
	if (uc_context_save(uc, scratch))
		return;
	char *d = (char *)scratch;
	if (old_exc_off < 0) {
		size_t size = uc_context_size(uc);
		int hits = 0;
		for (size_t off = 112; off + 4 <= size; off += 4) {
			int32_t x, err, soft;
			memcpy(&x, d + off, 4);
			memcpy(&err, d + off - 112, 4);
			memcpy(&soft, d + off - 108, 4);
			if (x == 14 && err == 5 && soft == 0) {
				old_exc_off = (long)off;
				hits++;
			}
		}
		if (hits != 1) {
			fprintf(stderr, "old_exception not found (%d candidates)\n", hits);
			exit(1);
		}
	}
	int32_t none = -1;
	memcpy(d + old_exc_off, &none, 4);
	uc_context_restore(uc, scratch);
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *ud)
{
	uint64_t rip = 0;
	uc_reg_read(uc, UC_X86_REG_RIP, &rip);
	if (intno == 14 && rip == P_USER_SUPER_LOAD) {
		cur->pf++;
		clear_old_exception(uc);
		rip += 8; /* skip the load, as a handler would */
		uc_reg_write(uc, UC_X86_REG_RIP, &rip);
		return;
	}
	if (getenv("PROBE_DEBUG") && cur->other_intr < 5)
		fprintf(stderr, "intr %u at 0x%" PRIx64 " in %s\n", intno, rip, cur->name);
	cur->other_intr++;
	uc_emu_stop(uc);
}

static void hook_sync(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
		      void *ud)
{
}

static void resume(uc_engine *uc, struct vc *v, long k, bool flush);

static uint64_t mmio_read(uc_engine *uc, uint64_t off, unsigned size, void *ud)
{
	mmio_calls++;
	if (mmio_mode == MMIO_STOP_FIRST && mmio_calls == 1) {
		uc_reg_read(uc, UC_X86_REG_RIP, &mmio_rip_in_cb);
		uc_emu_stop(uc);
		return 0xdead;
	}
	if (mmio_mode == MMIO_NEST_REMAP && cur == nest_waiter) {
		/* While the waiter waits, the MMIO page it is reading becomes RAM
		 * (a type change applied by the one engine's thread, K3). */
		mmio_mode = MMIO_PLAIN;
		uc_mem_unmap(uc, MMIO_PA, PAGE);
		uc_mem_map_ptr(uc, MMIO_PA, PAGE, UC_PROT_ALL, ram + SWEEP_PA);
		nest_runs++;
		return 3;
	}
	if (mmio_mode == MMIO_NEST && cur == nest_waiter) {
		/* The waiter's state is mid-instruction but complete in env:
		 * park it, run another context nested, put it back. */
		struct vc *me = cur;
		long my_budget = budget;
		uc_context_save(uc, me->ctx);
		resume(uc, nest_other, nest_k, true);
		uc_context_restore(uc, me->ctx);
		uc_ctl_flush_tlb(uc);
		cur = me;
		budget = my_budget;
		nest_runs++;
	}
	return 3;
}

static void mmio_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t value, void *ud)
{
}

static uc_engine *engine_new(bool sync_hook)
{
	uc_engine *uc;
	uc_hook h;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc)) {
		fprintf(stderr, "uc_open failed\n");
		exit(1);
	}
	uc_err e = uc_mem_map_ptr(uc, 0, RAM_SIZE, UC_PROT_ALL, ram);
	if (!e)
		e = uc_mmio_map(uc, MMIO_PA, PAGE, mmio_read, NULL, mmio_write, NULL);
	if (!e)
		e = uc_hook_add(uc, &h, UC_HOOK_BLOCK, hook_block, NULL, 1, 0);
	if (!e)
		e = uc_hook_add(uc, &h, UC_HOOK_INTR, hook_intr, NULL, 1, 0);
	/* As the tcg backend (K11): makes RIP exact at every guest access. */
	if (!e && sync_hook)
		e = uc_hook_add(uc, &h, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, hook_sync, NULL,
				SYNC_BYTE, SYNC_BYTE);
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		if (!live[i]) {
			live[i] = uc;
			break;
		}
	}
	uc_x86_mmr gdtr = { .base = GDT_PA, .limit = 0x3f };
	if (!e)
		e = uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
	if (e) {
		fprintf(stderr, "engine setup: %s\n", uc_strerror(e));
		exit(1);
	}
	return uc;
}

static void engine_close(uc_engine *uc)
{
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i] == uc)
			live[i] = NULL;
	uc_close(uc);
}

static void wreg(uc_engine *uc, int reg, uint64_t v)
{
	uc_reg_write(uc, reg, &v);
}

static uint64_t rreg(uc_engine *uc, int reg)
{
	uint64_t v = 0;
	uc_reg_read(uc, reg, &v);
	return v;
}

static uint64_t efer(uc_engine *uc)
{
	uc_x86_msr m = { .rid = 0xc0000080, .value = 0 };
	uc_reg_read(uc, UC_X86_REG_MSR, &m);
	return m.value;
}

/* Long mode with 4-level paging on @cr3 (2.1.1 applies CR writes: update_cr0/3/4). */
static void long_mode(uc_engine *uc, uint64_t cr3)
{
	wreg(uc, UC_X86_REG_CR3, cr3);
	wreg(uc, UC_X86_REG_CR4, 0x20);
	wreg(uc, UC_X86_REG_CR0, 0x80000011);
}

/* A context from the engine's reset state, optionally in long mode on @cr3. */
static struct vc *vc_new(uc_engine *uc, uc_context *reset, const char *name, uint64_t cr3)
{
	struct vc *v = calloc(1, sizeof(*v));
	v->name = name;
	if (uc_context_alloc(uc, &v->ctx)) {
		fprintf(stderr, "uc_context_alloc failed\n");
		exit(1);
	}
	uc_context_restore(uc, reset);
	uc_ctl_flush_tlb(uc);
	if (cr3)
		long_mode(uc, cr3);
	uc_context_save(uc, v->ctx);
	return v;
}

static void vc_free(struct vc *v)
{
	uc_context_free(v->ctx);
	free(v);
}

/* Put @v on the engine and run it from its RIP until @k more blocks, its DONE, or a stop. */
static void resume(uc_engine *uc, struct vc *v, long k, bool flush)
{
	uc_context_restore(uc, v->ctx);
	if (flush)
		uc_ctl_flush_tlb(uc);
	cur = v;
	budget = k;
	uint64_t rip = rreg(uc, UC_X86_REG_RIP);
	uc_err e = uc_emu_start(uc, rip, 0, 0, 0);
	if (e && e != UC_ERR_READ_UNMAPPED && e != UC_ERR_WRITE_PROT) /* e3, e4 */
		fprintf(stderr, "%s: uc_emu_start: %s at 0x%" PRIx64 "\n", v->name, uc_strerror(e),
			rreg(uc, UC_X86_REG_RIP));
	uc_context_save(uc, v->ctx);
}

/* Start @v at @rip (registers as in its context) and run it to @done. */
static void run_at(uc_engine *uc, struct vc *v, uint64_t rip, uint64_t done, bool flush)
{
	uc_context_restore(uc, v->ctx);
	wreg(uc, UC_X86_REG_RIP, rip);
	uc_context_save(uc, v->ctx);
	v->done = done;
	v->finished = false;
	resume(uc, v, -1, flush);
}

/* Registers of a context: put it on the (idle) engine and read. */
static uint64_t vreg(uc_engine *uc, struct vc *v, int reg)
{
	uc_context_restore(uc, v->ctx);
	return rreg(uc, reg);
}

static void vset(uc_engine *uc, struct vc *v, int reg, uint64_t val)
{
	uc_context_restore(uc, v->ctx);
	wreg(uc, reg, val);
	uc_context_save(uc, v->ctx);
}

/* Round robin over @n contexts, @k blocks a slice, until every one is at its DONE. */
static uint64_t alternate(uc_engine *uc, struct vc **v, int n, long k, bool flush)
{
	uint64_t slices = 0;
	bool any;
	do {
		any = false;
		for (int i = 0; i < n; i++) {
			if (v[i]->finished)
				continue;
			resume(uc, v[i], k, flush);
			slices++;
			any = true;
		}
		if (slices > 20000000) {
			fprintf(stderr, "alternate: no end after %" PRIu64 " slices\n", slices);
			break;
		}
	} while (any);
	return slices;
}

static const char *verdict(bool ok)
{
	return ok ? "exact" : "WRONG";
}

/* ---- a: exactness ---- */

static void probe_cr3(uc_context *reset, uc_engine *uc, bool flush)
{
	const uint64_t n = 1000000;
	setup_ram();
	struct vc *a = vc_new(uc, reset, "A", TABLES_A), *b = vc_new(uc, reset, "B", TABLES_B);
	struct vc *v[2] = { a, b };
	for (int i = 0; i < 2; i++) {
		vset(uc, v[i], UC_X86_REG_RCX, n);
		vset(uc, v[i], UC_X86_REG_RIP, P_RW);
		v[i]->done = P_RW_DONE;
	}
	uint64_t t0 = now_ns();
	uint64_t slices = alternate(uc, v, 2, 7, flush);
	uint64_t t1 = now_ns();
	uint64_t ra = vreg(uc, a, UC_X86_REG_RBX), rb = vreg(uc, b, UC_X86_REG_RBX);
	uint64_t wa = rd64(TAG_A + 8), wb = rd64(TAG_B + 8);
	bool ok = ra == n * 0xa && rb == n * 0xb && wa == n && wb == n;
	printf("a1 CR3 swap %s flush: %" PRIu64 " slices of 7 blocks (%.0f ns a slice); "
	       "A read sum %" PRIu64 " (want %" PRIu64 "), B %" PRIu64 " (want %" PRIu64 "); "
	       "writes: A's page %" PRIu64 ", B's page %" PRIu64 " (want %" PRIu64 " each): %s\n",
	       flush ? "with" : "WITHOUT", slices, (double)(t1 - t0) / (double)slices, ra, n * 0xa,
	       rb, n * 0xb, wa, wb, n, verdict(ok));
	vc_free(a);
	vc_free(b);
}

/* Same virtual code address, different code behind it in each context's tables (two processes). */
static void probe_cr3_code(uc_context *reset, uc_engine *uc, bool flush)
{
	const uint64_t n = 1000000;
	setup_ram();
	struct vc *a = vc_new(uc, reset, "A", TABLES_A), *b = vc_new(uc, reset, "B", TABLES_B);
	struct vc *v[2] = { a, b };
	for (int i = 0; i < 2; i++) {
		vset(uc, v[i], UC_X86_REG_RCX, n);
		vset(uc, v[i], UC_X86_REG_RIP, VCODE);
		v[i]->done = VCODE_DONE;
	}
	uint64_t slices = alternate(uc, v, 2, 7, flush);
	uint64_t ra = vreg(uc, a, UC_X86_REG_RBX), rb = vreg(uc, b, UC_X86_REG_RBX);
	printf("a1 CR3 swap %s flush, code: %" PRIu64 " slices; 'add rbx, imm' at virtual 0x%llx is 0xa in "
	       "A's tables, 0xb in B's: sums %" PRIu64 " (want %" PRIu64 ") %" PRIu64 " (want %" PRIu64 "): %s\n",
	       flush ? "with" : "WITHOUT", slices, (unsigned long long)VCODE, ra, n * 0xa, rb, n * 0xb,
	       verdict(ra == n * 0xa && rb == n * 0xb));
	vc_free(a);
	vc_free(b);
}

/* A context brought to 32-bit protected mode (@real false) or real mode by the stub. */
static struct vc *vc_legacy(uc_engine *uc, uc_context *reset, const char *name, bool real)
{
	struct vc *v = vc_new(uc, reset, name, TABLES_A);
	vset(uc, v, UC_X86_REG_RBX, real);
	run_at(uc, v, 0x2000, 0, true);
	return v;
}

static void probe_modes(uc_context *reset, uc_engine *uc)
{
	const uint64_t n = 60000;
	setup_ram();
	struct vc *l = vc_new(uc, reset, "long", TABLES_A);
	struct vc *p = vc_legacy(uc, reset, "prot32", false);
	struct vc *r = vc_legacy(uc, reset, "real", true);
	struct vc *v[3] = { l, p, r };
	uint64_t cr0[3], ef[3], rip[3];
	for (int i = 0; i < 3; i++) {
		cr0[i] = vreg(uc, v[i], UC_X86_REG_CR0);
		ef[i] = efer(uc);
		rip[i] = rreg(uc, UC_X86_REG_RIP);
		vset(uc, v[i], UC_X86_REG_RBX, 0);
		vset(uc, v[i], UC_X86_REG_RCX, n);
		vset(uc, v[i], UC_X86_REG_R9, n);
		vset(uc, v[i], UC_X86_REG_RIP, P_MODE);
		v[i]->done = P_MODE_DONE;
		v[i]->finished = false;
	}
	printf("a2 states before: long CR0 0x%" PRIx64 " EFER 0x%" PRIx64
	       "; prot32 CR0 0x%" PRIx64 " EFER 0x%" PRIx64 " (stub stopped at 0x%" PRIx64
	       "); real CR0 0x%" PRIx64 " EFER 0x%" PRIx64 " (at 0x%" PRIx64 ")\n",
	       cr0[0], ef[0], cr0[1], ef[1], rip[1], cr0[2], ef[2], rip[2]);
	uint64_t slices = alternate(uc, v, 3, 3, true);
	uint64_t lb = vreg(uc, l, UC_X86_REG_RBX), lr9 = vreg(uc, l, UC_X86_REG_R9);
	uint64_t pb = vreg(uc, p, UC_X86_REG_RBX) & 0xffffffff, pc = vreg(uc, p, UC_X86_REG_RCX);
	uint64_t rbx = vreg(uc, r, UC_X86_REG_RBX) & 0xffff, rc = vreg(uc, r, UC_X86_REG_RCX) & 0xffff;
	bool ok = lb == 0 && lr9 == 0 && pb == n && (pc & 0xffffffff) == 0 && rbx == n && rc == 0;
	printf("a2 same bytes at 0x%llx in three modes, %" PRIu64 " slices of 3 blocks: "
	       "long: rbx %" PRIu64 " r9 %" PRIu64 " (want 0 0, 'dec r9d'); "
	       "prot32: ebx %" PRIu64 " ecx %" PRIu64 " (want %" PRIu64 " 0, 'inc ebx'); "
	       "real: bx %" PRIu64 " cx %" PRIu64 " (want %" PRIu64 " 0, 'inc bx'): %s\n",
	       (unsigned long long)P_MODE, slices, lb, lr9, pb, pc & 0xffffffff, n, rbx, rc, n,
	       verdict(ok));
	uint64_t after[3] = { vreg(uc, l, UC_X86_REG_CR0), vreg(uc, p, UC_X86_REG_CR0),
			      vreg(uc, r, UC_X86_REG_CR0) };
	printf("a2 CR0 after: long 0x%" PRIx64 " prot32 0x%" PRIx64 " real 0x%" PRIx64 " (%s)\n",
	       after[0], after[1], after[2],
	       after[0] == cr0[0] && after[1] == cr0[1] && after[2] == cr0[2] ? "unchanged"
									       : "CHANGED");
	vc_free(l);
	vc_free(p);
	vc_free(r);
}

static void probe_cpl(uc_context *reset, uc_engine *uc)
{
	const uint64_t n = 100000;
	setup_ram();
	struct vc *k = vc_new(uc, reset, "cpl0", TABLES_A);
	struct vc *u = vc_new(uc, reset, "cpl3", TABLES_A);
	run_at(uc, u, 0x2400, P_USER, true); /* iretq to CPL3; stops at 0x4000 */
	uint64_t cs = vreg(uc, u, UC_X86_REG_CS), ss = vreg(uc, u, UC_X86_REG_SS);
	struct vc *v[2] = { k, u };
	for (int i = 0; i < 2; i++) {
		vset(uc, v[i], UC_X86_REG_RCX, n);
		vset(uc, v[i], UC_X86_REG_RBX, 0);
		vset(uc, v[i], UC_X86_REG_RIP, P_USER);
		v[i]->done = P_USER_DONE;
		v[i]->finished = false;
	}
	uint64_t slices = alternate(uc, v, 2, 5, true);
	uint64_t kb = vreg(uc, k, UC_X86_REG_RBX), ub = vreg(uc, u, UC_X86_REG_RBX);
	bool ok = k->pf == 0 && u->pf == n && kb == n * 0xa && ub == n * 0xa && !k->other_intr &&
		  !u->other_intr;
	printf("a3 CPL0 and CPL3 (cs 0x%" PRIx64 " ss 0x%" PRIx64 ") contexts, %" PRIu64
	       " slices of 5 blocks, each loop reads a supervisor-only page: #PF at CPL0 %" PRIu64
	       " (want 0), at CPL3 %" PRIu64 " (want %" PRIu64 "), other exceptions %" PRIu64
	       "; sums %" PRIu64 " %" PRIu64 " (want %" PRIu64 "): %s\n",
	       cs, ss, slices, k->pf, u->pf, n, k->other_intr + u->other_intr, kb, ub, n * 0xa,
	       verdict(ok));
	vc_free(k);
	vc_free(u);
}

static void probe_halt(uc_context *reset, uc_engine *uc)
{
	setup_ram();
	struct vc *h = vc_new(uc, reset, "halter", TABLES_A);
	struct vc *o = vc_new(uc, reset, "other", TABLES_B);
	run_at(uc, h, P_HLT, P_HLT_DONE, true);
	uint64_t hrip = vreg(uc, h, UC_X86_REG_RIP);
	vset(uc, o, UC_X86_REG_RCX, 1000000);
	vset(uc, o, UC_X86_REG_RIP, P_RW);
	o->done = P_RW_DONE;
	resume(uc, o, 100, true);
	printf("a4 a context halted (RIP 0x%" PRIx64 " after HLT), then another ran: %" PRIu64
	       " of 100 blocks (%s)\n",
	       hrip, o->blocks, o->blocks == 100 ? "not halted" : "WRONG");
	vc_free(h);
	vc_free(o);
}

/* ---- b: code written by one context, run by another ---- */

static void probe_smc_one(uc_context *reset, uc_engine *uc, bool flush);
static void probe_smc_two(void);

static void probe_smc(uc_context *reset, uc_engine *uc)
{
	for (int flush = 1; flush >= 0; flush--)
		probe_smc_one(reset, uc, flush);
	probe_smc_two();
}

static void probe_smc_one(uc_context *reset, uc_engine *uc, bool flush)
{
	setup_ram();
	struct vc *a = vc_new(uc, reset, "writer", TABLES_A), *b = vc_new(uc, reset, "runner", TABLES_B);
	uint64_t eax[3];
	run_at(uc, b, P_F, P_F_DONE, flush);
	eax[0] = vreg(uc, b, UC_X86_REG_RAX);
	run_at(uc, a, P_PATCH_ALIAS, P_PATCH_ALIAS_DONE, flush);
	run_at(uc, b, P_F, P_F_DONE, flush);
	eax[1] = vreg(uc, b, UC_X86_REG_RAX);
	run_at(uc, a, P_PATCH_DIRECT, P_PATCH_DIRECT_DONE, flush);
	run_at(uc, b, P_F, P_F_DONE, flush);
	eax[2] = vreg(uc, b, UC_X86_REG_RAX);
	printf("b1 one engine, swaps %s TLB flush: B runs 'mov eax, 0x11' -> 0x%" PRIx64
	       "; A patches the immediate through an alias mapping (0x402000 -> 0x5000) -> B gets 0x%" PRIx64
	       "; A patches it at 0x5001 -> B gets 0x%" PRIx64 ": %s\n",
	       flush ? "with" : "without", eax[0], eax[1], eax[2],
	       verdict(eax[0] == 0x11 && eax[1] == 0x22 && eax[2] == 0x33));
	vc_free(a);
	vc_free(b);
}

/* Today's layout: the writer and the runner in engines of their own. */
static void probe_smc_two(void)
{
	struct vc *a, *b;
	uint64_t eax[3];
	setup_ram();
	uc_engine *e1 = engine_new(true), *e2 = engine_new(true);
	uc_context *r1, *r2;
	uc_context_alloc(e1, &r1);
	uc_context_save(e1, r1);
	uc_context_alloc(e2, &r2);
	uc_context_save(e2, r2);
	b = vc_new(e1, r1, "runner", TABLES_B);
	a = vc_new(e2, r2, "writer", TABLES_A);
	run_at(e1, b, P_F, P_F_DONE, true);
	eax[0] = vreg(e1, b, UC_X86_REG_RAX);
	run_at(e2, a, P_PATCH_ALIAS, P_PATCH_ALIAS_DONE, true);
	run_at(e1, b, P_F, P_F_DONE, true);
	eax[1] = vreg(e1, b, UC_X86_REG_RAX);
	run_at(e2, a, P_PATCH_DIRECT, P_PATCH_DIRECT_DONE, true);
	run_at(e1, b, P_F, P_F_DONE, true);
	eax[2] = vreg(e1, b, UC_X86_REG_RAX);
	printf("b2 two engines: B 0x%" PRIx64 ", after A's alias patch 0x%" PRIx64
	       ", after A's direct patch 0x%" PRIx64 " (memory holds 0x%02x): %s\n",
	       eax[0], eax[1], eax[2], ram[P_F + 1],
	       eax[1] == 0x22 && eax[2] == 0x33 ? "new code" : "stale code (K8)");
	vc_free(a);
	vc_free(b);
	uc_context_free(r1);
	uc_context_free(r2);
	engine_close(e1);
	engine_close(e2);
}

/* ---- c: atomics ---- */

static void probe_lock(uc_context *reset, uc_engine *uc, uint64_t n, long k)
{
	setup_ram();
	struct vc *a = vc_new(uc, reset, "A", TABLES_A), *b = vc_new(uc, reset, "B", TABLES_B);
	struct vc *v[2] = { a, b };
	for (int i = 0; i < 2; i++) {
		vset(uc, v[i], UC_X86_REG_RCX, n);
		vset(uc, v[i], UC_X86_REG_RIP, P_LOCK);
		v[i]->done = P_LOCK_DONE;
	}
	uint64_t t0 = now_ns();
	uint64_t slices = alternate(uc, v, 2, k, true);
	uint64_t t1 = now_ns();
	uint32_t got;
	memcpy(&got, ram + LOCK_PA, 4);
	printf("c  one engine, two contexts, %" PRIu64 " LOCK INC each, swapped every %ld blocks "
	       "(%" PRIu64 " slices, %.1f M inc/s): counter %u, %" PRId64 " lost: %s\n",
	       n, k, slices, 2.0 * (double)n / ((double)(t1 - t0) / 1e3), got,
	       (int64_t)(2 * n) - (int64_t)got, verdict(got == 2 * n));
	vc_free(a);
	vc_free(b);
}

/* ---- d: costs ---- */

static void probe_switch_cost(uc_context *reset, uc_engine *uc)
{
	const int m = 200000;
	setup_ram();
	struct vc *a = vc_new(uc, reset, "A", TABLES_A), *b = vc_new(uc, reset, "B", TABLES_B);
	printf("d1 context size %zu bytes (CPUX86State up to retaddr)\n",
	       uc_context_size(uc));
	uint64_t t0 = now_ns();
	for (int i = 0; i < m; i++)
		uc_context_save(uc, (i & 1) ? a->ctx : b->ctx);
	uint64_t t1 = now_ns();
	for (int i = 0; i < m; i++)
		uc_context_restore(uc, (i & 1) ? a->ctx : b->ctx);
	uint64_t t2 = now_ns();
	for (int i = 0; i < m; i++)
		uc_ctl_flush_tlb(uc);
	uint64_t t3 = now_ns();
	printf("d1 save %.0f ns, restore %.0f ns, flush (idle TLB) %.0f ns\n",
	       (double)(t1 - t0) / m, (double)(t2 - t1) / m, (double)(t3 - t2) / m);

	/* Slices of one block each (lock loop): the whole run/stop/switch path. */
	const uint64_t n = 400000;
	struct vc *v[2] = { a, b };
	double per[3];
	for (int scheme = 0; scheme < 2; scheme++) {
		setup_ram();
		for (int i = 0; i < 2; i++) {
			vset(uc, v[i], UC_X86_REG_RCX, scheme == 0 ? 2 * n : n);
			vset(uc, v[i], UC_X86_REG_RIP, P_LOCK);
			v[i]->done = P_LOCK_DONE;
			v[i]->finished = false;
		}
		uint64_t s0 = now_ns(), slices;
		if (scheme == 0) { /* one context only: stop and start, no swap */
			uc_context_restore(uc, a->ctx);
			cur = a;
			slices = 0;
			while (!a->finished) {
				budget = 1;
				uc_emu_start(uc, rreg(uc, UC_X86_REG_RIP), 0, 0, 0);
				slices++;
			}
		} else {
			slices = alternate(uc, v, 2, 1, true);
		}
		per[scheme] = (double)(now_ns() - s0) / (double)slices;
	}
	/* Two engines driven by one thread: no swap, no flush (bench_tcg_sched's scheme A). */
	uc_engine *e[2] = { engine_new(true), engine_new(true) };
	struct vc *ev[2];
	setup_ram();
	for (int i = 0; i < 2; i++) {
		uc_context *r;
		uc_context_alloc(e[i], &r);
		uc_context_save(e[i], r);
		ev[i] = vc_new(e[i], r, "E", i ? TABLES_B : TABLES_A);
		uc_context_free(r);
		uc_context_restore(e[i], ev[i]->ctx);
		wreg(e[i], UC_X86_REG_RCX, n);
		wreg(e[i], UC_X86_REG_RIP, P_LOCK);
		ev[i]->done = P_LOCK_DONE;
	}
	uint64_t s0 = now_ns(), slices = 0;
	while (!ev[0]->finished || !ev[1]->finished) {
		for (int i = 0; i < 2; i++) {
			if (ev[i]->finished)
				continue;
			cur = ev[i];
			budget = 1;
			uc_emu_start(e[i], rreg(e[i], UC_X86_REG_RIP), 0, 0, 0);
			slices++;
		}
	}
	per[2] = (double)(now_ns() - s0) / (double)slices;
	uint32_t got;
	memcpy(&got, ram + LOCK_PA, 4);
	printf("d2 one-block slices: one engine, one context (stop/start only) %.0f ns a slice; "
	       "one engine, two contexts swapped (save+restore+flush) %.0f ns; two engines, one "
	       "thread %.0f ns (counter %u of %" PRIu64 ")\n",
	       per[0], per[1], per[2], got, 2 * n);
	for (int i = 0; i < 2; i++) {
		vc_free(ev[i]);
		engine_close(e[i]);
	}
	vc_free(a);
	vc_free(b);
}

/* One pass over @pages pages (one 8-byte load each), median of many runs, after a TLB flush or warm. */
static void probe_refill(uc_context *reset, uc_engine *uc)
{
	static const uint64_t sizes[] = { 16, 64, 512 };
	setup_ram();
	struct vc *s = vc_new(uc, reset, "sweep", TABLES_A);
	s->done = P_SWEEP_DONE;
	enum { REPS = 3000 };
	static uint64_t t[REPS];
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		uint64_t med[2];
		for (int flush = 1; flush >= 0; flush--) {
			for (int rep = -300; rep < REPS; rep++) {
				uc_context_restore(uc, s->ctx);
				wreg(uc, UC_X86_REG_RCX, 1);
				wreg(uc, UC_X86_REG_R8, sizes[z]);
				/* warm-up with flushes lets the TLB grow to its working size */
				if (flush || rep < -150)
					uc_ctl_flush_tlb(uc);
				cur = s;
				budget = -1;
				s->finished = false;
				uint64_t t0 = now_ns();
				uc_emu_start(uc, P_SWEEP, 0, 0, 0);
				uint64_t t1 = now_ns();
				if (rep >= 0)
					t[rep] = t1 - t0;
			}
			med[flush] = median(t, REPS);
		}
		double extra = (double)med[1] - (double)med[0];
		printf("d3 %3" PRIu64 " pages, one load each: warm %" PRIu64 " ns, after a flush %" PRIu64
		       " ns: refill %.0f ns (%.0f ns a page), %.3f%% of a 4 ms slice\n",
		       sizes[z], med[0], med[1], extra, extra / (double)sizes[z],
		       100.0 * extra / 4e6);
	}
	vc_free(s);
}

/* K4: flip one page RAM <-> MMIO with @regions one-page regions in each of @engines engines. */
static void probe_flip(int engines, unsigned regions)
{
	uc_engine *e[4];
	uint8_t *buf = mmap(NULL, (size_t)regions * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < engines; i++) {
		if (uc_open(UC_ARCH_X86, UC_MODE_64, &e[i]))
			exit(1);
		for (unsigned r = 0; r < regions; r++)
			uc_mem_map_ptr(e[i], (uint64_t)r * 2 * PAGE, PAGE, UC_PROT_ALL, buf + r * PAGE);
	}
	const uint64_t flip = (uint64_t)(regions / 2) * 2 * PAGE;
	const int m = 200;
	uint64_t t0 = now_ns();
	for (int k = 0; k < m; k++) {
		for (int i = 0; i < engines; i++) {
			uc_mem_unmap(e[i], flip, PAGE);
			uc_mmio_map(e[i], flip, PAGE, mmio_read, NULL, mmio_write, NULL);
		}
		for (int i = 0; i < engines; i++) {
			uc_mem_unmap(e[i], flip, PAGE);
			uc_mem_map_ptr(e[i], flip, PAGE, UC_PROT_ALL, buf + (regions / 2) * PAGE);
		}
	}
	uint64_t t1 = now_ns();
	printf("d4 %u regions an engine, %d engine%s: %.1f us per type change (RAM -> MMIO or back) "
	       "applied to all\n",
	       regions, engines, engines > 1 ? "s" : "", (double)(t1 - t0) / (2.0 * m) / 1e3);
	for (int i = 0; i < engines; i++)
		uc_close(e[i]);
	munmap(buf, (size_t)regions * PAGE);
}

/* ---- e: waiting inside an MMIO callback ---- */

static void probe_mmio_stop(bool sync)
{
	setup_ram();
	uc_engine *uc = engine_new(sync);
	uc_context *reset;
	uc_context_alloc(uc, &reset);
	uc_context_save(uc, reset);
	struct vc *a = vc_new(uc, reset, "A", TABLES_A);
	mmio_mode = MMIO_STOP_FIRST;
	mmio_calls = 0;
	mmio_rip_in_cb = 0;
	run_at(uc, a, P_MMIO1, P_MMIO1_DONE, true);
	uint64_t rip = vreg(uc, a, UC_X86_REG_RIP), eax1 = vreg(uc, a, UC_X86_REG_RAX) & 0xffffffff;
	uint64_t x1 = rd64(CNT_PA), y1 = rd64(CNT_PA + 8), calls1 = mmio_calls;
	bool fin1 = a->finished;
	if (!a->finished)
		resume(uc, a, -1, true);
	uint64_t eax2 = vreg(uc, a, UC_X86_REG_RAX) & 0xffffffff;
	printf("e1 uc_emu_stop in an MMIO read callback (%s READ|WRITE hook), block 'inc [X]; mov eax, [mmio]; "
	       "inc [Y]' at 0x%llx, load at 0x%llx: RIP in callback 0x%" PRIx64 "; run ended %s with RIP 0x%" PRIx64
	       ", X %" PRIu64 " Y %" PRIu64 " eax 0x%" PRIx64 "; after resuming there: X %" PRIu64 " Y %" PRIu64
	       " eax 0x%" PRIx64 ", callbacks %" PRIu64 " (then %" PRIu64 ")\n",
	       sync ? "with" : "without", (unsigned long long)P_MMIO1, (unsigned long long)P_MMIO1_LOAD,
	       mmio_rip_in_cb, fin1 ? "at DONE" : "early", rip, x1, y1, eax1, rd64(CNT_PA),
	       rd64(CNT_PA + 8), eax2, mmio_calls, calls1);
	mmio_mode = MMIO_PLAIN;
	vc_free(a);
	uc_context_free(reset);
	engine_close(uc);
}

static void probe_mmio_nest(long k)
{
	const uint64_t n = 20000, bn = 1000000000ULL;
	setup_ram();
	uc_engine *uc = engine_new(true);
	uc_context *reset;
	uc_context_alloc(uc, &reset);
	uc_context_save(uc, reset);
	struct vc *a = vc_new(uc, reset, "waiter", TABLES_A), *b = vc_new(uc, reset, "other", TABLES_B);
	vset(uc, a, UC_X86_REG_RCX, n);
	vset(uc, a, UC_X86_REG_RIP, P_MMIOLOOP);
	a->done = P_MMIOLOOP_DONE;
	vset(uc, b, UC_X86_REG_RCX, bn);
	vset(uc, b, UC_X86_REG_RIP, P_LOCK);
	b->done = P_LOCK_DONE;
	mmio_mode = MMIO_NEST;
	mmio_calls = 0;
	nest_waiter = a;
	nest_other = b;
	nest_k = k;
	nest_runs = 0;
	nest_err = UC_ERR_OK;
	uint64_t outer = 0, t0 = now_ns();
	while (!a->finished && outer < 10 * n) {
		resume(uc, a, -1, true);
		outer++;
	}
	uint64_t t1 = now_ns();
	mmio_mode = MMIO_PLAIN;
	uint64_t arbx = vreg(uc, a, UC_X86_REG_RBX), brcx = vreg(uc, b, UC_X86_REG_RCX);
	uint32_t cnt;
	memcpy(&cnt, ram + LOCK_PA, 4);
	bool ok = a->finished && arbx == 3 * n && rd64(CNT_PA + 16) == n && mmio_calls == n &&
		  cnt == bn - brcx && nest_runs == n && !nest_err;
	printf("e2 nested run inside the MMIO callback, %ld blocks of another context per wait: waiter "
	       "%s after %" PRIu64 " outer run%s, sum %" PRIu64 " (want %" PRIu64 "), its counter %" PRIu64
	       ", callbacks %" PRIu64 " (want %" PRIu64 " each); other: %" PRIu64 " nested runs, %" PRIu64
	       " blocks, LOCK INC counter %u = loops done %" PRIu64 "; %.2f us a wait: %s\n",
	       k, a->finished ? "finished" : "NOT finished", outer, outer == 1 ? "" : "s", arbx, 3 * n,
	       rd64(CNT_PA + 16), mmio_calls, n, nest_runs, b->blocks, cnt, bn - brcx,
	       (double)(t1 - t0) / (double)n / 1e3, verdict(ok));
	vc_free(a);
	vc_free(b);
	uc_context_free(reset);
	engine_close(uc);
}

/* Section v (run it under valgrind): the MMIO region a callback is in is unmapped from inside it. */
static void probe_remap_in_callback(void)
{
	setup_ram();
	uc_engine *uc = engine_new(true);
	uc_context *reset;
	uc_context_alloc(uc, &reset);
	uc_context_save(uc, reset);
	struct vc *a = vc_new(uc, reset, "waiter", TABLES_A);
	mmio_mode = MMIO_NEST_REMAP;
	nest_waiter = a;
	nest_runs = 0;
	run_at(uc, a, P_MMIO1, P_MMIO1_DONE, true);
	printf("v  MMIO page unmapped and mapped as RAM from inside its own read callback: run %s, eax 0x%" PRIx64
	       " (valgrind tells whether the callback's return path read the freed region)\n",
	       a->finished ? "finished" : "stopped early", vreg(uc, a, UC_X86_REG_RAX) & 0xffffffff);
	mmio_mode = MMIO_PLAIN;
	vc_free(a);
	uc_context_free(reset);
	engine_close(uc);
}

static void probe_unmapped_stop(bool sync)
{
	setup_ram();
	uc_engine *uc = engine_new(sync);
	uc_context *reset;
	uc_context_alloc(uc, &reset);
	uc_context_save(uc, reset);
	struct vc *a = vc_new(uc, reset, "A", TABLES_A);
	run_at(uc, a, P_UNM, P_UNM_DONE, true);
	uint64_t rip = vreg(uc, a, UC_X86_REG_RIP), fl = rreg(uc, UC_X86_REG_EFLAGS);
	uint64_t x1 = rd64(CNT_PA + 32), y1 = rd64(CNT_PA + 40);
	/* Complete the load as the VMM would (value 0x77, RIP past it) and go on. */
	bool at_load = rip == P_UNM_LOAD;
	if (at_load) {
		vset(uc, a, UC_X86_REG_RAX, 0x77);
		vset(uc, a, UC_X86_REG_RIP, P_UNM_LOAD + 7);
		resume(uc, a, -1, true);
	}
	uint64_t ebx = vreg(uc, a, UC_X86_REG_RBX) & 0xffffffff;
	printf("e3 load from unmapped memory (%s READ|WRITE hook), block 'inc [X]; cmp ecx, 5; mov eax, "
	       "[none]; jz': stop RIP 0x%" PRIx64 " (load 0x%llx), ZF %s, X %" PRIu64 " Y %" PRIu64
	       "; completed by hand and resumed: %s, X %" PRIu64 " Y %" PRIu64 "\n",
	       sync ? "with" : "without", rip, (unsigned long long)P_UNM_LOAD,
	       (fl & 0x40) ? "1" : "0", x1, y1,
	       !at_load ? "not tried" : ebx == 0x600d ? "jz taken (flags kept)" : "jz NOT taken (flags lost)",
	       rd64(CNT_PA + 32), rd64(CNT_PA + 40));
	vc_free(a);
	uc_context_free(reset);
	engine_close(uc);
}

static bool hook_wprot(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
		       void *ud)
{
	return false; /* K11: the engine stops with nothing written */
}

/* K11's premise (precise stop from the write-protection hook), with flags set before the store. */
static void probe_wprot_stop(bool sync)
{
	setup_ram();
	uc_engine *uc = engine_new(sync);
	uc_hook h;
	uc_context *reset;
	uc_context_alloc(uc, &reset);
	uc_context_save(uc, reset);
	uc_mem_protect(uc, RO_PA, PAGE, UC_PROT_READ | UC_PROT_EXEC);
	uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE_PROT, hook_wprot, NULL, 1, 0);
	struct vc *a = vc_new(uc, reset, "A", TABLES_A);
	run_at(uc, a, P_RO, P_RO_DONE, true);
	uint64_t rip = vreg(uc, a, UC_X86_REG_RIP), fl = rreg(uc, UC_X86_REG_EFLAGS);
	uint64_t x1 = rd64(CNT_PA + 48), y1 = rd64(CNT_PA + 56);
	bool at_store = rip == P_RO_STORE;
	if (at_store) { /* a plain store: the VMM forwards it and steps over it */
		vset(uc, a, UC_X86_REG_RIP, P_RO_STORE + 7);
		resume(uc, a, -1, true);
	}
	uint64_t ebx = vreg(uc, a, UC_X86_REG_RBX) & 0xffffffff;
	printf("e4 store to a read-only page, write-protection hook returns false (%s READ|WRITE hook), "
	       "block 'inc [X]; cmp ecx, 5; mov [ro], eax; jz': stop RIP 0x%" PRIx64 " (store 0x%llx), ZF %s, "
	       "X %" PRIu64 " Y %" PRIu64 "; RIP stepped over the store and resumed: %s, X %" PRIu64
	       " Y %" PRIu64 "\n",
	       sync ? "with" : "without", rip, (unsigned long long)P_RO_STORE, (fl & 0x40) ? "1" : "0",
	       x1, y1,
	       !at_store ? "not tried" : ebx == 0x600d ? "jz taken (flags kept)" : "jz NOT taken (flags lost)",
	       rd64(CNT_PA + 48), rd64(CNT_PA + 56));
	vc_free(a);
	uc_context_free(reset);
	engine_close(uc);
}

int main(int argc, char **argv)
{
	const char *want = argc > 1 ? argv[1] : "abcde";
	setvbuf(stdout, NULL, _IOLBF, 0);
	unsigned major, minor, ver = uc_version(&major, &minor);
	printf("libunicorn %u.%u.%u\n", ver >> 24, (ver >> 16) & 0xff, (ver >> 8) & 0xff);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return 1;
	setup_ram();
	uc_engine *uc = engine_new(true);
	uc_context *reset;
	uc_context_alloc(uc, &reset);
	uc_context_save(uc, reset);
	uc_context_alloc(uc, &scratch);
	if (strchr(want, 'a')) {
		probe_cr3(reset, uc, true);
		probe_cr3(reset, uc, false);
		probe_cr3_code(reset, uc, true);
		probe_cr3_code(reset, uc, false);
		probe_modes(reset, uc);
		probe_cpl(reset, uc);
		probe_halt(reset, uc);
		fflush(stdout);
	}
	if (strchr(want, 'b')) {
		probe_smc(reset, uc);
		fflush(stdout);
	}
	if (strchr(want, 'c')) {
		probe_lock(reset, uc, 2000000, 1000);
		probe_lock(reset, uc, 200000, 1);
		fflush(stdout);
	}
	if (strchr(want, 'd')) {
		probe_switch_cost(reset, uc);
		probe_refill(reset, uc);
		for (unsigned r = 374; r <= 1000; r += 626)
			for (int e = 1; e <= 4; e += 3)
				probe_flip(e, r);
		fflush(stdout);
	}
	if (strchr(want, 'e')) {
		probe_mmio_stop(false);
		probe_mmio_stop(true);
		probe_mmio_nest(50);
		probe_unmapped_stop(false);
		probe_unmapped_stop(true);
		probe_wprot_stop(false);
		probe_wprot_stop(true);
	}
	if (strchr(want, 'v'))
		probe_remap_in_callback();
	uc_context_free(reset);
	uc_context_free(scratch);
	engine_close(uc);
	return 0;
}
