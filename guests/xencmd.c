/* SPDX-License-Identifier: MIT */
/*
 * xencmd: the guest side of the Xen device model test (tests/xen,
 * xen_dm_model --cmd-port XENCMD_PORT). It hands the model 64 KiB command
 * buffers by frame number (xencmd_abi.h) and checks what it reads back:
 *  - four buffers, each filled with its own words and seed, then the first
 *    again with other words: every word worked on in place (xencmd_work),
 *    the header's count and checksum of the words it had, status 0 (the
 *    model maps every request afresh: nothing stale from a mapping before);
 *  - a buffer with a bad magic: status XENCMD_BAD_MAGIC, buffer untouched;
 *  - a buffer in the PCI hole (no RAM): status XENCMD_NOT_RAM;
 *  - a buffer whose second half lies past the end of RAM: status
 *    XENCMD_NOT_RAM, and its first half (RAM) untouched.
 * Mode "populate" (DESIGN X4): RAM the model adds in the PCI hole and takes
 * away again, through Xen's populate_physmap and decrease_reservation:
 *  - before, the frames read all ones (a hole); populated, they read zero
 *    and a command buffer there is worked on in place by the model (which
 *    maps it with xenforeignmemory_map: mappable by models);
 *  - populating them again: EEXIST; at the I/O APIC: EINVAL;
 *  - given back, they read all ones and the model's map of them fails
 *    (XENCMD_NOT_RAM); giving back a hole: EINVAL;
 *  - populated again, they are fresh memory: zero, none of the old words;
 *  - boot RAM given back reads all ones, and populated again reads zero;
 *  - then it waits for the host (XENCMD_GO_PORT), who checks the model's
 *    xenstore keys meanwhile and says go through xenstore.
 * Mode "killed" (I5): a command served, then a read the model never
 * answers: the host kills the model (SIGKILL) meanwhile, and the read
 * completes with the default (all ones); the model's port reads all ones
 * afterwards (nobody's), and the guest runs on to its end.
 * Modes "shutdown_poweroff", "shutdown_reboot": the model calls xendevicemodel_shutdown
 * with the reason the guest writes; Xen's reasons ioreqvm does not carry
 * out (suspend) and unknown ones are refused first and the VM runs on;
 * then the VM ends with the status the test checks (0, 10).
 * Mode "dirty" (track_dirty_vram): 32 frames at XENCMD_DIRTY_PFN tracked;
 * the first call reports every frame dirty (as Xen), then exactly the
 * frames the guest wrote since the call before (byte stores, a whole page
 * by rep stosb, a locked add; the frames a model says it modified; the
 * mapping around the range split and joined in between), none
 * when nothing was written; stopped, started again (all dirty once more),
 * a smaller range (writes outside it not reported).
 * Mode "irq": ISA IRQ 5 raised by the model three times, each taken once
 * through the I/O APIC and lowered again.
 * Mode "claim": a frame of type ioreq_server whose writes the model
 * claimed: each write goes to the model (the page holds what the model
 * stored there, not what the guest wrote; each element of a rep stosl
 * too); released, the frame is RAM the
 * guest writes itself; claimed again, writes go to the model again.
 * Filling and checking run at CPL3 (kvm_pvm emulates CPL0, DESIGN 7).
 */
#include "guest.h"
#include "xencmd_abi.h"
#include "../dm/testdm/testdm_pattern.h"

#define BUFFERS 0xA00000ULL /* four buffers from 10 MiB */

struct job {
	uintptr_t base;
	uint32_t nr_words;
	uint64_t seed;
	bool worked;    /* check: the model's words (else: as filled) */
	uint64_t sum;   /* fill: testdm_fold of the words written */
	uint64_t bad;   /* check: words not as expected */
};

