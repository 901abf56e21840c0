/* SPDX-License-Identifier: MIT */
/*
 * Power management ports a guest uses to end itself: ACPI PM1a control at
 * 0x604 (a write with SLP_EN, bit 13, powers off, as on QEMU's q35/PIIX4
 * layout) and the keyboard controller's pulse-reset command (0xfe to port
 * 0x64). The reset control register 0xcf9 shares its dword with the PCI
 * address latch and lives in pci_cf8.c. Reset is reported, not performed:
 * ioreqvm has no reboot.
 */
#include "core/vm.h"
#include "dev/device.h"

#define PM1A_CNT_PORT 0x604
#define PM1A_SLP_EN (1u << 13)
#define KBC_CMD_PORT 0x64
#define KBC_PULSE_RESET 0xfe
#define KBC_STATUS_IDLE 0x1c /* system flag set, input/output buffers empty */

static enum io_result pm1a_io(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	if (!a->is_write) {
		a->data = 0;
		return IO_DONE;
	}
	if (a->data & PM1A_SLP_EN)
		return vm_poweroff_requested(vcpu);
	return IO_DONE;
}

static enum io_result reset_io(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
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
	*state = NULL;
	struct iomap *pio = &vm->iomap[IO_SPACE_PIO];
	int rc = iomap_add(pio, PM1A_CNT_PORT, 2, pm1a_io, NULL, "pm1a-cnt");
	if (!rc)
		rc = iomap_add(pio, KBC_CMD_PORT, 1, reset_io, NULL, "kbc-command");
	return rc;
}

const struct device_desc pm_device = {
	.name = "pm",
	.create = pm_create,
};
