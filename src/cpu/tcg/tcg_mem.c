/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: trapped accesses (K11, K13), each handed whole to the
 * shared exit path from inside the engine's callback (tcg_dispatch), which
 * decides what it means. Ports come from the IN/OUT hooks. NONE runs are
 * MMIO regions whose callbacks carry at most 4 bytes: the accessing
 * instruction (RIP is exact in a callback) is decoded with capstone and the
 * pieces are put back together, so the exit path sees one access per guest
 * access, as a KVM MMIO exit. Writes to RO runs stop the engine from the
 * write-protection hook and are handed over: a plain store is stepped over,
 * anything else is stepped once against a scratch copy of the page (a REP
 * STOS/MOVS one iteration at a time)
 * (tcg_engine.c maps it). Hooks and callbacks get guest-physical
 * addresses (libunicorn 2.1 walks the guest's page tables), the decoded
 * operands are virtual: they are translated before they are matched. An
 * access to a physical address with nothing mapped is reported with it.
 */
#include <inttypes.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io_dispatch.h"
#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"


void tcg_stop_error(struct tcg_vcpu *c, const char *fmt, ...)
{
	if (c->stop != TCG_STOP_NONE && c->stop != TCG_STOP_ATTN)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	c->stop = TCG_STOP_ERROR;
	uc_emu_stop(c->uc);
}

/* capstone register -> (unicorn register, width); 0 if not a GPR or RIP. */
static int uc_gpr(x86_reg r, unsigned *width)
{
	static const struct {
		x86_reg cs64, cs32;
		int uc;
	} gprs[] = {
		{ X86_REG_RAX, X86_REG_EAX, UC_X86_REG_RAX }, { X86_REG_RBX, X86_REG_EBX, UC_X86_REG_RBX },
		{ X86_REG_RCX, X86_REG_ECX, UC_X86_REG_RCX }, { X86_REG_RDX, X86_REG_EDX, UC_X86_REG_RDX },
		{ X86_REG_RSI, X86_REG_ESI, UC_X86_REG_RSI }, { X86_REG_RDI, X86_REG_EDI, UC_X86_REG_RDI },
		{ X86_REG_RSP, X86_REG_ESP, UC_X86_REG_RSP }, { X86_REG_RBP, X86_REG_EBP, UC_X86_REG_RBP },
		{ X86_REG_R8, X86_REG_R8D, UC_X86_REG_R8 },   { X86_REG_R9, X86_REG_R9D, UC_X86_REG_R9 },
		{ X86_REG_R10, X86_REG_R10D, UC_X86_REG_R10 }, { X86_REG_R11, X86_REG_R11D, UC_X86_REG_R11 },
		{ X86_REG_R12, X86_REG_R12D, UC_X86_REG_R12 }, { X86_REG_R13, X86_REG_R13D, UC_X86_REG_R13 },
		{ X86_REG_R14, X86_REG_R14D, UC_X86_REG_R14 }, { X86_REG_R15, X86_REG_R15D, UC_X86_REG_R15 },
		{ X86_REG_RIP, X86_REG_EIP, UC_X86_REG_RIP },
	};
	for (size_t i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++) {
		if (r == gprs[i].cs64) {
			*width = 8;
			return gprs[i].uc;
		}
		if (r == gprs[i].cs32) {
			*width = 4;
			return gprs[i].uc;
		}
	}
	return 0;
}

static bool is_plain_store(const cs_insn *in)
{
	switch (in->id) {
	case X86_INS_MOV: case X86_INS_MOVABS: case X86_INS_MOVNTI: case X86_INS_MOVAPS:
	case X86_INS_MOVUPS: case X86_INS_MOVAPD: case X86_INS_MOVUPD: case X86_INS_MOVDQA:
	case X86_INS_MOVDQU: case X86_INS_MOVQ: case X86_INS_MOVD: case X86_INS_MOVSS:
	case X86_INS_MOVNTDQ: case X86_INS_MOVNTPS: case X86_INS_MOVNTPD:
		break;
	default:
		return false;
	}
	const cs_x86 *x = &in->detail->x86;
	if (x->prefix[0] == X86_PREFIX_REP || x->prefix[0] == X86_PREFIX_REPNE)
		return false;
	return x->op_count == 2 && x->operands[0].type == X86_OP_MEM &&
	       x->operands[1].type != X86_OP_MEM;
}

/*
 * Decode the instruction at @rip into c->insn with its memory operands'
 * addresses computed from the registers now. 0, or -1 if it cannot be.
 */
/* Decode the instruction's bytes into @e (everything but register values). */
static int decode_slot(struct tcg_vcpu *c, struct tcg_decode_slot *e, const uint8_t *buf,
		       size_t n, uint64_t rip, bool wide)
{
	cs_insn *in = NULL;
	if (cs_disasm(wide ? c->cs64 : c->cs32, buf, n, rip, 1, &in) != 1)
		return -1;
	memset(e, 0, sizeof(*e));
	e->rip = rip;
	e->wide = wide;
	e->len = (uint8_t)in->size;
	memcpy(e->bytes, buf, e->len);
	e->plain_store = is_plain_store(in);
	for (uint8_t i = 0; i < in->detail->groups_count; i++) {
		uint8_t g = in->detail->groups[i];
		if (g == CS_GRP_JUMP || g == CS_GRP_CALL || g == CS_GRP_RET || g == CS_GRP_IRET ||
		    g == CS_GRP_INT)
			e->ends_block = true;
	}
	const cs_x86 *x = &in->detail->x86;
	for (unsigned i = 0; i < x->op_count && e->nr_mem < 2; i++) {
		const cs_x86_op *op = &x->operands[i];
		if (op->type != X86_OP_MEM)
			continue;
		unsigned w = 8, wi = 8;
		int base = 0, index = 0;
		bool rip_rel = op->mem.base == X86_REG_RIP || op->mem.base == X86_REG_EIP;
		if (!rip_rel && op->mem.base != X86_REG_INVALID && !(base = uc_gpr(op->mem.base, &w)))
			continue;
		if (op->mem.index != X86_REG_INVALID && !(index = uc_gpr(op->mem.index, &wi)))
			continue;
		typeof(e->op[0]) *o = &e->op[e->nr_mem++];
		o->base = base;
		o->index = index;
		o->wbase = w;
		o->rip_rel = rip_rel;
		o->disp = op->mem.disp;
		o->scale = (uint8_t)op->mem.scale;
		o->seg = op->mem.segment == X86_REG_FS ? 1 : op->mem.segment == X86_REG_GS ? 2 : 0;
		o->size = op->size;
		o->access = op->access;
	}
	cs_free(in, 1);
	e->valid = true;
	return 0;
}

int tcg_decode(struct tcg_vcpu *c, uint64_t rip)
{
	uint8_t buf[16];
	size_t n = tcg_read_virt_upto(c, rip, buf, sizeof(buf));
	uint64_t efer = tcg_efer(c);
	bool wide = (efer & X86_EFER_LMA) != 0;

	/* The cache: same address, mode and bytes (code may have changed, K8). */
	struct tcg_decode_slot *e = &c->dcache[(rip ^ (rip >> 6)) % TCG_DECODE_SLOTS];
	if (!e->valid || e->rip != rip || e->wide != wide || e->len > n ||
	    memcmp(e->bytes, buf, e->len)) {
		if (decode_slot(c, e, buf, n, rip, wide)) {
			e->valid = false;
			return -1;
		}
	}
	struct tcg_insn *d = &c->insn;
	memset(d, 0, sizeof(*d));
	d->rip = rip;
	d->len = e->len;
	memcpy(d->bytes, e->bytes, e->len);
	d->plain_store = e->plain_store;
	d->ends_block = e->ends_block;
	for (unsigned i = 0; i < e->nr_mem; i++) {
		const typeof(e->op[0]) *o = &e->op[i];
		uint64_t a = (uint64_t)o->disp;
		if (o->rip_rel)
			a += rip + e->len;
		else if (o->base)
			a += tcg_reg(c, o->base);
		if (o->index)
			a += tcg_reg(c, o->index) * (uint64_t)o->scale;
		if (o->seg == 1)
			a += tcg_reg(c, UC_X86_REG_FS_BASE);
		else if (o->seg == 2)
			a += tcg_reg(c, UC_X86_REG_GS_BASE);
		if (!wide || o->wbase == 4)
			a &= 0xffffffffULL;
		d->mem[d->nr_mem].addr = a;
		d->mem[d->nr_mem].size = o->size;
		d->mem[d->nr_mem].access = o->access;
		d->nr_mem++;
	}
	return 0;
}

/*
 * Hand one whole guest access to the shared exit path, inside the callback
 * (K13), unless it is for our own platform devices (K5). The exit path
 * leaves guest mode around waits itself; a stop it reports, or mappings
 * changed meanwhile, are acted on at the next block (never stop here, K3).
 */
void tcg_dispatch(struct tcg_vcpu *c, struct io_access *a)
{
	struct irqchip *p = &c->t->irqchip;
	if (a->space == IO_SPACE_PIO ? irqchip_has_port(a->addr) && irqchip_pio(p, a)
				     : irqchip_has_mmio(a->addr) && irqchip_mmio(p, c->vcpu->id, a))
		return;
	if (io_dispatch(c->vcpu, a, IO_FROM_GUEST) == IO_STOP)
		atomic_fetch_or(&c->attn, TCG_ATTN_STOP);
	else if (c->gen_applied != atomic_load(&c->t->maps_gen))
		atomic_fetch_or(&c->attn, TCG_ATTN_KICK); /* new mappings from the next block */
}

uint32_t tcg_hook_in(uc_engine *uc, uint32_t port, int size, void *opaque)
{
	struct tcg_vcpu *c = opaque;
	struct io_access a = { .space = IO_SPACE_PIO, .addr = port, .size = (uint8_t)size };
	tcg_dispatch(c, &a);
	return (uint32_t)a.data;
}

void tcg_hook_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *opaque)
{
	struct tcg_vcpu *c = opaque;
	uint32_t mask = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	struct io_access a = { .space = IO_SPACE_PIO, .addr = port, .size = (uint8_t)size,
			       .is_write = true, .data = value & mask };
	tcg_dispatch(c, &a);
}

