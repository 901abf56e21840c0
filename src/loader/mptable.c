/* SPDX-License-Identifier: MIT */
/*
 * MP table writer (MP spec 1.4): builds the floating pointer and the config
 * table in a local buffer, checksums both and copies them into guest RAM at
 * MPTABLE_START. Knows nothing about how vCPUs or the I/O APIC are emulated.
 */
#include "loader/mptable.h"
#include "util/le_bytes.h"
#include "util/err_fmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MP_ENTRY_PROCESSOR 0
#define MP_ENTRY_BUS 1
#define MP_ENTRY_IOAPIC 2
#define MP_ENTRY_IOINTR 3
#define MP_ENTRY_LOCALINTR 4

#define MP_INT_TYPE_INT 0
#define MP_INT_TYPE_NMI 1
#define MP_INT_TYPE_EXTINT 3

#define MP_CPU_ENABLED 0x01
#define MP_CPU_BSP 0x02
#define MP_IOAPIC_ENABLED 0x01
/* Family 6 model 0 stepping 0; FPU and APIC present (CPUID.1:EDX bits 0, 9). */
#define MP_CPU_SIGNATURE 0x600U
#define MP_CPU_FEATURES 0x201U
#define MP_ISA_BUS_ID 0
#define MP_ALL_LAPICS 0xFF
#define MP_ISA_IRQS 16

struct mp_floating {
	char signature[4]; /* "_MP_" */
	uint32_t config;   /* physical address of the config table */
	uint8_t length;    /* in 16-byte units: 1 */
	uint8_t spec_rev;  /* 4 = 1.4 */
	uint8_t checksum;
	uint8_t feature[5]; /* all 0: config table present, no IMCR */
} __attribute__((packed));

