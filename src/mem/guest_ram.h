/* SPDX-License-Identifier: MIT */
/*
 * Guest-physical RAM: one memfd (DESIGN K1) mapped once into the VMM, split
 * into at most two regions around the 32-bit PCI hole. Owns the layout and
 * the translation of guest-physical ranges to host pointers; who maps it into
 * a CPU backend or a device model is left to them.
 *
 * The memfd also backs RAM that device models add later (DESIGN X4,
 * populate_physmap) in the hole between the end of low RAM and the I/O
 * APIC: the pool, sparse until populated. Its layout is the guest's own
 * below GUEST_HOLE_RAM_END (offset = guest-physical address: low RAM, then
 * the pool), then the RAM above 4 GiB:
 *   memfd [0, low)                    low RAM, gpa [0, low)
 *   memfd [low, GUEST_HOLE_RAM_END)   the pool, gpa the same
 *   memfd [GUEST_HOLE_RAM_END, size)  high RAM, gpa [4 GiB, ...)
 * so a run of frames below the I/O APIC has one offset whatever mix of
 * boot and populated RAM it holds.
 */
#ifndef IOREQVM_GUEST_RAM_H
#define IOREQVM_GUEST_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_PAGE_SHIFT 12
#define GUEST_PAGE_SIZE (1ULL << GUEST_PAGE_SHIFT)

/* Low RAM ends at the PCI hole; RAM past it continues at 4 GiB. */
#define GUEST_PCI_HOLE_START 0xC0000000ULL
#define GUEST_PCI_HOLE_END 0x100000000ULL
/* The pool's end: the I/O APIC, LAPIC and firmware window above never get RAM. */
#define GUEST_HOLE_RAM_END 0xFEC00000ULL
/* Legacy VGA/BIOS window: RAM in the memslot, reported reserved to guests. */
#define GUEST_LEGACY_HOLE_START 0xA0000ULL
#define GUEST_LEGACY_HOLE_END 0x100000ULL
/* mem_lower as a PC BIOS reports it: 639 KiB, the EBDA above. */
#define GUEST_LOW_MEM_END 0x9FC00ULL

#define GUEST_RAM_MIN (2ULL << 20)
#define GUEST_RAM_MAX (1ULL << 40)
#define GUEST_RAM_MAX_REGIONS 2

struct guest_ram_region {
	uint64_t gpa;    /* first guest-physical byte */
	uint64_t size;   /* bytes, page aligned */
	uint64_t offset; /* offset of gpa in the memfd and in host mapping */
};

struct guest_ram {
	int memfd;
	uint8_t *host;     /* whole memfd, MAP_SHARED */
	uint64_t size;     /* bytes of the memfd (and of host): RAM and the pool */
	uint64_t ram_size; /* bytes of RAM the VM boots with (the regions) */
	unsigned nr_regions;
	struct guest_ram_region region[GUEST_RAM_MAX_REGIONS];
	struct guest_ram_region pool; /* hole frames populate may back (X4) */
};

/*
 * Lay out @size bytes (page multiple, GUEST_RAM_MIN..GUEST_RAM_MAX) without
 * allocating: fills regions only, memfd = -1, host = NULL. Returns 0 or
 * -EINVAL. Split out so the layout is testable on its own.
 */
int guest_ram_layout(struct guest_ram *ram, uint64_t size);

/* Layout plus memfd creation and mapping. Returns 0 or -errno. */
int guest_ram_create(struct guest_ram *ram, uint64_t size);
void guest_ram_destroy(struct guest_ram *ram);

/*
 * Host pointer for [gpa, gpa+len) if the whole range is RAM inside one
 * region, else NULL. Overflow-safe; len 0 is refused.
 */
void *guest_ram_ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len);

/* Highest guest-physical address + 1 backed by RAM. */
uint64_t guest_ram_end(const struct guest_ram *ram);

/*
 * Offset in the memfd of [gpa, gpa + len) if the memfd backs all of it
 * with consecutive pages (boot RAM, the pool, or both below the I/O APIC),
 * else -1. Whether those frames have RAM now is the P2M's to say.
 */
int64_t guest_ram_backing(const struct guest_ram *ram, uint64_t gpa, uint64_t len);

#endif
