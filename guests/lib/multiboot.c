/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 information: the structure the loader passed in EBX, its
 * command line, memory sizes, memory map and modules, each checked against
 * the flags bit that says it is valid.
 */
#include "guest.h"
#include "kit.h"

#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)

const struct guest_mb_info *guest_mb_info(void)
{
	return (const struct guest_mb_info *)(uintptr_t)kit_mb_info;
}

static bool has(uint32_t bit)
{
	return kit_mb_info && (guest_mb_info()->flags & bit);
}

const char *guest_cmdline(void)
{
	if (!has(MBI_CMDLINE) || !guest_mb_info()->cmdline)
		return "";
	return (const char *)(uintptr_t)guest_mb_info()->cmdline;
}

bool guest_mem_kib(uint32_t *lower, uint32_t *upper)
{
	bool ok = has(MBI_MEM);

	*lower = ok ? guest_mb_info()->mem_lower : 0;
	*upper = ok ? guest_mb_info()->mem_upper : 0;
	return ok;
}

const struct guest_mb_mmap *guest_mmap_next(const struct guest_mb_mmap *prev)
{
	if (!has(MBI_MMAP))
		return 0;
	uintptr_t start = guest_mb_info()->mmap_addr;
	uintptr_t end = start + guest_mb_info()->mmap_length;
	uintptr_t next = prev ? (uintptr_t)prev + prev->size + 4 : start;

	if (next + sizeof(*prev) > end)
		return 0;
	return (const struct guest_mb_mmap *)next;
}

unsigned guest_module_count(void)
{
	return has(MBI_MODS) ? guest_mb_info()->mods_count : 0;
}

const struct guest_mb_module *guest_module(unsigned i)
{
	if (i >= guest_module_count())
		return 0;
	return (const struct guest_mb_module *)(uintptr_t)guest_mb_info()->mods_addr + i;
}
