/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the UART device model's request glue (dm/uart16550/uart_dm_io.c):
 * IOREQs of 1-8 bytes onto the register model, low byte first; requests that are
 * not the UART's read all ones and change nothing; the IRQ callback follows IER/IIR;
 * the receive gate opens for a driver, not for a probe of IER (L3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "uart_dm_io.h"

#define BASE 0x3f8

#include "../unit/uart_sink.h"

static void setup(struct uart_dm *d, struct sink *s, uint16_t base)
{
	memset(s, 0, sizeof(*s));
	uart_dm_init(d, base, tx, irq, s);
}

static uint64_t io(struct uart_dm *d, uint8_t type, uint8_t dir, uint64_t addr, uint32_t size,
		   uint64_t data)
{
	struct ioreqvm_ioreq r;
	memset(&r, 0, sizeof(r));
	r.type = type;
	r.dir = dir & 1;
	r.addr = addr;
	r.size = size;
	r.count = 1;
	r.data = data;
	r.state = IOREQVM_STATE_IOREQ_INPROCESS;
	uart_dm_access(d, &r);
	return r.data;
}

static uint64_t in(struct uart_dm *d, uint64_t port, uint32_t size)
{
	return io(d, IOREQVM_IOREQ_TYPE_PIO, IOREQVM_IOREQ_READ, port, size, 0x5a5a5a5a5a5a5a5aULL);
}

static void out(struct uart_dm *d, uint64_t port, uint32_t size, uint64_t v)
{
	io(d, IOREQVM_IOREQ_TYPE_PIO, IOREQVM_IOREQ_WRITE, port, size, v);
}

static void test_uart_dm_byte_writes_to_thr_are_transmitted(void **state)
{
	struct uart_dm d;
	struct sink s;
	setup(&d, &s, BASE);
	for (const char *p = "ok\n"; *p; p++) {
		assert_int_equal(in(&d, BASE + UART_LSR, 1) & UART_LSR_THRE, UART_LSR_THRE);
		out(&d, BASE + UART_RBR_THR, 1, (uint8_t)*p);
	}
	assert_int_equal(s.n, 3);
	assert_memory_equal(s.out, "ok\n", 3);
}

static void test_uart_dm_byte_read_sets_only_the_low_byte(void **state)
{
	struct uart_dm d;
	struct sink s;
	setup(&d, &s, BASE);
	out(&d, BASE + UART_SCR, 1, 0xa5);
	/* The handler owns the whole data word: bytes above size are all ones. */
	assert_int_equal(in(&d, BASE + UART_SCR, 1), 0xffffffffffffffa5ULL);
}

static void test_uart_dm_wide_write_covers_consecutive_registers_low_byte_first(void **state)
{
	struct uart_dm d;
	struct sink s;
	setup(&d, &s, BASE);
	/* LCR = 0x03 (low byte), MCR = 0x0b (next register). */
	out(&d, BASE + UART_LCR, 2, 0x0b03);
	assert_int_equal(in(&d, BASE + UART_LCR, 1) & 0xff, 0x03);
	assert_int_equal(in(&d, BASE + UART_MCR, 1) & 0xff, 0x0b);
	/* A word write at THR sends the low byte and writes IER with the high one. */
	out(&d, BASE + UART_RBR_THR, 2, 0x0041);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.out[0], 'A');
}

static void test_uart_dm_wide_read_covers_consecutive_registers_low_byte_first(void **state)
{
	struct uart_dm d;
	struct sink s;
	setup(&d, &s, BASE);
	out(&d, BASE + UART_MCR, 1, 0x03);
	out(&d, BASE + UART_SCR, 1, 0x77);
	uint64_t mcr = in(&d, BASE + UART_MCR, 1) & 0xff;
	uint64_t lsr = in(&d, BASE + UART_LSR, 1) & 0xff;
	uint64_t msr = in(&d, BASE + UART_MSR, 1) & 0xff;
	uint64_t want = mcr | lsr << 8 | msr << 16 | 0x77ULL << 24 | 0xffffffff00000000ULL;
	assert_int_equal(in(&d, BASE + UART_MCR, 4), want);
}

