/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the UART model's console pieces (DESIGN L3), without a VM:
 * the Ctrl-A escape keys; input from a pipe much larger than the ring
 * arrives whole and in order while the taker is slow (the reader stops
 * reading when the ring is full: nothing dropped), and EOF only ends it;
 * output through a slow pipe arrives whole and in order, written directly
 * or through the buffer and its writer thread; raw mode on a
 * pseudo-terminal is what the console needs and restore gives the old
 * state back.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "console_in.h"
#include "console_out.h"
#include "console_tty.h"

static uint8_t pat(size_t i)
{
	return (uint8_t)(i * 31 + (i >> 8));
}

static void nap_us(long us)
{
	struct timespec ts = { 0, us * 1000 };
	nanosleep(&ts, NULL);
}

static void test_escape_keys(void **state)
{
	struct console_escape e = { 0 };
	assert_int_equal(console_escape_feed(&e, 'a'), CONSOLE_KEY_BYTE);
	assert_int_equal(console_escape_feed(&e, 0x03), CONSOLE_KEY_BYTE); /* Ctrl-C: the guest's */
	assert_int_equal(console_escape_feed(&e, 0x01), CONSOLE_KEY_NONE);
	assert_int_equal(console_escape_feed(&e, 'x'), CONSOLE_KEY_QUIT);
	/* Ctrl-A Ctrl-A: one Ctrl-A for the guest, and what follows is plain. */
	assert_int_equal(console_escape_feed(&e, 0x01), CONSOLE_KEY_NONE);
	assert_int_equal(console_escape_feed(&e, 0x01), CONSOLE_KEY_BYTE);
	assert_int_equal(console_escape_feed(&e, 'x'), CONSOLE_KEY_BYTE);
	assert_int_equal(console_escape_feed(&e, 0x01), CONSOLE_KEY_NONE);
	assert_int_equal(console_escape_feed(&e, 'h'), CONSOLE_KEY_HELP);
	assert_int_equal(console_escape_feed(&e, 0x01), CONSOLE_KEY_NONE);
	assert_int_equal(console_escape_feed(&e, '?'), CONSOLE_KEY_HELP);
	/* Ctrl-A and an unknown key: both dropped, as QEMU does. */
	assert_int_equal(console_escape_feed(&e, 0x01), CONSOLE_KEY_NONE);
	assert_int_equal(console_escape_feed(&e, 'z'), CONSOLE_KEY_NONE);
	assert_int_equal(console_escape_feed(&e, 'z'), CONSOLE_KEY_BYTE);
}

struct writer_arg {
	int fd;
	size_t n;
};

static void *write_pattern(void *p)
{
	struct writer_arg *a = p;
	uint8_t buf[1000];
	for (size_t i = 0; i < a->n;) {
		size_t k = 0;
		while (k < sizeof(buf) && i < a->n)
			buf[k++] = pat(i++);
		for (size_t off = 0; off < k;) {
			ssize_t w = write(a->fd, buf + off, k - off);
			assert_true(w > 0);
			off += (size_t)w;
		}
	}
	close(a->fd);
	return NULL;
}

static unsigned wakes;

static void count_wake(void *opaque)
{
	__atomic_add_fetch(&wakes, 1, __ATOMIC_RELAXED);
}

