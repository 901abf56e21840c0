/* SPDX-License-Identifier: MIT */
/*
 * User-space interrupt controllers and timers (K5) for a backend without an
 * in-kernel irqchip (tcg; KVM has its own): the 8259 pair and ELCR (pic.c),
 * the I/O APIC (ioapic.c), a local xAPIC per vCPU (lapic.c), the 8254 PIT
 * and port 0x61 (pit.c). One lock guards them all; irqchip.c has the timer
 * thread and the entry points below. The backend is called back only
 * through each vCPU's notify hook.
 */
#ifndef IOREQVM_IRQCHIP_H
#define IOREQVM_IRQCHIP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/backend.h"

#define IRQCHIP_LAPIC_BASE 0xFEE00000ULL
#define IRQCHIP_IOAPIC_BASE 0xFEC00000ULL
#define IRQCHIP_IOAPIC_PINS 24
#define IRQCHIP_MAX_LAPICS 64 /* VM_MAX_VCPUS */

/* What a vCPU is woken for (lapic.notify). */
#define IRQCHIP_NOTIFY_IRQ 1u    /* a maskable interrupt may be deliverable */
#define IRQCHIP_NOTIFY_EVENT 2u  /* NMI, INIT or SIPI: taken whatever RFLAGS.IF */

struct vm;

struct lapic {
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

struct ioapic {
	uint32_t sel, id;
	uint64_t redir[IRQCHIP_IOAPIC_PINS];
	uint32_t level; /* line levels */
};

struct pic8259 {
	uint8_t irr, isr, imr, base, icw_step, read_isr, elcr;
	bool auto_eoi, need_icw4;
	uint8_t lines; /* line levels, for edge detection */
};

struct pit_channel {
	uint16_t reload, latch;
	uint8_t mode, access, rw_state, latched, wstate;
	uint64_t start; /* ns when counting began */
	bool gate, running;
};

struct irqchip {
	pthread_mutex_t lock;
	struct vm *vm;
	unsigned nr_lapics; /* one per vCPU; APIC id = vCPU id */
	struct lapic lapic[IRQCHIP_MAX_LAPICS];
	struct ioapic ioapic;
	struct pic8259 pic[2];
	struct pit_channel pit[3];
	uint8_t port61;
	uint64_t pit_next; /* ns of channel 0's next interrupt; 0: none */
	pthread_t thread;
	pthread_cond_t cond; /* CLOCK_MONOTONIC; signalled when a deadline changes */
	bool thread_started, quit;
};

int irqchip_init(struct irqchip *p, struct vm *vm);
void irqchip_destroy(struct irqchip *p);
/* Tell the irqchip how to wake vCPU @id (IRQCHIP_NOTIFY_* in @what); NULL detaches. */
void irqchip_attach(struct irqchip *p, unsigned id,
		    void (*notify)(void *ctx, unsigned what), void *ctx);
/* Serve a port or MMIO access of vCPU @id if it belongs to one of these devices. */
bool irqchip_pio(struct irqchip *p, struct io_access *a);
bool irqchip_mmio(struct irqchip *p, unsigned id, struct io_access *a);
/*
 * Whether an access belongs to the irqchip at all, without a call: a
 * backend asks before irqchip_pio / irqchip_mmio, so every other access
 * passes by at the cost of a compare.
 */
static inline bool irqchip_has_port(uint64_t port)
{
	return port == 0x20 || port == 0x21 || port == 0xa0 || port == 0xa1 ||
	       (port >= 0x40 && port <= 0x43) || port == 0x61 || port == 0x4d0 || port == 0x4d1;
}

static inline bool irqchip_has_mmio(uint64_t addr)
{
	return (addr >= IRQCHIP_LAPIC_BASE && addr < IRQCHIP_LAPIC_BASE + 0x1000) ||
	       (addr >= IRQCHIP_IOAPIC_BASE && addr < IRQCHIP_IOAPIC_BASE + 0x100);
}
int irqchip_irq_line(struct irqchip *p, unsigned gsi, bool level);
/* An MSI (address 0xfeeXXXXX: destination APIC id in bits 19:12; data: vector, mode). */
int irqchip_msi(struct irqchip *p, uint64_t addr, uint32_t data);
/*
 * True if vCPU @id would take a maskable interrupt now were its IF set (a
 * vector its local APIC would deliver, or the 8259's through LINT0): a
 * backend that could not deliver for IF keeps watching for IF to rise.
 */
bool irqchip_irq_ready(struct irqchip *p, unsigned id);
/*
 * Vector vCPU @id takes now, or -1: a pending NMI (2) first, then, if
 * @intr_ok (RFLAGS.IF and no interrupt shadow), the local APIC's highest
 * (IRR -> ISR) or the 8259's (INTA, vCPU 0 only).
 */
int irqchip_next_irq(struct irqchip *p, unsigned id, bool intr_ok);
/* INIT and SIPI sent to vCPU @id since it last asked (K9). */
#define IRQCHIP_STARTUP_INIT 1u
#define IRQCHIP_STARTUP_SIPI 2u
unsigned irqchip_take_startup(struct irqchip *p, unsigned id, uint8_t *sipi_vector);
/* Fire timers that are due. */
void irqchip_poll(struct irqchip *p);
/* Earliest timer deadline (ns, CLOCK_MONOTONIC), UINT64_MAX if none. */
uint64_t irqchip_deadline(struct irqchip *p);
/* CLOCK_MONOTONIC in ns: the clock of the timers and of irqchip_deadline. */
uint64_t irqchip_now_ns(void);

#endif
