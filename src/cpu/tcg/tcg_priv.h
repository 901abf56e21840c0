/* SPDX-License-Identifier: MIT */
/*
 * State shared by the tcg backend's files (the software CPU on libunicorn
 * 2.1, DESIGN K1-K14); nothing outside src/cpu/tcg sees it. The VM half
 * keeps the wanted mappings and the platform devices; each vCPU owns one
 * 64-bit engine and brings its regions in step with the wanted mappings
 * itself, on its own thread, before it runs guest code (K3).
 */
#ifndef IOREQVM_TCG_PRIV_H
#define IOREQVM_TCG_PRIV_H

#include <capstone/capstone.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include "cpu/backend.h"
#include "cpu/x86.h"
#include "irqchip/irqchip.h"
#include "mem/guest_ram.h"
#include "util/rangeset.h"

/*
 * K4: libunicorn (2.0.1 and 2.1.1 alike) aborts the process at 4096
 * regions in one engine (probe_unicorn); we stay at TCG_REGION_CAP, far
 * below, because on 2.1.1 what bounds the mapping limit is cost: mapping a
 * RAM region walks every RAM region of the engine twice nested (~3.8 ns x
 * RAM regions squared: 1 ms at 500, 15 ms at 2000), so an engine catching
 * up with N new mappings pays ~1.3 ns x N cubed, and under ASan on a busy
 * machine several times that (measured: 0.3-1.6 s at 618 mappings, 8-20 s
 * at 1002, where func_p2m_limit_tcg gives the guest 5 s to run on; flip
 * costs in BENCHMARKS.md, K4). Unmapping costs ~120 ns per page (a
 * soft-TLB flush and a code drop page by page), so regions in RAM are also
 * cut at chunk boundaries (chunks of at least TCG_MIN_CHUNK, at most
 * TCG_MAX_CHUNKS of them over RAM) and at the ends of RAM, where the gaps
 * outside RAM (which no change reaches) begin. Every mapping brings at
 * most one gap region with it, so the mapping limit is
 * (cap - reserved - cuts - 1) / 2: 626 with 256 MiB of RAM, 618 with 512.
 * Up to TCG_LAZY_PIECES regions more than wanted may stay, as RW pieces of
 * a wanted RW region (tcg_engine_sync_regions), never past cap - reserved.
 */
#define TCG_REGION_CAP 1280
#define TCG_REGIONS_RESERVED 8
#define TCG_LAZY_PIECES 32
#define TCG_MIN_CHUNK (16ULL << 20)
#define TCG_MAX_CHUNKS 256

/* K9: the boot stub's region, below 4 GiB, mapped only while it runs. */
#define TCG_STUB_BASE 0xFFFF0000ULL
#define TCG_STUB_SIZE 0x4000ULL

struct tcg_vcpu;

/*
 * K7: whose turn it is to execute guest code (tcg_turns.c). A holder gets
 * TCG_SLICE_NS while others wait, then yields at its next block boundary.
 */
#define TCG_SLICE_NS 4000000ULL
#define TCG_WAKE_SLICE_NS 100000ULL /* ... or this, for one back from a device model */
/*
 * K13: a vCPU waiting for a device model's answer passes its turn on only
 * after waiting this long (vcpu_block): about two wake-ups here (the
 * model's and ours, DESIGN section 7). Passing it at once cost a wake-up of
 * the next vCPU, by which time the model had stopped spinning, so that
 * vCPU's request woke the model and passed the turn again (BENCHMARKS.md,
 * design measurements: turn-hold).
 */
#define TCG_TURN_HOLD_NS 200000ULL
struct tcg_turns {
	pthread_mutex_t lock;
	bool single; /* one vCPU: turns are never taken */
	struct tcg_vcpu *holder;
	uint64_t held_since;
	bool yield_asked;
	struct tcg_vcpu *queue[IRQCHIP_MAX_LAPICS]; /* ring: waiting vCPUs, FIFO */
	unsigned head, len;
};

