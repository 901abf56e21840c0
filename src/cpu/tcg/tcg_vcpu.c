/* SPDX-License-Identifier: MIT */
/*
 * tcg backend, vCPU half: the run loop around uc_emu_start (mapping changes
 * applied first, K3; the execution turn taken, K7; interrupts and NMIs
 * delivered through the guest's IDT with the STI shadow kept, K10; HLT
 * sleeping until an interrupt or a kick; INIT and SIPI restarting the
 * engine in real mode, K9), the block hook that stops the engine for kicks,
 * turns and interrupts (never uc_emu_stop from another thread), the turn
 * held and passed while a device model answers (K13), exceptions from the
 * intr hook, registers for fault reports. Ends with the ops table.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"
#include "cpu/tcg/tcg_vm.h"


void tcg_vcpu_wake(struct tcg_vcpu *c, unsigned bits)
{
	atomic_fetch_or(&c->attn, bits);
	if (!(bits & TCG_ATTN_WAKE))
		return;
	pthread_mutex_lock(&c->sleep_lock);
	pthread_cond_signal(&c->sleep_cond);
	pthread_mutex_unlock(&c->sleep_lock);
	if (bits & (TCG_ATTN_KICK | TCG_ATTN_STOP))
		tcg_turn_interrupt(&c->t->turns, c);
}

static void irq_notify(void *opaque, unsigned what)
{
	tcg_vcpu_wake(opaque, what & IRQCHIP_NOTIFY_EVENT ? TCG_ATTN_EVENT : TCG_ATTN_IRQ);
}

void tcg_hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	struct tcg_vcpu *c = opaque;
	unsigned attn = atomic_load_explicit(&c->attn, memory_order_relaxed);
	if (c->sti_skip) {
		c->sti_skip = false; /* the block after STI runs whole: its first insn is the shadow */
		attn = 0;
	}
	if (attn && !c->in_gate && c->stop == TCG_STOP_NONE) {
		/* An interrupt alone stops only a vCPU that can take it. */
		if (attn & ~TCG_ATTN_IRQ || tcg_reg(c, UC_X86_REG_EFLAGS) & X86_RFLAGS_IF) {
			c->stop = TCG_STOP_ATTN;
			uc_emu_stop(uc);
			return; /* last_block stays the block we came from (STI shadow) */
		}
	}
	c->last_block = addr;
	c->last_block_size = size;
}

/* Exceptions and int n: unwound to the instruction, so a stop here is exact. */
void tcg_hook_intr(uc_engine *uc, uint32_t intno, void *opaque)
{
	struct tcg_vcpu *c = opaque;
	if (c->stop != TCG_STOP_NONE)
		return;
	c->stop = TCG_STOP_EXCEPTION;
	c->exc_vector = intno;
	uc_emu_stop(uc);
}

bool tcg_hook_invalid(uc_engine *uc, void *opaque)
{
	struct tcg_vcpu *c = opaque;
	if (c->stop == TCG_STOP_NONE) {
		c->stop = TCG_STOP_EXCEPTION;
		c->exc_vector = X86_EXC_UD;
	}
	/*
	 * false: the engine stops here (UC_ERR_INSN_INVALID; after_stop looks
	 * at c->stop first) and we deliver the #UD. libunicorn 2.1 takes true
	 * as "handled, go on" (its commit e03109d8): it then raises #UD to the
	 * intr hook, which sees the stop already recorded, and re-executes the
	 * ud2 forever.
	 */
	return false;
}

static int tcg_vcpu_create(struct vcpu *vcpu)
{
	struct tcg_vcpu *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	vcpu->be = c;
	c->vcpu = vcpu;
	c->t = vcpu->vm->be;
	pthread_mutex_init(&c->sleep_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* platform deadlines */
	pthread_cond_init(&c->sleep_cond, &ca);
	pthread_cond_init(&c->turn_cond, &ca); /* slice deadlines too */
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&c->drops.lock, NULL);
	/*
	 * K9: every engine is made now. vCPU 0 starts at the Multiboot entry;
	 * an AP waits for its SIPI, which runs the stub to real mode on this
	 * engine and then maps the VM's regions into it.
	 */
	int rc = tcg_engine_create(c);
	if (!rc && vcpu->id == 0) {
		rc = tcg_engine_boot_stub(c, -1);
		if (!rc)
			rc = tcg_engine_sync_regions(c);
		c->ran = true;
	}
	c->wait_sipi = vcpu->id != 0;
	if (!rc)
		irqchip_attach(&c->t->irqchip, vcpu->id, irq_notify, c);
	return rc;
}

