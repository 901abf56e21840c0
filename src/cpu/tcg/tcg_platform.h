/* SPDX-License-Identifier: MIT */
/*
 * The platform devices of the tcg backend (K5), in user space because only
 * KVM has them in the kernel: the 8259 pair, the I/O APIC, one local xAPIC
 * per vCPU with its LVT timer and IPIs (tcg_lapic.c), and the 8254 PIT.
 * They sit in front of the shared exit path, where KVM's in-kernel ones sit
 * on kvm. One lock guards them all; a timer thread raises timer interrupts
 * and wakes the vCPUs.
 */
#ifndef IOREQVM_TCG_PLATFORM_H
#define IOREQVM_TCG_PLATFORM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/backend.h"

#define TCG_LAPIC_BASE 0xFEE00000ULL
#define TCG_IOAPIC_BASE 0xFEC00000ULL
#define TCG_IOAPIC_PINS 24
#define TCG_MAX_LAPICS 64 /* VM_MAX_VCPUS */

/* What a vCPU is woken for (tcg_lapic.notify). */
#define TCG_NOTIFY_IRQ 1u    /* a maskable interrupt may be deliverable */
#define TCG_NOTIFY_EVENT 2u  /* NMI, INIT or SIPI: taken whatever RFLAGS.IF */

struct vm;

struct tcg_lapic {
	uint32_t id, tpr, svr, ldr, dfr, esr, icr_lo, icr_hi;
	uint32_t lvt[6]; /* timer, thermal, perf, LINT0, LINT1, error */
	uint32_t isr[8], irr[8], tmr[8];
	uint32_t tmict, tdcr;
	uint64_t timer_start, timer_deadline; /* ns, CLOCK_MONOTONIC; 0: stopped */
	bool nmi_pending, init_pending;
	int sipi_vector; /* -1: none since the last INIT */
	void (*notify)(void *ctx, unsigned what);
	void *notify_ctx;
};

struct tcg_ioapic {
	uint32_t sel, id;
	uint64_t redir[TCG_IOAPIC_PINS];
	uint32_t level; /* line levels */
};

struct tcg_pic {
	uint8_t irr, isr, imr, base, icw_step, read_isr, elcr;
	bool auto_eoi, need_icw4;
	uint8_t lines; /* line levels, for edge detection */
};

struct tcg_pit_channel {
	uint16_t reload, latch;
	uint8_t mode, access, rw_state, latched, wstate;
	uint64_t start; /* ns when counting began */
	bool gate, running;
};

struct tcg_platform {
	pthread_mutex_t lock;
	struct vm *vm;
	unsigned nr_lapics; /* one per vCPU; APIC id = vCPU id */
	struct tcg_lapic lapic[TCG_MAX_LAPICS];
	struct tcg_ioapic ioapic;
	struct tcg_pic pic[2];
	struct tcg_pit_channel pit[3];
	uint8_t port61;
	uint64_t pit_next; /* ns of channel 0's next interrupt; 0: none */
	pthread_t thread;
	pthread_cond_t cond; /* CLOCK_MONOTONIC; signalled when a deadline changes */
	bool thread_started, quit;
};

int tcg_platform_init(struct tcg_platform *p, struct vm *vm);
void tcg_platform_destroy(struct tcg_platform *p);
/* Tell the platform how to wake vCPU @id (TCG_NOTIFY_* in @what); NULL detaches. */
void tcg_platform_attach(struct tcg_platform *p, unsigned id,
			 void (*notify)(void *ctx, unsigned what), void *ctx);
/* Serve a port or MMIO access of vCPU @id if it belongs to a platform device. */
bool tcg_platform_pio(struct tcg_platform *p, struct io_access *a);
bool tcg_platform_mmio(struct tcg_platform *p, unsigned id, struct io_access *a);
int tcg_platform_irq_line(struct tcg_platform *p, unsigned gsi, bool level);
/* An MSI (address 0xfeeXXXXX: destination APIC id in bits 19:12; data: vector, mode). */
int tcg_platform_msi(struct tcg_platform *p, uint64_t addr, uint32_t data);
/*
 * Vector vCPU @id takes now, or -1: a pending NMI (2) first, then, if
 * @intr_ok (RFLAGS.IF and no interrupt shadow), the local APIC's highest
 * (IRR -> ISR) or the 8259's (INTA, vCPU 0 only).
 */
int tcg_platform_next_irq(struct tcg_platform *p, unsigned id, bool intr_ok);
/* INIT and SIPI sent to vCPU @id since it last asked (K9). */
#define TCG_STARTUP_INIT 1u
#define TCG_STARTUP_SIPI 2u
unsigned tcg_platform_take_startup(struct tcg_platform *p, unsigned id, uint8_t *sipi_vector);
/* Fire timers that are due. */
void tcg_platform_poll(struct tcg_platform *p);
/* Earliest timer deadline (ns, CLOCK_MONOTONIC), UINT64_MAX if none. */
uint64_t tcg_platform_deadline(struct tcg_platform *p);
uint64_t tcg_now_ns(void);

/* ---- inside the platform: the local APICs (tcg_lapic.c), under p->lock ---- */
void tcg_lapic_reset(struct tcg_lapic *l, unsigned id);
/* Set @vector in IRR (TMR for @level) and wake its vCPU. */
void tcg_lapic_accept(struct tcg_lapic *l, unsigned vector, bool level);
uint32_t tcg_lapic_read(struct tcg_platform *p, struct tcg_lapic *l, unsigned off);
void tcg_lapic_write(struct tcg_platform *p, struct tcg_lapic *l, unsigned off, uint32_t v);
void tcg_lapic_timer_fire(struct tcg_lapic *l, uint64_t now);
/* Highest set bit of a 256-bit APIC register, -1 if none. */
int tcg_lapic_highest(const uint32_t *v);
/*
 * Send an interrupt message as the APIC bus would: to @dest (an APIC id, or
 * a logical mask when @logical), or by @shorthand (1 self, 2 all, 3 all but
 * @src), with delivery @mode (0 fixed, 1 lowest priority, 4 NMI, 5 INIT,
 * 6 SIPI; others dropped). From the ICR, the I/O APIC and MSIs.
 */
void tcg_apic_send(struct tcg_platform *p, struct tcg_lapic *src, unsigned shorthand,
		   uint8_t dest, bool logical, unsigned mode, unsigned vector, bool level);
/* The I/O APIC's end of an EOI of a level-triggered @vector (tcg_platform.c). */
void tcg_ioapic_eoi(struct tcg_platform *p, unsigned vector);

#endif