struct tcg_vm {
	struct vm *vm;
	pthread_mutex_t lock; /* maps */
	/* Wanted mappings: val.u the memfd offset, val.tag the enum mem_access; limit K4. */
	struct rangeset maps;
	_Atomic uint64_t maps_gen; /* bumped on every change */
	/* track_dirty_vram's frames (under lock; nr 0: none): RW mappings there become RO regions. */
	uint64_t dirty_first, dirty_nr;
	uint64_t space_end;        /* guest-physical space covered by regions */
	uint64_t chunk;            /* regions in RAM never cross a multiple of it */
	struct guest_ram_region ram[GUEST_RAM_MAX_REGIONS]; /* nor the ends of RAM */
	unsigned nr_ram;
	struct irqchip irqchip;    /* PIC, I/O APIC, local APICs, PIT (K5) */
	struct tcg_turns turns;    /* K7 */
	_Atomic uint64_t *code_pages; /* K8: a bit per page some engine translated code from */
	uint64_t code_pages_nr;
	_Atomic uint64_t code_gen; /* bumped by every change (tcg_code.c) */
	/* Several vCPUs: memfd pages write-protected for code, and written since (tcg_code.c). */
	_Atomic uint64_t *code_prot, *code_written;
	uint64_t code_words;
	_Atomic bool code_any_written;
};

enum tcg_region_kind { TCG_REGION_RW, TCG_REGION_RO, TCG_REGION_MMIO };

/* One MMIO gap region: its callbacks need the region's base. */
struct tcg_mmio_region {
	struct tcg_vcpu *c;
	uint64_t base;
};

struct tcg_region {
	uint64_t start, end;
	enum tcg_region_kind kind;
	uint64_t off; /* RAM: offset in the memfd */
	struct tcg_mmio_region *mmio;
};

/* Why the engine stopped, as recorded by a hook (first reason wins). */
enum tcg_stop {
	TCG_STOP_NONE = 0,
	TCG_STOP_ATTN,      /* block hook saw a kick, interrupt or VM stop */
	TCG_STOP_EXCEPTION, /* intr/invalid hook: deliver exc_vector */
	TCG_STOP_WPROT,     /* write to a RO run, already forwarded: skip the insn */
	TCG_STOP_WPROT_STEP, /* write to a RO run by more than a store: step it (K11) */
	TCG_STOP_ERROR,     /* reason filled in */
	TCG_STOP_MSR,       /* K12: at an RDMSR/WRMSR/MOV to CR4 (tcg_msr.c), or past one */
	TCG_STOP_SYSCALL,   /* past a SYSCALL or SYSENTER at sys_rip (tcg_syscall.c) */
};

/* Bits of tcg_vcpu.attn: what the block hook stops for. */
#define TCG_ATTN_KICK 1u   /* vcpu_kick: return VCPU_EXIT_KICKED */
#define TCG_ATTN_IRQ 2u    /* an interrupt may be deliverable (stops only with IF) */
#define TCG_ATTN_STOP 4u   /* the exit path stopped the VM from inside a hook */
#define TCG_ATTN_EVENT 8u  /* NMI, INIT or SIPI for this vCPU */
#define TCG_ATTN_YIELD 16u /* K7: another vCPU's turn */
#define TCG_ATTN_CODE 32u  /* K8: drop translated code another thread changed */
/* What wakes a halted vCPU or one waiting for SIPI. */
#define TCG_ATTN_WAKE (TCG_ATTN_KICK | TCG_ATTN_IRQ | TCG_ATTN_STOP | TCG_ATTN_EVENT)

/* K8: ranges of guest-physical code to drop before this engine runs again. */
#define TCG_CODE_RANGES 16
struct tcg_code_drops {
	pthread_mutex_t lock;
	unsigned nr;
	bool all; /* overflowed: drop everything */
	struct { uint64_t start, end; bool virt; } r[TCG_CODE_RANGES]; /* virt: a virtual range */
};

/* One guest access reassembled from Unicorn's MMIO pieces (K11). */
struct tcg_frag {
	bool active, is_write;
	uint64_t rip, start; /* instruction, first byte of the access in the region */
	uint8_t len, done;   /* bytes of the access in the region, bytes seen */
	uint64_t data;
};

/* A memory operand of the decoded instruction at rip. */
struct tcg_insn {
	uint64_t rip;
	uint8_t bytes[16];
	uint8_t len;
	bool plain_store; /* only effect besides its store: RIP advances (MOV-like) */
	bool ends_block;  /* jump, call, return, int: the last of a translated block */
	unsigned nr_mem;
	struct {
		uint64_t addr;
		uint8_t size;
		uint8_t access; /* CS_AC_READ | CS_AC_WRITE */
	} mem[2];
};