static void test_input_pipe_larger_than_ring_nothing_dropped(void **state)
{
	enum { N = 300000 }; /* > the ring (4 KiB) and a pipe's buffer (64 KiB) */
	int p[2];
	assert_int_equal(pipe(p), 0);
	char path[64], err[256];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	struct console_in *in = calloc(1, sizeof(*in));
	assert_int_equal(console_in_open(in, path, err, sizeof(err)), 0);
	close(p[0]); /* the model opened its own */
	assert_false(in->terminal);
	assert_int_equal(console_in_start(in, count_wake, NULL), 0);
	struct writer_arg wa = { p[1], N };
	pthread_t w;
	pthread_create(&w, NULL, write_pattern, &wa);
	size_t got = 0;
	while (got < N) {
		uint8_t b[16];
		size_t k = console_in_take(in, b, 1 + got % 16); /* a slow guest: 1-16 at a time */
		for (size_t i = 0; i < k; i++, got++)
			if (b[i] != pat(got))
				fail_msg("byte %zu is 0x%02x, want 0x%02x", got, b[i], pat(got));
		if (!k)
			nap_us(50);
	}
	pthread_join(w, NULL);
	/* EOF: input ends, nothing more, and the reader is done. */
	for (int i = 0; i < 2000 && !atomic_load(&in->ended); i++)
		nap_us(1000);
	assert_true(atomic_load(&in->ended));
	uint8_t b[16];
	assert_int_equal(console_in_take(in, b, sizeof(b)), 0);
	assert_false(console_in_quit_requested(in));
	assert_true(wakes >= 1);
	console_in_close(in);
	free(in);
}

struct reader_arg {
	int fd;
	size_t got, bad;
};

static void *read_slowly(void *p)
{
	struct reader_arg *a = p;
	uint8_t buf[777];
	ssize_t r;
	while ((r = read(a->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < r; i++, a->got++)
			a->bad += buf[i] != pat(a->got);
		if (a->got < 200000)
			nap_us(100); /* slower than the producer: the buffer fills */
	}
	return NULL;
}

static void output_slow_pipe_nothing_dropped(bool buffered)
{
	enum { N = 1 << 20 };
	int p[2];
	assert_int_equal(pipe(p), 0);
	static volatile bool abandon;
	static struct console_out o;
	assert_int_equal(console_out_start(&o, p[1], buffered, &abandon), 0);
	struct reader_arg ra = { .fd = p[0] };
	pthread_t r;
	pthread_create(&r, NULL, read_slowly, &ra);
	for (size_t i = 0; i < N; i++)
		console_out_byte(&o, pat(i));
	console_out_close(&o); /* writes out what is left */
	close(p[1]);
	pthread_join(r, NULL);
	close(p[0]);
	assert_int_equal(ra.got, N);
	assert_int_equal(ra.bad, 0);
}

static void test_output_direct_slow_pipe_nothing_dropped(void **state)
{
	output_slow_pipe_nothing_dropped(false);
}

static void test_output_buffered_slow_pipe_nothing_dropped(void **state)
{
	output_slow_pipe_nothing_dropped(true);
}

static void test_raw_mode_on_a_pty_and_back(void **state)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0)
		skip();
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	/* Not our controlling terminal: the console must not take it. */
	assert_false(console_tty_ours(s));
	struct termios before, raw, after;
	assert_int_equal(tcgetattr(s, &before), 0);
	assert_true(before.c_lflag & ICANON); /* a new pty is cooked */
	assert_int_equal(console_tty_raw(s), 0);
	assert_int_equal(tcgetattr(s, &raw), 0);
	assert_false(raw.c_lflag & (ICANON | ECHO | ISIG | IEXTEN));
	assert_false(raw.c_iflag & (ICRNL | IXON | ISTRIP | INLCR | IGNCR));
	assert_int_equal(raw.c_cflag & CSIZE, CS8);
	assert_true(raw.c_oflag & OPOST); /* "\n" still starts a line */
	assert_int_equal(raw.c_cc[VMIN], 1);
	console_tty_restore();
	assert_int_equal(tcgetattr(s, &after), 0);
	assert_int_equal(after.c_lflag, before.c_lflag);
	assert_int_equal(after.c_iflag, before.c_iflag);
	assert_int_equal(after.c_oflag, before.c_oflag);
	assert_int_equal(after.c_cflag, before.c_cflag);
	assert_memory_equal(after.c_cc, before.c_cc, sizeof(before.c_cc));
	close(s);
	close(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_keys),
		cmocka_unit_test(test_input_pipe_larger_than_ring_nothing_dropped),
		cmocka_unit_test(test_output_direct_slow_pipe_nothing_dropped),
		cmocka_unit_test(test_output_buffered_slow_pipe_nothing_dropped),
		cmocka_unit_test(test_raw_mode_on_a_pty_and_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