/* CPL3: header and words. */
static long fill(void *arg)
{
	struct job *j = arg;
	struct xencmd_header *h = (struct xencmd_header *)j->base;
	volatile uint64_t *w = (volatile uint64_t *)(h + 1);
	h->magic = XENCMD_MAGIC;
	h->nr_words = j->nr_words;
	h->seed = j->seed;
	h->done = 0;
	h->sum = 0;
	uint64_t sum = 0, x = j->seed;
	for (uint64_t i = 0; i < j->nr_words; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		w[i] = x;
		sum = testdm_fold(sum, x);
	}
	j->sum = sum;
	return 0;
}

/* CPL3: every word worked on (j->worked) or still as filled. */
static long check(void *arg)
{
	struct job *j = arg;
	volatile uint64_t *w = (volatile uint64_t *)((struct xencmd_header *)j->base + 1);
	uint64_t x = j->seed, bad = 0;
	for (uint64_t i = 0; i < j->nr_words; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		bad += w[i] != (j->worked ? xencmd_work(x, i, j->seed) : x);
	}
	j->bad = bad;
	return 0;
}

static uint32_t command(uintptr_t base)
{
	guest_outl(XENCMD_PORT, (uint32_t)(base >> 12));
	return guest_inl(XENCMD_PORT);
}

static void one_buffer(uintptr_t base, uint64_t seed, const char *what)
{
	struct job j = { .base = base, .nr_words = XENCMD_MAX_WORDS, .seed = seed };
	guest_run_user(fill, &j);
	uint32_t status = command(base);
	const struct xencmd_header *h = (const struct xencmd_header *)base;
	j.worked = true;
	guest_run_user(check, &j);
	bool ok = status == XENCMD_OK && h->done == j.nr_words && h->sum == j.sum && j.bad == 0;
	guest_printf("xencmd: %s at 0x%lx: status %u, %lu of %u words done, %lu wrong\n", what,
		     (unsigned long)base, status, (unsigned long)h->done, j.nr_words,
		     (unsigned long)j.bad);
	guest_check(ok, what, ok ? 0 : 1, 0);
}

/* A command that must fail with @want and leave the RAM part of the buffer (@words) as filled. */
static void refused(uintptr_t base, uint32_t words, bool bad_magic, uint32_t want, const char *what)
{
	struct job j = { .base = base, .nr_words = words, .seed = 0x5eed0000 + want };
	guest_run_user(fill, &j);
	struct xencmd_header *h = (struct xencmd_header *)base;
	if (bad_magic)
		h->magic = ~XENCMD_MAGIC;
	uint32_t status = command(base);
	guest_run_user(check, &j); /* the words as filled */
	guest_printf("xencmd: %s: status %u, header done %lu, %lu words changed\n", what, status,
		     (unsigned long)h->done, (unsigned long)j.bad);
	guest_check(status == want, what, status, want);
	guest_check(h->done == 0 && h->sum == 0 && j.bad == 0, "  and the buffer is untouched",
		    h->done + h->sum + j.bad, 0);
}

/* The end of the RAM region holding the image (1 MiB), from the Multiboot map. */
static uint64_t low_ram_end(void)
{
	for (const struct guest_mb_mmap *m = guest_mmap_next(0); m; m = guest_mmap_next(m))
		if (m->type == 1 && m->addr <= 0x100000 && m->addr + m->len > 0x100000)
			return m->addr + m->len;
	return 0;
}

