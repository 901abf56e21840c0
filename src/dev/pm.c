/* SPDX-License-Identifier: MIT */
/*
 * ACPI fixed hardware the FADT describes (platform/layout.h, QEMU's
 * PIIX4/ICH9 layout at 0x600) and the keyboard controller's reset, what a
 * guest uses to end itself (DESIGN L2, L4):
 *  - PM1a event block (0x600: status, 0x602: enable, 16 bits each): status
 *    bits clear when written with 1; the only one ever set is WAK_STS,
 *    after a sleep that was not offered (below); the enable bits keep what
 *    the guest writes (ACPICA reads them back);
 *  - PM1a control (0x604, 16 bits; byte accesses too): SCI_EN reads set
 *    (always in ACPI mode), SLP_TYP reads back. A write with SLP_EN and
 *    SLP_TYP S5 (what the DSDT's \_S5 gives) powers off: status 0. Another
 *    sleep type is not offered (the DSDT has no \_S1-\_S4), so the guest
 *    wakes at once: WAK_STS is set, which is what Linux waits for after
 *    writing SLP_EN;
 *  - PM timer (0x608): 24 bits counting at 3.579545 MHz from the host's
 *    monotonic clock;
 *  - pulse reset (0xfe to port 0x64): status 10.
 * The reset control register 0xcf9 shares its dword with the PCI address
 * latch and lives in pci_cf8.c. Reset is reported, not performed: ioreqvm
 * does not restart guests.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/vm.h"
#include "dev/device.h"
#include "platform/layout.h"

#define KBC_CMD_PORT 0x64
#define KBC_PULSE_RESET 0xfe
#define KBC_STATUS_IDLE 0x1c /* system flag set, input/output buffers empty */
#define PM_TMR_MASK 0xffffffu
#define PM1_STS_WAK (1u << 15)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP (7u << PM1_SLP_TYP_SHIFT)

struct pm {
	pthread_mutex_t lock; /* vCPUs reach the registers at once */
	uint16_t sts, en, cnt; /* PM1a status, enable; control's SLP_TYP */
};

/* The bytes of @a that fall in the 16-bit register at @reg, in place; @mask says which. */
static uint16_t bytes_for(const struct io_access *a, uint64_t reg, uint16_t *mask)
{
	uint16_t v = 0;
	*mask = 0;
	for (unsigned i = 0; i < a->size; i++) {
		uint64_t port = a->addr + i;
		if (port < reg || port >= reg + 2)
			continue;
		unsigned shift = 8 * (unsigned)(port - reg);
		v |= (uint16_t)(((a->data >> (8 * i)) & 0xff) << shift);
		*mask |= (uint16_t)(0xff << shift);
	}
	return v;
}

/* A read of @a gets @val's bytes where it overlaps the 16-bit register at @reg. */
static void read_bytes(struct io_access *a, uint64_t reg, uint16_t val)
{
	for (unsigned i = 0; i < a->size; i++) {
		uint64_t port = a->addr + i;
		if (port < reg || port >= reg + 2)
			continue;
		uint64_t b = (val >> (8 * (unsigned)(port - reg))) & 0xff;
		a->data = (a->data & ~(0xffULL << (8 * i))) | (b << (8 * i));
	}
}

static enum io_result pm1a_evt_io(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	(void)vcpu;
	struct pm *pm = opaque;
	uint16_t mask, v;
	pthread_mutex_lock(&pm->lock);
	if (!a->is_write) {
		a->data = 0;
		read_bytes(a, PLAT_PM1A_EVT_PORT, pm->sts);
		read_bytes(a, PLAT_PM1A_EVT_PORT + 2, pm->en);
	} else {
		v = bytes_for(a, PLAT_PM1A_EVT_PORT, &mask);
		pm->sts &= (uint16_t)~(v & mask); /* write 1 to clear */
		v = bytes_for(a, PLAT_PM1A_EVT_PORT + 2, &mask);
		pm->en = (uint16_t)((pm->en & ~mask) | (v & mask));
	}
	pthread_mutex_unlock(&pm->lock);
	return IO_DONE;
}

static enum io_result pm1a_cnt_io(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	struct pm *pm = opaque;
	uint16_t mask;
	pthread_mutex_lock(&pm->lock);
	if (!a->is_write) {
		a->data = 0;
		read_bytes(a, PLAT_PM1A_CNT_PORT, (uint16_t)(pm->cnt | PLAT_PM1_SCI_EN));
		pthread_mutex_unlock(&pm->lock);
		return IO_DONE;
	}
	uint16_t v = bytes_for(a, PLAT_PM1A_CNT_PORT, &mask);
	v = (uint16_t)((pm->cnt & ~mask) | (v & mask));
	pm->cnt = v & PM1_SLP_TYP; /* SLP_EN is write-only, SCI_EN fixed */
	unsigned typ = (v & PM1_SLP_TYP) >> PM1_SLP_TYP_SHIFT;
	bool sleep = v & PLAT_PM1_SLP_EN;
	if (sleep && typ != PLAT_PM1_SLP_TYP_S5)
		pm->sts |= PM1_STS_WAK; /* a sleep state ioreqvm has not: woken at once */
	pthread_mutex_unlock(&pm->lock);
	if (!sleep)
		return IO_DONE;
	if (typ == PLAT_PM1_SLP_TYP_S5)
		return vm_poweroff_requested(vcpu);
	log_info("vCPU %u: ACPI sleep type %u is not offered (S5 is %u): the guest wakes at once",
		 vcpu->id, typ, PLAT_PM1_SLP_TYP_S5);
	return IO_DONE;
}

/* Ticks of the 3.579545 MHz PM timer since the host's monotonic clock began. */
static uint32_t pm_timer_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	unsigned __int128 ns = (unsigned __int128)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return (uint32_t)((ns * PLAT_PM_TMR_HZ / 1000000000u) & PM_TMR_MASK);
}

static enum io_result pm_tmr_io(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	(void)opaque;
	(void)vcpu;
	if (!a->is_write) {
		unsigned shift = (unsigned)(a->addr - PLAT_PM_TMR_PORT) * 8;
		a->data = pm_timer_now() >> shift;
	}
	return IO_DONE;
}

static enum io_result reset_io(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	(void)opaque;
	if (!a->is_write) {
		a->data = KBC_STATUS_IDLE;
		return IO_DONE;
	}
	if ((a->data & 0xff) != KBC_PULSE_RESET)
		return IO_DONE;
	return vm_reset_requested(vcpu);
}

static int pm_create(struct vm *vm, void **state)
{
	struct pm *pm = calloc(1, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	pthread_mutex_init(&pm->lock, NULL);
	*state = pm;
	struct iomap *pio = &vm->iomap[IO_SPACE_PIO];
	int rc = iomap_add(pio, PLAT_PM1A_EVT_PORT, PLAT_PM1_EVT_LEN, pm1a_evt_io, pm,
			   "pm1a-evt");
	if (!rc)
		rc = iomap_add(pio, PLAT_PM1A_CNT_PORT, PLAT_PM1_CNT_LEN, pm1a_cnt_io, pm,
			       "pm1a-cnt");
	if (!rc)
		rc = iomap_add(pio, PLAT_PM_TMR_PORT, PLAT_PM_TMR_LEN, pm_tmr_io, NULL, "pm-timer");
	if (!rc)
		rc = iomap_add(pio, KBC_CMD_PORT, 1, reset_io, NULL, "kbc-command");
	return rc;
}

static void pm_destroy(void *state)
{
	struct pm *pm = state;
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

const struct device_desc pm_device = {
	.name = "pm",
	.create = pm_create,
	.destroy = pm_destroy,
};