static void dispatch_mmio(struct tcg_vcpu *c, uint64_t addr, uint8_t len, bool is_write,
			  uint64_t *data)
{
	struct io_access a = { .space = IO_SPACE_MMIO, .addr = addr, .size = len,
			       .is_write = is_write, .data = is_write ? *data : 0 };
	tcg_dispatch(c, &a);
	if (!is_write)
		*data = a.data;
}

/*
 * Start the guest access that the piece [pa, pa + size) belongs to: the
 * decoded memory operand covering it, cut to the page and to 8 bytes.
 * false if the piece lies outside every operand (an aligned over-read
 * around an access that crosses into this page): nothing to do for it.
 */
static bool frag_start(struct tcg_vcpu *c, uint64_t rip, uint64_t pa, unsigned size,
		       bool is_write)
{
	struct tcg_frag *f = &c->frag;
	uint64_t start = pa, end = pa + size;
	if (tcg_decode(c, rip) == 0 && c->insn.nr_mem) {
		bool found = false, in_page = false;
		for (unsigned i = 0; i < c->insn.nr_mem && !found; i++) {
			/* The operand's bytes in this physical page, wherever it maps them. */
			uint64_t lo, hi, s = c->insn.mem[i].size ? c->insn.mem[i].size : size;
			if (!tcg_virt_to_phys_piece(c, c->insn.mem[i].addr, s, pa, &lo, &hi))
				continue;
			in_page = true;
			if (pa < hi && lo < pa + size) {
				start = lo;
				end = hi;
				found = true;
			}
		}
		if (!found && in_page)
			return false; /* an operand elsewhere in this page: the pieces are extra bytes */
	}
	uint64_t page = pa & ~(GUEST_PAGE_SIZE - 1);
	if (start < page)
		start = page;
	if (end > page + GUEST_PAGE_SIZE)
		end = page + GUEST_PAGE_SIZE;
	if (end - start > 8) { /* wider (SSE) accesses: 8-byte pieces, as KVM */
		start += (pa - start) & ~7ULL;
		if (end - start > 8)
			end = start + 8;
	}
	*f = (struct tcg_frag){ .active = true, .is_write = is_write, .rip = rip,
				.start = start, .len = (uint8_t)(end - start) };
	if (!is_write)
		dispatch_mmio(c, f->start, f->len, false, &f->data);
	return true;
}