static void mode_buffers(void)
{
	uint32_t before = guest_inl(XENCMD_PORT);
	guest_check(before == XENCMD_NONE, "no command before the first", before, XENCMD_NONE);
	for (unsigned k = 0; k < 4; k++) {
		char what[40];
		guest_snprintf(what, sizeof(what), "buffer %u worked on in place", k);
		one_buffer(BUFFERS + k * XENCMD_BUF_SIZE, 0x1000 + k, what);
	}
	one_buffer(BUFFERS, 0x2000, "buffer 0 again, new words");
	refused(BUFFERS + XENCMD_BUF_SIZE, XENCMD_MAX_WORDS, true, XENCMD_BAD_MAGIC, "bad magic refused");
	uint32_t hole = command(0xE0000000u);
	guest_check(hole == XENCMD_NOT_RAM, "buffer in the PCI hole: not RAM", hole, XENCMD_NOT_RAM);
	uint64_t end = low_ram_end();
	guest_check(end >= 0x1000000 && end <= 0xC0000000u, "RAM end from the memory map", end, 0);
	if (end >= 0x1000000 && end <= 0xC0000000u) {
		/* Half in RAM: its header and the words that fit there. */
		uintptr_t base = (uintptr_t)end - XENCMD_BUF_SIZE / 2;
		uint32_t words = (XENCMD_BUF_SIZE / 2 - sizeof(struct xencmd_header)) / 8;
		refused(base, words, false, XENCMD_NOT_RAM, "buffer past the end of RAM: not RAM");
	}
}

#define POP_PFN 0xD0000u                      /* 3.25 GiB: in the PCI hole */
#define POP_BASE ((uintptr_t)POP_PFN << 12)
#define BOOT_PFN 0x3000u                      /* 48 MiB: boot RAM no one here uses */
#define BOOT_BASE ((uintptr_t)BOOT_PFN << 12)

static uint32_t populate(uint32_t pfn)
{
	guest_outl(XENCMD_POPULATE_PORT, pfn);
	return guest_inl(XENCMD_POPULATE_PORT);
}

static uint32_t decrease(uint32_t pfn)
{
	guest_outl(XENCMD_DECREASE_PORT, pfn);
	return guest_inl(XENCMD_DECREASE_PORT);
}

struct scan {
	uintptr_t base;
	uint64_t nonzero;
};

/* CPL3: words of the 16 frames at s->base that are not zero. */
static long scan_zero(void *arg)
{
	struct scan *s = arg;
	const volatile uint64_t *w = (const volatile uint64_t *)s->base;
	s->nonzero = 0;
	for (unsigned i = 0; i < XENCMD_BUF_SIZE / 8; i++)
		s->nonzero += w[i] != 0;
	return 0;
}

static void expect_fresh(uintptr_t base, const char *what)
{
	struct scan s = { .base = base };
	guest_run_user(scan_zero, &s);
	guest_check(s.nonzero == 0, what, s.nonzero, 0);
}

static void mode_populate(void)
{
	uint32_t v = guest_read32(POP_BASE);
	guest_check(v == 0xffffffffu, "PCI hole frame reads all ones before populate", v, 0xffffffffu);
	uint32_t st = populate(POP_PFN);
	guest_check(st == XENCMD_OK, "populate 16 frames in the PCI hole", st, XENCMD_OK);
	expect_fresh(POP_BASE, "populated frames read zero");
	one_buffer(POP_BASE, 0x3000, "populated buffer worked on in place");
	st = populate(POP_PFN);
	guest_check(st == XENCMD_EXISTS, "populate them again: EEXIST", st, XENCMD_EXISTS);
	st = populate(0xFEC00);
	guest_check(st == XENCMD_NOT_RAM, "populate at the I/O APIC: EINVAL", st, XENCMD_NOT_RAM);
	st = decrease(POP_PFN);
	guest_check(st == XENCMD_OK, "give them back", st, XENCMD_OK);
	v = guest_read32(POP_BASE);
	guest_check(v == 0xffffffffu, "given back: a hole again, all ones", v, 0xffffffffu);
	st = command(POP_BASE);
	guest_check(st == XENCMD_NOT_RAM, "given back: the model cannot map them", st, XENCMD_NOT_RAM);
	st = decrease(POP_PFN);
	guest_check(st == XENCMD_NOT_RAM, "give back a hole: EINVAL", st, XENCMD_NOT_RAM);
	st = populate(POP_PFN);
	guest_check(st == XENCMD_OK, "populate them once more", st, XENCMD_OK);
	expect_fresh(POP_BASE, "fresh memory: none of the old words");
	st = decrease(POP_PFN);
	guest_check(st == XENCMD_OK, "give them back again", st, XENCMD_OK);
	/* Boot RAM too: given back it is a hole, populated again it is zero. */
	guest_write64(BOOT_BASE, 0x0123456789abcdefULL);
	st = decrease(BOOT_PFN);
	guest_check(st == XENCMD_OK, "give back 16 frames of boot RAM", st, XENCMD_OK);
	v = guest_read32(BOOT_BASE);
	guest_check(v == 0xffffffffu, "boot RAM given back reads all ones", v, 0xffffffffu);
	st = populate(BOOT_PFN);
	guest_check(st == XENCMD_OK, "populate the boot RAM frames again", st, XENCMD_OK);
	expect_fresh(BOOT_BASE, "boot RAM populated again reads zero");
	/* The host checks the model's xenstore keys, then says go (xenstore, watched by the model). */
	guest_printf("xencmd: waiting for the host\n");
	v = guest_inl(XENCMD_GO_PORT);
	guest_check(v == 1, "the host said go through xenstore", v, 1);
}