static void tcg_vcpu_destroy(struct vcpu *vcpu)
{
	struct tcg_vcpu *c = vcpu->be;
	if (!c)
		return;
	irqchip_attach(&c->t->irqchip, vcpu->id, NULL, NULL);
	tcg_engine_destroy(c);
	pthread_mutex_destroy(&c->sleep_lock);
	pthread_cond_destroy(&c->sleep_cond);
	pthread_cond_destroy(&c->turn_cond);
	pthread_mutex_destroy(&c->drops.lock);
	free(c);
	vcpu->be = NULL;
}

/*
 * vCPU 0 already sits at the Multiboot entry state (tcg_vcpu_create). The
 * Linux 64-bit entry needs long mode instead: a fresh engine runs the
 * stub's long-mode path (K9), then gets the VM's mappings.
 */
static int tcg_vcpu_set_boot_state(struct vcpu *vcpu, const struct vcpu_boot_state *bs)
{
	struct tcg_vcpu *c = vcpu->be;
	uint64_t rip = bs->eip, rax = bs->eax, rbx = bs->ebx, rsp = 0, rsi = 0, flags = 2;
	if (bs->mode == VCPU_BOOT_LONG64) {
		tcg_engine_destroy(c);
		int rc = tcg_engine_create(c);
		if (!rc)
			rc = tcg_engine_boot_long(c, bs->cr3, bs->gdt_base, bs->gdt_limit);
		if (!rc)
			rc = tcg_engine_sync_regions(c);
		if (rc)
			return rc;
		rip = bs->rip;
		rsi = bs->rsi;
		rsp = bs->rsp;
		rax = rbx = 0;
	}
	uc_reg_write(c->uc, UC_X86_REG_RIP, &rip);
	uc_reg_write(c->uc, UC_X86_REG_RAX, &rax);
	uc_reg_write(c->uc, UC_X86_REG_RBX, &rbx);
	uc_reg_write(c->uc, UC_X86_REG_RSI, &rsi);
	uc_reg_write(c->uc, UC_X86_REG_RSP, &rsp);
	uc_reg_write(c->uc, UC_X86_REG_EFLAGS, &flags);
	c->halted = false;
	c->wait_sipi = false;
	return 0;
}

static void internal(struct vcpu_exit *exit, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void internal(struct vcpu_exit *exit, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	exit->kind = VCPU_EXIT_INTERNAL;
	vsnprintf(exit->reason, sizeof(exit->reason), fmt, ap);
	va_end(ap);
}

/* Deliver a pending NMI, or the highest-priority interrupt if the vCPU can take it now. */
static enum tcg_delivery deliver_interrupt(struct tcg_vcpu *c)
{
	bool intr_ok = (tcg_reg(c, UC_X86_REG_EFLAGS) & X86_RFLAGS_IF) != 0;
	int vector = irqchip_next_irq(&c->t->irqchip, c->vcpu->id, intr_ok);
	if (vector < 0) {
		/*
		 * The run loop took TCG_ATTN_IRQ before this: with IF clear, an
		 * interrupt waiting for IF must set it again, or the block hook
		 * never stops for it when IF rises (seen: Linux's check_timer
		 * spun with IRQ0 in the local APIC's IRR and no wake to come).
		 */
		if (!intr_ok && irqchip_irq_ready(&c->t->irqchip, c->vcpu->id))
			atomic_fetch_or(&c->attn, TCG_ATTN_IRQ);
		return TCG_DELIVERED;
	}
	c->halted = false;
	return tcg_deliver(c, (unsigned)vector, -1, false);
}

/* A delivery that failed ends the run: triple fault, or what tcg cannot do. */
static bool delivery_failed(struct tcg_vcpu *c, enum tcg_delivery d, struct vcpu_exit *exit)
{
	if (d == TCG_DELIVERED)
		return false;
	exit->kind = d == TCG_DELIVER_TRIPLE_FAULT ? VCPU_EXIT_TRIPLE_FAULT : VCPU_EXIT_INTERNAL;
	snprintf(exit->reason, sizeof(exit->reason), "%s", c->reason);
	return true;
}

/* K10: the block after one whose last byte is STI runs one instruction first. */
static bool in_sti_shadow(struct tcg_vcpu *c, uint64_t rip)
{
	if (!c->last_block_size || c->last_block + c->last_block_size != rip)
		return false;
	uint8_t b;
	return tcg_read_virt(c, rip - 1, &b, 1) && b == 0xFB;
}

/* Sleep until woken (TCG_ATTN_WAKE) or, if @timers, the next platform timer. */
static void sleep_halted(struct tcg_vcpu *c, bool timers)
{
	uint64_t deadline = timers ? irqchip_deadline(&c->t->irqchip) : UINT64_MAX;
	pthread_mutex_lock(&c->sleep_lock);
	while (!(atomic_load(&c->attn) & TCG_ATTN_WAKE)) {
		if (deadline == UINT64_MAX) {
			pthread_cond_wait(&c->sleep_cond, &c->sleep_lock);
		} else {
			struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000000ULL),
					       .tv_nsec = (long)(deadline % 1000000000ULL) };
			if (pthread_cond_timedwait(&c->sleep_cond, &c->sleep_lock, &ts) == ETIMEDOUT)
				break;
		}
	}
	pthread_mutex_unlock(&c->sleep_lock);
	irqchip_poll(&c->t->irqchip);
}

