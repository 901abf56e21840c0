/* SPDX-License-Identifier: MIT */
/*
 * console: COM1 as a console, at speed and by hand (DESIGN L3). The
 * command line picks the mode:
 *  "flood N"  prints N bytes of the console_abi.h pattern the way a driver
 *             with a FIFO does (LSR once, then 16 bytes to THR by rep outsb),
 *             between the lines "console: flood N bytes" and
 *             "console: flood done"; the host checks every byte.
 *  "read N"   probes the UART as Linux does at boot (IER 0x0f and back, the
 *             FIFO cleared), then receives N bytes by interrupt (IRQ 4
 *             through the I/O APIC to this CPU, as uart_rx) and compares
 *             each with the pattern:
 *             "console: read N bytes, M wrong (first at X)".
 *  "echo"     prints "console: ready", then for each line it receives
 *             (ended by CR or LF) "console: got N bytes: hh hh ...", until
 *             the VM is stopped from outside.
 */
#include "console_abi.h"
#include "guest.h"

#define COM1 0x3f8
#define UART_LSR_THRE 0x20
#define UART_LSR_DR 0x01
#define IOAPIC 0xFEC00000u
#define LAPIC 0xFEE00000u
#define RX_VECTOR 0x29
#define UART_IRQ 4

static uint64_t parse_u64(const char *s)
{
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	return v;
}

/* The number after the mode word. */
static uint64_t mode_arg(void)
{
	const char *s = guest_cmdline_arg();
	while (*s && *s != ' ')
		s++;
	while (*s == ' ')
		s++;
	return parse_u64(s);
}

/*
 * The pattern is made at CPL3 (native speed on kvm_pvm, where CPL0 code is
 * emulated: DESIGN section 7) into RAM at FLOOD_BUF; CPL0 only sends it.
 */
#define FLOOD_BUF 0x1000000ULL /* 16 MiB: above the kit's image, identity-mapped */

static long fill(void *arg)
{
	uint64_t n = (uint64_t)arg;
	volatile char *buf = (volatile char *)FLOOD_BUF;
	for (uint64_t i = 0; i < n; i++)
		buf[i] = console_pattern_byte(i);
	return 0;
}

static int flood(uint64_t n)
{
	uint32_t lower, upper;
	if (!guest_mem_kib(&lower, &upper) || ((uint64_t)upper << 10) + 0x100000 < FLOOD_BUF + n) {
		guest_printf("console: flood %llu bytes needs RAM up to %#llx\n",
			     (unsigned long long)n, (unsigned long long)(FLOOD_BUF + n));
		return GUEST_EXIT_FAIL + 2;
	}
	guest_run_user(fill, (void *)n);
	guest_printf("console: flood %llu bytes\n", (unsigned long long)n);
	for (uint64_t i = 0; i < n; i += 16) {
		uint64_t k = n - i < 16 ? n - i : 16;
		while (!(guest_inb(COM1 + 5) & UART_LSR_THRE))
			guest_pause();
		const void *p = (const void *)(FLOOD_BUF + i);
		__asm__ volatile("rep outsb" : "+S"(p), "+c"(k) : "d"((uint16_t)COM1) : "memory");
	}
	guest_printf("console: flood done\n");
	return GUEST_EXIT_PASS;
}

/* ---- receiving by interrupt ---------------------------------------------- */

static void (*consume)(uint8_t byte);
static volatile uint64_t interrupts;

static void on_rx(struct guest_frame *f)
{
	(void)f;
	interrupts++;
	while (guest_inb(COM1 + 5) & UART_LSR_DR)
		consume(guest_inb(COM1));
	guest_write32(LAPIC + 0xB0, 0); /* EOI */
}

static void ioapic_write(unsigned reg, uint32_t v)
{
	guest_write32(IOAPIC, reg);
	guest_write32(IOAPIC + 0x10, v);
}