static void mode_killed(void)
{
	one_buffer(BUFFERS, 0x4000, "a command before the model is killed");
	guest_printf("xencmd: a request the model never answers\n");
	uint32_t v = guest_inl(XENCMD_HANG_PORT);
	guest_check(v == 0xffffffffu, "the request in flight when the model died: the default",
		    v, 0xffffffffu);
	v = guest_inl(XENCMD_PORT);
	guest_check(v == 0xffffffffu, "the model's port afterwards: nobody's, all ones", v,
		    0xffffffffu);
}

/* The status of a call the model made for a write to @port. */
static uint32_t model_call(uint16_t port, uint32_t v)
{
	guest_outl(port, v);
	return guest_inl(port);
}

/* @reason: Xen's SHUTDOWN_poweroff (0) or SHUTDOWN_reboot (1). */
static void shutdown(uint32_t reason)
{
	uint32_t st = model_call(XENCMD_SHUTDOWN_PORT, 2);   /* SHUTDOWN_suspend */
	guest_check(st == 95, "shutdown suspend: EOPNOTSUPP, the VM runs on", st, 95);
	st = model_call(XENCMD_SHUTDOWN_PORT, 6); /* past SHUTDOWN_MAX */
	guest_check(st == 22, "shutdown reason 6: EINVAL, the VM runs on", st, 22);
	guest_printf("xencmd: the model shuts the VM down: %s\n", reason ? "reboot" : "poweroff");
	guest_outl(XENCMD_SHUTDOWN_PORT, reason);
	(void)guest_inl(XENCMD_SHUTDOWN_PORT); /* the VM is ending: this may not come back */
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

static void mode_shutdown_poweroff(void)
{
	shutdown(0);
}

static void mode_shutdown_reboot(void)
{
	shutdown(1);
}

#define DIRTY_BASE ((uintptr_t)XENCMD_DIRTY_PFN << 12)

/* track_dirty_vram over @nr frames (0: stop): the bitmap, its status checked. */
static uint32_t dirty_call(uint32_t nr, const char *what)
{
	guest_outl(XENCMD_DIRTY_PORT, nr);
	uint32_t st = guest_inl(XENCMD_DIRTY_PORT + 4);
	guest_check(st == 0, what, st, 0);
	return guest_inl(XENCMD_DIRTY_PORT);
}

/* CPL3: a byte stored in each frame of the mask, at an offset of its own. */
static long touch(void *arg)
{
	uint32_t mask = *(uint32_t *)arg;
	for (unsigned i = 0; i < 32; i++)
		if (mask & (1u << i))
			guest_write8(DIRTY_BASE + i * 4096 + (i * 97) % 4096, (uint8_t)(0xa0 + i));
	return 0;
}

/* CPL3: frame 0 whole by rep stosb, a locked add in frame 16. */
static long touch_string_and_locked(void *arg)
{
	(void)arg;
	void *d = (void *)DIRTY_BASE;
	uint64_t n = 4096;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(0x5a) : "memory");
	__atomic_fetch_add((volatile uint64_t *)(DIRTY_BASE + 16 * 4096 + 8), 3, __ATOMIC_SEQ_CST);
	return 0;
}