/*
 * What decoding an instruction yields that does not depend on registers,
 * cached by address and checked against the instruction's bytes: capstone
 * was most of an MMIO access's time (BENCHMARKS.md, design measurements:
 * decode-cache).
 */
#define TCG_DECODE_SLOTS 64
struct tcg_decode_slot {
	uint64_t rip;
	uint8_t bytes[16];
	uint8_t len, nr_mem;
	bool valid, wide, plain_store, ends_block;
	struct {
		int base, index;    /* unicorn register ids, 0 for none */
		unsigned wbase;     /* width of the base register */
		bool rip_rel;
		int64_t disp;
		uint8_t scale, seg; /* seg: 0, or 1 for FS, 2 for GS */
		uint8_t size, access;
	} op[2];
};

struct tcg_vcpu {
	struct vcpu *vcpu;
	struct tcg_vm *t;
	uc_engine *uc;
	csh cs64, cs32;
	uc_context *ctx; /* scratch for fixing the exception state (tcg_deliver.c) */

	/* Regions in the engine, sorted; in step with t->maps at maps_gen. */
	struct tcg_region *regions;
	unsigned nr_regions, cap_regions;
	uint64_t gen_applied;

	_Atomic unsigned attn;
	pthread_mutex_t sleep_lock; /* HLT: sleeps until attn */
	pthread_cond_t sleep_cond;
	bool halted;
	bool wait_sipi; /* K9: an AP before its SIPI, or after an INIT */
	bool ran;       /* this engine executed guest code: an INIT needs a fresh one */

	pthread_cond_t turn_cond; /* with t->turns.lock */
	bool has_turn;
	bool turn_passed; /* by vcpu_block, during a wait for a device model (K13) */
	struct tcg_code_drops drops;
	uint64_t code_gen_seen; /* tcg_code.c */

	enum tcg_stop stop;
	unsigned exc_vector;
	bool exc_soft; /* int n / int3 / into: RIP already past it */
	uint64_t sys_rip;  /* TCG_STOP_SYSCALL: the instruction's RIP ... */
	bool sys_enter;    /* ... and whether it was SYSENTER */
	char reason[160];
	uint64_t last_block, last_block_size; /* for the STI shadow (K10) */
	bool in_gate; /* running the K10 call-gate window: no stops */
	bool sti_skip; /* K10: the next block hook is the STI shadow's block: no stop there */
	/* The engine's exits list (tcg_run): empty, or the one address exit_at. */
	bool exit_set;
	uint64_t exit_at;

	struct tcg_frag frag;
	struct tcg_insn insn; /* last decoded instruction */
	struct tcg_decode_slot dcache[TCG_DECODE_SLOTS];

	/*
	 * K12 (tcg_msr.c): the RDMSR/WRMSR or MOV to CR4 found in a block
	 * being translated (linear addresses; cs_base turns them into RIPs),
	 * and the "until" of the run that goes to it or steps it.
	 */
	bool msr_found, msr_pending;
	uint64_t msr_tb, msr_site, msr_cs_base;
	uint8_t msr_len;
	int msr_cr4_src; /* MOV to CR4: its source register (unicorn id); 0 for RDMSR/WRMSR */
	uint64_t msr_until, msr_until_rip;
	uint64_t apic_base; /* the APIC base MSR, 0 until first read */
	csh cs16;           /* decoder for real-mode blocks, opened on first use */

	/* TCG_STOP_WPROT_STEP: the trapped write, and pages to step it against. */
	uint64_t wp_addr;
	uint8_t wp_size;
	bool wp_stepping;
	uint8_t *scratch; /* TCG_SCRATCH_PAGES pages, allocated on first use */
};

#define TCG_SCRATCH_PAGES 2

/* One register of the engine (0 if libunicorn refuses it); set one. */
static inline uint64_t tcg_reg(struct tcg_vcpu *c, int r)
{
	uint64_t v = 0;
	uc_reg_read(c->uc, r, &v);
	return v;
}

static inline void tcg_set_reg(struct tcg_vcpu *c, int r, uint64_t v)
{
	uc_reg_write(c->uc, r, &v);
}

/*
 * CR2. libunicorn 2.1.1 (Debian 13) handles a write of CR1/CR2 as one of
 * CR3 (cpu_x86_update_cr3 with the value, then the field): the guest's
 * page tables would become the fault address. Fixed upstream in 2.1.2
 * (commit 6cb9bfe5); until then put CR3 back after the write.
 */