static bool piece_fits(const struct tcg_frag *f, uint64_t rip, uint64_t pa, unsigned size,
		       bool is_write)
{
	if (!f->active || f->rip != rip || f->is_write != is_write || pa < f->start ||
	    pa + size > f->start + f->len)
		return false;
	return !(f->done & (((1u << size) - 1) << (pa - f->start)));
}

static uint64_t mmio_piece(struct tcg_vcpu *c, uint64_t pa, unsigned size, bool is_write,
			   uint64_t value)
{
	struct tcg_frag *f = &c->frag;
	uint64_t rip = tcg_reg(c, UC_X86_REG_RIP);
	if (!piece_fits(f, rip, pa, size, is_write)) {
		if (!frag_start(c, rip, pa, size, is_write))
			return 0;
		if (pa < f->start || pa + size > f->start + f->len) {
			/* A piece straddling our cut: serve it alone. */
			f->active = false;
			uint64_t d = value;
			dispatch_mmio(c, pa, (uint8_t)size, is_write, &d);
			return d;
		}
	}
	unsigned shift = 8 * (unsigned)(pa - f->start);
	uint64_t vmask = size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	f->done |= (uint8_t)(((1u << size) - 1) << (pa - f->start));
	bool complete = f->done == (uint8_t)((1u << f->len) - 1);
	uint64_t out = 0;
	if (is_write) {
		f->data = (f->data & ~(vmask << shift)) | ((value & vmask) << shift);
		if (complete)
			dispatch_mmio(c, f->start, f->len, true, &f->data);
	} else {
		out = (f->data >> shift) & vmask;
	}
	if (complete)
		f->active = false;
	return out;
}

