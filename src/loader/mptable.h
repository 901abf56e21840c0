/* SPDX-License-Identifier: MIT */
/*
 * Intel MultiProcessor Specification 1.4 table (floating pointer + config
 * table) so guests can count CPUs and find the I/O APIC. Owns the layout of
 * the table area in guest RAM; the APIC/IOAPIC devices themselves are the
 * CPU backends' (kvm in-kernel irqchip, tcg user-space models).
 */
#ifndef IOREQVM_MPTABLE_H
#define IOREQVM_MPTABLE_H

#include <stddef.h>

#include "mem/guest_ram.h"

/*
 * The table lives in the BIOS area of the legacy hole, where guests scan for
 * "_MP_" (0xF0000..0xFFFFF). The loader keeps kernels out of this range.
 */
#define MPTABLE_START 0xF0000ULL
#define MPTABLE_MAX_SIZE 0x2000ULL

#define MPTABLE_MAX_CPUS 255
#define MPTABLE_LAPIC_ADDR 0xFEE00000U
#define MPTABLE_IOAPIC_ADDR 0xFEC00000U
#define MPTABLE_IOAPIC_VERSION 0x11
#define MPTABLE_LAPIC_VERSION 0x14
#define MPTABLE_OEM_ID "IOREQVM"

/*
 * Write the floating pointer at MPTABLE_START and the configuration table
 * right after it (16-byte aligned) into @ram: one enabled processor entry per
 * vCPU (APIC id = index, BSP = 0), bus 0 "ISA", one I/O APIC (id = @nr_cpus,
 * version 0x11, at 0xFEC00000), I/O interrupt entries for ISA IRQs 0-15 (IRQ0
 * -> pin 2, IRQ2 left out as the 8259 cascade, others identity; as SeaBIOS
 * does for QEMU with KVM's irq0 override) and local interrupts (ExtINT on
 * LINT0, NMI on LINT1, all local APICs). Writes at most MPTABLE_MAX_SIZE bytes.
 *
 * Not thread safe against other writers of the same guest RAM range.
 * Returns 0, -EINVAL (@nr_cpus outside 1..255, @ram not mapped) or -ENOMEM
 * (the area is not guest RAM). On error one message is written into @err
 * (may be NULL) and guest RAM is unchanged.
 */
int mptable_write(struct guest_ram *ram, unsigned nr_cpus, char *err, size_t errlen);

#endif
