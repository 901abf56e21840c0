/* SPDX-License-Identifier: MIT */
/*
 * ACPI fixed hardware the FADT describes (platform/layout.h, QEMU's
 * PIIX4/ICH9 layout at 0x600) and the keyboard controller's reset:
 *  - PM1a event block (0x600: status, 0x602: enable): no fixed event ever
 *    happens, so status reads 0; the enable bits keep what the guest
 *    writes (ACPICA reads them back to check a fixed event is enabled);
 *  - PM1a control (0x604): SCI_EN reads set (always in ACPI mode); a write
 *    with SLP_EN (bit 13) powers off, whatever SLP_TYP says (\_S5);
 *  - PM timer (0x608): 24 bits counting at 3.579545 MHz from the host's
 *    monotonic clock;
 *  - pulse reset (0xfe to port 0x64).
 * The reset control register 0xcf9 shares its dword with the PCI address
 * latch and lives in pci_cf8.c. Reset is reported, not performed: ioreqvm
 * has no reboot.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "core/vm.h"
#include "dev/device.h"
#include "platform/layout.h"

#define KBC_CMD_PORT 0x64
#define KBC_PULSE_RESET 0xfe
#define KBC_STATUS_IDLE 0x1c /* system flag set, input/output buffers empty */
#define PM_TMR_MASK 0xffffffu

struct pm {
	_Atomic uint16_t pm1_en; /* PM1a enable register */
};

/* The block as one little-endian dword: status (always 0) low, enable high. */
static enum io_result pm1a_evt_io(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	(void)vcpu;
	struct pm *pm = opaque;
	unsigned shift = (unsigned)(a->addr - PLAT_PM1A_EVT_PORT) * 8;
	uint64_t mask = (a->size >= 8 ? ~0ULL : (1ULL << (a->size * 8)) - 1) << shift;
	if (!a->is_write) {
		uint64_t block = (uint64_t)atomic_load(&pm->pm1_en) << 16;
		a->data = (block & mask) >> shift;
		return IO_DONE;
	}
	uint64_t en_mask = mask & 0xffff0000ULL;
	if (en_mask) {
		uint64_t block = (uint64_t)atomic_load(&pm->pm1_en) << 16;
		block = (block & ~en_mask) | ((a->data << shift) & en_mask);
		atomic_store(&pm->pm1_en, (uint16_t)(block >> 16));
	}
	return IO_DONE; /* status bits: write one to clear, and none is ever set */
}

static enum io_result pm1a_io(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	(void)opaque;
	if (!a->is_write) {
		a->data = a->addr == PLAT_PM1A_CNT_PORT ? PLAT_PM1_SCI_EN : 0;
		return IO_DONE;
	}
	if (a->addr == PLAT_PM1A_CNT_PORT && (a->data & PLAT_PM1_SLP_EN))
		return vm_poweroff_requested(vcpu);
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
	*state = pm;
	struct iomap *pio = &vm->iomap[IO_SPACE_PIO];
	int rc = iomap_add(pio, PLAT_PM1A_EVT_PORT, PLAT_PM1_EVT_LEN, pm1a_evt_io, pm,
			   "pm1a-evt");
	if (!rc)
		rc = iomap_add(pio, PLAT_PM1A_CNT_PORT, PLAT_PM1_CNT_LEN, pm1a_io, NULL, "pm1a-cnt");
	if (!rc)
		rc = iomap_add(pio, PLAT_PM_TMR_PORT, PLAT_PM_TMR_LEN, pm_tmr_io, NULL, "pm-timer");
	if (!rc)
		rc = iomap_add(pio, KBC_CMD_PORT, 1, reset_io, NULL, "kbc-command");
	return rc;
}

const struct device_desc pm_device = {
	.name = "pm",
	.create = pm_create,
	.destroy = free,
};