static void test_uart_dm_bytes_past_the_last_register_read_all_ones(void **state)
{
	struct uart_dm d;
	struct sink s;
	setup(&d, &s, BASE);
	out(&d, BASE + UART_SCR, 1, 0x42);
	assert_int_equal(in(&d, BASE + UART_SCR, 2), 0xffffffffffffff42ULL);
	/* And a write running past it changes the scratch register only. */
	out(&d, BASE + UART_SCR, 4, 0x11223344);
	assert_int_equal(in(&d, BASE + UART_SCR, 1) & 0xff, 0x44);
}

static void test_uart_dm_divisor_latch_through_wide_access(void **state)
{
	struct uart_dm d;
	struct sink s;
	setup(&d, &s, BASE);
	out(&d, BASE + UART_LCR, 1, UART_LCR_DLAB | 0x03);
	out(&d, BASE + UART_RBR_THR, 2, 0x0201); /* DLL = 1, DLM = 2 */
	assert_int_equal(in(&d, BASE + UART_RBR_THR, 2) & 0xffff, 0x0201);
	out(&d, BASE + UART_LCR, 1, 0x03);
	assert_int_equal(s.n, 0); /* nothing was transmitted while DLAB was set */
}

static void test_uart_dm_requests_outside_the_uart_read_all_ones_and_change_nothing(void **state)
{
	struct uart_dm d;
	struct sink s;
	setup(&d, &s, BASE);
	out(&d, BASE + UART_SCR, 1, 0x5c);
	/* Below and above the eight ports, an MMIO-type request, sizes 0 and 3. */
	assert_int_equal(in(&d, BASE - 1, 1), ~0ULL);
	assert_int_equal(in(&d, BASE + UART_NR_REGS, 1), ~0ULL);
	assert_int_equal(io(&d, IOREQVM_IOREQ_TYPE_COPY, IOREQVM_IOREQ_READ, BASE + UART_SCR, 1, 0),
			 ~0ULL);
	assert_int_equal(in(&d, BASE + UART_SCR, 0), ~0ULL);
	assert_int_equal(in(&d, BASE + UART_SCR, 3), ~0ULL);
	out(&d, BASE + UART_NR_REGS + UART_SCR, 1, 0x11);
	io(&d, IOREQVM_IOREQ_TYPE_PCI_CONFIG, IOREQVM_IOREQ_WRITE, BASE + UART_SCR, 1, 0x22);
	out(&d, BASE + UART_SCR, 3, 0x33);
	out(&d, BASE + UART_RBR_THR, 1 << 20, 'x');
	assert_int_equal(in(&d, BASE + UART_SCR, 1) & 0xff, 0x5c);
	assert_int_equal(s.n, 0);
	assert_int_equal(d.nr_ignored, 9);
}

static void test_uart_dm_data_is_ptr_requests_are_ignored(void **state)
{
	struct uart_dm d;
	struct sink s;
	setup(&d, &s, BASE);
	struct ioreqvm_ioreq r;
	memset(&r, 0, sizeof(r));
	r.type = IOREQVM_IOREQ_TYPE_PIO;
	r.dir = IOREQVM_IOREQ_WRITE;
	r.addr = BASE;
	r.size = 1;
	r.count = 1;
	r.data_is_ptr = 1;
	r.data = 'z';
	uart_dm_access(&d, &r);
	assert_int_equal(s.n, 0);
}

static void test_uart_dm_irq_line_follows_thr_empty_interrupt(void **state)
{
	struct uart_dm d;
	struct sink s;
	setup(&d, &s, BASE);
	out(&d, BASE + UART_IER, 1, UART_IER_THRI);
	assert_true(s.level);
	assert_int_equal(in(&d, BASE + UART_IIR_FCR, 1) & 0x0f, UART_IIR_THRI);
	assert_false(s.level); /* reading IIR acknowledged it */
	out(&d, BASE + UART_RBR_THR, 1, 'q');
	assert_true(s.level); /* THR empty again */
	out(&d, BASE + UART_IER, 1, 0);
	assert_false(s.level);
	assert_int_equal(s.edges, 4);
}

