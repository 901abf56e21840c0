/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the CMOS RTC model (DESIGN L2, src/dev/rtc_cmos.c), driven
 * through its two ports as a guest does (index to 0x70, data from 0x71)
 * over an injected host clock: every clock register in BCD and binary, 24-
 * and 12-hour form, the century byte, registers A-D, the NMI bit of the
 * index, a guest setting the clock (its offset moves, host time does not),
 * and plain CMOS RAM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dev/rtc_cmos.h"

/* 2026-12-03 15:04:05 UTC, a Thursday. */
#define T0 1796310245

static time_t fake_now(void *ctx)
{
	return *(time_t *)ctx;
}

struct fx {
	struct rtc_cmos rtc;
	time_t now;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->now = T0;
	rtc_cmos_init(&f->rtc, fake_now, &f->now);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	rtc_cmos_destroy(&f->rtc);
	free(f);
	return 0;
}

static uint8_t rreg(struct fx *f, uint8_t reg)
{
	rtc_cmos_write(&f->rtc, 0x70, reg);
	return rtc_cmos_read(&f->rtc, 0x71);
}

static void wreg(struct fx *f, uint8_t reg, uint8_t v)
{
	rtc_cmos_write(&f->rtc, 0x70, reg);
	rtc_cmos_write(&f->rtc, 0x71, v);
}

static void test_rtc_t0_is_the_date_we_think(void **state)
{
	(void)state;
	time_t t = T0;
	struct tm tm;
	gmtime_r(&t, &tm);
	assert_int_equal(tm.tm_year, 126);
	assert_int_equal(tm.tm_mon, 11);
	assert_int_equal(tm.tm_mday, 3);
	assert_int_equal(tm.tm_hour, 15);
	assert_int_equal(tm.tm_min, 4);
	assert_int_equal(tm.tm_sec, 5);
	assert_int_equal(tm.tm_wday, 4);
}

static void test_rtc_reads_host_time_bcd_24h_by_default(void **state)
{
	struct fx *f = *state;
	assert_int_equal(rreg(f, RTC_REG_B), RTC_B_24H); /* BCD, 24-hour */
	assert_int_equal(rreg(f, RTC_SECONDS), 0x05);
	assert_int_equal(rreg(f, RTC_MINUTES), 0x04);
	assert_int_equal(rreg(f, RTC_HOURS), 0x15);
	assert_int_equal(rreg(f, RTC_DAY_OF_WEEK), 5); /* Sunday is 1 */
	assert_int_equal(rreg(f, RTC_DAY_OF_MONTH), 0x03);
	assert_int_equal(rreg(f, RTC_MONTH), 0x12);
	assert_int_equal(rreg(f, RTC_YEAR), 0x26);
	assert_int_equal(rreg(f, RTC_CENTURY), 0x20);
	f->now += 3600 * 9 + 60 * 55 + 54; /* the host clock moves: 2026-12-04 00:59:59 */
	assert_int_equal(rreg(f, RTC_SECONDS), 0x59);
	assert_int_equal(rreg(f, RTC_MINUTES), 0x59);
	assert_int_equal(rreg(f, RTC_HOURS), 0x00);
	assert_int_equal(rreg(f, RTC_DAY_OF_MONTH), 0x04);
	assert_int_equal(rreg(f, RTC_DAY_OF_WEEK), 6);
}

