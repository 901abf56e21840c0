/* SPDX-License-Identifier: MIT */
/*
 * linux64: a guest booted through the Linux 64-bit boot protocol (DESIGN
 * L1, L2) instead of Multiboot; its own header and entry are in
 * linux64_head.S. It checks the entry state the protocol promises
 * (__BOOT_CS 0x10 64-bit, __BOOT_DS 0x18, long mode with paging, interrupts
 * off, RSI = boot_params, a GDT holding both descriptors), reads what
 * boot_params carries (header copy, loader type, command line, e820,
 * initrd, RSDP) and the platform (ACPI tables with checksums, MADT CPU
 * count, FADT ports, PM1a enable register; CMOS RTC; PM timer), prints it
 * all over COM1, and powers off through the PM1a control block the FADT
 * names (status 0). A
 * failed check n exits through port 0xf4 with 1 + n (status 2n + 3).
 * Only serial.c, printf.c and string.c of the kit are linked.
 */
#include "guest.h"
#include "kit.h"

extern uint64_t entry_rsi, entry_rsp, entry_rflags, entry_cr0, entry_cr3, entry_cr4, entry_efer;
extern uint16_t entry_seg[4];
extern uint8_t entry_gdtr[10];

int linux64_main(uint8_t *bp);

#define LOAD_ADDR 0x1000000ULL

unsigned guest_cpu_index(void)
{
	return 0;
}

void guest_exit(unsigned value)
{
	guest_outb(0xf4, (uint8_t)value);
	for (;;)
		__asm__ volatile("cli; hlt");
}

static unsigned failed;

static void check(unsigned n, bool ok, const char *what)
{
	if (ok)
		return;
	guest_printf("linux64: check %u failed: %s\n", n, what);
	if (!failed)
		failed = n;
}

