/* SPDX-License-Identifier: MIT */
/* Unit tests of the 16550 register model: transmit, LSR, divisor latch, IER/IIR interrupts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "uart16550_regs.h"

#include "uart_sink.h"

static void setup_uart(struct uart16550_regs *u, struct sink *s)
{
	memset(s, 0, sizeof(*s));
	uart16550_regs_init(u, tx, irq, s);
}

static void test_uart_transmits_thr_writes_in_order(void **state)
{
	struct uart16550_regs u;
	struct sink s;
	setup_uart(&u, &s);
	const char *msg = "hi\n";
	for (const char *p = msg; *p; p++) {
		assert_true(uart16550_regs_read(&u, UART_LSR) & UART_LSR_THRE);
		uart16550_regs_write(&u, UART_RBR_THR, (uint8_t)*p);
	}
	assert_int_equal(s.n, 3);
	assert_memory_equal(s.out, "hi\n", 3);
}

static void test_uart_lsr_reports_empty_transmitter(void **state)
{
	struct uart16550_regs u;
	struct sink s;
	setup_uart(&u, &s);
	uint8_t lsr = uart16550_regs_read(&u, UART_LSR);
	assert_int_equal(lsr & (UART_LSR_THRE | UART_LSR_TEMT), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(lsr & UART_LSR_DR, 0);
}

static void test_uart_divisor_latch_shadows_thr_and_ier(void **state)
{
	struct uart16550_regs u;
	struct sink s;
	setup_uart(&u, &s);
	uart16550_regs_write(&u, UART_LCR, UART_LCR_DLAB | 0x03);
	uart16550_regs_write(&u, UART_RBR_THR, 0x01); /* DLL: 115200 baud */
	uart16550_regs_write(&u, UART_IER, 0x00);     /* DLM */
	assert_int_equal(s.n, 0);                      /* nothing transmitted */
	assert_int_equal(uart16550_regs_read(&u, UART_RBR_THR), 0x01);
	assert_int_equal(uart16550_regs_read(&u, UART_IER), 0x00);
	uart16550_regs_write(&u, UART_LCR, 0x03);
	assert_int_equal(uart16550_regs_read(&u, UART_LCR), 0x03);
	uart16550_regs_write(&u, UART_RBR_THR, 'x');
	assert_int_equal(s.n, 1);
	assert_int_equal(s.out[0], 'x');
}

static void test_uart_thr_empty_interrupt_raised_and_acknowledged(void **state)
{
	struct uart16550_regs u;
	struct sink s;
	setup_uart(&u, &s);
	assert_int_equal(uart16550_regs_read(&u, UART_IIR_FCR) & 0x0f, UART_IIR_NO_INT);
	uart16550_regs_write(&u, UART_IER, UART_IER_THRI);
	assert_true(s.level);
	assert_int_equal(uart16550_regs_read(&u, UART_IIR_FCR) & 0x0f, UART_IIR_THRI);
	/* Reading IIR acknowledged it. */
	assert_false(s.level);
	assert_int_equal(uart16550_regs_read(&u, UART_IIR_FCR) & 0x0f, UART_IIR_NO_INT);
	/* Each transmitted byte raises it again. */
	uart16550_regs_write(&u, UART_RBR_THR, 'a');
	assert_true(s.level);
	uart16550_regs_write(&u, UART_IER, 0);
	assert_false(s.level);
}

static void test_uart_receive_sets_dr_and_interrupt(void **state)
{
	struct uart16550_regs u;
	struct sink s;
	setup_uart(&u, &s);
	uart16550_regs_write(&u, UART_IER, UART_IER_RDI);
	assert_true(uart16550_regs_receive(&u, 'q'));
	assert_true(uart16550_regs_read(&u, UART_LSR) & UART_LSR_DR);
	assert_true(s.level);
	assert_int_equal(uart16550_regs_read(&u, UART_IIR_FCR) & 0x0f, UART_IIR_RDI);
	assert_int_equal(uart16550_regs_read(&u, UART_RBR_THR), 'q');
	assert_false(s.level);
	assert_false(uart16550_regs_read(&u, UART_LSR) & UART_LSR_DR);
	for (int i = 0; i < UART_FIFO_SIZE; i++)
		assert_true(uart16550_regs_receive(&u, (uint8_t)i));
	assert_false(uart16550_regs_receive(&u, 0xff)); /* overrun: dropped */
	assert_int_equal(uart16550_regs_read(&u, UART_RBR_THR), 0);
}

static void test_uart_fifo_bits_and_scratch(void **state)
{
	struct uart16550_regs u;
	struct sink s;
	setup_uart(&u, &s);
	uart16550_regs_write(&u, UART_IIR_FCR, UART_FCR_ENABLE);
	assert_int_equal(uart16550_regs_read(&u, UART_IIR_FCR) & UART_IIR_FIFO, UART_IIR_FIFO);
	uart16550_regs_write(&u, UART_SCR, 0x5a);
	assert_int_equal(uart16550_regs_read(&u, UART_SCR), 0x5a);
	uart16550_regs_write(&u, UART_LSR, 0); /* read-only: ignored */
	assert_true(uart16550_regs_read(&u, UART_LSR) & UART_LSR_THRE);
}

static void test_uart_loopback_does_not_transmit(void **state)
{
	struct uart16550_regs u;
	struct sink s;
	setup_uart(&u, &s);
	uart16550_regs_write(&u, UART_MCR, UART_MCR_LOOP);
	uart16550_regs_write(&u, UART_RBR_THR, 0xa5);
	assert_int_equal(s.n, 0);
	assert_int_equal(uart16550_regs_read(&u, UART_RBR_THR), 0xa5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uart_transmits_thr_writes_in_order),
		cmocka_unit_test(test_uart_lsr_reports_empty_transmitter),
		cmocka_unit_test(test_uart_divisor_latch_shadows_thr_and_ier),
		cmocka_unit_test(test_uart_thr_empty_interrupt_raised_and_acknowledged),
		cmocka_unit_test(test_uart_receive_sets_dr_and_interrupt),
		cmocka_unit_test(test_uart_fifo_bits_and_scratch),
		cmocka_unit_test(test_uart_loopback_does_not_transmit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