static inline void tcg_set_cr2(struct tcg_vcpu *c, uint64_t v)
{
	uint64_t cr3 = tcg_reg(c, UC_X86_REG_CR3);
	uc_reg_write(c->uc, UC_X86_REG_CR2, &v);
	if (tcg_reg(c, UC_X86_REG_CR3) != cr3)
		uc_reg_write(c->uc, UC_X86_REG_CR3, &cr3);
}

/* The EFER MSR (0 if libunicorn refuses it). */
static inline uint64_t tcg_efer(struct tcg_vcpu *c)
{
	uc_x86_msr efer = { .rid = X86_MSR_EFER };
	uc_reg_read(c->uc, UC_X86_REG_MSR, &efer);
	return efer.value;
}

/* tcg_turns.c: the execution turn (K7) */
void tcg_turns_init(struct tcg_turns *t, unsigned nr_vcpus);
void tcg_turns_destroy(struct tcg_turns *t);
/*
 * Wait for this vCPU's turn (FIFO). @interruptible: give up, returning
 * false, when a kick or stop arrives (from vcpu_run); otherwise wait on
 * (from inside a callback, where the engine cannot be stopped, K13).
 */
bool tcg_turn_take(struct tcg_turns *t, struct tcg_vcpu *c, bool interruptible);
/* Pass the turn on, if held (halt, waits for a device model, leaving vcpu_run). */
void tcg_turn_give(struct tcg_turns *t, struct tcg_vcpu *c);
/* Wake @c if it waits for its turn (a kick). */
void tcg_turn_interrupt(struct tcg_turns *t, struct tcg_vcpu *c);

/* tcg_vcpu.c: set @bits in c->attn and wake the vCPU's thread. */
void tcg_vcpu_wake(struct tcg_vcpu *c, unsigned bits);

/* tcg_vm.c */
/* tcg_code.c (K8) */
int tcg_code_init(struct tcg_vm *t);
void tcg_code_free(struct tcg_vm *t);
/* The engine translated code from guest-virtual [va, va + len): note its pages. */
void tcg_code_note(struct tcg_vcpu *c, uint64_t va, uint64_t len);
/* Code pages other vCPUs wrote: drop them from every engine (before a turn passes). */
void tcg_code_publish(struct tcg_vm *t);
/* Drop @c's code from guest-physical [start, end) now (its thread, not running). */
void tcg_code_drop_phys(struct tcg_vcpu *c, uint64_t start, uint64_t end);
/*
 * K8: guest code in [gpa, gpa + len) was changed behind the engines' backs
 * (served into RAM, a device model's write): drop it from @self's engine
 * now (NULL: none; only from @self's thread) and from every other engine
 * before it runs again.
 */
void tcg_vm_code_changed(struct tcg_vm *t, struct tcg_vcpu *self, uint64_t gpa, uint64_t len);
/* Drop what other threads queued for this engine (its own thread, stopped). */
void tcg_vcpu_apply_code_drops(struct tcg_vcpu *c);
void tcg_vm_desired_regions(struct tcg_vm *t, struct tcg_region **out, unsigned *nr,
			    uint64_t *gen);

/* tcg_engine.c: engine creation, regions, boot stub (K9), runs */
int tcg_engine_create(struct tcg_vcpu *c);
/*
 * Run the engine from @begin until linear address @until (the instruction
 * there does not run) or, with TCG_NO_UNTIL, with no such address: then
 * guest code may be anywhere, linear 0 included. @count: instructions at
 * most, 0 for no limit. Every uc_emu_start of a vCPU's engine goes here.
 */
#define TCG_NO_UNTIL UINT64_MAX
uc_err tcg_run(struct tcg_vcpu *c, uint64_t begin, uint64_t until, size_t count);
void tcg_engine_destroy(struct tcg_vcpu *c);
int tcg_engine_sync_regions(struct tcg_vcpu *c);
/*
 * K9: run the stub on a fresh engine: to the Multiboot 32-bit entry state
 * (@real_cs < 0), or to real mode at @real_cs:0000 (an AP's SIPI).
 */
int tcg_engine_boot_stub(struct tcg_vcpu *c, int real_cs);
/*
 * K9, L1: run the stub's long-mode path on a fresh engine (64-bit CS 0x10,
 * data 0x18, paging on), then point CR3 and GDTR at the guest's tables.
 */