/* After the engine stopped: the exception it raised, or what we asked for. */
static int after_stop(struct tcg_vcpu *c, uc_err e, struct vcpu_exit *exit)
{
	enum tcg_stop stop = c->stop;
	c->stop = TCG_STOP_NONE;
	switch (stop) {
	case TCG_STOP_ERROR:
		internal(exit, "%s", c->reason);
		return 1;
	case TCG_STOP_EXCEPTION: {
		bool soft = false;
		/* libunicorn 2.1 leaves a #PF's error code here and sets CR2 itself (K10). */
		uint32_t code = c->exc_vector == X86_EXC_UD ? 0 : tcg_exception_take(c, &soft);
		enum tcg_delivery d = tcg_deliver(c, c->exc_vector,
						  tcg_exception_has_code(c->exc_vector) && !soft
							  ? (int64_t)code : -1, soft);
		return delivery_failed(c, d, exit) ? 1 : 0;
	}
	case TCG_STOP_WPROT: {
		/* The write went to the exit path: step over the store (K11). */
		uint64_t rip = tcg_reg(c, UC_X86_REG_RIP) + c->insn.len;
		uc_reg_write(c->uc, UC_X86_REG_RIP, &rip);
		return 0;
	}
	case TCG_STOP_WPROT_STEP: {
		/* Not written yet: step it against a scratch copy, forward (K11). */
		uc_err se = UC_ERR_OK;
		int rc = tcg_wprot_step(c, &se);
		if (rc) {
			internal(exit, "stepping the instruction at 0x%" PRIx64 " that wrote to "
				 "write-protected 0x%" PRIx64 ": %s", c->insn.rip, c->wp_addr,
				 strerror(-rc));
			return 1;
		}
		if (c->stop == TCG_STOP_NONE && se == UC_ERR_OK)
			return 0;
		return after_stop(c, se, exit); /* it faulted: deliver that */
	}
	case TCG_STOP_SYSCALL:
		return delivery_failed(c, tcg_syscall(c), exit) ? 1 : 0;
	case TCG_STOP_ATTN:
	case TCG_STOP_MSR: /* K12: the loop serves or steps it next */
		return 0;
	case TCG_STOP_NONE:
		break;
	}
	if (e != UC_ERR_OK) {
		internal(exit, "libunicorn stopped at rip 0x%" PRIx64 ": %s", tcg_reg(c, UC_X86_REG_RIP),
			 uc_strerror(e));
		return 1;
	}
	/* Stopped by itself: HLT leaves RIP past the instruction. */
	uint64_t rip = tcg_reg(c, UC_X86_REG_RIP);
	uint8_t b;
	if (rip && tcg_read_virt(c, rip - 1, &b, 1) && b == 0xF4) {
		c->halted = true;
		return 0;
	}
	internal(exit, "libunicorn stopped at rip 0x%" PRIx64 " for no known reason", rip);
	return 1;
}

