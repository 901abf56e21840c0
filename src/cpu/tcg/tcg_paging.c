/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: the guest's page walk, done here because libunicorn does
 * not expose its own: one walk of the current tables (32-bit, PAE or
 * 4-level, large pages), used to translate a virtual address (K14). A #PF's
 * error code and CR2 are libunicorn 2.1's own (K10).
 */
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