static void expect_bitmap(uint32_t got, uint32_t want, const char *what)
{
	guest_printf("xencmd: dirty bitmap 0x%08x (want 0x%08x): %s\n", got, want, what);
	guest_check(got == want, what, got, want);
}

static void mode_dirty(void)
{
	uint32_t m;
	expect_bitmap(dirty_call(32, "track 32 frames"), 0xffffffffu, "first call: every frame dirty");
	expect_bitmap(dirty_call(32, "track again"), 0, "nothing written since");
	m = (1u << 3) | (1u << 7) | (1u << 8) | (1u << 31);
	guest_run_user(touch, &m);
	/* The mapping holding them replaced meanwhile: what it logged is kept. */
	guest_outl(XENCMD_DIRTY_PORT, XENCMD_DIRTY_SPLIT);
	uint32_t split = guest_inl(XENCMD_DIRTY_PORT + 4);
	guest_check(split == 0, "a frame next to the range ram_ro and back", split, 0);
	expect_bitmap(dirty_call(32, "track after writes"), m, "exactly the frames written");
	expect_bitmap(dirty_call(32, "track again"), 0, "none after a second call");
	guest_run_user(touch_string_and_locked, 0);
	guest_outl(XENCMD_DIRTY_PORT, XENCMD_DIRTY_MODIFIED | 20);
	uint32_t st = guest_inl(XENCMD_DIRTY_PORT + 4);
	guest_check(st == 0, "modified_memory on frame 20", st, 0);
	expect_bitmap(dirty_call(32, "track after rep stosb, lock add, modified_memory"),
		      (1u << 0) | (1u << 16) | (1u << 20), "rep stosb, lock add and a model's frame");
	dirty_call(0, "stop tracking");
	m = 1u << 5;
	guest_run_user(touch, &m);
	expect_bitmap(dirty_call(32, "track again after a stop"), 0xffffffffu,
		      "started again: every frame dirty");
	expect_bitmap(dirty_call(16, "track 16 frames"), 0xffffu, "a new range: every frame dirty");
	m = (1u << 2) | (1u << 20);
	guest_run_user(touch, &m);
	expect_bitmap(dirty_call(16, "track 16 after writes"), 1u << 2,
		      "a write outside the range is not reported");
	dirty_call(0, "stop tracking");
	/* What the guest wrote is in RAM. */
	uint8_t b3 = guest_read8(DIRTY_BASE + 3 * 4096 + (3 * 97) % 4096);
	guest_check(b3 == 0xa3, "a byte store is in RAM", b3, 0xa3);
	uint64_t filled = 0;
	for (unsigned i = 0; i < 4096; i++)
		filled += guest_read8(DIRTY_BASE + i) == 0x5a;
	guest_check(filled == 4096, "rep stosb filled its page in RAM", filled, 4096);
	uint64_t sum = guest_read64(DIRTY_BASE + 16 * 4096 + 8);
	guest_check(sum == 3, "the locked add is in RAM", sum, 3);
}

#define IOAPIC 0xFEC00000u
#define LAPIC 0xFEE00000u
#define IRQ_VECTOR 0x35

static volatile uint64_t irqs;

static void on_irq(struct guest_frame *f)
{
	(void)f;
	irqs++;
	guest_write32(LAPIC + 0xB0, 0); /* EOI */
}

static void ioapic_write(unsigned reg, uint32_t v)
{
	guest_write32(IOAPIC, reg);
	guest_write32(IOAPIC + 0x10, v);
}