/*
 * K9: INIT makes the vCPU wait for SIPI; SIPI starts it in real mode at
 * vector<<8:0000 through the stub, on a fresh engine if this one ran guest
 * code. 1 with exit filled if the engine could not be remade.
 */
static int startup(struct tcg_vcpu *c, struct vcpu_exit *exit)
{
	uint8_t vector = 0;
	unsigned what = irqchip_take_startup(&c->t->irqchip, c->vcpu->id, &vector);
	if (what & IRQCHIP_STARTUP_INIT) {
		c->wait_sipi = true;
		c->halted = false;
	}
	if (!(what & IRQCHIP_STARTUP_SIPI) || !c->wait_sipi)
		return 0;
	int rc = 0;
	if (c->ran) {
		tcg_engine_destroy(c);
		rc = tcg_engine_create(c);
	}
	if (!rc)
		rc = tcg_engine_boot_stub(c, vector << 8);
	if (!rc)
		rc = tcg_engine_sync_regions(c);
	if (rc) {
		internal(exit, "starting the vCPU at %04x:0000 after SIPI: %s", vector << 8,
			 strerror(-rc));
		return 1;
	}
	c->ran = true;
	c->wait_sipi = false;
	c->halted = false;
	c->last_block_size = 0;
	c->frag.active = false;
	return 0;
}

/*
 * Run only the instruction at @rip (the STI shadow, K10), stopping with
 * "until" just past it. Not with uc_emu_start's count: for a count
 * libunicorn 2.0.1 adds a UC_HOOK_CODE of its own that stays installed
 * through the next run (uc.c: deleted hooks are cleared when a run ends),
 * and while any code hook exists a block-hook stop no longer puts RIP
 * back to the block's start (cpu-exec.c, HOOK_EXISTS): the K3 stops of
 * that next run would repeat instructions. "until" is only checked when a
 * block is translated, so the instruction's cached code goes before and
 * after (as tcg_engine_step_scratch does).
 */
static uc_err step_one(struct tcg_vcpu *c, uint64_t rip, uint64_t *stepped_to)
{
	*stepped_to = 0;
	if (tcg_decode(c, rip) || !c->insn.len)
		return tcg_run(c, rip, TCG_NO_UNTIL, 1); /* undecodable (unmapped) code: the engine faults */
	uint64_t end = rip + c->insn.len;
	*stepped_to = end;
	/*
	 * The exit at @end is compiled into code translated while it is set:
	 * the instruction's own block, and the block at @end if the instruction
	 * ends its block (MOV CR4, WRMSR) and one from an earlier run is cached.
	 */
	uc_ctl_remove_cache(c->uc, rip, end + 1);
	uc_err e = tcg_run(c, rip, end, 0);
	uc_ctl_remove_cache(c->uc, rip, end);
	return e;
}

/* K12: the RDMSR/WRMSR or MOV to CR4 at RIP raises #GP(0). 1 if that ended the run. */
static int msr_gp(struct tcg_vcpu *c, struct vcpu_exit *exit)
{
	return delivery_failed(c, tcg_deliver(c, X86_EXC_GP, 0, false), exit);
}