static void rx_start(void (*fn)(uint8_t))
{
	consume = fn;
	/*
	 * As Linux's 8250 driver at boot: IER probed (0x0f written, read back,
	 * cleared), then the FIFO cleared. Input the host had ready before
	 * this must not be lost to it (the model's receive gate, L3).
	 */
	guest_outb(COM1 + 1, 0x00);
	guest_outb(COM1 + 1, 0x0f);
	(void)guest_inb(COM1 + 1);
	guest_outb(COM1 + 1, 0x00);
	guest_outb(COM1 + 2, 0x07);
	guest_outb(0x21, 0xff); /* both 8259s masked: the I/O APIC delivers */
	guest_outb(0xa1, 0xff);
	guest_set_handler(RX_VECTOR, on_rx);
	guest_write32(LAPIC + 0xF0, 0x1FF); /* SVR: APIC on */
	ioapic_write(0x11 + 2 * UART_IRQ, guest_lapic_id() << 24);
	ioapic_write(0x10 + 2 * UART_IRQ, RX_VECTOR); /* fixed, edge, high, unmasked */
	guest_outb(COM1 + 2, 0x07); /* FCR: FIFO on, both cleared */
	guest_outb(COM1 + 4, 0x0B); /* DTR, RTS, OUT2 */
	guest_outb(COM1 + 1, 0x01); /* IER: received data available */
}

static volatile uint64_t got, wrong, first_wrong = ~0ULL;

static void check_byte(uint8_t b)
{
	if (b != (uint8_t)console_pattern_byte(got)) {
		if (!wrong)
			first_wrong = got;
		wrong++;
	}
	got++;
}

static int read_pattern(uint64_t n)
{
	guest_printf("console: reading %llu bytes\n", (unsigned long long)n);
	rx_start(check_byte);
	while (got < n)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	guest_outb(COM1 + 1, 0x00);
	guest_printf("console: read %llu bytes, %llu wrong (first at %lld) in %llu interrupts\n",
		     (unsigned long long)got, (unsigned long long)wrong, (long long)first_wrong,
		     (unsigned long long)interrupts);
	return got == n && !wrong ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL + 1;
}

/* Echo: the interrupt handler fills a ring, the main loop cuts it into lines. */
static uint8_t ring[1024];
static volatile unsigned ring_head, ring_tail, ring_lost;

static void to_ring(uint8_t b)
{
	if (ring_tail - ring_head == sizeof(ring)) {
		ring_lost++;
		return;
	}
	ring[ring_tail % sizeof(ring)] = b;
	ring_tail++;
}

__attribute__((noreturn)) static void echo(void)
{
	static uint8_t line[200];
	unsigned len = 0;
	rx_start(to_ring);
	guest_printf("console: ready\n");
	for (;;) {
		__asm__ volatile("cli" ::: "memory");
		while (ring_head == ring_tail)
			__asm__ volatile("sti; hlt; cli" ::: "memory");
		uint8_t b = ring[ring_head % sizeof(ring)];
		ring_head++;
		if (b != '\r' && b != '\n') {
			if (len < sizeof(line))
				line[len++] = b;
			continue;
		}
		char text[sizeof(line) * 3 + 1];
		unsigned k = 0;
		for (unsigned i = 0; i < len; i++)
			k += (unsigned)guest_snprintf(text + k, sizeof(text) - k, " %02x", line[i]);
		text[k] = 0;
		guest_printf("console: got %u bytes:%s%s\n", len, text,
			     ring_lost ? " (the guest's ring overflowed)" : "");
		len = 0;
	}
}

static bool mode_is(const char *word)
{
	const char *s = guest_cmdline_arg();
	while (*word && *s == *word)
		s++, word++;
	return !*word && *s == ' ';
}

int guest_main(void)
{
	if (guest_cmdline_is("echo"))
		echo();
	if (mode_is("flood"))
		return flood(mode_arg());
	if (mode_is("read"))
		return read_pattern(mode_arg());
	guest_printf("console: command line must be 'flood N', 'read N' or 'echo'\n");
	return GUEST_EXIT_FAIL;
}