struct mp_config {
	char signature[4]; /* "PCMP" */
	uint16_t length;   /* base table incl. entries */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mp_processor {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_version;
	uint8_t flags;
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type;
	uint8_t bus_id;
	char bus_type[6];
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type;
	uint8_t apic_id;
	uint8_t version;
	uint8_t flags;
	uint32_t addr;
} __attribute__((packed));

struct mp_intr {
	uint8_t type;
	uint8_t int_type;
	uint16_t flags; /* polarity/trigger: 0 = conforms to the bus */
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic;
	uint8_t dst_pin;
} __attribute__((packed));

_Static_assert(sizeof(struct mp_floating) == 16, "MP floating pointer is 16 bytes");
_Static_assert(sizeof(struct mp_config) == 44, "MP config header is 44 bytes");
_Static_assert(sizeof(struct mp_processor) == 20, "MP processor entry is 20 bytes");
_Static_assert(sizeof(struct mp_bus) == 8, "MP bus entry is 8 bytes");
_Static_assert(sizeof(struct mp_ioapic) == 8, "MP I/O APIC entry is 8 bytes");
_Static_assert(sizeof(struct mp_intr) == 8, "MP interrupt entry is 8 bytes");

#define MP_WORST_SIZE                                                                  \
	(sizeof(struct mp_floating) + sizeof(struct mp_config) +                       \
	 MPTABLE_MAX_CPUS * sizeof(struct mp_processor) + sizeof(struct mp_bus) +      \
	 sizeof(struct mp_ioapic) + (MP_ISA_IRQS - 1 + 2) * sizeof(struct mp_intr))
_Static_assert(MP_WORST_SIZE <= MPTABLE_MAX_SIZE, "MP table fits its area");
_Static_assert(MPTABLE_START + MPTABLE_MAX_SIZE <= GUEST_LEGACY_HOLE_END,
	       "MP table area lies in the legacy hole");

#define mp_fail(err, errlen, rc, fmt, ...) \
	err_fmt(err, errlen, rc, "" fmt, ##__VA_ARGS__)

#define mp_checksum table_checksum

static void mp_put(uint8_t *buf, size_t *off, const void *entry, size_t len)
{
	memcpy(buf + *off, entry, len);
	*off += len;
}

static void mp_put_intr(uint8_t *buf, size_t *off, uint8_t type, uint8_t int_type,
			uint8_t src_irq, uint8_t dst_apic, uint8_t dst_pin)
{
	struct mp_intr e = {
		.type = type,
		.int_type = int_type,
		.src_bus = MP_ISA_BUS_ID,
		.src_irq = src_irq,
		.dst_apic = dst_apic,
		.dst_pin = dst_pin,
	};
	mp_put(buf, off, &e, sizeof(e));
}

int mptable_write(struct guest_ram *ram, unsigned nr_cpus, char *err, size_t errlen)
{
	uint8_t table[MPTABLE_MAX_SIZE];

	if (!ram || !ram->host)
		return mp_fail(err, errlen, -EINVAL, "mptable: guest RAM is not mapped");
	if (nr_cpus < 1 || nr_cpus > MPTABLE_MAX_CPUS)
		return mp_fail(err, errlen, -EINVAL,
			       "mptable: %u vCPUs is outside 1..%u", nr_cpus, MPTABLE_MAX_CPUS);

	memset(table, 0, sizeof(table));
	size_t off = sizeof(struct mp_floating) + sizeof(struct mp_config);
	uint16_t count = 0;
	uint8_t ioapic_id = (uint8_t)nr_cpus;

	for (unsigned i = 0; i < nr_cpus; i++, count++) {
		struct mp_processor p = {
			.type = MP_ENTRY_PROCESSOR,
			.apic_id = (uint8_t)i,
			.apic_version = MPTABLE_LAPIC_VERSION,
			.flags = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
			.signature = MP_CPU_SIGNATURE,
			.features = MP_CPU_FEATURES,
		};
		mp_put(table, &off, &p, sizeof(p));
	}
	struct mp_bus bus = { .type = MP_ENTRY_BUS, .bus_id = MP_ISA_BUS_ID };
	memcpy(bus.bus_type, "ISA   ", sizeof(bus.bus_type));
	mp_put(table, &off, &bus, sizeof(bus));
	count++;

	struct mp_ioapic ioapic = {
		.type = MP_ENTRY_IOAPIC,
		.apic_id = ioapic_id,
		.version = MPTABLE_IOAPIC_VERSION,
		.flags = MP_IOAPIC_ENABLED,
		.addr = MPTABLE_IOAPIC_ADDR,
	};
	mp_put(table, &off, &ioapic, sizeof(ioapic));
	count++;

	for (uint8_t irq = 0; irq < MP_ISA_IRQS; irq++) {
		if (irq == 2)
			continue; /* 8259 cascade; pin 2 carries IRQ0 */
		mp_put_intr(table, &off, MP_ENTRY_IOINTR, MP_INT_TYPE_INT, irq, ioapic_id,
			    irq == 0 ? 2 : irq);
		count++;
	}
	mp_put_intr(table, &off, MP_ENTRY_LOCALINTR, MP_INT_TYPE_EXTINT, 0, MP_ALL_LAPICS, 0);
	mp_put_intr(table, &off, MP_ENTRY_LOCALINTR, MP_INT_TYPE_NMI, 0, MP_ALL_LAPICS, 1);
	count += 2;

	struct mp_config cfg = {
		.signature = { 'P', 'C', 'M', 'P' },
		.length = (uint16_t)(off - sizeof(struct mp_floating)),
		.spec_rev = 4,
		.entry_count = count,
		.lapic_addr = MPTABLE_LAPIC_ADDR,
	};
	memset(cfg.oem_id, ' ', sizeof(cfg.oem_id));
	memcpy(cfg.oem_id, MPTABLE_OEM_ID, strlen(MPTABLE_OEM_ID));
	memset(cfg.product_id, ' ', sizeof(cfg.product_id));
	memcpy(cfg.product_id, "VMM", 3);
	memcpy(table + sizeof(struct mp_floating), &cfg, sizeof(cfg));
	table[sizeof(struct mp_floating) + offsetof(struct mp_config, checksum)] =
		mp_checksum(table + sizeof(struct mp_floating), cfg.length);

	struct mp_floating fp = {
		.signature = { '_', 'M', 'P', '_' },
		.config = (uint32_t)(MPTABLE_START + sizeof(struct mp_floating)),
		.length = 1,
		.spec_rev = 4,
	};
	fp.checksum = mp_checksum((const uint8_t *)&fp, sizeof(fp));
	memcpy(table, &fp, sizeof(fp));

	uint8_t *dst = guest_ram_ptr(ram, MPTABLE_START, off);
	if (!dst)
		return mp_fail(err, errlen, -ENOMEM,
			       "mptable: [0x%llx, 0x%llx) is not guest RAM",
			       (unsigned long long)MPTABLE_START,
			       (unsigned long long)(MPTABLE_START + off));
	memcpy(dst, table, off);
	return 0;
}