static void mode_irq(void)
{
	guest_outb(0x21, 0xff); /* both 8259s masked: the I/O APIC delivers */
	guest_outb(0xa1, 0xff);
	guest_set_handler(IRQ_VECTOR, on_irq);
	guest_write32(LAPIC + 0xF0, 0x1FF); /* SVR: APIC on */
	ioapic_write(0x11 + 2 * XENCMD_IRQ, guest_lapic_id() << 24);
	ioapic_write(0x10 + 2 * XENCMD_IRQ, IRQ_VECTOR); /* fixed, edge, high, unmasked */
	for (uint64_t k = 1; k <= 3; k++) {
		uint32_t st = model_call(XENCMD_IRQ_PORT, 1);
		guest_check(st == 0, "set_isa_irq_level 1", st, 0);
		while (irqs < k)
			__asm__ volatile("sti; hlt; cli" ::: "memory");
		st = model_call(XENCMD_IRQ_PORT, 0);
		guest_check(st == 0, "set_isa_irq_level 0", st, 0);
	}
	guest_printf("xencmd: ISA IRQ %u taken %lu times\n", XENCMD_IRQ, (unsigned long)irqs);
	guest_check(irqs == 3, "three interrupts", irqs, 3);
}

#define CLAIM_BASE ((uintptr_t)XENCMD_CLAIM_PFN << 12)

static void claimed_write(unsigned off, uint32_t v, bool claimed, uint32_t writes)
{
	guest_write32(CLAIM_BASE + off, v);
	uint32_t got = guest_read32(CLAIM_BASE + off);
	uint32_t want = claimed ? v + XENCMD_CLAIM_ADD : v;
	guest_printf("xencmd: wrote 0x%x at +0x%x, read 0x%x (%s)\n", v, off, got,
		     claimed ? "claimed: the model's value" : "released: RAM");
	guest_check(got == want, claimed ? "a claimed write went to the model" : "a released frame is RAM",
		    got, want);
	uint32_t n = guest_inl(XENCMD_CLAIM_PORT);
	guest_check(n == writes, "writes the model had", n, writes);
}

/* rep stosl of @n dwords @v at +@off: each element is a write of its own to the model. */
static void claimed_rep_stos(unsigned off, uint32_t v, uint64_t n, uint32_t writes)
{
	void *d = (void *)(CLAIM_BASE + off);
	uint64_t c = n;
	__asm__ volatile("rep stosl" : "+D"(d), "+c"(c) : "a"(v) : "memory");
	uint64_t right = 0;
	for (uint64_t i = 0; i < n; i++)
		right += guest_read32(CLAIM_BASE + off + 4 * i) == v + XENCMD_CLAIM_ADD;
	guest_printf("xencmd: rep stosl of %lu dwords at +0x%x: %lu hold the model's value\n",
		     (unsigned long)n, off, (unsigned long)right);
	guest_check(right == n, "every element of a rep stosl went to the model", right, n);
	uint32_t got = guest_inl(XENCMD_CLAIM_PORT);
	guest_check(got == writes, "writes the model had", got, writes);
}

static void mode_claim(void)
{
	claimed_write(0x10, 0x1000, true, 1);
	claimed_write(0x20, 0x7, true, 2);
	claimed_rep_stos(0x100, 0x30, 4, 6);
	guest_outl(XENCMD_CLAIM_PORT, 0); /* release */
	claimed_write(0x30, 0x9, false, 6);
	guest_outl(XENCMD_CLAIM_PORT, 1); /* claim again */
	claimed_write(0x40, 0x5, true, 7);
}

int guest_main(void)
{
	static const struct guest_mode modes[] = {
		{ "buffers", mode_buffers },
		{ "populate", mode_populate },
		{ "killed", mode_killed },
		{ "shutdown_poweroff", mode_shutdown_poweroff },
		{ "shutdown_reboot", mode_shutdown_reboot },
		{ "dirty", mode_dirty },
		{ "irq", mode_irq },
		{ "claim", mode_claim },
		{ 0, 0 },
	};
	return guest_run_mode("xencmd", modes);
}