static void test_uart_dm_serves_another_base(void **state)
{
	struct uart_dm d;
	struct sink s;
	setup(&d, &s, 0x2f8);
	out(&d, 0x3f8, 1, 'n');
	out(&d, 0x2f8, 1, 'y');
	assert_int_equal(s.n, 1);
	assert_int_equal(s.out[0], 'y');
	assert_int_equal(in(&d, 0x2f8 + UART_LSR, 1) & UART_LSR_THRE, UART_LSR_THRE);
}

/*
 * L3: the receive gate. Linux's 8250 probes IER at boot (0x0f written and
 * read back, the old value restored) and then clears the FIFO: that is not
 * listening. A driver that turns the receive interrupt on and then touches
 * any other register is listening; turning it off closes the gate again.
 */
static void test_uart_dm_rx_gate_opens_for_a_driver_not_a_probe(void **state)
{
	struct uart_dm d;
	struct sink s;
	setup(&d, &s, BASE);
	assert_false(uart_dm_rx_confirmed(&d));
	/* The probe: only IER accesses while bit 0 is on. */
	out(&d, BASE + UART_IER, 1, 0x00);
	out(&d, BASE + UART_IER, 1, 0x0f);
	assert_int_equal(in(&d, BASE + UART_IER, 1) & 0x0f, 0x0f);
	assert_false(uart_dm_rx_confirmed(&d));
	assert_int_equal(d.rx_epoch, 1);
	out(&d, BASE + UART_IER, 1, 0x00);
	out(&d, BASE + UART_IIR_FCR, 1, 0x07);
	assert_false(uart_dm_rx_confirmed(&d));
	/* A driver: RDI on, then another register (LCR): listening. */
	out(&d, BASE + UART_IER, 1, UART_IER_RDI | 0x04);
	assert_int_equal(d.rx_epoch, 2);
	assert_false(uart_dm_rx_confirmed(&d));
	out(&d, BASE + UART_LCR, 1, 0x03);
	assert_true(uart_dm_rx_confirmed(&d));
	in(&d, BASE + UART_IER, 1); /* IER accesses keep it open */
	assert_true(uart_dm_rx_confirmed(&d));
	/* Throttled (RDI off), then on again: closed until another register. */
	out(&d, BASE + UART_IER, 1, 0x00);
	assert_false(uart_dm_rx_confirmed(&d));
	out(&d, BASE + UART_IER, 1, UART_IER_RDI);
	assert_int_equal(d.rx_epoch, 3);
	assert_false(uart_dm_rx_confirmed(&d));
	/* A 16-bit access covering THR and IER counts as an IER access. */
	out(&d, BASE + UART_RBR_THR, 2, 0x0100 | 'x');
	assert_false(uart_dm_rx_confirmed(&d));
	assert_int_equal(in(&d, BASE + UART_LSR, 1) & UART_LSR_THRE, UART_LSR_THRE);
	assert_true(uart_dm_rx_confirmed(&d));
	/* Requests outside the UART change nothing. */
	out(&d, BASE + UART_IER, 1, 0x00);
	out(&d, BASE + UART_IER, 1, UART_IER_RDI);
	io(&d, IOREQVM_IOREQ_TYPE_COPY, IOREQVM_IOREQ_READ, BASE + UART_LSR, 1, 0);
	out(&d, BASE + UART_NR_REGS, 1, 0);
	assert_false(uart_dm_rx_confirmed(&d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uart_dm_byte_writes_to_thr_are_transmitted),
		cmocka_unit_test(test_uart_dm_byte_read_sets_only_the_low_byte),
		cmocka_unit_test(test_uart_dm_wide_write_covers_consecutive_registers_low_byte_first),
		cmocka_unit_test(test_uart_dm_wide_read_covers_consecutive_registers_low_byte_first),
		cmocka_unit_test(test_uart_dm_bytes_past_the_last_register_read_all_ones),
		cmocka_unit_test(test_uart_dm_divisor_latch_through_wide_access),
		cmocka_unit_test(test_uart_dm_requests_outside_the_uart_read_all_ones_and_change_nothing),
		cmocka_unit_test(test_uart_dm_data_is_ptr_requests_are_ignored),
		cmocka_unit_test(test_uart_dm_irq_line_follows_thr_empty_interrupt),
		cmocka_unit_test(test_uart_dm_serves_another_base),
		cmocka_unit_test(test_uart_dm_rx_gate_opens_for_a_driver_not_a_probe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