static int run_loop(struct tcg_vcpu *c, struct vcpu_exit *exit)
{
	struct tcg_turns *turns = &c->t->turns;
	for (;;) {
		unsigned attn = atomic_load(&c->attn);
		if (attn & (TCG_ATTN_KICK | TCG_ATTN_STOP)) {
			atomic_fetch_and(&c->attn, ~(TCG_ATTN_KICK | TCG_ATTN_STOP));
			exit->kind = VCPU_EXIT_KICKED;
			return 0;
		}
		if (attn & TCG_ATTN_EVENT) {
			atomic_fetch_and(&c->attn, ~TCG_ATTN_EVENT);
			if (startup(c, exit))
				return 0;
		}
		if (c->wait_sipi) {
			tcg_turn_give(turns, c);
			sleep_halted(c, false);
			continue;
		}
		int rc = tcg_engine_sync_regions(c);
		if (rc) {
			internal(exit, "applying mapping changes to the engine: %s", strerror(-rc));
			return 0;
		}
		if (!tcg_turn_take(turns, c, true))
			continue; /* kicked while waiting */
		attn = atomic_load(&c->attn);
		if (attn & TCG_ATTN_YIELD) {
			tcg_turn_give(turns, c); /* to the back of the queue */
			continue;
		}
		if (attn & TCG_ATTN_IRQ) {
			atomic_fetch_and(&c->attn, ~TCG_ATTN_IRQ);
			irqchip_poll(&c->t->irqchip);
		}
		if (attn & TCG_ATTN_CODE)
			tcg_vcpu_apply_code_drops(c);
		uint64_t rip = tcg_reg(c, UC_X86_REG_RIP), until = TCG_NO_UNTIL;
		if (!c->halted && in_sti_shadow(c, rip)) {
			/* One instruction inside the shadow, then interrupts. */
			enum tcg_msr_run m = tcg_msr_before_run(c, rip, &until);
			if (m == TCG_MSR_SERVED || m == TCG_MSR_GP) {
				c->last_block_size = 0;
				if (m == TCG_MSR_GP && msr_gp(c, exit))
					return 0;
				continue;
			}
			if (m == TCG_MSR_RUN && until == TCG_NO_UNTIL) {
				/*
				 * Interrupts wait until the block at RIP has run: its first
				 * instruction is the shadow, and delivering a few later is
				 * allowed. Not a step to RIP + length: a jump, call or
				 * return there never reaches it, and a run in_gate with no
				 * stop would go on for ever with interrupts held off.
				 */
				c->last_block_size = 0;
				c->sti_skip = true;
				/* The loop took TCG_ATTN_IRQ: what waits must stop the next block. */
				if (irqchip_irq_ready(&c->t->irqchip, c->vcpu->id))
					atomic_fetch_or(&c->attn, TCG_ATTN_IRQ);
				uc_err e = tcg_run(c, rip, TCG_NO_UNTIL, 0);
				c->sti_skip = false;
				tcg_msr_after_run(c, e);
				if (after_stop(c, e, exit))
					return 0;
				continue;
			}
			uint64_t end;
			c->in_gate = true;
			uc_err e = step_one(c, rip, &end);
			c->in_gate = false;
			c->last_block_size = 0;
			uint8_t op;
			if (!e && c->stop == TCG_STOP_NONE && end && tcg_reg(c, UC_X86_REG_RIP) == end &&
			    tcg_read_virt(c, rip, &op, 1) && op != 0xF4)
				continue; /* stepped; a HLT is after_stop's */
			if (after_stop(c, e, exit))
				return 0;
			continue;
		}
		if (delivery_failed(c, deliver_interrupt(c), exit))
			return 0;
		if (c->halted) {
			tcg_turn_give(turns, c); /* K7: a halted vCPU leaves the rotation */
			sleep_halted(c, true);
			continue;
		}
		rip = tcg_reg(c, UC_X86_REG_RIP);
		until = TCG_NO_UNTIL;
		enum tcg_msr_run m = tcg_msr_before_run(c, rip, &until); /* K12 */
		if (m == TCG_MSR_SERVED)
			continue;
		if (m == TCG_MSR_GP) {
			if (msr_gp(c, exit))
				return 0;
			continue;
		}
		c->last_block_size = 0;
		c->in_gate = m == TCG_MSR_STEP;
		/* no until, or the RDMSR/WRMSR K12 runs to or steps */
		uc_err e = tcg_run(c, rip, until, 0);
		c->in_gate = false;
		tcg_msr_after_run(c, e);
		if (after_stop(c, e, exit))
			return 0;
	}
}

static int tcg_vcpu_run(struct vcpu *vcpu, struct vcpu_exit *exit)
{
	struct tcg_vcpu *c = vcpu->be;
	int rc = run_loop(c, exit);
	tcg_turn_give(&c->t->turns, c);
	return rc;
}

/*
 * ioreq_send is about to sleep for a device model (K13): hold the turn for
 * TCG_TURN_HOLD_NS of the wait, then let the others run meanwhile.
 */