int tcg_engine_boot_long(struct tcg_vcpu *c, uint64_t cr3, uint64_t gdt_base,
			 uint16_t gdt_limit);
/* End of the RO region holding @gpa in the engine, or @gpa if it is not in one. */
uint64_t tcg_engine_ro_end(struct tcg_vcpu *c, uint64_t gpa);
/*
 * Run the one instruction at RIP with the guest pages [lo, hi) of a RO
 * region backed by @scratch, writable, instead of guest RAM; the region is
 * put back as it was afterwards. 0 (the step's own result in *step_err),
 * or -errno if the regions could not be changed (the engine then matches
 * nothing known: the caller stops the VM).
 */
int tcg_engine_step_scratch(struct tcg_vcpu *c, uint64_t lo, uint64_t hi, uint8_t *scratch,
			    uc_err *step_err);

/* tcg_vcpu.c: the engine's block, exception and invalid-instruction hooks */
void tcg_hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque);
void tcg_hook_intr(uc_engine *uc, uint32_t intno, void *opaque);
bool tcg_hook_invalid(uc_engine *uc, void *opaque);

/* tcg_mem.c: trapped accesses (port hooks, MMIO callbacks, RO write protection), decoding */
uint32_t tcg_hook_in(uc_engine *uc, uint32_t port, int size, void *opaque);
void tcg_hook_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *opaque);
uint64_t tcg_mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *opaque);
void tcg_mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value,
		    void *opaque);
bool tcg_hook_wprot(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
		    void *opaque);
void tcg_hook_sync_rip(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
		       int64_t value, void *opaque);
bool tcg_hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
		       int64_t value, void *opaque);
int tcg_decode(struct tcg_vcpu *c, uint64_t rip);
void tcg_stop_error(struct tcg_vcpu *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * TCG_STOP_WPROT_STEP: step the instruction against a scratch copy of the
 * page(s) it writes and forward the write with the value it left there
 * (K11). 0, or -errno (engine unusable). The step's own stop, if any (an
 * exception), is left in c->stop with its uc_err in *step_err.
 */
int tcg_wprot_step(struct tcg_vcpu *c, uc_err *step_err);
/*
 * Serve one whole access: our platform devices (K5), else the shared exit
 * path, inside the callback (K13).
 */
void tcg_dispatch(struct tcg_vcpu *c, struct io_access *a);

/* tcg_cpuid.c: CPUID (K12) */
int tcg_cpuid_init(void);
int tcg_hook_cpuid(uc_engine *uc, void *opaque);
/* CR4 and EFER bits a guest may set, as the CPUID it sees says (others: #GP). */
uint64_t tcg_cpuid_cr4_allowed(void);
uint64_t tcg_cpuid_efer_allowed(void);

/*
 * tcg_msr.c: instructions checked before they run (K12): RDMSR/WRMSR (the
 * APIC base and the TSC served here, unknown MSRs #GP) and MOV to CR4
 * (bits the CPUID does not offer #GP).
 */
/* UC_HOOK_EDGE_GENERATED: a block was translated; stop before it if it holds one. */
void tcg_hook_new_block(uc_engine *uc, uc_tb *tb, uc_tb *prev, void *opaque);
enum tcg_msr_run { TCG_MSR_RUN, TCG_MSR_SERVED, TCG_MSR_STEP, TCG_MSR_GP };
/*
 * Before tcg_run at @rip with *@until = TCG_NO_UNTIL: TCG_MSR_SERVED (the
 * instruction at RIP was done, RIP is past it), TCG_MSR_STEP (run it
 * natively to *@until, with no stops of ours), TCG_MSR_GP (it raises
 * #GP(0): the caller delivers it, RIP is at it), or TCG_MSR_RUN (perhaps
 * with *@until set to the instruction ahead).
 */
enum tcg_msr_run tcg_msr_before_run(struct tcg_vcpu *c, uint64_t rip, uint64_t *until);
/* After tcg_run: drop blocks holding what tcg_hook_new_block found. */
void tcg_msr_after_run(struct tcg_vcpu *c, uc_err e);

/* tcg_deliver.c: exceptions and interrupts through the guest's IDT (K10) */
int tcg_exception_state_init(void);
/*
 * After the intr hook: libunicorn's error code of the exception and whether
 * it came from int n/int3/into (*is_int); clears its "exception in flight",
 * which it never clears itself (it would turn the next fault into #DF).
 */