static void test_rtc_binary_mode(void **state)
{
	struct fx *f = *state;
	wreg(f, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
	assert_int_equal(rreg(f, RTC_REG_B), RTC_B_24H | RTC_B_DM_BINARY);
	assert_int_equal(rreg(f, RTC_SECONDS), 5);
	assert_int_equal(rreg(f, RTC_HOURS), 15);
	assert_int_equal(rreg(f, RTC_MONTH), 12);
	assert_int_equal(rreg(f, RTC_YEAR), 26);
	assert_int_equal(rreg(f, RTC_CENTURY), 20);
}

static void test_rtc_12_hour_mode(void **state)
{
	struct fx *f = *state;
	wreg(f, RTC_REG_B, 0); /* BCD, 12-hour */
	assert_int_equal(rreg(f, RTC_HOURS), 0x80 | 0x03); /* 3 PM */
	f->now = T0 - 15 * 3600; /* 00:04:05: 12 AM */
	assert_int_equal(rreg(f, RTC_HOURS), 0x12);
	f->now = T0 - 3 * 3600; /* 12:04:05: 12 PM */
	assert_int_equal(rreg(f, RTC_HOURS), 0x80 | 0x12);
	wreg(f, RTC_REG_B, RTC_B_DM_BINARY); /* binary, 12-hour */
	assert_int_equal(rreg(f, RTC_HOURS), 0x80 | 12);
}

static void test_rtc_status_registers(void **state)
{
	struct fx *f = *state;
	assert_int_equal(rreg(f, RTC_REG_A), RTC_A_DEFAULT); /* never an update in progress */
	wreg(f, RTC_REG_A, 0xA6);                           /* UIP is read-only */
	assert_int_equal(rreg(f, RTC_REG_A), 0x26);
	assert_int_equal(rreg(f, RTC_REG_C), 0);
	assert_int_equal(rreg(f, RTC_REG_D), RTC_D_VRT);
	wreg(f, RTC_REG_D, 0);
	assert_int_equal(rreg(f, RTC_REG_D), RTC_D_VRT);
}

static void test_rtc_index_ignores_nmi_bit_and_is_write_only(void **state)
{
	struct fx *f = *state;
	rtc_cmos_write(&f->rtc, 0x70, 0x80 | RTC_HOURS); /* NMI disabled, register 4 */
	assert_int_equal(rtc_cmos_read(&f->rtc, 0x71), 0x15);
	assert_int_equal(rtc_cmos_read(&f->rtc, 0x70), 0xff);
}

static void test_rtc_guest_sets_clock_as_an_offset(void **state)
{
	struct fx *f = *state;
	wreg(f, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	wreg(f, RTC_YEAR, 0x99);
	wreg(f, RTC_CENTURY, 0x19);
	wreg(f, RTC_MONTH, 0x01);
	wreg(f, RTC_DAY_OF_MONTH, 0x31);
	wreg(f, RTC_HOURS, 0x23);
	wreg(f, RTC_MINUTES, 0x59);
	wreg(f, RTC_SECONDS, 0x58);
	wreg(f, RTC_REG_B, RTC_B_24H);
	assert_int_equal(f->now, T0); /* the host clock is not touched */
	assert_int_equal(rreg(f, RTC_CENTURY), 0x19);
	assert_int_equal(rreg(f, RTC_YEAR), 0x99);
	assert_int_equal(rreg(f, RTC_MONTH), 0x01);
	assert_int_equal(rreg(f, RTC_DAY_OF_MONTH), 0x31);
	assert_int_equal(rreg(f, RTC_HOURS), 0x23);
	assert_int_equal(rreg(f, RTC_SECONDS), 0x58);
	f->now += 2; /* and the guest's clock runs on from there */
	assert_int_equal(rreg(f, RTC_SECONDS), 0x00);
	assert_int_equal(rreg(f, RTC_MINUTES), 0x00);
	assert_int_equal(rreg(f, RTC_HOURS), 0x00);
	assert_int_equal(rreg(f, RTC_MONTH), 0x02);
	assert_int_equal(rreg(f, RTC_DAY_OF_MONTH), 0x01);
	assert_int_equal(rreg(f, RTC_DAY_OF_WEEK), 2); /* 1999-02-01 was a Monday */
}

static void test_rtc_cmos_ram_bytes(void **state)
{
	struct fx *f = *state;
	for (unsigned r = 0x0E; r < 0x80; r++)
		if (r != RTC_CENTURY)
			wreg(f, (uint8_t)r, (uint8_t)(r ^ 0xA5));
	for (unsigned r = 0x0E; r < 0x80; r++)
		if (r != RTC_CENTURY)
			assert_int_equal(rreg(f, (uint8_t)r), (uint8_t)(r ^ 0xA5));
	assert_int_equal(rreg(f, RTC_CENTURY), 0x20);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtc_t0_is_the_date_we_think),
		T(test_rtc_reads_host_time_bcd_24h_by_default),
		T(test_rtc_binary_mode),
		T(test_rtc_12_hour_mode),
		T(test_rtc_status_registers),
		T(test_rtc_index_ignores_nmi_bit_and_is_write_only),
		T(test_rtc_guest_sets_clock_as_an_offset),
		T(test_rtc_cmos_ram_bytes),
	};
	return cmocka_run_group_tests_name("rtc_cmos (DESIGN L2)", tests, NULL, NULL);
}