uint64_t tcg_mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *opaque)
{
	struct tcg_mmio_region *r = opaque;
	return mmio_piece(r->c, r->base + offset, size, false, 0);
}

void tcg_mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value,
		    void *opaque)
{
	struct tcg_mmio_region *r = opaque;
	mmio_piece(r->c, r->base + offset, size, true, value);
}

/* Only its presence matters: it makes RIP exact in memory traps (K11). */
void tcg_hook_sync_rip(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
		       int64_t value, void *opaque)
{
}

/*
 * The page walk succeeded (an unmapped virtual address is the guest's #PF),
 * so the physical address behind it has nothing: past guest-physical space,
 * or (a fetch) no RAM.
 */
bool tcg_hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
		       int64_t value, void *opaque)
{
	struct tcg_vcpu *c = opaque;
	const char *what = type == UC_MEM_WRITE_UNMAPPED ? "write to"
			   : type == UC_MEM_READ_UNMAPPED ? "read of"
							   : "instruction fetch from";
	tcg_stop_error(c, "%s guest-physical 0x%" PRIx64 " (rip 0x%" PRIx64 "), %s", what, addr,
		       tcg_reg(c, UC_X86_REG_RIP),
		       addr >= c->t->space_end ? "beyond guest-physical space"
					       : "which holds no RAM to execute");
	return false;
}

