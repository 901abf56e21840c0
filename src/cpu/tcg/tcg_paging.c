/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: the guest's page walk, done here because libunicorn 2.0.1
 * does not expose its own (K14): one walk of the current tables (32-bit,
 * PAE or 4-level, large pages), used to translate an address (to refuse
 * non-identity mappings) and to find the #PF error code and CR2 that
 * libunicorn does not report (K10).
 */
#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"

/* What one walk found: the physical address and the permissions on the way. */
struct walk {
	uint64_t pa;
	bool rw, us, nx;
};

static uint64_t *pte_ptr(struct tcg_vcpu *c, uint64_t table, unsigned index, unsigned size)
{
	return guest_ram_ptr(&c->vcpu->vm->ram, (table & 0x000ffffffffff000ULL) + index * size,
			     size);
}

/* Walk the tables for @va; false if an entry on the way is not present (or not RAM). */
static bool walk(struct tcg_vcpu *c, uint64_t va, struct walk *w)
{
	uint64_t cr0 = tcg_reg(c, UC_X86_REG_CR0), cr3 = tcg_reg(c, UC_X86_REG_CR3);
	uint64_t cr4 = tcg_reg(c, UC_X86_REG_CR4);
	*w = (struct walk){ .rw = true, .us = true };
	if (!(cr0 & X86_CR0_PG)) {
		w->pa = va & 0xffffffffULL;
		return true;
	}
	if (!(cr4 & X86_CR4_PAE)) { /* 32-bit paging */
		uint32_t *pde = (uint32_t *)pte_ptr(c, cr3, (va >> 22) & 0x3ff, 4);
		if (!pde || !(*pde & 1))
			return false;
		w->rw = *pde & 2;
		w->us = *pde & 4;
		if (*pde & 0x80 && cr4 & X86_CR4_PSE) {
			w->pa = (*pde & 0xffc00000u) | (va & 0x3fffff);
			return true;
		}
		uint32_t *pte = (uint32_t *)pte_ptr(c, *pde, (va >> 12) & 0x3ff, 4);
		if (!pte || !(*pte & 1))
			return false;
		w->rw = w->rw && (*pte & 2);
		w->us = w->us && (*pte & 4);
		w->pa = (*pte & 0xfffff000u) | (va & 0xfff);
		return true;
	}
	uint64_t efer = tcg_efer(c);
	bool nxe = efer & X86_EFER_NXE;
	int levels = efer & X86_EFER_LMA ? 4 : 3;
	uint64_t table = levels == 3 ? (cr3 & 0xffffffe0ULL) : cr3;
	for (int l = levels; l >= 1; l--) {
		unsigned shift = 12 + 9 * (unsigned)(l - 1);
		bool pdpte = l == 3 && levels == 3;
		uint64_t *e = pdpte ? guest_ram_ptr(&c->vcpu->vm->ram, table + ((va >> 30) & 3) * 8, 8)
				    : pte_ptr(c, table, (unsigned)((va >> shift) & 0x1ff), 8);
		if (!e || !(*e & 1))
			return false;
		if (!pdpte) { /* PAE PDPTEs carry no R/W, U/S */
			w->rw = w->rw && (*e & 2);
			w->us = w->us && (*e & 4);
		}
		w->nx = w->nx || (nxe && (*e >> 63));
		if (l == 1 || ((l == 2 || l == 3) && (*e & 0x80))) {
			uint64_t mask = (1ULL << shift) - 1;
			w->pa = (*e & 0x000ffffffffff000ULL & ~mask) | (va & mask);
			return true;
		}
		table = *e;
	}
	return false;
}

bool tcg_translate(struct tcg_vcpu *c, uint64_t va, uint64_t *pa)
{
	struct walk w;
	if (!walk(c, va, &w))
		return false;
	*pa = w.pa;
	return true;
}

/*
 * The page walk with its permissions: 0 if @va may be accessed so, else the
 * #PF error code (present bit, write, user, fetch) the CPU would give.
 */
static uint32_t access_fault(struct tcg_vcpu *c, uint64_t va, bool write, bool fetch)
{
	uint64_t cr0 = tcg_reg(c, UC_X86_REG_CR0);
	bool user = (tcg_reg(c, UC_X86_REG_CS) & 3) == 3;
	bool nxe = tcg_efer(c) & X86_EFER_NXE;
	uint32_t code = (write ? X86_PF_W : 0) | (user ? X86_PF_U : 0) | (fetch && nxe ? X86_PF_I : 0);
	if (!(cr0 & X86_CR0_PG))
		return 0;
	struct walk w;
	if (!walk(c, va, &w))
		return code;
	code |= X86_PF_P;
	if (user && !w.us)
		return code;
	if (write && !w.rw && (user || (cr0 & X86_CR0_WP)))
		return code;
	if (fetch && w.nx)
		return code;
	return 0;
}

/* First faulting byte of [va, va + size): its page's first byte or va itself. */
static bool range_fault(struct tcg_vcpu *c, uint64_t va, uint64_t size, bool write,
			uint32_t *code, uint64_t *cr2)
{
	uint64_t last = va + (size ? size : 1) - 1;
	for (uint64_t a = va;; a = (a | 0xfff) + 1) {
		uint32_t k = access_fault(c, a, write, false);
		if (k) {
			*code = k;
			*cr2 = a;
			return true;
		}
		if ((a | 0xfff) >= last)
			return false;
	}
}

uint32_t tcg_page_fault_code(struct tcg_vcpu *c)
{
	uint64_t rip = tcg_reg(c, UC_X86_REG_RIP), cr2 = rip;
	uint32_t code = access_fault(c, rip, false, true);
	if (!code && tcg_decode(c, rip) == 0) {
		for (unsigned i = 0; i < c->insn.nr_mem && !code; i++) {
			uint64_t a = c->insn.mem[i].addr, n = c->insn.mem[i].size;
			if (c->insn.mem[i].access & CS_AC_READ)
				range_fault(c, a, n, false, &code, &cr2);
			if (!code && c->insn.mem[i].access & CS_AC_WRITE)
				range_fault(c, a, n, true, &code, &cr2);
		}
	}
	if (!code) { /* implicit stack accesses (push, call, ret, ...) */
		uint64_t rsp = tcg_reg(c, UC_X86_REG_RSP);
		if (!range_fault(c, rsp - 8, 8, true, &code, &cr2))
			range_fault(c, rsp, 8, false, &code, &cr2);
	}
	tcg_set_cr2(c, cr2);
	return code;
}