uint32_t tcg_exception_take(struct tcg_vcpu *c, bool *is_int);
/* Clear that "exception in flight" (a failed page walk of libunicorn's own). */
void tcg_exception_clear(struct tcg_vcpu *c);
/* What delivering a vector came to. */
enum tcg_delivery {
	TCG_DELIVERED = 0,        /* frame pushed, RIP at the handler */
	TCG_DELIVER_TRIPLE_FAULT, /* not even #DF could be delivered: c->reason says why */
	TCG_DELIVER_UNSUPPORTED,  /* a case tcg does not emulate: c->reason says which */
	TCG_DELIVER_NO_GATE,      /* (internal to tcg_deliver.c) no usable gate: #DF next */
	TCG_DELIVER_GP,           /* (internal) int n through a gate of lower DPL: #GP next */
};
/*
 * Deliver @vector (error code @err, or -1 for none) as the CPU would,
 * through #GP and #DF where it would: TCG_DELIVERED, TCG_DELIVER_TRIPLE_FAULT
 * or TCG_DELIVER_UNSUPPORTED.
 */
enum tcg_delivery tcg_deliver(struct tcg_vcpu *c, unsigned vector, int64_t err, bool soft);
/* Exceptions that push an error code. */
static inline bool tcg_exception_has_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

/*
 * K10: CPL3 -> CPL0 by a far call through a temporary call gate to
 * @sel:@target, run alone from the current RIP (tcg_deliver.c).
 * TCG_DELIVERED: RIP is @target at CPL0, CS is @sel (its descriptor loaded
 * from the GDT), SS is null, and the engine pushed SS, RSP, CS and RIP (32
 * bytes) below TSS.RSP0. Where tcg_raise_cpl_direct_ok, that function does
 * it instead: the same state, nothing pushed (callers rebuild the frame).
 * Otherwise c->reason says why.
 */
enum tcg_delivery tcg_call_gate(struct tcg_vcpu *c, uint16_t sel, uint64_t target);
/*
 * K10 without running guest code (tcg_cpl.c): CS = @sel (a 64-bit DPL0
 * code segment from the GDT), SS null, CPL 0, RIP @target, written into the
 * engine's CPU state; RSP and the stack are left alone.
 */
enum tcg_delivery tcg_raise_cpl_direct(struct tcg_vcpu *c, uint16_t sel, uint64_t target);
/* True if this libunicorn's CPU state layout is the one tcg_cpl.c knows. */
bool tcg_raise_cpl_direct_ok(void);

/* tcg_syscall.c: SYSCALL (EFER.SCE, STAR/LSTAR/SFMASK) and SYSENTER (not offered: #UD) */
void tcg_hook_syscall(uc_engine *uc, void *opaque);
void tcg_hook_sysenter(uc_engine *uc, void *opaque);
/* After TCG_STOP_SYSCALL: do what the CPU would (TCG_DELIVERED), or say why not. */
enum tcg_delivery tcg_syscall(struct tcg_vcpu *c);

/* tcg_paging.c: the guest's page walk, guest memory by virtual address */
/* Guest virtual -> physical through the current page tables; false if not mapped. */
bool tcg_translate(struct tcg_vcpu *c, uint64_t va, uint64_t *pa);
/* Guest-virtual [va, va + len) into @buf: all of it, or up to the first unmapped page. */
bool tcg_read_virt(struct tcg_vcpu *c, uint64_t va, void *buf, size_t len);
size_t tcg_read_virt_upto(struct tcg_vcpu *c, uint64_t va, void *buf, size_t len);
/* @buf to guest-virtual [va, va + len): all of it or nothing. */
bool tcg_write_virt(struct tcg_vcpu *c, uint64_t va, const void *buf, size_t len);
/* Every page of guest-virtual [va, va + len) is mapped to RAM. */
bool tcg_virt_mapped(struct tcg_vcpu *c, uint64_t va, size_t len);
/*
 * The part of guest-virtual [va, va + len) (len <= a page) that lies in
 * physical page @pa's page, as physical [*lo, *hi); false if none does.
 */
bool tcg_virt_to_phys_piece(struct tcg_vcpu *c, uint64_t va, uint64_t len, uint64_t pa,
			    uint64_t *lo, uint64_t *hi);

#endif