static uint64_t rd(const void *p, int bytes)
{
	const uint8_t *b = p;
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static uint8_t sum(const uint8_t *p, uint64_t len)
{
	uint8_t s = 0;
	for (uint64_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static void check_entry(void)
{
	guest_printf("linux64: entry cs %#x ds %#x es %#x ss %#x\n", entry_seg[0], entry_seg[1],
		     entry_seg[2], entry_seg[3]);
	check(1, entry_seg[0] == 0x10, "CS is __BOOT_CS");
	check(2, entry_seg[1] == 0x18 && entry_seg[2] == 0x18 && entry_seg[3] == 0x18,
	      "DS, ES, SS are __BOOT_DS");
	bool lm = (entry_efer & 0x500) == 0x500, pg = (entry_cr0 & 0x80000001) == 0x80000001;
	bool pae = entry_cr4 & 0x20, intr_off = !(entry_rflags & 0x200);
	check(3, lm && pg && pae, "long mode with paging and PAE");
	check(4, intr_off, "interrupts off");
	if (lm && pg && pae && intr_off)
		guest_puts("linux64: long mode, paging on, PAE, interrupts off\n");
	uint64_t gdt = rd(entry_gdtr + 2, 8), limit = rd(entry_gdtr, 2);
	guest_printf("linux64: rsi %#lx rsp %#lx gdt %#lx/%lu\n", entry_rsi, entry_rsp, gdt, limit);
	check(5, limit >= 0x1f, "GDT holds selectors 0x10 and 0x18");
	uint64_t cs = rd((const void *)(gdt + 0x10), 8), ds = rd((const void *)(gdt + 0x18), 8);
	check(6, (cs >> 53 & 1) && (cs >> 43 & 1) && (cs >> 47 & 1), "GDT 0x10: present 64-bit code");
	check(7, !(ds >> 43 & 1) && (ds >> 41 & 1) && (ds >> 47 & 1), "GDT 0x18: present writable data");
	/* The tables in CR3 map what we run on and boot_params, virtual = physical. */
	uint64_t *pml4 = (uint64_t *)(entry_cr3 & ~0xfffULL);
	uint64_t *pdpt = (uint64_t *)(pml4[0] & ~0xfffULL);
	uint64_t *pd = (uint64_t *)(pdpt[0] & ~0xfffULL);
	check(8, (pd[LOAD_ADDR >> 21] & ~0xfffULL) == LOAD_ADDR && (pd[0] & 0x81) == 0x81,
	      "identity page tables");
}

static void print_line(const char *what, const char *s, uint64_t max)
{
	char line[80];
	uint64_t n = 0;
	while (n < max && n < sizeof(line) - 1 && s[n] && s[n] != '\n')
		n++;
	memcpy(line, s, n);
	line[n] = 0;
	guest_printf("linux64: %s%s\n", what, line);
}

static void check_boot_params(const uint8_t *bp)
{
	check(10, !memcmp(bp + 0x202, "HdrS", 4), "boot_params has the setup header");
	guest_printf("linux64: boot_params version %#x loader %#x code32_start %#x\n",
		     (unsigned)rd(bp + 0x206, 2), bp[0x210], (unsigned)rd(bp + 0x214, 4));
	check(11, bp[0x210] == 0xff, "type_of_loader 0xff");
	check(12, rd(bp + 0x260, 4) != 0 && rd(bp + 0x258, 8) == LOAD_ADDR, "header copied");
	uint64_t cl = rd(bp + 0x228, 4);
	check(13, cl != 0, "cmd_line_ptr set");
	if (cl)
		print_line("cmdline: ", (const char *)cl, 255);
	unsigned n = bp[0x1e8];
	check(14, n >= 3 && n <= 128, "e820 entries");
	bool low_ram = false, bios_reserved = false;
	for (unsigned i = 0; i < n && i < 128; i++) {
		const uint8_t *e = bp + 0x2d0 + 20 * i;
		uint64_t a = rd(e, 8), s = rd(e + 8, 8);
		unsigned t = (unsigned)rd(e + 16, 4);
		guest_printf("linux64: e820 %#lx-%#lx type %u\n", a, a + s, t);
		low_ram |= a == 0 && t == 1;
		bios_reserved |= a <= 0xE0000 && a + s >= 0x100000 && t == 2;
	}
	check(15, low_ram && bios_reserved, "e820: RAM at 0, the table area reserved");
	uint64_t ri = rd(bp + 0x218, 4), rs = rd(bp + 0x21c, 4);
	if (rs) {
		guest_printf("linux64: initrd %lu bytes\n", rs);
		check(16, ri % 4096 == 0 && ri >= LOAD_ADDR + rd(bp + 0x260, 4),
		      "initrd page aligned above the kernel");
		print_line("initrd: ", (const char *)ri, rs);
	}
}

/* A table the RSDP leads to, by signature; NULL if absent. Checks every checksum. */
static const uint8_t *acpi_find(const uint8_t *rsdp, const char *sig)
{
	const uint8_t *xsdt = (const uint8_t *)rd(rsdp + 24, 8);
	check(21, !memcmp(xsdt, "XSDT", 4) && sum(xsdt, rd(xsdt + 4, 4)) == 0, "XSDT checksum");
	for (uint64_t off = 36; off + 8 <= rd(xsdt + 4, 4); off += 8) {
		const uint8_t *t = (const uint8_t *)rd(xsdt + off, 8);
		if (memcmp(t, sig, 4))
			continue;
		check(22, sum(t, rd(t + 4, 4)) == 0, "table checksum");
		return t;
	}
	return NULL;
}

/* The PM1a enable register keeps what is written (ACPICA reads it back); status reads 0. */
static void check_pm1_enable(uint16_t evt)
{
	guest_outw((uint16_t)(evt + 2), 0x0420); /* GBL_EN | RTC_EN */
	uint16_t en = guest_inw((uint16_t)(evt + 2)), st = guest_inw(evt);
	check(33, en == 0x0420 && st == 0, "PM1a enable register");
	guest_outw((uint16_t)(evt + 2), 0);
	if (en == 0x0420 && st == 0)
		guest_puts("linux64: pm1a enable keeps 0x420, status 0\n");
}

static uint16_t check_acpi(const uint8_t *bp, uint16_t *pm_tmr)
{
	const uint8_t *rsdp = (const uint8_t *)rd(bp + 0x70, 8);
	check(20, rsdp && !memcmp(rsdp, "RSD PTR ", 8) && sum(rsdp, 20) == 0 && sum(rsdp, 36) == 0,
	      "RSDP at acpi_rsdp_addr");
	if (failed)
		return 0;
	const uint8_t *madt = acpi_find(rsdp, "APIC"), *fadt = acpi_find(rsdp, "FACP");
	check(23, madt && fadt, "MADT and FADT listed");
	if (!madt || !fadt)
		return 0;
	unsigned cpus = 0;
	for (uint64_t off = 44; off + 2 <= rd(madt + 4, 4) && madt[off + 1]; off += madt[off + 1])
		cpus += madt[off] == 0 && (madt[off + 4] & 1);
	const uint8_t *dsdt = (const uint8_t *)rd(fadt + 140, 8);
	check(24, !memcmp(dsdt, "DSDT", 4) && sum(dsdt, rd(dsdt + 4, 4)) == 0, "DSDT");
	uint16_t pm1a = (uint16_t)rd(fadt + 64, 4);
	*pm_tmr = (uint16_t)rd(fadt + 76, 4);
	check_pm1_enable((uint16_t)rd(fadt + 56, 4));
	guest_printf("linux64: acpi rsdp %#lx rev %u, madt %u cpus, fadt pm1a_cnt %#x pm_tmr %#x\n",
		     (uint64_t)rsdp, rsdp[15], cpus, pm1a, *pm_tmr);
	return pm1a;
}

static uint8_t cmos(uint8_t reg)
{
	guest_outb(0x70, reg);
	return guest_inb(0x71);
}

static unsigned bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

static void check_rtc(void)
{
	while (cmos(0x0a) & 0x80) /* update in progress */
		guest_pause();
	check(30, cmos(0x0d) & 0x80, "RTC valid (register D)");
	check(31, (cmos(0x0b) & 0x06) == 0x02, "RTC BCD, 24-hour (register B)");
	guest_printf("linux64: rtc %u%02u-%02u-%02u %02u:%02u:%02u\n", bcd(cmos(0x32)),
		     bcd(cmos(0x09)), bcd(cmos(0x08)), bcd(cmos(0x07)), bcd(cmos(0x04)),
		     bcd(cmos(0x02)), bcd(cmos(0x00)));
}

static void check_pm_timer(uint16_t port)
{
	uint32_t a = guest_inl(port) & 0xffffff, b = a;
	for (unsigned i = 0; i < 1000000 && b == a; i++)
		b = guest_inl(port) & 0xffffff;
	check(32, a != b, "PM timer counts");
	if (a != b)
		guest_puts("linux64: pm timer counts\n");
}

int linux64_main(uint8_t *bp)
{
	kit_serial_init();
	guest_puts("linux64: entered through the 64-bit boot protocol\n");
	check_entry();
	check(9, bp == (uint8_t *)entry_rsi, "RSI is boot_params");
	check_boot_params(bp);
	uint16_t pm_tmr = 0, pm1a = check_acpi(bp, &pm_tmr);
	check_rtc();
	if (pm_tmr)
		check_pm_timer(pm_tmr);
	if (failed)
		return (int)(GUEST_EXIT_FAIL + failed);
	guest_puts("linux64: all checks passed, powering off through the FADT's PM1a\n");
	guest_outw(pm1a, 1u << 13); /* SLP_TYP 0 (\_S5), SLP_EN */
	return GUEST_EXIT_FAIL + 40; /* still running */
}