/* An operand of @d writes physical @addr (its virtual bytes translated). */
static bool writes_to(struct tcg_vcpu *c, const struct tcg_insn *d, uint64_t addr)
{
	for (unsigned i = 0; i < d->nr_mem; i++) {
		uint64_t lo, hi;
		if (d->mem[i].access & CS_AC_WRITE &&
		    tcg_virt_to_phys_piece(c, d->mem[i].addr, d->mem[i].size ? d->mem[i].size : 1,
					   addr, &lo, &hi) &&
		    lo <= addr && addr < hi)
			return true;
	}
	return false;
}

/*
 * Decode the instruction that writes @addr into c->insn and set RIP to it.
 * RIP in the protection hook is exact for plain stores (tcg_hook_sync_rip),
 * but a LOCK-prefixed access goes through libunicorn's atomic helpers,
 * which sync nothing: RIP is then the last load or store before it in the
 * same translated block, or the block's start, with the registers already
 * as the writer sees them. So walk the straight-line code from RIP to the
 * first instruction whose memory operand, computed from the registers now,
 * is written and covers @addr. (The lazily kept flags state can be that of
 * the block's start: a locked adc/sbb would see stale CF; nothing else
 * reads flags before writing them.)
 */
static int find_writer(struct tcg_vcpu *c, uint64_t rip, uint64_t addr)
{
	for (unsigned i = 0; i < 64; i++) {
		if (tcg_decode(c, rip))
			return -1;
		if (writes_to(c, &c->insn, addr)) {
			if (i)
				uc_reg_write(c->uc, UC_X86_REG_RIP, &rip);
			return 0;
		}
		if (c->insn.ends_block)
			break;
		rip += c->insn.len;
	}
	/* Nothing names it (an implicit operand): the instruction at RIP, as before. */
	return tcg_decode(c, tcg_reg(c, UC_X86_REG_RIP));
}

/*
 * A write to a RO run (ram_ro, or a WRITE claim) stops the engine with
 * nothing written (precise thanks to tcg_hook_sync_rip). A MOV-like store
 * is forwarded here and the run loop steps over it; anything else (a
 * locked read-modify-write, movs, push, add [m], r) is recorded and the
 * run loop steps it against a scratch copy (tcg_wprot_step).
 */
bool tcg_hook_wprot(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
		    void *opaque)
{
	struct tcg_vcpu *c = opaque;
	uint64_t rip = tcg_reg(c, UC_X86_REG_RIP);
	if (c->wp_stepping) {
		tcg_stop_error(c, "the instruction at 0x%" PRIx64 " writes to write-protected 0x%"
			       PRIx64 " and 0x%" PRIx64 ": on tcg an instruction may write to one "
			       "such place only", rip, c->wp_addr, addr);
		return false;
	}
	if (find_writer(c, rip, addr)) {
		tcg_stop_error(c, "write to write-protected page 0x%" PRIx64 " by an instruction "
			       "at or after 0x%" PRIx64 " that cannot be found", addr, rip);
		return false;
	}
	if (c->stop != TCG_STOP_NONE && c->stop != TCG_STOP_ATTN)
		return false;
	unsigned n = size > 8 ? 8 : (unsigned)size;
	if (!c->insn.plain_store) {
		c->wp_addr = addr;
		c->wp_size = (uint8_t)n;
		c->stop = TCG_STOP_WPROT_STEP;
		return false;
	}
	uint64_t d = (uint64_t)value;
	dispatch_mmio(c, addr, (uint8_t)n, true, &d);
	c->stop = TCG_STOP_WPROT;
	return false;
}