static uint64_t tcg_vcpu_block(struct vcpu *vcpu, uint64_t waited_ns)
{
	struct tcg_vcpu *c = vcpu->be;
	if (c->turn_passed || c->t->turns.single)
		return 0; /* passed already, or nobody to pass it to */
	if (waited_ns < TCG_TURN_HOLD_NS)
		return TCG_TURN_HOLD_NS - waited_ns;
	tcg_turn_give(&c->t->turns, c);
	c->turn_passed = true;
	return 0;
}

/* The answer came: take the turn back before returning into the engine. */
static void tcg_vcpu_unblock(struct vcpu *vcpu)
{
	struct tcg_vcpu *c = vcpu->be;
	if (!c->turn_passed)
		return;
	c->turn_passed = false;
	tcg_turn_take(&c->t->turns, c, false); /* inside a callback: no way out */
}

static void tcg_vcpu_kick(struct vcpu *vcpu)
{
	struct tcg_vcpu *c = vcpu->be;
	tcg_vcpu_wake(c, TCG_ATTN_KICK);
}

static int tcg_vcpu_get_regs(struct vcpu *vcpu, struct vcpu_regs *out)
{
	struct tcg_vcpu *c = vcpu->be;
	uint64_t efer = tcg_efer(c);
	*out = (struct vcpu_regs){
		.rax = tcg_reg(c, UC_X86_REG_RAX), .rbx = tcg_reg(c, UC_X86_REG_RBX),
		.rcx = tcg_reg(c, UC_X86_REG_RCX), .rdx = tcg_reg(c, UC_X86_REG_RDX),
		.rsi = tcg_reg(c, UC_X86_REG_RSI), .rdi = tcg_reg(c, UC_X86_REG_RDI),
		.rsp = tcg_reg(c, UC_X86_REG_RSP), .rbp = tcg_reg(c, UC_X86_REG_RBP),
		.r8 = tcg_reg(c, UC_X86_REG_R8), .r9 = tcg_reg(c, UC_X86_REG_R9),
		.r10 = tcg_reg(c, UC_X86_REG_R10), .r11 = tcg_reg(c, UC_X86_REG_R11),
		.r12 = tcg_reg(c, UC_X86_REG_R12), .r13 = tcg_reg(c, UC_X86_REG_R13),
		.r14 = tcg_reg(c, UC_X86_REG_R14), .r15 = tcg_reg(c, UC_X86_REG_R15),
		.rip = tcg_reg(c, UC_X86_REG_RIP), .rflags = tcg_reg(c, UC_X86_REG_EFLAGS),
		.cr0 = tcg_reg(c, UC_X86_REG_CR0), .cr2 = tcg_reg(c, UC_X86_REG_CR2),
		.cr3 = tcg_reg(c, UC_X86_REG_CR3), .cr4 = tcg_reg(c, UC_X86_REG_CR4),
		.efer = efer,
		.cs = (uint16_t)tcg_reg(c, UC_X86_REG_CS), .ds = (uint16_t)tcg_reg(c, UC_X86_REG_DS),
		.ss = (uint16_t)tcg_reg(c, UC_X86_REG_SS),
		.cpl = (uint8_t)(tcg_reg(c, UC_X86_REG_CS) & 3),
		.long_mode = (efer & X86_EFER_LMA) != 0,
	};
	return 0;
}

const struct cpu_backend_ops tcg_backend_ops = {
	.name = "tcg",
	.probe = tcg_probe,
	.describe = tcg_describe,
	.vm_create = tcg_vm_create,
	.vm_destroy = tcg_vm_destroy,
	.map = tcg_map,
	.unmap = tcg_unmap,
	.mapping_count = tcg_mapping_count,
	.vcpu_create = tcg_vcpu_create,
	.vcpu_destroy = tcg_vcpu_destroy,
	.vcpu_set_boot_state = tcg_vcpu_set_boot_state,
	.vcpu_run = tcg_vcpu_run,
	.vcpu_kick = tcg_vcpu_kick,
	.vcpu_block = tcg_vcpu_block,
	.vcpu_unblock = tcg_vcpu_unblock,
	.vcpu_get_regs = tcg_vcpu_get_regs,
	.irq_line = tcg_irq_line,
	.signal_msi = tcg_signal_msi,
	.code_changed = tcg_code_changed,
	.dirty_log = tcg_dirty_log, /* no dirty_collect: stores to logged frames all trap */
};
