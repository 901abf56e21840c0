/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: the guest's page walk, done here because libunicorn does
 * not expose its own: one walk of the current tables (32-bit, PAE or
 * 4-level, large pages), and guest memory read and written by virtual
 * address through it, a page at a time (an interrupt frame on a vmalloc'd
 * stack, an instruction crossing into another page). Everything the
 * backend itself reads of the guest's code, descriptor tables and stacks
 * goes through here: hooks get physical addresses, the guest's registers
 * hold virtual ones. A #PF's error code and CR2 are libunicorn 2.1's own
 * (K10).
 */
#include <string.h>

#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"

static uint64_t *pte_ptr(struct tcg_vcpu *c, uint64_t table, unsigned index, unsigned size)
{
	return guest_ram_ptr(&c->vcpu->vm->ram, (table & 0x000ffffffffff000ULL) + index * size,
			     size);
}

bool tcg_translate(struct tcg_vcpu *c, uint64_t va, uint64_t *pa)
{
	uint64_t cr0 = tcg_reg(c, UC_X86_REG_CR0), cr3 = tcg_reg(c, UC_X86_REG_CR3);
	uint64_t cr4 = tcg_reg(c, UC_X86_REG_CR4);
	if (!(cr0 & X86_CR0_PG)) {
		*pa = va & 0xffffffffULL;
		return true;
	}
	if (!(cr4 & X86_CR4_PAE)) { /* 32-bit paging */
		uint32_t *pde = (uint32_t *)pte_ptr(c, cr3, (va >> 22) & 0x3ff, 4);
		if (!pde || !(*pde & 1))
			return false;
		if (*pde & 0x80 && cr4 & X86_CR4_PSE) {
			*pa = (*pde & 0xffc00000u) | (va & 0x3fffff);
			return true;
		}
		uint32_t *pte = (uint32_t *)pte_ptr(c, *pde, (va >> 12) & 0x3ff, 4);
		if (!pte || !(*pte & 1))
			return false;
		*pa = (*pte & 0xfffff000u) | (va & 0xfff);
		return true;
	}
	int levels = tcg_efer(c) & X86_EFER_LMA ? 4 : 3;
	uint64_t table = levels == 3 ? (cr3 & 0xffffffe0ULL) : cr3;
	for (int l = levels; l >= 1; l--) {
		unsigned shift = 12 + 9 * (unsigned)(l - 1);
		bool pdpte = l == 3 && levels == 3;
		uint64_t *e = pdpte ? guest_ram_ptr(&c->vcpu->vm->ram, table + ((va >> 30) & 3) * 8, 8)
				    : pte_ptr(c, table, (unsigned)((va >> shift) & 0x1ff), 8);
		if (!e || !(*e & 1))
			return false;
		if (l == 1 || ((l == 2 || l == 3) && (*e & 0x80))) {
			uint64_t mask = (1ULL << shift) - 1;
			*pa = (*e & 0x000ffffffffff000ULL & ~mask) | (va & mask);
			return true;
		}
		table = *e;
	}
	return false;
}

/* Copy between @buf and guest-virtual [va, va + len), page by page; bytes done. */
static size_t copy_virt(struct tcg_vcpu *c, uint64_t va, void *buf, size_t len, bool to_guest)
{
	size_t done = 0;
	while (done < len) {
		uint64_t v = va + done, pa;
		size_t chunk = GUEST_PAGE_SIZE - (v & (GUEST_PAGE_SIZE - 1));
		if (chunk > len - done)
			chunk = len - done;
		uint8_t *p = tcg_translate(c, v, &pa) ? guest_ram_ptr(&c->vcpu->vm->ram, pa, chunk)
						      : NULL;
		if (!p)
			break;
		if (to_guest)
			memcpy(p, (uint8_t *)buf + done, chunk);
		else
			memcpy((uint8_t *)buf + done, p, chunk);
		done += chunk;
	}
	return done;
}

size_t tcg_read_virt_upto(struct tcg_vcpu *c, uint64_t va, void *buf, size_t len)
{
	return copy_virt(c, va, buf, len, false);
}

bool tcg_read_virt(struct tcg_vcpu *c, uint64_t va, void *buf, size_t len)
{
	return copy_virt(c, va, buf, len, false) == len;
}

bool tcg_write_virt(struct tcg_vcpu *c, uint64_t va, const void *buf, size_t len)
{
	/* All or nothing: a frame half pushed is worse than none. */
	if (!tcg_virt_mapped(c, va, len))
		return false;
	return copy_virt(c, va, (void *)buf, len, true) == len;
}

bool tcg_virt_mapped(struct tcg_vcpu *c, uint64_t va, size_t len)
{
	if (!len)
		return true;
	uint64_t last = (va + len - 1) & ~(GUEST_PAGE_SIZE - 1);
	for (uint64_t v = va & ~(GUEST_PAGE_SIZE - 1);; v += GUEST_PAGE_SIZE) {
		uint64_t pa;
		if (!tcg_translate(c, v, &pa) || !guest_ram_ptr(&c->vcpu->vm->ram, pa, GUEST_PAGE_SIZE))
			return false;
		if (v == last)
			return true;
	}
}

bool tcg_virt_to_phys_piece(struct tcg_vcpu *c, uint64_t va, uint64_t len, uint64_t pa,
			    uint64_t *lo, uint64_t *hi)
{
	/* [va, va + len) touches two pages at most (len <= a page). */
	for (uint64_t v = va; v < va + len;) {
		uint64_t page_end = (v | (GUEST_PAGE_SIZE - 1)) + 1;
		uint64_t end = page_end < va + len ? page_end : va + len, p;
		if (tcg_translate(c, v, &p) && (p & ~(GUEST_PAGE_SIZE - 1)) ==
						     (pa & ~(GUEST_PAGE_SIZE - 1))) {
			*lo = p;
			*hi = p + (end - v);
			return true;
		}
		v = end;
	}
	return false;
}