/*
 * Is @d a REP-prefixed STOS or MOVS? Then *mask is its count register's
 * width (RCX, or ECX with 32-bit addressing). libunicorn steps such an
 * instruction to its end in one step, so against the scratch page every
 * iteration after the first would be lost: it is stepped one iteration at
 * a time instead (RCX 1 for the step), each store trapping on its own.
 */
static bool rep_string_store(const struct tcg_insn *d, bool wide, uint64_t *mask)
{
	bool rep = false, addr32 = !wide;
	unsigned i = 0;
	for (; i < d->len; i++) {
		uint8_t b = d->bytes[i];
		if (b == 0xf3 || b == 0xf2)
			rep = true;
		else if (b == 0x67)
			addr32 = true;
		else if (b == 0x66 || b == 0xf0 || b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e ||
			 b == 0x64 || b == 0x65)
			continue;
		else if (wide && (b & 0xf0) == 0x40)
			continue; /* REX */
		else
			break;
	}
	if (!rep || i >= d->len)
		return false;
	uint8_t op = d->bytes[i];
	if (op != 0xaa && op != 0xab && op != 0xa4 && op != 0xa5)
		return false;
	*mask = addr32 ? 0xffffffffULL : ~0ULL;
	return true;
}

int tcg_wprot_step(struct tcg_vcpu *c, uc_err *step_err)
{
	struct vm *vm = c->vcpu->vm;
	uint64_t addr = c->wp_addr, n = c->wp_size;
	uint64_t lo = addr & ~(GUEST_PAGE_SIZE - 1);
	uint64_t hi = (addr + n + GUEST_PAGE_SIZE - 1) & ~(GUEST_PAGE_SIZE - 1);
	/* The scratch window: the write's pages in the RO region of the first. */
	uint64_t ro_end = tcg_engine_ro_end(c, lo);
	if (hi > ro_end)
		hi = ro_end > lo ? ro_end : lo + GUEST_PAGE_SIZE;
	if (!c->scratch) {
		c->scratch = aligned_alloc(GUEST_PAGE_SIZE, TCG_SCRATCH_PAGES * GUEST_PAGE_SIZE);
		if (!c->scratch)
			return -ENOMEM;
	}
	const uint8_t *ram = guest_ram_ptr(&vm->ram, lo, hi - lo);
	if (!ram)
		return -EFAULT;
	memcpy(c->scratch, ram, hi - lo);
	uint64_t rip = tcg_reg(c, UC_X86_REG_RIP), rcx = tcg_reg(c, UC_X86_REG_RCX), mask = 0;
	bool rep = !tcg_decode(c, rip) && rep_string_store(&c->insn, (tcg_efer(c) & X86_EFER_LMA) != 0,
							   &mask) && (rcx & mask) > 1;
	if (rep) {
		uint64_t one = (rcx & ~mask) | 1;
		uc_reg_write(c->uc, UC_X86_REG_RCX, &one);
	}
	c->wp_stepping = true;
	int rc = tcg_engine_step_scratch(c, lo, hi, c->scratch, step_err);
	c->wp_stepping = false;
	if (rep) { /* the other iterations, from the same instruction; none done: as before */
		bool done = (tcg_reg(c, UC_X86_REG_RCX) & mask) == 0;
		uint64_t left = done ? (rcx & ~mask) | ((rcx & mask) - 1) : rcx;
		uc_reg_write(c->uc, UC_X86_REG_RCX, &left);
		if (done)
			uc_reg_write(c->uc, UC_X86_REG_RIP, &rip);
	}
	if (rc || c->stop != TCG_STOP_NONE)
		return rc; /* a fault: the CPU would not have written either */
	/* The part of the write outside the window went where it belongs. */
	uint64_t data = 0, in = addr + n <= hi ? n : hi - addr;
	memcpy(&data, c->scratch + (addr - lo), in);
	dispatch_mmio(c, addr, (uint8_t)in, true, &data);
	return 0;
}
